//! The terminal chat: the user types, the bot answers. Buttons are numbered and can be chosen
//! by number or by label. It reads any line source, so piped input works (one user message per
//! line, ending at end of input), and it can report where the conversation is after each turn.

use std::io::Write;

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::engine::{ButtonTarget, Command, Input, Say};
use crate::runtime::{Assistant, Handled, RuntimeError};
use crate::script::Msg;
use crate::store::ChatKey;

/// The terminal's conversation id.
pub const TERMINAL_CHAT: ChatKey = ChatKey::telegram(1);

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
    bot: &Assistant,
    options: &Options,
    mut input: impl AsyncBufRead + Unpin,
    out: &mut impl Write,
    trace: &mut impl Write,
) -> std::io::Result<()> {
    let mut buttons: Vec<String> = Vec::new();
    // A conversation stored by an earlier run (with `REDIS_URL`) goes on where it stopped.
    let stored = bot
        .store()
        .load(TERMINAL_CHAT)
        .await
        .is_ok_and(|loaded| loaded.is_some());
    let first = match &options.start {
        None if stored => Input::Command(Command::Resume),
        start => Input::Command(Command::Start(start.clone())),
    };
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
            .and_then(|i| buttons.get(i))
            .and_then(|data| Input::from_callback(data));
        let input = chosen.unwrap_or_else(|| Input::from_text(typed));
        turn(bot, options, input, out, trace, &mut buttons).await?;
    }
}

async fn turn(
    bot: &Assistant,
    options: &Options,
    input: Input,
    out: &mut impl Write,
    trace: &mut impl Write,
    buttons: &mut Vec<String>,
) -> std::io::Result<()> {
    match bot
        .handle(TERMINAL_CHAT, options.lang.as_deref(), input)
        .await
    {
        Ok(handled) => {
            print_replies(&handled, out, buttons)?;
            bot.delivered(&handled).await;
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
            let message = match &error {
                RuntimeError::Store(_) => Msg::ErrorStoreUnavailable,
                RuntimeError::Render(_) => Msg::ErrorInternal,
            };
            let said = bot
                .render(crate::i18n::DEFAULT_LANG, &Say::plain(message))
                .map_err(std::io::Error::other)?;
            writeln!(out, "{}\n", said.text)?;
        }
    }
    out.flush()
}

/// `text` as a QR code drawn with block characters.
fn qr_text(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}

fn print_replies(
    handled: &Handled,
    out: &mut impl Write,
    buttons: &mut Vec<String>,
) -> std::io::Result<()> {
    buttons.clear();
    for reply in &handled.replies {
        writeln!(out, "{}", reply.text)?;
        if let Some(qr) = reply.qr.as_deref().and_then(qr_text) {
            writeln!(out, "{qr}")?;
        }
        let presses: Vec<_> = reply
            .buttons
            .iter()
            .filter_map(|b| b.action.callback_data().map(|data| (b, data)))
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
