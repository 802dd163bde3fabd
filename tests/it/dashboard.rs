//! The Grafana dashboard (`docs/grafana/sferum-bot.json`): importable as it is (a Prometheus
//! data source input, the title, the schema), and every metric the bot exports drawn by some
//! panel's query.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers;

/// The metrics the bot exports, as their queries name them (a histogram by its `_bucket`).
const METRICS: &[&str] = &[
    "sferum_updates_total",
    "sferum_turn_seconds_bucket",
    "sferum_turn_seconds_sum",
    "sferum_turn_seconds_count",
    "sferum_service_calls_total",
    "sferum_service_call_seconds_bucket",
    "sferum_messages_sent_total",
    "sferum_outbox_depth",
    "sferum_outbox_oldest_seconds",
    "sferum_store_errors_total",
    "sferum_free_text_total",
    "sferum_steps_entered_total",
];

fn dashboard() -> Value {
    let path = helpers::crate_dir().join("docs/grafana/sferum-bot.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard is there");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Every panel, those inside rows too.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut all = Vec::new();
    let mut stack: Vec<&Value> = dashboard["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .collect();
    while let Some(panel) = stack.pop() {
        if let Some(inner) = panel["panels"].as_array() {
            stack.extend(inner);
        }
        all.push(panel);
    }
    all
}

/// The names a PromQL expression uses: metrics, labels, functions.
fn names(expr: &str) -> BTreeSet<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_dashboard_is_importable() {
    let dashboard = dashboard();
    assert_eq!(dashboard["title"], "sferum-bot");
    let schema = dashboard["schemaVersion"].as_u64().expect("schemaVersion");
    assert!((36..=41).contains(&schema), "schemaVersion {schema}");
    let inputs = dashboard["__inputs"].as_array().expect("__inputs");
    assert!(inputs
        .iter()
        .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"));
    let mut ids = BTreeSet::new();
    for panel in panels(&dashboard) {
        let id = panel["id"].as_u64().expect("a panel id");
        assert!(ids.insert(id), "panel id {id} twice");
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64(), grid["w"].as_u64());
        assert!(
            x.zip(w).is_some_and(|(x, w)| w > 0 && x + w <= 24),
            "{}: {grid}",
            panel["title"]
        );
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(
            panel["datasource"]["uid"], "${DS_PROMETHEUS}",
            "{}",
            panel["title"]
        );
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} draws nothing", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${DS_PROMETHEUS}");
        }
    }
}

#[test]
fn every_metric_is_drawn_by_some_panel() {
    let dashboard = dashboard();
    let used: BTreeSet<String> = panels(&dashboard)
        .iter()
        .filter_map(|panel| panel["targets"].as_array())
        .flatten()
        .filter_map(|target| target["expr"].as_str())
        .flat_map(names)
        .collect();
    let missing: Vec<&&str> = METRICS.iter().filter(|m| !used.contains(**m)).collect();
    assert!(missing.is_empty(), "no panel queries {missing:?}");
    // Nothing queried that the bot does not export (a typo in a name draws an empty panel).
    let unknown: Vec<&String> = used
        .iter()
        .filter(|name| name.starts_with("sferum_") && !METRICS.contains(&name.as_str()))
        .collect();
    assert!(unknown.is_empty(), "unknown metrics {unknown:?}");
}
