//! BENCHMARKS.md: the figures of one run with their targets, the machine and its load,
//! the details, and what limits the numbers. Written whole by every run.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::Config;
use crate::fanout::FanoutResult;
use crate::intake::IntakeResult;
use crate::machine::Machine;
use crate::stats::{median, percentile, sort};

/// Intake must reach this share of the health-check rate.
const INTAKE_RATIO: f64 = 1.0 / 3.0;
/// Fan-out delivery p99, ms.
const FANOUT_P99_MS: f64 = 500.0;
/// Server memory per idle listener, KiB.
const KIB_PER_LISTENER: f64 = 16.0;

pub struct FanoutRun {
    /// Why this count: the most one node holds, the target count, the larger try.
    pub purpose: String,
    pub label: String,
    pub result: Result<FanoutResult, String>,
}

pub struct Report {
    pub machine: Machine,
    pub pg: Result<String, String>,
    pub open311: Option<bool>,
    pub intake: Vec<Result<IntakeResult, (String, String)>>,
    pub fanout: Vec<FanoutRun>,
    pub notes: Vec<String>,
    pub node_capacity: usize,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    command: String,
    settings: Vec<(String, String)>,
    pub requested_listeners: usize,
    loads: Vec<f64>,
    marks: Vec<(String, f64)>,
    storage: String,
}

impl Report {
    pub fn new(machine: Machine, cfg: &Config) -> Self {
        let settings = vec![
            (
                "BENCH_SECS (one phase of a round)".into(),
                cfg.round.as_secs().to_string(),
            ),
            ("BENCH_ROUNDS".into(), cfg.rounds.to_string()),
            ("BENCH_CONCURRENCY".into(), cfg.concurrency.to_string()),
            ("BENCH_LISTENERS".into(), cfg.listeners.to_string()),
            (
                "BENCH_LISTENERS_LARGE".into(),
                cfg.listeners_large.to_string(),
            ),
            (
                "BENCH_PER_WORKER (listeners per worker process)".into(),
                cfg.per_worker.to_string(),
            ),
            (
                "BENCH_PER_IP (listeners per loopback source address)".into(),
                cfg.per_ip.to_string(),
            ),
            (
                "BENCH_CONNECT_PARALLEL (connects in flight per worker)".into(),
                cfg.parallel.to_string(),
            ),
            (
                "BENCH_PG_IN_FLIGHT (connects in flight per PostgreSQL node)".into(),
                cfg.pg_in_flight.to_string(),
            ),
        ];
        Self {
            storage: storage_of(&cfg.work),
            machine,
            pg: Err("not checked".into()),
            open311: None,
            intake: Vec::new(),
            fanout: Vec::new(),
            notes: Vec::new(),
            node_capacity: 0,
            started: Utc::now(),
            finished: Utc::now(),
            command: cfg.command.clone(),
            settings,
            requested_listeners: cfg.listeners,
            loads: Vec::new(),
            marks: Vec::new(),
        }
    }

    pub fn finish(&mut self, loads: Vec<f64>, marks: Vec<(String, f64)>) {
        self.finished = Utc::now();
        self.loads = loads;
        self.marks = marks;
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        let w = &mut o;
        let _ = writeln!(w, "# Benchmarks\n");
        let _ = writeln!(
            w,
            "Written by `{}` (the `load` bench in `benches/load/`) on {}. Run it again to \
             update this file; edits by hand are overwritten.\n",
            self.command,
            self.started.format("%Y-%m-%d")
        );
        self.summary(w);
        self.run_facts(w);
        self.intake_details(w);
        self.fanout_details(w);
        crate::discussion::write(self, w);
        o
    }

    fn summary(&self, w: &mut String) {
        let _ = writeln!(w, "## Figures and targets\n");
        let _ = writeln!(
            w,
            "| measurement | figure | target | verdict |\n|---|---|---|---|"
        );
        for r in &self.intake {
            match r {
                Ok(r) => {
                    intake_row(
                        w,
                        &format!(
                            "Intake on {}, {} clients: `POST /api/v1/reports` vs `GET /healthz`",
                            r.engine, r.concurrency
                        ),
                        r,
                        r.rounds.iter().map(|x| x.ratio()),
                        (r.intake_rate(), r.ratio(), r.intake_p50(), r.intake_p99()),
                    );
                }
                Err((engine, e)) => {
                    let _ = writeln!(
                        w,
                        "| Intake on {engine} | failed: {} | ≥ 1/3 of the health-check rate | FAIL |",
                        cell(e)
                    );
                }
            }
        }
        if self.intake.len() == 1 && self.intake[0].is_ok() {
            let why = self.pg.as_ref().err().map_or("—", String::as_str);
            let _ = writeln!(
                w,
                "| Intake on PostgreSQL | not measured: {} | ≥ 1/3 of the health-check rate | NOT MEASURED |",
                cell(why)
            );
        }
        for r in self.intake.iter().flatten().filter(|r| r.has_open311()) {
            intake_row(
                w,
                &format!(
                    "Intake through Open311 on {}, {} clients: `POST /open311/v2/requests.json` vs `GET /healthz`",
                    r.engine, r.concurrency
                ),
                r,
                r.rounds.iter().filter_map(|x| x.open311_ratio()),
                (
                    r.open311_rate(),
                    r.open311_ratio(),
                    r.open311_p50(),
                    r.open311_p99(),
                ),
            );
        }
        if !self.intake.iter().flatten().any(|r| r.has_open311()) {
            let open311 = match self.open311 {
                Some(true) => "not measured (see the intake errors below)",
                Some(false) => "not measured: this build has no `POST /open311/v2/requests.json`",
                None => "not measured",
            };
            let _ = writeln!(
                w,
                "| Intake through Open311 | {open311} | — | NOT MEASURED |"
            );
        }
        if self.requested_listeners > self.node_capacity && self.node_capacity > 0 {
            let _ = writeln!(
                w,
                "| {} listeners on ONE node | not possible on this machine: a process may hold {} open files (hard limit, not raisable here), so one node holds at most {} listeners | {} on one node | NOT MEASURED |",
                int(self.requested_listeners as f64),
                int(self.machine.nofile_hard as f64),
                int(self.node_capacity as f64),
                int(self.requested_listeners as f64),
            );
        }
        for run in &self.fanout {
            let what = format!("Fan-out, {} ({})", run.label, run.purpose);
            match &run.result {
                Ok(r) => {
                    let _ = writeln!(
                        w,
                        "| {what} on {}: publication → arrival at every listener | p50 {} ms, **p99 {} ms**, max {} ms from the client-side time before the POST ({} ms p99 from the event's `sent_at`); medians of {} publications; {} of {} listeners subscribed, {} arrivals missing | p99 ≤ 500 ms, every listener | {} |",
                        r.engine,
                        ms(r.p(true, 50.0)),
                        ms(r.p(true, 99.0)),
                        ms(r.p(true, 100.0)),
                        ms(r.p(false, 99.0)),
                        r.publications.len(),
                        int(r.connected as f64),
                        int(r.requested as f64),
                        r.missing(),
                        verdict(r.all_reached() && r.p(true, 99.0) <= FANOUT_P99_MS)
                    );
                    let _ = writeln!(
                        w,
                        "| {what}: server memory per idle listener | **{:.1} KiB** (VmRSS {} → {} MiB{}) | ≤ 16 KiB | {} |",
                        r.kib_per_listener(),
                        mib(r.rss_before_kib),
                        mib(r.rss_after_kib),
                        if r.nodes > 1 { ", all nodes" } else { "" },
                        verdict(r.connected > 0 && r.kib_per_listener() <= KIB_PER_LISTENER)
                    );
                }
                Err(e) => {
                    let _ = writeln!(
                        w,
                        "| {what} | not measured: {} | p99 ≤ 500 ms, ≤ 16 KiB per listener | NOT MEASURED |",
                        cell(e)
                    );
                }
            }
        }
        let _ = writeln!(w);
        for n in &self.notes {
            let _ = writeln!(w, "{n}\n");
        }
    }

    fn run_facts(&self, w: &mut String) {
        let m = &self.machine;
        let mut loads = self.loads.clone();
        sort(&mut loads);
        let _ = writeln!(w, "## The run\n");
        let _ = writeln!(
            w,
            "- When: {} to {} (UTC).",
            self.started.format("%Y-%m-%d %H:%M:%S"),
            self.finished.format("%H:%M:%S")
        );
        let _ = writeln!(w, "- Command: `{}`.", self.command);
        let _ = writeln!(w, "- Commit: {}.", m.commit);
        let _ = writeln!(
            w,
            "- Machine: {} cores ({}), {:.1} GiB of memory, Linux {}. Clients, servers and \
             PostgreSQL share these cores.",
            m.cores, m.cpu, m.memory_gib, m.kernel
        );
        let _ = writeln!(
            w,
            "- Load average (1 min) during the run, sampled every 5 s (the bench's own servers, \
             workers and PostgreSQL count in it): min {:.2}, median {:.2}, max {:.2}. At the \
             start of each part: {}. The intake tables below show how much CPU the rest of the \
             machine took in each phase.",
            percentile(&loads, 0.0),
            median(&loads),
            percentile(&loads, 100.0),
            self.marks
                .iter()
                .map(|(n, l)| format!("{n} {l:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            w,
            "- Limits: {} open files per process (soft; hard {}), ephemeral ports {}, listen backlog (somaxconn) {}.",
            int(m.nofile_soft as f64),
            int(m.nofile_hard as f64),
            m.port_range,
            m.somaxconn
        );
        let _ = writeln!(
            w,
            "- Servers: `target/release/wardwatch serve --demo` on 127.0.0.1, one process per node, \
             `RUST_LOG=wardwatch=warn`. SQLite in a fresh data directory on {} (WAL; \
             synchronous=FULL, but report intake commits with NORMAL and syncs the WAL itself \
             before it answers); \
             PostgreSQL: {}.",
            self.storage,
            match &self.pg {
                Ok(url) => format!(
                    "a fresh database `wwbench_…` per measurement on {}, dropped after",
                    redact(url)
                ),
                Err(e) => e.clone(),
            }
        );
        let _ = writeln!(w, "- Settings:");
        for (k, v) in &self.settings {
            let _ = writeln!(w, "  - {k}: {v}");
        }
        let _ = writeln!(w);
    }

    fn intake_details(&self, w: &mut String) {
        let _ = writeln!(w, "## Intake in detail\n");
        let _ = writeln!(
            w,
            "Closed loop: each of C clients (one `reqwest` client, keep-alive connections) sends \
             its next request when the last is answered, for a fixed time per phase. Each round \
             is one phase of each kind of request back to back, the order rotating between \
             rounds; the ratio to the health check is taken within each round and the median \
             over rounds is quoted. The JSON API's intake is `POST /api/v1/reports` as `dhk.dan` \
             with a bearer token (no captcha); Open311's is `POST /open311/v2/requests.json` \
             (form-encoded, `service_code=fire`, lat/long, with an API key issued for the ward by \
             `wardwatch apikey add`). Every report has a new description; it counts once \
             answered with success, which the service sends only after the commit. CPU is in cores busy on average: the server process, \
             this bench process, the rest of the machine (PostgreSQL's processes, the kernel's \
             work not charged to a process, and any other work on the machine), and in brackets \
             the cores' worth of time the machine spent waiting for I/O. The same CPU divided \
             by the rate gives the CPU time one request cost each of them, in µs: on these \
             shared machines the rates swing from run to run with other work, while the cost \
             of a request moves less, so compare builds by it as well.\n"
        );
        for r in &self.intake {
            let Ok(r) = r else { continue };
            let _ = writeln!(
                w,
                "### {} ({} clients, {} s phases, load {:.2} at the start)\n",
                r.engine, r.concurrency, r.round_secs, r.load_at_start
            );
            let _ = writeln!(
                w,
                "| round | request | per second | p50 / p99 ms | ÷ health | cores busy: server, bench, rest of the machine (I/O wait) | CPU µs a request: server, bench, rest | failed |\n|---|---|---|---|---|---|---|---|"
            );
            for (i, x) in r.rounds.iter().enumerate() {
                let mut phases = vec![("health", &x.health), ("JSON API", &x.intake)];
                if let Some(o) = &x.open311 {
                    phases.push(("Open311", o));
                }
                for (name, p) in phases {
                    let rest = p.machine_cores - p.server_cores - p.client_cores;
                    let per_request = |cores: f64| cores / p.rate() * 1e6;
                    let _ = writeln!(
                        w,
                        "| {} | {name} | {} | {} / {} | {:.3} | {:.2}, {:.2}, {:.2} ({:.2}) | {:.0}, {:.0}, {:.0} | {} |",
                        i + 1,
                        int(p.rate()),
                        ms(p.p50()),
                        ms(p.p99()),
                        p.rate() / x.health.rate(),
                        p.server_cores,
                        p.client_cores,
                        rest,
                        p.iowait_cores,
                        per_request(p.server_cores),
                        per_request(p.client_cores),
                        per_request(rest),
                        p.failed
                    );
                }
            }
            let mut medians = vec![
                (
                    "health",
                    r.health_rate(),
                    r.health_p50(),
                    r.health_p99(),
                    1.0,
                ),
                (
                    "JSON API",
                    r.intake_rate(),
                    r.intake_p50(),
                    r.intake_p99(),
                    r.ratio(),
                ),
            ];
            if r.has_open311() {
                medians.push((
                    "Open311",
                    r.open311_rate(),
                    r.open311_p50(),
                    r.open311_p99(),
                    r.open311_ratio(),
                ));
            }
            for (name, rate, p50, p99, ratio) in medians {
                let _ = writeln!(
                    w,
                    "| **median** | {name} | **{}** | {} / {} | **{ratio:.3}** | | | |",
                    int(rate),
                    ms(p50),
                    ms(p99)
                );
            }
            let _ = writeln!(w);
            if let Some(e) = r.first_error() {
                let _ = writeln!(w, "First error: `{}`\n", e.replace('`', "'"));
            }
        }
    }

    fn fanout_details(&self, w: &mut String) {
        let _ = writeln!(w, "## Fan-out in detail\n");
        let _ = writeln!(
            w,
            "Listeners are raw TCP connections in separate worker processes (this bench re-run \
             as `load worker`), each bound to a loopback source address 127.0.0.2, .3, … \
             ({} listeners per address) so no address runs out of ephemeral ports. Each sends \
             `GET /api/v1/warnings/stream?ward=du-hang-kenh` (HTTP/1.1, anonymous), counts as \
             subscribed when the response headers arrive (the server subscribes before \
             answering), then reads the chunked event stream for `warning` events. Once all are \
             subscribed and the servers have settled for 3 s, their VmRSS is read again; then \
             `dhk.congan` publishes public warnings to the ward with `POST /api/v1/warnings` on \
             node 1, one at a time: the next a second after every listener has the last. Each \
             publication gives a p50, p99 and maximum over the listeners; the medians over the \
             publications are quoted. Latency is measured two ways, both on this machine's wall clock: from \
             the client-side time just before the POST (the target is judged on this one), and \
             from the event's `sent_at` (stamped by the server inside the publishing transaction, \
             before the commit). With several nodes (PostgreSQL), listeners are dealt to the \
             nodes in turn and the other nodes learn of the warning by LISTEN/NOTIFY.\n",
            self.settings
                .iter()
                .find(|(k, _)| k.starts_with("BENCH_PER_IP"))
                .map_or("", |(_, v)| v.as_str())
        );
        for run in &self.fanout {
            let _ = writeln!(w, "### {} ({})\n", run.label, run.purpose);
            let r = match &run.result {
                Ok(r) => r,
                Err(e) => {
                    let _ = writeln!(w, "Not measured: {e}\n");
                    continue;
                }
            };
            let rows = [
                ("engine, nodes", format!("{}, {}", r.engine, r.nodes)),
                (
                    "load average at the start",
                    format!("{:.2}", r.load_at_start),
                ),
                (
                    "listeners subscribed / failed / asked for",
                    format!(
                        "{} / {} / {} (worker processes: {}, connects in flight per worker: {})",
                        int(r.connected as f64),
                        r.failed,
                        int(r.requested as f64),
                        r.workers,
                        r.parallel
                    ),
                ),
                (
                    "time to subscribe them all",
                    format!("{:.1} s", r.connect_secs),
                ),
                (
                    "server VmRSS before → after",
                    format!(
                        "{} → {} MiB: {:.1} KiB per listener",
                        mib(r.rss_before_kib),
                        mib(r.rss_after_kib),
                        r.kib_per_listener()
                    ),
                ),
                (
                    "connections closed by the server meanwhile",
                    r.closed.to_string(),
                ),
            ];
            let _ = writeln!(w, "| | |\n|---|---|");
            for (k, v) in rows {
                let _ = writeln!(w, "| {k} | {v} |");
            }
            if let Some((ours, all)) = r.pg_connections {
                let _ = writeln!(
                    w,
                    "| PostgreSQL connections: to this run's database / whole server | {ours} / {all} |"
                );
            }
            let _ = writeln!(
                w,
                "\n| publication | POST answered, ms | from before the POST: p50 / p99 / max, ms | from `sent_at`: p50 / p99 / max, ms | missing | CPU s from the POST to the last arrival: servers, workers, machine |\n|---|---|---|---|---|---|"
            );
            for (i, x) in r.publications.iter().enumerate() {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} / {} / {} | {} / {} / {} | {} | {:.2}, {:.2}, {:.2} |",
                    i + 1,
                    ms(x.post_ms),
                    ms(x.p(true, 50.0)),
                    ms(x.p(true, 99.0)),
                    ms(x.p(true, 100.0)),
                    ms(x.p(false, 50.0)),
                    ms(x.p(false, 99.0)),
                    ms(x.p(false, 100.0)),
                    x.missing,
                    x.servers_cpu,
                    x.workers_cpu,
                    x.machine_cpu
                );
            }
            let _ = writeln!(
                w,
                "| **median** | {} | {} / **{}** / {} | {} / {} / {} | | {:.2}, {:.2}, {:.2} |\n",
                ms(r.med(|x| x.post_ms)),
                ms(r.p(true, 50.0)),
                ms(r.p(true, 99.0)),
                ms(r.p(true, 100.0)),
                ms(r.p(false, 50.0)),
                ms(r.p(false, 99.0)),
                ms(r.p(false, 100.0)),
                r.med(|x| x.servers_cpu),
                r.med(|x| x.workers_cpu),
                r.med(|x| x.machine_cpu)
            );
        }
    }
}

/// One intake row of the summary: the medians of the rounds' rates, each round's ratio to
/// the health check (in the rounds' order) and their median, which the target is held to.
/// The last argument is this kind of request's (rate, ratio, p50, p99).
fn intake_row(
    w: &mut String,
    what: &str,
    r: &IntakeResult,
    each: impl Iterator<Item = f64>,
    (rate, ratio, p50, p99): (f64, f64, f64, f64),
) {
    let each: Vec<String> = each.map(|x| format!("{x:.3}")).collect();
    let _ = writeln!(
        w,
        "| {what} | medians of {} rounds: {} reports/s, {} checks/s; the rounds' ratios {}, median **{ratio:.3}×** (p50 {} ms, p99 {} ms) | ≥ 1/3 (0.333×) of the health-check rate | {} |",
        r.rounds.len(),
        int(rate),
        int(r.health_rate()),
        each.join(", "),
        ms(p50),
        ms(p99),
        verdict(ratio >= INTAKE_RATIO && r.failed() == 0)
    );
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "FAIL" }
}

fn cell(s: &str) -> String {
    s.replace('|', "/").replace('\n', " ")
}

/// A whole number with thin thousands separators (1,234,567).
pub fn int(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn ms(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("?"),
            u.port().unwrap_or(5432)
        ),
        Err(_) => "PostgreSQL".into(),
    }
}

/// The file system a path lives on, from /proc/mounts (longest matching mount point).
fn storage_of(path: &std::path::Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 3 && path.starts_with(f[1]))
                .then(|| (f[1].len(), format!("{} ({})", f[2], f[0])))
        })
        .max_by_key(|(n, _)| *n)
        .map_or_else(|| "an unknown file system".into(), |(_, s)| s)
}
