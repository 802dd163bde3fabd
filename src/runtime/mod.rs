//! The runtime: for one update of one chat it loads the session, runs the engine, carries out
//! the engine's effects (service calls whose answers go back into the engine, reminders and
//! notifications into the outbox, teachers' requests through [`desk`], forgetting), saves the
//! session and renders what the bot says into text and buttons for a transport.
//! [`notifier`] delivers what the outbox holds.

pub mod desk;
pub mod notifier;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::directory::{Directory, MemoryDirectory, TrackedApplication};
use crate::engine::{ButtonTarget, Engine, FollowUp, Input, Outcome, Request, Say, Success};
use crate::i18n::{Args, I18nError, Locales};
use crate::notify::memory::MemoryOutbox;
use crate::notify::{IfScheduled, Notice, NoticeKind, Outbox};
use crate::script::vocab::InputKind;
use crate::script::StepRef;
use crate::service::{OpKey, RegistrationService, ServiceError};
use crate::store::{ChatId, Claim, Loaded, SessionStore, StoreError};

/// How many times a turn is retried when another replica saved the same chat meanwhile.
const CONFLICT_RETRIES: usize = 3;
/// How many service calls one update may make (a guard against a looping script).
const MAX_CALLS_PER_UPDATE: usize = 8;
/// An application pending this many working days nudges its teacher once.
const NUDGE_AFTER_WORKING_DAYS: u32 = 2;

/// A button as a transport shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyButton {
    pub label: String,
    pub action: ButtonTarget,
}

/// One message of the bot, ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub text: String,
    pub buttons: Vec<ReplyButton>,
    /// Text to show as a QR code with the message (an invitation link).
    pub qr: Option<String>,
}

impl Reply {
    pub fn text(text: String) -> Self {
        Self {
            text,
            buttons: Vec::new(),
            qr: None,
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
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] I18nError),
}

/// The bot's conversation machinery, shared by every transport.
pub struct Bot {
    engine: Arc<Engine>,
    service: Arc<dyn RegistrationService>,
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    outbox: Arc<dyn Outbox>,
    directory: Arc<dyn Directory>,
    /// One lock per chat: a chat's updates are handled one at a time within this process.
    chat_locks: Mutex<HashMap<ChatId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Bot {
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
            chat_locks: Mutex::new(HashMap::new()),
        }
    }

    /// Where notifications and reminders wait (memory unless set).
    pub fn with_outbox(mut self, outbox: Arc<dyn Outbox>) -> Self {
        self.outbox = outbox;
        self
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

    /// Formats message `id` in `lang`, or logs and returns an empty text (the checker makes
    /// sure the shipped messages exist).
    pub fn text(&self, lang: &str, id: &str, args: &Args) -> String {
        self.engine
            .locales()
            .format(lang, id, args)
            .unwrap_or_else(|error| {
                tracing::error!(%error, "a message failed to format");
                String::new()
            })
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

    fn chat_lock(&self, chat: ChatId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.chat_locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(chat).or_default().clone()
    }

    /// Handles one input of `chat`. `client_lang` is the language the user's client reports,
    /// used for a new conversation.
    pub async fn handle(
        &self,
        chat: ChatId,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Handled, RuntimeError> {
        let lock = self.chat_lock(chat);
        let _guard = lock.lock().await;
        self.retrying(chat, None, client_lang, input).await
    }

    /// Handles one delivered update: with an `update_id` a redelivery is a no-op (`None`);
    /// claiming the id and loading the session take one round trip to the store.
    pub async fn handle_update(
        &self,
        chat: ChatId,
        update_id: Option<i64>,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Option<Handled>, RuntimeError> {
        let lock = self.chat_lock(chat);
        let _guard = lock.lock().await;
        let claimed = match update_id {
            Some(id) => match self.store.claim(chat, id).await? {
                Claim::AlreadyHandled => {
                    tracing::info!(chat, update_id = id, "redelivered update ignored");
                    return Ok(None);
                }
                Claim::New(loaded) => Some(loaded),
            },
            None => None,
        };
        self.retrying(chat, claimed, client_lang, input)
            .await
            .map(Some)
    }

    /// Runs the turn, again (from a fresh load) when another replica saved the chat meanwhile.
    /// `first` is the session already loaded, if any.
    async fn retrying(
        &self,
        chat: ChatId,
        mut first: Option<Option<Loaded>>,
        client_lang: Option<&str>,
        input: Input,
    ) -> Result<Handled, RuntimeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let loaded = match first.take() {
                Some(loaded) => loaded,
                None => self.store.load(chat).await?,
            };
            match self
                .handle_loaded(chat, loaded, client_lang, input.clone())
                .await
            {
                Err(RuntimeError::Store(StoreError::Conflict)) if attempt < CONFLICT_RETRIES => {
                    tracing::info!(chat, attempt, "session changed concurrently; retrying");
                }
                other => return other,
            }
        }
    }

    async fn handle_loaded(
        &self,
        chat: ChatId,
        loaded: Option<Loaded>,
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
                    tracing::warn!(chat, "stored session cannot be decoded; starting again");
                    says.push(Say {
                        message: "session-lost".to_owned(),
                        args: Args::new(),
                        progress: None,
                        buttons: Vec::new(),
                    });
                    let mut fresh = self.new_session(client_lang, now);
                    fresh.fresh = false;
                    (fresh, loaded.revision)
                }
            },
        };
        let mut forget = false;
        let mut input = input;
        let mut consequences = Vec::new();
        let mut desk = Vec::new();
        // Each round but the last makes one call: its number is the call's place in the turn.
        for call in 0..=MAX_CALLS_PER_UPDATE {
            let now = self.clock.now();
            let turn = self.engine.step(session, input, now);
            session = turn.session;
            says.extend(turn.says);
            for follow in turn.after {
                match follow {
                    FollowUp::Forget => forget = true,
                    FollowUp::Desk(request) => desk.push(request),
                    other => consequences.push(other),
                }
            }
            let (Some(request), Some(awaiting)) = (turn.call, session.awaiting.clone()) else {
                break;
            };
            // The same turn from the same saved state always carries the same keys: a repeat
            // after a crash, a conflict or on another replica is the same request.
            let key = OpKey::derive(&chat.to_string(), session.epoch, revision, call);
            let result = perform(self.service.as_ref(), request, key).await;
            match &result {
                // A wrong code or a used invitation is an ordinary answer, not a fault.
                Err(ServiceError::Rejected(rejection)) => {
                    tracing::debug!(chat, op = %awaiting.op, code = rejection.code(), "service refused");
                }
                Err(error) => {
                    tracing::warn!(chat, op = %awaiting.op, %error, "service call failed")
                }
                Ok(_) => {}
            }
            input = Input::Outcome(Outcome {
                op: awaiting.op,
                result,
            });
        }
        for effect in consequences {
            self.follow_up(chat, effect).await;
        }
        if forget {
            self.store.delete(chat).await?;
            self.forget_elsewhere(chat).await?;
            tracing::info!(chat, "forgot the user at their request");
        } else {
            self.store.save(chat, &session, revision).await?;
        }
        let mut replies = says
            .iter()
            .map(|say| render(self.engine.locales(), &session.lang, say))
            .collect::<Result<Vec<_>, _>>()?;
        for request in desk {
            replies.extend(self.carry_out(chat, &session.lang, request).await);
        }
        let step = self.engine.scripts().step(&session.at);
        let seed = step.and_then(|s| s.seed.clone());
        let expects = step.and_then(|s| s.input);
        tracing::debug!(chat, at = %session.at, "turn done");
        Ok(Handled {
            replies,
            at: session.at,
            seed,
            expects,
            lang: session.lang,
        })
    }
}

impl Bot {
    /// Carries out what a turn set in motion beyond the conversation. A failure here is logged
    /// and does not undo the user's progress: teachers still find the application in /pending,
    /// and the pending check notices decisions.
    async fn follow_up(&self, chat: ChatId, follow: FollowUp) {
        let now = self.clock.now();
        let result = match follow {
            FollowUp::Schedule { event, due } => {
                let notice = Notice {
                    id: format!("event:{chat}:{event}"),
                    chat,
                    kind: NoticeKind::Event { event },
                };
                self.outbox
                    .schedule(&notice, due, IfScheduled::Replace)
                    .await
                    .map(drop)
            }
            FollowUp::TeacherBound { teacher_id } => {
                tracing::info!(chat, teacher = %teacher_id, "a teacher bound this chat");
                self.directory.bind_teacher(&teacher_id, chat).await
            }
            FollowUp::ApplicationSubmitted {
                application_id,
                teacher_id,
                class,
                child_name,
            } => {
                self.follow_application(TrackedApplication {
                    application_id,
                    student_chat: chat,
                    teacher_id,
                    class,
                    child_name,
                    submitted_at: now,
                })
                .await
            }
            FollowUp::Forget | FollowUp::Desk(_) => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(chat, %error, "a follow-up of the turn failed");
        }
    }

    /// Follows a new application: its teacher hears of it (after the quiet hours), and is
    /// nudged once if it is still pending after two working days.
    async fn follow_application(&self, application: TrackedApplication) -> Result<(), StoreError> {
        let now = self.clock.now();
        let school = self.engine.school();
        self.directory.track(&application).await?;
        let id = &application.application_id;
        let notice = Notice {
            id: format!("new-application:{id}"),
            chat: application.student_chat,
            kind: NoticeKind::NewApplication {
                application_id: id.clone(),
            },
        };
        self.outbox
            .schedule(&notice, school.outside_quiet_hours(now), IfScheduled::Keep)
            .await?;
        let day = school.add_working_days(school.today(now), NUDGE_AFTER_WORKING_DAYS);
        let nudge_at = school.at_time(day, now.with_timezone(&school.zone).time());
        let nudge = Notice {
            id: format!("still-pending:{id}"),
            chat: application.student_chat,
            kind: NoticeKind::StillPending {
                application_id: id.clone(),
            },
        };
        self.outbox
            .schedule(
                &nudge,
                school.outside_quiet_hours(nudge_at),
                IfScheduled::Keep,
            )
            .await
            .map(drop)
    }

    /// `/forget` beyond the session: the teacher binding and followed applications.
    async fn forget_elsewhere(&self, chat: ChatId) -> Result<(), StoreError> {
        self.directory.forget_chat(chat).await
    }
}

/// Renders one message of the engine in `lang`.
pub fn render(locales: &Locales, lang: &str, say: &Say) -> Result<Reply, I18nError> {
    let mut text = locales.format(lang, &say.message, &say.args)?;
    if let Some((step, total)) = say.progress {
        let mut args = Args::new();
        args.insert("step".into(), (step as i64).into());
        args.insert("total".into(), (total as i64).into());
        let line = locales.format(lang, "progress", &args)?;
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
    Ok(Reply {
        text,
        buttons,
        qr: None,
    })
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
