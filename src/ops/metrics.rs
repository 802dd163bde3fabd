//! The bot's Prometheus metrics, in one registry per process (no global recorder: every
//! [`crate::runtime::Assistant`], and so every test, has its own). Names and labels are what
//! the Grafana dashboard in `docs/grafana/` reads; no label carries personal data (channels,
//! input kinds, operations, outcomes, scenario and step ids only).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::domain::Channel;
use crate::script::StepRef;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpdateLabels {
    channel: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SentLabels {
    channel: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    scenario: String,
    step: String,
}

/// How a service call ended, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Ok,
    /// The service said no (a contract code): an answer, not a failure.
    Refused,
    /// The service failed (a bad answer, a 5xx).
    Error,
    /// The service could not be reached in time.
    Unavailable,
}

impl CallOutcome {
    fn name(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Refused => "refused",
            CallOutcome::Error => "error",
            CallOutcome::Unavailable => "unavailable",
        }
    }
}

/// How sending one message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendResult {
    Ok,
    /// The messenger asked the bot to slow down (HTTP 429); the message is tried again.
    TooMany,
    Error,
}

impl SendResult {
    fn name(self) -> &'static str {
        match self {
            SendResult::Ok => "ok",
            SendResult::TooMany => "429",
            SendResult::Error => "error",
        }
    }
}

/// The name of a messenger in labels.
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Telegram => "telegram",
        Channel::Max => "max",
    }
}

/// Every metric the bot keeps.
pub struct Metrics {
    registry: Registry,
    updates: Family<UpdateLabels, Counter>,
    turn_seconds: Family<ChannelLabels, Histogram>,
    service_calls: Family<CallLabels, Counter>,
    service_seconds: Family<OperationLabels, Histogram>,
    messages: Family<SentLabels, Counter>,
    outbox_depth: Gauge,
    outbox_oldest: Gauge<f64, AtomicU64>,
    store_errors: Family<OperationLabels, Counter>,
    free_text: Family<OutcomeLabels, Counter>,
    steps: Family<StepLabels, Counter>,
    /// For the error rate on `/stats`, without reading every label set back.
    calls_all: AtomicU64,
    calls_failed: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// Latency buckets from 1 ms to about 33 s.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let updates = Family::default();
        registry.register(
            "sferum_updates",
            "Updates received, by messenger and kind",
            updates.clone(),
        );
        let turn_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "sferum_turn_seconds",
            "Time from an update to its committed turn, service calls included",
            turn_seconds.clone(),
        );
        let service_calls = Family::default();
        registry.register(
            "sferum_service_calls",
            "Registration service calls, by operation and outcome",
            service_calls.clone(),
        );
        let service_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "sferum_service_call_seconds",
            "Registration service call latency, by operation",
            service_seconds.clone(),
        );
        let messages = Family::default();
        registry.register(
            "sferum_messages_sent",
            "Messages sent, by messenger and result (ok, 429, error)",
            messages.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "sferum_outbox_depth",
            "Notices waiting in the outbox",
            outbox_depth.clone(),
        );
        let outbox_oldest = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "sferum_outbox_oldest_seconds",
            "How long the oldest due notice has waited",
            outbox_oldest.clone(),
        );
        let store_errors = Family::default();
        registry.register(
            "sferum_store_errors",
            "Operations on the session store or the outbox that failed",
            store_errors.clone(),
        );
        let free_text = Family::default();
        registry.register(
            "sferum_free_text",
            "Messages in the person's own words, by outcome (answered, clarified, not_understood)",
            free_text.clone(),
        );
        let steps = Family::default();
        registry.register(
            "sferum_steps_entered",
            "Steps entered, automatic ones too, by scenario and step",
            steps.clone(),
        );
        Self {
            registry,
            updates,
            turn_seconds,
            service_calls,
            service_seconds,
            messages,
            outbox_depth,
            outbox_oldest,
            store_errors,
            free_text,
            steps,
            calls_all: AtomicU64::new(0),
            calls_failed: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn update(&self, channel: Channel, kind: &str) {
        self.updates
            .get_or_create(&UpdateLabels {
                channel: channel_name(channel).to_owned(),
                kind: kind.to_owned(),
            })
            .inc();
    }

    pub fn turn(&self, channel: Channel, took: Duration) {
        self.turn_seconds
            .get_or_create(&ChannelLabels {
                channel: channel_name(channel).to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub fn service_call(&self, operation: &str, outcome: CallOutcome, took: Duration) {
        self.service_calls
            .get_or_create(&CallLabels {
                operation: operation.to_owned(),
                outcome: outcome.name().to_owned(),
            })
            .inc();
        self.service_seconds
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .observe(took.as_secs_f64());
        self.calls_all.fetch_add(1, Ordering::Relaxed);
        if matches!(outcome, CallOutcome::Error | CallOutcome::Unavailable) {
            self.calls_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn sent(&self, channel: Channel, result: SendResult) {
        self.messages
            .get_or_create(&SentLabels {
                channel: channel_name(channel).to_owned(),
                result: result.name().to_owned(),
            })
            .inc();
    }

    /// The outbox as last seen: notices waiting, and the age of the oldest due one.
    pub fn outbox(&self, depth: u64, oldest: Duration) {
        self.outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.outbox_oldest.set(oldest.as_secs_f64());
    }

    pub fn store_error(&self, operation: &str) {
        self.store_errors
            .get_or_create(&OperationLabels {
                operation: operation.to_owned(),
            })
            .inc();
    }

    pub fn free_text(&self, outcome: &str) {
        self.free_text
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn step_entered(&self, at: &StepRef) {
        self.steps
            .get_or_create(&StepLabels {
                scenario: at.scenario.clone(),
                step: at.step.clone(),
            })
            .inc();
    }

    /// The service's calls so far: (all, failed: error or unavailable).
    pub fn service_totals(&self) -> (u64, u64) {
        (
            self.calls_all.load(Ordering::Relaxed),
            self.calls_failed.load(Ordering::Relaxed),
        )
    }

    /// Everything in the Prometheus (OpenMetrics) text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::encode`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
