//! Unit tests of the HTTP client's own logic: joining paths below the base URL, refusing unusable
//! configurations, the backoff, and the status every contract code must come with.

use super::answers::rejection;
use super::wire::ErrorBody;
use super::*;
use crate::service::RejectionCode;

fn service(base: &str) -> HttpService {
    let url = Url::parse(base).expect("a URL");
    HttpService::new(HttpConfig::new(url, Secret::new("t0ken"))).expect("a client")
}

#[test]
fn paths_join_below_the_base_with_or_without_a_trailing_slash() {
    for (base, expected) in [
        ("http://127.0.0.1:1", "http://127.0.0.1:1/v1/invites/a-b"),
        ("http://127.0.0.1:1/", "http://127.0.0.1:1/v1/invites/a-b"),
        (
            "http://127.0.0.1:1/api",
            "http://127.0.0.1:1/api/v1/invites/a-b",
        ),
        (
            "http://127.0.0.1:1/api/",
            "http://127.0.0.1:1/api/v1/invites/a-b",
        ),
    ] {
        let url = service(base)
            .url(&["v1", "invites", "a-b"], None)
            .expect("joins");
        assert_eq!(url.as_str(), expected, "{base}");
    }
}

#[test]
fn identifiers_stay_one_segment() {
    let s = service("http://127.0.0.1:1/api/");
    let url = s
        .url(
            &["v1", "applications", "a/../b?c#d"],
            Some(("status", "pending")),
        )
        .expect("joins");
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:1/api/v1/applications/a%2F..%2Fb%3Fc%23d?status=pending"
    );
    for bad in ["", ".", ".."] {
        assert!(matches!(
            s.url(&["v1", "applications", bad], None),
            Err(ServiceError::Protocol(_))
        ));
    }
}

#[test]
fn unusable_base_urls_and_tokens_are_refused() {
    for base in [
        "ftp://host/",
        "mailto:someone@example.ru",
        "http://host/?a=b",
        "http://host/#x",
        "http://user:pw@host/",
    ] {
        let url = Url::parse(base).expect("a URL");
        assert!(
            HttpService::new(HttpConfig::new(url, Secret::new("t"))).is_err(),
            "{base}"
        );
    }
    let url = Url::parse("http://host/").expect("a URL");
    assert!(HttpService::new(HttpConfig::new(url, Secret::new("a\nb"))).is_err());
}

#[test]
fn the_token_never_prints() {
    let config = HttpConfig::new(
        Url::parse("http://host/").expect("a URL"),
        Secret::new("very-secret"),
    );
    let shown = format!("{config:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(shown.contains("***"));
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap() {
    let mut s = service("http://127.0.0.1:1/");
    s.backoff_base = Duration::from_millis(100);
    s.backoff_max = Duration::from_millis(350);
    for _ in 0..50 {
        let first = s.backoff(0);
        assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&first));
        let second = s.backoff(1);
        assert!((Duration::from_millis(100)..=Duration::from_millis(200)).contains(&second));
        let capped = s.backoff(40);
        assert!((Duration::from_millis(175)..=Duration::from_millis(350)).contains(&capped));
    }
}

#[test]
fn every_contract_code_has_a_status_and_a_rejection() {
    for code in RejectionCode::ALL {
        let body = ErrorBody {
            error: code.code().to_owned(),
            attempts_left: Some(1),
            status: Some("approved".to_owned()),
        };
        let accepted = [403, 404, 409, 410, 422, 429]
            .into_iter()
            .filter_map(|status| rejection(status, &body, None).ok())
            .collect::<Vec<_>>();
        assert_eq!(accepted.len(), 1, "{code:?}");
        assert_eq!(accepted[0].kind(), *code);
    }
}
