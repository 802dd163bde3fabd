//! Who is where, across conversations: which chat serves each teacher, and the applications
//! submitted through the bot (whose student to tell, whose teacher to ask). The session store
//! keeps one chat's conversation; this keeps what links chats together.
//!
//! Adapters: [`MemoryDirectory`] (the embedded default) and [`RedisDirectory`]. Tracked
//! applications hold a child's name (personal data): they expire, and `/forget` removes them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::store::redis::{connect_lazily, run_on};
use crate::store::{ChatId, StoreError};

/// How long an application is followed (decisions usually come within days).
pub const TRACKING_TTL: Duration = Duration::from_secs(60 * 86_400);

/// An application submitted through the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedApplication {
    pub application_id: String,
    /// The chat of the student who submitted it.
    pub student_chat: ChatId,
    pub teacher_id: String,
    pub class: String,
    pub child_name: String,
    pub submitted_at: DateTime<Utc>,
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// `chat` serves teacher `teacher_id`, unless another chat already does: the first chat to
    /// open a teacher's link keeps it (a forwarded link takes nothing over).
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatId) -> Result<Binding, StoreError>;
    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatId>, StoreError>;
    /// Whether `chat` acts for the teacher: their bound chat, or one it connected.
    async fn serves(&self, teacher_id: &str, chat: ChatId) -> Result<bool, StoreError>;
    /// The bound chat connected `chat` too.
    async fn allow_chat(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError>;
    /// `chat` no longer serves the teacher (`/unbind`).
    async fn unbind(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError>;
    async fn track(&self, application: &TrackedApplication) -> Result<(), StoreError>;
    async fn tracked(&self, application_id: &str)
        -> Result<Option<TrackedApplication>, StoreError>;
    /// Every application still followed.
    async fn all_tracked(&self) -> Result<Vec<TrackedApplication>, StoreError>;
    async fn untrack(&self, application_id: &str) -> Result<(), StoreError>;
    /// The parent invitation `token` was issued from `chat` (a student's), so the child hears
    /// when a parent links with it.
    async fn issued_from(&self, token: &str, chat: ChatId) -> Result<(), StoreError>;
    /// The chat a parent invitation was issued from, if the bot issued it.
    async fn issuer_of(&self, token: &str) -> Result<Option<ChatId>, StoreError>;
    /// Forgets `chat`: its teacher binding, the applications its student submitted and the
    /// parent invitations it issued.
    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError>;
}

/// What [`Directory::bind_teacher`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// The chat serves the teacher (now, or already).
    Bound,
    /// Another chat serves the teacher: nothing changed.
    Taken { by: ChatId },
}

#[derive(Debug, Default)]
pub struct MemoryDirectory {
    teachers: Mutex<HashMap<String, ChatId>>,
    /// Chats a teacher's bound chat connected too.
    extra: Mutex<HashMap<String, Vec<ChatId>>>,
    invites: Mutex<HashMap<String, ChatId>>,
    applications: Mutex<HashMap<String, TrackedApplication>>,
}

impl MemoryDirectory {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl Directory for MemoryDirectory {
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatId) -> Result<Binding, StoreError> {
        let mut teachers = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        match teachers.get(teacher_id) {
            Some(by) if *by != chat => Ok(Binding::Taken { by: *by }),
            _ => {
                teachers.insert(teacher_id.to_owned(), chat);
                Ok(Binding::Bound)
            }
        }
    }

    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatId>, StoreError> {
        let teachers = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        Ok(teachers.get(teacher_id).copied())
    }

    async fn serves(&self, teacher_id: &str, chat: ChatId) -> Result<bool, StoreError> {
        let bound = self.teacher_chat(teacher_id).await? == Some(chat);
        let extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        Ok(bound || extra.get(teacher_id).is_some_and(|c| c.contains(&chat)))
    }

    async fn allow_chat(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError> {
        let mut extra = self.extra.lock().unwrap_or_else(|e| e.into_inner());
        let chats = extra.entry(teacher_id.to_owned()).or_default();
        if !chats.contains(&chat) {
            chats.push(chat);
        }
        Ok(())
    }

    async fn unbind(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError> {
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

    async fn issued_from(&self, token: &str, chat: ChatId) -> Result<(), StoreError> {
        self.invites
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.to_owned(), chat);
        Ok(())
    }

    async fn issuer_of(&self, token: &str) -> Result<Option<ChatId>, StoreError> {
        let invites = self.invites.lock().unwrap_or_else(|e| e.into_inner());
        Ok(invites.get(token).copied())
    }

    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError> {
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

/// The directory in Redis: `teacher:{id}` → chat, `chat-teacher:{chat}` → id,
/// `application:{id}` → JSON (with a TTL), and the set `applications` of followed ids.
#[derive(Clone)]
pub struct RedisDirectory {
    connection: ConnectionManager,
    prefix: String,
    bind_script: redis::Script,
}

/// `KEYS[1]`: the teacher's key, `KEYS[2]`: the chat's; `ARGV`: the chat, the teacher id.
/// Binds unless another chat is bound; answers the chat that serves the teacher.
const BIND_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  return tonumber(current)
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return tonumber(ARGV[1])
";

impl std::fmt::Debug for RedisDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisDirectory")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisDirectory {
    /// Connects lazily: the bot starts (and keeps running) while Redis is down.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Ok(Self {
            connection: connect_lazily(url)?,
            prefix: prefix.to_owned(),
            bind_script: redis::Script::new(BIND_SCRIPT),
        })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    /// Runs one pipeline within the shared deadline.
    async fn pipeline<T: redis::FromRedisValue>(
        &self,
        pipe: redis::Pipeline,
    ) -> Result<T, StoreError> {
        run_on(&self.connection, |mut c| {
            let pipe = pipe.clone();
            async move { pipe.query_async::<T>(&mut c).await }
        })
        .await
    }

    async fn get<T: redis::FromRedisValue>(&self, key: String) -> Result<T, StoreError> {
        run_on(&self.connection, |mut c| {
            let key = key.clone();
            async move { c.get::<_, T>(key).await }
        })
        .await
    }
}

#[async_trait]
impl Directory for RedisDirectory {
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatId) -> Result<Binding, StoreError> {
        let teacher_key = self.key(&format!("teacher:{teacher_id}"));
        let chat_key = self.key(&format!("chat-teacher:{chat}"));
        let by: i64 = run_on(&self.connection, |mut c| {
            let mut invocation = self.bind_script.key(&teacher_key);
            invocation.key(&chat_key).arg(chat).arg(teacher_id);
            async move { invocation.invoke_async(&mut c).await }
        })
        .await?;
        Ok(if by == chat {
            Binding::Bound
        } else {
            Binding::Taken { by }
        })
    }

    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatId>, StoreError> {
        self.get(self.key(&format!("teacher:{teacher_id}"))).await
    }

    async fn serves(&self, teacher_id: &str, chat: ChatId) -> Result<bool, StoreError> {
        if self.teacher_chat(teacher_id).await? == Some(chat) {
            return Ok(true);
        }
        let key = self.key(&format!("teacher-extra:{teacher_id}"));
        run_on(&self.connection, |mut c| {
            let key = key.clone();
            async move { c.sismember(key, chat).await }
        })
        .await
    }

    async fn allow_chat(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .sadd(self.key(&format!("teacher-extra:{teacher_id}")), chat)
            .set(self.key(&format!("chat-teacher:{chat}")), teacher_id);
        self.pipeline(pipe).await
    }

    async fn unbind(&self, teacher_id: &str, chat: ChatId) -> Result<(), StoreError> {
        let bound = self.teacher_chat(teacher_id).await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .srem(self.key(&format!("teacher-extra:{teacher_id}")), chat)
            .del(self.key(&format!("chat-teacher:{chat}")));
        if bound == Some(chat) {
            pipe.del(self.key(&format!("teacher:{teacher_id}")));
        }
        self.pipeline(pipe).await
    }

    async fn track(&self, application: &TrackedApplication) -> Result<(), StoreError> {
        let json = serde_json::to_string(application)
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_ex(
                self.key(&format!("application:{}", application.application_id)),
                json,
                TRACKING_TTL.as_secs(),
            )
            .sadd(self.key("applications"), &application.application_id);
        self.pipeline(pipe).await
    }

    async fn tracked(&self, id: &str) -> Result<Option<TrackedApplication>, StoreError> {
        let json: Option<String> = self.get(self.key(&format!("application:{id}"))).await?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }

    async fn all_tracked(&self) -> Result<Vec<TrackedApplication>, StoreError> {
        let ids: Vec<String> = run_on(&self.connection, |mut c| {
            let key = self.key("applications");
            async move { c.smembers(key).await }
        })
        .await?;
        let mut all = Vec::new();
        for id in ids {
            match self.tracked(&id).await? {
                Some(app) => all.push(app),
                // Expired: stop following it.
                None => self.untrack(&id).await?,
            }
        }
        all.sort_by_key(|a| a.submitted_at);
        Ok(all)
    }

    async fn untrack(&self, id: &str) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(self.key(&format!("application:{id}")))
            .srem(self.key("applications"), id);
        self.pipeline(pipe).await
    }

    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        let teacher: Option<String> = self.get(self.key(&format!("chat-teacher:{chat}"))).await?;
        if let Some(teacher_id) = teacher {
            self.unbind(&teacher_id, chat).await?;
        }
        for app in self.all_tracked().await? {
            if app.student_chat == chat {
                self.untrack(&app.application_id).await?;
            }
        }
        let issued_key = self.key(&format!("chat-invites:{chat}"));
        let tokens: Vec<String> = run_on(&self.connection, |mut c| {
            let key = issued_key.clone();
            async move { c.smembers(key).await }
        })
        .await?;
        let mut pipe = redis::pipe();
        pipe.atomic().del(&issued_key);
        for token in tokens {
            pipe.del(self.key(&format!("parent-invite:{token}")));
        }
        self.pipeline(pipe).await
    }

    async fn issued_from(&self, token: &str, chat: ChatId) -> Result<(), StoreError> {
        let issued_key = self.key(&format!("chat-invites:{chat}"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_ex(
                self.key(&format!("parent-invite:{token}")),
                chat,
                TRACKING_TTL.as_secs(),
            )
            .sadd(&issued_key, token)
            .expire(&issued_key, TRACKING_TTL.as_secs() as i64);
        self.pipeline(pipe).await
    }

    async fn issuer_of(&self, token: &str) -> Result<Option<ChatId>, StoreError> {
        self.get(self.key(&format!("parent-invite:{token}"))).await
    }
}
