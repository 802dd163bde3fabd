//! The ways people reach the bot. Each transport only turns its own events into engine inputs
//! and the runtime's replies into its own messages; what an update produced ([`Received`]) and
//! how it is delivered ([`deliver`]) are the same for every messenger.

pub mod max;
pub mod telegram;
pub mod terminal;

use crate::domain::ChatKey;
use crate::engine::{Input, Say};
use crate::i18n::Args;
use crate::runtime::notifier::{Courier, Undelivered};
use crate::runtime::{Admission, Assistant, Handled, Reply, RuntimeError};
use crate::script::Msg;

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

/// One update of `chat` past flood control: the conversation's turn for `asked`, up to its
/// commit, or the one-off answer for what the conversation does not read (a sticker, a stale
/// button). A store that cannot be reached is an error: the transport does not confirm the
/// update, and its messenger delivers it again.
pub async fn take(
    core: &Assistant,
    chat: ChatKey,
    update_id: Option<i64>,
    lang: Option<&str>,
    asked: Result<Input, Msg>,
) -> Result<Received, RuntimeError> {
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
            if let Err(error) = courier.send(chat, &reply).await {
                tracing::warn!(chat = %chat, %error, "a notice was not delivered");
            }
        }
        Received::Turn(chat, handled) => {
            let mut outcome = Ok(());
            for reply in &handled.replies {
                outcome = courier.send(chat, reply).await;
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
