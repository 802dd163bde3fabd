//! Who is where, across conversations: which chat serves each teacher, and the applications
//! submitted through the bot (whose student to tell, whose teacher to ask). The session store
//! keeps one chat's conversation; this keeps what links chats together.
//!
//! Adapters (in [`crate::backend`]): `MemoryDirectory` (the embedded default) and
//! `RedisDirectory`. Tracked
//! applications hold a child's name (personal data): they expire, and `/forget` removes them.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{ChatKey, StoreError};

/// How long an application is followed (decisions usually come within days).
pub const TRACKING_TTL: Duration = Duration::from_secs(60 * 86_400);

/// An application submitted through the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedApplication {
    pub application_id: String,
    /// The chat of the student who submitted it.
    pub student_chat: ChatKey,
    pub teacher_id: String,
    pub class: String,
    pub child_name: String,
    pub submitted_at: DateTime<Utc>,
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// `chat` serves teacher `teacher_id`, unless another chat already does: the first chat to
    /// open a teacher's link keeps it (a forwarded link takes nothing over).
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatKey) -> Result<Binding, StoreError>;
    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatKey>, StoreError>;
    /// Whether `chat` acts for the teacher: their bound chat, or one it connected.
    async fn serves(&self, teacher_id: &str, chat: ChatKey) -> Result<bool, StoreError>;
    /// The bound chat connected `chat` too.
    async fn allow_chat(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError>;
    /// `chat` no longer serves the teacher (`/unbind`).
    async fn unbind(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError>;
    async fn track(&self, application: &TrackedApplication) -> Result<(), StoreError>;
    async fn tracked(&self, application_id: &str)
        -> Result<Option<TrackedApplication>, StoreError>;
    /// Every application still followed.
    async fn all_tracked(&self) -> Result<Vec<TrackedApplication>, StoreError>;
    async fn untrack(&self, application_id: &str) -> Result<(), StoreError>;
    /// The parent invitation `token` was issued from `chat` (a student's), so the child hears
    /// when a parent links with it.
    async fn issued_from(&self, token: &str, chat: ChatKey) -> Result<(), StoreError>;
    /// The chat a parent invitation was issued from, if the bot issued it.
    async fn issuer_of(&self, token: &str) -> Result<Option<ChatKey>, StoreError>;
    /// Forgets `chat`: its teacher binding, the applications its student submitted and the
    /// parent invitations it issued.
    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError>;
}

/// What [`Directory::bind_teacher`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The chat serves the teacher (now, or already).
    Bound,
    /// Another chat serves the teacher: nothing changed.
    Taken { by: ChatKey },
}
