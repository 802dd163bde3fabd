//! What goes into the engine (a user's input, a service's answer) and what comes out of it
//! (effects for the runtime to carry out).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ChatKey, ChildName, InviteToken, VerificationCode};
use crate::i18n::Args;
use crate::script::vocab::Operation;
use crate::script::Msg;
use crate::service::{
    Address, Application, ApplicationState, Decision, Invite, IssuedInvite, LinkStatus, ParentLink,
    Purpose, ServiceError, Verification,
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
    /// `/invite`: a teacher creates a class invitation.
    Invite,
    /// `/pending`: a teacher lists the applications waiting for them.
    Pending,
    /// `/children`: every child registered from this chat, and continuing one (R4).
    Children,
    /// `/unbind`: a teacher disconnects this chat from their desk.
    Unbind,
    /// A client reconnects to a stored conversation (the terminal chat starting again): show
    /// where it is. Never typed.
    Resume,
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
    /// Something happened outside the conversation (a decision, a reminder falling due).
    Event(String),
    /// A press of a button on a teacher's message.
    Desk(DeskAction),
}

impl Input {
    /// The kind of input, as the metrics count updates.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Command(_) => "command",
            Input::Text(_) => "text",
            Input::Button { .. } => "button",
            Input::Outcome(_) => "outcome",
            Input::Event(_) => "event",
            Input::Desk(_) => "teacher_button",
        }
    }
}

/// What a button on a teacher's message asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeskAction {
    /// Approve or reject an application.
    Decide {
        application_id: String,
        approve: bool,
    },
    /// The reason for a rejection: one of the listed reasons, or `None` to type one.
    Reason {
        application_id: String,
        choice: Option<usize>,
    },
    /// Create an invitation for this class.
    InviteClass { class_id: String },
    /// Connect (or not) another chat that opened this teacher's link.
    AllowChat { chat: ChatKey, allow: bool },
}

impl DeskAction {
    /// The callback data of the button, at most 64 bytes for the service's short ids.
    pub fn callback_data(&self) -> String {
        match self {
            DeskAction::Decide {
                application_id,
                approve,
            } => format!("d:{}:{application_id}", if *approve { 'a' } else { 'r' }),
            DeskAction::Reason {
                application_id,
                choice,
            } => match choice {
                Some(n) => format!("r:{n}:{application_id}"),
                None => format!("r:-:{application_id}"),
            },
            DeskAction::InviteClass { class_id } => format!("i:{class_id}"),
            DeskAction::AllowChat { chat, allow } => {
                format!("a:{}:{chat}", if *allow { 'y' } else { 'n' })
            }
        }
    }
}

impl Input {
    /// A button's callback data: `<offer>:<index>` for a conversation's buttons, or a teacher's
    /// action (`d:…`, `r:…`, `i:…`). `None` for anything else (a forged or damaged button).
    pub fn from_callback(data: &str) -> Option<Self> {
        let (head, rest) = data.split_once(':')?;
        let id = |s: &str| (!s.is_empty() && s.len() <= 60).then(|| s.to_owned());
        match head {
            "d" => {
                let (verdict, application_id) = rest.split_once(':')?;
                let approve = match verdict {
                    "a" => true,
                    "r" => false,
                    _ => return None,
                };
                Some(Input::Desk(DeskAction::Decide {
                    application_id: id(application_id)?,
                    approve,
                }))
            }
            "r" => {
                let (choice, application_id) = rest.split_once(':')?;
                let choice = match choice {
                    "-" => None,
                    n => Some(n.parse().ok()?),
                };
                Some(Input::Desk(DeskAction::Reason {
                    application_id: id(application_id)?,
                    choice,
                }))
            }
            "a" => {
                let (verdict, chat) = rest.split_once(':')?;
                let allow = match verdict {
                    "y" => true,
                    "n" => false,
                    _ => return None,
                };
                Some(Input::Desk(DeskAction::AllowChat {
                    chat: chat.parse().ok()?,
                    allow,
                }))
            }
            "i" => Some(Input::Desk(DeskAction::InviteClass {
                class_id: id(rest)?,
            })),
            offer => Some(Input::Button {
                offer: offer.parse().ok()?,
                index: rest.parse().ok()?,
            }),
        }
    }

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
            "invite" => Command::Invite,
            "pending" => Command::Pending,
            "children" => Command::Children,
            "unbind" => Command::Unbind,
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
    /// The label's own variables; when empty it shares the message's.
    pub label_args: Args,
    pub target: ButtonTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonTarget {
    /// Pressing sends `Input::Button { offer, index }`.
    Press {
        offer: u32,
        index: usize,
    },
    /// Pressing sends `Input::Desk(action)`.
    Desk(DeskAction),
    Url(String),
}

impl ButtonTarget {
    /// What a press sends back, for transports with callback data ([`Input::from_callback`]
    /// reads it); `None` for a link.
    pub fn callback_data(&self) -> Option<String> {
        match self {
            ButtonTarget::Press { offer, index } => Some(format!("{offer}:{index}")),
            ButtonTarget::Desk(action) => Some(action.callback_data()),
            ButtonTarget::Url(_) => None,
        }
    }
}

/// A message to show: everything the bot says, the conversation's and the teacher's desk's,
/// is one of these, rendered in one place.
#[derive(Debug, Clone, PartialEq)]
pub struct Say {
    /// Fluent message id.
    pub message: String,
    pub args: Args,
    /// "Шаг N из M", shown above the message.
    pub progress: Option<(u32, u32)>,
    pub buttons: Vec<ButtonView>,
    /// Text to show as a QR code with the message (an invitation link).
    pub qr: Option<String>,
    /// Offer the messenger's own "share my phone number" button: the person's own phone is
    /// asked for and the message has no buttons of its own.
    pub request_contact: bool,
}

impl Say {
    /// Message `message` with `args`, nothing else.
    pub fn new(message: impl Into<String>, args: Args) -> Self {
        Self {
            message: message.into(),
            args,
            progress: None,
            buttons: Vec::new(),
            qr: None,
            request_contact: false,
        }
    }

    /// A system message without variables.
    pub fn plain(message: Msg) -> Self {
        Self::new(message.id(), Args::new())
    }

    pub fn with_buttons(mut self, buttons: Vec<ButtonView>) -> Self {
        self.buttons = buttons;
        self
    }

    pub fn with_qr(mut self, text: String) -> Self {
        self.qr = Some(text);
        self
    }
}

impl ButtonView {
    /// A button on a teacher's message.
    pub fn desk(label: Msg, action: DeskAction) -> Self {
        Self {
            label: label.id().to_owned(),
            label_args: Args::new(),
            target: ButtonTarget::Desk(action),
        }
    }
}

/// What a turn sets in motion once it is committed.
#[derive(Debug, Clone, PartialEq)]
pub enum FollowUp {
    /// Delete everything stored about the user (the session included).
    Forget,
    /// Run `event` in this conversation at `due` (a reminder).
    Schedule { event: String, due: DateTime<Utc> },
    /// This chat serves the teacher `teacher_id` now.
    TeacherBound { teacher_id: String },
    /// A student's application was submitted: its teacher should hear of it.
    ApplicationSubmitted {
        application_id: String,
        teacher_id: String,
        class: String,
        child_name: String,
    },
    /// A teacher's request, carried out by the runtime.
    Desk(DeskRequest),
    /// The student issued a parent invitation: the child hears when a parent links with it.
    ParentInviteIssued { token: String },
    /// A parent linked to a child with the child's invitation `token`: the child is told
    /// which phone (masked).
    ParentLinked { token: String, phone: String },
}

/// What a teacher asked, with who they are (the engine has checked they are a teacher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskRequest {
    CreateInvite {
        teacher_id: String,
        class_id: String,
    },
    ListPending {
        teacher_id: String,
    },
    Decide {
        teacher_id: String,
        application_id: String,
        decision: Decision,
    },
    /// Connect (or not) another chat to this teacher.
    AllowChat {
        teacher_id: String,
        chat: ChatKey,
        allow: bool,
    },
    /// This chat no longer serves the teacher (`/unbind`).
    Unbind {
        teacher_id: String,
    },
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

    #[test]
    fn callback_data_round_trips_and_rejects_forgeries() {
        for target in [
            ButtonTarget::Press { offer: 7, index: 2 },
            ButtonTarget::Desk(DeskAction::Decide {
                application_id: "a-1".into(),
                approve: false,
            }),
            ButtonTarget::Desk(DeskAction::Reason {
                application_id: "a-1".into(),
                choice: Some(2),
            }),
            ButtonTarget::Desk(DeskAction::Reason {
                application_id: "a-1".into(),
                choice: None,
            }),
            ButtonTarget::Desk(DeskAction::InviteClass {
                class_id: "c-5a".into(),
            }),
            ButtonTarget::Desk(DeskAction::AllowChat {
                chat: ChatKey::max(-4_000_000_000),
                allow: true,
            }),
            ButtonTarget::Desk(DeskAction::AllowChat {
                chat: ChatKey::telegram(77),
                allow: false,
            }),
        ] {
            let data = target.callback_data().expect("a press");
            assert!(data.len() <= 64, "{data}");
            let input = Input::from_callback(&data).expect("parses");
            match (&target, input) {
                (ButtonTarget::Press { offer, index }, Input::Button { offer: o, index: i }) => {
                    assert_eq!((*offer, *index), (o, i))
                }
                (ButtonTarget::Desk(action), Input::Desk(parsed)) => assert_eq!(*action, parsed),
                other => panic!("{other:?}"),
            }
        }
        for forged in ["", "x", "d:z:a-1", "d:a:", "r:x:a-1", "1:two", "i:"] {
            assert_eq!(Input::from_callback(forged), None, "{forged}");
        }
    }
}
