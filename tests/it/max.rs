//! The bot in MAX, end to end against a fake MAX Bot API (wiremock) and a real Redis: a student
//! opens the teacher's link in MAX (`bot_started` with the deep-link payload), answers with
//! buttons and typed text, and the application is submitted; everything the bot says goes to
//! `POST /messages?user_id=…` with the bare token, buttons as `callback` payloads. Also: a
//! redelivered update is answered once, invitations made in MAX open MAX, and the webhook
//! subscribes with a secret and refuses every delivery without it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::config::Secret;
use sferum_bot::store::ChatKey;
use sferum_bot::transport::max::client::MaxClient;
use sferum_bot::transport::max::transport::Max;
use sferum_bot::transport::max::wire::Update;

use super::helpers::{TestBot, CODE};
use super::redis_server::RedisServer;

const TOKEN: &str = "max-test-token";
const USER: i64 = 229_229_229;

fn user() -> Value {
    json!({"user_id": USER, "first_name": "Маша", "last_name": null, "is_bot": false,
           "last_activity_time": 1_775_026_693_000i64, "name": "Маша"})
}

/// A new number for each update, as MAX gives each message its own `mid`, each press its own
/// `callback_id` and each event its own time.
fn next() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1_775_026_700_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn started_json(payload: &str) -> Value {
    json!({"update_type": "bot_started", "timestamp": next(), "chat_id": 182_182_182,
           "user": user(), "payload": payload, "user_locale": "ru"})
}

fn typed_json(text: &str) -> Value {
    let n = next();
    json!({"update_type": "message_created", "timestamp": n, "user_locale": "ru",
           "message": {"sender": user(),
                       "recipient": {"chat_id": 182_182_182, "chat_type": "dialog", "user_id": 1},
                       "timestamp": n,
                       "body": {"mid": format!("mid.{n}"), "seq": n, "text": text}}})
}

fn pressed_json(payload: &str) -> Value {
    let n = next();
    json!({"update_type": "message_callback", "timestamp": n, "user_locale": "ru",
           "callback": {"timestamp": n, "callback_id": format!("cb-{n}"), "payload": payload,
                        "user": user()},
           "message": null})
}

fn update(json: &Value) -> Update {
    Update::from_json(json.to_string().as_bytes())
}

fn started(payload: &str) -> Update {
    update(&started_json(payload))
}

fn typed(text: &str) -> Update {
    update(&typed_json(text))
}

fn pressed(payload: &str) -> Update {
    update(&pressed_json(payload))
}

struct FakeMax {
    server: MockServer,
    max: Max,
    bot: TestBot,
    _redis: RedisServer,
}

impl FakeMax {
    async fn start() -> Self {
        Self::on_engine(super::helpers::engine()).await
    }

    /// The fake MAX API, a Redis, and a bot on `engine`.
    async fn on_engine(engine: Arc<sferum_bot::engine::Engine>) -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/messages"))
            .and(header("Authorization", TOKEN))
            .and(query_param("user_id", USER.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"message": {
                "recipient": {"chat_id": 182_182_182, "chat_type": "dialog", "user_id": USER},
                "timestamp": 1, "body": {"mid": "mid.2", "seq": 2, "text": "ok"}}})))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/answers"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .mount(&server)
            .await;
        let redis = RedisServer::start();
        let store = RedisStore::connect(&redis.url(), RedisStoreConfig::default())
            .await
            .expect("a Redis store");
        let bot = TestBot::on_engine_with_store(engine, Arc::new(store));
        let client = MaxClient::new(server.uri().parse().expect("a URL"), Secret::new(TOKEN))
            .expect("a client")
            .with_backoff_base(Duration::from_millis(1));
        let max = Max::new(client, bot.bot.clone());
        Self {
            server,
            max,
            bot,
            _redis: redis,
        }
    }

    /// One update in, through the commit, and its replies out to the fake API.
    async fn update(&self, update: Update) {
        let received = self.max.receive(&update).await.expect("committed");
        self.max.deliver(received).await;
    }

    /// The bodies of every message sent so far.
    async fn sent(&self) -> Vec<Value> {
        self.server
            .received_requests()
            .await
            .expect("recorded")
            .iter()
            .filter(|r| r.url.path() == "/messages")
            .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
            .collect()
    }

    /// The payload of the callback button labelled `label` on the latest message that has one.
    async fn button(&self, label: &str) -> String {
        let sent = self.sent().await;
        sent.iter()
            .rev()
            .flat_map(|body| body["attachments"].as_array().cloned().unwrap_or_default())
            .filter(|a| a["type"] == "inline_keyboard")
            .flat_map(|a| {
                a["payload"]["buttons"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .find(|b| b["text"] == label && b["type"] == "callback")
            .and_then(|b| b["payload"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no button «{label}» in {sent:#?}"))
    }

    async fn at(&self) -> String {
        let loaded = self.bot.bot.store().load(ChatKey::max(USER)).await;
        let session = loaded.expect("stored").expect("a session");
        session.session.expect("decodes").at.to_string()
    }
}

#[tokio::test]
async fn a_student_registers_from_a_max_deep_link_to_the_submitted_application() {
    let max = FakeMax::start().await;
    max.update(started("demo-class")).await;
    assert_eq!(max.at().await, "variant1/welcome");
    let first = max.sent().await;
    assert!(!first.is_empty(), "the welcome was sent");
    max.update(pressed(&max.button("Войти в аккаунт").await))
        .await;
    assert_eq!(max.at().await, "variant1/contact");
    max.update(typed("+7 912 345-67-89")).await;
    max.update(pressed(&max.button("Да, это ребёнка").await))
        .await;
    assert_eq!(max.at().await, "variant1/code");
    max.update(typed(CODE)).await;
    max.update(typed("Петрова Мария Ивановна")).await;
    max.update(pressed(&max.button("Отправить заявку").await))
        .await;
    assert_eq!(max.at().await, "variant1/submitted");
    // Every button press was answered, so MAX stops its spinner.
    let answers = max
        .server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path() == "/answers")
        .count();
    assert_eq!(answers, 3);
    // No message was longer than MAX takes.
    for body in max.sent().await {
        let text = body["text"].as_str().unwrap_or_default();
        assert!(text.chars().count() <= 4000, "{text}");
    }
}

#[tokio::test]
async fn a_telegram_chat_and_a_max_user_with_the_same_number_keep_their_own_conversations() {
    let max = FakeMax::start().await;
    let mut in_telegram = max.bot.chat(ChatKey::telegram(USER));
    in_telegram.send("/start").await;
    let telegram_at = in_telegram.at.clone();
    max.update(started("demo-class")).await;
    max.update(pressed(&max.button("Войти в аккаунт").await))
        .await;
    assert_eq!(max.at().await, "variant1/contact");
    // The Telegram chat is where it was, and goes on from there.
    in_telegram.send("/menu").await;
    assert_eq!(in_telegram.at, telegram_at);
    assert_eq!(max.at().await, "variant1/contact", "untouched by the other");
}

#[tokio::test]
async fn an_update_delivered_twice_is_answered_once() {
    let max = FakeMax::start().await;
    max.update(started("demo-class")).await;
    let welcome = pressed_json(&max.button("Войти в аккаунт").await);
    max.update(update(&welcome)).await;
    let sent = max.sent().await.len();
    assert_eq!(max.at().await, "variant1/contact");
    // MAX sends the press again (a poll asked again for its batch, a webhook retried).
    max.update(update(&welcome)).await;
    assert_eq!(max.sent().await.len(), sent, "no second answer");
    let phone = typed_json("+7 912 345-67-89");
    max.update(update(&phone)).await;
    assert_eq!(max.at().await, "variant1/confirm_contact");
    let sent = max.sent().await.len();
    max.update(update(&phone)).await;
    assert_eq!(
        max.sent().await.len(),
        sent,
        "the same message is not read twice"
    );
    assert_eq!(max.at().await, "variant1/confirm_contact");
    // The same words typed again are a new message, and are answered.
    max.update(typed("+7 912 345-67-89")).await;
    assert!(max.sent().await.len() > sent);
}

/// The links a person is given in MAX open the bot in MAX.
#[tokio::test]
async fn an_invitation_made_in_max_opens_max_and_one_made_in_telegram_opens_telegram() {
    let settings = sferum_bot::config::Settings::from_lookup(|name| match name {
        "MAX_BOT_TOKEN" => Some("t".to_owned()),
        "MAX_BOT_USERNAME" => Some("sferum_max_bot".to_owned()),
        _ => None,
    })
    .expect("valid settings");
    let engine = Arc::new(sferum_bot::startup::engine(&settings).expect("the shipped data"));
    let max = FakeMax::on_engine(engine).await;
    let link_in = |text: &str, base: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(base).map(str::to_owned))
    };
    let mut in_max = max.bot.chat(ChatKey::max(USER));
    in_max
        .submit_application("+7 912 345-67-89", "Петрова Мария Ивановна")
        .await;
    in_max.press("Проверить статус заявки").await;
    in_max.press("Пригласить родителя").await;
    let text = in_max.last_text();
    assert!(
        link_in(&text, "https://max.ru/sferum_max_bot?start=").is_some(),
        "{text}"
    );
    assert!(!text.contains("t.me/"), "{text}");
    let mut in_telegram = max.bot.chat(ChatKey::telegram(USER));
    in_telegram
        .submit_application("+7 912 345-67-80", "Петрова Анна Ивановна")
        .await;
    let token = in_telegram.invite_parent().await;
    assert!(!token.is_empty());
}

/// The MAX webhook on a free local port, its URL path `/max`, its secret `max-s3cret`.
fn max_hook() -> (sferum_bot::config::WebhookSettings, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let hook = sferum_bot::config::WebhookSettings {
        url: "https://bot.example.invalid/max".parse().expect("a URL"),
        listen: ([127, 0, 0, 1], port).into(),
        secret: Secret::new("max-s3cret"),
    };
    (hook, port)
}

#[tokio::test]
async fn the_webhook_subscribes_with_its_secret_and_takes_only_deliveries_that_carry_it() {
    let max = FakeMax::start().await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .and(header("Authorization", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&max.server)
        .await;
    let (hook, port) = max_hook();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(sferum_bot::transport::max::serve::serve(
        max.max.clone(),
        Some(hook),
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match client.get(format!("{base}/health")).send().await {
            Ok(r) if r.status().is_success() => break,
            _ if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("the webhook did not come up: {other:?}"),
        }
    }
    // MAX was told the address, the secret and the update types.
    let subscription: Value = max
        .server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .find(|r| r.url.path() == "/subscriptions")
        .map(|r| serde_json::from_slice(&r.body).expect("JSON"))
        .expect("subscribed");
    assert_eq!(subscription["url"], "https://bot.example.invalid/max");
    assert_eq!(subscription["secret"], "max-s3cret");
    let types = subscription["update_types"].to_string();
    for kind in ["message_created", "message_callback", "bot_started"] {
        assert!(types.contains(kind), "{types}");
    }
    let post = |body: Value, secret: Option<&'static str>| {
        let client = client.clone();
        let url = format!("{base}/max");
        async move {
            let mut request = client.post(url).json(&body);
            if let Some(secret) = secret {
                request = request.header("X-Max-Bot-Api-Secret", secret);
            }
            request.send().await.expect("answered").status().as_u16()
        }
    };
    let start = started_json("demo-class");
    // Without the secret, or with a wrong one: refused, and nothing is said or stored.
    assert_eq!(post(start.clone(), None).await, 401);
    assert_eq!(post(start.clone(), Some("max-s3cre")).await, 401);
    assert!(max.sent().await.is_empty());
    assert!(max
        .bot
        .bot
        .store()
        .load(ChatKey::max(USER))
        .await
        .expect("stored")
        .is_none());
    // With it: taken once committed, and answered in MAX.
    assert_eq!(post(start.clone(), Some("max-s3cret")).await, 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while max.sent().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(max.at().await, "variant1/welcome");
    let sent = max.sent().await.len();
    assert!(sent > 0);
    // MAX retries a delivery it thinks failed: taken, not answered again.
    assert_eq!(post(start, Some("max-s3cret")).await, 200);
    // What MAX sends that is not an update is taken and ignored (sending it again would not help).
    assert_eq!(post(json!({"hello": 1}), Some("max-s3cret")).await, 200);
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("stops when told")
        .expect("the task ends")
        .expect("served without error");
    assert_eq!(max.sent().await.len(), sent, "nothing was said twice");
}
