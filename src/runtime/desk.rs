//! The teacher's desk: what a teacher asks for beyond the conversation (a class invitation,
//! the pending list, a decision), carried out against the registration service and told back.
//! The engine has already checked that the chat belongs to a teacher; here a decision is also
//! checked against the application's own teacher, and every refusal is logged.

use crate::directory::TrackedApplication;
use crate::engine::{ButtonView, DeskAction, DeskRequest, Say};
use crate::i18n::{Arg, Args};
use crate::notify::{IfScheduled, Notice, NoticeKind};
use crate::service::{ApplicationStatus, Decision, OpKey, Rejection, RejectionCode, ServiceError};
use crate::store::ChatKey;

use super::{Assistant, RuntimeError};
use crate::script::vocab::RuntimeEvent;
use crate::script::Msg;

impl Assistant {
    /// Carries out a teacher's request and says how it went. Only the chat bound to the
    /// teacher may act for them: a chat that opened a forwarded teacher link gets nothing.
    pub async fn carry_out(&self, chat: ChatKey, request: DeskRequest) -> Vec<Say> {
        let teacher_id = match &request {
            DeskRequest::CreateInvite { teacher_id, .. }
            | DeskRequest::ListPending { teacher_id }
            | DeskRequest::Decide { teacher_id, .. }
            | DeskRequest::AllowChat { teacher_id, .. }
            | DeskRequest::Unbind { teacher_id } => teacher_id,
        };
        match self.directory.serves(teacher_id, chat).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(
                    event = "desk_refused",
                    "a teacher's request from a chat not bound to them"
                );
                return vec![Say::plain(Msg::TeacherLinkTaken)];
            }
            Err(error) => {
                tracing::warn!(%error, "the directory cannot be read");
                return vec![Say::plain(Msg::DeskFailed)];
            }
        }
        match request {
            DeskRequest::CreateInvite {
                teacher_id,
                class_id,
            } => vec![self.create_invite(chat, &teacher_id, &class_id).await],
            DeskRequest::ListPending { teacher_id } => self.list_pending(&teacher_id).await,
            DeskRequest::Decide {
                teacher_id,
                application_id,
                decision,
            } => vec![
                self.decide(chat, &teacher_id, &application_id, decision)
                    .await,
            ],
            DeskRequest::AllowChat {
                teacher_id,
                chat: other,
                allow,
            } => vec![self.allow_chat(&teacher_id, other, allow).await],
            DeskRequest::Unbind { teacher_id } => {
                if let Err(error) = self.directory.unbind(&teacher_id, chat).await {
                    tracing::warn!(%error, "a chat could not be unbound");
                }
                Vec::new()
            }
        }
    }

    /// The bound chat's answer to «Подключить ещё один чат?»: the other chat is told either way.
    async fn allow_chat(&self, teacher_id: &str, other: ChatKey, allow: bool) -> Say {
        if allow {
            if let Err(error) = self.directory.allow_chat(teacher_id, other).await {
                tracing::warn!(%error, "a chat could not be connected");
                return Say::plain(Msg::DeskFailed);
            }
        }
        tracing::info!(
            event = "binding_decided",
            allow,
            "the bound chat answered for another"
        );
        let (told, answer) = if allow {
            (Msg::TeacherChatAllowed, Msg::TeacherChatAllowDone)
        } else {
            (Msg::TeacherChatRefused, Msg::TeacherChatRefuseDone)
        };
        let id = format!("chat-decided:{teacher_id}:{other}:{allow}");
        if let Err(error) = self.tell_now(other, id, vec![Say::plain(told)]).await {
            tracing::warn!(%error, "the other chat could not be told");
        }
        Say::plain(answer)
    }

    /// Sends `says` to `chat` in its language through the outbox, now and once (`id` names the
    /// occasion): a message to someone other than the person whose turn it is.
    pub(crate) async fn tell_now(
        &self,
        chat: ChatKey,
        id: String,
        says: Vec<Say>,
    ) -> Result<(), RuntimeError> {
        let lang = self.language_of(chat).await;
        let replies = self.render_all(&lang, &says)?;
        let notice = Notice {
            id,
            chat,
            kind: NoticeKind::Replies { replies },
        };
        self.outbox
            .schedule(&notice, self.clock.now(), IfScheduled::Keep)
            .await?;
        Ok(())
    }

    /// The language `chat` speaks (its session's), else the default.
    pub(crate) async fn language_of(&self, chat: ChatKey) -> String {
        match self.store.language(chat).await {
            Ok(Some(lang)) => lang,
            _ => crate::i18n::DEFAULT_LANG.to_owned(),
        }
    }

    /// A class invitation for the teacher in `chat`: its link opens the messenger they are in,
    /// where their class's chats most likely are.
    async fn create_invite(&self, chat: ChatKey, teacher_id: &str, class_id: &str) -> Say {
        let call = self
            .service
            .create_class_invite(OpKey::random(), class_id, teacher_id);
        match self.metered("create_class_invite", call).await {
            Ok(invite) => {
                let link = format!(
                    "{}{}",
                    self.engine.deep_link_base(chat.channel),
                    invite.token.as_str()
                );
                let mut args = Args::new();
                args.insert("invite_link".into(), link.clone().into());
                args.insert(
                    "expires".into(),
                    invite
                        .expires_at
                        .with_timezone(&self.engine.school().zone)
                        .format("%d.%m.%Y")
                        .to_string()
                        .into(),
                );
                Say::new(Msg::TeacherInviteLink.id(), args).with_qr(link)
            }
            Err(error) => self.desk_error(&error),
        }
    }

    async fn list_pending(&self, teacher_id: &str) -> Vec<Say> {
        let call = self.service.pending_applications(teacher_id);
        match self.metered("pending_applications", call).await {
            Ok(pending) if pending.is_empty() => vec![Say::plain(Msg::PendingNone)],
            Ok(pending) => {
                let mut args = Args::new();
                args.insert("count".into(), Arg::Num(pending.len() as i64));
                let mut says = vec![Say::new(Msg::PendingCount.id(), args)];
                says.extend(pending.iter().map(|p| {
                    application_card(Msg::PendingItem, &p.application_id, &p.child_name, &p.class)
                }));
                says
            }
            Err(error) => vec![self.desk_error(&error)],
        }
    }

    async fn decide(
        &self,
        chat: ChatKey,
        teacher_id: &str,
        application_id: &str,
        decision: Decision,
    ) -> Say {
        let tracked = match self.directory.tracked(application_id).await {
            Ok(tracked) => tracked,
            Err(error) => return self.desk_error(&ServiceError::Unavailable(error.to_string())),
        };
        if let Some(app) = &tracked {
            if app.teacher_id != teacher_id {
                tracing::warn!(
                    chat = %chat,
                    application = application_id,
                    "decision refused: this chat's teacher is not the application's teacher"
                );
                return Say::plain(Msg::DecisionNotAllowed);
            }
        }
        let mut args = Args::new();
        args.insert(
            "child_name".into(),
            tracked
                .as_ref()
                .map(|a| a.child_name.clone())
                .unwrap_or_default()
                .into(),
        );
        let call = self
            .service
            .decide(OpKey::random(), application_id, teacher_id, &decision);
        match self.metered("decide", call).await {
            Ok(status) => {
                tracing::info!(chat = %chat, application = application_id, ?status, "decision made");
                self.tell_student(tracked.as_ref()).await;
                let message = match status {
                    ApplicationStatus::Approved => Msg::DecisionApproved,
                    _ => Msg::DecisionRejected,
                };
                Say::new(message.id(), args)
            }
            Err(ServiceError::Rejected(Rejection::AlreadyDecided { .. })) => {
                tracing::warn!(
                    chat = %chat,
                    application = application_id,
                    "decision refused: already decided"
                );
                self.tell_student(tracked.as_ref()).await;
                Say::new(Msg::DecisionAlready.id(), args)
            }
            Err(ServiceError::Rejected(Rejection::NotClassTeacher)) => {
                tracing::warn!(
                    chat = %chat,
                    application = application_id,
                    "decision refused by the service: not the class teacher"
                );
                Say::plain(Msg::DecisionNotAllowed)
            }
            Err(error) => self.desk_error(&error),
        }
    }

    /// The application is decided: stop following it and let the student's conversation
    /// show the outcome and the next step.
    pub(crate) async fn tell_student(&self, tracked: Option<&TrackedApplication>) {
        let Some(app) = tracked else {
            return;
        };
        let notice = Notice {
            id: format!("decided:{}", app.application_id),
            chat: app.student_chat,
            kind: NoticeKind::Event {
                event: RuntimeEvent::ApplicationDecided.about(&app.application_id),
            },
        };
        let now = self.clock.now();
        let told = self.outbox.schedule(&notice, now, IfScheduled::Keep).await;
        let forgotten = self.directory.untrack(&app.application_id).await;
        if let Err(error) = told.map(drop).and(forgotten) {
            tracing::error!(application = %app.application_id, %error, "could not tell the student");
        }
    }

    fn desk_error(&self, error: &ServiceError) -> Say {
        let message = match error {
            ServiceError::Rejected(Rejection::NotClassTeacher) => Msg::DecisionNotAllowed.id(),
            ServiceError::Rejected(Rejection::ApplicationNotFound) => {
                RejectionCode::ApplicationNotFound.message()
            }
            ServiceError::Rejected(_) | ServiceError::Protocol(_) => Msg::DeskFailed.id(),
            ServiceError::Unavailable(_) => Msg::ErrorServiceUnavailable.id(),
        };
        tracing::warn!(%error, "a teacher's request failed");
        Say::new(message, Args::new())
    }
}

/// A message about one application with the buttons Одобрить / Отклонить.
pub fn application_card(message: Msg, application_id: &str, child_name: &str, class: &str) -> Say {
    let mut args = Args::new();
    args.insert("child_name".into(), child_name.into());
    args.insert("class".into(), class.into());
    let button = |label: Msg, approve: bool| {
        ButtonView::desk(
            label,
            DeskAction::Decide {
                application_id: application_id.to_owned(),
                approve,
            },
        )
    };
    Say::new(message.id(), args).with_buttons(vec![
        button(Msg::BtnApprove, true),
        button(Msg::BtnReject, false),
    ])
}
