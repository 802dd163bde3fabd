//! Faults a region meets at the start of a school year, as counts a user would notice: lost
//! answers, duplicate SMS, duplicate applications, duplicate messages. Real Redis (each test its
//! own `redis-server`), the sandbox service counting what it really does, replicas as separate
//! `Assistant`s on one Redis, a crash as a turn's future dropped mid-call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sferum_bot::backend::redis::RedisOutbox;
use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::clock::ManualClock;
use sferum_bot::engine::Input;
use sferum_bot::runtime::{Assistant, Handled};
use sferum_bot::service::sandbox::{Sandbox, SandboxConfig};
use sferum_bot::store::{ChatKey, SessionStore};

use super::helpers::{
    engine, monday_morning, press_on as press, session_json, text_of as text, Inbox, CODE,
};
use super::redis_server::RedisServer;

const CHAT: ChatKey = ChatKey::telegram(31_337);

/// A registration service shared by every replica, counting the codes it sends.
struct Service {
    sandbox: Arc<Sandbox>,
    codes: Arc<AtomicUsize>,
}

fn service(clock: &ManualClock) -> Service {
    let codes = Arc::new(AtomicUsize::new(0));
    let counter = codes.clone();
    let sandbox = Sandbox::with_config(
        Arc::new(clock.clone()),
        SandboxConfig {
            fixed_code: Some(CODE.to_owned()),
            ..SandboxConfig::default()
        },
    )
    .on_code_sent(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    Service {
        sandbox: Arc::new(sandbox),
        codes,
    }
}

async fn redis_store(server: &RedisServer) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::connect(&server.url(), RedisStoreConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", server.url())),
    )
}

/// A replica of the bot: its own process state, the shared Redis (sessions and outbox) and
/// service.
async fn replica(store: &Arc<RedisStore>, service: &Service, clock: &ManualClock) -> Assistant {
    let outbox = Arc::new(RedisOutbox::beside(store).await);
    let store: Arc<dyn SessionStore> = store.clone();
    Assistant::new(
        engine(),
        service.sandbox.clone(),
        store,
        Arc::new(clock.clone()),
    )
    .with_outbox(outbox)
}

async fn turn(bot: &Assistant, input: Input) -> Handled {
    let handled = bot
        .handle(CHAT, None, input)
        .await
        .unwrap_or_else(|e| panic!("the turn failed: {e}"));
    bot.delivered(&handled).await;
    handled
}

#[tokio::test]
async fn a_double_tap_on_two_replicas_sends_one_sms_and_both_taps_are_answered() {
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let (a, b) = (
        replica(&store, &service, &clock).await,
        replica(&store, &service, &clock).await,
    );
    let welcome = turn(&a, Input::from_text("/start demo-class")).await;
    let contact = turn(&a, press(&welcome, "Войти в аккаунт")).await;
    assert_eq!(contact.at.to_string(), "variant1/contact");
    let check = turn(&a, Input::from_text("+7 912 345-67-89")).await;
    let tap = press(&check, "Да, это ребёнка");

    let (first, second) =
        tokio::join!(a.handle(CHAT, None, tap.clone()), b.handle(CHAT, None, tap));
    let (first, second) = (first.expect("replica A"), second.expect("replica B"));

    assert_eq!(
        service.codes.load(Ordering::SeqCst),
        1,
        "one SMS for the double tap"
    );
    for handled in [&first, &second] {
        assert_eq!(handled.at.to_string(), "variant1/code", "{}", text(handled));
        assert!(!handled.replies.is_empty(), "every tap is answered");
    }
}

/// The fake registration service for the crash test: a class invitation, and a verification
/// whose first answer takes longer than the process lives.
async fn slow_first_verification() -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = wiremock::MockServer::start().await;
    let later =
        |minutes: i64| (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339();
    Mock::given(method("GET"))
        .and(path("/v1/invites/class-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "kind": "class", "class_id": "c-5a", "class": "5А", "school": "МОБУ «СОШ № 1»",
            "teacher_name": "Иванова Мария Петровна", "expires_at": later(7 * 24 * 60),
        })))
        .mount(&server)
        .await;
    let verification = serde_json::json!({
        "verification_id": "v-1", "code_length": 6, "expires_at": later(10),
        "resend_after": later(1),
    });
    Mock::given(method("POST"))
        .and(path("/v1/verifications"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(verification.clone())
                .set_delay(std::time::Duration::from_secs(5)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/verifications"))
        .respond_with(ResponseTemplate::new(201).set_body_json(verification))
        .mount(&server)
        .await;
    server
}

/// The `Idempotency-Key`s of the requests to `path`, in order.
async fn keys_of(server: &wiremock::MockServer, path: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == path)
        .filter_map(|r| {
            r.headers
                .get("idempotency-key")?
                .to_str()
                .ok()
                .map(str::to_owned)
        })
        .collect()
}

async fn update(bot: &Assistant, id: i64, input: Input) -> Option<Handled> {
    bot.handle_update(CHAT, Some(id), None, input)
        .await
        .unwrap_or_else(|e| panic!("update {id}: {e}"))
}

#[tokio::test]
async fn a_crash_during_a_service_call_loses_no_answer_and_sends_no_second_sms() {
    use sferum_bot::service::http::{HttpConfig, HttpService, Secret};
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let fake = slow_first_verification().await;
    let url = reqwest::Url::parse(&fake.uri()).expect("a URL");
    let http =
        Arc::new(HttpService::new(HttpConfig::new(url, Secret::new("t"))).expect("a service"));
    let process = |_: u32| async {
        let outbox = Arc::new(RedisOutbox::beside(&store).await);
        let store: Arc<dyn SessionStore> = store.clone();
        Assistant::new(engine(), http.clone(), store, Arc::new(clock.clone())).with_outbox(outbox)
    };
    let first = process(1).await;
    let welcome = update(&first, 1, Input::from_text("/start class-token-1"))
        .await
        .expect("new");
    let contact = update(&first, 2, press(&welcome, "Войти в аккаунт"))
        .await
        .expect("new");
    let check = update(&first, 3, Input::from_text("+7 912 345-67-89"))
        .await
        .expect("new");
    let tap = press(&check, "Да, это ребёнка");
    assert_eq!(contact.at.to_string(), "variant1/contact");

    // The process dies while the code is being sent: the turn never commits.
    let died = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        update(&first, 4, tap.clone()),
    )
    .await;
    assert!(died.is_err(), "the turn was still waiting for the service");
    drop(first);

    // Telegram delivers the update again, to the restarted process.
    let second = process(2).await;
    let answered = update(&second, 4, tap)
        .await
        .expect("the uncommitted update runs again");
    assert_eq!(
        answered.at.to_string(),
        "variant1/code",
        "{}",
        text(&answered)
    );
    assert!(
        text(&answered).contains("отправили проверочный код"),
        "{}",
        text(&answered)
    );
    let keys = keys_of(&fake, "/v1/verifications").await;
    assert_eq!(keys.len(), 2, "asked twice: {keys:?}");
    assert_eq!(keys[0], keys[1], "with one key: the service sends one SMS");

    // A third delivery of the same update, now committed, changes nothing.
    assert_eq!(update(&second, 4, Input::from_text("x")).await, None);
}

#[tokio::test]
async fn replies_of_a_process_that_died_after_its_commit_are_delivered_once_by_another() {
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let a = replica(&store, &service, &clock).await;
    let b = Arc::new(replica(&store, &service, &clock).await);
    // A commits the turn and dies before sending anything.
    let committed = update(&a, 1, Input::from_text("/start demo-class"))
        .await
        .expect("new");
    drop(a);
    let recorder = Arc::new(Inbox::default());
    let notifier = sferum_bot::runtime::notifier::Notifier::new(b.clone(), recorder.clone(), "b");
    assert_eq!(notifier.deliver_due().await, Ok(0), "not before the grace");
    clock.advance(sferum_bot::runtime::REPLY_GRACE + chrono::Duration::seconds(1));
    assert_eq!(notifier.deliver_due().await, Ok(1));
    assert_eq!(notifier.deliver_due().await, Ok(0), "once");
    let sent: Vec<(ChatKey, String)> = recorder
        .take()
        .into_iter()
        .map(|(chat, reply)| (chat, reply.text))
        .collect();
    let expected: Vec<(ChatKey, String)> = committed
        .replies
        .iter()
        .map(|r| (CHAT, r.text.clone()))
        .collect();
    assert_eq!(sent, expected, "every reply, in order, once");
}

#[tokio::test]
async fn a_conversation_redis_lost_is_told_so_and_a_damaged_link_keeps_the_place() {
    let mut server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let bot = replica(&store, &service, &clock).await;
    let welcome = turn(&bot, Input::from_text("/start demo-class")).await;
    let contact = turn(&bot, press(&welcome, "Войти в аккаунт")).await;
    let damaged = turn(&bot, Input::from_text("/start ?!")).await;
    assert!(text(&damaged).contains("повреждена"), "{}", text(&damaged));
    assert_eq!(
        damaged.at.to_string(),
        "variant1/contact",
        "the place is kept"
    );

    // Redis restarts empty (it keeps nothing on disk) while the user reads.
    server.stop();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.restart();
    let lost = turn(&bot, press(&contact, "Нет ни телефона, ни почты")).await;
    assert!(
        text(&lost).contains("потерял наш разговор"),
        "{}",
        text(&lost)
    );
    assert_eq!(lost.at.to_string(), "menu/start");
}

/// A string value as text, a packed session (`{rev} {mark} {lang}\n` and its packed bytes)
/// unpacked: what it holds must be searchable.
fn readable(value: &[u8]) -> String {
    let (head, data) = match value.iter().position(|b| *b == b'\n') {
        Some(newline) => value.split_at(newline + 1),
        None => (&value[..0], value),
    };
    let data = session_json(data).unwrap_or_else(|_| String::from_utf8_lossy(data).into_owned());
    format!("{}{data}", String::from_utf8_lossy(head))
}

/// Every key under the prefix, with its type and everything it holds, as text.
async fn everything_in(
    redis: &mut redis::aio::MultiplexedConnection,
) -> Vec<(String, String, i64)> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(redis)
        .await
        .unwrap_or_else(|e| panic!("KEYS: {e}"));
    let mut out = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(redis)
            .await
            .expect("TYPE");
        let value = match kind.as_str() {
            "string" => redis::cmd("GET")
                .arg(&key)
                .query_async::<Vec<u8>>(redis)
                .await
                .map(|value| readable(&value)),
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async::<Vec<String>>(redis)
                .await
                .map(|v| v.join(" ")),
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query_async::<Vec<String>>(redis)
                .await
                .map(|v| v.join(" ")),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async::<Vec<String>>(redis)
                .await
                .map(|v| v.join(" ")),
            "stream" => redis::cmd("XRANGE")
                .arg(&key)
                .arg("-")
                .arg("+")
                .query_async::<redis::Value>(redis)
                .await
                .map(|v| format!("{v:?}")),
            other => Ok(format!("<{other}>")),
        }
        .unwrap_or_else(|e| panic!("reading {key}: {e}"));
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(redis)
            .await
            .expect("PTTL");
        out.push((key, value, ttl));
    }
    out
}

#[tokio::test]
async fn forget_leaves_nothing_of_the_user_anywhere_in_redis() {
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let directory = sferum_bot::backend::redis::RedisDirectory::connect(&server.url(), "sferum:")
        .await
        .expect("a directory");
    let bot = replica(&store, &service, &clock)
        .await
        .with_directory(Arc::new(directory));
    let welcome = turn(&bot, Input::from_text("/start demo-class")).await;
    let contact = turn(&bot, press(&welcome, "Войти в аккаунт")).await;
    let check = turn(&bot, Input::from_text("ivan2015@mail.ru")).await;
    turn(&bot, press(&check, "Да, это ребёнка")).await;
    turn(&bot, Input::from_text(CODE)).await;
    let confirm = turn(&bot, Input::from_text("Петров Иван Сергеевич")).await;
    let submitted = turn(&bot, press(&confirm, "Отправить заявку")).await;
    assert_eq!(submitted.at.to_string(), "variant1/submitted");
    assert_eq!(contact.at.to_string(), "variant1/contact");

    let mut redis = server.connection().await;
    let before = everything_in(&mut redis).await;
    let names_the_user = |text: &str| {
        ["ivan2015", "Петров", "Иван", &CHAT.to_string()]
            .iter()
            .any(|needle| text.contains(needle))
    };
    let per_user: Vec<_> = before
        .iter()
        .filter(|(key, value, _)| names_the_user(key) || names_the_user(value))
        .collect();
    assert!(
        !per_user.is_empty(),
        "the journey stored something: {before:?}"
    );
    // Keys of their own expire; the shared index (the outbox's schedule) only holds the user's
    // notices as members, removed by /forget below.
    let shared = |key: &str| key.contains("outbox:") && key.ends_with(":scheduled");
    for (key, _, ttl) in per_user.iter().filter(|(key, _, _)| !shared(key)) {
        assert!(*ttl > 0, "{key} names the user and never expires");
    }

    let forgot = turn(&bot, Input::from_text("/forget")).await;
    assert!(text(&forgot).contains("удалил"), "{}", text(&forgot));
    let after = everything_in(&mut redis).await;
    let left: Vec<_> = after
        .iter()
        .filter(|(key, value, _)| names_the_user(key) || names_the_user(value))
        .collect();
    assert!(left.is_empty(), "after /forget: {left:#?}");
}

/// The real binary, polling a fake Telegram, on the shared Redis and the fake service.
fn spawn_bot(telegram: &str, redis: &str, service: &str) -> std::process::Child {
    spawn_bot_with(telegram, redis, service, &[])
}

/// [`spawn_bot`] with more settings.
fn spawn_bot_with(
    telegram: &str,
    redis: &str,
    service: &str,
    more: &[(&str, &str)],
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
        .arg("run")
        .envs(more.iter().copied())
        .env("TELOXIDE_TOKEN", "123456:TEST-TOKEN")
        .env("TELEGRAM_API_URL", telegram)
        .env("REDIS_URL", redis)
        .env("REGISTRATION_API_URL", service)
        .env("REGISTRATION_API_TOKEN", "t")
        .env_remove("WEBHOOK_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigkill_of_the_real_binary_during_a_service_call_loses_no_answer_and_sends_no_second_sms()
{
    use serde_json::{json, Value};
    use wiremock::matchers::path_regex;
    use wiremock::{Mock, Request, ResponseTemplate};
    const STUDENT: i64 = 777;
    let redis = RedisServer::start();
    let service = slow_first_verification().await;
    let telegram = super::telegram::fake_telegram().await;
    // The student's first four updates, as Telegram keeps them until confirmed.
    let press = |id: i64, data: &str| {
        json!({"update_id": id, "callback_query": {
            "id": format!("cb-{id}"), "from": super::telegram::user(STUDENT), "chat_instance": "ci",
            "data": data, "message": super::telegram::message(STUDENT, json!({"text": "…"})),
        }})
    };
    let text = |id: i64, text: &str| json!({"update_id": id, "message": super::telegram::message(STUDENT, json!({"text": text}))});
    let updates = [
        text(1, "/start class-token-1"),
        press(2, "1:0"), // «Войти в аккаунт»
        text(3, "+7 912 345-67-89"),
        press(4, "3:0"), // «Да, это ребёнка»: the code is sent
    ];
    Mock::given(path_regex(r"^/bot[^/]+/(getUpdates|GetUpdates)$"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let offset = body["offset"].as_i64().unwrap_or(0);
            let pending: Vec<&Value> = updates
                .iter()
                .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": pending}))
                .set_delay(std::time::Duration::from_millis(if pending.is_empty() {
                    200
                } else {
                    0
                }))
        })
        .with_priority(1)
        .mount(&telegram)
        .await;
    let sent_to_student = || async {
        telegram
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path().to_lowercase().ends_with("sendmessage"))
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .filter(|m| m["chat_id"] == json!(STUDENT))
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect::<Vec<String>>()
    };

    let mut first = spawn_bot(&telegram.uri(), &redis.url(), &service.uri());
    wait_for("the code request", async || {
        !keys_of(&service, "/v1/verifications").await.is_empty()
    })
    .await;
    first.kill().expect("SIGKILL");
    let _ = first.wait();
    let before_restart = sent_to_student().await;
    assert!(
        !before_restart
            .iter()
            .any(|t| t.contains("отправили проверочный код")),
        "the killed process never answered the tap"
    );

    // The restarted process also serves the operations listener, as `run` does with
    // METRICS_LISTEN in polling mode.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut second = spawn_bot_with(
        &telegram.uri(),
        &redis.url(),
        &service.uri(),
        &[("METRICS_LISTEN", listen.as_str())],
    );
    wait_for("the answer to the tap", async || {
        sent_to_student()
            .await
            .iter()
            .any(|t| t.contains("отправили проверочный код"))
    })
    .await;
    let health = reqwest::get(format!("http://{listen}/health"))
        .await
        .expect("the operations listener answers");
    assert_eq!(health.status().as_u16(), 200);
    let metrics = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("a body");
    // Every update it was handed counts (the ones the killed process had committed too, which
    // it took for redeliveries); the steps count once, as committed.
    assert!(
        metrics.contains("sferum_updates_total{channel=\"telegram\",kind=\"button\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sferum_steps_entered_total{scenario=\"variant1\",step=\"code\"} 1"),
        "{metrics}"
    );
    // Let it poll past the update once more, then stop it the same way.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    second.kill().expect("SIGKILL");
    let _ = second.wait();

    let keys = keys_of(&service, "/v1/verifications").await;
    let sent = sent_to_student().await;
    let answers = sent
        .iter()
        .filter(|t| t.contains("отправили проверочный код"))
        .count();
    let welcomes = sent
        .iter()
        .filter(|t| t.contains("приглашение в класс"))
        .count();
    eprintln!(
        "SIGKILL mid-call: {} code requests with {} distinct key(s); the tap answered {answers} \
         time(s); the welcome sent {welcomes} time(s)",
        keys.len(),
        keys.iter().collect::<std::collections::HashSet<_>>().len()
    );
    assert_eq!(keys.len(), 2, "asked again after the restart: {keys:?}");
    assert_eq!(keys[0], keys[1], "with the same key: one SMS");
    assert_eq!(answers, 1, "lost answers 0, duplicate answers 0: {sent:#?}");
    assert_eq!(
        welcomes, 1,
        "a committed update is not answered again: {sent:#?}"
    );
}

/// The student taps through to the code for `phone` and asks to change the number.
async fn code_to(bot: &Assistant, phone: &str) -> Handled {
    let check = turn(bot, Input::from_text(phone)).await;
    let sent = turn(bot, press(&check, "Да, это ребёнка")).await;
    if sent.at.to_string() == "variant1/code" {
        turn(bot, press(&sent, "Изменить номер или почту")).await;
    }
    sent
}

#[tokio::test]
async fn twenty_numbers_from_one_chat_send_at_most_the_limits_sms_across_two_replicas() {
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let limits = Arc::new(sferum_bot::backend::redis::RedisLimits::beside(
        &store,
        sferum_bot::limits::CodeLimits::default(),
    ));
    let a = replica(&store, &service, &clock)
        .await
        .with_limits(limits.clone(), b"k");
    let b = replica(&store, &service, &clock)
        .await
        .with_limits(limits, b"k");
    let welcome = turn(&a, Input::from_text("/start demo-class")).await;
    turn(&a, press(&welcome, "Войти в аккаунт")).await;
    let mut refusals = Vec::new();
    for n in 0..20 {
        let bot = if n % 2 == 0 { &a } else { &b };
        let answer = code_to(bot, &format!("+7 912 000-00-{n:02}")).await;
        if answer.at.to_string() != "variant1/code" {
            refusals.push(text(&answer));
        }
    }
    let sent = service.codes.load(Ordering::SeqCst);
    eprintln!("SMS pumping: 20 numbers from one chat on two replicas → {sent} codes sent");
    assert_eq!(sent, 3, "the hourly limit per chat");
    assert_eq!(refusals.len(), 17);
    assert!(
        refusals[0].contains("Попробуйте снова через"),
        "{}",
        refusals[0]
    );
    assert!(
        refusals[0].contains("классный руководитель"),
        "a person is named: {}",
        refusals[0]
    );
    let mut redis = server.connection().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*limit*")
        .query_async(&mut redis)
        .await
        .expect("KEYS");
    assert!(
        keys.iter().all(|k| !k.contains("912")),
        "no address in a key name: {keys:?}"
    );
}

#[tokio::test]
async fn a_forwarded_teacher_link_takes_nothing_over_and_the_teacher_is_told() {
    use super::helpers::TestBot;
    let bot = TestBot::new();
    let (notifier, inbox) = bot.notifier();
    let mut teacher = bot.chat(700);
    teacher.send("/start demo-teacher").await;
    assert!(teacher.last_text().contains("личная"), "{}", teacher.text());

    let mut stranger = bot.chat(999);
    stranger.send("/start demo-teacher").await;
    assert!(
        stranger.last_text().contains("НЕ подключён"),
        "{}",
        stranger.text()
    );
    stranger.send("/pending").await;
    assert!(
        stranger.last_text().contains("НЕ подключён"),
        "{}",
        stranger.text()
    );

    let mut student = bot.chat(100);
    student
        .submit_application("89120000001", "Петров Иван Сергеевич")
        .await;
    notifier.deliver_due().await.expect("delivered");
    let sent = inbox.take();
    assert!(
        sent.iter()
            .any(|(chat, r)| *chat == ChatKey::telegram(700)
                && r.text.contains("открыли в другом чате")),
        "the teacher is told: {sent:#?}"
    );
    assert!(
        sent.iter().all(|(chat, _)| *chat != ChatKey::telegram(999)),
        "nothing of the class reaches the second chat: {sent:#?}"
    );
    assert!(
        sent.iter()
            .any(|(chat, r)| *chat == ChatKey::telegram(700) && r.text.contains("Петров Иван")),
        "the new application goes to the teacher's own chat: {sent:#?}"
    );
}

#[tokio::test]
async fn a_parent_linking_to_the_childs_account_is_announced_to_the_child() {
    use super::helpers::TestBot;
    let bot = TestBot::new();
    let (notifier, inbox) = bot.notifier();
    let mut student = bot.chat(100);
    let token = student
        .submit_application("89120000001", "Петров Иван Сергеевич")
        .await
        .invite_parent()
        .await;
    let mut parent = bot.chat(200);
    parent.send(&format!("/start {token}")).await;
    parent.send("+7 922 111-22-33").await;
    parent.send(CODE).await;
    parent.press("Да, всё верно").await;
    assert_eq!(parent.at, "parent/linked");
    notifier.deliver_due().await.expect("delivered");
    let to_child: Vec<String> = inbox
        .take()
        .into_iter()
        .filter(|(chat, _)| *chat == ChatKey::telegram(100))
        .map(|(_, r)| r.text)
        .collect();
    assert_eq!(to_child.len(), 1, "{to_child:?}");
    assert!(
        to_child[0].contains("+7 922 ***-**-33"),
        "masked: {}",
        to_child[0]
    );
    assert!(to_child[0].contains("не ваш родитель"), "{}", to_child[0]);
}

#[tokio::test]
async fn the_bound_teacher_connects_a_second_chat_and_either_chat_can_unbind() {
    use super::helpers::TestBot;
    let bot = TestBot::new();
    let (notifier, inbox) = bot.notifier();
    let mut teacher = bot.chat(700);
    teacher.send("/start demo-teacher").await;
    let mut phone = bot.chat(701); // the teacher's own second phone
    phone.send("/start demo-teacher").await;
    notifier.deliver_due().await.expect("delivered");
    let asked = inbox.take();
    assert!(
        asked.iter().any(|(chat, r)| *chat == ChatKey::telegram(700)
            && r.text.contains("Подключить ещё один чат")),
        "{asked:#?}"
    );
    teacher
        .press_from(&asked, ChatKey::telegram(700), "Да, подключить")
        .await;
    assert!(
        teacher.last_text().contains("второй чат подключён"),
        "{}",
        teacher.text()
    );
    notifier.deliver_due().await.expect("delivered");
    let told: Vec<_> = inbox
        .take()
        .into_iter()
        .filter(|(c, _)| *c == ChatKey::telegram(701))
        .collect();
    assert!(told[0].1.text.contains("подтвердил"), "{told:#?}");
    phone.send("/pending").await;
    assert!(
        !phone.last_text().contains("НЕ подключён"),
        "{}",
        phone.text()
    );

    phone.send("/unbind").await;
    assert!(phone.last_text().contains("отключён"), "{}", phone.text());
    phone.send("/pending").await;
    assert!(
        phone.last_text().contains("для классного руководителя"),
        "{}",
        phone.text()
    );
    teacher.send("/pending").await;
    assert!(
        !teacher.last_text().contains("НЕ подключён"),
        "the first chat keeps the desk"
    );
}

#[tokio::test]
async fn in_redis_the_first_chat_keeps_a_teacher_and_others_join_only_when_allowed() {
    use sferum_bot::backend::redis::RedisDirectory;
    use sferum_bot::directory::{Binding, Directory};
    let server = RedisServer::start();
    let a = RedisDirectory::connect(&server.url(), "sferum:")
        .await
        .expect("a directory");
    let b = RedisDirectory::connect(&server.url(), "sferum:")
        .await
        .expect("another replica");
    assert_eq!(
        a.bind_teacher("t-7", ChatKey::telegram(700)).await,
        Ok(Binding::Bound)
    );
    assert_eq!(
        b.bind_teacher("t-7", ChatKey::telegram(700)).await,
        Ok(Binding::Bound),
        "again: the same chat"
    );
    assert_eq!(
        b.bind_teacher("t-7", ChatKey::telegram(999)).await,
        Ok(Binding::Taken {
            by: ChatKey::telegram(700)
        })
    );
    assert_eq!(
        a.teacher_chat("t-7").await,
        Ok(Some(ChatKey::telegram(700)))
    );
    assert_eq!(a.serves("t-7", ChatKey::telegram(999)).await, Ok(false));
    b.allow_chat("t-7", ChatKey::telegram(999))
        .await
        .expect("allowed");
    assert_eq!(a.serves("t-7", ChatKey::telegram(999)).await, Ok(true));
    a.unbind("t-7", ChatKey::telegram(999))
        .await
        .expect("unbound");
    assert_eq!(b.serves("t-7", ChatKey::telegram(999)).await, Ok(false));
    assert_eq!(b.serves("t-7", ChatKey::telegram(700)).await, Ok(true));
    a.forget_chat(ChatKey::telegram(700))
        .await
        .expect("forgotten");
    assert_eq!(
        b.bind_teacher("t-7", ChatKey::telegram(999)).await,
        Ok(Binding::Bound),
        "free again"
    );
}
