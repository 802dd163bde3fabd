//! Teachers and reminders, with a hand-moved clock and a real Redis: binding, invitations, the
//! loop student → teacher notification → decision → student told, refusals, quiet hours, the
//! outbox across a restart, and reminders that fire once.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};

use sferum_bot::backend::redis::RedisDirectory;
use sferum_bot::backend::redis::RedisOutbox;
use sferum_bot::backend::redis::{RedisStore, RedisStoreConfig};
use sferum_bot::clock::Clock;
use sferum_bot::clock::ManualClock;
use sferum_bot::engine::Input;
use sferum_bot::notify::{IfScheduled, Notice, NoticeKind};
use sferum_bot::runtime::notifier::{Courier, Notifier, Undelivered};
use sferum_bot::runtime::{Assistant, Reply};
use sferum_bot::service::sandbox::{Sandbox, SandboxConfig};
use sferum_bot::service::OpKey;
use sferum_bot::store::ChatKey;

use super::helpers::{engine, messages_to, rendered, replies_to, transcript, Inbox, CODE};
use super::redis_server::RedisServer;

const TEACHER: ChatKey = ChatKey::telegram(700);
const STUDENT: ChatKey = ChatKey::telegram(100);
const STRANGER: ChatKey = ChatKey::telegram(999);

/// An instant given in UTC.
fn at(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, minute, second)
        .single()
        .expect("a valid date")
}

/// 11:00 in Orenburg on a Monday in September.
fn school_morning() -> DateTime<Utc> {
    at(2026, 9, 7, 6, 0, 0)
}

struct World {
    redis: RedisServer,
    clock: ManualClock,
    sandbox: Arc<Sandbox>,
}

impl World {
    fn new(start: DateTime<Utc>) -> Self {
        let clock = ManualClock::new(start);
        let sandbox = Arc::new(Sandbox::with_config(
            Arc::new(clock.clone()),
            SandboxConfig {
                fixed_code: Some(CODE.to_owned()),
                auto_approve: false,
                ..SandboxConfig::default()
            },
        ));
        Self {
            redis: RedisServer::start(),
            clock,
            sandbox,
        }
    }

    /// One bot process: its own connections to the same Redis.
    async fn process(&self) -> (Arc<Assistant>, Notifier, Arc<Inbox>) {
        let url = self.redis.url();
        let store = RedisStore::connect(&url, RedisStoreConfig::default())
            .await
            .expect("store");
        let outbox = RedisOutbox::connect(&url, "sferum:").await.expect("outbox");
        let directory = RedisDirectory::connect(&url, "sferum:")
            .await
            .expect("directory");
        let bot = Arc::new(
            Assistant::new(
                engine(),
                self.sandbox.clone(),
                Arc::new(store),
                Arc::new(self.clock.clone()),
            )
            .with_outbox(Arc::new(outbox))
            .with_directory(Arc::new(directory)),
        );
        let inbox = Arc::new(Inbox::default());
        let notifier = Notifier::new(bot.clone(), inbox.clone(), "test-replica");
        (bot, notifier, inbox)
    }
}

fn texts(sent: &[(ChatKey, Reply)], chat: ChatKey) -> Vec<String> {
    replies_to(sent, chat).map(|r| r.text.clone()).collect()
}

/// The callback of button `label` on a notifier message to `chat`.
fn button(sent: &[(ChatKey, Reply)], chat: ChatKey, label: &str) -> Input {
    replies_to(sent, chat)
        .flat_map(|r| r.buttons.iter())
        .find(|b| b.label == label)
        .and_then(|b| b.action.callback_data())
        .and_then(|data| Input::from_callback(&data))
        .unwrap_or_else(|| panic!("no button «{label}» sent to {chat}: {sent:#?}"))
}

async fn bind_teacher(bot: &Assistant) {
    let mut teacher = transcript(bot, TEACHER);
    teacher.send("/start demo-teacher").await;
    assert_eq!(teacher.at, "teacher/bound");
    teacher.assert_said("teacher-bound");
    assert!(teacher.last_text().contains("Иванова Мария Петровна"));
    assert!(teacher.last_text().contains("5А, 7Б"));
}

/// The teacher was told that exactly one application waits for a decision.
#[track_caller]
fn assert_one_pending(teacher: &super::helpers::Transcript<'_>) {
    teacher.assert_ever_said("pending-count");
    let one = rendered("ru", "pending-count", &[("count", 1i64.into())]);
    assert!(teacher.text().contains(&one), "{one}: {}", teacher.text());
}

async fn submit_application(bot: &Assistant) {
    let mut student = transcript(bot, STUDENT);
    student.send("/start demo-class").await;
    student.press("Войти в аккаунт").await;
    student.send("+7 912 345-67-89").await;
    student.press("Да, это ребёнка").await;
    student.send(CODE).await;
    student.send("Петров Иван Сергеевич").await;
    student.press("Отправить заявку").await;
    assert_eq!(student.at, "variant1/submitted");
}

/// A parent finds diary access by asking, and says the application is submitted (A1.2).
async fn submit_diary_application(bot: &Assistant) -> super::helpers::Transcript<'_> {
    let mut parent = transcript(bot, STUDENT);
    parent
        .send("как получить доступ к электронному дневнику")
        .await;
    parent.press("Готово").await;
    parent.press("Я подал(а) заявление").await;
    parent
}

#[tokio::test]
async fn a_teacher_binds_the_chat_and_creates_an_invitation_with_a_qr_code() {
    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    bind_teacher(&bot).await;
    let mut teacher = transcript(&bot, TEACHER);
    teacher.send("/invite").await;
    teacher.assert_said("teacher-choose-class");
    teacher.press("7Б").await;
    teacher.assert_said("teacher-invite-link");
    let link = teacher
        .last_text()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("https://t.me/sferum_bot?start=")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no link in {}", teacher.text()));
    assert_eq!(
        teacher.last_qr().as_deref(),
        Some(format!("https://t.me/sferum_bot?start={link}").as_str()),
        "the same link as a QR code"
    );
    // The link opens the class invitation for a student.
    let mut student = transcript(&bot, STUDENT);
    student.send(&format!("/start {link}")).await;
    student.assert_said("v1-welcome");
    assert!(student.last_text().contains("7Б"), "{}", student.text());
}

#[tokio::test]
async fn invite_and_pending_are_for_teachers_only() {
    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    let mut stranger = transcript(&bot, STRANGER);
    stranger.send("/start").await;
    stranger.send("/pending").await;
    stranger.assert_said("teacher-only");
}

#[tokio::test]
async fn the_full_loop_student_teacher_approval_student_told() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    assert_eq!(notifier.deliver_due().await.expect("delivered"), 1);
    let sent = inbox.take();
    assert_eq!(
        messages_to(&sent, TEACHER),
        ["teacher-new-application"],
        "{sent:#?}"
    );
    let to_teacher = texts(&sent, TEACHER);
    assert!(to_teacher[0].contains("Петров Иван Сергеевич"));
    assert!(to_teacher[0].contains("5А"));
    let approve = button(&sent, TEACHER, "Одобрить");
    let mut teacher = transcript(&bot, TEACHER);
    teacher.input(approve).await;
    teacher.assert_said("decision-approved");
    notifier.deliver_due().await.expect("delivered");
    let sent = inbox.take();
    assert!(
        messages_to(&sent, STUDENT).contains(&"v1-approved".to_owned()),
        "{sent:#?}"
    );
    // The student goes on from there: invite a parent (V1.6).
    let mut student = transcript(&bot, STUDENT);
    student
        .press_from(&sent, STUDENT, "Пригласить родителя")
        .await;
    assert_eq!(student.at, "variant1/parent_invite");
    // /pending is empty now.
    teacher.send("/pending").await;
    teacher.assert_said("pending-none");
}

#[tokio::test]
async fn a_teacher_rejects_with_a_reason_from_the_list_or_typed() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    let mut teacher = transcript(&bot, TEACHER);
    teacher.send("/pending").await;
    assert_one_pending(&teacher);
    teacher.press("Отклонить").await;
    teacher.assert_said("reject-reason-choose");
    teacher.press("Другая причина — напишу").await;
    teacher.send("В классе нет такого ученика").await;
    teacher.assert_said("decision-rejected");
    notifier.deliver_due().await.expect("delivered");
    let to_student = messages_to(&inbox.take(), STUDENT);
    assert!(
        to_student.contains(&"v1-rejected".to_owned()),
        "{to_student:?}"
    );
}

#[tokio::test]
async fn a_listed_reason_rejects_at_once() {
    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    let mut teacher = transcript(&bot, TEACHER);
    teacher.send("/pending").await;
    teacher.press("Отклонить").await;
    teacher.press("Ошибка в ФИО").await;
    teacher.assert_said("decision-rejected");
}

#[tokio::test]
async fn a_forged_decision_from_another_chat_changes_nothing() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    notifier.deliver_due().await.expect("delivered");
    let approve = button(&inbox.take(), TEACHER, "Одобрить");
    // The student (or anyone) replays the teacher's button in their own chat.
    let mut forger = transcript(&bot, STUDENT);
    forger.input(approve).await;
    forger.assert_ever_said("decision-not-allowed");
    let mut teacher = transcript(&bot, TEACHER);
    teacher.send("/pending").await;
    assert_one_pending(&teacher); // still pending
}

#[tokio::test]
async fn a_second_decision_is_refused() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    notifier.deliver_due().await.expect("delivered");
    let sent = inbox.take();
    let mut teacher = transcript(&bot, TEACHER);
    teacher.input(button(&sent, TEACHER, "Одобрить")).await;
    teacher.input(button(&sent, TEACHER, "Отклонить")).await;
    teacher.press("Ошибка в ФИО").await;
    teacher.assert_said("decision-already");
}

#[tokio::test]
async fn a_notification_at_night_waits_until_eight() {
    // 22:30 in Orenburg.
    let night = at(2026, 9, 7, 17, 30, 0);
    let world = World::new(night);
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), TEACHER).is_empty(), "nothing at night");
    world.clock.set(at(2026, 9, 8, 2, 59, 0));
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), TEACHER).is_empty(), "nothing at 07:59");
    world.clock.set(at(2026, 9, 8, 3, 0, 0));
    notifier.deliver_due().await.expect("ran");
    assert_eq!(texts(&inbox.take(), TEACHER).len(), 1, "sent at 08:00");
}

#[tokio::test]
async fn the_outbox_survives_a_restart() {
    let world = World::new(school_morning());
    {
        let (bot, _, _) = world.process().await;
        bind_teacher(&bot).await;
        submit_application(&bot).await;
    } // the process stops before delivering
    let (_, notifier, inbox) = world.process().await;
    notifier.deliver_due().await.expect("delivered");
    assert_eq!(texts(&inbox.take(), TEACHER).len(), 1);
}

#[tokio::test]
async fn a_decision_made_outside_the_bot_is_noticed() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    submit_application(&bot).await;
    // A school administrator approves in the service itself.
    let pending = bot
        .service()
        .pending_applications("t-7")
        .await
        .expect("listed");
    bot.service()
        .decide(
            OpKey::random(),
            &pending[0].application_id,
            "t-7",
            &sferum_bot::service::Decision::Approve,
        )
        .await
        .expect("decided");
    assert_eq!(notifier.check_decisions().await.expect("checked"), 1);
    notifier.deliver_due().await.expect("delivered");
    let to_student = messages_to(&inbox.take(), STUDENT);
    assert!(
        to_student.contains(&"v1-approved".to_owned()),
        "{to_student:?}"
    );
    assert_eq!(
        notifier.check_decisions().await.expect("checked"),
        0,
        "told once"
    );
}

#[tokio::test]
async fn a_pending_application_nudges_its_teacher_once_after_two_working_days() {
    // Friday 11:00: two working days later is Tuesday.
    let friday = at(2026, 9, 11, 6, 0, 0);
    let world = World::new(friday);
    let (bot, notifier, inbox) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    notifier.deliver_due().await.expect("ran");
    inbox.take(); // the new-application notice
    world.clock.set(at(2026, 9, 14, 7, 0, 0));
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), TEACHER).is_empty(), "not on Monday");
    world.clock.set(at(2026, 9, 15, 6, 0, 0));
    notifier.deliver_due().await.expect("ran");
    let nudges = messages_to(&inbox.take(), TEACHER);
    assert_eq!(nudges, ["teacher-still-pending"]);
    world.clock.advance(Duration::days(5));
    notifier.deliver_due().await.expect("ran");
    assert!(inbox.take().iter().all(|(c, _)| *c != TEACHER), "once");
}

#[tokio::test]
async fn the_diary_reminder_counts_working_days_over_the_new_year() {
    // Monday 29 December 2025, 11:00 in Orenburg.
    let start = at(2025, 12, 29, 6, 0, 0);
    let world = World::new(start);
    let (bot, notifier, inbox) = world.process().await;
    let parent = submit_diary_application(&bot).await;
    parent.assert_said("a1-form-sent");
    assert!(
        parent.last_text().contains("15.01.2026"),
        "{}",
        parent.text()
    );
    world.clock.set(at(2026, 1, 15, 4, 59, 0));
    notifier.deliver_due().await.expect("ran");
    assert!(
        texts(&inbox.take(), STUDENT).is_empty(),
        "not before 10:00 on the day"
    );
    world.clock.set(at(2026, 1, 15, 5, 0, 0));
    notifier.deliver_due().await.expect("ran");
    let reminders = messages_to(&inbox.take(), STUDENT);
    assert_eq!(reminders, ["a1-check-reminder"]);
    world.clock.advance(Duration::days(3));
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), STUDENT).is_empty(), "once");
}

#[tokio::test]
async fn the_diary_reminder_skips_the_may_holidays() {
    // Wednesday 29 April 2026: 30 Apr, 4, 5, 6, 7 May are the five working days.
    let start = at(2026, 4, 29, 6, 0, 0);
    let world = World::new(start);
    let (bot, _, _) = world.process().await;
    let parent = submit_diary_application(&bot).await;
    parent.assert_said("a1-form-sent");
    assert!(
        parent.last_text().contains("07.05.2026"),
        "{}",
        parent.text()
    );
}

#[tokio::test]
async fn a_silent_user_gets_one_gentle_reminder_and_can_switch_them_off() {
    let world = World::new(school_morning());
    let (bot, notifier, inbox) = world.process().await;
    let mut student = transcript(&bot, STUDENT);
    student.send("/start demo-class").await;
    student.press("Войти в аккаунт").await;
    world.clock.advance(Duration::hours(23));
    notifier.deliver_due().await.expect("ran");
    assert!(
        texts(&inbox.take(), STUDENT).is_empty(),
        "not before 24 hours"
    );
    world.clock.advance(Duration::hours(2));
    notifier.deliver_due().await.expect("ran");
    let sent = inbox.take();
    assert_eq!(messages_to(&sent, STUDENT), ["idle-reminder"]);
    world.clock.advance(Duration::days(3));
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), STUDENT).is_empty(), "once");
    // Switching them off: no reminder after the next pause.
    student.press_from(&sent, STUDENT, "Не напоминать").await;
    student.assert_said("reminders-off");
    student.send("+7 912 345-67-89").await;
    world.clock.advance(Duration::days(2));
    notifier.deliver_due().await.expect("ran");
    assert!(texts(&inbox.take(), STUDENT).is_empty(), "switched off");
}

/// A chat that blocked the bot: every message to it is refused for good.
struct Blocked(Mutex<usize>);

#[async_trait]
impl Courier for Blocked {
    async fn send(&self, _chat: ChatKey, _reply: &Reply) -> Result<(), Undelivered> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Err(Undelivered::Never(
            "Forbidden: bot was blocked by the user".into(),
        ))
    }
}

#[tokio::test]
async fn a_teacher_who_blocked_the_bot_is_given_up_on() {
    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    bind_teacher(&bot).await;
    submit_application(&bot).await;
    let blocked = Arc::new(Blocked(Mutex::new(0)));
    let notifier = Notifier::new(bot.clone(), blocked.clone(), "replica-b");
    notifier.deliver_due().await.expect("ran");
    assert_eq!(*blocked.0.lock().unwrap_or_else(|e| e.into_inner()), 1);
    // The notice was acknowledged, not left to be handed out again: its id is free.
    let pending = bot
        .service()
        .pending_applications("t-7")
        .await
        .expect("listed");
    let again = Notice {
        id: format!("new-application:{}", pending[0].application_id),
        chat: STUDENT,
        kind: NoticeKind::NewApplication {
            application_id: pending[0].application_id.clone(),
        },
    };
    let rescheduled = bot
        .outbox()
        .schedule(&again, world.clock.now(), IfScheduled::Keep)
        .await
        .expect("scheduled");
    assert!(rescheduled, "the undeliverable notice was dropped");
}

#[tokio::test]
async fn a_teacher_keeps_the_desk_after_reset_but_not_after_forget() {
    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    bind_teacher(&bot).await;
    let mut teacher = transcript(&bot, TEACHER);
    teacher.send("/reset").await;
    teacher.send("/pending").await;
    teacher.assert_said("pending-none");
    teacher.send("/forget").await;
    teacher.send("/pending").await;
    teacher.assert_said("teacher-only");
}

#[tokio::test]
async fn a_teacher_in_telegram_approves_a_student_in_max_and_each_hears_where_they_are() {
    use sferum_bot::runtime::messengers::Messengers;
    use sferum_bot::store::Channel;

    let world = World::new(school_morning());
    let (bot, _, _) = world.process().await;
    let (telegram, max) = (Arc::new(Inbox::default()), Arc::new(Inbox::default()));
    let couriers = Messengers::new()
        .with(Channel::Telegram, telegram.clone())
        .with(Channel::Max, max.clone());
    let notifier = Notifier::new(bot.clone(), Arc::new(couriers), "test-replica");
    bind_teacher(&bot).await;
    // The same number as the teacher's Telegram chat, in MAX: another person.
    let student = ChatKey::max(TEACHER.id);
    let mut in_max = transcript(&bot, student);
    in_max
        .submit_application("+7 912 345-67-89", "Петров Иван Сергеевич")
        .await;
    assert_eq!(in_max.at, "variant1/submitted");
    assert_eq!(notifier.deliver_due().await.expect("delivered"), 1);
    let to_teacher = telegram.take();
    assert_eq!(
        messages_to(&to_teacher, TEACHER),
        ["teacher-new-application"]
    );
    assert!(
        max.take().is_empty(),
        "nothing of the teacher's goes to MAX"
    );
    let mut teacher = transcript(&bot, TEACHER);
    teacher
        .input(button(&to_teacher, TEACHER, "Одобрить"))
        .await;
    teacher.assert_said("decision-approved");
    notifier.deliver_due().await.expect("delivered");
    let to_student = max.take();
    assert!(
        messages_to(&to_student, student).contains(&"v1-approved".to_owned()),
        "{to_student:#?}"
    );
    assert!(
        telegram.take().iter().all(|(chat, _)| *chat != student),
        "the student hears in MAX only"
    );
    // The teacher's own conversation was never touched by the student's.
    assert_eq!(teacher.at, "teacher/bound");
}
