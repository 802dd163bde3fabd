//! The outbox of notices the bot sends on its own, as the bot relies on it: nothing is handed
//! out before its time, a notice scheduled twice (by two replicas, say) is sent once, "replace"
//! moves it, two replicas claiming at once never both get one notice, a replica that dies
//! holding a notice only delays it, an acked notice never comes back, a cancelled one never
//! comes, and with Redis all of it survives a restart of the bot and an outage of Redis.
//!
//! Each scenario is written once against `&dyn Outbox` and run on both adapters: on the memory
//! outbox (both "replicas" are the same instance) and on Redis (two `RedisOutbox` instances on
//! one `redis-server` of its own, see `redis_server`), as `outbox::<scenario>::{memory,redis}`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use redis::streams::StreamPendingReply;
use redis::AsyncCommands;

use sferum_bot::backend::memory::MemoryOutbox;
use sferum_bot::backend::redis::{RedisOutbox, GROUP};
use sferum_bot::notify::{Claimed, IfScheduled, Notice, NoticeKind, Outbox};
use sferum_bot::store::{ChatKey, StoreError};

use super::redis_server::{RedisCluster, RedisServer};

const PREFIX: &str = "sferum:";
/// A `stale_after` no test waits for.
const NEVER: Duration = Duration::from_secs(600);
/// A `stale_after` the tests do wait for.
const STALE: Duration = Duration::from_millis(200);
/// Comfortably longer than [`STALE`].
const PAST_STALE: Duration = Duration::from_millis(400);
/// An outage must be reported well within this.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Runs a scenario `fn(a, b)` on the memory outbox (`a` and `b` the same), on two Redis
/// outboxes sharing one server (two replicas), and on two sharing a Redis Cluster.
macro_rules! on_both {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let outbox = MemoryOutbox::new();
                super::$scenario(&outbox, &outbox).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                let server = RedisServer::start();
                let a = redis_outbox(&server.url()).await;
                let b = redis_outbox(&server.url()).await;
                super::$scenario(&a, &b).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis_cluster() {
                let cluster = RedisCluster::start();
                let a = redis_outbox(&cluster.url()).await;
                let b = redis_outbox(&cluster.url()).await;
                super::$scenario(&a, &b).await;
            }
        }
    };
}

on_both!(nothing_is_handed_out_before_it_is_due);
on_both!(keep_schedules_a_notice_once);
on_both!(replace_moves_the_time_and_the_payload);
on_both!(two_consumers_at_once_share_the_notices_without_overlap);
on_both!(an_unacked_claim_is_taken_over_after_stale_after_only);
on_both!(an_acked_notice_never_comes_back);
on_both!(cancel_drops_a_scheduled_notice_but_not_one_in_flight);
on_both!(forget_chat_drops_every_notice_of_the_chat_and_no_other);

async fn redis_outbox(url: &str) -> RedisOutbox {
    RedisOutbox::connect(url, PREFIX)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

fn new_application(application: &str) -> Notice {
    Notice {
        id: format!("new-application:{application}"),
        chat: ChatKey::telegram(-100_500),
        kind: NoticeKind::NewApplication {
            application_id: application.to_owned(),
        },
    }
}

fn event(id: &str, event: &str) -> Notice {
    Notice {
        id: id.to_owned(),
        chat: ChatKey::telegram(4242),
        kind: NoticeKind::Event {
            event: event.to_owned(),
        },
    }
}

fn ms(millis: i64) -> TimeDelta {
    TimeDelta::milliseconds(millis)
}

async fn schedule(
    outbox: &dyn Outbox,
    notice: &Notice,
    due: DateTime<Utc>,
    if_scheduled: IfScheduled,
) -> bool {
    outbox
        .schedule(notice, due, if_scheduled)
        .await
        .unwrap_or_else(|e| panic!("schedule {}: {e}", notice.id))
}

async fn claim(
    outbox: &dyn Outbox,
    now: DateTime<Utc>,
    consumer: &str,
    stale_after: Duration,
) -> Vec<Claimed> {
    claim_at_most(outbox, now, consumer, 100, stale_after).await
}

async fn claim_at_most(
    outbox: &dyn Outbox,
    now: DateTime<Utc>,
    consumer: &str,
    max: usize,
    stale_after: Duration,
) -> Vec<Claimed> {
    let claimed = outbox
        .claim_due(now, consumer, max, stale_after)
        .await
        .unwrap_or_else(|e| panic!("claim for {consumer}: {e}"));
    assert!(claimed.len() <= max, "{} > {max}", claimed.len());
    claimed
}

async fn ack(outbox: &dyn Outbox, claimed: &Claimed) {
    outbox
        .ack(claimed)
        .await
        .unwrap_or_else(|e| panic!("ack {}: {e}", claimed.notice.id));
}

async fn scheduled(outbox: &dyn Outbox) -> usize {
    outbox
        .scheduled_count()
        .await
        .unwrap_or_else(|e| panic!("count: {e}"))
}

fn ids(claimed: &[Claimed]) -> Vec<&str> {
    claimed.iter().map(|c| c.notice.id.as_str()).collect()
}

async fn nothing_is_handed_out_before_it_is_due(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    let later = new_application("a-2");
    let first = new_application("a-1");
    let last = event("reminder:a-3", "remind");
    assert!(schedule(a, &later, now + ms(20_000), IfScheduled::Keep).await);
    assert!(schedule(b, &last, now + ms(30_000), IfScheduled::Keep).await);
    assert!(schedule(a, &first, now + ms(10_000), IfScheduled::Keep).await);
    assert_eq!(scheduled(a).await, 3);

    assert!(claim(a, now, "a", NEVER).await.is_empty());
    assert!(claim(b, now + ms(9_999), "b", NEVER).await.is_empty());
    assert_eq!(scheduled(b).await, 3);

    // Once due, in the order of their times, with what was scheduled.
    let due = claim(b, now + ms(20_000), "b", NEVER).await;
    assert_eq!(ids(&due), [first.id.as_str(), later.id.as_str()]);
    assert_eq!(due[0].notice, first);
    assert_eq!(due[1].notice, later);
    assert_ne!(due[0].receipt, due[1].receipt);
    assert_eq!(scheduled(a).await, 1);
    for claimed in &due {
        ack(b, claimed).await;
    }
    let rest = claim(a, now + ms(30_000), "a", NEVER).await;
    assert_eq!(ids(&rest), [last.id.as_str()]);
    assert_eq!(rest[0].notice, last);
    ack(a, &rest[0]).await;
    assert_eq!(scheduled(a).await, 0);
}

async fn keep_schedules_a_notice_once(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    let notice = new_application("a-1");
    // Two replicas learn of the same application at once.
    let (by_a, by_b) = tokio::join!(
        a.schedule(&notice, now - ms(1_000), IfScheduled::Keep),
        b.schedule(&notice, now - ms(2_000), IfScheduled::Keep),
    );
    let (by_a, by_b) = (by_a.expect("schedule on a"), by_b.expect("schedule on b"));
    assert!(by_a ^ by_b, "exactly one schedules it: {by_a} {by_b}");
    assert_eq!(scheduled(a).await, 1);
    // Keep keeps the time too: a later one does not move it.
    assert!(!schedule(a, &notice, now + ms(60_000), IfScheduled::Keep).await);

    let claimed = claim(b, now, "b", NEVER).await;
    assert_eq!(ids(&claimed), [notice.id.as_str()]);
    assert!(claim(a, now, "a", NEVER).await.is_empty());

    // While it is being delivered, scheduling it again changes nothing, even with Replace.
    assert!(!schedule(a, &notice, now, IfScheduled::Keep).await);
    let changed = Notice {
        chat: notice.chat,
        ..event(&notice.id, "changed")
    };
    assert!(!schedule(a, &changed, now, IfScheduled::Replace).await);
    assert_eq!(scheduled(a).await, 0);
    assert!(claim(a, now, "a", NEVER).await.is_empty());

    // Once delivered, the id is free again.
    ack(b, &claimed[0]).await;
    assert!(schedule(a, &notice, now, IfScheduled::Keep).await);
    let again = claim(a, now, "a", NEVER).await;
    assert_eq!(ids(&again), [notice.id.as_str()]);
    assert_eq!(again[0].notice, notice);
    ack(a, &again[0]).await;
}

async fn replace_moves_the_time_and_the_payload(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    // Earlier, with a new payload.
    let reminder = event("reminder:a-1", "first");
    assert!(schedule(a, &reminder, now + ms(3_600_000), IfScheduled::Replace).await);
    let moved = event("reminder:a-1", "second");
    assert!(schedule(b, &moved, now - ms(1), IfScheduled::Replace).await);
    assert_eq!(scheduled(a).await, 1);
    let claimed = claim(a, now, "a", NEVER).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].notice, moved);
    ack(a, &claimed[0]).await;

    // Later: no longer due.
    let pending = new_application("a-2");
    assert!(schedule(a, &pending, now - ms(1), IfScheduled::Keep).await);
    assert!(schedule(b, &pending, now + ms(60_000), IfScheduled::Replace).await);
    assert!(claim(b, now, "b", NEVER).await.is_empty());
    assert_eq!(scheduled(b).await, 1);
    let claimed = claim(b, now + ms(60_000), "b", NEVER).await;
    assert_eq!(ids(&claimed), [pending.id.as_str()]);
    ack(b, &claimed[0]).await;
    assert_eq!(scheduled(a).await, 0);
}

async fn two_consumers_at_once_share_the_notices_without_overlap(a: &dyn Outbox, b: &dyn Outbox) {
    const NOTICES: usize = 60;
    let now = Utc::now();
    let mut all = HashSet::new();
    for n in 0..NOTICES {
        let notice = new_application(&format!("a-{n}"));
        let due = now - ms(i64::try_from(n).expect("small"));
        assert!(schedule(a, &notice, due, IfScheduled::Keep).await);
        all.insert(notice.id);
    }

    async fn drain(outbox: &dyn Outbox, consumer: &str, now: DateTime<Utc>) -> Vec<String> {
        let mut got = Vec::new();
        loop {
            let claimed = claim_at_most(outbox, now, consumer, 7, NEVER).await;
            if claimed.is_empty() {
                return got;
            }
            got.extend(claimed.into_iter().map(|c| c.notice.id));
            // Let the other consumer in between two claims, even on the memory outbox.
            tokio::task::yield_now().await;
        }
    }
    let (by_a, by_b) = tokio::join!(drain(a, "a", now), drain(b, "b", now));
    eprintln!(
        "outbox: two consumers at once: {} and {} of {NOTICES}",
        by_a.len(),
        by_b.len()
    );

    let set_a: HashSet<_> = by_a.iter().cloned().collect();
    let set_b: HashSet<_> = by_b.iter().cloned().collect();
    assert_eq!(set_a.len(), by_a.len(), "a got one twice");
    assert_eq!(set_b.len(), by_b.len(), "b got one twice");
    assert!(
        set_a.is_disjoint(&set_b),
        "{:?}",
        set_a.intersection(&set_b)
    );
    assert_eq!(&set_a | &set_b, all);
    assert_eq!(scheduled(a).await, 0);
    assert!(claim(b, now, "c", NEVER).await.is_empty());
}

async fn an_unacked_claim_is_taken_over_after_stale_after_only(a: &dyn Outbox, b: &dyn Outbox) {
    let notice = new_application("a-1");
    assert!(schedule(a, &notice, Utc::now() - ms(1), IfScheduled::Keep).await);
    let held = claim(a, Utc::now(), "a", STALE).await;
    assert_eq!(ids(&held), [notice.id.as_str()]);

    // "a" dies holding it. Not yet stale: nobody else gets it.
    assert!(claim(b, Utc::now(), "b", STALE).await.is_empty());
    tokio::time::sleep(PAST_STALE).await;
    let taken = claim(b, Utc::now(), "b", STALE).await;
    assert_eq!(taken, held, "the same notice, under the same receipt");
    // Taken over afresh: stale again only after another `stale_after`.
    assert!(claim(a, Utc::now(), "a", STALE).await.is_empty());
    ack(b, &taken[0]).await;

    tokio::time::sleep(PAST_STALE).await;
    assert!(claim(a, Utc::now(), "a", STALE).await.is_empty());
    assert!(claim(b, Utc::now(), "b", Duration::ZERO).await.is_empty());

    // The same id is scheduled again; then "a" wakes up and acks its old claim: that must not
    // touch the new notice.
    let again = event(&notice.id, "again");
    assert!(schedule(b, &again, Utc::now() - ms(1), IfScheduled::Keep).await);
    ack(a, &held[0]).await;
    assert_eq!(scheduled(a).await, 1);
    let fresh = claim(a, Utc::now(), "a", STALE).await;
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].notice, again);
    ack(a, &fresh[0]).await;
}

async fn an_acked_notice_never_comes_back(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    let notices: Vec<_> = (0..3).map(|n| new_application(&format!("a-{n}"))).collect();
    for notice in &notices {
        assert!(schedule(a, notice, now - ms(1), IfScheduled::Keep).await);
    }
    let claimed = claim(a, now, "a", STALE).await;
    assert_eq!(claimed.len(), 3);
    ack(a, &claimed[0]).await;
    ack(a, &claimed[2]).await;
    // Acking twice is harmless.
    ack(b, &claimed[2]).await;

    tokio::time::sleep(PAST_STALE).await;
    // Only the unacked one is handed out again, even to a consumer that takes anything pending.
    let again = claim(b, Utc::now(), "b", Duration::ZERO).await;
    assert_eq!(again, claimed[1..2]);
    ack(b, &again[0]).await;
    tokio::time::sleep(PAST_STALE).await;
    assert!(claim(a, Utc::now(), "a", Duration::ZERO).await.is_empty());
    assert!(claim(b, Utc::now() + ms(86_400_000), "b", Duration::ZERO)
        .await
        .is_empty());
}

async fn cancel_drops_a_scheduled_notice_but_not_one_in_flight(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    let reminder = event("reminder:a-1", "remind");
    assert!(schedule(a, &reminder, now + ms(60_000), IfScheduled::Keep).await);
    b.cancel(reminder.chat, &reminder.id).await.expect("cancel");
    assert_eq!(scheduled(a).await, 0);
    assert!(claim(a, now + ms(120_000), "a", NEVER).await.is_empty());
    // Cancelling what is not there is a no-op, and a cancelled id is free again.
    b.cancel(reminder.chat, "reminder:unknown")
        .await
        .expect("cancel unknown");
    assert!(schedule(b, &reminder, now + ms(60_000), IfScheduled::Keep).await);
    b.cancel(reminder.chat, &reminder.id)
        .await
        .expect("cancel again");

    // Once claimed it is being delivered: cancel does not pull it back.
    let notice = new_application("a-2");
    assert!(schedule(a, &notice, now - ms(1), IfScheduled::Keep).await);
    let claimed = claim(a, now, "a", NEVER).await;
    assert_eq!(ids(&claimed), [notice.id.as_str()]);
    b.cancel(notice.chat, &notice.id)
        .await
        .expect("cancel in flight");
    assert!(
        !schedule(b, &notice, now, IfScheduled::Keep).await,
        "still in flight"
    );
    ack(a, &claimed[0]).await;
    assert!(claim(b, now + ms(120_000), "b", NEVER).await.is_empty());
}

/// The keys are laid out as the module documentation says, and nothing is left behind once a
/// notice is acked.
/// `/forget`: every notice of the chat goes, scheduled or in flight, and nobody else's.
async fn forget_chat_drops_every_notice_of_the_chat_and_no_other(a: &dyn Outbox, b: &dyn Outbox) {
    let now = Utc::now();
    let reminder = event("reminder:forget-me", "remind");
    let idle = event("idle:forget-me", "idle");
    let teacher = new_application("a-9");
    assert!(schedule(a, &reminder, now + ms(60_000), IfScheduled::Keep).await);
    assert!(schedule(a, &idle, now - ms(1), IfScheduled::Keep).await);
    assert!(schedule(a, &teacher, now + ms(60_000), IfScheduled::Keep).await);
    // One of the chat's notices is already being delivered.
    let claimed = claim(a, now, "a", NEVER).await;
    assert_eq!(ids(&claimed), [idle.id.as_str()]);

    let dropped = b.forget_chat(reminder.chat).await.expect("forgotten");
    assert!(dropped >= 1, "{dropped}");
    assert_eq!(scheduled(a).await, 1, "the teacher's notice stays");
    // The one in flight is gone too: acking it is harmless, and nothing of the chat comes back.
    ack(a, &claimed[0]).await;
    let later = claim(b, now + ms(120_000), "b", Duration::ZERO).await;
    assert_eq!(ids(&later), [teacher.id.as_str()]);
}

#[tokio::test]
async fn redis_keys_follow_the_documented_layout() {
    let server = RedisServer::start();
    let outbox = redis_outbox(&server.url()).await;
    let mut look = server.connection().await;
    let now = Utc::now();
    let notice = new_application("a-1");
    assert!(schedule(&outbox, &notice, now, IfScheduled::Keep).await);

    // The notice's part is its chat's shard.
    let part = sferum_bot::backend::redis::keys::shard_of(notice.chat);
    let scheduled_key = format!("{PREFIX}outbox:{part}:scheduled");
    let stream_key = format!("{PREFIX}outbox:{part}:stream");
    let notice_key = format!("{PREFIX}outbox:{part}:notice:new-application:a-1");
    assert_eq!(outbox.scheduled_key(notice.chat), scheduled_key);
    assert_eq!(outbox.stream_key(notice.chat), stream_key);
    assert_eq!(outbox.notice_key(notice.chat, &notice.id), notice_key);
    let score: Option<i64> = look.zscore(&scheduled_key, &notice.id).await.unwrap();
    assert_eq!(score, Some(now.timestamp_millis()));
    let json: Option<String> = look.get(&notice_key).await.unwrap();
    let json = json.expect("the notice is stored");
    assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), notice);

    let claimed = claim(&outbox, now, "replica-1", NEVER).await;
    assert_eq!(claimed.len(), 1);
    let stream_len: usize = look.xlen(&stream_key).await.unwrap();
    assert_eq!(stream_len, 1);
    let pending: StreamPendingReply = look.xpending(&stream_key, GROUP).await.unwrap();
    assert_eq!(pending.count(), 1);
    assert!(look.exists::<_, bool>(&notice_key).await.unwrap());
    assert_eq!(scheduled(&outbox).await, 0);

    ack(&outbox, &claimed[0]).await;
    let stream_len: usize = look.xlen(&stream_key).await.unwrap();
    assert_eq!(stream_len, 0);
    let pending: StreamPendingReply = look.xpending(&stream_key, GROUP).await.unwrap();
    assert_eq!(pending.count(), 0);
    assert!(!look.exists::<_, bool>(&notice_key).await.unwrap());
}

/// A notice the version before the parts scheduled (in its one sorted set, under its one
/// notice key) is still delivered once due, and acked like any other; `/forget` finds one too.
#[tokio::test]
async fn redis_delivers_notices_scheduled_before_the_outbox_had_parts() {
    let server = RedisServer::start();
    let outbox = redis_outbox(&server.url()).await;
    let mut look = server.connection().await;
    let now = Utc::now();
    let reminder = event("reminder:old", "remind");
    let forgotten = event("reminder:forgotten", "remind");
    for (notice, due) in [(&reminder, now - ms(1_000)), (&forgotten, now + ms(60_000))] {
        let () = look
            .zadd(
                format!("{PREFIX}outbox:scheduled"),
                &notice.id,
                due.timestamp_millis(),
            )
            .await
            .unwrap();
        let () = look
            .set(
                format!("{PREFIX}outbox:notice:{}", notice.id),
                serde_json::to_string(notice).unwrap(),
            )
            .await
            .unwrap();
    }
    assert_eq!(scheduled(&outbox).await, 2);

    let claimed = claim(&outbox, now, "replica-1", NEVER).await;
    assert_eq!(ids(&claimed), [reminder.id.as_str()]);
    assert_eq!(claimed[0].notice, reminder);
    ack(&outbox, &claimed[0]).await;
    assert!(!look
        .exists::<_, bool>(format!("{PREFIX}outbox:notice:{}", reminder.id))
        .await
        .unwrap());
    assert!(claim(&outbox, now, "replica-1", NEVER).await.is_empty());

    assert_eq!(outbox.forget_chat(forgotten.chat).await, Ok(1));
    assert_eq!(scheduled(&outbox).await, 0);
}

/// A due id whose notice is missing, and a notice that does not decode, are skipped and cleared
/// away, not handed out again and again.
#[tokio::test]
async fn redis_skips_notices_that_are_gone_or_damaged() {
    let server = RedisServer::start();
    let outbox = redis_outbox(&server.url()).await;
    let mut look = server.connection().await;
    let now = Utc::now();
    let good = new_application("a-3");
    assert!(schedule(&outbox, &good, now, IfScheduled::Keep).await);
    let () = look
        .zadd(
            outbox.scheduled_key(good.chat),
            "gone",
            now.timestamp_millis() - 2,
        )
        .await
        .unwrap();
    let () = look
        .zadd(
            outbox.scheduled_key(good.chat),
            "damaged",
            now.timestamp_millis() - 1,
        )
        .await
        .unwrap();
    let () = look
        .set(outbox.notice_key(good.chat, "damaged"), "{not json")
        .await
        .unwrap();

    let claimed = claim(&outbox, now, "replica-1", NEVER).await;
    assert_eq!(ids(&claimed), [good.id.as_str()]);
    ack(&outbox, &claimed[0]).await;
    let pending: StreamPendingReply = look
        .xpending(outbox.stream_key(good.chat), GROUP)
        .await
        .unwrap();
    assert_eq!(pending.count(), 0);
    assert!(!look
        .exists::<_, bool>(outbox.notice_key(good.chat, "damaged"))
        .await
        .unwrap());
    assert!(claim(&outbox, now, "replica-1", Duration::ZERO)
        .await
        .is_empty());
}

/// The bot restarts (or is replaced by another replica): what was scheduled is still there, and
/// what the old process held unacked is taken over once stale.
#[tokio::test]
async fn redis_notices_survive_a_restart_of_the_bot() {
    let server = RedisServer::start();
    let now = Utc::now();
    let held = new_application("a-1");
    let due = new_application("a-2");
    let tomorrow = event("reminder:a-3", "remind");
    {
        let before = redis_outbox(&server.url()).await;
        assert!(schedule(&before, &held, now - ms(2), IfScheduled::Keep).await);
        assert!(schedule(&before, &due, now - ms(1), IfScheduled::Keep).await);
        assert!(schedule(&before, &tomorrow, now + ms(86_400_000), IfScheduled::Keep).await);
        let claimed = claim_at_most(&before, now, "replica-1", 1, STALE).await;
        assert_eq!(ids(&claimed), [held.id.as_str()]);
        // The process dies before acking.
    }
    let after = redis_outbox(&server.url()).await;
    assert_eq!(scheduled(&after).await, 2);
    tokio::time::sleep(PAST_STALE).await;
    let claimed = claim(&after, Utc::now(), "replica-2", STALE).await;
    assert_eq!(ids(&claimed), [held.id.as_str(), due.id.as_str()]);
    assert_eq!(claimed[0].notice, held);
    assert_eq!(claimed[1].notice, due);
    for claimed in &claimed {
        ack(&after, claimed).await;
    }
    assert_eq!(scheduled(&after).await, 1);
    let next_day = claim(&after, now + ms(86_400_000), "replica-2", STALE).await;
    assert_eq!(next_day.len(), 1);
    assert_eq!(next_day[0].notice, tomorrow);
}

fn assert_unavailable<T: std::fmt::Debug>(
    what: &str,
    result: Result<T, StoreError>,
    took: Duration,
) {
    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{what} while Redis is down: {result:?}"
    );
    eprintln!("outbox: while Redis is down, {what} fails in {took:?}");
    assert!(took < PROMPTLY, "{what} took {took:?}");
}

/// While Redis is down every operation says so promptly; once it is back (empty, as after a
/// crash) the same outbox works again by itself.
#[tokio::test]
async fn redis_outage_is_reported_promptly_and_then_over() {
    let mut server = RedisServer::start();
    let outbox = redis_outbox(&server.url()).await;
    let notice = new_application("a-1");
    assert!(schedule(&outbox, &notice, Utc::now(), IfScheduled::Keep).await);
    let claimed = claim(&outbox, Utc::now(), "replica-1", NEVER).await;
    assert_eq!(claimed.len(), 1);

    server.stop();
    for attempt in 0..2 {
        let started = Instant::now();
        let result = outbox
            .schedule(&notice, Utc::now(), IfScheduled::Keep)
            .await;
        assert_unavailable(&format!("schedule {attempt}"), result, started.elapsed());
    }
    let started = Instant::now();
    let result = outbox.claim_due(Utc::now(), "replica-1", 10, NEVER).await;
    assert_unavailable("claim_due", result, started.elapsed());
    let started = Instant::now();
    let result = outbox.ack(&claimed[0]).await;
    assert_unavailable("ack", result, started.elapsed());
    let started = Instant::now();
    let result = outbox.cancel(notice.chat, &notice.id).await;
    assert_unavailable("cancel", result, started.elapsed());
    let started = Instant::now();
    let result = outbox.scheduled_count().await;
    assert_unavailable("scheduled_count", result, started.elapsed());

    // The outage lasts: the connection manager's own reconnection attempts give up meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.restart();
    // An ack of a claim from before the crash is harmless.
    ack(&outbox, &claimed[0]).await;
    assert!(schedule(&outbox, &notice, Utc::now(), IfScheduled::Keep).await);
    let again = claim(&outbox, Utc::now(), "replica-1", NEVER).await;
    assert_eq!(ids(&again), [notice.id.as_str()]);
    ack(&outbox, &again[0]).await;
    assert_eq!(scheduled(&outbox).await, 0);
}

/// The bot may start before Redis: connecting does not wait for it, and the outbox works as soon
/// as Redis is up.
#[tokio::test]
async fn redis_outbox_starts_while_redis_is_down() {
    let mut server = RedisServer::start();
    server.stop();
    let started = Instant::now();
    let outbox = redis_outbox(&server.url()).await;
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    let started = Instant::now();
    let result = outbox.claim_due(Utc::now(), "replica-1", 10, NEVER).await;
    assert_unavailable("claim_due", result, started.elapsed());

    server.restart();
    let notice = new_application("a-1");
    assert!(schedule(&outbox, &notice, Utc::now(), IfScheduled::Keep).await);
    let claimed = claim(&outbox, Utc::now(), "replica-1", NEVER).await;
    assert_eq!(ids(&claimed), [notice.id.as_str()]);
}
