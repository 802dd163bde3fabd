//! Limits on verification codes, so that one chat cannot make the service text any number of
//! phones (SMS pumping): per chat, at most so many codes an hour and a day across addresses,
//! and per address so many a day across chats. Counted before the service is called, shared by
//! every replica (Redis) and kept with expiry. An address never appears in a key: it is
//! reduced to a keyed hash (HMAC-SHA-256 with `LIMIT_KEY`). A repeat of the same operation (the
//! same idempotency key: a crash, a conflict retry, a double tap) is not counted twice.
//!
//! Adapters (in [`crate::backend`]): `MemoryLimits` (one process) and `RedisLimits` (one
//! sorted set per chat and per hashed address: member = the operation's key, score = when).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::service::OpKey;
use crate::store::{ChatKey, StoreError};

pub(crate) const HOUR_MS: i64 = 60 * 60 * 1000;
pub(crate) const DAY_MS: i64 = 24 * HOUR_MS;

/// How many codes are allowed (settings `CODE_LIMIT_*`). The defaults fit an honest family:
/// a child's registration takes one code, a typo or a slow SMS one or two more; a parent's
/// link one more. Three an hour and ten a day per chat leave room for two children and their
/// mistakes; five a day per address for an address retyped from several chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    pub per_chat_hour: u32,
    pub per_chat_day: u32,
    pub per_address_day: u32,
}

impl Default for CodeLimits {
    fn default() -> Self {
        Self {
            per_chat_hour: 3,
            per_chat_day: 10,
            per_address_day: 5,
        }
    }
}

/// Over a limit: how long until a code may be asked for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryAgainIn(pub Duration);

/// An address reduced to what a limit needs: a keyed hash, never the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressTag(String);

impl AddressTag {
    /// The tag as it appears in keys: hex, 32 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// HMAC-SHA-256 of `address` under `key`, in hex (the first 16 bytes).
    pub fn of(address: &str, key: &[u8]) -> Self {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        let tag = ring::hmac::sign(&key, address.as_bytes());
        Self(
            tag.as_ref()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}

#[async_trait]
pub trait Limits: Send + Sync {
    /// Takes one code for `chat` and `address` as the operation `key`, or says how long to
    /// wait. A `key` already taken is let through again without counting.
    async fn take_code(
        &self,
        chat: ChatKey,
        address: &AddressTag,
        key: OpKey,
        now: DateTime<Utc>,
    ) -> Result<Result<(), TryAgainIn>, StoreError>;
    /// Forgets `chat`'s counts (`/forget`).
    async fn forget_chat(&self, chat: ChatKey) -> Result<(), StoreError>;
}
