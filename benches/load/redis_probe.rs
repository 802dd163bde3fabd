//! What the load benchmark reads from Redis: memory, commands, a session's size, and (through a
//! counting proxy, in the profiling phase only) how many round trips a bot makes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use redis::aio::MultiplexedConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

pub async fn info_field(redis: &mut MultiplexedConnection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(redis)
        .await
        .expect("INFO");
    info.lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Calls since the last `CONFIG RESETSTAT`: of every command (the ones run inside scripts
/// included), and of `EVALSHA` alone (each one a request of the bot's).
pub async fn commands(redis: &mut MultiplexedConnection) -> (u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(redis)
        .await
        .expect("INFO commandstats");
    let calls = |line: &str| {
        line.split("calls=")
            .nth(1)
            .and_then(|rest| rest.split(',').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let all = info
        .lines()
        .filter(|line| line.starts_with("cmdstat_") && !line.starts_with("cmdstat_info:"))
        .map(calls)
        .sum();
    let scripts = info
        .lines()
        .filter(|line| line.starts_with("cmdstat_evalsha:"))
        .map(calls)
        .sum();
    (all, scripts)
}

pub async fn reset_stats(redis: &mut MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(redis)
        .await
        .expect("CONFIG RESETSTAT");
}

pub use crate::redis_server::memory_usage;

/// A TCP proxy in front of Redis that counts round trips: a client write that follows an
/// answer (or opens the connection) starts one. Exact for a client that waits for each answer,
/// which is what one chat's sequential updates make of a bot.
pub struct RoundTrips {
    pub port: u16,
    count: Arc<AtomicU64>,
}

impl RoundTrips {
    pub async fn start(redis_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a proxy port");
        let port = listener.local_addr().expect("its address").port();
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let count = counter.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", redis_port)).await {
                        relay(client, server, count).await;
                    }
                });
            }
        });
        Self { port, count }
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, server: TcpStream, count: Arc<AtomicU64>) {
    let answered = Arc::new(AtomicBool::new(true));
    let waiting = answered.clone();
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // A request after an answer starts a round trip; an answer is marked before it is passed
    // on, so the next request sees it.
    let up = pump(client_read, server_write, move || {
        if waiting.swap(false, Ordering::SeqCst) {
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    let down = pump(server_read, client_write, move || {
        answered.store(true, Ordering::SeqCst);
    });
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Copies `from` to `to` until either closes, calling `seen` before passing each chunk on.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, seen: impl Fn()) {
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        seen();
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
