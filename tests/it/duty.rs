//! Duty in Dư Hàng Kênh: recurring duties and who may keep them, roster builds (fair,
//! rested, all-or-nothing with every shortfall explained), hand changes that show their
//! conflicts, claims, check-in with distance and signed checkpoint codes, the calendar
//! feeds parsed back, the printable roster and the monthly summary.

use std::collections::HashMap;

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem};

const WARD: &str = "du-hang-kenh";

both!(
    templates_by_role_and_bad_input,
    a_roster_that_cannot_be_filled_saves_nothing,
    built_rosters_keep_the_rules_and_are_fair,
    hand_changes_show_their_conflicts,
    claims_checkins_and_checkpoint_codes,
    calendars_parse_back,
    printed_roster_and_monthly_summary,
    patrol_log_becomes_a_report,
    duty_pages,
);

fn vn_now() -> chrono::NaiveDateTime {
    (Utc::now() + Duration::hours(7)).naive_utc()
}

/// `mm/yyyy` of the month `ahead` months from this one (Vietnam time).
fn month(ahead: u32) -> String {
    let d = vn_now().date();
    let (mut y, mut m) = (d.year(), d.month() + ahead);
    while m > 12 {
        m -= 12;
        y += 1;
    }
    format!("{m:02}/{y}")
}

async fn veterans(app: &TestApp, token: &str) -> i64 {
    let forces = app
        .get_json(&format!("/api/v1/wards/{WARD}/forces"), Some(token))
        .await;
    forces
        .as_array()
        .and_then(|a| a.iter().find(|f| f["kind"] == "veterans"))
        .and_then(|f| f["id"].as_i64())
        .unwrap_or_else(|| panic!("veterans in {forces}"))
}

fn template(title: &str, force: &str, needed: u32, times: (&str, &str), rule: &str) -> Value {
    json!({
        "ward": WARD, "kind": "traffic_post", "title": title, "force": force,
        "needed": needed.to_string(), "start_time": times.0, "end_time": times.1,
        "starts_on": "01/01/2026", "rule": rule,
    })
}

async fn templates_by_role_and_bad_input(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    let resident = app.demo_login("dhk.dan").await;
    let vets = veterans(&app, &officer).await;
    let good = template(
        "Cổng trường buổi trưa",
        &format!("partner:{vets}"),
        2,
        ("11:00", "11:45"),
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    );

    let a = app
        .post("/api/v1/duty/templates", Some(&officer), &good)
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    assert_problem(&app.post("/api/v1/duty/templates", None, &good).await, 401);
    for t in [&volunteer, &resident] {
        assert_problem(
            &app.post("/api/v1/duty/templates", Some(t), &good).await,
            403,
        );
    }
    // A team leader keeps their own team's duties, not the veterans' nor another team's.
    assert_problem(
        &app.post("/api/v1/duty/templates", Some(&leader), &good)
            .await,
        403,
    );
    let teams = app
        .get_json(&format!("/api/v1/wards/{WARD}/teams"), Some(&officer))
        .await;
    let teams: Vec<i64> = teams
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    let me = app.get_json("/api/v1/me", Some(&leader)).await;
    let own = app
        .get_json(
            &format!("/api/v1/people/{}", me["person_id"]),
            Some(&leader),
        )
        .await["team_id"]
        .as_i64()
        .expect("the leader's team");
    let other = *teams.iter().find(|t| **t != own).unwrap();
    let mine = template(
        "Tuần tra tối",
        &format!("team:{own}"),
        2,
        ("19:00", "22:00"),
        "FREQ=WEEKLY;BYDAY=WE",
    );
    assert_eq!(
        app.post("/api/v1/duty/templates", Some(&leader), &mine)
            .await
            .status,
        201
    );
    let theirs = template(
        "Tuần tra tối",
        &format!("team:{other}"),
        2,
        ("19:00", "22:00"),
        "FREQ=WEEKLY;BYDAY=WE",
    );
    assert_problem(
        &app.post("/api/v1/duty/templates", Some(&leader), &theirs)
            .await,
        403,
    );

    // Bad input: every wrong field is named, nothing is stored.
    let before = app
        .get_json(
            &format!("/api/v1/duty/templates?ward={WARD}"),
            Some(&officer),
        )
        .await;
    let bad = [
        (
            json!({"start_time": "07:00", "end_time": "07:00"}),
            "end_time",
        ),
        (json!({"start_time": "25:00"}), "start_time"),
        (json!({"rule": "EVERY SUNDAY"}), "rule"),
        (
            json!({"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}),
            "rule",
        ),
        (json!({"rule": "", "lunar_days": "0,32"}), "lunar_days"),
        (json!({"force": "team:999999"}), "force"),
        (json!({"needed": "0"}), "needed"),
        (json!({"kind": "picnic"}), "kind"),
        (json!({"starts_on": "31/02/2026"}), "starts_on"),
        (
            json!({"except_dates": "10/01/2026-01/01/2026"}),
            "except_dates",
        ),
        (
            json!({"start_time": "20:00", "end_time": "14:00"}),
            "end_time",
        ),
    ];
    for (change, field) in bad {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let a = app
            .post("/api/v1/duty/templates", Some(&officer), &body)
            .await;
        let p = assert_problem(&a, 422);
        assert!(
            p.to_string().contains(&format!("\"{field}\"")),
            "{change} should name {field}: {p}"
        );
    }
    let after = app
        .get_json(
            &format!("/api/v1/duty/templates?ward={WARD}"),
            Some(&officer),
        )
        .await;
    assert_eq!(
        before.as_array().unwrap().len(),
        after.as_array().unwrap().len()
    );
    // A lunar rule is accepted and kept as typed.
    let mut lunar = good.clone();
    lunar["rule"] = json!("");
    lunar["lunar_days"] = json!("1, 15");
    lunar["title"] = json!("Trực rằm, mùng một");
    assert_eq!(
        app.post("/api/v1/duty/templates", Some(&officer), &lunar)
            .await
            .status,
        201
    );
}

/// The roster of `month` as (shift, people) pairs.
async fn roster(app: &TestApp, token: &str, month: &str) -> Vec<Value> {
    let r = app
        .get_json(
            &format!("/api/v1/duty/roster?ward={WARD}&month={month}"),
            Some(token),
        )
        .await;
    r.as_array()
        .unwrap_or_else(|| panic!("roster: {r}"))
        .clone()
}

async fn a_roster_that_cannot_be_filled_saves_nothing(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let target = month(3);
    assert!(roster(&app, &officer, &target).await.is_empty());
    // The ward police are a handful: 40 at once cannot be found.
    let t = template(
        "Bảo vệ lễ hội",
        "police",
        40,
        ("07:00", "12:00"),
        "FREQ=MONTHLY;BYMONTHDAY=5",
    );
    let a = app.post("/api/v1/duty/templates", Some(&officer), &t).await;
    assert_eq!(a.status, 201);
    let build = json!({"ward": WARD, "month": target});
    let a = app
        .post("/api/v1/duty/roster/build", Some(&officer), &build)
        .await;
    let p = assert_problem(&a, 422);
    let short = p["outcome"]["shortfalls"].as_array().unwrap();
    let festival: Vec<&Value> = short
        .iter()
        .filter(|s| s["title"] == "Bảo vệ lễ hội")
        .collect();
    assert_eq!(festival.len(), 1, "{p}");
    assert!(festival[0]["missing"].as_u64().unwrap() > 30);
    assert!(festival[0]["eligible"].as_u64().unwrap() < 40);
    assert_eq!(p["outcome"]["saved"], false);
    assert!(
        roster(&app, &officer, &target).await.is_empty(),
        "nothing saved"
    );
    // Saved on request, with the places left open for claims.
    let a = app
        .post(
            "/api/v1/duty/roster/build",
            Some(&officer),
            &json!({"ward": WARD, "month": target, "accept_open": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let shifts = roster(&app, &officer, &target).await;
    let fest = shifts
        .iter()
        .find(|s| s["title"] == "Bảo vệ lễ hội")
        .unwrap();
    assert!(fest["open"].as_i64().unwrap() > 30);
    // Only officers (and team leaders for their team) build.
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    assert_problem(
        &app.post("/api/v1/duty/roster/build", Some(&volunteer), &build)
            .await,
        403,
    );
}

async fn built_rosters_keep_the_rules_and_are_fair(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    // The month after next: the demo built this month and the next, so the first days
    // of the target month lie next to a built month's last duties.
    let target = month(2);
    let a = app
        .post(
            "/api/v1/duty/roster/build",
            Some(&officer),
            &json!({"ward": WARD, "month": target, "accept_open": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let shifts = roster(&app, &officer, &target).await;
    assert!(shifts.len() > 50, "{} shifts", shifts.len());
    // Every Sunday of the month has its market session; school gates skip weekends.
    let sundays = shifts
        .iter()
        .filter(|s| s["kind"] == "market_session")
        .map(|s| s["weekday"].as_str().unwrap())
        .collect::<Vec<_>>();
    assert!(
        (4..=5).contains(&sundays.len()) && sundays.iter().all(|d| *d == "Chủ nhật"),
        "{sundays:?}"
    );
    assert!(
        shifts
            .iter()
            .filter(|s| s["title"].as_str().unwrap().starts_with("Cổng trường"))
            .all(|s| s["weekday"] != "Thứ Bảy" && s["weekday"] != "Chủ nhật")
    );
    // No one twice at once, nobody over 10 nights, rest after a night.
    type Duty = (chrono::DateTime<Utc>, chrono::DateTime<Utc>, bool);
    let mut by_person: HashMap<i64, Vec<Duty>> = HashMap::new();
    for s in &shifts {
        let people = s["people"].as_array().unwrap();
        assert!(people.len() as i64 <= s["needed"].as_i64().unwrap());
        for p in people {
            by_person
                .entry(p["person_id"].as_i64().unwrap())
                .or_default()
                .push((
                    s["starts_at"].as_str().unwrap().parse().unwrap(),
                    s["ends_at"].as_str().unwrap().parse().unwrap(),
                    s["night"].as_bool().unwrap(),
                ));
        }
    }
    for (person, mut duties) in by_person.clone() {
        duties.sort();
        assert!(
            duties.iter().filter(|d| d.2).count() <= 10,
            "person {person} nights"
        );
        for w in duties.windows(2) {
            assert!(w[0].1 <= w[1].0, "person {person} double booked: {w:?}");
            if w[0].2 {
                assert!(
                    w[1].0 - w[0].1 >= Duration::hours(12),
                    "person {person} not rested: {w:?}"
                );
            }
        }
    }
    // The veterans share the market and the school gates evenly.
    let people = app
        .get_json(
            &format!("/api/v1/wards/{WARD}/people?kind=volunteer"),
            Some(&officer),
        )
        .await;
    let ids: Vec<i64> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(ids.len() >= 20, "{} veterans", ids.len());
    let counts: Vec<usize> = ids
        .iter()
        .map(|i| by_person.get(i).map_or(0, Vec::len))
        .collect();
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(max - min <= 1, "veterans' duties {counts:?}");
    // Building again adds nothing.
    let again = app
        .post(
            "/api/v1/duty/roster/build",
            Some(&officer),
            &json!({"ward": WARD, "month": target, "accept_open": true}),
        )
        .await;
    assert_eq!(again.json()["added"], 0, "{}", again.brief());
}

async fn find_person(app: &TestApp, token: &str, username: &str) -> i64 {
    let me = app.get_json("/api/v1/me", Some(token)).await;
    me["person_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{username} has no person: {me}"))
}

async fn hand_changes_show_their_conflicts(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    let me = find_person(&app, &volunteer, "dhk.cuuchienbinh").await;
    let target = month(1);
    let shifts = roster(&app, &officer, &target).await;
    // Two overlapping duties: the morning and the afternoon school gate never overlap, so
    // take a market session and put the volunteer on a made-up overlapping night too.
    let market = shifts
        .iter()
        .find(|s| s["kind"] == "market_session")
        .expect("a market session");
    let on_market = market["people"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["person_id"] == me);
    if !on_market {
        let a = app
            .post(
                &format!("/api/v1/duty/shifts/{}/assign", market["id"]),
                Some(&officer),
                &json!({"person": me}),
            )
            .await;
        assert!(a.status == 201 || a.status == 409, "{}", a.brief());
        if a.status == 409 {
            let a = app
                .post(
                    &format!("/api/v1/duty/shifts/{}/assign", market["id"]),
                    Some(&officer),
                    &json!({"person": me, "accept_conflicts": true, "note": "thiếu người"}),
                )
                .await;
            assert_eq!(a.status, 201, "{}", a.brief());
        }
    }
    // A team's patrol: the volunteer is not in that force.
    let patrol = shifts
        .iter()
        .find(|s| s["kind"] == "patrol")
        .expect("a patrol");
    let path = format!("/api/v1/duty/shifts/{}/assign", patrol["id"]);
    let a = app
        .post(&path, Some(&officer), &json!({"person": me}))
        .await;
    let p = assert_problem(&a, 409);
    let codes: Vec<&str> = p["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"noteligible"), "{p}");
    // Insisting needs a reason; then it is kept with its conflicts shown.
    let a = app
        .post(
            &path,
            Some(&officer),
            &json!({"person": me, "accept_conflicts": true}),
        )
        .await;
    assert_problem(&a, 422);
    let a = app
        .post(&path, Some(&officer), &json!({"person": me, "accept_conflicts": true, "note": "tổ thiếu người, đã thống nhất"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let assignment = a.json()["id"].as_i64().unwrap();
    let shifts = roster(&app, &officer, &target).await;
    let p = shifts
        .iter()
        .find(|s| s["id"] == patrol["id"])
        .and_then(|s| {
            s["people"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["person_id"] == me)
                .cloned()
        })
        .unwrap();
    assert!(
        p["conflicts"]
            .as_str()
            .unwrap()
            .contains("không thuộc lực lượng"),
        "{p}"
    );
    // The volunteer cannot change the roster; the officer removes the assignment.
    assert_problem(
        &app.delete(
            &format!("/api/v1/duty/assignments/{assignment}"),
            Some(&volunteer),
        )
        .await,
        403,
    );
    assert_eq!(
        app.delete(
            &format!("/api/v1/duty/assignments/{assignment}"),
            Some(&officer)
        )
        .await
        .status,
        204
    );
    // A swap between two veterans' duties of different days is clean.
    let gate: Vec<&Value> = shifts
        .iter()
        .filter(|s| {
            s["title"]
                .as_str()
                .unwrap()
                .starts_with("Cổng trường buổi sáng")
                && !s["people"].as_array().unwrap().is_empty()
        })
        .collect();
    let (x, y) = (gate[0], gate[gate.len() - 1]);
    let (px, py) = (&x["people"][0], &y["people"][0]);
    if px["person_id"] != py["person_id"] {
        let a = app
            .post(
                "/api/v1/duty/swap",
                Some(&officer),
                &json!({"a": px["assignment_id"], "b": py["assignment_id"]}),
            )
            .await;
        assert!(a.status == 204 || a.status == 409, "{}", a.brief());
    }
}

async fn claims_checkins_and_checkpoint_codes(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    let me = find_person(&app, &volunteer, "dhk.cuuchienbinh").await;
    let vets = veterans(&app, &officer).await;
    let places = app
        .get_json(&format!("/api/v1/duty/places?ward={WARD}"), Some(&officer))
        .await;
    let gates = places
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Cổng chợ Hàng")
        .unwrap()
        .clone();
    let stop = gates["stops"][0].clone();
    // A duty happening now at the market gates.
    let now = vn_now();
    let start = now - Duration::minutes(20);
    let end = now + Duration::hours(2);
    let mut t = template(
        "Trực tăng cường cổng chợ",
        &format!("partner:{vets}"),
        1,
        (
            &start.format("%H:%M").to_string(),
            &end.format("%H:%M").to_string(),
        ),
        "",
    );
    t["starts_on"] = json!(start.format("%d/%m/%Y").to_string());
    t["place"] = json!(gates["id"].to_string());
    let a = app.post("/api/v1/duty/templates", Some(&officer), &t).await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let this_month = format!("{:02}/{}", start.month(), start.year());
    let a = app
        .post(
            "/api/v1/duty/roster/build",
            Some(&officer),
            &json!({"ward": WARD, "month": this_month, "accept_open": true}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    let shifts = roster(&app, &officer, &this_month).await;
    let shift = shifts
        .iter()
        .find(|s| s["title"] == "Trực tăng cường cổng chợ")
        .unwrap()
        .clone();
    // Free the place, then the volunteer claims it; a second claim finds it full.
    for p in shift["people"].as_array().unwrap() {
        app.delete(
            &format!("/api/v1/duty/assignments/{}", p["assignment_id"]),
            Some(&officer),
        )
        .await;
    }
    let claim = format!("/api/v1/duty/shifts/{}/claim", shift["id"]);
    let a = app.post(&claim, Some(&volunteer), &json!({})).await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let assignment = a.json()["id"].as_i64().unwrap();
    assert_problem(&app.post(&claim, Some(&volunteer), &json!({})).await, 409);
    let mine = app.get_json("/api/v1/duty/mine", Some(&volunteer)).await;
    let here = mine["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["assignment_id"] == assignment)
        .unwrap();
    assert_eq!(here["can_check_in"], true);
    let _ = me;

    // Check in 30 m from the gate: the distance is kept; a resend counts once.
    let near = json!({"assignment": assignment, "kind": "in", "lat": stop["lat"].as_f64().unwrap() + 0.00027,
        "lon": stop["lon"], "accuracy": 12, "client_id": "phone-1"});
    let a = app
        .post("/api/v1/duty/checkins", Some(&volunteer), &near)
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let first = a.json();
    let d = first["distance_m"].as_f64().unwrap();
    assert!((25.0..=35.0).contains(&d), "distance {d}");
    let again = app
        .post("/api/v1/duty/checkins", Some(&volunteer), &near)
        .await
        .json();
    assert_eq!(again["id"], first["id"]);
    // Someone else's assignment, a time far back, and a wrong position are refused.
    let resident = app.demo_login("dhk.dan").await;
    assert!(
        app.post("/api/v1/duty/checkins", Some(&resident), &near)
            .await
            .status
            >= 400
    );
    let mut old = near.clone();
    old["client_id"] = json!("phone-2");
    old["at"] = json!((Utc::now() - Duration::days(5)).to_rfc3339());
    assert_problem(
        &app.post("/api/v1/duty/checkins", Some(&volunteer), &old)
            .await,
        422,
    );
    let mut nowhere = near.clone();
    nowhere["client_id"] = json!("phone-3");
    nowhere["lat"] = json!(123.0);
    assert_problem(
        &app.post("/api/v1/duty/checkins", Some(&volunteer), &nowhere)
            .await,
        422,
    );

    // The checkpoint code: signed, counted once, void once renewed.
    let codes = app
        .page(&format!("/duty/places/{}/codes", gates["id"]), None)
        .await;
    assert_eq!(codes.status, 303, "to the login page");
    let session = app.login_session("dhk.congan").await;
    let page = app
        .page(
            &format!("/duty/places/{}/codes", gates["id"]),
            Some(&session),
        )
        .await;
    let html = assert_html(&page, 200);
    assert!(html.contains("<svg"), "QR codes drawn");
    let code = html
        .split("data-code=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let scan = json!({"code": code, "lat": stop["lat"], "lon": stop["lon"]});
    let a = app
        .post("/api/v1/duty/checkins", Some(&volunteer), &scan)
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let s1 = a.json();
    assert_eq!(s1["kind"], "stop");
    assert!(s1["distance_m"].as_f64().unwrap() < 1.0);
    assert_eq!(
        app.post("/api/v1/duty/checkins", Some(&volunteer), &scan)
            .await
            .json()["id"],
        s1["id"]
    );
    let forged = json!({"code": code.replace('.', ".9"), "lat": stop["lat"], "lon": stop["lon"]});
    assert_problem(
        &app.post("/api/v1/duty/checkins", Some(&volunteer), &forged)
            .await,
        422,
    );
    // Not on duty here: the leader of team 1 has no shift at the gate now.
    let leader = app.demo_login("dhk.totruong1").await;
    assert_problem(
        &app.post("/api/v1/duty/checkins", Some(&leader), &scan)
            .await,
        409,
    );
    let renew = app
        .send(
            app.req(
                reqwest::Method::POST,
                &format!("/duty/places/{}/renew", gates["id"]),
                None,
            )
            .header("cookie", format!("ww_session={session}"))
            .form(&[("csrf", app.csrf_of(&session).await)]),
        )
        .await;
    assert!(
        renew.status == 303 || renew.status == 302,
        "{}",
        renew.brief()
    );
    let p = assert_problem(
        &app.post("/api/v1/duty/checkins", Some(&volunteer), &scan)
            .await,
        422,
    );
    assert!(p.to_string().contains("mã mới"), "{p}");

    // The officer's roster shows the check-in and its distance.
    let shifts = roster(&app, &officer, &this_month).await;
    let on = shifts.iter().find(|s| s["id"] == shift["id"]).unwrap()["people"][0].clone();
    assert!(on["checked_in"].is_string(), "{on}");
    assert_eq!(on["stops_scanned"], 1);
    assert_eq!(on["missed"], false);
}

async fn calendars_parse_back(app: TestApp) {
    use icalendar::{Calendar, CalendarComponent, Component};
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    let a = app
        .get(
            &format!("/api/v1/duty/calendar.ics?ward={WARD}"),
            Some(&officer),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert!(a.content_type().starts_with("text/calendar"));
    assert!(
        a.body
            .contains("\r\nBEGIN:VTIMEZONE\r\nTZID:Asia/Ho_Chi_Minh\r\n")
    );
    let cal: Calendar = a.body.parse().expect("the ward calendar parses");
    let events: Vec<&icalendar::Event> = cal
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(events.len() > 50, "{} events", events.len());
    let mut uids = std::collections::HashSet::new();
    for e in &events {
        assert!(
            uids.insert(e.get_uid().expect("UID").to_string()),
            "UID unique"
        );
        assert!(
            e.property_value("DTSTAMP")
                .is_some_and(|v| v.ends_with('Z'))
        );
        let start = e.properties().get("DTSTART").expect("DTSTART");
        assert_eq!(
            start.params().get("TZID").map(|p| p.value()),
            Some("Asia/Ho_Chi_Minh")
        );
    }
    assert!(events.iter().any(|e| {
        e.get_summary()
            .is_some_and(|s| s.contains("Phân luồng giao thông phiên chợ Hàng"))
    }));
    // Not for volunteers; their own feed is a secret address.
    assert_problem(
        &app.get(
            &format!("/api/v1/duty/calendar.ics?ward={WARD}"),
            Some(&volunteer),
        )
        .await,
        403,
    );
    let url = app
        .post("/api/v1/duty/feed", Some(&volunteer), &json!({}))
        .await
        .json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &url[url.find("/duty/feeds/").unwrap()..];
    let feed = app.get(path, None).await;
    assert_eq!(feed.status, 200);
    let mine: Calendar = feed.body.parse().expect("the personal feed parses");
    let me = find_person(&app, &volunteer, "dhk.cuuchienbinh").await;
    let mut expected = 0;
    for m in [month(0), month(1)] {
        for s in roster(&app, &officer, &m).await {
            if s["people"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["person_id"] == me)
            {
                expected += 1;
            }
        }
    }
    let got = mine
        .components
        .iter()
        .filter(|c| matches!(c, CalendarComponent::Event(_)))
        .count();
    assert!(
        got >= expected && expected > 0,
        "feed has {got}, roster {expected}"
    );
    // A new address revokes the old one; revoking leaves none.
    let url2 = app
        .post("/api/v1/duty/feed", Some(&volunteer), &json!({}))
        .await
        .json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.get(path, None).await.status, 404);
    assert_eq!(
        app.delete("/api/v1/duty/feed", Some(&volunteer))
            .await
            .status,
        204
    );
    assert_eq!(
        app.get(&url2[url2.find("/duty/feeds/").unwrap()..], None)
            .await
            .status,
        404
    );
    assert_eq!(app.get("/duty/feeds/guess.ics", None).await.status, 404);
}

async fn printed_roster_and_monthly_summary(app: TestApp) {
    use calamine::{Reader, Xlsx};
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let m = month(1);
    let (status, ct, pdf) = app
        .get_bytes(
            &format!("/api/v1/duty/roster.pdf?ward={WARD}&month={m}"),
            Some(&officer),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF"));
    let (status, _, xlsx) = app
        .get_bytes(
            &format!("/api/v1/duty/summary.xlsx?ward={WARD}&month={m}"),
            Some(&officer),
        )
        .await;
    assert_eq!(status, 200);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).expect("an XLSX file");
    let sheet = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let text: Vec<String> = sheet
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(
        text.iter().any(|c| c.contains("Tổng hợp ca trực tháng")),
        "{text:?}"
    );
    let volunteer = app.demo_login("dhk.cuuchienbinh").await;
    assert_problem(
        &app.get(
            &format!("/api/v1/duty/summary.xlsx?ward={WARD}&month={m}"),
            Some(&volunteer),
        )
        .await,
        403,
    );
    assert_problem(
        &app.get(
            &format!("/api/v1/duty/roster.pdf?ward={WARD}&month=13/2026"),
            Some(&officer),
        )
        .await,
        422,
    );
}

async fn patrol_log_becomes_a_report(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("dhk.congan").await;
    let leader = app.demo_login("dhk.totruong1").await;
    let shifts = roster(&app, &officer, &month(0)).await;
    let me = find_person(&app, &leader, "dhk.totruong1").await;
    let mine = shifts
        .iter()
        .chain(roster(&app, &officer, &month(1)).await.iter())
        .find(|s| {
            s["people"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["person_id"] == me)
        })
        .cloned()
        .expect("the leader has a duty");
    let path = format!("/api/v1/duty/shifts/{}/logs", mine["id"]);
    assert_problem(
        &app.post(&path, Some(&leader), &json!({"body": "ok"})).await,
        422,
    );
    let a = app
        .post(&path, Some(&leader), &json!({"body": "Phát hiện nhóm thanh niên tụ tập, nghi đánh bạc tại ngõ chợ", "report_category": "social_evils"}))
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let id = a.json()["report_id"].as_i64().expect("a report filed");
    let r = app
        .get_json(&format!("/api/v1/reports/{id}"), Some(&officer))
        .await;
    assert_eq!(r["category"], "social_evils");
    let resident = app.demo_login("dhk.dan").await;
    assert_problem(
        &app.post(&path, Some(&resident), &json!({"body": "xin chào các bạn"}))
            .await,
        403,
    );
}

async fn duty_pages(app: TestApp) {
    app.load_demo().await;
    let officer = app.login_session("dhk.congan").await;
    let a = app
        .page(&format!("/wards/{WARD}/duty"), Some(&officer))
        .await;
    let html = assert_html(&a, 200);
    assert!(html.contains("Phân luồng giao thông phiên chợ Hàng"));
    assert!(html.contains("id=\"build-form\""));
    let volunteer = app.login_session("dhk.cuuchienbinh").await;
    assert_html(
        &app.page(&format!("/wards/{WARD}/duty"), Some(&volunteer))
            .await,
        403,
    );
    let mine = app.page("/duty/me", Some(&volunteer)).await;
    let html = assert_html(&mine, 200);
    assert!(html.contains("Ca trực của tôi"));
    let en = app.page("/duty/me?lang=en", Some(&volunteer)).await;
    assert!(assert_html(&en, 200).contains("My duties"));
    let form = app
        .page(&format!("/wards/{WARD}/duty/templates/new"), Some(&officer))
        .await;
    assert!(assert_html(&form, 200).contains("name=\"rule\""));
    assert_eq!(app.page("/duty/me", None).await.status, 303);

    // A patrol route from the page: stops one a line; a bad line says how to write it.
    let csrf = app.csrf_of(&officer).await;
    let post = |stops: &'static str| {
        app.req(
            reqwest::Method::POST,
            &format!("/wards/{WARD}/duty/places/new"),
            None,
        )
        .header("cookie", format!("ww_session={officer}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "route"),
            ("name", "Tuyến tuần tra ngõ chợ"),
            ("site", ""),
            ("stops", stops),
            ("notes", ""),
        ])
    };
    let bad = app.send(post("Cổng chợ; 20.84")).await;
    assert!(assert_html(&bad, 422).contains("tên; vĩ độ; kinh độ"));
    let ok = app
        .send(post(
            "Cổng chợ; 20.8408; 106.6712\nNgõ 12; 20,8415; 106,6720",
        ))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.brief());
    let places = app
        .get_json(&format!("/api/v1/duty/places?ward={WARD}"), Some(&officer))
        .await;
    let route = places
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Tuyến tuần tra ngõ chợ")
        .expect("the route is stored");
    assert_eq!(route["stops"].as_array().unwrap().len(), 2);
    assert_eq!(route["stops"][1]["lat"], 20.8415);
    assert_html(
        &app.page(&format!("/wards/{WARD}/duty/places/new"), Some(&volunteer))
            .await,
        403,
    );
}

/// Reminders before a duty go out by SMS once per person, through a local gateway that
/// speaks the configured HTTP contract.
mod reminders {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::routing::post;
    use serde_json::{Value, json};
    use wardwatch::channels::Channels;

    use super::{WARD, roster, template, veterans, vn_now};
    use crate::helpers::{Backend, spawn_app_with};

    async fn body(backend: Backend) {
        let texts: Arc<Mutex<Vec<Value>>> = Arc::default();
        let seen = texts.clone();
        let gateway = Router::new().route(
            "/send",
            post(move |axum::Json(v): axum::Json<Value>| {
                let seen = seen.clone();
                async move {
                    seen.lock().unwrap().push(v);
                    axum::Json(json!({"status": "ok"}))
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/send", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, gateway).await.unwrap() });
        let channels = Channels::from_lookup(&|name| match name {
            "WARDWATCH_SMS_URL" => Some(url.clone()),
            _ => None,
        })
        .expect("channels configure");
        let Some(app) = spawn_app_with(backend, |c| c.channels = Some(Arc::new(channels))).await
        else {
            eprintln!("skipped: TEST_DATABASE_URL not set");
            return;
        };
        app.load_demo().await;
        let officer = app.demo_login("dhk.congan").await;
        let vets = veterans(&app, &officer).await;
        // A duty in an hour: its people are reminded; one in five hours is not yet.
        let soon = vn_now() + chrono::Duration::minutes(60);
        let later = vn_now() + chrono::Duration::hours(5);
        for (title, at) in [("Trực nhắc sớm", soon), ("Trực nhắc muộn", later)] {
            let end = at + chrono::Duration::minutes(30);
            let mut t = template(
                title,
                &format!("partner:{vets}"),
                2,
                (
                    &at.format("%H:%M").to_string(),
                    &end.format("%H:%M").to_string(),
                ),
                "",
            );
            t["starts_on"] = json!(at.format("%d/%m/%Y").to_string());
            assert_eq!(
                app.post("/api/v1/duty/templates", Some(&officer), &t)
                    .await
                    .status,
                201
            );
        }
        let m = format!(
            "{:02}/{}",
            soon.date().format("%m"),
            soon.date().format("%Y")
        );
        for month in [
            m,
            format!(
                "{:02}/{}",
                later.date().format("%m"),
                later.date().format("%Y")
            ),
        ] {
            let a = app
                .post(
                    "/api/v1/duty/roster/build",
                    Some(&officer),
                    &json!({"ward": WARD, "month": month, "accept_open": true}),
                )
                .await;
            assert_eq!(a.status, 200, "{}", a.brief());
        }
        // Other demo duties may start within two hours too (tonight's patrols): look at
        // this duty's texts, and check that nobody gets any text twice.
        let ours = |all: &[Value], title: &str| -> Vec<Value> {
            all.iter()
                .filter(|v| v["text"].as_str().unwrap_or_default().contains(title))
                .cloned()
                .collect()
        };
        let mut got = Vec::new();
        for _ in 0..100 {
            got = ours(&texts.lock().unwrap(), "Trực nhắc sớm");
            if got.len() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        // Two more ticks: nobody is texted twice.
        tokio::time::sleep(std::time::Duration::from_secs(11)).await;
        let all = texts.lock().unwrap().clone();
        assert_eq!(ours(&all, "Trực nhắc sớm"), got);
        assert_eq!(got.len(), 2, "{all:?}");
        assert!(
            ours(&all, "Trực nhắc muộn").is_empty(),
            "five hours ahead is not due: {all:?}"
        );
        let mut pairs: Vec<String> = all
            .iter()
            .map(|v| format!("{}|{}", v["to"], v["text"]))
            .collect();
        let n = pairs.len();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), n, "a text sent twice: {all:?}");
        let to: std::collections::HashSet<String> =
            got.iter().map(|v| v["to"].to_string()).collect();
        assert_eq!(to.len(), 2, "two people, one text each: {got:?}");
        // The roster shows how the reminder went.
        let month = format!(
            "{:02}/{}",
            soon.date().format("%m"),
            soon.date().format("%Y")
        );
        let shift = roster(&app, &officer, &month)
            .await
            .into_iter()
            .find(|s| s["title"] == "Trực nhắc sớm")
            .unwrap();
        for p in shift["people"].as_array().unwrap() {
            assert_eq!(p["reminder"], "sent: sms", "{p}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        body(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        body(Backend::Postgres).await;
    }
}
