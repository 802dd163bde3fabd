//! Faults a region meets at the start of a school year, as counts a user would notice: lost
//! answers, duplicate SMS, duplicate applications, duplicate messages. Real Redis (each test its
//! own `redis-server`), the sandbox service counting what it really does, replicas as separate
//! `Bot`s on one Redis, a crash as a turn's future dropped mid-call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sferum_bot::clock::ManualClock;
use sferum_bot::engine::Input;
use sferum_bot::notify::redis::RedisOutbox;
use sferum_bot::runtime::{Bot, Handled};
use sferum_bot::service::sandbox::{Sandbox, SandboxConfig};
use sferum_bot::store::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::store::{ChatId, SessionStore};

use super::helpers::{engine, monday_morning, CODE};
use super::redis_server::RedisServer;

const CHAT: ChatId = 31_337;

/// A registration service shared by every replica, counting the codes it sends.
struct Service {
    sandbox: Arc<Sandbox>,
    codes: Arc<AtomicUsize>,
}

fn service(clock: &ManualClock) -> Service {
    let codes = Arc::new(AtomicUsize::new(0));
    let counter = codes.clone();
    let sandbox = Sandbox::with_config(
        Arc::new(clock.clone()),
        SandboxConfig {
            fixed_code: Some(CODE.to_owned()),
            ..SandboxConfig::default()
        },
    )
    .on_code_sent(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    Service {
        sandbox: Arc::new(sandbox),
        codes,
    }
}

async fn redis_store(server: &RedisServer) -> Arc<RedisStore> {
    Arc::new(
        RedisStore::connect(&server.url(), RedisStoreConfig::default())
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", server.url())),
    )
}

/// A replica of the bot: its own process state, the shared Redis (sessions and outbox) and
/// service.
async fn replica(store: &Arc<RedisStore>, service: &Service, clock: &ManualClock) -> Bot {
    let outbox = Arc::new(RedisOutbox::beside(store).await);
    let store: Arc<dyn SessionStore> = store.clone();
    Bot::new(
        engine(),
        service.sandbox.clone(),
        store,
        Arc::new(clock.clone()),
    )
    .with_outbox(outbox)
}

async fn turn(bot: &Bot, input: Input) -> Handled {
    let handled = bot
        .handle(CHAT, None, input)
        .await
        .unwrap_or_else(|e| panic!("the turn failed: {e}"));
    bot.delivered(&handled).await;
    handled
}

fn press(handled: &Handled, label: &str) -> Input {
    handled
        .replies
        .iter()
        .flat_map(|r| r.buttons.iter())
        .find(|b| b.label == label)
        .and_then(|b| b.action.callback_data())
        .and_then(|data| Input::from_callback(&data))
        .unwrap_or_else(|| panic!("no button «{label}» in {handled:#?}"))
}

fn text(handled: &Handled) -> String {
    handled
        .replies
        .iter()
        .map(|r| r.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_double_tap_on_two_replicas_sends_one_sms_and_both_taps_are_answered() {
    let server = RedisServer::start();
    let store = redis_store(&server).await;
    let clock = ManualClock::new(monday_morning());
    let service = service(&clock);
    let (a, b) = (
        replica(&store, &service, &clock).await,
        replica(&store, &service, &clock).await,
    );
    let welcome = turn(&a, Input::from_text("/start demo-class")).await;
    let contact = turn(&a, press(&welcome, "Войти в аккаунт")).await;
    assert_eq!(contact.at.to_string(), "variant1/contact");
    let check = turn(&a, Input::from_text("+7 912 345-67-89")).await;
    let tap = press(&check, "Да, это ребёнка");

    let (first, second) =
        tokio::join!(a.handle(CHAT, None, tap.clone()), b.handle(CHAT, None, tap));
    let (first, second) = (first.expect("replica A"), second.expect("replica B"));

    assert_eq!(
        service.codes.load(Ordering::SeqCst),
        1,
        "one SMS for the double tap"
    );
    for handled in [&first, &second] {
        assert_eq!(handled.at.to_string(), "variant1/code", "{}", text(handled));
        assert!(!handled.replies.is_empty(), "every tap is answered");
    }
}
