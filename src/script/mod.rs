//! Scenarios as data: the model of `dialogues/*.toml`, its loader and its static checker.
//!
//! A scenario file has a `[scenario]` header and a list of `[[step]]` tables (the format is
//! documented in `dialogues/README.md`). Loading turns names into typed values (input kinds,
//! operations, step references) and collects every problem it finds, each naming its file and
//! step; [`check`] then proves the graph sound against the locales.

pub mod check;
pub mod graph;
mod load;
pub mod system;
pub mod vocab;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use check::{check, coverage, find_problems, path_coverage, Coverage};
pub use load::{load, load_sources, read_sources};
pub use system::Msg;
use vocab::{Condition, InputKind, Operation};

use crate::i18n::Locales;

/// The scenario and step every new conversation and `/menu` lead to.
pub const MENU: (&str, &str) = ("menu", "start");
/// The step a deep link (`/start <token>`) leads to, with the token as a fact.
pub const DEEP_LINK: (&str, &str) = ("invite", "open");
/// The file that lists the instruction's seed IDs.
pub const SEED_FILE: &str = "seed.toml";
/// The file with the rules for routing free-text questions.
pub const ROUTING_FILE: &str = "routing.toml";
/// The file with the rules for typed answers: what words mean which button, courtesy.
pub const LISTENING_FILE: &str = "listening.toml";
/// The folder of example questions, one file per scenario (`questions/<scenario>.toml`).
pub const QUESTIONS_DIR: &str = "questions";

/// How free-text questions are matched against the steps' example questions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRules {
    /// The score (0–1) a question needs to be answered at once.
    pub threshold: f64,
    /// The score (0–1) below which a question is not understood; between the two the bot asks
    /// «Вы про это?» with the candidates.
    #[serde(default = "default_clarify")]
    pub clarify_threshold: f64,
    /// How far the best answer must lead the next one to be answered without asking.
    #[serde(default = "default_margin")]
    pub margin: f64,
    /// Added to the answers of the scenario the person is in (and of its `near` scenarios).
    #[serde(default = "default_context_bonus")]
    pub context_bonus: f64,
    /// Words that carry no meaning for routing.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// Word → the word it is read as.
    #[serde(default)]
    pub synonyms: BTreeMap<String, String>,
}

impl RoutingRules {
    /// Every threshold within 0–1, and asking below answering.
    pub fn thresholds_valid(&self) -> bool {
        let unit = 0.0..=1.0;
        unit.contains(&self.threshold)
            && unit.contains(&self.clarify_threshold)
            && unit.contains(&self.margin)
            && unit.contains(&self.context_bonus)
            && self.clarify_threshold <= self.threshold
    }
}

fn default_clarify() -> f64 {
    0.35
}

fn default_margin() -> f64 {
    0.08
}

fn default_context_bonus() -> f64 {
    0.05
}

impl Default for RoutingRules {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            clarify_threshold: default_clarify(),
            margin: default_margin(),
            context_bonus: default_context_bonus(),
            stopwords: Vec::new(),
            synonyms: BTreeMap::new(),
        }
    }
}

/// How typed answers are read at a step (`listening.toml`): words that mean a button, and
/// courtesy that is answered in place.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListeningRules {
    /// A meaning (`yes`, `no`, `parent`, …): the words that carry it and the button labels
    /// (Fluent ids) that mean it.
    #[serde(default)]
    pub meanings: BTreeMap<String, Meaning>,
    /// Kinds of courtesy (`greeting`, `thanks`, …), each answered with its message.
    #[serde(default)]
    pub courtesy: BTreeMap<String, CourtesyRule>,
    /// Words that may stand around a meaning word or a courtesy («ну да», «спасибо вам»).
    #[serde(default)]
    pub fillers: Vec<String>,
    /// Words that turn a label around («не получается»): a typed answer must agree on them.
    #[serde(default)]
    pub negations: Vec<String>,
    /// Words people put before a name («его зовут», «фио»), dropped when reading one.
    #[serde(default)]
    pub name_lead_ins: Vec<String>,
    /// Short forms of first names (Маша, Ваня): a child's name with one, or with Latin
    /// letters, is questioned once — it must match the documents.
    #[serde(default)]
    pub name_diminutives: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meaning {
    /// Words or short phrases with this meaning.
    pub words: Vec<String>,
    /// Button labels (Fluent ids) that mean it.
    pub labels: Vec<String>,
    /// Any short message with a negation word carries it too («пароль не подходит»).
    #[serde(default)]
    pub negated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourtesyRule {
    /// A message made only of these (words or short phrases, or single characters like `?`).
    pub words: Vec<String>,
    /// Words that only need to appear (for rude words: their stems).
    #[serde(default)]
    pub stems: Vec<String>,
    /// The Fluent id answered.
    pub say: String,
    /// Answer with the step's own help instead, when it has one.
    #[serde(default)]
    pub step_help: bool,
}

/// A step's address: `scenario/step`.
///
/// Stored as that one string (`"variant1/code"`), the most frequent thing in a session; the
/// object `{"scenario": …, "step": …}` that versions before wrote is read too.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StepRef {
    pub scenario: String,
    pub step: String,
}

impl Serialize for StepRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Text(String),
            Parts { scenario: String, step: String },
        }
        match Stored::deserialize(deserializer)? {
            Stored::Parts { scenario, step } => Ok(StepRef { scenario, step }),
            Stored::Text(text) => match text.split_once('/') {
                Some((scenario, step)) => Ok(StepRef::new(scenario, step)),
                None => Err(serde::de::Error::custom("a step is `scenario/step`")),
            },
        }
    }
}

impl StepRef {
    pub fn new(scenario: &str, step: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            step: step.to_owned(),
        }
    }

    pub fn menu() -> Self {
        Self::new(MENU.0, MENU.1)
    }

    pub fn deep_link() -> Self {
        Self::new(DEEP_LINK.0, DEEP_LINK.1)
    }
}

impl fmt::Display for StepRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scenario, self.step)
    }
}

/// Where an outcome leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Stay on the step (`"."`): the user answers again.
    Stay,
    Step(StepRef),
}

/// What a button does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    Goto(StepRef),
    /// Opens an address; it never reaches the bot.
    Url(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    /// Fluent message id of the label.
    pub label: String,
    pub action: ButtonAction,
    /// Shown only when this holds.
    pub when: Option<Condition>,
    /// What a person may type to mean this button, beside its label («это мой номер»).
    pub phrases: Vec<String>,
}

/// One step of a scenario: one message, one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    /// Fluent message id shown on entering the step.
    pub say: Option<String>,
    /// The seed ID (`shared/seed/steps.md`) this step delivers.
    pub seed: Option<String>,
    /// Its number in the scenario's numbered steps ("Шаг 3 из 9").
    pub progress: Option<u32>,
    /// Fluent message id answered to `/help` on this step.
    pub help: Option<String>,
    pub buttons: Vec<Button>,
    /// What the user is asked to type.
    pub input: Option<InputKind>,
    /// Where a valid answer (or, with no input and no buttons, the step itself) leads.
    pub next: Option<StepRef>,
    /// The operation triggered after a valid answer, or on entering the step.
    pub call: Option<Operation>,
    /// Where each outcome of `call` leads.
    pub on: BTreeMap<vocab::OutcomeKey, Target>,
    /// Questions that this step answers, for free-text routing: its own `phrases` and its
    /// examples in `questions/<scenario>.toml`.
    pub phrases: Vec<String>,
    /// A short Fluent label of what the step answers, for «Вы про это?».
    pub topic: Option<String>,
    /// A check screen: a value of this kind typed here replaces the one being checked, and the
    /// step is shown again.
    pub retype: Option<InputKind>,
    /// An outside event (a decision, a reminder) that brings the conversation here.
    pub event: Option<String>,
    /// A reminder this step sets: `event` comes back after some working days.
    pub remind: Option<Remind>,
}

/// A reminder set on entering a step.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remind {
    /// The event that comes back (a step with this `event` answers it).
    pub event: String,
    /// After how many working days (Russian production calendar), in the morning.
    pub after_working_days: u32,
}

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub id: String,
    pub file: PathBuf,
    /// Fluent message id of the scenario's name.
    pub title: String,
    pub entry: String,
    /// Scenarios whose answers are preferred while a conversation is in this one.
    pub near: Vec<String>,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The highest step number, for "Шаг N из M".
    pub fn progress_total(&self) -> Option<u32> {
        self.steps.iter().filter_map(|s| s.progress).max()
    }
}

/// All scenarios, loaded and resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Scripts {
    pub scenarios: BTreeMap<String, Scenario>,
    /// The instruction's seed IDs, each with a short description.
    pub seed_ids: BTreeMap<String, String>,
    /// How free-text questions find their step.
    pub routing: RoutingRules,
    /// How typed answers are read.
    pub listening: ListeningRules,
    /// Named paths through the instruction (`seed.toml`'s `[paths]`): path → its scenarios.
    pub seed_paths: BTreeMap<String, Vec<String>>,
    /// A digest of every file, stored in sessions to notice deploys.
    pub version: String,
}

impl Scripts {
    pub fn step(&self, at: &StepRef) -> Option<&Step> {
        self.scenarios.get(&at.scenario)?.step(&at.step)
    }

    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.get(id)
    }

    /// Every step with its address.
    pub fn steps(&self) -> impl Iterator<Item = (StepRef, &Step)> {
        self.scenarios.values().flat_map(|sc| {
            sc.steps
                .iter()
                .map(move |st| (StepRef::new(&sc.id, &st.id), st))
        })
    }
}

/// What kind of thing is wrong: what tools and tests match on (the message says it for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemKind {
    /// A file cannot be read or parsed.
    Unreadable,
    /// A name that does not exist: a step, a scenario, an input kind, an operation, an
    /// outcome, a seed ID, a field.
    UnknownName,
    /// Two where there must be one: a step id, steps answering one event.
    Duplicate,
    /// A setting outside its range.
    BadSetting,
    /// A step the engine relies on (the menu, the deep-link step) is missing.
    MissingStep,
    /// A message is missing in a locale, or does not render.
    MissingMessage,
    /// A message uses a variable nothing gives it.
    UnknownVariable,
    /// A message or a call needs something not known on every way to its step.
    NotKnownHere,
    /// A step, an answer or an outcome leads nowhere.
    LeadsNowhere,
    /// A step's fields do not fit together.
    BadShape,
    /// No way leads to a step.
    Unreachable,
    /// An event nothing answers: a reminder's, or one the runtime raises.
    UnansweredEvent,
}

/// Something wrong with the scripts, naming where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub file: PathBuf,
    pub step: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn file(kind: ProblemKind, file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            kind,
            file: file.into(),
            step: None,
            message: message.into(),
        }
    }

    pub fn step(
        kind: ProblemKind,
        file: impl Into<PathBuf>,
        step: &str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            file: file.into(),
            step: Some(step.to_owned()),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.step {
            Some(step) => write!(
                f,
                "{}: step `{}`: {}",
                self.file.display(),
                step,
                self.message
            ),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// The problems found, for a caller that wants one error value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the scripts:\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct Problems(pub Vec<Problem>);

/// Scripts and locales that passed [`check`] together: the only way to build an
/// [`Engine`](crate::engine::Engine), so a conversation never meets an unchecked scenario.
#[derive(Debug)]
pub struct Checked {
    scripts: Scripts,
    locales: Locales,
}

impl Checked {
    /// The checked scripts and locales, to build an engine from.
    pub fn into_parts(self) -> (Scripts, Locales) {
        (self.scripts, self.locales)
    }
}
