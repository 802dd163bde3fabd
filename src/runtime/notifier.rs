//! The notifier: delivers what the outbox holds once it is due, through a [`Courier`] (the
//! messenger of each chat), within that messenger's limits for messages the bot sends on its
//! own ([`Pace`]). A notice is acknowledged only once delivered,
//! so one that fails (Telegram down, the bot stopped) is handed out again later. It also asks
//! the service, now and then, about the applications it follows, to notice decisions made
//! outside the bot.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::engine::Input;
use crate::notify::{IfScheduled, Notice, NoticeKind};
use crate::service::ApplicationStatus;
use crate::store::{Channel, ChatKey, StoreError};

use super::desk::application_card;
use super::{Assistant, Reply};
use crate::script::Msg;

fn retry(error: impl std::fmt::Display) -> Undelivered {
    Undelivered::Retry(error.to_string())
}

/// Notices handled in one pass.
const BATCH: usize = 20;
/// A notice claimed this long ago and not acknowledged was lost by its consumer (it crashed).
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Why a message did not reach its chat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undelivered {
    /// It may go through later (Telegram down, a network error): try again.
    #[error("not delivered for now: {0}")]
    Retry(String),
    /// It never will (the user blocked the bot, the chat is gone): give up on it.
    #[error("undeliverable: {0}")]
    Never(String),
}

/// Delivers a message to a chat.
#[async_trait]
pub trait Courier: Send + Sync {
    async fn send(&self, chat: ChatKey, reply: &Reply) -> Result<(), Undelivered>;
}

pub struct Notifier {
    bot: Arc<Assistant>,
    courier: Arc<dyn Courier>,
    /// This replica's name in the consumer group.
    consumer: String,
    telegram: Pace,
    max: Pace,
}

/// How fast the bot may send on its own in one messenger.
struct Pace {
    overall: Option<DefaultDirectRateLimiter>,
    per_chat: Option<DefaultKeyedRateLimiter<ChatKey>>,
}

impl Pace {
    fn of(channel: Channel) -> Self {
        let per_second = |n: u32| Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        match channel {
            // About 30 messages a second in all and 1 a second per chat (Telegram's Bot FAQ).
            Channel::Telegram => Self {
                overall: Some(RateLimiter::direct(per_second(30))),
                per_chat: Some(RateLimiter::keyed(per_second(1))),
            },
            // 30 requests a second, every call counted: the MAX client holds every call it
            // makes (polls and replies too) to that, so nothing more is needed here. MAX
            // documents no limit per chat.
            Channel::Max => Self {
                overall: None,
                per_chat: None,
            },
        }
    }

    async fn wait(&self, chat: ChatKey) {
        if let Some(overall) = &self.overall {
            overall.until_ready().await;
        }
        if let Some(per_chat) = &self.per_chat {
            per_chat.until_key_ready(&chat).await;
        }
    }
}

impl Notifier {
    pub fn new(
        bot: Arc<Assistant>,
        courier: Arc<dyn Courier>,
        consumer: impl Into<String>,
    ) -> Self {
        Self {
            bot,
            courier,
            consumer: consumer.into(),
            telegram: Pace::of(Channel::Telegram),
            max: Pace::of(Channel::Max),
        }
    }

    /// Delivers every notice that is due; returns how many were delivered.
    pub async fn deliver_due(&self) -> Result<usize, StoreError> {
        let now = self.bot.clock.now();
        let claimed = self
            .bot
            .outbox
            .claim_due(now, &self.consumer, BATCH, STALE_AFTER)
            .await?;
        let mut delivered = 0;
        for notice in claimed {
            match self.deliver(&notice.notice).await {
                Ok(sent) => {
                    delivered += sent;
                    self.bot.outbox.ack(&notice).await?;
                }
                Err(Undelivered::Never(error)) => {
                    tracing::info!(id = %notice.notice.id, %error, "a notice cannot be delivered; dropped");
                    self.bot.outbox.ack(&notice).await?;
                }
                // Left unacknowledged: handed out again after STALE_AFTER.
                Err(error) => {
                    tracing::warn!(id = %notice.notice.id, %error, "a notice was not delivered")
                }
            }
        }
        Ok(delivered)
    }

    /// Delivers one notice; returns how many messages went out.
    async fn deliver(&self, notice: &Notice) -> Result<usize, Undelivered> {
        match &notice.kind {
            NoticeKind::Event { event } => {
                let handled = self
                    .bot
                    .handle(notice.chat, None, Input::Event(event.clone()))
                    .await
                    .map_err(retry)?;
                let sent = self.send_all(notice.chat, &handled.replies).await?;
                self.bot.delivered(&handled).await;
                Ok(sent)
            }
            // A committed turn's replies whose process did not deliver them (it died, or
            // Telegram would not take them in time).
            NoticeKind::Replies { replies } => self.send_all(notice.chat, replies).await,
            NoticeKind::NewApplication { application_id } => {
                self.to_teacher(notice, application_id, Msg::TeacherNewApplication, false)
                    .await
            }
            NoticeKind::StillPending { application_id } => {
                self.to_teacher(notice, application_id, Msg::TeacherStillPending, true)
                    .await
            }
        }
    }

    /// Tells an application's teacher about it, outside the quiet hours.
    async fn to_teacher(
        &self,
        notice: &Notice,
        application_id: &str,
        message: Msg,
        only_if_pending: bool,
    ) -> Result<usize, Undelivered> {
        let bot = &self.bot;
        let Some(app) = bot.directory.tracked(application_id).await.map_err(retry)? else {
            return Ok(0); // decided meanwhile
        };
        let now = bot.clock.now();
        let school = bot.engine.school();
        if school.is_quiet(now) {
            // Late: wait for the morning again (a new id, so this delivery can be acked).
            let later = Notice {
                id: format!("{}@{}", notice.id, school.today(now)),
                ..notice.clone()
            };
            bot.outbox
                .schedule(&later, school.outside_quiet_hours(now), IfScheduled::Keep)
                .await
                .map_err(retry)?;
            return Ok(0);
        }
        if only_if_pending {
            let call = bot.service.application_state(application_id);
            match bot.metered("check_application", call).await {
                Ok(state) if state.status != ApplicationStatus::Pending => {
                    bot.tell_student(Some(&app)).await;
                    return Ok(0);
                }
                Ok(_) => {}
                Err(error) => return Err(retry(error)),
            }
        }
        let Some(teacher_chat) = bot
            .directory
            .teacher_chat(&app.teacher_id)
            .await
            .map_err(retry)?
        else {
            tracing::info!(
                application = application_id,
                "the teacher has not bound a chat yet"
            );
            return Ok(0);
        };
        let lang = bot.language_of(teacher_chat).await;
        let card = application_card(message, application_id, &app.child_name, &app.class);
        // A message that does not render is a bug: it stays in the outbox, never sent empty.
        let card = bot.render(&lang, &card).map_err(retry)?;
        self.send_all(teacher_chat, &[card]).await
    }

    async fn send_all(&self, chat: ChatKey, replies: &[Reply]) -> Result<usize, Undelivered> {
        for reply in replies {
            let pace = match chat.channel {
                Channel::Telegram => &self.telegram,
                Channel::Max => &self.max,
            };
            pace.wait(chat).await;
            crate::transport::send_counted(&self.bot, self.courier.as_ref(), chat, reply).await?;
        }
        Ok(replies.len())
    }

    /// Asks the service about every application the bot follows; a decided one (by a school
    /// administrator, outside the bot) is told to its student. Returns how many were decided.
    pub async fn check_decisions(&self) -> Result<usize, StoreError> {
        let mut decided = 0;
        for app in self.bot.directory.all_tracked().await? {
            match self
                .bot
                .metered(
                    "check_application",
                    self.bot.service.application_state(&app.application_id),
                )
                .await
            {
                Ok(state) if state.status != ApplicationStatus::Pending => {
                    self.bot.tell_student(Some(&app)).await;
                    decided += 1;
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(application = %app.application_id, %error, "could not check an application");
                }
            }
        }
        Ok(decided)
    }

    /// Runs until `stop` completes: delivers due notices every `tick`, checks decisions every
    /// `check_every`.
    pub async fn run(
        self,
        tick: Duration,
        check_every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut ticker = tokio::time::interval(tick);
        let mut checker = tokio::time::interval(check_every);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticker.tick() => {
                    if let Err(error) = self.deliver_due().await {
                        tracing::warn!(%error, "the outbox could not be read");
                    }
                }
                _ = checker.tick() => {
                    if let Err(error) = self.check_decisions().await {
                        tracing::warn!(%error, "applications could not be checked");
                    }
                }
            }
        }
    }
}
