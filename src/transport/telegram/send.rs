//! Sending to Telegram without losing a message: every 429 `retry_after` is waited out, and
//! connection errors and server errors are retried with jittered exponential backoff, until
//! [`DEADLINE`]. Nothing is sent twice on purpose: a request is repeated only after an answer
//! that says it was not taken (a 429, a 5xx) or a failure to reach Telegram at all.

use std::time::{Duration, Instant};

use rand::Rng;
use teloxide::{ApiError, RequestError};

/// How long one request may keep trying. Past it, the caller leaves the reply to the outbox's
/// sweeper (which comes back well after: see `runtime::REPLY_GRACE`).
pub const DEADLINE: Duration = Duration::from_secs(60);
/// The first pause after a connection or server error; it doubles up to [`BACKOFF_MAX`].
const BACKOFF_BASE: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The shortest wait after a 429, whatever `retry_after` says.
const MIN_RETRY_AFTER: Duration = Duration::from_millis(50);

/// Runs a request until it is taken, Telegram says it never will be, or [`DEADLINE`] passes.
/// `throttled` hears of every 429 on the way.
pub async fn reliably<T, F, Fut>(throttled: impl Fn(), mut request: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::IntoFuture<Output = Result<T, RequestError>>,
{
    let started = Instant::now();
    let mut failures: u32 = 0;
    loop {
        let error = match request().await {
            Ok(answer) => return Ok(answer),
            Err(error) => error,
        };
        let wait = match &error {
            RequestError::RetryAfter(wait) => {
                throttled();
                tracing::info!(seconds = wait.seconds(), "Telegram asked to slow down");
                wait.duration().max(MIN_RETRY_AFTER)
            }
            error if transient(error) => {
                failures = failures.saturating_add(1);
                tracing::info!(%error, failures, "Telegram could not be reached; retrying");
                backoff(failures)
            }
            _ => return Err(error),
        };
        if started.elapsed() + wait > DEADLINE {
            return Err(error);
        }
        tokio::time::sleep(wait).await;
    }
}

/// A failure that says nothing was taken: no connection, a cut-off answer, a server error.
fn transient(error: &RequestError) -> bool {
    match error {
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => true,
        RequestError::Api(ApiError::Unknown(description)) => {
            let lower = description.to_lowercase();
            [
                "bad gateway",
                "internal server error",
                "service unavailable",
                "gateway timeout",
            ]
            .iter()
            .any(|s| lower.contains(s))
        }
        _ => false,
    }
}

/// The chat will never take a message: the user blocked the bot, or the chat is gone.
pub fn never_deliverable(error: &RequestError) -> bool {
    matches!(
        error,
        RequestError::Api(
            ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::ChatNotFound
                | ApiError::BotKicked
        )
    )
}

/// A random pause between half and all of `min(base · 2ⁿ, max)`: replicas spread out.
fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    let full = BACKOFF_BASE.saturating_mul(1 << exponent).min(BACKOFF_MAX);
    let half = full / 2;
    half + rand::rng().random_range(Duration::ZERO..=half)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_stays_jittered() {
        for failures in 1..40 {
            let wait = backoff(failures);
            assert!(wait <= BACKOFF_MAX, "{failures}: {wait:?}");
            assert!(wait >= BACKOFF_BASE / 2, "{failures}: {wait:?}");
        }
        assert!(backoff(30) >= BACKOFF_MAX / 2);
    }

    #[test]
    fn only_failures_that_took_nothing_are_transient() {
        assert!(transient(&RequestError::Api(ApiError::Unknown(
            "Bad Gateway".to_owned()
        ))));
        assert!(!transient(&RequestError::Api(ApiError::BotBlocked)));
        assert!(never_deliverable(&RequestError::Api(ApiError::BotBlocked)));
        assert!(!transient(&RequestError::Api(ApiError::MessageTextIsEmpty)));
    }
}
