//! Each channel against a local server that speaks its protocol: Zalo's OA API, an SMS
//! gateway, an SMTP server, and a push service that checks VAPID and decrypts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::*;
use crate::domain::Phone;

/// A lookup over fixed variables, as `from_lookup` takes it.
fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

/// Serve `app` on a free local port; answers its base URL.
async fn serve(listener: TcpListener, app: Router) -> String {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

fn warning() -> Message {
    Message::new(
        "Cảnh báo lừa đảo",
        "Đối tượng giả danh công an phường gọi điện yêu cầu chuyển tiền. Không làm theo!",
    )
    .with_url("https://wardwatch.example.vn/canh-bao/42")
}

// ---------------------------------------------------------------------------------------
// Zalo Official Account

const ZALO_TOKEN: &str = "oa-access-token-123";

#[derive(Clone, Default)]
struct ZaloSeen {
    /// (path, recipient id, text)
    messages: Arc<Mutex<Vec<(String, String, String)>>>,
    /// How many times each recipient was tried.
    tries: Arc<Mutex<HashMap<String, u32>>>,
}

/// The OA API as Zalo documents it: `access_token` header, JSON body, `error` 0 or a
/// negative code in a 200 answer.
async fn zalo_api(
    State(seen): State<ZaloSeen>,
    uri: Uri,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> (StatusCode, axum::Json<Value>) {
    let ok = |v: Value| (StatusCode::OK, axum::Json(v));
    if headers.get("access_token").and_then(|v| v.to_str().ok()) != Some(ZALO_TOKEN) {
        return ok(json!({"error": -216, "message": "Access token is invalid"}));
    }
    let field = match uri.path() {
        "/v3.0/oa/message/cs" => "user_id",
        "/v3.0/oa/group/message" => "group_id",
        _ => return (StatusCode::NOT_FOUND, axum::Json(json!({}))),
    };
    let Some(id) = body["recipient"][field].as_str() else {
        return ok(json!({"error": -201, "message": format!("{field} is invalid")}));
    };
    let Some(text) = body["message"]["text"].as_str() else {
        return ok(json!({"error": -210, "message": "Parameters are invalid"}));
    };
    let tries = {
        let mut t = seen.tries.lock().unwrap();
        let n = t.entry(id.to_string()).or_default();
        *n += 1;
        *n
    };
    if id == "boom" || (id == "flaky" && tries < 3) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"error": -1})),
        );
    }
    if id == "unfollowed" {
        return ok(json!({"error": -213, "message": "User has not followed the OA"}));
    }
    seen.messages
        .lock()
        .unwrap()
        .push((uri.path().to_string(), id.to_string(), text.to_string()));
    ok(json!({"error": 0, "message": "Success", "data": {"message_id": "8f1c0a", field: id}}))
}

async fn zalo_server() -> (String, ZaloSeen) {
    let seen = ZaloSeen::default();
    let app = Router::new()
        .route("/v3.0/oa/message/cs", post(zalo_api))
        .route("/v3.0/oa/group/message", post(zalo_api))
        .with_state(seen.clone());
    (serve(listener().await, app).await, seen)
}

fn zalo(base: &str, token: &str) -> zalo::Zalo {
    let config = zalo::Config::from_lookup(&vars(&[
        ("WARDWATCH_ZALO_ACCESS_TOKEN", token),
        ("WARDWATCH_ZALO_BASE_URL", &format!("{base}/")),
    ]))
    .unwrap()
    .unwrap();
    assert_eq!(config.base_url, base);
    assert!(!format!("{config:?}").contains(token));
    zalo::Zalo::new(config, http_client().unwrap())
}

#[tokio::test]
async fn zalo_sends_to_followers_and_groups() {
    let (base, seen) = zalo_server().await;
    let z = zalo(&base, ZALO_TOKEN);
    assert_eq!(z.kind(), "zalo");
    assert!(z.accepts(&Recipient::ZaloGroup("g".into())));
    assert!(!z.accepts(&Recipient::Email("a@b.vn".into())));

    z.send(&Recipient::ZaloUser("4013216787".into()), &warning())
        .await
        .unwrap();
    z.send(&Recipient::ZaloGroup("grp-tdp-7".into()), &warning())
        .await
        .unwrap();
    let got = seen.messages.lock().unwrap().clone();
    let text = "Cảnh báo lừa đảo\nĐối tượng giả danh công an phường gọi điện yêu cầu chuyển tiền. Không làm theo!\nhttps://wardwatch.example.vn/canh-bao/42";
    assert_eq!(
        got,
        vec![
            (
                "/v3.0/oa/message/cs".to_string(),
                "4013216787".to_string(),
                text.to_string()
            ),
            (
                "/v3.0/oa/group/message".to_string(),
                "grp-tdp-7".to_string(),
                text.to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn zalo_errors_are_classified() {
    let (base, seen) = zalo_server().await;
    let to = Recipient::ZaloUser("4013216787".into());

    let revoked = zalo(&base, "expired-token").send(&to, &warning()).await;
    assert!(
        matches!(&revoked, Err(SendError::Permanent(m)) if m.contains("-216")),
        "{revoked:?}"
    );
    let z = zalo(&base, ZALO_TOKEN);
    let unfollowed = z
        .send(&Recipient::ZaloUser("unfollowed".into()), &warning())
        .await;
    assert!(
        matches!(&unfollowed, Err(SendError::Permanent(m)) if m.contains("-213")),
        "{unfollowed:?}"
    );
    let boom = z
        .send(&Recipient::ZaloUser("boom".into()), &warning())
        .await;
    assert!(
        matches!(&boom, Err(SendError::Retryable(m)) if m.contains("500")),
        "{boom:?}"
    );
    let wrong = z.send(&Recipient::Email("a@b.vn".into()), &warning()).await;
    assert!(matches!(wrong, Err(SendError::Permanent(_))));
    assert!(seen.messages.lock().unwrap().is_empty());

    // Nobody listening: connection refused is retryable.
    let closed = {
        let l = listener().await;
        let base = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        zalo(&base, ZALO_TOKEN).send(&to, &warning()).await
    };
    assert!(
        matches!(&closed, Err(SendError::Retryable(m)) if m.contains("refused")),
        "{closed:?}"
    );
}

#[tokio::test]
async fn zalo_text_is_at_most_2000_characters_and_keeps_the_link() {
    let (base, seen) = zalo_server().await;
    let long = Message::new("Cảnh báo", "Ồ ".repeat(3000)).with_url("https://w.example/1");
    zalo(&base, ZALO_TOKEN)
        .send(&Recipient::ZaloUser("u1".into()), &long)
        .await
        .unwrap();
    let text = seen.messages.lock().unwrap()[0].2.clone();
    assert!(text.chars().count() <= 2000, "{}", text.chars().count());
    assert!(text.starts_with("Cảnh báo\nỒ Ồ"));
    assert!(text.ends_with("…\nhttps://w.example/1"), "{text}");
}

#[tokio::test]
async fn retries_until_success_and_stops_at_once_on_permanent_errors() {
    let (base, seen) = zalo_server().await;
    let channels = Channels::from_lookup(&vars(&[
        ("WARDWATCH_ZALO_ACCESS_TOKEN", ZALO_TOKEN),
        ("WARDWATCH_ZALO_BASE_URL", &base),
    ]))
    .unwrap();
    assert_eq!(channels.configured(), vec!["zalo"]);
    let quick = Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
        max_attempts: 4,
    };
    let flaky = Recipient::ZaloUser("flaky".into());
    assert_eq!(
        channels.send(&flaky, &warning(), &quick).await.unwrap(),
        "zalo"
    );
    assert_eq!(seen.tries.lock().unwrap()["flaky"], 3);

    let gone = Recipient::ZaloUser("unfollowed".into());
    assert!(matches!(
        channels.send(&gone, &warning(), &quick).await,
        Err(SendError::Permanent(_))
    ));
    assert_eq!(seen.tries.lock().unwrap()["unfollowed"], 1);

    let boom = Recipient::ZaloUser("boom".into());
    assert!(matches!(
        channels.send(&boom, &warning(), &quick).await,
        Err(SendError::Retryable(_))
    ));
    assert_eq!(seen.tries.lock().unwrap()["boom"], 4);

    let phone = Recipient::Phone(Phone::parse("0912345678").unwrap());
    assert!(channels.for_recipient(&phone).is_none());
    assert!(matches!(
        channels.send(&phone, &warning(), &quick).await,
        Err(SendError::Permanent(_))
    ));
}

// ---------------------------------------------------------------------------------------
// SMS gateway

#[derive(Clone, Debug, PartialEq)]
struct SmsRequest {
    content_type: String,
    authorization: Option<String>,
    fields: BTreeMap<String, String>,
}

type SmsSeen = Arc<Mutex<Vec<SmsRequest>>>;

/// A gateway that takes JSON or form posts and answers `{"result":{"code":"00"}}`, or
/// code `07` (invalid number) for numbers ending in 9.
async fn sms_gateway(
    State(seen): State<SmsSeen>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type").unwrap_or_default();
    let fields: BTreeMap<String, String> = if content_type.starts_with("application/json") {
        let v: Value = serde_json::from_str(&body).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect()
    } else {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, String::new());
    };
    let number = fields
        .get("to")
        .or(fields.get("phone"))
        .cloned()
        .unwrap_or_default();
    seen.lock().unwrap().push(SmsRequest {
        content_type,
        authorization: header("authorization"),
        fields,
    });
    let code = if number.ends_with('9') { "07" } else { "00" };
    (
        StatusCode::OK,
        json!({"result": {"code": code, "message": "ok"}}).to_string(),
    )
}

async fn sms_server() -> (String, SmsSeen) {
    let seen = SmsSeen::default();
    let app = Router::new()
        .route("/send", post(sms_gateway))
        .route(
            "/fail",
            post(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }),
        )
        .route(
            "/busy",
            post(|| async { (StatusCode::TOO_MANY_REQUESTS, "slow down") }),
        )
        .route(
            "/refuse",
            post(|| async { (StatusCode::UNAUTHORIZED, "bad key") }),
        )
        .with_state(seen.clone());
    (serve(listener().await, app).await, seen)
}

fn sms(pairs: &[(&str, &str)]) -> sms::Sms {
    let config = sms::Config::from_lookup(&vars(pairs)).unwrap().unwrap();
    sms::Sms::new(config, http_client().unwrap())
}

#[tokio::test]
async fn sms_json_maps_fields_folds_text_and_checks_the_ok_field() {
    let (base, seen) = sms_server().await;
    let url = format!("{base}/send?ApiKey=k-123");
    let pairs = [
        ("WARDWATCH_SMS_URL", url.as_str()),
        ("WARDWATCH_SMS_TO_FIELD", "phone"),
        ("WARDWATCH_SMS_TEXT_FIELD", "content"),
        ("WARDWATCH_SMS_EXTRA", "brandname=CONG+AN+LT&sms_type=2"),
        ("WARDWATCH_SMS_AUTH", "Bearer s3cret"),
        ("WARDWATCH_SMS_OK_FIELD", "result.code"),
        ("WARDWATCH_SMS_OK_VALUE", "00"),
        ("WARDWATCH_SMS_ASCII", "1"),
    ];
    let config = sms::Config::from_lookup(&vars(&pairs)).unwrap().unwrap();
    let shown = format!("{config:?}");
    for secret in ["s3cret", "k-123", "CONG"] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let s = sms(&pairs);
    assert_eq!(s.kind(), "sms");
    let to = Recipient::Phone(Phone::parse("0912 345 678").unwrap());
    assert!(s.accepts(&to));
    s.send(&to, &warning()).await.unwrap();

    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].content_type.starts_with("application/json"));
    assert_eq!(got[0].authorization.as_deref(), Some("Bearer s3cret"));
    let want: BTreeMap<String, String> = [
        ("phone", "84912345678"),
        (
            "content",
            "Canh bao lua dao\nDoi tuong gia danh cong an phuong goi dien yeu cau chuyen tien. Khong lam theo!\nhttps://wardwatch.example.vn/canh-bao/42",
        ),
        ("brandname", "CONG AN LT"),
        ("sms_type", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(got[0].fields, want);

    // The gateway answers 200 with code 07: refused, and not worth retrying.
    let refused = s
        .send(
            &Recipient::Phone(Phone::parse("0912345679").unwrap()),
            &warning(),
        )
        .await;
    assert!(
        matches!(&refused, Err(SendError::Permanent(m)) if m.contains("07")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn sms_form_with_defaults_keeps_diacritics_and_any_2xx_is_success() {
    let (base, seen) = sms_server().await;
    let url = format!("{base}/send");
    let s = sms(&[
        ("WARDWATCH_SMS_URL", &url),
        ("WARDWATCH_SMS_FORMAT", "form"),
    ]);
    // Ends in 9: code 07, but without an OK rule any 2xx counts.
    let landline = Recipient::Phone(Phone::parse("0225 3847 129").unwrap());
    s.send(&landline, &warning()).await.unwrap();
    let long = Message::new("Cảnh báo", "Đường ngập sâu. ".repeat(60));
    s.send(&landline, &long).await.unwrap();

    let got = seen.lock().unwrap().clone();
    assert!(
        got[0]
            .content_type
            .starts_with("application/x-www-form-urlencoded")
    );
    assert_eq!(got[0].authorization, None);
    assert_eq!(got[0].fields["to"], "842253847129");
    assert_eq!(
        got[0].fields["text"],
        "Cảnh báo lừa đảo\nĐối tượng giả danh công an phường gọi điện yêu cầu chuyển tiền. Không làm theo!\nhttps://wardwatch.example.vn/canh-bao/42"
    );
    assert_eq!(got[0].fields.len(), 2);
    let text = &got[1].fields["text"];
    assert!(text.chars().count() <= sms::MAX_TEXT);
    assert!(text.ends_with('…'), "{text}");
}

#[tokio::test]
async fn sms_http_errors_are_classified() {
    let (base, _) = sms_server().await;
    let to = Recipient::Phone(Phone::parse("0987654321").unwrap());
    for (path, retryable) in [("fail", true), ("busy", true), ("refuse", false)] {
        let url = format!("{base}/{path}");
        let got = sms(&[("WARDWATCH_SMS_URL", &url)])
            .send(&to, &warning())
            .await;
        assert_eq!(
            got.as_ref().map_err(SendError::is_retryable),
            Err(retryable),
            "{path}: {got:?}"
        );
    }
    assert!(
        sms::Config::from_lookup(&vars(&[
            ("WARDWATCH_SMS_URL", "http://x/"),
            ("WARDWATCH_SMS_FORMAT", "xml")
        ]))
        .is_err()
    );
    assert!(
        sms::Config::from_lookup(&vars(&[
            ("WARDWATCH_SMS_URL", "http://x/"),
            ("WARDWATCH_SMS_OK_FIELD", "status")
        ]))
        .is_err()
    );
}

// ---------------------------------------------------------------------------------------
// E-mail

#[derive(Debug, Clone)]
struct Received {
    mail_from: String,
    rcpt_to: Vec<String>,
    data: String,
}

/// Just enough SMTP (RFC 5321) to take mail: greeting, EHLO/HELO, MAIL, RCPT, DATA with
/// dot-unstuffing, RSET, NOOP, QUIT. Refuses recipients named `nobody` (550) and
/// defers those named `busy` (451).
async fn smtp_server() -> (u16, mpsc::UnboundedReceiver<Received>) {
    let l = listener().await;
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = l.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                say(&mut write, "220 smtp.test ESMTP ready").await;
                let mut mail_from = String::new();
                let mut rcpt_to = Vec::new();
                loop {
                    let mut line = Vec::new();
                    if read.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = String::from_utf8_lossy(&line).trim_end().to_string();
                    let verb = line
                        .split([' ', ':'])
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    match verb.as_str() {
                        "EHLO" => {
                            say(&mut write, "250-smtp.test").await;
                            say(&mut write, "250-8BITMIME").await;
                            say(&mut write, "250 SMTPUTF8").await;
                        }
                        "HELO" => say(&mut write, "250 smtp.test").await,
                        "MAIL" => {
                            mail_from = arg(&line, "MAIL FROM:");
                            rcpt_to.clear();
                            say(&mut write, "250 2.1.0 OK").await;
                        }
                        "RCPT" => {
                            let to = arg(&line, "RCPT TO:");
                            if to.contains("nobody") {
                                say(&mut write, "550 5.1.1 No such user").await;
                            } else if to.contains("busy") {
                                say(&mut write, "451 4.3.0 Try again later").await;
                            } else {
                                rcpt_to.push(to);
                                say(&mut write, "250 2.1.5 OK").await;
                            }
                        }
                        "DATA" => {
                            say(&mut write, "354 End data with <CR><LF>.<CR><LF>").await;
                            let mut data = Vec::new();
                            loop {
                                let mut l = Vec::new();
                                if read.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if l == b".\r\n" || l == b".\n" {
                                    break;
                                }
                                let l = if l.starts_with(b"..") {
                                    &l[1..]
                                } else {
                                    &l[..]
                                };
                                data.extend_from_slice(l);
                            }
                            let _ = tx.send(Received {
                                mail_from: mail_from.clone(),
                                rcpt_to: rcpt_to.clone(),
                                data: String::from_utf8(data).unwrap(),
                            });
                            say(&mut write, "250 2.0.0 Queued").await;
                        }
                        "RSET" | "NOOP" => say(&mut write, "250 2.0.0 OK").await,
                        "QUIT" => {
                            say(&mut write, "221 2.0.0 Bye").await;
                            return;
                        }
                        _ => say(&mut write, "502 5.5.2 Command not recognized").await,
                    }
                }
            });
        }
    });
    (port, rx)
}

async fn say(w: &mut tokio::net::tcp::OwnedWriteHalf, line: &str) {
    w.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
}

/// The path of `MAIL FROM:<…> PARAMS` or `RCPT TO:<…>`.
fn arg(line: &str, verb: &str) -> String {
    line[verb.len()..]
        .trim()
        .split(' ')
        .next()
        .unwrap_or("")
        .to_string()
}

/// Header fields (unfolded, names lowercased) and the body of a message.
fn parse_mail(data: &str) -> (HashMap<String, String>, String) {
    let data = data.replace("\r\n", "\n");
    let (head, body) = data.split_once("\n\n").unwrap();
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut last = String::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            headers.get_mut(&last).unwrap().push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            last = name.trim().to_ascii_lowercase();
            headers.insert(last.clone(), value.trim().to_string());
        }
    }
    (headers, body.to_string())
}

fn decode_qp(text: &str, underscore_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'=' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'_' if underscore_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded; whitespace
/// between adjacent encoded words dropped.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut parts = t.splitn(3, '?');
                Some((parts.next()?, parts.next()?, parts.next()?))
            });
        match word {
            Some((charset, encoding, text)) => {
                assert!(charset.eq_ignore_ascii_case("utf-8"), "{charset}");
                let bytes = if encoding.eq_ignore_ascii_case("b") {
                    STANDARD.decode(text).unwrap()
                } else {
                    decode_qp(text, true)
                };
                if !previous_encoded && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&String::from_utf8(bytes).unwrap());
                previous_encoded = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                previous_encoded = false;
            }
        }
    }
    out
}

fn decode_body(headers: &HashMap<String, String>, body: &str) -> String {
    let encoding = headers
        .get("content-transfer-encoding")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = match encoding.as_str() {
        "base64" => STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .unwrap(),
        "quoted-printable" => decode_qp(body, false),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

fn email(port: u16) -> email::Email {
    let url = format!("smtp://127.0.0.1:{port}");
    let config = email::Config::from_lookup(&vars(&[
        ("WARDWATCH_SMTP_URL", &url),
        (
            "WARDWATCH_SMTP_FROM",
            "Công an phường Lạch Tray <canhbao@lachtray.example.vn>",
        ),
    ]))
    .unwrap()
    .unwrap();
    email::Email::new(config).unwrap()
}

#[tokio::test]
async fn email_arrives_with_utf8_subject_and_body() {
    let (port, mut inbox) = smtp_server().await;
    let e = email(port);
    assert_eq!(e.kind(), "email");
    let msg = Message::new(
        "Cảnh báo: cháy ở chợ Hàng, tránh đường Chợ Hàng và Dư Hàng Kênh",
        "Đám cháy ở chợ Hàng lúc 14:20.\nTránh khu vực; gọi 114 khi cần.",
    )
    .with_url("https://wardwatch.example.vn/canh-bao/7");
    let to = Recipient::Email("nguoidan@example.vn".into());
    assert!(e.accepts(&to));
    e.send(&to, &msg).await.unwrap();

    let got = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.mail_from, "<canhbao@lachtray.example.vn>");
    assert_eq!(got.rcpt_to, vec!["<nguoidan@example.vn>".to_string()]);
    let (headers, body) = parse_mail(&got.data);
    assert_eq!(decode_words(&headers["subject"]), msg.title);
    assert!(
        decode_words(&headers["from"]).contains("Công an phường Lạch Tray"),
        "{}",
        headers["from"]
    );
    assert!(headers["to"].contains("nguoidan@example.vn"));
    assert!(headers["message-id"].ends_with("@lachtray.example.vn>"));
    assert!(
        headers["content-type"]
            .to_ascii_lowercase()
            .contains("charset=utf-8")
    );
    assert_eq!(
        decode_body(&headers, &body).trim_end(),
        "Đám cháy ở chợ Hàng lúc 14:20.\nTránh khu vực; gọi 114 khi cần.\n\nhttps://wardwatch.example.vn/canh-bao/7"
    );
}

#[tokio::test]
async fn email_errors_are_classified() {
    let (port, _inbox) = smtp_server().await;
    let e = email(port);
    let msg = Message::new("Thử", "Nội dung");
    let bad = e
        .send(&Recipient::Email("không phải địa chỉ".into()), &msg)
        .await;
    assert!(matches!(bad, Err(SendError::Permanent(_))), "{bad:?}");
    let unknown = e
        .send(&Recipient::Email("nobody@example.vn".into()), &msg)
        .await;
    assert!(
        matches!(unknown, Err(SendError::Permanent(_))),
        "{unknown:?}"
    );
    let deferred = e
        .send(&Recipient::Email("busy@example.vn".into()), &msg)
        .await;
    assert!(
        matches!(deferred, Err(SendError::Retryable(_))),
        "{deferred:?}"
    );

    let closed = {
        let l = listener().await;
        let port = l.local_addr().unwrap().port();
        drop(l);
        email(port)
            .send(&Recipient::Email("a@example.vn".into()), &msg)
            .await
    };
    assert!(matches!(closed, Err(SendError::Retryable(_))), "{closed:?}");

    assert!(
        email::Config::from_lookup(&vars(&[("WARDWATCH_SMTP_URL", "smtp://h:25")])).is_err(),
        "the sender is required"
    );
    let shown = format!(
        "{:?}",
        email::Config::from_lookup(&vars(&[
            (
                "WARDWATCH_SMTP_URL",
                "smtp://ward:p%40ss@mail.example.vn:587?tls=required"
            ),
            ("WARDWATCH_SMTP_FROM", "canhbao@example.vn"),
        ]))
        .unwrap()
        .unwrap()
    );
    assert!(
        !shown.contains("p%40ss") && shown.contains("mail.example.vn"),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------------
// Web Push

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn uncompressed(key: &PublicKey) -> Vec<u8> {
    key.to_encoded_point(false).as_bytes().to_vec()
}

/// The user agent's side of RFC 8291, written from the RFC independently of the sender:
/// parse the RFC 8188 header, agree on the secret, derive key and nonce, open the record,
/// strip the padding.
fn decrypt(body: &[u8], ua_secret: &SecretKey, auth: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("short body".into());
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes(body[16..20].try_into().unwrap());
    let idlen = body[20] as usize;
    if rs < 18 || idlen != 65 || body.len() < 21 + idlen + 17 {
        return Err(format!("bad header: rs {rs}, idlen {idlen}"));
    }
    let as_public_bytes = &body[21..21 + idlen];
    let record = &body[21 + idlen..];
    if record.len() > rs as usize {
        return Err("more than one record".into());
    }
    let as_public = PublicKey::from_sec1_bytes(as_public_bytes).map_err(|e| e.to_string())?;
    let ua_public = uncompressed(&ua_secret.public_key());
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), as_public.as_affine());

    // PRK_key = HMAC(auth, ecdh); IKM = HMAC(PRK_key, "WebPush: info" 0 ua as 1)
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(&ua_public);
    info.extend_from_slice(as_public_bytes);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&info, &mut ikm)
        .unwrap();
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap();
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap();

    let mut plain = Aes128Gcm::new_from_slice(&cek)
        .unwrap()
        .decrypt(Nonce::from_slice(&nonce), record)
        .map_err(|_| "authentication tag mismatch".to_string())?;
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(2) {
        return Err("no last-record delimiter".into());
    }
    Ok(plain)
}

/// RFC 8292: check `Authorization: vapid t=JWT, k=KEY` as a push service does.
fn check_vapid(headers: &HeaderMap, origin: &str, expected_key: &str) -> Result<Value, String> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Authorization")?;
    let params = auth.strip_prefix("vapid ").ok_or("not the vapid scheme")?;
    let mut t = None;
    let mut k = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", v)) => t = Some(v.trim()),
            Some(("k", v)) => k = Some(v.trim()),
            _ => return Err(format!("bad parameter {param}")),
        }
    }
    let (t, k) = (t.ok_or("no t")?, k.ok_or("no k")?);
    if k != expected_key {
        return Err("k is not the key the subscription was made with".into());
    }
    let key = VerifyingKey::from_sec1_bytes(&b64(k)).map_err(|e| e.to_string())?;
    let parts: Vec<&str> = t.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("JWT is not three parts".into());
    };
    let header: Value = serde_json::from_slice(&b64(header)).map_err(|e| e.to_string())?;
    if header["alg"] != "ES256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let signature = Signature::from_slice(&b64(signature)).map_err(|e| e.to_string())?;
    key.verify(format!("{}.{claims}", parts[0]).as_bytes(), &signature)
        .map_err(|_| "bad JWT signature")?;
    let claims: Value = serde_json::from_slice(&b64(claims)).map_err(|e| e.to_string())?;
    if claims["aud"] != origin {
        return Err(format!("aud {} is not {origin}", claims["aud"]));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = claims["exp"].as_u64().ok_or("no exp")?;
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp {exp} out of range (now {now})"));
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https://")) {
        return Err(format!("sub {sub}"));
    }
    Ok(claims)
}

struct Subscriber {
    secret: SecretKey,
    auth: Vec<u8>,
}

impl Subscriber {
    /// As a browser does: a fresh P-256 key pair and a 16-byte auth secret.
    fn new() -> Self {
        let secret = loop {
            if let Ok(k) = SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break k;
            }
        };
        Self {
            secret,
            auth: rand::random::<[u8; 16]>().to_vec(),
        }
    }
    fn subscription(&self, endpoint: String) -> PushSubscription {
        PushSubscription {
            endpoint,
            p256dh: URL_SAFE_NO_PAD.encode(uncompressed(&self.secret.public_key())),
            auth: URL_SAFE_NO_PAD.encode(&self.auth),
        }
    }
}

/// (plaintext, TTL, Urgency, VAPID claims)
type Delivered = (Vec<u8>, String, Option<String>, Value);

#[derive(Clone)]
struct PushService {
    origin: String,
    vapid_key: String,
    subscriber: Arc<Subscriber>,
    delivered: Arc<Mutex<Vec<Delivered>>>,
}

async fn push_endpoint(
    State(service): State<PushService>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    match id.as_str() {
        "gone" => return (StatusCode::GONE, "subscription expired".into()),
        "busy" => return (StatusCode::TOO_MANY_REQUESTS, String::new()),
        _ => {}
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let claims = match check_vapid(&headers, &service.origin, &service.vapid_key) {
        Ok(c) => c,
        Err(why) => return (StatusCode::FORBIDDEN, why),
    };
    if header("content-encoding").as_deref() != Some("aes128gcm") {
        return (StatusCode::BAD_REQUEST, "Content-Encoding".into());
    }
    let Some(ttl) = header("ttl").filter(|t| t.parse::<u32>().is_ok()) else {
        return (StatusCode::BAD_REQUEST, "TTL".into());
    };
    match decrypt(&body, &service.subscriber.secret, &service.subscriber.auth) {
        Ok(plain) => {
            service
                .delivered
                .lock()
                .unwrap()
                .push((plain, ttl, header("urgency"), claims));
            (StatusCode::CREATED, String::new())
        }
        Err(why) => (StatusCode::BAD_REQUEST, why),
    }
}

async fn push_service(vapid_key: String) -> (String, PushService) {
    let l = listener().await;
    let origin = format!("http://{}", l.local_addr().unwrap());
    let service = PushService {
        origin,
        vapid_key,
        subscriber: Arc::new(Subscriber::new()),
        delivered: Arc::default(),
    };
    let app = Router::new()
        .route("/wpush/v2/{id}", post(push_endpoint))
        .with_state(service.clone());
    (serve(l, app).await, service)
}

fn webpush_channel() -> webpush::WebPush {
    let key = generate_vapid_key();
    let config = webpush::Config::from_lookup(&vars(&[
        ("WARDWATCH_VAPID_PRIVATE_KEY", &key),
        (
            "WARDWATCH_VAPID_SUBJECT",
            "mailto:canhbao@lachtray.example.vn",
        ),
    ]))
    .unwrap()
    .unwrap();
    assert!(!format!("{config:?}").contains(&key));
    webpush::WebPush::new(config, http_client().unwrap())
}

#[tokio::test]
async fn webpush_is_encrypted_and_signed_so_a_push_service_accepts_it() {
    let push = webpush_channel();
    let (base, service) = push_service(push.vapid_public_key()).await;
    let sub = service
        .subscriber
        .subscription(format!("{base}/wpush/v2/gAAAAABk-sub-1"));
    let to = Recipient::Push(sub.clone());
    assert!(push.accepts(&to));
    assert_eq!(push.kind(), "webpush");

    let msg = warning().with_urgency(Urgency::High);
    push.send(&to, &msg).await.unwrap();
    push.send(&to, &Message::new("Tin vắn", "Họp tổ dân phố 19:30"))
        .await
        .unwrap();

    let delivered = service.delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), 2);
    let (plain, ttl, urgency, claims) = &delivered[0];
    let payload: Value = serde_json::from_slice(plain).unwrap();
    assert_eq!(
        payload,
        json!({"title": msg.title, "body": msg.body, "url": msg.url})
    );
    assert_eq!(ttl, "86400");
    assert_eq!(urgency.as_deref(), Some("high"));
    assert_eq!(claims["sub"], "mailto:canhbao@lachtray.example.vn");
    let (plain, _, urgency, _) = &delivered[1];
    assert_eq!(
        serde_json::from_slice::<Value>(plain).unwrap(),
        json!({"title": "Tin vắn", "body": "Họp tổ dân phố 19:30"})
    );
    assert_eq!(urgency, &None);

    // The browser's own JSON form of the subscription reads the same.
    let browser = format!(
        r#"{{"endpoint":"{}","expirationTime":null,"keys":{{"p256dh":"{}","auth":"{}"}}}}"#,
        sub.endpoint, sub.p256dh, sub.auth
    );
    assert_eq!(PushSubscription::from_browser_json(&browser).unwrap(), sub);
}

#[tokio::test]
async fn webpush_gone_subscriptions_are_permanent_and_throttling_retryable() {
    let push = webpush_channel();
    let (base, service) = push_service(push.vapid_public_key()).await;
    let gone = service
        .subscriber
        .subscription(format!("{base}/wpush/v2/gone"));
    let got = push.send(&Recipient::Push(gone), &warning()).await;
    assert!(
        matches!(&got, Err(SendError::Permanent(m)) if m.contains("410")),
        "{got:?}"
    );
    let busy = service
        .subscriber
        .subscription(format!("{base}/wpush/v2/busy"));
    let got = push.send(&Recipient::Push(busy), &warning()).await;
    assert!(matches!(got, Err(SendError::Retryable(_))), "{got:?}");

    // A push service that knows another application server key refuses the token.
    let other = webpush_channel();
    let sub = service
        .subscriber
        .subscription(format!("{base}/wpush/v2/x"));
    let got = other.send(&Recipient::Push(sub.clone()), &warning()).await;
    assert!(
        matches!(&got, Err(SendError::Permanent(m)) if m.contains("403")),
        "{got:?}"
    );

    let mut broken = sub;
    broken.p256dh = "not-a-key".into();
    let got = push.send(&Recipient::Push(broken), &warning()).await;
    assert!(matches!(got, Err(SendError::Permanent(_))), "{got:?}");
    assert!(service.delivered.lock().unwrap().is_empty());
}

#[test]
fn webpush_encryption_matches_rfc_8291_appendix_a() {
    let plaintext = b"When I grow up, I want to be a watermelon";
    let as_secret =
        SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.encode(uncompressed(&as_secret.public_key())),
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    );
    let ua_secret =
        SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).unwrap();
    let ua_public = b64(
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
    );
    assert_eq!(uncompressed(&ua_secret.public_key()), ua_public);
    let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
    let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
    let body = webpush::encrypt_with(
        plaintext,
        &PublicKey::from_sec1_bytes(&ua_public).unwrap(),
        &auth,
        &as_secret,
        &salt,
    );
    assert_eq!(
        URL_SAFE_NO_PAD.encode(&body),
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    );
    assert_eq!(decrypt(&body, &ua_secret, &auth).unwrap(), plaintext);
}

#[test]
fn webpush_keys_and_payload_limits() {
    let key = generate_vapid_key();
    assert_eq!(b64(&key).len(), 32);
    let public = webpush::vapid_public_key_of(&key).unwrap();
    let point = b64(&public);
    assert_eq!((point.len(), point[0]), (65, 4));
    assert_ne!(generate_vapid_key(), key);
    assert!(webpush::Config::new("AAAA", "mailto:a@b.vn").is_err());
    assert!(webpush::Config::new(&key, "a@b.vn").is_err());
    assert!(webpush::Config::from_lookup(&vars(&[("WARDWATCH_VAPID_PRIVATE_KEY", &key)])).is_err());

    let huge =
        Message::new("Cảnh báo", "Mưa lớn, ngập sâu. ".repeat(400)).with_url("https://w.example/9");
    let payload = webpush::payload(&huge);
    assert!(payload.len() <= webpush::MAX_PLAINTEXT, "{}", payload.len());
    let v: Value = serde_json::from_slice(&payload).unwrap();
    assert!(v["body"].as_str().unwrap().ends_with('…'));
    assert_eq!(v["url"], "https://w.example/9");
    let sub = Subscriber::new();
    let body =
        webpush::encrypt(&payload, &uncompressed(&sub.secret.public_key()), &sub.auth).unwrap();
    assert!(body.len() <= 4096);
    assert_eq!(decrypt(&body, &sub.secret, &sub.auth).unwrap(), payload);
}

// ---------------------------------------------------------------------------------------
// Back-off, configuration, texts

#[test]
fn backoff_delays_grow_cap_and_stop() {
    let b = Backoff {
        base: Duration::from_millis(100),
        cap: Duration::from_secs(1),
        max_attempts: 6,
    };
    let nominal: Vec<_> = (1..=6).map(|n| b.nominal(n)).collect();
    let ms = Duration::from_millis;
    assert_eq!(
        nominal,
        vec![
            Some(ms(100)),
            Some(ms(200)),
            Some(ms(400)),
            Some(ms(800)),
            Some(ms(1000)),
            None
        ]
    );
    for n in 1..=5 {
        let full = b.nominal(n).unwrap();
        for _ in 0..20 {
            let d = b.delay(n).unwrap();
            assert!(d >= full / 2 && d <= full, "attempt {n}: {d:?}");
        }
    }
    assert_eq!(b.delay(6), None);
    assert_eq!(b.delay(60), None);
    let huge = Backoff {
        base: Duration::from_secs(1),
        cap: Duration::from_secs(300),
        max_attempts: 100,
    };
    assert_eq!(huge.nominal(64), Some(Duration::from_secs(300)));
    let once = Backoff {
        max_attempts: 1,
        ..Backoff::default()
    };
    assert_eq!(once.delay(1), None);
}

#[test]
fn nothing_is_configured_without_variables() {
    let none = Channels::from_lookup(&|_| None).unwrap();
    assert!(none.configured().is_empty());
    assert!(none.vapid_public_key().is_none());
    assert!(
        none.for_recipient(&Recipient::Email("a@b.vn".into()))
            .is_none()
    );
    // Empty values count as absent.
    let empty = Channels::from_lookup(&vars(&[
        ("WARDWATCH_ZALO_ACCESS_TOKEN", ""),
        ("WARDWATCH_SMS_URL", " "),
    ]))
    .unwrap();
    assert!(empty.configured().is_empty());
    if !std::env::vars().any(|(k, _)| {
        k.starts_with("WARDWATCH_ZALO")
            || k.starts_with("WARDWATCH_SMS")
            || k.starts_with("WARDWATCH_SMTP")
            || k.starts_with("WARDWATCH_VAPID")
    }) {
        assert!(Channels::from_env().unwrap().configured().is_empty());
    }
}

#[test]
fn all_four_channels_from_variables() {
    let key = generate_vapid_key();
    let channels = Channels::from_lookup(&vars(&[
        ("WARDWATCH_ZALO_ACCESS_TOKEN", "zalo-secret"),
        ("WARDWATCH_SMS_URL", "https://sms.example.vn/send"),
        ("WARDWATCH_SMS_AUTH", "Basic c21zLXNlY3JldA=="),
        ("WARDWATCH_SMTP_URL", "smtp://u:smtp-secret@127.0.0.1:2525"),
        ("WARDWATCH_SMTP_FROM", "canhbao@example.vn"),
        ("WARDWATCH_VAPID_PRIVATE_KEY", &key),
        ("WARDWATCH_VAPID_SUBJECT", "https://wardwatch.example.vn/"),
    ]))
    .unwrap();
    assert_eq!(
        channels.configured(),
        vec!["zalo", "sms", "email", "webpush"]
    );
    let phone = Recipient::Phone(Phone::parse("+84 912 345 678").unwrap());
    assert_eq!(channels.for_recipient(&phone).unwrap().kind(), "sms");
    assert_eq!(
        channels
            .for_recipient(&Recipient::ZaloGroup("g".into()))
            .unwrap()
            .kind(),
        "zalo"
    );
    assert_eq!(
        channels.vapid_public_key(),
        Some(webpush::vapid_public_key_of(&key).unwrap())
    );
    let shown = format!("{channels:?}");
    assert!(
        !shown.contains("secret") && !shown.contains(&key),
        "{shown}"
    );

    assert!(
        Channels::from_lookup(&vars(&[
            ("WARDWATCH_VAPID_PRIVATE_KEY", &key),
            ("WARDWATCH_VAPID_SUBJECT", "mailto:a@b.vn"),
            ("WARDWATCH_SMS_URL", "not a url"),
        ]))
        .is_err()
    );
}

#[test]
fn phone_numbers_go_out_in_international_form() {
    for (input, want) in [
        ("0912345678", "84912345678"),
        ("+84 387 654 321", "84387654321"),
        ("02253847129", "842253847129"),
    ] {
        assert_eq!(sms::international(&Phone::parse(input).unwrap()), want);
    }
}

#[test]
fn channel_labels_have_english() {
    for kind in ["zalo", "sms", "email", "webpush", "?"] {
        assert!(crate::i18n::has_english(label(kind)), "{kind}");
    }
}
