//! What the bot says, ready for a transport: a turn's [`Reply`]s, rendered from the engine's
//! [`Say`] in one place, and what one update produced ([`Handled`]).

use crate::engine::{ButtonTarget, Say};
use crate::i18n::{Args, I18nError, Locales};
use crate::script::vocab::InputKind;
use crate::script::{Msg, StepRef};
use crate::store::ChatKey;

/// A button as a transport shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplyButton {
    pub label: String,
    pub action: ButtonTarget,
}

/// One message of the bot, ready for a transport (and storable: a committed turn's replies
/// wait in the outbox until delivered).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// The Fluent id the text was rendered from: for tests and logs, never shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    pub text: String,
    pub buttons: Vec<ReplyButton>,
    /// Text to show as a QR code with the message (an invitation link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr: Option<String>,
    /// The label of a "share my phone number" button, where the person's own phone is asked
    /// for and the message has no buttons of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_contact: Option<String>,
}

impl Reply {
    pub fn text(text: String) -> Self {
        Self {
            message: String::new(),
            text,
            buttons: Vec::new(),
            qr: None,
            share_contact: None,
        }
    }
}

/// What one update produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub replies: Vec<Reply>,
    /// Where the conversation is now.
    pub at: StepRef,
    /// The seed ID the current step delivers.
    pub seed: Option<String>,
    /// What the current step asks the user to type, if anything.
    pub expects: Option<InputKind>,
    /// The conversation's language.
    pub lang: String,
    /// The outbox notice keeping the replies until they are delivered: tell
    /// [`Assistant::delivered`] once they are, or any replica delivers them after [`REPLY_GRACE`].
    pub kept_as: Option<(ChatKey, String)>,
}

/// Renders one message of the engine in `lang`.
pub fn render(locales: &Locales, lang: &str, say: &Say) -> Result<Reply, I18nError> {
    let mut text = locales.format(lang, &say.message, &say.args)?;
    if let Some((step, total)) = say.progress {
        let mut args = Args::new();
        args.insert("step".into(), (step as i64).into());
        args.insert("total".into(), (total as i64).into());
        let line = locales.format(lang, Msg::Progress.id(), &args)?;
        text = format!("{line}\n\n{text}");
    }
    let buttons = say
        .buttons
        .iter()
        .map(|b| {
            let args = if b.label_args.is_empty() {
                &say.args
            } else {
                &b.label_args
            };
            Ok(ReplyButton {
                label: locales.format(lang, &b.label, args)?,
                action: b.target.clone(),
            })
        })
        .collect::<Result<Vec<_>, I18nError>>()?;
    let share_contact = match say.request_contact {
        true => Some(locales.format(lang, Msg::BtnShareContact.id(), &Args::new())?),
        false => None,
    };
    Ok(Reply {
        message: say.message.clone(),
        text,
        buttons,
        qr: say.qr.clone(),
        share_contact,
    })
}
