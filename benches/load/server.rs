//! The server under test: the release binary in its own process, on loopback, with the
//! demo wards, on SQLite in a fresh data directory or on a given PostgreSQL database.
//! It runs under coreutils' `timeout`, so it stops by itself even if the bench dies.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

pub enum Db {
    Sqlite,
    Postgres(String),
}

pub struct Server {
    pub addr: SocketAddr,
    /// The wardwatch process itself (a child of `timeout`).
    pub pid: u32,
    wrapper: Child,
    stopped: bool,
    log: PathBuf,
    bin: PathBuf,
    database_url: Option<String>,
    data: tempfile::TempDir,
}

impl Server {
    pub async fn start(
        name: &str,
        bin: &Path,
        db: &Db,
        work: &Path,
        lifetime: Duration,
    ) -> Result<Self> {
        let data = tempfile::Builder::new()
            .prefix(&format!("{name}-data-"))
            .tempdir_in(work)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log = work.join(format!("{name}.log"));
        let out = std::fs::File::create(&log)?;
        let mut cmd = Command::new("timeout");
        cmd.arg("--kill-after=5")
            .arg(lifetime.as_secs().max(1).to_string())
            .arg(bin)
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--listen", &addr.to_string(), "--demo"])
            .env(
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or("wardwatch=warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .kill_on_drop(true);
        match db {
            Db::Sqlite => cmd.env_remove("DATABASE_URL"),
            Db::Postgres(url) => cmd.env("DATABASE_URL", url),
        };
        let wrapper = cmd
            .spawn()
            .context("cannot start the server under coreutils' timeout")?;
        let wrapper_pid = wrapper.id().context("the server exited at once")?;
        let pid = child_of(wrapper_pid).await?;
        let mut server = Self {
            addr,
            pid,
            wrapper,
            stopped: false,
            log,
            bin: bin.to_path_buf(),
            database_url: match db {
                Db::Sqlite => None,
                Db::Postgres(url) => Some(url.clone()),
            },
            data,
        };
        server.wait_ready(Duration::from_secs(300)).await?;
        Ok(server)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Run a command of the same binary on the same database (e.g. `apikey add`) and
    /// return what it printed.
    pub async fn cli(&self, args: &[&str]) -> Result<String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data")
            .arg(self.data.path())
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or("wardwatch=warn".into()),
            )
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match &self.database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
        let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
            .await
            .context("the command took over 60 s")??;
        if !out.status.success() {
            bail!(
                "wardwatch {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        crate::machine::rss_kib(self.pid).unwrap_or(0)
    }

    pub fn cpu_secs(&self) -> f64 {
        crate::machine::cpu_secs(&self.pid.to_string())
    }

    async fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/healthz", self.base());
        let start = Instant::now();
        loop {
            if let Some(status) = self.wrapper.try_wait()? {
                bail!("the server stopped ({status}): {}", self.log_tail());
            }
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if start.elapsed() > limit {
                bail!(
                    "the server did not answer within {limit:?}: {}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// SIGTERM (which `timeout` passes on), then SIGKILL if it is still there after 10 s
    /// (open event streams can hold a graceful shutdown).
    pub async fn stop(mut self) {
        let wrapper = self.wrapper.id().map(|p| p.to_string());
        if let Some(w) = &wrapper {
            signal("-TERM", w);
        }
        if tokio::time::timeout(Duration::from_secs(10), self.wrapper.wait())
            .await
            .is_err()
        {
            signal("-KILL", &self.pid.to_string());
            let _ = tokio::time::timeout(Duration::from_secs(5), self.wrapper.wait()).await;
        }
        self.stopped = true;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // On an error path: the wrapper gets SIGKILL from tokio, which would orphan the
        // server until its own time limit, so end the server itself too.
        if !self.stopped {
            signal("-KILL", &self.pid.to_string());
        }
    }
}

fn signal(sig: &str, pid: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, pid])
        .stderr(Stdio::null())
        .status();
}

/// The pid of the one child `timeout` starts.
async fn child_of(pid: u32) -> Result<u32> {
    let file = format!("/proc/{pid}/task/{pid}/children");
    for _ in 0..100 {
        if let Some(c) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse().ok())
        {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("timeout started no server process")
}

/// Log in through the API and return the bearer token.
pub async fn login(client: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let r = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": "demo-wardwatch"}))
        .send()
        .await?;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    match body["token"].as_str() {
        Some(t) if status.is_success() => Ok(t.to_string()),
        _ => bail!("login as {username} failed: {status} {body}"),
    }
}
