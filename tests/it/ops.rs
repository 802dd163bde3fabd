//! What operators see, end to end: a student's journey through the real bot in MAX (fake MAX
//! API, real Redis) is read back from `/metrics`, from `sferum-bot stats` (the binary, on the
//! same Redis), from `/stats` (also in headless Chromium), and the question nobody could answer
//! from `sferum-bot unmatched` — and none of them shows the phone, the e-mail, the code or a
//! name the person typed.

use std::process::Command;
use std::time::Duration;

use super::helpers::CODE;
use super::max::{pressed, started, typed, FakeMax};

/// The school day the test clock stands on (`helpers::monday_morning`, Asia/Yekaterinburg).
const DAY: &str = "2026-09-07";
const PHONE: &str = "+7 912 345-67-89";
const NAME: &str = "Петрова Мария Ивановна";
/// A message the bot cannot use, full of personal data.
const MUDDLE: &str = "Петрова Маша 89123456789 masha.petrova@example.ru фывапролджэ ячсмитьбю";

/// The student's Variant 1 from the deep link to the submitted application, then a message the
/// bot does not understand.
async fn journey(max: &FakeMax) {
    max.update(started("demo-class")).await;
    max.update(pressed(&max.button("Войти в аккаунт").await))
        .await;
    max.update(typed(PHONE)).await;
    max.update(pressed(&max.button("Да, это ребёнка").await))
        .await;
    max.update(typed(CODE)).await;
    max.update(typed(NAME)).await;
    max.update(pressed(&max.button("Отправить заявку").await))
        .await;
    assert_eq!(max.at().await, "variant1/submitted");
    max.update(typed(MUDDLE)).await;
}

/// The operations listener of `max`'s bot on a free port; its base URL.
async fn listen(max: &FakeMax) -> (String, tokio::sync::oneshot::Sender<()>) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sferum_bot::ops::serve(
        ([127, 0, 0, 1], port).into(),
        max.bot.bot.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    let base = format!("http://127.0.0.1:{port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match reqwest::get(format!("{base}/health")).await {
            Ok(r) if r.status().is_success() => break,
            _ if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("the operations listener did not come up: {other:?}"),
        }
    }
    (base, stop)
}

async fn get(url: &str) -> String {
    let response = reqwest::get(url).await.expect("answered");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.text().await.expect("a body")
}

/// The value of the sample `name{labels}` in a Prometheus exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.trim().parse().ok()
    })
}

/// The bot's binary with only `REDIS_URL` set.
fn binary(redis_url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("REDIS_URL", redis_url)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The row of `step` in the first block of `scenario` in `sferum-bot stats`: its numbers.
fn stats_row(table: &str, scenario: &str, step: &str) -> Vec<String> {
    let block = table
        .split("\n\n")
        .find(|b| b.lines().next() == Some(scenario))
        .unwrap_or_else(|| panic!("no {scenario} in\n{table}"));
    let line = block
        .lines()
        .find(|l| l.split_whitespace().next() == Some(step))
        .unwrap_or_else(|| panic!("no {step} in\n{block}"));
    line.split_whitespace().skip(1).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_students_journey_is_counted_in_metrics_the_stats_command_and_the_page() {
    let max = FakeMax::start().await;
    journey(&max).await;
    let (base, _stop) = listen(&max).await;

    let metrics = get(&format!("{base}/metrics")).await;
    let entered = |step: &str| {
        sample(
            &metrics,
            &format!("sferum_steps_entered_total{{scenario=\"variant1\",step=\"{step}\"}}"),
        )
    };
    for step in [
        "welcome",
        "contact",
        "confirm_contact",
        "code",
        "name",
        "submitted",
    ] {
        assert_eq!(entered(step), Some(1.0), "{step} in\n{metrics}");
    }
    // Eight updates through the MAX transport: a start, three presses, four typed messages.
    assert_eq!(
        sample(
            &metrics,
            "sferum_updates_total{channel=\"max\",kind=\"button\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "sferum_updates_total{channel=\"max\",kind=\"text\"}"
        ),
        Some(4.0)
    );
    assert_eq!(
        sample(&metrics, "sferum_turn_seconds_count{channel=\"max\"}"),
        Some(8.0)
    );
    assert_eq!(
        sample(
            &metrics,
            "sferum_service_calls_total{operation=\"submit_application\",outcome=\"ok\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "sferum_free_text_total{outcome=\"not_understood\"}"
        ),
        Some(1.0)
    );
    assert!(sample(
        &metrics,
        "sferum_messages_sent_total{channel=\"max\",result=\"ok\"}"
    )
    .is_some_and(|n| n >= 8.0));
    assert!(metrics.contains("sferum_outbox_depth"), "{metrics}");

    // The funnel survives the process: the binary reads it from Redis.
    let table = binary(&max.redis.url(), &["stats", "--days", "1", "--until", DAY]);
    let submitted = stats_row(&table, "variant1", "submitted");
    assert_eq!(submitted[1], "1", "entered, in {submitted:?}\n{table}");
    let contact = stats_row(&table, "variant1", "contact");
    // Entered once, left forward once (to the check of the number).
    assert_eq!(contact[1..3], ["1", "1"], "{contact:?}\n{table}");

    let page = get(&format!("{base}/stats")).await;
    assert!(
        page.contains("data-step=\"variant1/submitted\" data-entered=\"1\""),
        "{page}"
    );
    assert_eq!(page.matches("<svg class=\"funnel\"").count(), 5);

    // The flows drawn with the same counts.
    let graph = binary(
        &max.redis.url(),
        &["graph", "--stats", "--days", "1", "--until", DAY],
    );
    let node = sferum_bot::script::graph::node_ids(max.bot.bot.engine().scripts())
        .remove(&sferum_bot::script::StepRef::new("variant1", "submitted"))
        .expect("a node for the step");
    assert!(
        graph
            .lines()
            .any(|l| l.contains(node.as_str()) && l.contains("entered 1")),
        "no count on {node} in\n{graph}"
    );
    assert!(graph.contains("entered 0"), "steps nobody reached show 0");

    let unmatched = binary(&max.redis.url(), &["unmatched", "--until", DAY]);
    let first = unmatched.lines().nth(1).unwrap_or_default();
    assert!(first.trim_start().starts_with("1 "), "{unmatched}");
    assert!(
        first.contains('#') && first.contains('@') && first.contains('*'),
        "{first}"
    );
}

#[tokio::test]
async fn nothing_personal_appears_in_the_metrics_the_stats_the_page_or_the_questions() {
    let max = FakeMax::start().await;
    journey(&max).await;
    let (base, _stop) = listen(&max).await;
    // The metrics' names and labels: their sample values are measured numbers (latencies),
    // whose digits may be anything.
    let metrics = get(&format!("{base}/metrics"))
        .await
        .lines()
        .map(|line| line.rsplit_once(' ').map_or(line, |(series, _)| series))
        .collect::<Vec<_>>()
        .join("\n");
    let seen = [
        metrics,
        get(&format!("{base}/stats")).await,
        binary(&max.redis.url(), &["stats", "--days", "1", "--until", DAY]),
        binary(&max.redis.url(), &["unmatched", "--until", DAY]),
    ]
    .join("\n");
    let personal = [
        "912",
        "345",
        "67-89",
        "89123456789",
        CODE,
        "masha",
        "example.ru",
        "Петров",
        "петров",
        "Мария",
        "мария",
        "Маша",
        "маша",
        "Ивановна",
    ];
    for word in personal {
        assert!(!seen.contains(word), "«{word}» is shown:\n{seen}");
    }
}

#[tokio::test]
async fn the_stats_page_draws_its_bars_in_a_real_browser() {
    let max = FakeMax::start().await;
    journey(&max).await;
    let (base, _stop) = listen(&max).await;
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok())
        .expect("headless Chromium is needed: `apt-get install chromium` (.ci/run installs it)");
    let profile = tempfile::tempdir().expect("a profile directory");
    let url = format!("{base}/stats");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                &format!("--user-data-dir={}", profile.path().display()),
                "--dump-dom",
                &url,
            ])
            .output()
            .expect("chromium runs")
    })
    .await
    .expect("the browser task ends");
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        dom.contains("<svg"),
        "no SVG in the rendered page; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The browser parsed five funnels, and the bar of the step reached has a width.
    assert_eq!(dom.matches("class=\"funnel\"").count(), 5, "{dom}");
    let submitted = dom
        .split("data-step=\"variant1/submitted\"")
        .nth(1)
        .expect("the submitted step is drawn");
    let width: u32 = submitted
        .split("class=\"entered\"")
        .nth(1)
        .and_then(|rest| rest.split("width=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|w| w.parse().ok())
        .expect("a width on the bar");
    assert!(width > 0, "{submitted}");
}

#[tokio::test]
async fn a_conversation_silent_for_a_day_mid_scenario_counts_as_stopped_at_its_step() {
    use super::helpers::TestBot;
    use sferum_bot::clock::Clock;
    let bot = TestBot::new();
    let mut chat = bot.chat(77);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    assert_eq!(chat.at, "variant1/contact");
    let (notifier, _inbox) = bot.notifier();
    bot.clock.advance(chrono::Duration::hours(25));
    notifier
        .deliver_due()
        .await
        .expect("the reminder is delivered");
    let store = bot.bot.store();
    let day = bot.bot.engine().school().day_of(bot.clock.now());
    let funnel = sferum_bot::ops::read_funnel(store.as_ref(), day, 2)
        .await
        .expect("the funnel");
    let contact = funnel.at(&sferum_bot::script::StepRef::new("variant1", "contact"));
    assert_eq!((contact.entered, contact.stalled), (1, 1), "{funnel:?}");
    assert_eq!(contact.drop_off_percent(), Some(100.0));
    let welcome = funnel.at(&sferum_bot::script::StepRef::new("variant1", "welcome"));
    assert_eq!((welcome.forward, welcome.stalled), (1, 0));
}

/// A scripted morning: ten students open the class link; six send their application (three of
/// them go on to invite a parent), two stop at the code, two at their number; a day later the
/// reminders fall due. The funnel table and the page say exactly that. The table is printed
/// (`--nocapture`) and the page written to `$CARGO_TARGET_TMPDIR/stats.html` for a look.
#[tokio::test]
async fn a_scripted_morning_of_journeys_reads_as_the_funnel_table_and_page() {
    use super::helpers::TestBot;
    use sferum_bot::clock::Clock;
    use sferum_bot::script::StepRef;
    let bot = TestBot::new();
    for i in 0..10_i64 {
        let mut chat = bot.chat(1_000 + i);
        let phone = format!("+7 912 000-00-{i:02}");
        match i {
            0..=5 => {
                chat.submit_application(&phone, NAME).await;
                if i < 3 {
                    chat.invite_parent().await;
                }
            }
            6 | 7 => {
                chat.send("/start demo-class").await;
                chat.press("Войти в аккаунт").await;
                chat.send(&phone).await;
                chat.press("Да, это ребёнка").await;
                assert_eq!(chat.at, "variant1/code");
            }
            _ => {
                chat.send("/start demo-class").await;
                chat.press("Войти в аккаунт").await;
            }
        }
    }
    let (notifier, _inbox) = bot.notifier();
    bot.clock.advance(chrono::Duration::hours(25));
    while notifier.deliver_due().await.expect("delivered") > 0 {}
    let day = bot.bot.engine().school().day_of(bot.clock.now());
    let store = bot.bot.store();
    let funnel = sferum_bot::ops::read_funnel(store.as_ref(), day, 2)
        .await
        .expect("the funnel");
    let scripts = bot.bot.engine().scripts();
    let table = sferum_bot::ops::funnel::table(scripts, &funnel, 2, day);
    println!("{table}");
    let at = |step: &str| funnel.at(&StepRef::new("variant1", step));
    assert_eq!(at("welcome").entered, 10);
    assert_eq!((at("contact").entered, at("contact").stalled), (10, 2));
    assert_eq!((at("code").entered, at("code").stalled), (8, 2));
    assert_eq!(at("submitted").entered, 6);
    assert_eq!(at("parent_invite").entered, 3);
    // The three who did not go on waited at their sent application for a day (and were
    // reminded): a stop, as the funnel counts it.
    assert_eq!(at("submitted").stalled, 3);
    let page = sferum_bot::ops::page::render(
        scripts,
        bot.bot.engine().locales(),
        "ru",
        &funnel,
        2,
        sferum_bot::ops::page::Health::default(),
    );
    assert!(page.contains("data-step=\"variant1/welcome\" data-entered=\"10\""));
    assert!(page.contains("data-step=\"variant1/code\" data-entered=\"8\" data-stalled=\"2\""));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("stats.html");
    std::fs::write(&path, &page).expect("the page is written");
}
