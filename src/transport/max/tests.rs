//! Tests of the MAX client against a local `wiremock` server, with JSON written from the
//! official schema's field names and the official Go client's recorded answers.

use std::time::Duration;

use reqwest::Url;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::client::{MaxClient, MaxError, To, TEXT_LIMIT};
use super::wire::{
    vcf_phone, Attachment, AttachmentRequest, Button, ImageToken, Keyboard, NewMessageBody, Update,
};
use crate::transport::split_text;

const TOKEN: &str = "f9LHodD0cOJf4_DkJGeq8BkDgc5vgSwZ";

fn client(server: &MockServer) -> MaxClient {
    let url = Url::parse(&server.uri()).expect("the mock server's URI is a URL");
    MaxClient::new(url, TOKEN.into())
        .expect("the client builds")
        .with_backoff_base(Duration::from_millis(1))
}

fn sent_message() -> serde_json::Value {
    json!({"message": {
        "recipient": {"chat_id": 182182182, "chat_type": "dialog", "user_id": 123456789},
        "timestamp": 1775026671403i64,
        "body": {"mid": "mid.000000000adf429c", "seq": 116328147937082782i64, "text": "Привет"}
    }})
}

fn user(id: i64, name: &str) -> serde_json::Value {
    json!({"user_id": id, "first_name": name, "last_name": null, "is_bot": false,
           "last_activity_time": 1775026693000i64, "name": name})
}

#[tokio::test]
async fn the_token_goes_bare_in_the_authorization_header_and_never_in_the_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/updates"))
        .and(header("Authorization", TOKEN))
        .and(query_param_is_missing("access_token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"updates": [], "marker": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .get_updates(None, 0, &[])
        .await
        .expect("polled");
    assert!(list.updates.is_empty());
    assert_eq!(list.marker, None);
    let requests = server.received_requests().await.expect("recorded");
    assert!(!requests[0].url.as_str().contains(TOKEN));
    let auth = requests[0].headers.get("authorization").expect("sent");
    assert_eq!(auth.to_str().ok(), Some(TOKEN));
}

#[tokio::test]
async fn the_three_kinds_parse_and_unknown_or_broken_updates_do_not_fail_the_poll() {
    let server = MockServer::start().await;
    let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Анна Петрова\r\nTEL;TYPE=cell:+7 (916) 123-45-67\r\nEND:VCARD\r\n";
    let answer = json!({
        "updates": [
            {"update_type": "message_created", "timestamp": 1775025604499i64, "user_locale": "ru",
             "message": {
                "sender": user(123456789, "Анна"),
                "recipient": {"chat_id": 182182182, "chat_type": "dialog", "user_id": 229229229},
                "timestamp": 1775053255737i64,
                "body": {"mid": "mid.ffffbdb48e6c3775", "seq": 116327994376978687i64, "text": null,
                         "attachments": [
                            {"type": "contact", "payload": {"vcf_info": vcf, "hash": null,
                                                            "max_info": user(123456789, "Анна")}},
                            {"type": "sticker", "payload": {"url": "https://i.oneme.ru/s.webp", "code": "x"}}
                         ]}}},
            {"update_type": "message_callback", "timestamp": 1775025604499i64, "user_locale": "ru",
             "callback": {"timestamp": 1775026702210i64, "callback_id": "f9LHodD0cOJf4_Dk",
                          "payload": "3:1", "user": user(123456789, "Анна")},
             "message": null},
            {"update_type": "bot_started", "timestamp": 1775025604499i64, "chat_id": 182182182,
             "user": user(123456789, "Анна"), "payload": "invite-AbC_12", "user_locale": "ru"},
            {"update_type": "dialog_muted", "timestamp": 1775025604499i64, "chat_id": 182182182,
             "user": user(123456789, "Анна"), "muted_until": 1775125604499i64},
            {"update_type": "message_created", "timestamp": 1775025604499i64}
        ],
        "marker": 25493970
    });
    Mock::given(method("GET"))
        .and(path("/updates"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    let list = client(&server)
        .get_updates(None, 0, &[])
        .await
        .expect("polled");
    assert_eq!(list.marker, Some(25493970));
    assert_eq!(list.updates.len(), 5);

    let Update::MessageCreated {
        message,
        user_locale,
        ..
    } = &list.updates[0]
    else {
        panic!("not a message: {:?}", list.updates[0]);
    };
    assert_eq!(user_locale.as_deref(), Some("ru"));
    assert_eq!(message.recipient.chat_id, Some(182182182));
    assert_eq!(message.recipient.chat_type, "dialog");
    assert_eq!(message.sender.as_ref().map(|s| s.user_id), Some(123456789));
    assert_eq!(message.body.text, None);
    let Attachment::Contact { payload } = &message.body.attachments[0] else {
        panic!("not a contact");
    };
    assert_eq!(payload.phone().as_deref(), Some("+79161234567"));
    assert_eq!(
        payload.max_info.as_ref().map(|u| u.user_id),
        Some(123456789)
    );
    assert_eq!(message.body.attachments[1], Attachment::Other);

    let Update::MessageCallback {
        callback, message, ..
    } = &list.updates[1]
    else {
        panic!("not a callback");
    };
    assert_eq!(callback.callback_id, "f9LHodD0cOJf4_Dk");
    assert_eq!(callback.payload.as_deref(), Some("3:1"));
    assert_eq!(callback.user.user_id, 123456789);
    assert!(message.is_none());

    let Update::BotStarted {
        chat_id,
        user,
        payload,
        ..
    } = &list.updates[2]
    else {
        panic!("not a start");
    };
    assert_eq!((*chat_id, user.user_id), (182182182, 123456789));
    assert_eq!(payload.as_deref(), Some("invite-AbC_12"));

    assert_eq!(list.updates[3], Update::Other, "an unknown type");
    assert_eq!(
        list.updates[4],
        Update::Other,
        "a known type without its message"
    );
}

#[test]
fn a_webhook_body_is_one_update_and_garbage_is_other() {
    let body = json!({"update_type": "bot_started", "timestamp": 1, "chat_id": 5,
                      "user": user(7, "Иван")});
    let update = Update::from_json(body.to_string().as_bytes());
    assert!(matches!(
        update,
        Update::BotStarted {
            chat_id: 5,
            payload: None,
            ..
        }
    ));
    assert_eq!(Update::from_json(b"not json"), Update::Other);
}

#[tokio::test]
async fn the_marker_types_timeout_and_limit_are_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/updates"))
        .and(query_param("marker", "25493970"))
        .and(query_param(
            "types",
            "message_created,message_callback,bot_started",
        ))
        .and(query_param("timeout", "0"))
        .and(query_param("limit", "100"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"updates": [], "marker": 25493971})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let types = ["message_created", "message_callback", "bot_started"];
    let list = client(&server)
        .get_updates(Some(25493970), 0, &types)
        .await
        .expect("polled");
    assert_eq!(list.marker, Some(25493971));
}

#[tokio::test]
async fn a_429_is_retried_and_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/updates"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"code": "too.many.requests", "message": "slow down"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/updates"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"updates": [], "marker": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let list = client(&server)
        .get_updates(None, 0, &[])
        .await
        .expect("retried");
    assert_eq!(list.marker, Some(1));
}

#[tokio::test]
async fn three_503s_then_a_200_succeed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .expect(3)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message()))
        .expect(1)
        .mount(&server)
        .await;
    client(&server)
        .send_message(To::User(1), &NewMessageBody::text("Привет"))
        .await
        .expect("sent after the 503s");
}

#[tokio::test]
async fn endless_503s_end_as_unavailable_within_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/subscriptions"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let error = client(&server)
        .unsubscribe("https://bot.example.ru/max")
        .await
        .expect_err("never answered");
    assert!(matches!(error, MaxError::Unavailable(_)), "{error:?}");
    let tries = server.received_requests().await.expect("recorded").len();
    // Pauses of ½–1 × 1, 2, 4, 8, 16, 16, … ms within 60 ms: between 5 and 14 tries.
    assert!((5..=14).contains(&tries), "{tries} tries");
}

#[tokio::test]
async fn a_400_is_not_retried_and_keeps_only_the_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"code": "proto.payload", "message": "text: Анна Петрова +79161234567 is too long"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server)
        .send_message(To::Chat(5), &NewMessageBody::text("x"))
        .await
        .expect_err("refused");
    assert_eq!(
        error,
        MaxError::Refused {
            status: 400,
            code: Some("proto.payload".to_owned())
        }
    );
    assert!(!error.to_string().contains("79161234567"));
}

#[tokio::test]
async fn a_401_is_refused_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/updates"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "verify.token", "message": "Invalid access_token"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server)
        .get_updates(None, 0, &[])
        .await
        .expect_err("refused");
    assert_eq!(error.code(), Some("verify.token"));
    assert!(matches!(error, MaxError::Refused { status: 401, .. }));
}

#[tokio::test]
async fn an_image_upload_takes_two_steps_and_returns_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/uploads"))
        .and(query_param("type", "image"))
        .and(header("Authorization", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"url": format!("{}/upload/image?photoIds=abc&sig=xyz", server.uri())}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/upload/image"))
        .and(query_param("sig", "xyz"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"photos": {"tG3bqBd5Jc8oQEyPPnzE": {"token": "image-token-1"}}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let png = b"\x89PNG\r\n\x1a\nQR".to_vec();
    let token = client(&server)
        .upload_image(png.clone())
        .await
        .expect("uploaded");
    assert_eq!(token, "image-token-1");

    let requests = server.received_requests().await.expect("recorded");
    let upload = requests
        .iter()
        .find(|r| r.url.path() == "/upload/image")
        .expect("the second step");
    assert!(
        upload.headers.get("authorization").is_none(),
        "the token stays with the API host"
    );
    let content_type = upload.headers.get("content-type").expect("set");
    let content_type = content_type.to_str().expect("ascii");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .expect("multipart");
    let body = &upload.body;
    let text = String::from_utf8_lossy(body);
    assert!(text.starts_with(&format!("--{boundary}\r\n")));
    assert!(text.contains("Content-Disposition: form-data; name=\"data\"; filename=\"image.png\""));
    assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
    assert!(body.windows(png.len()).any(|w| w == png.as_slice()));
}

#[tokio::test]
async fn attachment_not_ready_is_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": "attachment.not.ready", "message": ""})),
        )
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message()))
        .expect(1)
        .mount(&server)
        .await;
    let body = NewMessageBody {
        text: Some("Ваш QR-код".to_owned()),
        attachments: vec![AttachmentRequest::Image(ImageToken {
            token: "image-token-1".to_owned(),
        })],
        notify: None,
    };
    client(&server)
        .send_message(To::Chat(182182182), &body)
        .await
        .expect("sent once ready");
}

#[tokio::test]
async fn a_message_goes_to_a_user_or_a_chat_by_the_query() {
    let server = MockServer::start().await;
    let body = NewMessageBody {
        text: Some("Выберите:".to_owned()),
        attachments: vec![AttachmentRequest::InlineKeyboard(Keyboard {
            buttons: vec![
                vec![Button::Callback {
                    text: "Да".to_owned(),
                    payload: "3:0".to_owned(),
                }],
                vec![Button::Link {
                    text: "Сферум".to_owned(),
                    url: "https://sferum.ru".to_owned(),
                }],
                vec![Button::RequestContact {
                    text: "Поделиться номером".to_owned(),
                }],
            ],
        })],
        notify: Some(false),
    };
    let expected = json!({
        "text": "Выберите:",
        "attachments": [{"type": "inline_keyboard", "payload": {"buttons": [
            [{"type": "callback", "text": "Да", "payload": "3:0"}],
            [{"type": "link", "text": "Сферум", "url": "https://sferum.ru"}],
            [{"type": "request_contact", "text": "Поделиться номером"}]
        ]}}],
        "notify": false
    });
    Mock::given(method("POST"))
        .and(path("/messages"))
        .and(query_param("user_id", "123456789"))
        .and(query_param_is_missing("chat_id"))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .and(query_param("chat_id", "-70801090403050"))
        .and(query_param_is_missing("user_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message()))
        .expect(1)
        .mount(&server)
        .await;
    let max = client(&server);
    max.send_message(To::User(123456789), &body)
        .await
        .expect("to the user");
    max.send_message(
        To::Chat(-70801090403050),
        &NewMessageBody::text("Всем привет"),
    )
    .await
    .expect("to the chat");
}

#[tokio::test]
async fn a_callback_is_answered_with_its_id_and_a_failure_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/answers"))
        .and(query_param("callback_id", "f9LHodD0cOJf4_Dk"))
        .and(body_json(json!({"notification": "Готово"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/answers"))
        .and(query_param("callback_id", "stale"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"success": false, "message": "callback expired"})),
        )
        .mount(&server)
        .await;
    let max = client(&server);
    max.answer_callback("f9LHodD0cOJf4_Dk", Some("Готово"))
        .await
        .expect("answered");
    assert_eq!(
        max.answer_callback("stale", None).await,
        Err(MaxError::Unsuccessful)
    );
}

#[tokio::test]
async fn subscribe_sends_url_types_and_secret_and_unsubscribe_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/subscriptions"))
        .and(header("Authorization", TOKEN))
        .and(body_json(json!({
            "url": "https://bot.example.ru/max",
            "update_types": ["message_created", "message_callback", "bot_started"],
            "secret": "s3cr3t-Value_42"
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/subscriptions"))
        .and(query_param("url", "https://bot.example.ru/max"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let max = client(&server);
    let types = ["message_created", "message_callback", "bot_started"];
    max.subscribe("https://bot.example.ru/max", "s3cr3t-Value_42", &types)
        .await
        .expect("subscribed");
    max.unsubscribe("https://bot.example.ru/max")
        .await
        .expect("unsubscribed");
    let bad = max
        .subscribe("https://bot.example.ru/max", "not a secret!", &types)
        .await;
    assert!(matches!(bad, Err(MaxError::Setup(_))), "{bad:?}");
}

#[test]
fn the_phone_is_read_from_the_vcf_tel_line() {
    let cases = [
        ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Анна\r\nTEL;TYPE=cell:+79161234567\r\nEND:VCARD", Some("+79161234567")),
        ("BEGIN:VCARD\nVERSION:4.0\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+7-916-123-45-67\nEND:VCARD", Some("+79161234567")),
        ("BEGIN:VCARD\r\nitem1.TEL:8 (916) 123-45-67\r\nEND:VCARD", Some("89161234567")),
        ("BEGIN:VCARD\r\ntel;type=CELL:+7916\r\n 1234567\r\nEND:VCARD", Some("+79161234567")),
        ("BEGIN:VCARD\r\nTEL;TYPE=home:\r\nTEL;TYPE=cell:79161234567\r\nEND:VCARD", Some("79161234567")),
        ("BEGIN:VCARD\r\nFN:TEL:+7 000\r\nNOTE:call me\r\nEND:VCARD", None),
        ("", None),
    ];
    for (vcf, phone) in cases {
        assert_eq!(vcf_phone(vcf).as_deref(), phone, "{vcf:?}");
    }
}

#[test]
fn split_text_keeps_cyrillic_under_the_limit_and_loses_no_word() {
    let paragraph = "Здравствуйте! Чтобы зарегистрироваться в Сферуме, откройте ссылку из \
                     сообщения учителя и подтвердите номер телефона кодом из СМС.\nЕсли код \
                     не пришёл, подождите минуту и запросите его снова.";
    let text = [paragraph; 40].join("\n\n") + " Сверхдлинноесловобезпробеловвообщеникаких";
    assert!(
        text.len() > 2 * TEXT_LIMIT,
        "the bytes are well over the limit"
    );
    for limit in [TEXT_LIMIT, 100, 17] {
        let pieces = split_text(&text, limit);
        assert!(pieces.len() > 1);
        for piece in &pieces {
            assert!(
                piece.chars().count() <= limit,
                "{} > {limit}",
                piece.chars().count()
            );
            assert!(!piece.is_empty());
        }
        let words: String = text.split_whitespace().collect();
        let rejoined: String = pieces.iter().flat_map(|p| p.split_whitespace()).collect();
        assert_eq!(rejoined, words, "limit {limit}");
    }
    assert_eq!(split_text("Привет", TEXT_LIMIT), ["Привет"]);
    assert_eq!(split_text("абв", 0), ["а", "б", "в"]);
}

#[test]
fn debug_never_shows_the_token() {
    let max = MaxClient::new(
        Url::parse("https://platform-api2.max.ru").expect("url"),
        TOKEN.into(),
    )
    .expect("built");
    let shown = format!("{max:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("platform-api2.max.ru"));
}

#[test]
fn a_base_url_with_a_query_or_a_bad_token_is_refused() {
    let with_query = Url::parse("https://platform-api2.max.ru/?access_token=x").expect("url");
    assert!(matches!(
        MaxClient::new(with_query, TOKEN.into()),
        Err(MaxError::Setup(_))
    ));
    let plain = Url::parse("https://platform-api2.max.ru").expect("url");
    assert!(matches!(
        MaxClient::new(plain, "line\nbreak".into()),
        Err(MaxError::Setup(_))
    ));
}

#[tokio::test]
async fn every_clone_of_the_client_shares_one_pace_of_30_calls_a_second() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "user_id": 7, "first_name": "Сферум", "username": "sferum_helper_bot",
            "is_bot": true, "last_activity_time": 1775026693000i64, "name": "Сферум"})))
        .mount(&server)
        .await;
    let one = client(&server);
    let other = one.clone();
    let started = std::time::Instant::now();
    // 30 go at once (the second's allowance); the next 15 are spread at 30 a second.
    let sends: Vec<_> = (0..45)
        .map(|i| {
            let c = if i % 2 == 0 {
                one.clone()
            } else {
                other.clone()
            };
            tokio::spawn(async move {
                c.send_message(To::User(1), &NewMessageBody::text("Привет".to_owned()))
                    .await
            })
        })
        .collect();
    for send in sends {
        send.await.expect("the task ends").expect("sent");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "45 calls took only {elapsed:?}: not paced"
    );
    // The bot's name, for its links, comes from GET /me (and is paced too).
    let me = one.me().await.expect("the profile");
    assert_eq!(me.username.as_deref(), Some("sferum_helper_bot"));
}
