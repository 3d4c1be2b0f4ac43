//! Input checks at the API edge: every refused request says why (RFC 9457, a list of
//! fields for validation errors) and stores nothing; accepted text is stored NFC.

use serde_json::{Value, json};
use wardwatch::store::territory::SiteFilter;

use crate::both;
use crate::helpers::{TestApp, assert_problem};

const SITES: &str = "/api/v1/wards/lach-tray/sites";

both!(
    refused_sites_store_nothing,
    oversized_body_is_413,
    duplicate_site_names_conflict_per_ward,
    text_is_stored_nfc,
    people_checks,
);

async fn site_count(app: &TestApp) -> usize {
    let ward = app.unit_id("lach-tray").await;
    app.store
        .sites(
            ward,
            &SiteFilter {
                include_archived: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

fn fields_of(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list: {problem}"))
        .iter()
        .map(|e| {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "every field error has a message: {e}"
            );
            e["field"].as_str().expect("field").to_string()
        })
        .collect()
}

async fn refused_sites_store_nothing(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let before = site_count(&app).await;
    let audit_before = app
        .store
        .audit_trail(None, None, 1_000_000)
        .await
        .unwrap()
        .len();

    // Several bad fields at once: each is named.
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({
                "kind": "sân bay",
                "name": "",
                "lat": "91",
                "lon": "106.7",
                "residents": "abc",
                "floors": "-3",
                "group": "tdp-99",
            }),
        )
        .await;
    let p = assert_problem(&a, 422);
    let mut fields = fields_of(&p);
    fields.sort();
    assert_eq!(
        fields,
        ["floors", "group", "kind", "lat", "name", "residents"],
        "{p}"
    );
    assert_eq!(site_count(&app).await, before);

    // Markup in a name.
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "market", "name": "<script>alert(1)</script>"}),
        )
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(fields_of(&p), ["name"], "{p}");

    // An unknown kind alone.
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "spaceport", "name": "Sân bay vũ trụ"}),
        )
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(fields_of(&p), ["kind"], "{p}");

    // More foreigners than residents; half a position.
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "apartment_building", "name": "Chung cư thử",
                    "residents": 10, "foreign_residents": 11, "lat": "20.85"}),
        )
        .await;
    let p = assert_problem(&a, 422);
    let mut fields = fields_of(&p);
    fields.sort();
    assert_eq!(fields, ["foreign_residents", "lat"], "{p}");

    // A JSON syntax error: 400, with the parser's explanation.
    let a = app
        .send(
            app.req(reqwest::Method::POST, SITES, Some(&officer))
                .header("content-type", "application/json")
                .body(r#"{"kind": "market", "name": "Chợ"#),
        )
        .await;
    let p = assert_problem(&a, 400);
    assert!(p.get("errors").is_none(), "{p}");

    // JSON of the wrong shape, and no JSON content type at all.
    let a = app.post(SITES, Some(&officer), &json!(["market"])).await;
    assert!(a.status == 400 || a.status == 422, "{}", a.brief());
    assert_problem(&a, a.status);
    let a = app
        .send(
            app.req(reqwest::Method::POST, SITES, Some(&officer))
                .body(r#"{"kind": "market", "name": "Chợ mới"}"#),
        )
        .await;
    assert_problem(&a, 415);

    assert_eq!(site_count(&app).await, before, "nothing stored");
    let audit_after = app
        .store
        .audit_trail(None, None, 1_000_000)
        .await
        .unwrap()
        .len();
    assert_eq!(audit_after, audit_before, "nothing audited");

    // And the page lists what it listed before.
    let listed = app.get_json(SITES, Some(&officer)).await;
    assert_eq!(listed.as_array().unwrap().len(), before);
}

async fn oversized_body_is_413(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let before = site_count(&app).await;
    // A valid site whose notes make the body larger than 12 MiB.
    let notes = "a".repeat(12 * 1024 * 1024 + 16);
    let body = json!({"kind": "other", "name": "Quá lớn", "notes": notes}).to_string();
    let a = app
        .send(
            app.req(reqwest::Method::POST, SITES, Some(&officer))
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert_problem(&a, 413);
    assert_eq!(site_count(&app).await, before);

    // A large body under the limit is read (and refused for the note's length).
    let notes = "a".repeat(1024 * 1024);
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "other", "name": "Gần giới hạn", "notes": notes}),
        )
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(fields_of(&p), ["notes"]);
    assert_eq!(site_count(&app).await, before);
}

async fn duplicate_site_names_conflict_per_ward(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let before = site_count(&app).await;
    let name = "Nhà văn hoá tổ dân phố số 4";
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "venue", "name": name}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());

    let again = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "other", "name": format!("  {name} ")}),
        )
        .await;
    let p = assert_problem(&again, 409);
    assert_eq!(p["detail"], "Phường đã có một địa bàn cùng tên.", "{p}");
    assert_eq!(p["title"], "Trùng dữ liệu");
    // A name from the demo data, too.
    let demo = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "market", "name": "Chung cư SHP Plaza"}),
        )
        .await;
    assert_problem(&demo, 409);
    assert_eq!(site_count(&app).await, before + 1);

    // English on request.
    let en = app
        .send(
            app.req(reqwest::Method::POST, SITES, Some(&officer))
                .header("accept-language", "en")
                .json(&json!({"kind": "venue", "name": name})),
        )
        .await;
    let p = assert_problem(&en, 409);
    assert_eq!(p["detail"], "The ward already has a site with this name.");

    // The same name in the other ward is another site.
    let other = app.demo_login("dhk.congan").await;
    let a = app
        .post(
            "/api/v1/wards/du-hang-kenh/sites",
            Some(&other),
            &json!({"kind": "venue", "name": name}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
}

async fn text_is_stored_nfc(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    // "Chồ Đồng Tâm" with every mark as a combining character (NFD).
    let decomposed = "Cho\u{0302}\u{0300} \u{0110}o\u{0302}\u{0300}ng Ta\u{0302}m";
    let composed = "Ch\u{1ed3} \u{0110}\u{1ed3}ng T\u{e2}m";
    assert_ne!(decomposed, composed);
    let a = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "other", "name": decomposed,
                    "address": "Nga\u{0303} ba Lach Tray", "notes": "Ghi chu\u{0301}"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let site = a.json();
    assert_eq!(site["name"], composed);
    let id = site["id"].as_i64().unwrap();
    let stored = app.store.site(id).await.unwrap().expect("stored");
    assert_eq!(stored.name, composed);
    assert_eq!(stored.address, "Ng\u{e3} ba Lach Tray");
    assert_eq!(stored.notes, "Ghi ch\u{fa}");

    // The composed spelling is the same name: a duplicate.
    let dup = app
        .post(
            SITES,
            Some(&officer),
            &json!({"kind": "other", "name": composed}),
        )
        .await;
    assert_problem(&dup, 409);
    // And either spelling finds it.
    for q in [composed, decomposed, "cho dong tam"] {
        let url = format!("{SITES}?q={}", urlencode(q));
        let found = app.get_json(&url, Some(&officer)).await;
        assert!(
            found.as_array().unwrap().iter().any(|s| s["id"] == id),
            "{q:?} finds the site"
        );
    }
}

async fn people_checks(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let ward = app.unit_id("lach-tray").await;
    let count = || async {
        app.store
            .people(ward, &Default::default())
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    let path = "/api/v1/wards/lach-tray/people";
    let a = app
        .post(
            path,
            Some(&officer),
            &json!({"kind": "team_member", "full_name": "Nguyễn Văn Thử",
                    "phone": "12345", "citizen_id": "0312", "birth_date": "31/02/1990",
                    "team": 999_999}),
        )
        .await;
    let p = assert_problem(&a, 422);
    let mut fields = fields_of(&p);
    fields.sort();
    assert_eq!(fields, ["birth_date", "citizen_id", "phone", "team"], "{p}");

    // Too young for a security team.
    let teams = app
        .get_json("/api/v1/wards/lach-tray/teams", Some(&officer))
        .await;
    let team = teams[0]["id"].as_i64().unwrap();
    let young = chrono::Utc::now().date_naive() - chrono::Days::new(17 * 366);
    let a = app
        .post(
            path,
            Some(&officer),
            &json!({"kind": "team_member", "full_name": "Nguyễn Văn Trẻ", "team": team,
                    "birth_date": young.format("%d/%m/%Y").to_string()}),
        )
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(fields_of(&p), ["birth_date"], "{p}");

    // A citizen ID already in the registry: 409 with its own message.
    let existing = app
        .store
        .people(ward, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find_map(|p| p.citizen_id)
        .expect("demo IDs");
    let a = app
        .post(
            path,
            Some(&officer),
            &json!({"kind": "team_member", "full_name": "Nguyễn Văn Trùng", "team": team,
                    "citizen_id": existing}),
        )
        .await;
    let p = assert_problem(&a, 409);
    assert_eq!(p["detail"], "Số CCCD này đã có trong danh sách lực lượng.");
    // A second leader for a team.
    let a = app
        .post(
            path,
            Some(&officer),
            &json!({"kind": "team_member", "full_name": "Nguyễn Văn Hai", "team": team,
                    "team_role": "tổ trưởng"}),
        )
        .await;
    assert_problem(&a, 409);
    assert_eq!(count().await, before);

    // A good one, with a phone in international form.
    let a = app
        .post(
            path,
            Some(&officer),
            &json!({"kind": "team_member", "full_name": "Trần Thị Mới", "team": team,
                    "phone": "+84 912 000 111"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    assert_eq!(a.json()["phone"], "0912000111");
    assert_eq!(count().await, before + 1);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
