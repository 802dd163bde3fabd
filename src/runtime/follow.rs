//! What follows a committed turn beyond the conversation: reminders scheduled, a teacher bound
//! (or a second chat refused and its teacher asked), an application followed for its teacher, a
//! parent invitation remembered and a linked parent announced to the child, and `/forget`
//! outside the session.

use super::*;
use crate::script::Msg;

impl Bot {
    /// Carries out what a turn set in motion beyond the conversation, and says what the person
    /// must know of it. A failure here is logged and does not undo the user's progress:
    /// teachers still find the application in /pending, and the pending check notices
    /// decisions.
    pub(super) async fn follow_up(
        &self,
        chat: ChatId,
        lang: &str,
        follow: FollowUp,
    ) -> Option<Reply> {
        let now = self.clock.now();
        let result = match follow {
            FollowUp::Schedule { event, due } => {
                let notice = Notice {
                    id: format!("event:{chat}:{event}"),
                    chat,
                    kind: NoticeKind::Event { event },
                };
                self.outbox
                    .schedule(&notice, due, IfScheduled::Replace)
                    .await
                    .map(drop)
            }
            FollowUp::TeacherBound { teacher_id } => {
                match self.directory.bind_teacher(&teacher_id, chat).await {
                    Ok(Binding::Bound) => {
                        tracing::info!(chat, teacher = %teacher_id, "a teacher bound this chat");
                        Ok(())
                    }
                    Ok(Binding::Taken { by }) => return self.refuse_binding(chat, lang, by).await,
                    Err(error) => Err(error),
                }
            }
            FollowUp::ApplicationSubmitted {
                application_id,
                teacher_id,
                class,
                child_name,
            } => {
                self.follow_application(TrackedApplication {
                    application_id,
                    student_chat: chat,
                    teacher_id,
                    class,
                    child_name,
                    submitted_at: now,
                })
                .await
            }
            FollowUp::ParentInviteIssued { token } => {
                self.directory.issued_from(&token, chat).await
            }
            FollowUp::ParentLinked { token, phone } => {
                self.tell_child_of_parent(&token, &phone).await
            }
            FollowUp::Forget | FollowUp::Desk(_) => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(chat, %error, "a follow-up of the turn failed");
        }
        None
    }

    /// A parent linked with the invitation `token`: the child's chat (if the bot issued the
    /// invitation there) hears which phone, masked, and what to do if it was not their parent.
    pub(super) async fn tell_child_of_parent(
        &self,
        token: &str,
        phone: &str,
    ) -> Result<(), StoreError> {
        let Some(child) = self.directory.issuer_of(token).await? else {
            return Ok(());
        };
        let lang = self.language_of(child).await;
        let mut args = Args::new();
        args.insert("phone".into(), phone.into());
        let reply = Reply::text(self.text(&lang, Msg::ParentLinkedToChild.id(), &args));
        self.tell_now(child, format!("parent-linked:{token}"), vec![reply])
            .await
    }

    /// A teacher's link opened in a second chat: that chat is not bound (it gets nothing of the
    /// class until the bound chat connects it) and is told so; the bound chat is asked at once
    /// «Подключить ещё один чат к вашему классу?».
    pub(super) async fn refuse_binding(
        &self,
        chat: ChatId,
        lang: &str,
        bound: ChatId,
    ) -> Option<Reply> {
        tracing::warn!(
            event = "binding_refused",
            "a teacher link was opened in a second chat"
        );
        let bound_lang = self.language_of(bound).await;
        let button = |label: &str, allow: bool| ReplyButton {
            label: self.text(&bound_lang, label, &Args::new()),
            action: ButtonTarget::Desk(crate::engine::DeskAction::AllowChat { chat, allow }),
        };
        let question = Reply {
            buttons: vec![
                button(Msg::TeacherChatBtnAllow.id(), true),
                button(Msg::TeacherChatBtnRefuse.id(), false),
            ],
            ..Reply::text(self.text(
                &bound_lang,
                Msg::TeacherLinkUsedElsewhere.id(),
                &Args::new(),
            ))
        };
        let id = format!("link-used-elsewhere:{bound}:{chat}");
        if let Err(error) = self.tell_now(bound, id, vec![question]).await {
            tracing::error!(%error, "the bound teacher could not be asked");
        }
        Some(Reply::text(self.text(
            lang,
            Msg::TeacherLinkTaken.id(),
            &Args::new(),
        )))
    }

    /// Follows a new application: its teacher hears of it (after the quiet hours), and is
    /// nudged once if it is still pending after two working days.
    pub(super) async fn follow_application(
        &self,
        application: TrackedApplication,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let school = self.engine.school();
        self.directory.track(&application).await?;
        let id = &application.application_id;
        let notice = Notice {
            id: format!("new-application:{id}"),
            chat: application.student_chat,
            kind: NoticeKind::NewApplication {
                application_id: id.clone(),
            },
        };
        self.outbox
            .schedule(&notice, school.outside_quiet_hours(now), IfScheduled::Keep)
            .await?;
        let day = school.add_working_days(school.today(now), NUDGE_AFTER_WORKING_DAYS);
        let nudge_at = school.at_time(day, now.with_timezone(&school.zone).time());
        let nudge = Notice {
            id: format!("still-pending:{id}"),
            chat: application.student_chat,
            kind: NoticeKind::StillPending {
                application_id: id.clone(),
            },
        };
        self.outbox
            .schedule(
                &nudge,
                school.outside_quiet_hours(nudge_at),
                IfScheduled::Keep,
            )
            .await
            .map(drop)
    }

    /// `/forget` beyond the session: the teacher binding, followed applications, and every
    /// notice and reminder of the chat.
    pub(super) async fn forget_elsewhere(&self, chat: ChatId) -> Result<(), StoreError> {
        self.directory.forget_chat(chat).await?;
        self.limits.forget_chat(chat).await?;
        self.outbox.forget_chat(chat).await.map(drop)
    }
}
