//! What operators see: the Prometheus metrics ([`metrics`]), the funnel of every step kept in
//! the store ([`funnel`]), the `/stats` page ([`page`]), and the operations listener that
//! serves them (`METRICS_LISTEN`: `/metrics`, `/health`, `/stats`), in polling and webhook
//! mode alike. Nothing here holds or shows personal data.

pub mod funnel;
pub mod metrics;
pub mod page;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;

use crate::runtime::Assistant;
use crate::store::{SessionStore, StoreError};
use crate::transport::serving::{self, ServeError};
use funnel::Funnel;

/// The days the `/stats` page shows unless asked (`?days=`).
pub const PAGE_DAYS: u32 = 7;

/// The `days` days up to `today`, newest first.
fn last_days(today: NaiveDate, days: u32) -> impl Iterator<Item = NaiveDate> {
    (0..days.max(1))
        .filter_map(move |back| today.checked_sub_days(chrono::Days::new(u64::from(back))))
}

/// The funnel of the last `days` days, summed.
pub async fn read_funnel(
    store: &dyn SessionStore,
    today: NaiveDate,
    days: u32,
) -> Result<Funnel, StoreError> {
    let mut read = Vec::new();
    for day in last_days(today, days) {
        read.push(store.funnel_day(day).await?);
    }
    Ok(Funnel::from_days(&read))
}

/// The questions not understood in the last `days` days, most frequent first.
pub async fn read_unmatched(
    store: &dyn SessionStore,
    today: NaiveDate,
    days: u32,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for day in last_days(today, days) {
        for (question, n) in store.unmatched_day(day).await? {
            *counts.entry(question).or_default() += n;
        }
    }
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(list)
}

/// The operations router.
pub fn router(bot: Arc<Assistant>) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics_text))
        .route("/health", axum::routing::get(health))
        .route("/stats", axum::routing::get(stats_page))
        .with_state(bot)
}

/// Serves [`router`] on `address` until `stop` completes.
pub async fn serve(
    address: SocketAddr,
    bot: Arc<Assistant>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    tracing::info!(%address, "operations listener: /metrics, /health, /stats");
    serving::listen(address, router(bot), stop).await
}

/// Reads the outbox's backlog into the gauges: the notices due, and the oldest one's wait.
/// `None` when the outbox does not answer.
async fn refresh_outbox(bot: &Assistant) -> Option<(usize, std::time::Duration)> {
    let now = bot.now();
    match bot.outbox().backlog(now).await {
        Ok(backlog) => {
            let oldest = backlog
                .oldest_due
                .and_then(|at| (now - at).to_std().ok())
                .unwrap_or_default();
            bot.metrics()
                .outbox(u64::try_from(backlog.due).unwrap_or(u64::MAX), oldest);
            Some((backlog.due, oldest))
        }
        Err(error) => {
            tracing::warn!(%error, "the outbox's backlog could not be read");
            bot.metrics().store_error("outbox");
            None
        }
    }
}

async fn metrics_text(State(bot): State<Arc<Assistant>>) -> Response {
    refresh_outbox(&bot).await;
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        bot.metrics().encode(),
    )
        .into_response()
}

/// `200 ok` only when the session store and the outbox both answer.
async fn health(State(bot): State<Arc<Assistant>>) -> (StatusCode, &'static str) {
    let store = bot.store().ping().await;
    if let Err(error) = &store {
        tracing::warn!(%error, "health: the session store does not answer");
        bot.metrics().store_error("ping");
    }
    let outbox = refresh_outbox(&bot).await;
    if store.is_ok() && outbox.is_some() {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    }
}

#[derive(Debug, serde::Deserialize)]
struct StatsQuery {
    days: Option<u32>,
    lang: Option<String>,
}

async fn stats_page(
    State(bot): State<Arc<Assistant>>,
    Query(query): Query<StatsQuery>,
) -> Response {
    let days = query
        .days
        .unwrap_or(PAGE_DAYS)
        .clamp(1, crate::store::FUNNEL_DAYS);
    let funnel = match read_funnel(
        bot.store().as_ref(),
        bot.engine().school().day_of(bot.now()),
        days,
    )
    .await
    {
        Ok(funnel) => funnel,
        Err(error) => {
            tracing::warn!(%error, "the funnel could not be read");
            bot.metrics().store_error("funnel");
            return (StatusCode::SERVICE_UNAVAILABLE, "the store does not answer").into_response();
        }
    };
    let (due, oldest) = refresh_outbox(&bot).await.unwrap_or_default();
    let (calls, failed) = bot.metrics().service_totals();
    let health = page::Health {
        calls,
        failed,
        due,
        oldest_secs: oldest.as_secs(),
    };
    let locales = bot.engine().locales();
    let lang = locales.pick_language(query.lang.as_deref());
    Html(page::render(
        bot.engine().scripts(),
        locales,
        &lang,
        &funnel,
        days,
        health,
    ))
    .into_response()
}
