//! The in-process registration service: the semantics of `docs/registration-api.md` kept in
//! memory, for local runs (the terminal chat) and for tests.
//!
//! It knows one school, one teacher and two classes, and three reusable demo invitations
//! ([`DEMO_CLASS_TOKEN`], [`DEMO_PARENT_TOKEN`], [`DEMO_TEACHER_TOKEN`]). Invitations it issues
//! itself ([`RegistrationService::create_class_invite`],
//! [`RegistrationService::create_parent_invite`]) are single-use and expire after
//! [`INVITE_TTL_DAYS`] days. Time comes from the injected [`Clock`], so tests move it by hand.
//!
//! Codes are never logged: a local demo can show them through [`Sandbox::on_code_sent`], and
//! tests can read them with [`Sandbox::last_code`] (or fix them with [`SandboxConfig::fixed_code`]).
//!
//! Choices the contract leaves to the service, made here the way a careful service would:
//! - an unknown verification or link id is a client bug: [`ServiceError::Protocol`];
//! - a verification is consumed by the application or the parent link it completes; using it
//!   again answers `verification_not_completed`;
//! - a token of the wrong kind (a parent invitation given to `submit_application`, …) answers
//!   `invite_not_found`: there is no invitation of that kind under that token;
//! - an address registered meanwhile by another verification answers
//!   `address_already_registered` on submission too;
//! - the first answer to a parent link is final; asking again answers with that status;
//! - at most [`MAX_STARTS_PER_WINDOW`] verifications per address per
//!   [`START_WINDOW_MINUTES`] minutes (resends do not count).

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rand::distr::Alphanumeric;
use rand::Rng;

use super::{
    Address, Application, ApplicationState, ApplicationStatus, ClassInfo, Decision, Invite,
    IssuedInvite, LinkStatus, LinkedChild, OpKey, ParentLink, PendingApplication, Purpose,
    RegistrationService, Rejection, ServiceError, Verification,
};
use crate::clock::Clock;
use crate::domain::{ChildName, InviteToken, VerificationCode};

/// A class teacher's invitation for a student: class `c-5a` («5А»), teacher `t-7`. Reusable.
pub const DEMO_CLASS_TOKEN: &str = "demo-class";
/// A child's invitation for a parent: child `s-1` («Петров Иван», «5А»). Reusable.
pub const DEMO_PARENT_TOKEN: &str = "demo-parent";
/// Binds the demo teacher `t-7`, who teaches `c-5a` («5А») and `c-7b` («7Б»). Reusable.
pub const DEMO_TEACHER_TOKEN: &str = "demo-teacher";

/// How long an invitation issued by the sandbox stays valid.
pub const INVITE_TTL_DAYS: i64 = 7;
/// How many verifications one address may start within [`START_WINDOW_MINUTES`].
pub const MAX_STARTS_PER_WINDOW: usize = 5;
/// The window of the per-address limit on started verifications.
pub const START_WINDOW_MINUTES: i64 = 10;

/// The length of the tokens the sandbox issues.
const ISSUED_TOKEN_LEN: usize = 16;

const DEMO_SCHOOL: &str = "МОБУ «СОШ № 1»";
const DEMO_TEACHER_ID: &str = "t-7";
const DEMO_TEACHER_NAME: &str = "Иванова Мария Петровна";
const DEMO_CLASSES: &[(&str, &str)] = &[("c-5a", "5А"), ("c-7b", "7Б")];
const DEMO_CHILD_ID: &str = "s-1";
const DEMO_CHILD_NAME: &str = "Петров Иван";
const DEMO_CHILD_CLASS: &str = "5А";

/// How the sandbox behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Digits in a generated code.
    pub code_length: usize,
    /// How long a code stays valid.
    pub code_ttl: Duration,
    /// How long after a (re)send another resend is allowed.
    pub resend_after: Duration,
    /// Checks allowed per code.
    pub max_attempts: u32,
    /// Approve an application the first time its state is asked for, standing in for the
    /// teacher in local demos.
    pub auto_approve: bool,
    /// Send this code every time instead of random digits (tests). `code_length` reported to
    /// the client is then this code's length.
    pub fixed_code: Option<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            code_length: 6,
            code_ttl: Duration::minutes(10),
            resend_after: Duration::seconds(60),
            max_attempts: 5,
            auto_approve: true,
            fixed_code: None,
        }
    }
}

/// What [`Sandbox::on_code_sent`] is told each time a code is (re)sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeNotice {
    /// The address the code went to, mostly hidden.
    pub masked_address: String,
    /// The code itself.
    pub code: String,
}

type CodeListener = Arc<dyn Fn(&CodeNotice) + Send + Sync>;

/// The in-process registration service.
pub struct Sandbox {
    clock: Arc<dyn Clock>,
    config: SandboxConfig,
    on_code_sent: Option<CodeListener>,
    state: Mutex<State>,
    /// The answer of every keyed operation, so that a repeated key is answered as before (the
    /// contract's idempotency): one SMS, one application, whatever repeats a turn.
    replays: Mutex<HashMap<OpKey, Box<dyn Any + Send>>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("code_length", &self.config.code_length)
            .field("auto_approve", &self.config.auto_approve)
            .finish_non_exhaustive()
    }
}

/// What an invitation issued by the sandbox opens.
#[derive(Debug, Clone)]
enum IssuedKind {
    Class { class_id: String },
    Parent { application_id: String },
}

#[derive(Debug, Clone)]
struct IssuedRecord {
    kind: IssuedKind,
    expires_at: DateTime<Utc>,
    used: bool,
}

#[derive(Debug, Clone)]
struct ClassRecord {
    name: String,
    school: String,
    teacher_id: String,
}

#[derive(Debug, Clone)]
struct VerificationRecord {
    address: Address,
    purpose: Purpose,
    code: String,
    expires_at: DateTime<Utc>,
    resend_after: DateTime<Utc>,
    attempts_left: u32,
    verified: bool,
    consumed: bool,
}

#[derive(Debug, Clone)]
struct ApplicationRecord {
    seq: u64,
    child_id: String,
    child_name: String,
    class_id: String,
    status: ApplicationStatus,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
struct LinkRecord {
    status: Option<LinkStatus>,
}

/// Which invitation a token resolved to, with what using it must update.
enum Resolved {
    Demo(Invite),
    Issued(Invite),
}

impl Resolved {
    fn invite(&self) -> &Invite {
        match self {
            Resolved::Demo(invite) | Resolved::Issued(invite) => invite,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    classes: HashMap<String, ClassRecord>,
    teachers: HashMap<String, String>,
    issued: HashMap<String, IssuedRecord>,
    verifications: HashMap<String, VerificationRecord>,
    starts: HashMap<String, Vec<DateTime<Utc>>>,
    registered_children: HashSet<String>,
    applications: HashMap<String, ApplicationRecord>,
    links: HashMap<String, LinkRecord>,
    next_verification: u64,
    next_application: u64,
    next_child: u64,
    next_link: u64,
}

impl State {
    fn seeded() -> Self {
        let mut state = State {
            next_verification: 1,
            next_application: 1,
            // `s-1` is the demo child.
            next_child: 2,
            next_link: 1,
            ..State::default()
        };
        state
            .teachers
            .insert(DEMO_TEACHER_ID.to_owned(), DEMO_TEACHER_NAME.to_owned());
        for (class_id, name) in DEMO_CLASSES {
            state.classes.insert(
                (*class_id).to_owned(),
                ClassRecord {
                    name: (*name).to_owned(),
                    school: DEMO_SCHOOL.to_owned(),
                    teacher_id: DEMO_TEACHER_ID.to_owned(),
                },
            );
        }
        state
    }

    fn class_invite(&self, class_id: &str, expires_at: Option<DateTime<Utc>>) -> Option<Invite> {
        let class = self.classes.get(class_id)?;
        let teacher_name = self.teachers.get(&class.teacher_id)?;
        Some(Invite::Class {
            class_id: class_id.to_owned(),
            class: class.name.clone(),
            school: class.school.clone(),
            teacher_name: teacher_name.clone(),
            expires_at,
        })
    }

    fn teacher_invite(&self, teacher_id: &str) -> Option<Invite> {
        let teacher_name = self.teachers.get(teacher_id)?;
        let mut classes: Vec<ClassInfo> = self
            .classes
            .iter()
            .filter(|(_, class)| class.teacher_id == teacher_id)
            .map(|(class_id, class)| ClassInfo {
                class_id: class_id.clone(),
                name: class.name.clone(),
                school: class.school.clone(),
            })
            .collect();
        classes.sort_by(|a, b| a.class_id.cmp(&b.class_id));
        Some(Invite::Teacher {
            teacher_id: teacher_id.to_owned(),
            teacher_name: teacher_name.clone(),
            classes,
        })
    }

    /// The invitation behind a token, refusing unknown, used and expired ones.
    fn resolve(&self, token: &str, now: DateTime<Utc>) -> Result<Resolved, ServiceError> {
        match token {
            DEMO_CLASS_TOKEN => {
                return self
                    .class_invite("c-5a", None)
                    .map(Resolved::Demo)
                    .ok_or(rejected(Rejection::InviteNotFound));
            }
            DEMO_PARENT_TOKEN => {
                return Ok(Resolved::Demo(Invite::Parent {
                    child_id: DEMO_CHILD_ID.to_owned(),
                    child_name: DEMO_CHILD_NAME.to_owned(),
                    class: DEMO_CHILD_CLASS.to_owned(),
                    school: DEMO_SCHOOL.to_owned(),
                    expires_at: None,
                }));
            }
            DEMO_TEACHER_TOKEN => {
                return self
                    .teacher_invite(DEMO_TEACHER_ID)
                    .map(Resolved::Demo)
                    .ok_or(rejected(Rejection::InviteNotFound));
            }
            _ => {}
        }
        let record = self
            .issued
            .get(token)
            .ok_or(rejected(Rejection::InviteNotFound))?;
        if record.used {
            return Err(rejected(Rejection::InviteUsed));
        }
        if now >= record.expires_at {
            return Err(rejected(Rejection::InviteExpired));
        }
        let invite = match &record.kind {
            IssuedKind::Class { class_id } => self.class_invite(class_id, Some(record.expires_at)),
            IssuedKind::Parent { application_id } => {
                self.applications.get(application_id).and_then(|app| {
                    let class = self.classes.get(&app.class_id)?;
                    Some(Invite::Parent {
                        child_id: app.child_id.clone(),
                        child_name: app.child_name.clone(),
                        class: class.name.clone(),
                        school: class.school.clone(),
                        expires_at: Some(record.expires_at),
                    })
                })
            }
        };
        invite
            .map(Resolved::Issued)
            .ok_or(rejected(Rejection::InviteNotFound))
    }

    /// Marks an issued invitation used; demo invitations stay reusable.
    fn mark_used(&mut self, token: &str, resolved: &Resolved) {
        if let Resolved::Issued(_) = resolved {
            if let Some(record) = self.issued.get_mut(token) {
                record.used = true;
            }
        }
    }

    fn issue(
        &mut self,
        kind: IssuedKind,
        now: DateTime<Utc>,
    ) -> Result<IssuedInvite, ServiceError> {
        let mut raw = random_token();
        while self.issued.contains_key(&raw) || is_demo_token(&raw) {
            raw = random_token();
        }
        let token = InviteToken::parse(&raw)
            .map_err(|_| ServiceError::Protocol("issued an invalid invite token".to_owned()))?;
        let expires_at = now + Duration::days(INVITE_TTL_DAYS);
        self.issued.insert(
            raw,
            IssuedRecord {
                kind,
                expires_at,
                used: false,
            },
        );
        Ok(IssuedInvite { token, expires_at })
    }

    fn verification_mut(&mut self, id: &str) -> Result<&mut VerificationRecord, ServiceError> {
        self.verifications
            .get_mut(id)
            .ok_or_else(|| ServiceError::Protocol("unknown verification id".to_owned()))
    }
}

impl Sandbox {
    /// A sandbox with the default [`SandboxConfig`].
    pub fn new(clock: Arc<dyn Clock>) -> Sandbox {
        Sandbox::with_config(clock, SandboxConfig::default())
    }

    /// A sandbox with the given configuration.
    pub fn with_config(clock: Arc<dyn Clock>, config: SandboxConfig) -> Sandbox {
        Sandbox {
            clock,
            config,
            on_code_sent: None,
            state: Mutex::new(State::seeded()),
            replays: Mutex::new(HashMap::new()),
        }
    }

    /// Calls `f` every time a code is sent or resent (outside the sandbox's lock), so that a
    /// local demo can show the code that would have arrived by SMS or mail.
    pub fn on_code_sent(mut self, f: impl Fn(&CodeNotice) + Send + Sync + 'static) -> Self {
        self.on_code_sent = Some(Arc::new(f));
        self
    }

    /// The code last sent for a verification (tests).
    pub fn last_code(&self, verification_id: &str) -> Option<String> {
        self.lock()
            .verifications
            .get(verification_id)
            .map(|v| v.code.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn new_code(&self) -> String {
        match &self.config.fixed_code {
            Some(code) => code.clone(),
            None => random_digits(self.config.code_length),
        }
    }

    fn notify(&self, verification_id: &str, notice: CodeNotice) {
        tracing::debug!(
            verification_id,
            address = %notice.masked_address,
            "sandbox: verification code sent"
        );
        if let Some(listener) = &self.on_code_sent {
            listener(&notice);
        }
    }
}

impl Sandbox {
    /// Runs the operation `key` names once: a repeated key gets the first answer again.
    fn keyed<T: Clone + Send + 'static>(
        &self,
        key: OpKey,
        run: impl FnOnce() -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let mut replays = self.replays.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(answer) = replays
            .get(&key)
            .and_then(|a| a.downcast_ref::<Result<T, ServiceError>>())
        {
            return answer.clone();
        }
        let answer = run();
        replays.insert(key, Box::new(answer.clone()));
        answer
    }
}

#[async_trait]
impl RegistrationService for Sandbox {
    async fn resolve_invite(&self, token: &InviteToken) -> Result<Invite, ServiceError> {
        let now = self.clock.now();
        let state = self.lock();
        state
            .resolve(token.as_str(), now)
            .map(|resolved| resolved.invite().clone())
    }

    async fn create_class_invite(
        &self,
        key: OpKey,
        class_id: &str,
        teacher_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let teaches = state
                .classes
                .get(class_id)
                .is_some_and(|class| class.teacher_id == teacher_id);
            if !teaches {
                return Err(rejected(Rejection::NotClassTeacher));
            }
            state.issue(
                IssuedKind::Class {
                    class_id: class_id.to_owned(),
                },
                now,
            )
        })
    }

    async fn start_verification(
        &self,
        key: OpKey,
        address: &Address,
        purpose: Purpose,
    ) -> Result<Verification, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let code = self.new_code();
            let (verification, notice) = {
                let mut state = self.lock();
                if purpose == Purpose::ParentLink && matches!(address, Address::Email(_)) {
                    return Err(rejected(Rejection::ChannelNotAllowed));
                }
                let key = address.as_str().to_owned();
                if state.registered_children.contains(&key) {
                    return Err(rejected(match purpose {
                        Purpose::ParentLink => Rejection::AddressRegisteredAsChild,
                        Purpose::StudentRegistration => Rejection::AddressAlreadyRegistered,
                    }));
                }
                let window_start = now - Duration::minutes(START_WINDOW_MINUTES);
                let starts = state.starts.entry(key).or_default();
                starts.retain(|at| *at > window_start);
                if starts.len() >= MAX_STARTS_PER_WINDOW {
                    let oldest = starts.iter().min().copied().unwrap_or(now);
                    let free_at = oldest + Duration::minutes(START_WINDOW_MINUTES);
                    return Err(rejected(Rejection::TooManyRequests {
                        retry_after_secs: secs_until(now, free_at),
                    }));
                }
                starts.push(now);

                let id = format!("v-{}", state.next_verification);
                state.next_verification += 1;
                let record = VerificationRecord {
                    address: address.clone(),
                    purpose,
                    code: code.clone(),
                    expires_at: now + self.config.code_ttl,
                    resend_after: now + self.config.resend_after,
                    attempts_left: self.config.max_attempts,
                    verified: false,
                    consumed: false,
                };
                let verification = Verification {
                    verification_id: id.clone(),
                    code_length: code.chars().count(),
                    expires_at: record.expires_at,
                    resend_after: record.resend_after,
                };
                state.verifications.insert(id, record);
                (
                    verification,
                    CodeNotice {
                        masked_address: address.masked(),
                        code,
                    },
                )
            };
            self.notify(&verification.verification_id, notice);
            Ok(verification)
        })
    }

    async fn resend_code(
        &self,
        key: OpKey,
        verification_id: &str,
    ) -> Result<Verification, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let code = self.new_code();
            let (verification, notice) = {
                let mut state = self.lock();
                let record = state.verification_mut(verification_id)?;
                if record.verified || record.consumed {
                    return Err(ServiceError::Protocol(
                        "resend asked for a completed verification".to_owned(),
                    ));
                }
                if now < record.resend_after {
                    return Err(rejected(Rejection::TooEarly {
                        retry_after_secs: secs_until(now, record.resend_after),
                    }));
                }
                record.code = code.clone();
                record.expires_at = now + self.config.code_ttl;
                record.resend_after = now + self.config.resend_after;
                record.attempts_left = self.config.max_attempts;
                (
                    Verification {
                        verification_id: verification_id.to_owned(),
                        code_length: code.chars().count(),
                        expires_at: record.expires_at,
                        resend_after: record.resend_after,
                    },
                    CodeNotice {
                        masked_address: record.address.masked(),
                        code,
                    },
                )
            };
            self.notify(verification_id, notice);
            Ok(verification)
        })
    }

    async fn check_code(
        &self,
        key: OpKey,
        verification_id: &str,
        code: &VerificationCode,
    ) -> Result<(), ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let record = state.verification_mut(verification_id)?;
            let matches = record.code == code.as_str();
            if record.verified && matches {
                return Ok(());
            }
            if now >= record.expires_at {
                return Err(rejected(Rejection::VerificationExpired));
            }
            if record.attempts_left == 0 {
                return Err(rejected(Rejection::TooManyAttempts));
            }
            if matches {
                record.verified = true;
                return Ok(());
            }
            record.attempts_left -= 1;
            Err(rejected(Rejection::WrongCode {
                attempts_left: record.attempts_left,
            }))
        })
    }

    async fn submit_application(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
        child: &ChildName,
    ) -> Result<Application, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let verification = state.verification_mut(verification_id)?;
            if !verification.verified
                || verification.consumed
                || verification.purpose != Purpose::StudentRegistration
            {
                return Err(rejected(Rejection::VerificationNotCompleted));
            }
            let address = verification.address.as_str().to_owned();
            let resolved = state.resolve(invite.as_str(), now)?;
            let Invite::Class {
                class_id,
                class,
                school,
                ..
            } = resolved.invite().clone()
            else {
                return Err(rejected(Rejection::InviteNotFound));
            };
            if state.registered_children.contains(&address) {
                return Err(rejected(Rejection::AddressAlreadyRegistered));
            }
            let teacher_id = state
                .classes
                .get(&class_id)
                .map(|c| c.teacher_id.clone())
                .ok_or(rejected(Rejection::InviteNotFound))?;

            state.mark_used(invite.as_str(), &resolved);
            if let Some(verification) = state.verifications.get_mut(verification_id) {
                verification.consumed = true;
            }
            state.registered_children.insert(address);
            let seq = state.next_application;
            state.next_application += 1;
            let child_id = format!("s-{}", state.next_child);
            state.next_child += 1;
            let application_id = format!("a-{seq}");
            state.applications.insert(
                application_id.clone(),
                ApplicationRecord {
                    seq,
                    child_id,
                    child_name: format!("{} {}", child.last_name(), child.first_name()),
                    class_id,
                    status: ApplicationStatus::Pending,
                    reason: None,
                    created_at: now,
                    decided_at: None,
                },
            );
            Ok(Application {
                application_id,
                status: ApplicationStatus::Pending,
                class,
                school,
                teacher_id,
            })
        })
    }

    async fn application_state(
        &self,
        application_id: &str,
    ) -> Result<ApplicationState, ServiceError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(application_id)
            .ok_or(rejected(Rejection::ApplicationNotFound))?;
        if self.config.auto_approve && app.status == ApplicationStatus::Pending {
            app.status = ApplicationStatus::Approved;
            app.decided_at = Some(now);
        }
        Ok(ApplicationState {
            application_id: application_id.to_owned(),
            status: app.status,
            reason: app.reason.clone(),
            decided_at: app.decided_at,
        })
    }

    async fn pending_applications(
        &self,
        teacher_id: &str,
    ) -> Result<Vec<PendingApplication>, ServiceError> {
        let state = self.lock();
        let mut pending: Vec<(u64, PendingApplication)> = state
            .applications
            .iter()
            .filter(|(_, app)| app.status == ApplicationStatus::Pending)
            .filter_map(|(id, app)| {
                let class = state.classes.get(&app.class_id)?;
                (class.teacher_id == teacher_id).then(|| {
                    (
                        app.seq,
                        PendingApplication {
                            application_id: id.clone(),
                            child_name: app.child_name.clone(),
                            class: class.name.clone(),
                            created_at: app.created_at,
                        },
                    )
                })
            })
            .collect();
        pending.sort_by_key(|(seq, _)| *seq);
        Ok(pending.into_iter().map(|(_, app)| app).collect())
    }

    async fn decide(
        &self,
        key: OpKey,
        application_id: &str,
        teacher_id: &str,
        decision: &Decision,
    ) -> Result<ApplicationStatus, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let state = &mut *state;
            let app = state
                .applications
                .get_mut(application_id)
                .ok_or(rejected(Rejection::ApplicationNotFound))?;
            let is_class_teacher = state
                .classes
                .get(&app.class_id)
                .is_some_and(|class| class.teacher_id == teacher_id);
            if !is_class_teacher {
                return Err(rejected(Rejection::NotClassTeacher));
            }
            if app.status != ApplicationStatus::Pending {
                return Err(rejected(Rejection::AlreadyDecided { status: app.status }));
            }
            match decision {
                Decision::Approve => {
                    app.status = ApplicationStatus::Approved;
                }
                Decision::Reject { reason } => {
                    app.status = ApplicationStatus::Rejected;
                    app.reason = reason.clone();
                }
            }
            app.decided_at = Some(now);
            Ok(app.status)
        })
    }

    async fn create_parent_invite(
        &self,
        key: OpKey,
        application_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let status = state
                .applications
                .get(application_id)
                .map(|app| app.status)
                .ok_or(rejected(Rejection::ApplicationNotFound))?;
            if status != ApplicationStatus::Approved {
                return Err(rejected(Rejection::ApplicationNotApproved));
            }
            state.issue(
                IssuedKind::Parent {
                    application_id: application_id.to_owned(),
                },
                now,
            )
        })
    }

    async fn create_parent_link(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
    ) -> Result<ParentLink, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let verification = state.verification_mut(verification_id)?;
            if !verification.verified
                || verification.consumed
                || verification.purpose != Purpose::ParentLink
            {
                return Err(rejected(Rejection::VerificationNotCompleted));
            }
            let resolved = state.resolve(invite.as_str(), now)?;
            let Invite::Parent {
                child_name,
                class,
                school,
                ..
            } = resolved.invite().clone()
            else {
                return Err(rejected(Rejection::InviteNotFound));
            };
            state.mark_used(invite.as_str(), &resolved);
            if let Some(verification) = state.verifications.get_mut(verification_id) {
                verification.consumed = true;
            }
            let link_id = format!("l-{}", state.next_link);
            state.next_link += 1;
            state
                .links
                .insert(link_id.clone(), LinkRecord { status: None });
            Ok(ParentLink {
                link_id,
                child: LinkedChild {
                    name: child_name,
                    class,
                    school,
                },
            })
        })
    }

    async fn confirm_parent_link(
        &self,
        key: OpKey,
        link_id: &str,
        confirmed: bool,
    ) -> Result<LinkStatus, ServiceError> {
        self.keyed(key, || {
            let mut state = self.lock();
            let link = state
                .links
                .get_mut(link_id)
                .ok_or_else(|| ServiceError::Protocol("unknown parent link id".to_owned()))?;
            let status = *link.status.get_or_insert(if confirmed {
                LinkStatus::Linked
            } else {
                LinkStatus::Cancelled
            });
            Ok(status)
        })
    }
}

fn rejected(rejection: Rejection) -> ServiceError {
    ServiceError::Rejected(rejection)
}

fn is_demo_token(token: &str) -> bool {
    matches!(
        token,
        DEMO_CLASS_TOKEN | DEMO_PARENT_TOKEN | DEMO_TEACHER_TOKEN
    )
}

/// Whole seconds from `now` until `then`, rounded up, at least 1.
fn secs_until(now: DateTime<Utc>, then: DateTime<Utc>) -> u64 {
    let left = then - now;
    let whole = left.num_seconds();
    let secs = if left > Duration::seconds(whole) {
        whole + 1
    } else {
        whole
    };
    u64::try_from(secs).unwrap_or(0).max(1)
}

fn random_digits(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn random_token() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(ISSUED_TOKEN_LEN)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;

    use chrono::TimeZone;

    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::{Email, Phone};

    const CODE: &str = "123456";
    const WRONG: &str = "654321";
    const STUDENT_PHONE: &str = "+79123456789";
    const PARENT_PHONE: &str = "+79001112233";

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
            .single()
            .expect("a valid start time")
    }

    fn config(auto_approve: bool) -> SandboxConfig {
        SandboxConfig {
            fixed_code: Some(CODE.to_owned()),
            auto_approve,
            ..SandboxConfig::default()
        }
    }

    /// A sandbox with the fixed code and no auto-approval, and its clock.
    fn sandbox() -> (Sandbox, ManualClock) {
        sandbox_with(config(false))
    }

    fn sandbox_with(config: SandboxConfig) -> (Sandbox, ManualClock) {
        let clock = ManualClock::new(start());
        (Sandbox::with_config(Arc::new(clock.clone()), config), clock)
    }

    fn phone(raw: &str) -> Address {
        Address::Phone(Phone::parse(raw).expect("a valid phone"))
    }

    fn email(raw: &str) -> Address {
        Address::Email(Email::parse(raw).expect("a valid email"))
    }

    fn code(raw: &str) -> VerificationCode {
        VerificationCode::parse(raw, raw.len()).expect("a valid code")
    }

    fn token(raw: &str) -> InviteToken {
        InviteToken::parse(raw).expect("a valid token")
    }

    fn child() -> ChildName {
        ChildName::parse("Петров Иван Сергеевич").expect("a valid name")
    }

    fn refusal<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> Rejection {
        match result {
            Err(ServiceError::Rejected(rejection)) => rejection,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    /// Starts and completes a verification, returning its id.
    async fn verified(sandbox: &Sandbox, address: &Address, purpose: Purpose) -> String {
        let verification = sandbox
            .start_verification(OpKey::random(), address, purpose)
            .await
            .expect("verification starts");
        sandbox
            .check_code(OpKey::random(), &verification.verification_id, &code(CODE))
            .await
            .expect("the code is right");
        verification.verification_id
    }

    /// A student registered through `invite` with `address`: the application.
    async fn apply(sandbox: &Sandbox, invite: &str, address: &str) -> Application {
        let vid = verified(sandbox, &phone(address), Purpose::StudentRegistration).await;
        sandbox
            .submit_application(OpKey::random(), &token(invite), &vid, &child())
            .await
            .expect("the application is accepted")
    }

    #[tokio::test]
    async fn demo_invitations_resolve_to_their_kinds_and_unknown_ones_are_not_found() {
        let (sandbox, _) = sandbox();
        let class = sandbox.resolve_invite(&token(DEMO_CLASS_TOKEN)).await;
        assert_eq!(
            class,
            Ok(Invite::Class {
                class_id: "c-5a".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
                teacher_name: "Иванова Мария Петровна".into(),
                expires_at: None,
            })
        );
        let parent = sandbox.resolve_invite(&token(DEMO_PARENT_TOKEN)).await;
        assert_eq!(
            parent,
            Ok(Invite::Parent {
                child_id: "s-1".into(),
                child_name: "Петров Иван".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
                expires_at: None,
            })
        );
        let teacher = sandbox.resolve_invite(&token(DEMO_TEACHER_TOKEN)).await;
        assert_eq!(
            teacher,
            Ok(Invite::Teacher {
                teacher_id: "t-7".into(),
                teacher_name: "Иванова Мария Петровна".into(),
                classes: vec![
                    ClassInfo {
                        class_id: "c-5a".into(),
                        name: "5А".into(),
                        school: "МОБУ «СОШ № 1»".into(),
                    },
                    ClassInfo {
                        class_id: "c-7b".into(),
                        name: "7Б".into(),
                        school: "МОБУ «СОШ № 1»".into(),
                    },
                ],
            })
        );
        assert_eq!(
            refusal(sandbox.resolve_invite(&token("no-such-invite")).await),
            Rejection::InviteNotFound
        );
    }

    #[tokio::test]
    async fn demo_invitations_are_reusable() {
        let (sandbox, _) = sandbox();
        apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000001").await;
        apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000002").await;
        assert!(sandbox
            .resolve_invite(&token(DEMO_CLASS_TOKEN))
            .await
            .is_ok());

        for parent_phone in ["+79000000001", "+79000000002"] {
            let vid = verified(&sandbox, &phone(parent_phone), Purpose::ParentLink).await;
            let link = sandbox
                .create_parent_link(OpKey::random(), &token(DEMO_PARENT_TOKEN), &vid)
                .await
                .expect("the demo parent invitation links again");
            assert_eq!(link.child.name, "Петров Иван");
        }
    }

    #[tokio::test]
    async fn a_repeated_key_is_answered_as_before_and_sends_no_second_code() {
        let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        let clock = ManualClock::new(start());
        let sandbox =
            Sandbox::with_config(Arc::new(clock), config(false)).on_code_sent(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
        let key = OpKey::derive("42", 7, 3, 0);
        let address = phone(STUDENT_PHONE);
        let first = sandbox
            .start_verification(key, &address, Purpose::StudentRegistration)
            .await;
        let again = sandbox
            .start_verification(key, &address, Purpose::StudentRegistration)
            .await;
        assert!(first.is_ok());
        assert_eq!(first, again, "the same verification, not a new one");
        assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 1);
        let other = sandbox
            .start_verification(OpKey::random(), &address, Purpose::StudentRegistration)
            .await
            .expect("a new operation");
        assert_ne!(Ok(other), first, "another key is another operation");
        assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_started_verification_reports_its_id_length_and_times() {
        let (sandbox, _) = sandbox();
        let first = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        assert_eq!(
            first,
            Verification {
                verification_id: "v-1".into(),
                code_length: 6,
                expires_at: start() + Duration::minutes(10),
                resend_after: start() + Duration::seconds(60),
            }
        );
        let second = sandbox
            .start_verification(
                OpKey::random(),
                &email("ivan@example.ru"),
                Purpose::StudentRegistration,
            )
            .await
            .expect("an email is fine for a student");
        assert_eq!(second.verification_id, "v-2");
        assert_eq!(sandbox.last_code("v-2").as_deref(), Some(CODE));
        assert_eq!(sandbox.last_code("v-99"), None);
    }

    #[tokio::test]
    async fn random_codes_are_digits_of_the_configured_length() {
        let clock = ManualClock::new(start());
        let sandbox = Sandbox::with_config(
            Arc::new(clock),
            SandboxConfig {
                code_length: 4,
                ..SandboxConfig::default()
            },
        );
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        assert_eq!(verification.code_length, 4);
        let sent = sandbox
            .last_code(&verification.verification_id)
            .expect("a code was sent");
        assert_eq!(sent.len(), 4);
        assert!(sent.chars().all(|c| c.is_ascii_digit()), "{sent:?}");
        sandbox
            .check_code(OpKey::random(), &verification.verification_id, &code(&sent))
            .await
            .expect("the sent code is right");
    }

    #[tokio::test]
    async fn the_code_listener_hears_every_sent_code_with_a_masked_address() {
        let heard: Arc<StdMutex<Vec<CodeNotice>>> = Arc::default();
        let clock = ManualClock::new(start());
        let sandbox = {
            let heard = Arc::clone(&heard);
            Sandbox::with_config(Arc::new(clock.clone()), config(false)).on_code_sent(
                move |notice| {
                    heard
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(notice.clone())
                },
            )
        };
        let address = phone(STUDENT_PHONE);
        let verification = sandbox
            .start_verification(OpKey::random(), &address, Purpose::StudentRegistration)
            .await
            .expect("starts");
        clock.advance(Duration::seconds(60));
        sandbox
            .resend_code(OpKey::random(), &verification.verification_id)
            .await
            .expect("resends");
        let heard = heard.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let expected = CodeNotice {
            masked_address: address.masked(),
            code: CODE.into(),
        };
        assert_eq!(heard, vec![expected.clone(), expected]);
        assert!(!heard[0].masked_address.contains(STUDENT_PHONE));
    }

    #[tokio::test]
    async fn a_code_expires_after_its_ttl() {
        let (sandbox, clock) = sandbox();
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        clock.advance(Duration::minutes(10));
        assert_eq!(
            refusal(
                sandbox
                    .check_code(OpKey::random(), &verification.verification_id, &code(CODE))
                    .await
            ),
            Rejection::VerificationExpired
        );
    }

    #[tokio::test]
    async fn a_code_just_before_expiry_is_still_accepted() {
        let (sandbox, clock) = sandbox();
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        clock.advance(Duration::minutes(10) - Duration::seconds(1));
        sandbox
            .check_code(OpKey::random(), &verification.verification_id, &code(CODE))
            .await
            .expect("still valid");
    }

    #[tokio::test]
    async fn wrong_codes_count_attempts_down_then_the_code_is_locked() {
        let (sandbox, _) = sandbox();
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        let vid = verification.verification_id;
        for left in (0..5).rev() {
            assert_eq!(
                refusal(
                    sandbox
                        .check_code(OpKey::random(), &vid, &code(WRONG))
                        .await
                ),
                Rejection::WrongCode {
                    attempts_left: left
                }
            );
        }
        assert_eq!(
            refusal(sandbox.check_code(OpKey::random(), &vid, &code(CODE)).await),
            Rejection::TooManyAttempts,
            "even the right code is refused once attempts are spent"
        );
    }

    #[tokio::test]
    async fn a_resend_is_refused_too_early_and_allowed_later_with_fresh_attempts() {
        let (sandbox, clock) = sandbox();
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        let vid = verification.verification_id;
        assert_eq!(
            refusal(sandbox.resend_code(OpKey::random(), &vid).await),
            Rejection::TooEarly {
                retry_after_secs: 60
            }
        );
        clock.advance(Duration::milliseconds(30_500));
        assert_eq!(
            refusal(sandbox.resend_code(OpKey::random(), &vid).await),
            Rejection::TooEarly {
                retry_after_secs: 30
            },
            "seconds left are rounded up"
        );
        clock.advance(Duration::milliseconds(29_000));
        assert_eq!(
            refusal(sandbox.resend_code(OpKey::random(), &vid).await),
            Rejection::TooEarly {
                retry_after_secs: 1
            },
            "at least one second"
        );

        for _ in 0..5 {
            let _ = sandbox
                .check_code(OpKey::random(), &vid, &code(WRONG))
                .await;
        }
        clock.advance(Duration::milliseconds(500));
        let now = start() + Duration::seconds(60);
        let resent = sandbox
            .resend_code(OpKey::random(), &vid)
            .await
            .expect("resends");
        assert_eq!(
            resent,
            Verification {
                verification_id: vid.clone(),
                code_length: 6,
                expires_at: now + Duration::minutes(10),
                resend_after: now + Duration::seconds(60),
            }
        );
        assert_eq!(
            refusal(
                sandbox
                    .check_code(OpKey::random(), &vid, &code(WRONG))
                    .await
            ),
            Rejection::WrongCode { attempts_left: 4 },
            "attempts start over"
        );
        sandbox
            .check_code(OpKey::random(), &vid, &code(CODE))
            .await
            .expect("the new code is right");
    }

    #[tokio::test]
    async fn a_resend_revives_an_expired_code() {
        let (sandbox, clock) = sandbox();
        let verification = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        let vid = verification.verification_id;
        clock.advance(Duration::minutes(11));
        sandbox
            .resend_code(OpKey::random(), &vid)
            .await
            .expect("resends");
        sandbox
            .check_code(OpKey::random(), &vid, &code(CODE))
            .await
            .expect("valid again");
    }

    #[tokio::test]
    async fn unknown_verification_ids_are_protocol_errors() {
        let (sandbox, _) = sandbox();
        assert!(matches!(
            sandbox.resend_code(OpKey::random(), "v-404").await,
            Err(ServiceError::Protocol(_))
        ));
        assert!(matches!(
            sandbox
                .check_code(OpKey::random(), "v-404", &code(CODE))
                .await,
            Err(ServiceError::Protocol(_))
        ));
        assert!(matches!(
            sandbox
                .submit_application(OpKey::random(), &token(DEMO_CLASS_TOKEN), "v-404", &child())
                .await,
            Err(ServiceError::Protocol(_))
        ));
    }

    #[tokio::test]
    async fn parents_register_by_phone_only() {
        let (sandbox, _) = sandbox();
        assert_eq!(
            refusal(
                sandbox
                    .start_verification(
                        OpKey::random(),
                        &email("mama@example.ru"),
                        Purpose::ParentLink
                    )
                    .await
            ),
            Rejection::ChannelNotAllowed
        );
        sandbox
            .start_verification(OpKey::random(), &phone(PARENT_PHONE), Purpose::ParentLink)
            .await
            .expect("a phone is fine for a parent");
    }

    #[tokio::test]
    async fn a_childs_address_cannot_serve_a_parent_or_a_second_registration() {
        let (sandbox, _) = sandbox();
        apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        assert_eq!(
            refusal(
                sandbox
                    .start_verification(OpKey::random(), &phone(STUDENT_PHONE), Purpose::ParentLink)
                    .await
            ),
            Rejection::AddressRegisteredAsChild
        );
        assert_eq!(
            refusal(
                sandbox
                    .start_verification(
                        OpKey::random(),
                        &phone(STUDENT_PHONE),
                        Purpose::StudentRegistration
                    )
                    .await
            ),
            Rejection::AddressAlreadyRegistered
        );
    }

    #[tokio::test]
    async fn an_address_registered_meanwhile_cannot_be_submitted_twice() {
        let (sandbox, _) = sandbox();
        let first = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        let second = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        sandbox
            .submit_application(OpKey::random(), &token(DEMO_CLASS_TOKEN), &first, &child())
            .await
            .expect("the first is accepted");
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(
                        OpKey::random(),
                        &token(DEMO_CLASS_TOKEN),
                        &second,
                        &child()
                    )
                    .await
            ),
            Rejection::AddressAlreadyRegistered
        );
    }

    #[tokio::test]
    async fn more_than_five_starts_in_ten_minutes_are_too_many() {
        let (sandbox, clock) = sandbox();
        let address = phone(STUDENT_PHONE);
        for _ in 0..5 {
            sandbox
                .start_verification(OpKey::random(), &address, Purpose::StudentRegistration)
                .await
                .expect("within the limit");
            clock.advance(Duration::seconds(30));
        }
        // The first start was 150 s ago: the window frees up in 450 s.
        assert_eq!(
            refusal(
                sandbox
                    .start_verification(OpKey::random(), &address, Purpose::StudentRegistration)
                    .await
            ),
            Rejection::TooManyRequests {
                retry_after_secs: 450
            }
        );
        sandbox
            .start_verification(OpKey::random(), &phone(PARENT_PHONE), Purpose::ParentLink)
            .await
            .expect("another address is not limited");
        clock.advance(Duration::seconds(450));
        sandbox
            .start_verification(OpKey::random(), &address, Purpose::StudentRegistration)
            .await
            .expect("the window moved on");
    }

    #[tokio::test]
    async fn an_application_needs_a_completed_student_verification() {
        let (sandbox, _) = sandbox();
        let pending = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(
                        OpKey::random(),
                        &token(DEMO_CLASS_TOKEN),
                        &pending.verification_id,
                        &child()
                    )
                    .await
            ),
            Rejection::VerificationNotCompleted
        );
        let parents = verified(&sandbox, &phone(PARENT_PHONE), Purpose::ParentLink).await;
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(
                        OpKey::random(),
                        &token(DEMO_CLASS_TOKEN),
                        &parents,
                        &child()
                    )
                    .await
            ),
            Rejection::VerificationNotCompleted,
            "a parent's verification does not register a student"
        );
    }

    #[tokio::test]
    async fn a_verification_completes_one_application_only() {
        let (sandbox, _) = sandbox();
        let vid = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        sandbox
            .submit_application(OpKey::random(), &token(DEMO_CLASS_TOKEN), &vid, &child())
            .await
            .expect("accepted");
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(OpKey::random(), &token(DEMO_CLASS_TOKEN), &vid, &child())
                    .await
            ),
            Rejection::VerificationNotCompleted
        );
    }

    #[tokio::test]
    async fn an_application_needs_a_class_invitation() {
        let (sandbox, _) = sandbox();
        let vid = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        for other in [DEMO_PARENT_TOKEN, DEMO_TEACHER_TOKEN, "no-such-invite"] {
            assert_eq!(
                refusal(
                    sandbox
                        .submit_application(OpKey::random(), &token(other), &vid, &child())
                        .await
                ),
                Rejection::InviteNotFound,
                "{other}"
            );
        }
        let application = sandbox
            .submit_application(OpKey::random(), &token(DEMO_CLASS_TOKEN), &vid, &child())
            .await
            .expect("the verification was not spent by the refusals");
        assert_eq!(
            application,
            Application {
                application_id: "a-1".into(),
                status: ApplicationStatus::Pending,
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
                teacher_id: "t-7".into(),
            }
        );
    }

    #[tokio::test]
    async fn only_the_class_teacher_creates_class_invitations() {
        let (sandbox, _) = sandbox();
        assert_eq!(
            refusal(
                sandbox
                    .create_class_invite(OpKey::random(), "c-5a", "t-8")
                    .await
            ),
            Rejection::NotClassTeacher
        );
        assert_eq!(
            refusal(
                sandbox
                    .create_class_invite(OpKey::random(), "c-9z", "t-7")
                    .await
            ),
            Rejection::NotClassTeacher
        );
        let issued = sandbox
            .create_class_invite(OpKey::random(), "c-7b", "t-7")
            .await
            .expect("t-7 teaches 7Б");
        assert_eq!(issued.expires_at, start() + Duration::days(7));
        assert_eq!(issued.token.as_str().len(), 16);
        assert!(issued
            .token
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            sandbox.resolve_invite(&issued.token).await,
            Ok(Invite::Class {
                class_id: "c-7b".into(),
                class: "7Б".into(),
                school: "МОБУ «СОШ № 1»".into(),
                teacher_name: "Иванова Мария Петровна".into(),
                expires_at: Some(start() + Duration::days(7)),
            })
        );
    }

    #[tokio::test]
    async fn an_issued_class_invitation_serves_one_application() {
        let (sandbox, _) = sandbox();
        let issued = sandbox
            .create_class_invite(OpKey::random(), "c-7b", "t-7")
            .await
            .expect("issued");
        let application = apply(&sandbox, issued.token.as_str(), "+79120000001").await;
        assert_eq!(application.class, "7Б");
        assert_eq!(
            refusal(sandbox.resolve_invite(&issued.token).await),
            Rejection::InviteUsed
        );
        let vid = verified(
            &sandbox,
            &phone("+79120000002"),
            Purpose::StudentRegistration,
        )
        .await;
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(OpKey::random(), &issued.token, &vid, &child())
                    .await
            ),
            Rejection::InviteUsed
        );
    }

    #[tokio::test]
    async fn an_issued_class_invitation_expires_after_seven_days() {
        let (sandbox, clock) = sandbox();
        let issued = sandbox
            .create_class_invite(OpKey::random(), "c-5a", "t-7")
            .await
            .expect("issued");
        clock.advance(Duration::days(7) - Duration::seconds(1));
        assert!(sandbox.resolve_invite(&issued.token).await.is_ok());
        clock.advance(Duration::seconds(1));
        assert_eq!(
            refusal(sandbox.resolve_invite(&issued.token).await),
            Rejection::InviteExpired
        );
        let vid = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        assert_eq!(
            refusal(
                sandbox
                    .submit_application(OpKey::random(), &issued.token, &vid, &child())
                    .await
            ),
            Rejection::InviteExpired
        );
        assert!(
            sandbox
                .resolve_invite(&token(DEMO_CLASS_TOKEN))
                .await
                .is_ok(),
            "demo invitations never expire"
        );
    }

    #[tokio::test]
    async fn with_auto_approve_an_application_is_approved_when_asked_about() {
        let (sandbox, clock) = sandbox_with(config(true));
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        assert_eq!(application.status, ApplicationStatus::Pending);
        clock.advance(Duration::minutes(1));
        let state = sandbox
            .application_state(&application.application_id)
            .await
            .expect("known");
        assert_eq!(
            state,
            ApplicationState {
                application_id: application.application_id.clone(),
                status: ApplicationStatus::Approved,
                reason: None,
                decided_at: Some(start() + Duration::minutes(1)),
            }
        );
        clock.advance(Duration::minutes(1));
        assert_eq!(
            sandbox
                .application_state(&application.application_id)
                .await
                .map(|s| s.decided_at),
            Ok(Some(start() + Duration::minutes(1))),
            "decided once"
        );
    }

    #[tokio::test]
    async fn without_auto_approve_an_application_waits_for_the_teacher() {
        let (sandbox, _) = sandbox();
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        let state = sandbox
            .application_state(&application.application_id)
            .await
            .expect("known");
        assert_eq!(state.status, ApplicationStatus::Pending);
        assert_eq!(state.decided_at, None);
        assert_eq!(
            refusal(sandbox.application_state("a-404").await),
            Rejection::ApplicationNotFound
        );
    }

    #[tokio::test]
    async fn a_teacher_sees_the_pending_applications_of_their_classes() {
        let (sandbox, clock) = sandbox();
        let first = apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000001").await;
        clock.advance(Duration::minutes(5));
        let seven_b = sandbox
            .create_class_invite(OpKey::random(), "c-7b", "t-7")
            .await
            .expect("issued");
        let second = apply(&sandbox, seven_b.token.as_str(), "+79120000002").await;
        let pending = sandbox.pending_applications("t-7").await.expect("listed");
        assert_eq!(
            pending,
            vec![
                PendingApplication {
                    application_id: first.application_id.clone(),
                    child_name: "Петров Иван".into(),
                    class: "5А".into(),
                    created_at: start(),
                },
                PendingApplication {
                    application_id: second.application_id.clone(),
                    child_name: "Петров Иван".into(),
                    class: "7Б".into(),
                    created_at: start() + Duration::minutes(5),
                },
            ]
        );
        assert_eq!(sandbox.pending_applications("t-8").await, Ok(vec![]));
        sandbox
            .decide(
                OpKey::random(),
                &first.application_id,
                "t-7",
                &Decision::Approve,
            )
            .await
            .expect("decided");
        let pending = sandbox.pending_applications("t-7").await.expect("listed");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].application_id, second.application_id);
    }

    #[tokio::test]
    async fn only_the_class_teacher_decides_and_only_once() {
        let (sandbox, clock) = sandbox();
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        let id = application.application_id;
        assert_eq!(
            refusal(
                sandbox
                    .decide(OpKey::random(), &id, "t-8", &Decision::Approve)
                    .await
            ),
            Rejection::NotClassTeacher
        );
        assert_eq!(
            refusal(
                sandbox
                    .decide(OpKey::random(), "a-404", "t-7", &Decision::Approve)
                    .await
            ),
            Rejection::ApplicationNotFound
        );
        clock.advance(Duration::hours(1));
        let reject = Decision::Reject {
            reason: Some("wrong class".into()),
        };
        assert_eq!(
            sandbox.decide(OpKey::random(), &id, "t-7", &reject).await,
            Ok(ApplicationStatus::Rejected)
        );
        assert_eq!(
            sandbox.application_state(&id).await,
            Ok(ApplicationState {
                application_id: id.clone(),
                status: ApplicationStatus::Rejected,
                reason: Some("wrong class".into()),
                decided_at: Some(start() + Duration::hours(1)),
            })
        );
        assert_eq!(
            refusal(
                sandbox
                    .decide(OpKey::random(), &id, "t-7", &Decision::Approve)
                    .await
            ),
            Rejection::AlreadyDecided {
                status: ApplicationStatus::Rejected
            }
        );
    }

    #[tokio::test]
    async fn a_parent_invitation_needs_an_approved_application() {
        let (sandbox, _) = sandbox();
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        let id = application.application_id;
        assert_eq!(
            refusal(sandbox.create_parent_invite(OpKey::random(), &id).await),
            Rejection::ApplicationNotApproved
        );
        assert_eq!(
            refusal(sandbox.create_parent_invite(OpKey::random(), "a-404").await),
            Rejection::ApplicationNotFound
        );
        sandbox
            .decide(OpKey::random(), &id, "t-7", &Decision::Approve)
            .await
            .expect("approved");
        let issued = sandbox
            .create_parent_invite(OpKey::random(), &id)
            .await
            .expect("issued");
        assert_eq!(issued.expires_at, start() + Duration::days(7));
        assert_eq!(
            sandbox.resolve_invite(&issued.token).await,
            Ok(Invite::Parent {
                child_id: "s-2".into(),
                child_name: "Петров Иван".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
                expires_at: Some(start() + Duration::days(7)),
            })
        );
    }

    #[tokio::test]
    async fn a_rejected_application_gets_no_parent_invitation() {
        let (sandbox, _) = sandbox();
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        sandbox
            .decide(
                OpKey::random(),
                &application.application_id,
                "t-7",
                &Decision::Reject { reason: None },
            )
            .await
            .expect("rejected");
        assert_eq!(
            refusal(
                sandbox
                    .create_parent_invite(OpKey::random(), &application.application_id)
                    .await
            ),
            Rejection::ApplicationNotApproved
        );
    }

    #[tokio::test]
    async fn a_parent_link_needs_a_completed_parent_verification_and_a_parent_invitation() {
        let (sandbox, _) = sandbox();
        let unchecked = sandbox
            .start_verification(OpKey::random(), &phone(PARENT_PHONE), Purpose::ParentLink)
            .await
            .expect("starts");
        assert_eq!(
            refusal(
                sandbox
                    .create_parent_link(
                        OpKey::random(),
                        &token(DEMO_PARENT_TOKEN),
                        &unchecked.verification_id
                    )
                    .await
            ),
            Rejection::VerificationNotCompleted
        );
        let student = verified(
            &sandbox,
            &phone(STUDENT_PHONE),
            Purpose::StudentRegistration,
        )
        .await;
        assert_eq!(
            refusal(
                sandbox
                    .create_parent_link(OpKey::random(), &token(DEMO_PARENT_TOKEN), &student)
                    .await
            ),
            Rejection::VerificationNotCompleted,
            "a student's verification does not link a parent"
        );
        let parent = verified(&sandbox, &phone("+79000000009"), Purpose::ParentLink).await;
        for other in [DEMO_CLASS_TOKEN, DEMO_TEACHER_TOKEN, "no-such-invite"] {
            assert_eq!(
                refusal(
                    sandbox
                        .create_parent_link(OpKey::random(), &token(other), &parent)
                        .await
                ),
                Rejection::InviteNotFound,
                "{other}"
            );
        }
        assert!(matches!(
            sandbox
                .create_parent_link(OpKey::random(), &token(DEMO_PARENT_TOKEN), "v-404")
                .await,
            Err(ServiceError::Protocol(_))
        ));
    }

    #[tokio::test]
    async fn an_issued_parent_invitation_links_once_and_expires() {
        let (sandbox, clock) = sandbox();
        let application = apply(&sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await;
        let id = application.application_id;
        sandbox
            .decide(OpKey::random(), &id, "t-7", &Decision::Approve)
            .await
            .expect("approved");
        let once = sandbox
            .create_parent_invite(OpKey::random(), &id)
            .await
            .expect("issued");
        let later = sandbox
            .create_parent_invite(OpKey::random(), &id)
            .await
            .expect("issued");

        let mother = verified(&sandbox, &phone("+79000000001"), Purpose::ParentLink).await;
        sandbox
            .create_parent_link(OpKey::random(), &once.token, &mother)
            .await
            .expect("links");
        let father = verified(&sandbox, &phone("+79000000002"), Purpose::ParentLink).await;
        assert_eq!(
            refusal(
                sandbox
                    .create_parent_link(OpKey::random(), &once.token, &father)
                    .await
            ),
            Rejection::InviteUsed
        );
        assert_eq!(
            refusal(sandbox.resolve_invite(&once.token).await),
            Rejection::InviteUsed
        );

        clock.advance(Duration::days(7));
        let father = verified(&sandbox, &phone("+79000000002"), Purpose::ParentLink).await;
        assert_eq!(
            refusal(
                sandbox
                    .create_parent_link(OpKey::random(), &later.token, &father)
                    .await
            ),
            Rejection::InviteExpired
        );
    }

    #[tokio::test]
    async fn a_parent_link_ends_linked_or_cancelled() {
        let (sandbox, _) = sandbox();
        let mother = verified(&sandbox, &phone("+79000000001"), Purpose::ParentLink).await;
        let confirmed = sandbox
            .create_parent_link(OpKey::random(), &token(DEMO_PARENT_TOKEN), &mother)
            .await
            .expect("links");
        assert_eq!(confirmed.link_id, "l-1");
        let father = verified(&sandbox, &phone("+79000000002"), Purpose::ParentLink).await;
        let cancelled = sandbox
            .create_parent_link(OpKey::random(), &token(DEMO_PARENT_TOKEN), &father)
            .await
            .expect("links");
        assert_eq!(cancelled.link_id, "l-2");

        assert_eq!(
            sandbox
                .confirm_parent_link(OpKey::random(), &confirmed.link_id, true)
                .await,
            Ok(LinkStatus::Linked)
        );
        assert_eq!(
            sandbox
                .confirm_parent_link(OpKey::random(), &cancelled.link_id, false)
                .await,
            Ok(LinkStatus::Cancelled)
        );
        assert_eq!(
            sandbox
                .confirm_parent_link(OpKey::random(), &confirmed.link_id, false)
                .await,
            Ok(LinkStatus::Linked),
            "the first answer is final"
        );
        assert!(matches!(
            sandbox
                .confirm_parent_link(OpKey::random(), "l-404", true)
                .await,
            Err(ServiceError::Protocol(_))
        ));
    }

    #[tokio::test]
    async fn a_student_registers_and_then_links_a_parent() {
        let (sandbox, _) = sandbox();

        // The teacher binds their chat and invites the class.
        let Ok(Invite::Teacher {
            teacher_id,
            classes,
            ..
        }) = sandbox.resolve_invite(&token(DEMO_TEACHER_TOKEN)).await
        else {
            panic!("the teacher invitation resolves to a teacher");
        };
        let class_invite = sandbox
            .create_class_invite(OpKey::random(), &classes[0].class_id, &teacher_id)
            .await
            .expect("issued");
        assert!(matches!(
            sandbox.resolve_invite(&class_invite.token).await,
            Ok(Invite::Class { .. })
        ));

        // The student verifies their own phone and applies.
        let student = sandbox
            .start_verification(
                OpKey::random(),
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration,
            )
            .await
            .expect("starts");
        sandbox
            .check_code(OpKey::random(), &student.verification_id, &code(CODE))
            .await
            .expect("verified");
        let application = sandbox
            .submit_application(
                OpKey::random(),
                &class_invite.token,
                &student.verification_id,
                &child(),
            )
            .await
            .expect("accepted");
        assert_eq!(application.teacher_id, teacher_id);

        // The teacher approves.
        let pending = sandbox
            .pending_applications(&teacher_id)
            .await
            .expect("listed");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            sandbox
                .decide(
                    OpKey::random(),
                    &pending[0].application_id,
                    &teacher_id,
                    &Decision::Approve
                )
                .await,
            Ok(ApplicationStatus::Approved)
        );
        assert_eq!(
            sandbox
                .application_state(&application.application_id)
                .await
                .map(|s| s.status),
            Ok(ApplicationStatus::Approved)
        );

        // The student invites a parent, who verifies their phone and confirms the child.
        let parent_invite = sandbox
            .create_parent_invite(OpKey::random(), &application.application_id)
            .await
            .expect("issued");
        let parent = sandbox
            .start_verification(OpKey::random(), &phone(PARENT_PHONE), Purpose::ParentLink)
            .await
            .expect("starts");
        sandbox
            .check_code(OpKey::random(), &parent.verification_id, &code(CODE))
            .await
            .expect("verified");
        let link = sandbox
            .create_parent_link(
                OpKey::random(),
                &parent_invite.token,
                &parent.verification_id,
            )
            .await
            .expect("links");
        assert_eq!(
            link.child,
            LinkedChild {
                name: "Петров Иван".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
            }
        );
        assert_eq!(
            sandbox
                .confirm_parent_link(OpKey::random(), &link.link_id, true)
                .await,
            Ok(LinkStatus::Linked)
        );
    }
}
