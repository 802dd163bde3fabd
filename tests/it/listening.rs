//! Listening: typed answers at button steps, values with words around them, courtesy, a person
//! when asked, questions in people's own words — as conversations a reviewer reads, and as
//! scores on held-out files (`tests/it/data/`) that nothing was tuned on.

use proptest::prelude::*;
use serde::Deserialize;

use sferum_bot::engine::route::{Context, Router, Routing};
use sferum_bot::script::{ButtonAction, StepRef};

use sferum_bot::script::Msg;

use super::helpers::{crate_dir, engine, rendered, TestBot, CODE};

#[derive(Deserialize)]
struct RoutingCases {
    case: Vec<RoutingCase>,
}

#[derive(Deserialize)]
struct RoutingCase {
    text: String,
    expect: Vec<String>,
}

#[derive(Deserialize)]
struct TypedCases {
    case: Vec<TypedCase>,
}

#[derive(Deserialize)]
struct TypedCase {
    step: String,
    text: String,
    expect: String,
}

fn data<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = crate_dir().join("tests/it/data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn step_ref(at: &str) -> StepRef {
    let (scenario, step) = at.split_once('/').expect("scenario/step");
    StepRef::new(scenario, step)
}

/// How routing did on a set of questions.
#[derive(Debug, Default)]
struct Score {
    total: usize,
    /// Answered at once with a right step.
    answered: usize,
    /// Asked «Вы про это?» with a right step among the candidates.
    asked_right: usize,
    /// Answered at once with a wrong step (an off-topic question answered is wrong too).
    confident_wrong: usize,
    /// Off-topic questions left unanswered, as they should be.
    declined: usize,
    /// Off-topic questions asked about («Вы про это?»): not wrong, not right either.
    asked_needlessly: usize,
    misses: Vec<String>,
}

impl Score {
    fn right(&self) -> usize {
        self.answered + self.asked_right + self.declined
    }

    fn report(&self, name: &str) -> String {
        format!(
            "{name}: {right}/{total} = {pct:.1}% routed right ({answered} answered, {asked} by asking, \
             {declined} off-topic declined, {needless} off-topic asked about); {wrong} confident \
             wrong answers",
            right = self.right(),
            total = self.total,
            pct = 100.0 * self.right() as f64 / self.total.max(1) as f64,
            answered = self.answered,
            asked = self.asked_right,
            declined = self.declined,
            needless = self.asked_needlessly,
            wrong = self.confident_wrong,
        )
    }

    fn add(&mut self, text: &str, expect: &[StepRef], routing: Routing) {
        self.total += 1;
        let right = |at: &StepRef| expect.contains(at);
        match routing {
            Routing::Answer(route) if right(&route.step) => self.answered += 1,
            Routing::Answer(route) => {
                self.confident_wrong += 1;
                self.misses
                    .push(format!("«{text}» → {} (wanted {expect:?})", route.step));
            }
            Routing::Clarify(c) if c.iter().any(|r| right(&r.step)) => self.asked_right += 1,
            Routing::Nothing if expect.is_empty() => self.declined += 1,
            Routing::Clarify(_) if expect.is_empty() => {
                self.asked_needlessly += 1;
                self.misses
                    .push(format!("«{text}» → asked, though off-topic"));
            }
            other => self
                .misses
                .push(format!("«{text}» → {other:?} (wanted {expect:?})")),
        }
    }
}

/// Routes every question of a file of cases and holds the result to `floor` percent right,
/// with at most 1% confident wrong answers.
fn routing_score(file: &str, floor: usize) {
    let engine = engine();
    let cases: RoutingCases = data(file);
    let mut score = Score::default();
    for case in &cases.case {
        let expect: Vec<StepRef> = case.expect.iter().map(|s| step_ref(s)).collect();
        for at in &expect {
            assert!(engine.scripts().step(at).is_some(), "unknown step {at}");
        }
        score.add(
            &case.text,
            &expect,
            engine.understand(&case.text, &Context::default()),
        );
    }
    let report = score.report(file);
    eprintln!("{report}");
    assert!(score.total >= 100);
    assert!(
        score.right() * 100 >= score.total * floor,
        "{report}\n{}",
        score.misses.join("\n")
    );
    assert!(
        score.confident_wrong * 100 <= score.total,
        "{report}\n{}",
        score.misses.join("\n")
    );
}

/// The development set: written independently of the examples, then read while tuning.
#[test]
fn development_questions_are_routed_right_and_never_confidently_wrong() {
    routing_score("routing_dev.toml", 95);
}

/// The held-out set: written after development, never read while tuning.
#[test]
fn held_out_questions_are_routed_right_and_never_confidently_wrong() {
    routing_score("routing_holdout.toml", 93);
}

#[test]
fn every_example_question_is_understood_when_left_out_of_training() {
    let engine = engine();
    let scripts = engine.scripts();
    let examples: Vec<(StepRef, &str)> = scripts
        .steps()
        .flat_map(|(at, step)| step.phrases.iter().map(move |p| (at.clone(), p.as_str())))
        .collect();
    let mut score = Score::default();
    for (text, at, routing) in Router::new(scripts).leave_one_out() {
        score.add(&text, std::slice::from_ref(&at), routing);
    }
    eprintln!("{}", score.report("leave-one-out over the examples"));
    assert!(examples.len() >= 800, "{} examples", examples.len());
    assert!(
        score.right() * 100 >= score.total * 90,
        "{}\n{}",
        score.report("leave-one-out"),
        score.misses.join("\n")
    );
}

#[test]
fn every_answer_has_at_least_twenty_examples() {
    let engine = engine();
    for (at, step) in engine.scripts().steps() {
        if !step.phrases.is_empty() {
            assert!(step.phrases.len() >= 20, "{at}: {}", step.phrases.len());
        }
    }
}

/// Reads every typed answer of a file of cases at its step and holds the share understood as
/// the right button to `floor` percent.
fn typed_score(file: &str, floor: usize) {
    let engine = engine();
    let cases: TypedCases = data(file);
    let mut misses = Vec::new();
    for case in &cases.case {
        let at = step_ref(&case.step);
        let got = engine.typed_button_at(&at, "ru", &case.text);
        if got.as_deref() != Some(case.expect.as_str()) {
            misses.push(format!(
                "{at}: «{}» → {got:?}, wanted {}",
                case.text, case.expect
            ));
        }
    }
    let total = cases.case.len();
    let hits = total - misses.len();
    eprintln!(
        "{file}: typed answers {hits}/{total} = {:.1}% understood as the right button",
        100.0 * hits as f64 / total as f64
    );
    assert!(total >= 50);
    assert!(hits * 100 >= total * floor, "{}", misses.join("\n"));
}

#[test]
fn development_typed_answers_mean_their_button() {
    typed_score("typed_dev.toml", 85);
}

#[test]
fn held_out_typed_answers_mean_their_button() {
    typed_score("typed_holdout.toml", 80);
}

/// Every button on a step where a person can rest, with its label as shown.
fn buttons() -> Vec<(StepRef, String, String)> {
    let engine = engine();
    let mut out = Vec::new();
    for (at, step) in engine.scripts().steps() {
        for b in &step.buttons {
            if b.when.is_none() && matches!(b.action, ButtonAction::Goto(_)) {
                let text = engine
                    .locales()
                    .format("ru", &b.label, &Default::default())
                    .expect("a label renders");
                out.push((at.clone(), b.label.clone(), text));
            }
        }
    }
    out
}

/// `label` with one typo in a word of four letters or more: a letter dropped, doubled,
/// replaced or swapped with the next.
fn with_typo(label: &str, word: usize, position: usize, kind: usize, letter: char) -> String {
    let words: Vec<&str> = label.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|i| words[*i].chars().filter(|c| c.is_alphabetic()).count() >= 4)
        .collect();
    let Some(&w) = long.get(word % long.len().max(1)) else {
        return label.to_owned();
    };
    let mut chars: Vec<char> = words[w].chars().collect();
    let p = position % chars.len();
    match kind % 4 {
        0 => {
            chars.remove(p);
        }
        1 => chars.insert(p, chars[p]),
        2 => chars[p] = letter,
        _ if p + 1 < chars.len() => chars.swap(p, p + 1),
        _ => {
            chars.remove(p);
        }
    }
    let mut out: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    out[w] = chars.into_iter().collect();
    out.join(" ")
}

/// Whether a word of `typed` that is not in `text` is one edit from a word (of four letters
/// or more) of another button at `at`: its label in Russian or one of its phrases.
fn near_another_button(at: &StepRef, label: &str, text: &str, typed: &str) -> bool {
    let engine = engine();
    let Some(step) = engine.scripts().step(at) else {
        return false;
    };
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphabetic())
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect()
    };
    let original = words(text);
    let changed: Vec<String> = words(typed)
        .into_iter()
        .filter(|w| !original.contains(w))
        .collect();
    step.buttons
        .iter()
        .filter(|b| b.label != label)
        .flat_map(|b| {
            let shown = engine
                .locales()
                .format("ru", &b.label, &Default::default())
                .unwrap_or_default();
            std::iter::once(shown).chain(b.phrases.iter().cloned())
        })
        .flat_map(|other| words(&other))
        .any(|other| changed.iter().any(|w| strsim::levenshtein(w, &other) <= 1))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_button_label_typed_with_one_typo_is_that_button(
        button in prop::sample::select(buttons()),
        word in 0usize..4,
        position in 0usize..20,
        kind in 0usize..4,
        letter in prop::sample::select("абвгдеклмнопрстуя".chars().collect::<Vec<_>>()),
    ) {
        let (at, label, text) = button;
        let typed = with_typo(&text, word, position, kind, letter);
        // A typo that lands as near another button of the step (its label or its phrases:
        // «Осправить» is one letter from «Отправить» and from «исправить») is ambiguous, and
        // the bot rightly asks instead of guessing.
        prop_assume!(!near_another_button(&at, &label, &text, &typed));
        let got = engine().typed_button_at(&at, "ru", &typed);
        prop_assert_eq!(got.as_deref(), Some(label.as_str()), "at {}: «{}»", at, typed);
    }
}

// ----- conversations ------------------------------------------------------------------------

#[tokio::test]
async fn a_student_answers_in_words_at_every_button_step() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.send("давайте").await;
    assert_eq!(chat.at, "variant1/contact");
    chat.send("мой номер 8 912 345-67-89").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
    chat.send("да это его номер").await;
    assert_eq!(chat.at, "variant1/code");
    chat.send(&format!("код {} {}", &CODE[..3], &CODE[3..]))
        .await;
    assert_eq!(chat.at, "variant1/name");
    chat.send("его зовут петров иван").await;
    assert_eq!(chat.at, "variant1/confirm_application");
    chat.send("петров иван сергеевич").await; // a corrected name replaces the old one
    assert_eq!(chat.at, "variant1/confirm_application");
    chat.assert_said("v1-confirm-application");
    assert!(
        chat.last_text().contains("Петров Иван Сергеевич"),
        "{}",
        chat.text()
    );
    chat.send("отправить").await;
    assert_eq!(chat.at, "variant1/submitted");
    insta::assert_snapshot!(chat.text());
}

#[tokio::test]
async fn at_the_r1_check_no_and_my_number_mean_change_it() {
    for typed in ["нет", "ой это мой номер", "это телефон мамы", "изменить"]
    {
        let bot = TestBot::new();
        let mut chat = bot.chat(1);
        chat.send("/start demo-class").await;
        chat.press("Войти в аккаунт").await;
        chat.send("89123456789").await;
        chat.send(typed).await;
        assert_eq!(chat.at, "variant1/contact", "«{typed}»:\n{}", chat.text());
    }
}

#[tokio::test]
async fn a_corrected_contact_at_the_check_shows_the_check_again() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("89123456789").await;
    chat.send("ой нет, правильный masha2015@mail.ru").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
    chat.assert_said("v1-confirm-contact");
    assert!(chat.last_text().contains("@mail.ru"), "{}", chat.text());
}

#[tokio::test]
async fn role_words_at_the_menu_choose_the_role() {
    for (typed, at) in [
        ("родитель", "menu/parent"),
        ("я мама", "menu/parent"),
        ("папа", "menu/parent"),
        ("бабушка", "menu/parent"),
        ("я ученица", "menu/student"),
        ("школьник", "menu/student"),
        ("учительница", "menu/teacher"),
        ("классный руководитель", "menu/teacher"),
    ] {
        let bot = TestBot::new();
        let mut chat = bot.chat(1);
        chat.send("/start").await;
        chat.send(typed).await;
        assert_eq!(chat.at, at, "«{typed}»:\n{}", chat.text());
    }
}

#[tokio::test]
async fn a_side_answer_keeps_the_way_back_and_takes_the_expected_value() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-parent").await;
    assert_eq!(chat.at, "parent/welcome");
    chat.send("добрый вечер сын скинул ссылку").await;
    assert_ne!(chat.at, "parent/welcome", "{}", chat.text());
    assert!(chat
        .last_buttons()
        .contains(&"Вернуться к своему шагу".to_owned()));
    chat.send("8 (912) 345 67 89").await;
    assert_eq!(chat.at, "parent/code", "{}", chat.text());
    insta::assert_snapshot!(chat.text());
}

#[tokio::test]
async fn no_keyboard_shows_a_button_twice_and_not_found_keeps_the_way_back() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-parent").await;
    chat.send("у меня двое детей").await;
    chat.send("купить слона").await;
    let buttons = chat.last_buttons();
    assert!(
        buttons.contains(&"Вернуться к своему шагу".to_owned()),
        "{}",
        chat.text()
    );
    let mut unique = buttons.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), buttons.len(), "{buttons:?}");
}

#[tokio::test]
async fn courtesy_is_answered_and_the_step_is_repeated() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    for typed in ["здравствуйте", "спасибо", "?", "не поняла"] {
        chat.send(typed).await;
        assert_eq!(chat.at, "variant1/contact", "«{typed}»");
        chat.assert_not_said("route-not-found");
        chat.assert_said("v1-ask-contact"); // the step is repeated
    }
    chat.send("бот тупой").await;
    assert_eq!(chat.at, "variant1/contact");
    chat.assert_said("courtesy-rude");
    insta::assert_snapshot!(chat.text());
}

#[tokio::test]
async fn two_misunderstood_messages_offer_a_person_and_the_replies_differ() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.send("ываыва").await;
    let first = chat.last_text();
    chat.send("фывфыв").await;
    let second = chat.last_text();
    assert_ne!(first, second);
    assert!(chat
        .last_buttons()
        .contains(&"Связаться с человеком".to_owned()));
    chat.press("Связаться с человеком").await;
    assert_eq!(chat.at, "support/contact");
    chat.press("Вернуться к своему шагу").await;
    assert_eq!(chat.at, "variant1/welcome");
}

#[tokio::test]
async fn asking_for_a_person_gives_the_configured_contact() {
    for typed in [
        "оператор",
        "позовите человека",
        "как связаться с поддержкой",
        "техподдержка",
    ] {
        let bot = TestBot::new();
        let mut chat = bot.chat(1);
        chat.send("/start").await;
        chat.send(typed).await;
        assert_eq!(chat.at, "support/contact", "«{typed}»:\n{}", chat.text());
        chat.assert_said("support-contact");
        assert!(
            chat.last_text()
                .contains(&rendered("ru", Msg::SupportDefault.id(), &[])),
            "the default contact: {}",
            chat.text()
        );
    }
    let engine = sferum_bot::startup::engine(
        &sferum_bot::config::Settings::from_lookup(|name| {
            (name == "SUPPORT_CONTACT").then(|| "8 800 000-00-00".to_owned())
        })
        .expect("settings"),
    )
    .expect("engine");
    let bot = TestBot::on_engine(std::sync::Arc::new(engine));
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.send("живой человек").await;
    chat.assert_said("support-contact");
    assert!(
        chat.last_text().contains("8 800 000-00-00"),
        "{}",
        chat.text()
    );
    // R3-А names the same contact.
    chat.send("/menu").await;
    chat.send("зарегистрировала дочь на свой номер").await;
    chat.press("Как исправить").await;
    chat.assert_said("wrong-support");
    assert!(
        chat.last_text().contains("8 800 000-00-00"),
        "{}",
        chat.text()
    );
}

#[tokio::test]
async fn close_answers_are_asked_about_not_guessed() {
    let engine = engine();
    let question = "не вижу чаты";
    let routing = engine.understand(question, &Context::default());
    let Routing::Clarify(candidates) = routing else {
        panic!("expected a question back, got {routing:?}");
    };
    assert!(candidates.len() >= 2, "{candidates:?}");
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.send(question).await;
    chat.assert_said("clarify");
    assert!(chat.last_buttons().contains(&"Другое".to_owned()));
    chat.press("Другое").await;
    assert_eq!(chat.at, "menu/start");
}

#[tokio::test]
async fn a_question_mid_flow_prefers_the_answers_of_that_flow() {
    let bot = TestBot::new();
    let (token, _) = register_and_invite(&bot).await;
    let mut parent = bot.chat(2);
    parent.send(&format!("/start {token}")).await;
    parent.send("+7 922 111-22-33").await;
    assert_eq!(parent.at, "parent/code");
    parent.send("смс не приходит").await;
    // Registration's code and the e-journal's SMS are close: the bot asks, offering this flow's.
    parent.press("Не приходит проверочный код").await;
    assert_eq!(parent.at, "variant1_questions/code", "{}", parent.text());
    parent.send(CODE).await; // the expected value, from the side answer
    assert_eq!(parent.at, "parent/check_child", "{}", parent.text());
}

async fn register_and_invite(bot: &TestBot) -> (String, String) {
    let mut chat = bot.chat(1);
    let link = chat
        .submit_application("8 (912) 345-67-89", "петров иван сергеевич")
        .await
        .invite_parent()
        .await;
    (link, chat.text().to_owned())
}

#[tokio::test]
async fn a_teacher_types_the_class_and_asks_in_words() {
    let bot = TestBot::new();
    let mut teacher = bot.chat(3);
    teacher.send("/start demo-teacher").await;
    teacher.send("/help").await;
    teacher.assert_said("help-teacher");
    assert!(
        teacher.last_text().contains("/invite"),
        "{}",
        teacher.text()
    );
    assert!(
        teacher.last_text().contains("/pending"),
        "{}",
        teacher.text()
    );
    teacher.send("как одобрить заявку ученика").await;
    assert_eq!(
        teacher.at,
        "teacher_questions/approve",
        "{}",
        teacher.text()
    );
    teacher.send("где ссылка для класса").await;
    assert_eq!(
        teacher.at,
        "teacher_questions/invite_link",
        "{}",
        teacher.text()
    );
    teacher.send("/invite").await;
    assert_eq!(teacher.last_buttons(), ["5А", "7Б"], "{}", teacher.text());
    teacher.send("7б").await;
    teacher.assert_said("teacher-invite-link");
    assert!(
        teacher.last_text().contains("?start="),
        "{}",
        teacher.text()
    );
    assert!(teacher.last_qr().is_some());
}

/// Runs `sferum-bot chat` with `args`, typing `lines`, on the Redis at `redis_url`.
fn terminal_chat(redis_url: &str, args: &[&str], lines: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sferum-bot"))
        .arg("chat")
        .args(args)
        .env("REDIS_URL", redis_url)
        .env("REDIS_PREFIX", "terminal-test:")
        .env_remove("TELOXIDE_TOKEN")
        .env_remove("REGISTRATION_API_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(lines.as_bytes())
        .expect("typed");
    let output = child.wait_with_output().expect("it ends with its input");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_terminal_chat_resumes_a_stored_conversation_instead_of_greeting_over_it() {
    let server = super::redis_server::RedisServer::start();
    let first = terminal_chat(&server.url(), &["--start", "demo-class"], "войти\n");
    assert!(first.contains("РЕБЁНКА"), "{first}");
    let second = terminal_chat(&server.url(), &[], "89123456789\n");
    assert!(second.contains("С возвращением"), "{second}");
    assert!(
        !second.contains("Кто вы?"),
        "greeted over the conversation:\n{second}"
    );
    assert!(
        second.contains("Проверьте: +7 912"),
        "the answer reached the stored step:\n{second}"
    );
}

#[tokio::test]
async fn a_weak_match_is_not_made_an_answer_by_the_flow_one_is_in() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("89123456789").await;
    chat.press("Да, это ребёнка").await;
    for typed in ["да отправить", "отправить", "госуслуги"] {
        chat.send(typed).await;
        assert_eq!(chat.at, "variant1/code", "«{typed}»:\n{}", chat.text());
    }
    chat.send("оператор").await;
    assert_eq!(
        chat.at, "support/contact",
        "a one-word example is an answer"
    );
}
