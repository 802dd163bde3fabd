//! Service outcomes: what a call's answer means for the conversation (its facts, the step it
//! leads to, the message for a refusal), and building the one request a step asks for.

use super::*;
use crate::script::Msg;

impl<'e> TurnInProgress<'e> {
    pub(super) fn on_outcome(&mut self, outcome: Outcome) {
        let Some(awaiting) = self.session.awaiting.take() else {
            return; // nothing was asked for: a late or duplicate answer changes nothing
        };
        if awaiting.op != outcome.op {
            return;
        }
        let Some(step) = self.scripts().step(&awaiting.step) else {
            return self.enter(StepRef::menu());
        };
        if awaiting.op == Operation::CheckCode {
            self.session.facts.code = None;
        }
        match outcome.result {
            Ok(success) => {
                let key = self.apply(success);
                match step.on.get(&key) {
                    Some(Target::Step(to)) => self.enter(to.clone()),
                    Some(Target::Stay) => self.reshow(),
                    None => self.internal_error(),
                }
            }
            Err(ServiceError::Rejected(rejection)) => {
                // A wrong code with no attempts left is the end of that code: on to a new one,
                // not asked for again.
                let leads_as = match rejection {
                    Rejection::WrongCode { attempts_left: 0 } => RejectionCode::TooManyAttempts,
                    _ => rejection.kind(),
                };
                let target = step
                    .on
                    .get(&OutcomeKey::Refused(leads_as))
                    .or_else(|| step.on.get(&OutcomeKey::AnyError));
                let message = rejection.kind().message();
                let mut args = rejection_args(&rejection);
                if let Some(support) = self.fact_args().remove("support_contact") {
                    args.insert("support_contact".to_owned(), support);
                }
                self.recover(step, message, args, target);
            }
            Err(ServiceError::Unavailable(_) | ServiceError::Protocol(_)) => {
                let target = step.on.get(&OutcomeKey::Unavailable);
                self.recover(step, Msg::ErrorServiceUnavailable.id(), Args::new(), target);
            }
        }
    }

    /// After a failed call: explain, then go where the step says, or let the user try again.
    pub(super) fn recover(
        &mut self,
        step: &'e Step,
        message: &str,
        args: Args,
        target: Option<&Target>,
    ) {
        match target {
            Some(Target::Step(to)) => {
                self.say(message, args, None, Vec::new());
                self.enter(to.clone());
            }
            _ if step.input.is_some() => self.say_with_buttons(message, args, step),
            _ => {
                // An automatic call: return to where the user last acted, so they can retry.
                self.say(message, args, None, Vec::new());
                match self.session.history.pop() {
                    Some(previous) if self.scripts().step(&previous).is_some() => {
                        self.show(previous)
                    }
                    _ => self.show(StepRef::menu()),
                }
            }
        }
    }

    /// Records a success in the facts and names its outcome.
    pub(super) fn apply(&mut self, success: Success) -> OutcomeKey {
        let facts = &mut self.session.facts;
        match success {
            Success::Invite(invite) => {
                let key = match &invite {
                    Invite::Class { .. } => OutcomeKey::Class,
                    Invite::Parent { .. } => OutcomeKey::Parent,
                    Invite::Teacher { teacher_id, .. } => {
                        self.after.push(FollowUp::TeacherBound {
                            teacher_id: teacher_id.clone(),
                        });
                        OutcomeKey::Teacher
                    }
                };
                facts.invite = Some(invite);
                key
            }
            Success::Verification(v) => {
                // The resend button may appear then: the person hears of it, not only on
                // seeing the step again.
                self.after.push(FollowUp::Schedule {
                    event: RuntimeEvent::ResendReady.name().to_owned(),
                    due: v.resend_after,
                });
                let facts = &mut self.session.facts;
                facts.verification = Some(v);
                facts.verified = false;
                OutcomeKey::Ok
            }
            Success::Verified => {
                facts.verified = true;
                OutcomeKey::Ok
            }
            Success::Application(a) => {
                self.after.push(FollowUp::ApplicationSubmitted {
                    application_id: a.application_id.clone(),
                    teacher_id: a.teacher_id.clone(),
                    class: a.class.clone(),
                    child_name: facts
                        .child_name
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                });
                facts.application = Some(a);
                OutcomeKey::Ok
            }
            Success::ApplicationState(state) => {
                if let Some(app) = facts.application.as_mut() {
                    app.status = state.status;
                }
                match state.status {
                    ApplicationStatus::Approved => OutcomeKey::Approved,
                    ApplicationStatus::Pending => OutcomeKey::Pending,
                    ApplicationStatus::Rejected => OutcomeKey::Rejected,
                }
            }
            Success::ParentInvite(invite) => {
                self.after.push(FollowUp::ParentInviteIssued {
                    token: invite.token.as_str().to_owned(),
                });
                self.session.facts.parent_invite = Some(invite);
                OutcomeKey::Ok
            }
            Success::ParentLink(link) => {
                facts.parent_link = Some(link);
                OutcomeKey::Ok
            }
            Success::LinkStatus(LinkStatus::Linked) => {
                let facts = &self.session.facts;
                if let (Some(token), Some(phone)) = (&facts.invite_token, &facts.parent_phone) {
                    self.after.push(FollowUp::ParentLinked {
                        token: token.as_str().to_owned(),
                        phone: phone.masked(),
                    });
                }
                OutcomeKey::Linked
            }
            Success::LinkStatus(LinkStatus::Cancelled) => OutcomeKey::Cancelled,
        }
    }

    pub(super) fn call(&mut self, op: Operation) {
        match build_request(op, &self.session.facts) {
            // One call per turn: a step that calls ends the turn until the answer comes.
            Some(request) if self.call.is_none() => {
                self.session.awaiting = Some(Awaiting {
                    op,
                    step: self.session.at.clone(),
                });
                self.call = Some(request);
            }
            Some(_) => self.internal_error(),
            None => self.internal_error(),
        }
    }

    pub(super) fn internal_error(&mut self) {
        self.say_plain(Msg::ErrorInternal.id());
        self.show(StepRef::menu());
    }
}

fn rejection_args(rejection: &Rejection) -> Args {
    let mut args = Args::new();
    match rejection {
        Rejection::TooManyRequests { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            args.insert("minutes".into(), Arg::Num(minutes as i64));
        }
        Rejection::TooEarly { retry_after_secs } => {
            args.insert(
                "seconds".into(),
                Arg::Num((*retry_after_secs).max(1) as i64),
            );
        }
        Rejection::WrongCode { attempts_left } => {
            args.insert("attempts_left".into(), Arg::Num(i64::from(*attempts_left)));
        }
        _ => {}
    }
    args
}

/// The request for `op`, built from what the conversation knows; `None` if something is missing
/// (impossible for checked scripts, but a session may come from an older version).
fn build_request(op: Operation, facts: &Facts) -> Option<Request> {
    let verification_id = || {
        facts
            .verification
            .as_ref()
            .map(|v| v.verification_id.clone())
    };
    let application_id = || facts.application.as_ref().map(|a| a.application_id.clone());
    let link_id = || facts.parent_link.as_ref().map(|l| l.link_id.clone());
    Some(match op {
        Operation::ResolveInvite => Request::ResolveInvite(facts.invite_token.clone()?),
        Operation::SendChildCode => Request::StartVerification {
            address: Address::from(facts.contact.clone()?),
            purpose: Purpose::StudentRegistration,
        },
        Operation::SendParentCode => Request::StartVerification {
            address: Address::Phone(facts.parent_phone.clone()?),
            purpose: Purpose::ParentLink,
        },
        Operation::ResendCode => Request::ResendCode {
            verification_id: verification_id()?,
        },
        Operation::CheckCode => Request::CheckCode {
            verification_id: verification_id()?,
            code: facts.code.clone()?,
        },
        Operation::SubmitApplication => Request::SubmitApplication {
            invite: facts.invite_token.clone()?,
            verification_id: verification_id()?,
            child: facts.child_name.clone()?,
        },
        Operation::CheckApplication => Request::ApplicationState {
            application_id: application_id()?,
        },
        Operation::CreateParentInvite => Request::CreateParentInvite {
            application_id: application_id()?,
        },
        Operation::CreateParentLink => Request::CreateParentLink {
            invite: facts.invite_token.clone()?,
            verification_id: verification_id()?,
        },
        Operation::ConfirmParentLink => Request::ConfirmParentLink {
            link_id: link_id()?,
            confirmed: true,
        },
        Operation::CancelParentLink => Request::ConfirmParentLink {
            link_id: link_id()?,
            confirmed: false,
        },
    })
}
