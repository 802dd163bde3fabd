//! The funnel of every step: per school day, how many conversations entered a step and how
//! many left it forward, back, or not at all for 24 hours. Counted from the steps a turn
//! actually passed through (automatic ones too), kept with the turn's commit, and read back for
//! `sferum-bot stats`, the `/stats` page and `sferum-bot graph --stats`. No field names a
//! person: only scenario and step ids.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::script::{Scripts, StepRef};

/// What a conversation did at a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// Came to it.
    Entered,
    /// Went on to a step it had not seen yet.
    Forward,
    /// Went back to a step it had seen (`/back`, «Вернуться к своему шагу», the menu).
    Back,
    /// Stayed there, silent, for 24 hours in the middle of a scenario.
    Stalled,
}

impl Move {
    const ALL: [Move; 4] = [Move::Entered, Move::Forward, Move::Back, Move::Stalled];

    fn code(self) -> char {
        match self {
            Move::Entered => 'e',
            Move::Forward => 'f',
            Move::Back => 'b',
            Move::Stalled => 's',
        }
    }
}

/// The stored field of `at`'s count of `what`: `scenario/step|e`.
pub fn field(at: &StepRef, what: Move) -> String {
    format!("{at}|{}", what.code())
}

fn parse_field(field: &str) -> Option<(&str, Move)> {
    let (step, code) = field.rsplit_once('|')?;
    let what = Move::ALL
        .into_iter()
        .find(|m| code.len() == 1 && code.starts_with(m.code()))?;
    Some((step, what))
}

/// What one turn adds: the conversation was at `before` (having seen `seen`), passed through
/// `trail`, and, when an idle check found it silent, `stalled` there. A step shown again (the
/// same step twice in a row) is not entered again.
pub fn count(
    before: &StepRef,
    seen: &[StepRef],
    trail: &[StepRef],
    stalled: Option<&StepRef>,
) -> Vec<(String, u32)> {
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut add = |at: &StepRef, what: Move| *counts.entry(field(at, what)).or_default() += 1;
    let mut from = before;
    let mut passed: Vec<&StepRef> = Vec::new();
    for to in trail {
        if to == from {
            continue;
        }
        add(to, Move::Entered);
        let back = seen.contains(to) || passed.contains(&to);
        add(from, if back { Move::Back } else { Move::Forward });
        passed.push(from);
        from = to;
    }
    if let Some(at) = stalled {
        add(at, Move::Stalled);
    }
    counts.into_iter().collect()
}

/// One step's counts over some days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepCounts {
    pub entered: u64,
    pub forward: u64,
    pub back: u64,
    pub stalled: u64,
}

impl StepCounts {
    /// The share of those who entered that stopped here for a day, in percent.
    pub fn drop_off_percent(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.entered > 0).then(|| 100.0 * self.stalled as f64 / self.entered as f64)
    }
}

/// The counts of every step, summed over the days read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Funnel {
    pub steps: BTreeMap<String, StepCounts>,
}

impl Funnel {
    /// Sums stored days (field → count, as [`field`] writes them); unknown fields are skipped.
    pub fn from_days<'a>(days: impl IntoIterator<Item = &'a BTreeMap<String, u64>>) -> Self {
        let mut funnel = Funnel::default();
        for day in days {
            for (name, n) in day {
                let Some((step, what)) = parse_field(name) else {
                    continue;
                };
                let counts = funnel.steps.entry(step.to_owned()).or_default();
                let slot = match what {
                    Move::Entered => &mut counts.entered,
                    Move::Forward => &mut counts.forward,
                    Move::Back => &mut counts.back,
                    Move::Stalled => &mut counts.stalled,
                };
                *slot += n;
            }
        }
        funnel
    }

    pub fn at(&self, at: &StepRef) -> StepCounts {
        self.steps.get(&at.to_string()).copied().unwrap_or_default()
    }

    /// How many entered each step (`scenario/step` → count), for the flow graph.
    pub fn entered(&self) -> BTreeMap<String, u64> {
        self.steps
            .iter()
            .map(|(step, c)| (step.clone(), c.entered))
            .collect()
    }
}

/// The scenarios the operators read first, in the order of the instruction; the others follow.
pub const MAIN_SCENARIOS: [&str; 5] = ["variant1", "guide", "variant2", "parent_chats", "diary"];

/// The scenarios in the order they are shown: [`MAIN_SCENARIOS`], then the rest by id.
pub fn scenario_order(scripts: &Scripts) -> Vec<&str> {
    let mut order: Vec<&str> = MAIN_SCENARIOS
        .iter()
        .copied()
        .filter(|id| scripts.scenario(id).is_some())
        .collect();
    for id in scripts.scenarios.keys() {
        if !order.contains(&id.as_str()) {
            order.push(id);
        }
    }
    order
}

/// The funnel as a table for the terminal: one block per main scenario and per other scenario
/// someone entered, one row per step in the scenario's order, with its number ("Шаг N") where
/// it has one.
pub fn table(scripts: &Scripts, funnel: &Funnel, days: u32, until: chrono::NaiveDate) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "funnel of {days} day(s) up to {until}, school time");
    for id in scenario_order(scripts) {
        let Some(scenario) = scripts.scenario(id) else {
            continue;
        };
        let entered = scenario
            .steps
            .iter()
            .any(|s| funnel.at(&StepRef::new(id, &s.id)).entered > 0);
        if !entered && !MAIN_SCENARIOS.contains(&id) {
            continue;
        }
        let _ = writeln!(out, "\n{id}");
        let _ = writeln!(
            out,
            "  {:<28} {:>4} {:>8} {:>8} {:>6} {:>8} {:>9}",
            "step", "no.", "entered", "forward", "back", "stalled", "drop-off"
        );
        for step in &scenario.steps {
            let at = StepRef::new(id, &step.id);
            let c = funnel.at(&at);
            let number = step.progress.map_or_else(String::new, |n| n.to_string());
            let drop = c
                .drop_off_percent()
                .map_or_else(|| "-".to_owned(), |p| format!("{p:.0}%"));
            let _ = writeln!(
                out,
                "  {:<28} {:>4} {:>8} {:>8} {:>6} {:>8} {:>9}",
                step.id, number, c.entered, c.forward, c.back, c.stalled, drop
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> StepRef {
        let (scenario, step) = s.split_once('/').expect("scenario/step");
        StepRef::new(scenario, step)
    }

    #[test]
    fn a_turn_counts_each_step_it_entered_and_how_it_left_the_one_before() {
        let counts = count(
            &at("variant1/contact"),
            &[at("menu/main"), at("variant1/welcome")],
            &[
                at("variant1/confirm_contact"),
                at("variant1/send_code"),
                at("variant1/code"),
            ],
            None,
        );
        let get = |f: &str| counts.iter().find(|(k, _)| k == f).map(|(_, n)| *n);
        assert_eq!(get("variant1/confirm_contact|e"), Some(1));
        assert_eq!(get("variant1/code|e"), Some(1));
        assert_eq!(get("variant1/contact|f"), Some(1));
        assert_eq!(get("variant1/send_code|f"), Some(1));
        assert_eq!(get("variant1/code|f"), None, "still there");
    }

    #[test]
    fn going_to_a_step_seen_before_is_back_and_showing_the_same_step_again_is_nothing() {
        let back = count(
            &at("variant1/code"),
            &[at("variant1/contact")],
            &[at("variant1/contact")],
            None,
        );
        assert_eq!(
            back,
            vec![
                ("variant1/code|b".to_owned(), 1),
                ("variant1/contact|e".to_owned(), 1)
            ]
        );
        assert!(count(&at("variant1/code"), &[], &[at("variant1/code")], None).is_empty());
    }

    #[test]
    fn days_add_up_and_a_stall_is_a_drop_off() {
        let day = |entered: u64, stalled: u64| {
            BTreeMap::from([
                ("variant1/code|e".to_owned(), entered),
                ("variant1/code|s".to_owned(), stalled),
                ("garbage".to_owned(), 7),
            ])
        };
        let funnel = Funnel::from_days([&day(6, 1), &day(4, 1)]);
        let code = funnel.at(&at("variant1/code"));
        assert_eq!((code.entered, code.stalled), (10, 2));
        assert_eq!(code.drop_off_percent(), Some(20.0));
        assert_eq!(funnel.entered().get("variant1/code"), Some(&10));
    }
}
