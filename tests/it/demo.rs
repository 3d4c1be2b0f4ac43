//! The demo wards as the API shows them, and loading the demo a second time.

use serde_json::Value;
use wardwatch::store::forces::PeopleFilter;
use wardwatch::store::territory::SiteFilter;

use crate::both;
use crate::helpers::TestApp;

both!(
    wards_of_the_demo,
    ward_overview_figures,
    loading_twice_changes_nothing
);

fn ward<'a>(wards: &'a Value, code: &str) -> &'a Value {
    wards
        .as_array()
        .expect("wards list")
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no ward {code} in {wards}"))
}

async fn wards_of_the_demo(app: TestApp) {
    // Empty before.
    assert_eq!(
        app.get_json("/api/v1/wards", None).await,
        serde_json::json!([])
    );
    let summary = app.load_demo().await;
    assert_eq!(summary.wards_created, ["lach-tray", "du-hang-kenh"]);
    let wards = app.get_json("/api/v1/wards", None).await;
    assert_eq!(wards.as_array().unwrap().len(), 2, "{wards}");

    let lt = ward(&wards, "lach-tray");
    assert_eq!(lt["name"], "Phường Lạch Tray");
    assert_eq!(lt["kind"], "ward");
    assert_eq!(lt["groups"], 7);
    let dhk = ward(&wards, "du-hang-kenh");
    assert_eq!(dhk["name"], "Phường Dư Hàng Kênh");
    assert_eq!(dhk["groups"], 22);
    assert_eq!(dhk["households"], 8480);
    assert_eq!(dhk["residents"], 29628);

    // Lạch Tray's totals are those of its groups.
    let overview = app.get_json("/api/v1/wards/lach-tray", None).await;
    let groups = overview["groups"].as_array().unwrap();
    let sum = |key: &str| -> i64 { groups.iter().map(|g| g[key].as_i64().unwrap()).sum() };
    assert_eq!(lt["households"], sum("households"));
    assert_eq!(lt["residents"], sum("residents"));
    assert!(lt["residents"].as_i64().unwrap() > lt["households"].as_i64().unwrap());

    // The same list, logged in or not.
    let token = app.demo_login("lt.dan").await;
    assert_eq!(app.get_json("/api/v1/wards", Some(&token)).await, wards);
    // The home page lists both, with Vietnamese thousands.
    let home = app.page("/", None).await;
    let html = crate::helpers::assert_html(&home, 200);
    assert!(html.contains("Phường Lạch Tray") && html.contains("Phường Dư Hàng Kênh"));
    assert!(html.contains("29.628"), "Vietnamese number format");
}

async fn ward_overview_figures(app: TestApp) {
    app.load_demo().await;
    let o = app.get_json("/api/v1/wards/lach-tray", None).await;
    let f = &o["figures"];
    assert_eq!(f["teams"], 7, "{f}");
    assert_eq!(f["team_members"], 21, "{f}");
    assert_eq!(f["groups"], 7, "{f}");
    assert_eq!(f["area_ha"], 67.48, "{f}");
    assert_eq!(f["founded_year"], 1981, "{f}");
    assert_eq!(f["understaffed_teams"], 0, "{f}");
    assert_eq!(o["ward"]["code"], "lach-tray");
    assert_eq!(o["parent"], "Thành phố Hải Phòng");
    let teams = o["forces"]["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 7);
    for t in teams {
        assert_eq!(t["members"].as_array().unwrap().len(), 3, "{}", t["name"]);
        assert_eq!(t["has_leader"], true);
        assert_eq!(t["group_codes"].as_array().unwrap().len(), 1);
    }
    let sites = o["sites"].as_array().unwrap();
    assert_eq!(f["sites"], sites.len());
    let shp = sites
        .iter()
        .find(|s| s["name"] == "Chung cư SHP Plaza")
        .expect("SHP");
    assert_eq!(shp["apartments"], 230);
    assert_eq!(shp["residents"], 398);
    let blocks: Vec<&Value> = sites
        .iter()
        .filter(|s| s["kind"] == "collective_housing")
        .collect();
    assert_eq!(blocks.len(), 12);
    let apartments: i64 = blocks
        .iter()
        .map(|b| b["apartments"].as_i64().unwrap())
        .sum();
    let residents: i64 = blocks
        .iter()
        .map(|b| b["residents"].as_i64().unwrap())
        .sum();
    assert_eq!((apartments, residents), (306, 935));

    let d = app.get_json("/api/v1/wards/du-hang-kenh", None).await;
    assert_eq!(d["figures"]["groups"], 22);
    assert_eq!(d["figures"]["teams"], 22);
    assert_eq!(d["figures"]["households"], 8480);
    assert_eq!(d["figures"]["residents"], 29628);
    let market = d["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Chợ Hàng")
        .expect("Chợ Hàng");
    assert_eq!(market["kind"], "market");
    assert!(market["schedule"].as_str().unwrap().contains("Chủ nhật"));
    assert_eq!(d["figures"]["partner_forces"], 1);

    // Unknown ward.
    crate::helpers::assert_problem(&app.get("/api/v1/wards/khong-co", None).await, 404);
}

/// Everything the demo writes, counted from the store.
async fn snapshot(app: &TestApp) -> (usize, String, Vec<(String, usize, usize, usize)>, usize) {
    let audit = app
        .store
        .audit_trail(None, None, 1_000_000)
        .await
        .unwrap()
        .len();
    let wards = app.store.wards().await.unwrap();
    let listed = serde_json::to_string(&wards).unwrap();
    let mut per_ward = Vec::new();
    for w in &wards {
        let all = PeopleFilter {
            include_archived: true,
            ..Default::default()
        };
        let people = app.store.people(w.id, &all).await.unwrap().len();
        let sites = app
            .store
            .sites(
                w.id,
                &SiteFilter {
                    include_archived: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len();
        let teams = app.store.teams(w.id, true).await.unwrap().len();
        per_ward.push((w.code.clone(), people, sites, teams));
    }
    let users = app.store.list_users(None).await.unwrap().len();
    (audit, listed, per_ward, users)
}

async fn loading_twice_changes_nothing(app: TestApp) {
    let first = app.load_demo().await;
    let before = snapshot(&app).await;
    assert!(before.0 > 100, "the demo is audited: {}", before.0);
    assert_eq!(before.3, 11, "eleven demo accounts");
    let overview = app.get_json("/api/v1/wards/du-hang-kenh", None).await;

    let second = app.load_demo().await;
    assert!(
        second.wards_created.is_empty(),
        "{:?}",
        second.wards_created
    );
    assert_eq!(
        second.accounts, first.accounts,
        "the same accounts are listed"
    );
    assert_eq!(snapshot(&app).await, before);
    assert_eq!(
        app.get_json("/api/v1/wards/du-hang-kenh", None).await,
        overview
    );
    // The accounts still log in with the demo password.
    app.demo_login("dhk.cuuchienbinh").await;
}
