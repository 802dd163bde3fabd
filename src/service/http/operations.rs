//! The contract's operations: [`RegistrationService`] over HTTP, each operation sent to the path
//! the contract names with the body [`wire`](super::wire) gives it.

use async_trait::async_trait;

use super::answers::invalid;
use super::wire::{
    wire_purpose, WireApplication, WireApplicationState, WireChecked, WireChild, WireCode,
    WireConfirm, WireCreateLink, WireDecided, WireDecision, WireDecisionAnswer, WireIssuedInvite,
    WireLinkAnswer, WireLinkStatus, WireParentLink, WirePendingList, WireStartVerification,
    WireSubmit, WireTeacher, WireVerification,
};
use super::{Call, HttpService};
use crate::domain::{ChildName, InviteToken, VerificationCode};
use crate::service::{
    Address, Application, ApplicationState, ApplicationStatus, Decision, Invite, IssuedInvite,
    LinkStatus, LinkedChild, OpKey, ParentLink, PendingApplication, Purpose, RegistrationService,
    ServiceError, Verification,
};

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
