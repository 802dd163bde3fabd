//! Saying things: the variables a message gets, the buttons a step offers now (and the way
//! back), the current offer, and the messages of a turn.

use super::*;
use crate::script::vocab::InputKind;
use crate::script::Msg;

impl<'e> TurnInProgress<'e> {
    /// What messages may show: the conversation's facts and the deployment's support contact.
    pub(super) fn fact_args(&self) -> Args {
        let mut args = self
            .session
            .facts
            .args(self.engine.deep_link_base(self.session.channel));
        let support = match &self.engine.support_contact {
            Some(contact) => contact.clone(),
            None => self
                .engine
                .locales
                .format(&self.session.lang, Msg::SupportDefault.id(), &Args::new())
                .unwrap_or_default(),
        };
        args.insert("support_contact".to_owned(), support.into());
        args
    }

    /// The step's press buttons that apply now, as (label, action), and the way back to the
    /// step a side question was asked from.
    pub(super) fn step_buttons(&self, step: &Step) -> Vec<(String, Action)> {
        self.step_buttons_at(step, self.now)
    }

    /// [`Self::step_buttons`] as they were (or will be) at `now`.
    fn step_buttons_at(&self, step: &Step, now: DateTime<Utc>) -> Vec<(String, Action)> {
        let mut buttons: Vec<(String, Action)> = step
            .buttons
            .iter()
            .filter(|b| b.when.is_none_or(|c| self.holds_at(c, now)))
            .filter_map(|b| match &b.action {
                ButtonAction::Goto(to) => Some((b.label.clone(), Action::Goto(to.clone()))),
                ButtonAction::Url(_) => None,
            })
            .collect();
        if self.session.resume.is_some() {
            buttons.push((Msg::BtnResume.id().to_owned(), Action::Resume));
        }
        buttons
    }

    /// A button label's own variables (a class name, a child's name), from its action.
    pub(super) fn label_args(&self, action: &Action) -> Args {
        if let Action::Child(index) = action {
            return self.child_label_args(*index);
        }
        let mut args = Args::new();
        if let (Action::InviteClass(class_id), Some(Invite::Teacher { classes, .. })) =
            (action, &self.session.facts.invite)
        {
            if let Some(class) = classes.iter().find(|c| &c.class_id == class_id) {
                args.insert("class".into(), class.name.as_str().into());
            }
        }
        args
    }

    pub(super) fn holds(&self, condition: Condition) -> bool {
        self.holds_at(condition, self.now)
    }

    fn holds_at(&self, condition: Condition, now: DateTime<Utc>) -> bool {
        match condition {
            Condition::CanResend => self
                .session
                .facts
                .verification
                .as_ref()
                .is_some_and(|v| now >= v.resend_after),
        }
    }

    /// The current step's own offer as the script makes it at `now`.
    fn own_offer(&self, now: DateTime<Utc>) -> Vec<(String, Action)> {
        self.current()
            .map(|step| self.distinct(self.step_buttons_at(step, now)))
            .unwrap_or_default()
    }

    /// An offer stored as the step's own ([`Offer::own`]) gets its buttons back from the
    /// script, as they were when it was saved, if the script is still the one it was saved
    /// with. (After a deploy that changed the scripts its buttons are answered as stale: a
    /// button's place might now mean another one.)
    pub(super) fn restore_offer(&mut self) {
        let offer = &self.session.offer;
        if offer.own
            && offer.actions.is_empty()
            && self.session.scripts_version == self.scripts().version
        {
            self.session.offer.actions = self.own_offer(self.session.updated_at);
        }
    }

    /// Marks the offer as the step's own when the script rebuilds it exactly (at the turn's
    /// time, which the session is saved with): it is then stored without its buttons.
    pub(super) fn mark_own_offer(&mut self) {
        let own = self.own_offer(self.now) == self.session.offer.actions;
        self.session.offer.own = own;
    }

    pub(super) fn say_plain(&mut self, message: &str) {
        self.say(message, Args::new(), None, Vec::new());
    }

    /// Where the turn ends at a step that asks for the person's own phone, its last message
    /// (if it has no buttons) offers the messenger's "share my phone number" button. Not while
    /// a call is under way: the turn goes on once the answer is in.
    pub(super) fn ask_for_contact(&mut self) {
        let asks_phone = self.current().and_then(|s| s.input) == Some(InputKind::ParentPhone);
        if asks_phone && self.call.is_none() {
            if let Some(last) = self.says.last_mut().filter(|s| s.buttons.is_empty()) {
                last.request_contact = true;
            }
        }
    }

    /// Says `message` with the current step's buttons (and its link buttons).
    pub(super) fn say_with_buttons(&mut self, message: &str, args: Args, step: &Step) {
        let buttons = self.step_buttons(step);
        let mut views = self.offer(buttons);
        views.extend(url_buttons(step));
        self.say(message, args, None, views);
    }

    /// Says `message` with `buttons`, which become the current offer; a step's link buttons
    /// follow when the message is the step's own.
    pub(super) fn say_offering(
        &mut self,
        message: &str,
        args: Args,
        progress: Option<(u32, u32)>,
        buttons: Vec<(String, Action)>,
    ) {
        let mut views = self.offer(buttons);
        if let Some(step) = self.current().filter(|s| s.say.as_deref() == Some(message)) {
            views.extend(url_buttons(step));
        }
        self.say(message, args, progress, views);
    }

    /// `buttons` with each label (and its variables) once.
    fn distinct(&self, mut buttons: Vec<(String, Action)>) -> Vec<(String, Action)> {
        let mut seen: Vec<(String, Args)> = Vec::new();
        buttons.retain(|(label, action)| {
            let key = (label.clone(), self.label_args(action));
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        buttons
    }

    /// Makes `buttons` the current offer and returns their views. A label appears once.
    pub(super) fn offer(&mut self, buttons: Vec<(String, Action)>) -> Vec<ButtonView> {
        let buttons = self.distinct(buttons);
        if self.session.offer.actions != buttons {
            self.session.offer.seq = self.session.offer.seq.wrapping_add(1);
            self.session.offer.actions = buttons;
        }
        let seq = self.session.offer.seq;
        self.session
            .offer
            .actions
            .iter()
            .enumerate()
            .map(|(index, (label, action))| ButtonView {
                label: label.clone(),
                label_args: self.label_args(action),
                target: ButtonTarget::Press { offer: seq, index },
            })
            .collect()
    }

    pub(super) fn say(
        &mut self,
        message: &str,
        args: Args,
        progress: Option<(u32, u32)>,
        buttons: Vec<ButtonView>,
    ) {
        self.says.push(Say {
            progress,
            buttons,
            ..Say::new(message, args)
        });
    }
}

fn url_buttons(step: &Step) -> impl Iterator<Item = ButtonView> + '_ {
    step.buttons.iter().filter_map(|b| match &b.action {
        ButtonAction::Url(url) => Some(ButtonView {
            label: b.label.clone(),
            label_args: Args::new(),
            target: ButtonTarget::Url(url.clone()),
        }),
        ButtonAction::Goto(_) => None,
    })
}
