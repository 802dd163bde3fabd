//! Unit tests of the sandbox: the contract's semantics as the sandbox keeps them, from the demo
//! invitations to idempotent replays, verification limits, decisions and parent links.

use std::sync::Mutex as StdMutex;

use chrono::TimeZone;

use super::*;
use crate::clock::ManualClock;
use crate::domain::{ChildName, Email, InviteToken, Phone, VerificationCode};
use crate::service::{
    Address, Application, ApplicationState, ApplicationStatus, ClassInfo, Decision, Invite,
    IssuedInvite, LinkStatus, LinkedChild, ParentLink, PendingApplication, Purpose,
    RegistrationService, Verification,
};

const CODE: &str = "123456";
const WRONG: &str = "654321";
const STUDENT_PHONE: &str = "+79123456789";
const PARENT_PHONE: &str = "+79001112233";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
        .single()
        .expect("a valid start time")
}

fn config(auto_approve: bool) -> SandboxConfig {
    SandboxConfig {
        fixed_code: Some(CODE.to_owned()),
        auto_approve,
        ..SandboxConfig::default()
    }
}

/// A sandbox with the fixed code and no auto-approval, and its clock.
fn sandbox() -> (Sandbox, ManualClock) {
    sandbox_with(config(false))
}

fn sandbox_with(config: SandboxConfig) -> (Sandbox, ManualClock) {
    let clock = ManualClock::new(start());
    (Sandbox::with_config(Arc::new(clock.clone()), config), clock)
}

fn phone(raw: &str) -> Address {
    Address::Phone(Phone::parse(raw).expect("a valid phone"))
}

fn email(raw: &str) -> Address {
    Address::Email(Email::parse(raw).expect("a valid email"))
}

fn code(raw: &str) -> VerificationCode {
    VerificationCode::parse(raw, raw.len()).expect("a valid code")
}

fn token(raw: &str) -> InviteToken {
    InviteToken::parse(raw).expect("a valid token")
}

fn child() -> ChildName {
    ChildName::parse("Петров Иван Сергеевич").expect("a valid name")
}

fn refusal<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> Rejection {
    match result {
        Err(ServiceError::Rejected(rejection)) => rejection,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// The operations as a test calls them: each under a new key.

async fn start_for(
    sandbox: &Sandbox,
    address: &Address,
    purpose: Purpose,
) -> Result<Verification, ServiceError> {
    sandbox
        .start_verification(OpKey::random(), address, purpose)
        .await
}

async fn check(sandbox: &Sandbox, verification_id: &str, raw: &str) -> Result<(), ServiceError> {
    sandbox
        .check_code(OpKey::random(), verification_id, &code(raw))
        .await
}

async fn resend(sandbox: &Sandbox, verification_id: &str) -> Result<Verification, ServiceError> {
    sandbox.resend_code(OpKey::random(), verification_id).await
}

async fn submit(
    sandbox: &Sandbox,
    invite: &InviteToken,
    verification_id: &str,
) -> Result<Application, ServiceError> {
    sandbox
        .submit_application(OpKey::random(), invite, verification_id, &child())
        .await
}

async fn decide(
    sandbox: &Sandbox,
    application_id: &str,
    teacher_id: &str,
    decision: &Decision,
) -> Result<ApplicationStatus, ServiceError> {
    sandbox
        .decide(OpKey::random(), application_id, teacher_id, decision)
        .await
}

async fn invite_class(
    sandbox: &Sandbox,
    class_id: &str,
    teacher_id: &str,
) -> Result<IssuedInvite, ServiceError> {
    sandbox
        .create_class_invite(OpKey::random(), class_id, teacher_id)
        .await
}

async fn invite_parent(
    sandbox: &Sandbox,
    application_id: &str,
) -> Result<IssuedInvite, ServiceError> {
    sandbox
        .create_parent_invite(OpKey::random(), application_id)
        .await
}

async fn link_parent(
    sandbox: &Sandbox,
    invite: &InviteToken,
    verification_id: &str,
) -> Result<ParentLink, ServiceError> {
    sandbox
        .create_parent_link(OpKey::random(), invite, verification_id)
        .await
}

async fn confirm_link(
    sandbox: &Sandbox,
    link_id: &str,
    confirmed: bool,
) -> Result<LinkStatus, ServiceError> {
    sandbox
        .confirm_parent_link(OpKey::random(), link_id, confirmed)
        .await
}

// The fixtures: the steps a test needs done before what it is about.

/// A started, not yet completed, student's verification of [`STUDENT_PHONE`]: its id.
async fn started_student(sandbox: &Sandbox) -> String {
    start_for(sandbox, &phone(STUDENT_PHONE), Purpose::StudentRegistration)
        .await
        .expect("starts")
        .verification_id
}

/// Starts and completes a verification, returning its id.
async fn verified(sandbox: &Sandbox, address: &Address, purpose: Purpose) -> String {
    let verification = start_for(sandbox, address, purpose)
        .await
        .expect("verification starts");
    check(sandbox, &verification.verification_id, CODE)
        .await
        .expect("the code is right");
    verification.verification_id
}

/// A completed student's verification of `raw`: its id.
async fn verified_student_at(sandbox: &Sandbox, raw: &str) -> String {
    verified(sandbox, &phone(raw), Purpose::StudentRegistration).await
}

/// A completed student's verification of [`STUDENT_PHONE`]: its id.
async fn verified_student(sandbox: &Sandbox) -> String {
    verified_student_at(sandbox, STUDENT_PHONE).await
}

/// A completed parent's verification of `raw`: its id.
async fn verified_parent(sandbox: &Sandbox, raw: &str) -> String {
    verified(sandbox, &phone(raw), Purpose::ParentLink).await
}

/// A student registered through `invite` with `address`: the application.
async fn apply(sandbox: &Sandbox, invite: &str, address: &str) -> Application {
    let vid = verified_student_at(sandbox, address).await;
    submit(sandbox, &token(invite), &vid)
        .await
        .expect("the application is accepted")
}

/// The student of [`STUDENT_PHONE`] registered through the demo class invitation: the
/// application.
async fn submitted(sandbox: &Sandbox) -> Application {
    apply(sandbox, DEMO_CLASS_TOKEN, STUDENT_PHONE).await
}

/// The demo teacher approves the application `id`.
async fn approve(sandbox: &Sandbox, id: &str) {
    decide(sandbox, id, "t-7", &Decision::Approve)
        .await
        .expect("approved");
}

#[tokio::test]
async fn demo_invitations_resolve_to_their_kinds_and_unknown_ones_are_not_found() {
    let (sandbox, _) = sandbox();
    let class = sandbox.resolve_invite(&token(DEMO_CLASS_TOKEN)).await;
    assert_eq!(
        class,
        Ok(Invite::Class {
            class_id: "c-5a".into(),
            class: "5А".into(),
            school: "МОБУ «СОШ № 1»".into(),
            teacher_name: "Иванова Мария Петровна".into(),
            expires_at: None,
        })
    );
    let parent = sandbox.resolve_invite(&token(DEMO_PARENT_TOKEN)).await;
    assert_eq!(
        parent,
        Ok(Invite::Parent {
            child_id: "s-1".into(),
            child_name: "Петров Иван".into(),
            class: "5А".into(),
            school: "МОБУ «СОШ № 1»".into(),
            expires_at: None,
        })
    );
    let teacher = sandbox.resolve_invite(&token(DEMO_TEACHER_TOKEN)).await;
    assert_eq!(
        teacher,
        Ok(Invite::Teacher {
            teacher_id: "t-7".into(),
            teacher_name: "Иванова Мария Петровна".into(),
            classes: vec![
                ClassInfo {
                    class_id: "c-5a".into(),
                    name: "5А".into(),
                    school: "МОБУ «СОШ № 1»".into(),
                },
                ClassInfo {
                    class_id: "c-7b".into(),
                    name: "7Б".into(),
                    school: "МОБУ «СОШ № 1»".into(),
                },
            ],
        })
    );
    assert_eq!(
        refusal(sandbox.resolve_invite(&token("no-such-invite")).await),
        Rejection::InviteNotFound
    );
}

#[tokio::test]
async fn demo_invitations_are_reusable() {
    let (sandbox, _) = sandbox();
    apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000001").await;
    apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000002").await;
    assert!(sandbox
        .resolve_invite(&token(DEMO_CLASS_TOKEN))
        .await
        .is_ok());

    for parent_phone in ["+79000000001", "+79000000002"] {
        let vid = verified_parent(&sandbox, parent_phone).await;
        let link = link_parent(&sandbox, &token(DEMO_PARENT_TOKEN), &vid)
            .await
            .expect("the demo parent invitation links again");
        assert_eq!(link.child.name, "Петров Иван");
    }
}

#[tokio::test]
async fn a_repeated_key_is_answered_as_before_and_sends_no_second_code() {
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let clock = ManualClock::new(start());
    let sandbox = Sandbox::with_config(Arc::new(clock), config(false)).on_code_sent(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
    let key = OpKey::derive("42", 7, 3, 0);
    let address = phone(STUDENT_PHONE);
    let first = sandbox
        .start_verification(key, &address, Purpose::StudentRegistration)
        .await;
    let again = sandbox
        .start_verification(key, &address, Purpose::StudentRegistration)
        .await;
    assert!(first.is_ok());
    assert_eq!(first, again, "the same verification, not a new one");
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 1);
    let other = start_for(&sandbox, &address, Purpose::StudentRegistration)
        .await
        .expect("a new operation");
    assert_ne!(Ok(other), first, "another key is another operation");
    assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_started_verification_reports_its_id_length_and_times() {
    let (sandbox, _) = sandbox();
    let first = start_for(
        &sandbox,
        &phone(STUDENT_PHONE),
        Purpose::StudentRegistration,
    )
    .await
    .expect("starts");
    assert_eq!(
        first,
        Verification {
            verification_id: "v-1".into(),
            code_length: 6,
            expires_at: start() + Duration::minutes(10),
            resend_after: start() + Duration::seconds(60),
        }
    );
    let second = start_for(
        &sandbox,
        &email("ivan@example.ru"),
        Purpose::StudentRegistration,
    )
    .await
    .expect("an email is fine for a student");
    assert_eq!(second.verification_id, "v-2");
    assert_eq!(sandbox.last_code("v-2").as_deref(), Some(CODE));
    assert_eq!(sandbox.last_code("v-99"), None);
}

#[tokio::test]
async fn random_codes_are_digits_of_the_configured_length() {
    let (sandbox, _) = sandbox_with(SandboxConfig {
        code_length: 4,
        ..SandboxConfig::default()
    });
    let verification = start_for(
        &sandbox,
        &phone(STUDENT_PHONE),
        Purpose::StudentRegistration,
    )
    .await
    .expect("starts");
    assert_eq!(verification.code_length, 4);
    let sent = sandbox
        .last_code(&verification.verification_id)
        .expect("a code was sent");
    assert_eq!(sent.len(), 4);
    assert!(sent.chars().all(|c| c.is_ascii_digit()), "{sent:?}");
    check(&sandbox, &verification.verification_id, &sent)
        .await
        .expect("the sent code is right");
}

#[tokio::test]
async fn the_code_listener_hears_every_sent_code_with_a_masked_address() {
    let heard: Arc<StdMutex<Vec<CodeNotice>>> = Arc::default();
    let clock = ManualClock::new(start());
    let sandbox = {
        let heard = Arc::clone(&heard);
        Sandbox::with_config(Arc::new(clock.clone()), config(false)).on_code_sent(move |notice| {
            heard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(notice.clone())
        })
    };
    let address = phone(STUDENT_PHONE);
    let vid = started_student(&sandbox).await;
    clock.advance(Duration::seconds(60));
    resend(&sandbox, &vid).await.expect("resends");
    let heard = heard.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let expected = CodeNotice {
        masked_address: address.masked(),
        code: CODE.into(),
    };
    assert_eq!(heard, vec![expected.clone(), expected]);
    assert!(!heard[0].masked_address.contains(STUDENT_PHONE));
}

#[tokio::test]
async fn a_code_expires_after_its_ttl() {
    let (sandbox, clock) = sandbox();
    let vid = started_student(&sandbox).await;
    clock.advance(Duration::minutes(10));
    assert_eq!(
        refusal(check(&sandbox, &vid, CODE).await),
        Rejection::VerificationExpired
    );
}

#[tokio::test]
async fn a_code_just_before_expiry_is_still_accepted() {
    let (sandbox, clock) = sandbox();
    let vid = started_student(&sandbox).await;
    clock.advance(Duration::minutes(10) - Duration::seconds(1));
    check(&sandbox, &vid, CODE).await.expect("still valid");
}

#[tokio::test]
async fn wrong_codes_count_attempts_down_then_the_code_is_locked() {
    let (sandbox, _) = sandbox();
    let vid = started_student(&sandbox).await;
    for left in (0..5).rev() {
        assert_eq!(
            refusal(check(&sandbox, &vid, WRONG).await),
            Rejection::WrongCode {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        refusal(check(&sandbox, &vid, CODE).await),
        Rejection::TooManyAttempts,
        "even the right code is refused once attempts are spent"
    );
}

#[tokio::test]
async fn a_resend_is_refused_too_early_and_allowed_later_with_fresh_attempts() {
    let (sandbox, clock) = sandbox();
    let vid = started_student(&sandbox).await;
    assert_eq!(
        refusal(resend(&sandbox, &vid).await),
        Rejection::TooEarly {
            retry_after_secs: 60
        }
    );
    clock.advance(Duration::milliseconds(30_500));
    assert_eq!(
        refusal(resend(&sandbox, &vid).await),
        Rejection::TooEarly {
            retry_after_secs: 30
        },
        "seconds left are rounded up"
    );
    clock.advance(Duration::milliseconds(29_000));
    assert_eq!(
        refusal(resend(&sandbox, &vid).await),
        Rejection::TooEarly {
            retry_after_secs: 1
        },
        "at least one second"
    );

    for _ in 0..5 {
        let _ = check(&sandbox, &vid, WRONG).await;
    }
    clock.advance(Duration::milliseconds(500));
    let now = start() + Duration::seconds(60);
    let resent = resend(&sandbox, &vid).await.expect("resends");
    assert_eq!(
        resent,
        Verification {
            verification_id: vid.clone(),
            code_length: 6,
            expires_at: now + Duration::minutes(10),
            resend_after: now + Duration::seconds(60),
        }
    );
    assert_eq!(
        refusal(check(&sandbox, &vid, WRONG).await),
        Rejection::WrongCode { attempts_left: 4 },
        "attempts start over"
    );
    check(&sandbox, &vid, CODE)
        .await
        .expect("the new code is right");
}

#[tokio::test]
async fn a_resend_revives_an_expired_code() {
    let (sandbox, clock) = sandbox();
    let vid = started_student(&sandbox).await;
    clock.advance(Duration::minutes(11));
    resend(&sandbox, &vid).await.expect("resends");
    check(&sandbox, &vid, CODE).await.expect("valid again");
}

#[tokio::test]
async fn unknown_verification_ids_are_protocol_errors() {
    let (sandbox, _) = sandbox();
    assert!(matches!(
        resend(&sandbox, "v-404").await,
        Err(ServiceError::Protocol(_))
    ));
    assert!(matches!(
        check(&sandbox, "v-404", CODE).await,
        Err(ServiceError::Protocol(_))
    ));
    assert!(matches!(
        submit(&sandbox, &token(DEMO_CLASS_TOKEN), "v-404").await,
        Err(ServiceError::Protocol(_))
    ));
}

#[tokio::test]
async fn parents_register_by_phone_only() {
    let (sandbox, _) = sandbox();
    assert_eq!(
        refusal(start_for(&sandbox, &email("mama@example.ru"), Purpose::ParentLink).await),
        Rejection::ChannelNotAllowed
    );
    start_for(&sandbox, &phone(PARENT_PHONE), Purpose::ParentLink)
        .await
        .expect("a phone is fine for a parent");
}

#[tokio::test]
async fn a_childs_address_cannot_serve_a_parent_or_a_second_registration() {
    let (sandbox, _) = sandbox();
    submitted(&sandbox).await;
    assert_eq!(
        refusal(start_for(&sandbox, &phone(STUDENT_PHONE), Purpose::ParentLink).await),
        Rejection::AddressRegisteredAsChild
    );
    assert_eq!(
        refusal(
            start_for(
                &sandbox,
                &phone(STUDENT_PHONE),
                Purpose::StudentRegistration
            )
            .await
        ),
        Rejection::AddressAlreadyRegistered
    );
}

#[tokio::test]
async fn an_address_registered_meanwhile_cannot_be_submitted_twice() {
    let (sandbox, _) = sandbox();
    let first = verified_student(&sandbox).await;
    let second = verified_student(&sandbox).await;
    submit(&sandbox, &token(DEMO_CLASS_TOKEN), &first)
        .await
        .expect("the first is accepted");
    assert_eq!(
        refusal(submit(&sandbox, &token(DEMO_CLASS_TOKEN), &second).await),
        Rejection::AddressAlreadyRegistered
    );
}

#[tokio::test]
async fn more_than_five_starts_in_ten_minutes_are_too_many() {
    let (sandbox, clock) = sandbox();
    let address = phone(STUDENT_PHONE);
    for _ in 0..5 {
        start_for(&sandbox, &address, Purpose::StudentRegistration)
            .await
            .expect("within the limit");
        clock.advance(Duration::seconds(30));
    }
    // The first start was 150 s ago: the window frees up in 450 s.
    assert_eq!(
        refusal(start_for(&sandbox, &address, Purpose::StudentRegistration).await),
        Rejection::TooManyRequests {
            retry_after_secs: 450
        }
    );
    start_for(&sandbox, &phone(PARENT_PHONE), Purpose::ParentLink)
        .await
        .expect("another address is not limited");
    clock.advance(Duration::seconds(450));
    start_for(&sandbox, &address, Purpose::StudentRegistration)
        .await
        .expect("the window moved on");
}

#[tokio::test]
async fn an_application_needs_a_completed_student_verification() {
    let (sandbox, _) = sandbox();
    let pending = started_student(&sandbox).await;
    assert_eq!(
        refusal(submit(&sandbox, &token(DEMO_CLASS_TOKEN), &pending).await),
        Rejection::VerificationNotCompleted
    );
    let parents = verified_parent(&sandbox, PARENT_PHONE).await;
    assert_eq!(
        refusal(submit(&sandbox, &token(DEMO_CLASS_TOKEN), &parents).await),
        Rejection::VerificationNotCompleted,
        "a parent's verification does not register a student"
    );
}

#[tokio::test]
async fn a_verification_completes_one_application_only() {
    let (sandbox, _) = sandbox();
    let vid = verified_student(&sandbox).await;
    submit(&sandbox, &token(DEMO_CLASS_TOKEN), &vid)
        .await
        .expect("accepted");
    assert_eq!(
        refusal(submit(&sandbox, &token(DEMO_CLASS_TOKEN), &vid).await),
        Rejection::VerificationNotCompleted
    );
}

#[tokio::test]
async fn an_application_needs_a_class_invitation() {
    let (sandbox, _) = sandbox();
    let vid = verified_student(&sandbox).await;
    for other in [DEMO_PARENT_TOKEN, DEMO_TEACHER_TOKEN, "no-such-invite"] {
        assert_eq!(
            refusal(submit(&sandbox, &token(other), &vid).await),
            Rejection::InviteNotFound,
            "{other}"
        );
    }
    let application = submit(&sandbox, &token(DEMO_CLASS_TOKEN), &vid)
        .await
        .expect("the verification was not spent by the refusals");
    assert_eq!(
        application,
        Application {
            application_id: "a-1".into(),
            status: ApplicationStatus::Pending,
            class: "5А".into(),
            school: "МОБУ «СОШ № 1»".into(),
            teacher_id: "t-7".into(),
        }
    );
}

#[tokio::test]
async fn only_the_class_teacher_creates_class_invitations() {
    let (sandbox, _) = sandbox();
    assert_eq!(
        refusal(invite_class(&sandbox, "c-5a", "t-8").await),
        Rejection::NotClassTeacher
    );
    assert_eq!(
        refusal(invite_class(&sandbox, "c-9z", "t-7").await),
        Rejection::NotClassTeacher
    );
    let issued = invite_class(&sandbox, "c-7b", "t-7")
        .await
        .expect("t-7 teaches 7Б");
    assert_eq!(issued.expires_at, start() + Duration::days(7));
    assert_eq!(issued.token.as_str().len(), 16);
    assert!(issued
        .token
        .as_str()
        .chars()
        .all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(
        sandbox.resolve_invite(&issued.token).await,
        Ok(Invite::Class {
            class_id: "c-7b".into(),
            class: "7Б".into(),
            school: "МОБУ «СОШ № 1»".into(),
            teacher_name: "Иванова Мария Петровна".into(),
            expires_at: Some(start() + Duration::days(7)),
        })
    );
}

#[tokio::test]
async fn an_issued_class_invitation_serves_one_application() {
    let (sandbox, _) = sandbox();
    let issued = invite_class(&sandbox, "c-7b", "t-7").await.expect("issued");
    let application = apply(&sandbox, issued.token.as_str(), "+79120000001").await;
    assert_eq!(application.class, "7Б");
    assert_eq!(
        refusal(sandbox.resolve_invite(&issued.token).await),
        Rejection::InviteUsed
    );
    let vid = verified_student_at(&sandbox, "+79120000002").await;
    assert_eq!(
        refusal(submit(&sandbox, &issued.token, &vid).await),
        Rejection::InviteUsed
    );
}

#[tokio::test]
async fn an_issued_class_invitation_expires_after_seven_days() {
    let (sandbox, clock) = sandbox();
    let issued = invite_class(&sandbox, "c-5a", "t-7").await.expect("issued");
    clock.advance(Duration::days(7) - Duration::seconds(1));
    assert!(sandbox.resolve_invite(&issued.token).await.is_ok());
    clock.advance(Duration::seconds(1));
    assert_eq!(
        refusal(sandbox.resolve_invite(&issued.token).await),
        Rejection::InviteExpired
    );
    let vid = verified_student(&sandbox).await;
    assert_eq!(
        refusal(submit(&sandbox, &issued.token, &vid).await),
        Rejection::InviteExpired
    );
    assert!(
        sandbox
            .resolve_invite(&token(DEMO_CLASS_TOKEN))
            .await
            .is_ok(),
        "demo invitations never expire"
    );
}

#[tokio::test]
async fn with_auto_approve_an_application_is_approved_when_asked_about() {
    let (sandbox, clock) = sandbox_with(config(true));
    let application = submitted(&sandbox).await;
    assert_eq!(application.status, ApplicationStatus::Pending);
    clock.advance(Duration::minutes(1));
    let state = sandbox
        .application_state(&application.application_id)
        .await
        .expect("known");
    assert_eq!(
        state,
        ApplicationState {
            application_id: application.application_id.clone(),
            status: ApplicationStatus::Approved,
            reason: None,
            decided_at: Some(start() + Duration::minutes(1)),
        }
    );
    clock.advance(Duration::minutes(1));
    assert_eq!(
        sandbox
            .application_state(&application.application_id)
            .await
            .map(|s| s.decided_at),
        Ok(Some(start() + Duration::minutes(1))),
        "decided once"
    );
}

#[tokio::test]
async fn without_auto_approve_an_application_waits_for_the_teacher() {
    let (sandbox, _) = sandbox();
    let application = submitted(&sandbox).await;
    let state = sandbox
        .application_state(&application.application_id)
        .await
        .expect("known");
    assert_eq!(state.status, ApplicationStatus::Pending);
    assert_eq!(state.decided_at, None);
    assert_eq!(
        refusal(sandbox.application_state("a-404").await),
        Rejection::ApplicationNotFound
    );
}

#[tokio::test]
async fn a_teacher_sees_the_pending_applications_of_their_classes() {
    let (sandbox, clock) = sandbox();
    let first = apply(&sandbox, DEMO_CLASS_TOKEN, "+79120000001").await;
    clock.advance(Duration::minutes(5));
    let seven_b = invite_class(&sandbox, "c-7b", "t-7").await.expect("issued");
    let second = apply(&sandbox, seven_b.token.as_str(), "+79120000002").await;
    let pending = sandbox.pending_applications("t-7").await.expect("listed");
    assert_eq!(
        pending,
        vec![
            PendingApplication {
                application_id: first.application_id.clone(),
                child_name: "Петров Иван".into(),
                class: "5А".into(),
                created_at: start(),
            },
            PendingApplication {
                application_id: second.application_id.clone(),
                child_name: "Петров Иван".into(),
                class: "7Б".into(),
                created_at: start() + Duration::minutes(5),
            },
        ]
    );
    assert_eq!(sandbox.pending_applications("t-8").await, Ok(vec![]));
    approve(&sandbox, &first.application_id).await;
    let pending = sandbox.pending_applications("t-7").await.expect("listed");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].application_id, second.application_id);
}

#[tokio::test]
async fn only_the_class_teacher_decides_and_only_once() {
    let (sandbox, clock) = sandbox();
    let id = submitted(&sandbox).await.application_id;
    assert_eq!(
        refusal(decide(&sandbox, &id, "t-8", &Decision::Approve).await),
        Rejection::NotClassTeacher
    );
    assert_eq!(
        refusal(decide(&sandbox, "a-404", "t-7", &Decision::Approve).await),
        Rejection::ApplicationNotFound
    );
    clock.advance(Duration::hours(1));
    let reject = Decision::Reject {
        reason: Some("wrong class".into()),
    };
    assert_eq!(
        decide(&sandbox, &id, "t-7", &reject).await,
        Ok(ApplicationStatus::Rejected)
    );
    assert_eq!(
        sandbox.application_state(&id).await,
        Ok(ApplicationState {
            application_id: id.clone(),
            status: ApplicationStatus::Rejected,
            reason: Some("wrong class".into()),
            decided_at: Some(start() + Duration::hours(1)),
        })
    );
    assert_eq!(
        refusal(decide(&sandbox, &id, "t-7", &Decision::Approve).await),
        Rejection::AlreadyDecided {
            status: ApplicationStatus::Rejected
        }
    );
}

#[tokio::test]
async fn a_parent_invitation_needs_an_approved_application() {
    let (sandbox, _) = sandbox();
    let id = submitted(&sandbox).await.application_id;
    assert_eq!(
        refusal(invite_parent(&sandbox, &id).await),
        Rejection::ApplicationNotApproved
    );
    assert_eq!(
        refusal(invite_parent(&sandbox, "a-404").await),
        Rejection::ApplicationNotFound
    );
    approve(&sandbox, &id).await;
    let issued = invite_parent(&sandbox, &id).await.expect("issued");
    assert_eq!(issued.expires_at, start() + Duration::days(7));
    assert_eq!(
        sandbox.resolve_invite(&issued.token).await,
        Ok(Invite::Parent {
            child_id: "s-2".into(),
            child_name: "Петров Иван".into(),
            class: "5А".into(),
            school: "МОБУ «СОШ № 1»".into(),
            expires_at: Some(start() + Duration::days(7)),
        })
    );
}

#[tokio::test]
async fn a_rejected_application_gets_no_parent_invitation() {
    let (sandbox, _) = sandbox();
    let id = submitted(&sandbox).await.application_id;
    decide(&sandbox, &id, "t-7", &Decision::Reject { reason: None })
        .await
        .expect("rejected");
    assert_eq!(
        refusal(invite_parent(&sandbox, &id).await),
        Rejection::ApplicationNotApproved
    );
}

#[tokio::test]
async fn a_parent_link_needs_a_completed_parent_verification_and_a_parent_invitation() {
    let (sandbox, _) = sandbox();
    let unchecked = start_for(&sandbox, &phone(PARENT_PHONE), Purpose::ParentLink)
        .await
        .expect("starts");
    assert_eq!(
        refusal(
            link_parent(
                &sandbox,
                &token(DEMO_PARENT_TOKEN),
                &unchecked.verification_id
            )
            .await
        ),
        Rejection::VerificationNotCompleted
    );
    let student = verified_student(&sandbox).await;
    assert_eq!(
        refusal(link_parent(&sandbox, &token(DEMO_PARENT_TOKEN), &student).await),
        Rejection::VerificationNotCompleted,
        "a student's verification does not link a parent"
    );
    let parent = verified_parent(&sandbox, "+79000000009").await;
    for other in [DEMO_CLASS_TOKEN, DEMO_TEACHER_TOKEN, "no-such-invite"] {
        assert_eq!(
            refusal(link_parent(&sandbox, &token(other), &parent).await),
            Rejection::InviteNotFound,
            "{other}"
        );
    }
    assert!(matches!(
        link_parent(&sandbox, &token(DEMO_PARENT_TOKEN), "v-404").await,
        Err(ServiceError::Protocol(_))
    ));
}

#[tokio::test]
async fn an_issued_parent_invitation_links_once_and_expires() {
    let (sandbox, clock) = sandbox();
    let id = submitted(&sandbox).await.application_id;
    approve(&sandbox, &id).await;
    let once = invite_parent(&sandbox, &id).await.expect("issued");
    let later = invite_parent(&sandbox, &id).await.expect("issued");

    let mother = verified_parent(&sandbox, "+79000000001").await;
    link_parent(&sandbox, &once.token, &mother)
        .await
        .expect("links");
    let father = verified_parent(&sandbox, "+79000000002").await;
    assert_eq!(
        refusal(link_parent(&sandbox, &once.token, &father).await),
        Rejection::InviteUsed
    );
    assert_eq!(
        refusal(sandbox.resolve_invite(&once.token).await),
        Rejection::InviteUsed
    );

    clock.advance(Duration::days(7));
    let father = verified_parent(&sandbox, "+79000000002").await;
    assert_eq!(
        refusal(link_parent(&sandbox, &later.token, &father).await),
        Rejection::InviteExpired
    );
}

#[tokio::test]
async fn a_parent_link_ends_linked_or_cancelled() {
    let (sandbox, _) = sandbox();
    let mother = verified_parent(&sandbox, "+79000000001").await;
    let confirmed = link_parent(&sandbox, &token(DEMO_PARENT_TOKEN), &mother)
        .await
        .expect("links");
    assert_eq!(confirmed.link_id, "l-1");
    let father = verified_parent(&sandbox, "+79000000002").await;
    let cancelled = link_parent(&sandbox, &token(DEMO_PARENT_TOKEN), &father)
        .await
        .expect("links");
    assert_eq!(cancelled.link_id, "l-2");

    assert_eq!(
        confirm_link(&sandbox, &confirmed.link_id, true).await,
        Ok(LinkStatus::Linked)
    );
    assert_eq!(
        confirm_link(&sandbox, &cancelled.link_id, false).await,
        Ok(LinkStatus::Cancelled)
    );
    assert_eq!(
        confirm_link(&sandbox, &confirmed.link_id, false).await,
        Ok(LinkStatus::Linked),
        "the first answer is final"
    );
    assert!(matches!(
        confirm_link(&sandbox, "l-404", true).await,
        Err(ServiceError::Protocol(_))
    ));
}

#[tokio::test]
async fn a_student_registers_and_then_links_a_parent() {
    let (sandbox, _) = sandbox();

    // The teacher binds their chat and invites the class.
    let Ok(Invite::Teacher {
        teacher_id,
        classes,
        ..
    }) = sandbox.resolve_invite(&token(DEMO_TEACHER_TOKEN)).await
    else {
        panic!("the teacher invitation resolves to a teacher");
    };
    let class_invite = invite_class(&sandbox, &classes[0].class_id, &teacher_id)
        .await
        .expect("issued");
    assert!(matches!(
        sandbox.resolve_invite(&class_invite.token).await,
        Ok(Invite::Class { .. })
    ));

    // The student verifies their own phone and applies.
    let student = verified_student(&sandbox).await;
    let application = submit(&sandbox, &class_invite.token, &student)
        .await
        .expect("accepted");
    assert_eq!(application.teacher_id, teacher_id);

    // The teacher approves.
    let pending = sandbox
        .pending_applications(&teacher_id)
        .await
        .expect("listed");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        decide(
            &sandbox,
            &pending[0].application_id,
            &teacher_id,
            &Decision::Approve
        )
        .await,
        Ok(ApplicationStatus::Approved)
    );
    assert_eq!(
        sandbox
            .application_state(&application.application_id)
            .await
            .map(|s| s.status),
        Ok(ApplicationStatus::Approved)
    );

    // The student invites a parent, who verifies their phone and confirms the child.
    let parent_invite = invite_parent(&sandbox, &application.application_id)
        .await
        .expect("issued");
    let parent = verified_parent(&sandbox, PARENT_PHONE).await;
    let link = link_parent(&sandbox, &parent_invite.token, &parent)
        .await
        .expect("links");
    assert_eq!(
        link.child,
        LinkedChild {
            name: "Петров Иван".into(),
            class: "5А".into(),
            school: "МОБУ «СОШ № 1»".into(),
        }
    );
    assert_eq!(
        confirm_link(&sandbox, &link.link_id, true).await,
        Ok(LinkStatus::Linked)
    );
}
