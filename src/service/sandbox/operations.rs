//! The contract's operations: [`RegistrationService`] kept in the sandbox's memory, each keyed
//! operation run once per [`OpKey`].

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::invites::Resolved;
use super::state::{ApplicationRecord, IssuedKind, LinkRecord, State, VerificationRecord};
use super::{
    rejected, secs_until, CodeNotice, Sandbox, MAX_STARTS_PER_WINDOW, START_WINDOW_MINUTES,
};
use crate::domain::{ChildName, InviteToken, VerificationCode};
use crate::service::{
    Address, Application, ApplicationState, ApplicationStatus, Decision, Invite, IssuedInvite,
    LinkStatus, LinkedChild, OpKey, ParentLink, PendingApplication, Purpose, RegistrationService,
    Rejection, ServiceError, Verification,
};

#[async_trait]
impl RegistrationService for Sandbox {
    async fn resolve_invite(&self, token: &InviteToken) -> Result<Invite, ServiceError> {
        let now = self.clock.now();
        let state = self.lock();
        state
            .resolve(token.as_str(), now)
            .map(|resolved| resolved.invite().clone())
    }

    async fn create_class_invite(
        &self,
        key: OpKey,
        class_id: &str,
        teacher_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let teaches = state
                .classes
                .get(class_id)
                .is_some_and(|class| class.teacher_id == teacher_id);
            if !teaches {
                return Err(rejected(Rejection::NotClassTeacher));
            }
            state.issue(
                IssuedKind::Class {
                    class_id: class_id.to_owned(),
                },
                now,
            )
        })
    }

    async fn start_verification(
        &self,
        key: OpKey,
        address: &Address,
        purpose: Purpose,
    ) -> Result<Verification, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            self.sending_code(|state| {
                if purpose == Purpose::ParentLink && matches!(address, Address::Email(_)) {
                    return Err(rejected(Rejection::ChannelNotAllowed));
                }
                let key = address.as_str().to_owned();
                if state.registered_children.contains(&key) {
                    return Err(rejected(match purpose {
                        Purpose::ParentLink => Rejection::AddressRegisteredAsChild,
                        Purpose::StudentRegistration => Rejection::AddressAlreadyRegistered,
                    }));
                }
                let window_start = now - Duration::minutes(START_WINDOW_MINUTES);
                let starts = state.starts.entry(key).or_default();
                starts.retain(|at| *at > window_start);
                if starts.len() >= MAX_STARTS_PER_WINDOW {
                    let oldest = starts.iter().min().copied().unwrap_or(now);
                    let free_at = oldest + Duration::minutes(START_WINDOW_MINUTES);
                    return Err(rejected(Rejection::TooManyRequests {
                        retry_after_secs: secs_until(now, free_at),
                    }));
                }
                starts.push(now);

                let id = format!("v-{}", state.next_verification);
                state.next_verification += 1;
                let (record, sent) = self.fresh_code(&id, address.clone(), purpose, now);
                state.verifications.insert(id, record);
                Ok(sent)
            })
        })
    }

    async fn resend_code(
        &self,
        key: OpKey,
        verification_id: &str,
    ) -> Result<Verification, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            self.sending_code(|state| {
                let record = state.verification_mut(verification_id)?;
                if record.verified || record.consumed {
                    return Err(ServiceError::Protocol(
                        "resend asked for a completed verification".to_owned(),
                    ));
                }
                if now < record.resend_after {
                    return Err(rejected(Rejection::TooEarly {
                        retry_after_secs: secs_until(now, record.resend_after),
                    }));
                }
                // Neither verified nor consumed: a fresh record loses nothing of the old one.
                let (fresh, sent) =
                    self.fresh_code(verification_id, record.address.clone(), record.purpose, now);
                *record = fresh;
                Ok(sent)
            })
        })
    }

    async fn check_code(
        &self,
        key: OpKey,
        verification_id: &str,
        code: &VerificationCode,
    ) -> Result<(), ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let record = state.verification_mut(verification_id)?;
            let matches = record.code == code.as_str();
            if record.verified && matches {
                return Ok(());
            }
            if now >= record.expires_at {
                return Err(rejected(Rejection::VerificationExpired));
            }
            if record.attempts_left == 0 {
                return Err(rejected(Rejection::TooManyAttempts));
            }
            if matches {
                record.verified = true;
                return Ok(());
            }
            record.attempts_left -= 1;
            Err(rejected(Rejection::WrongCode {
                attempts_left: record.attempts_left,
            }))
        })
    }

    async fn submit_application(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
        child: &ChildName,
    ) -> Result<Application, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let (address, resolved) = state.redeemable(
                verification_id,
                Purpose::StudentRegistration,
                invite.as_str(),
                now,
            )?;
            let Invite::Class {
                class_id,
                class,
                school,
                ..
            } = resolved.invite().clone()
            else {
                return Err(rejected(Rejection::InviteNotFound));
            };
            if state.registered_children.contains(&address) {
                return Err(rejected(Rejection::AddressAlreadyRegistered));
            }
            let teacher_id = state
                .classes
                .get(&class_id)
                .map(|c| c.teacher_id.clone())
                .ok_or(rejected(Rejection::InviteNotFound))?;

            state.redeem(verification_id, invite.as_str(), &resolved);
            state.registered_children.insert(address);
            let seq = state.next_application;
            state.next_application += 1;
            let child_id = format!("s-{}", state.next_child);
            state.next_child += 1;
            let application_id = format!("a-{seq}");
            state.applications.insert(
                application_id.clone(),
                ApplicationRecord {
                    seq,
                    child_id,
                    child_name: format!("{} {}", child.last_name(), child.first_name()),
                    class_id,
                    status: ApplicationStatus::Pending,
                    reason: None,
                    created_at: now,
                    decided_at: None,
                },
            );
            Ok(Application {
                application_id,
                status: ApplicationStatus::Pending,
                class,
                school,
                teacher_id,
            })
        })
    }

    async fn application_state(
        &self,
        application_id: &str,
    ) -> Result<ApplicationState, ServiceError> {
        let now = self.clock.now();
        let mut state = self.lock();
        let app = state
            .applications
            .get_mut(application_id)
            .ok_or(rejected(Rejection::ApplicationNotFound))?;
        if self.config.auto_approve && app.status == ApplicationStatus::Pending {
            app.status = ApplicationStatus::Approved;
            app.decided_at = Some(now);
        }
        Ok(ApplicationState {
            application_id: application_id.to_owned(),
            status: app.status,
            reason: app.reason.clone(),
            decided_at: app.decided_at,
        })
    }

    async fn pending_applications(
        &self,
        teacher_id: &str,
    ) -> Result<Vec<PendingApplication>, ServiceError> {
        let state = self.lock();
        let mut pending: Vec<(u64, PendingApplication)> = state
            .applications
            .iter()
            .filter(|(_, app)| app.status == ApplicationStatus::Pending)
            .filter_map(|(id, app)| {
                let class = state.classes.get(&app.class_id)?;
                (class.teacher_id == teacher_id).then(|| {
                    (
                        app.seq,
                        PendingApplication {
                            application_id: id.clone(),
                            child_name: app.child_name.clone(),
                            class: class.name.clone(),
                            created_at: app.created_at,
                        },
                    )
                })
            })
            .collect();
        pending.sort_by_key(|(seq, _)| *seq);
        Ok(pending.into_iter().map(|(_, app)| app).collect())
    }

    async fn decide(
        &self,
        key: OpKey,
        application_id: &str,
        teacher_id: &str,
        decision: &Decision,
    ) -> Result<ApplicationStatus, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let state = &mut *state;
            let app = state
                .applications
                .get_mut(application_id)
                .ok_or(rejected(Rejection::ApplicationNotFound))?;
            let is_class_teacher = state
                .classes
                .get(&app.class_id)
                .is_some_and(|class| class.teacher_id == teacher_id);
            if !is_class_teacher {
                return Err(rejected(Rejection::NotClassTeacher));
            }
            if app.status != ApplicationStatus::Pending {
                return Err(rejected(Rejection::AlreadyDecided { status: app.status }));
            }
            match decision {
                Decision::Approve => {
                    app.status = ApplicationStatus::Approved;
                }
                Decision::Reject { reason } => {
                    app.status = ApplicationStatus::Rejected;
                    app.reason = reason.clone();
                }
            }
            app.decided_at = Some(now);
            Ok(app.status)
        })
    }

    async fn create_parent_invite(
        &self,
        key: OpKey,
        application_id: &str,
    ) -> Result<IssuedInvite, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let status = state
                .applications
                .get(application_id)
                .map(|app| app.status)
                .ok_or(rejected(Rejection::ApplicationNotFound))?;
            if status != ApplicationStatus::Approved {
                return Err(rejected(Rejection::ApplicationNotApproved));
            }
            state.issue(
                IssuedKind::Parent {
                    application_id: application_id.to_owned(),
                },
                now,
            )
        })
    }

    async fn create_parent_link(
        &self,
        key: OpKey,
        invite: &InviteToken,
        verification_id: &str,
    ) -> Result<ParentLink, ServiceError> {
        self.keyed(key, || {
            let now = self.clock.now();
            let mut state = self.lock();
            let (_, resolved) =
                state.redeemable(verification_id, Purpose::ParentLink, invite.as_str(), now)?;
            let Invite::Parent {
                child_name,
                class,
                school,
                ..
            } = resolved.invite().clone()
            else {
                return Err(rejected(Rejection::InviteNotFound));
            };
            state.redeem(verification_id, invite.as_str(), &resolved);
            let link_id = format!("l-{}", state.next_link);
            state.next_link += 1;
            state
                .links
                .insert(link_id.clone(), LinkRecord { status: None });
            Ok(ParentLink {
                link_id,
                child: LinkedChild {
                    name: child_name,
                    class,
                    school,
                },
            })
        })
    }

    async fn confirm_parent_link(
        &self,
        key: OpKey,
        link_id: &str,
        confirmed: bool,
    ) -> Result<LinkStatus, ServiceError> {
        self.keyed(key, || {
            let mut state = self.lock();
            let link = state
                .links
                .get_mut(link_id)
                .ok_or_else(|| ServiceError::Protocol("unknown parent link id".to_owned()))?;
            let status = *link.status.get_or_insert(if confirmed {
                LinkStatus::Linked
            } else {
                LinkStatus::Cancelled
            });
            Ok(status)
        })
    }
}

impl Sandbox {
    /// Runs `issue` under the lock, then tells the code listener, outside the lock, of the code
    /// it sent.
    fn sending_code(
        &self,
        issue: impl FnOnce(&mut State) -> Result<(Verification, CodeNotice), ServiceError>,
    ) -> Result<Verification, ServiceError> {
        let (verification, notice) = issue(&mut self.lock())?;
        self.notify(&verification.verification_id, notice);
        Ok(verification)
    }

    /// A new code for the verification `id` of `address` for `purpose`, sent `now`: the record
    /// that keeps it, with what the client is told and what the code listener hears.
    fn fresh_code(
        &self,
        id: &str,
        address: Address,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> (VerificationRecord, (Verification, CodeNotice)) {
        let code = self.new_code();
        let record = VerificationRecord {
            address,
            purpose,
            code: code.clone(),
            expires_at: now + self.config.code_ttl,
            resend_after: now + self.config.resend_after,
            attempts_left: self.config.max_attempts,
            verified: false,
            consumed: false,
        };
        let verification = Verification {
            verification_id: id.to_owned(),
            code_length: code.chars().count(),
            expires_at: record.expires_at,
            resend_after: record.resend_after,
        };
        let notice = CodeNotice {
            masked_address: record.address.masked(),
            code,
        };
        (record, (verification, notice))
    }
}

/// What an application and a parent link both redeem: a completed verification and an
/// invitation.
impl State {
    /// Checks, spending nothing, that `verification_id` is completed, not yet consumed and for
    /// `purpose`, and that the invitation `token` is open: the verified address, with the
    /// invitation.
    fn redeemable(
        &self,
        verification_id: &str,
        purpose: Purpose,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Resolved), ServiceError> {
        let verification = self.verification(verification_id)?;
        if !verification.verified || verification.consumed || verification.purpose != purpose {
            return Err(rejected(Rejection::VerificationNotCompleted));
        }
        let address = verification.address.as_str().to_owned();
        let resolved = self.resolve(token, now)?;
        Ok((address, resolved))
    }

    /// Spends what [`State::redeemable`] checked: the verification, and the invitation if it
    /// is single-use.
    fn redeem(&mut self, verification_id: &str, token: &str, resolved: &Resolved) {
        self.mark_used(token, resolved);
        if let Some(verification) = self.verifications.get_mut(verification_id) {
            verification.consumed = true;
        }
    }
}
