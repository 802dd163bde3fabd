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
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub fn start() -> Self {
        require_redis_server();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("a temporary directory: {e}"));
        let mut server = Self {
            port: 0,
            child: None,
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
