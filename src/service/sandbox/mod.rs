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
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use self::state::State;
#[cfg(doc)]
use super::RegistrationService;
use super::{OpKey, Rejection, ServiceError};
use crate::clock::Clock;

mod invites;
mod operations;
mod state;

#[cfg(test)]
mod tests;

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

fn rejected(rejection: Rejection) -> ServiceError {
    ServiceError::Rejected(rejection)
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
