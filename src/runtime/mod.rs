//! The runtime: one update of one chat is one transaction. It loads the session, drives the
//! engine (service calls, with derived idempotency keys and the code limits, whose answers go
//! back into the engine), renders what the bot says, commits the session, the update id and
//! the replies in one write, then carries out what follows (`follow`: reminders, teachers,
//! applications, forgetting; [`desk`]: teachers' requests) and hands the replies to a
//! transport, which reports them [`Assistant::delivered`]. [`notifier`] delivers what the outbox
//! holds, the replies of a process that died among them.

pub mod desk;
mod drops;
mod follow;
pub mod messengers;
pub mod notifier;
mod recent;
mod reply;
mod turns;

pub use reply::{render, Handled, Reply, ReplyButton};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::backend::memory::{MemoryDirectory, MemoryLimits, MemoryOutbox};
use crate::clock::Clock;
use crate::directory::{Binding, Directory, TrackedApplication};
use crate::engine::{Engine, FollowUp, Heard, Input, Outcome, Request, Say, Success};
use crate::i18n::{Args, I18nError};
use crate::limits::{AddressTag, CodeLimits, Limits, TryAgainIn};
use crate::notify::{IfScheduled, Notice, NoticeKind, Outbox};
use crate::ops::funnel;
use crate::ops::metrics::{CallOutcome, Metrics};
use crate::script::Msg;
use crate::service::{OpKey, RegistrationService, Rejection, ServiceError};
use crate::store::{ChatKey, Claim, Commit, Keep, Loaded, SessionStore, StoreError, Tally};

/// How many times a turn is retried when another replica saved the same chat meanwhile.
const CONFLICT_RETRIES: usize = 3;
/// How many service calls one update may make (a guard against a looping script).
const MAX_CALLS_PER_UPDATE: usize = 8;
/// Flood control: the sustained rate of updates one chat may send, and the burst.
pub const FLOOD_PER_SECOND: u32 = 1;
pub const FLOOD_BURST: u32 = 5;
/// A flooding chat is told to slow down at most once in this many seconds.
const FLOOD_QUIET_SECS: i64 = 30;

fn flood_quota(per_second: u32, burst: u32) -> governor::Quota {
    let nonzero = |n: u32| std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN);
    governor::Quota::per_second(nonzero(per_second)).allow_burst(nonzero(burst))
}

/// What [`Assistant::admit`] decides about one more update of a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Over the rate: say «слишком много сообщений, подождите немного» once, do nothing else.
    Warn,
    /// Over the rate and told already: drop it.
    Drop,
}

/// How long a committed turn's replies wait for the process that ran it before any replica
/// delivers them: well above the time a send may take, 429 waits included.
pub const REPLY_GRACE: chrono::Duration = chrono::Duration::minutes(2);
/// An application pending this many working days nudges its teacher once.
const NUDGE_AFTER_WORKING_DAYS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] I18nError),
}

/// The bot behind every transport: it runs each update as one transaction (the engine, the
/// service, the commit) and then what follows it. Named apart from `teloxide::Bot`, the
/// Telegram client.
pub struct Assistant {
    engine: Arc<Engine>,
    service: Arc<dyn RegistrationService>,
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    outbox: Arc<dyn Outbox>,
    directory: Arc<dyn Directory>,
    /// Limits on verification codes per chat and per address.
    limits: Arc<dyn Limits>,
    /// The key of the address tags of the code limits (`LIMIT_KEY`).
    limit_key: Vec<u8>,
    /// Updates a chat may send before the rest are dropped (flood control), in this process.
    flood: governor::DefaultKeyedRateLimiter<ChatKey>,
    /// When each flooding chat was last told to slow down.
    flood_told: Mutex<HashMap<ChatKey, chrono::DateTime<chrono::Utc>>>,
    /// One turn at a time per chat: a chat's updates are handled one at a time within this
    /// process.
    turns: turns::TurnLocks,
    /// What operators see in `/metrics`.
    metrics: Arc<Metrics>,
    /// Delivered replies waiting to be dropped from the outbox, many in one round trip.
    drops: drops::Drops,
    /// The sessions this process committed last: the next update of the chat skips the read.
    recent: recent::Recent,
}

impl Assistant {
    pub fn new(
        engine: Arc<Engine>,
        service: Arc<dyn RegistrationService>,
        store: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            engine,
            service,
            store,
            clock,
            outbox: Arc::new(MemoryOutbox::default()),
            directory: Arc::new(MemoryDirectory::new()),
            limits: Arc::new(MemoryLimits::new(CodeLimits::default())),
            limit_key: b"sferum-bot".to_vec(),
            flood: governor::RateLimiter::keyed(flood_quota(FLOOD_PER_SECOND, FLOOD_BURST)),
            flood_told: Mutex::new(HashMap::new()),
            turns: turns::TurnLocks::default(),
            metrics: Arc::new(Metrics::default()),
            drops: drops::Drops::default(),
            recent: recent::Recent::new(recent::CAPACITY, recent::LIFETIME),
        }
    }

    /// The metrics this assistant keeps.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The time now, by this assistant's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Runs one service call, counting it by operation and outcome, with its latency.
    pub(crate) async fn metered<T>(
        &self,
        operation: &str,
        call: impl std::future::Future<Output = Result<T, ServiceError>>,
    ) -> Result<T, ServiceError> {
        let started = std::time::Instant::now();
        let result = call.await;
        let outcome = match &result {
            Ok(_) => CallOutcome::Ok,
            Err(ServiceError::Rejected(_)) => CallOutcome::Refused,
            Err(ServiceError::Unavailable(_)) => CallOutcome::Unavailable,
            Err(ServiceError::Protocol(_)) => CallOutcome::Error,
        };
        self.metrics
            .service_call(operation, outcome, started.elapsed());
        result
    }

    /// Where notifications and reminders wait (memory unless set).
    pub fn with_outbox(mut self, outbox: Arc<dyn Outbox>) -> Self {
        self.outbox = outbox;
        self
    }

    /// The limits on verification codes (memory, with the default limits, unless set) and the
    /// key their address tags are made with.
    pub fn with_limits(mut self, limits: Arc<dyn Limits>, key: &[u8]) -> Self {
        self.limits = limits;
        self.limit_key = key.to_vec();
        self
    }

    /// Flood control at `per_second` updates a second per chat, bursts of `burst`.
    pub fn with_flood_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.flood = governor::RateLimiter::keyed(flood_quota(per_second, burst));
        self
    }

    /// Whether `chat` may send another update now (at most [`FLOOD_PER_SECOND`] a second in a
    /// sustained flow, bursts of [`FLOOD_BURST`]). Past it, the first update is answered once
    /// with a calm «подождите» and the rest are dropped before any service call or session
    /// write.
    pub fn admit(&self, chat: ChatKey) -> Admission {
        if self.flood.check_key(&chat).is_ok() {
            return Admission::Go;
        }
        let now = self.clock.now();
        let mut told = self.flood_told.lock().unwrap_or_else(|e| e.into_inner());
        if told.len() > 10_000 {
            told.retain(|_, at| now - *at < chrono::Duration::minutes(1));
        }
        let recently = told
            .get(&chat)
            .is_some_and(|at| now - *at < chrono::Duration::seconds(FLOOD_QUIET_SECS));
        tracing::warn!(
            event = "flood",
            told = !recently,
            "a chat sends faster than allowed"
        );
        if recently {
            Admission::Drop
        } else {
            told.insert(chat, now);
            Admission::Warn
        }
    }

    /// Where teachers and followed applications are kept (memory unless set).
    pub fn with_directory(mut self, directory: Arc<dyn Directory>) -> Self {
        self.directory = directory;
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn outbox(&self) -> &Arc<dyn Outbox> {
        &self.outbox
    }

    pub fn directory(&self) -> &Arc<dyn Directory> {
        &self.directory
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Renders `say` in `lang`: every message of the bot passes here. A message that does not
    /// render is an error for the caller, never an empty message.
    pub fn render(&self, lang: &str, say: &Say) -> Result<Reply, I18nError> {
        render(self.engine.locales(), lang, say)
    }

    /// Renders `says` in `lang`, in order.
    pub fn render_all(&self, lang: &str, says: &[Say]) -> Result<Vec<Reply>, I18nError> {
        says.iter().map(|say| self.render(lang, say)).collect()
    }

    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    pub fn service(&self) -> &Arc<dyn RegistrationService> {
        &self.service
    }

    /// A new conversation, with its own epoch for the keys of its service calls.
    fn new_session(
        &self,
        client_lang: Option<&str>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> crate::engine::Session {
        let mut session = self.engine.new_session(client_lang, now);
        session.epoch = rand::random();
        session
    }

    /// Handles one input of `chat`. `client_lang` is the language the user's client reports,
    /// used for a new conversation.
    pub async fn handle(
        &self,
        chat: ChatKey,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Handled, RuntimeError> {
        self.handle_update(chat, None, client_lang, input)
            .await?
            .ok_or_else(|| {
                RuntimeError::Store(StoreError::Unavailable(
                    "an input without an update id was taken for a redelivery".to_owned(),
                ))
            })
    }

    /// Handles one delivered update as one transaction: load, drive the engine (service calls
    /// with derived idempotency keys), commit the session, the update id and the replies in one
    /// write, then carry out what follows. A redelivery of a committed update is a no-op
    /// (`None`); an update whose turn never committed (a crash) runs again, with the same keys.
    /// When another replica committed the chat meanwhile the turn runs again from the new state.
    pub async fn handle_update(
        &self,
        chat: ChatKey,
        update_id: Option<i64>,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Option<Handled>, RuntimeError> {
        let started = std::time::Instant::now();
        let handled = self
            .handle_update_once(chat, update_id, client_lang, input)
            .await;
        match &handled {
            Ok(_) => self.metrics.turn(chat.channel, started.elapsed()),
            Err(RuntimeError::Store(_)) => self.metrics.store_error("turn"),
            Err(_) => {}
        }
        handled
    }

    async fn handle_update_once(
        &self,
        chat: ChatKey,
        update_id: Option<i64>,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Option<Handled>, RuntimeError> {
        let _turn = self.turns.hold(chat).await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let redelivered = || {
                tracing::info!(chat = %chat, ?update_id, "redelivered update ignored");
                Ok(None)
            };
            let (loaded, guessed) = match self.recent.take(chat, update_id) {
                recent::Look::Handled => return redelivered(),
                recent::Look::Hit(loaded) => (Some(loaded), true),
                recent::Look::Miss => match self.store.claim(chat, update_id).await? {
                    Claim::AlreadyHandled => return redelivered(),
                    Claim::New(loaded) => (loaded, false),
                },
            };
            match self
                .handle_loaded(chat, loaded, guessed, update_id, client_lang, input.clone())
                .await
            {
                Err(RuntimeError::Store(StoreError::Conflict)) if attempt < CONFLICT_RETRIES => {
                    tracing::info!(chat = %chat, attempt, "session changed concurrently; retrying");
                }
                other => return other.map(Some),
            }
        }
    }

    /// A code request past a limit: the refusal the person hears (the service is not called).
    async fn code_limit(
        &self,
        chat: ChatKey,
        request: &Request,
        session: &crate::engine::Session,
        key: OpKey,
    ) -> Result<Option<ServiceError>, StoreError> {
        let address = match request {
            Request::StartVerification { address, .. } => address.as_str().to_owned(),
            Request::ResendCode { .. } => {
                match (&session.facts.parent_phone, &session.facts.contact) {
                    (Some(phone), _) => phone.as_str().to_owned(),
                    (None, Some(contact)) => contact.as_str().to_owned(),
                    (None, None) => return Ok(None),
                }
            }
            _ => return Ok(None),
        };
        let tag = AddressTag::of(&address, &self.limit_key);
        match self
            .limits
            .take_code(chat, &tag, key, self.clock.now())
            .await?
        {
            Ok(()) => Ok(None),
            Err(TryAgainIn(wait)) => {
                tracing::warn!(
                    event = "code_limit",
                    wait_secs = wait.as_secs(),
                    "a code request over the limit was refused"
                );
                Ok(Some(ServiceError::Rejected(Rejection::TooManyRequests {
                    retry_after_secs: wait.as_secs().max(1),
                })))
            }
        }
    }

    /// The replies of a turn were delivered: the notice keeping them is dropped, together
    /// with the ones other chats delivered meanwhile ([`drops`]).
    pub async fn delivered(&self, handled: &Handled) {
        if let Some((chat, id)) = &handled.kept_as {
            if let drops::Dropped::Batch {
                n,
                result: Err(error),
            } = self.drops.remove(self.outbox.as_ref(), *chat, id).await
            {
                tracing::warn!(%error, replies = n, "delivered replies stay in the outbox; they may come twice");
            }
        }
    }

    /// The turn of `input` from `loaded`; `guessed` when `loaded` came from [`recent`] rather
    /// than the store (then the store is read before any service call, and a difference is a
    /// conflict).
    async fn handle_loaded(
        &self,
        chat: ChatKey,
        loaded: Option<Loaded>,
        mut guessed: bool,
        update_id: Option<i64>,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Handled, RuntimeError> {
        let now = self.clock.now();
        let mut says = Vec::new();
        let (mut session, revision) = match loaded {
            None => (self.new_session(client_lang, now), 0),
            Some(loaded) => match loaded.session {
                Some(session) => (session, loaded.revision),
                None => {
                    tracing::warn!(chat = %chat, "stored session cannot be decoded; starting again");
                    says.push(Say::plain(Msg::SessionLost));
                    let mut fresh = self.new_session(client_lang, now);
                    fresh.fresh = false;
                    (fresh, loaded.revision)
                }
            },
        };
        session.channel = chat.channel;
        let (before, seen) = (session.at.clone(), session.history.clone());
        let mut trail = Vec::new();
        let mut heard = None;
        let mut stalled = None;
        let mut forget = false;
        let mut input = input;
        let mut consequences = Vec::new();
        let mut desk = Vec::new();
        let mut scheduled = Vec::new();
        // Each round but the last makes one call: its number is the call's place in the turn.
        for call in 0..=MAX_CALLS_PER_UPDATE {
            let now = self.clock.now();
            let turn = self.engine.take_turn(session, input, now);
            session = turn.session;
            says.extend(turn.says);
            trail.extend(turn.trail);
            heard = turn.heard.or(heard);
            stalled = turn.stalled.or(stalled);
            for follow in turn.after {
                match follow {
                    FollowUp::Forget => forget = true,
                    FollowUp::Desk(request) => desk.push(request),
                    FollowUp::Schedule { event, due } => scheduled.push((event, due)),
                    other => consequences.push(other),
                }
            }
            let (Some(request), Some(awaiting)) = (turn.call, session.awaiting.clone()) else {
                break;
            };
            // No service call is made from a guess: the stored session must be the one the
            // turn started from.
            if std::mem::take(&mut guessed) {
                match self.store.claim(chat, update_id).await? {
                    Claim::New(Some(stored)) if stored.revision == revision => {}
                    _ => return Err(RuntimeError::Store(StoreError::Conflict)),
                }
            }
            // The same turn from the same saved state always carries the same keys: a repeat
            // after a crash, a conflict or on another replica is the same request.
            let key = OpKey::derive(&chat.to_string(), session.epoch, revision, call);
            let result = match self.code_limit(chat, &request, &session, key).await? {
                Some(refused) => Err(refused),
                None => {
                    let operation = awaiting.op.to_string();
                    self.metered(&operation, perform(self.service.as_ref(), request, key))
                        .await
                }
            };
            match &result {
                // A wrong code or a used invitation is an ordinary answer, not a fault.
                Err(ServiceError::Rejected(rejection)) => {
                    tracing::debug!(chat = %chat, op = %awaiting.op, code = rejection.code(), "service refused");
                }
                Err(error) => {
                    tracing::warn!(chat = %chat, op = %awaiting.op, %error, "service call failed")
                }
                Ok(_) => {}
            }
            input = Input::Outcome(Outcome {
                op: awaiting.op,
                result,
            });
        }
        let step = self.engine.scripts().step(&session.at);
        let mut replies = self.render_all(&session.lang, &says)?;
        let mut kept_as = None;
        let mut committed_as = None;
        if forget {
            self.recent.forget(chat);
            self.store.delete(chat).await?;
            self.forget_elsewhere(chat).await?;
            tracing::info!(chat = %chat, "forgot the user at their request");
        } else {
            // The replies, until delivered, and what the turn schedules are committed with it.
            let mut notices: Vec<(Notice, chrono::DateTime<chrono::Utc>)> = scheduled
                .into_iter()
                .map(|(event, due)| (event_notice(chat, event), due))
                .collect();
            if !replies.is_empty() {
                let notice = Notice {
                    id: format!("replies:{chat}:{}:{revision}", session.epoch),
                    chat,
                    kind: NoticeKind::Replies {
                        replies: replies.clone(),
                    },
                };
                kept_as = Some((chat, notice.id.clone()));
                notices.push((notice, now + REPLY_GRACE));
            }
            let commit = Commit {
                session: &session,
                expected: revision,
                update_id,
                notices: notices
                    .iter()
                    .map(|(notice, due)| Keep { notice, due: *due })
                    .collect(),
                tally: Tally {
                    day: Some(self.engine.school().day_of(now)),
                    counts: funnel::count(&before, &seen, &trail, stalled.as_ref()),
                    unmatched: match &heard {
                        Some(Heard::NotUnderstood { question }) => Some(question.clone()),
                        _ => None,
                    },
                },
            };
            let committed = self.store.commit(chat, &commit).await?;
            committed_as = Some(committed.revision);
            // Counted once committed: a conflict's retry does not count twice.
            for at in &trail {
                self.metrics.step_entered(at);
            }
            if let Some(heard) = &heard {
                self.metrics.free_text(heard.outcome());
            }
            if !committed.notices_kept {
                for (notice, due) in &notices {
                    self.outbox
                        .schedule(notice, *due, IfScheduled::Replace)
                        .await?;
                }
            }
        }
        let mut more = Vec::new();
        for follow in consequences {
            more.extend(self.follow_up(chat, follow).await);
        }
        for request in desk {
            more.extend(self.carry_out(chat, request).await);
        }
        replies.extend(self.render_all(&session.lang, &more)?);
        let seed = step.and_then(|s| s.seed.clone());
        let expects = step.and_then(|s| s.input);
        tracing::debug!(chat = %chat, at = %session.at, "turn done");
        let handled = Handled {
            replies,
            at: session.at.clone(),
            seed,
            expects,
            lang: session.lang.clone(),
            kept_as,
        };
        if let Some(revision) = committed_as {
            self.recent.keep(chat, session, revision, update_id);
        }
        Ok(handled)
    }
}

/// Sends `request` to the service as the logical operation `key`.
pub async fn perform(
    service: &dyn RegistrationService,
    request: Request,
    key: OpKey,
) -> Result<Success, ServiceError> {
    Ok(match request {
        Request::ResolveInvite(token) => Success::Invite(service.resolve_invite(&token).await?),
        Request::StartVerification { address, purpose } => {
            Success::Verification(service.start_verification(key, &address, purpose).await?)
        }
        Request::ResendCode { verification_id } => {
            Success::Verification(service.resend_code(key, &verification_id).await?)
        }
        Request::CheckCode {
            verification_id,
            code,
        } => {
            service.check_code(key, &verification_id, &code).await?;
            Success::Verified
        }
        Request::SubmitApplication {
            invite,
            verification_id,
            child,
        } => Success::Application(
            service
                .submit_application(key, &invite, &verification_id, &child)
                .await?,
        ),
        Request::ApplicationState { application_id } => {
            Success::ApplicationState(service.application_state(&application_id).await?)
        }
        Request::CreateParentInvite { application_id } => {
            Success::ParentInvite(service.create_parent_invite(key, &application_id).await?)
        }
        Request::CreateParentLink {
            invite,
            verification_id,
        } => Success::ParentLink(
            service
                .create_parent_link(key, &invite, &verification_id)
                .await?,
        ),
        Request::ConfirmParentLink { link_id, confirmed } => Success::LinkStatus(
            service
                .confirm_parent_link(key, &link_id, confirmed)
                .await?,
        ),
    })
}

/// The notice that runs `event` in `chat`'s conversation when due: one per chat and event, so
/// scheduling it again moves it.
fn event_notice(chat: ChatKey, event: String) -> Notice {
    Notice {
        id: format!("event:{chat}:{event}"),
        chat,
        kind: NoticeKind::Event { event },
    }
}
