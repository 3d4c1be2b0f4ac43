//! Open311 GeoReport v2: discovery and the service list in JSON and well-formed XML; an
//! application with a key from `wardwatch apikey add` files a report that the ward's
//! officers see with source open311; errors come in the spec's shape; the public reading
//! shows no reporter, blurred positions, and the description only to the filing app.

use reqwest::Method;
use serde_json::{Value, json};
use wardwatch::http::ctx::hash_token;
use wardwatch::store::Actor;

use crate::both;
use crate::helpers::{Answer, TestApp, cli, run};

both!(
    discovery_and_services,
    a_key_from_the_cli_files_a_report_the_officers_see,
    refusals_come_in_the_specs_shape,
    reading_requests_shows_no_reporter,
    listing_filters_and_windows,
);

const REQUESTS: &str = "/open311/v2/requests.json";

/// Checks a document with `xmllint --noout -`.
#[track_caller]
fn assert_well_formed(xml: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("xmllint")
        .args(["--noout", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("xmllint runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("xml written");
    let out = child.wait_with_output().expect("xmllint ends");
    assert!(
        out.status.success(),
        "not well-formed XML: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An XML answer: status, content type, declaration, well-formedness.
#[track_caller]
fn assert_xml(a: &Answer, status: u16) -> &str {
    assert_eq!(a.status, status, "{}", a.brief());
    assert!(
        a.content_type().starts_with("text/xml"),
        "content-type {:?}",
        a.content_type()
    );
    assert!(
        a.body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    assert_well_formed(&a.body);
    &a.body
}

/// A JSON answer of the spec's error shape; one description mentions `needle`.
#[track_caller]
fn assert_errors(a: &Answer, status: u16, needle: &str) -> Value {
    assert_eq!(a.status, status, "{}", a.brief());
    assert!(
        a.content_type().starts_with("application/json"),
        "content-type {:?} for {}",
        a.content_type(),
        a.brief()
    );
    let v = a.json();
    let errors = v.as_array().expect("an array of errors");
    assert!(!errors.is_empty(), "{v}");
    for e in errors {
        assert_eq!(e["code"], status, "{v}");
        assert!(
            e["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{v}"
        );
    }
    assert!(
        errors
            .iter()
            .any(|e| e["description"].as_str().unwrap().contains(needle)),
        "no error mentions {needle:?}: {v}"
    );
    v
}

/// An XML answer of the spec's error shape.
#[track_caller]
fn assert_xml_errors(a: &Answer, status: u16) {
    let body = assert_xml(a, status);
    assert!(
        body.contains(&format!(
            "<errors><error><code>{status}</code><description>"
        )),
        "{body}"
    );
}

/// The texts of every `<tag>` element.
fn xml_values(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|s| s.split_once(&close).map(|(v, _)| v.to_string()))
        .collect()
}

async fn issue_key(app: &TestApp, ward: &str, name: &str) -> String {
    wardwatch::open311::issue_key(app.store.as_ref(), Actor::default(), ward, name)
        .await
        .expect("key issued")
        .1
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Answer {
    app.send(app.req(Method::POST, path, None).form(form)).await
}

/// A request the Lạch Tray ward accepts, with `key`.
fn good_form(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", key.to_string()),
        ("jurisdiction_id", "lach-tray".into()),
        ("service_code", "suspicious".into()),
        ("lat", "20.85567".into()),
        ("long", "106.69234".into()),
        ("address_string", "Số 5 ngõ 12 Lạch Tray".into()),
        (
            "description",
            "Hai người lạ đi xe máy không biển số dò hỏi nhà nào vắng chủ".into(),
        ),
        ("first_name", "Nam".into()),
        ("last_name", "Nguyễn Văn".into()),
        ("phone", "0912 345 678".into()),
        ("email", "nam.nguyen@example.vn".into()),
    ]
}

fn with<'a>(
    form: &'a [(&'static str, String)],
    changes: &[(&'static str, Option<&'a str>)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = form
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    out.extend(changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
    out
}

/// Files a request and answers its id.
async fn file(app: &TestApp, form: &[(&str, &str)]) -> i64 {
    let a = post_form(app, REQUESTS, form).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    a.json()[0]["service_request_id"]
        .as_str()
        .expect("service_request_id is a string")
        .parse()
        .expect("a number")
}

async fn discovery_and_services(app: TestApp) {
    app.load_demo().await;
    let d = app.get_json("/open311/v2/discovery.json", None).await;
    assert!(
        d["changeset"].is_string() && d["contact"].is_string(),
        "{d}"
    );
    assert!(
        d["key_service"].as_str().unwrap().contains("apikey add"),
        "{d}"
    );
    let e = &d["endpoints"][0];
    assert_eq!(e["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(e["url"], format!("{}/open311/v2", app.base));
    assert_eq!(e["type"], "production");
    assert_eq!(e["formats"], json!(["text/xml", "application/json"]));

    let a = app.get("/open311/v2/discovery.xml", None).await;
    let xml = assert_xml(&a, 200);
    assert!(xml.contains("<discovery><changeset>"), "{xml}");
    assert_eq!(
        xml_values(xml, "url"),
        vec![format!("{}/open311/v2", app.base)]
    );
    assert_eq!(
        xml_values(xml, "format"),
        vec!["text/xml", "application/json"]
    );

    let a = app.get("/open311/v2/services.json", None).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert!(a.content_type().starts_with("application/json"));
    let services = a.json();
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 8, "{services}");
    for code in [
        "fire",
        "crime",
        "suspicious",
        "traffic",
        "public_order",
        "social_evils",
        "domestic_violence",
        "other",
    ] {
        assert!(codes.contains(&code), "{code} missing: {services}");
    }
    for s in services.as_array().unwrap() {
        assert_eq!(s["metadata"], false, "{s}");
        assert_eq!(s["type"], "realtime", "{s}");
        for f in ["service_name", "description", "keywords", "group"] {
            assert!(s[f].as_str().is_some_and(|v| !v.is_empty()), "{f}: {s}");
        }
    }
    let fire = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "fire")
        .unwrap();
    assert_eq!(fire["service_name"], "Cháy, nổ");
    let en = app
        .get_json("/open311/v2/services.json?lang=en", None)
        .await;
    assert!(
        en.as_array()
            .unwrap()
            .iter()
            .any(|s| s["service_name"] == "Fire and explosion"),
        "{en}"
    );

    let a = app.get("/open311/v2/services.xml", None).await;
    let xml = assert_xml(&a, 200);
    assert!(xml.contains("<services><service><service_code>"), "{xml}");
    assert_eq!(xml_values(xml, "service_code").len(), 8);
    assert_eq!(xml_values(xml, "metadata"), vec!["false"; 8]);
    assert!(xml_values(xml, "service_name").contains(&"Cháy, nổ".to_string()));

    // The jurisdiction is a ward code.
    let here = app
        .get_json("/open311/v2/services.json?jurisdiction_id=lach-tray", None)
        .await;
    assert_eq!(here.as_array().unwrap().len(), 8);
    let a = app
        .get("/open311/v2/services.json?jurisdiction_id=nowhere", None)
        .await;
    assert_errors(&a, 404, "jurisdiction_id");
    let a = app
        .get("/open311/v2/services.xml?jurisdiction_id=nowhere", None)
        .await;
    assert_xml_errors(&a, 404);

    // No service needs a definition, but asking for one answers an empty one.
    let def = app.get_json("/open311/v2/services/fire.json", None).await;
    assert_eq!(def, json!({"service_code": "fire", "attributes": []}));
    let a = app.get("/open311/v2/services/pothole.json", None).await;
    assert_errors(&a, 404, "service_code");

    // Unknown resources and methods, in the spec's shape too.
    assert_errors(
        &app.get("/open311/v2/tokens.json", None).await,
        404,
        "No such resource",
    );
    assert_errors(
        &app.get("/open311/v2/services", None).await,
        404,
        ".json or .xml",
    );
    assert_xml_errors(&app.get("/open311/v2/nothing.xml", None).await, 404);
    assert_errors(&app.get("/open311/v2/a/b.json", None).await, 404, "b.json");
    assert_xml_errors(&app.get("/open311/v3/services.xml", None).await, 404);
    let a = app
        .send(app.req(Method::PUT, "/open311/v2/requests.json", None))
        .await;
    assert_errors(&a, 405, "GET, POST");
    let a = app
        .send(app.req(Method::POST, "/open311/v2/services.xml", None))
        .await;
    assert_xml_errors(&a, 405);
}

async fn a_key_from_the_cli_files_a_report_the_officers_see(app: TestApp) {
    app.load_demo().await;
    let mut c = cli();
    c.arg("--data").arg(&app.data_dir);
    if let Some(url) = &app.database_url {
        c.arg("--database-url").arg(url);
    }
    c.args([
        "apikey",
        "add",
        "--ward",
        "lach-tray",
        "--name",
        "Ứng dụng Phản ánh Hải Phòng",
    ]);
    let ran = run(c).await;
    assert!(ran.ok, "apikey add failed: {}{}", ran.stdout, ran.stderr);
    let key = ran
        .stdout
        .lines()
        .last()
        .expect("output")
        .trim()
        .to_string();
    assert_eq!(key.len(), 64, "{}", ran.stdout);
    assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{}", ran.stdout);
    // Only the hash is stored.
    let stored = app
        .store
        .api_key_by_hash(&hash_token(&key))
        .await
        .unwrap()
        .expect("the key's hash is stored");
    assert_eq!(stored.ward_id, app.unit_id("lach-tray").await);
    assert_eq!(stored.name, "Ứng dụng Phản ánh Hải Phòng");
    assert!(app.store.api_key_by_hash(&key).await.unwrap().is_none());
    // A ward that does not exist gets no key.
    let mut c = cli();
    c.arg("--data").arg(&app.data_dir);
    if let Some(url) = &app.database_url {
        c.arg("--database-url").arg(url);
    }
    c.args(["apikey", "add", "--ward", "nowhere", "--name", "App"]);
    let ran = run(c).await;
    assert!(!ran.ok && ran.stderr.contains("nowhere"), "{}", ran.stderr);

    let form = good_form(&key);
    let extra = with(
        &form,
        &[
            ("device_id", Some("android-7f3a")),
            ("account_id", Some("user-42")),
            ("media_url", Some("https://photos.example.org/p/1.jpg")),
        ],
    );
    let a = post_form(&app, REQUESTS, &extra).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert!(a.content_type().starts_with("application/json"));
    let answer = a.json();
    assert_eq!(answer.as_array().unwrap().len(), 1, "{answer}");
    let id: i64 = answer[0]["service_request_id"]
        .as_str()
        .expect("a string id")
        .parse()
        .unwrap();
    assert!(
        answer[0]["service_notice"]
            .as_str()
            .unwrap()
            .contains("PA-"),
        "{answer}"
    );
    assert!(answer[0]["account_id"].is_null(), "{answer}");
    assert!(answer[0].get("token").is_none(), "{answer}");

    // A retry of the same request from the same device answers the same id.
    let again = post_form(&app, REQUESTS, &extra).await;
    assert_eq!(again.status, 200, "{}", again.brief());
    assert_eq!(again.json()[0]["service_request_id"], id.to_string());

    // The ward's officer sees it, reporter included, as an Open311 report.
    let token = app.demo_login("lt.congan").await;
    let list = app
        .get_json("/api/v1/reports?ward=lach-tray", Some(&token))
        .await;
    let ours: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "open311")
        .collect();
    assert_eq!(ours.len(), 1, "one report for the retried request: {list}");
    let r = ours[0];
    assert_eq!(r["id"], id);
    assert_eq!(r["category"], "suspicious");
    assert_eq!(r["anonymous"], false);
    assert_eq!(r["address"], "Số 5 ngõ 12 Lạch Tray");
    assert_eq!(r["lat"], 20.85567);
    let description = r["description"].as_str().unwrap();
    assert!(description.starts_with("Hai người lạ"), "{r}");
    assert!(
        description.contains("media_url: https://photos.example.org/p/1.jpg"),
        "{r}"
    );
    assert!(
        !description.contains("user-42"),
        "account ids are not kept: {r}"
    );
    assert_eq!(r["reporter"]["name"], "Nam Nguyễn Văn");
    assert_eq!(r["reporter"]["phone"], "0912345678");
    assert_eq!(r["reporter"]["email"], "nam.nguyen@example.vn");
    let stored = app.store.report(id).await.unwrap().unwrap();
    assert_eq!(stored.api_key_id, Some(stored_key_id(&app, &key).await));
    assert_eq!(stored.service_code.as_deref(), Some("suspicious"));

    // XML, with no name, phone or e-mail: an anonymous report; the address is enough.
    let a = post_form(
        &app,
        "/open311/v2/requests.xml",
        &[
            ("api_key", key.as_str()),
            ("service_code", "fire"),
            ("address_string", "Chợ Lạch Tray, cổng phía đông"),
            ("description", "Khói bốc lên từ ki-ốt bán đồ điện trong chợ"),
        ],
    )
    .await;
    let xml = assert_xml(&a, 200);
    assert!(
        xml.contains("<service_requests><request><service_request_id>"),
        "{xml}"
    );
    assert!(xml.contains("<account_id/>"), "{xml}");
    let xml_id: i64 = xml_values(xml, "service_request_id")[0].parse().unwrap();
    let r = app
        .get_json(&format!("/api/v1/reports/{xml_id}"), Some(&token))
        .await;
    assert_eq!(r["source"], "open311");
    assert_eq!(r["category"], "fire");
    assert_eq!(r["anonymous"], true);
    assert!(r["reporter"].is_null(), "{r}");
}

async fn stored_key_id(app: &TestApp, key: &str) -> i64 {
    app.store
        .api_key_by_hash(&hash_token(key))
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn refusals_come_in_the_specs_shape(app: TestApp) {
    app.load_demo().await;
    let key = issue_key(&app, "lach-tray", "Test app").await;
    let form = good_form(&key);

    let a = post_form(&app, REQUESTS, &with(&form, &[("api_key", None)])).await;
    assert_errors(&a, 403, "api_key");
    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("api_key", Some("not-a-key"))]),
    )
    .await;
    assert_errors(&a, 403, "api_key");
    let a = post_form(
        &app,
        "/open311/v2/requests.xml",
        &with(&form, &[("api_key", Some("not-a-key"))]),
    )
    .await;
    assert_xml_errors(&a, 403);
    // The key's ward is its only jurisdiction.
    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("jurisdiction_id", Some("du-hang-kenh"))]),
    )
    .await;
    assert_errors(&a, 403, "du-hang-kenh");

    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("service_code", Some("pothole"))]),
    )
    .await;
    assert_errors(&a, 400, "pothole");
    let a = post_form(&app, REQUESTS, &with(&form, &[("service_code", None)])).await;
    assert_errors(&a, 400, "service_code");
    let nowhere = [("lat", None), ("long", None), ("address_string", None)];
    let a = post_form(&app, REQUESTS, &with(&form, &nowhere)).await;
    assert_errors(&a, 400, "location");
    let mut by_id = nowhere.to_vec();
    by_id.push(("address_id", Some("545483")));
    let a = post_form(&app, REQUESTS, &with(&form, &by_id)).await;
    assert_errors(&a, 400, "address_id is not supported");
    let a = post_form(&app, REQUESTS, &with(&form, &[("long", None)])).await;
    assert_errors(&a, 400, "lat and long");
    let a = post_form(&app, REQUESTS, &with(&form, &[("lat", Some("48.85"))])).await;
    assert_errors(&a, 400, "lat:");
    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("description", Some("cháy"))]),
    )
    .await;
    assert_errors(&a, 400, "description:");
    let a = post_form(&app, REQUESTS, &with(&form, &[("phone", Some("12"))])).await;
    assert_errors(&a, 400, "phone:");
    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("email", Some("nam at home"))]),
    )
    .await;
    assert_errors(&a, 400, "email:");
    let a = post_form(
        &app,
        REQUESTS,
        &with(&form, &[("media_url", Some("file:///etc/passwd"))]),
    )
    .await;
    assert_errors(&a, 400, "media_url");
    // Several problems at once are listed together.
    let a = post_form(
        &app,
        REQUESTS,
        &with(
            &form,
            &[("description", Some("ngắn")), ("phone", Some("12"))],
        ),
    )
    .await;
    let v = assert_errors(&a, 400, "description:");
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    // The spec's body is a form; JSON is refused in the spec's shape, not as a problem.
    let a = app
        .send(
            app.req(Method::POST, REQUESTS, None)
                .json(&json!({"api_key": key, "service_code": "fire"})),
        )
        .await;
    assert_errors(&a, 400, "x-www-form-urlencoded");

    // Nothing was filed.
    let ward = app.unit_id("lach-tray").await;
    let filed = app.store.reports(ward, &Default::default()).await.unwrap();
    assert!(filed.is_empty(), "{filed:?}");
}

async fn reading_requests_shows_no_reporter(app: TestApp) {
    app.load_demo().await;
    let key = issue_key(&app, "lach-tray", "App one").await;
    let other_app = issue_key(&app, "lach-tray", "App two").await;
    let form = good_form(&key);
    let ours = file(&app, &with(&form, &[])).await;

    // A report from the resident's form (here an officer's), in a residential group.
    let ward_id = app.unit_id("lach-tray").await;
    let group = app
        .store
        .units_of_ward(ward_id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.kind().is_grassroots())
        .expect("a residential group");
    let token = app.demo_login("lt.congan").await;
    let a = app
        .post(
            "/api/v1/reports",
            Some(&token),
            &json!({
                "ward": "lach-tray",
                "category": "domestic_violence",
                "description": "Nhà bà Lan số 9 thường xuyên có tiếng đánh đập, cãi vã",
                "group": group.code,
                "address": "Số 9 ngõ 40 Tô Hiệu",
                "lat": "20.84321",
                "lon": "106.68789",
            }),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let theirs = a.json()["id"].as_i64().unwrap();

    let secrets = [
        "Nguyễn Văn",
        "0912345678",
        "nam.nguyen@example.vn",
        "Hai người lạ",
        "Số 5 ngõ 12",
        "bà Lan",
        "Số 9 ngõ 40",
        "20.85567",
        "106.69234",
        "20.84321",
    ];
    let public = app
        .get(&format!("{REQUESTS}?jurisdiction_id=lach-tray"), None)
        .await;
    assert_eq!(public.status, 200, "{}", public.brief());
    for s in secrets {
        assert!(!public.body.contains(s), "{s} published: {}", public.body);
    }
    let list = public.json();
    let find = |list: &Value, id: i64| -> Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["service_request_id"]
                    .as_str()
                    .and_then(|s| s.parse().ok())
                    == Some(id)
            })
            .unwrap_or_else(|| panic!("request {id} not listed: {list}"))
            .clone()
    };
    let r = find(&list, ours);
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "suspicious");
    assert_eq!(r["service_name"], "Người, hoạt động khả nghi");
    assert_eq!(r["lat"], 20.856);
    assert_eq!(r["long"], 106.692);
    assert_eq!(r["address"], "Phường Lạch Tray", "{r}");
    assert!(r.get("description").is_none(), "{r}");
    assert!(r.get("media_url").is_none(), "{r}");
    for f in ["requested_datetime", "updated_datetime"] {
        let t = r[f].as_str().unwrap();
        assert!(t.ends_with("+07:00") && t.len() == 25, "{f}: {t}");
    }
    let r = find(&list, theirs);
    assert_eq!(r["service_code"], "domestic_violence");
    assert_eq!(r["lat"], 20.843);
    assert_eq!(r["long"], 106.688);
    assert_eq!(
        r["address"],
        format!("{}, Phường Lạch Tray", group.name),
        "{r}"
    );
    assert!(r.get("description").is_none(), "{r}");

    // The application that filed a request reads back what it sent; no one else does.
    let mine = app
        .get_json(&format!("{REQUESTS}?api_key={key}"), None)
        .await;
    let r = find(&mine, ours);
    assert_eq!(
        r["description"],
        "Hai người lạ đi xe máy không biển số dò hỏi nhà nào vắng chủ"
    );
    assert_eq!(r["address"], "Số 5 ngõ 12 Lạch Tray");
    assert!(!mine.to_string().contains("0912345678"));
    assert!(find(&mine, theirs).get("description").is_none());
    let not_mine = app
        .get_json(&format!("{REQUESTS}?api_key={other_app}"), None)
        .await;
    assert!(find(&not_mine, ours).get("description").is_none());
    let a = app.get(&format!("{REQUESTS}?api_key=wrong"), None).await;
    assert_errors(&a, 403, "api_key");

    // Two wards: the jurisdiction must be named (or come from the key).
    let a = app.get(REQUESTS, None).await;
    assert_errors(&a, 400, "jurisdiction_id");
    let a = app
        .get(&format!("{REQUESTS}?jurisdiction_id=nowhere"), None)
        .await;
    assert_errors(&a, 404, "jurisdiction_id");
    let elsewhere = app
        .get_json(&format!("{REQUESTS}?jurisdiction_id=du-hang-kenh"), None)
        .await;
    assert_eq!(elsewhere, json!([]));

    // One request.
    let one = app
        .get_json(&format!("/open311/v2/requests/{ours}.json"), None)
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0], find(&list, ours));
    let a = app.get("/open311/v2/requests/999999.json", None).await;
    assert_errors(&a, 404, "999999");
    let a = app.get("/open311/v2/requests/abc.json", None).await;
    assert_errors(&a, 404, "abc");
    let a = app
        .get(
            &format!("/open311/v2/requests/{ours}.json?jurisdiction_id=du-hang-kenh"),
            None,
        )
        .await;
    assert_errors(&a, 404, "not found");
    assert_xml_errors(&app.get("/open311/v2/requests/999999.xml", None).await, 404);

    // XML.
    let a = app
        .get(&format!("/open311/v2/requests/{ours}.xml"), None)
        .await;
    let xml = assert_xml(&a, 200);
    assert!(xml.contains("<service_requests><request>"), "{xml}");
    assert_eq!(xml_values(xml, "lat"), vec!["20.856"]);
    assert_eq!(xml_values(xml, "status"), vec!["open"]);
    assert!(xml_values(xml, "description").is_empty(), "{xml}");
    let a = app
        .get("/open311/v2/requests.xml?jurisdiction_id=lach-tray", None)
        .await;
    let xml = assert_xml(&a, 200);
    assert_eq!(xml_values(xml, "service_request_id").len(), 2, "{xml}");
    for s in secrets {
        assert!(!xml.contains(s), "{s} published: {xml}");
    }
}

async fn listing_filters_and_windows(app: TestApp) {
    app.load_demo().await;
    let key = issue_key(&app, "lach-tray", "App").await;
    let form = good_form(&key);
    let suspicious = file(&app, &with(&form, &[])).await;
    let fire = file(
        &app,
        &with(
            &form,
            &[
                ("service_code", Some("fire")),
                ("description", Some("Chập điện cháy công tơ ở đầu ngõ")),
            ],
        ),
    )
    .await;
    let ids = |v: Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["service_request_id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    let q = |params: &str| format!("{REQUESTS}?jurisdiction_id=lach-tray&{params}");

    // Newest first.
    assert_eq!(
        ids(app.get_json(&q(""), None).await),
        vec![fire, suspicious]
    );
    assert_eq!(
        ids(app.get_json(&q("service_code=fire"), None).await),
        vec![fire]
    );
    assert_eq!(
        ids(app.get_json(&q("service_code=fire,suspicious"), None).await),
        vec![fire, suspicious]
    );
    assert_errors(
        &app.get(&q("service_code=pothole"), None).await,
        400,
        "pothole",
    );
    assert_eq!(
        ids(app.get_json(&q("status=closed"), None).await),
        Vec::<i64>::new()
    );
    assert_errors(&app.get(&q("status=pending"), None).await, 400, "status");

    // The officer closes one with an answer: it is closed, the answer its notes.
    let token = app.demo_login("lt.congan").await;
    let a = app
        .post(
            &format!("/api/v1/reports/{fire}/changes"),
            Some(&token),
            &json!({"status": "resolved", "answer": "Điện lực đã thay công tơ, không còn nguy cơ."}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let closed = app.get_json(&q("status=closed"), None).await;
    assert_eq!(ids(closed.clone()), vec![fire]);
    assert_eq!(closed[0]["status"], "closed");
    assert_eq!(
        closed[0]["status_notes"],
        "Điện lực đã thay công tơ, không còn nguy cơ."
    );
    assert_eq!(
        ids(app.get_json(&q("status=open"), None).await),
        vec![suspicious]
    );
    // Named requests override every other filter.
    assert_eq!(
        ids(app
            .get_json(
                &q(&format!(
                    "service_request_id={suspicious},{fire}&status=open"
                )),
                None
            )
            .await),
        vec![suspicious, fire]
    );

    // Windows: W3C datetimes with a timezone, at most 90 days.
    let now = chrono::Utc::now();
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let hour_ago = iso(now - chrono::Duration::hours(1));
    let in_an_hour = iso(now + chrono::Duration::hours(1));
    assert_eq!(
        ids(app
            .get_json(
                &q(&format!("start_date={hour_ago}&end_date={in_an_hour}")),
                None
            )
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(app
            .get_json(&q(&format!("start_date={in_an_hour}")), None)
            .await),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(app
            .get_json(&q("start_date=2020-01-01T00:00:00%2B07:00"), None)
            .await),
        Vec::<i64>::new()
    );
    assert_errors(
        &app.get(
            &q(&format!("start_date={in_an_hour}&end_date={hour_ago}")),
            None,
        )
        .await,
        400,
        "before",
    );
    assert_errors(
        &app.get(
            &q("start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z"),
            None,
        )
        .await,
        400,
        "90 days",
    );
    assert_errors(
        &app.get(&q("end_date=tomorrow"), None).await,
        400,
        "end_date",
    );
}
