//! The terminal chat: the user types, the bot answers. Buttons are numbered and can be chosen
//! by number or by label. It reads any line source, so piped input works (one user message per
//! line, ending at end of input), and it can report where the conversation is after each turn.

use std::io::Write;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::engine::{ButtonTarget, Command, Input};
use crate::runtime::{Bot, Handled, RuntimeError};
use crate::store::ChatId;

/// The terminal's conversation id.
pub const TERMINAL_CHAT: ChatId = 1;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// After each bot turn, print `@ <scenario>/<step> <seed ID or ->` on the trace writer.
    pub trace: bool,
    /// Start as if opened through a deep link with this payload.
    pub start: Option<String>,
    /// Repeat each typed line, so that a piped transcript reads as a conversation.
    pub echo: bool,
    /// The language the "client" reports.
    pub lang: Option<String>,
}

/// Runs the chat until `input` ends.
pub async fn run(
    bot: &Bot,
    options: &Options,
    mut input: impl AsyncBufRead + Unpin,
    out: &mut impl Write,
    trace: &mut impl Write,
) -> std::io::Result<()> {
    let mut buttons: Vec<(u32, usize)> = Vec::new();
    let first = Input::Command(Command::Start(options.start.clone()));
    turn(bot, options, first, out, trace, &mut buttons).await?;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let typed = line.trim_end_matches(['\r', '\n']);
        if typed.trim().is_empty() {
            continue;
        }
        if options.echo {
            writeln!(out, "> {typed}")?;
        }
        let chosen = typed
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| buttons.get(i).copied());
        let input = match chosen {
            Some((offer, index)) => Input::Button { offer, index },
            None => Input::from_text(typed),
        };
        turn(bot, options, input, out, trace, &mut buttons).await?;
    }
}

async fn turn(
    bot: &Bot,
    options: &Options,
    input: Input,
    out: &mut impl Write,
    trace: &mut impl Write,
    buttons: &mut Vec<(u32, usize)>,
) -> std::io::Result<()> {
    match bot
        .handle(TERMINAL_CHAT, options.lang.as_deref(), input)
        .await
    {
        Ok(handled) => {
            print_replies(&handled, out, buttons)?;
            if options.trace {
                writeln!(
                    trace,
                    "@ {} {}",
                    handled.at,
                    handled.seed.as_deref().unwrap_or("-")
                )?;
            }
        }
        Err(error) => {
            tracing::error!(%error, "the turn failed");
            let text = match &error {
                RuntimeError::Store(_) => bot.engine().locales().format(
                    crate::i18n::DEFAULT_LANG,
                    "error-store-unavailable",
                    &Default::default(),
                ),
                RuntimeError::Render(_) => bot.engine().locales().format(
                    crate::i18n::DEFAULT_LANG,
                    "error-internal",
                    &Default::default(),
                ),
            };
            writeln!(out, "{}\n", text.unwrap_or_default())?;
        }
    }
    out.flush()
}

fn print_replies(
    handled: &Handled,
    out: &mut impl Write,
    buttons: &mut Vec<(u32, usize)>,
) -> std::io::Result<()> {
    buttons.clear();
    for reply in &handled.replies {
        writeln!(out, "{}", reply.text)?;
        let presses: Vec<_> = reply
            .buttons
            .iter()
            .filter_map(|b| match b.action {
                ButtonTarget::Press { offer, index } => Some((b, (offer, index))),
                ButtonTarget::Url(_) => None,
            })
            .collect();
        if !presses.is_empty() {
            buttons.clear();
        }
        for (number, (button, press)) in presses.into_iter().enumerate() {
            writeln!(out, "  [{}] {}", number + 1, button.label)?;
            buttons.push(press);
        }
        for button in &reply.buttons {
            if let ButtonTarget::Url(url) = &button.action {
                writeln!(out, "  [↗] {}: {url}", button.label)?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}
