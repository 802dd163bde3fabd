//! A small client of the MAX Bot API: every call goes through one request function that puts
//! the token in the `Authorization` header, retries what MAX did not take, and reads errors
//! without keeping their text.
//!
//! Why not the `maxbot` crate: it is not MAX's own (the `max-messenger` organisation's clients
//! are TypeScript, Go and Python, none in Rust, as far as the indexed repositories show); it is
//! one owner's library hosted on gitflic whose versions went from 0.1 through 0.7 to 5.0.0
//! (docs.rs, `cargo info`; no crates.io name list is kept here, so its dates and download
//! counts were not seen). It would bring a second `reqwest` (0.13, with `multipart` and
//! `stream`), `log` where this crate uses `tracing`, `actix-web` for webhooks where this crate
//! serves with `axum`, and it keeps its base URL, rate limit and an "ignore TLS errors" switch in
//! process-wide globals. Its 7,000 lines cover the whole API; the bot needs six calls. A client
//! of a few hundred lines on the `reqwest` already here is easier to review and to keep honest
//! about the token.
//!
//! Sources ("S" = the official OpenAPI schema, dev.max.ru 2026-07-01, in
//! `max-messenger-bot/max-bot-api-schemas`; "D" = dev.max.ru method pages; "TS"/"GO" = the
//! official clients `max-messenger/max-bot-api-client-ts` @ e75aa71 and `-go` @ e36cb51):
//! - Token: `Authorization: <token>`, bare, no `Bearer`; tokens in the query are refused (D;
//!   TS `client.ts`; GO `client.go`). It is sent to the API host only: the upload host gets no
//!   token (GO `upload.go` sends none there).
//! - `POST /subscriptions` body `{url, update_types, secret?}`, `secret` matching
//!   `^[a-zA-Z0-9_-]{5,256}$` (S `SubscriptionRequestBody` and the D curl example; GO
//!   `model.SubscriptionRequestBody`); it answers `SimpleQueryResult`. `DELETE
//!   /subscriptions?url=` (S `unsubscribe`, D curl example; GO `Unsubscribe`). MAX sends the
//!   secret back in the header [`SECRET_HEADER`] `X-Max-Bot-Api-Secret` of every webhook POST
//!   (S/D "Безопасность Webhook-запросов"; GO `const.go` `SecretHeader` checked in
//!   `GetHandler`; TS `src/core/network/webhook.ts` at 29e0add, which TS @ e75aa71 no longer
//!   has). A webhook must answer 200 within 30 s; failed deliveries are retried up to 10 times
//!   from 60 s ×2.5, and after 8 h of failures the bot is unsubscribed (S/D).
//! - Uploads: `POST /uploads?type=image` → `{url}`, then a multipart POST of field `data` to that
//!   URL → `{photos:{<hash>:{token}}}` (S, D, TS `upload.ts`, GO `upload.go`); sending it too
//!   soon answers code `attachment.not.ready`, retried (D; TS `messages/api.ts`; GO
//!   `rawWithRetry`).
//! - Limits: text 4000 characters, callback payload 1024, start payload 512 (S); 30 requests a
//!   second, long polls included (S `/uploads` description).
//!
//! Not verified (no source says): the HTTP status that carries `attachment.not.ready` (it is
//! recognised by its code alone); the 429 body and whether `Retry-After` is ever sent (it is
//! honoured if it is); whether `POST /answers` accepts an empty body (no notification, no
//! message); whether a secret is still required once set, or may be dropped by subscribing
//! again without one; the underscore in `secret` (S's pattern allows it, its prose says only
//! letters, digits and hyphens).
//!
//! Pace: every call to the API host, from any task that holds a clone of the client (the
//! poll, the replies, the notifier), waits its turn in one limiter of [`REQUESTS_PER_SECOND`],
//! since MAX counts them all; uploads go to another host and are not counted.
//!
//! Retries: 429, 5xx and network failures are retried with jittered exponential backoff
//! (0.5 s doubling to 8 s, at most 30 s of waiting in all). A message whose answer was lost
//! after MAX took it may therefore arrive twice; a refused one (4xx) is never repeated.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::distr::{Alphanumeric, SampleString};
use rand::Rng;
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Serialize;

use super::wire::{
    BotInfo, CallbackAnswer, ErrorBody, NewMessageBody, PhotoTokens, SimpleQueryResult,
    SubscriptionRequest, UpdateList, UploadEndpoint,
};
use crate::config::Secret;

/// The API host (S `servers`; D asks for it instead of the old `platform-api.max.ru`).
pub const OFFICIAL_API_URL: &str = "https://platform-api2.max.ru";
/// The longest message text, in characters (S `NewMessageBody.text` `maxLength`).
pub const TEXT_LIMIT: usize = 4000;
/// The longest `callback` button payload, in characters (S `CallbackButton.payload`).
pub const CALLBACK_PAYLOAD_LIMIT: usize = 1024;
/// The longest deep-link start payload, in characters (S "Deep linking", `BotStartedUpdate`).
pub const START_PAYLOAD_LIMIT: usize = 512;
/// MAX's rate limit for one bot, every call counted (S `/uploads` description).
pub const REQUESTS_PER_SECOND: u32 = 30;
/// The header in which MAX sends a subscription's secret with each webhook delivery (S, D, GO).
pub const SECRET_HEADER: &str = "X-Max-Bot-Api-Secret";

/// The first pause before a retry; it doubles up to 16× itself, and 60× itself is the budget of
/// all the pauses of one call (0.5 s → 8 s, 30 s).
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);
/// How many updates one poll asks for (S: 1–1000, default 100).
const UPDATES_LIMIT: &str = "100";
/// The longest long poll (S `timeout` 0–90).
const MAX_POLL_SECS: u32 = 90;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// The error code of a message whose attachment is still being processed (D, GO, TS).
const NOT_READY: &str = "attachment.not.ready";

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaxError {
    /// MAX answered a 4xx other than 429 (a 401 is a bad token): retrying will not help. `code`
    /// is the error body's machine code (e.g. `verify.token`), never its message.
    #[error("MAX refused the request: HTTP {status}{}", .code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Refused { status: u16, code: Option<String> },
    /// MAX could not be reached, or kept answering 429/5xx, for the whole retry budget.
    #[error("MAX is unavailable: {0}")]
    Unavailable(String),
    /// MAX answered 200 with `success: false`.
    #[error("MAX did not carry out the request")]
    Unsuccessful,
    /// MAX answered something this client cannot read.
    #[error("unexpected answer from MAX: {0}")]
    Protocol(String),
    /// The client cannot be built or a request cannot be formed from these arguments.
    #[error("MAX client misconfigured: {0}")]
    Setup(String),
}

impl MaxError {
    /// The error code MAX gave, if it refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Whom a message goes to: a user by `user_id` or a chat (a dialog too) by `chat_id` (S
/// `sendMessage` query). They are different numbers even for a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum To {
    User(i64),
    Chat(i64),
}

impl To {
    fn query(self) -> (&'static str, String) {
        match self {
            Self::User(id) => ("user_id", id.to_string()),
            Self::Chat(id) => ("chat_id", id.to_string()),
        }
    }
}

/// A MAX Bot API client. Cheap to clone; its `Debug` never shows the token.
#[derive(Clone)]
pub struct MaxClient {
    http: reqwest::Client,
    base_url: Url,
    /// The bare token as a header value marked sensitive.
    authorization: HeaderValue,
    backoff_base: Duration,
    /// Shared by every clone: MAX counts the bot's calls, not one task's.
    pace: Arc<DefaultDirectRateLimiter>,
}

impl fmt::Debug for MaxClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxClient")
            .field("base_url", &self.base_url.as_str())
            .field("backoff_base", &self.backoff_base)
            .finish_non_exhaustive()
    }
}

/// What a request carries.
enum Payload {
    Empty,
    Json(Vec<u8>),
    Multipart { boundary: String, bytes: Vec<u8> },
}

/// One request, as [`MaxClient::call`] repeats it.
struct Call {
    method: Method,
    url: Url,
    /// Whether the token goes with it: only to the API host.
    authorized: bool,
    payload: Payload,
    timeout: Duration,
}

/// What one try came to.
enum Attempt {
    Answered(Vec<u8>),
    Final(MaxError),
    /// Not taken: worth another try, after at least the server's `Retry-After` if it gave one.
    Transient(String, Option<Duration>),
}

impl MaxClient {
    /// A client of the API at `base_url` (normally [`OFFICIAL_API_URL`]) with the bot's token.
    /// Fails if the URL is not a plain http(s) base or the token cannot be a header value.
    pub fn new(base_url: Url, token: Secret) -> Result<Self, MaxError> {
        let plain = matches!(base_url.scheme(), "http" | "https")
            && !base_url.cannot_be_a_base()
            && base_url.query().is_none()
            && base_url.fragment().is_none()
            && base_url.username().is_empty()
            && base_url.password().is_none();
        if !plain {
            return Err(MaxError::Setup(
                "the API URL must be a plain http(s) URL without query, fragment or credentials"
                    .to_owned(),
            ));
        }
        let mut authorization = HeaderValue::try_from(token.expose())
            .map_err(|_| MaxError::Setup("the token is not a valid header value".to_owned()))?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .user_agent(concat!("sferum-bot/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| MaxError::Setup(format!("cannot build the HTTP client: {}", cause(e))))?;
        Ok(Self {
            http,
            base_url,
            authorization,
            backoff_base: DEFAULT_BACKOFF_BASE,
            pace: Arc::new(RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(REQUESTS_PER_SECOND).unwrap_or(NonZeroU32::MIN),
            ))),
        })
    }

    /// The bot's own profile (`GET /me`, S `BotInfo`): its `username` names its deep links.
    pub async fn me(&self) -> Result<BotInfo, MaxError> {
        self.api(Method::GET, "me", &[], Payload::Empty, REQUEST_TIMEOUT)
            .await
    }

    /// The same client with another first retry pause (tests use a millisecond).
    pub fn with_backoff_base(mut self, base: Duration) -> Self {
        self.backoff_base = base;
        self
    }

    /// Long-polls `GET /updates` (S): `marker` is the one the last answer gave (none at first),
    /// `timeout_secs` at most 90, `types` the update types the bot handles (empty: all).
    pub async fn get_updates(
        &self,
        marker: Option<i64>,
        timeout_secs: u32,
        types: &[&str],
    ) -> Result<UpdateList, MaxError> {
        let timeout_secs = timeout_secs.min(MAX_POLL_SECS);
        let marker = marker.map(|m| m.to_string());
        let timeout = timeout_secs.to_string();
        let types = types.join(",");
        let mut query = vec![("limit", UPDATES_LIMIT), ("timeout", timeout.as_str())];
        if let Some(marker) = &marker {
            query.push(("marker", marker.as_str()));
        }
        if !types.is_empty() {
            query.push(("types", types.as_str()));
        }
        let wait = Duration::from_secs(u64::from(timeout_secs)) + REQUEST_TIMEOUT;
        self.api(Method::GET, "updates", &query, Payload::Empty, wait)
            .await
    }

    /// Sends a message (`POST /messages?user_id=` or `?chat_id=`, S). An image just uploaded may
    /// not be ready yet: `attachment.not.ready` is retried on the same backoff.
    pub async fn send_message(&self, to: To, body: &NewMessageBody) -> Result<(), MaxError> {
        let (key, id) = to.query();
        let json = to_json(body)?;
        let mut backoff = Backoff::new(self.backoff_base);
        loop {
            let payload = Payload::Json(json.clone());
            let sent = self
                .api::<IgnoredAny>(
                    Method::POST,
                    "messages",
                    &[(key, id.as_str())],
                    payload,
                    REQUEST_TIMEOUT,
                )
                .await;
            let error = match sent {
                Err(error) if error.code() == Some(NOT_READY) => error,
                other => return other.map(drop),
            };
            let Some(wait) = backoff.next(None) else {
                return Err(error);
            };
            tracing::debug!(?wait, "MAX: attachment not ready; sending again");
            tokio::time::sleep(wait).await;
        }
    }

    /// Answers a button press (`POST /answers?callback_id=`, S), with a toast if `notification`.
    pub async fn answer_callback(
        &self,
        callback_id: &str,
        notification: Option<&str>,
    ) -> Result<(), MaxError> {
        let answer = CallbackAnswer {
            message: None,
            notification: notification.map(str::to_owned),
        };
        let result: SimpleQueryResult = self
            .api(
                Method::POST,
                "answers",
                &[("callback_id", callback_id)],
                Payload::Json(to_json(&answer)?),
                REQUEST_TIMEOUT,
            )
            .await?;
        succeeded(result)
    }

    /// Uploads a PNG and returns the token to attach it with
    /// ([`super::wire::AttachmentRequest::Image`]): `POST /uploads?type=image` gives the upload
    /// URL, a multipart POST of field `data` there gives the token (S, D, TS, GO).
    pub async fn upload_image(&self, png: Vec<u8>) -> Result<String, MaxError> {
        let endpoint: UploadEndpoint = self
            .api(
                Method::POST,
                "uploads",
                &[("type", "image")],
                Payload::Empty,
                REQUEST_TIMEOUT,
            )
            .await?;
        let url = Url::parse(&endpoint.url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| MaxError::Protocol("the upload URL is not an http(s) URL".to_owned()))?;
        let (boundary, bytes) = multipart("data", "image.png", "image/png", &png);
        let call = Call {
            method: Method::POST,
            url,
            authorized: false,
            payload: Payload::Multipart { boundary, bytes },
            timeout: UPLOAD_TIMEOUT,
        };
        let answer: PhotoTokens = self.call(&call).await?;
        answer
            .photos
            .into_values()
            .next()
            .map(|photo| photo.token)
            .ok_or_else(|| MaxError::Protocol("the upload answer has no photo token".to_owned()))
    }

    /// Subscribes `url` to webhook deliveries of `types` (`POST /subscriptions`, S, D, GO). MAX
    /// then sends `secret` in [`SECRET_HEADER`] with each one; check it with
    /// [`crate::transport::serving::secret_matches`]. The secret must match `^[a-zA-Z0-9_-]{5,256}$` (S).
    pub async fn subscribe(&self, url: &str, secret: &str, types: &[&str]) -> Result<(), MaxError> {
        let valid = (5..=256).contains(&secret.len())
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(MaxError::Setup(
                "the webhook secret must be 5–256 characters of A-Z, a-z, 0-9, _ and -".to_owned(),
            ));
        }
        let request = SubscriptionRequest {
            url: url.to_owned(),
            update_types: types.iter().map(|t| (*t).to_owned()).collect(),
            secret: Some(secret.to_owned()),
        };
        let result: SimpleQueryResult = self
            .api(
                Method::POST,
                "subscriptions",
                &[],
                Payload::Json(to_json(&request)?),
                REQUEST_TIMEOUT,
            )
            .await?;
        succeeded(result)
    }

    /// Removes the webhook subscription of `url` (`DELETE /subscriptions?url=`, S, D, GO); long
    /// polling works again after it.
    pub async fn unsubscribe(&self, url: &str) -> Result<(), MaxError> {
        let result: SimpleQueryResult = self
            .api(
                Method::DELETE,
                "subscriptions",
                &[("url", url)],
                Payload::Empty,
                REQUEST_TIMEOUT,
            )
            .await?;
        succeeded(result)
    }

    /// A call of the API at `path` with the token.
    async fn api<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        payload: Payload,
        timeout: Duration,
    ) -> Result<T, MaxError> {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let call = Call {
            method,
            url,
            authorized: true,
            payload,
            timeout,
        };
        self.call(&call).await
    }

    /// The one request function: tries `call` until it is answered, refused, or the retry
    /// budget is spent, and reads the answer as `T`. Logs name the method and path only: no
    /// token, no query (it holds ids), no body.
    async fn call<T: DeserializeOwned>(&self, call: &Call) -> Result<T, MaxError> {
        let mut backoff = Backoff::new(self.backoff_base);
        loop {
            let (reason, retry_after) = match self.attempt(call).await {
                Attempt::Answered(body) => return decode(&body),
                Attempt::Final(error) => return Err(error),
                Attempt::Transient(reason, retry_after) => (reason, retry_after),
            };
            let Some(wait) = backoff.next(retry_after) else {
                tracing::warn!(method = %call.method, path = call.url.path(), %reason, "MAX: giving up");
                return Err(MaxError::Unavailable(reason));
            };
            tracing::debug!(method = %call.method, path = call.url.path(), %reason, ?wait, "MAX: retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &Call) -> Attempt {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(call.timeout);
        if call.authorized {
            self.pace.until_ready().await;
            request = request.header(AUTHORIZATION, self.authorization.clone());
        }
        request = match &call.payload {
            Payload::Empty => request,
            Payload::Json(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Payload::Multipart { boundary, bytes } => request
                .header(
                    CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(bytes.clone()),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Attempt::Transient(format!("network: {}", cause(error)), None),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => return Attempt::Transient(format!("network: {}", cause(error)), None),
        };
        if status.is_success() {
            Attempt::Answered(body)
        } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            Attempt::Transient(format!("HTTP {}", status.as_u16()), retry_after)
        } else {
            Attempt::Final(MaxError::Refused {
                status: status.as_u16(),
                code: error_code(&body),
            })
        }
    }
}

/// The pauses between tries of one call: jittered (½–1×) exponential from `base`, each at most
/// 16× `base` (or the server's `Retry-After`), all together at most 60× `base`.
struct Backoff {
    base: Duration,
    tries: u32,
    waited: Duration,
}

impl Backoff {
    fn new(base: Duration) -> Self {
        Self {
            base,
            tries: 0,
            waited: Duration::ZERO,
        }
    }

    /// The next pause, or `None` when it would overrun the budget.
    fn next(&mut self, at_least: Option<Duration>) -> Option<Duration> {
        let step = self
            .base
            .saturating_mul(1 << self.tries.min(4))
            .min(self.base.saturating_mul(16));
        let jittered = step.mul_f64(rand::rng().random_range(0.5..=1.0));
        let wait = at_least.map_or(jittered, |floor| floor.max(jittered));
        let waited = self.waited + wait;
        if waited > self.base.saturating_mul(60) {
            return None;
        }
        self.tries += 1;
        self.waited = waited;
        Some(wait)
    }
}

/// A `multipart/form-data` body of one file field, and its boundary.
fn multipart(field: &str, filename: &str, content_type: &str, data: &[u8]) -> (String, Vec<u8>) {
    // 40 random alphanumerics: the chance they occur in the data is nil for any real image.
    let boundary = format!(
        "sferum-{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
         filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let mut body = Vec::with_capacity(head.len() + data.len() + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(data);
    body.extend_from_slice(tail.as_bytes());
    (boundary, body)
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, MaxError> {
    serde_json::to_vec(value).map_err(|e| MaxError::Setup(format!("cannot encode: {e}")))
}

/// Reads an answer as `T`, reporting only where and how it failed (the error text of
/// `serde_json` can quote the data).
fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, MaxError> {
    serde_json::from_slice(body).map_err(|e| {
        MaxError::Protocol(format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// The machine code of an error answer, if it looks like one (`verify.token`,
/// `attachment.not.ready`): anything longer or stranger is dropped, since it could echo data.
fn error_code(body: &[u8]) -> Option<String> {
    let code = serde_json::from_slice::<ErrorBody>(body).ok()?.code?;
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    plain.then_some(code)
}

fn succeeded(result: SimpleQueryResult) -> Result<(), MaxError> {
    if result.success {
        Ok(())
    } else {
        Err(MaxError::Unsuccessful)
    }
}

/// The innermost cause of a `reqwest` error, without its URL (an upload URL may be signed).
fn cause(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut cause: &(dyn std::error::Error + 'static) = &error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
