//! The stores in this process: nothing outlives it, nothing is shared with another replica.
//! The embedded default (`sferum-bot chat`) and the tests' doubles.

mod directory;
mod limits;
mod outbox;
mod session;

pub use directory::MemoryDirectory;
pub use limits::MemoryLimits;
pub use outbox::MemoryOutbox;
pub use session::MemoryStore;
