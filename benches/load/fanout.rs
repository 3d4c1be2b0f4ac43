//! Fan-out: many idle live listeners of one ward; a warning is published and the time to
//! its arrival at every listener is measured, with the server's memory per listener.
//! Listeners live in worker processes (this binary re-run as `worker`, see listener.rs),
//! never in the server's process or this one.

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::listener::Plan;
use crate::server::{Server, login};
use crate::stats::{percentile, sort};

pub struct Settings {
    /// Listeners one worker process holds at most.
    pub per_worker: usize,
    /// Listeners per loopback source address.
    pub per_ip: usize,
    /// Connection attempts in flight per worker.
    pub parallel: usize,
    /// On PostgreSQL, connection attempts in flight per node: each subscription reads the
    /// ward, and a node's pool grows towards its 16 connections with the attempts in
    /// flight, on a server whose connections are shared (`max_connections`).
    pub pg_in_flight_per_node: usize,
    /// Longest the connecting may take.
    pub connect_limit: Duration,
}

pub struct FanoutResult {
    pub engine: String,
    pub nodes: usize,
    pub requested: usize,
    pub connected: usize,
    pub failed: usize,
    pub workers: usize,
    /// Connection attempts in flight per worker.
    pub parallel: usize,
    pub connect_secs: f64,
    /// Server RSS (KiB, all nodes added up) before and after connecting the listeners.
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Time for the publishing POST to be answered, ms.
    pub post_ms: f64,
    /// Latencies (ms, sorted) from the event's `sent_at` and from the client-side time
    /// just before the POST.
    pub from_sent_ms: Vec<f64>,
    pub from_post_ms: Vec<f64>,
    pub missing: usize,
    pub closed: usize,
    /// CPU seconds used from the publication until the last worker reported, by the
    /// servers and by the listener workers.
    pub servers_cpu: f64,
    pub workers_cpu: f64,
    pub load_at_start: f64,
    /// Connections the PostgreSQL server had open with the listeners connected.
    pub pg_connections: Option<i64>,
}

impl FanoutResult {
    pub fn kib_per_listener(&self) -> f64 {
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) / self.connected.max(1) as f64
    }
    pub fn received(&self) -> usize {
        self.from_post_ms.len()
    }
    pub fn p(&self, of_post: bool, p: f64) -> f64 {
        percentile(
            if of_post {
                &self.from_post_ms
            } else {
                &self.from_sent_ms
            },
            p,
        )
    }
    pub fn max(&self, of_post: bool) -> f64 {
        self.p(of_post, 100.0)
    }
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
}

enum Line {
    Ready {
        ok: usize,
        failed: usize,
    },
    Arrival {
        arrival_us: i64,
        sent_us: i64,
    },
    Done {
        closed: usize,
        cpu_secs: f64,
    },
    /// The worker's output ended (it exited).
    Exited,
}

/// Connect `listeners` to the running `nodes` (node 0 takes the publication), publish one
/// warning and measure.
pub async fn run(
    label: &str,
    engine: &str,
    nodes: &[Server],
    listeners: usize,
    s: &Settings,
    load_at_start: f64,
    pg_admin: Option<&str>,
) -> Result<FanoutResult> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let base = nodes[0].base();
    let token = login(&client, &base, "dhk.congan").await?;
    // Settle, then the baseline memory of the servers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before: u64 = nodes.iter().map(Server::rss_kib).sum();

    let servers: Vec<_> = nodes.iter().map(|n| n.addr).collect();
    let workers_n = listeners.div_ceil(s.per_worker.max(1)).max(1);
    let parallel = match pg_admin {
        Some(_) => s
            .parallel
            .min((s.pg_in_flight_per_node * nodes.len() / workers_n).max(1)),
        None => s.parallel,
    };
    let exe = std::env::current_exe()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut workers = Vec::new();
    let start = Instant::now();
    let deadline = s.connect_limit + Duration::from_secs(120);
    for w in 0..workers_n {
        let first = w * listeners / workers_n;
        let plan = Plan {
            servers: servers.clone(),
            first,
            count: (w + 1) * listeners / workers_n - first,
            per_ip: s.per_ip,
            parallel,
            deadline,
        };
        let mut child = Command::new(&exe)
            .args(plan.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start a listener worker")?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = child.stdout.take().context("worker stdout")?;
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(l)) = lines.next_line().await {
                let f: Vec<&str> = l.split_whitespace().collect();
                let n = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
                let line = match f.first() {
                    Some(&"ready") => Line::Ready {
                        ok: n(1) as usize,
                        failed: n(2) as usize,
                    },
                    Some(&"a") => Line::Arrival {
                        arrival_us: n(1),
                        sent_us: n(2),
                    },
                    Some(&"done") => Line::Done {
                        closed: n(3) as usize,
                        cpu_secs: f.get(4).and_then(|v| v.parse().ok()).unwrap_or(0.0),
                    },
                    _ => continue,
                };
                let _ = tx.send(line);
            }
            let _ = tx.send(Line::Exited);
        });
        workers.push(Worker { child, stdin });
    }
    drop(tx);

    // Every worker reports its listeners subscribed (or failed).
    let (mut connected, mut failed, mut ready) = (0, 0, 0);
    let limit = tokio::time::sleep(s.connect_limit);
    tokio::pin!(limit);
    while ready < workers_n {
        tokio::select! {
            m = rx.recv() => match m {
                Some(Line::Ready { ok, failed: f }) => {
                    connected += ok;
                    failed += f;
                    ready += 1;
                    eprintln!("  {label}: worker ready ({connected} listeners so far, {failed} failed)");
                }
                Some(Line::Exited) | None => bail!("a listener worker stopped while connecting"),
                Some(_) => {}
            },
            _ = &mut limit => bail!("the listeners did not connect within {:?}", s.connect_limit),
        }
    }
    let connect_secs = start.elapsed().as_secs_f64();
    // Let the servers settle (allocations, keep-alive timers), then measure memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after: u64 = nodes.iter().map(Server::rss_kib).sum();
    let pg_connections = match pg_admin {
        Some(url) => crate::pg::connections(url).await,
        None => None,
    };

    // Publish.
    let servers_cpu: f64 = nodes.iter().map(Server::cpu_secs).sum();
    let post_at = unix_us();
    let t = Instant::now();
    let r = client
        .post(format!("{base}/api/v1/warnings"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "ward": "du-hang-kenh",
            "category": "Safety",
            "severity": "Severe",
            "urgency": "Immediate",
            "title": "Đo tải: cảnh báo thử",
            "body": "Cảnh báo thử của phép đo tải; không có sự việc thật.",
        }))
        .send()
        .await?;
    let post_ms = t.elapsed().as_secs_f64() * 1000.0;
    if !r.status().is_success() {
        let status = r.status();
        bail!(
            "publishing failed: {status} {}",
            r.text().await.unwrap_or_default()
        );
    }
    for w in &mut workers {
        let _ = w.stdin.write_all(b"published\n").await;
        let _ = w.stdin.flush().await;
    }

    let (mut from_sent, mut from_post) = (Vec::new(), Vec::new());
    let (mut exited, mut closed, mut workers_cpu) = (0, 0, 0.0);
    let collect_limit = tokio::time::sleep(Duration::from_secs(60));
    tokio::pin!(collect_limit);
    while exited < workers_n {
        tokio::select! {
            m = rx.recv() => match m {
                Some(Line::Arrival { arrival_us, sent_us }) => {
                    from_post.push((arrival_us - post_at) as f64 / 1000.0);
                    from_sent.push((arrival_us - sent_us) as f64 / 1000.0);
                }
                Some(Line::Done { closed: c, cpu_secs }) => {
                    closed += c;
                    workers_cpu += cpu_secs;
                }
                Some(Line::Exited) => exited += 1,
                Some(Line::Ready { .. }) => {}
                None => break,
            },
            _ = &mut collect_limit => break,
        }
    }
    let servers_cpu = nodes.iter().map(Server::cpu_secs).sum::<f64>() - servers_cpu;
    for mut w in workers {
        drop(w.stdin);
        if tokio::time::timeout(Duration::from_secs(10), w.child.wait())
            .await
            .is_err()
        {
            let _ = w.child.kill().await;
        }
    }
    sort(&mut from_sent);
    sort(&mut from_post);
    Ok(FanoutResult {
        engine: engine.to_string(),
        nodes: nodes.len(),
        requested: listeners,
        missing: connected.saturating_sub(from_post.len()),
        connected,
        failed,
        workers: workers_n,
        parallel,
        connect_secs,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        post_ms,
        from_sent_ms: from_sent,
        from_post_ms: from_post,
        closed,
        servers_cpu,
        workers_cpu,
        load_at_start,
        pg_connections,
    })
}

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
