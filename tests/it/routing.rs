//! Free-text routing: realistic questions (typos, no punctuation, mixed case, colloquial) reach
//! the step that answers them; non-questions reach nothing, and the bot offers the menu.

use sferum_bot::engine::route::{Context, Routing};
use sferum_bot::script::StepRef;

use super::helpers::{engine, TestBot};

/// A question and the seed IDs of the steps that answer it well.
const QUESTIONS: &[(&str, &[&str])] = &[
    // Variant 1: no Госуслуги, registration by the teacher's link.
    ("у ребёнка нет госуслуг", &["V1.1"]),
    ("у ребенка нету госуслуг что делать", &["V1.1"]),
    ("как зарегистрировать ребенка в сферуме", &["V1.1"]),
    ("КАК ЗАРЕГИСТРИРОВАТЬ РЕБЕНКА", &["V1.1"]),
    ("регистрация ребенка без госуслуг", &["V1.1"]),
    ("как зарегестрировать сына в сферум", &["V1.1"]),
    (
        "где взять ссылку приглашение от классного руководителя",
        &["V1.1"],
    ),
    ("ребенку 10 лет нужна ли регистрация вконтакте", &["V1.1"]),
    ("у ребенка нет своего телефона", &["V1.2"]),
    ("у ребенка нет почты", &["V1.2"]),
    ("не приходит код", &["V1.3"]),
    ("куда вводить проверочный код", &["V1.3"]),
    ("кто одобряет заявку", &["V1.4"]),
    ("заявку долго не одобряют", &["V1.4"]),
    ("как пригласить родителя", &["V1.6"]),
    ("ребенок прислал мне ссылку что делать", &["V1.7"]),
    ("как проверить профиль ребенка", &["V1.8"]),
    // Diary access (A1).
    ("как получить доступ к электронному дневнику", &["A1.1"]),
    ("нет доступа к электронному дневнику", &["A1.1"]),
    (
        "как подать заявление на доступ к дневнику",
        &["A1.1", "A1.2"],
    ),
    ("не могу зайти в электроный дневник", &["A1.1"]),
    ("сколько дней рассматривают заявление на дневник", &["A1.2"]),
    ("школа отклонила заявление", &["A1.2"]),
    ("заявление приняли что дальше", &["A1.3"]),
    ("где смотреть оценки ребенка", &["A1.3"]),
    ("приложение цифровая школа оренбуржья", &["A1.3"]),
    // Registered wrongly (R3).
    (
        "зарегистрировала дочь на свой номер, что теперь делать",
        &["R3"],
    ),
    ("зарегистрировали ребенка на номер мамы", &["R3"]),
    ("ошиблась номером при регистрации ребенка", &["R3"]),
    ("указала свой телефон вместо телефона ребенка", &["R3"]),
    ("как удалить профиль ребенка", &["R3"]),
    ("регистрация прошла неправильно", &["R3"]),
    // Several children (R4).
    ("у меня двое детей как регистрировать", &["R4"]),
    ("несколько детей в разных классах", &["R4"]),
    ("у нас трое детей", &["R4"]),
    ("как зарегистрировать второго ребенка", &["R4"]),
    // Variant 2: the child has a confirmed Госуслуги profile.
    ("у ребенка есть госуслуги", &["V2.1"]),
    (
        "у ребенка есть подтвержденная учетная запись на госуслугах",
        &["V2.1"],
    ),
    ("где кнопка создать профиль сферум", &["V2.2", "PC.2"]),
    ("не вижу кнопку продолжить в учебном профиле", &["V2.8"]),
    ("не приходит смс при входе в журнал", &["V2.7"]),
    ("какой пароль вводить", &["V2.6"]),
    ("как войти в журнал через гис елк", &["V2.4", "PC.4"]),
    ("где скачать вк мессенджер", &["V2.1", "PC.1"]),
    // Parent chats (PC).
    ("не вижу чаты родителей", &["PC.1", "PC.5"]),
    ("как родителю увидеть все чаты", &["PC.1", "PC.5", "V1.9"]),
    ("где кнопка привязать учебный профиль", &["PC.5"]),
    (
        "как привязать профиль к электронному журналу",
        &["V1.9", "PC.5", "PC.4"],
    ),
    // Rules R1, R2.
    ("можно ли зарегистрировать ребенка на мой номер", &["R1"]),
    ("чей номер указывать при регистрации ребенка", &["R1"]),
    ("можно указать номер мамы при регистрации", &["R1", "R3"]),
    ("может ли родитель зарегистрироваться по почте", &["R2"]),
    ("родитель регистрируется по email?", &["R2"]),
    ("можно родителю без телефона", &["R2"]),
    // What Сферум gives each role.
    (
        "что такое сферум",
        &["ROLE.teacher", "ROLE.student", "ROLE.parent"],
    ),
    ("зачем сферум учителю", &["ROLE.teacher"]),
    ("что дает сферум ученику", &["ROLE.student"]),
    ("зачем родителю сферум", &["ROLE.parent"]),
    ("что умеет сферум для учитилей", &["ROLE.teacher"]),
    ("сферум для родителей зачем", &["ROLE.parent"]),
    ("Как ученику зайти на урок", &["ROLE.student"]),
    (
        "можно ли проводить видеозвонки",
        &["ROLE.teacher", "ROLE.student"],
    ),
];

/// Messages that are not questions the instruction answers.
const NOT_QUESTIONS: &[&str] = &[
    "погода",
    "какая завтра погода в оренбурге",
    "ываыва",
    "asdf qwer zxcv",
    "🙂",
    "123",
    "купить слона",
    "спасибо",
];

/// The questions of `table` that reach none of their expected seed IDs, described: neither
/// answered with one, nor asked about («Вы про это?») with one among the candidates.
fn misses(table: &[(&str, &[&str])]) -> Vec<String> {
    let engine = engine();
    let seed = |at: &StepRef| engine.scripts().step(at).and_then(|s| s.seed.clone());
    table
        .iter()
        .filter_map(|(question, expected)| {
            let reached: Vec<Option<String>> = match engine
                .understand(question, &Context::default())
            {
                Routing::Answer(route) => vec![seed(&route.step)],
                Routing::Clarify(candidates) => candidates.iter().map(|r| seed(&r.step)).collect(),
                Routing::Nothing => Vec::new(),
            };
            let hit = reached
                .iter()
                .flatten()
                .any(|s| expected.contains(&s.as_str()));
            (!hit).then(|| format!("«{question}» → {reached:?}, expected one of {expected:?}"))
        })
        .collect()
}

#[test]
fn realistic_questions_reach_the_step_that_answers_them() {
    let misses = misses(QUESTIONS);
    let total = QUESTIONS.len();
    let hits = total - misses.len();
    eprintln!(
        "routing score: {hits}/{total} = {:.1}%",
        100.0 * hits as f64 / total as f64
    );
    assert!(total >= 60);
    assert!(
        hits * 100 >= total * 95,
        "{hits}/{total} routed right; misses:\n{}",
        misses.join("\n")
    );
}

#[test]
fn non_questions_are_not_guessed() {
    let engine = engine();
    for text in NOT_QUESTIONS {
        let route = engine.route(text);
        assert!(route.is_none(), "«{text}» was routed to {route:?}");
    }
}

#[tokio::test]
async fn a_question_in_the_middle_of_a_scenario_keeps_the_place() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("у меня двое детей как регистрировать").await;
    assert!(chat.seeds.contains(&"R4".to_owned()), "{}", chat.text());
    chat.press("Вернуться к своему шагу").await;
    assert_eq!(chat.at, "variant1/contact");
    chat.send("+7 912 345-67-89").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
}

#[tokio::test]
async fn a_first_message_that_is_a_question_is_answered_at_once() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("как получить доступ к электронному дневнику")
        .await;
    assert!(chat.seeds.contains(&"A1.1".to_owned()), "{}", chat.text());
}

#[tokio::test]
async fn an_unanswerable_message_says_so_and_offers_the_menu() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.send("какая завтра погода").await;
    chat.assert_said("route-not-found");
    assert!(chat.last_buttons().contains(&"Главное меню".to_owned()));
    assert_eq!(chat.at, "variant1/welcome");
}

/// Questions written after the phrases were tuned against [`QUESTIONS`], never used to tune
/// them: how routing does on words it has not been fitted to. Reported, and held to a floor.
const HELD_OUT: &[(&str, &[&str])] = &[
    ("ребенку нету 14 лет ему нужен вк?", &["V1.1"]),
    (
        "какой номер писать при регистрации сына, мой или его",
        &["R1", "V1.2"],
    ),
    ("дочка зарегана на мой телефон как исправить", &["R3"]),
    ("у меня 3 детей в разных школах", &["R4"]),
    ("учитель скинул ссылку что дальше", &["V1.1"]),
    ("код не пришел на почту", &["V1.3"]),
    ("как долго одобряют заявку в класс", &["V1.4"]),
    (
        "сын зарегистрирован, как мне к нему привязаться",
        &["V1.6", "V1.7"],
    ),
    ("где найти чаты класса для родителей", &["PC.1", "PC.5"]),
    ("доступ к дневнику через госуслуги как оформить", &["A1.1"]),
    ("заявление на дневник отклонили почему", &["A1.2"]),
    (
        "через сколько дней ответят по заявлению на дневник",
        &["A1.2"],
    ),
    ("где смотреть оценки", &["A1.3"]),
    (
        "у сына подтвержденный аккаунт госуслуг что делать",
        &["V2.1"],
    ),
    (
        "не могу найти кнопку продолжить в учебном профиле",
        &["V2.8"],
    ),
    ("что такое гис елк", &["V2.4", "PC.4"]),
    ("можно ли родителю по почте зарегаться", &["R2"]),
    (
        "зачем вообще этот сферум",
        &["ROLE.teacher", "ROLE.student", "ROLE.parent"],
    ),
    (
        "как провести родительское собрание онлайн",
        &["ROLE.parent", "ROLE.teacher"],
    ),
    ("установить мессенджер вк", &["V2.1", "PC.1"]),
];

#[test]
fn held_out_questions_mostly_reach_their_answer() {
    let misses = misses(HELD_OUT);
    let total = HELD_OUT.len();
    let hits = total - misses.len();
    eprintln!(
        "held-out routing score: {hits}/{total} = {:.1}%\n{}",
        100.0 * hits as f64 / total as f64,
        misses.join("\n")
    );
    assert!(
        hits * 100 >= total * 70,
        "{hits}/{total}:\n{}",
        misses.join("\n")
    );
}
