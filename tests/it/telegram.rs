//! The Telegram bot end to end: real updates in (as Telegram sends them), real Bot API calls out
//! to a fake Telegram (wiremock), sessions in a real Redis, the registration service on wiremock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::clock::ManualClock;
use sferum_bot::runtime::Assistant;
use sferum_bot::transport::telegram::{self, Telegram};

use super::helpers::{engine, monday_morning};
use super::http_service;
use super::redis_server::RedisServer;

const STUDENT: i64 = 4242;
const PARENT: i64 = 4343;

/// A fake Bot API: every method answers `ok`, and the requests are recorded by wiremock.
pub(super) async fn fake_telegram() -> MockServer {
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

/// The bot serving updates in the background (polling, or the webhook) until stopped.
struct Serving {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), telegram::ServeError>>,
}

impl Serving {
    fn start(bot: Telegram, hook: Option<sferum_bot::config::WebhookSettings>) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(telegram::serve(bot, hook, async move {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    /// Stops it, as SIGTERM would, and waits until it has finished.
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the bot stops when told")
            .expect("the task ends")
            .expect("served without error");
    }
}

/// A webhook at `/telegram` with the secret `s3cret`, listening on a free local port.
fn local_hook() -> (sferum_bot::config::WebhookSettings, u16) {
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
    (hook, port)
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
        let outbox = sferum_bot::backend::redis::RedisOutbox::beside(&store).await;
        let core = Assistant::new(
            engine(),
            Arc::new(http_service::service(&self.registration)),
            Arc::new(store),
            Arc::new(ManualClock::new(monday_morning())),
        )
        .with_outbox(Arc::new(outbox))
        // Tests type faster than people: flood control has its own test.
        .with_flood_limit(1000, 1000);
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

pub(super) fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Мария", "language_code": "ru"})
}

pub(super) fn message(chat: i64, content: Value) -> Value {
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
    let serving = Serving::start(bot, None);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sent().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(h.last_text(STUDENT).await.contains("приглашение в класс"));
    serving.stop().await;
}

#[tokio::test]
async fn the_webhook_checks_the_secret_and_answers_health() {
    let h = Harness::start().await;
    let (hook, port) = local_hook();
    let bot = h.bot().await;
    let serving = Serving::start(bot, Some(hook));
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
    serving.stop().await;
}

/// A TCP front for `target` that resets every `nth` connection at once (before a byte of the
/// request reaches Telegram) and passes the others through.
async fn resetting_proxy(target: std::net::SocketAddr, nth: usize) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        let mut accepted = 0usize;
        while let Ok((mut client, _)) = listener.accept().await {
            accepted += 1;
            if accepted % nth == 0 {
                let _ = client.set_zero_linger();
                drop(client); // a reset
                continue;
            }
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn a_storm_of_429s_server_errors_and_resets_loses_no_reply_and_doubles_none() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let h = Harness::start().await;
    let api = MockServer::start().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let delivered: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let (count, record) = (attempts.clone(), delivered.clone());
    Mock::given(path_regex(r"^/bot[^/]+/(sendMessage|SendMessage)$"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let n = count.fetch_add(1, Ordering::SeqCst);
            match (n, n % 10) {
                // Three in ten: too many requests. Once: Telegram's gateway fails (teloxide
                // itself pauses 10 s after a server error, so once is enough).
                (3, _) => ResponseTemplate::new(502).set_body_json(json!({
                    "ok": false, "error_code": 502, "description": "Bad Gateway",
                })),
                (_, 0..=2) => ResponseTemplate::new(429).set_body_json(json!({
                    "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 0",
                    "parameters": {"retry_after": 0},
                })),
                _ => {
                    record.lock().unwrap_or_else(|e| e.into_inner()).push((
                        body["chat_id"].as_i64().unwrap_or_default(),
                        body["text"].as_str().unwrap_or_default().to_owned(),
                    ));
                    ResponseTemplate::new(200).set_body_json(json!({
                        "ok": true,
                        "result": {"message_id": 1, "date": 1_757_224_800,
                                   "chat": {"id": body["chat_id"], "type": "private"},
                                   "text": body["text"]},
                    }))
                }
            }
        })
        .mount(&api)
        .await;
    Mock::given(path_regex(r"^/bot[^/]+/[A-Za-z]+$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": true})))
        .with_priority(10)
        .mount(&api)
        .await;
    let front = resetting_proxy(*api.address(), 4).await;
    let started = std::time::Instant::now();
    // A new connection per request, so that the resets meet requests.
    let client = teloxide::net::default_reqwest_settings()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let telegram = Telegram::new(
        teloxide::Bot::with_client("123456:TEST-TOKEN", client)
            .set_api_url(format!("http://{front}").parse().expect("a URL")),
        h.bot().await.core().clone(),
    );
    let mut expected = Vec::new();
    let mut next_update = 1000;
    for turn in ["/start", "/help", "/menu"] {
        for chat in 0..10 {
            next_update += 1;
            let raw = json!({"update_id": next_update, "message": message(5000 + chat, json!({"text": turn}))});
            let update = serde_json::from_str(&raw.to_string()).expect("an update");
            let received = telegram.receive(update).await.expect("committed");
            if let telegram::Received::Turn(chat, handled) = &received {
                expected.extend(handled.replies.iter().map(|r| (chat.id, r.text.clone())));
            }
            telegram.deliver(received).await;
        }
    }
    eprintln!("storm took {:?}", started.elapsed());
    let mut delivered = delivered.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let tries = attempts.load(Ordering::SeqCst);
    eprintln!(
        "429/502/reset storm: {} replies expected, {} delivered, {} sendMessage attempts reached \
         Telegram",
        expected.len(),
        delivered.len(),
        tries
    );
    assert!(
        tries > expected.len() + expected.len() / 3,
        "the storm was real: {tries}"
    );
    // Lost: expected and never delivered; duplicates: delivered more often than said.
    let count =
        |list: &[(i64, String)], item: &(i64, String)| list.iter().filter(|x| *x == item).count();
    let lost: usize = expected
        .iter()
        .map(|e| count(&expected, e).saturating_sub(count(&delivered, e)))
        .sum();
    let duplicates: usize = delivered
        .iter()
        .map(|d| count(&delivered, d).saturating_sub(count(&expected, d)))
        .sum();
    eprintln!("lost {lost}, duplicates {duplicates}");
    assert_eq!((lost, duplicates), (0, 0));
    expected.sort();
    delivered.sort();
    assert_eq!(delivered, expected, "every reply once");
}

#[tokio::test]
async fn the_webhook_answers_after_the_commit_and_asks_again_while_redis_is_down() {
    let mut h = Harness::start().await;
    let (hook, port) = local_hook();
    let bot = h.bot().await;
    let serving = Serving::start(bot, Some(hook));
    let base = format!("http://127.0.0.1:{port}/telegram");
    let client = reqwest::Client::new();
    let post = |update: Value| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                match client
                    .post(&base)
                    .header("X-Telegram-Bot-Api-Secret-Token", "s3cret")
                    .json(&update)
                    .send()
                    .await
                {
                    Ok(answer) => return answer.status(),
                    Err(_) if std::time::Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => panic!("the webhook did not answer: {e}"),
                }
            }
        }
    };
    let update =
        json!({"update_id": 77, "message": message(STUDENT, json!({"text": "/start cls-5a"}))});

    h.redis.stop();
    assert_eq!(
        post(update.clone()).await,
        reqwest::StatusCode::SERVICE_UNAVAILABLE,
        "not committed: Telegram must send it again"
    );
    assert!(h.sent().await.is_empty());

    h.redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let status = post(update.clone()).await;
        if status.is_success() || std::time::Instant::now() > deadline {
            break status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.is_success(), "{status}");
    assert_eq!(
        post(update.clone()).await,
        reqwest::StatusCode::OK,
        "a redelivery"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while h.sent().await.is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    serving.stop().await;
    let to_student: Vec<_> = h
        .sent()
        .await
        .into_iter()
        .filter(|m| m["chat_id"] == json!(STUDENT))
        .collect();
    assert_eq!(to_student.len(), 1, "answered once: {to_student:?}");
    let _ = &mut h;
}

#[tokio::test]
async fn polling_confirms_an_update_only_once_its_turn_is_committed() {
    use std::sync::Mutex;
    let mut h = Harness::start().await;
    let offsets: Arc<Mutex<Vec<i64>>> = Arc::default();
    let asked = offsets.clone();
    let update =
        json!({"update_id": 5, "message": message(STUDENT, json!({"text": "/start cls-5a"}))});
    Mock::given(path_regex(r"^/bot[^/]+/(getUpdates|GetUpdates)$"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let offset = body["offset"].as_i64().unwrap_or(0);
            asked.lock().unwrap_or_else(|e| e.into_inner()).push(offset);
            let result = if offset <= 5 {
                json!([update])
            } else {
                json!([])
            };
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "result": result}))
                .set_delay(Duration::from_millis(if offset <= 5 { 0 } else { 100 }))
        })
        .with_priority(1)
        .mount(&h.telegram_api)
        .await;
    let bot = h.bot().await;
    h.redis.stop();
    let serving = Serving::start(bot, None);
    let seen =
        |offsets: &Arc<Mutex<Vec<i64>>>| offsets.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while seen(&offsets).len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen(&offsets).iter().all(|o| *o <= 5),
        "not confirmed while Redis is down: {:?}",
        seen(&offsets)
    );
    assert!(h.sent().await.is_empty());

    h.redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !seen(&offsets).contains(&6) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    serving.stop().await;
    assert!(
        seen(&offsets).contains(&6),
        "confirmed once committed: {:?}",
        seen(&offsets)
    );
    let to_student: Vec<_> = h
        .sent()
        .await
        .into_iter()
        .filter(|m| m["chat_id"] == json!(STUDENT))
        .collect();
    assert_eq!(to_student.len(), 1, "answered once: {to_student:?}");
}

#[tokio::test]
async fn fifty_messages_in_a_second_reach_the_service_only_as_far_as_the_flood_limit_allows() {
    let mut h = Harness::start().await;
    let store = RedisStore::connect(&h.redis.url(), RedisStoreConfig::default())
        .await
        .expect("Redis");
    let core = Assistant::new(
        engine(),
        Arc::new(http_service::service(&h.registration)),
        Arc::new(store),
        Arc::new(ManualClock::new(monday_morning())),
    );
    let api = teloxide::Bot::new("123456:TEST-TOKEN")
        .set_api_url(h.telegram_api.uri().parse().expect("a URL"));
    let bot = Telegram::new(api, Arc::new(core));
    let started = std::time::Instant::now();
    for _ in 0..50 {
        bot.handle(h.text(STUDENT, "/start cls-5a"))
            .await
            .expect("handled");
    }
    let resolved = h
        .registration
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().contains("/v1/invites/"))
        .count();
    let told = h
        .sent()
        .await
        .iter()
        .filter(|m| {
            m["text"]
                .as_str()
                .is_some_and(|t| t.contains("Слишком много сообщений"))
        })
        .count();
    eprintln!(
        "flood: 50 updates in a burst → {resolved} service calls, told to wait {told} time(s)"
    );
    // The burst, and what the rate refills while the 50 are handled (none on a quick machine).
    let refilled = started.elapsed().as_secs() as usize + 1;
    let allowed = sferum_bot::runtime::FLOOD_BURST as usize
        + refilled * sferum_bot::runtime::FLOOD_PER_SECOND as usize;
    assert!(
        resolved <= allowed,
        "{resolved} reached the service (at most {allowed})"
    );
    assert_eq!(told, 1, "told once, calmly");
}
