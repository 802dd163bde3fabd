//! What every Redis adapter of the bot shares: one way to connect (lazily, RESP3, bounded
//! waits) to one Redis or to a Redis Cluster, to load scripts, and to run a command within the
//! deadline, retried only when it certainly never reached a server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::{ClusterClient, ClusterClientBuilder};
use ::redis::cluster_async::ClusterConnection;
use ::redis::{
    Client, Cmd, IntoConnectionInfo, Pipeline, ProtocolVersion, RedisError, RedisFuture, Script,
    Value,
};

use super::keys::Keys;
use crate::store::StoreError;

/// How long one connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long the server may take to answer a command.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The longest any operation of the store takes before answering [`StoreError::Unavailable`].
pub const OPERATION_DEADLINE: Duration = Duration::from_millis(2500);
/// How many keys one `SCAN` step asks for.
pub const SCAN_BATCH: usize = 500;

pub(crate) fn unavailable(error: &RedisError) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// `duration` in whole milliseconds, at least 1 (Redis refuses a zero expiry).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `text` with the glob characters of `SCAN MATCH` escaped.
pub fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A connection to the Redis at `url`, shared in spirit by every Redis adapter of the bot: it
/// connects lazily (the bot starts while Redis is down), speaks RESP3 unless the URL says
/// otherwise (so a dropped connection is noticed at once), and bounds every wait. Several
/// comma-separated URLs are the seed nodes of a Redis Cluster. Fails only on a URL that cannot
/// be used, without quoting it (it may hold a password). Answers the connection and the names
/// of the keys under `prefix` on it (a cluster's carry hash tags).
pub(crate) fn connect_lazily(url: &str, prefix: &str) -> Result<(Link, Keys), StoreError> {
    let link = link(url)?;
    let keys = Keys::new(prefix, link.is_cluster());
    Ok((link, keys))
}

fn link(url: &str) -> Result<Link, StoreError> {
    // The error text may quote the URL, and with it the password: say only what is wrong.
    let invalid = |e: RedisError| {
        StoreError::Unavailable(format!("the Redis URL cannot be used ({:?})", e.kind()))
    };
    let urls: Vec<&str> = url
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if urls.len() > 1 {
        let mut builder = ClusterClientBuilder::new(urls.clone())
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT);
        if !url.contains("protocol=") {
            builder = builder.use_protocol(ProtocolVersion::RESP3);
        }
        let client = builder.build().map_err(invalid)?;
        return Ok(Link(Kind::Cluster(Arc::new(Cluster {
            client,
            connection: tokio::sync::OnceCell::new(),
        }))));
    }
    let mut info = url.into_connection_info().map_err(invalid)?;
    if !url.contains("protocol=") {
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        info = info.set_redis_settings(settings);
    }
    let client = Client::open(info).map_err(invalid)?;
    let manager_config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_secs(1));
    let connection =
        ConnectionManager::new_lazy_with_config(client, manager_config).map_err(invalid)?;
    Ok(Link(Kind::Single(connection)))
}

/// A connection to Redis shared by the adapters beside one another; cheap to clone. Its
/// `Debug` shows nothing of it: the manager's own shows the URL, and with it the password.
#[derive(Clone)]
pub struct Link(Kind);

#[derive(Clone)]
enum Kind {
    /// One Redis (or a Sentinel-managed primary).
    Single(ConnectionManager),
    /// A Redis Cluster: connected on first use, then kept (the cluster connection follows
    /// the cluster's nodes and slots by itself).
    Cluster(Arc<Cluster>),
}

struct Cluster {
    client: ClusterClient,
    connection: tokio::sync::OnceCell<ClusterConnection>,
}

/// What a command runs on: one Redis or the cluster.
#[derive(Clone)]
pub enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Single(c) => c.req_packed_command(cmd),
            Connection::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Single(c) => c.get_db(),
            Connection::Cluster(c) => c.get_db(),
        }
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Link(..)")
    }
}

impl Link {
    /// Whether this is a Redis Cluster (its keys carry hash tags: see [`super::keys`]).
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.0, Kind::Cluster(_))
    }

    /// The connection to run a command on (a cluster is connected on first use).
    async fn connection(&self) -> Result<Connection, RedisError> {
        match &self.0 {
            Kind::Single(manager) => Ok(Connection::Single(manager.clone())),
            Kind::Cluster(cluster) => {
                let connection = cluster
                    .connection
                    .get_or_try_init(|| cluster.client.get_async_connection())
                    .await?;
                Ok(Connection::Cluster(connection.clone()))
            }
        }
    }

    /// Runs one command within [`OPERATION_DEADLINE`], once more if the connection was refused
    /// (the command never reached a server; the manager is reconnecting meanwhile).
    pub(crate) async fn run<T, F, Fut>(&self, command: F) -> Result<T, StoreError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        run_on(self, command).await
    }

    /// Deletes `key` (a no-op when there is none).
    pub(crate) async fn delete(&self, key: String) -> Result<(), StoreError> {
        self.run(|mut connection| {
            let key = key.clone();
            async move {
                ::redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut connection)
                    .await
            }
        })
        .await
    }
}

/// Loads `scripts` into Redis, so that their first use pays for no NOSCRIPT round trip.
pub(crate) async fn load_scripts(connection: &Link, scripts: &[&Script]) -> Result<(), StoreError> {
    for script in scripts {
        run_on(connection, |mut c| async move {
            script.load_async(&mut c).await
        })
        .await?;
    }
    Ok(())
}

/// Runs one command within [`OPERATION_DEADLINE`], once more if the connection was refused
/// (the command never reached a server; the manager is reconnecting meanwhile).
async fn run_on<T, F, Fut>(link: &Link, command: F) -> Result<T, StoreError>
where
    F: Fn(Connection) -> Fut,
    Fut: Future<Output = Result<T, RedisError>>,
{
    let attempts = async {
        match command(link.connection().await?).await {
            Err(error) if error.is_connection_refusal() => command(link.connection().await?).await,
            other => other,
        }
    };
    match tokio::time::timeout(OPERATION_DEADLINE, attempts).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(unavailable(&error)),
        Err(_) => Err(StoreError::Unavailable(format!(
            "Redis did not answer within {OPERATION_DEADLINE:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_of_the_prefix_are_matched_literally() {
        assert_eq!(glob_escape("sferum:"), "sferum:");
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
    }

    #[test]
    fn expiries_are_whole_positive_milliseconds() {
        assert_eq!(millis(Duration::from_secs(2)), 2000);
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_micros(1500)), 1);
    }
}
