//! Sessions in Redis, as a user would notice them: a conversation survives a restart of the bot,
//! two replicas answering one chat at once lose nothing, a redelivered update is answered once,
//! a damaged session restarts politely, `/forget` forgets, and an outage of Redis is apologised
//! for and then over by itself. Each test runs its own `redis-server` (see `redis_server`).
//!
//! `cargo test --test it redis -- --nocapture` also prints the round trips of one update and the
//! memory one session takes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;

use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::engine::Input;
use sferum_bot::runtime::{Handled, RuntimeError};
use sferum_bot::store::{ChatKey, SessionStore, StoreError};

use super::helpers::{press_on as press, session_json, text_of, TestBot, Transcript, CODE};
use super::redis_server::{memory_usage, RedisCluster, RedisServer};

const CHAT: ChatKey = ChatKey::telegram(4242);
const OTHER_CHAT: ChatKey = ChatKey::telegram(-100_777);
/// The first words of the "session-restarted" message.
const RESTARTED: &str = "Бот обновился";
/// The apology for a session that cannot be read.
const LOST: &str = "Извините, сохранённый разговор";
/// An outage must be reported well within this.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn store_with(server: &RedisServer, config: RedisStoreConfig) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::connect(&server.url(), config)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", server.url())),
    )
}

async fn store(server: &RedisServer) -> Arc<RedisStore> {
    store_with(server, RedisStoreConfig::default()).await
}

/// A bot on `store`, with the outbox beside it (where its commits keep replies).
async fn bot_on(store: &Arc<RedisStore>) -> TestBot {
    let outbox = sferum_bot::backend::redis::RedisOutbox::beside(store).await;
    TestBot::with_store_and_outbox(store.clone(), Some(Arc::new(outbox)))
}

/// One turn that must succeed.
async fn turn(bot: &TestBot, chat: ChatKey, input: Input) -> Handled {
    let handled = bot
        .bot
        .handle(chat, None, input)
        .await
        .unwrap_or_else(|e| panic!("the turn failed: {e}"));
    bot.bot.delivered(&handled).await;
    handled
}

async fn say(bot: &TestBot, chat: ChatKey, text: &str) -> Handled {
    turn(bot, chat, Input::from_text(text)).await
}

fn buttons_of(handled: &Handled) -> usize {
    handled.replies.iter().map(|r| r.buttons.len()).sum()
}

/// `/start demo-class`, «Войти в аккаунт»: the student is asked for the child's contact.
async fn up_to_contact(bot: &TestBot, chat: ChatKey) -> Handled {
    let welcome = say(bot, chat, "/start demo-class").await;
    let contact = turn(bot, chat, press(&welcome, "Войти в аккаунт")).await;
    assert_eq!(contact.at.to_string(), "variant1/contact");
    contact
}

async fn revision(connection: &mut MultiplexedConnection, key: &str) -> u64 {
    stored(connection, key)
        .await
        .revision
        .unwrap_or_else(|| panic!("{key} has no revision"))
}

/// A session as the store keeps it: `{rev} {mark} {lang}\n{json}`.
#[derive(Debug, PartialEq)]
struct Stored {
    revision: Option<u64>,
    mark: u64,
    lang: String,
    data: Vec<u8>,
}

impl Stored {
    /// The value to write under the session's key.
    fn value(&self) -> Vec<u8> {
        let head = format!(
            "{} {} {}\n",
            self.revision.unwrap_or(0),
            self.mark,
            self.lang
        );
        [head.as_bytes(), &self.data].concat()
    }
}

async fn stored(connection: &mut MultiplexedConnection, key: &str) -> Stored {
    let value: Option<Vec<u8>> = connection
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e}"));
    let value = value.unwrap_or_default();
    let Some(newline) = value.iter().position(|b| *b == b'\n') else {
        return Stored {
            revision: None,
            mark: 0,
            lang: String::new(),
            data: value,
        };
    };
    let head = String::from_utf8_lossy(&value[..newline]).into_owned();
    let fields: Vec<&str> = head.split(' ').collect();
    Stored {
        revision: fields.first().and_then(|r| r.parse().ok()),
        mark: fields.get(1).and_then(|m| m.parse().ok()).unwrap_or(0),
        lang: fields.get(2).map(|l| (*l).to_owned()).unwrap_or_default(),
        data: value[newline + 1..].to_vec(),
    }
}

/// Changes the stored session's JSON behind the bot's back (a deploy, an operator), keeping its
/// revision, mark and language.
async fn edit_stored(
    connection: &mut MultiplexedConnection,
    key: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) {
    let mut kept = stored(connection, key).await;
    let decoded =
        sferum_bot::store::decode(&kept.data).unwrap_or_else(|e| panic!("the stored session: {e}"));
    let mut session = serde_json::to_value(decoded).unwrap_or_else(|e| panic!("{e}"));
    edit(&mut session);
    kept.data = session.to_string().into_bytes();
    let _: () = connection
        .set(key, kept.value())
        .await
        .unwrap_or_else(|e| panic!("SET: {e}"));
}

async fn pttl(connection: &mut MultiplexedConnection, key: &str) -> i64 {
    connection
        .pttl(key)
        .await
        .unwrap_or_else(|e| panic!("PTTL {key}: {e}"))
}

async fn exists(connection: &mut MultiplexedConnection, key: &str) -> bool {
    connection
        .exists(key)
        .await
        .unwrap_or_else(|e| panic!("EXISTS {key}: {e}"))
}

#[tokio::test]
async fn a_conversation_continues_after_the_bot_restarts() {
    let server = RedisServer::start();
    let confirm = {
        let store = store(&server).await;
        let bot = bot_on(&store).await;
        up_to_contact(&bot, CHAT).await;
        let confirm = say(&bot, CHAT, "8 (912) 345-67-89").await;
        assert_eq!(confirm.at.to_string(), "variant1/confirm_contact");
        confirm
        // The process ends here: its store, bot and sandbox are dropped.
    };

    let store = store(&server).await;
    let bot = bot_on(&store).await;
    // The user presses the button of the message the previous process sent.
    let code = turn(&bot, CHAT, press(&confirm, "Да, это ребёнка")).await;
    assert_eq!(code.at.to_string(), "variant1/code", "{}", text_of(&code));
    assert!(
        text_of(&code).contains("+7 912 345-67-89"),
        "the contact given before the restart is used: {}",
        text_of(&code)
    );
    assert!(!text_of(&code).contains(RESTARTED));
    let name = say(&bot, CHAT, CODE).await;
    assert_eq!(name.at.to_string(), "variant1/name", "{}", text_of(&name));
}

#[tokio::test]
async fn a_session_expires_after_its_ttl_and_activity_renews_it() {
    const MONTH_MS: i64 = 30 * 24 * 60 * 60 * 1000;
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let key = store.session_key(CHAT);

    let welcome = bot
        .bot
        .handle_update(
            CHAT,
            Some(9001),
            None,
            Input::from_text("/start demo-class"),
        )
        .await
        .unwrap_or_else(|e| panic!("the first update: {e}"))
        .unwrap_or_else(|| panic!("a new update was taken for a redelivery"));
    let ttl = pttl(&mut redis, &key).await;
    assert!(
        (MONTH_MS - 60_000..=MONTH_MS).contains(&ttl),
        "a saved session lives 30 days, PTTL = {ttl}"
    );
    // A Telegram update is remembered in the session itself, as the chat's latest id: no key
    // of its own to outweigh the session.
    assert_eq!(stored(&mut redis, &key).await.mark, 9001);
    let keyed: bool = redis
        .exists(store.update_key(CHAT, 9001))
        .await
        .unwrap_or_else(|e| panic!("EXISTS: {e}"));
    assert!(!keyed, "no key per Telegram update");

    // Time passes (the key has 5 s left); then the user writes again.
    let _: bool = redis
        .pexpire(&key, 5_000)
        .await
        .unwrap_or_else(|e| panic!("PEXPIRE: {e}"));
    turn(&bot, CHAT, press(&welcome, "Войти в аккаунт")).await;
    let ttl = pttl(&mut redis, &key).await;
    assert!(
        (MONTH_MS - 60_000..=MONTH_MS).contains(&ttl),
        "activity renews the 30 days, PTTL = {ttl}"
    );

    // With a short TTL an idle conversation is gone, and the next message starts afresh.
    let short = store_with(
        &server,
        RedisStoreConfig {
            session_ttl: Duration::from_millis(700),
            ..RedisStoreConfig::default()
        },
    )
    .await;
    let bot = bot_on(&short).await;
    up_to_contact(&bot, OTHER_CHAT).await;
    let ttl = pttl(&mut redis, &short.session_key(OTHER_CHAT)).await;
    assert!((1..=700).contains(&ttl), "PTTL = {ttl}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(!exists(&mut redis, &short.session_key(OTHER_CHAT)).await);
    let fresh = say(&bot, OTHER_CHAT, "8 (912) 345-67-89").await;
    assert_eq!(fresh.at.to_string(), "menu/start", "{}", text_of(&fresh));
}

#[tokio::test]
async fn two_replicas_answering_one_chat_at_once_lose_no_answer() {
    let server = RedisServer::start();
    let (store_a, store_b) = (store(&server).await, store(&server).await);
    let (replica_a, replica_b) = (bot_on(&store_a).await, bot_on(&store_b).await);
    let mut redis = server.connection().await;
    let key = store_a.session_key(CHAT);
    // A third replica brings the chat to the contact step, so that neither of the two racing
    // ones holds the session it committed: both read the same revision.
    up_to_contact(&bot_on(&store(&server).await).await, CHAT).await;
    let before = revision(&mut redis, &key).await;
    let scripts_before = Counters::read(&mut redis).await.evalsha;

    // Two invalid answers arrive together, one at each replica; both replicas load the same
    // revision before either saves, so one of them must retry.
    let (a, b) = tokio::join!(
        replica_a
            .bot
            .handle(CHAT, None, Input::from_text("не знаю")),
        replica_b
            .bot
            .handle(CHAT, None, Input::from_text("8 3532 12-34-56")),
    );
    let (a, b) = (
        a.unwrap_or_else(|e| panic!("replica A: {e}")),
        b.unwrap_or_else(|e| panic!("replica B: {e}")),
    );
    assert_eq!(a.at.to_string(), "variant1/contact");
    assert_eq!(b.at.to_string(), "variant1/contact");
    let scripts = Counters::read(&mut redis).await.evalsha - scripts_before;
    assert_eq!(
        revision(&mut redis, &key).await,
        before + 2,
        "both answers were saved"
    );

    // The second misunderstood message in a row brings the explanation: one of the two does
    // only if both were counted.
    let explained = [&a, &b]
        .iter()
        .filter(|h| text_of(h).contains("Похоже, я вас не понимаю"))
        .count();
    assert_eq!(
        explained,
        1,
        "both answers counted: {} | {}",
        text_of(&a),
        text_of(&b)
    );
    let third = say(&replica_b, CHAT, "ivan@@mail").await;
    assert_eq!(third.at.to_string(), "variant1/contact");
    let confirm = say(&replica_a, CHAT, "+79123456789").await;
    assert_eq!(confirm.at.to_string(), "variant1/confirm_contact");
    assert_eq!(revision(&mut redis, &key).await, before + 4);
    assert!(
        scripts > 4,
        "the race was real: a save conflicted and was retried ({scripts} scripts for 2 updates)"
    );
}

/// A replica keeps the session it committed last and commits the next update of the chat
/// without reading it first; when another replica moved the chat on meanwhile, that guess must
/// never reach the registration service: the old button is answered from what is stored.
#[tokio::test]
async fn a_replica_whose_session_is_outdated_never_calls_the_service_from_it() {
    let server = RedisServer::start();
    let (store_a, store_b) = (store(&server).await, store(&server).await);
    let (replica_a, replica_b) = (bot_on(&store_a).await, bot_on(&store_b).await);
    up_to_contact(&replica_a, CHAT).await;
    // Replica A keeps the chat at «is this the child's number?».
    let confirm = say(&replica_a, CHAT, "8 (912) 345-67-89").await;
    assert_eq!(confirm.at.to_string(), "variant1/confirm_contact");
    // Replica B takes the next tap: the code is sent.
    let code = turn(&replica_b, CHAT, press(&confirm, "Да, это ребёнка")).await;
    assert_eq!(code.at.to_string(), "variant1/code");
    assert_eq!(replica_b.bot.metrics().service_totals().0, 1);
    let calls_before = replica_a.bot.metrics().service_totals().0;
    // The same button tapped again reaches replica A, whose session still offers it.
    let again = turn(&replica_a, CHAT, press(&confirm, "Да, это ребёнка")).await;
    assert_eq!(again.at.to_string(), "variant1/code", "{}", text_of(&again));
    assert_eq!(
        replica_a.bot.metrics().service_totals().0,
        calls_before,
        "no second code from the outdated session: {}",
        text_of(&again)
    );
}

#[tokio::test]
async fn an_update_delivered_twice_is_answered_once() {
    let server = RedisServer::start();
    let (store_a, store_b) = (store(&server).await, store(&server).await);
    let (replica_a, replica_b) = (bot_on(&store_a).await, bot_on(&store_b).await);
    let mut redis = server.connection().await;
    let key = store_a.session_key(CHAT);
    let contact = up_to_contact(&replica_a, CHAT).await;
    assert!(buttons_of(&contact) > 0);

    let phone = || Input::from_text("8 (912) 345-67-89");
    let first = replica_a
        .bot
        .handle_update(CHAT, Some(777), None, phone())
        .await
        .unwrap_or_else(|e| panic!("the first delivery: {e}"));
    let first = first.unwrap_or_else(|| panic!("the first delivery was ignored"));
    assert_eq!(first.at.to_string(), "variant1/confirm_contact");
    let after_first = stored(&mut redis, &key).await;

    // Telegram delivers it again, to the same replica and to another one.
    for replica in [&replica_a, &replica_b] {
        let again = replica
            .bot
            .handle_update(CHAT, Some(777), None, phone())
            .await
            .unwrap_or_else(|e| panic!("the redelivery: {e}"));
        assert_eq!(again, None, "a redelivery is not answered");
        assert_eq!(
            stored(&mut redis, &key).await,
            after_first,
            "a redelivery changes nothing"
        );
    }
}

#[tokio::test]
async fn a_session_whose_step_no_longer_exists_restarts_politely() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let key = store.session_key(CHAT);
    up_to_contact(&bot, CHAT).await;

    // A deploy removed the step the user is at.
    edit_stored(&mut redis, &key, |session| {
        session["at"] = serde_json::json!({"scenario": "gone", "step": "nowhere"});
    })
    .await;

    // The deploy restarted the bot: it reads what is stored.
    let bot = bot_on(&store).await;
    recovers(&bot, CHAT, RESTARTED).await;
}

#[tokio::test]
async fn a_corrupt_session_restarts_politely() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;

    // Garbage in the data field of a session at revision 5.
    up_to_contact(&bot, CHAT).await;
    let key = store.session_key(CHAT);
    let damaged = Stored {
        revision: Some(5),
        mark: 0,
        lang: "ru".to_owned(),
        data: b"\xff\xfe\x00{\"at\": oops".to_vec(),
    };
    let _: () = redis
        .set(&key, damaged.value())
        .await
        .unwrap_or_else(|e| panic!("SET: {e}"));
    // Another replica (this one keeps the session it committed) reads the damage.
    let bot = bot_on(&store).await;
    recovers(&bot, CHAT, LOST).await;
    assert!(
        revision(&mut redis, &key).await > 5,
        "saved over the damage"
    );

    // Not even a hash: someone wrote a plain string under the session's key.
    let key = store.session_key(OTHER_CHAT);
    let _: () = redis
        .set(&key, "garbage")
        .await
        .unwrap_or_else(|e| panic!("SET: {e}"));
    recovers(&bot, OTHER_CHAT, LOST).await;
}

/// The next message after a damaged session: the `apology` and the main menu;
/// the message after that is an ordinary turn, not another apology.
async fn recovers(bot: &TestBot, chat: ChatKey, apology: &str) {
    let restarted = say(bot, chat, "8 (912) 345-67-89").await;
    let text = text_of(&restarted);
    assert!(
        restarted.replies[0].text.starts_with(apology),
        "the user is told what happened: {text}"
    );
    assert_eq!(restarted.at.to_string(), "menu/start", "{text}");
    assert!(buttons_of(&restarted) > 0, "the main menu is shown: {text}");

    let next = say(bot, chat, "/start demo-class").await;
    assert!(
        !text_of(&next).contains(apology),
        "no loop: {}",
        text_of(&next)
    );
    assert_eq!(next.at.to_string(), "variant1/welcome");
    let contact = turn(bot, chat, press(&next, "Войти в аккаунт")).await;
    assert_eq!(contact.at.to_string(), "variant1/contact");
}

#[tokio::test]
async fn forget_deletes_the_session_and_says_so() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    up_to_contact(&bot, CHAT).await;
    say(&bot, CHAT, "8 (912) 345-67-89").await;
    up_to_contact(&bot, OTHER_CHAT).await;
    assert!(exists(&mut redis, &store.session_key(CHAT)).await);
    assert_eq!(store.session_count().await, Ok(2));

    let forgot = say(&bot, CHAT, "/forget").await;
    assert!(
        text_of(&forgot).contains("удалил"),
        "the user is told: {}",
        text_of(&forgot)
    );
    assert!(
        !exists(&mut redis, &store.session_key(CHAT)).await,
        "the session key is gone"
    );
    assert_eq!(store.session_count().await, Ok(1), "only that chat");
    assert!(exists(&mut redis, &store.session_key(OTHER_CHAT)).await);
    let keys: Vec<String> = redis
        .keys(format!("sferum:*{CHAT}*"))
        .await
        .unwrap_or_else(|e| panic!("KEYS: {e}"));
    assert!(keys.is_empty(), "nothing names the chat any more: {keys:?}");

    let again = say(&bot, CHAT, "/start demo-class").await;
    assert_eq!(again.at.to_string(), "variant1/welcome");
}

#[tokio::test]
async fn an_outage_of_redis_is_reported_promptly_and_over_by_itself() {
    let mut server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    up_to_contact(&bot, CHAT).await;

    server.stop();
    for attempt in 0..3 {
        let started = Instant::now();
        let result = bot
            .bot
            .handle(CHAT, None, Input::from_text("8 (912) 345-67-89"))
            .await;
        assert!(
            matches!(result, Err(RuntimeError::Store(StoreError::Unavailable(_)))),
            "attempt {attempt} while Redis is down: {result:?}"
        );
        let took = started.elapsed();
        eprintln!("redis: while Redis is down, update {attempt} fails in {took:?}");
        assert!(took < PROMPTLY, "attempt {attempt} took {took:?}");
    }
    let started = Instant::now();
    let claimed = bot
        .bot
        .handle_update(CHAT, Some(31), None, Input::from_text("/menu"))
        .await;
    assert!(
        matches!(
            claimed,
            Err(RuntimeError::Store(StoreError::Unavailable(_)))
        ),
        "{claimed:?}"
    );
    assert!(started.elapsed() < PROMPTLY);

    // The outage lasts: the connection manager's own reconnection attempts give up meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Redis is back, empty: the same store reconnects by itself and the next update works.
    server.restart();
    let fresh = say(&bot, CHAT, "8 (912) 345-67-89").await;
    assert_eq!(fresh.at.to_string(), "menu/start", "{}", text_of(&fresh));
    up_to_contact(&bot, CHAT).await;
    let confirm = say(&bot, CHAT, "8 (912) 345-67-89").await;
    assert_eq!(confirm.at.to_string(), "variant1/confirm_contact");
}

#[tokio::test]
async fn a_restart_of_redis_between_two_updates_goes_unnoticed() {
    let mut server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    up_to_contact(&bot, CHAT).await;

    // Redis restarts while nobody writes (and, being in memory only, forgets everything).
    server.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart();
    let fresh = say(&bot, CHAT, "8 (912) 345-67-89").await;
    assert_eq!(fresh.at.to_string(), "menu/start", "{}", text_of(&fresh));
}

#[tokio::test]
async fn the_bot_starts_while_redis_is_down_and_serves_once_it_is_up() {
    let mut server = RedisServer::start();
    server.stop();
    let started = Instant::now();
    let store = store(&server).await;
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    let bot = bot_on(&store).await;
    let result = bot
        .bot
        .handle(CHAT, None, Input::from_text("/start demo-class"))
        .await;
    assert!(
        matches!(result, Err(RuntimeError::Store(StoreError::Unavailable(_)))),
        "{result:?}"
    );
    assert!(matches!(
        store.session_count().await,
        Err(StoreError::Unavailable(_))
    ));

    server.restart();
    up_to_contact(&bot, CHAT).await;
    assert_eq!(store.session_count().await, Ok(1));
}

/// Measures, for the report, what one update costs in Redis: `cargo test --test it
/// redis_round_trips -- --nocapture`.
#[tokio::test]
async fn redis_round_trips_per_update_and_session_memory() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(PROBE)
        .query_async(&mut redis)
        .await
        .unwrap_or_else(|e| panic!("CLIENT SETNAME: {e}"));
    let key = store.session_key(CHAT);
    let mut update_id = 500;
    let mut update = |input: Input| {
        update_id += 1;
        let id = update_id;
        let bot = &bot;
        // As a transport does it: the turn, then (its replies sent) the kept replies dropped.
        async move {
            let handled = bot
                .bot
                .handle_update(CHAT, Some(id), None, input)
                .await
                .unwrap_or_else(|e| panic!("update {id}: {e}"))
                .unwrap_or_else(|| panic!("update {id} taken for a redelivery"));
            bot.bot.delivered(&handled).await;
            handled
        }
    };

    let welcome = update(Input::from_text("/start demo-class")).await;
    let contact = update(press(&welcome, "Войти в аккаунт")).await;
    assert_eq!(contact.at.to_string(), "variant1/contact");

    // A common update: the user types the phone.
    let before = Counters::read(&mut redis).await;
    let confirm = update(Input::from_text("8 (912) 345-67-89")).await;
    let after = Counters::read(&mut redis).await;
    assert_eq!(confirm.at.to_string(), "variant1/confirm_contact");
    let commands = before.commands_since(&mut redis).await;
    eprintln!(
        "redis: one update (a typed phone) = {} round trip(s): {commands:?}; EVALSHA calls {}; \
         total_commands_processed +{} (it also counts the commands run inside the scripts and \
         the probe's own INFO)",
        commands.len(),
        after.evalsha - before.evalsha,
        after.total - before.total,
    );
    assert_eq!(
        commands,
        ["evalsha", "evalsha"],
        "the commit (session, update id and replies; the session is the one this process \
         committed last, so it is not read first) + the delivered replies dropped"
    );
    assert_eq!(after.evalsha - before.evalsha, 2);

    // The code is sent: the service call costs the store nothing more, the reminder that a new
    // code may be asked for (an outbox notice) one round trip.
    let before = Counters::read(&mut redis).await;
    let code = update(press(&confirm, "Да, это ребёнка")).await;
    assert_eq!(code.at.to_string(), "variant1/code");
    let commands = before.commands_since(&mut redis).await;
    eprintln!(
        "redis: one update (confirm the contact, the code is sent) = {} round trip(s): \
         {commands:?}",
        commands.len()
    );
    assert!(commands.len() <= 4, "{commands:?}");

    let memory = memory_usage(&mut redis, &key).await;
    let json = stored(&mut redis, &key).await.data.len();
    let keys: i64 = redis::cmd("DBSIZE")
        .query_async(&mut redis)
        .await
        .unwrap_or_else(|e| panic!("DBSIZE: {e}"));
    eprintln!(
        "redis: MEMORY USAGE {key} after the code was sent = {memory} bytes (the session \
         stored in {json} bytes, the chat's last update id in its head); {keys} keys in all"
    );
    assert!(memory > 0 && json > 0);

    // Without an update id (the terminal chat): load + save.
    let before = Counters::read(&mut redis).await;
    say(&bot, CHAT, CODE).await;
    let commands = before.commands_since(&mut redis).await;
    eprintln!(
        "redis: one update without an id = {} round trip(s): {commands:?}",
        commands.len()
    );
    assert_eq!(
        commands,
        ["evalsha", "evalsha", "evalsha"],
        "load + commit + drop"
    );

    // After Redis forgot the scripts (a restart), the first update reloads them once.
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut redis)
        .await
        .unwrap_or_else(|e| panic!("SCRIPT FLUSH: {e}"));
    let before = Counters::read(&mut redis).await;
    say(&bot, CHAT, "/help").await;
    let commands = before.commands_since(&mut redis).await;
    eprintln!(
        "redis: the first update after the scripts were flushed = {} round trip(s): \
         {commands:?}",
        commands.len()
    );
    assert!(commands.len() <= 9, "{commands:?}");
}

/// The name of the test's own connection, whose commands the counts leave out.
const PROBE: &str = "probe";

/// What Redis has counted so far.
struct Counters {
    /// The slow log's latest entry id (every command is logged: the threshold is 0).
    last_logged: i64,
    evalsha: u64,
    total: u64,
}

impl Counters {
    async fn read(redis: &mut MultiplexedConnection) -> Self {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("slowlog-log-slower-than")
            .arg(0)
            .arg("slowlog-max-len")
            .arg(10_000)
            .query_async(redis)
            .await
            .unwrap_or_else(|e| panic!("CONFIG SET: {e}"));
        let latest: Vec<SlowlogEntry> = redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(1)
            .query_async(redis)
            .await
            .unwrap_or_else(|e| panic!("SLOWLOG GET: {e}"));
        let info: String = redis::cmd("INFO")
            .arg("everything")
            .query_async(redis)
            .await
            .unwrap_or_else(|e| panic!("INFO: {e}"));
        let field = |line_start: &str, name: &str| -> u64 {
            info.lines()
                .find_map(|l| l.strip_prefix(line_start))
                .and_then(|rest| {
                    rest.split(',')
                        .find_map(|kv| kv.strip_prefix(name))
                        .or(Some(rest))
                })
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        Self {
            last_logged: latest.first().map_or(-1, |entry| entry.0),
            evalsha: field("cmdstat_evalsha:", "calls="),
            total: field("total_commands_processed:", ""),
        }
    }

    /// The commands clients other than the probe sent since `self` was read, in order. The
    /// commands a script runs are logged too, by the pseudo-client `?:0`; they are left out.
    async fn commands_since(&self, redis: &mut MultiplexedConnection) -> Vec<String> {
        let entries: Vec<SlowlogEntry> = redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(10_000)
            .query_async(redis)
            .await
            .unwrap_or_else(|e| panic!("SLOWLOG GET: {e}"));
        let mut commands: Vec<(i64, String)> = entries
            .into_iter()
            .filter(|(id, _, _, _, addr, name)| {
                *id > self.last_logged && addr != "?:0" && name != PROBE
            })
            .map(|(id, _, _, args, _, _)| {
                let command = args
                    .first()
                    .map(|c| String::from_utf8_lossy(c).to_lowercase())
                    .unwrap_or_default();
                (id, command)
            })
            .collect();
        commands.sort();
        commands.into_iter().map(|(_, c)| c).collect()
    }
}

/// id, time, duration, command and arguments, client address, client name.
type SlowlogEntry = (i64, i64, i64, Vec<Vec<u8>>, String, String);

/// Updates a version before the per-chat mark committed (one key per update) are still
/// recognised when Telegram delivers them again after the upgrade.
#[tokio::test]
async fn an_update_committed_by_the_previous_version_is_still_taken_for_a_redelivery() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let _: () = redis
        .set_ex(store.update_key(CHAT, 77), "1", 86_400)
        .await
        .unwrap_or_else(|e| panic!("SET: {e}"));
    let again = bot
        .bot
        .handle_update(CHAT, Some(77), None, Input::from_text("/start"))
        .await
        .unwrap_or_else(|e| panic!("the update: {e}"));
    assert!(again.is_none(), "answered twice: {again:?}");
    let next = bot
        .bot
        .handle_update(CHAT, Some(78), None, Input::from_text("/start"))
        .await
        .unwrap_or_else(|e| panic!("the update: {e}"));
    assert!(next.is_some(), "a new update is answered");
}

/// The step's own buttons are stored as `"own": true`, not spelt out, and work after a restart;
/// after a deploy that changed the scripts, they are answered as stale and the step is shown
/// again with buttons that work.
#[tokio::test]
async fn a_steps_own_buttons_are_stored_as_a_flag_and_rebuilt_from_the_script() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let mut redis = server.connection().await;
    let key = store.session_key(CHAT);
    let menu = say(&bot_on(&store).await, CHAT, "/start").await;
    let parent = turn(&bot_on(&store).await, CHAT, press(&menu, "Я родитель")).await;
    assert_eq!(parent.at.to_string(), "menu/parent");
    let kept = stored(&mut redis, &key).await;
    let json = String::from_utf8(kept.data.clone()).expect("JSON");
    assert!(json.contains("\"own\":true"), "{json}");
    assert!(
        !json.contains("Goto"),
        "the buttons are not spelt out: {json}"
    );

    // Another replica (or this one restarted) reads it: the first button works.
    let how = turn(
        &bot_on(&store).await,
        CHAT,
        press(&parent, "У ребёнка нет Госуслуг"),
    )
    .await;
    assert_eq!(how.at.to_string(), "menu/how_to_start", "{}", text_of(&how));

    // A deploy changed the scripts: the old message's button is stale, the step is shown
    // again, and its fresh buttons work.
    edit_stored(&mut redis, &key, |session| {
        session["scripts_version"] = serde_json::json!("before-the-deploy");
    })
    .await;
    let bot = bot_on(&store).await;
    let stale = turn(&bot, CHAT, press(&how, "Важные правила")).await;
    assert!(text_of(&stale).contains("устарела"), "{}", text_of(&stale));
    assert_eq!(stale.at.to_string(), "menu/how_to_start");
    let rules = turn(&bot, CHAT, press(&stale, "Важные правила")).await;
    assert_ne!(
        rules.at.to_string(),
        "menu/how_to_start",
        "{}",
        text_of(&rules)
    );
}

/// The whole bot on a Redis Cluster of three masters, as `REDIS_URL` with the seed nodes
/// configures it: a student goes from the class link to the code sent (claims, commits with
/// replies and reminders, the code limits, the delivered replies dropped), a redelivery is
/// still answered once, and every key the chat's turns wrote carries its shard's tag, so each
/// script ran on one slot.
#[tokio::test]
async fn a_conversation_on_a_redis_cluster_keeps_each_chats_keys_in_its_slot() {
    let cluster = RedisCluster::start();
    let settings = sferum_bot::config::Settings::from_lookup(|name| {
        (name == "REDIS_URL").then(|| cluster.url())
    })
    .expect("settings");
    let backends = sferum_bot::backend::open(&settings)
        .await
        .expect("backends");
    let bot = TestBot::on_backends(&backends);
    up_to_contact(&bot, CHAT).await;
    let confirm = say(&bot, CHAT, "8 (912) 345-67-89").await;
    let code = bot
        .bot
        .handle_update(CHAT, Some(31), None, press(&confirm, "Да, это ребёнка"))
        .await
        .expect("the turn")
        .expect("a new update");
    bot.bot.delivered(&code).await;
    assert_eq!(code.at.to_string(), "variant1/code", "{}", text_of(&code));
    let again = bot
        .bot
        .handle_update(CHAT, Some(31), None, press(&confirm, "Да, это ребёнка"))
        .await
        .expect("the redelivery");
    assert_eq!(again, None, "a redelivery is not answered");
    let registered = say(&bot, CHAT, CODE).await;
    assert_ne!(
        registered.at.to_string(),
        "variant1/code",
        "{}",
        text_of(&registered)
    );

    let tag = format!(
        "sferum:{{{}}}:",
        sferum_bot::backend::redis::keys::shard_of(CHAT)
    );
    let keys = cluster.all_keys().await;
    let chats: Vec<&String> = keys
        .iter()
        .filter(|k| k.contains(&CHAT.to_string()) || k.contains(":session:"))
        .collect();
    assert!(!chats.is_empty(), "{keys:?}");
    for key in &keys {
        let tagged = key.starts_with("sferum:{") && key[8..].contains("}:");
        assert!(tagged, "every key carries a hash tag: {key} in {keys:?}");
    }
    for key in chats {
        assert!(
            key.starts_with(&tag) || key.starts_with("sferum:{limits}:"),
            "{key} is not in the chat's slot: {keys:?}"
        );
    }
}

/// A session stored by the version before the compact encoding (a hash of `rev` and `data`,
/// steps as objects, every field written): it loads, and the conversation goes on from it — its
/// buttons still work — and is saved in today's form.
#[tokio::test]
async fn a_session_stored_before_the_compact_encoding_still_loads_and_goes_on() {
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let old = include_str!("data/session_before_compact.json");
    assert!(
        old.contains("\"scenario\":\"menu\""),
        "the fixture is the old form"
    );
    let _: () = redis
        .hset_multiple(store.session_key(CHAT), &[("rev", "1"), ("data", old)])
        .await
        .unwrap_or_else(|e| panic!("HSET: {e}"));
    let loaded = store
        .load(CHAT)
        .await
        .expect("the store answers")
        .expect("stored");
    let session = loaded.session.expect("the old session decodes");
    assert_eq!(session.at.to_string(), "menu/start");
    assert_eq!(store.language(CHAT).await, Ok(Some("ru".to_owned())));
    assert_eq!(session.history.len(), 6);
    // Its first button, as the old message showed it, is «Я родитель».
    let handled = bot
        .bot
        .handle_update(
            CHAT,
            Some(1),
            None,
            Input::Button {
                offer: session.offer.seq,
                index: 0,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("the press: {e}"))
        .expect("answered");
    assert_eq!(handled.at.to_string(), "menu/parent");
    // Saved again in the compact form, and much smaller.
    let data = stored(&mut redis, &store.session_key(CHAT)).await.data;
    let json = session_json(&data).unwrap_or_else(|e| panic!("{e}"));
    assert!(!json.contains("\"scenario\":"), "{json}");
    // And as one string, no longer the hash of the versions before.
    let kind: String = redis::cmd("TYPE")
        .arg(store.session_key(CHAT))
        .query_async(&mut redis)
        .await
        .unwrap_or_else(|e| panic!("TYPE: {e}"));
    assert_eq!(kind, "string");
    assert!(json.contains("\"menu/parent\""), "{json}");
}

/// What the user does next in [`a_session_stays_within_512_bytes_at_every_step`].
enum Act<'a> {
    Send(&'a str),
    Press(&'a str),
}

/// Plays `acts` in `transcript`, measuring the session's `MEMORY USAGE` after each: the largest,
/// with the step and the session's JSON there.
async fn largest_session(
    transcript: &mut Transcript<'_>,
    key: &str,
    redis: &mut MultiplexedConnection,
    acts: &[Act<'_>],
) -> (u64, String, String) {
    let mut largest = (0, String::new(), String::new());
    for act in acts {
        match act {
            Act::Send(text) => transcript.send(text).await,
            Act::Press(label) => transcript.press(label).await,
        };
        let memory = memory_usage(redis, key).await;
        let data = stored(redis, key).await.data;
        let json = session_json(&data)
            .unwrap_or_else(|e| panic!("the stored session at {}: {e}", transcript.at));
        eprintln!(
            "{memory:>5} B at {} (stored {} bytes, its JSON {})",
            transcript.at,
            data.len(),
            json.len()
        );
        if memory > largest.0 {
            largest = (memory, transcript.at.clone(), json);
        }
    }
    largest
}

/// The bound: a session takes at most 512 bytes of Redis at any step of a student's
/// registration by the class link and of the parent's linking after it (a long one is packed,
/// see `store::packed`), and another process reads it back from there.
#[tokio::test]
async fn a_session_stays_within_512_bytes_at_every_step() {
    use Act::{Press, Send};
    let server = RedisServer::start();
    let store = store(&server).await;
    let bot = bot_on(&store).await;
    let mut redis = server.connection().await;
    let mut student_chat = bot.chat(CHAT);
    let student = largest_session(
        &mut student_chat,
        &store.session_key(CHAT),
        &mut redis,
        &[
            Send("/start demo-class"),
            Press("Войти в аккаунт"),
            Send("8 (912) 345-67-89"),
            Press("Да, это ребёнка"),
            Send(CODE),
            Send("Петрова-Водкина Анна-Мария Сергеевна"),
            Press("Отправить заявку"),
            Press("Проверить статус заявки"),
            Press("Пригласить родителя"),
        ],
    )
    .await;
    let start = format!("/start {}", student_chat.invitation_token());
    let parent = largest_session(
        &mut bot.chat(OTHER_CHAT),
        &store.session_key(OTHER_CHAT),
        &mut redis,
        &[
            Send(&start),
            Send("+7 922 111-22-33"),
            Send(CODE),
            Press("Да, всё верно"),
        ],
    )
    .await;
    for (who, (memory, at, json)) in [("student", student), ("parent", parent)] {
        assert!(
            memory <= 512,
            "the {who}'s session took {memory} bytes at {at}: {json}"
        );
    }
    // A replica that never saw these chats reads their packed sessions from Redis.
    let other = self::store(&server).await;
    for (chat, at) in [
        (CHAT, "variant1/parent_invite"),
        (OTHER_CHAT, "parent/linked"),
    ] {
        let loaded = other.load(chat).await.unwrap_or_else(|e| panic!("{e}"));
        let session = loaded.and_then(|l| l.session);
        assert_eq!(session.map(|s| s.at.to_string()).as_deref(), Some(at));
    }
}
