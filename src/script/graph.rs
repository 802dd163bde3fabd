//! The scenarios as a picture: every step of every scenario as a node and every way between
//! steps as an edge, written as Mermaid (the default; the repository host renders it in
//! Markdown) or Graphviz DOT, for `sferum-bot graph`.
//!
//! Pure: scripts in, text out. One Mermaid `subgraph` (one DOT `cluster`) per scenario; the
//! edges are drawn after every node, so those that cross scenarios are drawn like the rest:
//!
//! - a button's target, labelled with the button's label (its Fluent message id, and the
//!   condition it is shown under);
//! - `next` after an input (labelled with the input kind), or after a step that only says
//!   something (labelled `next`), drawn thick;
//! - each `on` outcome of a service call, labelled with the outcome's key (a step that stays,
//!   `"."`, gets a loop);
//! - an event node for each event a step answers (raised by the runtime or by a reminder),
//!   with a dotted edge to the step labelled with the event's name, and a dotted edge from each
//!   step that sets the reminder;
//! - the two ways into the bot the engine has itself: a new conversation or `/menu`, and a
//!   deep link.
//!
//! Labels are step ids, seed IDs, operation names and Fluent message ids, never the locales'
//! words: the picture is for the people who write the scenarios. Buttons that open an address
//! lead nowhere in the bot and are not drawn. Given the funnel counts (`scenario/step` → how
//! many conversations entered the step), each node shows its count. The output depends only on
//! the scripts (and the counts): scenarios, steps and edges come in the scripts' order.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::vocab::{Condition, RuntimeEvent};
use super::{ButtonAction, Scripts, Step, StepRef, Target};

/// The language the graph is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid `flowchart`, for Markdown.
    #[default]
    Mermaid,
    /// A Graphviz `digraph`, for `dot -Tsvg`.
    Dot,
}

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Step(StepRef),
    /// An outside event that brings a conversation to the step answering it.
    Event(String),
    /// A way into the bot the engine has itself.
    Entry(Entry),
    /// Not a node: a scenario's subgraph (cluster), whose id must be distinct too.
    Cluster(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    /// A new conversation, or `/menu`: the menu.
    Menu,
    /// `/start <token>`: the deep-link step.
    DeepLink,
}

impl Entry {
    const ALL: [Entry; 2] = [Entry::Menu, Entry::DeepLink];

    fn name(self) -> &'static str {
        match self {
            Entry::Menu => "menu",
            Entry::DeepLink => "deep_link",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Entry::Menu => "new chat, /menu",
            Entry::DeepLink => "/start <token>",
        }
    }

    fn target(self) -> StepRef {
        match self {
            Entry::Menu => StepRef::menu(),
            Entry::DeepLink => StepRef::deep_link(),
        }
    }
}

/// How an edge is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// A button, an outcome, an entry.
    Plain,
    /// `next`: the way a step goes on by itself or after an input.
    Thick,
    /// An event, or a reminder that raises one.
    Dotted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: Node,
    to: Node,
    label: String,
    style: Style,
}

/// The id each step of `scripts` has in the rendered graph (the same in both formats): letters,
/// digits and `_` only, so valid unquoted in Mermaid and DOT, and distinct for distinct steps.
pub fn node_ids(scripts: &Scripts) -> BTreeMap<StepRef, String> {
    let mut ids = Ids::default();
    for (at, _) in scripts.steps() {
        ids.of(&Node::Step(at));
    }
    ids.steps()
}

/// Draws every scenario of `scripts` in `format`; with `counts` (`scenario/step` → how many
/// conversations entered it), each step shows its count (0 when it has none).
pub fn render(
    scripts: &Scripts,
    format: GraphFormat,
    counts: Option<&BTreeMap<String, u64>>,
) -> String {
    let mut ids = Ids::default();
    for (at, _) in scripts.steps() {
        ids.of(&Node::Step(at));
    }
    for scenario in scripts.scenarios.keys() {
        ids.of(&Node::Cluster(scenario.clone()));
    }
    let edges = edges(scripts);
    // Steps that edges name but no scenario has (only in scripts that were not checked).
    let mut strays = BTreeSet::new();
    for edge in &edges {
        for node in [&edge.from, &edge.to] {
            ids.of(node);
            if let Node::Step(at) = node {
                if scripts.step(at).is_none() {
                    strays.insert(at.clone());
                }
            }
        }
    }
    let graph = Graph {
        scripts,
        counts,
        ids: &ids,
        edges: &edges,
        strays: &strays,
    };
    match format {
        GraphFormat::Mermaid => graph.mermaid(),
        GraphFormat::Dot => graph.dot(),
    }
}

/// Every edge, in the scripts' order: the entries, then each step's buttons, `next`, outcomes
/// and reminders, then the events.
fn edges(scripts: &Scripts) -> Vec<Edge> {
    let mut edges = Vec::new();
    for entry in Entry::ALL {
        if scripts.step(&entry.target()).is_some() {
            edges.push(Edge {
                from: Node::Entry(entry),
                to: Node::Step(entry.target()),
                label: String::new(),
                style: Style::Plain,
            });
        }
    }
    for (at, step) in scripts.steps() {
        let from = Node::Step(at.clone());
        for button in &step.buttons {
            let ButtonAction::Goto(target) = &button.action else {
                continue;
            };
            let label = match button.when {
                Some(condition) => format!("{} if {}", button.label, condition_name(condition)),
                None => button.label.clone(),
            };
            edges.push(Edge {
                from: from.clone(),
                to: Node::Step(target.clone()),
                label,
                style: Style::Plain,
            });
        }
        if let Some(next) = &step.next {
            edges.push(Edge {
                from: from.clone(),
                to: Node::Step(next.clone()),
                label: step.input.map_or("next", |kind| kind.name()).to_owned(),
                style: Style::Thick,
            });
        }
        for (outcome, target) in &step.on {
            let to = match target {
                Target::Stay => from.clone(),
                Target::Step(target) => Node::Step(target.clone()),
            };
            edges.push(Edge {
                from: from.clone(),
                to,
                label: outcome.name().to_owned(),
                style: Style::Plain,
            });
        }
        if let Some(remind) = &step.remind {
            edges.push(Edge {
                from: from.clone(),
                to: Node::Event(remind.event.clone()),
                label: format!("remind in {} working days", remind.after_working_days),
                style: Style::Dotted,
            });
        }
    }
    for (at, step) in scripts.steps() {
        if let Some(event) = &step.event {
            edges.push(Edge {
                from: Node::Event(event.clone()),
                to: Node::Step(at),
                label: event.clone(),
                style: Style::Dotted,
            });
        }
    }
    edges
}

/// The condition's name as a scenario writes it (`when = "can_resend"`).
fn condition_name(condition: Condition) -> &'static str {
    match condition {
        Condition::CanResend => "can_resend",
    }
}

/// Node ids: readable (`n_<scenario>__<step>`), anything but letters, digits and `_` made `_`,
/// and a number added where two names would otherwise meet.
#[derive(Debug, Default)]
struct Ids {
    ids: BTreeMap<Node, String>,
    taken: BTreeSet<String>,
}

impl Ids {
    fn of(&mut self, node: &Node) -> String {
        if let Some(id) = self.ids.get(node) {
            return id.clone();
        }
        let base = match node {
            Node::Step(at) => format!("n_{}__{}", sanitise(&at.scenario), sanitise(&at.step)),
            Node::Event(event) => format!("ev_{}", sanitise(event)),
            Node::Entry(entry) => format!("entry_{}", entry.name()),
            Node::Cluster(scenario) => format!("sc_{}", sanitise(scenario)),
        };
        let mut id = base.clone();
        let mut n = 2;
        while self.taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(id.clone());
        self.ids.insert(node.clone(), id.clone());
        id
    }

    fn get(&self, node: &Node) -> &str {
        self.ids.get(node).map_or("", String::as_str)
    }

    fn steps(&self) -> BTreeMap<StepRef, String> {
        self.ids
            .iter()
            .filter_map(|(node, id)| match node {
                Node::Step(at) => Some((at.clone(), id.clone())),
                _ => None,
            })
            .collect()
    }
}

fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Text shown in a Mermaid label: `"` and the characters Mermaid reads as markup written as
/// its entity codes (`#quot;`), line breaks as spaces.
pub fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a DOT `"..."` string: `\` and `"` escaped, line breaks as spaces.
pub fn dot_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// What the graph is drawn from.
struct Graph<'a> {
    scripts: &'a Scripts,
    counts: Option<&'a BTreeMap<String, u64>>,
    ids: &'a Ids,
    edges: &'a [Edge],
    strays: &'a BTreeSet<StepRef>,
}

/// How a node looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A scenario's entry step.
    Entry,
    /// A step that calls the service.
    Call,
    Step,
    /// An event.
    Event,
    /// A way into the bot.
    Start,
    /// A step an edge names but no scenario has.
    Missing,
}

impl Graph<'_> {
    /// The lines of a step's label: its id, seed ID, operation and count.
    fn step_lines(&self, at: &StepRef, step: &Step) -> Vec<String> {
        let mut lines = vec![step.id.clone()];
        if let Some(seed) = &step.seed {
            lines.push(format!("seed {seed}"));
        }
        if let Some(op) = step.call {
            lines.push(format!("call {op}"));
        }
        if let Some(counts) = self.counts {
            let count = counts.get(&at.to_string()).copied().unwrap_or(0);
            lines.push(format!("entered {count}"));
        }
        lines
    }

    fn step_shape(&self, at: &StepRef, step: &Step) -> Shape {
        let entry = self
            .scripts
            .scenario(&at.scenario)
            .is_some_and(|sc| sc.entry == step.id);
        if entry {
            Shape::Entry
        } else if step.call.is_some() {
            Shape::Call
        } else {
            Shape::Step
        }
    }

    /// The nodes outside every scenario: the ways in, the events, the missing steps.
    fn loose_nodes(&self) -> Vec<(Node, Vec<String>, Shape)> {
        let mut nodes = Vec::new();
        let mut events = BTreeSet::new();
        for edge in self.edges {
            for node in [&edge.from, &edge.to] {
                match node {
                    Node::Entry(entry) if edge.from == *node => {
                        nodes.push((node.clone(), vec![entry.label().to_owned()], Shape::Start));
                    }
                    Node::Event(event) => {
                        events.insert(event.clone());
                    }
                    _ => {}
                }
            }
        }
        for event in events {
            let by = match RuntimeEvent::from_name(&event) {
                Some(_) => "raised by the runtime",
                None => "raised by a reminder",
            };
            nodes.push((
                Node::Event(event.clone()),
                vec![format!("event {event}"), by.to_owned()],
                Shape::Event,
            ));
        }
        for at in self.strays {
            nodes.push((
                Node::Step(at.clone()),
                vec![at.to_string(), "missing".to_owned()],
                Shape::Missing,
            ));
        }
        nodes
    }

    fn mermaid(&self) -> String {
        let mut out = String::new();
        out.push_str("flowchart TD\n");
        out.push_str(
            "  %% Generated by `sferum-bot graph`: every scenario's steps and transitions.\n",
        );
        self.walk(&mut out, &Mermaid);
        out
    }

    fn dot(&self) -> String {
        let mut out = String::new();
        out.push_str("// Generated by `sferum-bot graph --format dot`: every scenario's steps and transitions.\n");
        out.push_str("digraph sferum_bot {\n");
        out.push_str("  rankdir=TB;\n");
        // Ranks across clusters: without it dot fails on edges between many clusters.
        out.push_str("  newrank=true;\n");
        out.push_str("  node [shape=box, fontname=\"Helvetica\"];\n");
        out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
        self.walk(&mut out, &Dot);
        out.push_str("}\n");
        out
    }

    /// The one walk both formats share: each scenario's steps in its cluster, the nodes outside
    /// every scenario, then the edges, each written in `syntax`.
    fn walk(&self, out: &mut String, syntax: &dyn Syntax) {
        for scenario in self.scripts.scenarios.values() {
            let title = format!("{} · {}", scenario.id, scenario.title);
            let cluster = self.ids.get(&Node::Cluster(scenario.id.clone()));
            syntax.open_cluster(out, cluster, &title);
            for step in &scenario.steps {
                let at = StepRef::new(&scenario.id, &step.id);
                let id = self.ids.get(&Node::Step(at.clone()));
                syntax.node(
                    out,
                    "    ",
                    id,
                    &self.step_lines(&at, step),
                    self.step_shape(&at, step),
                );
            }
            syntax.close_cluster(out);
        }
        for (n, lines, shape) in self.loose_nodes() {
            syntax.node(out, "  ", self.ids.get(&n), &lines, shape);
        }
        for edge in self.edges {
            let from = self.ids.get(&edge.from);
            let to = self.ids.get(&edge.to);
            syntax.edge(out, from, to, &edge.label, edge.style);
        }
    }
}

/// How one format writes clusters, nodes and edges.
trait Syntax {
    fn open_cluster(&self, out: &mut String, id: &str, title: &str);
    fn close_cluster(&self, out: &mut String);
    fn node(&self, out: &mut String, indent: &str, id: &str, lines: &[String], shape: Shape);
    fn edge(&self, out: &mut String, from: &str, to: &str, label: &str, style: Style);
}

struct Mermaid;

impl Syntax for Mermaid {
    fn open_cluster(&self, out: &mut String, id: &str, title: &str) {
        let _ = writeln!(out, "  subgraph {id}[\"{}\"]", mermaid_text(title));
    }

    fn close_cluster(&self, out: &mut String) {
        out.push_str("  end\n");
    }

    fn node(&self, out: &mut String, indent: &str, id: &str, lines: &[String], shape: Shape) {
        let text = lines
            .iter()
            .map(|l| mermaid_text(l))
            .collect::<Vec<_>>()
            .join("<br/>");
        let (open, close) = match shape {
            Shape::Entry => ("([", "])"),
            Shape::Call => ("[[", "]]"),
            Shape::Step | Shape::Missing => ("[", "]"),
            Shape::Event => ("{{", "}}"),
            Shape::Start => ("((", "))"),
        };
        let _ = writeln!(out, "{indent}{id}{open}\"{text}\"{close}");
    }

    fn edge(&self, out: &mut String, from: &str, to: &str, label: &str, style: Style) {
        let arrow = match style {
            Style::Plain => "-->",
            Style::Thick => "==>",
            Style::Dotted => "-.->",
        };
        if label.is_empty() {
            let _ = writeln!(out, "  {from} {arrow} {to}");
        } else {
            let _ = writeln!(out, "  {from} {arrow}|\"{}\"| {to}", mermaid_text(label));
        }
    }
}

struct Dot;

impl Syntax for Dot {
    fn open_cluster(&self, out: &mut String, id: &str, title: &str) {
        let _ = writeln!(out, "  subgraph cluster_{id} {{");
        let _ = writeln!(out, "    label=\"{}\";", dot_text(title));
    }

    fn close_cluster(&self, out: &mut String) {
        out.push_str("  }\n");
    }

    fn node(&self, out: &mut String, indent: &str, id: &str, lines: &[String], shape: Shape) {
        let text = lines
            .iter()
            .map(|l| dot_text(l))
            .collect::<Vec<_>>()
            .join("\\n");
        let attrs = match shape {
            Shape::Entry => ", style=rounded, peripheries=2",
            Shape::Call => ", shape=component",
            Shape::Step => "",
            Shape::Event => ", shape=hexagon",
            Shape::Start => ", shape=oval",
            Shape::Missing => ", style=dashed, color=red",
        };
        let _ = writeln!(out, "{indent}{id} [label=\"{text}\"{attrs}];");
    }

    fn edge(&self, out: &mut String, from: &str, to: &str, label: &str, style: Style) {
        let style = match style {
            Style::Plain => "",
            Style::Thick => ", penwidth=2",
            Style::Dotted => ", style=dotted",
        };
        let _ = writeln!(
            out,
            "  {from} -> {to} [label=\"{}\"{style}];",
            dot_text(label)
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::script::vocab::{InputKind, Operation, OutcomeKey};
    use crate::script::{Button, Remind, Scenario};

    fn step(id: &str) -> Step {
        Step {
            id: id.to_owned(),
            say: Some(format!("{id}-say")),
            seed: None,
            progress: None,
            help: None,
            buttons: Vec::new(),
            input: None,
            next: None,
            call: None,
            on: BTreeMap::new(),
            phrases: Vec::new(),
            topic: None,
            retype: None,
            event: None,
            remind: None,
        }
    }

    fn goto(label: &str, scenario: &str, step: &str) -> Button {
        Button {
            label: label.to_owned(),
            action: ButtonAction::Goto(StepRef::new(scenario, step)),
            when: None,
            phrases: Vec::new(),
        }
    }

    /// Two scenarios: a menu whose button crosses into `sign-up`, an input, a call with an
    /// outcome that stays, a reminder and its event.
    fn tiny() -> Scripts {
        let mut start = step("start");
        start.buttons = vec![
            goto("btn-\"go\"", "sign-up", "ask"),
            Button {
                label: "btn-site".to_owned(),
                action: ButtonAction::Url("https://example.org/".to_owned()),
                when: None,
                phrases: Vec::new(),
            },
        ];
        let mut ask = step("ask");
        ask.input = Some(InputKind::Code);
        ask.call = Some(Operation::CheckCode);
        ask.on.insert(
            OutcomeKey::Ok,
            Target::Step(StepRef::new("sign-up", "done")),
        );
        ask.on.insert(
            OutcomeKey::Refused(crate::service::RejectionCode::WrongCode),
            Target::Stay,
        );
        let mut done = step("done");
        done.seed = Some("V1.3".to_owned());
        done.remind = Some(Remind {
            event: "check-later".to_owned(),
            after_working_days: 5,
        });
        done.next = Some(StepRef::new("sign-up", "later"));
        let mut later = step("later");
        later.event = Some("check-later".to_owned());
        later.buttons = vec![goto("btn-menu", "menu", "start")];
        let scenario = |id: &str, entry: &str, steps: Vec<Step>| Scenario {
            id: id.to_owned(),
            file: PathBuf::from(format!("{id}.toml")),
            title: format!("scenario-{id}"),
            entry: entry.to_owned(),
            near: Vec::new(),
            steps,
        };
        let mut scenarios = BTreeMap::new();
        scenarios.insert("menu".to_owned(), scenario("menu", "start", vec![start]));
        scenarios.insert(
            "sign-up".to_owned(),
            scenario("sign-up", "ask", vec![ask, done, later]),
        );
        Scripts {
            scenarios,
            seed_ids: BTreeMap::new(),
            routing: Default::default(),
            listening: Default::default(),
            seed_paths: BTreeMap::new(),
            version: String::new(),
        }
    }

    #[test]
    fn mermaid_labels_escape_quotes_and_markup() {
        assert_eq!(mermaid_text(r#"say "hi""#), "say #quot;hi#quot;");
        assert_eq!(mermaid_text("a|b <c> #1"), "a#124;b #lt;c#gt; #35;1");
        assert_eq!(mermaid_text("two\nlines"), "two lines");
    }

    #[test]
    fn dot_labels_escape_quotes_and_backslashes() {
        assert_eq!(dot_text(r#"say "hi""#), r#"say \"hi\""#);
        assert_eq!(dot_text(r"a\b"), r"a\\b");
        assert_eq!(dot_text("two\nlines"), "two lines");
    }

    #[test]
    fn node_ids_are_plain_and_distinct() {
        let mut scripts = tiny();
        // `sign_up` would meet `sign-up` once sanitised.
        let mut other = scripts.scenarios["menu"].clone();
        other.id = "sign_up".to_owned();
        other.steps = vec![step("ask")];
        scripts.scenarios.insert("sign_up".to_owned(), other);
        let ids = node_ids(&scripts);
        assert_eq!(ids.len(), 5);
        let distinct: BTreeSet<&String> = ids.values().collect();
        assert_eq!(distinct.len(), ids.len());
        for id in ids.values() {
            assert!(
                id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{id}"
            );
        }
        assert_eq!(ids[&StepRef::new("sign-up", "ask")], "n_sign_up__ask");
        assert_eq!(ids[&StepRef::new("sign_up", "ask")], "n_sign_up__ask_2");
    }

    #[test]
    fn mermaid_draws_every_kind_of_edge() {
        let out = render(&tiny(), GraphFormat::Mermaid, None);
        assert!(out.starts_with("flowchart TD\n"), "{out}");
        for line in [
            "  subgraph sc_menu[\"menu · scenario-menu\"]",
            "    n_menu__start([\"start\"])",
            "    n_sign_up__ask([\"ask<br/>call check_code\"])",
            "    n_sign_up__done[\"done<br/>seed V1.3\"]",
            "  ev_check_later{{\"event check-later<br/>raised by a reminder\"}}",
            "  entry_menu((\"new chat, /menu\"))",
            "  entry_menu --> n_menu__start",
            "  n_menu__start -->|\"btn-#quot;go#quot;\"| n_sign_up__ask",
            "  n_sign_up__ask -->|\"ok\"| n_sign_up__done",
            "  n_sign_up__ask -->|\"wrong_code\"| n_sign_up__ask",
            "  n_sign_up__done ==>|\"next\"| n_sign_up__later",
            "  n_sign_up__done -.->|\"remind in 5 working days\"| ev_check_later",
            "  ev_check_later -.->|\"check-later\"| n_sign_up__later",
            "  n_sign_up__later -->|\"btn-menu\"| n_menu__start",
        ] {
            assert!(out.lines().any(|l| l == line), "no `{line}` in:\n{out}");
        }
        assert!(!out.contains("btn-site"), "a link is not a transition");
        assert!(!out.contains("entry_deep_link"), "no deep-link step here");
        assert_eq!(out.matches("subgraph").count(), 2);
        assert_eq!(out.matches("\n  end\n").count(), 2);
    }

    #[test]
    fn dot_draws_clusters_and_escaped_labels() {
        let out = render(&tiny(), GraphFormat::Dot, None);
        assert!(out.contains("digraph sferum_bot {\n"), "{out}");
        assert!(out.ends_with("}\n"));
        for line in [
            "  subgraph cluster_sc_sign_up {",
            "    label=\"sign-up · scenario-sign-up\";",
            "    n_sign_up__ask [label=\"ask\\ncall check_code\", style=rounded, peripheries=2];",
            "  n_menu__start -> n_sign_up__ask [label=\"btn-\\\"go\\\"\"];",
            "  n_sign_up__done -> n_sign_up__later [label=\"next\", penwidth=2];",
            "  ev_check_later -> n_sign_up__later [label=\"check-later\", style=dotted];",
        ] {
            assert!(out.lines().any(|l| l == line), "no `{line}` in:\n{out}");
        }
        assert_eq!(out.matches('{').count(), out.matches('}').count());
    }

    #[test]
    fn counts_show_on_every_step() {
        let counts = BTreeMap::from([
            ("menu/start".to_owned(), 42),
            ("sign-up/done".to_owned(), 7),
        ]);
        let out = render(&tiny(), GraphFormat::Mermaid, Some(&counts));
        assert!(
            out.contains("n_menu__start([\"start<br/>entered 42\"])"),
            "{out}"
        );
        assert!(out.contains("n_sign_up__done[\"done<br/>seed V1.3<br/>entered 7\"]"));
        assert!(out.contains("n_sign_up__later[\"later<br/>entered 0\"]"));
        let dot = render(&tiny(), GraphFormat::Dot, Some(&counts));
        assert!(dot.contains("[label=\"start\\nentered 42\""), "{dot}");
    }

    #[test]
    fn a_missing_target_is_drawn_as_missing() {
        let mut scripts = tiny();
        let menu = scripts.scenarios.get_mut("menu").expect("menu");
        menu.steps[0]
            .buttons
            .push(goto("btn-lost", "nowhere", "gone"));
        let out = render(&scripts, GraphFormat::Mermaid, None);
        assert!(
            out.contains("  n_nowhere__gone[\"nowhere/gone<br/>missing\"]"),
            "{out}"
        );
        assert!(out.contains("  n_menu__start -->|\"btn-lost\"| n_nowhere__gone"));
    }

    #[test]
    fn the_output_is_deterministic() {
        let scripts = tiny();
        assert_eq!(
            render(&scripts, GraphFormat::Mermaid, None),
            render(&scripts, GraphFormat::Mermaid, None)
        );
        assert_eq!(
            render(&scripts, GraphFormat::Dot, None),
            render(&scripts, GraphFormat::Dot, None)
        );
    }
}
