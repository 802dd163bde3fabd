//! Receiving updates: long polling or a webhook. Either way an update is confirmed to Telegram
//! only once its turn is committed — polling asks for the next offset past committed updates
//! only; a webhook delivery is answered `200` after the commit, `503` when the store cannot be
//! reached (Telegram delivers it again). Replies go out after the commit, in order per chat,
//! without holding up other chats' updates.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use teloxide::payloads::{GetUpdatesSetters, SetWebhookSetters};
use teloxide::prelude::*;

use super::{classify, Received, Telegram};
use crate::config::WebhookSettings;
use crate::runtime::RuntimeError;
use crate::transport::serving::{self, Deliveries, ServeError, Transport};

/// How long one `getUpdates` waits for updates (long polling), in seconds.
const POLL_TIMEOUT_SECS: u32 = 25;
/// The pause after a failed `getUpdates`, or before a batch whose turns could not all be
/// committed is asked for again.
const POLL_PAUSE: Duration = Duration::from_secs(1);
/// The header Telegram puts the webhook's secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Serves updates until `stop` completes (the binary passes SIGINT or SIGTERM): long polling, or
/// a webhook (with Telegram's secret-token check and a `/health` endpoint) when `webhook` is set.
/// Then the updates in flight are finished and their replies sent before this returns.
pub async fn serve(
    telegram: Telegram,
    webhook: Option<WebhookSettings>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let deliveries = Deliveries::default();
    let served = match webhook {
        None => {
            poll(&telegram, &deliveries, stop).await;
            Ok(())
        }
        Some(hook) => listen(&telegram, &deliveries, hook, stop).await,
    };
    tracing::info!("stopping: finishing the replies in flight");
    deliveries.finish().await;
    served
}

/// Long polling: a batch is asked for again from its first update that could not be committed.
async fn poll(
    telegram: &Telegram,
    deliveries: &Deliveries,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    tracing::info!("receiving updates by long polling");
    if let Err(error) = telegram.api().delete_webhook().send().await {
        tracing::warn!(%error, "could not remove a webhook; polling may be refused");
    }
    tokio::pin!(stop);
    let mut offset: i32 = 0;
    loop {
        let request = telegram
            .api()
            .get_updates()
            .offset(offset)
            .timeout(POLL_TIMEOUT_SECS)
            .send();
        let updates = tokio::select! {
            () = &mut stop => return,
            answer = request => answer,
        };
        let updates = match updates {
            Ok(updates) => updates,
            Err(error) => {
                tracing::warn!(%error, "getUpdates failed; trying again");
                tokio::time::sleep(POLL_PAUSE).await;
                continue;
            }
        };
        let Some(last) = updates.iter().map(|u| u.id.0).max() else {
            continue;
        };
        match handle_batch(telegram, deliveries, updates).await {
            None => offset = next_offset(last),
            Some(first_failed) => {
                offset = i32::try_from(first_failed).unwrap_or(i32::MAX);
                tokio::time::sleep(POLL_PAUSE).await;
            }
        }
    }
}

fn next_offset(last: u32) -> i32 {
    i32::try_from(last).map_or(i32::MAX, |id| id.saturating_add(1))
}

/// Runs a batch's turns, each chat's in order and the chats in parallel, and hands their
/// replies to `deliveries`. Returns the smallest update id whose turn could not be committed.
async fn handle_batch(
    telegram: &Telegram,
    deliveries: &Deliveries,
    updates: Vec<Update>,
) -> Option<u32> {
    let mut by_chat: HashMap<Option<i64>, Vec<Update>> = HashMap::new();
    for update in updates {
        let chat = classify(&update).0.map(|c| c.0);
        by_chat.entry(chat).or_default().push(update);
    }
    let mut chats = tokio::task::JoinSet::new();
    for (_, updates) in by_chat {
        let telegram = telegram.clone();
        let deliveries = deliveries.clone();
        chats.spawn(async move {
            for update in updates {
                let id = update.id.0;
                match telegram.receive(update).await {
                    Ok(received) => serving::push(&deliveries, &telegram, received),
                    Err(error) => {
                        tracing::warn!(update_id = id, %error, "the update waits for the store");
                        return Some(id);
                    }
                }
            }
            None
        });
    }
    let mut first_failed = None;
    while let Some(done) = chats.join_next().await {
        if let Ok(Some(id)) = done {
            first_failed = Some(first_failed.map_or(id, |f: u32| f.min(id)));
        }
    }
    first_failed
}

/// The webhook: Telegram is told the address and the secret, then every delivery is checked,
/// committed and answered.
async fn listen(
    telegram: &Telegram,
    deliveries: &Deliveries,
    hook: WebhookSettings,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    telegram
        .api()
        .set_webhook(hook.url.clone())
        .secret_token(hook.secret.expose().to_owned())
        .send()
        .await
        .map_err(|error| ServeError::Webhook {
            messenger: "Telegram",
            reason: error.to_string(),
        })?;
    serving::webhook(telegram, deliveries, &hook, stop).await
}

#[async_trait]
impl Transport for Telegram {
    const NAME: &'static str = "Telegram";
    const SECRET_HEADER: &'static str = SECRET_HEADER;

    async fn take_delivery(&self, body: &[u8]) -> Result<Received, RuntimeError> {
        // As Telegram sends it: teloxide reads updates from text.
        match serde_json::from_slice::<Update>(body) {
            Ok(update) => self.receive(update).await,
            Err(error) => {
                tracing::warn!(category = ?error.classify(), "an update that does not decode");
                Ok(Received::Nothing)
            }
        }
    }

    async fn deliver(&self, received: Received) {
        Telegram::deliver(self, received).await;
    }
}
