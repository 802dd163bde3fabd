//! The session store port: where conversations live between updates, and the memory of which
//! updates were already handled.
//!
//! Adapters: [`memory::MemoryStore`] (the embedded default) and [`redis::RedisStore`] (sessions
//! in Redis, shared by replicas and kept across restarts).

pub mod memory;
pub mod redis;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::engine::Session;

/// Which conversation: a Telegram chat id, or the terminal's own.
pub type ChatId = i64;

/// A stored session's revision; 0 means "nothing stored".
pub type Revision = u64;

/// A session as found in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// `None` when something is stored but cannot be decoded (corrupt, or from an incompatible
    /// version): the caller starts again politely.
    pub session: Option<Session>,
    pub revision: Revision,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached now; the caller apologises and the user retries later.
    #[error("the session store is unavailable: {0}")]
    Unavailable(String),
    /// Someone else saved the session since it was loaded.
    #[error("the session was changed concurrently")]
    Conflict,
}

/// A session as every store keeps it: JSON.
pub fn encode(session: &Session) -> Result<String, StoreError> {
    serde_json::to_string(session)
        .map_err(|e| StoreError::Unavailable(format!("cannot encode the session: {e}")))
}

/// What [`SessionStore::claim`] found.
// A claim lives for one update and is unpacked at once: boxing the session would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The update was handled before (a redelivery): do nothing.
    AlreadyHandled,
    /// A new update, and the chat's session if there is one.
    New(Option<Loaded>),
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Marks `update_id` as seen and loads the session of `chat`. Adapters that can do both in
    /// one round trip override this.
    async fn claim(&self, chat: ChatId, update_id: i64) -> Result<Claim, StoreError> {
        if self.first_delivery(update_id).await? {
            Ok(Claim::New(self.load(chat).await?))
        } else {
            Ok(Claim::AlreadyHandled)
        }
    }

    /// The session of `chat`, if any.
    async fn load(&self, chat: ChatId) -> Result<Option<Loaded>, StoreError>;
    /// Saves `session` if the stored revision is still `expected`; returns the new revision.
    async fn save(
        &self,
        chat: ChatId,
        session: &Session,
        expected: Revision,
    ) -> Result<Revision, StoreError>;
    /// Forgets everything about `chat`.
    async fn delete(&self, chat: ChatId) -> Result<(), StoreError>;
    /// True the first time `update_id` is seen; false for a redelivery.
    async fn first_delivery(&self, update_id: i64) -> Result<bool, StoreError>;
    /// The chats whose user was last active (`Session::active_at`) before `silent_since`,
    /// each handed out once per silence: only a save with newer activity hands it out again.
    /// At most `max`.
    async fn take_idle(
        &self,
        silent_since: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<ChatId>, StoreError>;
}
