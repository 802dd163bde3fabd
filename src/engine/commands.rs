//! Commands: `/start` (a deep link, another child's invitation), `/menu`, `/help`, `/back`,
//! `/reset`, `/lang`, `/forget`, `/children`, and the teachers' commands handed to their module.

use super::*;
use crate::script::Msg;

impl<'e> TurnInProgress<'e> {
    pub(super) fn on_command(&mut self, command: Command) {
        if matches!(
            command,
            Command::Start(_) | Command::Menu | Command::Reset | Command::Forget
        ) {
            self.session.resume = None;
        }
        self.session.awaiting_reason = None;
        match command {
            Command::Start(None) | Command::Menu => self.enter(StepRef::menu()),
            Command::Start(Some(payload)) => match InviteToken::parse(&payload) {
                // Another invitation while a child's registration is under way: is it another
                // child? (R4) Both are kept.
                // (Twins share their class teacher's link: the same token asks too.)
                Ok(token) if self.child_in_progress() => self.ask_another_child(token),
                Ok(token) => self.open_invitation(token),
                // A damaged link: said, and the person stays where they were.
                Err(_) => {
                    self.say_plain(Msg::DeepLinkInvalid.id());
                    if self.session.fresh || self.current().is_none() {
                        self.enter(StepRef::menu());
                    } else {
                        self.reshow();
                    }
                }
            },
            Command::Help => {
                let general = if self.session.facts.teacher().is_some() {
                    Msg::HelpTeacher.id()
                } else {
                    Msg::HelpGeneral.id()
                };
                let help = self
                    .current()
                    .and_then(|s| s.help.clone())
                    .unwrap_or_else(|| general.to_owned());
                self.say_plain(&help);
                self.reshow();
            }
            Command::Resume => {
                self.say_plain(Msg::SessionResumed.id());
                self.reshow();
            }
            Command::Back => self.back(),
            Command::Reset => {
                // A teacher keeps their desk: starting over is about the conversation, not
                // about who they are (/forget removes that too).
                let teacher = self
                    .session
                    .facts
                    .invite
                    .take()
                    .filter(|i| matches!(i, Invite::Teacher { .. }));
                self.session.facts = Facts {
                    invite: teacher,
                    ..Facts::default()
                };
                self.session.history.clear();
                self.say_plain(Msg::ResetDone.id());
                self.show(StepRef::menu());
            }
            Command::Lang(Some(code)) if self.knows_language(&code) => {
                self.session.lang = code.to_lowercase();
                self.reshow();
            }
            Command::Lang(_) => {
                let buttons = self
                    .engine
                    .locales
                    .languages()
                    .map(|lang| (format!("lang-{lang}"), Action::Lang(lang.to_owned())))
                    .collect();
                self.say_offering(Msg::LangChoose.id(), Args::new(), None, buttons);
            }
            Command::Forget => {
                let lang = self.session.lang.clone();
                self.session = Session::new(&self.scripts().version, &lang, self.now);
                self.after.push(FollowUp::Forget);
                self.say_plain(Msg::ForgetDone.id());
            }
            Command::Unknown => {
                self.say_plain(Msg::CommandUnknown.id());
                self.reshow();
            }
            Command::Invite | Command::Pending | Command::Unbind => self.teacher_command(command),
            Command::Children => self.list_children(),
        }
    }

    pub(super) fn knows_language(&self, code: &str) -> bool {
        let code = code.to_lowercase();
        self.engine.locales.languages().any(|known| known == code)
    }

    pub(super) fn back(&mut self) {
        while let Some(previous) = self.session.history.pop() {
            if self.scripts().step(&previous).is_some() {
                self.show(previous);
                return;
            }
        }
        self.say_plain(Msg::NothingToGoBack.id());
        self.reshow();
    }
}
