//! An in-process session store: the embedded default for local runs and tests. Sessions are
//! kept as JSON, exactly as a real store would, so that what cannot be serialised fails here too.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ChatId, Loaded, Revision, SessionStore, StoreError};
use crate::engine::Session;

#[derive(Debug, Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<ChatId, (String, Revision)>>,
    seen_updates: Mutex<HashSet<i64>>,
    /// Each chat's latest user activity, until handed out by `take_idle`.
    activity: Mutex<HashMap<ChatId, DateTime<Utc>>>,
    /// Each chat's latest user activity as saved.
    active: Mutex<HashMap<ChatId, DateTime<Utc>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn load(&self, chat: ChatId) -> Result<Option<Loaded>, StoreError> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        Ok(sessions.get(&chat).map(|(json, revision)| Loaded {
            session: serde_json::from_str(json).ok(),
            revision: *revision,
        }))
    }

    async fn save(
        &self,
        chat: ChatId,
        session: &Session,
        expected: Revision,
    ) -> Result<Revision, StoreError> {
        let json = super::encode(session)?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let current = sessions.get(&chat).map_or(0, |(_, r)| *r);
        if current != expected {
            return Err(StoreError::Conflict);
        }
        let revision = current + 1;
        sessions.insert(chat, (json, revision));
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if active.get(&chat).is_none_or(|at| *at < session.active_at) {
            active.insert(chat, session.active_at);
            self.activity
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(chat, session.active_at);
        }
        Ok(revision)
    }

    async fn delete(&self, chat: ChatId) -> Result<(), StoreError> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        self.activity
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&chat);
        Ok(())
    }

    async fn take_idle(
        &self,
        silent_since: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<ChatId>, StoreError> {
        let mut activity = self.activity.lock().unwrap_or_else(|e| e.into_inner());
        let mut idle: Vec<(DateTime<Utc>, ChatId)> = activity
            .iter()
            .filter(|(_, at)| **at <= silent_since)
            .map(|(chat, at)| (*at, *chat))
            .collect();
        idle.sort();
        idle.truncate(max);
        for (_, chat) in &idle {
            activity.remove(chat);
        }
        Ok(idle.into_iter().map(|(_, chat)| chat).collect())
    }

    async fn first_delivery(&self, update_id: i64) -> Result<bool, StoreError> {
        Ok(self
            .seen_updates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(update_id))
    }
}
