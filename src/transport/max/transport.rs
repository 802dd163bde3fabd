//! The MAX transport: MAX updates become the conversation's inputs (a deep link's
//! `bot_started`, a typed message, a shared contact, a button press), and the runtime's replies
//! become MAX messages (split at [`TEXT_LIMIT`], buttons as `callback` payloads, the person's
//! own phone asked for with `request_contact`, an invitation's QR code uploaded as an image).
//! Chats are `ChatKey::max(user_id)`: a dialog with the bot is addressed by its user.

use std::sync::Arc;

use async_trait::async_trait;

use super::client::{MaxClient, MaxError, To, TEXT_LIMIT};
use super::wire::{
    Attachment, AttachmentRequest, Button, ImageToken, Keyboard, Message, NewMessageBody, Update,
};
use crate::domain::{Channel, ChatKey};
use crate::engine::{ButtonTarget, Command, Input};
use crate::runtime::notifier::{Courier, Undelivered};
use crate::runtime::{Assistant, Reply, RuntimeError};
use crate::transport::qr::qr_png;
use crate::transport::{Incoming, Received};

/// The update types the bot reads, asked for by name (whether the filter moves the marker is
/// not documented, so every handled type is asked for).
pub const UPDATE_TYPES: &[&str] = &["message_created", "message_callback", "bot_started"];

/// Reads an update: the chat it belongs to, the user's locale, and what it asks.
pub fn classify(update: &Update) -> (Option<ChatKey>, Option<String>, Incoming) {
    match update {
        Update::BotStarted {
            user,
            payload,
            user_locale,
            ..
        } => {
            let start = payload.clone().filter(|p| !p.trim().is_empty());
            (
                Some(ChatKey::max(user.user_id)),
                user_locale.clone(),
                Incoming::Input(Input::Command(Command::Start(start))),
            )
        }
        Update::MessageCreated {
            message,
            user_locale,
            ..
        } => {
            let Some(sender) = message.sender.as_ref().filter(|_| is_dialog(message)) else {
                return (None, None, Incoming::Ignore);
            };
            let chat = ChatKey::max(sender.user_id);
            (Some(chat), user_locale.clone(), read_message(message))
        }
        Update::MessageCallback {
            callback,
            user_locale,
            ..
        } => {
            let incoming = match callback.payload.as_deref().and_then(Input::from_callback) {
                Some(input) => Incoming::Input(input),
                None => Incoming::BadButton,
            };
            (
                Some(ChatKey::max(callback.user.user_id)),
                user_locale.clone(),
                incoming,
            )
        }
        Update::Other => (None, None, Incoming::Ignore),
    }
}

fn is_dialog(message: &Message) -> bool {
    message.recipient.chat_type == "dialog"
}

/// A message's text, or the sender's own shared contact as the phone it holds.
fn read_message(message: &Message) -> Incoming {
    if let Some(text) = message
        .body
        .text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        return Incoming::Input(Input::from_text(text));
    }
    let sender = message.sender.as_ref().map(|u| u.user_id);
    let contact = message.body.attachments.iter().find_map(|a| match a {
        Attachment::Contact { payload } => Some(payload),
        _ => None,
    });
    match contact {
        Some(contact) => {
            let own = contact.max_info.as_ref().map(|u| u.user_id) == sender;
            match contact.phone() {
                Some(phone) if own => Incoming::Input(Input::Text(phone)),
                _ => Incoming::ForeignContact,
            }
        }
        None => Incoming::Unsupported,
    }
}

/// The id an update is remembered by once its turn is committed, so a redelivery (a poll that
/// asks again for a batch one of whose turns failed, a webhook retried after a timeout) is not
/// answered twice.
///
/// MAX numbers no updates, so an update is known by what it carries: a message by its `mid`, a
/// press by its `callback_id`, a start by its user and time (S). The id is the first 8 bytes of
/// the SHA-256 of that. Two different updates share one only by a 64-bit collision: among a
/// million MAX updates in the 24 h an id is kept, about one chance in 36 million. Such a
/// collision would make the bot ignore one message, which the person would simply send again.
pub fn update_id(update: &Update) -> Option<i64> {
    let identity = match update {
        Update::MessageCreated { message, .. } if !message.body.mid.is_empty() => {
            format!("mid:{}", message.body.mid)
        }
        Update::MessageCallback { callback, .. } if !callback.callback_id.is_empty() => {
            format!("callback:{}", callback.callback_id)
        }
        Update::BotStarted {
            user, timestamp, ..
        } if *timestamp != 0 => format!("started:{}:{timestamp}", user.user_id),
        _ => return None,
    };
    let digest = ring::digest::digest(&ring::digest::SHA256, identity.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    Some(i64::from_be_bytes(first))
}

/// The bot in MAX.
#[derive(Clone)]
pub struct Max {
    client: MaxClient,
    core: Arc<Assistant>,
}

impl Max {
    pub fn new(client: MaxClient, core: Arc<Assistant>) -> Self {
        let client = client.with_metrics(core.metrics().clone());
        Self { client, core }
    }

    pub fn client(&self) -> &MaxClient {
        &self.client
    }

    /// Runs one update's turn up to its commit. A store that cannot be reached is an error:
    /// the caller does not move the marker past it, and MAX delivers it again.
    pub async fn receive(&self, update: &Update) -> Result<Received, RuntimeError> {
        if let Update::MessageCallback { callback, .. } = update {
            // Answered first, so the button stops spinning even if the rest is slow.
            if let Err(error) = self
                .client
                .answer_callback(&callback.callback_id, None)
                .await
            {
                tracing::warn!(%error, "could not answer a button press");
            }
        }
        let (chat, lang, incoming) = classify(update);
        let Some(chat) = chat else {
            return Ok(Received::Nothing);
        };
        crate::transport::take(
            &self.core,
            chat,
            update_id(update),
            lang.as_deref(),
            incoming,
        )
        .await
    }

    /// Sends what an update produced (see [`crate::transport::deliver`]).
    pub async fn deliver(&self, received: Received) {
        crate::transport::deliver(&self.core, self, received).await;
    }

    /// Sends one reply: its QR code first as an image, then the text split at [`TEXT_LIMIT`]
    /// with the buttons on the last piece.
    pub async fn send_reply(&self, chat: ChatKey, reply: &Reply) -> Result<(), MaxError> {
        let to = To::User(chat.id);
        if let Some(png) = reply.qr.as_deref().and_then(qr_png) {
            let token = self.client.upload_image(png).await?;
            let image = NewMessageBody {
                attachments: vec![AttachmentRequest::Image(ImageToken { token })],
                ..NewMessageBody::default()
            };
            self.client.send_message(to, &image).await?;
        }
        let pieces = crate::transport::split_text(&reply.text, TEXT_LIMIT);
        let last = pieces.len().saturating_sub(1);
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut body = NewMessageBody::text(piece);
            if i == last {
                body.attachments.extend(keyboard(reply));
            }
            self.client.send_message(to, &body).await?;
        }
        Ok(())
    }
}

/// The reply's buttons as an inline keyboard, one per row, or the messenger's own "share my
/// phone" button where the engine asks for the person's phone.
fn keyboard(reply: &Reply) -> Option<AttachmentRequest> {
    let rows: Vec<Vec<Button>> = reply
        .buttons
        .iter()
        .filter_map(|b| {
            let text = b.label.clone();
            match &b.action {
                ButtonTarget::Url(url) => Some(Button::Link {
                    text,
                    url: url.clone(),
                }),
                other => other
                    .callback_data()
                    .map(|payload| Button::Callback { text, payload }),
            }
        })
        .map(|button| vec![button])
        .collect();
    let rows = match (&reply.share_contact, rows.is_empty()) {
        (Some(label), true) => vec![vec![Button::RequestContact {
            text: label.clone(),
        }]],
        _ => rows,
    };
    (!rows.is_empty()).then_some(AttachmentRequest::InlineKeyboard(Keyboard {
        buttons: rows,
    }))
}

#[async_trait]
impl Courier for Max {
    async fn send(&self, chat: ChatKey, reply: &Reply) -> Result<(), Undelivered> {
        if chat.channel != Channel::Max {
            return Err(Undelivered::Never(format!("{chat} is not a MAX chat")));
        }
        self.send_reply(chat, reply)
            .await
            .map_err(|error| match error {
                MaxError::Refused { .. } | MaxError::Setup(_) => {
                    Undelivered::Never(error.to_string())
                }
                other => Undelivered::Retry(other.to_string()),
            })
    }
}
