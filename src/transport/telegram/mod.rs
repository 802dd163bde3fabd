//! The Telegram transport: turns Telegram updates into engine inputs and the runtime's replies
//! into Telegram messages with inline keyboards, within Telegram's rules.
//!
//! - Text and commands go to the engine as typed; `/start <payload>` carries a deep link (the
//!   engine refuses payloads that are not 1–64 characters of `A-Za-z0-9_-`).
//! - Button presses arrive as callback data `<offer>:<index>`: the offer number identifies the
//!   message (and so the step) the button belongs to, so a button of an older message is answered
//!   as stale. Every press is answered (`answerCallbackQuery`).
//! - A shared contact is accepted where the parent's own phone is asked, and only if it is the
//!   sender's own; the child's phone is always typed.
//! - Photos, stickers, voice, files and the like get a short polite reply; the conversation stays
//!   where it was.
//! - An edited message is not re-read (it may be an old answer): the user is asked to send the
//!   correction as a new message, and the conversation stays where it was.
//! - An update counts as handled once its turn is committed (its id is recorded with the
//!   session): [`serve`] confirms a polled update (the next `getUpdates` offset) and answers a
//!   webhook delivery only after that, so an update whose process died is delivered again.
//!   Updates of one chat are handled in order, different chats in parallel.
//! - Messages over 4096 characters are split at paragraph boundaries. Sending waits out every
//!   429 `retry_after` and retries connection errors and server errors with jittered backoff,
//!   up to [`send::DEADLINE`]; what is still undelivered then stays in the outbox, where any
//!   replica's notifier finishes it. A chat that blocked the bot is dropped.

mod send;
mod serve;

pub use crate::transport::serving::{termination_signal, ServeError};
pub use send::reliably;
pub use serve::serve;

use std::sync::Arc;

use teloxide::payloads::{SendMessageSetters, SetMyCommandsSetters};
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, InputFile,
    KeyboardButton, KeyboardMarkup, ReplyMarkup, UpdateKind,
};
use teloxide::RequestError;

use crate::domain::{Channel, ChatKey};
use crate::engine::{ButtonTarget, Input};
use crate::i18n::{Args, DEFAULT_LANG};
use crate::runtime::notifier::{Courier, Undelivered};
use crate::runtime::{Assistant, Reply, RuntimeError};
use crate::transport::qr::qr_png;
use crate::transport::Incoming;
pub use crate::transport::Received;

/// Telegram's limit on a message's length, in UTF-16 code units... counted here in characters,
/// which is never more than the code units.
pub const MESSAGE_LIMIT: usize = 4096;

/// The commands shown in Telegram's menu, each described by the Fluent message `cmd-<name>`.
pub const COMMANDS: &[&str] = &[
    "menu", "back", "help", "reset", "lang", "forget", "children", "invite", "pending", "unbind",
];

/// Reads an update: the chat it belongs to, the user's client language, and what it asks.
pub fn classify(update: &Update) -> (Option<ChatId>, Option<String>, Incoming) {
    match &update.kind {
        UpdateKind::Message(message) => {
            let lang = message.from.as_ref().and_then(|u| u.language_code.clone());
            if !message.chat.is_private() {
                return (Some(message.chat.id), lang, Incoming::Ignore);
            }
            let incoming = if let Some(text) = message.text() {
                Incoming::Input(Input::from_text(text))
            } else if let Some(contact) = message.contact() {
                let own = message
                    .from
                    .as_ref()
                    .is_some_and(|u| contact.user_id == Some(u.id));
                if own {
                    Incoming::Input(Input::Text(contact.phone_number.clone()))
                } else {
                    Incoming::ForeignContact
                }
            } else {
                Incoming::Unsupported
            };
            (Some(message.chat.id), lang, incoming)
        }
        UpdateKind::EditedMessage(message) if message.chat.is_private() => {
            let lang = message.from.as_ref().and_then(|u| u.language_code.clone());
            (Some(message.chat.id), lang, Incoming::Edited)
        }
        UpdateKind::CallbackQuery(query) => {
            let chat = query.message.as_ref().map(|m| m.chat().id);
            let lang = query.from.language_code.clone();
            let incoming = match query.data.as_deref().and_then(Input::from_callback) {
                Some(input) => Incoming::Input(input),
                None => Incoming::BadButton,
            };
            (chat, lang, incoming)
        }
        _ => (update.chat().map(|c| c.id), None, Incoming::Ignore),
    }
}

/// The Telegram side of the bot.
#[derive(Clone)]
pub struct Telegram {
    api: teloxide::Bot,
    core: Arc<Assistant>,
}

impl Telegram {
    pub fn new(api: teloxide::Bot, core: Arc<Assistant>) -> Self {
        Self { api, core }
    }

    pub fn api(&self) -> &teloxide::Bot {
        &self.api
    }

    /// The runtime behind this transport.
    pub fn core(&self) -> &Arc<Assistant> {
        &self.core
    }

    /// Counts a 429 from Telegram.
    fn throttled(&self) -> impl Fn() + '_ {
        || {
            self.core
                .metrics()
                .sent(Channel::Telegram, crate::ops::metrics::SendResult::TooMany);
        }
    }

    /// Sets the command menu in every language the bot speaks (and the default one).
    pub async fn set_commands(&self) -> Result<(), RequestError> {
        let locales = self.core.engine().locales();
        for lang in locales.languages().map(str::to_owned).collect::<Vec<_>>() {
            let commands = COMMANDS
                .iter()
                .map(|name| {
                    let description = locales
                        .format(&lang, &format!("cmd-{name}"), &Args::new())
                        .unwrap_or_else(|_| (*name).to_owned());
                    BotCommand::new(*name, description)
                })
                .collect::<Vec<_>>();
            let request = self.api.set_my_commands(commands.clone());
            let request = if lang == DEFAULT_LANG {
                request
            } else {
                request.language_code(lang.clone())
            };
            reliably(self.throttled(), || request.send_ref()).await?;
        }
        Ok(())
    }

    /// Handles one update completely: the turn (committed), then its replies.
    pub async fn handle(&self, update: Update) -> Result<(), RuntimeError> {
        let received = self.receive(update).await?;
        self.deliver(received).await;
        Ok(())
    }

    /// Runs one update's turn up to its commit. A store that cannot be reached is an error: the
    /// update is not confirmed to Telegram, which delivers it again.
    pub async fn receive(&self, update: Update) -> Result<Received, RuntimeError> {
        let update_id = i64::from(update.id.0);
        let (chat, lang, incoming) = classify(&update);
        if let UpdateKind::CallbackQuery(query) = &update.kind {
            // Answer first, so the button stops spinning even if the rest is slow.
            if let Err(error) = reliably(self.throttled(), || {
                self.api.answer_callback_query(query.id.clone()).send_ref()
            })
            .await
            {
                tracing::warn!(%error, "could not answer a button press");
            }
        }
        let Some(chat) = chat.map(|c| ChatKey::telegram(c.0)) else {
            return Ok(Received::Nothing);
        };
        super::take(&self.core, chat, Some(update_id), lang.as_deref(), incoming).await
    }

    /// Sends what an update produced (see [`super::deliver`]).
    pub async fn deliver(&self, received: Received) {
        super::deliver(&self.core, self, received).await;
    }

    /// Sends one reply, split if it is too long; buttons go with the last piece. A reply with a
    /// QR code goes first as a picture.
    pub async fn send(&self, chat: ChatId, reply: &Reply) -> Result<(), RequestError> {
        if let Some(png) = reply.qr.as_deref().and_then(qr_png) {
            let photo = InputFile::memory(png).file_name("invite-qr.png");
            reliably(self.throttled(), || {
                self.api.send_photo(chat, photo.clone()).send_ref()
            })
            .await?;
        }
        let pieces = super::split_text(&reply.text, MESSAGE_LIMIT);
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut request = self.api.send_message(chat, piece);
            if i == last {
                if let Some(markup) = inline_keyboard(&reply.buttons) {
                    request = request.reply_markup(markup);
                } else if let Some(label) = &reply.share_contact {
                    let button = KeyboardButton::new(label.clone()).request(ButtonRequest::Contact);
                    let keyboard = KeyboardMarkup::new(vec![vec![button]])
                        .resize_keyboard()
                        .one_time_keyboard();
                    request = request.reply_markup(ReplyMarkup::Keyboard(keyboard));
                }
            }
            reliably(self.throttled(), || request.send_ref()).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Courier for Telegram {
    async fn send(&self, chat: ChatKey, reply: &Reply) -> Result<(), Undelivered> {
        if chat.channel != Channel::Telegram {
            return Err(Undelivered::Never(format!("{chat} is not a Telegram chat")));
        }
        Telegram::send(self, ChatId(chat.id), reply)
            .await
            .map_err(|error| {
                if send::never_deliverable(&error) {
                    Undelivered::Never(error.to_string())
                } else {
                    Undelivered::Retry(error.to_string())
                }
            })
    }
}

/// One button per row, so long Russian labels stay readable on a phone.
fn inline_keyboard(buttons: &[crate::runtime::ReplyButton]) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons
        .iter()
        .filter_map(|b| match (&b.action, b.action.callback_data()) {
            (_, Some(data)) => Some(InlineKeyboardButton::callback(b.label.clone(), data)),
            (ButtonTarget::Url(url), None) => url
                .parse()
                .ok()
                .map(|url| InlineKeyboardButton::url(b.label.clone(), url)),
            _ => None,
        })
        .map(|b| vec![b])
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}
