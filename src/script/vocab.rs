//! The closed vocabulary a scenario may use: kinds of typed input, service operations and their
//! outcomes, button conditions, and the facts a conversation collects (with the message
//! variables each fact provides). The loader accepts only these names; the checker uses the
//! facts to prove that every message finds its variables and every operation its data.

use std::fmt;

use crate::service::RejectionCode;

/// Something the conversation has learnt, kept in the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fact {
    /// The payload of the deep link the user came through.
    InviteToken,
    /// A class teacher's invitation, resolved.
    ClassInvite,
    /// A child's invitation for a parent, resolved.
    ParentInvite,
    /// A teacher's binding link, resolved.
    TeacherInvite,
    /// The child's own phone or email (V1.2).
    Contact,
    /// The parent's own phone (V1.7).
    ParentPhone,
    /// A code is on its way.
    Verification,
    /// The code the user typed, not yet checked.
    Code,
    /// The code was accepted.
    Verified,
    /// The child's full name.
    ChildName,
    /// The submitted application (V1.4).
    Application,
    /// The link a registered child sends to a parent (V1.6).
    ParentInviteLink,
    /// The parent link waiting for the parent's confirmation (V1.8).
    ParentLink,
    /// The date a reminder was set for.
    ReminderDate,
}

/// Message variables and the facts that provide each (any one of them is enough).
pub const VARIABLES: &[(&str, &[Fact])] = &[
    (
        "class",
        &[
            Fact::ClassInvite,
            Fact::ParentInvite,
            Fact::Application,
            Fact::ParentLink,
        ],
    ),
    (
        "school",
        &[
            Fact::ClassInvite,
            Fact::ParentInvite,
            Fact::Application,
            Fact::ParentLink,
        ],
    ),
    ("teacher_name", &[Fact::ClassInvite, Fact::TeacherInvite]),
    ("teacher_classes", &[Fact::TeacherInvite]),
    ("due_date", &[Fact::ReminderDate]),
    (
        "child_name",
        &[Fact::ChildName, Fact::ParentInvite, Fact::ParentLink],
    ),
    ("address", &[Fact::Contact, Fact::ParentPhone]),
    ("code_length", &[Fact::Verification]),
    ("invite_link", &[Fact::ParentInviteLink]),
    // The deployment's `SUPPORT_CONTACT` (or the locale's default): known everywhere.
    ("support_contact", &[]),
];

/// The facts that can provide message variable `name`, or `None` for an unknown variable.
pub fn variable_providers(name: &str) -> Option<&'static [Fact]> {
    VARIABLES
        .iter()
        .find(|(var, _)| *var == name)
        .map(|(_, facts)| *facts)
}

/// What a step can ask the user to type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKind {
    /// The child's own Russian mobile number or email (R1, R2).
    ChildContact,
    /// The parent's own Russian mobile number; an email is refused (R2).
    ParentPhone,
    /// A verification code of the length the service gave.
    Code,
    /// The child's surname, name and (optionally) patronymic.
    ChildName,
}

impl InputKind {
    pub const ALL: &'static [InputKind] = &[
        InputKind::ChildContact,
        InputKind::ParentPhone,
        InputKind::Code,
        InputKind::ChildName,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InputKind::ChildContact => "child_contact",
            InputKind::ParentPhone => "parent_phone",
            InputKind::Code => "code",
            InputKind::ChildName => "child_name",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// The fact a valid answer establishes.
    pub fn produces(self) -> Fact {
        match self {
            InputKind::ChildContact => Fact::Contact,
            InputKind::ParentPhone => Fact::ParentPhone,
            InputKind::Code => Fact::Code,
            InputKind::ChildName => Fact::ChildName,
        }
    }

    /// The facts needed to validate an answer.
    pub fn requires(self) -> &'static [Fact] {
        match self {
            InputKind::Code => &[Fact::Verification],
            _ => &[],
        }
    }
}

/// A registration service operation a step can trigger.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    ResolveInvite,
    SendChildCode,
    SendParentCode,
    ResendCode,
    CheckCode,
    SubmitApplication,
    CheckApplication,
    CreateParentInvite,
    CreateParentLink,
    ConfirmParentLink,
    CancelParentLink,
}

/// How a call ended, as a scenario names it in `on`: one of the operation's successes, one of
/// the contract's rejection codes, `error` for every rejection a step does not name, or
/// `unavailable` when the service cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutcomeKey {
    Ok,
    /// The invitation is a class teacher's (for a student).
    Class,
    /// The invitation is a child's (for a parent).
    Parent,
    /// The invitation binds a teacher.
    Teacher,
    Approved,
    Pending,
    Rejected,
    Linked,
    Cancelled,
    /// The service refused with this code.
    Refused(RejectionCode),
    /// Every refusal the step does not name.
    AnyError,
    /// The service could not be reached.
    Unavailable,
}

impl OutcomeKey {
    /// The keys written by name (the refusals are written by their code).
    const NAMES: &'static [(OutcomeKey, &'static str)] = &[
        (OutcomeKey::Ok, "ok"),
        (OutcomeKey::Class, "class"),
        (OutcomeKey::Parent, "parent"),
        (OutcomeKey::Teacher, "teacher"),
        (OutcomeKey::Approved, "approved"),
        (OutcomeKey::Pending, "pending"),
        (OutcomeKey::Rejected, "rejected"),
        (OutcomeKey::Linked, "linked"),
        (OutcomeKey::Cancelled, "cancelled"),
        (OutcomeKey::AnyError, "error"),
        (OutcomeKey::Unavailable, "unavailable"),
    ];

    /// The key as a scenario writes it.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKey::Refused(code) => code.code(),
            key => OutcomeKey::NAMES
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("", |(_, name)| name),
        }
    }

    /// The key a scenario wrote as `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        OutcomeKey::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
            .or_else(|| RejectionCode::from_code(name).map(OutcomeKey::Refused))
    }
}

impl fmt::Display for OutcomeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Operation {
    pub const ALL: &'static [Operation] = &[
        Operation::ResolveInvite,
        Operation::SendChildCode,
        Operation::SendParentCode,
        Operation::ResendCode,
        Operation::CheckCode,
        Operation::SubmitApplication,
        Operation::CheckApplication,
        Operation::CreateParentInvite,
        Operation::CreateParentLink,
        Operation::ConfirmParentLink,
        Operation::CancelParentLink,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::ResolveInvite => "resolve_invite",
            Operation::SendChildCode => "send_child_code",
            Operation::SendParentCode => "send_parent_code",
            Operation::ResendCode => "resend_code",
            Operation::CheckCode => "check_code",
            Operation::SubmitApplication => "submit_application",
            Operation::CheckApplication => "check_application",
            Operation::CreateParentInvite => "create_parent_invite",
            Operation::CreateParentLink => "create_parent_link",
            Operation::ConfirmParentLink => "confirm_parent_link",
            Operation::CancelParentLink => "cancel_parent_link",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|o| o.name() == name)
    }

    /// The facts the request is built from.
    pub fn requires(self) -> &'static [Fact] {
        match self {
            Operation::ResolveInvite => &[Fact::InviteToken],
            Operation::SendChildCode => &[Fact::Contact],
            Operation::SendParentCode => &[Fact::ParentPhone],
            Operation::ResendCode => &[Fact::Verification],
            Operation::CheckCode => &[Fact::Verification, Fact::Code],
            Operation::SubmitApplication => &[
                Fact::InviteToken,
                Fact::Verification,
                Fact::Verified,
                Fact::ChildName,
            ],
            Operation::CheckApplication | Operation::CreateParentInvite => &[Fact::Application],
            Operation::CreateParentLink => &[Fact::InviteToken, Fact::Verification, Fact::Verified],
            Operation::ConfirmParentLink | Operation::CancelParentLink => &[Fact::ParentLink],
        }
    }

    /// The successful outcomes, each with the facts it establishes.
    pub fn successes(self) -> &'static [(OutcomeKey, &'static [Fact])] {
        match self {
            Operation::ResolveInvite => &[
                (OutcomeKey::Class, &[Fact::ClassInvite]),
                (OutcomeKey::Parent, &[Fact::ParentInvite]),
                (OutcomeKey::Teacher, &[Fact::TeacherInvite]),
            ],
            Operation::SendChildCode | Operation::SendParentCode | Operation::ResendCode => {
                &[(OutcomeKey::Ok, &[Fact::Verification])]
            }
            Operation::CheckCode => &[(OutcomeKey::Ok, &[Fact::Verified])],
            Operation::SubmitApplication => &[(OutcomeKey::Ok, &[Fact::Application])],
            Operation::CheckApplication => &[
                (OutcomeKey::Approved, &[]),
                (OutcomeKey::Pending, &[]),
                (OutcomeKey::Rejected, &[]),
            ],
            Operation::CreateParentInvite => &[(OutcomeKey::Ok, &[Fact::ParentInviteLink])],
            Operation::CreateParentLink => &[(OutcomeKey::Ok, &[Fact::ParentLink])],
            Operation::ConfirmParentLink => {
                &[(OutcomeKey::Linked, &[]), (OutcomeKey::Cancelled, &[])]
            }
            Operation::CancelParentLink => {
                &[(OutcomeKey::Cancelled, &[]), (OutcomeKey::Linked, &[])]
            }
        }
    }

    /// The contract's rejection codes this operation can end in.
    pub fn rejections(self) -> &'static [RejectionCode] {
        match self {
            Operation::ResolveInvite => &[
                RejectionCode::InviteNotFound,
                RejectionCode::InviteExpired,
                RejectionCode::InviteUsed,
            ],
            Operation::SendChildCode => &[
                RejectionCode::InvalidAddress,
                RejectionCode::AddressAlreadyRegistered,
                RejectionCode::TooManyRequests,
            ],
            Operation::SendParentCode => &[
                RejectionCode::InvalidAddress,
                RejectionCode::AddressAlreadyRegistered,
                RejectionCode::AddressRegisteredAsChild,
                RejectionCode::ChannelNotAllowed,
                RejectionCode::TooManyRequests,
            ],
            Operation::ResendCode => &[RejectionCode::TooEarly, RejectionCode::TooManyRequests],
            Operation::CheckCode => &[
                RejectionCode::WrongCode,
                RejectionCode::VerificationExpired,
                RejectionCode::TooManyAttempts,
            ],
            Operation::SubmitApplication => &[
                RejectionCode::VerificationNotCompleted,
                RejectionCode::InviteExpired,
                RejectionCode::InviteUsed,
                RejectionCode::InvalidChild,
            ],
            Operation::CheckApplication => &[RejectionCode::ApplicationNotFound],
            Operation::CreateParentInvite => &[RejectionCode::ApplicationNotApproved],
            Operation::CreateParentLink => &[
                RejectionCode::VerificationNotCompleted,
                RejectionCode::InviteExpired,
                RejectionCode::InviteUsed,
            ],
            Operation::ConfirmParentLink | Operation::CancelParentLink => &[],
        }
    }

    /// Whether `key` is an outcome this operation can end in.
    pub fn has_outcome(self, key: OutcomeKey) -> bool {
        match key {
            OutcomeKey::Unavailable | OutcomeKey::AnyError => true,
            OutcomeKey::Refused(code) => self.rejections().contains(&code),
            success => self.successes().iter().any(|(k, _)| *k == success),
        }
    }

    /// The facts an outcome establishes (none for rejections).
    pub fn produces(self, outcome: OutcomeKey) -> &'static [Fact] {
        self.successes()
            .iter()
            .find(|(k, _)| *k == outcome)
            .map(|(_, facts)| *facts)
            .unwrap_or(&[])
    }
}

/// A condition that decides whether a button is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// The service allows asking for the code again (`resend_after` has passed).
    CanResend,
}

impl Condition {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "can_resend" => Some(Condition::CanResend),
            _ => None,
        }
    }

    pub fn requires(self) -> &'static [Fact] {
        match self {
            Condition::CanResend => &[Fact::Verification],
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The events the code raises itself. The engine answers some on its own (the gentle
/// reminder, a new code possible); the others a scenario step must answer, and the checker
/// makes sure one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuntimeEvent {
    /// A person fell silent in the middle of a scenario (answered by the engine).
    Idle,
    /// A sent code's `resend_after` has passed (answered by the engine).
    ResendReady,
    /// A teacher (or the school) decided on the student's application
    /// (`application_decided@<application id>`, answered by a step).
    ApplicationDecided,
}

impl RuntimeEvent {
    pub const ALL: &'static [RuntimeEvent] = &[
        RuntimeEvent::Idle,
        RuntimeEvent::ResendReady,
        RuntimeEvent::ApplicationDecided,
    ];

    /// The event's name, as scenarios and notices write it.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeEvent::Idle => "idle",
            RuntimeEvent::ResendReady => "resend_ready",
            RuntimeEvent::ApplicationDecided => "application_decided",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|e| e.name() == name)
    }

    /// Whether a scenario step answers it (rather than the engine itself).
    pub fn answered_by_a_step(self) -> bool {
        matches!(self, RuntimeEvent::ApplicationDecided)
    }

    /// The event about one application, `name@id`.
    pub fn about(self, application_id: &str) -> String {
        format!("{}@{application_id}", self.name())
    }
}
