//! Reads `dialogues/*.toml` strictly (unknown fields are errors) and resolves names into typed
//! values, collecting every problem with its file and step rather than stopping at the first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::vocab::{Condition, InputKind, Operation, OutcomeKey};
use super::{
    Button, ButtonAction, ListeningRules, Problem, ProblemKind, Problems, Remind, RoutingRules,
    Scenario, Scripts, Step, StepRef, Target, LISTENING_FILE, QUESTIONS_DIR, ROUTING_FILE,
    SEED_FILE,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    scenario: RawHeader,
    #[serde(default, rename = "step")]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    title: String,
    entry: String,
    #[serde(default)]
    near: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    say: Option<String>,
    seed: Option<String>,
    progress: Option<u32>,
    help: Option<String>,
    #[serde(default)]
    buttons: Vec<RawButton>,
    input: Option<String>,
    next: Option<String>,
    call: Option<String>,
    #[serde(default)]
    on: BTreeMap<String, String>,
    #[serde(default)]
    phrases: Vec<String>,
    topic: Option<String>,
    retype: Option<String>,
    event: Option<String>,
    remind: Option<Remind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawButton {
    label: String,
    goto: Option<String>,
    url: Option<String>,
    when: Option<String>,
    #[serde(default)]
    phrases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    seed: BTreeMap<String, String>,
    #[serde(default)]
    paths: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRouting {
    routing: RoutingRules,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListening {
    listening: ListeningRules,
}

/// `questions/<scenario>.toml`: example questions for the scenario's answer steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestions {
    scenario: String,
    examples: BTreeMap<String, Vec<String>>,
}

/// Loads every scenario of `dir` (with its `seed.toml`, rules and `questions/`).
pub fn load(dir: &Path) -> Result<Scripts, Problems> {
    load_sources(&read_sources(dir)?)
}

/// The files of a dialogues folder as (path, text): its `*.toml` and those of `questions/`.
pub fn read_sources(dir: &Path) -> Result<Vec<(PathBuf, String)>, Problems> {
    let toml_files = |folder: &Path| -> Result<Vec<PathBuf>, std::io::Error> {
        Ok(std::fs::read_dir(folder)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect())
    };
    let mut files = toml_files(dir).map_err(|e| {
        Problems(vec![Problem::file(
            ProblemKind::Unreadable,
            dir,
            format!("cannot read the folder: {e}"),
        )])
    })?;
    let questions = dir.join(QUESTIONS_DIR);
    if questions.is_dir() {
        files.extend(toml_files(&questions).map_err(|e| {
            Problems(vec![Problem::file(
                ProblemKind::Unreadable,
                &questions,
                format!("cannot read the folder: {e}"),
            )])
        })?);
    }
    files.sort();
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => sources.push((file, text)),
            Err(e) => problems.push(Problem::file(
                ProblemKind::Unreadable,
                &file,
                format!("cannot read: {e}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(sources)
    } else {
        Err(Problems(problems))
    }
}

/// Loads scenarios from in-memory files: (path, TOML text). The file named `seed.toml` lists
/// the seed IDs; files in a `questions` folder hold example questions.
pub fn load_sources(sources: &[(PathBuf, String)]) -> Result<Scripts, Problems> {
    let mut problems = Vec::new();
    let mut seed_ids = BTreeMap::new();
    let mut seed_paths = BTreeMap::new();
    let mut routing = RoutingRules::default();
    let mut listening = ListeningRules::default();
    let mut raw_files = Vec::new();
    let mut questions = Vec::new();
    for (path, text) in sources {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let in_questions = path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == QUESTIONS_DIR);
        if in_questions {
            match toml::from_str::<RawQuestions>(text) {
                Ok(raw) => questions.push((path.clone(), raw)),
                Err(e) => {
                    problems.push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
                }
            }
        } else if name.as_deref() == Some(LISTENING_FILE) {
            match toml::from_str::<RawListening>(text) {
                Ok(raw) => listening = raw.listening,
                Err(e) => {
                    problems.push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
                }
            }
        } else if name.as_deref() == Some(SEED_FILE) {
            match toml::from_str::<RawSeed>(text) {
                Ok(raw) => {
                    seed_ids = raw.seed;
                    seed_paths = raw.paths;
                }
                Err(e) => {
                    problems.push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
                }
            }
        } else if name.as_deref() == Some(ROUTING_FILE) {
            match toml::from_str::<RawRouting>(text) {
                Ok(raw) if raw.routing.thresholds_valid() => routing = raw.routing,
                Ok(_) => problems.push(Problem::file(
                    ProblemKind::BadSetting,
                    path,
                    "thresholds must be between 0 and 1, clarify_threshold at most threshold",
                )),
                Err(e) => {
                    problems.push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
                }
            }
        } else {
            match toml::from_str::<RawFile>(text) {
                Ok(raw) => raw_files.push((path.clone(), raw)),
                Err(e) => {
                    problems.push(Problem::file(ProblemKind::Unreadable, path, e.to_string()))
                }
            }
        }
    }
    if !sources
        .iter()
        .any(|(p, _)| p.file_name().is_some_and(|n| n == SEED_FILE))
    {
        problems.push(Problem::file(
            ProblemKind::BadShape,
            SEED_FILE,
            "the list of seed IDs is missing".to_owned(),
        ));
    }

    // Step ids per scenario, to resolve targets; duplicates are reported here.
    let mut known: BTreeMap<String, (PathBuf, Vec<String>)> = BTreeMap::new();
    for (path, raw) in &raw_files {
        if let Some((other, _)) = known.get(&raw.scenario.id) {
            problems.push(Problem::file(
                ProblemKind::Duplicate,
                path,
                format!(
                    "scenario id `{}` is also used by {}",
                    raw.scenario.id,
                    other.display()
                ),
            ));
            continue;
        }
        let mut ids: Vec<String> = Vec::new();
        for step in &raw.steps {
            if ids.contains(&step.id) {
                problems.push(Problem::step(
                    ProblemKind::Duplicate,
                    path,
                    &step.id,
                    "duplicate step id",
                ));
            }
            ids.push(step.id.clone());
        }
        known.insert(raw.scenario.id.clone(), (path.clone(), ids));
    }

    let mut scenarios = BTreeMap::new();
    for (path, raw) in raw_files {
        if known.get(&raw.scenario.id).is_some_and(|(p, _)| *p != path) {
            continue;
        }
        let resolver = Resolver {
            known: &known,
            scenario: &raw.scenario.id,
        };
        if !known
            .get(&raw.scenario.id)
            .is_some_and(|(_, ids)| ids.contains(&raw.scenario.entry))
        {
            problems.push(Problem::file(
                ProblemKind::UnknownName,
                &path,
                format!("entry step `{}` does not exist", raw.scenario.entry),
            ));
        }
        for near in &raw.scenario.near {
            if !known.contains_key(near) {
                problems.push(Problem::file(
                    ProblemKind::UnknownName,
                    &path,
                    format!("`near` names an unknown scenario `{near}`"),
                ));
            }
        }
        let mut steps = Vec::new();
        for step in raw.steps {
            let id = step.id.clone();
            let mut report = |kind: ProblemKind, message: String| {
                problems.push(Problem::step(kind, &path, &id, message))
            };
            steps.push(resolve_step(step, &resolver, &mut report));
        }
        scenarios.insert(
            raw.scenario.id.clone(),
            Scenario {
                id: raw.scenario.id,
                file: path,
                title: raw.scenario.title,
                entry: raw.scenario.entry,
                near: raw.scenario.near,
                steps,
            },
        );
    }
    for (path, raw) in questions {
        let Some(scenario) = scenarios.get_mut(&raw.scenario) else {
            problems.push(Problem::file(
                ProblemKind::UnknownName,
                &path,
                format!("unknown scenario `{}`", raw.scenario),
            ));
            continue;
        };
        for (id, examples) in raw.examples {
            match scenario.steps.iter_mut().find(|s| s.id == id) {
                Some(step) => step.phrases.extend(examples),
                None => problems.push(Problem::step(
                    ProblemKind::UnknownName,
                    &path,
                    &id,
                    "no such step in the scenario",
                )),
            }
        }
    }

    if problems.is_empty() {
        Ok(Scripts {
            scenarios,
            seed_ids,
            routing,
            listening,
            seed_paths,
            version: digest(sources),
        })
    } else {
        Err(Problems(problems))
    }
}

struct Resolver<'a> {
    known: &'a BTreeMap<String, (PathBuf, Vec<String>)>,
    scenario: &'a str,
}

impl Resolver<'_> {
    /// `step` in this scenario, or `scenario/step`.
    fn step(&self, target: &str) -> Result<StepRef, String> {
        let (scenario, step) = target.split_once('/').unwrap_or((self.scenario, target));
        match self.known.get(scenario) {
            Some((_, ids)) if ids.iter().any(|id| id == step) => Ok(StepRef::new(scenario, step)),
            Some(_) => Err(format!("unknown step target `{target}`")),
            None => Err(format!(
                "unknown step target `{target}` (no scenario `{scenario}`)"
            )),
        }
    }

    fn target(&self, target: &str) -> Result<Target, String> {
        if target == "." {
            Ok(Target::Stay)
        } else {
            self.step(target).map(Target::Step)
        }
    }
}

fn resolve_step(
    raw: RawStep,
    resolver: &Resolver<'_>,
    report: &mut impl FnMut(ProblemKind, String),
) -> Step {
    let input = raw.input.as_deref().and_then(|name| {
        let kind = InputKind::from_name(name);
        if kind.is_none() {
            report(
                ProblemKind::UnknownName,
                format!(
                    "unknown input kind `{name}` (known: {})",
                    InputKind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        kind
    });
    let retype = raw.retype.as_deref().and_then(|name| {
        let kind = InputKind::from_name(name);
        if kind.is_none() {
            report(
                ProblemKind::UnknownName,
                format!("unknown input kind `{name}` in `retype`"),
            );
        }
        kind
    });
    let call = raw.call.as_deref().and_then(|name| {
        let op = Operation::from_name(name);
        if op.is_none() {
            report(
                ProblemKind::UnknownName,
                format!(
                    "unknown service operation `{name}` (known: {})",
                    Operation::ALL
                        .iter()
                        .map(|o| o.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        op
    });
    let next = raw.next.as_deref().and_then(|t| {
        resolver
            .step(t)
            .map_err(|e| report(ProblemKind::UnknownName, e))
            .ok()
    });
    let mut on = BTreeMap::new();
    for (name, target) in raw.on {
        let Some(outcome) = OutcomeKey::from_name(&name) else {
            report(
                ProblemKind::UnknownName,
                format!("unknown outcome `{name}`"),
            );
            continue;
        };
        if let Some(op) = call {
            if !op.has_outcome(outcome) {
                report(
                    ProblemKind::UnknownName,
                    format!("operation `{op}` has no outcome `{outcome}`"),
                );
            }
        }
        if let Ok(t) = resolver
            .target(&target)
            .map_err(|e| report(ProblemKind::UnknownName, e))
        {
            on.insert(outcome, t);
        }
    }
    let mut buttons = Vec::new();
    for b in raw.buttons {
        let action = match (b.goto, b.url) {
            (Some(goto), None) => resolver
                .step(&goto)
                .map(ButtonAction::Goto)
                .map_err(|e| report(ProblemKind::UnknownName, e))
                .ok(),
            (None, Some(url)) if url.starts_with("https://") => Some(ButtonAction::Url(url)),
            (None, Some(url)) => {
                report(
                    ProblemKind::BadShape,
                    format!("button `{}`: `{url}` is not an https address", b.label),
                );
                None
            }
            _ => {
                report(
                    ProblemKind::BadShape,
                    format!("button `{}` needs exactly one of `goto` or `url`", b.label),
                );
                None
            }
        };
        let when = b.when.as_deref().and_then(|name| {
            let c = Condition::from_name(name);
            if c.is_none() {
                report(
                    ProblemKind::UnknownName,
                    format!("button `{}`: unknown condition `{name}`", b.label),
                );
            }
            c
        });
        if let Some(action) = action {
            buttons.push(Button {
                label: b.label,
                action,
                when,
                phrases: b.phrases,
            });
        }
    }
    Step {
        id: raw.id,
        say: raw.say,
        seed: raw.seed,
        progress: raw.progress,
        help: raw.help,
        buttons,
        input,
        next,
        call,
        on,
        phrases: raw.phrases,
        topic: raw.topic,
        retype,
        event: raw.event,
        remind: raw.remind,
    }
}

/// FNV-1a over every file's name and text: stable across builds and platforms.
fn digest(sources: &[(PathBuf, String)]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for (path, text) in sources {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        for byte in name.bytes().chain([0]).chain(text.bytes()).chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    format!("{hash:016x}")
}
