//! The teacher directory in Redis, shared by every replica.

use async_trait::async_trait;
use redis::AsyncCommands;

use super::conn::{connect_lazily, Link};
use super::keys::Keys;
use crate::directory::{Binding, Directory, TrackedApplication, TRACKING_TTL};
use crate::store::{ChatKey, StoreError};

/// The directory in Redis: `teacher:{id}` → chat, `chat-teacher:{chat}` → id,
/// `application:{id}` → JSON (with a TTL), and the set `applications` of followed ids.
#[derive(Clone, Debug)]
pub struct RedisDirectory {
    connection: Link,
    keys: Keys,
    bind_script: redis::Script,
}

/// `KEYS[1]`: the teacher's key, `KEYS[2]`: the chat's; `ARGV`: the chat, the teacher id.
/// Binds unless another chat is bound; answers the chat that serves the teacher.
const BIND_SCRIPT: &str = r"
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then
  return current
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return ARGV[1]
";

impl RedisDirectory {
    /// Connects lazily: the bot starts (and keeps running) while Redis is down.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let (connection, keys) = connect_lazily(url, prefix)?;
        Ok(Self::on(connection, keys))
    }

    /// The directory beside the session store: the same Redis, connection and prefix.
    pub fn beside(store: &super::RedisStore) -> Self {
        let (connection, keys) = store.shared();
        Self::on(connection, keys)
    }

    fn on(connection: Link, keys: Keys) -> Self {
        Self {
            connection,
            keys,
            bind_script: redis::Script::new(BIND_SCRIPT),
        }
    }

    fn key(&self, rest: &str) -> String {
        self.keys.directory(rest)
    }

    /// Runs one pipeline within the shared deadline.
    async fn pipeline<T: redis::FromRedisValue>(
        &self,
        pipe: redis::Pipeline,
    ) -> Result<T, StoreError> {
        self.connection
            .run(|mut c| {
                let pipe = pipe.clone();
                async move { pipe.query_async::<T>(&mut c).await }
            })
            .await
    }

    async fn get<T: redis::FromRedisValue>(&self, key: String) -> Result<T, StoreError> {
        self.connection
            .run(|mut c| {
                let key = key.clone();
                async move { c.get::<_, T>(key).await }
            })
            .await
    }
}

#[async_trait]
impl Directory for RedisDirectory {
    async fn bind_teacher(&self, teacher_id: &str, chat: ChatKey) -> Result<Binding, StoreError> {
        let teacher_key = self.key(&format!("teacher:{teacher_id}"));
        let chat_key = self.key(&format!("chat-teacher:{chat}"));
        let by: String = self
            .connection
            .run(|mut c| {
                let mut invocation = self.bind_script.key(&teacher_key);
                invocation
                    .key(&chat_key)
                    .arg(chat.to_string())
                    .arg(teacher_id);
                async move { invocation.invoke_async(&mut c).await }
            })
            .await?;
        let by = chat_of(&by)?;
        Ok(if by == chat {
            Binding::Bound
        } else {
            Binding::Taken { by }
        })
    }

    async fn teacher_chat(&self, teacher_id: &str) -> Result<Option<ChatKey>, StoreError> {
        let chat: Option<String> = self.get(self.key(&format!("teacher:{teacher_id}"))).await?;
        chat.as_deref().map(chat_of).transpose()
    }

    async fn serves(&self, teacher_id: &str, chat: ChatKey) -> Result<bool, StoreError> {
        if self.teacher_chat(teacher_id).await? == Some(chat) {
            return Ok(true);
        }
        let key = self.key(&format!("teacher-extra:{teacher_id}"));
        self.connection
            .run(|mut c| {
                let key = key.clone();
                async move { c.sismember(key, chat.to_string()).await }
            })
            .await
    }

    async fn allow_chat(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .sadd(
                self.key(&format!("teacher-extra:{teacher_id}")),
                chat.to_string(),
            )
            .set(self.key(&format!("chat-teacher:{chat}")), teacher_id);
        self.pipeline(pipe).await
    }

    async fn unbind(&self, teacher_id: &str, chat: ChatKey) -> Result<(), StoreError> {
        let bound = self.teacher_chat(teacher_id).await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .srem(
                self.key(&format!("teacher-extra:{teacher_id}")),
                chat.to_string(),
            )
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
        let ids: Vec<String> = self
            .connection
            .run(|mut c| {
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

    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError> {
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
        let tokens: Vec<String> = self
            .connection
            .run(|mut c| {
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

    async fn issued_from(&self, token: &str, chat: ChatKey) -> Result<(), StoreError> {
        let issued_key = self.key(&format!("chat-invites:{chat}"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .set_ex(
                self.key(&format!("parent-invite:{token}")),
                chat.to_string(),
                TRACKING_TTL.as_secs(),
            )
            .sadd(&issued_key, token)
            .expire(&issued_key, TRACKING_TTL.as_secs() as i64);
        self.pipeline(pipe).await
    }

    async fn issuer_of(&self, token: &str) -> Result<Option<ChatKey>, StoreError> {
        let chat: Option<String> = self
            .get(self.key(&format!("parent-invite:{token}")))
            .await?;
        chat.as_deref().map(chat_of).transpose()
    }
}

/// A chat as the directory stores it (`ChatKey`'s `Display`).
fn chat_of(stored: &str) -> Result<ChatKey, StoreError> {
    stored
        .parse()
        .map_err(|_| StoreError::Unavailable("the directory holds a damaged chat".to_owned()))
}
