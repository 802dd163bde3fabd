//! What serving updates takes in every messenger: one webhook for any [`Transport`]
//! ([`webhook`], with its secret check and `/health`), replies sent in order per chat without
//! holding up other chats ([`Deliveries`], [`push`]), an HTTP listener ([`listen`]), and the
//! signal that ends it all ([`termination_signal`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::task::JoinHandle;

use crate::config::WebhookSettings;
use crate::domain::ChatKey;
use crate::runtime::RuntimeError;
use crate::transport::Received;

/// A messenger's side of serving: reading one delivered update up to its commit, and sending
/// what it produced. Telegram and MAX each implement it; the webhook and the delivery chains
/// below are the same for both.
#[async_trait]
pub trait Transport: Clone + Send + Sync + 'static {
    /// The messenger's name, for logs and errors.
    const NAME: &'static str;
    /// The header every webhook delivery carries the secret in.
    const SECRET_HEADER: &'static str;

    /// One webhook delivery's body, through its turn's commit. A body that is not an update is
    /// `Ok(Received::Nothing)`: sending it again would not help.
    async fn take_delivery(&self, body: &[u8]) -> Result<Received, RuntimeError>;

    /// Sends what an update produced.
    async fn deliver(&self, received: Received);
}

/// Sends what an update produced on its chat's chain.
pub fn push<T: Transport>(deliveries: &Deliveries, transport: &T, received: Received) {
    if let Some(chat) = received.chat() {
        let transport = transport.clone();
        deliveries.push(chat, async move { transport.deliver(received).await });
    }
}

#[derive(Clone)]
struct Hook<T> {
    transport: T,
    deliveries: Deliveries,
    secret: String,
}

/// Serves the webhook of `hook` (the messenger was told its address and secret) until `stop`:
/// every delivery is checked for the secret, committed and answered — `200` once committed,
/// `401` without the secret, `503` when the store cannot be reached (the messenger retries).
pub async fn webhook<T: Transport>(
    transport: &T,
    deliveries: &Deliveries,
    hook: &WebhookSettings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let state = Hook {
        transport: transport.clone(),
        deliveries: deliveries.clone(),
        secret: hook.secret.expose().to_owned(),
    };
    let router = axum::Router::new()
        .route(&route_path(&hook.url), axum::routing::post(delivery::<T>))
        .with_state(state);
    listen(hook.listen, with_health(router), stop).await
}

async fn delivery<T: Transport>(
    State(hook): State<Hook<T>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let given = headers.get(T::SECRET_HEADER).and_then(|v| v.to_str().ok());
    if !secret_matches(&hook.secret, given) {
        tracing::warn!(
            messenger = T::NAME,
            "a webhook delivery without the right secret was refused"
        );
        return StatusCode::UNAUTHORIZED;
    }
    match hook.transport.take_delivery(&body).await {
        Ok(received) => {
            push(&hook.deliveries, &hook.transport, received);
            StatusCode::OK
        }
        Err(error) => {
            tracing::warn!(messenger = T::NAME, %error, "the update waits for the store; it will be sent again");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Why the bot stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{messenger} refused the webhook: {reason}")]
    Webhook {
        messenger: &'static str,
        reason: String,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// Replies being sent: one chain per chat, so a chat's replies keep their order while other
/// chats' go out in parallel. A chain's last sending removes it, so the map holds only chats
/// with replies on their way (nothing sweeps it: a sweep per update costs as much as there are
/// chats).
#[derive(Clone, Default)]
pub struct Deliveries {
    chains: Arc<Mutex<Chains>>,
}

#[derive(Default)]
struct Chains {
    /// Each chat's latest sending, numbered.
    latest: HashMap<ChatKey, (u64, JoinHandle<()>)>,
    numbered: u64,
}

impl Deliveries {
    /// Runs `send` after everything already on `chat`'s chain.
    pub fn push(&self, chat: ChatKey, send: impl Future<Output = ()> + Send + 'static) {
        // Held until the new sending is in the map, so that its own removal comes after.
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        chains.numbered += 1;
        let number = chains.numbered;
        let before = chains.latest.remove(&chat);
        let all = self.chains.clone();
        let task = tokio::spawn(async move {
            if let Some((_, before)) = before {
                let _ = before.await;
            }
            send.await;
            let mut chains = all.lock().unwrap_or_else(|e| e.into_inner());
            if chains.latest.get(&chat).is_some_and(|(n, _)| *n == number) {
                chains.latest.remove(&chat);
            }
        });
        chains.latest.insert(chat, (number, task));
    }

    /// Waits for every reply in flight.
    pub async fn finish(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
            chains.latest.drain().map(|(_, (_, task))| task).collect()
        };
        for task in tasks {
            let _ = task.await;
        }
    }

    /// How many chats have replies on their way.
    #[cfg(test)]
    fn chats(&self) -> usize {
        self.chains
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .latest
            .len()
    }
}

/// The path a webhook's public URL is posted to (`/` for a bare host).
pub fn route_path(url: &reqwest::Url) -> String {
    match url.path() {
        "" => "/".to_owned(),
        path => path.to_owned(),
    }
}

/// `router` with a `GET /health` that answers `ok` while the process serves.
fn with_health(router: axum::Router) -> axum::Router {
    router.route("/health", axum::routing::get(|| async { "ok" }))
}

/// Serves `router` on `address` until `stop` completes.
pub async fn listen(
    address: SocketAddr,
    router: axum::Router,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let socket = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| ServeError::Listen { address, source })?;
    tracing::info!(%address, "listening");
    if let Err(error) = axum::serve(socket, router)
        .with_graceful_shutdown(stop)
        .await
    {
        tracing::error!(%error, "the webhook server failed");
    }
    Ok(())
}

/// Whether a webhook delivery's secret header holds the expected secret, compared in constant
/// time (no timing tells how much of a guess was right).
pub fn secret_matches(expected: &str, header: Option<&str>) -> bool {
    let Some(given) = header else {
        return false;
    };
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Completes on SIGINT or SIGTERM.
pub async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = async {
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    term.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_matches() {
        assert!(secret_matches("s3cr3t-Value_42", Some("s3cr3t-Value_42")));
        assert!(!secret_matches("s3cr3t-Value_42", Some("s3cr3t-Value_4")));
        assert!(!secret_matches("s3cr3t-Value_42", Some("s3cr3t-Value_43")));
        assert!(!secret_matches("s3cr3t-Value_42", None));
    }

    #[tokio::test]
    async fn a_chats_replies_go_out_in_order_and_its_chain_is_dropped_after() {
        let deliveries = Deliveries::default();
        let sent = Arc::new(Mutex::new(Vec::new()));
        for n in 0..5_u64 {
            let sent = sent.clone();
            deliveries.push(ChatKey::telegram(1), async move {
                // The earlier ones take longer: order must come from the chain.
                tokio::time::sleep(std::time::Duration::from_millis(10 * (5 - n))).await;
                sent.lock().expect("not poisoned").push(n);
            });
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        deliveries.push(ChatKey::telegram(2), async move {
            let _ = tx.send(());
        });
        rx.await.expect("another chat's reply went out at once");
        while sent.lock().expect("not poisoned").len() < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert_eq!(*sent.lock().expect("not poisoned"), vec![0, 1, 2, 3, 4]);
        // Each chain removed itself once its last reply was out (no `finish` needed).
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert_eq!(deliveries.chats(), 0);
    }

    #[test]
    fn a_bare_host_is_served_at_the_root() {
        let url: reqwest::Url = "https://bot.example.ru".parse().unwrap();
        assert_eq!(route_path(&url), "/");
        let url: reqwest::Url = "https://bot.example.ru/max/hook".parse().unwrap();
        assert_eq!(route_path(&url), "/max/hook");
    }
}
