//! The sessions this process committed last, so that the next update of the same chat goes
//! straight to the commit instead of reading the session first: one round trip to the store
//! instead of two.
//!
//! Why it stays right with several replicas: an entry is only a guess at what is stored. The
//! commit still checks the stored revision (and the chat's update mark), so a guess that another
//! replica, the desk or an expiry made wrong ends in a conflict, and the runtime reads the
//! session and runs the turn again. A turn that would call the registration service reads the
//! session before the first call ([`super::Assistant`]), so that no service call is ever made
//! from a guess. An entry is taken out while its turn runs (a turn that fails leaves none) and
//! put back by the commit.
//!
//! Only chats whose updates are deduplicated by a mark in the session (Telegram's, and
//! updates without ids) are kept: a MAX update's id says nothing about its order, so whether
//! it was committed can only be asked of the store. `/forget` removes the chat's entry (on the
//! replica that ran it; another replica's entry for the chat fails its next commit and is
//! gone), an entry older than [`LIFETIME`] is not used, and entries past it are dropped as new
//! ones are kept.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lru::LruCache;

use crate::engine::Session;
use crate::store::{marked, ChatKey, Loaded, Revision};

/// How many chats are kept (about 1 KB each).
pub const CAPACITY: usize = 10_000;
/// How long an entry may be used: a chat silent for longer is read from the store again.
pub const LIFETIME: Duration = Duration::from_secs(10 * 60);

/// What the cache knows of an update's chat.
// Taken once per update and unpacked at once: boxing the session would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Look {
    /// The update is at or below the chat's last committed one: a redelivery.
    Handled,
    /// The session as this process last committed it.
    Hit(Loaded),
    /// Nothing to go on: read the store.
    Miss,
}

struct Entry {
    session: Session,
    revision: Revision,
    /// The chat's last committed update, when it was marked in the session.
    mark: Option<i64>,
    kept_at: Instant,
}

/// See the [module documentation](self).
pub struct Recent {
    entries: Mutex<LruCache<ChatKey, Entry>>,
    lifetime: Duration,
}

impl Recent {
    /// At most `capacity` chats, each used for `lifetime` after its commit.
    pub fn new(capacity: usize, lifetime: Duration) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            lifetime,
        }
    }

    /// Takes `chat`'s entry out for the turn of `update_id`.
    pub fn take(&self, chat: ChatKey, update_id: Option<i64>) -> Look {
        if update_id.is_some() && marked(chat, update_id).is_none() {
            return Look::Miss;
        }
        let mut entries = self.entries();
        let Some(entry) = entries.pop(&chat) else {
            return Look::Miss;
        };
        if entry.kept_at.elapsed() > self.lifetime {
            return Look::Miss;
        }
        if let (Some(id), Some(mark)) = (update_id, entry.mark) {
            if id <= mark {
                // Still true of the store: put it back for the next update.
                entries.put(chat, entry);
                return Look::Handled;
            }
        }
        Look::Hit(Loaded {
            session: Some(entry.session),
            revision: entry.revision,
        })
    }

    /// Keeps what the commit of `update_id` stored as `revision`.
    pub fn keep(
        &self,
        chat: ChatKey,
        session: Session,
        revision: Revision,
        update_id: Option<i64>,
    ) {
        if update_id.is_some() && marked(chat, update_id).is_none() {
            return;
        }
        let entry = Entry {
            session,
            revision,
            mark: marked(chat, update_id),
            kept_at: Instant::now(),
        };
        let mut entries = self.entries();
        // Entries past their lifetime go as new ones come, oldest first: a session (it may name
        // a child) is not kept in memory longer than it could be used.
        while entries
            .peek_lru()
            .is_some_and(|(_, oldest)| oldest.kept_at.elapsed() > self.lifetime)
        {
            entries.pop_lru();
        }
        entries.put(chat, entry);
    }

    /// Forgets `chat` (`/forget`, or a session changed outside its turn).
    pub fn forget(&self, chat: ChatKey) {
        self.entries().pop(&chat);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, LruCache<ChatKey, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn session() -> Session {
        let now = Utc
            .with_ymd_and_hms(2026, 9, 7, 9, 0, 0)
            .single()
            .expect("a date");
        Session::new("v", "ru", now)
    }

    #[test]
    fn a_committed_update_is_known_and_a_newer_one_gets_the_session() {
        let recent = Recent::new(4, LIFETIME);
        let chat = ChatKey::telegram(7);
        recent.keep(chat, session(), 3, Some(100));
        assert!(matches!(recent.take(chat, Some(100)), Look::Handled));
        assert!(matches!(recent.take(chat, Some(99)), Look::Handled));
        match recent.take(chat, Some(101)) {
            Look::Hit(loaded) => assert_eq!(loaded.revision, 3),
            other => panic!("{other:?}"),
        }
        // Taken out for its turn: until the commit puts it back, the store is asked.
        assert!(matches!(recent.take(chat, Some(102)), Look::Miss));
    }

    #[test]
    fn max_chats_and_forgotten_chats_are_read_from_the_store() {
        let recent = Recent::new(4, LIFETIME);
        let max = ChatKey::max(7);
        recent.keep(max, session(), 1, Some(5));
        assert!(matches!(recent.take(max, Some(6)), Look::Miss));
        let chat = ChatKey::telegram(8);
        recent.keep(chat, session(), 1, Some(5));
        recent.forget(chat);
        assert!(matches!(recent.take(chat, Some(6)), Look::Miss));
    }

    #[test]
    fn a_session_past_its_lifetime_is_neither_used_nor_kept() {
        let recent = Recent::new(4, Duration::from_millis(20));
        let chat = ChatKey::telegram(1);
        recent.keep(chat, session(), 1, Some(5));
        std::thread::sleep(Duration::from_millis(40));
        recent.keep(ChatKey::telegram(2), session(), 1, Some(6));
        assert_eq!(
            recent.len(),
            1,
            "the expired session was dropped when another came"
        );
        assert!(matches!(recent.take(chat, Some(7)), Look::Miss));
    }

    #[test]
    fn the_least_recent_chat_makes_room() {
        let recent = Recent::new(2, LIFETIME);
        for id in 1..=3 {
            recent.keep(ChatKey::telegram(id), session(), 1, None);
        }
        assert!(matches!(
            recent.take(ChatKey::telegram(1), None),
            Look::Miss
        ));
        assert!(matches!(
            recent.take(ChatKey::telegram(3), None),
            Look::Hit(_)
        ));
    }
}
