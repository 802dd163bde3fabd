//! Benchmarks of the engine's hot path and of start-up.
//!
//! `cargo bench --bench engine` reports the median time of: one engine step for a typed answer
//! (a phone number validated and recorded), one button press, a button's label typed with a
//! typo, a question in free words at a step (routed over every example), and loading +
//! checking the shipped scripts and locales (what every start-up does).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use sferum_bot::engine::{Input, Session};
use sferum_bot::startup;

mod common;

fn engine_step(c: &mut Criterion) {
    let engine = common::engine();
    let now = common::monday_morning();
    let at_contact = common::at_contact(&engine, now);
    c.bench_function("engine step: a typed phone number", |b| {
        b.iter(|| {
            engine.take_turn(
                black_box(at_contact.clone()),
                Input::Text("8 (912) 345-67-89".to_owned()),
                now,
            )
        })
    });

    let mut at_menu = Session::new(&engine.scripts().version, "ru", now);
    at_menu = engine
        .take_turn(at_menu, Input::from_text("/start"), now)
        .session;
    c.bench_function("engine step: a button press", |b| {
        b.iter(|| {
            engine.take_turn(
                black_box(at_menu.clone()),
                Input::Button {
                    offer: at_menu.offer.seq,
                    index: 0,
                },
                now,
            )
        })
    });

    c.bench_function("engine step: a button typed with a typo", |b| {
        b.iter(|| {
            engine.take_turn(
                black_box(at_menu.clone()),
                Input::Text("я радитель".to_owned()),
                now,
            )
        })
    });
    c.bench_function("engine step: a question in free words", |b| {
        b.iter(|| {
            engine.take_turn(
                black_box(at_contact.clone()),
                Input::Text("а если у дочки нет своего телефона что писать".to_owned()),
                now,
            )
        })
    });
}

fn start_up(c: &mut Criterion) {
    let settings = common::settings();
    c.bench_function("start-up: load and check scripts and locales", |b| {
        b.iter(|| startup::engine(black_box(&settings)).expect("loads"))
    });
}

criterion_group!(benches, engine_step, start_up);
criterion_main!(benches);
