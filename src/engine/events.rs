//! Events from outside the conversation: a decision on the student's application, a reminder
//! falling due, and the one gentle reminder after 24 hours of silence.

use super::*;

impl Conversation<'_> {
    pub(super) fn on_event(&mut self, event: &str) {
        if event == IDLE_EVENT {
            return self.remind_idle();
        }
        let Some((at, step)) = self
            .scripts()
            .steps()
            .find(|(_, s)| s.event.as_deref() == Some(event))
        else {
            return;
        };
        // An event for a conversation that no longer knows what it needs is dropped.
        if self.can_show(step) && !self.session.fresh {
            self.enter(at);
        }
    }

    /// The one gentle reminder of an unfinished scenario.
    pub(super) fn remind_idle(&mut self) {
        let Some(step) = self.current() else {
            return;
        };
        if self.session.reminders_off || !self.engine.is_mid_scenario(&self.session) {
            return;
        }
        let mut buttons = self.step_buttons(step);
        buttons.push(("btn-no-reminders".to_owned(), Action::RemindersOff));
        let args = self.fact_args();
        self.say_offering("idle-reminder", args, None, buttons);
    }
}
