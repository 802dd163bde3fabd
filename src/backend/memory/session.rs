//! An in-process session store: the embedded default for local runs and tests. Sessions are
//! kept as JSON, exactly as a real store would, so that what cannot be serialised fails here too.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::store::{
    Channel, ChatKey, Claim, Commit, Committed, Loaded, Revision, SessionStore, StoreError,
};

#[derive(Debug, Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<ChatKey, (String, Revision)>>,
    /// The updates whose turn was committed.
    committed_updates: Mutex<HashSet<(Channel, i64)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn claim(&self, chat: ChatKey, update_id: Option<i64>) -> Result<Claim, StoreError> {
        let committed = self
            .committed_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if update_id.is_some_and(|id| committed.contains(&(chat.channel, id))) {
            return Ok(Claim::AlreadyHandled);
        }
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Claim::New(sessions.get(&chat).map(|(json, revision)| {
            Loaded {
                session: serde_json::from_str(json).ok(),
                revision: *revision,
            }
        })))
    }

    /// Nothing outlives this process, so notices are left to the outbox (`notices_kept` is
    /// false): there is no other replica to finish them.
    async fn commit(&self, chat: ChatKey, commit: &Commit<'_>) -> Result<Committed, StoreError> {
        let json = crate::store::encode(commit.session)?;
        let mut committed = self
            .committed_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let current = sessions.get(&chat).map_or(0, |(_, r)| *r);
        let taken = commit
            .update_id
            .is_some_and(|id| committed.contains(&(chat.channel, id)));
        if current != commit.expected || taken {
            return Err(StoreError::Conflict);
        }
        if let Some(id) = commit.update_id {
            committed.insert((chat.channel, id));
        }
        let revision = current + 1;
        sessions.insert(chat, (json, revision));
        Ok(Committed {
            revision,
            notices_kept: false,
        })
    }

    async fn delete(&self, chat: ChatKey) -> Result<(), StoreError> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        Ok(())
    }
}
