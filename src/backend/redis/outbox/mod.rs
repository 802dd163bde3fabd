//! The Redis outbox: notices wait in a sorted set until they are due, then go through a Redis
//! Stream read by one consumer group, so that every replica of the bot can send them and each
//! notice is handed to one of them.
//!
//! # Keys
//!
//! Everything lives under the prefix given to [`RedisOutbox::connect`] (`sferum:` in the bot),
//! in [`SHARDS`](super::keys::SHARDS) parts by chat, so that no key is written by every commit
//! (the names of one part `n` on one Redis; in a cluster they are `{prefix}{n}:outbox:…`, see
//! [`super::keys`]):
//!
//! - `{prefix}outbox:{n}:scheduled`: a sorted set of the scheduled notices: member = the
//!   notice id, score = its due time in Unix milliseconds;
//! - `{prefix}outbox:{n}:notice:{id}`: the notice as JSON, from its scheduling until it is
//!   acked. Its existence is what "the id is taken" means: a notice is *scheduled* when its id
//!   is also in the sorted set, *in flight* (moved to the stream, claimed or about to be) when
//!   it is not;
//! - `{prefix}outbox:{n}:stream`: a stream of entries `id <notice id>`, one per due notice,
//!   read by the consumer group [`GROUP`]. An entry is deleted when its notice is acked, so the
//!   stream only holds what is in flight.
//!
//! The versions before the parts kept one `outbox:scheduled`, `outbox:stream` and
//! `outbox:notice:{id}`: on one Redis that part is still claimed from and forgotten in, so
//! notices scheduled before an upgrade (reminders days ahead) are delivered.
//!
//! # Operations
//!
//! The steps that must be atomic are Lua scripts (sent with `EVALSHA`, loaded on `NOSCRIPT`):
//!
//! - [`Outbox::schedule`] is one script. With [`IfScheduled::Keep`] it does nothing when the
//!   notice key exists (scheduled or in flight); with [`IfScheduled::Replace`] it does nothing
//!   when the notice is in flight (a delivery in progress is not disturbed) and otherwise writes
//!   the JSON and the score. So two replicas scheduling the same id keep one notice.
//! - [`Outbox::cancel_all`] is one script for any number of notices: for each, `ZREM`, and `DEL`
//!   of the notice key only if the `ZREM` removed something (an in-flight notice is not
//!   cancelled).
//! - [`Outbox::claim_due`] goes round the parts (on one Redis only those that one pipeline of
//!   `ZCOUNT` and `XLEN` finds work in, so an idle outbox costs one round trip); in each, up to
//!   four round trips:
//!   1. a script moves up to the remaining `max` due members (`ZRANGEBYSCORE -inf now LIMIT 0
//!      max`) from the sorted set to the stream (`ZREM` + `XADD * id <id>`) atomically, so that
//!      two replicas never both move one notice (it also creates the group if the stream is
//!      missing, e.g. after Redis lost its data), and answers the stream's length: an empty
//!      part (the usual case) ends there;
//!   2. `XAUTOCLAIM` (min-idle = `stale_after`) takes over, for this consumer, entries another
//!      consumer read and did not ack in time;
//!   3. `XREADGROUP GROUP senders <consumer> COUNT n STREAMS stream >` (no `BLOCK`) reads new
//!      entries: the group hands each entry to exactly one consumer;
//!   4. one `MGET` loads the notices. An entry whose notice is gone (acked by someone else
//!      meanwhile) is acked and skipped; one whose notice does not decode is acked and dropped
//!      with a warning.
//!
//!   The [`Claimed::receipt`] is the stream entry id.
//! - [`Outbox::ack`] is one script: `XACK` + `XDEL` of the entry, and `DEL` of the notice key if
//!   the entry was still pending (so that a late ack of a consumer whose claim was taken over
//!   never deletes a notice scheduled again under the same id since).
//! - [`Outbox::scheduled_count`] is `ZCARD` of every part, and [`Outbox::backlog`] `ZCOUNT` and
//!   the earliest member of every part: one pipeline on one Redis, one per part in a cluster.
//!
//! # At-least-once delivery
//!
//! A claimed notice stays pending in the group until it is acked. A consumer that crashes (or
//! hangs) after claiming and before acking loses nothing: once the entry has been idle for
//! `stale_after`, the next `claim_due` of any consumer takes it over with `XAUTOCLAIM` and
//! delivers it again. The price is that a consumer that delivered a notice and died just before
//! its ack makes the notice arrive twice: delivery is *at least once*, and `stale_after` must be
//! well above the time one delivery takes. The idle time is measured by Redis on its own clock;
//! the due time is compared with the `now` the caller passes.
//!
//! Consumer names are kept by Redis in the group: give each replica a stable name (its host
//! name, say) rather than a fresh one per start, or the group's list of consumers grows.
//!
//! # When Redis is down
//!
//! As with the [session store](crate::backend::redis::session): [`RedisOutbox::connect`] does not need
//! Redis to be up, the connection is made lazily and re-made by [`ConnectionManager`], and while
//! Redis is unreachable every operation answers [`StoreError::Unavailable`] within
//! [`OPERATION_DEADLINE`](super::OPERATION_DEADLINE) per round trip. A command is retried once only when the connection was
//! refused. Nothing about a notice (its chat, its payload) is ever logged.
//!
//! Each script touches the keys of one part, which in a Redis Cluster share a hash tag. Redis
//! must not evict keys (`maxmemory-policy noeviction`, the default), or notices could vanish.

mod scripts;

use std::time::Duration;

use super::conn::{connect_lazily, glob_escape, load_scripts, Connection, Link};
use super::keys::Keys;
use ::redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use ::redis::{RedisError, Script, Value};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use scripts::{ACK_SCRIPT, CANCEL_SCRIPT, FORGET_SCRIPT, MOVE_SCRIPT, SCHEDULE_SCRIPT};

use crate::notify::{Backlog, Claimed, IfScheduled, Notice, Outbox};
use crate::store::{ChatKey, StoreError};

/// How long a notice key outlives its due time: it names a chat, so it must expire, and long
/// after any delivery attempt could still want it.
pub const NOTICE_KEEP_AFTER_DUE: chrono::Duration = chrono::Duration::days(30);

/// The expiry of a notice key due at `due`, from `now`.
pub fn notice_ttl_ms(due: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    ((due - now).max(chrono::Duration::zero()) + NOTICE_KEEP_AFTER_DUE).num_milliseconds()
}

/// The consumer group every replica reads the stream in.
pub const GROUP: &str = "senders";
/// The most `XAUTOCLAIM` calls one [`Outbox::claim_due`] makes to look through the pending
/// entries (each looks at up to ten times the count asked for).
const AUTOCLAIM_ROUNDS: usize = 8;

/// Notices in Redis; see the [module documentation](self) for the layout and guarantees.
/// Cloning is cheap and clones share the connection.
#[derive(Clone, Debug)]
pub struct RedisOutbox {
    connection: Link,
    keys: Keys,
    schedule_script: Script,
    cancel_script: Script,
    move_script: Script,
    ack_script: Script,
    forget_script: Script,
}

impl RedisOutbox {
    /// An outbox on the Redis at `url` (`redis://[user:password@]host[:port][/db]`), its keys
    /// under `prefix`. Fails only on a URL that cannot be used; Redis being down is logged and
    /// otherwise waited out (see the module documentation). Must be called within a Tokio
    /// runtime.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let (connection, keys) = connect_lazily(url, prefix)?;
        Ok(Self::on(connection, keys).await)
    }

    /// The outbox beside the session store `store`: the same Redis, connection and prefix, so
    /// that the replies its commits keep are the ones this outbox delivers and cancels.
    pub async fn beside(store: &super::RedisStore) -> Self {
        let (connection, keys) = store.shared();
        Self::on(connection, keys).await
    }

    async fn on(connection: Link, keys: Keys) -> Self {
        let outbox = Self {
            connection,
            keys,
            schedule_script: Script::new(SCHEDULE_SCRIPT),
            cancel_script: Script::new(CANCEL_SCRIPT),
            move_script: Script::new(MOVE_SCRIPT),
            ack_script: Script::new(ACK_SCRIPT),
            forget_script: Script::new(FORGET_SCRIPT),
        };
        // Connect now, create the group and load the scripts, so that the first notice pays for
        // none of it; if Redis is down, say so and carry on.
        match outbox.prepare().await {
            Ok(()) => tracing::info!("outbox connected to Redis"),
            Err(error) => {
                tracing::warn!(%error, "Redis is unreachable for now; notices wait for it")
            }
        }
        outbox
    }

    /// The sorted set of the scheduled notice ids that `chat`'s are among.
    pub fn scheduled_key(&self, chat: ChatKey) -> String {
        self.keys.scheduled(self.keys.outbox_shard(chat))
    }

    /// The stream that `chat`'s due notices go through.
    pub fn stream_key(&self, chat: ChatKey) -> String {
        self.keys.stream(self.keys.outbox_shard(chat))
    }

    /// The key holding the JSON of `chat`'s notice `id`.
    pub fn notice_key(&self, chat: ChatKey, id: &str) -> String {
        self.keys.notice(self.keys.outbox_shard(chat), id)
    }

    /// The outbox's parts (see [`Keys::outbox_parts`]).
    fn shards(&self) -> impl Iterator<Item = Shard> + '_ {
        self.keys.outbox_parts().into_iter().map(|n| self.part(n))
    }

    fn part(&self, n: i64) -> Shard {
        Shard {
            n,
            scheduled: self.keys.scheduled(n),
            stream: self.keys.stream(n),
        }
    }

    async fn prepare(&self) -> Result<(), StoreError> {
        // The legacy part's stream is only made if it ever has something to move.
        for shard in self.shards().filter(|s| s.n != super::keys::LEGACY_PART) {
            self.connection
                .run(|mut connection| {
                    let stream = shard.stream.clone();
                    async move { create_group(&mut connection, &stream).await }
                })
                .await?;
        }
        load_scripts(
            &self.connection,
            &[
                &self.schedule_script,
                &self.cancel_script,
                &self.move_script,
                &self.ack_script,
                &self.forget_script,
            ],
        )
        .await
    }

    /// Takes over, for `consumer`, up to `max` entries pending longer than `stale_after`.
    async fn reclaim_stale(
        &self,
        shard: &Shard,
        consumer: &str,
        max: usize,
        stale_after: Duration,
    ) -> Result<Vec<StreamId>, StoreError> {
        let min_idle = i64::try_from(stale_after.as_millis()).unwrap_or(i64::MAX);
        let mut cursor = "0-0".to_owned();
        let mut taken = Vec::new();
        for _ in 0..AUTOCLAIM_ROUNDS {
            let count = max - taken.len();
            let reply: Option<StreamAutoClaimReply> = self
                .connection
                .run(|mut connection| {
                    let mut autoclaim = ::redis::cmd("XAUTOCLAIM");
                    autoclaim
                        .arg(&shard.stream)
                        .arg(GROUP)
                        .arg(consumer)
                        .arg(min_idle)
                        .arg(&cursor)
                        .arg("COUNT")
                        .arg(count);
                    async move {
                        match autoclaim.query_async(&mut connection).await {
                            // No group (no stream yet): nothing is pending.
                            Err(error) if error.code() == Some("NOGROUP") => Ok(None),
                            other => other.map(Some),
                        }
                    }
                })
                .await?;
            let Some(reply) = reply else {
                break;
            };
            if !reply.claimed.is_empty() {
                tracing::info!(
                    consumer,
                    count = reply.claimed.len(),
                    "took over notices another consumer left unacked"
                );
            }
            taken.extend(reply.claimed);
            if taken.len() >= max || reply.next_stream_id == "0-0" {
                break;
            }
            cursor = reply.next_stream_id;
        }
        Ok(taken)
    }

    /// Asks each of `parts` the same commands, which `ask` adds to a pipeline for a part: one
    /// pipeline on one Redis, one per part in a cluster (a pipeline may not cross slots there).
    /// Answers each part's replies, decoded as `T`, in the order of `parts`.
    async fn ask_parts<T: ::redis::FromRedisValue>(
        &self,
        parts: &[i64],
        ask: impl Fn(&mut ::redis::Pipeline, &Shard),
    ) -> Result<Vec<T>, StoreError> {
        let groups: Vec<&[i64]> = if self.keys.cluster() {
            parts.chunks(1).collect()
        } else {
            vec![parts]
        };
        let mut answers = Vec::with_capacity(parts.len());
        for group in groups.into_iter().filter(|g| !g.is_empty()) {
            let replies: Vec<Value> = self
                .connection
                .run(|mut connection| {
                    let mut pipe = ::redis::pipe();
                    for n in group {
                        ask(&mut pipe, &self.part(*n));
                    }
                    async move { pipe.query_async(&mut connection).await }
                })
                .await?;
            for part in replies.chunks((replies.len() / group.len()).max(1)) {
                let answer =
                    T::from_redis_value_ref(&Value::Array(part.to_vec())).map_err(|e| {
                        StoreError::Unavailable(format!("the outbox answered unexpectedly: {e}"))
                    })?;
                answers.push(answer);
            }
        }
        Ok(answers)
    }

    /// The outbox's parts that may have something to hand out at `now`: on one Redis, the ones
    /// with a notice due or an entry in flight, asked in one pipeline; in a cluster all of them
    /// (asking each part first would cost as much as visiting it).
    async fn parts_with_work(&self, now: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
        let parts = self.keys.outbox_parts();
        if self.keys.cluster() {
            return Ok(parts);
        }
        let counts: Vec<(usize, usize)> = self
            .ask_parts(&parts, |pipe, part| {
                pipe.cmd("ZCOUNT")
                    .arg(&part.scheduled)
                    .arg("-inf")
                    .arg(now.timestamp_millis())
                    .cmd("XLEN")
                    .arg(&part.stream);
            })
            .await?;
        Ok(parts
            .into_iter()
            .zip(counts)
            .filter(|(_, (due, in_flight))| due + in_flight > 0)
            .map(|(n, _)| n)
            .collect())
    }

    /// Moves up to `max` notices due at `now` from the sorted set to the stream; answers how
    /// many entries the stream then holds (in flight: moved, read or not, and not acked).
    async fn move_due(
        &self,
        shard: &Shard,
        now: DateTime<Utc>,
        max: usize,
    ) -> Result<i64, StoreError> {
        self.connection
            .run(|mut connection| {
                let mut invocation = self.move_script.key(&shard.scheduled);
                invocation
                    .key(&shard.stream)
                    .arg(now.timestamp_millis())
                    .arg(max)
                    .arg(GROUP);
                async move { invocation.invoke_async::<i64>(&mut connection).await }
            })
            .await
    }

    /// Reads up to `max` entries no consumer has read yet, for `consumer`.
    async fn read_new(
        &self,
        shard: &Shard,
        consumer: &str,
        max: usize,
    ) -> Result<Vec<StreamId>, StoreError> {
        let reply: Option<StreamReadReply> = self
            .connection
            .run(|mut connection| {
                let mut read = ::redis::cmd("XREADGROUP");
                read.arg("GROUP")
                    .arg(GROUP)
                    .arg(consumer)
                    .arg("COUNT")
                    .arg(max)
                    .arg("STREAMS")
                    .arg(&shard.stream)
                    .arg(">");
                let stream = shard.stream.clone();
                async move {
                    match read.query_async(&mut connection).await {
                        // The stream is there but its group is not (someone removed it): make
                        // it again and read once more.
                        Err(error) if error.code() == Some("NOGROUP") => {
                            create_group(&mut connection, &stream).await?;
                            read.query_async(&mut connection).await
                        }
                        other => other,
                    }
                }
            })
            .await?;
        Ok(reply
            .map(|reply| reply.keys.into_iter().flat_map(|key| key.ids).collect())
            .unwrap_or_default())
    }

    /// Loads the notices of `entries`; acks and skips entries whose notice is gone or damaged.
    async fn load_notices(
        &self,
        shard: &Shard,
        entries: Vec<StreamId>,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut found = Vec::with_capacity(entries.len());
        for entry in entries {
            match entry.get::<String>("id") {
                Some(id) => found.push((entry.id, id)),
                None => {
                    tracing::warn!(receipt = %entry.id, "outbox entry without a notice id dropped");
                    self.ack_entry(shard, &entry.id, None).await?;
                }
            }
        }
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = found
            .iter()
            .map(|(_, id)| self.keys.notice(shard.n, id))
            .collect();
        let stored: Vec<Option<Vec<u8>>> = self
            .connection
            .run(|mut connection| {
                let mut get = ::redis::cmd("MGET");
                get.arg(&keys);
                async move { get.query_async(&mut connection).await }
            })
            .await?;
        let mut claimed = Vec::with_capacity(found.len());
        for ((receipt, id), json) in found.into_iter().zip(stored) {
            let Some(json) = json else {
                // Acked by another consumer since it was read: nothing left to deliver.
                tracing::debug!(%receipt, "outbox entry whose notice is gone skipped");
                self.ack_entry(shard, &receipt, None).await?;
                continue;
            };
            match serde_json::from_slice::<Notice>(&json) {
                Ok(notice) if notice.id == id => claimed.push(Claimed {
                    notice,
                    receipt: shard.receipt(&receipt),
                }),
                Ok(_) => {
                    tracing::warn!(%receipt, "outbox notice stored under another id dropped");
                    self.ack_entry(shard, &receipt, Some(&id)).await?;
                }
                Err(error) => {
                    // The error text may quote the notice: log only its category.
                    let category = format!("{:?}", error.classify());
                    tracing::warn!(%receipt, %category, "outbox notice does not decode; dropped");
                    self.ack_entry(shard, &receipt, Some(&id)).await?;
                }
            }
        }
        Ok(claimed)
    }

    /// Acks and deletes the stream entry `receipt`, and deletes the notice `id` if the entry was
    /// still pending. Answers whether it was.
    async fn ack_entry(
        &self,
        shard: &Shard,
        receipt: &str,
        id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let notice_key = id.map(|id| self.keys.notice(shard.n, id));
        let acked: i64 = self
            .connection
            .run(|mut connection| {
                let mut invocation = self.ack_script.key(&shard.stream);
                if let Some(notice_key) = &notice_key {
                    invocation.key(notice_key);
                }
                invocation.arg(GROUP).arg(receipt);
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        Ok(acked == 1)
    }
}

#[async_trait]
impl Outbox for RedisOutbox {
    async fn schedule(
        &self,
        notice: &Notice,
        due: DateTime<Utc>,
        if_scheduled: IfScheduled,
    ) -> Result<bool, StoreError> {
        let json = serde_json::to_string(notice)
            .map_err(|e| StoreError::Unavailable(format!("cannot encode the notice: {e}")))?;
        let notice_key = self.notice_key(notice.chat, &notice.id);
        let scheduled_key = self.scheduled_key(notice.chat);
        let mode = match if_scheduled {
            IfScheduled::Keep => "keep",
            IfScheduled::Replace => "replace",
        };
        let scheduled: i64 = self
            .connection
            .run(|mut connection| {
                let mut invocation = self.schedule_script.key(&scheduled_key);
                invocation
                    .key(&notice_key)
                    .arg(&notice.id)
                    .arg(&json)
                    .arg(due.timestamp_millis())
                    .arg(mode)
                    .arg(notice_ttl_ms(due, Utc::now()));
                async move { invocation.invoke_async(&mut connection).await }
            })
            .await?;
        Ok(scheduled == 1)
    }

    async fn cancel_all(&self, notices: &[(ChatKey, &str)]) -> Result<(), StoreError> {
        // One script per part of the outbox the notices are in (one on one Redis).
        for shard in self.shards() {
            let (keys, ids): (Vec<String>, Vec<&str>) = notices
                .iter()
                .filter(|(chat, _)| self.keys.outbox_shard(*chat) == shard.n)
                .map(|(_, id)| (self.keys.notice(shard.n, id), *id))
                .unzip();
            if ids.is_empty() {
                continue;
            }
            self.connection
                .run(|mut connection| {
                    let mut invocation = self.cancel_script.key(&shard.scheduled);
                    invocation.key(&keys).arg(&ids);
                    async move { invocation.invoke_async::<i64>(&mut connection).await }
                })
                .await?;
        }
        Ok(())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        consumer: &str,
        max: usize,
        stale_after: Duration,
    ) -> Result<Vec<Claimed>, StoreError> {
        // Part by part, from one that changes with the time, so that no part waits for the
        // others to be empty. A part with nothing in its stream after the move costs that one
        // round trip; on one Redis, parts with nothing due and nothing in flight are not
        // visited at all.
        let mut claimed = Vec::new();
        let parts = self.parts_with_work(now).await?;
        if parts.is_empty() {
            return Ok(claimed);
        }
        let count = i64::try_from(parts.len()).unwrap_or(1).max(1);
        let first = usize::try_from(now.timestamp_millis().rem_euclid(count)).unwrap_or(0);
        for k in 0..parts.len() {
            let room = max.saturating_sub(claimed.len());
            if room == 0 {
                break;
            }
            let shard = self.part(parts[(first + k) % parts.len()]);
            if self.move_due(&shard, now, room).await? == 0 {
                continue;
            }
            let mut entries = self
                .reclaim_stale(&shard, consumer, room, stale_after)
                .await?;
            let left = room.saturating_sub(entries.len());
            if left > 0 {
                entries.extend(self.read_new(&shard, consumer, left).await?);
            }
            claimed.extend(self.load_notices(&shard, entries).await?);
        }
        Ok(claimed)
    }

    async fn ack(&self, claimed: &Claimed) -> Result<(), StoreError> {
        let Some((n, entry)) = Shard::read_receipt(&claimed.receipt) else {
            // Not this outbox's receipt (another adapter's): it names nothing here.
            return Ok(());
        };
        self.ack_entry(&self.part(n), entry, Some(&claimed.notice.id))
            .await?;
        Ok(())
    }

    async fn scheduled_count(&self) -> Result<usize, StoreError> {
        let counts: Vec<(usize,)> = self
            .ask_parts(&self.keys.outbox_parts(), |pipe, part| {
                pipe.cmd("ZCARD").arg(&part.scheduled);
            })
            .await?;
        Ok(counts.into_iter().map(|(n,)| n).sum())
    }

    async fn backlog(&self, now: DateTime<Utc>) -> Result<Backlog, StoreError> {
        // Per part: the count of due notices and the earliest one.
        let parts: Vec<(usize, Vec<(String, f64)>)> = self
            .ask_parts(&self.keys.outbox_parts(), |pipe, part| {
                pipe.cmd("ZCOUNT")
                    .arg(&part.scheduled)
                    .arg("-inf")
                    .arg(now.timestamp_millis())
                    .cmd("ZRANGE")
                    .arg(&part.scheduled)
                    .arg(0)
                    .arg(0)
                    .arg("WITHSCORES");
            })
            .await?;
        let due = parts.iter().map(|(due, _)| due).sum();
        let oldest_due = parts
            .iter()
            .filter_map(|(_, first)| first.first())
            // Scores are whole milliseconds.
            .filter_map(|(_, ms)| DateTime::<Utc>::from_timestamp_millis(ms.round() as i64))
            .filter(|at| *at <= now)
            .min();
        Ok(Backlog { due, oldest_due })
    }

    async fn forget_chat(&self, chat: ChatKey) -> Result<usize, StoreError> {
        let mut dropped = 0;
        for part in self.keys.outbox_parts() {
            // The chat's own part, and the one part of the versions before the shards.
            if part == self.keys.outbox_shard(chat) || part == super::keys::LEGACY_PART {
                dropped += self.forget_in(chat, part).await?;
            }
        }
        Ok(dropped)
    }
}

impl RedisOutbox {
    /// Drops every notice of `chat` in outbox part `part`, one `SCAN` step per round trip.
    async fn forget_in(&self, chat: ChatKey, part: i64) -> Result<usize, StoreError> {
        let scheduled = self.keys.scheduled(part);
        let pattern = format!("{}*", glob_escape(&self.keys.notice(part, "")));
        let mut cursor = "0".to_owned();
        let mut dropped = 0;
        loop {
            let (next, gone): (String, usize) = self
                .connection
                .run(|mut connection| {
                    let mut invocation = self.forget_script.key(&scheduled);
                    invocation
                        .arg(&pattern)
                        .arg(chat.to_string())
                        .arg(&cursor)
                        .arg(crate::backend::redis::SCAN_BATCH);
                    async move { invocation.invoke_async(&mut connection).await }
                })
                .await?;
            dropped += gone;
            if next == "0" {
                return Ok(dropped);
            }
            cursor = next;
        }
    }
}

/// Creates the consumer group of `stream` (and the stream), reading from its start; a group that
/// exists already is fine.
async fn create_group(connection: &mut Connection, stream: &str) -> Result<(), RedisError> {
    let created: Result<(), RedisError> = ::redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(connection)
        .await;
    match created {
        Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}

/// One part of the outbox: its number, sorted set and stream.
struct Shard {
    n: i64,
    scheduled: String,
    stream: String,
}

impl Shard {
    /// The receipt of the stream entry `entry` of this part: `{part}/{entry id}`.
    fn receipt(&self, entry: &str) -> String {
        format!("{}/{entry}", self.n)
    }

    /// The part and the entry id of a receipt of this outbox.
    fn read_receipt(receipt: &str) -> Option<(i64, &str)> {
        let (n, entry) = receipt.split_once('/')?;
        let n = n.parse().ok().filter(|n: &i64| *n >= 0)?;
        is_entry_id(entry).then_some((n, entry))
    }
}

/// True for a stream entry id (`<milliseconds>-<sequence>`).
fn is_entry_id(text: &str) -> bool {
    let mut parts = text.splitn(2, '-');
    let digits = |part: Option<&str>| {
        part.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next()) && digits(parts.next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_names_the_part_and_the_entry() {
        let shard = Shard {
            n: 7,
            scheduled: String::new(),
            stream: String::new(),
        };
        let receipt = shard.receipt("1700000000000-0");
        assert_eq!(Shard::read_receipt(&receipt), Some((7, "1700000000000-0")));
        assert_eq!(Shard::read_receipt("1700000000000-0"), None);
        assert_eq!(Shard::read_receipt("x/1-0"), None);
        assert_eq!(Shard::read_receipt("3/1-"), None);
    }

    #[test]
    fn receipts_are_stream_entry_ids() {
        assert!(is_entry_id("1700000000000-0"));
        assert!(is_entry_id("0-12"));
        assert!(!is_entry_id("17"));
        assert!(!is_entry_id("17-"));
        assert!(!is_entry_id("-1"));
        assert!(!is_entry_id("a-1"));
        assert!(!is_entry_id("1-2-3"));
    }
}
