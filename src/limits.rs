//! Limits on verification codes, so that one chat cannot make the service text any number of
//! phones (SMS pumping): per chat, at most so many codes an hour and a day across addresses,
//! and per address so many a day across chats. Counted before the service is called, shared by
//! every replica (Redis) and kept with expiry. An address never appears in a key: it is
//! reduced to a keyed hash (HMAC-SHA-256 with `LIMIT_KEY`). A repeat of the same operation (the
//! same idempotency key: a crash, a conflict retry, a double tap) is not counted twice.
//!
//! Adapters: [`MemoryLimits`] (one process) and [`RedisLimits`] (one sorted set per chat and
//! per hashed address: member = the operation's key, score = when).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use ::redis::aio::ConnectionManager;
use ::redis::Script;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::service::OpKey;
use crate::store::{ChatId, StoreError};

const HOUR_MS: i64 = 60 * 60 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How many codes are allowed (settings `CODE_LIMIT_*`). The defaults fit an honest family:
/// a child's registration takes one code, a typo or a slow SMS one or two more; a parent's
/// link one more. Three an hour and ten a day per chat leave room for two children and their
/// mistakes; five a day per address for an address retyped from several chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    pub per_chat_hour: u32,
    pub per_chat_day: u32,
    pub per_address_day: u32,
}

impl Default for CodeLimits {
    fn default() -> Self {
        Self {
            per_chat_hour: 3,
            per_chat_day: 10,
            per_address_day: 5,
        }
    }
}

/// Over a limit: how long until a code may be asked for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryAgainIn(pub Duration);

/// An address reduced to what a limit needs: a keyed hash, never the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressTag(String);

impl AddressTag {
    /// HMAC-SHA-256 of `address` under `key`, in hex (the first 16 bytes).
    pub fn of(address: &str, key: &[u8]) -> Self {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        let tag = ring::hmac::sign(&key, address.as_bytes());
        Self(
            tag.as_ref()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}

#[async_trait]
pub trait Limits: Send + Sync {
    /// Takes one code for `chat` and `address` as the operation `key`, or says how long to
    /// wait. A `key` already taken is let through again without counting.
    async fn take_code(
        &self,
        chat: ChatId,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError>;
    /// Forgets `chat`'s counts (`/forget`).
    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError>;
}

/// The wait until the oldest of `times` (ms) leaves a window of `window` ms, if `times` holds
/// `limit` or more within it.
fn wait(times: &[i64], now: i64, window: i64, limit: u32) -> Option<i64> {
    let inside: Vec<i64> = times
        .iter()
        .copied()
        .filter(|t| *t > now - window)
        .collect();
    (inside.len() >= limit as usize).then(|| {
        let oldest = inside.iter().copied().min().unwrap_or(now);
        (oldest + window - now).max(1000)
    })
}

/// Limits in this process.
#[derive(Debug, Default)]
pub struct MemoryLimits {
    rules: CodeLimits,
    state: Mutex<HashMap<String, Vec<(OpKey, i64)>>>,
}

impl MemoryLimits {
    pub fn new(rules: CodeLimits) -> Self {
        Self {
            rules,
            state: Mutex::default(),
        }
    }
}

#[async_trait]
impl Limits for MemoryLimits {
    async fn take_code(
        &self,
        chat: ChatId,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError> {
        let now = now.timestamp_millis();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (chat_key, address_key) = (format!("chat:{chat}"), format!("addr:{}", address.0));
        for list in [&chat_key, &address_key] {
            state
                .entry(list.clone())
                .or_default()
                .retain(|(_, t)| *t > now - DAY_MS);
        }
        if state[&chat_key].iter().any(|(k, _)| *k == key) {
            return Ok(Ok(()));
        }
        let times = |name: &str| state[name].iter().map(|(_, t)| *t).collect::<Vec<i64>>();
        let over = [
            wait(&times(&chat_key), now, HOUR_MS, self.rules.per_chat_hour),
            wait(&times(&chat_key), now, DAY_MS, self.rules.per_chat_day),
            wait(
                &times(&address_key),
                now,
                DAY_MS,
                self.rules.per_address_day,
            ),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(ms) = over {
            return Ok(Err(TryAgainIn(Duration::from_millis(ms as u64))));
        }
        for list in [chat_key, address_key] {
            state.entry(list).or_default().push((key, now));
        }
        Ok(Ok(()))
    }

    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&format!("chat:{chat}"));
        Ok(())
    }
}

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
#[derive(Clone)]
pub struct RedisLimits {
    connection: ConnectionManager,
    prefix: String,
    rules: CodeLimits,
    take: Script,
}

impl std::fmt::Debug for RedisLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimits")
            .field("prefix", &self.prefix)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl RedisLimits {
    /// Limits on the Redis at `url`, under `prefix` (the connection is made lazily).
    pub fn connect(url: &str, prefix: &str, rules: CodeLimits) -> Result<Self, StoreError> {
        Ok(Self::on(
            crate::store::redis::connect_lazily(url)?,
            prefix,
            rules,
        ))
    }

    /// Limits beside the session store: the same Redis, connection and prefix.
    pub fn beside(store: &crate::store::redis::RedisStore, rules: CodeLimits) -> Self {
        let (connection, prefix) = store.shared();
        Self::on(connection, &prefix, rules)
    }

    fn on(connection: ConnectionManager, prefix: &str, rules: CodeLimits) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
            rules,
            take: Script::new(TAKE_SCRIPT),
        }
    }

    fn chat_key(&self, chat: ChatId) -> String {
        format!("{}limit:chat:{chat}", self.prefix)
    }
}

#[async_trait]
impl Limits for RedisLimits {
    async fn take_code(
        &self,
        chat: ChatId,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError> {
        let chat_key = self.chat_key(chat);
        let address_key = format!("{}limit:addr:{}", self.prefix, address.0);
        let member = key.as_uuid().to_string();
        let answer: Vec<i64> = crate::store::redis::run_on(&self.connection, |mut connection| {
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

    async fn forget_chat(&self, chat: ChatId) -> Result<(), StoreError> {
        let key = self.chat_key(chat);
        crate::store::redis::run_on(&self.connection, |mut connection| {
            let key = key.clone();
            async move {
                ::redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut connection)
                    .await
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 9, 7, 9, 0, 0)
            .single()
            .expect("a date")
            + chrono::Duration::minutes(minutes)
    }

    #[tokio::test]
    async fn a_chat_gets_three_codes_an_hour_and_the_fourth_is_told_when() {
        let limits = MemoryLimits::new(CodeLimits::default());
        for n in 0..3 {
            let address = AddressTag::of(&format!("+7912000000{n}"), b"k");
            let taken = limits.take_code(1, &address, OpKey::random(), at(n)).await;
            assert_eq!(taken, Ok(Ok(())));
        }
        let address = AddressTag::of("+79120000009", b"k");
        let over = limits.take_code(1, &address, OpKey::random(), at(10)).await;
        assert_eq!(over, Ok(Err(TryAgainIn(Duration::from_secs(50 * 60)))));
        let later = limits.take_code(1, &address, OpKey::random(), at(61)).await;
        assert_eq!(later, Ok(Ok(())), "an hour after the first");
        let other_chat = limits.take_code(2, &address, OpKey::random(), at(61)).await;
        assert_eq!(other_chat, Ok(Ok(())));
    }

    #[tokio::test]
    async fn a_repeated_operation_is_not_counted_twice() {
        let limits = MemoryLimits::new(CodeLimits {
            per_chat_hour: 1,
            ..CodeLimits::default()
        });
        let address = AddressTag::of("+79120000001", b"k");
        let key = OpKey::random();
        assert_eq!(limits.take_code(1, &address, key, at(0)).await, Ok(Ok(())));
        assert_eq!(limits.take_code(1, &address, key, at(1)).await, Ok(Ok(())));
        assert!(limits
            .take_code(1, &address, OpKey::random(), at(2))
            .await
            .is_ok_and(|r| r.is_err()));
    }

    #[test]
    fn an_address_tag_hides_the_address_and_depends_on_the_key() {
        let tag = AddressTag::of("+79123456789", b"one");
        assert!(!tag.0.contains("9123456789"));
        assert_eq!(tag.0.len(), 32);
        assert_eq!(tag, AddressTag::of("+79123456789", b"one"));
        assert_ne!(tag, AddressTag::of("+79123456789", b"two"));
    }
}
