//! The instruction as a guide too, and true in 2026: Variant 1 walked through the real Сферум
//! site, the two Variant 1 paths told apart in one question, the messenger as a deployment
//! setting, and the small things a parent meets on the way.

use std::sync::Arc;

use sferum_bot::config::Settings;
use sferum_bot::script;
use sferum_bot::service::sandbox::SandboxConfig;

use sferum_bot::script::Msg;

use super::helpers::{engine, rendered, TestBot, CODE};

/// The guide's steps from the link to the e-journal, pressing «Готово» (or «Понятно»).
const GUIDE: &[(&str, &str)] = &[
    ("guide/open_link", "Готово"),
    ("guide/contact_warning", "Понятно"),
    ("guide/contact", "Готово"),
    ("guide/code", "Готово"),
    ("guide/application", "Готово"),
    ("guide/approved", "Готово"),
    ("guide/invite_parent", "Готово"),
    ("guide/parent_phone", "Готово"),
    ("guide/check_child", "Готово"),
];

#[tokio::test]
async fn a_parent_with_the_teachers_real_link_is_walked_through_the_site_to_the_journal() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.send("учительница прислала ссылку, что нажимать").await;
    for (at, press) in GUIDE {
        assert_eq!(chat.at, *at, "{}", chat.text());
        chat.press(press).await;
    }
    assert_eq!(chat.at, "guide/journal");
    assert_eq!(
        chat.seeds,
        ["V1.1", "R1", "V1.2", "V1.3", "V1.4", "V1.5", "V1.6", "V1.7", "V1.8", "V1.9"]
    );
    assert!(chat
        .last_buttons()
        .contains(&"Как увидеть все чаты".to_owned()));
    insta::assert_snapshot!(chat.text());
}

#[tokio::test]
async fn every_step_of_the_guide_has_a_way_out_when_it_does_not_work() {
    for (index, (at, _)) in GUIDE.iter().enumerate() {
        let bot = TestBot::new();
        let mut chat = bot.chat(1);
        chat.send("/start").await;
        chat.send("учительница прислала ссылку, что нажимать").await;
        for (_, press) in &GUIDE[..index] {
            chat.press(press).await;
        }
        assert_eq!(chat.at, *at);
        let buttons = chat.last_buttons();
        let Some(trouble) = buttons
            .iter()
            .find(|b| ["Не получается", "Профиля пока нет"].contains(&b.as_str()))
            .cloned()
        else {
            assert_eq!(
                *at, "guide/contact_warning",
                "only the warning has no trouble button"
            );
            continue;
        };
        chat.press(&trouble).await;
        assert!(chat.at.ends_with("_trouble"), "{at} → {}", chat.at);
        assert!(
            chat.last_buttons().contains(&"Главное меню".to_owned()),
            "{}",
            chat.text()
        );
    }
}

#[tokio::test]
async fn a_code_typed_to_a_parents_number_leads_to_the_r3_fix() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.send("учительница прислала ссылку, что нажимать").await;
    for (_, press) in &GUIDE[..3] {
        chat.press(press).await;
    }
    chat.press("Не получается").await;
    chat.press("Указали номер родителя").await;
    assert_eq!(chat.at, "wrong_registration/what");
}

#[tokio::test]
async fn the_menu_tells_the_two_variant1_paths_apart_in_one_question() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.press("Я родитель").await;
    chat.press("У ребёнка нет Госуслуг").await;
    chat.assert_said("menu-how-to-start");
    chat.press("Да, ссылка на этого бота").await;
    chat.assert_said("menu-bot-link");
    assert!(
        chat.last_text().contains("https://t.me/"),
        "{}",
        chat.text()
    );
    chat.press("Да, ссылка на сайт Сферума").await;
    assert_eq!(chat.at, "guide/open_link");
}

#[test]
fn check_counts_the_seed_ids_of_both_variant1_paths() {
    let coverage = script::path_coverage(engine().scripts());
    let v1: Vec<String> = (1..=9).map(|n| format!("V1.{n}")).collect();
    for path in ["Variant 1 guide", "Variant 1 executed"] {
        let ids = coverage
            .get(path)
            .unwrap_or_else(|| panic!("no path {path}"));
        for id in &v1 {
            assert!(ids.contains(id), "{path} does not deliver {id}: {ids:?}");
        }
    }
}

fn bot_with(settings: &[(&str, &str)]) -> TestBot {
    let map: std::collections::HashMap<String, String> = settings
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let settings = Settings::from_lookup(|name| map.get(name).cloned()).expect("settings");
    TestBot::on_engine(Arc::new(
        sferum_bot::startup::engine(&settings).expect("an engine"),
    ))
}

#[tokio::test]
async fn the_messenger_is_max_by_default_and_vk_where_a_region_says_so() {
    for (setting, name, note) in [(None, "MAX", true), (Some("vk"), "VK Мессенджер", false)]
    {
        let settings: Vec<(&str, &str)> =
            setting.map(|s| ("MESSENGER_APP", s)).into_iter().collect();
        let bot = bot_with(&settings);
        let mut chat = bot.chat(1);
        chat.send("/start").await;
        chat.press("Я родитель").await;
        chat.press("У ребёнка есть Госуслуги").await;
        chat.assert_said("v2-install");
        let text = chat.last_text();
        assert!(text.contains(name), "{setting:?}: {text}");
        assert_eq!(
            text.contains("в инструкции области он ещё называется «VK Мессенджер»"),
            note,
            "{setting:?}: {text}"
        );
        chat.press("Готово").await;
        chat.assert_said("v2-create");
        assert!(
            chat.last_text().contains(name),
            "{setting:?}: {}",
            chat.text()
        );
        assert!(
            !chat.last_text().contains("называется «VK"),
            "said once: {}",
            chat.text()
        );
    }
    assert!(Settings::from_lookup(|n| (n == "MESSENGER_APP").then(|| "icq".to_owned())).is_err());
}

/// To the check screen of the child's contact.
async fn up_to_the_check(chat: &mut super::helpers::Transcript<'_>, contact: &str) {
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send(contact).await;
}

#[tokio::test]
async fn the_check_screen_shows_the_whole_contact_to_its_owner() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    up_to_the_check(&mut chat, "89123456789").await;
    chat.assert_said("v1-confirm-contact");
    assert!(
        chat.last_text().contains("+7 912 345-67-89"),
        "{}",
        chat.text()
    );
    let mut other = bot.chat(2);
    up_to_the_check(&mut other, "Masha.Petrova2015@mail.ru").await;
    other.assert_said("v1-confirm-contact");
    assert!(
        other.last_text().contains("masha.petrova2015@mail.ru"),
        "{}",
        other.text()
    );
}

#[tokio::test]
async fn no_code_is_asked_for_once_the_attempts_are_used_up() {
    let bot = TestBot::with_sandbox_config(SandboxConfig {
        fixed_code: Some(CODE.to_owned()),
        max_attempts: 2,
        ..SandboxConfig::default()
    });
    let mut chat = bot.chat(1);
    up_to_the_check(&mut chat, "89123456789").await;
    chat.press("Да, это ребёнка").await;
    chat.send("000000").await;
    assert_eq!(chat.at, "variant1/code");
    chat.send("000001").await;
    assert_eq!(chat.at, "variant1/code_expired", "{}", chat.text());
    assert!(chat
        .last_buttons()
        .contains(&"Получить новый код".to_owned()));
}

#[tokio::test]
async fn a_name_unlike_the_documents_is_questioned_once_with_the_reason() {
    for name in ["иванова маша", "Ivanova Maria"] {
        let bot = TestBot::new();
        let mut chat = bot.chat(1);
        up_to_the_check(&mut chat, "89123456789").await;
        chat.press("Да, это ребёнка").await;
        chat.send(CODE).await;
        chat.send(name).await;
        assert_eq!(chat.at, "variant1/name", "{name}: {}", chat.text());
        chat.assert_said("name-doubt");
        chat.send(name).await;
        assert_eq!(
            chat.at, "variant1/confirm_application",
            "the second time it is taken"
        );
    }
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    up_to_the_check(&mut chat, "89123456789").await;
    chat.press("Да, это ребёнка").await;
    chat.send(CODE).await;
    chat.send("Иванова Мария Петровна").await;
    assert_eq!(
        chat.at, "variant1/confirm_application",
        "a full name is not questioned"
    );
}

#[tokio::test]
async fn the_resend_button_comes_by_itself_once_a_new_code_may_be_asked_for() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    up_to_the_check(&mut chat, "89123456789").await;
    chat.press("Да, это ребёнка").await;
    assert!(!chat
        .last_buttons()
        .contains(&"Отправить код ещё раз".to_owned()));
    let (notifier, inbox) = bot.notifier();
    assert_eq!(notifier.deliver_due().await, Ok(0));
    bot.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(notifier.deliver_due().await, Ok(1));
    let kept = inbox.take();
    let (to, reply) = kept.first().expect("a message");
    assert_eq!(*to, sferum_bot::store::ChatKey::telegram(1));
    assert_eq!(reply.message, "resend-ready", "{}", reply.text);
    assert!(reply
        .buttons
        .iter()
        .any(|b| b.label == "Отправить код ещё раз"));
}

#[tokio::test]
async fn the_rules_reach_every_rule_and_the_r3_text_says_it_once() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start").await;
    chat.press("Важные правила").await;
    let buttons = chat.last_buttons();
    for label in [
        "Как регистрируются родители",
        "Зарегистрировали неправильно",
        "У меня несколько детей",
    ] {
        assert!(buttons.contains(&label.to_owned()), "{label}: {buttons:?}");
    }
    let bot = TestBot::new();
    bot.chat(1)
        .submit_application("89123456789", "Петров Иван Сергеевич")
        .await;
    let mut chat = bot.chat(2);
    up_to_the_check(&mut chat, "89123456789").await;
    chat.press("Да, это ребёнка").await;
    assert_eq!(chat.at, "variant1/already_registered", "{}", chat.text());
    let said = chat.last_messages();
    assert_eq!(
        said.iter()
            .filter(|m| *m == "error-address-already-registered")
            .count(),
        1,
        "{said:?}\n{}",
        chat.text()
    );
}

/// Registers a child by the demo class link up to the approved application; returns the chat.
async fn register_until_approved(
    chat: &mut super::helpers::Transcript<'_>,
    phone: &str,
    name: &str,
) {
    chat.press("Войти в аккаунт").await;
    chat.send(phone).await;
    chat.press("Да, это ребёнка").await;
    chat.send(CODE).await;
    chat.send(name).await;
    chat.press("Отправить заявку").await;
    chat.press("Проверить статус заявки").await;
    assert_eq!(chat.at, "variant1/approved", "{}", chat.text());
}

#[tokio::test]
async fn two_children_from_one_chat_are_kept_apart_through_both_parent_invitations() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    register_until_approved(&mut chat, "89120000001", "Петров Иван Сергеевич").await;

    // A second invitation while the first child waits to invite a parent.
    chat.send("/start demo-class").await;
    chat.assert_said("child-another");
    chat.press("Да, для другого ребёнка").await;
    assert_eq!(chat.at, "variant1/welcome");
    register_until_approved(&mut chat, "89120000002", "Петрова Анна Сергеевна").await;
    chat.press("Пригласить родителя").await;
    let second = chat.invitation_token();

    chat.send("/children").await;
    chat.assert_said("children-list");
    let list = chat.last_text();
    for line in [
        child_line("Петрова Анна Сергеевна", Msg::ChildStatusParentInvited),
        child_line("Петров Иван Сергеевич", Msg::ChildStatusApproved),
    ] {
        assert!(list.contains(&line), "{line}: {list}");
    }
    chat.press("Продолжить: Петров Иван Сергеевич").await;
    assert_eq!(chat.at, "variant1/approved", "{}", chat.text());
    chat.press("Пригласить родителя").await;
    let first = chat.invitation_token();
    assert_ne!(first, second, "each child's own parent invitation");

    chat.send("/children").await;
    chat.assert_said("children-list");
    assert!(
        chat.last_text()
            .contains(&rendered("ru", Msg::ChildStatusParentInvited.id(), &[])),
        "{}",
        chat.text()
    );
    insta::assert_snapshot!(chat
        .text()
        .replace(&first, "<first>")
        .replace(&second, "<second>"));
}

#[tokio::test]
async fn the_same_child_again_starts_over_and_a_lone_child_is_told_how_children_works() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/children").await;
    chat.assert_said("children-none");
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("89120000001").await;
    chat.send("/start demo-class").await;
    chat.press("Нет, для того же").await;
    assert_eq!(chat.at, "variant1/welcome");
    chat.send("/children").await;
    chat.assert_said("children-none"); // nothing parked
}

#[tokio::test]
async fn a_decision_on_a_parked_childs_application_brings_that_child_back() {
    let bot = TestBot::new();
    let mut chat = bot.chat(1);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("89120000001").await;
    chat.press("Да, это ребёнка").await;
    chat.send(CODE).await;
    chat.send("Петров Иван Сергеевич").await;
    chat.press("Отправить заявку").await;
    assert_eq!(chat.at, "variant1/submitted");
    chat.send("/start demo-class").await;
    chat.press("Да, для другого ребёнка").await;
    chat.press("Войти в аккаунт").await;
    assert_eq!(chat.at, "variant1/contact");
    // The school decides the first child's application (the sandbox's first is `a-1`).
    chat.input(sferum_bot::engine::Input::Event(
        "application_decided@a-1".to_owned(),
    ))
    .await;
    assert_eq!(chat.at, "variant1/approved", "{}", chat.text());
    chat.assert_said("v1-approved");
    chat.send("/children").await;
    chat.assert_said("children-list");
    assert!(
        chat.last_text()
            .contains(&rendered("ru", Msg::ChildStatusStarted.id(), &[])),
        "the second child is kept: {}",
        chat.text()
    );
}

/// A child's line in the `/children` list: the name and the status, as the bot renders them.
fn child_line(name: &str, status: Msg) -> String {
    let status = rendered("ru", status.id(), &[]);
    rendered(
        "ru",
        Msg::ChildLine.id(),
        &[("child_name", name.into()), ("status", status.into())],
    )
}
