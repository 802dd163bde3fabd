//! The bot in MAX, end to end against a fake MAX Bot API (wiremock) and a real Redis: a student
//! opens the teacher's link in MAX (`bot_started` with the deep-link payload), answers with
//! buttons and typed text, and the application is submitted; everything the bot says goes to
//! `POST /messages?user_id=…` with the bare token, buttons as `callback` payloads.

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

fn started(payload: &str) -> Update {
    Update::from_json(
        json!({"update_type": "bot_started", "timestamp": 1, "chat_id": 182_182_182,
               "user": user(), "payload": payload, "user_locale": "ru"})
        .to_string()
        .as_bytes(),
    )
}

fn typed(text: &str) -> Update {
    Update::from_json(
        json!({"update_type": "message_created", "timestamp": 2, "user_locale": "ru",
               "message": {"sender": user(),
                           "recipient": {"chat_id": 182_182_182, "chat_type": "dialog", "user_id": 1},
                           "timestamp": 2,
                           "body": {"mid": "mid.1", "seq": 1, "text": text}}})
        .to_string()
        .as_bytes(),
    )
}

fn pressed(payload: &str) -> Update {
    Update::from_json(
        json!({"update_type": "message_callback", "timestamp": 3, "user_locale": "ru",
               "callback": {"timestamp": 3, "callback_id": "cb-1", "payload": payload,
                            "user": user()},
               "message": null})
        .to_string()
        .as_bytes(),
    )
}

struct FakeMax {
    server: MockServer,
    max: Max,
    bot: TestBot,
    _redis: RedisServer,
}

impl FakeMax {
    async fn start() -> Self {
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
        let bot = TestBot::with_store_and_outbox(Arc::new(store), None);
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
