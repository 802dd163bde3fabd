//! The Redis session store: conversations survive restarts, are shared by every replica, and an
//! update Telegram delivers twice is handled once.
//!
//! # Keys
//!
//! Everything lives under [`RedisStoreConfig::prefix`] (`sferum:` by default):
//!
//! - `{prefix}session:{chat}`: a string, `{rev} {mark} {lang}\n{session}`: the
//!   [`Revision`], the chat's last committed Telegram update (see [`crate::store::marked`] for
//!   why one number per chat is enough; 0 for none), the session's language (so that a message
//!   from outside the chat's turn reads a few bytes, not the session), then the session as
//!   [`crate::store::encode`] keeps it (JSON, packed when long). One string rather than a
//!   hash: Redis keeps a hash with a value this long as a hash table, about 400 bytes more per
//!   chat than the string. One key, so that the revision and
//!   the data never drift apart, one `DEL` forgets a chat, one `PEXPIRE` ages it all, and a
//!   listing finds exactly one key per chat. Its expiry, [`RedisStoreConfig::session_ttl`], is
//!   set again by every save: a conversation nobody touches for that long disappears by itself.
//!   Versions before kept a hash (`rev`, `data`, `lang`, `upd`); it is read as it is and
//!   replaced by the string at the chat's next save.
//! - `{prefix}update:max:{update_id}`: `1`, set by the commit of a MAX update's turn with
//!   [`RedisStoreConfig::dedupe_ttl`]; its existence means "this update's turn is committed".
//!   It says nothing about who sent it. (Versions before the mark wrote `{prefix}update:{id}`
//!   for Telegram updates too; a claim still looks for one, and they expire within a day.)
//! - `{prefix}funnel:{day}:{shard}` and `{prefix}unmatched:{day}:{shard}`: the operators'
//!   counts of a school day (a hash of funnel fields, a sorted set of masked questions), spread
//!   over [`SHARDS`](super::keys::SHARDS) keys by chat, grown by the commit in the same call and kept
//!   [`FUNNEL_DAYS`] and [`UNMATCHED_DAYS`] after their last write.
//! - the outbox's keys (`{prefix}outbox:…`, see [`crate::backend::redis::outbox`]): the commit keeps a
//!   turn's replies there as one notice, due after [`crate::runtime::REPLY_GRACE`].
//!
//! # Round trips
//!
//! Every operation is one command, so one round trip: the ones that must be atomic are Lua
//! scripts sent with `EVALSHA` (the script is loaded by `SCRIPT LOAD` only when the server answers
//! `NOSCRIPT`, i.e. on its first use after a server start).
//!
//! - [`SessionStore::claim`] answers "already committed" for a redelivered update, and
//!   otherwise returns the session's fields, in one script; it marks nothing;
//! - [`SessionStore::commit`] compares the stored revision with the expected one and checks
//!   that the update was not committed meanwhile; then writes the data and `rev + 1`, sets the
//!   expiry, records the update id and keeps the replies in the outbox, in one script. A crash
//!   before it leaves nothing behind: the redelivered update runs again, with the same
//!   idempotency keys.
//!
//! So a common update costs two round trips before its replies go out (claim + commit), and
//! one more once they are delivered: the outbox drops the kept replies
//! ([`crate::runtime::Assistant::delivered`]). A conflicting commit costs one more claim and commit
//! per retry of the runtime.
//!
//! # Damaged data
//!
//! A session that does not decode (garbage, another version's format) or a key of the wrong type
//! is reported as `Loaded { session: None, .. }`; the runtime then starts the conversation again
//! politely and its save replaces the damaged value. Neither the session nor the reason it failed
//! to decode is ever logged: both may carry a child's name, phone or email.
//!
//! # When Redis is down
//!
//! [`RedisStore::connect`] does not need Redis to be up: the connection is made lazily and
//! re-made by [`ConnectionManager`] whenever it breaks. While Redis is unreachable every operation
//! answers [`StoreError::Unavailable`] within [`OPERATION_DEADLINE`](super::OPERATION_DEADLINE) (connection and response
//! timeouts are [`CONNECT_TIMEOUT`](super::CONNECT_TIMEOUT) and [`RESPONSE_TIMEOUT`](super::RESPONSE_TIMEOUT)); the first operation after Redis is
//! back succeeds. An operation is retried once only when the connection was refused, i.e. when
//! the command certainly never reached a server; nothing is retried after it may have been
//! executed.
//!
//! Unless the URL chooses a protocol (`?protocol=…`), RESP3 is used (Redis 6 or later): with it
//! the connection manager notices a dropped connection at once and reconnects in the background,
//! instead of on the next command's failure.
//!
//! # Redis Cluster
//!
//! Several comma-separated URLs in `REDIS_URL` are a cluster's seed nodes. Then every key a
//! chat's claim or commit touches carries the hash tag of the chat's shard (see
//! [`super::keys`]), so each script runs on one slot of one node.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::NaiveDate;

use ::redis::{Script, Value};
use async_trait::async_trait;

use super::conn::{connect_lazily, load_scripts, millis, Link, SCAN_BATCH};
use super::keys::{shard_of, Keys, SHARDS};
use super::outbox::notice_ttl_ms;
use crate::store::{
    ChatKey, Claim, Commit, Committed, Loaded, Revision, SessionStore, StoreError, FUNNEL_DAYS,
    UNMATCHED_DAYS,
};

/// `days` in milliseconds, for an expiry.
fn days_ms(days: u32) -> u64 {
    u64::from(days) * 86_400_000
}

/// `KEYS[1]`: the session; `KEYS[2]` (claim only): the update's key. `ARGV[1]`: the update's
/// id when it is marked in the session ([`crate::store::marked`]), else ''. Marks nothing: the
/// commit records the update. Reads both layouts: the string (see the module documentation) and
/// the hash of versions before it.
///
/// Answers `{0}` for an update already committed, `{1}` when no session is stored, `{1, rev}` when
/// something undecodable is stored, and `{1, rev, data}` otherwise. (A Lua array ends at its
/// first nil, so a missing `data` field gives `{1, rev}`.)
const CLAIM_SCRIPT: &str = r"
if #KEYS == 2 and redis.call('EXISTS', KEYS[2]) == 1 then
  return {0}
end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' then
  return {1}
end
local rev, mark, data
if kind == 'string' then
  local r, m, body = string.match(redis.call('GET', KEYS[1]), '^(%d+) (%d+) [^\n]*\n(.*)$')
  if not r then
    return {1, 0}
  end
  rev, mark, data = tonumber(r), tonumber(m), body
elseif kind == 'hash' then
  local fields = redis.call('HMGET', KEYS[1], 'rev', 'data', 'upd')
  rev, mark, data = tonumber(fields[1]) or 0, tonumber(fields[3]), fields[2]
else
  return {1, 0}
end
if ARGV[1] ~= '' and mark and tonumber(ARGV[1]) <= mark then
  return {0}
end
return {1, rev, data}
";

/// The commit of one turn. `KEYS`: the session, the update's key (the session again without a
/// key of its own), the outbox's sorted set, the day's funnel hash, the day's unanswered
/// questions (a sorted set), then one key per notice. `ARGV`: the expected revision (0:
/// nothing stored), the session's bytes, its expiry in milliseconds, the update key's expiry (''
/// without an update), the session's language (kept beside the data, so that a message to this
/// chat from outside its turn need not decode the session), the funnel's expiry (ms), the
/// unanswered question ('' for none), its expiry (ms), the number N of funnel fields, the
/// update's id when it is marked in the session ([`crate::store::marked`]; '' otherwise), then N pairs
/// (field, increment), then four per notice: its id, its JSON, its due time (ms) and its key's
/// expiry (ms).
///
/// A notice whose key exists but is not in the sorted set is being delivered: it is left
/// alone, as the outbox's `replace` does. Answers `{1, new revision}` when committed;
/// `{0, stored revision}` on a conflict, and `{0, -1}` when the update was committed
/// meanwhile (by another replica). A key of another type counts as revision 0 and is replaced.
const COMMIT_SCRIPT: &str = r"
if ARGV[4] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  return {0, -1}
end
local kind = redis.call('TYPE', KEYS[1]).ok
local current, mark = 0, 0
if kind == 'string' then
  local r, m = string.match(redis.call('GETRANGE', KEYS[1], 0, 48), '^(%d+) (%d+) ')
  current, mark = tonumber(r) or 0, tonumber(m) or 0
elseif kind == 'hash' then
  current = tonumber(redis.call('HGET', KEYS[1], 'rev')) or 0
  mark = tonumber(redis.call('HGET', KEYS[1], 'upd')) or 0
end
if ARGV[10] ~= '' and tonumber(ARGV[10]) <= mark then
  return {0, -1}
end
if current ~= tonumber(ARGV[1]) then
  return {0, current}
end
local rev = current + 1
if ARGV[10] ~= '' then
  mark = ARGV[10]
end
redis.call('SET', KEYS[1], rev .. ' ' .. mark .. ' ' .. ARGV[5] .. '\n' .. ARGV[2], 'PX', ARGV[3])
if ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
end
local fields = tonumber(ARGV[9])
for f = 0, fields - 1 do
  redis.call('HINCRBY', KEYS[4], ARGV[11 + 2 * f], ARGV[12 + 2 * f])
end
if fields > 0 then
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
if ARGV[7] ~= '' then
  redis.call('ZINCRBY', KEYS[5], 1, ARGV[7])
  redis.call('PEXPIRE', KEYS[5], ARGV[8])
end
local notices = 11 + 2 * fields
for i = 6, #KEYS do
  local at = notices + (i - 6) * 4
  local id = ARGV[at]
  local in_flight = redis.call('EXISTS', KEYS[i]) == 1 and not redis.call('ZSCORE', KEYS[3], id)
  if not in_flight then
    redis.call('SET', KEYS[i], ARGV[at + 1], 'PX', ARGV[at + 3])
    redis.call('ZADD', KEYS[3], ARGV[at + 2], id)
  end
end
return {1, rev}
";

/// `KEYS[1]`: the session. Answers its language from the string's head (or the hash's `lang`
/// field of versions before it), nil when neither holds one.
const LANGUAGE_SCRIPT: &str = r"
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  return string.match(redis.call('GETRANGE', KEYS[1], 0, 63), '^%d+ %d+ (%S+)\n')
elseif kind == 'hash' then
  return redis.call('HGET', KEYS[1], 'lang')
end
return false
";

/// Where and for how long the store keeps things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisStoreConfig {
    /// Prepended to every key, so that several bots (or environments) can share one Redis.
    pub prefix: String,
    /// How long a session lives after its latest save.
    pub session_ttl: Duration,
    /// How long an update id is remembered (Telegram redelivers for much less than a day).
    pub dedupe_ttl: Duration,
}

impl Default for RedisStoreConfig {
    fn default() -> Self {
        Self {
            prefix: "sferum:".to_owned(),
            session_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            dedupe_ttl: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Sessions in Redis; see the [module documentation](self) for the layout and guarantees.
/// Cloning is cheap and clones share the connection.
#[derive(Clone, Debug)]
pub struct RedisStore {
    connection: Link,
    keys: Keys,
    session_ttl_ms: u64,
    dedupe_ttl_ms: u64,
    claim_script: Script,
    commit_script: Script,
    language_script: Script,
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`; `rediss://`
    /// would need a TLS feature of redis-rs, which this build does not enable). Fails only on a
    /// URL that cannot be used; Redis being down is logged and otherwise waited out (see the
    /// module documentation). Must be called within a Tokio runtime.
    pub async fn connect(url: &str, config: RedisStoreConfig) -> Result<Self, StoreError> {
        let (connection, keys) = connect_lazily(url, &config.prefix)?;
        let store = Self {
            keys,
            connection,
            session_ttl_ms: millis(config.session_ttl),
            dedupe_ttl_ms: millis(config.dedupe_ttl),
            claim_script: Script::new(CLAIM_SCRIPT),
            commit_script: Script::new(COMMIT_SCRIPT),
            language_script: Script::new(LANGUAGE_SCRIPT),
        };
        // Connect now and load the scripts, so that the first update pays for neither; if Redis
        // is down, say so and carry on.
        match store.load_scripts().await {
            Ok(()) => tracing::info!("connected to Redis"),
            Err(error) => {
                tracing::warn!(%error, "Redis is unreachable for now; sessions wait for it")
            }
        }
        Ok(store)
    }

    /// How many sessions are stored under the prefix, found with `SCAN` (never `KEYS`, which
    /// would block Redis). Takes one round trip per [`SCAN_BATCH`] keys of the whole database.
    /// On one Redis only: a cluster's keys are spread over its nodes.
    pub async fn session_count(&self) -> Result<usize, StoreError> {
        if self.keys.cluster() {
            return Err(StoreError::Unavailable(
                "sessions are counted on one Redis only".to_owned(),
            ));
        }
        let pattern = self.keys.session_pattern();
        let mut seen = HashSet::new();
        let mut cursor = 0_u64;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = self
                .connection
                .run(|mut connection| {
                    let pattern = pattern.clone();
                    async move {
                        ::redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(pattern)
                            .arg("COUNT")
                            .arg(SCAN_BATCH)
                            .query_async(&mut connection)
                            .await
                    }
                })
                .await?;
            // SCAN may return a key more than once; count each once.
            seen.extend(keys);
            if next == 0 {
                return Ok(seen.len());
            }
            cursor = next;
        }
    }

    /// The connection and the key names, for the adapters that live beside this store.
    pub fn shared(&self) -> (Link, Keys) {
        (self.connection.clone(), self.keys.clone())
    }

    /// `chat`'s share of the funnel of `day`: a hash of field → count. The day is spread over
    /// [`SHARDS`] keys by chat, so that no key is written by every commit of every chat.
    pub fn funnel_key(&self, day: NaiveDate, chat: ChatKey) -> String {
        self.keys.counts("funnel", day, shard_of(chat))
    }

    /// `chat`'s share of the questions not understood on `day`: a sorted set of masked
    /// question → times asked, spread as the funnel is.
    pub fn unmatched_key(&self, day: NaiveDate, chat: ChatKey) -> String {
        self.keys.counts("unmatched", day, shard_of(chat))
    }

    /// Every shard of a day's counts under `name`.
    fn count_keys(&self, name: &str, day: NaiveDate) -> Vec<String> {
        (0..SHARDS)
            .map(|n| self.keys.counts(name, day, n))
            .collect()
    }

    /// The key of `chat`'s session.
    pub fn session_key(&self, chat: ChatKey) -> String {
        self.keys.session(chat)
    }

    /// The key that marks `chat`'s update `update_id` as taken (MAX's; Telegram's were keys
    /// too before the per-chat mark).
    pub fn update_key(&self, chat: ChatKey, update_id: i64) -> String {
        self.keys.update(chat, update_id)
    }

    async fn load_scripts(&self) -> Result<(), StoreError> {
        load_scripts(
            &self.connection,
            &[
                &self.claim_script,
                &self.commit_script,
                &self.language_script,
            ],
        )
        .await
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn claim(&self, chat: ChatKey, update_id: Option<i64>) -> Result<Claim, StoreError> {
        let session_key = self.session_key(chat);
        // A Telegram update's own key is still looked for: versions before the mark wrote one
        // (it expires within a day of the upgrade).
        let update_key = update_id.map(|id| self.update_key(chat, id));
        let mark =
            crate::store::marked(chat, update_id).map_or_else(String::new, |id| id.to_string());
        let reply: Vec<Value> = self
            .connection
            .run(|mut connection| {
                let mut invocation = self.claim_script.key(&session_key);
                invocation.arg(&mark);
                if let Some(update_key) = &update_key {
                    invocation.key(update_key);
                }
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        decode_claim(chat, &reply)
    }

    async fn commit(&self, chat: ChatKey, commit: &Commit<'_>) -> Result<Committed, StoreError> {
        let bytes = crate::store::encode(commit.session)?;
        let key = self.session_key(chat);
        let mark = crate::store::marked(chat, commit.update_id);
        // An update marked in the session needs no key of its own.
        let keyed = commit.update_id.filter(|_| mark.is_none());
        let update_key = keyed.map_or_else(|| key.clone(), |id| self.update_key(chat, id));
        let update_ttl = keyed.map_or_else(String::new, |_| self.dedupe_ttl_ms.to_string());
        let mark = mark.map_or_else(String::new, |id| id.to_string());
        let mut notice_keys = Vec::with_capacity(commit.notices.len());
        let mut notice_args = Vec::with_capacity(commit.notices.len() * 4);
        let shard = self.keys.outbox_shard(chat);
        for keep in &commit.notices {
            notice_keys.push(self.keys.notice(shard, &keep.notice.id));
            notice_args.push(keep.notice.id.clone());
            notice_args
                .push(serde_json::to_string(keep.notice).map_err(|e| {
                    StoreError::Unavailable(format!("cannot encode a notice: {e}"))
                })?);
            notice_args.push(keep.due.timestamp_millis().to_string());
            notice_args.push(notice_ttl_ms(keep.due, commit.session.updated_at).to_string());
        }
        let scheduled = self.keys.scheduled(shard);
        let tally = &commit.tally;
        let day = tally.day.unwrap_or_default();
        let mut funnel_args = Vec::with_capacity(tally.counts.len() * 2);
        if tally.day.is_some() {
            for (field, n) in &tally.counts {
                funnel_args.push(field.clone());
                funnel_args.push(n.to_string());
            }
        }
        let unmatched = match (tally.day, &tally.unmatched) {
            (Some(_), Some(question)) => question.as_str(),
            _ => "",
        };
        let (saved, revision): (i64, i64) = self
            .connection
            .run(|mut connection| {
                let mut invocation = self.commit_script.key(&key);
                invocation
                    .key(&update_key)
                    .key(&scheduled)
                    .key(self.funnel_key(day, chat))
                    .key(self.unmatched_key(day, chat))
                    .key(&notice_keys)
                    .arg(commit.expected)
                    .arg(&bytes)
                    .arg(self.session_ttl_ms)
                    .arg(&update_ttl)
                    .arg(&commit.session.lang)
                    .arg(days_ms(FUNNEL_DAYS))
                    .arg(unmatched)
                    .arg(days_ms(UNMATCHED_DAYS))
                    .arg(funnel_args.len() / 2)
                    .arg(&mark)
                    .arg(&funnel_args)
                    .arg(&notice_args);
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        if saved == 1 {
            Ok(Committed {
                revision: revision_of(revision),
                notices_kept: true,
            })
        } else {
            tracing::debug!(
                chat = %chat,
                expected = commit.expected,
                stored = revision,
                "session or update committed meanwhile"
            );
            Err(StoreError::Conflict)
        }
    }

    async fn language(&self, chat: ChatKey) -> Result<Option<String>, StoreError> {
        let key = self.session_key(chat);
        let lang: Option<String> = self
            .connection
            .run(|mut connection| {
                let key = key.clone();
                async move {
                    self.language_script
                        .key(key)
                        .invoke_async::<Option<String>>(&mut connection)
                        .await
                }
            })
            .await?;
        match lang {
            Some(lang) => Ok(Some(lang)),
            // Saved by a version that kept no `lang` field: read it from the session.
            None => Ok(self
                .load(chat)
                .await?
                .and_then(|l| l.session)
                .map(|s| s.lang)),
        }
    }

    /// The day's shards, read one by one (in a cluster they live on different nodes) and
    /// summed.
    async fn funnel_day(&self, day: NaiveDate) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut total = BTreeMap::new();
        for key in self.count_keys("funnel", day) {
            let shard: BTreeMap<String, u64> = self
                .connection
                .run(|mut connection| {
                    let key = key.clone();
                    async move {
                        ::redis::cmd("HGETALL")
                            .arg(key)
                            .query_async(&mut connection)
                            .await
                    }
                })
                .await?;
            for (field, n) in shard {
                *total.entry(field).or_default() += n;
            }
        }
        Ok(total)
    }

    /// The day's shards, read one by one and summed.
    async fn unmatched_day(&self, day: NaiveDate) -> Result<Vec<(String, u64)>, StoreError> {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for key in self.count_keys("unmatched", day) {
            let shard: Vec<(String, f64)> = self
                .connection
                .run(|mut connection| {
                    let key = key.clone();
                    async move {
                        ::redis::cmd("ZRANGE")
                            .arg(key)
                            .arg(0)
                            .arg(-1)
                            .arg("WITHSCORES")
                            .query_async(&mut connection)
                            .await
                    }
                })
                .await?;
            for (question, n) in shard {
                // Scores are whole counts.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = n.round() as u64;
                *counts.entry(question).or_default() += n;
            }
        }
        Ok(counts.into_iter().collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.connection
            .run(|mut connection| async move {
                ::redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            })
            .await
            .map(|_| ())
    }

    async fn delete(&self, chat: ChatKey) -> Result<(), StoreError> {
        // The update keys name no chat: the session is all there is.
        let key = self.session_key(chat);
        self.connection.delete(key).await
    }
}

/// Reads the claim script's answer (see [`CLAIM_SCRIPT`]).
fn decode_claim(chat: ChatKey, reply: &[Value]) -> Result<Claim, StoreError> {
    let malformed = || StoreError::Unavailable("the claim script answered unexpectedly".to_owned());
    match reply {
        [Value::Int(0)] => Ok(Claim::AlreadyHandled),
        [Value::Int(1)] => Ok(Claim::New(None)),
        [Value::Int(1), Value::Int(revision), rest @ ..] => {
            let revision = revision_of(*revision);
            let session = match rest {
                [Value::BulkString(data)] => match crate::store::decode(data) {
                    Ok(session) => Some(session),
                    Err(error) => {
                        // A category only: nothing of the data.
                        tracing::warn!(chat = %chat, revision, %error, "stored session does not decode");
                        None
                    }
                },
                [] | [Value::Nil] => {
                    tracing::warn!(chat = %chat, revision, "stored session has no data");
                    None
                }
                _ => return Err(malformed()),
            };
            Ok(Claim::New(Some(Loaded { session, revision })))
        }
        _ => Err(malformed()),
    }
}

fn revision_of(stored: i64) -> Revision {
    Revision::try_from(stored).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_answer_is_read_in_every_shape() {
        assert_eq!(
            decode_claim(ChatKey::telegram(1), &[Value::Int(0)]),
            Ok(Claim::AlreadyHandled)
        );
        assert_eq!(
            decode_claim(ChatKey::telegram(1), &[Value::Int(1)]),
            Ok(Claim::New(None))
        );
        assert_eq!(
            decode_claim(ChatKey::telegram(1), &[Value::Int(1), Value::Int(7)]),
            Ok(Claim::New(Some(Loaded {
                session: None,
                revision: 7
            })))
        );
        assert_eq!(
            decode_claim(
                ChatKey::telegram(1),
                &[
                    Value::Int(1),
                    Value::Int(3),
                    Value::BulkString(b"\xff{".to_vec())
                ]
            ),
            Ok(Claim::New(Some(Loaded {
                session: None,
                revision: 3
            })))
        );
        assert!(decode_claim(ChatKey::telegram(1), &[]).is_err());
        assert!(decode_claim(ChatKey::telegram(1), &[Value::Okay]).is_err());
    }

    #[test]
    fn the_default_config_keeps_sessions_a_month_and_updates_a_day() {
        let config = RedisStoreConfig::default();
        assert_eq!(config.prefix, "sferum:");
        assert_eq!(config.session_ttl, Duration::from_secs(2_592_000));
        assert_eq!(config.dedupe_ttl, Duration::from_secs(86_400));
    }
}
