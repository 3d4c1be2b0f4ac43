//! Community reports of Dư Hàng Kênh through the JSON API and the pages: anonymous reports
//! behind the captcha and the per-address limit, what every role sees of them (the
//! reporter for officers only, each view audited), triage, duplicates and merges, photos
//! without their location data, and the officers' live inbox.

use std::time::Duration;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use wardwatch::reports::captcha::Captcha;
use wardwatch::store::reports::ReportFilter;

use crate::both;
use crate::helpers::{Answer, TestApp, assert_html, assert_problem, hidden_input};
use crate::warnings::Listener;

const WARD: &str = "du-hang-kenh";
const TDP1: &str = "du-hang-kenh-tdp-01";
const TDP2: &str = "du-hang-kenh-tdp-02";
/// A place in the ward (near Chợ Hàng).
const HERE: (f64, f64) = (20.8420, 106.6720);

both!(
    anonymous_report_with_captcha,
    a_wrong_answer_burns_the_captcha,
    anonymous_reports_never_show_a_reporter,
    logged_in_report_needs_no_captcha_and_is_idempotent,
    an_idempotency_key_is_the_callers_own,
    invalid_reports_store_nothing,
    markup_is_text_on_every_page,
    oversized_json_is_refused,
    anonymous_reports_are_limited_per_address,
    who_sees_which_reports,
    triage_shows_the_reporter_public_steps_only,
    duplicates_are_proposed_and_merged,
    photos_lose_their_location,
    refused_photos_store_nothing,
    the_inbox_hears_new_reports,
);

// ---- helpers ---------------------------------------------------------------------

/// The answer to a captcha token, found with the deployment's key.
async fn solve(app: &TestApp, token: &str) -> i64 {
    let key = app
        .store
        .setting_or_init("captcha_key", "x")
        .await
        .expect("settings");
    Captcha::new(key.as_bytes())
        .solve(token)
        .expect("a token signed with the deployment's key")
}

/// A fresh captcha from the API: (token, right answer).
async fn captcha(app: &TestApp) -> (String, String) {
    let c = app.get_json("/api/v1/captcha", None).await;
    assert!(
        c["svg"].as_str().is_some_and(|s| s.starts_with("<svg")),
        "{c}"
    );
    let token = c["token"].as_str().expect("token").to_string();
    let answer = solve(app, &token).await.to_string();
    (token, answer)
}

/// A report body at `HERE`.
fn report(category: &str, description: &str) -> Value {
    json!({
        "ward": WARD,
        "category": category,
        "description": description,
        "lat": HERE.0,
        "lon": HERE.1,
    })
}

/// POST a report without a login, with a solved captcha.
async fn file_anonymously(app: &TestApp, mut body: Value) -> Answer {
    let (token, answer) = captcha(app).await;
    body["captcha_token"] = json!(token);
    body["captcha_answer"] = json!(answer);
    app.post("/api/v1/reports", None, &body).await
}

/// POST a report and expect 201; returns the answer's JSON.
#[track_caller]
fn created(a: &Answer) -> Value {
    assert_eq!(a.status, 201, "report not created: {}", a.brief());
    let v = a.json();
    assert!(v["id"].as_i64().is_some(), "{v}");
    v
}

async fn file_as(app: &TestApp, token: &str, body: &Value) -> Value {
    created(&app.post("/api/v1/reports", Some(token), body).await)
}

/// Every report of the ward, as stored.
async fn stored(app: &TestApp) -> Vec<wardwatch::store::reports::Report> {
    let ward = app.unit_id(WARD).await;
    app.store
        .reports(ward, &ReportFilter::default())
        .await
        .expect("reports")
}

/// The fields a 422 problem names.
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

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

fn by_id(list: &Value, id: i64) -> &Value {
    list.as_array()
        .expect("a list")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("report {id} not in {list}"))
}

/// "view" audit entries about one report.
async fn views_of(app: &TestApp, report: i64) -> usize {
    let ward = app.unit_id(WARD).await;
    app.store
        .audit_trail(Some(ward), Some(("report", report)), 1000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action == "view")
        .count()
}

/// A small JPEG whose Exif segment says where the phone was.
fn jpeg_with_gps() -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    b.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    let exif = b"Exif\0\0MM\0*GPSLatitude 20.8420N GPSLongitude 106.6720E";
    b.extend_from_slice(&[0xFF, 0xE1]);
    b.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    b.extend_from_slice(exif);
    b.extend_from_slice(&[
        0xFF, 0xDA, 0x00, 0x04, 0x01, 0x02, 0x11, 0x22, 0x33, 0x44, 0xFF, 0xD9,
    ]);
    b
}

/// The report page's form, filled in for an anonymous report, with the captcha the page
/// drew (its token from the hidden input, its answer from the key).
async fn page_form(app: &TestApp, description: &str) -> Form {
    let page = app.page(&format!("/report?ward={WARD}"), None).await;
    let html = assert_html(&page, 200);
    assert!(html.contains("id=\"report-form\""), "no report form");
    let token = hidden_input(html, "captcha_token").expect("captcha token in the form");
    let answer = solve(app, &token).await;
    Form::new()
        .text("ward", WARD)
        .text("category", "fire")
        .text("description", description.to_string())
        .text("occurred_at", "")
        .text("lat", HERE.0.to_string())
        .text("lon", HERE.1.to_string())
        .text("address", "Ngõ 12 đường Chợ Hàng")
        .text("anonymous", "true")
        .text("captcha_token", token)
        .text("captcha_answer", answer.to_string())
}

fn photo(bytes: Vec<u8>, name: &str, mime: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .expect("mime")
}

async fn post_page_form(app: &TestApp, form: Form) -> Answer {
    app.send(app.req(Method::POST, "/report", None).multipart(form))
        .await
}

/// POST a body over a raw connection, reading the answer while the body is still being
/// written: a server that refuses a body early answers and closes, and an HTTP client that
/// writes first and reads after sees only the broken pipe.
async fn post_while_reading(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let writer = tokio::spawn(async move {
        // The server may stop reading half-way: that is what is being tested.
        if wr.write_all(head.as_bytes()).await.is_ok() {
            let _ = wr.write_all(&body).await;
        }
        wr
    });
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let split = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(30), rd.read(&mut chunk))
            .await
            .expect("an answer within 30 s")
            .expect("read the answer");
        assert!(n > 0, "connection closed without an answer");
        got.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&got[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("status line in {head}"));
    let mut headers = reqwest::header::HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':').expect("header line");
        headers.append(
            reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).expect("header name"),
            v.trim().parse().expect("header value"),
        );
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while got.len() < split + length {
        match rd.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
        }
    }
    writer.abort();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&got[split..]).to_string(),
    }
}

// ---- tests -------------------------------------------------------------------------

async fn anonymous_report_with_captcha(app: TestApp) {
    app.load_demo().await;
    let before = stored(&app).await.len();
    let mut body = report("fire", "Khói bốc lên từ kho hàng cuối ngõ 12 Chợ Hàng");
    body["anonymous"] = json!(true);

    // A wrong sum is refused under captcha_answer.
    let (token, answer) = captcha(&app).await;
    let wrong = (answer.parse::<i64>().unwrap() + 1).to_string();
    body["captcha_token"] = json!(token);
    body["captcha_answer"] = json!(wrong);
    let a = app.post("/api/v1/reports", None, &body).await;
    assert_eq!(invalid_fields(&a), ["captcha_answer"]);
    // No captcha at all is refused the same way.
    let mut bare = body.clone();
    bare["captcha_token"] = json!("");
    bare["captcha_answer"] = json!("");
    let a = app.post("/api/v1/reports", None, &bare).await;
    assert_eq!(invalid_fields(&a), ["captcha_answer"]);
    assert_eq!(stored(&app).await.len(), before);

    // The right sum on a fresh token.
    let (token, answer) = captcha(&app).await;
    body["captcha_token"] = json!(token);
    body["captcha_answer"] = json!(answer);
    let a = app.post("/api/v1/reports", None, &body).await;
    let made = created(&a);
    let code = made["tracking_code"].as_str().expect("tracking code");
    assert!(
        code.len() == 12 && code.starts_with("PA-"),
        "tracking code {code}"
    );
    assert_eq!(made["status"], "new");
    assert_eq!(made["url"], app.url(&format!("/track/{code}")).as_str());

    // The same token a second time: refused, nothing stored.
    body["description"] = json!("Lần thứ hai dùng cùng một mã kiểm tra");
    let a = app.post("/api/v1/reports", None, &body).await;
    assert_eq!(invalid_fields(&a), ["captcha_answer"]);
    assert_eq!(stored(&app).await.len(), before + 1);

    // Following it by its code: new, and nothing about who sent it.
    let t = app.get_json(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t["tracking_code"], code);
    assert_eq!(t["status"], "new");
    assert_eq!(t["category"], "fire");
    assert_eq!(t["answer"], "");
    assert!(t["merged_into"].is_null(), "{t}");
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(
        keys.iter().all(|k| !k.contains("reporter")
            && !k.contains("phone")
            && !k.contains("name")
            && !k.contains("description")),
        "tracking shows {keys:?}"
    );
    // Lower case works too; an unknown code does not.
    let lower = app
        .get(&format!("/api/v1/track/{}", code.to_lowercase()), None)
        .await;
    assert_eq!(lower.status, 200, "{}", lower.brief());
    assert_problem(&app.get("/api/v1/track/PA-AAAA-AAAA", None).await, 404);
}

async fn a_wrong_answer_burns_the_captcha(app: TestApp) {
    app.load_demo().await;
    let mut body = report("crime", "Có người lạ cạy khoá xe máy trước cổng chợ");
    body["anonymous"] = json!(true);
    let (token, answer) = captcha(&app).await;
    body["captcha_token"] = json!(token);
    // A bot guessing the sum: every wrong guess is refused...
    let right: i64 = answer.parse().unwrap();
    let guess = if right == 2 { 3 } else { 2 };
    body["captcha_answer"] = json!(guess.to_string());
    assert_eq!(
        invalid_fields(&app.post("/api/v1/reports", None, &body).await),
        ["captcha_answer"]
    );
    // ...and the picture it guessed on is spent: "solve the new picture", as the message
    // says, or 17 tries solve any captcha.
    body["captcha_answer"] = json!(answer);
    let a = app.post("/api/v1/reports", None, &body).await;
    assert_eq!(invalid_fields(&a), ["captcha_answer"], "{}", a.brief());
    assert!(stored(&app).await.is_empty());
}

async fn anonymous_reports_never_show_a_reporter(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let resident = app.demo_login("dhk.dan").await;

    // Without an account, anonymous.
    let mut body = report(
        "social_evils",
        "Nhóm thanh niên tụ tập hút chích sau nhà văn hoá",
    );
    body["anonymous"] = json!(true);
    let anonymous = created(&file_anonymously(&app, body).await);
    // Without an account, with a name and a phone.
    let mut body = report("traffic", "Xe tải đỗ chắn lối vào ngõ 34 suốt đêm qua");
    body["name"] = json!("Trần Thị Hoa");
    body["phone"] = json!("0912 345 678");
    let named = created(&file_anonymously(&app, body).await);
    // A resident who chose to stay anonymous, name and phone filled in by habit.
    let mut body = report("crime", "Trộm cắp xe đạp ở nhà xe khu tập thể");
    body["anonymous"] = json!("true");
    body["name"] = json!("Nguyễn Văn Dân");
    body["phone"] = json!("0987654321");
    let hidden = file_as(&app, &resident, &body).await;

    let list = app
        .get_json(&format!("/api/v1/reports?ward={WARD}"), Some(&officer))
        .await;
    for r in [&anonymous, &hidden] {
        let seen = by_id(&list, r["id"].as_i64().unwrap());
        assert_eq!(seen["anonymous"], true, "{seen}");
        assert!(seen["reporter"].is_null(), "anonymous shows {seen}");
        let one = app
            .get_json(&format!("/api/v1/reports/{}", r["id"]), Some(&officer))
            .await;
        assert!(one["reporter"].is_null(), "{one}");
    }
    let seen = by_id(&list, named["id"].as_i64().unwrap());
    assert_eq!(seen["reporter"]["name"], "Trần Thị Hoa", "{seen}");
    assert_eq!(seen["reporter"]["phone"], "0912345678", "{seen}");

    // Nothing of the resident was kept with the anonymous report.
    let row = app
        .store
        .report(hidden["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(row.anonymous);
    assert_eq!(row.reporter_name, "");
    assert_eq!(row.reporter_phone, "");
    assert_eq!(row.reporter_user_id, None);
    assert!(!list.to_string().contains("0987654321"));

    // Tracking a named report does not show the name either.
    let code = named["tracking_code"].as_str().unwrap();
    let t = app.get(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t.status, 200);
    assert!(
        !t.body.contains("Hoa") && !t.body.contains("0912345678"),
        "{}",
        t.body
    );
    let page = app.page(&format!("/track/{code}"), None).await;
    let html = assert_html(&page, 200);
    assert!(!html.contains("Trần Thị Hoa") && !html.contains("0912345678"));
}

async fn logged_in_report_needs_no_captcha_and_is_idempotent(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let officer = app.demo_login("dhk.congan").await;
    let before = stored(&app).await.len();
    let body = report("public_order", "Quán karaoke mở nhạc to quá 23 giờ mỗi tối");

    let send = |key: &'static str| {
        let req = app
            .req(Method::POST, "/api/v1/reports", Some(&resident))
            .header("Idempotency-Key", key)
            .json(&body);
        app.send(req)
    };
    let first = created(&send("9b1f-karaoke").await);
    let again = created(&send("9b1f-karaoke").await);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["tracking_code"], first["tracking_code"]);
    assert_eq!(stored(&app).await.len(), before + 1, "one row for one key");

    // Retries racing each other still make one report.
    let racing = futures_util::future::join_all((0..5).map(|_| send("c0de-race"))).await;
    let raced: Vec<Value> = racing.iter().map(created).collect();
    assert!(raced.iter().all(|r| r["id"] == raced[0]["id"]), "{raced:?}");
    assert_ne!(raced[0]["id"], first["id"]);
    assert_eq!(stored(&app).await.len(), before + 2);

    // Without a key, each post is a report of its own.
    file_as(&app, &resident, &body).await;
    file_as(&app, &resident, &body).await;
    assert_eq!(stored(&app).await.len(), before + 4);

    // The officer sees who sent it: the resident's account.
    let seen = app
        .get_json(&format!("/api/v1/reports/{}", first["id"]), Some(&officer))
        .await;
    let user = app
        .store
        .user_by_username("dhk.dan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen["reporter"]["user_id"], user.id, "{seen}");
    assert_eq!(seen["anonymous"], false);
    assert_eq!(seen["source"], "api");
}

async fn an_idempotency_key_is_the_callers_own(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let body = report(
        "domestic_violence",
        "Nghe tiếng đánh nhau và trẻ khóc ở nhà bên cạnh",
    );
    let mine = created(
        &app.send(
            app.req(Method::POST, "/api/v1/reports", Some(&resident))
                .header("Idempotency-Key", "1")
                .json(&body),
        )
        .await,
    );
    // Someone else, who happens to use the same (short, guessable) key.
    let mut other = report("traffic", "Đèn đường hỏng ở đầu ngõ 5 đã một tuần");
    other["anonymous"] = json!(true);
    let (token, answer) = captcha(&app).await;
    other["captcha_token"] = json!(token);
    other["captcha_answer"] = json!(answer);
    let a = app
        .send(
            app.req(Method::POST, "/api/v1/reports", None)
                .header("Idempotency-Key", "1")
                .json(&other),
        )
        .await;
    assert!(
        !a.body.contains(mine["tracking_code"].as_str().unwrap()),
        "another caller was given the resident's tracking code: {}",
        a.brief()
    );
}

async fn invalid_reports_store_nothing(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let before = stored(&app).await.len();
    let ok = report("fire", "Chập điện cột điện đầu ngõ, tia lửa bắn ra");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
        .format("%d/%m/%Y %H:%M")
        .to_string();

    let cases: Vec<(&str, Value, &str)> = vec![
        ("unknown category", json!({"category": "alien"}), "category"),
        (
            "short description",
            json!({"description": "Cháy!"}),
            "description",
        ),
        (
            "outside Vietnam",
            json!({"lat": 48.8566, "lon": 2.3522}),
            "lat",
        ),
        (
            "impossible latitude",
            json!({"lat": 95, "lon": 106.67}),
            "lat",
        ),
        ("half a position", json!({"lat": 20.84, "lon": ""}), "lat"),
        (
            "no place at all",
            json!({"lat": "", "lon": "", "address": "", "group": ""}),
            "place",
        ),
        (
            "future time",
            json!({"occurred_at": tomorrow}),
            "occurred_at",
        ),
        (
            "unknown group",
            json!({"group": "lach-tray-tdp-01"}),
            "group",
        ),
    ];
    for (what, change, field) in cases {
        let mut body = ok.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let a = app.post("/api/v1/reports", Some(&resident), &body).await;
        assert_eq!(a.status, 422, "{what}: {}", a.brief());
        assert!(
            invalid_fields(&a).iter().any(|f| f == field),
            "{what}: expected {field} in {}",
            a.body
        );
    }
    // An unknown ward.
    let mut body = ok.clone();
    body["ward"] = json!("khong-co-phuong-nay");
    assert_eq!(
        invalid_fields(&app.post("/api/v1/reports", Some(&resident), &body).await),
        ["ward"]
    );
    // Several mistakes at once are all named.
    let many = json!({"ward": WARD, "category": "x", "description": "ngắn"});
    let fields = invalid_fields(&app.post("/api/v1/reports", Some(&resident), &many).await);
    for f in ["category", "description", "place"] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    assert_eq!(stored(&app).await.len(), before, "refused reports stored");

    // "I don't know the exact place" is a place.
    let mut body = ok.clone();
    body["lat"] = json!("");
    body["lon"] = json!("");
    body["place_unknown"] = json!(true);
    file_as(&app, &resident, &body).await;
    assert_eq!(stored(&app).await.len(), before + 1);
}

async fn markup_is_text_on_every_page(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let officer = app.demo_login("dhk.congan").await;
    let script = "<script>alert(1)</script>";
    let mut body = report(
        "other",
        &format!("Có người dán tờ rơi lạ {script} ở bảng tin tổ dân phố"),
    );
    body["address"] = json!(format!("Bảng tin {script}"));
    let r = file_as(&app, &resident, &body).await;
    let id = r["id"].as_i64().unwrap();
    let code = r["tracking_code"].as_str().unwrap().to_string();
    let row = app.store.report(id).await.unwrap().unwrap();
    assert!(row.description.contains(script), "kept as written");

    // The officer answers, quoting it.
    let a = app
        .post(
            &format!("/api/v1/reports/{id}/changes"),
            Some(&officer),
            &json!({"status": "acknowledged", "answer": format!("Đã gỡ {script}"), "note": format!("Ghi chú {script}"), "public": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());

    for (what, page) in [
        ("tracking", app.page(&format!("/track/{code}"), None).await),
        (
            "tracking for the resident",
            app.page(&format!("/track/{code}"), Some(&resident)).await,
        ),
        (
            "report",
            app.page(&format!("/reports/{id}"), Some(&officer)).await,
        ),
        (
            "report for the resident",
            app.page(&format!("/reports/{id}"), Some(&resident)).await,
        ),
        (
            "inbox",
            app.page(&format!("/wards/{WARD}/inbox"), Some(&officer))
                .await,
        ),
    ] {
        let html = assert_html(&page, 200);
        assert!(
            !html.contains("<script>alert"),
            "{what} page runs the reporter's script"
        );
        // askama writes `<` and `>` as `&#60;` and `&#62;`: the same as `&lt;`, `&gt;`.
        let named = html.replace("&#60;", "&lt;").replace("&#62;", "&gt;");
        assert!(
            named.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{what} page does not show the text escaped: {html}"
        );
    }
}

async fn oversized_json_is_refused(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let before = stored(&app).await.len();
    let huge = "Cháy ".repeat(13 * 1024 * 1024 / 5);
    let body = serde_json::to_vec(&report("fire", &huge)).unwrap();
    let a = post_while_reading(&app, "/api/v1/reports", &resident, body).await;
    assert_problem(&a, 413);
    // Long, but under the limit of the whole request: a field error.
    let body = report("fire", &"Cháy lớn ".repeat(1000));
    assert_eq!(
        invalid_fields(&app.post("/api/v1/reports", Some(&resident), &body).await),
        ["description"]
    );
    assert_eq!(stored(&app).await.len(), before);
}

async fn anonymous_reports_are_limited_per_address(app: TestApp) {
    app.load_demo().await;
    let before = stored(&app).await.len();
    let limit = wardwatch::config::Config::new("unused".into()).anonymous_reports_per_hour;
    for i in 0..limit {
        let mut body = report(
            "other",
            &format!("Phản ánh thứ {i} trong giờ này từ một máy"),
        );
        body["anonymous"] = json!(true);
        created(&file_anonymously(&app, body).await);
    }
    let mut body = report("other", "Phản ánh vượt giới hạn trong một giờ");
    body["anonymous"] = json!(true);
    let a = file_anonymously(&app, body.clone()).await;
    assert_problem(&a, 429);
    let retry: u64 = a
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", a.headers))
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    assert_problem(&file_anonymously(&app, body.clone()).await, 429);
    assert_eq!(stored(&app).await.len(), before + limit);

    // Residents who log in are not held back by their neighbours' limit.
    let resident = app.demo_login("dhk.dan").await;
    body["anonymous"] = json!(false);
    file_as(&app, &resident, &body).await;
    assert_eq!(stored(&app).await.len(), before + limit + 1);
}

async fn who_sees_which_reports(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let officer = app.demo_login("dhk.congan").await;
    let leadership = app.demo_login("dhk.lanhdao").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let stranger = app.demo_login("lt.congan").await;

    let mut body = report(
        "suspicious",
        "Hai người lạ đi xe không biển số hỏi thăm nhà trống",
    );
    body["group"] = json!(TDP1);
    let in_tdp1 = file_as(&app, &resident, &body).await["id"]
        .as_i64()
        .unwrap();
    let mut body = report(
        "public_order",
        "Hàng quán lấn chiếm vỉa hè trước trường học",
    );
    body["group"] = json!(TDP2);
    let in_tdp2 = file_as(&app, &resident, &body).await["id"]
        .as_i64()
        .unwrap();
    let mut body = report("crime", "Đối tượng lạ trộm gương xe máy ở bãi xe chợ");
    body["anonymous"] = json!(true);
    let anonymous = created(&file_anonymously(&app, body).await)["id"]
        .as_i64()
        .unwrap();
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    let by_volunteer = file_as(
        &app,
        &volunteer,
        &report("traffic", "Xe container đỗ dưới lòng đường gần cổng chợ"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut all = vec![in_tdp1, in_tdp2, anonymous, by_volunteer];
    all.sort();
    let path = format!("/api/v1/reports?ward={WARD}");

    // The officer: every report, with the reporter; each listing is audited.
    assert_eq!(views_of(&app, in_tdp1).await, 0);
    let list = app.get_json(&path, Some(&officer)).await;
    let mut seen = ids(&list);
    seen.sort();
    assert_eq!(seen, all);
    let dan = app
        .store
        .user_by_username("dhk.dan")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id(&list, in_tdp1)["reporter"]["user_id"], dan.id);
    assert!(by_id(&list, in_tdp2)["reporter"]["name"].is_string());
    assert!(by_id(&list, anonymous)["reporter"].is_null());
    app.get_json(&path, Some(&officer)).await;
    assert_eq!(views_of(&app, in_tdp1).await, 2, "two listings, two views");
    assert_eq!(views_of(&app, in_tdp2).await, 2);
    let history = app
        .get_json(&format!("/api/v1/wards/{WARD}/history"), Some(&officer))
        .await;
    let views: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "view" && e["entity"] == "report")
        .collect();
    assert_eq!(
        views.len(),
        2 * 3,
        "two listings of three named reports: {history}"
    );
    assert!(views.iter().all(|e| e["username"] == "dhk.congan"));
    assert!(views.iter().any(|e| e["entity_id"] == in_tdp1));

    // Leadership: every report, never the reporter, and nothing to audit.
    let list = app.get_json(&path, Some(&leadership)).await;
    assert_eq!(ids(&list).len(), all.len());
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|r| r["reporter"].is_null()),
        "{list}"
    );
    assert_eq!(views_of(&app, in_tdp1).await, 2);

    // The team leader of TDP 1: that group's reports only.
    let list = app.get_json(&path, Some(&leader)).await;
    assert_eq!(ids(&list), [in_tdp1], "{list}");
    assert!(by_id(&list, in_tdp1)["reporter"].is_null());
    let own = app
        .get_json(&format!("{path}&group={TDP1}"), Some(&leader))
        .await;
    assert_eq!(ids(&own), [in_tdp1]);
    assert_problem(
        &app.get(&format!("{path}&group={TDP2}"), Some(&leader))
            .await,
        403,
    );
    assert_problem(
        &app.get(&format!("/api/v1/reports/{in_tdp2}"), Some(&leader))
            .await,
        403,
    );
    let one = app
        .get_json(&format!("/api/v1/reports/{in_tdp1}"), Some(&leader))
        .await;
    assert!(one["reporter"].is_null());

    // Everyone else lists what they filed themselves, never the reporter: the resident
    // their two (not the anonymous one), the volunteer theirs, the other ward's officer
    // nothing of this ward.
    let mine = app.get_json(&path, Some(&resident)).await;
    let mut seen = ids(&mine);
    seen.sort();
    assert_eq!(seen, [in_tdp1, in_tdp2], "{mine}");
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|r| r["reporter"].is_null())
    );
    let theirs = app.get_json(&path, Some(&volunteer)).await;
    assert_eq!(ids(&theirs), [by_volunteer]);
    let stranger_list = app.get_json(&path, Some(&stranger)).await;
    assert_eq!(ids(&stranger_list), Vec::<i64>::new(), "{stranger_list}");
    assert_problem(&app.get(&path, None).await, 401);
    assert_problem(
        &app.get(&format!("/api/v1/reports/{in_tdp1}"), Some(&stranger))
            .await,
        403,
    );
    assert_problem(
        &app.get(&format!("/api/v1/reports/{in_tdp1}"), None).await,
        401,
    );
    // The resident follows their own report, without being shown to themselves as reporter.
    let mine = app
        .get_json(&format!("/api/v1/reports/{in_tdp1}"), Some(&resident))
        .await;
    assert!(mine["reporter"].is_null());
    assert_problem(
        &app.get(&format!("/api/v1/reports/{anonymous}"), Some(&resident))
            .await,
        403,
    );
    assert_eq!(
        views_of(&app, in_tdp1).await,
        2,
        "only officers are audited"
    );
}

async fn triage_shows_the_reporter_public_steps_only(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let officer = app.demo_login("dhk.congan").await;
    let leadership = app.demo_login("dhk.lanhdao").await;
    let r = file_as(
        &app,
        &resident,
        &report(
            "social_evils",
            "Có dấu hiệu đánh bạc ăn tiền tại quán nước cuối ngõ",
        ),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    let code = r["tracking_code"].as_str().unwrap().to_string();
    let change = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/reports/{id}/changes"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let public_note = "Công an phường đã nhận tin và đang xác minh.";
    let private_note = "Nghi chủ quán Lê Văn Tư tổ chức, cần theo dõi thêm.";
    let answer = "Đã kiểm tra, lập biên bản xử phạt hành chính. Cảm ơn bà con đã báo tin.";

    // Only the ward's officers triage.
    assert_problem(
        &change(json!({"status": "acknowledged"}), leadership.clone()).await,
        403,
    );
    assert_problem(
        &change(json!({"status": "acknowledged"}), resident.clone()).await,
        403,
    );

    let a = change(
        json!({"status": "acknowledged", "note": public_note, "public": true}),
        officer.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["status"], "acknowledged");
    let a = change(json!({"note": private_note}), officer.clone()).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["status"], "acknowledged");

    let teams = app
        .get_json(&format!("/api/v1/wards/{WARD}/teams"), Some(&officer))
        .await;
    let team = teams[0]["id"].as_i64().expect("a team");
    let a = change(json!({"assign_team": team}), officer.clone()).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["status"], "assigned");
    assert_eq!(a.json()["assigned_team_id"], team);
    // A team of another ward cannot be given the report.
    let other_teams = app
        .get_json("/api/v1/wards/lach-tray/teams", Some(&officer))
        .await;
    let a = change(
        json!({"assign_team": other_teams[0]["id"]}),
        officer.clone(),
    )
    .await;
    assert_eq!(invalid_fields(&a), ["assign_team"]);

    let a = change(
        json!({"status": "resolved", "answer": answer}),
        officer.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["status"], "resolved");
    assert_eq!(a.json()["public_answer"], answer);

    // The reporter's view: the public steps and the answer, not the private note.
    let t = app.get_json(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["answer"], answer);
    let steps = t["steps"].as_array().expect("steps");
    let statuses: Vec<Option<&str>> = steps.iter().map(|s| s["status"].as_str()).collect();
    assert_eq!(
        statuses,
        [Some("new"), Some("acknowledged"), Some("resolved")],
        "{t}"
    );
    assert!(steps.iter().any(|s| s["note"] == public_note), "{t}");
    assert!(
        !t.to_string().contains("Lê Văn Tư"),
        "private note shown: {t}"
    );
    let page = app.page(&format!("/track/{code}"), None).await;
    let html = assert_html(&page, 200);
    assert!(html.contains(public_note));
    assert!(html.contains("Đã kiểm tra, lập biên bản xử phạt hành chính."));
    assert!(
        !html.contains("Lê Văn Tư"),
        "private note on the tracking page"
    );
    // The officer's page keeps the whole history.
    let page = app.page(&format!("/reports/{id}"), Some(&officer)).await;
    assert!(assert_html(&page, 200).contains("Lê Văn Tư"));

    // Closed reports move only by reopening.
    let a = change(json!({"status": "assigned"}), officer.clone()).await;
    assert_problem(&a, 409);
    let a = change(json!({"status": "new"}), officer.clone()).await;
    assert_problem(&a, 409);
    assert_eq!(
        app.store.report(id).await.unwrap().unwrap().status,
        "resolved"
    );
    let a = change(
        json!({"status": "in_progress", "note": "Người dân báo tái diễn.", "public": true}),
        officer.clone(),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["status"], "in_progress");
    let t = app.get_json(&format!("/api/v1/track/{code}"), None).await;
    assert_eq!(t["status"], "in_progress");
    // An unknown status is a field error.
    let a = change(json!({"status": "vanished"}), officer.clone()).await;
    assert_eq!(invalid_fields(&a), ["status"]);
}

async fn duplicates_are_proposed_and_merged(app: TestApp) {
    app.load_demo().await;
    let resident = app.demo_login("dhk.dan").await;
    let officer = app.demo_login("dhk.congan").await;
    let leadership = app.demo_login("dhk.lanhdao").await;

    let first = file_as(
        &app,
        &resident,
        &report("fire", "Cháy nhà dân cạnh chợ Hàng, khói đen bốc cao"),
    )
    .await;
    // 0.00045° of latitude: 50 m to the north.
    let mut body = report("fire", "Khói đen bốc cao, cháy nhà dân gần chợ Hàng");
    body["lat"] = json!(HERE.0 + 0.00045);
    body["anonymous"] = json!(true);
    let second = created(&file_anonymously(&app, body).await);
    // Something else entirely, far away.
    let mut body = report("traffic", "Ổ gà lớn giữa đường Nguyễn Văn Linh gây ngã xe");
    body["lat"] = json!(20.8570);
    body["lon"] = json!(106.6857);
    let other = file_as(&app, &resident, &body).await;
    let (a, b, c) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
        other["id"].as_i64().unwrap(),
    );

    let similar = app
        .get_json(&format!("/api/v1/reports/{b}/similar"), Some(&officer))
        .await;
    let proposed: Vec<i64> = similar
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["report"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(proposed, [a], "{similar}");
    let likeness = similar[0]["likeness"].as_f64().unwrap();
    assert!((0.55..=1.0).contains(&likeness), "{likeness}");
    assert!(similar[0]["report"]["reporter"].is_null());
    assert_problem(
        &app.get(&format!("/api/v1/reports/{b}/similar"), Some(&leadership))
            .await,
        403,
    );

    let merged = app
        .post(
            &format!("/api/v1/reports/{b}/merge"),
            Some(&officer),
            &json!({"into": a, "note": "Cùng một đám cháy"}),
        )
        .await;
    assert_eq!(merged.status, 200, "{}", merged.brief());
    let merged = merged.json();
    assert_eq!(merged["status"], "merged");
    assert_eq!(merged["merged_into"], a);
    let row = app.store.report(b).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.merged_into), ("merged", Some(a)));

    // Its reporter learns where it went.
    let code_a = first["tracking_code"].as_str().unwrap();
    let code_b = second["tracking_code"].as_str().unwrap();
    let t = app.get_json(&format!("/api/v1/track/{code_b}"), None).await;
    assert_eq!(t["status"], "merged");
    assert_eq!(t["merged_into"], code_a);
    let page = app.page(&format!("/track/{code_b}"), None).await;
    assert!(
        assert_html(&page, 200).contains(&format!("/track/{code_a}")),
        "the merged report's page names the other"
    );

    // A merged report is no longer proposed, and nothing merges into it.
    let similar = app
        .get_json(&format!("/api/v1/reports/{a}/similar"), Some(&officer))
        .await;
    assert!(!ids_of_suggestions(&similar).contains(&b), "{similar}");
    let into_merged = app
        .post(
            &format!("/api/v1/reports/{c}/merge"),
            Some(&officer),
            &json!({"into": b}),
        )
        .await;
    assert_problem(&into_merged, 409);
    let again = app
        .post(
            &format!("/api/v1/reports/{b}/merge"),
            Some(&officer),
            &json!({"into": c}),
        )
        .await;
    assert_problem(&again, 409);
    let itself = app
        .post(
            &format!("/api/v1/reports/{a}/merge"),
            Some(&officer),
            &json!({"into": a}),
        )
        .await;
    assert_problem(&itself, 409);
    assert_eq!(app.store.report(c).await.unwrap().unwrap().status, "new");
    // Only officers merge.
    let by_leadership = app
        .post(
            &format!("/api/v1/reports/{c}/merge"),
            Some(&leadership),
            &json!({"into": a}),
        )
        .await;
    assert_problem(&by_leadership, 403);
}

fn ids_of_suggestions(similar: &Value) -> Vec<i64> {
    similar
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["report"]["id"].as_i64().unwrap())
        .collect()
}

async fn photos_lose_their_location(app: TestApp) {
    app.load_demo().await;
    let before = stored(&app).await.len();
    let jpeg = jpeg_with_gps();
    assert!(String::from_utf8_lossy(&jpeg).contains("GPS"));
    let form = page_form(&app, "Cháy bãi rác sau chợ, ảnh chụp kèm theo")
        .await
        .part("photos", photo(jpeg, "IMG_0001.jpg", "image/jpeg"));
    let a = post_page_form(&app, form).await;
    assert_eq!(a.status, 303, "{}", a.brief());
    let location = a.location().expect("redirect").to_string();
    let code = location
        .strip_prefix("/track/")
        .and_then(|l| l.strip_suffix("?new=1"))
        .unwrap_or_else(|| panic!("redirect to {location}"))
        .to_string();
    assert_eq!(stored(&app).await.len(), before + 1);

    let page = app.page(&location, None).await;
    let html = assert_html(&page, 200);
    assert!(html.contains(&code), "the new code is shown");
    let row = app.report_by_code(&code).await.expect("stored");
    assert!(row.anonymous);
    assert_eq!(row.source, "web");
    let photos = app.store.photos(row.id).await.unwrap();
    assert_eq!(photos.len(), 1);
    let src = format!("/track/{code}/photos/{}", photos[0].id);
    assert!(html.contains(&src), "the tracking page shows the photo");

    let res = app
        .req(Method::GET, &src, None)
        .send()
        .await
        .expect("photo");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(bytes.ends_with(&[0x11, 0x22, 0x33, 0x44, 0xFF, 0xD9]));
    let window = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!window(b"GPS"), "the served photo still carries GPS");
    assert!(!window(b"Exif"), "the served photo still carries Exif");
    assert!(window(b"JFIF"), "the rest of the picture is kept");
    // Nor is it on disk.
    let on_disk = std::fs::read(app.data_dir.join("photos").join(&photos[0].file_name))
        .expect("photo file in the data directory");
    assert_eq!(on_disk, bytes.to_vec());

    // Another report's code does not open it.
    let resident = app.demo_login("dhk.dan").await;
    let other = file_as(
        &app,
        &resident,
        &report("other", "Một phản ánh khác không có ảnh"),
    )
    .await;
    let wrong = app
        .get(
            &format!(
                "/track/{}/photos/{}",
                other["tracking_code"].as_str().unwrap(),
                photos[0].id
            ),
            None,
        )
        .await;
    assert_eq!(wrong.status, 404);
}

async fn refused_photos_store_nothing(app: TestApp) {
    app.load_demo().await;
    let before = stored(&app).await.len();

    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    // A GIF, even when it calls itself a JPEG.
    let form = page_form(&app, "Ảnh động chụp vụ việc gửi kèm")
        .await
        .part("photos", photo(gif, "anh.jpg", "image/jpeg"));
    let a = post_page_form(&app, form).await;
    let html = assert_html(&a, 422);
    assert!(
        html.contains("Ảnh phải là tệp JPEG hoặc PNG."),
        "no Vietnamese explanation: {}",
        &html[..html.len().min(2000)]
    );
    assert!(html.contains("id=\"report-form\""), "the form comes back");
    assert!(
        html.contains("Ảnh động chụp vụ việc gửi kèm"),
        "what was typed is kept"
    );

    let mut big = jpeg_with_gps();
    big.truncate(big.len() - 2);
    big.resize(6 * 1024 * 1024, 0x55);
    let form = page_form(&app, "Ảnh rất lớn chụp từ điện thoại mới")
        .await
        .part("photos", photo(big, "IMG_9999.jpg", "image/jpeg"));
    let a = post_page_form(&app, form).await;
    let html = assert_html(&a, 422);
    assert!(
        html.contains("Mỗi ảnh tối đa 5 MiB."),
        "no size explanation"
    );

    // Six photos are one too many.
    let mut form = page_form(&app, "Sáu ảnh chụp cùng một vụ việc").await;
    for i in 0..6 {
        form = form.part(
            "photos",
            photo(jpeg_with_gps(), &format!("{i}.jpg"), "image/jpeg"),
        );
    }
    let a = post_page_form(&app, form).await;
    assert!(assert_html(&a, 422).contains("Gửi tối đa 5 ảnh."));

    assert_eq!(
        stored(&app).await.len(),
        before,
        "a refused report was stored"
    );
    let photos_dir = app.data_dir.join("photos");
    let files = std::fs::read_dir(&photos_dir)
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        files,
        0,
        "refused photos were kept in {}",
        photos_dir.display()
    );
}

async fn the_inbox_hears_new_reports(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let resident = app.demo_login("dhk.dan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let stranger = app.demo_login("lt.congan").await;
    let path = format!("/api/v1/reports/stream?ward={WARD}");

    // The other ward's report must not reach this inbox.
    let mut inbox = Listener::open(&app.base, &path, Some(&officer), None)
        .await
        .unwrap_or_else(|a| panic!("officer's stream: {}", a.brief()));
    let mut elsewhere = report("fire", "Cháy ở phường bên cạnh, không thuộc Dư Hàng Kênh");
    elsewhere["ward"] = json!("lach-tray");
    elsewhere["lat"] = json!(20.8449);
    elsewhere["lon"] = json!(106.6881);
    file_as(&app, &resident, &elsewhere).await;
    let r = file_as(
        &app,
        &resident,
        &report("fire", "Cháy xe máy trước số nhà 56, cần hỗ trợ gấp"),
    )
    .await;
    let id = r["id"].as_i64().unwrap();
    let e = inbox
        .next(Duration::from_secs(5))
        .await
        .expect("the new report within 5 s");
    assert_eq!(e.event, "report");
    assert_eq!(e.id(), id, "first event is this ward's report: {e:?}");
    let data = e.json();
    assert_eq!(data["id"], id);
    assert_eq!(data["category"], "fire");
    assert_eq!(data["priority"], 1);

    // Resuming from the last id seen replays what came after it.
    let second = file_as(
        &app,
        &resident,
        &report(
            "traffic",
            "Tai nạn giao thông nhẹ ở ngã tư, không ai bị thương",
        ),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    drop(inbox);
    let mut again = Listener::open(&app.base, &path, Some(&officer), Some(id))
        .await
        .unwrap_or_else(|a| panic!("resumed stream: {}", a.brief()));
    let e = again.next(Duration::from_secs(5)).await.expect("replayed");
    assert_eq!((e.event.as_str(), e.id()), ("report", second));

    for (who, token, status) in [
        ("team leader", Some(leader.as_str()), 403),
        ("resident", Some(resident.as_str()), 403),
        ("other ward's officer", Some(stranger.as_str()), 403),
        ("anonymous", None, 401),
    ] {
        match Listener::open(&app.base, &path, token, None).await {
            Ok(_) => panic!("{who} may listen to the inbox"),
            Err(a) => {
                assert_problem(&a, status);
            }
        }
    }
}
