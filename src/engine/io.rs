//! What goes into the engine (a user's input, a service's answer) and what comes out of it
//! (effects for the runtime to carry out).

use serde::{Deserialize, Serialize};

use crate::domain::{ChildName, InviteToken, VerificationCode};
use crate::i18n::Args;
use crate::script::vocab::Operation;
use crate::service::{
    Address, Application, ApplicationState, Invite, IssuedInvite, LinkStatus, ParentLink, Purpose,
    ServiceError, Verification,
};

/// A command the user typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `/start` with an optional deep-link payload.
    Start(Option<String>),
    Help,
    Back,
    Menu,
    Reset,
    /// `/lang` with an optional language code.
    Lang(Option<String>),
    /// `/forget`: delete everything kept about the user (carried out by the runtime).
    Forget,
    /// Any other `/word`.
    Unknown,
}

/// One thing that happened in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Command(Command),
    Text(String),
    /// A press of button `index` of the offer `offer`.
    Button {
        offer: u32,
        index: usize,
    },
    /// The answer to a service call the engine asked for.
    Outcome(Outcome),
}

impl Input {
    /// Text as typed: a `/command` (also `/command@bot_name`) or plain text.
    pub fn from_text(text: &str) -> Self {
        let trimmed = text.trim();
        let Some(rest) = trimmed.strip_prefix('/') else {
            return Input::Text(text.to_owned());
        };
        let (word, arg) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, Some(a.trim().to_owned()).filter(|a| !a.is_empty())),
            None => (rest, None),
        };
        let word = word.split('@').next().unwrap_or(word).to_lowercase();
        let command = match word.as_str() {
            "start" => Command::Start(arg),
            "help" => Command::Help,
            "back" => Command::Back,
            "menu" => Command::Menu,
            "reset" => Command::Reset,
            "lang" => Command::Lang(arg),
            "forget" => Command::Forget,
            _ => Command::Unknown,
        };
        Input::Command(command)
    }
}

/// A service operation, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    ResolveInvite(InviteToken),
    StartVerification {
        address: Address,
        purpose: Purpose,
    },
    ResendCode {
        verification_id: String,
    },
    CheckCode {
        verification_id: String,
        code: VerificationCode,
    },
    SubmitApplication {
        invite: InviteToken,
        verification_id: String,
        child: ChildName,
    },
    ApplicationState {
        application_id: String,
    },
    CreateParentInvite {
        application_id: String,
    },
    CreateParentLink {
        invite: InviteToken,
        verification_id: String,
    },
    ConfirmParentLink {
        link_id: String,
        confirmed: bool,
    },
}

/// What a successful call returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Success {
    Invite(Invite),
    Verification(Verification),
    Verified,
    Application(Application),
    ApplicationState(ApplicationState),
    ParentInvite(IssuedInvite),
    ParentLink(ParentLink),
    LinkStatus(LinkStatus),
}

/// The answer to a [`Request`].
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub op: Operation,
    pub result: Result<Success, ServiceError>,
}

/// A button on a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonView {
    /// Fluent message id of the label.
    pub label: String,
    pub target: ButtonTarget,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonTarget {
    /// Pressing sends `Input::Button { offer, index }`.
    Press {
        offer: u32,
        index: usize,
    },
    Url(String),
}

/// A message to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// Fluent message id.
    pub message: String,
    pub args: Args,
    /// "Шаг N из M", shown above the message.
    pub progress: Option<(u32, u32)>,
    pub buttons: Vec<ButtonView>,
}

/// Something the runtime must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Say(Say),
    /// Call the service and feed the answer back as [`Input::Outcome`].
    Call(Request),
    /// Delete everything stored about the user (the session included).
    Forget,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_recognised_with_arguments_and_bot_names() {
        assert_eq!(
            Input::from_text("/start demo-class"),
            Input::Command(Command::Start(Some("demo-class".into())))
        );
        assert_eq!(
            Input::from_text(" /HELP@sferum_bot "),
            Input::Command(Command::Help)
        );
        assert_eq!(
            Input::from_text("/start"),
            Input::Command(Command::Start(None))
        );
        assert_eq!(Input::from_text("/what"), Input::Command(Command::Unknown));
        assert_eq!(
            Input::from_text("как дела?"),
            Input::Text("как дела?".into())
        );
    }
}
