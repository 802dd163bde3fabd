//! The adapters of the storage ports ([`crate::store::SessionStore`], [`crate::notify::Outbox`],
//! [`crate::directory::Directory`], [`crate::limits::Limits`]), by kind: [`memory`] (one
//! process: the embedded default and the tests' double) and [`redis`] (shared by every
//! replica). [`open`] picks them from the settings, all of one kind.

pub mod memory;
pub mod redis;

use std::sync::Arc;

use crate::config::Settings;
use crate::directory::Directory;
use crate::limits::Limits;
use crate::notify::Outbox;
use crate::store::{SessionStore, StoreError};

/// The stores of one bot, all of one kind.
pub struct Backends {
    pub store: Arc<dyn SessionStore>,
    pub outbox: Arc<dyn Outbox>,
    pub directory: Arc<dyn Directory>,
    pub limits: Arc<dyn Limits>,
}

/// The stores the settings name: Redis when `REDIS_URL` is set, else memory. Redis is
/// connected lazily: the bot starts, and keeps running, while it is down.
pub async fn open(settings: &Settings) -> Result<Backends, StoreError> {
    let limits = settings.code_limits;
    Ok(match &settings.redis {
        Some(config) => {
            let store = redis::RedisStore::connect(
                &config.url,
                redis::RedisStoreConfig {
                    prefix: config.prefix.clone(),
                    session_ttl: config.session_ttl,
                    ..redis::RedisStoreConfig::default()
                },
            )
            .await?;
            Backends {
                outbox: Arc::new(redis::RedisOutbox::beside(&store).await),
                directory: Arc::new(redis::RedisDirectory::beside(&store)),
                limits: Arc::new(redis::RedisLimits::beside(&store, limits)),
                store: Arc::new(store),
            }
        }
        None => Backends {
            store: Arc::new(memory::MemoryStore::new()),
            outbox: Arc::new(memory::MemoryOutbox::new()),
            directory: Arc::new(memory::MemoryDirectory::new()),
            limits: Arc::new(memory::MemoryLimits::new(limits)),
        },
    })
}
