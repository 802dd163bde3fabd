//! Every scenario of the instruction walked from the main menu by pressing buttons, kept as
//! snapshots that read as the real conversation in Russian; and the proof that together the
//! walks reach every seed ID of `dialogues/seed.toml`.

use std::collections::BTreeSet;

use super::helpers::{crate_dir, rendered, TestBot, Transcript, CODE};

const STUDENT: i64 = 300;
const PARENT: i64 = 400;
const VISITOR: i64 = 500;

/// One journey: what was said (one or more chats) and the seed IDs it passed.
struct Walk {
    text: String,
    seeds: Vec<String>,
}

impl Walk {
    fn of(chat: &Transcript<'_>) -> Self {
        Self {
            text: chat.text().to_owned(),
            seeds: chat.seeds.clone(),
        }
    }
}

/// The visitor opens the bot, presses through `presses`, and stays where that leads.
async fn from_menu<'b>(bot: &'b TestBot, presses: &[&str]) -> Transcript<'b> {
    let mut chat = bot.chat(VISITOR);
    chat.send("/start").await;
    for label in presses {
        chat.press(label).await;
    }
    chat
}

/// The rules marked ВАЖНО: the child's own contact (R1), parents by phone only (R2).
async fn rules(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Важные правила", "Как регистрируются родители"]).await;
    assert_eq!(chat.at, "menu/rule_parents");
    chat.press("Главное меню").await;
    assert_eq!(chat.at, "menu/start");
    Walk::of(&chat)
}

/// What Сферум is, and what it gives a teacher, a student and a parent.
async fn roles(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Что такое Сферум", "Учителю", "Назад", "Ученику"]).await;
    chat.press("Назад").await;
    chat.press("Родителю").await;
    assert_eq!(chat.at, "roles/parent");
    chat.press("Главное меню").await;
    assert_eq!(chat.at, "menu/start");
    Walk::of(&chat)
}

/// A teacher: what the platform gives them and how their students register.
async fn teacher(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я учитель", "Что даёт Сферум учителю"]).await;
    assert_eq!(chat.at, "roles/teacher");
    chat.press("Как регистрируются ученики").await;
    chat.press("Ссылки пока нет").await;
    assert_eq!(chat.at, "menu/no_link");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// Variant 1: the menu explains the class teacher's link; the student registers by it and
/// invites the parent; the parent links and is sent to the e-journal (V1.1–V1.9).
async fn variant1(bot: &TestBot) -> Walk {
    let mut visitor = from_menu(bot, &["Я родитель", "У ребёнка нет Госуслуг"]).await;
    assert_eq!(visitor.at, "menu/how_to_start");

    let mut student = bot.chat(STUDENT);
    student.send("/start demo-class").await;
    student.press("Войти в аккаунт").await;
    student.send("ivan.petrov2014@mail.ru").await;
    student.press("Да, это ребёнка").await;
    student.send(CODE).await;
    student.send("Петров Иван Сергеевич").await;
    student.press("Отправить заявку").await;
    student.press("Проверить статус заявки").await;
    student.press("Пригласить родителя").await;
    assert_eq!(student.at, "variant1/parent_invite");
    let token = student
        .last_text()
        .lines()
        .find_map(|l| l.trim().strip_prefix("https://t.me/sferum_bot?start="))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no invitation link in:\n{}", student.text()));

    let mut parent = bot.chat(PARENT);
    parent.send(&format!("/start {token}")).await;
    parent.send("+7 922 111-22-33").await;
    parent.send(CODE).await;
    parent.press("Да, всё верно").await;
    assert_eq!(parent.at, "parent/linked");
    parent.press("Главное меню").await;
    visitor.press("Главное меню").await;

    let text = format!(
        "=== Родитель в меню ===\n{}\n=== Ученик по ссылке классного руководителя ===\n{}\n=== Родитель по ссылке ребёнка ===\n{}",
        visitor.text(),
        student.text(),
        parent.text()
    )
    .replace(&token, "<token>");
    let mut seeds = [visitor.seeds, student.seeds, parent.seeds].concat();
    seeds.dedup();
    Walk { text, seeds }
}

/// The questions about Variant 1 asked outside a registration (V1.2–V1.8 explained).
async fn variant1_questions(bot: &TestBot) -> Walk {
    let mut chat = from_menu(
        bot,
        &["Я родитель", "У ребёнка нет Госуслуг", "Частые вопросы"],
    )
    .await;
    assert_eq!(chat.at, "variant1_questions/list");
    for question in [
        "Нет своего телефона или почты",
        "Не приходит код",
        "Кто одобряет заявку",
        "Как пригласить родителя",
    ] {
        chat.press(question).await;
        chat.press("Другие вопросы").await;
    }
    chat.press("Родителю пришла ссылка").await;
    chat.press("Как проверить профиль").await;
    assert_eq!(chat.at, "variant1_questions/check_child");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// Variant 2: the child has a confirmed Госуслуги profile (V2.1–V2.9), with the "code did not
/// arrive" branch on the way.
async fn variant2(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я ученик", "Есть профиль на Госуслугах"]).await;
    assert_eq!(chat.at, "variant2/install");
    for _ in 0..6 {
        chat.press("Готово").await;
    }
    assert_eq!(chat.at, "variant2/sms_code");
    chat.press("Код не пришёл").await;
    chat.press("Вернуться к шагу 5").await;
    assert_eq!(chat.at, "variant2/phone");
    for _ in 0..5 {
        chat.press("Готово").await;
    }
    assert_eq!(chat.at, "variant2/done");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// A parent who wants every chat for parents (PC.1–PC.5), with the e-journal trouble branch.
async fn parent_chats(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я родитель", "Увидеть все чаты родителей"]).await;
    for _ in 0..3 {
        chat.press("Готово").await;
    }
    assert_eq!(chat.at, "parent_chats/journal");
    chat.press("Не получается").await;
    chat.press("Попробовать ещё раз").await;
    chat.press("Готово").await;
    chat.press("Готово").await;
    assert_eq!(chat.at, "parent_chats/done");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// Access to the electronic diary through Госуслуги (A1.1–A1.3), with "not accepted yet".
async fn diary(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я родитель", "Электронный дневник"]).await;
    chat.press("Готово").await;
    chat.press("Я подал(а) заявление").await;
    assert_eq!(chat.at, "diary/form_sent");
    chat.press("Статус «Принято»").await;
    assert_eq!(chat.at, "diary/accepted");
    chat.press("Статус не «Принято»").await;
    chat.press("Попробовать ещё раз").await;
    chat.press("Готово").await;
    assert_eq!(chat.at, "diary/done");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// Registered with a parent's phone: the instruction's three steps А, Б, В (R3).
async fn wrong_registration(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я родитель", "Зарегистрировали неправильно"]).await;
    chat.press("Как исправить").await;
    chat.press("Не получается").await;
    chat.press("Попробовать ещё раз").await;
    chat.press("Готово").await;
    chat.press("Готово").await;
    assert_eq!(chat.at, "wrong_registration/again");
    chat.press("Как проходит регистрация").await;
    assert_eq!(chat.at, "menu/how_to_start");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

/// Several children (R4).
async fn several_children(bot: &TestBot) -> Walk {
    let mut chat = from_menu(bot, &["Я родитель", "У меня несколько детей"]).await;
    assert_eq!(chat.at, "several_children/several");
    chat.press("Главное меню").await;
    Walk::of(&chat)
}

#[tokio::test]
async fn the_rules_marked_important() {
    insta::assert_snapshot!(rules(&TestBot::new()).await.text);
}

#[tokio::test]
async fn what_sferum_gives_each_role() {
    insta::assert_snapshot!(roles(&TestBot::new()).await.text);
}

#[tokio::test]
async fn a_teacher_learns_what_sferum_gives_and_how_students_register() {
    insta::assert_snapshot!(teacher(&TestBot::new()).await.text);
}

#[tokio::test]
async fn variant1_from_the_menu_to_the_parents_e_journal() {
    let walk = variant1(&TestBot::new()).await;
    assert_eq!(
        walk.seeds,
        ["V1.1", "V1.2", "R1", "V1.3", "V1.4", "V1.5", "V1.6", "V1.7", "V1.8", "V1.9"]
    );
    insta::assert_snapshot!(walk.text);
}

#[tokio::test]
async fn variant1_questions_asked_outside_a_registration() {
    let walk = variant1_questions(&TestBot::new()).await;
    assert_eq!(
        walk.seeds,
        ["V1.1", "V1.2", "V1.3", "V1.4", "V1.6", "V1.7", "V1.8"]
    );
    insta::assert_snapshot!(walk.text);
}

#[tokio::test]
async fn variant2_step_by_step() {
    let walk = variant2(&TestBot::new()).await;
    insta::assert_snapshot!(walk.text);
}

#[tokio::test]
async fn all_parent_chats_step_by_step() {
    insta::assert_snapshot!(parent_chats(&TestBot::new()).await.text);
}

#[tokio::test]
async fn diary_access_step_by_step() {
    insta::assert_snapshot!(diary(&TestBot::new()).await.text);
}

#[tokio::test]
async fn registered_wrongly_step_by_step() {
    insta::assert_snapshot!(wrong_registration(&TestBot::new()).await.text);
}

#[tokio::test]
async fn several_children_are_registered_separately() {
    insta::assert_snapshot!(several_children(&TestBot::new()).await.text);
}

/// The latest message shows the progress line «step of total».
#[track_caller]
fn assert_progress(chat: &Transcript<'_>, step: i64, total: i64) {
    let line = rendered(
        "ru",
        sferum_bot::script::Msg::Progress.id(),
        &[("step", step.into()), ("total", total.into())],
    );
    assert!(chat.last_text().contains(&line), "{line}: {}", chat.text());
}

/// A1.1 to A1.3 and the end of the diary scenario.
async fn through_the_diary(chat: &mut Transcript<'_>) {
    chat.press("Готово").await;
    chat.press("Я подал(а) заявление").await;
    chat.press("Статус «Принято»").await;
    chat.press("Готово").await;
    assert_eq!(chat.at, "diary/done");
}

#[tokio::test]
async fn variant2_without_journal_access_goes_through_the_diary_and_back() {
    let bot = TestBot::new();
    let mut chat = from_menu(&bot, &["Я родитель", "У ребёнка есть Госуслуги"]).await;
    for _ in 0..3 {
        chat.press("Готово").await;
    }
    assert_eq!(chat.at, "variant2/journal");
    chat.press("Нет доступа к журналу").await;
    assert_eq!(chat.at, "diary/gosuslugi");
    through_the_diary(&mut chat).await;
    chat.press("Продолжить регистрацию").await;
    assert_eq!(chat.at, "variant2/journal");
    chat.assert_said("v2-journal");
    assert_progress(&chat, 4, 9);
}

#[tokio::test]
async fn parent_chats_without_diary_access_go_through_the_diary_and_back() {
    let bot = TestBot::new();
    let mut chat = from_menu(&bot, &["Я родитель", "Увидеть все чаты родителей"]).await;
    for _ in 0..3 {
        chat.press("Готово").await;
    }
    chat.press("Нет доступа к дневнику").await;
    assert_eq!(chat.at, "diary/gosuslugi");
    through_the_diary(&mut chat).await;
    chat.press("Продолжить подключение чатов").await;
    assert_eq!(chat.at, "parent_chats/journal");
    chat.assert_said("pc-journal");
    assert_progress(&chat, 4, 5);
}

#[tokio::test]
async fn a_linked_parent_is_led_to_every_parent_chat() {
    let bot = TestBot::new();
    let mut parent = bot.chat(PARENT);
    parent.send("/start demo-parent").await;
    parent.send("+7 922 111-22-33").await;
    parent.send(CODE).await;
    parent.press("Да, всё верно").await;
    assert_eq!(parent.at, "parent/linked");
    parent.press("Как увидеть все чаты").await;
    assert_eq!(parent.at, "parent_chats/install");
}

#[tokio::test]
async fn every_seed_id_is_reached_by_some_transcript() {
    let walks = [
        rules(&TestBot::new()).await,
        roles(&TestBot::new()).await,
        teacher(&TestBot::new()).await,
        variant1(&TestBot::new()).await,
        variant1_questions(&TestBot::new()).await,
        variant2(&TestBot::new()).await,
        parent_chats(&TestBot::new()).await,
        diary(&TestBot::new()).await,
        wrong_registration(&TestBot::new()).await,
        several_children(&TestBot::new()).await,
    ];
    let reached: BTreeSet<String> = walks.into_iter().flat_map(|w| w.seeds).collect();

    let text = std::fs::read_to_string(crate_dir().join("dialogues/seed.toml"))
        .expect("dialogues/seed.toml is readable");
    let file: toml::Table = toml::from_str(&text).expect("dialogues/seed.toml parses");
    let ids = file
        .get("seed")
        .and_then(toml::Value::as_table)
        .expect("a [seed] table in dialogues/seed.toml");
    assert!(!ids.is_empty(), "no seed IDs in dialogues/seed.toml");
    let missing: Vec<&str> = ids
        .keys()
        .map(String::as_str)
        .filter(|id| !reached.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "seed IDs no transcript reaches: {}",
        missing.join(", ")
    );
}
