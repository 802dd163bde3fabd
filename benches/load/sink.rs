//! A fast fake Bot API: answers every method at once, and tells the chat whose message it
//! received when it arrived and which button it offered first, so that the driver knows when an
//! update's replies are all out and what to tap next.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// A reply as the driver sees it.
#[derive(Debug)]
pub struct Arrival {
    pub at: Instant,
    /// The first inline button's `callback_data`, when the reply offers buttons.
    pub button: Option<String>,
}

/// The sink of one bot's run: which chats it reports to.
struct Chats {
    by_id: HashMap<i64, mpsc::UnboundedSender<Arrival>>,
}

/// Serves the fake Bot API on a free loopback port; returns its address and, for each chat in
/// `chats`, where its replies arrive.
pub async fn start(
    chats: impl IntoIterator<Item = i64>,
) -> (SocketAddr, HashMap<i64, mpsc::UnboundedReceiver<Arrival>>) {
    let mut by_id = HashMap::new();
    let mut receivers = HashMap::new();
    for chat in chats {
        let (tx, rx) = mpsc::unbounded_channel();
        by_id.insert(chat, tx);
        receivers.insert(chat, rx);
    }
    let state = Arc::new(Chats { by_id });
    let router = axum::Router::new().fallback(api).with_state(state);
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port for the fake Bot API");
    let address = socket.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(socket, router).await;
    });
    (address, receivers)
}

async fn api(State(chats): State<Arc<Chats>>, uri: Uri, body: Bytes) -> Json<Value> {
    let method = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
    let at = Instant::now();
    let result = match method.as_str() {
        "getMe" | "GetMe" => json!({
            "id": 123_456, "is_bot": true, "first_name": "Bot", "username": "load_bot",
            "can_join_groups": false, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        }),
        "sendMessage" | "SendMessage" | "editMessageText" | "sendPhoto" => {
            let body: Value = serde_json::from_slice(&body).unwrap_or_default();
            let chat = body["chat_id"].as_i64();
            if let Some(tx) = chat.and_then(|c| chats.by_id.get(&c)) {
                let button = body["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                    .as_str()
                    .map(str::to_owned);
                let _ = tx.send(Arrival { at, button });
            }
            json!({
                "message_id": 1,
                "date": 1_757_224_800,
                "chat": {"id": chat, "type": "private", "first_name": "Load"},
                "text": "ok",
            })
        }
        _ => json!(true),
    };
    Json(json!({"ok": true, "result": result}))
}
