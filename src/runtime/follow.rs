//! What follows a committed turn beyond the conversation: reminders scheduled, a teacher bound
//! (or a second chat refused and its teacher asked), an application followed for its teacher, a
//! parent invitation remembered and a linked parent announced to the child, and `/forget`
//! outside the session.

use super::*;
use crate::engine::ButtonView;
use crate::script::Msg;

impl Assistant {
    /// Carries out what a turn set in motion beyond the conversation, and says what the person
    /// must know of it. A failure here is logged and does not undo the user's progress:
    /// teachers still find the application in /pending, and the pending check notices
    /// decisions.
    pub(super) async fn follow_up(&self, chat: ChatKey, follow: FollowUp) -> Option<Say> {
        let now = self.clock.now();
        let result = match follow {
            FollowUp::TeacherBound { teacher_id } => {
                match self.directory.bind_teacher(&teacher_id, chat).await {
                    Ok(Binding::Bound) => {
                        tracing::info!(chat = %chat, teacher = %teacher_id, "a teacher bound this chat");
                        Ok(())
                    }
                    Ok(Binding::Taken { by }) => return Some(self.refuse_binding(chat, by).await),
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
                if let Err(error) = self.tell_child_of_parent(&token, &phone).await {
                    tracing::error!(chat = %chat, %error, "the child could not be told of the parent");
                }
                Ok(())
            }
            // Committed with the turn, or carried out by the runtime itself.
            FollowUp::Forget | FollowUp::Desk(_) | FollowUp::Schedule { .. } => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(chat = %chat, %error, "a follow-up of the turn failed");
        }
        None
    }

    /// A parent linked with the invitation `token`: the child's chat (if the bot issued the
    /// invitation there) hears which phone, masked, and what to do if it was not their parent.
    pub(super) async fn tell_child_of_parent(
        &self,
        token: &str,
        phone: &str,
    ) -> Result<(), RuntimeError> {
        let Some(child) = self.directory.issuer_of(token).await? else {
            return Ok(());
        };
        let mut args = Args::new();
        args.insert("phone".into(), phone.into());
        let said = Say::new(Msg::ParentLinkedToChild.id(), args);
        self.tell_now(child, format!("parent-linked:{token}"), vec![said])
            .await
    }

    /// A teacher's link opened in a second chat: that chat is not bound (it gets nothing of the
    /// class until the bound chat connects it) and is told so; the bound chat is asked at once
    /// «Подключить ещё один чат к вашему классу?».
    pub(super) async fn refuse_binding(&self, chat: ChatKey, bound: ChatKey) -> Say {
        tracing::warn!(
            event = "binding_refused",
            "a teacher link was opened in a second chat"
        );
        let button = |label: Msg, allow: bool| {
            ButtonView::desk(label, crate::engine::DeskAction::AllowChat { chat, allow })
        };
        let question = Say::plain(Msg::TeacherLinkUsedElsewhere).with_buttons(vec![
            button(Msg::TeacherChatBtnAllow, true),
            button(Msg::TeacherChatBtnRefuse, false),
        ]);
        let id = format!("link-used-elsewhere:{bound}:{chat}");
        if let Err(error) = self.tell_now(bound, id, vec![question]).await {
            tracing::error!(%error, "the bound teacher could not be asked");
        }
        Say::plain(Msg::TeacherLinkTaken)
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
        let chat = application.student_chat;
        let told = Notice {
            id: format!("new-application:{id}"),
            chat,
            kind: NoticeKind::NewApplication {
                application_id: id.clone(),
            },
        };
        let day = school.add_working_days(school.today(now), NUDGE_AFTER_WORKING_DAYS);
        let nudge_at = school.at_time(day, now.with_timezone(&school.zone).time());
        let nudged = Notice {
            id: format!("still-pending:{id}"),
            chat,
            kind: NoticeKind::StillPending {
                application_id: id.clone(),
            },
        };
        for (notice, at) in [(told, now), (nudged, nudge_at)] {
            self.outbox
                .schedule(&notice, school.outside_quiet_hours(at), IfScheduled::Keep)
                .await?;
        }
        Ok(())
    }

    /// `/forget` beyond the session: the teacher binding, followed applications, and every
    /// notice and reminder of the chat.
    pub(super) async fn forget_elsewhere(&self, chat: ChatKey) -> Result<(), StoreError> {
        self.directory.forget_chat(chat).await?;
        self.limits.forget_chat(chat).await?;
        self.outbox.forget_chat(chat).await.map(drop)
    }
}
