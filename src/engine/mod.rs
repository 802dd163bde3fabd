//! The pure conversation engine: one function takes a session, one input and the current time,
//! and returns a [`Turn`]: the new session, what to say, the one service call it waits for, what
//! follows once the turn is committed, and the steps it passed through. No IO happens here,
//! so every journey can be tested as a transcript with no network and no clock.

mod answer;
mod children;
mod commands;
mod events;
pub mod heard;
mod io;
pub mod listen;
mod moving;
mod outcomes;
pub mod route;
mod saying;
mod session;
mod teacher;
mod typed;

use chrono::{DateTime, Utc};

pub use io::{
    ButtonTarget, ButtonView, Command, DeskAction, DeskRequest, FollowUp, Input, Outcome, Request,
    Say, Success,
};
pub use session::{Action, Awaiting, Facts, Offer, Session, HISTORY_LIMIT};

use crate::domain::{Channel, DeepLinks, InviteToken};
use crate::i18n::{Arg, Args, Locales, DEFAULT_LANG};
use crate::school::SchoolTime;
use crate::script::vocab::{Condition, Operation, OutcomeKey, RuntimeEvent};
use crate::script::Msg;
use crate::script::{ButtonAction, Checked, Scripts, Step, StepRef, Target, MENU};
use crate::service::{
    Address, ApplicationStatus, Decision, Invite, LinkStatus, Purpose, Rejection, RejectionCode,
    ServiceError,
};
pub use heard::Heard;

/// How many steps one input may pass through before the engine stops (a guard against loops
/// of automatic steps; the checker already rejects the obvious ones).
const MAX_HOPS: usize = 16;
/// Messages in a row the bot could not use before it says what it can do and offers a person.
const FAILURES_BEFORE_HELP: u8 = 2;
/// How many listed reasons a teacher can pick for a rejection (`reject-reason-<n>`).
const REJECTION_REASONS: usize = 3;
/// The longest typed rejection reason passed to the service.
const REASON_LIMIT: usize = 300;
/// The hour (school time) at which reminders arrive.
const REMINDER_HOUR: u32 = 10;
/// A person silent this long in the middle of a scenario gets one gentle reminder.
pub const IDLE_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The result of one input, as a value: the runtime drives it (the call's answer comes back as
/// the next input), commits it, then carries out what follows.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub session: Session,
    /// What the bot says, in order.
    pub says: Vec<Say>,
    /// The one service call the turn waits for; its answer is the next input
    /// ([`Input::Outcome`]).
    pub call: Option<Request>,
    /// What follows once the turn is committed.
    pub after: Vec<FollowUp>,
    /// Every step the turn entered, in order, automatic ones too.
    pub trail: Vec<StepRef>,
    /// How a message in the person's own words was taken, if the turn read one.
    pub heard: Option<Heard>,
    /// The step a conversation stopped at, found silent for [`IDLE_AFTER`] there.
    pub stalled: Option<StepRef>,
}

impl Turn {
    /// Nothing said, asked or set in motion (a late service answer, an event for nobody).
    pub fn is_silent(&self) -> bool {
        self.says.is_empty() && self.call.is_none() && self.after.is_empty()
    }
}

/// The loaded scripts and locales, and what the engine needs to know about the deployment.
#[derive(Debug)]
pub struct Engine {
    scripts: Scripts,
    locales: Locales,
    router: route::Router,
    listener: listen::Listener,
    /// `SUPPORT_CONTACT`: how to reach a person (the school's or region's); `None` means the
    /// locale's honest default.
    support_contact: Option<String>,
    /// Working days and the time zone, for reminders.
    school: SchoolTime,
    /// The start of a deep link in each messenger, e.g. `https://t.me/sferum_bot?start=`.
    deep_links: DeepLinks,
}

impl Engine {
    /// The engine for scripts and locales that passed the checker.
    pub fn new(checked: Checked, deep_links: DeepLinks) -> Self {
        let (scripts, locales) = checked.into_parts();
        Self {
            router: route::Router::new(&scripts),
            listener: listen::Listener::new(&scripts.listening),
            support_contact: None,
            scripts,
            locales,
            school: SchoolTime::default(),
            deep_links,
        }
    }

    /// The school's time, for reminders.
    pub fn with_school_time(mut self, school: SchoolTime) -> Self {
        self.school = school;
        self
    }

    /// How to reach a person, as the deployment says (`SUPPORT_CONTACT`).
    pub fn with_support_contact(mut self, contact: Option<String>) -> Self {
        self.support_contact = contact.filter(|c| !c.trim().is_empty());
        self
    }

    pub fn school(&self) -> &SchoolTime {
        &self.school
    }

    /// Whether the user stopped in the middle of a scenario: asked to type something, or on a
    /// numbered step before the last. Only then does silence earn a reminder.
    pub fn is_mid_scenario(&self, session: &Session) -> bool {
        let Some(step) = self.scripts.step(&session.at) else {
            return false;
        };
        let total = self
            .scripts
            .scenario(&session.at.scenario)
            .and_then(|s| s.progress_total());
        let numbered_before_last = step.progress.zip(total).is_some_and(|(n, t)| n < t);
        !session.fresh
            && session.at.scenario != MENU.0
            && (step.input.is_some() || numbered_before_last)
    }

    /// `text` as an unanswered question is kept: digits, e-mails and names masked (see
    /// [`heard::mask_question`]).
    pub fn mask_question(&self, text: &str) -> String {
        heard::mask_question(text, &self.router, &self.scripts.listening)
    }

    /// Where a free-text question would lead, with no context.
    pub fn route(&self, question: &str) -> Option<route::Route> {
        self.router.route(question)
    }

    /// What a free-text question means, asked in `context`.
    pub fn understand(&self, question: &str, context: &route::Context) -> route::Routing {
        self.router.understand(question, context)
    }

    /// The offered button a typed text means at `step`, if one clearly does: the buttons every
    /// visitor of the step sees (no session needed).
    pub fn typed_button_at(&self, step: &StepRef, lang: &str, text: &str) -> Option<String> {
        let mut session = self.new_session(Some(lang), DateTime::<Utc>::UNIX_EPOCH);
        session.fresh = false;
        session.at = step.clone();
        let mut turn = TurnInProgress::new(self, session, DateTime::<Utc>::UNIX_EPOCH);
        // The step shown as a visitor sees it, then the text read against its offer: the very
        // path a typed answer takes.
        turn.reshow();
        let index = turn.typed_button(text)?;
        Some(turn.session.offer.actions.get(index)?.0.clone())
    }

    pub fn scripts(&self) -> &Scripts {
        &self.scripts
    }

    pub fn locales(&self) -> &Locales {
        &self.locales
    }

    /// The start of a link to the bot for a person in `channel`.
    pub fn deep_link_base(&self, channel: Channel) -> &str {
        self.deep_links.base(channel)
    }

    /// A new conversation, in the language the user's client reports if we have it.
    pub fn new_session(&self, client_lang: Option<&str>, now: DateTime<Utc>) -> Session {
        Session::new(
            &self.scripts.version,
            &self.locales.pick_language(client_lang),
            now,
        )
    }

    /// A stored session as its next turn begins from it: an offer stored as the step's own
    /// gets its buttons back from the script ([`Offer::own`]).
    pub fn restored(&self, session: Session) -> Session {
        let now = session.updated_at;
        let mut turn = TurnInProgress::new(self, session, now);
        turn.restore_offer();
        turn.session
    }

    /// Handles one input.
    pub fn take_turn(&self, session: Session, input: Input, now: DateTime<Utc>) -> Turn {
        let from_user = matches!(
            input,
            Input::Text(_) | Input::Button { .. } | Input::Command(_) | Input::Desk(_)
        );
        let mut turn = TurnInProgress::new(self, session, now);
        turn.restore_offer();
        turn.handle(input);
        turn.ask_for_contact();
        turn.session.updated_at = now;
        turn.mark_own_offer();
        if from_user {
            turn.session.active_at = now;
            turn.expect_back();
        }
        turn.session
            .scripts_version
            .clone_from(&self.scripts.version);
        Turn {
            session: turn.session,
            says: turn.says,
            call: turn.call,
            after: turn.after,
            trail: turn.trail,
            heard: turn.heard,
            stalled: turn.stalled,
        }
    }
}

/// One turn in progress.
struct TurnInProgress<'e> {
    engine: &'e Engine,
    session: Session,
    says: Vec<Say>,
    call: Option<Request>,
    after: Vec<FollowUp>,
    trail: Vec<StepRef>,
    heard: Option<Heard>,
    stalled: Option<StepRef>,
    now: DateTime<Utc>,
}

impl<'e> TurnInProgress<'e> {
    fn new(engine: &'e Engine, session: Session, now: DateTime<Utc>) -> Self {
        Self {
            engine,
            session,
            says: Vec::new(),
            call: None,
            after: Vec::new(),
            trail: Vec::new(),
            heard: None,
            stalled: None,
            now,
        }
    }

    fn scripts(&self) -> &'e Scripts {
        &self.engine.scripts
    }

    fn current(&self) -> Option<&'e Step> {
        self.scripts().step(&self.session.at)
    }

    fn handle(&mut self, input: Input) {
        let lost = self.current().is_none();
        if lost {
            // The step is gone after a deploy: start again at the nearest sensible point (the
            // start of the same scenario, if what the conversation knows still suffices for
            // it; else the menu), politely.
            self.session.at = self.nearest_restart();
            self.session.history.clear();
            self.session.awaiting = None;
            self.say_plain(Msg::SessionRestarted.id());
        }
        if self.session.awaiting.is_some() && !matches!(input, Input::Outcome(_)) {
            // A call was cut short (a crash before its answer came); the user has moved on.
            self.session.awaiting = None;
        }
        match input {
            Input::Command(command) => self.on_command(command),
            Input::Outcome(outcome) => self.on_outcome(outcome),
            Input::Event(event) => self.on_event(&event),
            Input::Desk(action) => self.on_desk(action),
            // The restart point, not an answer to a question the user never saw.
            _ if lost => self.show(self.session.at.clone()),
            // A button of a conversation the store no longer has (Redis lost its data).
            Input::Button { .. } if self.session.fresh => {
                self.say_plain(Msg::SessionVanished.id());
                self.show(StepRef::menu())
            }
            Input::Text(text) if self.session.fresh => match self.engine.router.route(&text) {
                Some(route) => self.show(route.step),
                None => self.show(StepRef::menu()),
            },
            _ if self.session.fresh => self.show(StepRef::menu()),
            Input::Text(text) => self.on_text(&text),
            Input::Button { offer, index } => self.on_button(offer, index),
        }
        self.session.fresh = false;
    }

    /// Where a conversation whose step disappeared goes on.
    fn nearest_restart(&self) -> StepRef {
        let Some(scenario) = self.scripts().scenario(&self.session.at.scenario) else {
            return StepRef::menu();
        };
        let entry = StepRef::new(&scenario.id, &scenario.entry);
        match self.scripts().step(&entry) {
            Some(step) if self.can_show(step) => entry,
            _ => StepRef::menu(),
        }
    }

    /// Whether `step` can be shown with what the conversation knows: its message finds all its
    /// variables, and its operation its data.
    fn can_show(&self, step: &Step) -> bool {
        let args = self.fact_args();
        let message_ok = step.say.as_ref().is_none_or(|say| {
            self.engine
                .locales
                .variables(&self.session.lang, say)
                .iter()
                .all(|var| args.contains_key(var))
        });
        let call_ok = step
            .call
            .is_none_or(|op| op.requires().iter().all(|f| self.session.facts.has(*f)));
        message_ok && call_ok
    }

    // ----- buttons pressed (typed text: `typed`; the rest: `commands`, `outcomes`, `moving`, `saying`)

    fn on_button(&mut self, offer: u32, index: usize) {
        if offer == self.session.offer.seq && index < self.session.offer.actions.len() {
            self.press(index);
        } else {
            self.say_plain(Msg::ButtonStale.id());
            self.reshow();
        }
    }

    fn press(&mut self, index: usize) {
        let Some((_, action)) = self.session.offer.actions.get(index).cloned() else {
            return self.reshow();
        };
        match action {
            Action::Goto(to) => self.enter(to),
            Action::Answer(to) => self.detour(to),
            Action::NoneOfThese => {
                self.say_plain(Msg::ClarifyNone.id());
                self.reshow();
            }
            Action::InviteClass(class_id) => self.invite_class(class_id),
            Action::AnotherChild(another) => self.another_child(another),
            Action::Child(index) => self.continue_child(index),
            Action::Menu => {
                self.session.resume = None;
                self.enter(StepRef::menu())
            }
            Action::Resume => match self.session.resume.take() {
                Some(place) if self.scripts().step(&place).is_some() => self.enter(place),
                _ => self.reshow(),
            },
            Action::Lang(lang) => {
                self.session.lang = lang;
                self.reshow();
            }
            Action::RemindersOff => {
                self.session.reminders_off = true;
                self.say_plain(Msg::RemindersOff.id());
                self.reshow();
            }
        }
    }
}

/// A step where the user can stay: it asks something or offers buttons.
fn is_resting(step: &Step) -> bool {
    step.say.is_some() && (step.input.is_some() || !step.buttons.is_empty())
}
