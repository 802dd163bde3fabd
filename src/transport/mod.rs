//! The ways people reach the bot. Each transport only turns its own events into engine inputs
//! and the runtime's replies into its own messages; what an update produced ([`Received`]) and
//! how it is delivered ([`deliver`]) are the same for every messenger.

pub mod max;
pub mod qr;
pub mod serving;
pub mod telegram;
pub mod terminal;

use crate::domain::ChatKey;
use crate::engine::{Input, Say};
use crate::i18n::Args;
use crate::ops::metrics::SendResult;
use crate::runtime::notifier::{Courier, Undelivered};
use crate::runtime::{Admission, Assistant, Handled, Reply, RuntimeError};
use crate::script::Msg;

/// Splits `text` into pieces of at most `limit` characters, at paragraph boundaries where
/// possible, then at line ends, then at spaces, and only as a last resort inside a word.
pub fn split_text(text: &str, limit: usize) -> Vec<String> {
    // A limit of 0 would never make progress.
    let limit = limit.max(1);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while rest.chars().count() > limit {
        let cut_at = rest
            .char_indices()
            .nth(limit)
            .map_or(rest.len(), |(i, _)| i);
        let window = &rest[..cut_at];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&i| i > 0))
            .unwrap_or(cut_at);
        pieces.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

/// What an update asks of the bot, as a transport reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// Something for the engine.
    Input(Input),
    /// A press whose callback data is not ours (or is damaged).
    BadButton,
    /// A kind of message the bot does not read (photo, sticker, voice, file…).
    Unsupported,
    /// A contact that is not the sender's own.
    ForeignContact,
    /// An edited message (Telegram).
    Edited,
    /// Nothing to answer (service updates, group chats, other update types).
    Ignore,
}

impl Incoming {
    /// The engine's input, or the one-off answer for what the conversation does not read;
    /// `None` when there is nothing to answer.
    fn asked(self) -> Option<Result<Input, Msg>> {
        Some(match self {
            Incoming::Input(input) => Ok(input),
            Incoming::Ignore => return None,
            Incoming::BadButton => Err(Msg::ButtonStale),
            Incoming::Unsupported => Err(Msg::UnsupportedMessage),
            Incoming::ForeignContact => Err(Msg::ContactNotOwn),
            Incoming::Edited => Err(Msg::EditedMessage),
        })
    }
}

/// What one update produced, committed and ready to send.
#[derive(Debug)]
pub enum Received {
    Nothing,
    /// A turn of the conversation: its replies are kept in the outbox until delivered.
    Turn(ChatKey, Handled),
    /// A one-off answer (a sticker, a stale button).
    Notice(ChatKey, Reply),
}

impl Received {
    /// The chat it is for.
    pub fn chat(&self) -> Option<ChatKey> {
        match self {
            Received::Nothing => None,
            Received::Turn(chat, _) | Received::Notice(chat, _) => Some(*chat),
        }
    }
}

/// One update of `chat` past flood control: the conversation's turn for what it asks, up to
/// its commit, or the one-off answer for what the conversation does not read (a sticker, a
/// stale button). A store that cannot be reached is an error: the transport does not confirm
/// the update, and its messenger delivers it again.
pub async fn take(
    core: &Assistant,
    chat: ChatKey,
    update_id: Option<i64>,
    lang: Option<&str>,
    incoming: Incoming,
) -> Result<Received, RuntimeError> {
    let Some(asked) = incoming.asked() else {
        return Ok(Received::Nothing);
    };
    let kind = match &asked {
        Ok(input) => input.kind(),
        Err(_) => "other",
    };
    core.metrics().update(chat.channel, kind);
    match core.admit(chat) {
        Admission::Go => {}
        Admission::Warn => return Ok(notice(core, chat, lang, Msg::FloodSlowDown)),
        Admission::Drop => return Ok(Received::Nothing),
    }
    let input = match asked {
        Ok(input) => input,
        Err(answer) => return Ok(notice(core, chat, lang, answer)),
    };
    match core.handle_update(chat, update_id, lang, input).await {
        Ok(Some(handled)) => Ok(Received::Turn(chat, handled)),
        Ok(None) => Ok(Received::Nothing),
        Err(RuntimeError::Render(error)) => {
            tracing::error!(chat = %chat, %error, "a reply could not be rendered");
            Ok(notice(core, chat, lang, Msg::ErrorInternal))
        }
        Err(error) => Err(error),
    }
}

/// A one-off answer that is not part of the conversation, in the client's language.
pub fn notice(core: &Assistant, chat: ChatKey, lang: Option<&str>, message: Msg) -> Received {
    let lang = core.engine().locales().pick_language(lang);
    match core.render(&lang, &Say::new(message.id(), Args::new())) {
        Ok(reply) => Received::Notice(chat, reply),
        Err(error) => {
            tracing::error!(%error, message = message.id(), "a notice could not be rendered");
            Received::Nothing
        }
    }
}

/// Sends what an update produced through `courier`, in order. Delivered (or undeliverable:
/// the chat blocked the bot) replies leave the outbox; the rest stay there for any replica's
/// notifier.
pub async fn deliver(core: &Assistant, courier: &dyn Courier, received: Received) {
    match received {
        Received::Nothing => {}
        Received::Notice(chat, reply) => {
            if let Err(error) = send_counted(core, courier, chat, &reply).await {
                tracing::warn!(chat = %chat, %error, "a notice was not delivered");
            }
        }
        Received::Turn(chat, handled) => {
            let mut outcome = Ok(());
            for reply in &handled.replies {
                outcome = send_counted(core, courier, chat, reply).await;
                if outcome.is_err() {
                    break;
                }
            }
            match outcome {
                Ok(()) => core.delivered(&handled).await,
                Err(Undelivered::Never(_)) => {
                    tracing::info!(chat = %chat, "the chat does not take messages; dropped");
                    core.delivered(&handled).await;
                }
                Err(error) => {
                    tracing::warn!(chat = %chat, %error, "replies left to the outbox");
                }
            }
        }
    }
}

/// Sends one message through `courier`, counting how it went.
pub async fn send_counted(
    core: &Assistant,
    courier: &dyn Courier,
    chat: ChatKey,
    reply: &Reply,
) -> Result<(), Undelivered> {
    let sent = courier.send(chat, reply).await;
    let result = if sent.is_ok() {
        SendResult::Ok
    } else {
        SendResult::Error
    };
    core.metrics().sent(chat.channel, result);
    sent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_not_split() {
        assert_eq!(split_text("Привет", 4096), ["Привет"]);
    }

    #[test]
    fn long_messages_split_at_paragraphs_and_keep_every_character() {
        let paragraph = "Абзац ".repeat(300); // 1800 characters
        let text = format!("{p}\n\n{p}\n\n{p}", p = paragraph.trim());
        let pieces = split_text(&text, 4096);
        assert_eq!(pieces.len(), 2);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
        assert!(pieces[0].ends_with("Абзац"));
        let joined: String = pieces.concat();
        assert_eq!(
            joined.chars().filter(|c| !c.is_whitespace()).count(),
            text.chars().filter(|c| !c.is_whitespace()).count()
        );
    }

    #[test]
    fn a_single_huge_word_is_cut_hard() {
        let text = "я".repeat(9000);
        let pieces = split_text(&text, 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
    }
}
