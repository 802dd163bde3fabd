//! The closed vocabulary a scenario may use: kinds of typed input, service operations and their
//! outcomes, button conditions, and the facts a conversation collects (with the message
//! variables each fact provides). The loader accepts only these names; the checker uses the
//! facts to prove that every message finds its variables and every operation its data.

use std::fmt;

use crate::service::Rejection;

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

/// Every operation ends in `ok` (or one of its named successes), in one of the contract's
/// rejection codes, or in `unavailable` when the service cannot be reached.
pub const UNAVAILABLE: &str = "unavailable";
/// The catch-all outcome key a step can use for every rejection it does not name.
pub const ANY_ERROR: &str = "error";

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
    pub fn successes(self) -> &'static [(&'static str, &'static [Fact])] {
        match self {
            Operation::ResolveInvite => &[
                ("class", &[Fact::ClassInvite]),
                ("parent", &[Fact::ParentInvite]),
                ("teacher", &[Fact::TeacherInvite]),
            ],
            Operation::SendChildCode | Operation::SendParentCode | Operation::ResendCode => {
                &[("ok", &[Fact::Verification])]
            }
            Operation::CheckCode => &[("ok", &[Fact::Verified])],
            Operation::SubmitApplication => &[("ok", &[Fact::Application])],
            Operation::CheckApplication => {
                &[("approved", &[]), ("pending", &[]), ("rejected", &[])]
            }
            Operation::CreateParentInvite => &[("ok", &[Fact::ParentInviteLink])],
            Operation::CreateParentLink => &[("ok", &[Fact::ParentLink])],
            Operation::ConfirmParentLink => &[("linked", &[]), ("cancelled", &[])],
            Operation::CancelParentLink => &[("cancelled", &[]), ("linked", &[])],
        }
    }

    /// The contract's rejection codes this operation can end in.
    pub fn rejections(self) -> &'static [&'static str] {
        match self {
            Operation::ResolveInvite => &["invite_not_found", "invite_expired", "invite_used"],
            Operation::SendChildCode => &[
                "invalid_address",
                "address_already_registered",
                "too_many_requests",
            ],
            Operation::SendParentCode => &[
                "invalid_address",
                "address_already_registered",
                "address_registered_as_child",
                "channel_not_allowed",
                "too_many_requests",
            ],
            Operation::ResendCode => &["too_early", "too_many_requests"],
            Operation::CheckCode => &["wrong_code", "verification_expired", "too_many_attempts"],
            Operation::SubmitApplication => &[
                "verification_not_completed",
                "invite_expired",
                "invite_used",
                "invalid_child",
            ],
            Operation::CheckApplication => &["application_not_found"],
            Operation::CreateParentInvite => &["application_not_approved"],
            Operation::CreateParentLink => &[
                "verification_not_completed",
                "invite_expired",
                "invite_used",
            ],
            Operation::ConfirmParentLink | Operation::CancelParentLink => &[],
        }
    }

    /// Whether `key` is an outcome this operation can end in.
    pub fn has_outcome(self, key: &str) -> bool {
        key == UNAVAILABLE
            || key == ANY_ERROR
            || self.successes().iter().any(|(name, _)| *name == key)
            || self.rejections().contains(&key)
    }

    /// The facts an outcome establishes (none for rejections).
    pub fn produces(self, outcome: &str) -> &'static [Fact] {
        self.successes()
            .iter()
            .find(|(name, _)| *name == outcome)
            .map(|(_, facts)| *facts)
            .unwrap_or(&[])
    }
}

/// The variables a rejection's message may use.
pub fn rejection_variables(code: &str) -> &'static [&'static str] {
    match code {
        "too_many_requests" => &["minutes", "support_contact"],
        "too_early" => &["seconds"],
        "wrong_code" => &["attempts_left"],
        _ => &[],
    }
}

/// The Fluent message that explains a rejection to the user.
pub fn rejection_message(code: &str) -> String {
    format!("error-{}", code.replace('_', "-"))
}

/// Every rejection message id, for the checker.
pub fn rejection_messages() -> impl Iterator<Item = (String, &'static [&'static str])> {
    Rejection::CODES
        .iter()
        .map(|code| (rejection_message(code), rejection_variables(code)))
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

/// The messages the engine itself says, with the variables it gives each. Every locale must
/// have them all; the checker makes sure.
pub const SYSTEM_MESSAGES: &[(&str, &[&str])] = &[
    ("progress", &["step", "total"]),
    ("button-stale", &[]),
    ("input-stuck", &[]),
    ("help-general", &[]),
    ("btn-menu", &[]),
    ("btn-back", &[]),
    ("btn-resume", &[]),
    ("btn-share-contact", &[]),
    ("unsupported-message", &[]),
    ("contact-not-own", &[]),
    ("edited-message", &[]),
    ("cmd-menu", &[]),
    ("cmd-back", &[]),
    ("cmd-help", &[]),
    ("cmd-reset", &[]),
    ("cmd-lang", &[]),
    ("cmd-forget", &[]),
    ("cmd-invite", &[]),
    ("cmd-pending", &[]),
    ("btn-approve", &[]),
    ("btn-reject", &[]),
    ("teacher-invite-link", &["invite_link", "expires"]),
    ("pending-none", &[]),
    ("pending-count", &["count"]),
    ("pending-item", &["child_name", "class"]),
    ("teacher-new-application", &["child_name", "class"]),
    ("teacher-still-pending", &["child_name", "class"]),
    ("decision-approved", &["child_name"]),
    ("decision-rejected", &["child_name"]),
    ("decision-already", &["child_name"]),
    ("route-not-found", &[]),
    ("clarify", &[]),
    ("clarify-btn-none", &[]),
    ("clarify-none", &[]),
    ("btn-support", &[]),
    ("support-default", &[]),
    ("session-resumed", &[]),
    ("session-vanished", &[]),
    ("name-doubt", &["child_name"]),
    ("resend-ready", &[]),
    ("flood-slow-down", &[]),
    ("teacher-link-taken", &[]),
    ("teacher-link-used-elsewhere", &[]),
    ("teacher-chat-btn-allow", &[]),
    ("teacher-chat-btn-refuse", &[]),
    ("teacher-chat-allowed", &[]),
    ("teacher-chat-refused", &[]),
    ("teacher-chat-allow-done", &[]),
    ("teacher-chat-refuse-done", &[]),
    ("unbind-done", &[]),
    ("cmd-unbind", &[]),
    ("parent-linked-to-child", &["phone"]),
    ("child-another", &["child_name"]),
    ("child-btn-another", &[]),
    ("child-btn-same", &[]),
    ("children-none", &[]),
    ("children-list", &["children"]),
    ("child-line", &["child_name", "status"]),
    ("child-btn-continue", &["child_name"]),
    ("child-status-linked", &[]),
    ("child-status-parent-invited", &[]),
    ("child-status-approved", &[]),
    ("child-status-rejected", &[]),
    ("child-status-pending", &[]),
    ("child-status-started", &[]),
    ("cmd-children", &[]),
    ("help-teacher", &[]),
    ("lang-choose", &[]),
    ("error-service-unavailable", &[]),
    ("error-internal", &[]),
    ("error-store-unavailable", &[]),
    ("deep-link-invalid", &[]),
    ("nothing-to-go-back", &[]),
    ("command-unknown", &[]),
    ("reset-done", &[]),
    ("session-restarted", &[]),
    ("session-lost", &[]),
    ("forget-done", &[]),
    ("idle-reminder", &[]),
    ("btn-no-reminders", &[]),
    ("reminders-off", &[]),
    ("teacher-only", &[]),
    ("teacher-choose-class", &[]),
    ("reject-reason-choose", &[]),
    ("reject-reason-type", &[]),
    ("btn-class", &["class"]),
    ("reject-reason-0", &[]),
    ("reject-reason-1", &[]),
    ("reject-reason-2", &[]),
    ("reject-reason-other", &[]),
    ("decision-not-allowed", &[]),
    ("desk-failed", &[]),
    ("hint-child-contact", &[]),
    ("hint-phone-not-mobile", &[]),
    ("hint-email-invalid", &[]),
    ("hint-parent-phone", &[]),
    ("hint-parent-email", &[]),
    ("hint-code", &["length"]),
    ("hint-child-name", &[]),
    ("hint-child-name-characters", &[]),
];
