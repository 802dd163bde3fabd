//! `sferum-bot graph`: the shipped scenarios drawn as Mermaid and DOT, every step a node and
//! every button an edge, the funnel counts on the nodes, and the binary printing it.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use sferum_bot::script::graph::{node_ids, render, GraphFormat};
use sferum_bot::script::{ButtonAction, Target};

use crate::helpers;

/// The node ids a rendered graph declares, and its edges as (from, to, the whole line).
struct Drawn {
    nodes: BTreeSet<String>,
    edges: Vec<(String, String, String)>,
}

fn mermaid_parts(out: &str) -> Drawn {
    let mut nodes = BTreeSet::new();
    let mut edges = Vec::new();
    for line in out.lines().map(str::trim) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let is_edge = tokens
            .get(1)
            .is_some_and(|t| ["-->", "==>", "-.->"].iter().any(|a| t.starts_with(a)));
        if is_edge {
            let to = tokens.last().copied().unwrap_or_default();
            edges.push((tokens[0].to_owned(), to.to_owned(), line.to_owned()));
        } else if let Some(end) = line.find(['[', '(', '{']) {
            if !line.starts_with("subgraph") && !line.starts_with("%%") {
                nodes.insert(line[..end].to_owned());
            }
        }
    }
    Drawn { nodes, edges }
}

fn dot_parts(out: &str) -> Drawn {
    let mut nodes = BTreeSet::new();
    let mut edges = Vec::new();
    for line in out.lines().map(str::trim) {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.get(1) == Some(&"->") {
            edges.push((tokens[0].to_owned(), tokens[2].to_owned(), line.to_owned()));
        } else if let Some(id) = line
            .strip_suffix("];")
            .and_then(|l| l.split_once(" [label="))
        {
            nodes.insert(id.0.to_owned());
        }
    }
    Drawn { nodes, edges }
}

fn drawn(format: GraphFormat, out: &str) -> Drawn {
    match format {
        GraphFormat::Mermaid => mermaid_parts(out),
        GraphFormat::Dot => dot_parts(out),
    }
}

/// The label as each format writes it inside quotes (the shipped labels need no escaping).
fn quoted(label: &str) -> String {
    format!("\"{label}")
}

#[test]
fn every_step_of_every_scenario_is_a_node_in_both_formats() {
    let engine = helpers::engine();
    let scripts = engine.scripts();
    let ids = node_ids(scripts);
    assert_eq!(ids.len(), scripts.steps().count());
    for format in [GraphFormat::Mermaid, GraphFormat::Dot] {
        let out = render(scripts, format, None);
        let drawn = drawn(format, &out);
        for (at, _) in scripts.steps() {
            let id = &ids[&at];
            assert!(
                drawn.nodes.contains(id),
                "{format:?}: step {at} ({id}) is not a node"
            );
        }
        for scenario in scripts.scenarios.values() {
            let title = format!("{} · {}", scenario.id, scenario.title);
            assert!(
                out.contains(&title),
                "{format:?}: no group for {}",
                scenario.id
            );
        }
        // Every edge joins declared nodes.
        for (from, to, line) in &drawn.edges {
            assert!(drawn.nodes.contains(from), "{format:?}: {line}");
            assert!(drawn.nodes.contains(to), "{format:?}: {line}");
        }
    }
}

#[test]
fn every_button_next_and_outcome_is_an_edge_in_both_formats() {
    let engine = helpers::engine();
    let scripts = engine.scripts();
    let ids = node_ids(scripts);
    for format in [GraphFormat::Mermaid, GraphFormat::Dot] {
        let out = render(scripts, format, None);
        let drawn = drawn(format, &out);
        let has_edge = |from: &str, to: &str, label: &str| {
            drawn
                .edges
                .iter()
                .any(|(f, t, line)| f == from && t == to && line.contains(&quoted(label)))
        };
        let mut crossing = 0;
        for (at, step) in scripts.steps() {
            let from = &ids[&at];
            for button in &step.buttons {
                let ButtonAction::Goto(target) = &button.action else {
                    continue;
                };
                if target.scenario != at.scenario {
                    crossing += 1;
                }
                assert!(
                    has_edge(from, &ids[target], &button.label),
                    "{format:?}: no edge for button {} of {at} to {target}",
                    button.label
                );
            }
            if let Some(next) = &step.next {
                let label = step.input.map_or("next", |kind| kind.name());
                assert!(
                    has_edge(from, &ids[next], label),
                    "{format:?}: no `next` edge from {at}"
                );
            }
            for (outcome, target) in &step.on {
                let to = match target {
                    Target::Stay => from,
                    Target::Step(target) => &ids[target],
                };
                assert!(
                    has_edge(from, to, outcome.name()),
                    "{format:?}: no edge for outcome {outcome} of {at}"
                );
            }
            if let Some(event) = &step.event {
                assert!(
                    drawn
                        .edges
                        .iter()
                        .any(|(_, t, line)| t == from && line.contains(&quoted(event))),
                    "{format:?}: no edge for the event {event} {at} answers"
                );
            }
        }
        assert!(crossing > 0, "the shipped scenarios link to each other");
    }
}

#[test]
fn the_funnel_counts_show_on_their_steps() {
    let engine = helpers::engine();
    let scripts = engine.scripts();
    let ids = node_ids(scripts);
    let counts: BTreeMap<String, u64> = scripts
        .steps()
        .enumerate()
        .map(|(n, (at, _))| (at.to_string(), 1000 + n as u64))
        .collect();
    let out = render(scripts, GraphFormat::Mermaid, Some(&counts));
    for (at, _) in scripts.steps() {
        let count = counts[&at.to_string()];
        let id = &ids[&at];
        let node = out
            .lines()
            .find(|l| {
                l.trim_start().starts_with(&format!("{id}["))
                    || l.trim_start().starts_with(&format!("{id}("))
            })
            .unwrap_or_else(|| panic!("no node for {at}"));
        assert!(node.contains(&format!("entered {count}")), "{at}: {node}");
    }
    let dot = render(scripts, GraphFormat::Dot, Some(&counts));
    assert!(dot.contains("\\nentered 1000\""), "{dot}");
    let plain = render(scripts, GraphFormat::Mermaid, None);
    assert!(!plain.contains("entered "), "no counts when none are given");
}

/// `sferum-bot <args>` on the shipped data, without Redis, away from any `.env`.
fn run_graph(args: &[&str]) -> std::process::Output {
    let away = tempfile::tempdir().expect("a temporary folder");
    Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
        .args(args)
        .current_dir(away.path())
        .env_remove("REDIS_URL")
        .env("DIALOGUES_DIR", helpers::crate_dir().join("dialogues"))
        .env("LOCALES_DIR", helpers::crate_dir().join("locales"))
        .output()
        .expect("the binary runs")
}

#[test]
fn the_binary_prints_the_mermaid_graph() {
    let output = run_graph(&["graph"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(stdout.starts_with("flowchart"), "{stdout}");
    for scenario in helpers::engine().scripts().scenarios.keys() {
        assert!(
            stdout.contains(&format!("subgraph sc_{scenario}[")),
            "no scenario {scenario}"
        );
    }
    // The same picture as the library draws.
    assert_eq!(
        stdout,
        render(helpers::engine().scripts(), GraphFormat::Mermaid, None)
    );
}

#[test]
fn the_binary_says_why_there_are_no_counts() {
    let output = run_graph(&["graph", "--format", "dot", "--stats"]);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    assert!(stdout.contains("digraph sferum_bot {"), "{stdout}");
    assert!(!stdout.contains("entered "));
    assert!(
        stderr.contains("no funnel counts (REDIS_URL unset)"),
        "{stderr}"
    );
}

#[test]
fn the_committed_picture_is_the_one_the_command_draws() {
    let doc =
        std::fs::read_to_string(helpers::crate_dir().join("docs/flows.md")).expect("docs/flows.md");
    let drawn = render(helpers::engine().scripts(), GraphFormat::Mermaid, None);
    assert!(
        doc.contains(&format!("```mermaid\n{drawn}```\n")),
        "docs/flows.md is out of date: run `cargo run -q -- graph` and paste its output"
    );
}
