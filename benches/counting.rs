//! What counting costs per update, measured side by side in one run:
//!
//! - the engine's step for a typed phone number (what a turn costs anyway);
//! - the counts that turn adds in the process: its funnel fields and its metrics (the update,
//!   the turn's latency, the steps entered, two messages sent);
//! - masking a question the bot did not understand (only such turns pay it);
//! - a commit to a real Redis (a private `redis-server` on a free port) without counts, with
//!   the turn's funnel fields, and with an unanswered question too: the counts ride in the same
//!   script call, so the difference is the script's work, not a round trip.
//!
//! `cargo bench --bench counting` (needs `redis-server` on the PATH).

use std::hint::black_box;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::domain::{Channel, ChatKey};
use sferum_bot::engine::Input;
use sferum_bot::ops::funnel;
use sferum_bot::ops::metrics::{Metrics, SendResult};
use sferum_bot::store::{Commit, SessionStore, Tally};

struct Redis(Child, u16);

impl Redis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server on the PATH");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis(child, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

mod common;

fn counting(c: &mut Criterion) {
    let engine = common::engine();
    let now = common::monday_morning();
    let at_contact = common::at_contact(&engine, now);
    let turn = engine.take_turn(
        at_contact.clone(),
        Input::Text("8 (912) 345-67-89".to_owned()),
        now,
    );
    let trail = turn.trail.clone();
    c.bench_function("a turn: the engine step for a typed phone", |b| {
        b.iter(|| {
            engine.take_turn(
                black_box(at_contact.clone()),
                Input::Text("8 (912) 345-67-89".to_owned()),
                now,
            )
        })
    });
    let metrics = Metrics::default();
    let chat = ChatKey::telegram(1);
    c.bench_function("its counts: funnel fields and metrics", |b| {
        b.iter(|| {
            let counts = funnel::count(
                black_box(&at_contact.at),
                black_box(&at_contact.history),
                black_box(&trail),
                None,
            );
            metrics.update(chat.channel, "text");
            metrics.turn(Channel::Telegram, Duration::from_millis(3));
            for at in &trail {
                metrics.step_entered(at);
            }
            metrics.sent(Channel::Telegram, SendResult::Ok);
            metrics.sent(Channel::Telegram, SendResult::Ok);
            counts
        })
    });
    c.bench_function("a question not understood: masking it", |b| {
        b.iter(|| {
            engine.mask_question(black_box(
                "Петрова Маша 8 912 345 67 89 почему не приходит ничего уже третий день",
            ))
        })
    });

    let redis = Redis::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let store = runtime
        .block_on(RedisStore::connect(
            &format!("redis://127.0.0.1:{}/", redis.1),
            RedisStoreConfig::default(),
        ))
        .expect("a store");
    let next_chat = AtomicI64::new(1_000);
    let counted = Tally {
        day: Some(now.date_naive()),
        counts: funnel::count(&at_contact.at, &at_contact.history, &trail, None),
        unmatched: None,
    };
    let with_question = Tally {
        unmatched: Some("почему не приходит * # @".to_owned()),
        ..counted.clone()
    };
    let mut group = c.benchmark_group("a commit to Redis");
    for (name, tally) in [
        ("without counts", Tally::default()),
        ("with the turn's funnel fields", counted),
        ("with the fields and an unanswered question", with_question),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let chat = ChatKey::telegram(next_chat.fetch_add(1, Ordering::Relaxed));
                let commit = Commit {
                    session: &turn.session,
                    expected: 0,
                    update_id: None,
                    notices: Vec::new(),
                    tally: tally.clone(),
                };
                runtime
                    .block_on(store.commit(chat, &commit))
                    .expect("committed")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, counting);
criterion_main!(benches);
