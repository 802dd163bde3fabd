//! The registration service over HTTP (`service::http`) against a wiremock server on 127.0.0.1:
//! every endpoint's request and answer, every error code of the contract, the retry policy
//! (what is retried, with which key, after how long, and what never is), and whole
//! conversations through the engine with the service answering over HTTP.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Url;
use serde_json::{json, Value};
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, Request, ResponseTemplate};

use sferum_bot::backend::memory::MemoryStore;
use sferum_bot::clock::ManualClock;
use sferum_bot::domain::{ChildName, Email, InviteToken, Phone, VerificationCode};
use sferum_bot::runtime::Assistant;
use sferum_bot::service::http::{HttpConfig, HttpService, Secret};
use sferum_bot::service::{
    Address, Application, ApplicationState, ApplicationStatus, ClassInfo, Decision, Invite,
    IssuedInvite, LinkStatus, LinkedChild, OpKey, ParentLink, PendingApplication, Purpose,
    RegistrationService, Rejection, RejectionCode, ServiceError, Verification,
};

use super::helpers::{self, monday_morning};

const TOKEN: &str = "t0ken-for-tests";
const MAX_RETRIES: u32 = 2;
const STUDENT: i64 = 100;
const PARENT: i64 = 200;

// ----- set-up ---------------------------------------------------------------------------------

/// A configuration for `server`, under a path prefix, with small timeouts and backoff.
fn config(server: &MockServer) -> HttpConfig {
    HttpConfig {
        base_url: Url::parse(&format!("{}/api/", server.uri())).expect("the mock server's URL"),
        token: Secret::new(TOKEN),
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_millis(1000),
        max_retries: MAX_RETRIES,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
    }
}

pub(super) fn service(server: &MockServer) -> HttpService {
    HttpService::new(config(server)).expect("a client")
}

async fn setup() -> (MockServer, HttpService) {
    let server = MockServer::start().await;
    let service = service(&server);
    (server, service)
}

fn at(minutes: i64) -> DateTime<Utc> {
    monday_morning() + chrono::Duration::minutes(minutes)
}

fn rfc3339(minutes: i64) -> String {
    at(minutes).to_rfc3339()
}

fn token(raw: &str) -> InviteToken {
    InviteToken::parse(raw).expect("a token")
}

fn phone(raw: &str) -> Address {
    Address::Phone(Phone::parse(raw).expect("a phone"))
}

fn code(raw: &str) -> VerificationCode {
    VerificationCode::parse(raw, raw.len()).expect("a code")
}

fn child(raw: &str) -> ChildName {
    ChildName::parse(raw).expect("a name")
}

fn error(code: &str) -> Value {
    json!({"error": code, "message": "for the logs"})
}

async fn received(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .expect("request recording is on")
}

fn idempotency_key(request: &Request) -> Option<String> {
    request
        .headers
        .get("idempotency-key")
        .map(|v| v.to_str().expect("ASCII").to_owned())
}

/// The operations of the trait, with fixed arguments, for table-driven tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    ResolveInvite,
    CreateClassInvite,
    StartVerification,
    ResendCode,
    CheckCode,
    SubmitApplication,
    ApplicationState,
    PendingApplications,
    Decide,
    CreateParentInvite,
    CreateParentLink,
    ConfirmParentLink,
}

impl Op {
    const ALL: [Op; 12] = [
        Op::ResolveInvite,
        Op::CreateClassInvite,
        Op::StartVerification,
        Op::ResendCode,
        Op::CheckCode,
        Op::SubmitApplication,
        Op::ApplicationState,
        Op::PendingApplications,
        Op::Decide,
        Op::CreateParentInvite,
        Op::CreateParentLink,
        Op::ConfirmParentLink,
    ];

    /// The method and the path the operation is sent to, below the base URL's `/api` prefix.
    fn route(self) -> (&'static str, &'static str) {
        match self {
            Op::ResolveInvite => ("GET", "/api/v1/invites/inv-1"),
            Op::CreateClassInvite => ("POST", "/api/v1/classes/c-5a/invites"),
            Op::StartVerification => ("POST", "/api/v1/verifications"),
            Op::ResendCode => ("POST", "/api/v1/verifications/v-1/resend"),
            Op::CheckCode => ("POST", "/api/v1/verifications/v-1/check"),
            Op::SubmitApplication => ("POST", "/api/v1/applications"),
            Op::ApplicationState => ("GET", "/api/v1/applications/a-1"),
            Op::PendingApplications => ("GET", "/api/v1/teachers/t-7/applications"),
            Op::Decide => ("POST", "/api/v1/applications/a-1/decision"),
            Op::CreateParentInvite => ("POST", "/api/v1/applications/a-1/parent-invites"),
            Op::CreateParentLink => ("POST", "/api/v1/parent-links"),
            Op::ConfirmParentLink => ("POST", "/api/v1/parent-links/l-1/confirm"),
        }
    }

    fn mock(self) -> MockBuilder {
        let (m, p) = self.route();
        Mock::given(method(m)).and(path(p))
    }

    /// A success body the contract allows.
    fn success(self) -> (u16, Value) {
        match self {
            Op::ResolveInvite => (200, class_invite_json()),
            Op::CreateClassInvite | Op::CreateParentInvite => {
                (201, json!({"token": "tok-1", "expires_at": rfc3339(60)}))
            }
            Op::StartVerification | Op::ResendCode => (201, verification_json()),
            Op::CheckCode => (200, json!({"verified": true})),
            Op::SubmitApplication => (201, application_json()),
            Op::ApplicationState => (200, json!({"application_id": "a-1", "status": "approved"})),
            Op::PendingApplications => (200, json!({"applications": []})),
            Op::Decide => (200, json!({"status": "approved"})),
            Op::CreateParentLink => (201, parent_link_json()),
            Op::ConfirmParentLink => (200, json!({"status": "linked"})),
        }
    }

    async fn run(self, service: &HttpService) -> Result<(), ServiceError> {
        match self {
            Op::ResolveInvite => service.resolve_invite(&token("inv-1")).await.map(drop),
            Op::CreateClassInvite => service
                .create_class_invite(OpKey::random(), "c-5a", "t-7")
                .await
                .map(drop),
            Op::StartVerification => service
                .start_verification(
                    OpKey::random(),
                    &phone("+79123456789"),
                    Purpose::StudentRegistration,
                )
                .await
                .map(drop),
            Op::ResendCode => service.resend_code(OpKey::random(), "v-1").await.map(drop),
            Op::CheckCode => {
                service
                    .check_code(OpKey::random(), "v-1", &code("123456"))
                    .await
            }
            Op::SubmitApplication => service
                .submit_application(
                    OpKey::random(),
                    &token("inv-1"),
                    "v-1",
                    &child("Петров Иван Сергеевич"),
                )
                .await
                .map(drop),
            Op::ApplicationState => service.application_state("a-1").await.map(drop),
            Op::PendingApplications => service.pending_applications("t-7").await.map(drop),
            Op::Decide => service
                .decide(OpKey::random(), "a-1", "t-7", &Decision::Approve)
                .await
                .map(drop),
            Op::CreateParentInvite => service
                .create_parent_invite(OpKey::random(), "a-1")
                .await
                .map(drop),
            Op::CreateParentLink => service
                .create_parent_link(OpKey::random(), &token("inv-1"), "v-2")
                .await
                .map(drop),
            Op::ConfirmParentLink => service
                .confirm_parent_link(OpKey::random(), "l-1", true)
                .await
                .map(drop),
        }
    }
}

fn class_invite_json() -> Value {
    json!({
        "kind": "class",
        "class_id": "c-5a",
        "class": "5А",
        "school": "МОБУ «СОШ № 1»",
        "teacher_name": "Иванова Мария Петровна",
        "expires_at": rfc3339(7 * 24 * 60),
    })
}

fn verification_json() -> Value {
    json!({
        "verification_id": "v-1",
        "code_length": 6,
        "expires_at": rfc3339(10),
        "resend_after": rfc3339(1),
    })
}

fn application_json() -> Value {
    json!({
        "application_id": "a-1",
        "status": "pending",
        "class": "5А",
        "school": "МОБУ «СОШ № 1»",
        "teacher_id": "t-7",
    })
}

fn parent_link_json() -> Value {
    json!({
        "link_id": "l-1",
        "child": {"name": "Петров Иван", "class": "5А", "school": "МОБУ «СОШ № 1»"},
    })
}

fn expected_verification() -> Verification {
    Verification {
        verification_id: "v-1".into(),
        code_length: 6,
        expires_at: at(10),
        resend_after: at(1),
    }
}

// ----- every endpoint's success ---------------------------------------------------------------

#[tokio::test]
async fn an_invitation_resolves_to_its_kind_ignoring_unknown_fields() {
    let (server, service) = setup().await;
    let mut class = class_invite_json();
    class["colour"] = json!("green");
    let cases = [
        (
            "cls-1",
            class,
            Invite::Class {
                class_id: "c-5a".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
                teacher_name: "Иванова Мария Петровна".into(),
                expires_at: Some(at(7 * 24 * 60)),
            },
        ),
        (
            "cls-2",
            json!({"kind": "class", "class_id": "c-7b", "class": "7Б", "school": "Школа",
                   "teacher_name": "Учитель"}),
            Invite::Class {
                class_id: "c-7b".into(),
                class: "7Б".into(),
                school: "Школа".into(),
                teacher_name: "Учитель".into(),
                expires_at: None,
            },
        ),
        (
            "par-1",
            json!({"kind": "parent", "child_id": "s-123", "child_name": "Петров Иван",
                   "class": "5А", "school": "Школа", "expires_at": "2026-09-14T09:00:00+03:00"}),
            Invite::Parent {
                child_id: "s-123".into(),
                child_name: "Петров Иван".into(),
                class: "5А".into(),
                school: "Школа".into(),
                expires_at: Some(Utc.with_ymd_and_hms(2026, 9, 14, 6, 0, 0).unwrap()),
            },
        ),
        (
            "tch-1",
            json!({"kind": "teacher", "teacher_id": "t-7", "teacher_name": "Иванова",
                   "classes": [{"class_id": "c-5a", "class": "5А", "school": "Школа", "x": 1}]}),
            Invite::Teacher {
                teacher_id: "t-7".into(),
                teacher_name: "Иванова".into(),
                classes: vec![ClassInfo {
                    class_id: "c-5a".into(),
                    name: "5А".into(),
                    school: "Школа".into(),
                }],
            },
        ),
    ];
    for (raw, body, _) in &cases {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/invites/{raw}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    for (raw, _, expected) in cases {
        assert_eq!(
            service.resolve_invite(&token(raw)).await,
            Ok(expected),
            "{raw}"
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn a_teacher_creates_a_class_invitation() {
    let (server, service) = setup().await;
    Op::CreateClassInvite
        .mock()
        .and(body_json(json!({"teacher_id": "t-7"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"token": "New_tok-9", "expires_at": rfc3339(60)})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service
            .create_class_invite(OpKey::random(), "c-5a", "t-7")
            .await,
        Ok(IssuedInvite {
            token: token("New_tok-9"),
            expires_at: at(60),
        })
    );
    server.verify().await;
}

#[tokio::test]
async fn a_verification_starts_by_phone_or_email_with_its_purpose() {
    let (server, service) = setup().await;
    let email = Address::Email(Email::parse("ivan2015@mail.ru").expect("an email"));
    let cases = [
        (
            phone("8 912 345-67-89"),
            Purpose::StudentRegistration,
            json!({"channel": "phone", "address": "+79123456789", "purpose": "student_registration"}),
        ),
        (
            email,
            Purpose::StudentRegistration,
            json!({"channel": "email", "address": "ivan2015@mail.ru", "purpose": "student_registration"}),
        ),
        (
            phone("+7 922 111-22-33"),
            Purpose::ParentLink,
            json!({"channel": "phone", "address": "+79221112233", "purpose": "parent_link"}),
        ),
    ];
    for (_, _, body) in &cases {
        Op::StartVerification
            .mock()
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(201).set_body_json(verification_json()))
            .expect(1)
            .mount(&server)
            .await;
    }
    for (address, purpose, _) in &cases {
        assert_eq!(
            service
                .start_verification(OpKey::random(), address, *purpose)
                .await,
            Ok(expected_verification())
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn a_code_is_resent_with_an_empty_post() {
    let (server, service) = setup().await;
    Op::ResendCode
        .mock()
        .respond_with(ResponseTemplate::new(201).set_body_json(verification_json()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service.resend_code(OpKey::random(), "v-1").await,
        Ok(expected_verification())
    );
    let requests = received(&server).await;
    assert!(requests[0].body.is_empty(), "the contract names no body");
    server.verify().await;
}

#[tokio::test]
async fn a_code_is_checked() {
    let (server, service) = setup().await;
    Op::CheckCode
        .mock()
        .and(body_json(json!({"code": "012345"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service
            .check_code(OpKey::random(), "v-1", &code("012345"))
            .await,
        Ok(())
    );
    server.verify().await;
}

#[tokio::test]
async fn an_application_is_submitted_with_or_without_a_middle_name() {
    let (server, service) = setup().await;
    Op::SubmitApplication
        .mock()
        .and(body_json(json!({
            "invite_token": "inv-1",
            "verification_id": "v-1",
            "child": {"last_name": "Петров", "first_name": "Иван", "middle_name": "Сергеевич"},
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(application_json()))
        .expect(1)
        .mount(&server)
        .await;
    Op::SubmitApplication
        .mock()
        .and(body_json(json!({
            "invite_token": "inv-2",
            "verification_id": "v-2",
            "child": {"last_name": "Петрова", "first_name": "Анна"},
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(application_json()))
        .expect(1)
        .mount(&server)
        .await;
    let expected = Application {
        application_id: "a-1".into(),
        status: ApplicationStatus::Pending,
        class: "5А".into(),
        school: "МОБУ «СОШ № 1»".into(),
        teacher_id: "t-7".into(),
    };
    assert_eq!(
        service
            .submit_application(
                OpKey::random(),
                &token("inv-1"),
                "v-1",
                &child("петров иван сергеевич")
            )
            .await,
        Ok(expected.clone())
    );
    assert_eq!(
        service
            .submit_application(
                OpKey::random(),
                &token("inv-2"),
                "v-2",
                &child("Петрова Анна")
            )
            .await,
        Ok(expected)
    );
    server.verify().await;
}

#[tokio::test]
async fn an_applications_state_is_read() {
    let (server, service) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/applications/a-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"application_id": "a-1", "status": "pending"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/applications/a-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "application_id": "a-2", "status": "rejected", "reason": "не тот класс",
            "decided_at": rfc3339(30), "decided_by": "admin",
        })))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service.application_state("a-1").await,
        Ok(ApplicationState {
            application_id: "a-1".into(),
            status: ApplicationStatus::Pending,
            reason: None,
            decided_at: None,
        })
    );
    assert_eq!(
        service.application_state("a-2").await,
        Ok(ApplicationState {
            application_id: "a-2".into(),
            status: ApplicationStatus::Rejected,
            reason: Some("не тот класс".into()),
            decided_at: Some(at(30)),
        })
    );
    server.verify().await;
}

#[tokio::test]
async fn a_teacher_lists_pending_applications() {
    let (server, service) = setup().await;
    Op::PendingApplications
        .mock()
        .and(query_param("status", "pending"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"applications": [
            {"application_id": "a-1", "child_name": "Петров Иван", "class": "5А", "created_at": rfc3339(0)},
            {"application_id": "a-2", "child_name": "Сидорова Мария", "class": "7Б", "created_at": rfc3339(5)},
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service.pending_applications("t-7").await,
        Ok(vec![
            PendingApplication {
                application_id: "a-1".into(),
                child_name: "Петров Иван".into(),
                class: "5А".into(),
                created_at: at(0),
            },
            PendingApplication {
                application_id: "a-2".into(),
                child_name: "Сидорова Мария".into(),
                class: "7Б".into(),
                created_at: at(5),
            },
        ])
    );
    let requests = received(&server).await;
    assert_eq!(requests[0].url.query(), Some("status=pending"));
    server.verify().await;
}

#[tokio::test]
async fn a_teacher_decides_with_an_optional_reason() {
    let (server, service) = setup().await;
    let cases = [
        (
            Decision::Approve,
            json!({"teacher_id": "t-7", "decision": "approve"}),
            "approved",
            ApplicationStatus::Approved,
        ),
        (
            Decision::Reject {
                reason: Some("не тот класс".into()),
            },
            json!({"teacher_id": "t-7", "decision": "reject", "reason": "не тот класс"}),
            "rejected",
            ApplicationStatus::Rejected,
        ),
        (
            Decision::Reject { reason: None },
            json!({"teacher_id": "t-7", "decision": "reject"}),
            "rejected",
            ApplicationStatus::Rejected,
        ),
    ];
    for (_, body, status, _) in &cases {
        Op::Decide
            .mock()
            .and(body_json(body))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": status})))
            .expect(1)
            .mount(&server)
            .await;
    }
    for (decision, _, _, expected) in &cases {
        assert_eq!(
            service
                .decide(OpKey::random(), "a-1", "t-7", decision)
                .await,
            Ok(*expected)
        );
    }
    server.verify().await;
}

#[tokio::test]
async fn a_parent_invitation_is_created_with_an_empty_post() {
    let (server, service) = setup().await;
    Op::CreateParentInvite
        .mock()
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"token": "par-Tok_42", "expires_at": rfc3339(60)})),
        )
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        service.create_parent_invite(OpKey::random(), "a-1").await,
        Ok(IssuedInvite {
            token: token("par-Tok_42"),
            expires_at: at(60),
        })
    );
    assert!(received(&server).await[0].body.is_empty());
    server.verify().await;
}

#[tokio::test]
async fn a_parent_link_is_created_and_confirmed_or_cancelled() {
    let (server, service) = setup().await;
    Op::CreateParentLink
        .mock()
        .and(body_json(
            json!({"invite_token": "inv-1", "verification_id": "v-2"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(parent_link_json()))
        .expect(1)
        .mount(&server)
        .await;
    for (confirmed, status) in [(true, "linked"), (false, "cancelled")] {
        Op::ConfirmParentLink
            .mock()
            .and(body_json(json!({"confirmed": confirmed})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": status})))
            .expect(1)
            .mount(&server)
            .await;
    }
    assert_eq!(
        service
            .create_parent_link(OpKey::random(), &token("inv-1"), "v-2")
            .await,
        Ok(ParentLink {
            link_id: "l-1".into(),
            child: LinkedChild {
                name: "Петров Иван".into(),
                class: "5А".into(),
                school: "МОБУ «СОШ № 1»".into(),
            },
        })
    );
    assert_eq!(
        service
            .confirm_parent_link(OpKey::random(), "l-1", true)
            .await,
        Ok(LinkStatus::Linked)
    );
    assert_eq!(
        service
            .confirm_parent_link(OpKey::random(), "l-1", false)
            .await,
        Ok(LinkStatus::Cancelled)
    );
    server.verify().await;
}

#[tokio::test]
async fn every_endpoint_is_reached_below_the_base_path() {
    let (server, service) = setup().await;
    for op in Op::ALL {
        let (status, body) = op.success();
        op.mock()
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    for op in Op::ALL {
        assert_eq!(op.run(&service).await, Ok(()), "{op:?}");
    }
    server.verify().await;
}

// ----- headers --------------------------------------------------------------------------------

#[tokio::test]
async fn every_request_is_authorised_and_every_post_alone_carries_a_fresh_key() {
    let (server, service) = setup().await;
    for op in Op::ALL {
        let (status, body) = op.success();
        op.mock()
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .mount(&server)
            .await;
    }
    for op in Op::ALL {
        op.run(&service).await.expect("a success");
    }
    // Twice the same operation: two logical operations, two keys.
    Op::StartVerification
        .run(&service)
        .await
        .expect("a success");

    let requests = received(&server).await;
    assert_eq!(requests.len(), Op::ALL.len() + 1);
    let mut keys = Vec::new();
    for request in &requests {
        let name = format!("{} {}", request.method, request.url.path());
        let header = |h: &str| request.headers.get(h).and_then(|v| v.to_str().ok());
        assert_eq!(
            header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{name}"
        );
        assert_eq!(header("accept"), Some("application/json"), "{name}");
        if request.method.as_str() == "POST" {
            let key = idempotency_key(request).unwrap_or_else(|| panic!("no key on {name}"));
            let uuid = uuid::Uuid::parse_str(&key).expect("a UUID");
            assert_eq!(uuid.get_version_num(), 4, "{name}");
            keys.push(key);
            if request.body.is_empty() {
                assert_eq!(header("content-type"), None, "{name}");
            } else {
                assert_eq!(header("content-type"), Some("application/json"), "{name}");
                serde_json::from_slice::<Value>(&request.body).expect("a JSON body");
            }
        } else {
            assert_eq!(idempotency_key(request), None, "{name}");
            assert!(request.body.is_empty(), "{name}");
        }
    }
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "one key per logical operation");
}

// ----- every error code of the contract --------------------------------------------------------

#[tokio::test]
async fn every_error_code_becomes_its_rejection_without_a_retry() {
    use Rejection as R;
    let cases: Vec<(Op, u16, Value, Option<&str>, Rejection)> = vec![
        (
            Op::ResolveInvite,
            404,
            error("invite_not_found"),
            None,
            R::InviteNotFound,
        ),
        (
            Op::ResolveInvite,
            410,
            error("invite_expired"),
            None,
            R::InviteExpired,
        ),
        (
            Op::ResolveInvite,
            409,
            error("invite_used"),
            None,
            R::InviteUsed,
        ),
        (
            Op::CreateClassInvite,
            403,
            error("not_class_teacher"),
            None,
            R::NotClassTeacher,
        ),
        (
            Op::StartVerification,
            422,
            error("invalid_address"),
            None,
            R::InvalidAddress,
        ),
        (
            Op::StartVerification,
            409,
            error("address_already_registered"),
            None,
            R::AddressAlreadyRegistered,
        ),
        (
            Op::StartVerification,
            409,
            error("address_registered_as_child"),
            None,
            R::AddressRegisteredAsChild,
        ),
        (
            Op::StartVerification,
            422,
            error("channel_not_allowed"),
            None,
            R::ChannelNotAllowed,
        ),
        (
            Op::StartVerification,
            429,
            error("too_many_requests"),
            Some("120"),
            R::TooManyRequests {
                retry_after_secs: 120,
            },
        ),
        (
            Op::StartVerification,
            429,
            error("too_many_requests"),
            None,
            R::TooManyRequests {
                retry_after_secs: 60,
            },
        ),
        (
            Op::ResendCode,
            429,
            error("too_early"),
            Some("45"),
            R::TooEarly {
                retry_after_secs: 45,
            },
        ),
        (
            Op::ResendCode,
            429,
            error("too_early"),
            Some("soon"),
            R::TooEarly {
                retry_after_secs: 60,
            },
        ),
        (
            Op::CheckCode,
            422,
            json!({"error": "wrong_code", "message": "no", "attempts_left": 2}),
            None,
            R::WrongCode { attempts_left: 2 },
        ),
        (
            Op::CheckCode,
            422,
            json!({"error": "wrong_code", "attempts_left": 0}),
            None,
            R::WrongCode { attempts_left: 0 },
        ),
        (
            Op::CheckCode,
            410,
            error("verification_expired"),
            None,
            R::VerificationExpired,
        ),
        (
            Op::CheckCode,
            429,
            error("too_many_attempts"),
            Some("600"),
            R::TooManyAttempts,
        ),
        (
            Op::SubmitApplication,
            409,
            error("verification_not_completed"),
            None,
            R::VerificationNotCompleted,
        ),
        (
            Op::SubmitApplication,
            410,
            error("invite_expired"),
            None,
            R::InviteExpired,
        ),
        (
            Op::SubmitApplication,
            409,
            error("invite_used"),
            None,
            R::InviteUsed,
        ),
        (
            Op::SubmitApplication,
            422,
            error("invalid_child"),
            None,
            R::InvalidChild,
        ),
        (
            Op::ApplicationState,
            404,
            error("application_not_found"),
            None,
            R::ApplicationNotFound,
        ),
        (
            Op::Decide,
            403,
            error("not_class_teacher"),
            None,
            R::NotClassTeacher,
        ),
        (
            Op::Decide,
            409,
            json!({"error": "already_decided", "message": "m", "status": "rejected"}),
            None,
            R::AlreadyDecided {
                status: ApplicationStatus::Rejected,
            },
        ),
        (
            Op::Decide,
            409,
            json!({"error": "already_decided", "status": "approved"}),
            None,
            R::AlreadyDecided {
                status: ApplicationStatus::Approved,
            },
        ),
        (
            Op::CreateParentInvite,
            409,
            error("application_not_approved"),
            None,
            R::ApplicationNotApproved,
        ),
        (
            Op::CreateParentLink,
            409,
            error("verification_not_completed"),
            None,
            R::VerificationNotCompleted,
        ),
        (
            Op::CreateParentLink,
            410,
            error("invite_expired"),
            None,
            R::InviteExpired,
        ),
        (
            Op::CreateParentLink,
            409,
            error("invite_used"),
            None,
            R::InviteUsed,
        ),
    ];
    let covered: std::collections::HashSet<RejectionCode> =
        cases.iter().map(|c| c.4.kind()).collect();
    for code in RejectionCode::ALL {
        assert!(covered.contains(code), "{code:?} is not tested");
    }
    for (op, status, body, retry_after, expected) in cases {
        let (server, service) = setup().await;
        let mut response = ResponseTemplate::new(status).set_body_json(&body);
        if let Some(secs) = retry_after {
            response = response.insert_header("Retry-After", secs);
        }
        op.mock()
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        assert_eq!(
            op.run(&service).await,
            Err(ServiceError::Rejected(expected)),
            "{op:?} {status} {body}"
        );
        server.verify().await;
    }
}

// ----- answers outside the contract ------------------------------------------------------------

#[tokio::test]
async fn a_malformed_success_is_a_protocol_error_without_a_retry() {
    let cases: Vec<(Op, u16, &str)> = vec![
        (Op::ResolveInvite, 200, "not json"),
        (Op::ResolveInvite, 200, ""),
        (
            Op::ResolveInvite,
            200,
            r#"{"kind": "robot", "class": "5А"}"#,
        ),
        (
            Op::ResolveInvite,
            200,
            r#"{"kind": "class", "class_id": "c-5a"}"#,
        ),
        (
            Op::ResolveInvite,
            200,
            r#"{"class_id": "c-5a", "class": "5А", "school": "Ш", "teacher_name": "У"}"#,
        ),
        (
            Op::StartVerification,
            201,
            r#"{"verification_id": "v-1", "code_length": 0, "expires_at": "2026-09-07T06:10:00Z", "resend_after": "2026-09-07T06:01:00Z"}"#,
        ),
        (
            Op::StartVerification,
            201,
            r#"{"verification_id": "v-1", "code_length": 6, "expires_at": "tomorrow", "resend_after": "2026-09-07T06:01:00Z"}"#,
        ),
        (
            Op::CreateParentInvite,
            201,
            r#"{"token": "has space", "expires_at": "2026-09-07T06:10:00Z"}"#,
        ),
        (Op::CheckCode, 200, r#"{"verified": false}"#),
        (Op::CheckCode, 200, r#"{"verified": "yes"}"#),
        (
            Op::ApplicationState,
            200,
            r#"{"application_id": "a-1", "status": "maybe"}"#,
        ),
        (Op::PendingApplications, 200, r#"[]"#),
        (Op::Decide, 200, r#"{"status": "pending"}"#),
        (Op::ConfirmParentLink, 200, r#"{}"#),
        (Op::CreateParentLink, 201, r#"{"link_id": "l-1"}"#),
    ];
    for (op, status, body) in cases {
        let (server, service) = setup().await;
        op.mock()
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        let result = op.run(&service).await;
        assert!(
            matches!(result, Err(ServiceError::Protocol(_))),
            "{op:?} {body}: {result:?}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn an_answer_outside_the_contract_is_a_protocol_error_without_a_retry() {
    let cases: Vec<(Op, u16, Option<Value>)> = vec![
        (Op::ResolveInvite, 500, Some(error("internal"))),
        (Op::ResolveInvite, 500, None),
        (Op::StartVerification, 500, None),
        (Op::ResolveInvite, 401, None),
        (Op::ResolveInvite, 404, None),
        (Op::CheckCode, 422, Some(error("code_looks_odd"))),
        (Op::ResolveInvite, 404, Some(error("invite_expired"))),
        (Op::CheckCode, 422, Some(error("wrong_code"))),
        (
            Op::CheckCode,
            422,
            Some(json!({"error": "wrong_code", "attempts_left": -1})),
        ),
        (Op::Decide, 409, Some(error("already_decided"))),
        (
            Op::Decide,
            409,
            Some(json!({"error": "already_decided", "status": "pending"})),
        ),
        (Op::StartVerification, 429, Some(error("invalid_address"))),
        (
            Op::StartVerification,
            400,
            Some(json!({"message": "no code"})),
        ),
    ];
    for (op, status, body) in cases {
        let (server, service) = setup().await;
        let mut response = ResponseTemplate::new(status);
        if let Some(body) = &body {
            response = response.set_body_json(body);
        }
        op.mock()
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let result = op.run(&service).await;
        assert!(
            matches!(result, Err(ServiceError::Protocol(_))),
            "{op:?} {status} {body:?}: {result:?}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (server, service) = setup().await;
    Op::ResolveInvite
        .mock()
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("Location", format!("{}/elsewhere", server.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200).set_body_json(class_invite_json()))
        .expect(0)
        .mount(&server)
        .await;
    assert!(matches!(
        Op::ResolveInvite.run(&service).await,
        Err(ServiceError::Protocol(_))
    ));
    server.verify().await;
}

// ----- retries --------------------------------------------------------------------------------

#[tokio::test]
async fn a_503_then_a_success_is_retried_with_the_same_idempotency_key() {
    let (server, service) = setup().await;
    let body =
        json!({"channel": "phone", "address": "+79123456789", "purpose": "student_registration"});
    Op::StartVerification
        .mock()
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Op::StartVerification
        .mock()
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(201).set_body_json(verification_json()))
        .expect(1)
        .mount(&server)
        .await;
    let key = OpKey::derive("42", 7, 3, 0);
    assert_eq!(
        service
            .start_verification(key, &phone("+79123456789"), Purpose::StudentRegistration)
            .await,
        Ok(expected_verification())
    );
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    let first = idempotency_key(&requests[0]).expect("a key");
    assert_eq!(first, key.as_uuid().to_string(), "the caller's key");
    assert_eq!(idempotency_key(&requests[1]), Some(first), "the same key");
    assert_eq!(requests[0].body, requests[1].body, "the same body");
    server.verify().await;
}

#[tokio::test]
async fn transient_statuses_are_retried_for_gets_and_posts() {
    let transient: Vec<(u16, Option<Value>)> = vec![
        (429, None),
        (429, Some(json!({"error": "rate_limited"}))),
        (502, None),
        (503, Some(error("invite_not_found"))),
        (504, None),
    ];
    for op in [Op::ResolveInvite, Op::CheckCode, Op::CreateParentInvite] {
        for (status, body) in &transient {
            let (server, service) = setup().await;
            let mut response = ResponseTemplate::new(*status);
            if let Some(body) = body {
                response = response.set_body_json(body);
            }
            op.mock()
                .respond_with(response)
                .up_to_n_times(2)
                .with_priority(1)
                .expect(2)
                .mount(&server)
                .await;
            let (ok, ok_body) = op.success();
            op.mock()
                .respond_with(ResponseTemplate::new(ok).set_body_json(ok_body))
                .expect(1)
                .mount(&server)
                .await;
            assert_eq!(op.run(&service).await, Ok(()), "{op:?} {status} {body:?}");
            server.verify().await;
            let keys: Vec<_> = received(&server)
                .await
                .iter()
                .map(idempotency_key)
                .collect();
            assert!(keys.windows(2).all(|w| w[0] == w[1]), "{op:?}: {keys:?}");
        }
    }
}

#[tokio::test]
async fn a_service_that_stays_down_is_unavailable_after_bounded_attempts() {
    for status in [502, 503, 504, 429] {
        let (server, service) = setup().await;
        Op::SubmitApplication
            .mock()
            .respond_with(ResponseTemplate::new(status))
            .expect(u64::from(MAX_RETRIES) + 1)
            .mount(&server)
            .await;
        let result = Op::SubmitApplication.run(&service).await;
        assert!(
            matches!(result, Err(ServiceError::Unavailable(_))),
            "{status}: {result:?}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn retry_after_is_honoured_before_the_next_attempt() {
    let (server, service) = setup().await;
    let seen: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let log = seen.clone();
    Op::CreateParentLink
        .mock()
        .respond_with(move |_: &Request| {
            let mut seen = log.lock().expect("not poisoned");
            seen.push(Instant::now());
            if seen.len() == 1 {
                ResponseTemplate::new(503).insert_header("Retry-After", "1")
            } else {
                ResponseTemplate::new(201).set_body_json(parent_link_json())
            }
        })
        .expect(2)
        .mount(&server)
        .await;
    assert_eq!(Op::CreateParentLink.run(&service).await, Ok(()));
    let seen = seen.lock().expect("not poisoned").clone();
    let gap = seen[1] - seen[0];
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(3), "retried after {gap:?}");
    server.verify().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_the_retries_at_once() {
    let (server, service) = setup().await;
    Op::ResolveInvite
        .mock()
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "120"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let result = Op::ResolveInvite.run(&service).await;
    assert!(
        matches!(result, Err(ServiceError::Unavailable(_))),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    server.verify().await;
}

#[tokio::test]
async fn a_timeout_is_retried_a_bounded_number_of_times_then_unavailable() {
    let server = MockServer::start().await;
    let service = HttpService::new(HttpConfig {
        request_timeout: Duration::from_millis(200),
        ..config(&server)
    })
    .expect("a client");
    Op::CheckCode
        .mock()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"verified": true}))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(u64::from(MAX_RETRIES) + 1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let result = Op::CheckCode.run(&service).await;
    assert!(
        matches!(result, Err(ServiceError::Unavailable(_))),
        "{result:?}"
    );
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(600), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    let keys: Vec<_> = received(&server)
        .await
        .iter()
        .map(idempotency_key)
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(
        keys[0].is_some() && keys.windows(2).all(|w| w[0] == w[1]),
        "{keys:?}"
    );
    server.verify().await;
}

#[tokio::test]
async fn a_slow_first_attempt_is_retried_and_the_second_answers() {
    let server = MockServer::start().await;
    let service = HttpService::new(HttpConfig {
        request_timeout: Duration::from_millis(200),
        ..config(&server)
    })
    .expect("a client");
    Op::SubmitApplication
        .mock()
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(application_json())
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Op::SubmitApplication
        .mock()
        .respond_with(ResponseTemplate::new(201).set_body_json(application_json()))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(Op::SubmitApplication.run(&service).await, Ok(()));
    let requests = received(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(idempotency_key(&requests[0]), idempotency_key(&requests[1]));
    server.verify().await;
}

#[tokio::test]
async fn an_unreachable_service_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    let service = HttpService::new(HttpConfig {
        connect_timeout: Duration::from_millis(200),
        request_timeout: Duration::from_millis(500),
        max_retries: 1,
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_millis(10),
        ..HttpConfig::new(
            Url::parse(&format!("http://127.0.0.1:{port}/")).expect("a URL"),
            Secret::new(TOKEN),
        )
    })
    .expect("a client");
    let result = service.resolve_invite(&token("inv-1")).await;
    assert!(
        matches!(result, Err(ServiceError::Unavailable(_))),
        "{result:?}"
    );
}

// ----- logs ------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_templates_and_statuses_but_no_personal_data_or_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("sferum_bot=trace"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);

    let (server, service) = setup().await;
    Op::StartVerification
        .mock()
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Op::StartVerification
        .mock()
        .respond_with(ResponseTemplate::new(409).set_body_json(
            json!({"error": "address_already_registered", "message": "+79123456789 is taken"}),
        ))
        .mount(&server)
        .await;
    Op::CheckCode
        .mock()
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"verified": "987654"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    Op::SubmitApplication
        .mock()
        .respond_with(
            ResponseTemplate::new(422).set_body_json(json!({"error": "Петров не подходит"})),
        )
        .mount(&server)
        .await;
    let _ = service
        .start_verification(
            OpKey::random(),
            &phone("+79123456789"),
            Purpose::StudentRegistration,
        )
        .await;
    let checked = service
        .check_code(OpKey::random(), "v-1", &code("987654"))
        .await;
    let submitted = service
        .submit_application(
            OpKey::random(),
            &token("inv-1"),
            "v-1",
            &child("Петров Иван"),
        )
        .await
        .map(drop);
    drop(guard);

    let logs = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8");
    assert!(logs.contains("/v1/verifications"), "{logs}");
    assert!(logs.contains("status=503"), "{logs}");
    assert!(logs.contains("address_already_registered"), "{logs}");
    for secret in ["79123456789", "987654", "Петров", TOKEN] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }
    for error in [checked, submitted] {
        let shown = format!("{:?} {}", error, error.clone().expect_err("an error"));
        for secret in ["987654", "Петров"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

// ----- whole conversations through the engine --------------------------------------------------

fn http_bot(server: &MockServer) -> Assistant {
    Assistant::new(
        helpers::engine(),
        Arc::new(service(server)),
        Arc::new(MemoryStore::new()),
        Arc::new(ManualClock::new(monday_morning())),
    )
}

/// The service's answers along a student's Variant 1, the parent invitation issuing `parent_token`.
pub(super) fn variant1_mocks(parent_token: &str) -> Vec<Mock> {
    vec![
        Mock::given(method("GET"))
            .and(path("/api/v1/invites/cls-5a"))
            .respond_with(ResponseTemplate::new(200).set_body_json(class_invite_json())),
        Mock::given(method("POST"))
            .and(path("/api/v1/verifications"))
            .and(body_json(json!({
                "channel": "phone", "address": "+79123456789", "purpose": "student_registration",
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(verification_json())),
        Mock::given(method("POST"))
            .and(path("/api/v1/verifications/v-1/check"))
            .and(body_json(json!({"code": "123456"})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"verified": true}))),
        Mock::given(method("POST"))
            .and(path("/api/v1/applications"))
            .and(body_json(json!({
                "invite_token": "cls-5a",
                "verification_id": "v-1",
                "child": {"last_name": "Петров", "first_name": "Иван", "middle_name": "Сергеевич"},
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(application_json())),
        Mock::given(method("GET"))
            .and(path("/api/v1/applications/a-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "application_id": "a-1", "status": "approved", "decided_at": rfc3339(5),
            }))),
        Mock::given(method("POST"))
            .and(path("/api/v1/applications/a-1/parent-invites"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(
                    json!({"token": parent_token, "expires_at": rfc3339(7 * 24 * 60)}),
                ),
            ),
    ]
}

pub(super) async fn mount_variant1(server: &MockServer) {
    for mock in variant1_mocks("par-Tok_42") {
        mock.mount(server).await;
    }
}

/// A parent invitation `par-tok` for the child «Петров Иван».
pub(super) async fn mount_parent_invite(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v1/invites/par-tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "parent", "child_id": "s-123", "child_name": "Петров Иван", "class": "5А",
            "school": "МОБУ «СОШ № 1»", "expires_at": rfc3339(60),
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_full_variant1_conversation_runs_against_the_http_service() {
    let server = MockServer::start().await;
    for mock in variant1_mocks("par-Tok_42") {
        mock.expect(1).mount(&server).await;
    }
    let bot = http_bot(&server);
    let mut chat = helpers::transcript(&bot, STUDENT);
    chat.send("/start cls-5a").await;
    chat.press("Войти в аккаунт").await;
    chat.send("8 (912) 345-67-89").await;
    chat.press("Да, это ребёнка").await;
    chat.send("123456").await;
    chat.send("петров иван сергеевич").await;
    chat.press("Отправить заявку").await;
    chat.press("Проверить статус заявки").await;
    chat.press("Пригласить родителя").await;
    assert_eq!(chat.at, "variant1/parent_invite", "{}", chat.text());
    let link = chat
        .last_text()
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("https://t.me/sferum_bot?start=")
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no invitation link in:\n{}", chat.text()));
    assert_eq!(link, "par-Tok_42");
    assert_eq!(
        chat.seeds,
        ["V1.1", "V1.2", "R1", "V1.3", "V1.4", "V1.5", "V1.6"]
    );
    server.verify().await;
}

#[tokio::test]
async fn a_wrong_code_from_the_service_says_how_many_attempts_are_left() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/verifications/v-1/check"))
        .and(body_json(json!({"code": "111111"})))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"error": "wrong_code", "message": "m", "attempts_left": 2})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_variant1(&server).await;
    let bot = http_bot(&server);
    let mut chat = helpers::transcript(&bot, STUDENT);
    chat.send("/start cls-5a").await;
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    chat.press("Да, это ребёнка").await;
    chat.send("111111").await;
    assert!(
        chat.last_text().contains("Осталось 2 попытки"),
        "{}",
        chat.text()
    );
    assert_eq!(chat.at, "variant1/code");
    chat.send("123456").await;
    assert_eq!(chat.at, "variant1/name");
    server.verify().await;
}

#[tokio::test]
async fn an_expired_invitation_asks_the_teacher_for_a_new_link() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/invites/old-link"))
        .respond_with(ResponseTemplate::new(410).set_body_json(error("invite_expired")))
        .expect(1)
        .mount(&server)
        .await;
    let bot = http_bot(&server);
    let mut chat = helpers::transcript(&bot, STUDENT);
    chat.send("/start old-link").await;
    assert!(chat.text().contains("новую ссылку"), "{}", chat.text());
    assert_eq!(chat.at, "menu/start");
    server.verify().await;
}

#[tokio::test]
async fn a_parent_phone_registered_as_a_childs_explains_the_r3_case() {
    let server = MockServer::start().await;
    mount_parent_invite(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/verifications"))
        .and(body_json(json!({
            "channel": "phone", "address": "+79123456789", "purpose": "parent_link",
        })))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(error("address_registered_as_child")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let bot = http_bot(&server);
    let mut parent = helpers::transcript(&bot, PARENT);
    parent.send("/start par-tok").await;
    assert_eq!(parent.at, "parent/welcome", "{}", parent.text());
    parent.send("+7 912 345-67-89").await;
    assert_eq!(parent.at, "parent/registered_as_child", "{}", parent.text());
    assert!(parent.text().contains("уже указан в аккаунте ребёнка"));
    assert!(parent.seeds.contains(&"R3".to_owned()));
    server.verify().await;
}

#[tokio::test]
async fn a_channel_the_service_does_not_allow_is_explained() {
    let server = MockServer::start().await;
    mount_parent_invite(&server).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/verifications"))
        .respond_with(ResponseTemplate::new(422).set_body_json(error("channel_not_allowed")))
        .expect(1)
        .mount(&server)
        .await;
    let bot = http_bot(&server);
    let mut parent = helpers::transcript(&bot, PARENT);
    parent.send("/start par-tok").await;
    parent.send("+7 922 111-22-33").await;
    assert!(
        parent
            .last_text()
            .contains("Родители регистрируются только по номеру телефона"),
        "{}",
        parent.text()
    );
    assert_eq!(parent.at, "parent/welcome");
    server.verify().await;
}

#[tokio::test]
async fn too_many_code_requests_name_the_wait_in_minutes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/verifications"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(error("too_many_requests"))
                .insert_header("Retry-After", "300"),
        )
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_variant1(&server).await;
    let bot = http_bot(&server);
    let mut chat = helpers::transcript(&bot, STUDENT);
    chat.send("/start cls-5a").await;
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    chat.press("Да, это ребёнка").await;
    assert!(chat.text().contains("5 минут"), "{}", chat.text());
    assert_eq!(chat.at, "variant1/contact");
    server.verify().await;
}

#[tokio::test]
async fn a_service_that_stays_down_keeps_the_user_on_the_step_with_their_answers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/applications"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(u64::from(MAX_RETRIES) + 1)
        .with_priority(1)
        .expect(u64::from(MAX_RETRIES) + 1)
        .mount(&server)
        .await;
    mount_variant1(&server).await;
    let bot = http_bot(&server);
    let mut chat = helpers::transcript(&bot, STUDENT);
    chat.send("/start cls-5a").await;
    chat.press("Войти в аккаунт").await;
    chat.send("+79123456789").await;
    chat.press("Да, это ребёнка").await;
    chat.send("123456").await;
    chat.send("петров иван сергеевич").await;
    assert_eq!(chat.at, "variant1/confirm_application");
    chat.press("Отправить заявку").await;
    assert!(
        chat.last_text()
            .contains("Сервис регистрации сейчас не отвечает"),
        "{}",
        chat.text()
    );
    assert_eq!(chat.at, "variant1/confirm_application", "{}", chat.text());
    assert!(
        chat.last_text().contains("Петров Иван Сергеевич"),
        "the answers are kept:\n{}",
        chat.text()
    );
    let attempts = received(&server).await;
    let keys: Vec<_> = attempts
        .iter()
        .filter(|r| r.url.path() == "/api/v1/applications")
        .map(idempotency_key)
        .collect();
    assert_eq!(keys.len(), MAX_RETRIES as usize + 1);
    assert!(keys.windows(2).all(|w| w[0] == w[1]), "{keys:?}");

    // The service is back: the same button carries on from there.
    chat.press("Отправить заявку").await;
    assert_eq!(chat.at, "variant1/submitted", "{}", chat.text());
    server.verify().await;
}
