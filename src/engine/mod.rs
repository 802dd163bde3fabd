//! The pure conversation engine: one function takes a session, one input and the current time,
//! and returns a [`Turn`]: the new session, what to say, the one service call it waits for, what
//! follows once the turn is committed, and the steps it passed through. No IO happens here,
//! so every journey can be tested as a transcript with no network and no clock.

mod answer;
mod children;
mod events;
mod io;
pub mod listen;
pub mod route;
mod session;
mod teacher;
mod typed;

use chrono::{DateTime, Utc};

pub use io::{
    ButtonTarget, ButtonView, Command, DeskAction, DeskRequest, FollowUp, Input, Outcome, Request,
    Say, Success,
};
pub use session::{Action, Awaiting, Facts, Offer, Session, HISTORY_LIMIT};

use crate::domain::InviteToken;
use crate::i18n::{Arg, Args, Locales, DEFAULT_LANG};
use crate::school::SchoolTime;
use crate::script::vocab::{rejection_message, Condition, Operation, ANY_ERROR, UNAVAILABLE};
use crate::script::{ButtonAction, Scripts, Step, StepRef, Target, MENU};
use crate::service::{
    Address, ApplicationStatus, Decision, Invite, LinkStatus, Purpose, Rejection, ServiceError,
};

/// How many steps one input may pass through before the engine stops (a guard against loops
/// of automatic steps; the checker already rejects the obvious ones).
const MAX_HOPS: usize = 16;
/// Messages in a row the bot could not use before it says what it can do and offers a person.
const FAILURES_BEFORE_HELP: u8 = 2;
/// The event of the gentle reminder sent to a user silent in the middle of a scenario.
pub const IDLE_EVENT: &str = "idle";
/// The event raised when a sent code's `resend_after` has passed.
pub const RESEND_READY_EVENT: &str = "resend_ready";
/// How many listed reasons a teacher can pick for a rejection (`reject-reason-<n>`).
const REJECTION_REASONS: usize = 3;
/// The longest typed rejection reason passed to the service.
const REASON_LIMIT: usize = 300;
/// The hour (school time) at which reminders arrive.
const REMINDER_HOUR: u32 = 10;

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
    /// The start of a deep link, e.g. `https://t.me/sferum_bot?start=`.
    deep_link_base: String,
}

impl Engine {
    pub fn new(scripts: Scripts, locales: Locales, deep_link_base: impl Into<String>) -> Self {
        Self {
            router: route::Router::new(&scripts),
            listener: listen::Listener::new(&scripts.listening),
            support_contact: None,
            scripts,
            locales,
            school: SchoolTime::default(),
            deep_link_base: deep_link_base.into(),
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

    /// Where a free-text question would lead, with no context.
    pub fn route(&self, question: &str) -> Option<route::Route> {
        self.router.route(question)
    }

    /// What a free-text question means, asked in `context`.
    pub fn understand(&self, question: &str, context: &route::Context) -> route::Routing {
        self.router.understand(question, context)
    }

    /// The offered button a typed text means at `step`, if one clearly does (no session needed:
    /// the buttons every visitor of the step sees).
    pub fn typed_button_at(&self, step: &StepRef, lang: &str, text: &str) -> Option<String> {
        let step = self.scripts.step(step)?;
        let offered: Vec<listen::Offered<'_>> = step
            .buttons
            .iter()
            .filter(|b| b.when.is_none() && matches!(b.action, ButtonAction::Goto(_)))
            .map(|b| listen::Offered {
                text: self
                    .locales
                    .format(lang, &b.label, &Args::new())
                    .unwrap_or_default(),
                label: &b.label,
                phrases: &b.phrases,
            })
            .collect();
        let index = self.listener.button(text, &offered)?;
        Some(offered[index].label.to_owned())
    }

    pub fn scripts(&self) -> &Scripts {
        &self.scripts
    }

    pub fn locales(&self) -> &Locales {
        &self.locales
    }

    pub fn deep_link_base(&self) -> &str {
        &self.deep_link_base
    }

    /// A new conversation, in the language the user's client reports if we have it.
    pub fn new_session(&self, client_lang: Option<&str>, now: DateTime<Utc>) -> Session {
        Session::new(
            &self.scripts.version,
            &self.locales.pick_language(client_lang),
            now,
        )
    }

    /// Handles one input.
    pub fn step(&self, session: Session, input: Input, now: DateTime<Utc>) -> Turn {
        let from_user = matches!(
            input,
            Input::Text(_) | Input::Button { .. } | Input::Command(_) | Input::Desk(_)
        );
        let mut turn = Conversation {
            engine: self,
            session,
            says: Vec::new(),
            call: None,
            after: Vec::new(),
            trail: Vec::new(),
            now,
        };
        turn.handle(input);
        turn.session.updated_at = now;
        if from_user {
            turn.session.active_at = now;
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
        }
    }
}

/// One turn in progress.
struct Conversation<'e> {
    engine: &'e Engine,
    session: Session,
    says: Vec<Say>,
    call: Option<Request>,
    after: Vec<FollowUp>,
    trail: Vec<StepRef>,
    now: DateTime<Utc>,
}

impl<'e> Conversation<'e> {
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
            self.say_plain("session-restarted");
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
                self.say_plain("session-vanished");
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

    // ----- commands ---------------------------------------------------------------------

    fn on_command(&mut self, command: Command) {
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
                    self.say_plain("deep-link-invalid");
                    if self.session.fresh || self.current().is_none() {
                        self.enter(StepRef::menu());
                    } else {
                        self.reshow();
                    }
                }
            },
            Command::Help => {
                let general = if self.session.facts.teacher().is_some() {
                    "help-teacher"
                } else {
                    "help-general"
                };
                let help = self
                    .current()
                    .and_then(|s| s.help.clone())
                    .unwrap_or_else(|| general.to_owned());
                self.say_plain(&help);
                self.reshow();
            }
            Command::Resume => {
                self.say_plain("session-resumed");
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
                self.say_plain("reset-done");
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
                self.say_offering("lang-choose", Args::new(), None, buttons);
            }
            Command::Forget => {
                let lang = self.session.lang.clone();
                self.session = Session::new(&self.scripts().version, &lang, self.now);
                self.after.push(FollowUp::Forget);
                self.say_plain("forget-done");
            }
            Command::Unknown => {
                self.say_plain("command-unknown");
                self.reshow();
            }
            Command::Invite | Command::Pending | Command::Unbind => self.teacher_command(command),
            Command::Children => self.list_children(),
        }
    }

    fn knows_language(&self, code: &str) -> bool {
        let code = code.to_lowercase();
        self.engine.locales.languages().any(|known| known == code)
    }

    fn back(&mut self) {
        while let Some(previous) = self.session.history.pop() {
            if self.scripts().step(&previous).is_some() {
                self.show(previous);
                return;
            }
        }
        self.say_plain("nothing-to-go-back");
        self.reshow();
    }

    // ----- buttons ----------------------------------------------------------------------

    fn on_button(&mut self, offer: u32, index: usize) {
        if offer == self.session.offer.seq && index < self.session.offer.actions.len() {
            self.press(index);
        } else {
            self.say_plain("button-stale");
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
                self.say_plain("clarify-none");
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
                self.say_plain("reminders-off");
                self.reshow();
            }
        }
    }

    // ----- service outcomes -------------------------------------------------------------

    fn on_outcome(&mut self, outcome: Outcome) {
        let Some(awaiting) = self.session.awaiting.take() else {
            return; // nothing was asked for: a late or duplicate answer changes nothing
        };
        if awaiting.op != outcome.op {
            return;
        }
        let Some(step) = self.scripts().step(&awaiting.step) else {
            return self.enter(StepRef::menu());
        };
        if awaiting.op == Operation::CheckCode {
            self.session.facts.code = None;
        }
        match outcome.result {
            Ok(success) => {
                let key = self.apply(success);
                match step.on.get(key) {
                    Some(Target::Step(to)) => self.enter(to.clone()),
                    Some(Target::Stay) => self.reshow(),
                    None => self.internal_error(),
                }
            }
            Err(ServiceError::Rejected(rejection)) => {
                // A wrong code with no attempts left is the end of that code: on to a new one,
                // not asked for again.
                let leads_as = match rejection {
                    Rejection::WrongCode { attempts_left: 0 } => Rejection::TooManyAttempts.code(),
                    _ => rejection.code(),
                };
                let target = step.on.get(leads_as).or_else(|| step.on.get(ANY_ERROR));
                let message = rejection_message(rejection.code());
                let mut args = rejection_args(&rejection);
                if let Some(support) = self.fact_args().remove("support_contact") {
                    args.insert("support_contact".to_owned(), support);
                }
                self.recover(step, &message, args, target);
            }
            Err(ServiceError::Unavailable(_) | ServiceError::Protocol(_)) => {
                let target = step.on.get(UNAVAILABLE);
                self.recover(step, "error-service-unavailable", Args::new(), target);
            }
        }
    }

    /// After a failed call: explain, then go where the step says, or let the user try again.
    fn recover(&mut self, step: &'e Step, message: &str, args: Args, target: Option<&Target>) {
        match target {
            Some(Target::Step(to)) => {
                self.say(message, args, None, Vec::new());
                self.enter(to.clone());
            }
            _ if step.input.is_some() => self.say_with_buttons(message, args, step),
            _ => {
                // An automatic call: return to where the user last acted, so they can retry.
                self.say(message, args, None, Vec::new());
                match self.session.history.pop() {
                    Some(previous) if self.scripts().step(&previous).is_some() => {
                        self.show(previous)
                    }
                    _ => self.show(StepRef::menu()),
                }
            }
        }
    }

    /// Records a success in the facts and names its outcome.
    fn apply(&mut self, success: Success) -> &'static str {
        let facts = &mut self.session.facts;
        match success {
            Success::Invite(invite) => {
                let key = match &invite {
                    Invite::Class { .. } => "class",
                    Invite::Parent { .. } => "parent",
                    Invite::Teacher { teacher_id, .. } => {
                        self.after.push(FollowUp::TeacherBound {
                            teacher_id: teacher_id.clone(),
                        });
                        "teacher"
                    }
                };
                facts.invite = Some(invite);
                key
            }
            Success::Verification(v) => {
                // The resend button may appear then: the person hears of it, not only on
                // seeing the step again.
                self.after.push(FollowUp::Schedule {
                    event: RESEND_READY_EVENT.to_owned(),
                    due: v.resend_after,
                });
                let facts = &mut self.session.facts;
                facts.verification = Some(v);
                facts.verified = false;
                "ok"
            }
            Success::Verified => {
                facts.verified = true;
                "ok"
            }
            Success::Application(a) => {
                self.after.push(FollowUp::ApplicationSubmitted {
                    application_id: a.application_id.clone(),
                    teacher_id: a.teacher_id.clone(),
                    class: a.class.clone(),
                    child_name: facts
                        .child_name
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                });
                facts.application = Some(a);
                "ok"
            }
            Success::ApplicationState(state) => {
                if let Some(app) = facts.application.as_mut() {
                    app.status = state.status;
                }
                match state.status {
                    ApplicationStatus::Approved => "approved",
                    ApplicationStatus::Pending => "pending",
                    ApplicationStatus::Rejected => "rejected",
                }
            }
            Success::ParentInvite(invite) => {
                self.after.push(FollowUp::ParentInviteIssued {
                    token: invite.token.as_str().to_owned(),
                });
                self.session.facts.parent_invite = Some(invite);
                "ok"
            }
            Success::ParentLink(link) => {
                facts.parent_link = Some(link);
                "ok"
            }
            Success::LinkStatus(LinkStatus::Linked) => {
                let facts = &self.session.facts;
                if let (Some(token), Some(phone)) = (&facts.invite_token, &facts.parent_phone) {
                    self.after.push(FollowUp::ParentLinked {
                        token: token.as_str().to_owned(),
                        phone: phone.masked(),
                    });
                }
                "linked"
            }
            Success::LinkStatus(LinkStatus::Cancelled) => "cancelled",
        }
    }

    fn call(&mut self, op: Operation) {
        match build_request(op, &self.session.facts) {
            // One call per turn: a step that calls ends the turn until the answer comes.
            Some(request) if self.call.is_none() => {
                self.session.awaiting = Some(Awaiting {
                    op,
                    step: self.session.at.clone(),
                });
                self.call = Some(request);
            }
            Some(_) => self.internal_error(),
            None => self.internal_error(),
        }
    }

    fn internal_error(&mut self) {
        self.say_plain("error-internal");
        self.show(StepRef::menu());
    }

    // ----- moving between steps ---------------------------------------------------------

    /// Moves to `to`, remembering the current step for `/back`.
    fn enter(&mut self, to: StepRef) {
        let from = self.session.at.clone();
        if from != to && !self.session.fresh && self.scripts().step(&from).is_some_and(is_resting) {
            self.session.history.push(from);
            let excess = self.session.history.len().saturating_sub(HISTORY_LIMIT);
            self.session.history.drain(..excess);
        }
        self.show(to);
    }

    /// Shows `to` and follows automatic steps (calls, `next` without input).
    fn show(&mut self, mut to: StepRef) {
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
    fn set_reminder(&mut self, event: &str, working_days: u32) {
        let school = &self.engine.school;
        let day = school.add_working_days(school.today(self.now), working_days);
        self.session.facts.reminder_date = Some(day);
        self.after.push(FollowUp::Schedule {
            event: event.to_owned(),
            due: school.at(day, REMINDER_HOUR),
        });
    }

    /// Shows the current step again (after help, a stale button, an unknown command).
    fn reshow(&mut self) {
        match self.current() {
            Some(step) if step.say.is_some() => self.show(self.session.at.clone()),
            _ => self.show(StepRef::menu()),
        }
    }

    fn progress(&self, step: &Step) -> Option<(u32, u32)> {
        let total = self
            .scripts()
            .scenario(&self.session.at.scenario)?
            .progress_total()?;
        step.progress.map(|n| (n, total))
    }

    // ----- saying things ----------------------------------------------------------------

    /// What messages may show: the conversation's facts and the deployment's support contact.
    fn fact_args(&self) -> Args {
        let mut args = self.session.facts.args(&self.engine.deep_link_base);
        let support = match &self.engine.support_contact {
            Some(contact) => contact.clone(),
            None => self
                .engine
                .locales
                .format(&self.session.lang, "support-default", &Args::new())
                .unwrap_or_default(),
        };
        args.insert("support_contact".to_owned(), support.into());
        args
    }

    /// The step's press buttons that apply now, as (label, action), and the way back to the
    /// step a side question was asked from.
    fn step_buttons(&self, step: &Step) -> Vec<(String, Action)> {
        let mut buttons: Vec<(String, Action)> = step
            .buttons
            .iter()
            .filter(|b| b.when.is_none_or(|c| self.holds(c)))
            .filter_map(|b| match &b.action {
                ButtonAction::Goto(to) => Some((b.label.clone(), Action::Goto(to.clone()))),
                ButtonAction::Url(_) => None,
            })
            .collect();
        if self.session.resume.is_some() {
            buttons.push(("btn-resume".to_owned(), Action::Resume));
        }
        buttons
    }

    /// A button label's own variables (a class name, a child's name), from its action.
    fn label_args(&self, action: &Action) -> Args {
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

    fn holds(&self, condition: Condition) -> bool {
        match condition {
            Condition::CanResend => self
                .session
                .facts
                .verification
                .as_ref()
                .is_some_and(|v| self.now >= v.resend_after),
        }
    }

    fn say_plain(&mut self, message: &str) {
        self.say(message, Args::new(), None, Vec::new());
    }

    /// Says `message` with the current step's buttons (and its link buttons).
    fn say_with_buttons(&mut self, message: &str, args: Args, step: &Step) {
        let buttons = self.step_buttons(step);
        let mut views = self.offer(buttons);
        views.extend(url_buttons(step));
        self.say(message, args, None, views);
    }

    /// Says `message` with `buttons`, which become the current offer; a step's link buttons
    /// follow when the message is the step's own.
    fn say_offering(
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

    /// Makes `buttons` the current offer and returns their views. A label appears once.
    fn offer(&mut self, mut buttons: Vec<(String, Action)>) -> Vec<ButtonView> {
        let mut seen: Vec<(String, Args)> = Vec::new();
        buttons.retain(|(label, action)| {
            let key = (label.clone(), self.label_args(action));
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
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

    fn say(
        &mut self,
        message: &str,
        args: Args,
        progress: Option<(u32, u32)>,
        buttons: Vec<ButtonView>,
    ) {
        self.says.push(Say {
            message: message.to_owned(),
            args,
            progress,
            buttons,
        });
    }
}

/// A step where the user can stay: it asks something or offers buttons.
fn is_resting(step: &Step) -> bool {
    step.say.is_some() && (step.input.is_some() || !step.buttons.is_empty())
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

fn rejection_args(rejection: &Rejection) -> Args {
    let mut args = Args::new();
    match rejection {
        Rejection::TooManyRequests { retry_after_secs } => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            args.insert("minutes".into(), Arg::Num(minutes as i64));
        }
        Rejection::TooEarly { retry_after_secs } => {
            args.insert(
                "seconds".into(),
                Arg::Num((*retry_after_secs).max(1) as i64),
            );
        }
        Rejection::WrongCode { attempts_left } => {
            args.insert("attempts_left".into(), Arg::Num(i64::from(*attempts_left)));
        }
        _ => {}
    }
    args
}

/// The request for `op`, built from what the conversation knows; `None` if something is missing
/// (impossible for checked scripts, but a session may come from an older version).
fn build_request(op: Operation, facts: &Facts) -> Option<Request> {
    let verification_id = || {
        facts
            .verification
            .as_ref()
            .map(|v| v.verification_id.clone())
    };
    let application_id = || facts.application.as_ref().map(|a| a.application_id.clone());
    let link_id = || facts.parent_link.as_ref().map(|l| l.link_id.clone());
    Some(match op {
        Operation::ResolveInvite => Request::ResolveInvite(facts.invite_token.clone()?),
        Operation::SendChildCode => Request::StartVerification {
            address: Address::from(facts.contact.clone()?),
            purpose: Purpose::StudentRegistration,
        },
        Operation::SendParentCode => Request::StartVerification {
            address: Address::Phone(facts.parent_phone.clone()?),
            purpose: Purpose::ParentLink,
        },
        Operation::ResendCode => Request::ResendCode {
            verification_id: verification_id()?,
        },
        Operation::CheckCode => Request::CheckCode {
            verification_id: verification_id()?,
            code: facts.code.clone()?,
        },
        Operation::SubmitApplication => Request::SubmitApplication {
            invite: facts.invite_token.clone()?,
            verification_id: verification_id()?,
            child: facts.child_name.clone()?,
        },
        Operation::CheckApplication => Request::ApplicationState {
            application_id: application_id()?,
        },
        Operation::CreateParentInvite => Request::CreateParentInvite {
            application_id: application_id()?,
        },
        Operation::CreateParentLink => Request::CreateParentLink {
            invite: facts.invite_token.clone()?,
            verification_id: verification_id()?,
        },
        Operation::ConfirmParentLink => Request::ConfirmParentLink {
            link_id: link_id()?,
            confirmed: true,
        },
        Operation::CancelParentLink => Request::ConfirmParentLink {
            link_id: link_id()?,
            confirmed: false,
        },
    })
}
