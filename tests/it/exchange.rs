//! Import and export over HTTP: an import with one bad row changes nothing and names the
//! row; a good one writes every row; an export imports back unchanged; the upload page
//! answers in Vietnamese.

use reqwest::Method;
use reqwest::header;

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem, hidden_input};

both!(
    bad_row_changes_nothing,
    export_imports_back,
    upload_page_lists_bad_rows_in_vietnamese,
    registries_are_for_the_wards_own_people,
);

const GROUPS_IMPORT: &str = "/api/v1/wards/du-hang-kenh/import/groups?format=csv";

async fn import_csv(app: &TestApp, token: &str, path: &str, csv: &str) -> crate::helpers::Answer {
    app.send(
        app.req(Method::POST, path, Some(token))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(csv.to_string()),
    )
    .await
}

async fn ward_figures(app: &TestApp) -> (i64, i64, i64) {
    let wards = app.get_json("/api/v1/wards", None).await;
    let w = wards
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "du-hang-kenh")
        .expect("ward listed")
        .clone();
    (
        w["groups"].as_i64().unwrap(),
        w["households"].as_i64().unwrap(),
        w["residents"].as_i64().unwrap(),
    )
}

async fn bad_row_changes_nothing(app: TestApp) {
    app.load_demo().await;
    let token = app.demo_login("dhk.congan").await;
    let before = ward_figures(&app).await;
    assert_eq!(before, (22, 8480, 29628));
    let csv = "Mã tổ,Tên tổ dân phố,Số hộ,Số nhân khẩu\n\
               du-hang-kenh-tdp-23,Tổ dân phố số 23,120,400\n\
               du-hang-kenh-tdp-24,Tổ dân phố số 24,nhiều,10\n\
               du-hang-kenh-tdp-25,Tổ dân phố số 25,50,20\n";
    let a = import_csv(&app, &token, GROUPS_IMPORT, csv).await;
    let problem = assert_problem(&a, 422);
    let rows = problem["rows"].as_array().expect("rows listed");
    let lines: Vec<(i64, &str)> = rows
        .iter()
        .map(|r| (r["line"].as_i64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    // Line 3 has a word for a number; line 4 has fewer residents than households.
    assert!(lines.contains(&(3, "Số hộ")), "{problem}");
    assert!(lines.iter().any(|(l, _)| *l == 4), "{problem}");
    assert!(
        !lines.iter().any(|(l, _)| *l == 2),
        "good row reported: {problem}"
    );
    assert_eq!(
        ward_figures(&app).await,
        before,
        "a refused import wrote something"
    );

    let good = "Mã tổ,Tên tổ dân phố,Số hộ,Số nhân khẩu\n\
                du-hang-kenh-tdp-23,Tổ dân phố số 23,120,400\n\
                du-hang-kenh-tdp-24,Tổ dân phố số 24,80,260\n";
    let a = import_csv(&app, &token, GROUPS_IMPORT, good).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["created"], 2);
    assert_eq!(ward_figures(&app).await, (24, 8480 + 200, 29628 + 660));
}

async fn export_imports_back(app: TestApp) {
    app.load_demo().await;
    let token = app.demo_login("lt.congan").await;
    let a = app
        .get("/api/v1/wards/lach-tray/export/sites.xlsx", Some(&token))
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert!(
        a.content_type().contains("spreadsheetml"),
        "{}",
        a.content_type()
    );
    let csv = app
        .get("/api/v1/wards/lach-tray/export/sites.csv", Some(&token))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains("Chung cư SHP Plaza"), "{}", csv.brief());
    let sites_before = app
        .get_json("/api/v1/wards/lach-tray/sites", Some(&token))
        .await;
    let a = import_csv(
        &app,
        &token,
        "/api/v1/wards/lach-tray/import/sites?format=csv",
        csv.body.trim_start_matches('\u{feff}'),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let report = a.json();
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(
        report["updated"].as_u64().unwrap() as usize,
        sites_before.as_array().unwrap().len()
    );
    let sites_after = app
        .get_json("/api/v1/wards/lach-tray/sites", Some(&token))
        .await;
    let names = |v: &serde_json::Value| {
        let mut n: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|s| format!("{}|{}|{}", s["name"], s["apartments"], s["residents"]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&sites_before), names(&sites_after));

    // GeoJSON is public and puts longitude first (RFC 7946).
    let geo = app
        .get_json("/api/v1/wards/lach-tray/sites.geojson", None)
        .await;
    assert_eq!(geo["type"], "FeatureCollection");
    let first = &geo["features"][0]["geometry"]["coordinates"];
    assert!(first[0].as_f64().unwrap() > 100.0, "lon first: {first}");
    assert!(first[1].as_f64().unwrap() < 30.0, "lat second: {first}");
}

async fn upload_page_lists_bad_rows_in_vietnamese(app: TestApp) {
    app.load_demo().await;
    let token = app.demo_login("dhk.congan").await;
    let page = app.page("/wards/du-hang-kenh/exchange", Some(&token)).await;
    let html = assert_html(&page, 200);
    let csrf = hidden_input(html, "csrf").expect("session token on the page");
    let before = ward_figures(&app).await;
    let form = reqwest::multipart::Form::new()
        .text("registry", "groups")
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                "Mã tổ,Tên tổ dân phố,Số hộ\nx-tdp,Tổ dân phố mới,-5\n"
                    .as_bytes()
                    .to_vec(),
            )
            .file_name("to-dan-pho.csv"),
        );
    let a = app
        .send(
            app.req(
                Method::POST,
                &format!("/wards/du-hang-kenh/exchange?csrf={csrf}"),
                None,
            )
            .header(header::COOKIE, format!("ww_session={token}"))
            .multipart(form),
        )
        .await;
    let html = assert_html(&a, 422);
    assert!(html.contains("Không nhập dòng nào"), "{}", a.brief());
    assert!(
        html.contains("Cần một số nguyên không âm."),
        "{}",
        a.brief()
    );
    assert!(
        html.contains("<td>2</td>"),
        "the bad line is named: {}",
        a.brief()
    );
    assert_eq!(ward_figures(&app).await, before);

    // Without the form token the upload is refused outright.
    let a = app
        .send(
            app.req(Method::POST, "/wards/du-hang-kenh/exchange?csrf=nope", None)
                .header(header::COOKIE, format!("ww_session={token}"))
                .multipart(reqwest::multipart::Form::new().text("registry", "groups")),
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.brief());
}

async fn registries_are_for_the_wards_own_people(app: TestApp) {
    app.load_demo().await;
    let path = "/api/v1/wards/lach-tray/export/people.csv";
    assert_problem(&app.get(path, None).await, 401);
    let resident = app.demo_login("lt.dan").await;
    assert_problem(&app.get(path, Some(&resident)).await, 403);
    let other_officer = app.demo_login("dhk.congan").await;
    assert_problem(&app.get(path, Some(&other_officer)).await, 403);
    assert_problem(
        &import_csv(
            &app,
            &other_officer,
            "/api/v1/wards/lach-tray/import/groups?format=csv",
            "Tên tổ dân phố\nTổ dân phố số 9\n",
        )
        .await,
        403,
    );
    // Leadership may export, but not with personal data.
    let leader = app.demo_login("lt.lanhdao").await;
    let a = app.get(path, Some(&leader)).await;
    assert_eq!(a.status, 200);
    assert!(
        !a.body.chars().collect::<String>().contains("031"),
        "no citizen IDs"
    );
    assert_problem(
        &app.get(&format!("{path}?personal=true"), Some(&leader))
            .await,
        403,
    );
    let officer = app.demo_login("lt.congan").await;
    let a = app
        .get(&format!("{path}?personal=true"), Some(&officer))
        .await;
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains(",031"),
        "citizen IDs exported for the officer"
    );
}
