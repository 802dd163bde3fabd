//! An in-process session store: the embedded default for local runs and tests. Sessions are
//! kept as JSON, exactly as a real store would, so that what cannot be serialised fails here too.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::store::{
    Channel, ChatKey, Claim, Commit, Committed, Loaded, Revision, SessionStore, StoreError, Tally,
    FUNNEL_DAYS, UNMATCHED_DAYS,
};

#[derive(Debug, Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<ChatKey, (Vec<u8>, Revision)>>,
    /// The updates whose turn was committed: a MAX update's own id, a Telegram chat's latest
    /// (as Redis keeps them, see `crate::store::marked`).
    committed_updates: Mutex<HashSet<(Channel, i64)>>,
    marks: Mutex<HashMap<ChatKey, i64>>,
    /// The operators' counts, by day.
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    funnel: BTreeMap<NaiveDate, BTreeMap<String, u64>>,
    unmatched: BTreeMap<NaiveDate, BTreeMap<String, u64>>,
}

impl Counts {
    /// Adds a turn's counts, and forgets the days past keeping, as Redis's expiry would.
    fn add(&mut self, tally: &Tally) {
        let Some(day) = tally.day else {
            return;
        };
        let funnel = self.funnel.entry(day).or_default();
        for (field, n) in &tally.counts {
            *funnel.entry(field.clone()).or_default() += u64::from(*n);
        }
        if let Some(question) = &tally.unmatched {
            *self
                .unmatched
                .entry(day)
                .or_default()
                .entry(question.clone())
                .or_default() += 1;
        }
        let kept_since = |days: u32| day - chrono::Days::new(u64::from(days));
        self.funnel.retain(|d, _| *d > kept_since(FUNNEL_DAYS));
        self.unmatched
            .retain(|d, _| *d > kept_since(UNMATCHED_DAYS));
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn taken(&self, committed: &HashSet<(Channel, i64)>, chat: ChatKey, id: i64) -> bool {
        let marks = self.marks.lock().unwrap_or_else(|e| e.into_inner());
        committed.contains(&(chat.channel, id))
            || crate::store::marked(chat, Some(id))
                .is_some_and(|id| marks.get(&chat).is_some_and(|mark| id <= *mark))
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn claim(&self, chat: ChatKey, update_id: Option<i64>) -> Result<Claim, StoreError> {
        let committed = self
            .committed_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if update_id.is_some_and(|id| self.taken(&committed, chat, id)) {
            return Ok(Claim::AlreadyHandled);
        }
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Claim::New(sessions.get(&chat).map(|(bytes, revision)| {
            Loaded {
                session: crate::store::decode(bytes).ok(),
                revision: *revision,
            }
        })))
    }

    /// Nothing outlives this process, so notices are left to the outbox (`notices_kept` is
    /// false): there is no other replica to finish them.
    async fn commit(&self, chat: ChatKey, commit: &Commit<'_>) -> Result<Committed, StoreError> {
        let bytes = crate::store::encode(commit.session)?;
        let mut committed = self
            .committed_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let current = sessions.get(&chat).map_or(0, |(_, r)| *r);
        let taken = commit
            .update_id
            .is_some_and(|id| self.taken(&committed, chat, id));
        if current != commit.expected || taken {
            return Err(StoreError::Conflict);
        }
        match (
            crate::store::marked(chat, commit.update_id),
            commit.update_id,
        ) {
            (Some(mark), _) => {
                self.marks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(chat, mark);
            }
            (None, Some(id)) => {
                committed.insert((chat.channel, id));
            }
            (None, None) => {}
        }
        let revision = current + 1;
        sessions.insert(chat, (bytes, revision));
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add(&commit.tally);
        Ok(Committed {
            revision,
            notices_kept: false,
        })
    }

    async fn funnel_day(&self, day: NaiveDate) -> Result<BTreeMap<String, u64>, StoreError> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        Ok(counts.funnel.get(&day).cloned().unwrap_or_default())
    }

    async fn unmatched_day(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, StoreError> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        Ok(counts
            .unmatched
            .get(&day)
            .map(|m| m.iter().map(|(q, n)| (q.clone(), *n)).collect())
            .unwrap_or_default())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn delete(&self, chat: ChatKey) -> Result<(), StoreError> {
        self.marks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        Ok(())
    }
}
