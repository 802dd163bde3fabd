//! Typed text, understood at every step. In order: the value the step expects (also with words
//! around it, also while a side answer opened from that step is on screen, and a corrected
//! value at a check screen); a button typed instead of pressed; courtesy; a question in the
//! person's own words (answered, or «Вы про это?» when two answers are close); and only then
//! "not understood", which after two in a row says what the bot can do and offers a person.

use super::answer::{self, Hint, Reading};
use super::listen::Offered;
use super::route::{Context, Routing};
use super::*;
use crate::script::vocab::InputKind;
use crate::script::Msg;

/// The step a person asking for a human is brought to.
const SUPPORT: (&str, &str) = ("support", "contact");

impl TurnInProgress<'_> {
    pub(super) fn on_text(&mut self, text: &str) {
        if let Some(application_id) = self.session.awaiting_reason.take() {
            let reason: String = text.trim().chars().take(REASON_LIMIT).collect();
            if !reason.is_empty() {
                return self.on_desk_reason(application_id, reason);
            }
        }
        let Some(step) = self.current() else {
            return self.enter(StepRef::menu());
        };
        // 1. The value this step expects. A name is taken at once only when it uses no word
        //    the bot knows from questions; otherwise questions get their chance first.
        let mut hint = None;
        let mut name_later = false;
        if let Some(kind) = step.input {
            let text = self.as_value(kind, text);
            if kind == InputKind::ChildName && self.engine.router.knows_a_word(&text) {
                name_later = true;
            } else {
                match answer::read(kind, &text, &mut self.session.facts) {
                    Reading::Value => return self.answered(step),
                    Reading::Attempt(h) => hint = Some((h, true)),
                    Reading::Other(h) => hint = Some((h, false)),
                }
            }
        }
        // 2. The value the step a side answer was opened from expects.
        if let Some((place, kind)) = self.resume_input() {
            let value = self.as_value(kind, text);
            let mut facts = self.session.facts.clone();
            if answer::read(kind, &value, &mut facts) == Reading::Value {
                self.session.facts = facts;
                self.session.resume = None;
                self.session.at = place;
                return match self.current() {
                    Some(step) => self.answered(step),
                    None => self.enter(StepRef::menu()),
                };
            }
        }
        // 3. A button typed instead of pressed.
        if let Some(index) = self.typed_button(text) {
            return self.press(index);
        }
        // 4. Courtesy, as the whole message.
        if let Some(courtesy) = self.engine.listener.courtesy(text) {
            let message = match (courtesy.step_help, &step.help) {
                (true, Some(help)) => help.clone(),
                _ => courtesy.say.clone(),
            };
            self.say_plain(&message);
            return self.reshow();
        }
        // 5. A corrected value at a check screen replaces the old one; the check shows again.
        if let Some(kind) = step.retype {
            let value = self.as_value(kind, text);
            let plausible =
                kind != InputKind::ChildName || !self.engine.router.knows_a_word(&value);
            if plausible && answer::read(kind, &value, &mut self.session.facts) == Reading::Value {
                self.session.failures = 0;
                return self.reshow();
            }
        }
        // 6. A failed attempt at the value: say what is wrong with it.
        if let Some((hint, true)) = hint {
            return self.misunderstood(step, Some(hint));
        }
        // 7. A question in the person's own words.
        //    Asking back makes no sense to someone who is cross: they get a calm answer (9).
        let rude = self.engine.listener.rude(text).cloned();
        match self.engine.router.understand(text, &self.context()) {
            Routing::Answer(route) => {
                self.heard = Some(Heard::Answered);
                return self.detour(route.step);
            }
            Routing::Clarify(candidates) if !name_later && rude.is_none() => {
                self.heard = Some(Heard::Clarified);
                return self.clarify(candidates.into_iter().map(|r| r.step).collect());
            }
            _ => {}
        }
        // 8. A name after all, when nothing else took it.
        if name_later {
            let text = self.as_value(InputKind::ChildName, text);
            match answer::read(InputKind::ChildName, &text, &mut self.session.facts) {
                Reading::Value => return self.answered(step),
                Reading::Attempt(h) | Reading::Other(h) => hint = Some((h, true)),
            }
        }
        // 9. Rude words get a calm answer; anything else is not understood.
        if let Some(rude) = rude {
            self.say_plain(&rude.say);
            return self.reshow();
        }
        if hint.is_none() {
            let question =
                heard::mask_question(text, &self.engine.router, &self.scripts().listening);
            self.heard = Some(Heard::NotUnderstood { question });
        }
        self.misunderstood(step, hint.map(|(h, _)| h))
    }

    /// Says why the name just given may be wrong (it must match the documents), unless it was
    /// questioned already; true when it did.
    fn doubts_the_name(&mut self) -> bool {
        let Some(name) = self
            .session
            .facts
            .child_name
            .as_ref()
            .map(ToString::to_string)
        else {
            return false;
        };
        if !self.engine.listener.doubtful_name(&name)
            || self.session.doubted_name.as_deref() == Some(name.as_str())
        {
            return false;
        }
        self.session.doubted_name = Some(name.clone());
        let mut args = Args::new();
        args.insert("child_name".into(), name.into());
        self.say(Msg::NameDoubt.id(), args, None, Vec::new());
        true
    }

    /// `text` as a value of `kind` is read: a name without the words people put before it.
    fn as_value(&self, kind: InputKind, text: &str) -> String {
        match kind {
            InputKind::ChildName => self.engine.listener.strip_name_lead_in(text),
            _ => text.to_owned(),
        }
    }

    /// The step a side answer was opened from, when it expects a value.
    fn resume_input(&self) -> Option<(StepRef, InputKind)> {
        let place = self.session.resume.clone()?;
        let kind = self.scripts().step(&place)?.input?;
        Some((place, kind))
    }

    /// A valid answer at `step`: on to its call or its next step. A child's name unlike the
    /// documents is questioned first, once.
    fn answered(&mut self, step: &Step) {
        self.session.failures = 0;
        if step.input == Some(InputKind::ChildName) && self.doubts_the_name() {
            return;
        }
        if let Some(op) = step.call {
            self.call(op);
        } else if let Some(next) = step.next.clone() {
            self.enter(next);
        }
    }

    /// Where the person is, for preferring nearby answers: this scenario (not the menu, which
    /// is no flow), the one a side answer was opened from, and a teacher's questions for a
    /// teacher.
    fn context(&self) -> Context {
        let mut scenarios: Vec<&str> = std::iter::once(&self.session.at)
            .chain(self.session.resume.as_ref())
            .map(|at| at.scenario.as_str())
            .filter(|scenario| *scenario != MENU.0)
            .collect();
        if self.session.facts.teacher().is_some() {
            scenarios.push(TEACHER_SCENARIO);
        }
        Context::around(self.scripts(), &scenarios)
    }

    /// Answers a question asked in the middle of a step, keeping the place to come back to.
    pub(super) fn detour(&mut self, to: StepRef) {
        if to == self.session.at {
            return self.reshow();
        }
        let here = self.session.at.clone();
        if self.session.resume.is_none()
            && here.scenario != MENU.0
            && self.current().is_some_and(is_resting)
        {
            self.session.resume = Some(here);
        }
        self.enter(to);
    }

    /// Two or three answers are close: ask which one was meant.
    fn clarify(&mut self, candidates: Vec<StepRef>) {
        let mut buttons: Vec<(String, Action)> = candidates
            .into_iter()
            .filter_map(|at| {
                let topic = self.scripts().step(&at)?.topic.clone()?;
                Some((topic, Action::Answer(at)))
            })
            .collect();
        if buttons.is_empty() {
            let step = self.current();
            return match step {
                Some(step) => self.misunderstood(step, None),
                None => self.enter(StepRef::menu()),
            };
        }
        buttons.push((Msg::ClarifyBtnNone.id().to_owned(), Action::NoneOfThese));
        self.session.failures = 0;
        self.say_offering(Msg::Clarify.id(), Args::new(), None, buttons);
    }

    /// Nothing in the message could be used. The first time: the hint, or "not found" with the
    /// way on; the second time in a row: what the bot can do, and a way to a person.
    fn misunderstood(&mut self, step: &Step, hint: Option<Hint>) {
        self.session.failures = self.session.failures.saturating_add(1);
        if self.session.failures >= FAILURES_BEFORE_HELP {
            self.session.failures = 0;
            if let Some(hint) = hint {
                self.say(hint.message.id(), hint.args, None, Vec::new());
            }
            let mut buttons = self.step_buttons(step);
            buttons.push((
                Msg::BtnSupport.id().to_owned(),
                Action::Answer(StepRef::new(SUPPORT.0, SUPPORT.1)),
            ));
            buttons.push((Msg::BtnMenu.id().to_owned(), Action::Menu));
            return self.say_offering(Msg::InputStuck.id(), Args::new(), None, buttons);
        }
        match hint {
            Some(hint) => self.say_with_buttons(hint.message.id(), hint.args, step),
            None => {
                let mut buttons = self.step_buttons(step);
                if self.session.at != StepRef::menu() {
                    buttons.push((Msg::BtnMenu.id().to_owned(), Action::Menu));
                }
                self.say_offering(Msg::RouteNotFound.id(), Args::new(), None, buttons);
            }
        }
    }

    /// The offered button a typed text means, if one clearly does.
    pub(super) fn typed_button(&self, text: &str) -> Option<usize> {
        let step = self.current();
        let offered: Vec<Offered<'_>> = self
            .session
            .offer
            .actions
            .iter()
            .map(|(label, action)| Offered {
                text: self
                    .engine
                    .locales
                    .format(&self.session.lang, label, &self.label_args(action))
                    .unwrap_or_default(),
                label,
                phrases: step
                    .and_then(|s| s.buttons.iter().find(|b| &b.label == label))
                    .map_or(&[], |b| b.phrases.as_slice()),
            })
            .collect();
        self.engine.listener.button(text, &offered)
    }
}

/// The scenario whose answers a teacher's questions prefer.
const TEACHER_SCENARIO: &str = "teacher";
