//! What the benchmarks share: the shipped engine, a Monday morning, and a conversation waiting
//! at the step that asks for the child's contact.

use chrono::{DateTime, TimeZone, Utc};

use sferum_bot::config::Settings;
use sferum_bot::engine::{Engine, Session};
use sferum_bot::script::StepRef;
use sferum_bot::startup;

/// The embedded defaults: the shipped scripts and locales, no token, no server.
pub fn settings() -> Settings {
    Settings::from_lookup(|_| None).expect("the embedded defaults")
}

/// The engine on the shipped scripts and locales.
pub fn engine() -> Engine {
    startup::engine(&settings()).expect("the shipped data loads")
}

/// The time every benchmark runs at.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 7, 9, 0, 0)
        .single()
        .expect("a date")
}

/// A conversation at `variant1/contact`, as a typed phone number finds it.
pub fn at_contact(engine: &Engine, now: DateTime<Utc>) -> Session {
    let mut session = Session::new(&engine.scripts().version, "ru", now);
    session.fresh = false;
    session.at = StepRef::new("variant1", "contact");
    session
}
