//! Reading the service's answers: which ones are worth another attempt, a success body into the
//! port's types, and a refusal into the contract's [`Rejection`] or a [`ServiceError::Protocol`].

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::wire::ErrorBody;
use super::{Answer, Call, DEFAULT_RETRY_AFTER_SECS};
use crate::service::{ApplicationStatus, Rejection, RejectionCode, RejectionDetails, ServiceError};

/// Whether an answer is worth another attempt: a gateway or availability failure, or a `429`
/// that carries no error code of the contract.
pub(super) fn is_transient(answer: &Answer) -> bool {
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
pub(super) fn decode<T: DeserializeOwned>(
    call: &Call<'_>,
    answer: &Answer,
) -> Result<T, ServiceError> {
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
pub(super) fn invalid(call_template: &str, what: &str) -> ServiceError {
    tracing::warn!(
        path = call_template,
        what,
        "unusable registration service answer"
    );
    ServiceError::Protocol(format!("{call_template}: {what}"))
}

/// Reads a non-success answer into the error it stands for.
pub(super) fn refusal(call: &Call<'_>, answer: &Answer) -> ServiceError {
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
pub(super) fn rejection(
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
