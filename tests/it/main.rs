//! The integration tests: one binary, one module per capability.

mod checker;
mod helpers;
mod properties;
mod transcripts;
