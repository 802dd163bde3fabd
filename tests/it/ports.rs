//! The contracts of the storage ports, each written once against the port and run on every
//! backend: the session store and the teacher directory, on memory (both "replicas" the same
//! instance), on Redis (two adapters on one `redis-server` of its own) and on a Redis Cluster
//! of three masters of its own, as `ports::<scenario>::{memory,redis,redis_cluster}`. The
//! outbox has its own suite (`outbox`).

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use sferum_bot::backend::memory::{MemoryDirectory, MemoryOutbox, MemoryStore};
use sferum_bot::backend::redis::{RedisDirectory, RedisOutbox, RedisStore, RedisStoreConfig};
use sferum_bot::directory::{Binding, Directory, TrackedApplication};
use sferum_bot::engine::Session;
use sferum_bot::notify::{Notice, NoticeKind, Outbox};
use sferum_bot::store::{ChatKey, Claim, Commit, Keep, SessionStore, StoreError, Tally};

use super::helpers::engine;
use super::redis_server::{RedisCluster, RedisServer};

const PREFIX: &str = "sferum:";
const CHAT: ChatKey = ChatKey::telegram(4_242);
const OTHER: ChatKey = ChatKey::telegram(4_343);

/// Two replicas of one backend: the session store, the outbox beside it and the directory.
struct Replica {
    store: Box<dyn SessionStore>,
    outbox: Box<dyn Outbox>,
    directory: Box<dyn Directory>,
}

/// Runs a scenario `fn(a, b)` on memory (`a` and `b` one instance) and on two Redis replicas
/// sharing one server.
macro_rules! on_every_backend {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;

            #[tokio::test]
            async fn memory() {
                let one = Replica {
                    store: Box::new(MemoryStore::new()),
                    outbox: Box::new(MemoryOutbox::new()),
                    directory: Box::new(MemoryDirectory::new()),
                };
                super::$scenario(&one, &one).await;
            }

            #[tokio::test]
            async fn redis() {
                let server = RedisServer::start();
                let a = redis_replica(&server.url()).await;
                let b = redis_replica(&server.url()).await;
                super::$scenario(&a, &b).await;
            }

            #[tokio::test]
            async fn redis_cluster() {
                let cluster = RedisCluster::start();
                let a = redis_replica(&cluster.url()).await;
                let b = redis_replica(&cluster.url()).await;
                super::$scenario(&a, &b).await;
            }
        }
    };
}

on_every_backend!(nothing_stored_is_a_new_conversation);
on_every_backend!(a_commit_is_read_back_with_its_revision);
on_every_backend!(two_commits_from_one_revision_conflict);
on_every_backend!(a_committed_update_is_handled_once);
on_every_backend!(notices_kept_with_a_commit_are_the_outboxs);
on_every_backend!(delete_forgets_and_a_new_conversation_starts_at_zero);
on_every_backend!(the_same_number_in_two_messengers_is_two_chats);
on_every_backend!(the_first_chat_keeps_a_teacher);
on_every_backend!(a_connected_chat_serves_until_unbound);
on_every_backend!(applications_are_followed_until_untracked);
on_every_backend!(forget_chat_drops_binding_applications_and_invitations);
on_every_backend!(counts_kept_with_commits_add_up_by_day_and_a_lost_commit_counts_nothing);
on_every_backend!(a_telegram_chats_updates_up_to_its_latest_committed_one_are_redeliveries);

async fn redis_replica(url: &str) -> Replica {
    let store = RedisStore::connect(
        url,
        RedisStoreConfig {
            prefix: PREFIX.to_owned(),
            ..RedisStoreConfig::default()
        },
    )
    .await
    .expect("a Redis store");
    Replica {
        outbox: Box::new(RedisOutbox::beside(&store).await),
        directory: Box::new(RedisDirectory::beside(&store)),
        store: Box::new(store),
    }
}

fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 7, 6, 0, 0)
        .single()
        .expect("a date")
}

fn session(lang: &str) -> Session {
    let mut session = engine().new_session(Some(lang), monday());
    session.lang = lang.to_owned();
    session
}

fn commit<'a>(session: &'a Session, expected: u64, update_id: Option<i64>) -> Commit<'a> {
    Commit {
        session,
        expected,
        update_id,
        notices: Vec::new(),
        tally: Tally::default(),
    }
}

/// Stores `session` as the chat's first revision.
async fn store_first(replica: &Replica, session: &Session) {
    let committed = replica.store.commit(CHAT, &commit(session, 0, None)).await;
    assert_eq!(committed.expect("committed").revision, 1);
}

async fn load(replica: &Replica, chat: ChatKey) -> Option<(String, u64)> {
    replica
        .store
        .load(chat)
        .await
        .expect("the store answers")
        .map(|loaded| {
            let lang = loaded.session.expect("decodes").lang;
            (lang, loaded.revision)
        })
}

async fn nothing_stored_is_a_new_conversation(a: &Replica, _b: &Replica) {
    assert_eq!(
        a.store.claim(CHAT, Some(1)).await.expect("answers"),
        Claim::New(None)
    );
    assert_eq!(load(a, CHAT).await, None);
}

async fn a_commit_is_read_back_with_its_revision(a: &Replica, b: &Replica) {
    let first = session("ru");
    let committed = a.store.commit(CHAT, &commit(&first, 0, None)).await;
    assert_eq!(committed.expect("committed").revision, 1);
    assert_eq!(load(b, CHAT).await, Some(("ru".to_owned(), 1)));
    let second = session("en");
    let revision = b.store.save(CHAT, &second, 1).await.expect("saved");
    assert_eq!(revision, 2);
    assert_eq!(load(a, CHAT).await, Some(("en".to_owned(), 2)));
    assert_eq!(
        load(a, OTHER).await,
        None,
        "another chat is another conversation"
    );
    assert_eq!(
        b.store.language(CHAT).await.expect("answers"),
        Some("en".to_owned())
    );
    assert_eq!(b.store.language(OTHER).await.expect("answers"), None);
}

async fn two_commits_from_one_revision_conflict(a: &Replica, b: &Replica) {
    let first = session("ru");
    store_first(a, &first).await;
    // Both replicas read revision 1 and answer one update each: the second loses, and runs its
    // turn again from what the first stored.
    let mine = session("en");
    a.store
        .commit(CHAT, &commit(&mine, 1, Some(10)))
        .await
        .expect("the first wins");
    let theirs = session("ru");
    let lost = b.store.commit(CHAT, &commit(&theirs, 1, Some(11))).await;
    assert!(matches!(lost, Err(StoreError::Conflict)), "{lost:?}");
    assert_eq!(load(b, CHAT).await, Some(("en".to_owned(), 2)));
}

async fn a_committed_update_is_handled_once(a: &Replica, b: &Replica) {
    let first = session("ru");
    a.store
        .commit(CHAT, &commit(&first, 0, Some(77)))
        .await
        .expect("committed");
    assert_eq!(
        b.store.claim(CHAT, Some(77)).await.expect("answers"),
        Claim::AlreadyHandled,
        "a redelivered update is not run again"
    );
    let again = b.store.commit(CHAT, &commit(&first, 1, Some(77))).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert!(matches!(
        b.store.claim(CHAT, Some(78)).await.expect("answers"),
        Claim::New(Some(_))
    ));
}

async fn notices_kept_with_a_commit_are_the_outboxs(a: &Replica, b: &Replica) {
    let turn = session("ru");
    let reminder = Notice {
        id: format!("event:{CHAT}:idle"),
        chat: CHAT,
        kind: NoticeKind::Event {
            event: "idle".to_owned(),
        },
    };
    let due = monday() + TimeDelta::hours(24);
    let committed = a
        .store
        .commit(
            CHAT,
            &Commit {
                notices: vec![Keep {
                    notice: &reminder,
                    due,
                }],
                ..commit(&turn, 0, Some(5))
            },
        )
        .await
        .expect("committed");
    if !committed.notices_kept {
        // A store that cannot keep them says so; the runtime schedules them itself.
        assert_eq!(b.outbox.scheduled_count().await.expect("answers"), 0);
        return;
    }
    // The notice is the outbox's now: not before it is due, then to exactly one replica.
    let none = b
        .outbox
        .claim_due(
            due - TimeDelta::minutes(1),
            "b",
            10,
            std::time::Duration::from_secs(600),
        )
        .await
        .expect("answers");
    assert!(none.is_empty(), "{none:?}");
    let claimed = b
        .outbox
        .claim_due(due, "b", 10, std::time::Duration::from_secs(600))
        .await
        .expect("answers");
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].notice, reminder);
    // A later turn moves a waiting notice; one being delivered is left alone.
    let later = a
        .store
        .commit(
            CHAT,
            &Commit {
                notices: vec![Keep {
                    notice: &reminder,
                    due: due + TimeDelta::hours(5),
                }],
                ..commit(&turn, 1, Some(6))
            },
        )
        .await;
    assert!(later.is_ok(), "{later:?}");
    assert_eq!(
        a.outbox.scheduled_count().await.expect("answers"),
        0,
        "the notice in flight was not scheduled a second time"
    );
}

async fn delete_forgets_and_a_new_conversation_starts_at_zero(a: &Replica, b: &Replica) {
    let first = session("ru");
    store_first(a, &first).await;
    b.store.delete(CHAT).await.expect("deleted");
    assert_eq!(load(a, CHAT).await, None);
    let again = a.store.commit(CHAT, &commit(&first, 0, None)).await;
    assert_eq!(again.expect("a fresh start").revision, 1);
}

async fn the_first_chat_keeps_a_teacher(a: &Replica, b: &Replica) {
    assert_eq!(
        a.directory
            .bind_teacher("t-1", CHAT)
            .await
            .expect("answers"),
        Binding::Bound
    );
    assert_eq!(
        b.directory
            .bind_teacher("t-1", OTHER)
            .await
            .expect("answers"),
        Binding::Taken { by: CHAT },
        "a forwarded link takes nothing over"
    );
    assert_eq!(
        b.directory
            .bind_teacher("t-1", CHAT)
            .await
            .expect("answers"),
        Binding::Bound,
        "opening one's own link again"
    );
    assert_eq!(
        b.directory.teacher_chat("t-1").await.expect("answers"),
        Some(CHAT)
    );
    assert!(a.directory.serves("t-1", CHAT).await.expect("answers"));
    assert!(!a.directory.serves("t-1", OTHER).await.expect("answers"));
    assert!(!a.directory.serves("t-2", CHAT).await.expect("answers"));
}

async fn a_connected_chat_serves_until_unbound(a: &Replica, b: &Replica) {
    a.directory.bind_teacher("t-1", CHAT).await.expect("bound");
    b.directory.allow_chat("t-1", OTHER).await.expect("allowed");
    assert!(a.directory.serves("t-1", OTHER).await.expect("answers"));
    assert_eq!(
        a.directory.teacher_chat("t-1").await.expect("answers"),
        Some(CHAT),
        "new applications still go to the bound chat"
    );
    a.directory.unbind("t-1", OTHER).await.expect("unbound");
    assert!(!b.directory.serves("t-1", OTHER).await.expect("answers"));
    assert!(b.directory.serves("t-1", CHAT).await.expect("answers"));
    b.directory.unbind("t-1", CHAT).await.expect("unbound");
    assert_eq!(
        a.directory.teacher_chat("t-1").await.expect("answers"),
        None
    );
    assert_eq!(
        a.directory
            .bind_teacher("t-1", OTHER)
            .await
            .expect("answers"),
        Binding::Bound,
        "an unbound teacher can be bound again"
    );
}

fn application(id: &str, student_chat: ChatKey, minutes: i64) -> TrackedApplication {
    TrackedApplication {
        application_id: id.to_owned(),
        student_chat,
        teacher_id: "t-1".to_owned(),
        class: "5А".to_owned(),
        child_name: "Петров Иван".to_owned(),
        submitted_at: monday() + TimeDelta::minutes(minutes),
    }
}

async fn applications_are_followed_until_untracked(a: &Replica, b: &Replica) {
    let later = application("a-2", OTHER, 5);
    let earlier = application("a-1", CHAT, 1);
    a.directory.track(&later).await.expect("tracked");
    a.directory.track(&earlier).await.expect("tracked");
    assert_eq!(
        b.directory.tracked("a-1").await.expect("answers"),
        Some(earlier.clone())
    );
    assert_eq!(
        b.directory.all_tracked().await.expect("answers"),
        vec![earlier, later.clone()],
        "oldest first"
    );
    b.directory.untrack("a-1").await.expect("untracked");
    assert_eq!(a.directory.tracked("a-1").await.expect("answers"), None);
    assert_eq!(
        a.directory.all_tracked().await.expect("answers"),
        vec![later]
    );
}

async fn forget_chat_drops_binding_applications_and_invitations(a: &Replica, b: &Replica) {
    a.directory.bind_teacher("t-1", CHAT).await.expect("bound");
    a.directory
        .track(&application("a-1", CHAT, 1))
        .await
        .expect("tracked");
    a.directory
        .track(&application("a-2", OTHER, 2))
        .await
        .expect("tracked");
    a.directory.issued_from("par-1", CHAT).await.expect("kept");
    a.directory.issued_from("par-2", OTHER).await.expect("kept");
    assert_eq!(
        b.directory.issuer_of("par-1").await.expect("answers"),
        Some(CHAT)
    );
    b.directory.forget_chat(CHAT).await.expect("forgotten");
    assert_eq!(
        a.directory.teacher_chat("t-1").await.expect("answers"),
        None
    );
    assert_eq!(a.directory.tracked("a-1").await.expect("answers"), None);
    assert_eq!(a.directory.issuer_of("par-1").await.expect("answers"), None);
    // Nothing of another chat goes with it.
    assert!(a.directory.tracked("a-2").await.expect("answers").is_some());
    assert_eq!(
        a.directory.issuer_of("par-2").await.expect("answers"),
        Some(OTHER)
    );
}

async fn the_same_number_in_two_messengers_is_two_chats(a: &Replica, b: &Replica) {
    let telegram = ChatKey::telegram(42);
    let max = ChatKey::max(42);
    let in_telegram = session("ru");
    let in_max = session("en");
    // Each messenger numbers its updates on its own: update 9 of each is handled once each.
    a.store
        .commit(telegram, &commit(&in_telegram, 0, Some(9)))
        .await
        .expect("the Telegram chat's turn");
    assert!(matches!(
        b.store.claim(max, Some(9)).await.expect("answers"),
        Claim::New(None)
    ));
    b.store
        .commit(max, &commit(&in_max, 0, Some(9)))
        .await
        .expect("the MAX chat's turn");
    assert_eq!(load(a, telegram).await, Some(("ru".to_owned(), 1)));
    assert_eq!(load(a, max).await, Some(("en".to_owned(), 1)));
    a.store.delete(max).await.expect("forgotten");
    assert_eq!(load(b, telegram).await, Some(("ru".to_owned(), 1)));
    assert_eq!(load(b, max).await, None);
    a.directory
        .bind_teacher("t-1", telegram)
        .await
        .expect("bound");
    assert_eq!(
        b.directory.bind_teacher("t-1", max).await.expect("answers"),
        Binding::Taken { by: telegram }
    );
    b.directory.forget_chat(max).await.expect("forgotten");
    assert_eq!(
        a.directory.teacher_chat("t-1").await.expect("answers"),
        Some(telegram)
    );
}

async fn counts_kept_with_commits_add_up_by_day_and_a_lost_commit_counts_nothing(
    a: &Replica,
    b: &Replica,
) {
    let monday = monday().date_naive();
    let tuesday = monday.succ_opt().expect("a day");
    let tally = |day, entered: u32, question: Option<&str>| Tally {
        day: Some(day),
        counts: vec![
            ("variant1/code|e".to_owned(), entered),
            ("variant1/contact|f".to_owned(), 1),
        ],
        unmatched: question.map(str::to_owned),
    };
    let first = session("ru");
    let mut with_counts = commit(&first, 0, Some(1));
    with_counts.tally = tally(monday, 1, Some("где # *"));
    a.store.commit(CHAT, &with_counts).await.expect("committed");
    let mut again = commit(&first, 0, None);
    again.tally = tally(monday, 1, Some("где # *"));
    a.store.commit(OTHER, &again).await.expect("committed");
    // A commit that loses its race counts nothing: its turn runs again and counts then.
    let mut lost = commit(&first, 0, None);
    lost.tally = tally(monday, 5, Some("lost"));
    assert!(matches!(
        b.store.commit(CHAT, &lost).await,
        Err(StoreError::Conflict)
    ));
    let mut next_day = commit(&first, 1, None);
    next_day.tally = tally(tuesday, 2, None);
    b.store.commit(CHAT, &next_day).await.expect("committed");
    let day = b.store.funnel_day(monday).await.expect("answers");
    assert_eq!(day.get("variant1/code|e"), Some(&2));
    assert_eq!(day.get("variant1/contact|f"), Some(&2));
    let day = a.store.funnel_day(tuesday).await.expect("answers");
    assert_eq!(day.get("variant1/code|e"), Some(&2));
    assert_eq!(
        a.store.unmatched_day(monday).await.expect("answers"),
        vec![("где # *".to_owned(), 2)]
    );
    assert!(a
        .store
        .unmatched_day(tuesday)
        .await
        .expect("answers")
        .is_empty());
    a.store.ping().await.expect("the store answers a ping");
}

/// Telegram numbers updates in one increasing sequence and a chat's are handled in order, so
/// the store keeps one number per chat; MAX's ids are digests in no order, so each is kept.
async fn a_telegram_chats_updates_up_to_its_latest_committed_one_are_redeliveries(
    a: &Replica,
    b: &Replica,
) {
    let first = session("ru");
    a.store
        .commit(CHAT, &commit(&first, 0, Some(10)))
        .await
        .expect("committed");
    for id in [10, 9] {
        assert_eq!(
            b.store.claim(CHAT, Some(id)).await.expect("answers"),
            Claim::AlreadyHandled,
            "update {id}"
        );
    }
    assert!(matches!(
        b.store.claim(CHAT, Some(11)).await.expect("answers"),
        Claim::New(Some(_))
    ));
    assert!(
        matches!(
            b.store.claim(OTHER, Some(5)).await.expect("answers"),
            Claim::New(None)
        ),
        "another chat has its own"
    );
    // A commit of an update at or below the mark loses, as a redelivery racing the first would.
    assert!(matches!(
        b.store.commit(CHAT, &commit(&first, 1, Some(10))).await,
        Err(StoreError::Conflict)
    ));
    let max = ChatKey::max(4_242);
    a.store
        .commit(max, &commit(&first, 0, Some(10)))
        .await
        .expect("committed");
    assert_eq!(
        b.store.claim(max, Some(10)).await.expect("answers"),
        Claim::AlreadyHandled
    );
    assert!(
        matches!(
            b.store.claim(max, Some(9)).await.expect("answers"),
            Claim::New(Some(_))
        ),
        "MAX ids are not ordered"
    );
}
