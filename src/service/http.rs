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

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Address, Application, ApplicationState, ApplicationStatus, Decision, Invite, IssuedInvite,
    LinkStatus, LinkedChild, OpKey, ParentLink, PendingApplication, Purpose, RegistrationService,
    Rejection, RejectionCode, RejectionDetails, ServiceError, Verification,
};
use crate::domain::{ChildName, InviteToken, VerificationCode};

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

/// Whether an answer is worth another attempt: a gateway or availability failure, or a `429`
/// that carries no error code of the contract.
fn is_transient(answer: &Answer) -> bool {
    match answer.status {
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            true
        }
        StatusCode::TOO_MANY_REQUESTS => {
            error_code(&answer.body).is_none_or(|code| RejectionCode::from_code(&code).is_none())
        }
        _ => false,
    }
}

/// The `error` field of a body, when it is a JSON object with one.
fn error_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("error")?.as_str().map(str::to_owned)
}

/// A code as it may appear in logs: a word of the contract's shape, or a placeholder.
fn loggable(code: &str) -> &str {
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        code
    } else {
        "<not a code>"
    }
}

/// Reads a success body.
fn decode<T: DeserializeOwned>(call: &Call<'_>, answer: &Answer) -> Result<T, ServiceError> {
    serde_json::from_slice(&answer.body).map_err(|e| {
        // The error's text may quote a value of the body: only its kind and place are kept.
        tracing::warn!(
            method = %call.method, path = call.template, status = answer.status.as_u16(),
            line = e.line(), column = e.column(), "malformed registration service answer"
        );
        ServiceError::Protocol(format!(
            "{} {}: malformed {} body ({:?} error at line {}, column {})",
            call.method,
            call.template,
            answer.status.as_u16(),
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// A malformed success that parsed but holds values the bot cannot use.
fn invalid(call_template: &str, what: &str) -> ServiceError {
    tracing::warn!(
        path = call_template,
        what,
        "unusable registration service answer"
    );
    ServiceError::Protocol(format!("{call_template}: {what}"))
}

/// The body of a refusal.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    attempts_left: Option<u32>,
    #[serde(default)]
    status: Option<String>,
}

/// Reads a non-success answer into the error it stands for.
fn refusal(call: &Call<'_>, answer: &Answer) -> ServiceError {
    let status = answer.status.as_u16();
    let Ok(body) = serde_json::from_slice::<ErrorBody>(&answer.body) else {
        tracing::warn!(
            method = %call.method, path = call.template, status,
            "registration service answered outside the contract (no error body)"
        );
        return ServiceError::Protocol(format!(
            "{} {}: status {status} without a contract error body",
            call.method, call.template
        ));
    };
    let code = loggable(&body.error);
    match rejection(status, &body, answer.retry_after) {
        Ok(rejection) => {
            tracing::info!(
                method = %call.method, path = call.template, status, code,
                "registration service refused"
            );
            ServiceError::Rejected(rejection)
        }
        Err(why) => {
            tracing::warn!(
                method = %call.method, path = call.template, status, code, why,
                "registration service answered outside the contract"
            );
            ServiceError::Protocol(format!(
                "{} {}: status {status}, code {code}: {why}",
                call.method, call.template
            ))
        }
    }
}

/// The contract's refusal for a status and an error body, or why it is none.
fn rejection(
    status: u16,
    body: &ErrorBody,
    retry_after: Option<u64>,
) -> Result<Rejection, &'static str> {
    let code = RejectionCode::from_code(&body.error).ok_or("unknown error code")?;
    let details = RejectionDetails {
        retry_after_secs: retry_after,
        attempts_left: body.attempts_left,
        status: match body.status.as_deref() {
            Some("approved") => Some(ApplicationStatus::Approved),
            Some("rejected") => Some(ApplicationStatus::Rejected),
            _ => None,
        },
    };
    let rejection = Rejection::from_details(code, details, DEFAULT_RETRY_AFTER_SECS)?;
    if status == code.status() {
        Ok(rejection)
    } else {
        Err("the contract gives this code another status")
    }
}

// ----- the wire format ------------------------------------------------------------------------

#[derive(Deserialize)]
struct WireIssuedInvite {
    token: String,
    expires_at: DateTime<Utc>,
}

impl WireIssuedInvite {
    fn into_issued(self, template: &str) -> Result<IssuedInvite, ServiceError> {
        let token = InviteToken::parse(&self.token)
            .map_err(|_| invalid(template, "the issued token is not a deep-link token"))?;
        Ok(IssuedInvite {
            token,
            expires_at: self.expires_at,
        })
    }
}

#[derive(Deserialize)]
struct WireVerification {
    verification_id: String,
    code_length: usize,
    expires_at: DateTime<Utc>,
    resend_after: DateTime<Utc>,
}

impl WireVerification {
    fn into_verification(self, template: &str) -> Result<Verification, ServiceError> {
        if !(1..=MAX_CODE_LENGTH).contains(&self.code_length) {
            return Err(invalid(template, "code_length outside 1..=32"));
        }
        if self.verification_id.is_empty() {
            return Err(invalid(template, "an empty verification_id"));
        }
        Ok(Verification {
            verification_id: self.verification_id,
            code_length: self.code_length,
            expires_at: self.expires_at,
            resend_after: self.resend_after,
        })
    }
}

#[derive(Serialize)]
struct WireStartVerification<'a> {
    channel: &'a str,
    address: &'a str,
    purpose: &'static str,
}

#[derive(Serialize)]
struct WireCode<'a> {
    code: &'a str,
}

#[derive(Deserialize)]
struct WireChecked {
    verified: bool,
}

#[derive(Serialize)]
struct WireChild<'a> {
    last_name: &'a str,
    first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    middle_name: Option<&'a str>,
}

#[derive(Serialize)]
struct WireSubmit<'a> {
    invite_token: &'a str,
    verification_id: &'a str,
    child: WireChild<'a>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum WireStatus {
    Pending,
    Approved,
    Rejected,
}

impl From<WireStatus> for ApplicationStatus {
    fn from(status: WireStatus) -> Self {
        match status {
            WireStatus::Pending => ApplicationStatus::Pending,
            WireStatus::Approved => ApplicationStatus::Approved,
            WireStatus::Rejected => ApplicationStatus::Rejected,
        }
    }
}

#[derive(Deserialize)]
struct WireApplication {
    application_id: String,
    status: WireStatus,
    class: String,
    school: String,
    teacher_id: String,
}

#[derive(Deserialize)]
struct WireApplicationState {
    application_id: String,
    status: WireStatus,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    decided_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct WirePendingList {
    applications: Vec<WirePending>,
}

#[derive(Deserialize)]
struct WirePending {
    application_id: String,
    child_name: String,
    class: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct WireDecision<'a> {
    teacher_id: &'a str,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// A decision's outcome: the contract allows only these two.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireDecided {
    Approved,
    Rejected,
}

#[derive(Deserialize)]
struct WireDecisionAnswer {
    status: WireDecided,
}

#[derive(Serialize)]
struct WireTeacher<'a> {
    teacher_id: &'a str,
}

#[derive(Serialize)]
struct WireCreateLink<'a> {
    invite_token: &'a str,
    verification_id: &'a str,
}

#[derive(Deserialize)]
struct WireParentLink {
    link_id: String,
    child: WireLinkedChild,
}

#[derive(Deserialize)]
struct WireLinkedChild {
    name: String,
    class: String,
    school: String,
}

#[derive(Serialize)]
struct WireConfirm {
    confirmed: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireLinkStatus {
    Linked,
    Cancelled,
}

#[derive(Deserialize)]
struct WireLinkAnswer {
    status: WireLinkStatus,
}

fn wire_purpose(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::StudentRegistration => "student_registration",
        Purpose::ParentLink => "parent_link",
    }
}

// ----- the operations -------------------------------------------------------------------------

const RESOLVE_INVITE: &str = "/v1/invites/{token}";
const CLASS_INVITES: &str = "/v1/classes/{class_id}/invites";
const VERIFICATIONS: &str = "/v1/verifications";
const RESEND: &str = "/v1/verifications/{verification_id}/resend";
const CHECK: &str = "/v1/verifications/{verification_id}/check";
const APPLICATIONS: &str = "/v1/applications";
const APPLICATION: &str = "/v1/applications/{application_id}";
const PENDING: &str = "/v1/teachers/{teacher_id}/applications?status=pending";
const DECISION: &str = "/v1/applications/{application_id}/decision";
const PARENT_INVITES: &str = "/v1/applications/{application_id}/parent-invites";
const PARENT_LINKS: &str = "/v1/parent-links";
const CONFIRM_LINK: &str = "/v1/parent-links/{link_id}/confirm";

#[async_trait]
impl RegistrationService for HttpService {
    async fn resolve_invite(&self, token: &InviteToken) -> Result<Invite, ServiceError> {
        let segments = ["v1", "invites", token.as_str()];
        // The contract's shape is the port's own (`kind`-tagged, unknown fields ignored).
        let invite: Invite = self.call(Call::get(RESOLVE_INVITE, &segments)).await?;
        Ok(invite)
    }

    async fn create_class_invite(
        &self,
        key: OpKey,
        class_id: &str,
        teacher_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        let segments = ["v1", "classes", class_id, "invites"];
        let call = Call::post(CLASS_INVITES, &segments, key).json(&WireTeacher { teacher_id })?;
        let wire: WireIssuedInvite = self.call(call).await?;
        wire.into_issued(CLASS_INVITES)
    }

    async fn start_verification(
        &self,
        key: OpKey,
        address: &Address,
        purpose: Purpose,
    ) -> Result<Verification, ServiceError> {
        let segments = ["v1", "verifications"];
        let call = Call::post(VERIFICATIONS, &segments, key).json(&WireStartVerification {
            channel: address.channel(),
            address: address.as_str(),
            purpose: wire_purpose(purpose),
        })?;
        let wire: WireVerification = self.call(call).await?;
        wire.into_verification(VERIFICATIONS)
    }

    async fn resend_code(
        &self,
        key: OpKey,
        verification_id: &str,
    ) -> Result<Verification, ServiceError> {
        let segments = ["v1", "verifications", verification_id, "resend"];
        let wire: WireVerification = self.call(Call::post(RESEND, &segments, key)).await?;
        wire.into_verification(RESEND)
    }

    async fn check_code(
        &self,
        key: OpKey,
        verification_id: &str,
        code: &VerificationCode,
    ) -> Result<(), ServiceError> {
        let segments = ["v1", "verifications", verification_id, "check"];
        let call = Call::post(CHECK, &segments, key).json(&WireCode {
            code: code.as_str(),
        })?;
        let wire: WireChecked = self.call(call).await?;
        if wire.verified {
            Ok(())
        } else {
            Err(invalid(CHECK, "a success that says verified: false"))
        }
    }

    async fn submit_application(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
        child: &ChildName,
    ) -> Result<Application, ServiceError> {
        let segments = ["v1", "applications"];
        let call = Call::post(APPLICATIONS, &segments, key).json(&WireSubmit {
            invite_token: invite.as_str(),
            verification_id,
            child: WireChild {
                last_name: child.last_name(),
                first_name: child.first_name(),
                middle_name: child.middle_name(),
            },
        })?;
        let wire: WireApplication = self.call(call).await?;
        Ok(Application {
            application_id: wire.application_id,
            status: wire.status.into(),
            class: wire.class,
            school: wire.school,
            teacher_id: wire.teacher_id,
        })
    }

    async fn application_state(
        &self,
        application_id: &str,
    ) -> Result<ApplicationState, ServiceError> {
        let segments = ["v1", "applications", application_id];
        let wire: WireApplicationState = self.call(Call::get(APPLICATION, &segments)).await?;
        Ok(ApplicationState {
            application_id: wire.application_id,
            status: wire.status.into(),
            reason: wire.reason,
            decided_at: wire.decided_at,
        })
    }

    async fn pending_applications(
        &self,
        teacher_id: &str,
    ) -> Result<Vec<PendingApplication>, ServiceError> {
        let segments = ["v1", "teachers", teacher_id, "applications"];
        let call = Call {
            query: Some(("status", "pending")),
            ..Call::get(PENDING, &segments)
        };
        let wire: WirePendingList = self.call(call).await?;
        Ok(wire
            .applications
            .into_iter()
            .map(|a| PendingApplication {
                application_id: a.application_id,
                child_name: a.child_name,
                class: a.class,
                created_at: a.created_at,
            })
            .collect())
    }

    async fn decide(
        &self,
        key: OpKey,
        application_id: &str,
        teacher_id: &str,
        decision: &Decision,
    ) -> Result<ApplicationStatus, ServiceError> {
        let segments = ["v1", "applications", application_id, "decision"];
        let body = match decision {
            Decision::Approve => WireDecision {
                teacher_id,
                decision: "approve",
                reason: None,
            },
            Decision::Reject { reason } => WireDecision {
                teacher_id,
                decision: "reject",
                reason: reason.as_deref(),
            },
        };
        let call = Call::post(DECISION, &segments, key).json(&body)?;
        let wire: WireDecisionAnswer = self.call(call).await?;
        Ok(match wire.status {
            WireDecided::Approved => ApplicationStatus::Approved,
            WireDecided::Rejected => ApplicationStatus::Rejected,
        })
    }

    async fn create_parent_invite(
        &self,
        key: OpKey,
        application_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        let segments = ["v1", "applications", application_id, "parent-invites"];
        let wire: WireIssuedInvite = self
            .call(Call::post(PARENT_INVITES, &segments, key))
            .await?;
        wire.into_issued(PARENT_INVITES)
    }

    async fn create_parent_link(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
    ) -> Result<ParentLink, ServiceError> {
        let segments = ["v1", "parent-links"];
        let call = Call::post(PARENT_LINKS, &segments, key).json(&WireCreateLink {
            invite_token: invite.as_str(),
            verification_id,
        })?;
        let wire: WireParentLink = self.call(call).await?;
        Ok(ParentLink {
            link_id: wire.link_id,
            child: LinkedChild {
                name: wire.child.name,
                class: wire.child.class,
                school: wire.child.school,
            },
        })
    }

    async fn confirm_parent_link(
        &self,
        key: OpKey,
        link_id: &str,
        confirmed: bool,
    ) -> Result<LinkStatus, ServiceError> {
        let segments = ["v1", "parent-links", link_id, "confirm"];
        let call = Call::post(CONFIRM_LINK, &segments, key).json(&WireConfirm { confirmed })?;
        let wire: WireLinkAnswer = self.call(call).await?;
        Ok(match wire.status {
            WireLinkStatus::Linked => LinkStatus::Linked,
            WireLinkStatus::Cancelled => LinkStatus::Cancelled,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(base: &str) -> HttpService {
        let url = Url::parse(base).expect("a URL");
        HttpService::new(HttpConfig::new(url, Secret::new("t0ken"))).expect("a client")
    }

    #[test]
    fn paths_join_below_the_base_with_or_without_a_trailing_slash() {
        for (base, expected) in [
            ("http://127.0.0.1:1", "http://127.0.0.1:1/v1/invites/a-b"),
            ("http://127.0.0.1:1/", "http://127.0.0.1:1/v1/invites/a-b"),
            (
                "http://127.0.0.1:1/api",
                "http://127.0.0.1:1/api/v1/invites/a-b",
            ),
            (
                "http://127.0.0.1:1/api/",
                "http://127.0.0.1:1/api/v1/invites/a-b",
            ),
        ] {
            let url = service(base)
                .url(&["v1", "invites", "a-b"], None)
                .expect("joins");
            assert_eq!(url.as_str(), expected, "{base}");
        }
    }

    #[test]
    fn identifiers_stay_one_segment() {
        let s = service("http://127.0.0.1:1/api/");
        let url = s
            .url(
                &["v1", "applications", "a/../b?c#d"],
                Some(("status", "pending")),
            )
            .expect("joins");
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/api/v1/applications/a%2F..%2Fb%3Fc%23d?status=pending"
        );
        for bad in ["", ".", ".."] {
            assert!(matches!(
                s.url(&["v1", "applications", bad], None),
                Err(ServiceError::Protocol(_))
            ));
        }
    }

    #[test]
    fn unusable_base_urls_and_tokens_are_refused() {
        for base in [
            "ftp://host/",
            "mailto:someone@example.ru",
            "http://host/?a=b",
            "http://host/#x",
            "http://user:pw@host/",
        ] {
            let url = Url::parse(base).expect("a URL");
            assert!(
                HttpService::new(HttpConfig::new(url, Secret::new("t"))).is_err(),
                "{base}"
            );
        }
        let url = Url::parse("http://host/").expect("a URL");
        assert!(HttpService::new(HttpConfig::new(url, Secret::new("a\nb"))).is_err());
    }

    #[test]
    fn the_token_never_prints() {
        let config = HttpConfig::new(
            Url::parse("http://host/").expect("a URL"),
            Secret::new("very-secret"),
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut s = service("http://127.0.0.1:1/");
        s.backoff_base = Duration::from_millis(100);
        s.backoff_max = Duration::from_millis(350);
        for _ in 0..50 {
            let first = s.backoff(0);
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
            let second = s.backoff(1);
            assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second));
            let capped = s.backoff(40);
            assert!((Duration::from_millis(175)..=Duration::from_millis(350)).contains(&capped));
        }
    }

    #[test]
    fn every_contract_code_has_a_status_and_a_rejection() {
        for code in RejectionCode::ALL {
            let body = ErrorBody {
                error: code.code().to_owned(),
                attempts_left: Some(1),
                status: Some("approved".to_owned()),
            };
            let accepted = [403, 404, 409, 410, 422, 429]
                .into_iter()
                .filter_map(|status| rejection(status, &body, None).ok())
                .collect::<Vec<_>>();
            assert_eq!(accepted.len(), 1, "{code:?}");
            assert_eq!(accepted[0].kind(), *code);
        }
    }
}
