//! A conversation's state: where the user is, how they got there, what they have told us and
//! what the service has answered. Serialisable, so any store can keep it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{Channel, ChildContact, ChildName, InviteToken, Phone, VerificationCode};
use crate::i18n::{Arg, Args};
use crate::script::vocab::{Fact, Operation};
use crate::script::StepRef;
use crate::service::{Application, Invite, IssuedInvite, ParentLink, Verification};

/// How many steps `/back` can retrace.
pub const HISTORY_LIMIT: usize = 20;

/// What the conversation has learnt so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_token: Option<InviteToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<Invite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ChildContact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_phone: Option<Phone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<VerificationCode>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_name: Option<ChildName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_invite: Option<IssuedInvite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_link: Option<ParentLink>,
    /// The day a reminder was set for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder_date: Option<NaiveDate>,
}

impl Facts {
    /// The teacher this chat serves, if it was bound by a teacher's link: id and class ids.
    pub fn teacher(&self) -> Option<(&str, Vec<String>)> {
        match &self.invite {
            Some(Invite::Teacher {
                teacher_id,
                classes,
                ..
            }) => Some((
                teacher_id.as_str(),
                classes.iter().map(|c| c.class_id.clone()).collect(),
            )),
            _ => None,
        }
    }

    pub fn has(&self, fact: Fact) -> bool {
        match fact {
            Fact::InviteToken => self.invite_token.is_some(),
            Fact::ClassInvite => matches!(self.invite, Some(Invite::Class { .. })),
            Fact::ParentInvite => matches!(self.invite, Some(Invite::Parent { .. })),
            Fact::TeacherInvite => matches!(self.invite, Some(Invite::Teacher { .. })),
            Fact::Contact => self.contact.is_some(),
            Fact::ParentPhone => self.parent_phone.is_some(),
            Fact::Verification => self.verification.is_some(),
            Fact::Code => self.code.is_some(),
            Fact::Verified => self.verified,
            Fact::ChildName => self.child_name.is_some(),
            Fact::Application => self.application.is_some(),
            Fact::ParentInviteLink => self.parent_invite.is_some(),
            Fact::ParentLink => self.parent_link.is_some(),
            Fact::ReminderDate => self.reminder_date.is_some(),
        }
    }

    /// The message variables these facts provide (see `script::vocab::VARIABLES`).
    pub fn args(&self, deep_link_base: &str) -> Args {
        let mut args = Args::new();
        let mut put = |name: &str, value: Arg| {
            args.entry(name.to_owned()).or_insert(value);
        };
        // The most specific source first: what the user did beats what the invitation said.
        if let Some(link) = &self.parent_link {
            put("child_name", link.child.name.as_str().into());
            put("class", link.child.class.as_str().into());
            put("school", link.child.school.as_str().into());
        }
        if let Some(app) = &self.application {
            put("class", app.class.as_str().into());
            put("school", app.school.as_str().into());
        }
        if let Some(name) = &self.child_name {
            put("child_name", name.to_string().into());
        }
        match &self.invite {
            Some(Invite::Class {
                class,
                school,
                teacher_name,
                ..
            }) => {
                put("class", class.as_str().into());
                put("school", school.as_str().into());
                put("teacher_name", teacher_name.as_str().into());
            }
            Some(Invite::Parent {
                child_name,
                class,
                school,
                ..
            }) => {
                put("child_name", child_name.as_str().into());
                put("class", class.as_str().into());
                put("school", school.as_str().into());
            }
            Some(Invite::Teacher {
                teacher_name,
                classes,
                ..
            }) => {
                put("teacher_name", teacher_name.as_str().into());
                let names: Vec<&str> = classes.iter().map(|c| c.name.as_str()).collect();
                put("teacher_classes", names.join(", ").into());
            }
            None => {}
        }
        // Shown whole: the person checks their own contact in their own chat.
        if let Some(phone) = &self.parent_phone {
            put("address", phone.spaced().into());
        }
        if let Some(contact) = &self.contact {
            put("address", contact.shown().into());
        }
        if let Some(v) = &self.verification {
            put("code_length", Arg::Num(v.code_length as i64));
        }
        if let Some(date) = self.reminder_date {
            put("due_date", date.format("%d.%m.%Y").to_string().into());
        }
        if let Some(invite) = &self.parent_invite {
            put(
                "invite_link",
                format!("{deep_link_base}{}", invite.token.as_str()).into(),
            );
        }
        args
    }
}

/// A service call the conversation is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Awaiting {
    pub op: Operation,
    pub step: StepRef,
}

/// What a button on the latest message does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Goto(StepRef),
    /// An answer offered for a question («Вы про это?»): shown with the way back.
    Answer(StepRef),
    /// None of the offered answers.
    NoneOfThese,
    /// A teacher chooses the class of an invitation.
    InviteClass(String),
    /// The answer to «Это другой ребёнок?» when a new invitation arrives mid-registration.
    AnotherChild(bool),
    /// Continue the registration of parked child `n` (`/children`).
    Child(usize),
    Menu,
    /// Stop the gentle reminders.
    RemindersOff,
    /// Back to the step the user left to ask a question.
    Resume,
    /// Switch to this language.
    Lang(String),
}

/// The buttons the user can press now. Buttons of older messages carry an older `seq` and are
/// answered as stale.
///
/// Most offers are the current step's own buttons: those are stored as `"own": true` without
/// the buttons, which the engine rebuilds from the script when the session is next used (most
/// of a stored session was its offer, button targets spelt out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Offer {
    pub seq: u32,
    /// (label message id, action) for each button, in order.
    #[serde(default)]
    pub actions: Vec<(String, Action)>,
    /// The actions are the current step's own buttons as the script makes them at the
    /// session's `updated_at`: they are stored as this flag alone.
    #[serde(default)]
    pub own: bool,
}

impl Serialize for Offer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            seq: u32,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            actions: &'a [(String, Action)],
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            own: bool,
        }
        Stored {
            seq: self.seq,
            actions: if self.own { &[] } else { &self.actions },
            own: self.own,
        }
        .serialize(serializer)
    }
}

/// One user's conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The scripts' digest when the session was last saved.
    pub scripts_version: String,
    /// The user's language (a locale folder name).
    pub lang: String,
    /// The current step.
    pub at: StepRef,
    /// Steps the user saw before this one, for `/back`.
    #[serde(default)]
    pub history: Vec<StepRef>,
    #[serde(default)]
    pub facts: Facts,
    /// Invalid answers in a row at the current step.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failures: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<Awaiting>,
    #[serde(default)]
    pub offer: Offer,
    /// True until the bot has said anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fresh: bool,
    /// The messenger the conversation is in: not stored, set from the chat on every turn.
    #[serde(skip)]
    pub channel: Channel,
    /// Drawn when the conversation starts: part of every idempotency key of its service calls
    /// ([`crate::service::OpKey::derive`]). Sessions stored before it existed read 0.
    #[serde(default)]
    pub epoch: u64,
    /// The step the user left to ask a question, offered as a way back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<StepRef>,
    /// Other children's registrations, set aside (R4): each continues from `/children`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<super::children::Parked>,
    /// An invitation waiting for the answer to «Это другой ребёнок?».
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_invite: Option<InviteToken>,
    /// A child's name the bot questioned once (Latin letters, a short form): sent again as it
    /// is, it is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doubted_name: Option<String>,
    /// The application a teacher is typing a rejection reason for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_reason: Option<String>,
    /// The user asked not to be reminded of an unfinished scenario.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminders_off: bool,
    #[serde(with = "crate::domain::stored_time")]
    pub updated_at: DateTime<Utc>,
    /// When the user last did something (an outside event does not count): what silence is
    /// measured from.
    #[serde(default = "epoch", with = "crate::domain::stored_time")]
    pub active_at: DateTime<Utc>,
}

fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl Session {
    /// A conversation that has not begun, at the main menu.
    pub fn new(scripts_version: &str, lang: &str, now: DateTime<Utc>) -> Self {
        Self {
            scripts_version: scripts_version.to_owned(),
            lang: lang.to_owned(),
            at: StepRef::menu(),
            history: Vec::new(),
            facts: Facts::default(),
            failures: 0,
            awaiting: None,
            offer: Offer::default(),
            fresh: true,
            channel: Channel::default(),
            epoch: 0,
            doubted_name: None,
            children: Vec::new(),
            pending_invite: None,
            resume: None,
            awaiting_reason: None,
            reminders_off: false,
            updated_at: now,
            active_at: now,
        }
    }
}
