//! The registration service over HTTP: the client side of `docs/registration-api.md`, built
//! to stay calm when the backend is flaky.
//!
//! [`HttpService`] sends every operation of [`RegistrationService`] to the path the contract
//! names, relative to [`HttpConfig::base_url`] (a base with a path prefix such as
//! `https://host/api/` works, with or without the trailing slash). Every request carries
//! `Authorization: Bearer <token>` and `Accept: application/json`; bodies are JSON; every `POST`
//! carries the `Idempotency-Key` its caller gives ([`OpKey`]: derived from the turn, so that a
//! repeat of the same logical operation carries it too) and sends it unchanged on each of its
//! retries, so the service can answer a repeated attempt as before.
//!
//! # Retries
//! Only `GET`s and keyed `POST`s are retried — that is, every request this client sends — and
//! only after a connection error, a timeout (connecting, or the whole exchange taking longer than
//! [`HttpConfig::request_timeout`]), a body cut off mid-way, or a `429`, `502`, `503` or `504`.
//! At most [`HttpConfig::max_retries`] retries follow the first attempt. Before retry `n`
//! (counting from 0) the client sleeps a random time between half and all of
//! `min(backoff_base · 2ⁿ, backoff_max)` ("equal jitter": replicas spread out, yet each waits).
//! A `Retry-After` in seconds is honoured as a lower bound: the client never comes back sooner
//! than the service asked. A `Retry-After` above [`MAX_RETRY_AFTER`] ends the retries at once:
//! the service will not be back while the user waits for an answer. When the attempts run out,
//! or the service cannot be reached, the call ends in [`ServiceError::Unavailable`].
//!
//! A `429` is transient only when its body carries no error code of the contract. The contract's
//! own `429`s — `too_many_requests` (starting a verification), `too_early` (a resend) and
//! `too_many_attempts` (checking a code) — are the service's answer to *this user*, and retrying
//! them could only make it worse: they are never retried and become
//! [`Rejection::TooManyRequests`], [`Rejection::TooEarly`] (with the `Retry-After` seconds, or
//! [`DEFAULT_RETRY_AFTER_SECS`] when the header is missing or not a number of seconds) and
//! [`Rejection::TooManyAttempts`].
//!
//! # Answers
//! - Any `2xx` is a success; its body is read into the trait's types (unknown fields ignored,
//!   times RFC 3339). A body that does not parse, or values the rest of the bot could not hold
//!   (an invitation token outside the deep-link alphabet, a code length outside `1..=32`), is
//!   [`ServiceError::Protocol`].
//! - A `4xx` whose body is `{"error": "<code>", …}` with a code of the contract *and the status
//!   the contract gives that code* becomes the matching [`Rejection`] (`wrong_code` needs
//!   `attempts_left`, `already_decided` needs `status` `approved` or `rejected`). A code is
//!   accepted from any endpoint, not only the one the contract lists it under: the sandbox, for
//!   one, answers `invite_not_found` on submission and `application_not_found` on a decision,
//!   and the user is better served by the explanation than by "the service is down".
//! - Anything else — an unknown code, a known code with another status, a missing or malformed
//!   error body, a `500`, a redirect (redirects are not followed, so the token never travels
//!   elsewhere) — is [`ServiceError::Protocol`].
//!
//! # Logs
//! Each attempt is logged with `tracing`: the method, the path *template*
//! (`/v1/verifications/{verification_id}/check`), the attempt, the status and the time taken;
//! refusals add the error code. Bodies are never logged — not even the error body's `message`,
//! which could quote an address — nor is the token ([`Secret`] prints `***`). Error values carry
//! only the method, the template, the status, the code and the position of a parse error.

use std::fmt;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use self::answers::{decode, is_transient, refusal};
use super::{OpKey, ServiceError};
#[cfg(doc)]
use super::{RegistrationService, Rejection};
#[cfg(doc)]
use crate::domain::VerificationCode;

mod answers;
mod operations;
mod wire;

#[cfg(test)]
mod tests;

/// Default for [`HttpConfig::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default for [`HttpConfig::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`HttpConfig::max_retries`].
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Default for [`HttpConfig::backoff_base`].
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Default for [`HttpConfig::backoff_max`].
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The longest `Retry-After` the client waits out before a retry; a longer one ends the retries.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// The wait reported in [`Rejection::TooManyRequests`] and [`Rejection::TooEarly`] when the
/// service sent no usable `Retry-After`.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 60;

/// The largest response body read; a longer one is a [`ServiceError::Protocol`].
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The longest code a [`VerificationCode`] can hold.
const MAX_CODE_LENGTH: usize = 32;

pub use crate::config::Secret;

/// Where the service is and how patiently to talk to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// `REGISTRATION_API_URL`: the contract's paths are relative to it.
    pub base_url: Url,
    /// `REGISTRATION_API_TOKEN`: sent as `Authorization: Bearer …`.
    pub token: Secret,
    /// How long establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long one attempt may take, from connecting to the end of the response body.
    pub request_timeout: Duration,
    /// Retries after the first attempt of a transiently failing request.
    pub max_retries: u32,
    /// The backoff before the first retry (before jitter); it doubles with every retry.
    pub backoff_base: Duration,
    /// The cap of the doubling backoff.
    pub backoff_max: Duration,
}

impl HttpConfig {
    /// A configuration with the default timeouts and retry policy.
    pub fn new(base_url: Url, token: Secret) -> Self {
        Self {
            base_url,
            token,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
        }
    }
}

/// The registration service reached over HTTP.
pub struct HttpService {
    client: reqwest::Client,
    base_url: Url,
    max_retries: u32,
    backoff_base: Duration,
    backoff_max: Duration,
}

impl fmt::Debug for HttpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpService")
            .field("base_url", &self.base_url.as_str())
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

impl HttpService {
    /// A client for `config`. Fails when the base URL cannot carry the contract's paths
    /// ([`ServiceError::Protocol`]: not `http`/`https`, or with a query, a fragment or
    /// credentials) or the HTTP client cannot be built ([`ServiceError::Unavailable`]).
    pub fn new(config: HttpConfig) -> Result<Self, ServiceError> {
        let base_url = config.base_url;
        let usable = matches!(base_url.scheme(), "http" | "https")
            && !base_url.cannot_be_a_base()
            && base_url.query().is_none()
            && base_url.fragment().is_none()
            && base_url.username().is_empty()
            && base_url.password().is_none();
        if !usable {
            return Err(ServiceError::Protocol(
                "the registration service base URL must be a plain http(s) URL \
                 without query, fragment or credentials"
                    .to_owned(),
            ));
        }
        let mut auth =
            HeaderValue::try_from(format!("Bearer {}", config.token.expose())).map_err(|_| {
                ServiceError::Protocol(
                    "the registration service token is not a valid header value".to_owned(),
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("sferum-bot/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                ServiceError::Unavailable(format!(
                    "cannot build the HTTP client: {}",
                    root_cause(&e.without_url())
                ))
            })?;
        Ok(Self {
            client,
            base_url,
            max_retries: config.max_retries,
            backoff_base: config.backoff_base,
            backoff_max: config.backoff_max,
        })
    }

    /// The URL of `segments` (each percent-encoded as one segment) below the base URL.
    fn url(&self, segments: &[&str], query: Option<(&str, &str)>) -> Result<Url, ServiceError> {
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(ServiceError::Protocol(format!(
                "an identifier cannot be a path segment: {bad:?}"
            )));
        }
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| ServiceError::Protocol("the base URL cannot be a base".to_owned()))?
            .pop_if_empty()
            .extend(segments);
        if let Some((name, value)) = query {
            url.query_pairs_mut().append_pair(name, value);
        }
        Ok(url)
    }

    /// Sends `call`, retrying transient failures, and reads a success into `T`.
    async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ServiceError> {
        let answer = self.exchange(&call).await?;
        if answer.status.is_success() {
            decode(&call, &answer)
        } else {
            Err(refusal(&call, &answer))
        }
    }

    /// Sends `call` until it gets an answer that is not transient, or runs out of attempts.
    async fn exchange(&self, call: &Call<'_>) -> Result<Answer, ServiceError> {
        let url = self.url(call.segments, call.query)?;
        let key = call.key.map(|k| k.as_uuid());
        let attempts = self.max_retries.saturating_add(1);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            let result = self.attempt(call, &url, key).await;
            let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (failure, retry_after) = match result {
                Ok(answer) if is_transient(&answer) => {
                    tracing::debug!(
                        method = %call.method, path = call.template, attempt,
                        status = answer.status.as_u16(), elapsed_ms, "transient answer"
                    );
                    (
                        format!("status {}", answer.status.as_u16()),
                        answer.retry_after,
                    )
                }
                Ok(answer) => {
                    tracing::debug!(
                        method = %call.method, path = call.template, attempt,
                        status = answer.status.as_u16(), elapsed_ms, "answered"
                    );
                    return Ok(answer);
                }
                Err(AttemptError::Transport(why)) => {
                    tracing::debug!(
                        method = %call.method, path = call.template, attempt, elapsed_ms,
                        error = %why, "request failed"
                    );
                    (why, None)
                }
                Err(AttemptError::Fatal(error)) => return Err(error),
            };
            if attempt >= attempts {
                tracing::warn!(
                    method = %call.method, path = call.template, attempts = attempt,
                    last = %failure, "registration service unavailable; giving up"
                );
                return Err(ServiceError::Unavailable(format!(
                    "{} {}: {failure} after {attempt} attempt(s)",
                    call.method, call.template
                )));
            }
            let mut wait = self.backoff(attempt - 1);
            if let Some(secs) = retry_after {
                let asked = Duration::from_secs(secs);
                if asked > MAX_RETRY_AFTER {
                    tracing::warn!(
                        method = %call.method, path = call.template, attempt,
                        retry_after_secs = secs, "registration service asks for too long a pause"
                    );
                    return Err(ServiceError::Unavailable(format!(
                        "{} {}: {failure}, retry after {secs} s",
                        call.method, call.template
                    )));
                }
                wait = wait.max(asked);
            }
            tracing::info!(
                method = %call.method, path = call.template, attempt, last = %failure,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "retrying the registration service"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt: the request, the status, `Retry-After` and the whole body.
    async fn attempt(
        &self,
        call: &Call<'_>,
        url: &Url,
        key: Option<Uuid>,
    ) -> Result<Answer, AttemptError> {
        let mut request = self.client.request(call.method.clone(), url.clone());
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key.to_string());
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large(call, status));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large(call, status));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// The jittered backoff before retry `retry` (0 for the first).
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(31));
        let full = self
            .backoff_base
            .saturating_mul(factor)
            .min(self.backoff_max);
        let half = full / 2;
        let spread = u64::try_from((full - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(rand::rng().random_range(0..=spread))
    }
}

/// One logical operation of the contract.
struct Call<'a> {
    method: Method,
    /// The contract's path, for logs and errors.
    template: &'static str,
    segments: &'a [&'a str],
    query: Option<(&'a str, &'a str)>,
    /// The JSON body, serialised once for every attempt.
    body: Option<Vec<u8>>,
    /// A `POST`'s `Idempotency-Key`, the same on every attempt.
    key: Option<OpKey>,
}

impl<'a> Call<'a> {
    fn get(template: &'static str, segments: &'a [&'a str]) -> Self {
        Self {
            method: Method::GET,
            template,
            segments,
            query: None,
            body: None,
            key: None,
        }
    }

    fn post(template: &'static str, segments: &'a [&'a str], key: OpKey) -> Self {
        Self {
            method: Method::POST,
            key: Some(key),
            ..Self::get(template, segments)
        }
    }

    fn json(mut self, body: &impl Serialize) -> Result<Self, ServiceError> {
        let bytes = serde_json::to_vec(body).map_err(|_| {
            ServiceError::Protocol(format!("cannot encode the body of {}", self.template))
        })?;
        self.body = Some(bytes);
        Ok(self)
    }
}

/// A complete answer of the service.
struct Answer {
    status: StatusCode,
    /// `Retry-After`, when it is a number of seconds.
    retry_after: Option<u64>,
    body: Vec<u8>,
}

enum AttemptError {
    /// Worth another attempt: no complete answer arrived.
    Transport(String),
    /// Not worth another attempt.
    Fatal(ServiceError),
}

fn transport(error: reqwest::Error) -> AttemptError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "response interrupted"
    } else {
        "request failed"
    };
    AttemptError::Transport(format!("{kind}: {}", root_cause(&error.without_url())))
}

fn too_large(call: &Call<'_>, status: StatusCode) -> AttemptError {
    tracing::warn!(
        method = %call.method, path = call.template, status = status.as_u16(),
        "registration service answer too large"
    );
    AttemptError::Fatal(ServiceError::Protocol(format!(
        "{} {}: a {} body over {MAX_BODY_BYTES} bytes",
        call.method,
        call.template,
        status.as_u16()
    )))
}

/// The innermost cause of an error (the I/O reason behind a failed request).
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
