//! Receiving MAX updates: long polling (`GET /updates` with a marker), or a webhook
//! subscription (`POST /subscriptions` with a secret that MAX sends back in
//! [`SECRET_HEADER`] with every delivery, checked before anything is read). Either way an
//! update counts as taken only once its turn is committed: the poll's marker moves only past
//! committed updates, and a webhook delivery is answered `200` after the commit and `503` when
//! the store cannot be reached (MAX retries it, S/D). A redelivery of a committed update is
//! recognised by its [`super::transport::update_id`] and not answered twice.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use super::client::SECRET_HEADER;
use super::transport::{Max, UPDATE_TYPES};
use super::wire::Update;
use crate::config::WebhookSettings;
use crate::runtime::RuntimeError;
use crate::transport::serving::{self, Deliveries, ServeError, Transport};
use crate::transport::Received;

/// How long one `GET /updates` waits for updates, in seconds (S allows up to 90).
const POLL_TIMEOUT_SECS: u32 = 30;
/// The pause after a failed poll, or before a batch whose turns could not all be committed is
/// asked for again.
const POLL_PAUSE: Duration = Duration::from_secs(1);

/// Serves MAX updates until `stop` completes: by webhook when `webhook` is set, else by long
/// polling. Then the replies in flight are sent before this returns.
pub async fn serve(
    max: Max,
    webhook: Option<WebhookSettings>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let deliveries = Deliveries::default();
    let served = match webhook {
        None => {
            poll(&max, &deliveries, stop).await;
            Ok(())
        }
        Some(hook) => listen(&max, &deliveries, hook, stop).await,
    };
    deliveries.finish().await;
    served
}

/// Long polling: reads updates from the marker on, runs each, and moves the marker only past a
/// batch whose turns were all committed. A batch asked for again brings back the updates
/// before the one that failed; their ids were committed, so they are skipped.
async fn poll(max: &Max, deliveries: &Deliveries, stop: impl Future<Output = ()>) {
    tracing::info!("receiving MAX updates by long polling");
    tokio::pin!(stop);
    let mut marker = None;
    loop {
        let answer = tokio::select! {
            () = &mut stop => return,
            answer = max.client().get_updates(marker, POLL_TIMEOUT_SECS, UPDATE_TYPES) => answer,
        };
        let list = match answer {
            Ok(list) => list,
            Err(error) => {
                tracing::warn!(%error, "MAX updates could not be read");
                tokio::time::sleep(POLL_PAUSE).await;
                continue;
            }
        };
        let mut committed = true;
        for update in &list.updates {
            match max.receive(update).await {
                Ok(received) => serving::push(deliveries, max, received),
                Err(error) => {
                    tracing::warn!(%error, "a MAX update was not committed; asked for again");
                    committed = false;
                    break;
                }
            }
        }
        if committed {
            marker = list.marker.or(marker);
        } else {
            tokio::time::sleep(POLL_PAUSE).await;
        }
    }
}

/// The webhook: MAX is told the address, the update types and the secret, then every delivery
/// is checked, committed and answered. The subscription is left in place on stop: another
/// replica (or this one, restarted) keeps receiving at the same address.
async fn listen(
    max: &Max,
    deliveries: &Deliveries,
    hook: WebhookSettings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    max.client()
        .subscribe(hook.url.as_str(), hook.secret.expose(), UPDATE_TYPES)
        .await
        .map_err(|error| ServeError::Webhook {
            messenger: "MAX",
            reason: error.to_string(),
        })?;
    serving::webhook(max, deliveries, &hook, stop).await
}

#[async_trait]
impl Transport for Max {
    const NAME: &'static str = "MAX";
    const SECRET_HEADER: &'static str = SECRET_HEADER;

    /// What does not parse is `Update::Other`, taken and ignored.
    async fn take_delivery(&self, body: &[u8]) -> Result<Received, RuntimeError> {
        self.receive(&Update::from_json(body)).await
    }

    async fn deliver(&self, received: Received) {
        Max::deliver(self, received).await;
    }
}
