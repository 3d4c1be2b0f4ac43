//! Search without diacritics: "du hang kenh" finds "Dư Hàng Kênh", "dong tam" finds
//! "Đồng Tâm" (đ → d), in any letter case; personal names only for the ward's own people.

use std::collections::BTreeSet;

use serde_json::Value;
use wardwatch::store::forces::PeopleFilter;

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem};

both!(
    search_ignores_marks_and_case,
    sites_list_search,
    search_page_lists_hits,
    names_only_for_the_wards_own_people,
);

fn titles(hits: &Value, entity: &str) -> BTreeSet<String> {
    hits.as_array()
        .unwrap_or_else(|| panic!("hits: {hits}"))
        .iter()
        .filter(|h| h["entity"] == entity)
        .map(|h| h["title"].as_str().expect("title").to_string())
        .collect()
}

fn q(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn search(app: &TestApp, text: &str, token: Option<&str>) -> Value {
    app.get_json(&format!("/api/v1/search?q={}", q(text)), token)
        .await
}

async fn search_ignores_marks_and_case(app: TestApp) {
    app.load_demo().await;

    let hits = search(&app, "du hang kenh", None).await;
    assert_eq!(hits[0]["entity"], "unit", "the ward comes first: {hits}");
    assert_eq!(hits[0]["title"], "Phường Dư Hàng Kênh");
    let dhk = app.unit_id("du-hang-kenh").await;
    assert_eq!(hits[0]["id"], dhk);
    let sites = titles(&hits, "site");
    assert!(sites.contains("Trường Tiểu học Dư Hàng Kênh"), "{sites:?}");
    assert!(!titles(&hits, "unit").contains("Phường Lạch Tray"));

    // Đồng Tâm: 12 blocks of the collective housing estate, whatever the spelling.
    let blocks = |hits: &Value| -> BTreeSet<String> {
        titles(hits, "site")
            .into_iter()
            .filter(|t| t.starts_with("Khu tập thể Đồng Tâm"))
            .collect()
    };
    let plain = search(&app, "dong tam", None).await;
    assert_eq!(blocks(&plain).len(), 12, "{plain}");
    assert!(blocks(&plain).contains("Khu tập thể Đồng Tâm - Nhà B6"));
    for spelling in ["DONG TAM", "Đồng Tâm", "đồng  tâm", "Dong-Tam", "tam dong"] {
        let other = search(&app, spelling, None).await;
        assert_eq!(blocks(&other), blocks(&plain), "{spelling:?}");
    }

    let market = search(&app, "cho hang", None).await;
    let sites = titles(&market, "site");
    assert!(sites.contains("Chợ Hàng"), "{sites:?}");
    assert!(sites.contains("Đường Chợ Hàng"), "{sites:?}");
    assert!(titles(&search(&app, "CHỢ HÀNG", None).await, "site").contains("Chợ Hàng"));

    // Nothing for what is not there; nothing for an empty query.
    assert_eq!(search(&app, "xyzzy", None).await, serde_json::json!([]));
    assert_eq!(search(&app, "  ", None).await, serde_json::json!([]));
    // A ward filter keeps the other ward's records out.
    let lt_only = app
        .get_json("/api/v1/search?q=duong&ward=lach-tray", None)
        .await;
    let lt = app.unit_id("lach-tray").await;
    assert!(!lt_only.as_array().unwrap().is_empty());
    assert!(
        lt_only
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["ward_id"] == lt),
        "{lt_only}"
    );
    assert_problem(
        &app.get("/api/v1/search?q=duong&ward=khong-co", None).await,
        404,
    );
}

async fn sites_list_search(app: TestApp) {
    app.load_demo().await;
    let all = app.get_json("/api/v1/wards/du-hang-kenh/sites", None).await;
    let found = app
        .get_json("/api/v1/wards/du-hang-kenh/sites?q=cho%20hang", None)
        .await;
    let names: BTreeSet<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(names.contains("Chợ Hàng"), "{names:?}");
    assert!(names.contains("Đường Chợ Hàng"), "{names:?}");
    assert!(!names.contains("Đường Nguyễn Văn Linh"), "{names:?}");
    assert!(names.len() < all.as_array().unwrap().len());
    let upper = app
        .get_json(
            "/api/v1/wards/du-hang-kenh/sites?q=CH%E1%BB%A2%20H%C3%80NG",
            None,
        )
        .await;
    assert_eq!(upper, found, "CHỢ HÀNG finds the same");

    // With a kind: only the market.
    let markets = app
        .get_json(
            "/api/v1/wards/du-hang-kenh/sites?q=cho%20hang&kind=cho",
            None,
        )
        .await;
    let names: Vec<&str> = markets
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["Chợ Hàng"]);
    let p = assert_problem(
        &app.get("/api/v1/wards/du-hang-kenh/sites?kind=san-bay", None)
            .await,
        422,
    );
    assert_eq!(p["errors"][0]["field"], "kind");

    // The other ward has no Chợ Hàng.
    let lt = app
        .get_json("/api/v1/wards/lach-tray/sites?q=cho%20hang", None)
        .await;
    assert!(
        lt.as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "Chợ Hàng")
    );
    // Đồng Tâm in Lạch Tray's own list.
    let dong_tam = app
        .get_json("/api/v1/wards/lach-tray/sites?q=DONG%20TAM", None)
        .await;
    assert_eq!(dong_tam.as_array().unwrap().len(), 12, "{dong_tam}");
}

async fn search_page_lists_hits(app: TestApp) {
    app.load_demo().await;
    let a = app.page("/search?q=dong+tam", None).await;
    let html = assert_html(&a, 200);
    assert!(html.contains("lang=\"vi\""));
    assert_eq!(
        html.matches("Khu tập thể Đồng Tâm - Nhà").count(),
        12,
        "each block once"
    );
    let ward = app.unit_id("lach-tray").await;
    let sites = app.store.sites(ward, &Default::default()).await.unwrap();
    let a1 = sites
        .iter()
        .find(|s| s.name == "Khu tập thể Đồng Tâm - Nhà A1")
        .expect("block A1");
    assert!(
        html.contains(&format!("href=\"/sites/{}\"", a1.id)),
        "links to the site"
    );
    let none = app.page("/search?q=xyzzy", None).await;
    let html = assert_html(&none, 200);
    assert!(html.contains("Không có kết quả."));
    let ward = app.page("/search?q=du+hang+kenh", None).await;
    assert!(assert_html(&ward, 200).contains("href=\"/wards/du-hang-kenh\""));
}

async fn names_only_for_the_wards_own_people(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id("lach-tray").await;
    let member = app
        .store
        .people(ward, &PeopleFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.kind == "team_member")
        .expect("a team member");
    let name = member.full_name.clone();
    let person_hits = |hits: &Value| -> Vec<i64> {
        hits.as_array()
            .unwrap()
            .iter()
            .filter(|h| h["entity"] == "person")
            .filter_map(|h| h["id"].as_i64())
            .collect()
    };

    let anonymous = search(&app, &name, None).await;
    assert!(person_hits(&anonymous).is_empty(), "{anonymous}");
    assert!(!anonymous.to_string().contains(&name), "{anonymous}");
    for user in ["lt.dan", "dhk.congan"] {
        let token = app.demo_login(user).await;
        let hits = search(&app, &name, Some(&token)).await;
        assert!(person_hits(&hits).is_empty(), "{user}: {hits}");
    }
    for user in ["lt.congan", "lt.lanhdao", "admin"] {
        let token = app.demo_login(user).await;
        let hits = search(&app, &name, Some(&token)).await;
        assert!(
            person_hits(&hits).contains(&member.id),
            "{user} finds {name}: {hits}"
        );
        // Without marks too.
        let folded = deunicode_lower(&name);
        let hits = search(&app, &folded, Some(&token)).await;
        assert!(person_hits(&hits).contains(&member.id), "{user}: {folded}");
    }
    // The other ward's officer searching inside Lạch Tray: no people.
    let token = app.demo_login("dhk.congan").await;
    let hits = app
        .get_json(
            &format!("/api/v1/search?q={}&ward=lach-tray", q(&name)),
            Some(&token),
        )
        .await;
    assert!(person_hits(&hits).is_empty(), "{hits}");
}

/// Vietnamese letters without their marks, lowercase (written out, not the crate's fold).
fn deunicode_lower(s: &str) -> String {
    const TABLE: &[(&str, char)] = &[
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ìíỉĩị", 'i'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ùúủũụưừứửữự", 'u'),
        ("ỳýỷỹỵ", 'y'),
        ("đ", 'd'),
    ];
    s.to_lowercase()
        .chars()
        .map(|c| {
            TABLE
                .iter()
                .find(|(from, _)| from.contains(c))
                .map(|(_, to)| *to)
                .unwrap_or(c)
        })
        .collect()
}
