//! Benchmarks of the engine's hot path and of start-up.
//!
//! `cargo bench --bench engine` reports the median time of: one engine step for a typed answer
//! (a phone number validated and recorded), one button press, a button's label typed with a
//! typo, a question in free words at a step (routed over every example), loading + checking
//! the shipped scripts and locales (what every start-up does), and a registering family's
//! session as the stores keep it: as JSON, packed (`store::packed`) and read back.

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

/// A student's session at the parent invitation, the end of a registration: 1,079 bytes of JSON.
const REGISTERED: &str = r#"{"scripts_version":"fb258aa85f284703","lang":"ru","at":"variant1/parent_invite","history":["variant1/welcome","variant1/contact","variant1/confirm_contact","variant1/code","variant1/name","variant1/confirm_application","variant1/submitted","variant1/approved"],"facts":{"invite_token":"demo-class","invite":{"kind":"class","class_id":"c-5a","class":"5А","school":"МОБУ «СОШ № 1»","teacher_name":"Иванова Мария Петровна"},"contact":{"channel":"phone","address":"+79123456789"},"verification":{"verification_id":"v-1","code_length":6,"expires_at":1788761400000,"resend_after":1788760860000},"verified":true,"child_name":{"last_name":"Петрова-Водкина","first_name":"Анна-Мария","middle_name":"Сергеевна"},"application":{"application_id":"a-1","status":"approved","class":"5А","school":"МОБУ «СОШ № 1»","teacher_id":"t-7"},"parent_invite":{"token":"p-8f3k2j4h5g6f7d8s","expires_at":1789365600000}},"offer":{"seq":9,"own":true},"epoch":864433272081137098,"updated_at":1788760800000,"active_at":1788760800000}"#;

fn session_bytes(c: &mut Criterion) {
    let session: Session = serde_json::from_str(REGISTERED).expect("a session");
    let packed = sferum_bot::store::encode(&session).expect("encodes");
    c.bench_function("session bytes: JSON", |b| {
        b.iter(|| serde_json::to_vec(black_box(&session)).expect("encodes"))
    });
    c.bench_function("session bytes: packed", |b| {
        b.iter(|| sferum_bot::store::encode(black_box(&session)).expect("encodes"))
    });
    c.bench_function("session bytes: read JSON", |b| {
        b.iter(|| serde_json::from_str::<Session>(black_box(REGISTERED)).expect("decodes"))
    });
    c.bench_function("session bytes: read packed", |b| {
        b.iter(|| sferum_bot::store::decode(black_box(&packed)).expect("decodes"))
    });
}

criterion_group!(benches, engine_step, start_up, session_bytes);
criterion_main!(benches);
