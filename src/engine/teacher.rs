//! The teacher's side of a conversation: choosing a class for an invitation and the buttons of
//! application messages (approve, reject with a reason). The engine only checks that the chat
//! belongs to a teacher and asks the runtime's desk to carry the request out.

use super::*;
use crate::script::Msg;

impl TurnInProgress<'_> {
    /// `/invite` (an invitation for the teacher's class, choosing it when there are several)
    /// and `/pending`; anyone else is told these are for teachers.
    pub(super) fn teacher_command(&mut self, command: Command) {
        let Some((teacher_id, class_ids)) = self.session.facts.teacher() else {
            self.say_plain(Msg::TeacherOnly.id());
            return self.reshow();
        };
        let teacher_id = teacher_id.to_owned();
        match command {
            Command::Unbind => {
                self.after
                    .push(FollowUp::Desk(DeskRequest::Unbind { teacher_id }));
                self.session.facts.invite = None;
                self.say_plain(Msg::UnbindDone.id());
                self.show(StepRef::menu());
            }
            Command::Invite if class_ids.len() == 1 => {
                self.after.push(FollowUp::Desk(DeskRequest::CreateInvite {
                    teacher_id,
                    class_id: class_ids[0].clone(),
                }))
            }
            Command::Invite => self.offer_classes(),
            _ => self
                .after
                .push(FollowUp::Desk(DeskRequest::ListPending { teacher_id })),
        }
    }

    /// One button per class of the teacher, to create an invitation; a class typed by its name
    /// («5А») is understood like the button.
    pub(super) fn offer_classes(&mut self) {
        let buttons = match &self.session.facts.invite {
            Some(Invite::Teacher { classes, .. }) => classes
                .iter()
                .map(|c| {
                    (
                        Msg::BtnClass.id().to_owned(),
                        Action::InviteClass(c.class_id.clone()),
                    )
                })
                .collect(),
            _ => return,
        };
        self.say_offering(Msg::TeacherChooseClass.id(), Args::new(), None, buttons);
    }

    /// An invitation for `class_id`, if it is one of this teacher's classes.
    pub(super) fn invite_class(&mut self, class_id: String) {
        match self.session.facts.teacher() {
            Some((teacher_id, class_ids)) if class_ids.contains(&class_id) => {
                let teacher_id = teacher_id.to_owned();
                self.after.push(FollowUp::Desk(DeskRequest::CreateInvite {
                    teacher_id,
                    class_id,
                }));
            }
            _ => self.say_plain(Msg::DecisionNotAllowed.id()),
        }
    }

    pub(super) fn on_desk(&mut self, action: DeskAction) {
        let Some(teacher_id) = self.session.facts.teacher().map(|(t, _)| t.to_owned()) else {
            self.say_plain(Msg::DecisionNotAllowed.id());
            return self.reshow();
        };
        let decide = |application_id: String, decision: Decision| {
            FollowUp::Desk(DeskRequest::Decide {
                teacher_id: teacher_id.clone(),
                application_id,
                decision,
            })
        };
        match action {
            DeskAction::Decide {
                application_id,
                approve: true,
            } => self.after.push(decide(application_id, Decision::Approve)),
            DeskAction::Decide {
                application_id,
                approve: false,
            } => {
                let reason = |choice: Option<usize>, label: String| ButtonView {
                    label,
                    label_args: Args::new(),
                    target: ButtonTarget::Desk(DeskAction::Reason {
                        application_id: application_id.clone(),
                        choice,
                    }),
                };
                let mut buttons: Vec<ButtonView> = (0..REJECTION_REASONS)
                    .map(|n| reason(Some(n), format!("reject-reason-{n}")))
                    .collect();
                buttons.push(reason(None, Msg::RejectReasonOther.id().to_owned()));
                self.say(Msg::RejectReasonChoose.id(), Args::new(), None, buttons);
            }
            DeskAction::Reason {
                application_id,
                choice: Some(n),
            } if n < REJECTION_REASONS => {
                // The school reads reasons in Russian, whatever the teacher's language.
                let reason = self
                    .engine
                    .locales
                    .format(DEFAULT_LANG, &format!("reject-reason-{n}"), &Args::new())
                    .ok();
                self.after
                    .push(decide(application_id, Decision::Reject { reason }));
            }
            DeskAction::Reason {
                application_id,
                choice: _,
            } => {
                self.session.awaiting_reason = Some(application_id);
                self.say_plain(Msg::RejectReasonType.id());
            }
            // A class button of a message sent before classes were an offer.
            DeskAction::InviteClass { class_id } => self.invite_class(class_id),
            DeskAction::AllowChat { chat, allow } => {
                self.after.push(FollowUp::Desk(DeskRequest::AllowChat {
                    teacher_id,
                    chat,
                    allow,
                }))
            }
        }
    }

    pub(super) fn on_desk_reason(&mut self, application_id: String, reason: String) {
        match self.session.facts.teacher() {
            Some((teacher_id, _)) => self.after.push(FollowUp::Desk(DeskRequest::Decide {
                teacher_id: teacher_id.to_owned(),
                application_id,
                decision: Decision::Reject {
                    reason: Some(reason),
                },
            })),
            None => self.reshow(),
        }
    }
}
