//! The registration service port: the operations of the school's registration service
//! (`docs/registration-api.md`), the values they exchange and the errors they can end in.
//!
//! Adapters: [`sandbox::Sandbox`] (in-process, the embedded default) and [`http::HttpService`]
//! (the service over HTTP).

pub mod http;
mod rejection;
pub mod sandbox;

pub use rejection::{Rejection, RejectionCode, RejectionDetails};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{ChildName, InviteToken, VerificationCode};

/// Where a verification code is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", content = "address", rename_all = "snake_case")]
pub enum Address {
    Phone(crate::domain::Phone),
    Email(crate::domain::Email),
}

impl Address {
    /// The contract's `channel` field.
    pub fn channel(&self) -> &'static str {
        match self {
            Address::Phone(_) => "phone",
            Address::Email(_) => "email",
        }
    }

    /// The address as the contract spells it (`+79123456789`, `name@example.ru`).
    pub fn as_str(&self) -> &str {
        match self {
            Address::Phone(p) => p.as_str(),
            Address::Email(e) => e.as_str(),
        }
    }

    /// The address with most of it hidden, for messages and logs.
    pub fn masked(&self) -> String {
        match self {
            Address::Phone(p) => p.masked(),
            Address::Email(e) => e.masked(),
        }
    }
}

impl From<crate::domain::ChildContact> for Address {
    fn from(contact: crate::domain::ChildContact) -> Self {
        match contact {
            crate::domain::ChildContact::Phone(p) => Address::Phone(p),
            crate::domain::ChildContact::Email(e) => Address::Email(e),
        }
    }
}

/// Why a code is being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    StudentRegistration,
    ParentLink,
}

/// A class as the service describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassInfo {
    pub class_id: String,
    #[serde(rename = "class")]
    pub name: String,
    pub school: String,
}

/// What an invitation token opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Invite {
    /// A class teacher's invitation for a student (V1.1).
    Class {
        class_id: String,
        class: String,
        school: String,
        teacher_name: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::domain::stored_time::optional"
        )]
        expires_at: Option<DateTime<Utc>>,
    },
    /// A child's invitation for a parent (V1.6–V1.7).
    Parent {
        child_id: String,
        child_name: String,
        class: String,
        school: String,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::domain::stored_time::optional"
        )]
        expires_at: Option<DateTime<Utc>>,
    },
    /// Binds a teacher's chat.
    Teacher {
        teacher_id: String,
        teacher_name: String,
        classes: Vec<ClassInfo>,
    },
}

/// A freshly issued invitation token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedInvite {
    pub token: InviteToken,
    #[serde(with = "crate::domain::stored_time")]
    pub expires_at: DateTime<Utc>,
}

/// A started verification: a code is on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub verification_id: String,
    pub code_length: usize,
    #[serde(with = "crate::domain::stored_time")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "crate::domain::stored_time")]
    pub resend_after: DateTime<Utc>,
}

/// The state of a student's application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Rejected,
}

/// A submitted application (V1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub application_id: String,
    pub status: ApplicationStatus,
    pub class: String,
    pub school: String,
    pub teacher_id: String,
}

/// An application's state as the service reports it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationState {
    pub application_id: String,
    pub status: ApplicationStatus,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// One line of a teacher's pending list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApplication {
    pub application_id: String,
    pub child_name: String,
    pub class: String,
    pub created_at: DateTime<Utc>,
}

/// A teacher's decision on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approve,
    Reject { reason: Option<String> },
}

/// The child a parent is about to be linked to (V1.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedChild {
    pub name: String,
    pub class: String,
    pub school: String,
}

/// A parent link waiting for the parent's confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentLink {
    pub link_id: String,
    pub child: LinkedChild,
}

/// The end of a parent link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    Linked,
    Cancelled,
}

/// How an operation of the service can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The service refused, with one of the contract's codes.
    #[error("the registration service refused: {}", .0.code())]
    Rejected(Rejection),
    /// The service could not be reached or kept failing after the allowed retries.
    #[error("the registration service is unavailable: {0}")]
    Unavailable(String),
    /// The service answered something the contract does not allow (a bug on one side).
    #[error("the registration service answered outside its contract: {0}")]
    Protocol(String),
}

/// The `Idempotency-Key` of one logical operation: every repeat of the operation carries the
/// same key, and the service answers a repeated key as it answered the first time.
///
/// A conversation's calls are keyed by [`OpKey::derive`]: the chat, the conversation's epoch
/// (a random number drawn when the conversation starts, so that a chat starting again after
/// `/forget` never meets its old keys), the session revision the turn started from, and the
/// call's place in the turn. Whatever repeats a turn from the same saved state — a crash
/// before its commit and the update delivered again, a save conflict's retry, a double tap
/// landing on two replicas — repeats the same keys, so the service sends one SMS and records
/// one application. Calls made outside a conversation's turn (a teacher's decision) use
/// [`OpKey::random`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpKey(uuid::Uuid);

/// The namespace of derived keys (a fixed random UUID: keys of other systems never collide).
const OP_KEY_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x5f3c_2a9e_84d1_4b57_9a0e_6c1d_f2b8_7e43);

impl OpKey {
    /// The key of call `index` of the turn that `chat` started from `revision` of the
    /// conversation `epoch` (a UUID v5: the same inputs always give the same key).
    pub fn derive(chat: &str, epoch: u64, revision: u64, index: usize) -> Self {
        let name = format!("{chat}/{epoch}/{revision}/{index}");
        Self(uuid::Uuid::new_v5(&OP_KEY_NAMESPACE, name.as_bytes()))
    }

    /// A fresh key, for an operation no other attempt can repeat.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

/// The operations of the registration service contract. Every `POST` takes the [`OpKey`] of
/// its logical operation.
#[async_trait]
pub trait RegistrationService: Send + Sync {
    /// `GET /v1/invites/{token}`
    async fn resolve_invite(&self, token: &InviteToken) -> Result<Invite, ServiceError>;
    /// `POST /v1/classes/{class_id}/invites`
    async fn create_class_invite(
        &self,
        key: OpKey,
        class_id: &str,
        teacher_id: &str,
    ) -> Result<IssuedInvite, ServiceError>;
    /// `POST /v1/verifications`
    async fn start_verification(
        &self,
        key: OpKey,
        address: &Address,
        purpose: Purpose,
    ) -> Result<Verification, ServiceError>;
    /// `POST /v1/verifications/{id}/resend`
    async fn resend_code(
        &self,
        key: OpKey,
        verification_id: &str,
    ) -> Result<Verification, ServiceError>;
    /// `POST /v1/verifications/{id}/check`
    async fn check_code(
        &self,
        key: OpKey,
        verification_id: &str,
        code: &VerificationCode,
    ) -> Result<(), ServiceError>;
    /// `POST /v1/applications`
    async fn submit_application(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
        child: &ChildName,
    ) -> Result<Application, ServiceError>;
    /// `GET /v1/applications/{id}`
    async fn application_state(
        &self,
        application_id: &str,
    ) -> Result<ApplicationState, ServiceError>;
    /// `GET /v1/teachers/{teacher_id}/applications?status=pending`
    async fn pending_applications(
        &self,
        teacher_id: &str,
    ) -> Result<Vec<PendingApplication>, ServiceError>;
    /// `POST /v1/applications/{id}/decision`
    async fn decide(
        &self,
        key: OpKey,
        application_id: &str,
        teacher_id: &str,
        decision: &Decision,
    ) -> Result<ApplicationStatus, ServiceError>;
    /// `POST /v1/applications/{id}/parent-invites`
    async fn create_parent_invite(
        &self,
        key: OpKey,
        application_id: &str,
    ) -> Result<IssuedInvite, ServiceError>;
    /// `POST /v1/parent-links`
    async fn create_parent_link(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
    ) -> Result<ParentLink, ServiceError>;
    /// `POST /v1/parent-links/{link_id}/confirm`
    async fn confirm_parent_link(
        &self,
        key: OpKey,
        link_id: &str,
        confirmed: bool,
    ) -> Result<LinkStatus, ServiceError>;
}

#[cfg(test)]
mod op_key_tests {
    use super::OpKey;

    #[test]
    fn derived_keys_repeat_exactly_for_the_same_turn_and_call() {
        let key = OpKey::derive("42", 7, 3, 0);
        assert_eq!(key, OpKey::derive("42", 7, 3, 0));
        for other in [
            OpKey::derive("43", 7, 3, 0),
            OpKey::derive("42", 8, 3, 0),
            OpKey::derive("42", 7, 4, 0),
            OpKey::derive("42", 7, 3, 1),
        ] {
            assert_ne!(key, other);
        }
        assert_eq!(key.as_uuid().get_version_num(), 5);
        assert_ne!(OpKey::random(), OpKey::random());
    }
}
