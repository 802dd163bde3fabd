//! The JSON shapes of the registration contract (`docs/registration-api.md`): the request and
//! response bodies [`HttpService`](super::HttpService) sends and reads, and their conversion into
//! the port's types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::answers::invalid;
use super::MAX_CODE_LENGTH;
use crate::domain::InviteToken;
use crate::service::{ApplicationStatus, IssuedInvite, Purpose, ServiceError, Verification};

/// The body of a refusal.
#[derive(Deserialize)]
pub(super) struct ErrorBody {
    pub(super) error: String,
    #[serde(default)]
    pub(super) attempts_left: Option<u32>,
    #[serde(default)]
    pub(super) status: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WireIssuedInvite {
    pub(super) token: String,
    pub(super) expires_at: DateTime<Utc>,
}

impl WireIssuedInvite {
    pub(super) fn into_issued(self, template: &str) -> Result<IssuedInvite, ServiceError> {
        let token = InviteToken::parse(&self.token)
            .map_err(|_| invalid(template, "the issued token is not a deep-link token"))?;
        Ok(IssuedInvite {
            token,
            expires_at: self.expires_at,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct WireVerification {
    pub(super) verification_id: String,
    pub(super) code_length: usize,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) resend_after: DateTime<Utc>,
}

impl WireVerification {
    pub(super) fn into_verification(self, template: &str) -> Result<Verification, ServiceError> {
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
pub(super) struct WireStartVerification<'a> {
    pub(super) channel: &'a str,
    pub(super) address: &'a str,
    pub(super) purpose: &'static str,
}

#[derive(Serialize)]
pub(super) struct WireCode<'a> {
    pub(super) code: &'a str,
}

#[derive(Deserialize)]
pub(super) struct WireChecked {
    pub(super) verified: bool,
}

#[derive(Serialize)]
pub(super) struct WireChild<'a> {
    pub(super) last_name: &'a str,
    pub(super) first_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) middle_name: Option<&'a str>,
}

#[derive(Serialize)]
pub(super) struct WireSubmit<'a> {
    pub(super) invite_token: &'a str,
    pub(super) verification_id: &'a str,
    pub(super) child: WireChild<'a>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(super) enum WireStatus {
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
pub(super) struct WireApplication {
    pub(super) application_id: String,
    pub(super) status: WireStatus,
    pub(super) class: String,
    pub(super) school: String,
    pub(super) teacher_id: String,
}

#[derive(Deserialize)]
pub(super) struct WireApplicationState {
    pub(super) application_id: String,
    pub(super) status: WireStatus,
    #[serde(default)]
    pub(super) reason: Option<String>,
    #[serde(default)]
    pub(super) decided_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
pub(super) struct WirePendingList {
    pub(super) applications: Vec<WirePending>,
}

#[derive(Deserialize)]
pub(super) struct WirePending {
    pub(super) application_id: String,
    pub(super) child_name: String,
    pub(super) class: String,
    pub(super) created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub(super) struct WireDecision<'a> {
    pub(super) teacher_id: &'a str,
    pub(super) decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<&'a str>,
}

/// A decision's outcome: the contract allows only these two.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum WireDecided {
    Approved,
    Rejected,
}

#[derive(Deserialize)]
pub(super) struct WireDecisionAnswer {
    pub(super) status: WireDecided,
}

#[derive(Serialize)]
pub(super) struct WireTeacher<'a> {
    pub(super) teacher_id: &'a str,
}

#[derive(Serialize)]
pub(super) struct WireCreateLink<'a> {
    pub(super) invite_token: &'a str,
    pub(super) verification_id: &'a str,
}

#[derive(Deserialize)]
pub(super) struct WireParentLink {
    pub(super) link_id: String,
    pub(super) child: WireLinkedChild,
}

#[derive(Deserialize)]
pub(super) struct WireLinkedChild {
    pub(super) name: String,
    pub(super) class: String,
    pub(super) school: String,
}

#[derive(Serialize)]
pub(super) struct WireConfirm {
    pub(super) confirmed: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum WireLinkStatus {
    Linked,
    Cancelled,
}

#[derive(Deserialize)]
pub(super) struct WireLinkAnswer {
    pub(super) status: WireLinkStatus,
}

pub(super) fn wire_purpose(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::StudentRegistration => "student_registration",
        Purpose::ParentLink => "parent_link",
    }
}
