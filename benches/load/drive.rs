//! The chats the load benchmark plays: each repeats one journey ([`MENU`]: `/start` → the first
//! button → a typed question → `/help` → `/menu`; or [`REGISTRATION`]), posting its next update to the webhook only when the
//! last one's replies have all arrived (at most one update in flight per chat), through at most
//! [`CONNECTIONS`] webhook connections at once, as Telegram's default `max_connections` allows.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};

use crate::bots::{HOOK_PATH, SECRET};
use crate::sink::Arrival;

/// Webhook connections at once (Telegram's default `max_connections`).
pub const CONNECTIONS: usize = 40;
/// How long a chat waits for an update's replies before counting it failed.
const PATIENCE: Duration = Duration::from_secs(10);

/// One update of the journey.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Text(&'static str),
    /// Taps the first button of the latest reply that offered buttons.
    TapFirst,
    /// Types a mobile number of the chat's own (so that no number's code limit is shared).
    Phone,
}

/// The journey every chat repeats, through the menu: both bots can do it.
pub const MENU: [Step; 5] = [
    Step::Text("/start"),
    Step::TapFirst,
    Step::Text("у ребенка нет госуслуг"),
    Step::Text("/help"),
    Step::Text("/menu"),
];

/// A student's registration up to the code sent (a service call, through the sandbox inside
/// the bot), then the menu: sferum-bot only.
pub const REGISTRATION: [Step; 5] = [
    Step::Text("/start demo-class"),
    Step::TapFirst,
    Step::Phone,
    Step::TapFirst,
    Step::Text("/menu"),
];

/// Posts updates to one bot's webhook.
#[derive(Clone)]
pub struct Poster {
    client: reqwest::Client,
    url: String,
    next_id: Arc<AtomicI64>,
    connections: Arc<Semaphore>,
}

impl Poster {
    pub fn new(webhook: SocketAddr) -> Self {
        Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(CONNECTIONS)
                .build()
                .expect("an HTTP client"),
            url: format!("http://{webhook}{HOOK_PATH}"),
            next_id: Arc::new(AtomicI64::new(1)),
            connections: Arc::new(Semaphore::new(CONNECTIONS)),
        }
    }

    /// Posts `step` for `chat`; true when the webhook took it (2xx).
    async fn post(&self, chat: i64, step: Step, button: Option<&str>) -> bool {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let body = update(id, chat, step, button).to_string();
        let _connection = self.connections.acquire().await.expect("open");
        let sent = self
            .client
            .post(&self.url)
            .header("x-telegram-bot-api-secret-token", SECRET)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        matches!(sent, Ok(response) if response.status().is_success())
    }
}

fn update(id: i64, chat: i64, step: Step, button: Option<&str>) -> Value {
    let user = json!({"id": chat, "is_bot": false, "first_name": "Load", "language_code": "ru"});
    let message = |text: &str| {
        json!({
            "message_id": id,
            "date": 1_757_224_800,
            "chat": {"id": chat, "type": "private", "first_name": "Load"},
            "from": user,
            "text": text,
        })
    };
    match step {
        Step::Text(text) => json!({"update_id": id, "message": message(text)}),
        Step::Phone => {
            let phone = format!("+7 912 {:07}", chat.rem_euclid(10_000_000));
            json!({"update_id": id, "message": message(&phone)})
        }
        Step::TapFirst => json!({
            "update_id": id,
            "callback_query": {
                "id": format!("tap-{id}"),
                "from": user,
                "message": message("menu"),
                "chat_instance": "1",
                "data": button.unwrap_or("none"),
            }
        }),
    }
}

/// One chat's view while it plays: its replies and the button it would tap.
pub struct Chat {
    pub id: i64,
    replies: mpsc::UnboundedReceiver<Arrival>,
    button: Option<String>,
}

impl Chat {
    pub fn new(id: i64, replies: mpsc::UnboundedReceiver<Arrival>) -> Self {
        Self {
            id,
            replies,
            button: None,
        }
    }

    fn took(&mut self, arrival: &Arrival) {
        if let Some(button) = &arrival.button {
            self.button = Some(button.clone());
        }
    }

    /// Posts `step` and waits for `expected` replies; the time from the post to the last reply.
    async fn exchange(&mut self, poster: &Poster, step: Step, expected: usize) -> Option<Duration> {
        let started = Instant::now();
        if !poster.post(self.id, step, self.button.as_deref()).await {
            return None;
        }
        let mut last = started;
        for _ in 0..expected {
            let arrival = tokio::time::timeout(PATIENCE, self.replies.recv())
                .await
                .ok()??;
            self.took(&arrival);
            last = arrival.at;
        }
        Some(last.saturating_duration_since(started))
    }

    /// Posts `step` and collects replies until none came for `quiet`: how many arrived.
    pub async fn explore(&mut self, poster: &Poster, step: Step, quiet: Duration) -> usize {
        assert!(
            poster.post(self.id, step, self.button.as_deref()).await,
            "the webhook refused {step:?}"
        );
        let mut count = 0;
        let mut wait = PATIENCE;
        while let Ok(Some(arrival)) = tokio::time::timeout(wait, self.replies.recv()).await {
            self.took(&arrival);
            count += 1;
            wait = quiet;
        }
        count
    }
}

/// What a load phase measured.
pub struct Played {
    pub updates: usize,
    pub failed: usize,
    pub wall: Duration,
    /// From each post to its last reply, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
}

impl Played {
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let at = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        Duration::from_micros(self.latencies_us[at])
    }
}

/// Every chat plays `journey` `rounds` times, all at once; `replies[i]` is how many replies
/// step `i` gets (learnt by exploring first).
pub async fn play(
    poster: &Poster,
    chats: Vec<Chat>,
    journey: &'static [Step],
    rounds: usize,
    replies: &[usize],
) -> Played {
    let started = Instant::now();
    let replies: Arc<Vec<usize>> = Arc::new(replies.to_vec());
    let mut tasks = tokio::task::JoinSet::new();
    for mut chat in chats {
        let poster = poster.clone();
        let replies = replies.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(rounds * journey.len());
            let mut failed = 0;
            for _ in 0..rounds {
                for (step, expected) in journey.iter().zip(replies.iter()) {
                    match chat.exchange(&poster, *step, *expected).await {
                        Some(latency) => {
                            latencies.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX))
                        }
                        None => failed += 1,
                    }
                }
            }
            (latencies, failed)
        });
    }
    let mut latencies_us = Vec::new();
    let mut failed = 0;
    while let Some(done) = tasks.join_next().await {
        let (latencies, f) = done.expect("a chat's task");
        latencies_us.extend(latencies);
        failed += f;
    }
    let wall = started.elapsed();
    latencies_us.sort_unstable();
    Played {
        updates: latencies_us.len() + failed,
        failed,
        wall,
        latencies_us,
    }
}

/// The chats `ids`, each with its replies from the sink.
pub fn chats(
    ids: &[i64],
    mut replies: HashMap<i64, mpsc::UnboundedReceiver<Arrival>>,
) -> Vec<Chat> {
    ids.iter()
        .map(|id| Chat::new(*id, replies.remove(id).expect("the sink knows every chat")))
        .collect()
}
