//! The integration tests: one binary, one module per capability.

mod checker;
mod dashboard;
mod faults;
mod graph;
mod guide;
mod helpers;
mod http_service;
mod listening;
mod locales;
mod max;
mod ops;
mod outbox;
mod ports;
mod properties;
mod redis_server;
mod redis_store;
mod routing;
mod scenarios;
mod teachers;
mod telegram;
mod transcripts;
