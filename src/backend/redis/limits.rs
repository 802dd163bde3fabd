//! The code limits in Redis: one sorted set per chat and per address tag, counted in one
//! script before the service is called, shared by every replica.

use std::time::Duration;

use ::redis::Script;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::conn::{connect_lazily, Link};
use super::keys::Keys;
use crate::limits::{AddressTag, CodeLimits, Limits, TryAgainIn};
use crate::service::OpKey;
use crate::store::{ChatKey, StoreError};

/// `KEYS[1]`: the chat's set, `KEYS[2]`: the address's set. `ARGV`: now (ms), the operation's
/// key, the chat's hourly and daily limits, the address's daily limit.
///
/// Answers `{1}` when taken (or already taken by this key), `{0, wait ms}` when over a limit.
const TAKE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local day = 86400000
local hour = 3600000
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - day)
end
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return {1}
end
local function wait(key, window, limit)
  local inside = redis.call('ZRANGEBYSCORE', key, now - window, '+inf', 'WITHSCORES')
  if #inside / 2 >= limit then
    local w = tonumber(inside[2]) + window - now
    if w < 1000 then w = 1000 end
    return w
  end
  return 0
end
local longest = math.max(
  wait(KEYS[1], hour, tonumber(ARGV[3])),
  wait(KEYS[1], day, tonumber(ARGV[4])),
  wait(KEYS[2], day, tonumber(ARGV[5])))
if longest > 0 then
  return {0, longest}
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, day)
end
return {1}
";

/// Limits in Redis, shared by replicas.
#[derive(Clone, Debug)]
pub struct RedisLimits {
    connection: Link,
    keys: Keys,
    rules: CodeLimits,
    take: Script,
}

impl RedisLimits {
    /// Limits on the Redis at `url`, under `prefix` (the connection is made lazily).
    pub fn connect(url: &str, prefix: &str, rules: CodeLimits) -> Result<Self, StoreError> {
        let (connection, keys) = connect_lazily(url, prefix)?;
        Ok(Self::on(connection, keys, rules))
    }

    /// Limits beside the session store: the same Redis, connection and prefix.
    pub fn beside(store: &super::RedisStore, rules: CodeLimits) -> Self {
        let (connection, keys) = store.shared();
        Self::on(connection, keys, rules)
    }

    fn on(connection: Link, keys: Keys, rules: CodeLimits) -> Self {
        Self {
            connection,
            keys,
            rules,
            take: Script::new(TAKE_SCRIPT),
        }
    }

    fn chat_key(&self, chat: ChatKey) -> String {
        self.keys.limits(&format!("limit:chat:{chat}"))
    }
}

#[async_trait]
impl Limits for RedisLimits {
    async fn take_code(
        &self,
        chat: ChatKey,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError> {
        let chat_key = self.chat_key(chat);
        let address_key = self
            .keys
            .limits(&format!("limit:addr:{}", address.as_str()));
        let member = key.as_uuid().to_string();
        let answer: Vec<i64> = self
            .connection
            .run(|mut connection| {
                let mut invocation = self.take.key(&chat_key);
                invocation
                    .key(&address_key)
                    .arg(now.timestamp_millis())
                    .arg(&member)
                    .arg(self.rules.per_chat_hour)
                    .arg(self.rules.per_chat_day)
                    .arg(self.rules.per_address_day);
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        Ok(match answer.as_slice() {
            [0, ms] => Err(TryAgainIn(Duration::from_millis((*ms).max(0) as u64))),
            _ => Ok(()),
        })
    }

    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError> {
        let key = self.chat_key(chat);
        self.connection.delete(key).await
    }
}
