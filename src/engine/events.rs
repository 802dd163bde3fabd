//! Events from outside the conversation: a decision on the student's application, a reminder
//! falling due, the one gentle reminder after 24 hours of silence (and scheduling it), and the
//! moment a new code may be asked for.

use super::*;
use crate::script::Msg;

impl TurnInProgress<'_> {
    pub(super) fn on_event(&mut self, event: &str) {
        // `name@application`: an event about one application; if it is a parked child's, that
        // child comes back first (R4).
        let (event, subject) = event.split_once('@').unwrap_or((event, ""));
        if !subject.is_empty() {
            self.bring_back_decided(subject);
        }
        if event == RuntimeEvent::Idle.name() {
            return self.remind_idle();
        }
        if event == RuntimeEvent::ResendReady.name() {
            return self.offer_resend();
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

    /// The code's `resend_after` has passed: if the person still waits at a step that offers a
    /// new code, say so with its buttons (the resend button among them now).
    fn offer_resend(&mut self) {
        let Some(step) = self.current() else {
            return;
        };
        let offers_resend = step
            .buttons
            .iter()
            .any(|b| b.when == Some(Condition::CanResend));
        if offers_resend && self.holds(Condition::CanResend) && !self.session.fresh {
            self.say_with_buttons(Msg::ResendReady.id(), Args::new(), step);
        }
    }

    /// After each of the person's turns in the middle of a scenario: the gentle reminder is
    /// due once they have been silent for [`IDLE_AFTER`] (each turn moves it; the outbox keeps
    /// one per chat).
    pub(super) fn expect_back(&mut self) {
        // Scheduled with reminders off too: it then says nothing, but counts the stop.
        if self.engine.is_mid_scenario(&self.session) {
            self.after.push(FollowUp::Schedule {
                event: RuntimeEvent::Idle.name().to_owned(),
                due: self.now + IDLE_AFTER,
            });
        }
    }

    /// The one gentle reminder of an unfinished scenario, if the person is still silent.
    pub(super) fn remind_idle(&mut self) {
        let Some(step) = self.current() else {
            return;
        };
        let silent = self.now - self.session.active_at >= IDLE_AFTER;
        if !silent || !self.engine.is_mid_scenario(&self.session) {
            return;
        }
        self.stalled = Some(self.session.at.clone());
        if self.session.reminders_off {
            return;
        }
        let mut buttons = self.step_buttons(step);
        buttons.push((Msg::BtnNoReminders.id().to_owned(), Action::RemindersOff));
        let args = self.fact_args();
        self.say_offering(Msg::IdleReminder.id(), args, None, buttons);
    }
}
