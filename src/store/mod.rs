//! The session store port: where conversations live between updates, and the memory of which
//! updates were already handled.
//!
//! Adapters: [`MemoryStore`](crate::backend::memory::MemoryStore) (the embedded default) and [`RedisStore`](crate::backend::redis::RedisStore) (sessions
//! in Redis, shared by replicas and kept across restarts). Both keep a session as [`encode`]
//! makes it: JSON, packed when long ([`packed`]).

use async_trait::async_trait;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::engine::Session;
use crate::notify::Notice;

pub use crate::domain::{Channel, ChatKey};

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

pub mod packed;

pub use packed::{decode, encode, Undecodable};

/// What [`SessionStore::claim`] found.
// A claim lives for one update and is unpacked at once: boxing the session would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The update was committed before (a redelivery): do nothing.
    AlreadyHandled,
    /// A new update, and the chat's session if there is one.
    New(Option<Loaded>),
}

/// A notice to keep with a commit: what the turn says (until it is delivered), and what it
/// schedules (a reminder, the gentle reminder of the silent). A notice of the same id that is
/// still waiting is replaced; one being delivered is left alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Keep<'a> {
    pub notice: &'a Notice,
    /// When any replica may deliver it.
    pub due: DateTime<Utc>,
}

/// Everything one turn writes, at once: either all of it is stored or none of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit<'a> {
    pub session: &'a Session,
    /// The revision the turn started from (0: nothing was stored).
    pub expected: Revision,
    /// The update the turn handled: recorded here, not before the turn ran, so that a crash
    /// before the commit lets the redelivered update run again (with the same idempotency
    /// keys), and a redelivery after it is a no-op.
    pub update_id: Option<i64>,
    /// What the turn says, kept until delivered, and what it schedules.
    pub notices: Vec<Keep<'a>>,
    /// What the turn adds to the operators' counts, written in the same call.
    pub tally: Tally,
}

/// What a turn adds to the operators' counts: per step, how many conversations entered it and
/// left it forward, back, or not at all (see `crate::ops::funnel`), and a question the bot did
/// not understand, masked. Nothing in it names a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The school day the counts belong to.
    pub day: Option<NaiveDate>,
    /// Funnel fields and how much each grows.
    pub counts: Vec<(String, u32)>,
    /// A question nobody could answer, already masked.
    pub unmatched: Option<String>,
}

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.unmatched.is_none()
    }
}

/// Whether `chat`'s update `update_id` is recorded as a high-water mark kept with the chat's
/// session (in Redis the number in the session string's head) instead of a mark of its own.
///
/// Telegram numbers a bot's updates in one increasing sequence, and the bot handles a chat's
/// updates in order (one at a time per chat, polled batches chat by chat in order), so an update
/// of a chat whose id is at most the chat's last committed one was committed before: one number
/// per chat replaces a 24-hour key per update (which at real traffic outweighed the sessions).
/// Its limit: a webhook delivery that Telegram sends late, after a newer update of the same chat
/// was committed, would be taken for a redelivery; Telegram sends a chat's updates in order and
/// retries a failed one before the next, so this is not expected. MAX numbers no updates (its
/// ids are digests, in no order), so its updates keep a key each.
pub fn marked(chat: ChatKey, update_id: Option<i64>) -> Option<i64> {
    update_id.filter(|_| chat.channel == Channel::Telegram)
}

/// How long the funnel of a day is kept.
pub const FUNNEL_DAYS: u32 = 90;
/// How long the unanswered questions of a day are kept.
pub const UNMATCHED_DAYS: u32 = 30;

/// What a commit stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub revision: Revision,
    /// Whether the notices were kept with the commit (a store that cannot leaves them to the
    /// outbox, in writes of their own).
    pub notices_kept: bool,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Loads the session of `chat`, unless `update_id` was already committed (a redelivery):
    /// one round trip. Nothing is marked: only [`SessionStore::commit`] records an update.
    async fn claim(&self, chat: ChatKey, update_id: Option<i64>) -> Result<Claim, StoreError>;

    /// The session of `chat`, if any.
    async fn load(&self, chat: ChatKey) -> Result<Option<Loaded>, StoreError> {
        match self.claim(chat, None).await? {
            Claim::New(loaded) => Ok(loaded),
            Claim::AlreadyHandled => Err(StoreError::Unavailable(
                "a load without an update answered as a redelivery".to_owned(),
            )),
        }
    }

    /// Stores a turn if the stored revision is still `commit.expected` and its update was not
    /// committed meanwhile (else [`StoreError::Conflict`]: the runtime runs the turn again).
    async fn commit(&self, chat: ChatKey, commit: &Commit<'_>) -> Result<Committed, StoreError>;

    /// Saves `session` alone (no update, nothing to deliver); returns the new revision.
    async fn save(
        &self,
        chat: ChatKey,
        session: &Session,
        expected: Revision,
    ) -> Result<Revision, StoreError> {
        let commit = Commit {
            session,
            expected,
            update_id: None,
            notices: Vec::new(),
            tally: Tally::default(),
        };
        Ok(self.commit(chat, &commit).await?.revision)
    }

    /// The funnel fields counted on `day`, with their totals.
    async fn funnel_day(&self, day: NaiveDate) -> Result<BTreeMap<String, u64>, StoreError>;

    /// The masked questions not understood on `day`, with how often each was asked.
    async fn unmatched_day(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, StoreError>;

    /// Whether the store answers (for `/health`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The language `chat` speaks, for a message from outside its turn (a teacher's card):
    /// stores that can answer it without decoding the whole session do.
    async fn language(&self, chat: ChatKey) -> Result<Option<String>, StoreError> {
        Ok(self
            .load(chat)
            .await?
            .and_then(|l| l.session)
            .map(|s| s.lang))
    }

    /// Forgets everything about `chat`.
    async fn delete(&self, chat: ChatKey) -> Result<(), StoreError>;
}
