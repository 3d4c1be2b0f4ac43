//! What every integration test shares: a running server on port 0 over a fresh database
//! (SQLite in a temporary directory, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set), an HTTP client, and small assertion helpers.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tempfile::TempDir;
use wardwatch::app::{Application, open_store};
use wardwatch::config::Config;
use wardwatch::store::Store;

/// The one password of every demo account.
pub const DEMO_PASSWORD: &str = "demo-wardwatch";

/// Test databases older than this (by the time in their name) are left-overs of runs
/// that died: they are dropped before this run creates its first one.
const STALE_SECS: u64 = 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL (`TEST_DATABASE_URL`):
/// `both!(name)` needs `async fn name(app: TestApp)` in the same module, and makes
/// the tests `name::sqlite` and `name::postgres`. Attributes (e.g. `#[ignore = "…"]`)
/// written before the name go to both.
#[macro_export]
macro_rules! both {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {$(
        mod $name {
            $(#[$attr])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("a SQLite app always starts");
                super::$name(app).await;
            }

            $(#[$attr])*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("skipped: TEST_DATABASE_URL not set"),
                }
            }
        }
    )*};
}

/// One HTTP answer, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "answer {} is not JSON ({e}): {}",
                self.status,
                &self.body[..self.body.len().min(500)]
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// The whole `Set-Cookie` line that sets `name`.
    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
    }

    /// The value a `Set-Cookie` gives `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let line = self.set_cookie_line(name)?;
        let pair = line.split(';').next()?;
        pair.split_once('=').map(|(_, v)| v.to_string())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// Shorthand for failure messages.
    pub fn brief(&self) -> String {
        format!("{} {}", self.status, &self.body[..self.body.len().min(800)])
    }
}

/// Checks an RFC 9457 problem answer and returns its JSON.
#[track_caller]
pub fn assert_problem(a: &Answer, status: u16) -> Value {
    assert_eq!(a.status, status, "status: {}", a.brief());
    assert!(
        a.content_type().starts_with("application/problem+json"),
        "content-type {:?} for {}",
        a.content_type(),
        a.brief()
    );
    let p = a.json();
    assert_eq!(p["status"], status, "problem status: {p}");
    assert!(p["type"].is_string(), "problem type: {p}");
    assert!(
        p["title"].as_str().is_some_and(|t| !t.is_empty()),
        "problem title: {p}"
    );
    assert!(
        p["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "problem detail: {p}"
    );
    p
}

/// Checks an HTML page answer and returns its text.
#[track_caller]
pub fn assert_html(a: &Answer, status: u16) -> &str {
    assert_eq!(a.status, status, "status: {}", a.brief());
    assert!(
        a.content_type().starts_with("text/html"),
        "content-type {:?} for {}",
        a.content_type(),
        a.brief()
    );
    &a.body
}

/// The value of the first hidden input `name` of a page.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    /// The data directory the server was given (for the command line).
    pub data_dir: PathBuf,
    /// `Some` for PostgreSQL: the test database's URL.
    pub database_url: Option<String>,
    http: reqwest::Client,
    /// Kept for its `Drop`: the PostgreSQL database goes with the app.
    _pg: Option<PgDatabase>,
    dir: TempDir,
}

/// A PostgreSQL database made for one test; dropped with the app.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut c)
                            .await;
                    let _ = c.close().await;
                }
            });
        })
        .join();
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Once per process: drop the `wwtest_` databases that runs which died left behind.
async fn drop_stale_databases(admin_url: &str) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ONCE.get_or_init(|| async {
        let Ok(mut c) = PgConnection::connect(admin_url).await else {
            return;
        };
        let names: Vec<String> =
            sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'wwtest\\_%'")
                .fetch_all(&mut c)
                .await
                .unwrap_or_default();
        let now = now_secs();
        for name in names {
            // wwtest_<unix seconds>_<random hex>
            let born = name
                .split('_')
                .nth(1)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0);
            if now.saturating_sub(born) > STALE_SECS {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        }
        let _ = c.close().await;
    })
    .await;
}

/// A new, empty PostgreSQL database on the server `TEST_DATABASE_URL` names.
async fn create_pg_database() -> Option<PgDatabase> {
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    drop_stale_databases(&admin_url).await;
    let name = format!("wwtest_{}_{:016x}", now_secs(), rand::random::<u64>());
    let mut c = PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut c)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    let _ = c.close().await;
    Some(PgDatabase { admin_url, name })
}

fn database_url_for(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Start the service on a fresh database; `None` when PostgreSQL is asked for and
/// `TEST_DATABASE_URL` is not set.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app`, with the configuration adjusted first (channels, limits).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data_dir = dir.path().join("data");
    let mut config = Config::new(data_dir.clone());
    config.listen = "127.0.0.1:0".parse().expect("address");
    adjust(&mut config);
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = create_pg_database().await?;
            config.database_url = Some(database_url_for(&db.admin_url, &db.name));
            Some(db)
        }
    };
    let database_url = config.database_url.clone();
    let store = open_store(&config).await.expect("open the store");
    let app = Application::with_store(config, store.clone())
        .await
        .expect("build the application");
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("HTTP client");
    Some(TestApp {
        base,
        store,
        data_dir,
        database_url,
        http,
        _pg: pg,
        dir,
    })
}

impl TestApp {
    /// The stored report a tracking code names, found as the service finds it (the code
    /// decrypted into its number with the deployment's key).
    pub async fn report_by_code(&self, code: &str) -> Option<wardwatch::store::reports::Report> {
        let key = self
            .store
            .setting_or_init("tracking_key", "")
            .await
            .expect("settings");
        let key: [u8; 32] = hex::decode(key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .expect("a tracking key");
        let number = wardwatch::reports::tracking::TrackingCodes::new(&key)
            .number_of(code)
            .map(|n| n as i64);
        self.store
            .report_by_tracking(code, number)
            .await
            .expect("lookup")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A temporary directory that lives as long as the app (for backups, files).
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// A client that keeps cookies like a browser and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("HTTP client")
    }

    /// A request with the bearer token, when there is one.
    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self.http.request(method, self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn send(&self, req: RequestBuilder) -> Answer {
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.expect("body read");
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.req(Method::GET, path, token)).await
    }

    /// GET and expect 200 with JSON.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        let a = self.get(path, token).await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.brief());
        a.json()
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.send(self.req(Method::POST, path, token).json(body))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Answer {
        self.send(self.req(Method::PUT, path, token).json(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Answer {
        self.send(self.req(Method::DELETE, path, token)).await
    }

    /// A page as a browser with this session token in its cookie would get it.
    pub async fn page(&self, path: &str, session: Option<&str>) -> Answer {
        let mut r = self.http.get(self.url(path));
        if let Some(s) = session {
            r = r.header(header::COOKIE, format!("ww_session={s}"));
        }
        self.send(r).await
    }

    /// Log in through the API and return the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let a = self
            .post(
                "/api/v1/session",
                None,
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(a.status, 200, "login {username}: {}", a.brief());
        a.json()["token"]
            .as_str()
            .expect("token in the login answer")
            .to_string()
    }

    /// Log in a demo account and return its session token, which is also the value of
    /// the browser's session cookie.
    pub async fn login_session(&self, username: &str) -> String {
        self.demo_login(username).await
    }

    /// The CSRF token of a session, as its pages carry it.
    pub async fn csrf_of(&self, session: &str) -> String {
        let page = self.page("/", Some(session)).await;
        hidden_input(&page.body, "csrf").expect("a page of a logged-in session has a form token")
    }

    /// A binary answer: status, content type and bytes.
    pub async fn get_bytes(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
        let res = self
            .req(Method::GET, path, token)
            .send()
            .await
            .expect("request sent");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, ct, res.bytes().await.expect("body read").to_vec())
    }

    /// Log in a demo account.
    pub async fn demo_login(&self, username: &str) -> String {
        self.login(username, DEMO_PASSWORD).await
    }

    /// Load the two demo wards and their accounts.
    pub async fn load_demo(&self) -> wardwatch::demo::DemoSummary {
        wardwatch::demo::load(self.store.as_ref())
            .await
            .expect("demo loads")
    }

    /// The id of the unit with this code.
    pub async fn unit_id(&self, code: &str) -> i64 {
        self.store
            .unit_by_code(code)
            .await
            .expect("store answers")
            .unwrap_or_else(|| panic!("no unit {code}"))
            .id
    }

    /// Create an account straight in the store (as `wardwatch user add` does).
    pub async fn add_user(
        &self,
        username: &str,
        role: wardwatch::domain::Role,
        ward: Option<&str>,
        group: Option<&str>,
        password: &str,
    ) {
        wardwatch::accounts::service::add_user(
            self.store.as_ref(),
            wardwatch::store::Actor::default(),
            username,
            role,
            ward,
            group,
            password,
        )
        .await
        .expect("account created");
    }
}

/// The `wardwatch` binary built for these tests, with no database or data directory
/// inherited from the environment.
pub fn cli() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_wardwatch"));
    c.env_remove("DATABASE_URL")
        .env_remove("WARDWATCH_DATA")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    c
}

/// Output of a finished command, as text.
pub struct Ran {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub async fn run(mut c: tokio::process::Command) -> Ran {
    let out = c.output().await.expect("the wardwatch binary runs");
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run a command with `input` on its standard input.
pub async fn run_with_stdin(mut c: tokio::process::Command, input: &str) -> Ran {
    use tokio::io::AsyncWriteExt;
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("the wardwatch binary starts");
    let mut stdin = child.stdin.take().expect("stdin piped");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("stdin written");
    drop(stdin);
    let out = child.wait_with_output().await.expect("the binary ends");
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
