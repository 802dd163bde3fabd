//! Whole conversations through the engine, the runtime and the sandbox, kept as snapshots that
//! read as the real conversation, plus the rules a user would notice on the way.

use chrono::Duration;
use sferum_bot::store::ChatKey;

use super::helpers::{TestBot, CODE};

const STUDENT: ChatKey = ChatKey::telegram(100);
const PARENT: i64 = 200;

/// A student's Variant 1 from the class link to the parent invitation; returns the link.
async fn register_student(bot: &TestBot) -> (String, String) {
    let mut chat = bot.chat(STUDENT);
    let link = chat
        .submit_application("8 (912) 345-67-89", "петров иван сергеевич")
        .await
        .invite_parent()
        .await;
    (link, chat.text().to_owned())
}

#[tokio::test]
async fn a_student_registers_by_the_class_link_and_invites_a_parent() {
    let bot = TestBot::new();
    let (token, transcript) = register_student(&bot).await;
    assert!(!token.is_empty());
    insta::assert_snapshot!(transcript.replace(&token, "<token>"));
}

#[tokio::test]
async fn a_parent_links_through_the_childs_invitation() {
    let bot = TestBot::new();
    let (token, _) = register_student(&bot).await;
    let mut parent = bot.chat(PARENT);
    parent.send(&format!("/start {token}")).await;
    parent.send("ivan.petrov@mail.ru").await; // R2: refused, parents use a phone
    parent.send("+7 922 111-22-33").await;
    parent.send(CODE).await;
    parent.press("Да, всё верно").await;
    assert_eq!(parent.at, "parent/linked");
    assert_eq!(parent.seeds, ["V1.7", "V1.8", "V1.9"]);
    insta::assert_snapshot!(parent.text().replace(&token, "<token>"));
}

#[tokio::test]
async fn the_student_journey_passes_every_variant1_step_in_order() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("ivan2015@mail.ru").await;
    chat.press("Да, это ребёнка").await;
    chat.send(CODE).await;
    chat.send("Петров Иван").await;
    chat.press("Отправить заявку").await;
    chat.press("Проверить статус заявки").await;
    chat.press("Пригласить родителя").await;
    assert_eq!(
        chat.seeds,
        ["V1.1", "V1.2", "R1", "V1.3", "V1.4", "V1.5", "V1.6"]
    );
}

#[tokio::test]
async fn a_wrong_code_says_how_many_attempts_are_left_in_russian_plural() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("9123456789").await;
    chat.press("Да, это ребёнка").await;
    chat.send("111111").await;
    chat.assert_said("error-wrong-code");
    assert!(
        chat.last_text().contains("Осталось 4 попытки"),
        "{}",
        chat.text()
    );
    chat.send("111111").await;
    chat.send("111111").await;
    chat.send("111111").await;
    chat.assert_said("error-wrong-code");
    assert!(
        chat.last_text().contains("Осталась 1 попытка"),
        "{}",
        chat.text()
    );
    chat.send("111111").await;
    chat.assert_said("error-wrong-code");
    assert!(
        chat.last_text().contains("Попыток больше не осталось"),
        "{}",
        chat.text()
    );
    // No code is asked for once the attempts are used up: on to a new one.
    assert_eq!(chat.at, "variant1/code_expired");
    chat.press("Получить новый код").await;
    chat.send(CODE).await;
    assert_eq!(chat.at, "variant1/name");
}

#[tokio::test]
async fn the_resend_button_appears_only_once_the_service_allows_it() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("9123456789").await;
    chat.press("Да, это ребёнка").await;
    assert!(!chat
        .last_buttons()
        .contains(&"Отправить код ещё раз".to_owned()));
    bot.clock.advance(Duration::seconds(61));
    chat.send("/help").await;
    chat.assert_said("code-help");
    assert!(chat
        .last_buttons()
        .contains(&"Отправить код ещё раз".to_owned()));
    chat.press("Отправить код ещё раз").await;
    assert_eq!(chat.at, "variant1/code");
    assert!(!chat
        .last_buttons()
        .contains(&"Отправить код ещё раз".to_owned()));
}

#[tokio::test]
async fn an_expired_code_offers_a_new_one() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("9123456789").await;
    chat.press("Да, это ребёнка").await;
    bot.clock.advance(Duration::minutes(11));
    chat.send(CODE).await;
    chat.assert_ever_said("error-verification-expired");
    assert_eq!(chat.at, "variant1/code_expired");
}

#[tokio::test]
async fn two_misunderstood_answers_bring_an_explanation_and_a_way_out() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("не знаю").await;
    assert_eq!(chat.at, "variant1/contact");
    chat.send("8 3532 12-34-56").await;
    chat.assert_said("hint-phone-not-mobile");
    chat.assert_said("input-stuck");
    assert!(chat.last_buttons().contains(&"Главное меню".to_owned()));
    assert!(chat
        .last_buttons()
        .contains(&"Связаться с человеком".to_owned()));
    chat.send("ivan@@mail").await;
    chat.assert_said("hint-email-invalid");
    assert_eq!(chat.at, "variant1/contact", "the place is kept");
    chat.send("+79123456789").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
    insta::assert_snapshot!(chat.text());
}

#[tokio::test]
async fn help_answers_and_returns_to_the_same_step() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("/help").await;
    chat.assert_said("v1-contact-help");
    chat.assert_said("v1-ask-contact");
    assert_eq!(chat.at, "variant1/contact");
}

#[tokio::test]
async fn back_retraces_steps_and_menu_and_reset_lead_home() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
    chat.send("/back").await;
    assert_eq!(chat.at, "variant1/contact");
    chat.send("/back").await;
    assert_eq!(chat.at, "variant1/welcome");
    chat.send("/back").await;
    chat.assert_said("nothing-to-go-back");
    assert_eq!(chat.at, "variant1/welcome");
    chat.send("/menu").await;
    assert_eq!(chat.at, "menu/start");
    chat.send("/reset").await;
    chat.assert_said("reset-done");
    assert_eq!(chat.at, "menu/start");
}

/// Going round the menu many times does not pile up the way back: coming back to a step cuts
/// the loop, so `/back` from it goes where it went the first time (and the stored session
/// stays small).
#[tokio::test]
async fn coming_back_to_a_step_cuts_the_loop_from_the_way_back() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start").await;
    for _ in 0..10 {
        chat.press("Я родитель").await;
        chat.press("У ребёнка нет Госуслуг").await;
        chat.send("/menu").await;
    }
    chat.press("Я родитель").await;
    chat.press("У ребёнка нет Госуслуг").await;
    assert_eq!(chat.at, "menu/how_to_start");
    chat.send("/back").await;
    assert_eq!(chat.at, "menu/parent");
    chat.send("/back").await;
    assert_eq!(chat.at, "menu/start");
    chat.send("/back").await;
    chat.assert_said("nothing-to-go-back");
}

#[tokio::test]
async fn a_button_from_an_old_message_is_answered_as_stale() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    let old_offer = sferum_bot::engine::Input::Button { offer: 1, index: 0 };
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    chat.input(old_offer).await;
    chat.assert_said("button-stale");
    assert_eq!(chat.at, "variant1/confirm_contact", "no wrong transition");
}

#[tokio::test]
async fn a_typed_button_label_works_like_a_press() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.send("войти в аккаунт!").await;
    assert_eq!(chat.at, "variant1/contact");
}

#[tokio::test]
async fn a_broken_or_unknown_link_is_explained_politely() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start это не ссылка").await;
    chat.assert_said("deep-link-invalid");
    assert_eq!(chat.at, "menu/start");
    chat.send("/start no-such-token").await;
    chat.assert_said("error-invite-not-found");
    assert_eq!(chat.at, "menu/start");
}

#[tokio::test]
async fn a_parents_phone_already_used_for_a_child_explains_the_r3_recovery() {
    let bot = TestBot::new();
    let (token, _) = register_student(&bot).await;
    let mut parent = bot.chat(PARENT);
    parent.send(&format!("/start {token}")).await;
    parent.send("+7 912 345-67-89").await; // the number the child was registered with
    assert_eq!(parent.at, "parent/registered_as_child");
    parent.assert_ever_said("parent-registered-as-child");
    assert!(parent.seeds.contains(&"R3".to_owned()));
}

#[tokio::test]
async fn a_parent_who_does_not_recognise_the_child_cancels() {
    let bot = TestBot::new();
    let mut parent = bot.chat(PARENT);
    parent.send("/start demo-parent").await;
    parent.send("+7 922 111-22-33").await;
    parent.send(CODE).await;
    parent.press("Нет, это не мой ребёнок").await;
    assert_eq!(parent.at, "parent/cancelled");
}

#[tokio::test]
async fn forget_deletes_the_session() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    assert!(bot.store.load(STUDENT).await.unwrap().is_some());
    chat.send("/forget").await;
    chat.assert_said("forget-done");
    assert!(bot.store.load(STUDENT).await.unwrap().is_none());
}

#[tokio::test]
async fn an_unknown_command_and_free_text_keep_the_place() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.send("/sdfsdf").await;
    chat.assert_said("command-unknown");
    assert_eq!(chat.at, "variant1/welcome");
    chat.send("🙂").await;
    assert_eq!(chat.at, "variant1/welcome");
}

#[tokio::test]
async fn a_step_gone_after_a_deploy_restarts_at_the_start_of_its_scenario() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start demo-class").await;
    chat.press("Войти в аккаунт").await;
    let loaded = bot.store.load(STUDENT).await.unwrap().expect("stored");
    let mut session = loaded.session.expect("decodes");
    session.at.step = "a_step_that_was_renamed".into();
    bot.store
        .save(STUDENT, &session, loaded.revision)
        .await
        .expect("saved");
    chat.send("+7 912 345-67-89").await;
    chat.assert_ever_said("session-restarted");
    assert_eq!(
        chat.at, "variant1/welcome",
        "the class invitation is still known"
    );
    chat.press("Войти в аккаунт").await;
    chat.send("+7 912 345-67-89").await;
    assert_eq!(chat.at, "variant1/confirm_contact");
}

#[tokio::test]
async fn a_scenario_gone_after_a_deploy_restarts_at_the_menu() {
    let bot = TestBot::new();
    let mut chat = bot.chat(STUDENT);
    chat.send("/start").await;
    let loaded = bot.store.load(STUDENT).await.unwrap().expect("stored");
    let mut session = loaded.session.expect("decodes");
    session.at = sferum_bot::script::StepRef::new("old_scenario", "old_step");
    bot.store
        .save(STUDENT, &session, loaded.revision)
        .await
        .expect("saved");
    chat.send("привет").await;
    chat.assert_ever_said("session-restarted");
    assert_eq!(chat.at, "menu/start");
}
