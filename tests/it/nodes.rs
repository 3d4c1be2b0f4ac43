//! Several `serve` processes on one PostgreSQL database (behind a load balancer): a warning
//! or a report stored through one node reaches the live listeners of every other node
//! (LISTEN/NOTIFY), and a listener that reconnects to another node resumes where it was.
//! PostgreSQL only: skipped, with a note, without `TEST_DATABASE_URL`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tempfile::TempDir;
use wardwatch::app::{Application, open_store};
use wardwatch::config::Config;

use crate::helpers::{Backend, TestApp, spawn_app};
use crate::warnings::Listener;

const WARD: &str = "du-hang-kenh";
const LIVE: Duration = Duration::from_secs(5);

/// A second node: its own process state (broadcast hub, intake, captcha memory) on the
/// first node's database.
struct Node {
    base: String,
    _dir: TempDir,
}

async fn second_node(first: &TestApp) -> Node {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut config = Config::new(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.database_url = Some(
        first
            .database_url
            .clone()
            .expect("the first node runs on PostgreSQL"),
    );
    let store = open_store(&config).await.expect("open the shared database");
    let app = Application::with_store(config, store)
        .await
        .expect("build the second node");
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    Node { base, _dir: dir }
}

/// Two nodes on a fresh PostgreSQL database with the demo wards, or `None` (with a note)
/// when there is no PostgreSQL to test on.
async fn two_nodes() -> Option<(TestApp, Node)> {
    let Some(a) = spawn_app(Backend::Postgres).await else {
        eprintln!("skipped: TEST_DATABASE_URL not set (two nodes need PostgreSQL)");
        return None;
    };
    a.load_demo().await;
    let b = second_node(&a).await;
    Some((a, b))
}

fn warning(title: &str) -> Value {
    json!({
        "ward": WARD,
        "category": "Safety",
        "severity": "Moderate",
        "urgency": "Expected",
        "title": title,
        "body": format!("{title}: bà con chú ý."),
    })
}

async fn publish(app: &TestApp, base: &str, token: &str, title: &str) -> i64 {
    let res = app
        .client()
        .post(format!("{base}/api/v1/warnings"))
        .bearer_auth(token)
        .json(&warning(title))
        .send()
        .await
        .expect("publish sent");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("JSON answer");
    assert_eq!(status, 201, "publish on {base}: {body}");
    body["event_id"].as_i64().expect("event_id")
}

async fn listen(base: &str, path: &str, token: Option<&str>, last: Option<i64>) -> Listener {
    Listener::open(base, path, token, last)
        .await
        .unwrap_or_else(|a| panic!("stream on {base} refused: {}", a.brief()))
}

fn warnings_stream() -> String {
    format!("/api/v1/warnings/stream?ward={WARD}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_on_one_node_reaches_the_other() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let officer = a.demo_login("dhk.congan").await;
    let mut on_b = listen(&b.base, &warnings_stream(), None, None).await;
    let mut on_a = listen(&a.base, &warnings_stream(), None, None).await;

    let event = publish(&a, &a.base, &officer, "Phát trên nút A").await;
    let e = on_b
        .next(LIVE)
        .await
        .expect("node B hears node A's warning within 5 s");
    assert_eq!((e.event.as_str(), e.id()), ("warning", event));
    assert_eq!(e.json()["headline"], "Phát trên nút A");
    assert_eq!(on_a.next(LIVE).await.expect("node A too").id(), event);

    // And the other way round (the session is shared through the database).
    let event = publish(&a, &b.base, &officer, "Phát trên nút B").await;
    assert_eq!(
        on_a.next(LIVE).await.expect("node A hears node B").id(),
        event
    );
    assert_eq!(on_b.next(LIVE).await.expect("node B itself").id(), event);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_on_one_node_reaches_the_others_inbox() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let officer = a.demo_login("dhk.congan").await;
    let resident = a.demo_login("dhk.dan").await;
    let path = format!("/api/v1/reports/stream?ward={WARD}");
    let mut inbox_b = listen(&b.base, &path, Some(&officer), None).await;

    let made = a
        .post(
            "/api/v1/reports",
            Some(&resident),
            &json!({
                "ward": WARD,
                "category": "fire",
                "description": "Cháy quán ăn đầu ngõ, báo qua nút A",
                "lat": 20.8420,
                "lon": 106.6720,
            }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.brief());
    let id = made.json()["id"].as_i64().unwrap();
    let e = inbox_b
        .next(LIVE)
        .await
        .expect("node B's inbox hears the report within 5 s");
    assert_eq!((e.event.as_str(), e.id()), ("report", id));
    assert_eq!(e.json()["category"], "fire");

    // A captcha drawn on one node is answered on the other (the key is shared).
    let c = a.get_json("/api/v1/captcha", None).await;
    let token = c["token"].as_str().unwrap().to_string();
    let key = a.store.setting_or_init("captcha_key", "x").await.unwrap();
    let answer = wardwatch::reports::captcha::Captcha::new(key.as_bytes())
        .solve(&token)
        .unwrap();
    let res = a
        .client()
        .request(Method::POST, format!("{}/api/v1/reports", b.base))
        .json(&json!({
            "ward": WARD,
            "category": "crime",
            "description": "Báo ẩn danh qua nút B với mã kiểm tra của nút A",
            "address": "Chợ Hàng",
            "anonymous": true,
            "captcha_token": token,
            "captcha_answer": answer,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let anonymous: Value = res.json().await.unwrap();
    let e = inbox_b.next(LIVE).await.expect("the anonymous report");
    assert_eq!(e.id(), anonymous["id"].as_i64().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_resumes_on_another_node() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let officer = a.demo_login("dhk.congan").await;
    let mut on_b = listen(&b.base, &warnings_stream(), None, None).await;
    let first = publish(&a, &a.base, &officer, "Trước khi mất kết nối").await;
    assert_eq!(on_b.next(LIVE).await.expect("first").id(), first);
    drop(on_b);

    let second = publish(&a, &a.base, &officer, "Trong khi mất kết nối (1)").await;
    let third = publish(&a, &a.base, &officer, "Trong khi mất kết nối (2)").await;
    let mut again = listen(&b.base, &warnings_stream(), None, Some(first)).await;
    assert_eq!(again.ids_until(third, LIVE).await, [second, third]);
    // Then live again, from node A.
    let fourth = publish(&a, &a.base, &officer, "Sau khi kết nối lại").await;
    assert_eq!(again.next(LIVE).await.expect("live").id(), fourth);
}

/// Every event of `sent` reaches the listener (within 10 s of silence), none twice.
async fn hears_all(node: &str, l: &mut Listener, sent: &BTreeSet<i64>) {
    let mut heard = BTreeSet::new();
    while heard.len() < sent.len() {
        match l.next(Duration::from_secs(10)).await {
            Some(e) => {
                assert!(heard.insert(e.id()), "node {node} repeated {}", e.id());
            }
            None => break,
        }
    }
    let missing: Vec<&i64> = sent.difference(&heard).collect();
    assert!(
        missing.is_empty(),
        "node {node}'s listener never heard {missing:?} of {} events",
        sent.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_publications_on_both_nodes_all_arrive() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let officer = a.demo_login("dhk.congan").await;
    let mut on_a = listen(&a.base, &warnings_stream(), None, None).await;
    let mut on_b = listen(&b.base, &warnings_stream(), None, None).await;

    const EACH: usize = 15;
    let sent: Vec<i64> = futures_util::future::join_all((0..2 * EACH).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let (a, officer) = (&a, &officer);
        async move { publish(a, base, officer, &format!("Cảnh báo đồng thời số {i}")).await }
    }))
    .await;
    let sent: BTreeSet<i64> = sent.into_iter().collect();
    assert_eq!(sent.len(), 2 * EACH);
    hears_all("A", &mut on_a, &sent).await;
    hears_all("B", &mut on_b, &sent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reports_on_both_nodes_all_reach_the_inboxes() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let officer = a.demo_login("dhk.congan").await;
    let resident = a.demo_login("dhk.dan").await;
    let path = format!("/api/v1/reports/stream?ward={WARD}");
    let mut on_a = listen(&a.base, &path, Some(&officer), None).await;
    let mut on_b = listen(&b.base, &path, Some(&officer), None).await;

    const EACH: usize = 15;
    let http = a.client();
    let sent: Vec<i64> = futures_util::future::join_all((0..2 * EACH).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let (http, resident) = (&http, &resident);
        async move {
            let res = http
                .post(format!("{base}/api/v1/reports"))
                .bearer_auth(resident)
                .json(&json!({
                    "ward": WARD,
                    "category": "public_order",
                    "description": format!("Phản ánh đồng thời số {i} qua hai nút"),
                    "address": "Chợ Hàng",
                }))
                .send()
                .await
                .expect("report sent");
            assert_eq!(res.status().as_u16(), 201);
            let v: Value = res.json().await.expect("JSON");
            v["id"].as_i64().expect("id")
        }
    }))
    .await;
    let sent: BTreeSet<i64> = sent.into_iter().collect();
    assert_eq!(sent.len(), 2 * EACH);
    hears_all("A", &mut on_a, &sent).await;
    hears_all("B", &mut on_b, &sent).await;
}
