//! A throwaway `redis-server` for the Redis tests: on a free port of 127.0.0.1 (never the shared
//! 6379), in memory only, killed when dropped. It can be stopped and started again on the same
//! port, as an outage would. Without `redis-server` on the PATH the tests fail and say how to
//! install it; they are never skipped.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

/// The port every test must stay away from: a shared instance runs there.
const SHARED_PORT: u16 = 6379;
/// How long a started server may take to answer PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Arguments beyond the defaults (a cluster node's).
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub fn start() -> Self {
        Self::start_with(|_| Vec::new())
    }

    /// Starts a server on a free port with the arguments `extra(dir)` gives, and waits until it
    /// answers PING.
    fn start_with(extra: impl Fn(&std::path::Path) -> Vec<String>) -> Self {
        require_redis_server();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
        let mut server = Self {
            port: 0,
            child: None,
            extra: extra(dir.path()),
            dir,
        };
        let mut last_error = String::new();
        // Another process may take the port between the probe and the server's bind: try again.
        for _ in 0..5 {
            server.port = free_port();
            match server.spawn() {
                Ok(()) => return server,
                Err(error) => last_error = error,
            }
        }
        panic!("redis-server did not start: {last_error}")
    }

    /// The URL the store connects to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's process id, while it runs (the load benchmark pins it to a core).
    #[allow(dead_code)]
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server, as a crash would; its data is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(error) if Instant::now() > deadline => {
                    panic!("redis-server did not start again on {}: {error}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// A plain connection for the test's own looks at the data.
    pub async fn connection(&self) -> MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap_or_else(|e| panic!("a client for {}: {e}", self.url()))
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("a connection to {}: {e}", self.url()))
    }

    /// Spawns redis-server on `self.port` and waits for PING; on failure says why.
    fn spawn(&mut self) -> Result<(), String> {
        assert_ne!(self.port, SHARED_PORT, "the shared instance's port");
        let log = self.dir.path().join(format!("redis-{}.log", self.port));
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--logfile")
            .arg(&log)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("redis-server exited ({status}):\n{log}"));
            }
            if ping(self.port) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer to PING on {} in time", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A Redis Cluster of three masters on free loopback ports (no replicas), made as an operator
/// makes one: `redis-server --cluster-enabled yes` three times, then `redis-cli --cluster
/// create`; ready once every node says `cluster_state:ok`. Killed when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_with(|dir| {
                    vec![
                        "--cluster-enabled".into(),
                        "yes".into(),
                        "--cluster-config-file".into(),
                        dir.join("nodes.conf").display().to_string(),
                        // The bus port, chosen free rather than port + 10000.
                        "--cluster-port".into(),
                        free_port().to_string(),
                        "--cluster-node-timeout".into(),
                        "5000".into(),
                    ]
                })
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli (apt-get install redis-tools): {e}"));
        assert!(
            created.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&created.stdout),
            String::from_utf8_lossy(&created.stderr)
        );
        let cluster = Self { nodes };
        // Three times a server's start: a busy CI machine starts many clusters at once.
        let deadline = Instant::now() + START_TIMEOUT * 3;
        while !cluster.nodes.iter().all(|n| cluster_ok(n.port)) {
            assert!(
                Instant::now() < deadline,
                "the cluster never reached cluster_state:ok"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    /// `REDIS_URL` for the cluster: its nodes' URLs, comma-separated (the seeds).
    pub fn url(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(RedisServer::url).collect();
        urls.join(",")
    }

    /// Every key on every node.
    pub async fn all_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        for node in &self.nodes {
            let mut connection = node.connection().await;
            let found: Vec<String> = redis::cmd("KEYS")
                .arg("*")
                .query_async(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("KEYS on a node: {e}"));
            keys.extend(found);
        }
        keys
    }
}

/// True when the node on `port` says the cluster is whole.
fn cluster_ok(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream
        .write_all(b"*2\r\n$7\r\nCLUSTER\r\n$4\r\nINFO\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = [0_u8; 512];
    let n = stream.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).contains("cluster_state:ok")
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Fails the test, with how to fix it, when `redis-server` cannot be run.
fn require_redis_server() {
    match Command::new("redis-server").arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "`redis-server --version` failed ({}); the Redis tests need a working redis-server",
            output.status
        ),
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "redis-server is not on the PATH. The Redis tests start their own server: install \
             it with `apt-get install redis-server` (Debian/Ubuntu) and run the tests again"
        ),
        Err(e) => panic!("cannot run redis-server: {e}"),
    }
}

/// `MEMORY USAGE` of `key`, every value counted (0 when it does not exist).
pub async fn memory_usage(redis: &mut MultiplexedConnection, key: &str) -> u64 {
    let usage: Option<u64> = redis::cmd("MEMORY")
        .arg("USAGE")
        .arg(key)
        .arg("SAMPLES")
        .arg(0)
        .query_async(redis)
        .await
        .unwrap_or_else(|e| panic!("MEMORY USAGE {key}: {e}"));
    usage.unwrap_or(0)
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("cannot bind 127.0.0.1:0: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the bound address: {e}"))
            .port();
        if port != SHARED_PORT {
            return port;
        }
    }
}

/// True when something on `port` answers PING with PONG.
fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut answer = [0_u8; 7];
    stream.read_exact(&mut answer).is_ok() && &answer == b"+PONG\r\n"
}
