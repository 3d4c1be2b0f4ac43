//! Health, metrics, the API description and what unknown addresses answer.

use serde_json::Value;

use crate::both;
use crate::helpers::{TestApp, assert_html, assert_problem};

both!(
    health_and_metrics,
    openapi_describes_the_api,
    unknown_addresses,
);

/// The value of `wardwatch_http_requests_total{class="…"}` in a metrics text.
fn requests(metrics: &str, class: &str) -> u64 {
    let prefix = format!("wardwatch_http_requests_total{{class=\"{class}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{metrics}"))
        .trim()
        .parse()
        .expect("a count")
}

async fn health_and_metrics(app: TestApp) {
    let a = app.get("/healthz", None).await;
    assert_eq!((a.status, a.body.as_str()), (200, "ok"));
    let a = app.get("/readyz", None).await;
    assert_eq!((a.status, a.body.as_str()), (200, "ready"));
    // Security headers on every answer.
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    assert!(
        a.header("content-security-policy")
            .is_some_and(|c| c.contains("default-src 'self'"))
    );

    let m = app.get("/metrics", None).await;
    assert_eq!(m.status, 200);
    assert!(
        m.content_type().starts_with("text/plain"),
        "{}",
        m.content_type()
    );
    assert!(
        m.body
            .contains("# TYPE wardwatch_http_requests_total counter")
    );
    assert!(
        m.body
            .contains("wardwatch_http_request_duration_seconds_count")
    );
    let ok = requests(&m.body, "2xx");
    let missing = requests(&m.body, "4xx");
    assert_eq!(ok, 2, "healthz and readyz; /metrics itself is not counted");

    assert_eq!(app.get("/api/v1/nope", None).await.status, 404);
    app.get("/api/v1/wards", None).await;
    let m = app.get("/metrics", None).await;
    assert_eq!(requests(&m.body, "2xx"), ok + 1);
    assert_eq!(requests(&m.body, "4xx"), missing + 1);
    let count: u64 = m
        .body
        .lines()
        .find_map(|l| l.strip_prefix("wardwatch_http_request_duration_seconds_count "))
        .and_then(|v| v.trim().parse().ok())
        .expect("histogram count");
    assert_eq!(count, ok + 1 + missing + 1);
}

async fn openapi_describes_the_api(app: TestApp) {
    let spec: Value = app.get_json("/api/v1/openapi.json", None).await;
    let version = spec["openapi"].as_str().expect("openapi version");
    assert!(version.starts_with("3."), "{version}");
    let paths = spec["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/session",
        "/api/v1/wards",
        "/api/v1/wards/{code}",
        "/api/v1/wards/{code}/sites",
        "/api/v1/people/{id}",
        "/api/v1/search",
    ] {
        assert!(paths.contains_key(path), "{path} is described");
    }
    assert!(paths["/api/v1/session"]["post"].is_object());
    assert!(paths["/api/v1/session"]["delete"].is_object());

    let docs = app.page("/api/docs", None).await;
    let html = assert_html(&docs, 200);
    assert!(html.contains("/api/v1/session"));
    assert!(html.contains("/api/v1/wards"));
    assert!(
        html.contains("/api/v1/openapi.json"),
        "links the description"
    );
}

async fn unknown_addresses(app: TestApp) {
    let p = assert_problem(&app.get("/api/v1/khong-co", None).await, 404);
    assert_eq!(p["title"], "Không tìm thấy");
    let en = app
        .send(
            app.req(reqwest::Method::GET, "/api/v1/khong-co", None)
                .header("accept-language", "en-US"),
        )
        .await;
    assert_eq!(assert_problem(&en, 404)["title"], "Not found");
    assert_problem(&app.get("/api/v1/sites/999999", None).await, 404);
    // A path parameter of the wrong type.
    assert_problem(&app.get("/api/v1/sites/abc", None).await, 400);
    // A method the route does not have.
    let a = app
        .send(app.req(reqwest::Method::DELETE, "/api/v1/wards", None))
        .await;
    assert_problem(&a, 405);

    let a = app.page("/khong-co-trang-nay", None).await;
    let html = assert_html(&a, 404);
    assert!(html.contains("<html lang=\"vi\">"));
    assert!(html.contains("Không tìm thấy"));
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    let a = app.page("/khong-co-trang-nay?lang=en", None).await;
    let html = assert_html(&a, 404);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Not found"));
    // A page for a record that does not exist.
    assert_html(&app.page("/wards/khong-co", None).await, 404);
}
