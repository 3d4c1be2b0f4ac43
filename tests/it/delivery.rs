//! Warnings reach subscribers outside the browser: a Zalo group through a local server
//! that speaks the Zalo OA contract, while an SMS gateway that keeps failing is retried
//! on its own, without holding the Zalo message back; every attempt is recorded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use wardwatch::channels::Channels;

use crate::helpers::{Backend, spawn_app_with};

/// What the local Zalo server received: the access token header and the JSON body.
type Received = Vec<(Option<String>, Value)>;

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Received>>);

/// A local Zalo OA endpoint and an SMS gateway that always answers 500.
async fn outside_services() -> (String, String, Seen) {
    let seen = Seen::default();
    let zalo_seen = seen.clone();
    let zalo = Router::new().route(
        "/v3.0/oa/group/message",
        post(
            move |headers: axum::http::HeaderMap, Json(body): Json<Value>| {
                let seen = zalo_seen.clone();
                async move {
                    let token = headers
                        .get("access_token")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    seen.0.lock().unwrap().push((token, body));
                    Json(json!({"error": 0, "message": "Success", "data": {"message_id": "m1"}}))
                }
            },
        ),
    );
    let sms = Router::new().route(
        "/send",
        post(|| async {
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "gateway down",
            )
        }),
    );
    let serve = |router: Router| async move {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
        format!("http://{addr}")
    };
    (serve(zalo).await, serve(sms).await, seen)
}

async fn body(backend: Backend) {
    let (zalo_url, sms_url, seen) = outside_services().await;
    let channels = Channels::from_lookup(&|name| match name {
        "WARDWATCH_ZALO_ACCESS_TOKEN" => Some("tok-123".into()),
        "WARDWATCH_ZALO_BASE_URL" => Some(zalo_url.clone()),
        "WARDWATCH_SMS_URL" => Some(format!("{sms_url}/send")),
        _ => None,
    })
    .expect("channels configure");
    let Some(app) = spawn_app_with(backend, |c| c.channels = Some(Arc::new(channels))).await else {
        eprintln!("skipped: TEST_DATABASE_URL not set");
        return;
    };
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let resident = app.demo_login("dhk.dan").await;

    // Only officers connect the ward's Zalo group; residents subscribe their own phone.
    let group = json!({"ward": "du-hang-kenh", "channel": "zalo", "address": "group:G123"});
    assert_eq!(
        app.post("/api/v1/subscriptions", Some(&resident), &group)
            .await
            .status,
        403
    );
    assert_eq!(
        app.post("/api/v1/subscriptions", Some(&officer), &group)
            .await
            .status,
        201
    );
    let phone = json!({"ward": "du-hang-kenh", "channel": "sms", "address": "0912 345 678"});
    assert_eq!(
        app.post("/api/v1/subscriptions", None, &phone).await.status,
        401
    );
    assert_eq!(
        app.post("/api/v1/subscriptions", Some(&resident), &phone)
            .await
            .status,
        201
    );

    let a = app
        .post(
            "/api/v1/warnings",
            Some(&officer),
            &json!({"ward": "du-hang-kenh", "category": "fire", "severity": "severe", "urgency": "immediate",
                    "title": "Cháy tại chợ Hàng", "body": "Tránh đường Chợ Hàng."}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let id = a.json()["id"].as_i64().unwrap();

    // The Zalo group gets it at once, although the SMS gateway is failing.
    let mut delivered = false;
    for _ in 0..50 {
        if !seen.0.lock().unwrap().is_empty() {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(delivered, "the Zalo group got nothing");
    let (token, message) = seen.0.lock().unwrap()[0].clone();
    assert_eq!(token.as_deref(), Some("tok-123"));
    assert_eq!(message["recipient"]["group_id"], "G123");
    assert!(
        message["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Cháy tại chợ Hàng"),
        "{message}"
    );

    // Each delivery is recorded: Zalo sent, SMS waiting for its next attempt.
    let mut rows = Value::Null;
    for _ in 0..50 {
        rows = app
            .get_json(&format!("/api/v1/warnings/{id}/deliveries"), Some(&officer))
            .await;
        let sms_tried = rows
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["channel"] == "sms" && d["attempts"].as_i64().unwrap_or(0) >= 1);
        if sms_tried {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = rows.as_array().unwrap().clone();
    let zalo = rows
        .iter()
        .find(|d| d["channel"] == "zalo")
        .expect("a Zalo delivery row");
    assert_eq!(zalo["status"], "sent", "{zalo}");
    assert_eq!(zalo["recipient"], "group:G123");
    let sms = rows
        .iter()
        .find(|d| d["channel"] == "sms")
        .expect("an SMS delivery row");
    assert_eq!(sms["recipient"], "0912345678");
    assert_eq!(
        sms["status"], "pending",
        "retried later, not given up: {sms}"
    );
    assert!(sms["attempts"].as_i64().unwrap() >= 1);
    assert!(sms["last_error"].as_str().unwrap().contains("500"), "{sms}");
    // Residents do not see the delivery record.
    assert_eq!(
        app.get(
            &format!("/api/v1/warnings/{id}/deliveries"),
            Some(&resident)
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zalo_and_failing_sms_sqlite() {
    body(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zalo_and_failing_sms_postgres() {
    body(Backend::Postgres).await;
}
