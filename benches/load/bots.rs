//! The two bots the load benchmark compares, how each is started (webhook mode, pinned to one
//! core, against the fake Bot API and a private Redis), where each keeps a chat's session, and
//! what the kernel says about the process (CPU time, resident memory).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The secret both bots check in Telegram's header.
pub const SECRET: &str = "load-benchmark-secret";
/// The path both bots' webhooks are served at.
pub const HOOK_PATH: &str = "/hook";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The product, its release binary.
    SferumBot,
    /// `tools/teloxide-baseline`: teloxide's `RedisStorage<Json>` dialogue bot.
    Baseline,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::SferumBot => "sferum-bot",
            Which::Baseline => "teloxide RedisStorage",
        }
    }

    /// The Redis key that holds `chat`'s session.
    pub fn session_key(self, chat: i64) -> String {
        match self {
            Which::SferumBot => format!("sferum:session:{chat}"),
            // teloxide's RedisStorage keys a dialogue by the chat id itself.
            Which::Baseline => chat.to_string(),
        }
    }

    fn command(self) -> Command {
        match self {
            Which::SferumBot => {
                let mut command = pinned(PathBuf::from(env!("CARGO_BIN_EXE_sferum-bot")));
                command.arg("run");
                command
            }
            Which::Baseline => pinned(build_baseline()),
        }
    }
}

/// `program` on core 0 only (the driver and Redis use the other).
fn pinned(program: PathBuf) -> Command {
    let mut command = Command::new("taskset");
    command.arg("-c").arg("0").arg(program);
    command
}

/// Builds the baseline bot (once per run of the benchmark; cargo skips it when it is fresh) in a
/// target directory of its own, so that the build does not wait for this benchmark's lock.
fn build_baseline() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("tools/teloxide-baseline/Cargo.toml");
    let target = root.join("target/baseline");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo builds the baseline");
    assert!(status.success(), "the baseline bot did not build");
    target.join("release/teloxide-baseline")
}

/// A bot being measured; killed when dropped.
pub struct Running {
    child: Child,
    pub webhook: SocketAddr,
    /// From the spawn to the webhook accepting connections.
    pub start_to_listening: Duration,
}

impl Running {
    /// Starts `which` in webhook mode on a free port, its Bot API at `api`, its sessions in the
    /// Redis at `redis_port`; returns once the webhook accepts connections.
    pub async fn start(which: Which, program: &Command, api: SocketAddr, redis_port: u16) -> Self {
        let webhook: SocketAddr = format!("127.0.0.1:{}", free_port())
            .parse()
            .expect("an address");
        let mut command = Command::new(program.get_program());
        command.args(program.get_args());
        let started = Instant::now();
        let child = command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TELOXIDE_TOKEN", "123456:LOAD-TOKEN")
            .env("TELEGRAM_API_URL", format!("http://{api}"))
            .env("REDIS_URL", format!("redis://127.0.0.1:{redis_port}/"))
            .env("WEBHOOK_URL", format!("http://{webhook}{HOOK_PATH}"))
            .env("WEBHOOK_LISTEN", webhook.to_string())
            .env("WEBHOOK_SECRET", SECRET)
            .env("RUST_LOG", "error")
            // A thousand chats replaying a journey at machine speed write faster than any
            // person; sferum-bot's flood control would rightly slow them down.
            .env("FLOOD_PER_SECOND", "1000")
            .env("FLOOD_BURST", "1000")
            // The registration journey asks a code every round, for every chat.
            .env("CODE_LIMIT_PER_HOUR", "1000000")
            .env("CODE_LIMIT_PER_DAY", "1000000")
            .env("CODE_LIMIT_PER_ADDRESS_DAY", "1000000")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // The sandbox prints every code it "sends" on stderr: a registration load would
            // flood the report. A bot that fails still shows as one that never listened or
            // never answered.
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} did not start: {e}", which.name()));
        let deadline = started + Duration::from_secs(30);
        // Asynchronously: the fake Bot API the bot asks at start runs on this thread.
        while tokio::net::TcpStream::connect(webhook).await.is_err() {
            assert!(Instant::now() < deadline, "{} never listened", which.name());
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Self {
            child,
            webhook,
            start_to_listening: started.elapsed(),
        }
    }

    /// User plus system CPU time so far.
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/<pid>/stat");
        // The fields after the command's closing parenthesis; utime and stime are the 12th and
        // 13th of them, in clock ticks.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        Duration::from_millis(ticks * 1000 / clock_ticks())
    }

    /// Resident memory now, in bytes.
    pub fn rss(&self) -> Resident {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024)
        };
        Resident {
            total: field("VmRSS:"),
            anonymous: field("RssAnon:"),
            file: field("RssFile:"),
        }
    }
}

/// A process's resident memory in bytes, and its two parts: anonymous (heap, stacks) and
/// file-backed (the pages of its binary and libraries that it has touched).
#[derive(Debug, Clone, Copy, Default)]
pub struct Resident {
    pub total: u64,
    pub anonymous: u64,
    pub file: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How each bot is run, prepared once (the baseline is built here).
pub fn programs() -> [(Which, Command); 2] {
    [
        (Which::SferumBot, Which::SferumBot.command()),
        (Which::Baseline, Which::Baseline.command()),
    ]
}

fn clock_ticks() -> u64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

pub use crate::redis_server::free_port;
