//! The ways people reach the bot. Each transport only turns its own events into engine inputs
//! and the runtime's replies into its own messages.

pub mod max;
pub mod telegram;
pub mod terminal;
