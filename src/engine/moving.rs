//! Moving between steps: entering one (remembered for `/back`), showing it and following
//! automatic steps, reminders a step sets, and showing the current step again.

use super::*;

impl<'e> TurnInProgress<'e> {
    /// Moves to `to`, remembering the current step for `/back`. Coming back to a step already
    /// in the history cuts the loop: `/back` from it goes where it went the first time, and
    /// going round the menu does not fill the history (nor the stored session).
    pub(super) fn enter(&mut self, to: StepRef) {
        let from = self.session.at.clone();
        if let Some(earlier) = self.session.history.iter().position(|s| *s == to) {
            self.session.history.truncate(earlier);
        } else if from != to
            && !self.session.fresh
            && self.scripts().step(&from).is_some_and(is_resting)
        {
            self.session.history.push(from);
            let excess = self.session.history.len().saturating_sub(HISTORY_LIMIT);
            self.session.history.drain(..excess);
        }
        self.show(to);
    }

    /// Shows `to` and follows automatic steps (calls, `next` without input).
    pub(super) fn show(&mut self, mut to: StepRef) {
        for _ in 0..MAX_HOPS {
            let Some(step) = self.scripts().step(&to) else {
                if to == StepRef::menu() {
                    return;
                }
                return self.internal_error();
            };
            if self.session.resume.as_ref() == Some(&to) {
                self.session.resume = None;
            }
            self.trail.push(to.clone());
            self.session.at = to;
            self.session.failures = 0;
            if let Some(remind) = &step.remind {
                self.set_reminder(&remind.event, remind.after_working_days);
            }
            if let Some(say) = &step.say {
                let progress = self.progress(step);
                let buttons = self.step_buttons(step);
                let args = self.fact_args();
                self.say_offering(say, args, progress, buttons);
            }
            if step.input.is_some() {
                return;
            }
            if let Some(op) = step.call {
                return self.call(op);
            }
            match &step.next {
                Some(next) => to = next.clone(),
                None => return,
            }
        }
        self.internal_error();
    }

    /// Works out the day `working_days` after today (school time, production calendar),
    /// remembers it for the message, and schedules `event` for that morning.
    pub(super) fn set_reminder(&mut self, event: &str, working_days: u32) {
        let school = &self.engine.school;
        let day = school.add_working_days(school.today(self.now), working_days);
        self.session.facts.reminder_date = Some(day);
        self.after.push(FollowUp::Schedule {
            event: event.to_owned(),
            due: school.at(day, REMINDER_HOUR),
        });
    }

    /// Shows the current step again (after help, a stale button, an unknown command).
    pub(super) fn reshow(&mut self) {
        match self.current() {
            Some(step) if step.say.is_some() => self.show(self.session.at.clone()),
            _ => self.show(StepRef::menu()),
        }
    }

    pub(super) fn progress(&self, step: &Step) -> Option<(u32, u32)> {
        let total = self
            .scripts()
            .scenario(&self.session.at.scenario)?
            .progress_total()?;
        step.progress.map(|n| (n, total))
    }
}
