//! The static checker behind `sferum-bot check` and every start-up: it proves that the loaded
//! scenarios form a sound graph and that every message they show exists in every language with
//! the variables the conversation can give it at that point.
//!
//! Variables are proven by a forward data-flow over the step graph: the facts known on entering a
//! step are those established on every path that reaches it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::vocab::{self, variable_providers, Fact, OutcomeKey, RuntimeEvent};
use super::{
    ButtonAction, Checked, Msg, Problem, ProblemKind, Problems, Scripts, Step, StepRef, Target,
    DEEP_LINK, MENU,
};
use crate::i18n::{Args, Locales};
use crate::service::RejectionCode;

type Facts = BTreeSet<Fact>;

/// `scripts` and `locales`, checked together: an engine can be built only from what passes.
pub fn check(scripts: Scripts, locales: Locales) -> Result<Checked, Problems> {
    let problems = find_problems(&scripts, &locales);
    if problems.is_empty() {
        Ok(Checked { scripts, locales })
    } else {
        Err(Problems(problems))
    }
}

/// Every problem with `scripts` against `locales`; empty when they are sound.
pub fn find_problems(scripts: &Scripts, locales: &Locales) -> Vec<Problem> {
    let mut problems = Vec::new();
    check_conventions(scripts, &mut problems);
    check_system_messages(locales, &mut problems);
    check_events(scripts, &mut problems);
    for (at, step) in scripts.steps() {
        check_step_shape(scripts, &at, step, &mut problems);
    }
    check_reachability(scripts, &mut problems);
    check_listening(scripts, locales, &mut problems);
    check_facts_and_messages(scripts, locales, &mut problems);
    problems
}

/// Which seed IDs the scenarios deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub delivered: BTreeMap<String, Vec<StepRef>>,
    pub missing: Vec<String>,
}

/// The seed IDs each named path (`seed.toml`'s `[paths]`) delivers.
pub fn path_coverage(scripts: &Scripts) -> BTreeMap<String, BTreeSet<String>> {
    scripts
        .seed_paths
        .iter()
        .map(|(path, scenarios)| {
            let ids = scripts
                .steps()
                .filter(|(at, _)| scenarios.contains(&at.scenario))
                .filter_map(|(_, step)| step.seed.clone())
                .collect();
            (path.clone(), ids)
        })
        .collect()
}

pub fn coverage(scripts: &Scripts) -> Coverage {
    let mut delivered: BTreeMap<String, Vec<StepRef>> = BTreeMap::new();
    for (at, step) in scripts.steps() {
        if let Some(seed) = &step.seed {
            delivered.entry(seed.clone()).or_default().push(at);
        }
    }
    let missing = scripts
        .seed_ids
        .keys()
        .filter(|id| !delivered.contains_key(*id))
        .cloned()
        .collect();
    Coverage { delivered, missing }
}

fn file_of(scripts: &Scripts, at: &StepRef) -> std::path::PathBuf {
    scripts
        .scenario(&at.scenario)
        .map(|s| s.file.clone())
        .unwrap_or_else(|| at.scenario.clone().into())
}

fn check_conventions(scripts: &Scripts, problems: &mut Vec<Problem>) {
    for (scenario, step, why) in [
        (MENU.0, MENU.1, "every conversation starts there"),
        (DEEP_LINK.0, DEEP_LINK.1, "deep links lead there"),
    ] {
        if scripts.step(&StepRef::new(scenario, step)).is_none() {
            problems.push(Problem::file(
                ProblemKind::MissingStep,
                format!("{scenario}.toml"),
                format!("the step `{scenario}/{step}` is required: {why}"),
            ));
        }
    }
}

fn check_system_messages(locales: &Locales, problems: &mut Vec<Problem>) {
    let language_names: Vec<(String, &[&str])> = locales
        .languages()
        .map(|lang| (format!("lang-{lang}"), &[] as &[&str]))
        .collect();
    let required = Msg::ALL
        .iter()
        .map(|m| (m.id().to_owned(), m.variables()))
        .chain(
            RejectionCode::ALL
                .iter()
                .map(|c| (c.message().to_owned(), c.variables())),
        )
        .chain(language_names);
    for (id, vars) in required {
        for lang in locales.languages() {
            if !locales.has_message(lang, &id) {
                problems.push(Problem::file(
                    ProblemKind::MissingMessage,
                    format!("locales/{lang}"),
                    format!("the engine's message `{id}` is missing"),
                ));
                continue;
            }
            for var in locales.variables(lang, &id) {
                if !vars.contains(&var.as_str()) {
                    problems.push(Problem::file(
                        ProblemKind::UnknownVariable,
                        format!("locales/{lang}"),
                        format!("message `{id}` uses `${var}`, which the engine does not give it"),
                    ));
                }
            }
        }
    }
    // Every term the deployment chose exists in every language.
    for message in locales.chosen_terms() {
        for lang in locales.languages() {
            if let Err(error) = locales.format(lang, message, &Args::new()) {
                problems.push(Problem::file(
                    ProblemKind::MissingMessage,
                    format!("locales/{lang}"),
                    format!("the deployment's choice `{message}` does not render: {error}"),
                ));
            }
        }
    }
}

/// Every event the runtime raises for a scenario to answer is answered by one step, and every
/// step's `event` is one somebody raises (the runtime, or a reminder).
fn check_events(scripts: &Scripts, problems: &mut Vec<Problem>) {
    let answering = |event: &str| {
        scripts
            .steps()
            .filter(|(_, s)| s.event.as_deref() == Some(event))
            .count()
    };
    for event in RuntimeEvent::ALL.iter().filter(|e| e.answered_by_a_step()) {
        if answering(event.name()) == 0 {
            problems.push(Problem::file(
                ProblemKind::UnansweredEvent,
                "dialogues",
                format!("no step answers the runtime's event `{}`", event.name()),
            ));
        }
    }
    for (at, step) in scripts.steps() {
        let Some(event) = &step.event else { continue };
        let raised_by_runtime =
            RuntimeEvent::from_name(event).is_some_and(|e| e.answered_by_a_step());
        let raised_by_reminder = scripts
            .steps()
            .any(|(_, s)| s.remind.as_ref().is_some_and(|r| r.event == *event));
        if !raised_by_runtime && !raised_by_reminder {
            problems.push(Problem::step(
                ProblemKind::UnknownName,
                file_of(scripts, &at),
                &step.id,
                format!("nothing raises the event `{event}`: neither the runtime nor a reminder"),
            ));
        }
        let count = answering(event);
        if count > 1 {
            problems.push(Problem::step(
                ProblemKind::Duplicate,
                file_of(scripts, &at),
                &step.id,
                format!("event `{event}` is answered by {count} steps"),
            ));
        }
    }
}

/// The messages `listening.toml` names exist, and every answer step can be offered when the
/// bot asks «Вы про это?» (it has a `topic`).
fn check_listening(scripts: &Scripts, locales: &Locales, problems: &mut Vec<Problem>) {
    let file = super::LISTENING_FILE;
    let rules = &scripts.listening;
    let named = rules
        .meanings
        .iter()
        .flat_map(|(meaning, m)| {
            m.labels
                .iter()
                .map(move |l| (format!("meaning `{meaning}`"), l))
        })
        .chain(
            rules
                .courtesy
                .iter()
                .map(|(kind, c)| (format!("courtesy `{kind}`"), &c.say)),
        );
    for (what, id) in named {
        for lang in locales.languages() {
            if !locales.has_message(lang, id) {
                problems.push(Problem::file(
                    ProblemKind::MissingMessage,
                    file,
                    format!("{what} names `{id}`, which is missing in locale `{lang}`"),
                ));
            }
        }
    }
    for (at, step) in scripts.steps() {
        if !step.phrases.is_empty() && step.topic.is_none() {
            problems.push(Problem::step(
                ProblemKind::BadShape,
                file_of(scripts, &at),
                &step.id,
                "answers questions but has no `topic` to offer it by",
            ));
        }
    }
}

fn check_step_shape(scripts: &Scripts, at: &StepRef, step: &Step, problems: &mut Vec<Problem>) {
    let file = file_of(scripts, at);
    let mut report = |kind: ProblemKind, message: String| {
        problems.push(Problem::step(kind, &file, &step.id, message))
    };
    if let Some(seed) = &step.seed {
        if !scripts.seed_ids.contains_key(seed) {
            report(
                ProblemKind::UnknownName,
                format!("seed ID `{seed}` does not exist in seed.toml"),
            );
        }
    }
    let presses = step
        .buttons
        .iter()
        .filter(|b| matches!(b.action, ButtonAction::Goto(_)))
        .count();
    if presses == 0 && step.input.is_none() && step.call.is_none() && step.next.is_none() {
        report(
            ProblemKind::LeadsNowhere,
            "dead end: no button, no input, no call and no `next` lead anywhere".to_owned(),
        );
    }
    if step.say.is_none() && (step.input.is_some() || !step.buttons.is_empty()) {
        report(
            ProblemKind::BadShape,
            "a step that asks for input or shows buttons needs `say`".to_owned(),
        );
    }
    if step.input.is_some() && step.call.is_none() && step.next.is_none() {
        report(
            ProblemKind::LeadsNowhere,
            "a valid answer leads nowhere: add `next` or `call`".to_owned(),
        );
    }
    if step.call.is_some() && step.next.is_some() {
        report(
            ProblemKind::BadShape,
            "`next` and `call` together: outcomes of `call` decide where to go".to_owned(),
        );
    }
    if step.call.is_none() && !step.on.is_empty() {
        report(ProblemKind::BadShape, "`on` without `call`".to_owned());
    }
    if step.input.is_none() && step.next.is_some() && !step.buttons.is_empty() {
        report(
            ProblemKind::BadShape,
            "`next` without input would skip the buttons".to_owned(),
        );
    }
    if step.remind.is_some() && step.say.is_none() {
        report(
            ProblemKind::BadShape,
            "a step that sets a reminder (`remind`) needs `say` to tell the date".to_owned(),
        );
    }
    if let Some(remind) = &step.remind {
        if !scripts
            .steps()
            .any(|(_, s)| s.event.as_deref() == Some(remind.event.as_str()))
        {
            report(
                ProblemKind::UnansweredEvent,
                format!("no step answers the reminder's event `{}`", remind.event),
            );
        }
    }
    if !step.phrases.is_empty() && step.say.is_none() {
        report(
            ProblemKind::BadShape,
            "a step that answers questions (`phrases`) needs `say`".to_owned(),
        );
    }
    if let Some(op) = step.call {
        for (outcome, _) in op.successes() {
            if !step.on.contains_key(outcome) {
                report(
                    ProblemKind::LeadsNowhere,
                    format!("outcome `{outcome}` of `{op}` leads nowhere"),
                );
            }
        }
        let automatic = step.input.is_none();
        if automatic && !step.on.contains_key(&OutcomeKey::AnyError) {
            for code in op.rejections() {
                if !step.on.contains_key(&OutcomeKey::Refused(*code)) {
                    let any = OutcomeKey::AnyError;
                    report(
                        ProblemKind::LeadsNowhere,
                        format!(
                            "rejection `{}` of `{op}` leads nowhere: name it or add `{any}`",
                            code.code()
                        ),
                    );
                }
            }
        }
        if automatic
            && step
                .on
                .iter()
                .any(|(k, t)| *t == Target::Stay && *k != OutcomeKey::Unavailable)
        {
            report(
                ProblemKind::BadShape,
                "`.` (stay) on a step without input would call the service again at once"
                    .to_owned(),
            );
        }
    }
}

/// The steps a conversation can start from, with the facts known there.
fn roots(scripts: &Scripts) -> Vec<(StepRef, Facts)> {
    let mut roots = vec![
        (StepRef::menu(), Facts::new()),
        (StepRef::deep_link(), Facts::from([Fact::InviteToken])),
    ];
    for (at, step) in scripts.steps() {
        // Questions can lead here whatever the conversation knows; an outside event only when
        // the conversation has what the step's operation needs (the engine checks).
        if step.event.is_some() {
            let needs = step.call.map(|op| op.requires()).unwrap_or_default();
            roots.push((at, needs.iter().copied().collect()));
        } else if !step.phrases.is_empty() {
            roots.push((at, Facts::new()));
        }
    }
    roots
}

/// The steps reachable from `step` with the facts each edge adds.
fn edges(step: &Step) -> Vec<(StepRef, Vec<Fact>)> {
    let mut out = Vec::new();
    for b in &step.buttons {
        if let ButtonAction::Goto(to) = &b.action {
            out.push((to.clone(), Vec::new()));
        }
    }
    let answered: Vec<Fact> = step.input.map(|k| k.produces()).into_iter().collect();
    if let Some(next) = &step.next {
        out.push((next.clone(), answered.clone()));
    }
    if let Some(op) = step.call {
        for (outcome, target) in &step.on {
            if let Target::Step(to) = target {
                let mut facts = answered.clone();
                facts.extend_from_slice(op.produces(*outcome));
                out.push((to.clone(), facts));
            }
        }
    }
    out
}

fn check_reachability(scripts: &Scripts, problems: &mut Vec<Problem>) {
    let mut seen: BTreeSet<StepRef> = BTreeSet::new();
    let mut queue: VecDeque<StepRef> = roots(scripts).into_iter().map(|(at, _)| at).collect();
    while let Some(at) = queue.pop_front() {
        if !seen.insert(at.clone()) {
            continue;
        }
        if let Some(step) = scripts.step(&at) {
            queue.extend(edges(step).into_iter().map(|(to, _)| to));
        }
    }
    for (at, step) in scripts.steps() {
        if !seen.contains(&at) {
            problems.push(Problem::step(
                ProblemKind::Unreachable,
                file_of(scripts, &at),
                &step.id,
                "unreachable: no button, outcome or question leads here",
            ));
        }
    }
}

/// The facts known on entering each reachable step (the intersection over all paths).
fn known_facts(scripts: &Scripts) -> BTreeMap<StepRef, Facts> {
    let mut known: BTreeMap<StepRef, Facts> = BTreeMap::new();
    let mut queue: VecDeque<(StepRef, Facts)> = roots(scripts).into_iter().collect();
    while let Some((at, incoming)) = queue.pop_front() {
        let updated = match known.get(&at) {
            None => incoming,
            Some(current) => {
                let meet: Facts = current.intersection(&incoming).copied().collect();
                if meet == *current {
                    continue;
                }
                meet
            }
        };
        known.insert(at.clone(), updated.clone());
        if let Some(step) = scripts.step(&at) {
            for (to, added) in edges(step) {
                let mut facts = own_facts(step, &updated);
                facts.extend(added);
                queue.push_back((to, facts));
            }
        }
    }
    known
}

/// The facts known while a step is shown: those it was entered with, and what it sets itself.
fn own_facts(step: &Step, entered_with: &Facts) -> Facts {
    let mut facts = entered_with.clone();
    if step.remind.is_some() {
        facts.insert(Fact::ReminderDate);
    }
    facts
}

fn provided(facts: &Facts) -> BTreeSet<&'static str> {
    vocab::VARIABLES
        .iter()
        .filter(|(_, providers)| {
            providers.is_empty() || providers.iter().any(|f| facts.contains(f))
        })
        .map(|(name, _)| *name)
        .collect()
}

fn check_facts_and_messages(scripts: &Scripts, locales: &Locales, problems: &mut Vec<Problem>) {
    let known = known_facts(scripts);
    for (at, step) in scripts.steps() {
        let Some(facts) = known.get(&at) else {
            continue; // unreachable, reported already
        };
        let file = file_of(scripts, &at);
        let mut report = |kind: ProblemKind, message: String| {
            problems.push(Problem::step(kind, &file, &step.id, message))
        };
        let available = provided(&own_facts(step, facts));
        let mut messages: Vec<(&str, &str)> = Vec::new();
        if let Some(say) = &step.say {
            messages.push(("say", say));
        }
        if let Some(help) = &step.help {
            messages.push(("help", help));
        }
        if let Some(topic) = &step.topic {
            messages.push(("topic", topic));
        }
        for b in &step.buttons {
            messages.push(("button label", &b.label));
        }
        for (role, id) in messages {
            for lang in locales.languages() {
                if !locales.has_message(lang, id) {
                    report(
                        ProblemKind::MissingMessage,
                        format!("{role} `{id}` is missing in locale `{lang}`"),
                    );
                    continue;
                }
                for var in locales.variables(lang, id) {
                    if variable_providers(&var).is_none() {
                        report(
                            ProblemKind::UnknownVariable,
                            format!(
                                "{role} `{id}` ({lang}) uses `${var}`, which no step can provide"
                            ),
                        );
                    } else if !available.contains(var.as_str()) {
                        report(
                            ProblemKind::NotKnownHere,
                            format!(
                                "{role} `{id}` ({lang}) uses `${var}`, which is not known on every way to this step"
                            ),
                        );
                    }
                }
            }
        }
        let mut need = |what: String, required: &[Fact], have: &Facts| {
            for fact in required {
                if !have.contains(fact) {
                    report(
                        ProblemKind::NotKnownHere,
                        format!(
                            "{what} needs {fact:?}, which is not known on every way to this step"
                        ),
                    );
                }
            }
        };
        if let Some(kind) = step.input {
            need(format!("input `{kind}`"), kind.requires(), facts);
        }
        if let Some(op) = step.call {
            let mut after_input = facts.clone();
            after_input.extend(step.input.map(|k| k.produces()));
            need(format!("operation `{op}`"), op.requires(), &after_input);
        }
        for b in &step.buttons {
            if let Some(cond) = b.when {
                need(
                    format!("the condition of button `{}`", b.label),
                    cond.requires(),
                    facts,
                );
            }
        }
    }
    for sc in scripts.scenarios.values() {
        for lang in locales.languages() {
            if !locales.has_message(lang, &sc.title) {
                problems.push(Problem::file(
                    ProblemKind::MissingMessage,
                    &sc.file,
                    format!("title `{}` is missing in locale `{lang}`", sc.title),
                ));
            }
        }
    }
}
