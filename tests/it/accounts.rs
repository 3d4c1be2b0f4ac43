//! Logging in and out (API and pages), lockout after repeated failures, sessions and
//! password changes.

use serde_json::json;
use wardwatch::domain::Role;

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem, hidden_input};

const USER: &str = "kiem.tra";
const PASSWORD: &str = "mat-khau-dung-1";

async fn with_user(app: &TestApp) {
    app.add_user(USER, Role::Admin, None, None, PASSWORD).await;
}

fn credentials(username: &str, password: &str) -> serde_json::Value {
    json!({"username": username, "password": password})
}

both!(
    login_answers_token_and_session_cookie,
    wrong_password_is_a_problem,
    lockout_after_five_failures,
    bearer_token_sessions,
    password_change,
    page_login_needs_the_form_token,
    page_logout_needs_the_session_token,
    an_expired_lock_lets_the_right_password_in,
    malformed_bearer_tokens_are_refused,
    logged_in_users_can_use_the_login_form,
);

async fn login_answers_token_and_session_cookie(app: TestApp) {
    with_user(&app).await;
    let a = app
        .post("/api/v1/session", None, &credentials(USER, PASSWORD))
        .await;
    assert_eq!(a.status, 200, "{}", a.brief());
    assert!(a.content_type().starts_with("application/json"));
    let body = a.json();
    let token = body["token"].as_str().expect("token");
    assert_eq!(token.len(), 64, "a 32-byte hex token: {token}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(body["user"]["username"], USER);
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["expires_at"].is_string(), "{body}");

    let line = a
        .set_cookie_line("ww_session")
        .expect("a ww_session cookie is set");
    assert_eq!(a.cookie("ww_session").as_deref(), Some(token), "{line}");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("Path=/"), "{line}");
    assert!(line.contains("SameSite=Lax"), "{line}");

    // The username is case-insensitive and trimmed.
    let again = app
        .post(
            "/api/v1/session",
            None,
            &credentials(" KIEM.TRA ", PASSWORD),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.brief());
    assert_ne!(
        again.json()["token"],
        body["token"],
        "each login is its own session"
    );
}

async fn wrong_password_is_a_problem(app: TestApp) {
    with_user(&app).await;
    let a = app
        .post("/api/v1/session", None, &credentials(USER, "mat-khau-sai"))
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(p["errors"][0]["field"], "password", "{p}");
    assert!(a.set_cookie_line("ww_session").is_none());

    // An unknown username answers exactly the same, so usernames cannot be probed.
    let b = app
        .post(
            "/api/v1/session",
            None,
            &credentials("khong.co", "mat-khau-sai"),
        )
        .await;
    let q = assert_problem(&b, 422);
    assert_eq!(p, q);

    // English when asked.
    let en = app
        .send(
            app.req(reqwest::Method::POST, "/api/v1/session", None)
                .header("accept-language", "en-GB,en;q=0.8")
                .json(&credentials(USER, "mat-khau-sai")),
        )
        .await;
    let p = assert_problem(&en, 422);
    assert_eq!(p["errors"][0]["message"], "Wrong username or password.");
}

async fn lockout_after_five_failures(app: TestApp) {
    with_user(&app).await;
    for attempt in 1..=4 {
        let a = app
            .post("/api/v1/session", None, &credentials(USER, "sai-roi-nhe"))
            .await;
        assert_problem(&a, 422);
        assert!(a.header("retry-after").is_none(), "attempt {attempt}");
    }
    let fifth = app
        .post("/api/v1/session", None, &credentials(USER, "sai-roi-nhe"))
        .await;
    assert_problem(&fifth, 429);
    let retry: u64 = fifth
        .header("retry-after")
        .expect("Retry-After on 429")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (800..=900).contains(&retry),
        "locked for about 15 minutes, got {retry} s"
    );

    // Even the right password is refused while locked.
    let right = app
        .post("/api/v1/session", None, &credentials(USER, PASSWORD))
        .await;
    assert_problem(&right, 429);
    assert!(right.header("retry-after").is_some());
    assert!(right.set_cookie_line("ww_session").is_none());
    let user = app
        .store
        .user_by_username(USER)
        .await
        .unwrap()
        .expect("user");
    assert!(user.locked_until.is_some_and(|t| t > chrono::Utc::now()));
}

async fn bearer_token_sessions(app: TestApp) {
    with_user(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let me = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["username"], USER);
    assert_eq!(me["role"], "admin");
    assert!(me["ward"].is_null());

    // Anonymous: 401; a token nobody issued: 401, not an anonymous call.
    assert_problem(&app.get("/api/v1/me", None).await, 401);
    let bogus = "0".repeat(64);
    assert_problem(&app.get("/api/v1/me", Some(&bogus)).await, 401);
    assert_problem(&app.get("/api/v1/search?q=x", Some(&bogus)).await, 401);

    // Logging out ends the session on the server.
    let other = app.login(USER, PASSWORD).await;
    let out = app.delete("/api/v1/session", Some(&token)).await;
    assert_eq!(out.status, 204, "{}", out.brief());
    let cleared = out
        .set_cookie_line("ww_session")
        .expect("the cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_problem(&app.get("/api/v1/me", Some(&token)).await, 401);
    // Only that session.
    let still = app.get_json("/api/v1/me", Some(&other)).await;
    assert_eq!(still["username"], USER);
}

async fn password_change(app: TestApp) {
    with_user(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let elsewhere = app.login(USER, PASSWORD).await;
    let new = "mat-khau-moi-dai-hon";

    // Too short: 422 naming the field, nothing changes.
    let a = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current": PASSWORD, "new": "ngan"}),
        )
        .await;
    let p = assert_problem(&a, 422);
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["new"], "{p}");

    // Wrong current password: 422 on "current".
    let a = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current": "khong-phai", "new": new}),
        )
        .await;
    let p = assert_problem(&a, 422);
    assert_eq!(p["errors"][0]["field"], "current", "{p}");
    // Still the old password.
    app.login(USER, PASSWORD).await;

    // Anonymous: 401.
    let a = app
        .post(
            "/api/v1/me/password",
            None,
            &json!({"current": PASSWORD, "new": new}),
        )
        .await;
    assert_problem(&a, 401);

    let a = app
        .post(
            "/api/v1/me/password",
            Some(&token),
            &json!({"current": PASSWORD, "new": new}),
        )
        .await;
    assert_eq!(a.status, 204, "{}", a.brief());

    let old = app
        .post("/api/v1/session", None, &credentials(USER, PASSWORD))
        .await;
    assert_problem(&old, 422);
    app.login(USER, new).await;
    // The session that changed it goes on; the others end.
    app.get_json("/api/v1/me", Some(&token)).await;
    assert_problem(&app.get("/api/v1/me", Some(&elsewhere)).await, 401);
}

async fn page_login_needs_the_form_token(app: TestApp) {
    with_user(&app).await;
    let browser = app.client();

    // Without the pre-login cookie and field: 400, and no session.
    let a = app
        .send(
            browser
                .post(app.url("/login"))
                .form(&[("username", USER), ("password", PASSWORD)]),
        )
        .await;
    let html = assert_html(&a, 400);
    assert!(html.contains("lang=\"vi\""));
    assert!(a.set_cookie_line("ww_session").is_none());

    // The form sets the ww_csrf cookie and carries the same token.
    let form = app.send(browser.get(app.url("/login?next=/account"))).await;
    let html = assert_html(&form, 200);
    let line = form
        .set_cookie_line("ww_csrf")
        .expect("the login form sets ww_csrf");
    assert!(line.contains("HttpOnly"), "{line}");
    let cookie_token = form.cookie("ww_csrf").expect("ww_csrf value");
    let field = hidden_input(html, "csrf").expect("csrf field");
    assert_eq!(field, cookie_token);
    assert_eq!(hidden_input(html, "next").as_deref(), Some("/account"));

    // A wrong field with the right cookie: 400.
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", USER),
            ("password", PASSWORD),
            ("csrf", "not-the-token"),
        ]))
        .await;
    assert_html(&a, 400);
    assert!(a.set_cookie_line("ww_session").is_none());

    // A wrong password on the page: the form again, 422, with the message.
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", USER),
            ("password", "sai-mat-khau"),
            ("csrf", &field),
            ("next", "/account"),
        ]))
        .await;
    let html = assert_html(&a, 422);
    assert!(html.contains("Tên đăng nhập hoặc mật khẩu không đúng."));

    // Right: 303 to `next`, with the session cookie.
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", USER),
            ("password", PASSWORD),
            ("csrf", &field),
            ("next", "/account"),
        ]))
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());
    assert_eq!(a.location(), Some("/account"));
    let session = a.cookie("ww_session").expect("session cookie");
    assert!(
        a.set_cookie_line("ww_session")
            .unwrap()
            .contains("HttpOnly")
    );
    // The cookie jar now carries the session: the account page shows the user.
    let account = app.send(browser.get(app.url("/account"))).await;
    let html = assert_html(&account, 200);
    assert!(html.contains(USER), "account page names the user");
    // The same token works as a bearer token.
    let me = app.get_json("/api/v1/me", Some(&session)).await;
    assert_eq!(me["username"], USER);

    // `next` never leads to another host.
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", USER),
            ("password", PASSWORD),
            ("csrf", &field),
            ("next", "//evil.example/"),
        ]))
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());
    assert_eq!(a.location(), Some("/"));
}

async fn page_logout_needs_the_session_token(app: TestApp) {
    with_user(&app).await;
    let token = app.login(USER, PASSWORD).await;
    let cookie = format!("ww_session={token}");

    let page = app.page("/account", Some(&token)).await;
    let html = assert_html(&page, 200);
    let csrf = hidden_input(html, "csrf").expect("the page carries the session's csrf");
    assert_eq!(csrf.len(), 64);

    // Without the token, or with another: 400 and the session goes on.
    for sent in ["", "0123456789abcdef"] {
        let a = app
            .send(
                app.req(reqwest::Method::POST, "/logout", None)
                    .header("cookie", &cookie)
                    .form(&[("csrf", sent)]),
            )
            .await;
        assert_html(&a, 400);
        app.get_json("/api/v1/me", Some(&token)).await;
    }

    let a = app
        .send(
            app.req(reqwest::Method::POST, "/logout", None)
                .header("cookie", &cookie)
                .form(&[("csrf", csrf.as_str())]),
        )
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());
    assert_eq!(a.location(), Some("/"));
    assert!(
        a.set_cookie_line("ww_session")
            .is_some_and(|l| l.contains("Max-Age=0"))
    );
    assert_problem(&app.get("/api/v1/me", Some(&token)).await, 401);
    // The page now sends the anonymous caller to the login form.
    let a = app.page("/account", Some(&token)).await;
    assert_eq!(a.status, 303);
    assert_eq!(a.location(), Some("/login?next=%2Faccount"));
}

async fn an_expired_lock_lets_the_right_password_in(app: TestApp) {
    with_user(&app).await;
    for _ in 0..5 {
        app.post("/api/v1/session", None, &credentials(USER, "sai-roi-nhe"))
            .await;
    }
    let locked = app
        .post("/api/v1/session", None, &credentials(USER, PASSWORD))
        .await;
    assert_problem(&locked, 429);
    // Fifteen minutes later (the lock's end moved into the past).
    let user = app.store.user_by_username(USER).await.unwrap().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    app.store
        .record_login_failure(user.id, Some(past))
        .await
        .unwrap();
    app.login(USER, PASSWORD).await;
    let user = app.store.user_by_username(USER).await.unwrap().unwrap();
    assert_eq!(user.failed_logins, 0, "a good login resets the count");
    assert!(user.locked_until.is_none());
    // The count starts again from zero: one failure is not a lock.
    let a = app
        .post("/api/v1/session", None, &credentials(USER, "sai-roi-nhe"))
        .await;
    assert_problem(&a, 422);
}

/// A token nobody issued is refused whatever its shape, as a 64-character one is.
async fn malformed_bearer_tokens_are_refused(app: TestApp) {
    let path = "/api/v1/search?q=phuong";
    assert_eq!(app.get(path, None).await.status, 200);
    assert_problem(&app.get(path, Some(&"0".repeat(64))).await, 401);
    for bogus in ["x".repeat(129), "x".repeat(500)] {
        let a = app.get(path, Some(&bogus)).await;
        assert_problem(&a, 401);
    }
    let empty = app
        .send(
            app.req(reqwest::Method::GET, path, None)
                .header("authorization", "Bearer "),
        )
        .await;
    assert_problem(&empty, 401);
}

/// Someone logged in opens /login (to switch accounts) and logs in again.
async fn logged_in_users_can_use_the_login_form(app: TestApp) {
    with_user(&app).await;
    app.add_user("nguoi.khac", Role::Admin, None, None, PASSWORD)
        .await;
    let browser = app.client();
    let form = app.send(browser.get(app.url("/login"))).await;
    let csrf = hidden_input(assert_html(&form, 200), "csrf").unwrap();
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", USER),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ]))
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());

    // Now logged in: the form again.
    let form = app.send(browser.get(app.url("/login"))).await;
    let csrf = hidden_input(assert_html(&form, 200), "csrf").unwrap();
    let a = app
        .send(browser.post(app.url("/login")).form(&[
            ("username", "nguoi.khac"),
            ("password", PASSWORD),
            ("csrf", &csrf),
        ]))
        .await;
    assert_eq!(a.status, 303, "{}", a.brief());
    let token = a.cookie("ww_session").expect("new session");
    let me = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["username"], "nguoi.khac");
}
