//! The stores in Redis, shared by every replica: sessions, the outbox, the teacher directory
//! and the code limits, each on the shared connection helpers (`conn`).

pub(crate) mod conn;
mod directory;
pub mod keys;
mod limits;
pub mod outbox;
pub mod session;

pub use conn::{glob_escape, CONNECT_TIMEOUT, OPERATION_DEADLINE, RESPONSE_TIMEOUT, SCAN_BATCH};
pub use directory::RedisDirectory;
pub use keys::Keys;
pub use limits::RedisLimits;
pub use outbox::{RedisOutbox, GROUP, NOTICE_KEEP_AFTER_DUE};
pub use session::{RedisStore, RedisStoreConfig};
