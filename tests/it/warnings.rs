//! Warnings of Dư Hàng Kênh: who may publish them, who hears them live (Server-Sent
//! Events, resumed with Last-Event-ID), updates and cancellations, the CAP 1.2 messages
//! and their Atom index checked against the OASIS schema, and the warnings page.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Answer, TestApp, assert_html, assert_problem, hidden_input};

const WARD: &str = "du-hang-kenh";
const TDP1: &str = "du-hang-kenh-tdp-01";
/// How long a live event may take to arrive.
const LIVE: Duration = Duration::from_secs(5);

both!(
    publishing_by_role,
    live_warnings_reach_whom_they_concern,
    resuming_replays_what_the_listener_may_see,
    updates_and_cancellations_are_events,
    cap_messages_validate,
    warnings_page_and_compose_form,
    compose_form_for_the_ward_only,
    a_stream_is_the_same_on_a_new_or_a_reused_connection,
);

// Many publications at once: SQLite's single node broadcasts each in process; PostgreSQL
// nodes learn of them by NOTIFY and read the new ones from the database.
mod concurrent_publications_all_arrive {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
            .await
            .expect("a SQLite app always starts");
        super::concurrent_publications_all_arrive(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        match crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await {
            Some(app) => super::concurrent_publications_all_arrive(app).await,
            None => eprintln!("skipped: TEST_DATABASE_URL not set"),
        }
    }
}

// ---- a Server-Sent Events listener, shared with reports.rs and nodes.rs ------------

/// One event of a stream.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl SseEvent {
    /// The numeric `id:`.
    #[track_caller]
    pub fn id(&self) -> i64 {
        self.id
            .as_deref()
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("event without a numeric id: {self:?}"))
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {self:?}"))
    }
}

/// An open `text/event-stream` answer, read as it comes.
pub struct Listener {
    res: reqwest::Response,
    buf: String,
}

impl Listener {
    /// Connect to `path` on `base`; a refusal comes back as the whole answer.
    pub async fn open(
        base: &str,
        path: &str,
        token: Option<&str>,
        last_event_id: Option<i64>,
    ) -> Result<Self, Answer> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("HTTP client");
        let mut req = http
            .get(format!("{base}{path}"))
            .header("accept", "text/event-stream");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = tokio::time::timeout(LIVE, req.send())
            .await
            .unwrap_or_else(|_| panic!("no answer headers from {path} within {LIVE:?}"))
            .expect("stream request sent");
        let status = res.status().as_u16();
        if status != 200 {
            let headers = res.headers().clone();
            let body = res.text().await.unwrap_or_default();
            return Err(Answer {
                status,
                headers,
                body,
            });
        }
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        Ok(Self {
            res,
            buf: String::new(),
        })
    }

    /// A complete event from what was read so far (comments, the keep-alives, skipped).
    fn take(&mut self) -> Option<SseEvent> {
        loop {
            let end = self.buf.find("\n\n")?;
            let block: String = self.buf.drain(..end + 2).collect();
            let mut ev = SseEvent {
                id: None,
                event: "message".into(),
                data: String::new(),
            };
            let mut data = Vec::new();
            for line in block.lines() {
                if line.is_empty() || line.starts_with(':') {
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => ev.id = Some(value.to_string()),
                    "event" => ev.event = value.to_string(),
                    "data" => data.push(value.to_string()),
                    _ => {}
                }
            }
            if !data.is_empty() {
                ev.data = data.join("\n");
                return Some(ev);
            }
        }
    }

    /// The next event, or `None` when none comes within `within` (or the stream ends).
    pub async fn next(&mut self, within: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(ev) = self.take() {
                return Some(ev);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => {
                    self.buf
                        .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
                }
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => panic!("stream broke: {e}"),
                Err(_) => return None,
            }
        }
    }

    /// Ids of the events up to and including `last`, in the order they came.
    pub async fn ids_until(&mut self, last: i64, within: Duration) -> Vec<i64> {
        let deadline = Instant::now() + within;
        let mut ids = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(ev) = self.next(left).await else {
                panic!("event {last} did not come within {within:?}; got {ids:?}");
            };
            ids.push(ev.id());
            if ev.id() >= last {
                return ids;
            }
        }
    }
}

// ---- helpers ---------------------------------------------------------------------

fn warning(title: &str) -> Value {
    json!({
        "ward": WARD,
        "category": "FIRE",
        "severity": "severe",
        "urgency": "Immediate",
        "title": title,
        "body": format!("{title}. Người dân tránh xa khu vực, làm theo hướng dẫn của lực lượng chức năng."),
    })
}

/// A warning for TDP 1 only, not public.
fn group_warning(title: &str) -> Value {
    let mut w = warning(title);
    w["group"] = json!(TDP1);
    w["public"] = json!(false);
    w
}

/// Publish and expect 201; returns (warning id, event id).
async fn publish(app: &TestApp, token: &str, body: &Value) -> (i64, i64) {
    let a = app.post("/api/v1/warnings", Some(token), body).await;
    assert_eq!(a.status, 201, "publish: {}", a.brief());
    let v = a.json();
    (
        v["id"].as_i64().expect("id"),
        v["event_id"].as_i64().expect("event_id"),
    )
}

async fn stored_warnings(app: &TestApp) -> usize {
    let ward = app.unit_id(WARD).await;
    app.store
        .warnings(Some(ward), false, 1000)
        .await
        .expect("warnings")
        .len()
}

fn stream_path() -> String {
    format!("/api/v1/warnings/stream?ward={WARD}")
}

async fn listen(app: &TestApp, token: Option<&str>, last: Option<i64>) -> Listener {
    Listener::open(&app.base, &stream_path(), token, last)
        .await
        .unwrap_or_else(|a| panic!("warnings stream refused: {}", a.brief()))
}

#[track_caller]
fn invalid_fields(a: &Answer) -> Vec<String> {
    let p = assert_problem(a, 422);
    p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors in {p}"))
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_string())
        .collect()
}

/// Check an XML file with xmllint; with a schema, against it.
async fn xmllint(app: &TestApp, name: &str, xml: &str, schema: bool) {
    let file = app.scratch().join(name);
    std::fs::write(&file, xml).expect("write the XML");
    let mut c = tokio::process::Command::new("xmllint");
    c.arg("--noout");
    if schema {
        c.arg("--schema").arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/standards/CAP-v1.2.xsd"
        ));
    }
    let out = c.arg(&file).output().await.expect("xmllint runs");
    assert!(
        out.status.success(),
        "{name} does not validate: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The text of the first `<tag>` element.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))?;
    Some(&xml[start..start + end])
}

fn session_cookie(token: &str) -> String {
    format!("ww_session={token}")
}

// ---- tests -------------------------------------------------------------------------

async fn publishing_by_role(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let before = stored_warnings(&app).await;

    let (id, event_id) = publish(&app, &officer, &warning("Cháy lớn tại chợ Hàng")).await;
    assert!(event_id > 0);
    let mut mixed = warning("Cháy kho hàng ngõ 12");
    mixed["category"] = json!("fIrE");
    mixed["severity"] = json!("SEVERE");
    mixed["urgency"] = json!("immediate");
    let (id2, event2) = publish(&app, &officer, &mixed).await;
    assert!(id2 > id && event2 > event_id);
    assert_eq!(stored_warnings(&app).await, before + 2);

    // Stored in CAP's spelling, listed for anyone (they are public).
    let list = app
        .get_json(&format!("/api/v1/warnings?ward={WARD}"), None)
        .await;
    let w = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == id2)
        .unwrap_or_else(|| panic!("{id2} not listed: {list}"));
    assert_eq!(
        (
            &w["category"],
            &w["severity"],
            &w["urgency"],
            &w["certainty"]
        ),
        (
            &json!("Fire"),
            &json!("Severe"),
            &json!("Immediate"),
            &json!("Likely")
        ),
        "{w}"
    );
    assert_eq!(w["audience"], "ward");
    assert_eq!(w["public"], true);

    // Nobody else publishes.
    for user in ["dhk.dan", "dhk.totruong1", "dhk.lanhdao", "lt.congan"] {
        let token = app.demo_login(user).await;
        let a = app
            .post(
                "/api/v1/warnings",
                Some(&token),
                &warning("Không được phép"),
            )
            .await;
        assert_problem(&a, 403);
    }
    assert_problem(
        &app.post("/api/v1/warnings", None, &warning("Ẩn danh"))
            .await,
        401,
    );

    // Bad vocabularies: each field is named.
    let mut bad = warning("Từ vựng sai");
    bad["category"] = json!("Flood");
    bad["severity"] = json!("terrible");
    bad["urgency"] = json!("now");
    bad["certainty"] = json!("sure");
    let mut fields = invalid_fields(&app.post("/api/v1/warnings", Some(&officer), &bad).await);
    fields.sort();
    assert_eq!(fields, ["category", "certainty", "severity", "urgency"]);
    let mut bad = warning("");
    bad["group"] = json!("lach-tray-tdp-01");
    bad["body"] = json!("");
    let mut fields = invalid_fields(&app.post("/api/v1/warnings", Some(&officer), &bad).await);
    fields.sort();
    assert_eq!(fields, ["body", "groups", "title"]);
    assert_eq!(stored_warnings(&app).await, before + 2, "refusals stored");
}

async fn live_warnings_reach_whom_they_concern(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let resident = app.demo_login("dhk.dan").await;
    let other_officer = app.demo_login("lt.congan").await;

    let mut anonymous = listen(&app, None, None).await;
    let mut in_tdp1 = listen(&app, Some(&leader), None).await;
    let mut in_tdp2 = listen(&app, Some(&resident), None).await;
    let mut police = listen(&app, Some(&officer), None).await;

    // A public warning reaches everyone.
    let title = "Cảnh báo thủ đoạn giả danh công an gọi điện lừa đảo";
    let (id, event) = publish(&app, &officer, &warning(title)).await;
    for (who, l) in [
        ("anonymous", &mut anonymous),
        ("team leader", &mut in_tdp1),
        ("resident", &mut in_tdp2),
        ("officer", &mut police),
    ] {
        let e = l
            .next(LIVE)
            .await
            .unwrap_or_else(|| panic!("{who} did not hear the warning within {LIVE:?}"));
        assert_eq!(e.event, "warning", "{who}: {e:?}");
        assert_eq!(e.id(), event, "{who}");
        let data = e.json();
        assert_eq!(data["headline"], title, "{who}");
        assert_eq!(data["event_id"], event);
        assert_eq!(data["warning_id"], id);
        assert_eq!(data["msg_type"], "alert");
        assert_eq!(data["severity"], "Severe");
    }

    // For TDP 1 and the ward's own people only; then another ward's; then public again.
    let (_, private) = publish(
        &app,
        &officer,
        &group_warning("Đối tượng trộm chó xuất hiện ở TDP 1"),
    )
    .await;
    let mut elsewhere = warning("Cảnh báo của phường Lạch Tray");
    elsewhere["ward"] = json!("lach-tray");
    publish(&app, &other_officer, &elsewhere).await;
    let (_, sentinel) = publish(&app, &officer, &warning("Mất điện diện rộng tối nay")).await;

    let e = in_tdp1.next(LIVE).await.expect("TDP 1 hears its warning");
    assert_eq!(e.id(), private);
    assert_eq!(e.json()["audience"], "groups");
    assert_eq!(
        in_tdp1.next(LIVE).await.expect("then the public one").id(),
        sentinel
    );
    let e = police
        .next(LIVE)
        .await
        .expect("the officer hears everything");
    assert_eq!(e.id(), private);
    assert_eq!(police.next(LIVE).await.expect("public").id(), sentinel);
    for (who, l) in [
        ("anonymous", &mut anonymous),
        ("resident of TDP 2", &mut in_tdp2),
    ] {
        let e = l.next(LIVE).await.expect("the public warning");
        assert_eq!(e.id(), sentinel, "{who} heard another event first: {e:?}");
    }
}

async fn resuming_replays_what_the_listener_may_see(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let resident = app.demo_login("dhk.dan").await;
    let other_officer = app.demo_login("lt.congan").await;

    let (_, first) = publish(&app, &officer, &warning("Nước ngập sâu đường Chợ Hàng")).await;
    let (_, private) = publish(
        &app,
        &officer,
        &group_warning("Tuần tra tăng cường ở TDP 1"),
    )
    .await;
    let mut elsewhere = warning("Cảnh báo của phường Lạch Tray");
    elsewhere["ward"] = json!("lach-tray");
    publish(&app, &other_officer, &elsewhere).await;
    let (_, last) = publish(&app, &officer, &warning("Cây đổ chắn đường Miếu Hai Xã")).await;

    for (who, token, from, expected) in [
        ("anonymous", None, first, vec![last]),
        ("anonymous from 0", None, 0, vec![first, last]),
        (
            "team leader of TDP 1",
            Some(&leader),
            first,
            vec![private, last],
        ),
        ("resident of TDP 2", Some(&resident), first, vec![last]),
        ("officer", Some(&officer), first, vec![private, last]),
        ("officer from the last", Some(&officer), private, vec![last]),
    ] {
        let mut l = listen(&app, token.map(String::as_str), Some(from)).await;
        let got = l.ids_until(last, LIVE).await;
        assert_eq!(got, expected, "{who}, resuming after {from}");
        // Then it goes on live, without repeating itself.
        if who == "anonymous" {
            let (_, next) = publish(&app, &officer, &warning("Đường thông trở lại")).await;
            let e = l.next(LIVE).await.expect("live after the replay");
            assert_eq!(e.id(), next);
        }
    }

    // Without Last-Event-ID nothing is replayed.
    let mut fresh = listen(&app, None, None).await;
    let (_, now) = publish(&app, &officer, &warning("Cảnh báo mới nhất")).await;
    assert_eq!(fresh.next(LIVE).await.expect("live").id(), now);
}

/// A raw HTTP/1.1 connection: what a browser's kept-alive connection does.
struct RawConn {
    tcp: tokio::net::TcpStream,
    got: Vec<u8>,
}

impl RawConn {
    async fn open(app: &TestApp) -> Self {
        let addr = app.base.trim_start_matches("http://").to_string();
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        Self {
            tcp,
            got: Vec::new(),
        }
    }

    async fn send(&mut self, head: &str) {
        use tokio::io::AsyncWriteExt;
        self.tcp.write_all(head.as_bytes()).await.expect("send");
    }

    /// Read until `what` has come (or panic after `LIVE`); returns everything read up to
    /// and including it and keeps the rest.
    async fn until(&mut self, what: &str) -> String {
        use tokio::io::AsyncReadExt;
        let deadline = Instant::now() + LIVE;
        loop {
            if let Some(at) = self
                .got
                .windows(what.len())
                .position(|w| w == what.as_bytes())
            {
                let taken: Vec<u8> = self.got.drain(..at + what.len()).collect();
                return String::from_utf8_lossy(&taken).into_owned();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let mut buf = [0u8; 4096];
            match tokio::time::timeout(left, self.tcp.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => self.got.extend_from_slice(&buf[..n]),
                other => panic!(
                    "{what:?} did not come ({other:?}); got {:?}",
                    String::from_utf8_lossy(&self.got)
                ),
            }
        }
    }
}

/// A connection's first request for the stream is served on the lean path, a later one
/// on the same connection by the router: both answer alike, errors included.
async fn a_stream_is_the_same_on_a_new_or_a_reused_connection(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;

    // First on its connection (the lean path, through reqwest, fresh each time).
    let mut fresh = listen(&app, None, None).await;
    let fresh_headers = fresh.res.headers().clone();

    // Second on a kept-alive connection (the router).
    let mut reused = RawConn::open(&app).await;
    reused
        .send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await;
    let health = reused.until("\r\n\r\nok").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    reused
        .send(&format!(
            "GET {} HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n",
            stream_path()
        ))
        .await;
    let head = reused.until("\r\n\r\n").await.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    for name in [
        "content-type",
        "cache-control",
        "x-content-type-options",
        "x-frame-options",
        "referrer-policy",
        "content-security-policy",
    ] {
        let lean = fresh_headers
            .get(name)
            .unwrap_or_else(|| panic!("the lean path sent no {name}"))
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            head.contains(&format!("{name}: {lean}\r\n")),
            "{name}: {lean} not in {head}"
        );
    }

    let title = "Cháy kho hàng ở ngõ 12 \"Dư Hàng Kênh\" & đường Nguyễn Văn Linh";
    let (_, event) = publish(&app, &officer, &warning(title)).await;
    let e = fresh.next(LIVE).await.expect("the fresh listener hears it");
    assert_eq!(e.id(), event);
    assert_eq!(e.json()["headline"], title);
    let raw = reused.until("\n\n").await;
    let data = raw
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data in {raw:?}"));
    assert!(raw.contains(&format!("id: {event}\n")), "{raw:?}");
    assert_eq!(data, e.data, "both connections carry the same event");

    // Refusals on a fresh connection are the router's own answers.
    let unknown = Listener::open(
        &app.base,
        "/api/v1/warnings/stream?ward=khong-co",
        None,
        None,
    )
    .await
    .err()
    .expect("an unknown ward is refused");
    assert_problem(&unknown, 404);
    let no_ward = Listener::open(&app.base, "/api/v1/warnings/stream", None, None)
        .await
        .err()
        .expect("a stream without a ward is refused");
    assert_eq!(no_ward.status, 400, "{}", no_ward.brief());
    let stale = Listener::open(&app.base, &stream_path(), Some("not-a-session"), None)
        .await
        .err()
        .expect("a stale token is refused");
    assert_problem(&stale, 401);
}

async fn updates_and_cancellations_are_events(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let resident = app.demo_login("dhk.dan").await;
    let mut l = listen(&app, None, None).await;

    let (id, alert) = publish(&app, &officer, &warning("Cháy tại xưởng gỗ ngõ 80")).await;
    let e = l.next(LIVE).await.expect("alert");
    assert_eq!(
        (e.id(), e.json()["msg_type"].clone()),
        (alert, json!("alert"))
    );

    let updated = warning("Đám cháy ở xưởng gỗ ngõ 80 đã được khống chế");
    assert_problem(
        &app.put(&format!("/api/v1/warnings/{id}"), Some(&resident), &updated)
            .await,
        403,
    );
    let a = app
        .put(&format!("/api/v1/warnings/{id}"), Some(&officer), &updated)
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let update = a.json()["event_id"].as_i64().expect("event_id");
    assert_eq!(a.json()["id"], id);
    assert!(update > alert);
    let e = l.next(LIVE).await.expect("update");
    assert_eq!(e.id(), update);
    let data = e.json();
    assert_eq!(data["msg_type"], "update");
    assert_eq!(data["warning_id"], id);
    assert_eq!(
        data["headline"],
        "Đám cháy ở xưởng gỗ ngõ 80 đã được khống chế"
    );

    let a = app
        .post(
            &format!("/api/v1/warnings/{id}/cancel"),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let cancel = a.json()["event_id"].as_i64().expect("event_id");
    let e = l.next(LIVE).await.expect("cancel");
    assert_eq!(e.id(), cancel);
    assert_eq!(e.json()["msg_type"], "cancel");
    assert_eq!(e.json()["warning_id"], id);

    // Once cancelled, it stays so.
    let again = app
        .post(
            &format!("/api/v1/warnings/{id}/cancel"),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_problem(&again, 409);
    assert_problem(
        &app.put(&format!("/api/v1/warnings/{id}"), Some(&officer), &updated)
            .await,
        409,
    );
    let events = app.store.warning_events_of(id).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.msg_type.as_str()).collect();
    assert_eq!(kinds, ["alert", "update", "cancel"]);
    let active = app
        .get_json(&format!("/api/v1/warnings?ward={WARD}"), None)
        .await;
    assert!(
        active.as_array().unwrap().iter().all(|w| w["id"] != id),
        "a cancelled warning is listed as active: {active}"
    );
    assert_problem(
        &app.post("/api/v1/warnings/999999/cancel", Some(&officer), &json!({}))
            .await,
        404,
    );
}

async fn cap_messages_validate(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let (id, alert) = publish(&app, &officer, &warning("Sạt lở bờ kè sông Lạch Tray")).await;
    let a = app
        .put(
            &format!("/api/v1/warnings/{id}"),
            Some(&officer),
            &warning("Sạt lở bờ kè: đã rào chắn khu vực"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let update = a.json()["event_id"].as_i64().unwrap();
    let a = app
        .post(
            &format!("/api/v1/warnings/{id}/cancel"),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let cancel = a.json()["event_id"].as_i64().unwrap();
    let (_, private) = publish(&app, &officer, &group_warning("Chỉ cho TDP 1")).await;

    let identifier = |e: i64| format!("wardwatch-{WARD}-{e}");
    for (event, kind) in [(alert, "Alert"), (update, "Update"), (cancel, "Cancel")] {
        let a = app.get(&format!("/cap/alerts/{event}.xml"), None).await;
        assert_eq!(a.status, 200, "{}", a.brief());
        assert!(
            a.content_type().starts_with("application/cap+xml"),
            "{}",
            a.content_type()
        );
        xmllint(&app, &format!("cap-{event}.xml"), &a.body, true).await;
        let xml = &a.body;
        assert!(xml.contains("urn:oasis:names:tc:emergency:cap:1.2"));
        assert_eq!(element(xml, "identifier"), Some(identifier(event).as_str()));
        assert_eq!(element(xml, "msgType"), Some(kind));
        let sent = element(xml, "sent").expect("<sent>");
        assert!(sent.ends_with("+07:00"), "<sent>{sent}</sent>");
        let references = element(xml, "references");
        match kind {
            "Alert" => assert!(references.is_none(), "{xml}"),
            _ => {
                let r = references.unwrap_or_else(|| panic!("{kind} without <references>"));
                assert!(r.contains(&format!(",{},", identifier(alert))), "{r}");
                if kind == "Cancel" {
                    assert!(r.contains(&format!(",{},", identifier(update))), "{r}");
                }
            }
        }
    }
    assert_eq!(
        app.get(&format!("/cap/alerts/{private}.xml"), None)
            .await
            .status,
        404,
        "a warning for the ward's people only is not in the public feed"
    );
    assert_eq!(app.get("/cap/alerts/999999.xml", None).await.status, 404);

    // The index: well-formed Atom with every public message, the private one left out.
    for path in ["/cap/alerts.xml", &format!("/cap/alerts.xml?ward={WARD}")] {
        let a = app.get(path, None).await;
        assert_eq!(a.status, 200, "{}", a.brief());
        assert!(a.content_type().starts_with("application/atom+xml"));
        xmllint(&app, "feed.xml", &a.body, false).await;
        assert!(a.body.contains("http://www.w3.org/2005/Atom"));
        for e in [alert, update, cancel] {
            assert!(
                a.body.contains(&format!("/cap/alerts/{e}.xml\"")),
                "{path} lacks {e}"
            );
        }
        assert!(!a.body.contains(&format!("/cap/alerts/{private}.xml")));
        assert!(!a.body.contains("Chỉ cho TDP 1"));
        assert_eq!(a.body.matches("<entry>").count(), 3, "{}", a.body);
    }
}

async fn warnings_page_and_compose_form(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let resident = app.demo_login("dhk.dan").await;
    let path = format!("/wards/{WARD}/warnings");

    let public = "Cảnh báo trộm cắp xe máy tại chung cư";
    let private = "Theo dõi nhóm thanh niên lạ ở TDP 1";
    publish(&app, &officer, &warning(public)).await;
    publish(&app, &officer, &group_warning(private)).await;

    for (who, token, sees_private, form) in [
        ("anonymous", None, false, false),
        ("resident of TDP 2", Some(&resident), false, false),
        ("team leader of TDP 1", Some(&leader), true, false),
        ("officer", Some(&officer), true, true),
    ] {
        let page = app.page(&path, token.map(String::as_str)).await;
        let html = assert_html(&page, 200);
        assert!(
            html.contains(public),
            "{who} does not see the active warning"
        );
        assert_eq!(
            html.contains(private),
            sees_private,
            "{who} and the TDP 1 warning"
        );
        assert_eq!(
            html.contains("id=\"warning-form\""),
            form,
            "{who} and the compose form"
        );
    }

    // Posting the compose form publishes.
    let page = app.page(&path, Some(&officer)).await;
    let csrf = hidden_input(assert_html(&page, 200), "csrf").expect("csrf in the form");
    let before = stored_warnings(&app).await;
    let title = "Cắt nước toàn phường sáng Chủ nhật";
    let fields = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("title", title.to_string()),
            (
                "body",
                "Nhà máy nước sửa đường ống, cắt nước từ 6 giờ đến 12 giờ.".into(),
            ),
            ("instruction", "Bà con chủ động trữ nước.".into()),
            ("category", "Infra".into()),
            ("severity", "Minor".into()),
            ("urgency", "Expected".into()),
            ("certainty", "Likely".into()),
            ("site", String::new()),
            ("lat", String::new()),
            ("lon", String::new()),
            ("radius_m", String::new()),
            ("expires", String::new()),
            ("public", "true".into()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        app.send(
            app.req(Method::POST, &path, None)
                .header(COOKIE, session_cookie(&officer))
                .form(&form),
        )
    };
    let a = post(fields("not-the-token")).await;
    assert_eq!(a.status, 400, "without the page's csrf: {}", a.brief());
    assert_eq!(stored_warnings(&app).await, before);
    let a = post(fields(&csrf)).await;
    assert_eq!(a.status, 303, "{}", a.brief());
    let location = a.location().expect("redirect").to_string();
    let id: i64 = location
        .strip_prefix("/warnings/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("redirect to {location}"));
    let w = app.store.warning(id).await.unwrap().expect("stored");
    assert_eq!(w.headline, title);
    assert_eq!(
        (w.category.as_str(), w.severity.as_str()),
        ("Infra", "Minor")
    );
    assert!(w.public);
    assert_eq!(stored_warnings(&app).await, before + 1);
    // Everyone sees it, on the ward's page and its own.
    assert!(assert_html(&app.page(&path, None).await, 200).contains(title));
    assert!(assert_html(&app.page(&location, None).await, 200).contains(title));
    // A resident posting the form is refused.
    let page = app.page(&path, Some(&resident)).await;
    let resident_csrf = hidden_input(assert_html(&page, 200), "csrf").unwrap_or_default();
    let mut form = fields(&resident_csrf);
    form[1].1 = "Cảnh báo giả mạo".into();
    let a = app
        .send(
            app.req(Method::POST, &path, None)
                .header(COOKIE, session_cookie(&resident))
                .form(&form),
        )
        .await;
    assert_html(&a, 403);
    assert_eq!(stored_warnings(&app).await, before + 1);
    // A mistake comes back on the form, in Vietnamese.
    let mut form = fields(&csrf);
    form[1].1 = String::new();
    let a = post(form).await;
    let html = assert_html(&a, 422);
    assert!(html.contains("id=\"warning-form\""));
    assert_eq!(stored_warnings(&app).await, before + 1);
}

async fn compose_form_for_the_ward_only(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let path = format!("/wards/{WARD}/warnings");
    let page = app.page(&path, Some(&officer)).await;
    let html = assert_html(&page, 200);
    let csrf = hidden_input(html, "csrf").expect("csrf");
    // The browser sends what the form holds: the "public" box unticked sends nothing.
    let mut form: Vec<(&str, String)> = vec![
        ("csrf", csrf),
        ("title", "Chỉ cho tổ dân phố số 1".into()),
        ("body", "Họp tổ bảo vệ lúc 19 giờ tại nhà văn hoá.".into()),
        ("category", "Safety".into()),
        ("severity", "Minor".into()),
        ("urgency", "Expected".into()),
        ("certainty", "Likely".into()),
        ("groups", TDP1.into()),
        ("groups", "du-hang-kenh-tdp-03".into()),
    ];
    // A hidden input the form may carry for "public" goes along, as a browser sends it
    // (the checkbox itself, unticked, does not).
    let marker = "type=\"hidden\" name=\"public\" value=\"";
    if let Some(start) = html.find(marker).map(|i| i + marker.len()) {
        let end = html[start..].find('"').expect("end of the value");
        form.push(("public", html[start..start + end].to_string()));
    }
    let a = app
        .send(
            app.req(Method::POST, &path, None)
                .header(COOKIE, session_cookie(&officer))
                .form(&form),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());
    let id: i64 = a
        .location()
        .and_then(|l| l.strip_prefix("/warnings/"))
        .and_then(|s| s.parse().ok())
        .expect("redirect to the warning");
    let w = app.store.warning(id).await.unwrap().expect("stored");
    assert_eq!(w.audience, "groups");
    let mut groups = Vec::new();
    for g in app.store.warning_groups(id).await.unwrap() {
        groups.push(app.store.unit(g).await.unwrap().unwrap().code);
    }
    groups.sort();
    assert_eq!(
        groups,
        [TDP1, "du-hang-kenh-tdp-03"],
        "both selected groups"
    );
    assert!(!w.public, "an unticked “public” box published to everyone");
    let anonymous = app.page(&path, None).await;
    assert!(!assert_html(&anonymous, 200).contains("Chỉ cho tổ dân phố số 1"));
}

async fn concurrent_publications_all_arrive(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let mut l = listen(&app, None, None).await;
    let sent: std::collections::BTreeSet<i64> = futures_util::future::join_all((0..30).map(|i| {
        let (app, officer) = (&app, &officer);
        async move {
            publish(
                app,
                officer,
                &warning(&format!("Cảnh báo đồng thời số {i}")),
            )
            .await
            .1
        }
    }))
    .await
    .into_iter()
    .collect();
    assert_eq!(sent.len(), 30);
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < sent.len() {
        match l.next(Duration::from_secs(10)).await {
            Some(e) => assert!(heard.insert(e.id()), "{} heard twice", e.id()),
            None => break,
        }
    }
    let missing: Vec<&i64> = sent.difference(&heard).collect();
    assert!(
        missing.is_empty(),
        "never heard {missing:?} of 30 publications"
    );
}
