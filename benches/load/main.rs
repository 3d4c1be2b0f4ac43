//! Load benchmarks of wardwatch (`scripts/bench.sh` runs them and explains the settings):
//!
//! - intake: durable report creation (JSON API, Open311) against the health check on the
//!   same server, on SQLite and on PostgreSQL (intake.rs);
//! - fan-out: warnings published to many idle live listeners of one ward, on one node
//!   and across nodes (fanout.rs, with the listener worker in listener.rs).
//!
//! The servers are the release binary in their own processes (server.rs); the figures go
//! to BENCHMARKS.md (report.rs, discussion.rs). `load worker …` is this binary re-run as
//! a listener worker.

mod discussion;
mod fanout;
mod intake;
mod listener;
mod machine;
mod pg;
mod report;
mod server;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::machine::{LoadLog, Machine};
use crate::report::{FanoutRun, Report};
use crate::server::{Db, Server};

/// Settings from the environment (see scripts/bench.sh).
pub struct Config {
    pub bin: PathBuf,
    pub out: PathBuf,
    pub work: PathBuf,
    pub round: Duration,
    pub rounds: usize,
    pub concurrency: usize,
    pub listeners: usize,
    pub listeners_large: usize,
    pub skip_pg: bool,
    pub skip_sqlite: bool,
    pub skip_intake: bool,
    pub skip_fanout: bool,
    pub pg_url: Option<String>,
    pub per_worker: usize,
    pub per_ip: usize,
    pub parallel: usize,
    pub pg_in_flight: usize,
    pub publications: usize,
    pub node_capacity: usize,
    pub command: String,
}

const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl Config {
    fn from_env(machine: &Machine) -> Result<Self> {
        fn num(name: &str, default: usize) -> Result<usize> {
            match std::env::var(name) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse()
                    .with_context(|| format!("{name} must be a whole number, not {v:?}")),
                _ => Ok(default),
            }
        }
        let flag = |name: &str| std::env::var(name).is_ok_and(|v| v == "1" || v == "true");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let per_worker_max = (machine.nofile_soft as usize).saturating_sub(200).max(100);
        // One server process holds its open-file limit of sockets, less what the server
        // needs for itself (database files and connections, the listening socket, logs).
        let fits = (machine.nofile_soft as usize).saturating_sub(100).max(1);
        Ok(Self {
            bin: std::env::var_os("WARDWATCH_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("target/release/wardwatch")),
            out: std::env::var_os("BENCH_OUT")
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("BENCHMARKS.md")),
            work: root.join("target/bench"),
            round: Duration::from_secs(num("BENCH_SECS", 10)?.max(1) as u64),
            rounds: num("BENCH_ROUNDS", 5)?.max(1),
            concurrency: num("BENCH_CONCURRENCY", 64)?.max(1),
            listeners: num("BENCH_LISTENERS", 30_000)?,
            listeners_large: num("BENCH_LISTENERS_LARGE", 100_000)?,
            skip_pg: flag("BENCH_SKIP_PG"),
            skip_sqlite: flag("BENCH_SKIP_SQLITE"),
            skip_intake: flag("BENCH_SKIP_INTAKE"),
            skip_fanout: flag("BENCH_SKIP_FANOUT"),
            pg_url: std::env::var("TEST_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty()),
            per_worker: num("BENCH_PER_WORKER", 10_000)?.clamp(1, per_worker_max),
            per_ip: num("BENCH_PER_IP", 10_000)?.clamp(1, 20_000),
            parallel: num("BENCH_CONNECT_PARALLEL", 16)?.max(1),
            pg_in_flight: num("BENCH_PG_IN_FLIGHT", 4)?.max(1),
            publications: num("BENCH_PUBLICATIONS", 5)?.max(1),
            node_capacity: num("BENCH_NODE_CAPACITY", fits)?.clamp(1, fits),
            command: std::env::var("BENCH_COMMAND")
                .unwrap_or_else(|_| "cargo bench --bench load".into()),
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return listener::main(&args[1..]);
    }
    // Other arguments (cargo bench passes --bench) are ignored.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    // On Ctrl-C or SIGTERM the run is dropped, which ends its servers and workers.
    let outcome = rt.block_on(async {
        tokio::select! {
            r = run() => r,
            _ = interrupted() => Err(anyhow::anyhow!("interrupted")),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    listener::self_check()?;
    let machine = Machine::read();
    let cfg = Config::from_env(&machine)?;
    if !cfg.bin.is_file() {
        bail!(
            "{} is missing: build it with `cargo build --release --bin wardwatch` (scripts/bench.sh does)",
            cfg.bin.display()
        );
    }
    std::fs::create_dir_all(&cfg.work)?;
    let loads = LoadLog::start();
    let mut report = Report::new(machine, &cfg);
    loads.mark("start");

    let pg = postgres(&cfg).await;
    report.pg = pg.clone();

    if cfg.skip_intake {
        report
            .notes
            .push("Intake was skipped (BENCH_SKIP_INTAKE=1).".into());
    } else {
        intake_all(&cfg, &loads, pg.as_ref().ok(), &mut report).await;
    }
    if cfg.skip_fanout {
        report
            .notes
            .push("Fan-out was skipped (BENCH_SKIP_FANOUT=1).".into());
    } else {
        fanout_all(&cfg, &loads, pg.as_ref().ok(), &mut report).await;
    }

    loads.mark("end");
    report.finish(loads.samples(), loads.marks());
    // Other benchmarks keep their own sections (between `<!-- NAME:begin -->` and
    // `<!-- NAME:end -->` markers, e.g. the roster bench's); they stay at the end.
    let kept = std::fs::read_to_string(&cfg.out)
        .ok()
        .and_then(|old| {
            old.find("<!-- roster:begin -->")
                .map(|i| old[i..].to_string())
        })
        .unwrap_or_default();
    let mut text = report.render();
    if !kept.is_empty() {
        text = format!("{}\n\n{kept}", text.trim_end());
    }
    std::fs::write(&cfg.out, text)
        .with_context(|| format!("cannot write {}", cfg.out.display()))?;
    eprintln!("bench: wrote {}", cfg.out.display());
    Ok(())
}

async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term => {} }
}

/// The PostgreSQL server to use, or why there is none.
async fn postgres(cfg: &Config) -> Result<String, String> {
    if cfg.skip_pg {
        return Err("skipped (BENCH_SKIP_PG=1)".into());
    }
    let url = cfg.pg_url.clone().unwrap_or_else(|| DEFAULT_PG.into());
    match pg::reachable(&url).await {
        Ok(()) => Ok(url),
        Err(e) => Err(format!("no PostgreSQL server reachable ({e:#})")),
    }
}

/// Connections one node's pool was seen to hold during a fan-out (it may grow to 16, plus
/// one for LISTEN), and how many to leave free for other users of the server.
const PG_CONNECTIONS_PER_NODE: usize = 12;
const PG_CONNECTIONS_SPARE: usize = 10;

const SERVER_LIFETIME: Duration = Duration::from_secs(1800);

async fn intake_all(cfg: &Config, loads: &LoadLog, pg: Option<&String>, report: &mut Report) {
    let settings = intake::Settings {
        concurrency: cfg.concurrency,
        round: cfg.round,
        rounds: cfg.rounds,
    };
    if cfg.skip_sqlite {
        report
            .notes
            .push("Intake on SQLite was skipped (BENCH_SKIP_SQLITE=1).".into());
    } else {
        intake_sqlite(cfg, loads, &settings, report).await;
    }

    let Some(admin) = pg else { return };
    eprintln!("bench: intake on PostgreSQL");
    let postgres = async {
        let db = pg::TempDb::create(admin).await?;
        let result = async {
            let db = Db::Postgres(db.url.clone());
            let server =
                Server::start("intake-postgres", &cfg.bin, &db, &cfg.work, SERVER_LIFETIME).await?;
            if report.open311.is_none() {
                report.open311 = Some(intake::open311_present(&server).await?);
            }
            let result = intake::run(
                &server,
                "PostgreSQL",
                &settings,
                loads.mark("intake PostgreSQL"),
            )
            .await;
            server.stop().await;
            result
        }
        .await;
        let name = db.name().to_string();
        db.drop_now()
            .await
            .with_context(|| format!("dropping the database {name}"))?;
        result
    }
    .await;
    report
        .intake
        .push(postgres.map_err(|e| ("PostgreSQL".into(), format!("{e:#}"))));
}

async fn intake_sqlite(
    cfg: &Config,
    loads: &LoadLog,
    settings: &intake::Settings,
    report: &mut Report,
) {
    eprintln!("bench: intake on SQLite");
    let sqlite = async {
        let server = Server::start(
            "intake-sqlite",
            &cfg.bin,
            &Db::Sqlite,
            &cfg.work,
            SERVER_LIFETIME,
        )
        .await?;
        report.open311 = Some(intake::open311_present(&server).await?);
        let result = intake::run(&server, "SQLite", settings, loads.mark("intake SQLite")).await;
        server.stop().await;
        result
    }
    .await;
    report
        .intake
        .push(sqlite.map_err(|e| ("SQLite".into(), format!("{e:#}"))));
}

async fn fanout_all(cfg: &Config, loads: &LoadLog, pg: Option<&String>, report: &mut Report) {
    let capacity = cfg.node_capacity;
    report.node_capacity = capacity;
    let settings = fanout::Settings {
        per_worker: cfg.per_worker,
        per_ip: cfg.per_ip,
        parallel: cfg.parallel,
        pg_in_flight_per_node: cfg.pg_in_flight,
        publications: cfg.publications,
        connect_limit: Duration::from_secs(900),
    };
    let mut runs: Vec<(String, usize)> = Vec::new();
    if cfg.listeners > 0 {
        let one = cfg.listeners.min(capacity);
        runs.push(("the most one node holds here".into(), one));
        if cfg.listeners > capacity {
            runs.push(("the target count".into(), cfg.listeners));
        }
    }
    if cfg.listeners_large > 0 {
        runs.push(("the larger try".into(), cfg.listeners_large));
    }
    for (purpose, n) in runs {
        let nodes = n.div_ceil(capacity.max(1)).max(1);
        let label = if nodes == 1 {
            format!("{} listeners, 1 node", report::int(n as f64))
        } else {
            format!("{} listeners over {nodes} nodes", report::int(n as f64))
        };
        let run = if nodes == 1 {
            eprintln!("bench: fan-out, {label} (SQLite)");
            fanout_sqlite(cfg, &settings, &label, n, loads).await
        } else if let Some(admin) = pg {
            eprintln!("bench: fan-out, {label} (PostgreSQL)");
            fanout_postgres(cfg, &settings, &label, n, nodes, admin, loads).await
        } else {
            Err(anyhow::anyhow!(
                "needs {nodes} nodes sharing a PostgreSQL database (one process holds at most {capacity} listeners here), and PostgreSQL is {}",
                report
                    .pg
                    .as_ref()
                    .err()
                    .map_or("not available", String::as_str)
            ))
        };
        report.fanout.push(FanoutRun {
            purpose,
            label,
            result: run.map_err(|e| format!("{e:#}")),
        });
    }
}

async fn fanout_sqlite(
    cfg: &Config,
    settings: &fanout::Settings,
    label: &str,
    n: usize,
    loads: &LoadLog,
) -> Result<fanout::FanoutResult> {
    let server = Server::start(
        "fanout-sqlite",
        &cfg.bin,
        &Db::Sqlite,
        &cfg.work,
        SERVER_LIFETIME,
    )
    .await?;
    let load = loads.mark(&format!("fan-out {label}"));
    let nodes = [server];
    let result = fanout::run(label, "SQLite", &nodes, n, settings, load, None).await;
    let [server] = nodes;
    server.stop().await;
    result
}

async fn fanout_postgres(
    cfg: &Config,
    settings: &fanout::Settings,
    label: &str,
    n: usize,
    nodes_n: usize,
    admin: &str,
    loads: &LoadLog,
) -> Result<fanout::FanoutResult> {
    // The PostgreSQL server's connections are shared with everyone's tests: leave room.
    let (free, max) = pg::free_connections(admin).await?;
    let need = nodes_n * PG_CONNECTIONS_PER_NODE + PG_CONNECTIONS_SPARE;
    if free < need {
        bail!(
            "PostgreSQL has {free} of its {max} connections free; {nodes_n} nodes may take \
             about {} and {PG_CONNECTIONS_SPARE} are left for others, so this run was skipped",
            nodes_n * PG_CONNECTIONS_PER_NODE
        );
    }
    let db = pg::TempDb::create(admin).await?;
    let result = async {
        let mut nodes = Vec::new();
        // One after another: the first loads the demo wards, the others find them.
        for i in 0..nodes_n {
            let name = format!("fanout-postgres-{i}");
            let dbc = Db::Postgres(db.url.clone());
            nodes.push(Server::start(&name, &cfg.bin, &dbc, &cfg.work, SERVER_LIFETIME).await?);
        }
        let load = loads.mark(&format!("fan-out {label}"));
        let pg = fanout::PgInfo {
            admin_url: admin,
            database: db.name(),
        };
        let result = fanout::run(label, "PostgreSQL", &nodes, n, settings, load, Some(pg)).await;
        for node in nodes {
            node.stop().await;
        }
        result
    }
    .await;
    let name = db.name().to_string();
    db.drop_now()
        .await
        .with_context(|| format!("dropping the database {name}"))?;
    result
}
