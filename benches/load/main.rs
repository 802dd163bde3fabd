//! The load benchmark: `cargo bench --bench load` (options after `--`: `--chats 1000,10000`,
//! `--runs 3`, `--updates 20000`, `--only sferum-bot` or `--only teloxide` to run one bot,
//! e.g. under a profiler, and `--journey registration` for a student's registration up to the
//! code sent, sferum-bot only).
//!
//! For each run, side by side (each phase runs sferum-bot's release binary and the minimal
//! teloxide `RedisStorage<Json>` dialogue bot of `tools/teloxide-baseline` one right after the
//! other, sferum-bot first in odd runs, the baseline first in even ones):
//!
//! 1. **Profile**: the bot in webhook mode on core 0, a fast fake Bot API, a private
//!    redis-server behind a round-trip counting proxy; one chat plays the journey twice, one
//!    update at a time, to learn how many replies each step gets, how many Redis round trips
//!    each update costs, and how large the session is in Redis after every step.
//! 2. **Load**, for each number of chats M: a fresh bot and a fresh redis-server (no proxy);
//!    M chats play the journey at once, each with at most one update in flight, through at most
//!    40 webhook connections. Measured: updates/s, the time from each POST to its last reply
//!    (p50, p99), the bot's CPU time per update, Redis commands per update, Redis memory
//!    growth per chat, sessions' size, and the bot's resident memory idle (anonymous and
//!    file-backed) and after.
//!
//! The driver and Redis run on core 1. Printed last: the medians of the runs, the ratio of the
//! medians, and the ratio within each run (median and range), which a host whose speed drifts
//! over minutes disturbs less.

#[allow(dead_code)]
#[path = "../../tests/it/redis_server.rs"]
mod redis_server;

mod bots;
mod drive;
mod redis_probe;
mod sink;

use std::process::Command;
use std::time::Duration;

use bots::{Resident, Running, Which};
use drive::{Poster, Step, MENU, REGISTRATION};
use redis_server::RedisServer;

/// Where the chats' ids start (any private chat ids would do).
const FIRST_CHAT: i64 = 1_000_000;
/// The profiled chat.
const PROFILED_CHAT: i64 = 999_999;
/// How long the idle bot's round trips are counted: three of the notifier's ticks.
const IDLE_WINDOW: Duration = Duration::from_secs(6);

struct Options {
    chats: Vec<usize>,
    runs: usize,
    updates: usize,
    /// `--only sferum-bot` (or `baseline`): one bot, for profiling it; no ratios.
    only: Option<String>,
    /// `--journey menu` (the default) or `registration` (sferum-bot only).
    journey: &'static [Step],
}

fn options() -> Options {
    let mut options = Options {
        chats: vec![1_000, 10_000],
        runs: 3,
        updates: 20_000,
        only: None,
        journey: &MENU,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--chats" => {
                options.chats = pair[1]
                    .split(',')
                    .map(|n| n.parse().expect("--chats 1000,10000"))
                    .collect();
            }
            "--runs" => options.runs = pair[1].parse().expect("--runs 3"),
            "--updates" => options.updates = pair[1].parse().expect("--updates 20000"),
            "--only" => options.only = Some(pair[1].clone()),
            "--journey" => {
                options.journey = match pair[1].as_str() {
                    "menu" => &MENU,
                    "registration" => &REGISTRATION,
                    other => panic!("--journey menu|registration, not {other}"),
                }
            }
            _ => {}
        }
    }
    if std::ptr::eq(options.journey, &REGISTRATION) && options.only.is_none() {
        // The baseline knows no registration.
        options.only = Some("sferum".to_owned());
    }
    options
}

/// What one profile measured.
#[derive(Debug, Clone, Default)]
struct Profile {
    replies: Vec<usize>,
    /// Round trips of each step of the second round (the first one makes the session).
    round_trips: Vec<u64>,
    round_trips_per_update: f64,
    idle_round_trips_per_s: f64,
    session_max: u64,
    idle_rss: Resident,
    start_ms: f64,
}

/// What one load phase measured.
#[derive(Debug, Clone, Default)]
struct Load {
    updates_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us: f64,
    cpu_share: f64,
    commands: f64,
    scripts: f64,
    bytes_per_chat: f64,
    session_median: u64,
    failed: usize,
    rss_after: Resident,
}

fn main() {
    if std::env::var_os("LOAD_BENCH_PINNED").is_none() {
        // The driver runs on core 1, the bots on core 0.
        let status = Command::new("taskset")
            .arg("-c")
            .arg("1")
            .arg(std::env::current_exe().expect("this benchmark"))
            .args(std::env::args().skip(1))
            .env("LOAD_BENCH_PINNED", "1")
            .status()
            .expect("taskset runs the benchmark on core 1");
        std::process::exit(status.code().unwrap_or(1));
    }
    let options = options();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(bench(&options));
}

async fn bench(options: &Options) {
    let programs = bots::programs();
    let mut profiles: Vec<Vec<Profile>> = vec![Vec::new(); 2];
    let mut loads: Vec<Vec<Vec<Load>>> = vec![vec![Vec::new(); options.chats.len()]; 2];
    for run in 1..=options.runs {
        // Both bots in each phase, one right after the other, so that the machine's speed, which
        // drifts over minutes on a shared host, is nearly the same for the two; odd runs start
        // with sferum-bot, even runs with the baseline, so that neither always goes first.
        let mut order: Vec<usize> = (0..programs.len())
            .filter(|&b| {
                options
                    .only
                    .as_deref()
                    .is_none_or(|only| programs[b].0.name().starts_with(only))
            })
            .collect();
        if run % 2 == 0 {
            order.reverse();
        }
        for &b in &order {
            let (which, program) = &programs[b];
            let profile = profile(*which, program, options.journey).await;
            eprintln!("run {run} {:<22} profile: {profile:?}", which.name());
            profiles[b].push(profile);
        }
        for (c, &chats) in options.chats.iter().enumerate() {
            for &b in &order {
                let (which, program) = &programs[b];
                let load = load(
                    *which,
                    program,
                    options.journey,
                    chats,
                    options.updates,
                    &profiles[b][run - 1].replies,
                )
                .await;
                eprintln!("run {run} {:<22} {chats} chats: {load:?}", which.name());
                loads[b][c].push(load);
            }
        }
    }
    if options.only.is_none() {
        report(options, &programs, &profiles, &loads);
    }
}

fn redis() -> RedisServer {
    let server = RedisServer::start();
    if let Some(pid) = server.pid() {
        let _ = Command::new("taskset")
            .args(["-p", "-c", "1", &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .status();
    }
    server
}

fn port_of(server: &RedisServer) -> u16 {
    server
        .url()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port in the URL")
}

async fn profile(which: Which, program: &Command, journey: &'static [Step]) -> Profile {
    let server = redis();
    let proxy = redis_probe::RoundTrips::start(port_of(&server)).await;
    let (api, replies) = sink::start([PROFILED_CHAT]).await;
    let bot = Running::start(which, program, api, proxy.port).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = bot.rss();
    // Three of the notifier's ticks (every 2 s).
    let before = proxy.count();
    tokio::time::sleep(IDLE_WINDOW).await;
    let idle_round_trips_per_s = (proxy.count() - before) as f64 / IDLE_WINDOW.as_secs_f64();
    let mut redis = server.connection().await;
    let poster = Poster::new(bot.webhook);
    let mut chat = drive::chats(&[PROFILED_CHAT], replies).remove(0);
    let key = which.session_key(PROFILED_CHAT);
    let mut replies = Vec::new();
    let mut round_trips = Vec::new();
    let mut session_max = 0;
    let before = proxy.count();
    let mut updates = 0;
    for round in 0..2 {
        for (i, step) in journey.iter().enumerate() {
            let step_began = proxy.count();
            let got = chat
                .explore(&poster, *step, Duration::from_millis(150))
                .await;
            updates += 1;
            if round == 0 {
                replies.push(got);
            } else {
                assert_eq!(
                    replies[i],
                    got,
                    "{}: step {step:?} got another number of replies",
                    which.name()
                );
            }
            // Whatever follows the replies (dropping the delivered ones) has happened by now.
            tokio::time::sleep(Duration::from_millis(100)).await;
            if round == 1 {
                round_trips.push(proxy.count() - step_began);
            }
            session_max = session_max.max(redis_probe::memory_usage(&mut redis, &key).await);
        }
    }
    // The probe's own MEMORY USAGE calls went to the server directly, not through the proxy.
    let total = (proxy.count() - before) as f64;
    Profile {
        replies,
        round_trips,
        round_trips_per_update: total / f64::from(updates),
        idle_round_trips_per_s,
        session_max,
        idle_rss,
        start_ms: bot.start_to_listening.as_secs_f64() * 1000.0,
    }
}

async fn load(
    which: Which,
    program: &Command,
    journey: &'static [Step],
    chats: usize,
    updates: usize,
    replies: &[usize],
) -> Load {
    let server = redis();
    let ids: Vec<i64> = (0..chats as i64).map(|i| FIRST_CHAT + i).collect();
    let (api, receivers) = sink::start(ids.iter().copied()).await;
    let bot = Running::start(which, program, api, port_of(&server)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut redis = server.connection().await;
    redis_probe::reset_stats(&mut redis).await;
    let memory_before = redis_probe::info_field(&mut redis, "memory", "used_memory").await;
    let poster = Poster::new(bot.webhook);
    let rounds = updates.div_ceil(chats * journey.len()).max(1);
    let cpu_before = bot.cpu();
    let played = drive::play(
        &poster,
        drive::chats(&ids, receivers),
        journey,
        rounds,
        replies,
    )
    .await;
    let cpu = bot.cpu() - cpu_before;
    // Let the replies' clean-up finish before Redis is looked at.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (commands, scripts) = redis_probe::commands(&mut redis).await;
    let memory_after = redis_probe::info_field(&mut redis, "memory", "used_memory").await;
    let mut sessions = Vec::new();
    for id in ids.iter().step_by((chats / 100).max(1)) {
        sessions.push(redis_probe::memory_usage(&mut redis, &which.session_key(*id)).await);
    }
    sessions.sort_unstable();
    let done = played.updates as f64;
    Load {
        updates_per_s: done / played.wall.as_secs_f64(),
        p50_ms: played.percentile(0.5).as_secs_f64() * 1000.0,
        p99_ms: played.percentile(0.99).as_secs_f64() * 1000.0,
        cpu_us: cpu.as_secs_f64() * 1e6 / done,
        cpu_share: cpu.as_secs_f64() / played.wall.as_secs_f64(),
        commands: commands as f64 / done,
        scripts: scripts as f64 / done,
        bytes_per_chat: memory_after.saturating_sub(memory_before) as f64 / chats as f64,
        session_median: sessions.get(sessions.len() / 2).copied().unwrap_or(0),
        failed: played.failed,
        rss_after: bot.rss(),
    }
}

/// The middle value; of an even count, the mean of the two middle ones.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// One row of the report: a measure's value in each run, for each bot.
struct Row {
    name: String,
    ours: Vec<f64>,
    theirs: Vec<f64>,
}

/// `ours / theirs`, unless the baseline measured nothing.
fn ratio(ours: f64, theirs: f64) -> Option<f64> {
    (theirs != 0.0).then(|| ours / theirs)
}

impl Row {
    /// The ratio within each run (the two bots measured minutes apart at most): the median and
    /// the range over the runs.
    fn paired(&self) -> Option<String> {
        let mut ratios: Vec<f64> = self
            .ours
            .iter()
            .zip(&self.theirs)
            .filter_map(|(&ours, &theirs)| ratio(ours, theirs))
            .collect();
        ratios.sort_by(f64::total_cmp);
        let (&low, &high) = (ratios.first()?, ratios.last()?);
        Some(format!("{:.2} ({low:.2}–{high:.2})", median(ratios)))
    }
}

fn report(
    options: &Options,
    programs: &[(Which, Command); 2],
    profiles: &[Vec<Profile>],
    loads: &[Vec<Vec<Load>>],
) {
    let mut rows: Vec<Row> = Vec::new();
    for (c, chats) in options.chats.iter().enumerate() {
        let mut row = |name: &str, f: &dyn Fn(&Load) -> f64| {
            rows.push(Row {
                name: format!("{name} ({chats} chats)"),
                ours: loads[0][c].iter().map(f).collect(),
                theirs: loads[1][c].iter().map(f).collect(),
            });
        };
        row("updates/s", &|x| x.updates_per_s);
        row("POST to last reply p50, ms", &|x| x.p50_ms);
        row("POST to last reply p99, ms", &|x| x.p99_ms);
        row("bot CPU per update, µs", &|x| x.cpu_us);
        row("bot CPU busy, share of one core", &|x| x.cpu_share);
        row("Redis commands per update (inside scripts too)", &|x| {
            x.commands
        });
        row("EVALSHA requests per update", &|x| x.scripts);
        row("Redis memory growth per chat, B", &|x| x.bytes_per_chat);
        row("session in Redis (median of 100), B", &|x| {
            x.session_median as f64
        });
        row("bot RSS after the load, MB", &|x| {
            x.rss_after.total as f64 / 1e6
        });
        row("updates that got no reply", &|x| x.failed as f64);
    }
    let mut row = |name: &str, f: &dyn Fn(&Profile) -> f64| {
        rows.push(Row {
            name: name.to_owned(),
            ours: profiles[0].iter().map(f).collect(),
            theirs: profiles[1].iter().map(f).collect(),
        });
    };
    row(
        "Redis round trips per update (one chat, median of the steps)",
        &|x| {
            let mut steps = x.round_trips.clone();
            steps.sort_unstable();
            steps.get(steps.len() / 2).copied().unwrap_or(0) as f64
        },
    );
    row(
        "Redis round trips per update (one chat, idle polling included)",
        &|x| x.round_trips_per_update,
    );
    row("Redis round trips per idle second", &|x| {
        x.idle_round_trips_per_s
    });
    row("session in Redis, largest after any step, B", &|x| {
        x.session_max as f64
    });
    row("replies per journey", &|x| {
        x.replies.iter().sum::<usize>() as f64
    });
    row("idle RSS, MB", &|x| x.idle_rss.total as f64 / 1e6);
    row("idle RSS: anonymous (heap, stacks), MB", &|x| {
        x.idle_rss.anonymous as f64 / 1e6
    });
    row("idle RSS: file-backed (the binary's pages), MB", &|x| {
        x.idle_rss.file as f64 / 1e6
    });
    row("start to listening, ms", &|x| x.start_ms);

    println!();
    println!(
        "Load benchmark: {} run(s), medians; journey {:?}; {} updates per load phase at least",
        options.runs, options.journey, options.updates
    );
    println!(
        "| | {} | {} | ratio | ratio within a run: median (range) |",
        programs[0].0.name(),
        programs[1].0.name()
    );
    println!("|---|---|---|---|---|");
    for row in rows {
        let (ours, theirs) = (median(row.ours.clone()), median(row.theirs.clone()));
        let of_medians = ratio(ours, theirs).map(|r| format!("{r:.2}"));
        let dash = || "—".to_owned();
        println!(
            "| {} | {} | {} | {} | {} |",
            row.name,
            shown(ours),
            shown(theirs),
            of_medians.unwrap_or_else(dash),
            row.paired().unwrap_or_else(dash)
        );
    }
}

fn shown(value: f64) -> String {
    if value.abs() >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}
