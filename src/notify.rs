//! Messages the bot sends on its own: teacher notifications, decisions told to students,
//! reminders. They go through a durable outbox so that nothing is lost while the bot or
//! Telegram is down, and each is delivered once even with several replicas.
//!
//! Adapters: [`MemoryOutbox`](crate::backend::memory::MemoryOutbox) (the embedded default) and [`RedisOutbox`](crate::backend::redis::RedisOutbox)
//! (a sorted set of scheduled notices feeding a Redis Stream read by a consumer group).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{ChatKey, StoreError};

/// Something to tell a chat, at or after a given time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique per logical notice (e.g. `new-application:a-1`): scheduling the same id twice
    /// (for the same chat: on a Redis Cluster the chat says where a notice is kept) keeps one
    /// notice.
    pub id: String,
    pub chat: ChatKey,
    pub kind: NoticeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeKind {
    /// Run an event through the chat's conversation (a decision, a reminder) and deliver what
    /// the bot says.
    Event { event: String },
    /// Tell the class teacher about a new application, with decision buttons.
    NewApplication { application_id: String },
    /// Remind the class teacher of an application still waiting for a decision.
    StillPending { application_id: String },
    /// What a committed turn said, kept until it is delivered: the process that ran the turn
    /// sends it at once and cancels this; if it dies first, any replica delivers it once due.
    Replies { replies: Vec<crate::runtime::Reply> },
}

/// How [`Outbox::schedule`] treats a notice whose id is already scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfScheduled {
    /// Keep the existing one (its time too): "once".
    Keep,
    /// Move it to the new time (and payload): "the latest wins".
    Replace,
}

/// A notice handed to one consumer; ack it once delivered, or it is handed out again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub notice: Notice,
    /// The adapter's handle for [`Outbox::ack`] (a stream entry id, …).
    pub receipt: String,
}

/// What waits in the outbox now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub due: usize,
    pub oldest_due: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Schedules `notice` for `due`. Returns true when it was newly scheduled (or replaced).
    async fn schedule(
        &self,
        notice: &Notice,
        due: DateTime<Utc>,
        if_scheduled: IfScheduled,
    ) -> Result<bool, StoreError>;
    /// Drops `chat`'s scheduled notice `id` that is not yet due (no-op when there is none).
    async fn cancel(&self, chat: ChatKey, id: &str) -> Result<(), StoreError> {
        self.cancel_all(&[(chat, id)]).await
    }
    /// Drops the scheduled notices `(chat, id)` at once (one round trip on one Redis), as
    /// [`Outbox::cancel`] drops one.
    async fn cancel_all(&self, notices: &[(ChatKey, &str)]) -> Result<(), StoreError>;
    /// Notices due at `now`, claimed by `consumer`: newly due ones, and ones another consumer
    /// claimed more than `stale_after` ago without acking (it crashed). At most `max`.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        consumer: &str,
        max: usize,
        stale_after: std::time::Duration,
    ) -> Result<Vec<Claimed>, StoreError>;
    /// The notice was delivered (or is no longer wanted): never hand it out again.
    async fn ack(&self, claimed: &Claimed) -> Result<(), StoreError>;
    /// How many notices are scheduled and not yet claimed (for tests and operations).
    async fn scheduled_count(&self) -> Result<usize, StoreError>;
    /// The notices due at `now` and not yet claimed, and when the oldest of them fell due:
    /// what the operators watch (reminders scheduled for tomorrow are not a backlog).
    async fn backlog(&self, now: DateTime<Utc>) -> Result<Backlog, StoreError>;
    /// Drops every notice of `chat`, scheduled or in flight (`/forget`). Returns how many.
    async fn forget_chat(&self, chat: ChatKey) -> Result<usize, StoreError>;
}
