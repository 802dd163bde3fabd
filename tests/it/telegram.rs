//! The Telegram bot end to end: real updates in (as Telegram sends them), real Bot API calls out
//! to a fake Telegram (wiremock), sessions in a real Redis, the registration service on wiremock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use sferum_bot::clock::ManualClock;
use sferum_bot::runtime::Bot;
use sferum_bot::store::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::transport::telegram::{self, Telegram};

use super::helpers::{engine, monday_morning};
use super::http_service;
use super::redis_server::RedisServer;

const STUDENT: i64 = 4242;
const PARENT: i64 = 4343;

/// A fake Bot API: every method answers `ok`, and the requests are recorded by wiremock.
async fn fake_telegram() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path_regex(r"^/bot[^/]+/(sendMessage|SendMessage)$"))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(json!({
                "ok": true,
                "result": {
                    "message_id": 1,
                    "date": 1_757_224_800,
                    "chat": {"id": body["chat_id"], "type": "private", "first_name": "Мария"},
                    "text": body["text"],
                }
            }))
        })
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/bot[^/]+/(getMe|GetMe)$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": {"id": 123456, "is_bot": true, "first_name": "Сферум", "username": "sferum_bot",
                       "can_join_groups": false, "can_read_all_group_messages": false,
                       "supports_inline_queries": false, "can_connect_to_business": false,
                       "has_main_web_app": false},
        })))
        .mount(&server)
        .await;
    Mock::given(path_regex(r"^/bot[^/]+/[A-Za-z]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .with_priority(10)
        .mount(&server)
        .await;
    server
}

/// Everything the live bot needs, on fakes and a real Redis.
struct Harness {
    telegram_api: MockServer,
    registration: MockServer,
    redis: RedisServer,
    next_update: i64,
}

impl Harness {
    async fn start() -> Self {
        let registration = MockServer::start().await;
        http_service::mount_variant1(&registration).await;
        Self {
            telegram_api: fake_telegram().await,
            registration,
            redis: RedisServer::start(),
            next_update: 1,
        }
    }

    /// A bot process: a new store connection and a new runtime, as after a restart.
    async fn bot(&self) -> Telegram {
        let store = RedisStore::connect(&self.redis.url(), RedisStoreConfig::default())
            .await
            .expect("the test Redis accepts connections");
        let core = Bot::new(
            engine(),
            Arc::new(http_service::service(&self.registration)),
            Arc::new(store),
            Arc::new(ManualClock::new(monday_morning())),
        );
        let api = teloxide::Bot::new("123456:TEST-TOKEN")
            .set_api_url(self.telegram_api.uri().parse().expect("a URL"));
        Telegram::new(api, Arc::new(core))
    }

    fn update(&mut self, kind: &str, body: Value) -> teloxide::types::Update {
        let id = self.next_update;
        self.next_update += 1;
        // As Telegram sends it: teloxide reads updates from text (its `from_value` path differs).
        let raw = json!({"update_id": id, kind: body}).to_string();
        serde_json::from_str(&raw).unwrap_or_else(|e| panic!("a valid {kind} update: {e}"))
    }

    fn text(&mut self, chat: i64, text: &str) -> teloxide::types::Update {
        self.update("message", message(chat, json!({"text": text})))
    }

    fn press(&mut self, chat: i64, data: &str) -> teloxide::types::Update {
        self.update(
            "callback_query",
            json!({
                "id": format!("cb-{}", self.next_update),
                "from": user(chat),
                "chat_instance": "ci",
                "data": data,
                "message": message(chat, json!({"text": "…"})),
            }),
        )
    }

    /// The bodies of every sendMessage so far.
    async fn sent(&self) -> Vec<Value> {
        self.calls("sendMessage").await
    }

    async fn calls(&self, api_method: &str) -> Vec<Value> {
        self.telegram_api
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                r.url
                    .path()
                    .to_lowercase()
                    .ends_with(&api_method.to_lowercase())
            })
            .map(|r| serde_json::from_slice(&r.body).unwrap_or_default())
            .collect()
    }

    /// The callback data of the button labelled `label` on the latest message to `chat`.
    async fn button(&self, chat: i64, label: &str) -> String {
        let sent = self.sent().await;
        let last = sent
            .iter()
            .rev()
            .find(|m| m["chat_id"] == json!(chat) && m.get("reply_markup").is_some())
            .unwrap_or_else(|| panic!("no message with buttons to {chat}"));
        last["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .find(|b| b["text"] == json!(label))
            .and_then(|b| b["callback_data"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no button «{label}» in {last}"))
    }

    async fn last_text(&self, chat: i64) -> String {
        self.sent()
            .await
            .iter()
            .rev()
            .find(|m| m["chat_id"] == json!(chat))
            .and_then(|m| m["text"].as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Мария", "language_code": "ru"})
}

fn message(chat: i64, content: Value) -> Value {
    let mut m = json!({
        "message_id": 7,
        "date": 1_757_224_800,
        "chat": {"id": chat, "type": "private", "first_name": "Мария"},
        "from": user(chat),
    });
    if let (Some(m), Some(extra)) = (m.as_object_mut(), content.as_object()) {
        m.extend(extra.clone());
    }
    m
}

async fn student_until_code(h: &mut Harness, bot: &Telegram) {
    bot.handle(h.text(STUDENT, "/start cls-5a"))
        .await
        .expect("sent");
    let sign_in = h.button(STUDENT, "Войти в аккаунт").await;
    bot.handle(h.press(STUDENT, &sign_in)).await.expect("sent");
    bot.handle(h.text(STUDENT, "+7 912 345-67-89"))
        .await
        .expect("sent");
    let yes = h.button(STUDENT, "Да, это ребёнка").await;
    bot.handle(h.press(STUDENT, &yes)).await.expect("sent");
}

#[tokio::test]
async fn a_student_registers_from_the_class_link_to_the_submitted_application() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    student_until_code(&mut h, &bot).await;
    assert!(h.last_text(STUDENT).await.contains("Введите его здесь"));
    bot.handle(h.text(STUDENT, "123456")).await.expect("sent");
    bot.handle(h.text(STUDENT, "Петров Иван Сергеевич"))
        .await
        .expect("sent");
    let send = h.button(STUDENT, "Отправить заявку").await;
    bot.handle(h.press(STUDENT, &send)).await.expect("sent");
    assert!(h.last_text(STUDENT).await.contains("Заявка отправлена"));
    // Every press was answered, so no button kept spinning.
    assert_eq!(h.calls("answerCallbackQuery").await.len(), 3);
}

#[tokio::test]
async fn a_parent_links_through_the_childs_invitation() {
    let mut h = Harness::start().await;
    http_service::mount_parent_invite(&h.registration).await;
    for (route, status, body) in [
        (
            "/api/v1/verifications",
            201,
            json!({"verification_id": "v-2", "code_length": 6,
                   "expires_at": "2026-09-07T06:10:00Z", "resend_after": "2026-09-07T06:01:00Z"}),
        ),
        (
            "/api/v1/verifications/v-2/check",
            200,
            json!({"verified": true}),
        ),
        (
            "/api/v1/parent-links",
            201,
            json!({"link_id": "l-1", "child": {"name": "Петров Иван", "class": "5А", "school": "МОБУ «СОШ № 1»"}}),
        ),
        (
            "/api/v1/parent-links/l-1/confirm",
            200,
            json!({"status": "linked"}),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .with_priority(1)
            .mount(&h.registration)
            .await;
    }
    let bot = h.bot().await;
    bot.handle(h.text(PARENT, "/start par-tok"))
        .await
        .expect("sent");
    // Where the parent's own phone is asked, Telegram offers to share the contact.
    let welcome = h.sent().await.pop().expect("a welcome");
    assert_eq!(
        welcome["reply_markup"]["keyboard"][0][0]["request_contact"],
        json!(true)
    );
    let contact = h.update(
        "message",
        message(
            PARENT,
            json!({"contact": {"phone_number": "+79221112233", "first_name": "Мария", "user_id": PARENT}}),
        ),
    );
    bot.handle(contact).await.expect("sent");
    assert!(h.last_text(PARENT).await.contains("Мы отправили код"));
    bot.handle(h.text(PARENT, "123456")).await.expect("sent");
    let confirm = h.button(PARENT, "Да, всё верно").await;
    bot.handle(h.press(PARENT, &confirm)).await.expect("sent");
    assert!(h.last_text(PARENT).await.contains("аккаунт привязан"));
}

#[tokio::test]
async fn a_button_of_an_old_message_is_answered_as_stale() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    bot.handle(h.text(STUDENT, "/start cls-5a"))
        .await
        .expect("sent");
    let sign_in = h.button(STUDENT, "Войти в аккаунт").await;
    bot.handle(h.press(STUDENT, &sign_in)).await.expect("sent");
    bot.handle(h.text(STUDENT, "+7 912 345-67-89"))
        .await
        .expect("sent");
    bot.handle(h.press(STUDENT, &sign_in)).await.expect("sent");
    let texts: Vec<String> = h
        .sent()
        .await
        .iter()
        .rev()
        .take(2)
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("Эта кнопка устарела")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Проверьте:")),
        "the current step again: {texts:?}"
    );
}

#[tokio::test]
async fn a_sticker_gets_a_polite_reply_and_the_place_is_kept() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    bot.handle(h.text(STUDENT, "/start cls-5a"))
        .await
        .expect("sent");
    let sticker = h.update(
        "message",
        message(
            STUDENT,
            json!({"sticker": {"file_id": "f", "file_unique_id": "u", "width": 512, "height": 512,
                   "is_animated": false, "is_video": false, "type": "regular"}}),
        ),
    );
    bot.handle(sticker).await.expect("sent");
    assert!(h.last_text(STUDENT).await.contains("понимаю только текст"));
    let sign_in = h.button(STUDENT, "Войти в аккаунт").await;
    bot.handle(h.press(STUDENT, &sign_in)).await.expect("sent");
    assert!(
        h.last_text(STUDENT).await.contains("РЕБЁНКА"),
        "the conversation went on"
    );
}

#[tokio::test]
async fn a_forbidden_payload_is_refused_politely() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    for payload in ["../../etc/passwd", &"a".repeat(65), "тест"] {
        bot.handle(h.text(STUDENT, &format!("/start {payload}")))
            .await
            .expect("sent");
        let texts: Vec<String> = h
            .sent()
            .await
            .iter()
            .rev()
            .take(2)
            .filter_map(|m| m["text"].as_str().map(str::to_owned))
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("ссылка повреждена")),
            "{payload}: {texts:?}"
        );
    }
    assert!(
        h.registration
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty(),
        "no forbidden payload reached the registration service"
    );
}

#[tokio::test]
async fn the_same_update_delivered_twice_is_processed_once() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    let start = h.text(STUDENT, "/start cls-5a");
    bot.handle(start.clone()).await.expect("sent");
    let after_first = h.sent().await.len();
    bot.handle(start).await.expect("sent");
    assert_eq!(h.sent().await.len(), after_first);
}

#[tokio::test]
async fn a_restarted_bot_resumes_the_conversation() {
    let mut h = Harness::start().await;
    let first = h.bot().await;
    student_until_code(&mut h, &first).await;
    drop(first);
    let second = h.bot().await;
    second
        .handle(h.text(STUDENT, "123456"))
        .await
        .expect("sent");
    assert!(
        h.last_text(STUDENT)
            .await
            .contains("фамилию, имя и отчество"),
        "the code step continued after the restart"
    );
}

#[tokio::test]
async fn a_429_on_send_message_is_waited_out_and_the_message_is_not_lost() {
    let mut h = Harness::start().await;
    Mock::given(path_regex(r"^/bot[^/]+/(sendMessage|SendMessage)$"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.telegram_api)
        .await;
    let bot = h.bot().await;
    let started = std::time::Instant::now();
    bot.handle(h.text(STUDENT, "/start cls-5a"))
        .await
        .expect("sent after the wait");
    assert!(started.elapsed() >= Duration::from_millis(900));
    let attempts = h.sent().await;
    assert_eq!(attempts.len(), 2, "the same message was sent again");
    assert_eq!(attempts[0]["text"], attempts[1]["text"]);
}

#[tokio::test]
async fn an_edited_message_is_not_reread() {
    let mut h = Harness::start().await;
    let bot = h.bot().await;
    bot.handle(h.text(STUDENT, "/start cls-5a"))
        .await
        .expect("sent");
    let edited = h.update(
        "edited_message",
        message(
            STUDENT,
            json!({"text": "/start other", "edit_date": 1_757_224_900}),
        ),
    );
    bot.handle(edited).await.expect("sent");
    assert!(h.last_text(STUDENT).await.contains("новым сообщением"));
}

#[tokio::test]
async fn long_polling_serves_updates_until_stopped() {
    let h = Harness::start().await;
    Mock::given(path_regex(r"^/bot[^/]+/(getUpdates|GetUpdates)$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "result": [{"update_id": 1, "message": message(STUDENT, json!({"text": "/start cls-5a"}))}],
        })))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&h.telegram_api)
        .await;
    Mock::given(path_regex(r"^/bot[^/]+/(getUpdates|GetUpdates)$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": []}))
                .set_delay(Duration::from_millis(100)),
        )
        .with_priority(2)
        .mount(&h.telegram_api)
        .await;
    let bot = h.bot().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(telegram::serve(bot, None, async move {
        let _ = stopped.await;
    }));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sent().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.last_text(STUDENT).await.contains("приглашение в класс"));
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the bot stops when told")
        .expect("the task ends")
        .expect("served without error");
}

#[tokio::test]
async fn the_webhook_checks_the_secret_and_answers_health() {
    let h = Harness::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let hook = sferum_bot::config::WebhookSettings {
        url: "https://bot.example.invalid/telegram"
            .parse()
            .expect("a URL"),
        listen: ([127, 0, 0, 1], port).into(),
        secret: sferum_bot::config::Secret::new("s3cret"),
    };
    let bot = h.bot().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(telegram::serve(bot, Some(hook), async move {
        let _ = stopped.await;
    }));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let health = loop {
        match client.get(format!("{base}/health")).send().await {
            Ok(r) => break r,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("the webhook server did not come up: {e}"),
        }
    };
    assert!(health.status().is_success());
    let update =
        json!({"update_id": 9, "message": message(STUDENT, json!({"text": "/start cls-5a"}))});
    let forged = client
        .post(format!("{base}/telegram"))
        .json(&update)
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    let genuine = client
        .post(format!("{base}/telegram"))
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret")
        .json(&update)
        .send()
        .await
        .expect("answered");
    assert!(genuine.status().is_success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sent().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.sent().await.len(),
        1,
        "only the genuine update was handled"
    );
    let set_webhook: Vec<String> = h
        .telegram_api
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path().to_lowercase().ends_with("setwebhook"))
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        set_webhook.iter().any(|body| body.contains("s3cret")),
        "Telegram was told the secret: {set_webhook:?}"
    );
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the bot stops when told")
        .expect("the task ends")
        .expect("served without error");
}
