//! Backup and restore, through the store and through the command line while the
//! service runs: what the API answers after a restore is what it answered at backup.

use serde_json::{Value, json};

use crate::both;
use crate::helpers::{TestApp, assert_problem, cli, run};

both!(
    restore_brings_back_the_backed_up_data,
    backup_and_restore_refuse_bad_files,
    command_line_backup_while_serving,
);

/// What the API shows of Lạch Tray to its officer, and of the wards to everyone.
async fn api_view(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/wards",
        "/api/v1/wards/lach-tray",
        "/api/v1/wards/lach-tray/sites?archived=true",
        "/api/v1/wards/lach-tray/teams",
        "/api/v1/wards/lach-tray/people",
        "/api/v1/wards/du-hang-kenh",
    ] {
        out.push(app.get_json(path, Some(token)).await);
    }
    out
}

async fn audit_len(app: &TestApp) -> usize {
    app.store
        .audit_trail(None, None, 1_000_000)
        .await
        .unwrap()
        .len()
}

async fn archive_first_team(app: &TestApp, token: &str) -> i64 {
    let teams = app
        .get_json("/api/v1/wards/lach-tray/teams", Some(token))
        .await;
    let team = teams[0]["id"].as_i64().expect("a team");
    let a = app
        .post(
            &format!("/api/v1/teams/{team}/archive"),
            Some(token),
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.brief());
    team
}

async fn restore_brings_back_the_backed_up_data(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    // A report: its history begins with its "created" step.
    let resident = app.demo_login("dhk.dan").await;
    let filed = app
        .post(
            "/api/v1/reports",
            Some(&resident),
            &json!({"ward": "du-hang-kenh", "category": "fire", "description": "Khói ở kho trước sao lưu", "place_unknown": true}),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.brief());
    let report = filed.json()["id"].as_i64().unwrap();
    let steps = |events: Vec<wardwatch::store::reports::ReportEvent>| {
        events.iter().map(|e| e.kind.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        steps(app.store.report_events(report).await.unwrap()),
        ["created"]
    );
    let before = api_view(&app, &officer).await;
    let audit_before = audit_len(&app).await;
    let file = app.scratch().join("wardwatch.backup");
    app.store.backup(&file).await.expect("backup");
    assert!(std::fs::metadata(&file).unwrap().len() > 0);

    // Change things: a new site, a dissolved team, a new account.
    let a = app
        .post(
            "/api/v1/wards/lach-tray/sites",
            Some(&officer),
            &json!({"kind": "other", "name": "Điểm mới sau sao lưu"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let new_site = a.json()["id"].as_i64().unwrap();
    let team = archive_first_team(&app, &officer).await;
    app.add_user(
        "sau.sao.luu",
        wardwatch::domain::Role::Admin,
        None,
        None,
        "mat-khau-sau",
    )
    .await;
    let changed = api_view(&app, &officer).await;
    assert_ne!(changed, before, "the changes show");
    assert_eq!(
        changed[3].as_array().unwrap().len() + 1,
        before[3].as_array().unwrap().len(),
        "one team fewer"
    );

    app.store.restore(&file).await.expect("restore");

    let after = api_view(&app, &officer).await;
    for (i, (a, b)) in after.iter().zip(&before).enumerate() {
        assert_eq!(a, b, "view {i} differs after the restore");
    }
    assert_eq!(audit_len(&app).await, audit_before);
    assert_eq!(
        steps(app.store.report_events(report).await.unwrap()),
        ["created"],
        "the restored report's history, once"
    );
    assert_problem(
        &app.get(&format!("/api/v1/sites/{new_site}"), None).await,
        404,
    );
    let t = app.get_json(&format!("/api/v1/teams/{team}"), None).await;
    assert_eq!(t["archived"], false, "the team is back");
    let gone = app
        .post(
            "/api/v1/session",
            None,
            &json!({"username": "sau.sao.luu", "password": "mat-khau-sau"}),
        )
        .await;
    assert_problem(&gone, 422);

    // The restored database takes new writes (ids and sequences are consistent).
    let a = app
        .post(
            "/api/v1/wards/lach-tray/sites",
            Some(&officer),
            &json!({"kind": "other", "name": "Điểm mới sau sao lưu"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    app.demo_login("dhk.congan").await;
    app.add_user(
        "sau.khoi.phuc",
        wardwatch::domain::Role::Admin,
        None,
        None,
        "mat-khau-sau",
    )
    .await;
}

async fn backup_and_restore_refuse_bad_files(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let before = api_view(&app, &officer).await;
    let file = app.scratch().join("once.backup");
    app.store.backup(&file).await.expect("backup");
    let size = std::fs::metadata(&file).unwrap().len();
    // Never over an existing file.
    assert!(app.store.backup(&file).await.is_err());
    assert_eq!(std::fs::metadata(&file).unwrap().len(), size);

    let junk = app.scratch().join("junk.backup");
    std::fs::write(&junk, "this is not a backup at all").unwrap();
    assert!(app.store.restore(&junk).await.is_err());
    // The other engine's backup format is refused too.
    let foreign = app.scratch().join("foreign.backup");
    let head: &[u8] = match app.store.backend() {
        wardwatch::store::Backend::Sqlite => b"PGDMP\x01\x0e\x00\x04\x08\x01\x01",
        wardwatch::store::Backend::Postgres => b"SQLite format 3\0\x10\x00\x01\x01",
    };
    std::fs::write(&foreign, head).unwrap();
    assert!(app.store.restore(&foreign).await.is_err());
    assert!(
        app.store
            .restore(&app.scratch().join("missing.backup"))
            .await
            .is_err()
    );
    assert_eq!(api_view(&app, &officer).await, before, "nothing changed");
}

/// `wardwatch backup FILE` and `wardwatch restore FILE` against the database the
/// running service uses.
async fn command_line_backup_while_serving(app: TestApp) {
    app.load_demo().await;
    let officer = app.demo_login("lt.congan").await;
    let before = api_view(&app, &officer).await;
    let file = app.scratch().join("cli.backup");
    let command = |verb: &str| {
        let mut c = cli();
        c.arg("--data").arg(&app.data_dir);
        if let Some(url) = &app.database_url {
            c.arg("--database-url").arg(url);
        }
        c.arg(verb).arg(&file);
        c
    };

    let out = run(command("backup")).await;
    assert!(out.ok, "backup failed: {}", out.stderr);
    assert!(out.stdout.contains("backup written to"), "{}", out.stdout);
    assert!(file.exists());

    let a = app
        .post(
            "/api/v1/wards/lach-tray/sites",
            Some(&officer),
            &json!({"kind": "other", "name": "Sau bản sao lưu dòng lệnh"}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.brief());
    let site = a.json()["id"].as_i64().unwrap();
    archive_first_team(&app, &officer).await;

    let out = run(command("restore")).await;
    assert!(out.ok, "restore failed: {}", out.stderr);
    assert!(out.stdout.contains("restored from"), "{}", out.stdout);

    // The running service answers from the restored records.
    assert_eq!(api_view(&app, &officer).await, before);
    assert_problem(&app.get(&format!("/api/v1/sites/{site}"), None).await, 404);

    // A second backup to the same file is refused, with a message.
    let out = run(command("backup")).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
}
