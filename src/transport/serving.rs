//! What serving updates takes in every messenger: replies sent in order per chat without
//! holding up other chats ([`Deliveries`]), an HTTP listener ([`listen`], [`with_health`]), the check of a webhook's secret header ([`secret_matches`]), and the signal
//! that ends it all ([`termination_signal`]).

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;

use crate::domain::ChatKey;

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
pub fn with_health(router: axum::Router) -> axum::Router {
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
