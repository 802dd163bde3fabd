//! The messages the engine and the runtime say themselves (beside the scenarios' own), as one
//! closed list: code names a message by its variant, so a typo does not compile, and the
//! checker proves every locale has each one with the variables it is given.

/// Declares [`Msg`] from one row per message: `Variant = "message-id" [variables]`.
macro_rules! system_messages {
    ($($variant:ident = $id:literal [$($var:literal),*],)*) => {
        /// A message the code itself says.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $($variant,)*
        }

        impl Msg {
            /// Every system message.
            pub const ALL: &'static [Msg] = &[$(Msg::$variant,)*];

            /// The Fluent message id.
            pub fn id(self) -> &'static str {
                match self {
                    $(Msg::$variant => $id,)*
                }
            }

            /// The variables the code gives it.
            pub fn variables(self) -> &'static [&'static str] {
                match self {
                    $(Msg::$variant => &[$($var),*],)*
                }
            }
        }
    };
}

system_messages! {
    Progress = "progress" ["step", "total"],
    ButtonStale = "button-stale" [],
    InputStuck = "input-stuck" [],
    HelpGeneral = "help-general" [],
    BtnMenu = "btn-menu" [],
    BtnResume = "btn-resume" [],
    BtnShareContact = "btn-share-contact" [],
    UnsupportedMessage = "unsupported-message" [],
    ContactNotOwn = "contact-not-own" [],
    EditedMessage = "edited-message" [],
    CmdMenu = "cmd-menu" [],
    CmdBack = "cmd-back" [],
    CmdHelp = "cmd-help" [],
    CmdReset = "cmd-reset" [],
    CmdLang = "cmd-lang" [],
    CmdForget = "cmd-forget" [],
    CmdInvite = "cmd-invite" [],
    CmdPending = "cmd-pending" [],
    BtnApprove = "btn-approve" [],
    BtnReject = "btn-reject" [],
    TeacherInviteLink = "teacher-invite-link" ["invite_link", "expires"],
    PendingNone = "pending-none" [],
    PendingCount = "pending-count" ["count"],
    PendingItem = "pending-item" ["child_name", "class"],
    TeacherNewApplication = "teacher-new-application" ["child_name", "class"],
    TeacherStillPending = "teacher-still-pending" ["child_name", "class"],
    DecisionApproved = "decision-approved" ["child_name"],
    DecisionRejected = "decision-rejected" ["child_name"],
    DecisionAlready = "decision-already" ["child_name"],
    RouteNotFound = "route-not-found" [],
    Clarify = "clarify" [],
    ClarifyBtnNone = "clarify-btn-none" [],
    ClarifyNone = "clarify-none" [],
    BtnSupport = "btn-support" [],
    SupportDefault = "support-default" [],
    SessionResumed = "session-resumed" [],
    SessionVanished = "session-vanished" [],
    NameDoubt = "name-doubt" ["child_name"],
    ResendReady = "resend-ready" [],
    FloodSlowDown = "flood-slow-down" [],
    TeacherLinkTaken = "teacher-link-taken" [],
    TeacherLinkUsedElsewhere = "teacher-link-used-elsewhere" [],
    TeacherChatBtnAllow = "teacher-chat-btn-allow" [],
    TeacherChatBtnRefuse = "teacher-chat-btn-refuse" [],
    TeacherChatAllowed = "teacher-chat-allowed" [],
    TeacherChatRefused = "teacher-chat-refused" [],
    TeacherChatAllowDone = "teacher-chat-allow-done" [],
    TeacherChatRefuseDone = "teacher-chat-refuse-done" [],
    UnbindDone = "unbind-done" [],
    CmdUnbind = "cmd-unbind" [],
    ParentLinkedToChild = "parent-linked-to-child" ["phone"],
    ChildAnother = "child-another" ["child_name"],
    ChildBtnAnother = "child-btn-another" [],
    ChildBtnSame = "child-btn-same" [],
    ChildrenNone = "children-none" [],
    ChildrenList = "children-list" ["children"],
    ChildLine = "child-line" ["child_name", "status"],
    ChildBtnContinue = "child-btn-continue" ["child_name"],
    ChildStatusLinked = "child-status-linked" [],
    ChildStatusParentInvited = "child-status-parent-invited" [],
    ChildStatusApproved = "child-status-approved" [],
    ChildStatusRejected = "child-status-rejected" [],
    ChildStatusPending = "child-status-pending" [],
    ChildStatusStarted = "child-status-started" [],
    CmdChildren = "cmd-children" [],
    HelpTeacher = "help-teacher" [],
    LangChoose = "lang-choose" [],
    ErrorServiceUnavailable = "error-service-unavailable" [],
    ErrorInternal = "error-internal" [],
    ErrorStoreUnavailable = "error-store-unavailable" [],
    DeepLinkInvalid = "deep-link-invalid" [],
    NothingToGoBack = "nothing-to-go-back" [],
    CommandUnknown = "command-unknown" [],
    ResetDone = "reset-done" [],
    SessionRestarted = "session-restarted" [],
    SessionLost = "session-lost" [],
    ForgetDone = "forget-done" [],
    IdleReminder = "idle-reminder" [],
    BtnNoReminders = "btn-no-reminders" [],
    RemindersOff = "reminders-off" [],
    TeacherOnly = "teacher-only" [],
    TeacherChooseClass = "teacher-choose-class" [],
    RejectReasonChoose = "reject-reason-choose" [],
    RejectReasonType = "reject-reason-type" [],
    BtnClass = "btn-class" ["class"],
    RejectReason0 = "reject-reason-0" [],
    RejectReason1 = "reject-reason-1" [],
    RejectReason2 = "reject-reason-2" [],
    RejectReasonOther = "reject-reason-other" [],
    DecisionNotAllowed = "decision-not-allowed" [],
    DeskFailed = "desk-failed" [],
    HintChildContact = "hint-child-contact" [],
    HintPhoneNotMobile = "hint-phone-not-mobile" [],
    HintEmailInvalid = "hint-email-invalid" [],
    HintParentPhone = "hint-parent-phone" [],
    HintParentEmail = "hint-parent-email" [],
    HintCode = "hint-code" ["length"],
    HintChildName = "hint-child-name" [],
    HintChildNameCharacters = "hint-child-name-characters" [],
    OpsTitle = "ops-title" [],
    OpsPeriod = "ops-period" ["days"],
    OpsService = "ops-service" ["calls", "failed", "rate"],
    OpsOutbox = "ops-outbox" ["due", "oldest"],
    OpsLegend = "ops-legend" [],
    OpsEntered = "ops-entered" [],
    OpsStalled = "ops-stalled" [],
    OpsNobodyYet = "ops-nobody-yet" [],
}
