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
/// chats' go out in parallel.
#[derive(Clone, Default)]
pub struct Deliveries {
    chains: Arc<Mutex<HashMap<ChatKey, JoinHandle<()>>>>,
}

impl Deliveries {
    /// Runs `send` after everything already on `chat`'s chain.
    pub fn push(&self, chat: ChatKey, send: impl Future<Output = ()> + Send + 'static) {
        let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
        chains.retain(|_, task| !task.is_finished());
        let before = chains.remove(&chat);
        let task = tokio::spawn(async move {
            if let Some(before) = before {
                let _ = before.await;
            }
            send.await;
        });
        chains.insert(chat, task);
    }

    /// Waits for every reply in flight.
    pub async fn finish(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut chains = self.chains.lock().unwrap_or_else(|e| e.into_inner());
            chains.drain().map(|(_, task)| task).collect()
        };
        for task in tasks {
            let _ = task.await;
        }
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

    #[test]
    fn a_bare_host_is_served_at_the_root() {
        let url: reqwest::Url = "https://bot.example.ru".parse().unwrap();
        assert_eq!(route_path(&url), "/");
        let url: reqwest::Url = "https://bot.example.ru/max/hook".parse().unwrap();
        assert_eq!(route_path(&url), "/max/hook");
    }
}
