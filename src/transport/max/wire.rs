//! The JSON of the MAX Bot API that the bot reads and writes, by the field names of the official
//! OpenAPI schema (dev.max.ru, archived as `schema_2026_07_01.json` in
//! `max-messenger-bot/max-bot-api-schemas`; "S" below), checked against the official Go
//! client's recorded answers (`max-messenger/max-bot-api-client-go` `stabs/*.json` @ e36cb51;
//! "GO").
//!
//! Reading is lenient on purpose. The recorded answers leave out fields the schema calls
//! required (`recipient.user_id` in a group chat, `user.username`), so every field the bot can
//! do without is optional or defaulted; unknown fields are ignored; an update of an unknown
//! type, or one that still does not parse, becomes [`Update::Other`] instead of failing the
//! whole [`UpdateList`] (whose marker must still move on).

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The answer of `GET /updates` (S `UpdateList`): the updates and the marker to send back.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateList {
    #[serde(default, deserialize_with = "lenient_updates")]
    pub updates: Vec<Update>,
    /// The next expected update; send it back so these are not delivered again (S).
    #[serde(default)]
    pub marker: Option<i64>,
}

/// One event (S `Update`, discriminated by `update_type`; timestamps in milliseconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "update_type", rename_all = "snake_case")]
pub enum Update {
    /// A new message to the bot (S `MessageCreatedUpdate`).
    MessageCreated {
        message: Message,
        #[serde(default)]
        timestamp: i64,
        #[serde(default)]
        user_locale: Option<String>,
    },
    /// A press of a `callback` button (S `MessageCallbackUpdate`); `message` is the message the
    /// button belongs to, when MAX still has it.
    MessageCallback {
        callback: Callback,
        #[serde(default)]
        message: Option<Message>,
        #[serde(default)]
        timestamp: i64,
        #[serde(default)]
        user_locale: Option<String>,
    },
    /// The user pressed "Start", maybe through a deep link `https://max.ru/<bot>?start=<payload>`
    /// (S `BotStartedUpdate`; the payload is at most [`super::client::START_PAYLOAD_LIMIT`]).
    BotStarted {
        chat_id: i64,
        user: User,
        #[serde(default)]
        payload: Option<String>,
        #[serde(default)]
        timestamp: i64,
        #[serde(default)]
        user_locale: Option<String>,
    },
    /// Any other type (`message_edited`, `bot_stopped`, `dialog_muted`, …, or one added later),
    /// and any update that did not parse.
    #[serde(other)]
    Other,
}

impl Update {
    /// One update as a webhook delivers it (S: the body of each webhook POST is an `Update`).
    /// Never fails: what does not parse is [`Update::Other`].
    pub fn from_json(body: &[u8]) -> Self {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => Self::from_value(value),
            Err(_) => Self::Other,
        }
    }

    fn from_value(value: serde_json::Value) -> Self {
        let kind = value
            .get("update_type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned();
        serde_json::from_value(value).unwrap_or_else(|error| {
            // The error's position and category only: its text could quote the user's data.
            tracing::warn!(
                update_type = %kind,
                category = ?error.classify(),
                "a MAX update did not parse; it is skipped"
            );
            Self::Other
        })
    }
}

fn lenient_updates<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Update>, D::Error> {
    let raw = Option::<Vec<serde_json::Value>>::deserialize(deserializer)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(Update::from_value)
        .collect())
}

/// `null` read as the type's default (S marks many lists and strings nullable).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A MAX user (S `User`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    pub user_id: i64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub name: Option<String>,
}

/// Where a message was sent (S `Recipient`). A dialog has `chat_type` `"dialog"` (TS
/// `ChatType`, GO `ChatTypeDialog`; S's enum lists only `"chat"`). Its `chat_id` is not the
/// user's `user_id`: keep both.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Recipient {
    #[serde(default)]
    pub chat_id: Option<i64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub chat_type: String,
    #[serde(default)]
    pub user_id: Option<i64>,
}

/// A message (S `Message`; `link`, `stat` and `url` are not read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    #[serde(default)]
    pub sender: Option<User>,
    pub recipient: Recipient,
    #[serde(default)]
    pub timestamp: i64,
    pub body: MessageBody,
}

/// What a message says (S `MessageBody`; `markup` is not read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageBody {
    #[serde(default, deserialize_with = "null_as_default")]
    pub mid: String,
    #[serde(default)]
    pub seq: i64,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attachments: Vec<Attachment>,
}

/// The bot's own profile (S `BotInfo`, the answer of `GET /me`): only what the bot uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BotInfo {
    pub user_id: i64,
    /// The name in the bot's link `https://max.ru/<username>` (S: optional).
    #[serde(default)]
    pub username: Option<String>,
}

/// A button press (S `Callback`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub timestamp: i64,
    pub callback_id: String,
    /// The button's `payload` as the bot set it.
    #[serde(default)]
    pub payload: Option<String>,
    pub user: User,
}

/// An attachment of a received message (S `Attachment`, discriminated by `type`). The bot reads
/// only contacts; anything else (images, stickers, files, keyboards, …) is [`Attachment::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attachment {
    /// A shared contact, as a `request_contact` button sends it (S `ContactAttachment`).
    Contact { payload: ContactPayload },
    #[serde(other)]
    Other,
}

/// S `ContactAttachmentPayload`: every field is nullable there.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactPayload {
    /// The contact as a vCard; the phone is on its `TEL` line.
    #[serde(default)]
    pub vcf_info: Option<String>,
    /// The MAX user the contact is, if they are on MAX: compare its `user_id` with the sender's
    /// to know the contact is the sender's own.
    #[serde(default)]
    pub max_info: Option<User>,
}

impl ContactPayload {
    /// The phone of the contact's vCard, if it has one (see [`vcf_phone`]).
    pub fn phone(&self) -> Option<String> {
        self.vcf_info.as_deref().and_then(vcf_phone)
    }
}

/// The first phone number of a vCard: the value of its first `TEL` property (any group prefix,
/// any parameters, a `tel:` URI or plain text), kept as its digits with a leading `+` if it had
/// one. `None` if no `TEL` line has a digit.
///
/// The exact `TEL` formatting MAX uses is not documented (S only says "VCF"): this reads every
/// form RFC 6350 and 2426 allow, folded lines included, and leaves judging the number to
/// `domain::Phone`.
pub fn vcf_phone(vcf: &str) -> Option<String> {
    // RFC 6350 §3.2: a line break followed by a space or a tab continues the line.
    let unfolded = vcf
        .replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "");
    unfolded.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        let property = name.split(';').next()?;
        let property = property.rsplit('.').next()?;
        if !property.trim().eq_ignore_ascii_case("TEL") {
            return None;
        }
        let value = value.trim();
        let value = match value.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("tel:") => &value[4..],
            _ => value,
        };
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        let plus = if value.trim_start().starts_with('+') {
            "+"
        } else {
            ""
        };
        Some(format!("{plus}{digits}"))
    })
}

/// The body of `POST /messages` (S `NewMessageBody`; `link` and `format` are not used: the bot
/// sends plain text). `text` is at most [`super::client::TEXT_LIMIT`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NewMessageBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRequest>,
    /// `false` sends silently; MAX's default is `true` (S).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
}

impl NewMessageBody {
    /// A message of `text` alone.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// An attachment of a sent message (S `AttachmentRequest`: `{type, payload}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum AttachmentRequest {
    /// S `InlineKeyboardAttachmentRequest`.
    InlineKeyboard(Keyboard),
    /// An uploaded image by the token [`super::client::MaxClient::upload_image`] returned
    /// (S `PhotoAttachmentRequestPayload.token`).
    Image(ImageToken),
}

/// Rows of buttons (S `InlineKeyboardAttachmentRequestPayload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keyboard {
    pub buttons: Vec<Vec<Button>>,
}

/// A button (S `Button`, discriminated by `type`; `text` is 1–128 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Button {
    /// Sends a `message_callback` with `payload` (at most
    /// [`super::client::CALLBACK_PAYLOAD_LIMIT`] characters; S `CallbackButton`).
    Callback { text: String, payload: String },
    /// Opens `url` (at most 2048 characters; S `LinkButton`).
    Link { text: String, url: String },
    /// Asks the user to share their contact (S `RequestContactButton`).
    RequestContact { text: String },
}

/// S `PhotoAttachmentRequestPayload` with a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageToken {
    pub token: String,
}

/// The body of `POST /answers` (S `CallbackAnswer`): `message` replaces the message the button
/// belonged to, `notification` is a one-off toast.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CallbackAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<NewMessageBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
}

/// The answer of `POST /uploads` (S `UploadEndpoint`; `token` comes only for video and audio).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UploadEndpoint {
    pub url: String,
    #[serde(default)]
    pub token: Option<String>,
}

/// The upload host's answer for an image: `{"photos": {"<hash>": {"token": …}}}` (S
/// `PhotoTokens`; TS `ImageUploadResult`; GO `model.PhotoTokens`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoTokens {
    pub photos: HashMap<String, PhotoToken>,
}

/// S `PhotoToken`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PhotoToken {
    pub token: String,
}

/// The body of `POST /subscriptions` (S `SubscriptionRequestBody`: `url` required,
/// `update_types`, `secret` matching `^[a-zA-Z0-9_-]{5,256}$`; the same three fields in GO
/// `model.SubscriptionRequestBody` and the dev.max.ru curl example).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionRequest {
    pub url: String,
    pub update_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The answer of `POST /answers` and `/subscriptions` (S `SimpleQueryResult`). Its `message`
/// is not read: it is free text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct SimpleQueryResult {
    pub success: bool,
}

/// What the bot reads of an error answer (S `Error {code, message}`): the machine code only,
/// since the message is free text that may echo the request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
}
