//! Fan-out: many idle live listeners of one ward; warnings are published one after
//! another and the time to their arrival at every listener is measured, with the server's
//! memory per listener. Listeners live in worker processes (this binary re-run as
//! `worker`, see listener.rs), never in the server's process or this one.

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::listener::Plan;
use crate::server::{Server, login};
use crate::stats::{median, percentile, sort};

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
    /// Warnings published, one after another, to the same listeners.
    pub publications: usize,
    /// Longest the connecting may take.
    pub connect_limit: Duration,
}

/// The PostgreSQL server and this run's database on it, to count connections.
pub struct PgInfo<'a> {
    pub admin_url: &'a str,
    pub database: &'a str,
}

/// One published warning and its arrivals.
pub struct Publication {
    /// Time for the publishing POST to be answered, ms.
    pub post_ms: f64,
    /// Latencies (ms, sorted) from the client-side time just before the POST and from the
    /// event's `sent_at`.
    pub from_post_ms: Vec<f64>,
    pub from_sent_ms: Vec<f64>,
    pub missing: usize,
    /// CPU seconds from just before the POST until every worker reported: the servers,
    /// the listener workers, and the whole machine.
    pub servers_cpu: f64,
    pub workers_cpu: f64,
    pub machine_cpu: f64,
}

impl Publication {
    pub fn p(&self, of_post: bool, p: f64) -> f64 {
        let v = if of_post {
            &self.from_post_ms
        } else {
            &self.from_sent_ms
        };
        percentile(v, p)
    }
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
    pub publications: Vec<Publication>,
    pub closed: usize,
    pub load_at_start: f64,
    /// Connections to this run's database and to the whole PostgreSQL server, with the
    /// listeners connected.
    pub pg_connections: Option<(i64, i64)>,
}

impl FanoutResult {
    pub fn kib_per_listener(&self) -> f64 {
        (self.rss_after_kib as f64 - self.rss_before_kib as f64) / self.connected.max(1) as f64
    }
    /// The median over the publications of a percentile of their latencies.
    pub fn p(&self, of_post: bool, p: f64) -> f64 {
        self.med(|x| x.p(of_post, p))
    }
    pub fn med(&self, f: impl Fn(&Publication) -> f64) -> f64 {
        median(&self.publications.iter().map(f).collect::<Vec<_>>())
    }
    /// Whether every publication reached every listener asked for.
    pub fn all_reached(&self) -> bool {
        self.failed == 0
            && self.connected == self.requested
            && !self.publications.is_empty()
            && self
                .publications
                .iter()
                .all(|x| x.missing == 0 && x.from_post_ms.len() == self.connected)
    }
    pub fn missing(&self) -> usize {
        self.publications.iter().map(|x| x.missing).sum()
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
        cpu: f64,
    },
    Arrival {
        arrival_us: i64,
        sent_us: i64,
    },
    Done {
        closed: usize,
        cpu: f64,
    },
    /// The worker's output ended (it exited).
    Exited,
}

/// Connect `listeners` to the running `nodes` (node 1 takes the publications), publish
/// warnings one after another and measure.
pub async fn run(
    label: &str,
    engine: &str,
    nodes: &[Server],
    listeners: usize,
    s: &Settings,
    load_at_start: f64,
    pg: Option<PgInfo<'_>>,
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
    let parallel = match pg {
        Some(_) => s
            .parallel
            .min((s.pg_in_flight_per_node * nodes.len() / workers_n).max(1)),
        None => s.parallel,
    };
    let exe = std::env::current_exe()?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut workers = Vec::new();
    let start = Instant::now();
    let deadline = s.connect_limit + Duration::from_secs(120 + 40 * s.publications as u64);
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
        tokio::spawn(read_worker(w, stdout, tx.clone()));
        workers.push(Worker { child, stdin });
    }
    drop(tx);

    // Every worker reports its listeners subscribed (or failed).
    let (mut connected, mut failed, mut ready) = (0, 0, 0);
    let mut worker_cpu = vec![0.0; workers_n];
    let limit = tokio::time::sleep(s.connect_limit);
    tokio::pin!(limit);
    while ready < workers_n {
        tokio::select! {
            m = rx.recv() => match m {
                Some((w, Line::Ready { ok, failed: f, cpu })) => {
                    connected += ok;
                    failed += f;
                    ready += 1;
                    worker_cpu[w] = cpu;
                    eprintln!("  {label}: worker ready ({connected} listeners so far, {failed} failed)");
                }
                Some((_, Line::Exited)) | None => bail!("a listener worker stopped while connecting"),
                Some(_) => {}
            },
            _ = &mut limit => bail!("the listeners did not connect within {:?}", s.connect_limit),
        }
    }
    let connect_secs = start.elapsed().as_secs_f64();
    // Let the servers settle (allocations, keep-alive timers), then measure memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after: u64 = nodes.iter().map(Server::rss_kib).sum();
    let pg_connections = match &pg {
        Some(p) => crate::pg::connections(p.admin_url, p.database).await,
        None => None,
    };

    let mut publications = Vec::new();
    let mut closed_by = vec![0; workers_n];
    for k in 0..s.publications.max(1) {
        if k > 0 {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let servers_cpu: f64 = nodes.iter().map(Server::cpu_secs).sum();
        let (machine_cpu, _) = crate::machine::machine_cpu();
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
                "title": format!("Đo tải: cảnh báo thử số {}", k + 1),
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
            w.stdin.write_all(b"published\n").await?;
            w.stdin.flush().await?;
        }
        let mut x = Publication {
            post_ms,
            from_post_ms: Vec::new(),
            from_sent_ms: Vec::new(),
            missing: 0,
            servers_cpu: 0.0,
            workers_cpu: 0.0,
            machine_cpu: 0.0,
        };
        let mut done = 0;
        let collect_limit = tokio::time::sleep(Duration::from_secs(60));
        tokio::pin!(collect_limit);
        while done < workers_n {
            tokio::select! {
                m = rx.recv() => match m {
                    Some((_, Line::Arrival { arrival_us, sent_us })) => {
                        x.from_post_ms.push((arrival_us - post_at) as f64 / 1000.0);
                        x.from_sent_ms.push((arrival_us - sent_us) as f64 / 1000.0);
                    }
                    Some((w, Line::Done { closed: c, cpu })) => {
                        closed_by[w] = c;
                        x.workers_cpu += cpu - worker_cpu[w];
                        worker_cpu[w] = cpu;
                        done += 1;
                    }
                    Some((_, Line::Exited)) | None => bail!("a listener worker stopped"),
                    Some(_) => {}
                },
                _ = &mut collect_limit => bail!("the workers did not report within 60 s"),
            }
        }
        x.servers_cpu = nodes.iter().map(Server::cpu_secs).sum::<f64>() - servers_cpu;
        x.machine_cpu = crate::machine::machine_cpu().0 - machine_cpu;
        x.missing = connected.saturating_sub(x.from_post_ms.len());
        sort(&mut x.from_post_ms);
        sort(&mut x.from_sent_ms);
        eprintln!(
            "  {label}: publication {}: p99 {:.0} ms, max {:.0} ms, {} missing",
            k + 1,
            x.p(true, 99.0),
            x.p(true, 100.0),
            x.missing
        );
        publications.push(x);
    }
    for mut w in workers {
        drop(w.stdin);
        if tokio::time::timeout(Duration::from_secs(10), w.child.wait())
            .await
            .is_err()
        {
            let _ = w.child.kill().await;
        }
    }
    Ok(FanoutResult {
        engine: engine.to_string(),
        nodes: nodes.len(),
        requested: listeners,
        connected,
        failed,
        workers: workers_n,
        parallel,
        connect_secs,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        publications,
        closed: closed_by.iter().sum(),
        load_at_start,
        pg_connections,
    })
}

/// Turn a worker's output lines into messages tagged with the worker's index.
async fn read_worker(
    w: usize,
    stdout: tokio::process::ChildStdout,
    tx: mpsc::UnboundedSender<(usize, Line)>,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(l)) = lines.next_line().await {
        let f: Vec<&str> = l.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let x = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let line = match f.first() {
            Some(&"ready") => Line::Ready {
                ok: n(1) as usize,
                failed: n(2) as usize,
                cpu: x(3),
            },
            Some(&"a") => Line::Arrival {
                arrival_us: n(1),
                sent_us: n(2),
            },
            Some(&"done") => Line::Done {
                closed: n(3) as usize,
                cpu: x(4),
            },
            _ => continue,
        };
        let _ = tx.send((w, line));
    }
    let _ = tx.send((w, Line::Exited));
}

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
