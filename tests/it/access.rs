//! Every role's access to the registries of Lạch Tray, with the demo accounts: who may
//! create sites, how much of a person each role sees, the audit of personal data views,
//! what a team leader may change, the ward's internal notes and the refusal pages.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Value, json};
use wardwatch::store::forces::{PeopleFilter, Person};
use wardwatch::store::territory::SiteFilter;

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem};

const WARD: &str = "lach-tray";

both!(
    creating_sites_by_role,
    people_as_each_role_sees_them,
    viewing_a_citizen_id_is_audited,
    team_leader_edits_own_team_only,
    team_leader_edits_without_the_fields_hidden_from_them,
    internal_notes_only_for_the_wards_own_people,
    pages_refuse_in_vietnamese,
    page_forms_need_the_session_token,
    an_archived_leader_can_be_replaced,
    a_dissolved_team_frees_its_groups,
    a_person_read_can_be_written_back,
    only_administrators_archive_wards,
);

/// Everyone of the ward's forces, as the store holds them.
async fn people_of(app: &TestApp, ward: i64) -> Vec<Person> {
    app.store
        .people(ward, &PeopleFilter::default())
        .await
        .expect("people")
}

/// The id of the team that covers a residential group, from the API.
async fn team_of_group(app: &TestApp, token: &str, group_code: &str) -> i64 {
    let teams = app
        .get_json(&format!("/api/v1/wards/{WARD}/teams"), Some(token))
        .await;
    teams
        .as_array()
        .expect("teams")
        .iter()
        .find(|t| {
            t["group_codes"]
                .as_array()
                .is_some_and(|g| g.iter().any(|c| c == group_code))
        })
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("no team covers {group_code}: {teams}"))
}

async fn person_id_of_user(app: &TestApp, username: &str) -> Option<i64> {
    app.store
        .user_by_username(username)
        .await
        .unwrap()
        .expect("demo user")
        .person_id
}

fn by_id(list: &Value) -> HashMap<i64, &Value> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|p| (p["id"].as_i64().expect("id"), p))
        .collect()
}

async fn creating_sites_by_role(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let count = || async {
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
    };
    let before = count().await;
    let path = format!("/api/v1/wards/{WARD}/sites");
    for (user, expected) in [
        ("admin", 201),
        ("lt.congan", 201),
        ("dhk.congan", 403),
        ("lt.lanhdao", 403),
        ("lt.totruong1", 403),
        ("lt.tovien1", 403),
        ("lt.dan", 403),
    ] {
        let token = app.demo_login(user).await;
        let name = format!("Điểm trông xe tạm {user}");
        let a = app
            .post(&path, Some(&token), &json!({"kind": "other", "name": name}))
            .await;
        if expected == 201 {
            assert_eq!(a.status, 201, "{user}: {}", a.brief());
            let site = a.json();
            assert_eq!(site["name"], name.as_str());
            assert_eq!(site["ward_id"], ward);
            assert!(
                app.store
                    .site(site["id"].as_i64().unwrap())
                    .await
                    .unwrap()
                    .is_some()
            );
        } else {
            assert_problem(&a, expected);
        }
    }
    let anonymous = app
        .post(&path, None, &json!({"kind": "other", "name": "Vô danh"}))
        .await;
    assert_problem(&anonymous, 401);
    assert_eq!(count().await, before + 2, "only admin and lt.congan wrote");
}

async fn people_as_each_role_sees_them(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let stored = people_of(&app, ward).await;
    let officers: BTreeSet<i64> = stored
        .iter()
        .filter(|p| p.kind == "officer")
        .map(|p| p.id)
        .collect();
    assert_eq!(officers.len(), 3, "the demo ward has 3 police officers");
    assert_eq!(stored.len(), 24, "21 team members and 3 officers");
    let path = format!("/api/v1/wards/{WARD}/people");

    // Officer of the ward: everything, citizen IDs included.
    let officer = app.demo_login("lt.congan").await;
    let list = app.get_json(&path, Some(&officer)).await;
    let seen = by_id(&list);
    assert_eq!(seen.len(), stored.len());
    for p in &stored {
        let v = seen[&p.id];
        assert_eq!(v["full_name"], p.full_name.as_str());
        assert_eq!(v["citizen_id"].as_str(), p.citizen_id.as_deref(), "{v}");
        assert!(p.citizen_id.is_some());
        assert_eq!(v["phone"], p.phone.as_str());
        assert_eq!(v["access"], "full");
    }

    // Leadership: contacts, never citizen IDs or dates of birth.
    let leadership = app.demo_login("lt.lanhdao").await;
    let list = app.get_json(&path, Some(&leadership)).await;
    let seen = by_id(&list);
    assert_eq!(
        seen.len(),
        stored.len(),
        "leadership sees the police roster"
    );
    for p in &stored {
        let v = seen[&p.id];
        assert_eq!(v["phone"], p.phone.as_str(), "{v}");
        assert!(v["citizen_id"].is_null(), "{v}");
        assert!(v["birth_date"].is_null(), "{v}");
    }

    // Team leader and member of TDP 1: phones of their own team only; their own
    // citizen ID and nobody else's.
    let own_team = team_of_group(&app, &officer, "lach-tray-tdp-01").await;
    let own_members: BTreeSet<i64> = stored
        .iter()
        .filter(|p| p.team_id == Some(own_team))
        .map(|p| p.id)
        .collect();
    assert_eq!(own_members.len(), 3);
    for user in ["lt.totruong1", "lt.tovien1"] {
        let me = person_id_of_user(&app, user).await.expect("linked person");
        assert!(own_members.contains(&me), "{user} is in the team of TDP 1");
        let token = app.demo_login(user).await;
        let list = app.get_json(&path, Some(&token)).await;
        let seen = by_id(&list);
        assert_eq!(seen.len(), stored.len(), "{user}");
        let with_phone: BTreeSet<i64> = seen
            .iter()
            .filter(|(_, v)| !v["phone"].is_null())
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            with_phone, own_members,
            "{user} sees phones of own team only"
        );
        let with_id: Vec<i64> = seen
            .iter()
            .filter(|(_, v)| !v["citizen_id"].is_null())
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(with_id, vec![me], "{user} sees only their own citizen ID");
    }

    // Residents, the other ward's officer and anonymous callers: names only, and no
    // police officers at all.
    let resident = app.demo_login("lt.dan").await;
    let other_officer = app.demo_login("dhk.congan").await;
    for (who, token) in [
        ("lt.dan", Some(resident.as_str())),
        ("dhk.congan", Some(other_officer.as_str())),
        ("anonymous", None),
    ] {
        let list = app.get_json(&path, token).await;
        let seen = by_id(&list);
        let expected: BTreeSet<i64> = stored
            .iter()
            .filter(|p| !officers.contains(&p.id))
            .map(|p| p.id)
            .collect();
        assert_eq!(
            seen.keys().copied().collect::<BTreeSet<_>>(),
            expected,
            "{who}: team members without officers"
        );
        for p in stored.iter().filter(|p| expected.contains(&p.id)) {
            let v = seen[&p.id];
            assert_eq!(v["full_name"], p.full_name.as_str());
            assert!(v["phone"].is_null(), "{who}: {v}");
            assert!(v["citizen_id"].is_null(), "{who}: {v}");
            assert!(v["address"].is_null(), "{who}: {v}");
            assert_eq!(v["access"], "public");
        }
    }

    // Asking for the police roster outright.
    let only_officers = format!("{path}?kind=officer");
    assert_problem(&app.get(&only_officers, None).await, 401);
    assert_problem(&app.get(&only_officers, Some(&resident)).await, 403);
    assert_problem(&app.get(&only_officers, Some(&other_officer)).await, 403);
    let list = app.get_json(&only_officers, Some(&officer)).await;
    assert_eq!(
        by_id(&list).keys().copied().collect::<BTreeSet<_>>(),
        officers
    );
    // A police officer's own record is not found by outsiders.
    let some_officer = *officers.iter().next().unwrap();
    let a = app
        .get(&format!("/api/v1/people/{some_officer}"), None)
        .await;
    assert_problem(&a, 404);
}

async fn viewing_a_citizen_id_is_audited(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let officer_person = person_id_of_user(&app, "lt.congan").await;
    let member = people_of(&app, ward)
        .await
        .into_iter()
        .find(|p| p.kind == "team_member" && Some(p.id) != officer_person)
        .expect("a team member");
    let citizen_id = member.citizen_id.clone().expect("demo people have IDs");
    let views = || async {
        app.store
            .audit_trail(Some(ward), Some(("person", member.id)), 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "view")
            .count()
    };
    assert_eq!(views().await, 0);
    let path = format!("/api/v1/people/{}", member.id);

    // Public views of a person are not audited.
    let v = app.get_json(&path, None).await;
    assert_eq!(v["full_name"], member.full_name.as_str());
    assert!(v["citizen_id"].is_null());
    let resident = app.demo_login("lt.dan").await;
    let v = app.get_json(&path, Some(&resident)).await;
    assert!(v["citizen_id"].is_null());
    assert_eq!(views().await, 0);

    let officer = app.demo_login("lt.congan").await;
    let v = app.get_json(&path, Some(&officer)).await;
    assert_eq!(v["citizen_id"], citizen_id.as_str());
    assert_eq!(views().await, 1, "the officer's view is in the audit log");

    let history_path = format!("/api/v1/wards/{WARD}/history");
    let history = app.get_json(&history_path, Some(&officer)).await;
    let entries = history.as_array().expect("history is a list");
    let view = entries
        .iter()
        .find(|e| e["action"] == "view" && e["entity_id"] == member.id)
        .unwrap_or_else(|| panic!("no view entry in {history}"));
    assert_eq!(view["entity"], "person");
    assert_eq!(view["username"], "lt.congan");
    assert_eq!(view["ward_id"], ward);
    // The log says what was seen, never the number itself.
    assert!(
        !history.to_string().contains(&citizen_id),
        "a citizen ID leaked into the history"
    );

    // Who may read the history.
    for (user, expected) in [
        ("admin", 200),
        ("lt.lanhdao", 200),
        ("lt.totruong1", 403),
        ("lt.tovien1", 403),
        ("lt.dan", 403),
        ("dhk.congan", 403),
    ] {
        let token = app.demo_login(user).await;
        let a = app.get(&history_path, Some(&token)).await;
        if expected == 200 {
            assert_eq!(a.status, 200, "{user}: {}", a.brief());
            assert!(a.json().as_array().is_some_and(|h| !h.is_empty()));
        } else {
            assert_problem(&a, expected);
        }
    }
    assert_problem(&app.get(&history_path, None).await, 401);
}

/// The body a full edit form sends for a person, from what the store holds.
async fn form_of(app: &TestApp, p: &Person) -> Value {
    let group = match p.group_id {
        Some(g) => app.store.unit(g).await.unwrap().expect("group").code,
        None => String::new(),
    };
    json!({
        "kind": p.kind,
        "full_name": p.full_name,
        "team": p.team_id,
        "team_role": p.team_role,
        "force": p.force_id,
        "phone": p.phone,
        "birth_date": p.birth_date.map(|d| d.format("%d/%m/%Y").to_string()),
        "citizen_id": p.citizen_id,
        "address": p.address,
        "group": group,
        "rank_title": p.rank_title,
        "training": p.training,
        "equipment": p.equipment,
        "joined_on": p.joined_on.map(|d| d.format("%d/%m/%Y").to_string()),
        "notes": p.notes,
    })
}

async fn team_leader_edits_own_team_only(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let officer = app.demo_login("lt.congan").await;
    let leader = app.demo_login("lt.totruong1").await;
    let own_team = team_of_group(&app, &officer, "lach-tray-tdp-01").await;
    let other_team = team_of_group(&app, &officer, "lach-tray-tdp-02").await;
    let people = people_of(&app, ward).await;
    let member = people
        .iter()
        .find(|p| p.team_id == Some(own_team) && p.team_role.as_deref() == Some("member"))
        .expect("a member of TDP 1's team")
        .clone();
    let stranger = people
        .iter()
        .find(|p| p.team_id == Some(other_team) && p.team_role.as_deref() == Some("member"))
        .expect("a member of TDP 2's team")
        .clone();
    let path = format!("/api/v1/people/{}", member.id);

    // A new phone for a member of the leader's own team.
    let mut body = form_of(&app, &member).await;
    body["phone"] = json!("0911 222 333");
    let a = app.put(&path, Some(&leader), &body).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["phone"], "0911222333");
    let after = app.store.person(member.id).await.unwrap().unwrap();
    assert_eq!(after.phone, "0911222333");
    assert_eq!(after.citizen_id, member.citizen_id);
    assert_eq!(after.birth_date, member.birth_date);
    assert_eq!(after.team_role.as_deref(), Some("member"));
    let seen = app.get_json(&path, Some(&officer)).await;
    assert_eq!(seen["phone"], "0911222333");

    // Another team's member: 403, nothing changes.
    let mut other = form_of(&app, &stranger).await;
    other["phone"] = json!("0911222444");
    let a = app
        .put(
            &format!("/api/v1/people/{}", stranger.id),
            Some(&leader),
            &other,
        )
        .await;
    assert_problem(&a, 403);
    let unchanged = app.store.person(stranger.id).await.unwrap().unwrap();
    assert_eq!(unchanged.phone, stranger.phone);

    // Changing the role or the team is the officers' work: 400.
    let mut promote = form_of(&app, &after).await;
    promote["team_role"] = json!("deputy");
    let a = app.put(&path, Some(&leader), &promote).await;
    let p = assert_problem(&a, 400);
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Tổ trưởng chỉ cập nhật hồ sơ")),
        "{p}"
    );
    let mut moved = form_of(&app, &after).await;
    moved["team"] = json!(other_team);
    assert_problem(&app.put(&path, Some(&leader), &moved).await, 400);
    let still = app.store.person(member.id).await.unwrap().unwrap();
    assert_eq!(still.team_id, Some(own_team));
    assert_eq!(still.team_role.as_deref(), Some("member"));

    // Members, residents and strangers may not edit at all.
    let same = form_of(&app, &after).await;
    for user in ["lt.tovien1", "lt.dan", "dhk.congan", "lt.lanhdao"] {
        let token = app.demo_login(user).await;
        assert_problem(&app.put(&path, Some(&token), &same).await, 403);
    }
    assert_problem(&app.put(&path, None, &same).await, 401);

    // The officer may move the member to another team; a second deputy is refused.
    let a = app.put(&path, Some(&officer), &moved).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert_eq!(a.json()["team_id"], other_team);
    let mut deputy = form_of(&app, &app.store.person(member.id).await.unwrap().unwrap()).await;
    deputy["team_role"] = json!("deputy");
    assert_problem(&app.put(&path, Some(&officer), &deputy).await, 409);
}

/// A team leader edits with what they are shown: no citizen ID, no date of birth.
/// Those must be kept, as the edit page does.
async fn team_leader_edits_without_the_fields_hidden_from_them(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let officer = app.demo_login("lt.congan").await;
    let leader = app.demo_login("lt.totruong1").await;
    let own_team = team_of_group(&app, &officer, "lach-tray-tdp-01").await;
    let member = people_of(&app, ward)
        .await
        .into_iter()
        .find(|p| p.team_id == Some(own_team) && p.team_role.as_deref() == Some("member"))
        .expect("a member of TDP 1's team");
    let path = format!("/api/v1/people/{}", member.id);
    let shown = app.get_json(&path, Some(&leader)).await;
    assert!(shown["citizen_id"].is_null(), "the leader is not shown it");
    let mut body = form_of(&app, &member).await;
    body["citizen_id"] = json!("");
    body["birth_date"] = json!("");
    body["phone"] = json!("0911222555");
    let a = app.put(&path, Some(&leader), &body).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let after = app.store.person(member.id).await.unwrap().unwrap();
    assert_eq!(after.phone, "0911222555");
    assert_eq!(after.citizen_id, member.citizen_id, "citizen ID kept");
    assert_eq!(after.birth_date, member.birth_date, "date of birth kept");
}

async fn internal_notes_only_for_the_wards_own_people(app: TestApp) {
    app.load_demo().await;
    let stored = app.store.unit_by_code(WARD).await.unwrap().expect("ward");
    assert!(!stored.risk_notes.is_empty());
    let stored_sites = app
        .store
        .sites(stored.id, &SiteFilter::default())
        .await
        .unwrap();
    let risky: HashMap<i64, String> = stored_sites
        .iter()
        .filter(|s| !s.risk_notes.is_empty())
        .map(|s| (s.id, s.risk_notes.clone()))
        .collect();
    assert!(!risky.is_empty());
    let path = format!("/api/v1/wards/{WARD}");

    for user in ["lt.congan", "lt.lanhdao", "lt.totruong1", "admin"] {
        let token = app.demo_login(user).await;
        let o = app.get_json(&path, Some(&token)).await;
        assert_eq!(o["internal"], true, "{user}");
        assert_eq!(
            o["ward"]["risk_notes"],
            stored.risk_notes.as_str(),
            "{user}"
        );
        for s in o["sites"].as_array().unwrap() {
            let id = s["id"].as_i64().unwrap();
            let expected = risky.get(&id).map(String::as_str).unwrap_or("");
            assert_eq!(s["risk_notes"], expected, "{user}");
        }
        assert_eq!(o["forces"]["officers"].as_array().unwrap().len(), 3);
    }
    let officer = app.demo_login("lt.congan").await;
    let o = app.get_json(&path, Some(&officer)).await;
    assert_eq!(o["can_edit"], true);

    let resident = app.demo_login("lt.dan").await;
    let stranger = app.demo_login("dhk.congan").await;
    for (who, token) in [
        ("anonymous", None),
        ("lt.dan", Some(resident.as_str())),
        ("dhk.congan", Some(stranger.as_str())),
    ] {
        let o = app.get_json(&path, token).await;
        assert_eq!(o["internal"], false, "{who}");
        assert_eq!(o["can_edit"], false, "{who}");
        assert_eq!(o["ward"]["risk_notes"], "", "{who}");
        assert_eq!(
            o["ward"]["notes"],
            stored.notes.as_str(),
            "{who}: notes are public"
        );
        let sites = o["sites"].as_array().unwrap();
        assert_eq!(sites.len(), stored_sites.len());
        assert!(sites.iter().all(|s| s["risk_notes"] == ""), "{who}");
        assert!(o["forces"]["officers"].as_array().unwrap().is_empty());
        // The other ways to the same records hide the notes too.
        let unit = app.get_json(&format!("/api/v1/units/{WARD}"), token).await;
        assert_eq!(unit["risk_notes"], "", "{who}");
        let (&site, _) = risky.iter().next().unwrap();
        let s = app.get_json(&format!("/api/v1/sites/{site}"), token).await;
        assert_eq!(s["risk_notes"], "", "{who}");
        let list = app
            .get_json(&format!("/api/v1/wards/{WARD}/sites"), token)
            .await;
        assert!(
            list.as_array()
                .unwrap()
                .iter()
                .all(|s| s["risk_notes"] == "")
        );
    }
}

async fn pages_refuse_in_vietnamese(app: TestApp) {
    app.load_demo().await;
    let path = "/wards/lach-tray/sites/new";
    let resident = app.demo_login("lt.dan").await;
    let a = app.page(path, Some(&resident)).await;
    let html = assert_html(&a, 403);
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(html.contains("Không có quyền"));

    let leader = app.demo_login("lt.totruong1").await;
    assert_html(&app.page(path, Some(&leader)).await, 403);
    let stranger = app.demo_login("dhk.congan").await;
    assert_html(&app.page(path, Some(&stranger)).await, 403);

    // English on request.
    let a = app.page(&format!("{path}?lang=en"), Some(&resident)).await;
    let html = assert_html(&a, 403);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Not allowed"));

    // Anonymous callers are sent to log in, and back here afterwards.
    let a = app.page(path, None).await;
    assert_eq!(a.status, 303, "{}", a.brief());
    assert_eq!(
        a.location(),
        Some("/login?next=%2Fwards%2Flach-tray%2Fsites%2Fnew")
    );

    // The ward's officer gets the form, carrying the session's CSRF token.
    let officer = app.demo_login("lt.congan").await;
    let a = app.page(path, Some(&officer)).await;
    let html = assert_html(&a, 200);
    let csrf = crate::helpers::hidden_input(html, "csrf").expect("csrf field");
    assert_eq!(csrf.len(), 64);
    assert!(html.contains("name=\"name\""));
}

async fn page_forms_need_the_session_token(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let officer = app.demo_login("lt.congan").await;
    let cookie = format!("ww_session={officer}");
    let form = app.page("/wards/lach-tray/sites/new", Some(&officer)).await;
    let csrf = crate::helpers::hidden_input(assert_html(&form, 200), "csrf").unwrap();
    let count = || async {
        app.store
            .sites(ward, &SiteFilter::default())
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    let post = |token: &str| {
        app.req(reqwest::Method::POST, "/wards/lach-tray/sites/new", None)
            .header("cookie", &cookie)
            .form(&[("csrf", token), ("kind", "market"), ("name", "Chợ đêm")])
    };
    let a = app.send(post("")).await;
    assert_html(&a, 400);
    let a = app.send(post(&"0".repeat(64))).await;
    assert_html(&a, 400);
    assert_eq!(count().await, before);

    // A form with errors comes back with them, 422, nothing stored.
    let bad = app
        .send(
            app.req(reqwest::Method::POST, "/wards/lach-tray/sites/new", None)
                .header("cookie", &cookie)
                .form(&[("csrf", csrf.as_str()), ("kind", "market"), ("name", "")]),
        )
        .await;
    assert_html(&bad, 422);
    assert_eq!(count().await, before);

    let a = app.send(post(&csrf)).await;
    assert_eq!(a.status, 303, "{}", a.brief());
    let created = app
        .store
        .sites(ward, &SiteFilter::default())
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.name == "Chợ đêm")
        .expect("the site is stored");
    assert_eq!(
        a.location(),
        Some(format!("/sites/{}", created.id).as_str())
    );
    assert_eq!(created.kind, "market");
    // The officer's page view of a person is audited like the API's.
    let member = people_of(&app, ward)
        .await
        .into_iter()
        .find(|p| p.kind == "team_member")
        .unwrap();
    let page = app
        .page(&format!("/people/{}", member.id), Some(&officer))
        .await;
    let html = assert_html(&page, 200);
    assert!(html.contains(member.citizen_id.as_deref().unwrap()));
    let trail = app
        .store
        .audit_trail(Some(ward), Some(("person", member.id)), 10)
        .await
        .unwrap();
    assert_eq!(trail[0].action, "view");
    // A resident's page view shows no ID and is not audited.
    let resident = app.demo_login("lt.dan").await;
    let page = app
        .page(&format!("/people/{}", member.id), Some(&resident))
        .await;
    let html = assert_html(&page, 200);
    assert!(!html.contains(member.citizen_id.as_deref().unwrap()));
    let again = app
        .store
        .audit_trail(Some(ward), Some(("person", member.id)), 10)
        .await
        .unwrap();
    assert_eq!(again.len(), trail.len());
}

async fn an_archived_leader_can_be_replaced(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id(WARD).await;
    let officer = app.demo_login("lt.congan").await;
    let team = team_of_group(&app, &officer, "lach-tray-tdp-05").await;
    let leader = people_of(&app, ward)
        .await
        .into_iter()
        .find(|p| p.team_id == Some(team) && p.team_role.as_deref() == Some("leader"))
        .expect("leader");
    let body = json!({"kind": "team_member", "full_name": "Tổ Trưởng Mới", "team": team,
                      "team_role": "leader"});
    let path = format!("/api/v1/wards/{WARD}/people");
    assert_problem(&app.post(&path, Some(&officer), &body).await, 409);
    let a = app
        .post(
            &format!("/api/v1/people/{}/archive", leader.id),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.brief());
    let a = app.post(&path, Some(&officer), &body).await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let row = app
        .get_json(&format!("/api/v1/teams/{team}"), Some(&officer))
        .await;
    let leaders: Vec<&str> = row["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["team_role"] == "leader")
        .filter_map(|m| m["full_name"].as_str())
        .collect();
    assert_eq!(leaders, ["Tổ Trưởng Mới"]);
    // Bringing the old leader back would make two: refused.
    let a = app
        .post(
            &format!("/api/v1/people/{}/archive", leader.id),
            Some(&officer),
            &json!({"archived": false}),
        )
        .await;
    assert_problem(&a, 409);
}

/// Dissolving a team (archiving it) and founding a new one for the same group.
async fn a_dissolved_team_frees_its_groups(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let team = team_of_group(&app, &officer, "lach-tray-tdp-04").await;
    let a = app
        .post(
            &format!("/api/v1/teams/{team}/archive"),
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 204);
    let o = app
        .get_json("/api/v1/wards/lach-tray", Some(&officer))
        .await;
    let group = o["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "lach-tray-tdp-04")
        .unwrap();
    assert!(
        group["team"].is_null(),
        "the overview shows no team: {group}"
    );
    let a = app
        .post(
            "/api/v1/wards/lach-tray/teams",
            Some(&officer),
            &json!({"name": "Tổ bảo vệ ANTT TDP số 4 (mới)", "groups": "lach-tray-tdp-04"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
}

/// GET a person, change the phone, PUT it back: what the API shows, it must take.
async fn a_person_read_can_be_written_back(app: TestApp) {
    app.load_demo().await;
    let ward = app.unit_id("du-hang-kenh").await;
    let officer = app.demo_login("dhk.congan").await;
    // A veteran volunteer: group, notes (their duty post) and a force.
    let volunteer = people_of(&app, ward)
        .await
        .into_iter()
        .find(|p| p.kind == "volunteer" && !p.notes.is_empty() && p.group_id.is_some())
        .expect("a volunteer with notes");
    let path = format!("/api/v1/people/{}", volunteer.id);
    let mut shown = app.get_json(&path, Some(&officer)).await;
    shown["phone"] = json!("0911222666");
    let a = app.put(&path, Some(&officer), &shown).await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let after = app.store.person(volunteer.id).await.unwrap().unwrap();
    assert_eq!(after.phone, "0911222666");
    assert_eq!(after.group_id, volunteer.group_id, "group kept");
    assert_eq!(after.notes, volunteer.notes, "notes kept");
    assert_eq!(after.force_id, volunteer.force_id, "force kept");
}

async fn only_administrators_archive_wards(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let a = app
        .post(
            "/api/v1/units/lach-tray/archive",
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_problem(&a, 403);
    let wards = app.get_json("/api/v1/wards", None).await;
    assert!(wards.as_array().unwrap().iter().any(|w| w["code"] == WARD));
    // Their own residential groups they may archive.
    let a = app
        .post(
            "/api/v1/units/lach-tray-tdp-07/archive",
            Some(&officer),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.brief());
}
