//! The command line on a SQLite data directory: `demo` and `user add`.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use wardwatch::app::{Application, open_store};
use wardwatch::config::Config;

use crate::helpers::{assert_problem, cli, run, run_with_stdin};

fn in_dir(dir: &Path) -> tokio::process::Command {
    let mut c = cli();
    c.arg("--data").arg(dir);
    c
}

async fn user_add(dir: &Path, args: &[&str], password: &str) -> crate::helpers::Ran {
    let mut c = in_dir(dir);
    c.args(["user", "add"]).args(args).arg("--password-stdin");
    run_with_stdin(c, password).await
}

/// Serve a data directory the command line wrote, on port 0.
async fn serve(dir: &Path) -> (String, Arc<dyn wardwatch::store::Store>) {
    let mut config = Config::new(dir.to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let store = open_store(&config).await.expect("store");
    let app = Application::with_store(config, store.clone())
        .await
        .expect("app");
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    (base, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_then_user_add() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");

    let demo = || {
        let mut c = in_dir(&dir);
        c.arg("demo");
        c
    };
    let out = run(demo()).await;
    assert!(out.ok, "demo failed: {}", out.stderr);
    assert!(out.stdout.contains("lach-tray"), "{}", out.stdout);
    assert!(out.stdout.contains("lt.congan"), "{}", out.stdout);
    assert!(out.stdout.contains("demo-wardwatch"), "{}", out.stdout);
    let again = run(demo()).await;
    assert!(again.ok, "{}", again.stderr);
    assert!(again.stdout.contains("nothing changed"), "{}", again.stdout);

    let out = user_add(
        &dir,
        &[
            "--username",
            "x.y",
            "--role",
            "officer",
            "--ward",
            "lach-tray",
        ],
        "a-long-password\n",
    )
    .await;
    assert!(out.ok, "user add failed: {}", out.stderr);
    assert!(out.stdout.contains("x.y"), "{}", out.stdout);

    // Refusals, each with a message that says what is wrong; nothing is created.
    for (args, says) in [
        (
            vec![
                "--username",
                "a.b",
                "--role",
                "chief",
                "--ward",
                "lach-tray",
            ],
            "--role",
        ),
        (
            vec![
                "--username",
                "a.b",
                "--role",
                "officer",
                "--ward",
                "khong-co",
            ],
            "no ward with code khong-co",
        ),
        (
            vec!["--username", "a.b", "--role", "officer"],
            "needs --ward",
        ),
        (
            vec![
                "--username",
                "a.b",
                "--role",
                "team_leader",
                "--ward",
                "lach-tray",
            ],
            "needs --group",
        ),
        (
            vec![
                "--username",
                "x.y",
                "--role",
                "officer",
                "--ward",
                "lach-tray",
            ],
            "username already taken",
        ),
        (
            vec!["--username", "Có Dấu", "--role", "admin"],
            "Tên đăng nhập",
        ),
    ] {
        let out = user_add(&dir, &args, "a-long-password\n").await;
        assert!(!out.ok, "{args:?} must fail: {}", out.stdout);
        assert!(
            out.stderr.contains(says),
            "{args:?}: stderr {:?} lacks {says:?}",
            out.stderr
        );
    }
    let short = user_add(&dir, &["--username", "a.b", "--role", "admin"], "short\n").await;
    assert!(!short.ok);
    assert!(short.stderr.contains("8"), "{}", short.stderr);
    // Without --password-stdin the command is refused before anything runs.
    let mut c = in_dir(&dir);
    c.args(["user", "add", "--username", "a.b", "--role", "admin"]);
    let out = run(c).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("--password-stdin"), "{}", out.stderr);

    // A team leader with a group is fine.
    let out = user_add(
        &dir,
        &[
            "--username",
            "to.truong.ba",
            "--role",
            "team_leader",
            "--ward",
            "lach-tray",
            "--group",
            "lach-tray-tdp-03",
        ],
        "a-long-password\r\n",
    )
    .await;
    assert!(out.ok, "{}", out.stderr);

    // The service on that directory lets the new accounts in.
    let (base, store) = serve(&dir).await;
    assert!(store.user_by_username("a.b").await.unwrap().is_none());
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let login = |username: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            http.post(format!("{base}/api/v1/session"))
                .json(&json!({"username": username, "password": "a-long-password"}))
                .send()
                .await
                .unwrap()
        }
    };
    let res = login("x.y").await;
    assert_eq!(res.status(), 200);
    let token = res.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: serde_json::Value = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "officer");
    assert_eq!(me["ward"], "lach-tray");
    // An officer of the ward: may add a site there.
    let res = http
        .post(format!("{base}/api/v1/wards/lach-tray/sites"))
        .bearer_auth(&token)
        .json(&json!({"kind": "other", "name": "Do x.y thêm"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // "\r\n" was not part of the password.
    let res = login("to.truong.ba").await;
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(
            res.json::<serde_json::Value>().await.unwrap()["token"]
                .as_str()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["group"], "lach-tray-tdp-03");

    // The audit log says the command line created them.
    let entries = store
        .audit_trail(
            None,
            Some((
                "user",
                store.user_by_username("x.y").await.unwrap().unwrap().id,
            )),
            10,
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "create");
    assert_eq!(entries[0].user_id, None);

    // A bad password for the new account is still a problem answer.
    let bad = http
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": "x.y", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    let status = bad.status().as_u16();
    let headers = bad.headers().clone();
    let body = bad.text().await.unwrap();
    assert_problem(
        &crate::helpers::Answer {
            status,
            headers,
            body,
        },
        422,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_database_url_is_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = in_dir(tmp.path());
    c.args(["--database-url", "mysql://localhost/x", "migrate"]);
    let out = run(c).await;
    assert!(!out.ok);
    assert!(out.stderr.contains("postgres://"), "{}", out.stderr);
    assert!(out.stderr.contains("mysql"), "{}", out.stderr);
}
