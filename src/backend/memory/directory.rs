//! The teacher directory in this process: the embedded default and the tests' double.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::directory::{Binding, Directory, TrackedApplication};
use crate::store::{ChatKey, StoreError};

#[derive(Debug, Default)]
pub struct MemoryDirectory {
    teachers: Mutex<HashMap<String, ChatKey>>,
    /// Chats a teacher's bound chat connected too.
    extra: Mutex<HashMap<String, Vec<ChatKey>>>,
    invites: Mutex<HashMap<String, ChatKey>>,
    applications: Mutex<HashMap<String, TrackedApplication>>,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatKey) -> Result<Binding, StoreError> {
        let mut teachers = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        match teachers.get(teacher_id) {
            Some(by) if *by != chat => Ok(Binding::Taken { by: *by }),
            _ => {
                teachers.insert(teacher_id.to_owned(), chat);
                Ok(Binding::Bound)
            }
        }
    }

    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatKey>, StoreError> {
        let teachers = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        Ok(teachers.get(teacher_id).copied())
    }

    async fn serves(&self, teacher_id: &str, chat: ChatKey) -> Result<bool, StoreError> {
        let bound = self.teacher_chat(teacher_id).await? == Some(chat);
        let extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        Ok(bound || extra.get(teacher_id).is_some_and(|c| c.contains(&chat)))
    }

    async fn allow_chat(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError> {
        let mut extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        let chats = extra.entry(teacher_id.to_owned()).or_default();
        if !chats.contains(&chat) {
            chats.push(chat);
        }
        Ok(())
    }

    async fn unbind(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError> {
        let mut teachers = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        if teachers.get(teacher_id) == Some(&chat) {
            teachers.remove(teacher_id);
        }
        if let Some(chats) = self
            .extra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(teacher_id)
        {
            chats.retain(|c| *c != chat);
        }
        Ok(())
    }

    async fn track(&self, application: &TrackedApplication) -> Result<(), StoreError> {
        let mut apps = self.applications.lock().unwrap_or_else(|e| e.into_inner());
        apps.insert(application.application_id.clone(), application.clone());
        Ok(())
    }

    async fn tracked(&self, id: &str) -> Result<Option<TrackedApplication>, StoreError> {
        let apps = self.applications.lock().unwrap_or_else(|e| e.into_inner());
        Ok(apps.get(id).cloned())
    }

    async fn all_tracked(&self) -> Result<Vec<TrackedApplication>, StoreError> {
        let apps = self.applications.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = apps.values().cloned().collect();
        all.sort_by_key(|a| a.submitted_at);
        Ok(all)
    }

    async fn untrack(&self, id: &str) -> Result<(), StoreError> {
        let mut apps = self.applications.lock().unwrap_or_else(|e| e.into_inner());
        apps.remove(id);
        Ok(())
    }

    async fn issued_from(&self, token: &str, chat: ChatKey) -> Result<(), StoreError> {
        self.invites
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), chat);
        Ok(())
    }

    async fn issuer_of(&self, token: &str) -> Result<Option<ChatKey>, StoreError> {
        let invites = self.invites.lock().unwrap_or_else(|e| e.into_inner());
        Ok(invites.get(token).copied())
    }

    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError> {
        self.invites
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| *c != chat);
        self.extra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values_mut()
            .for_each(|chats| chats.retain(|c| *c != chat));
        self.teachers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| *c != chat);
        self.applications
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, a| a.student_chat != chat);
        Ok(())
    }
}
