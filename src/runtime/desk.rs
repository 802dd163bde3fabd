//! The teacher's desk: what a teacher asks for beyond the conversation (a class invitation,
//! the pending list, a decision), carried out against the registration service and told back.
//! The engine has already checked that the chat belongs to a teacher; here a decision is also
//! checked against the application's own teacher, and every refusal is logged.

use crate::directory::TrackedApplication;
use crate::engine::{ButtonTarget, DeskAction, DeskRequest};
use crate::i18n::{Arg, Args};
use crate::notify::{IfScheduled, Notice, NoticeKind};
use crate::service::{ApplicationStatus, Decision, OpKey, Rejection, ServiceError};
use crate::store::ChatId;

use super::{Bot, Reply, ReplyButton};
use crate::script::vocab::RuntimeEvent;
use crate::script::Msg;

impl Bot {
    /// Carries out a teacher's request and says how it went. Only the chat bound to the
    /// teacher may act for them: a chat that opened a forwarded teacher link gets nothing.
    pub async fn carry_out(&self, chat: ChatId, lang: &str, request: DeskRequest) -> Vec<Reply> {
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
                return vec![Reply::text(self.text(
                    lang,
                    Msg::TeacherLinkTaken.id(),
                    &Args::new(),
                ))];
            }
            Err(error) => {
                tracing::warn!(%error, "the directory cannot be read");
                return vec![Reply::text(self.text(
                    lang,
                    Msg::DeskFailed.id(),
                    &Args::new(),
                ))];
            }
        }
        match request {
            DeskRequest::CreateInvite {
                teacher_id,
                class_id,
            } => vec![self.create_invite(lang, &teacher_id, &class_id).await],
            DeskRequest::ListPending { teacher_id } => self.list_pending(lang, &teacher_id).await,
            DeskRequest::Decide {
                teacher_id,
                application_id,
                decision,
            } => vec![
                self.decide(chat, lang, &teacher_id, &application_id, decision)
                    .await,
            ],
            DeskRequest::AllowChat {
                teacher_id,
                chat: other,
                allow,
            } => vec![self.allow_chat(lang, &teacher_id, other, allow).await],
            DeskRequest::Unbind { teacher_id } => {
                if let Err(error) = self.directory.unbind(&teacher_id, chat).await {
                    tracing::warn!(%error, "a chat could not be unbound");
                }
                Vec::new()
            }
        }
    }

    /// The bound chat's answer to «Подключить ещё один чат?»: the other chat is told either way.
    async fn allow_chat(&self, lang: &str, teacher_id: &str, other: ChatId, allow: bool) -> Reply {
        if allow {
            if let Err(error) = self.directory.allow_chat(teacher_id, other).await {
                tracing::warn!(%error, "a chat could not be connected");
                return Reply::text(self.text(lang, Msg::DeskFailed.id(), &Args::new()));
            }
        }
        tracing::info!(
            event = "binding_decided",
            allow,
            "the bound chat answered for another"
        );
        let (told, answer) = if allow {
            (Msg::TeacherChatAllowed.id(), Msg::TeacherChatAllowDone.id())
        } else {
            (
                Msg::TeacherChatRefused.id(),
                Msg::TeacherChatRefuseDone.id(),
            )
        };
        let other_lang = self.language_of(other).await;
        let reply = Reply::text(self.text(&other_lang, told, &Args::new()));
        let id = format!("chat-decided:{teacher_id}:{other}:{allow}");
        if let Err(error) = self.tell_now(other, id, vec![reply]).await {
            tracing::warn!(%error, "the other chat could not be told");
        }
        Reply::text(self.text(lang, answer, &Args::new()))
    }

    /// Sends `replies` to `chat` through the outbox, now and once (`id` names the occasion): a
    /// message to someone other than the person whose turn it is.
    pub(crate) async fn tell_now(
        &self,
        chat: ChatId,
        id: String,
        replies: Vec<Reply>,
    ) -> Result<(), crate::store::StoreError> {
        let notice = Notice {
            id,
            chat,
            kind: NoticeKind::Replies { replies },
        };
        self.outbox
            .schedule(&notice, self.clock.now(), IfScheduled::Keep)
            .await
            .map(drop)
    }

    /// The language `chat` speaks (its session's), else the default.
    pub(crate) async fn language_of(&self, chat: ChatId) -> String {
        match self.store.load(chat).await {
            Ok(Some(loaded)) => loaded.session.map(|s| s.lang),
            _ => None,
        }
        .unwrap_or_else(|| crate::i18n::DEFAULT_LANG.to_owned())
    }

    async fn create_invite(&self, lang: &str, teacher_id: &str, class_id: &str) -> Reply {
        match self
            .service
            .create_class_invite(OpKey::random(), class_id, teacher_id)
            .await
        {
            Ok(invite) => {
                let link = format!("{}{}", self.engine.deep_link_base(), invite.token.as_str());
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
                Reply {
                    text: self.text(lang, Msg::TeacherInviteLink.id(), &args),
                    buttons: Vec::new(),
                    qr: Some(link),
                    share_contact: None,
                }
            }
            Err(error) => self.desk_error(lang, &error),
        }
    }

    async fn list_pending(&self, lang: &str, teacher_id: &str) -> Vec<Reply> {
        match self.service.pending_applications(teacher_id).await {
            Ok(pending) if pending.is_empty() => {
                vec![Reply::text(self.text(
                    lang,
                    Msg::PendingNone.id(),
                    &Args::new(),
                ))]
            }
            Ok(pending) => {
                let mut args = Args::new();
                args.insert("count".into(), Arg::Num(pending.len() as i64));
                let mut replies = vec![Reply::text(self.text(lang, Msg::PendingCount.id(), &args))];
                replies.extend(pending.iter().map(|p| {
                    self.application_card(
                        lang,
                        Msg::PendingItem.id(),
                        &p.application_id,
                        &p.child_name,
                        &p.class,
                    )
                }));
                replies
            }
            Err(error) => vec![self.desk_error(lang, &error)],
        }
    }

    /// A message about one application with the buttons Одобрить / Отклонить.
    pub fn application_card(
        &self,
        lang: &str,
        message: &str,
        application_id: &str,
        child_name: &str,
        class: &str,
    ) -> Reply {
        let mut args = Args::new();
        args.insert("child_name".into(), child_name.into());
        args.insert("class".into(), class.into());
        let button = |label: &str, approve: bool| ReplyButton {
            label: self.text(lang, label, &Args::new()),
            action: ButtonTarget::Desk(DeskAction::Decide {
                application_id: application_id.to_owned(),
                approve,
            }),
        };
        Reply {
            text: self.text(lang, message, &args),
            buttons: vec![
                button(Msg::BtnApprove.id(), true),
                button(Msg::BtnReject.id(), false),
            ],
            qr: None,
            share_contact: None,
        }
    }

    async fn decide(
        &self,
        chat: ChatId,
        lang: &str,
        teacher_id: &str,
        application_id: &str,
        decision: Decision,
    ) -> Reply {
        let tracked = match self.directory.tracked(application_id).await {
            Ok(tracked) => tracked,
            Err(error) => {
                return self.desk_error(lang, &ServiceError::Unavailable(error.to_string()))
            }
        };
        if let Some(app) = &tracked {
            if app.teacher_id != teacher_id {
                tracing::warn!(
                    chat,
                    application = application_id,
                    "decision refused: this chat's teacher is not the application's teacher"
                );
                return Reply::text(self.text(lang, Msg::DecisionNotAllowed.id(), &Args::new()));
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
        match self
            .service
            .decide(OpKey::random(), application_id, teacher_id, &decision)
            .await
        {
            Ok(status) => {
                tracing::info!(chat, application = application_id, ?status, "decision made");
                self.tell_student(tracked.as_ref()).await;
                let message = match status {
                    ApplicationStatus::Approved => Msg::DecisionApproved.id(),
                    _ => Msg::DecisionRejected.id(),
                };
                Reply::text(self.text(lang, message, &args))
            }
            Err(ServiceError::Rejected(Rejection::AlreadyDecided { .. })) => {
                tracing::warn!(
                    chat,
                    application = application_id,
                    "decision refused: already decided"
                );
                self.tell_student(tracked.as_ref()).await;
                Reply::text(self.text(lang, Msg::DecisionAlready.id(), &args))
            }
            Err(ServiceError::Rejected(Rejection::NotClassTeacher)) => {
                tracing::warn!(
                    chat,
                    application = application_id,
                    "decision refused by the service: not the class teacher"
                );
                Reply::text(self.text(lang, Msg::DecisionNotAllowed.id(), &Args::new()))
            }
            Err(error) => self.desk_error(lang, &error),
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

    fn desk_error(&self, lang: &str, error: &ServiceError) -> Reply {
        let message = match error {
            ServiceError::Rejected(Rejection::NotClassTeacher) => Msg::DecisionNotAllowed.id(),
            ServiceError::Rejected(Rejection::ApplicationNotFound) => "error-application-not-found",
            ServiceError::Rejected(_) | ServiceError::Protocol(_) => Msg::DeskFailed.id(),
            ServiceError::Unavailable(_) => Msg::ErrorServiceUnavailable.id(),
        };
        tracing::warn!(%error, "a teacher's request failed");
        Reply::text(self.text(lang, message, &Args::new()))
    }
}
