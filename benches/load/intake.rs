//! Intake: durable report creation (`POST /api/v1/reports` as a logged-in resident, and
//! Open311 `POST /open311/v2/requests.json` with an API key when the build has it) against
//! `GET /healthz` on the same server, with the same client and the same number of
//! concurrent clients, in rounds of fixed-time phases whose order rotates. Each client
//! sends its next request as soon as the last is answered (closed loop).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::StatusCode;

use crate::server::{Server, login};
use crate::stats::{median, percentile, sort};

/// One fixed-time phase of one kind of request.
pub struct Phase {
    pub ok: u64,
    pub failed: u64,
    pub secs: f64,
    /// Latencies of the answered requests, ms, sorted.
    pub lat_ms: Vec<f64>,
    /// CPU cores used on average during the phase by the server and by this process.
    pub server_cores: f64,
    pub client_cores: f64,
    /// Cores busy on the whole machine, and cores' worth of time waiting for I/O.
    pub machine_cores: f64,
    pub iowait_cores: f64,
    pub first_error: Option<String>,
}

impl Phase {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    pub fn p50(&self) -> f64 {
        percentile(&self.lat_ms, 50.0)
    }
    pub fn p99(&self) -> f64 {
        percentile(&self.lat_ms, 99.0)
    }
}

pub struct Round {
    pub health: Phase,
    pub intake: Phase,
    /// Open311 `POST /open311/v2/requests.json`, when the server has it.
    pub open311: Option<Phase>,
}

impl Round {
    pub fn ratio(&self) -> f64 {
        self.intake.rate() / self.health.rate()
    }
    pub fn open311_ratio(&self) -> Option<f64> {
        Some(self.open311.as_ref()?.rate() / self.health.rate())
    }
}

pub struct IntakeResult {
    pub engine: String,
    pub concurrency: usize,
    pub round_secs: u64,
    pub rounds: Vec<Round>,
    /// Load average when the measurement started.
    pub load_at_start: f64,
}

impl IntakeResult {
    fn med(&self, f: impl Fn(&Round) -> f64) -> f64 {
        median(&self.rounds.iter().map(f).collect::<Vec<_>>())
    }
    pub fn health_rate(&self) -> f64 {
        self.med(|r| r.health.rate())
    }
    pub fn intake_rate(&self) -> f64 {
        self.med(|r| r.intake.rate())
    }
    /// Median of the per-round ratios (each round's two phases ran back to back).
    pub fn ratio(&self) -> f64 {
        self.med(Round::ratio)
    }
    pub fn health_p50(&self) -> f64 {
        self.med(|r| r.health.p50())
    }
    pub fn health_p99(&self) -> f64 {
        self.med(|r| r.health.p99())
    }
    pub fn intake_p50(&self) -> f64 {
        self.med(|r| r.intake.p50())
    }
    pub fn intake_p99(&self) -> f64 {
        self.med(|r| r.intake.p99())
    }
    pub fn has_open311(&self) -> bool {
        self.rounds.iter().all(|r| r.open311.is_some())
    }
    pub fn open311_rate(&self) -> f64 {
        self.med(|r| r.open311.as_ref().map_or(f64::NAN, Phase::rate))
    }
    pub fn open311_ratio(&self) -> f64 {
        self.med(|r| r.open311_ratio().unwrap_or(f64::NAN))
    }
    pub fn open311_p50(&self) -> f64 {
        self.med(|r| r.open311.as_ref().map_or(f64::NAN, Phase::p50))
    }
    pub fn open311_p99(&self) -> f64 {
        self.med(|r| r.open311.as_ref().map_or(f64::NAN, Phase::p99))
    }
    pub fn failed(&self) -> u64 {
        self.rounds
            .iter()
            .map(|r| r.health.failed + r.intake.failed + r.open311.as_ref().map_or(0, |p| p.failed))
            .sum()
    }
    pub fn first_error(&self) -> Option<&str> {
        self.rounds
            .iter()
            .flat_map(|r| {
                [
                    r.health.first_error.as_deref(),
                    r.intake.first_error.as_deref(),
                    r.open311.as_ref().and_then(|p| p.first_error.as_deref()),
                ]
            })
            .flatten()
            .next()
    }
}

pub struct Settings {
    pub concurrency: usize,
    pub round: Duration,
    pub rounds: usize,
}

/// Measure intake against the health check on a running server.
pub async fn run(
    server: &Server,
    engine: &str,
    s: &Settings,
    load_at_start: f64,
) -> Result<IntakeResult> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(s.concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = server.base();
    let token = login(&client, &base, "dhk.dan").await?;
    let run_id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);

    let health: MakeRequest = {
        let client = client.clone();
        let url = format!("{base}/healthz");
        Arc::new(move |_: usize, _: u64| client.get(&url))
    };
    let intake: MakeRequest = {
        let client = client.clone();
        let run_id = run_id.clone();
        let url = format!("{base}/api/v1/reports");
        // The client stands in for phones, which do not share the server's cores: it
        // builds each body without a JSON tree and reuses one Authorization header.
        let bearer = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the session token is not a header value")?;
        Arc::new(move |task: usize, seq: u64| {
            let description =
                format!("Khói bốc lên từ nhà kho cuối ngõ (đo tải {run_id}-{task}-{seq})");
            let body = serde_json::to_vec(&ReportBody {
                ward: "du-hang-kenh",
                category: "fire",
                description: &description,
                lat: 20.84,
                lon: 106.67,
            })
            .expect("a report body serializes");
            client
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, bearer.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
        })
    };

    let open311: Option<MakeRequest> = if open311_present(server).await? {
        let key = open311_key(server).await?;
        let client = client.clone();
        let url = format!("{base}/open311/v2/requests.json");
        let run_id = run_id.clone();
        Some(Arc::new(move |task: usize, seq: u64| {
            let description =
                format!("Khói bốc lên từ nhà kho cuối ngõ (đo tải Open311 {run_id}-{task}-{seq})");
            let form: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("api_key", &key)
                .append_pair("service_code", "fire")
                .append_pair("lat", "20.84")
                .append_pair("long", "106.67")
                .append_pair("description", &description)
                .finish();
            client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
        }))
    } else {
        None
    };
    // The kinds of request measured in every round: name, expected status, request.
    let mut kinds: Vec<(&str, StatusCode, MakeRequest)> = vec![
        ("health", StatusCode::OK, health),
        ("intake", StatusCode::CREATED, intake),
    ];
    if let Some(o) = open311 {
        kinds.push(("open311", StatusCode::OK, o));
    }

    // Warm up: open the connections and touch every path once.
    for (i, (_, expect, make)) in kinds.iter().enumerate() {
        let length = Duration::from_secs(if i == 0 { 2 } else { 1 });
        drive(server, s.concurrency, length, *expect, make.clone()).await;
    }

    let mut rounds = Vec::new();
    for i in 0..s.rounds {
        // Rotate which phase goes first, so a drift in load favours none.
        let mut phases: Vec<Option<Phase>> = kinds.iter().map(|_| None).collect();
        for k in 0..kinds.len() {
            let j = (k + i) % kinds.len();
            let (_, expect, make) = &kinds[j];
            phases[j] = Some(drive(server, s.concurrency, s.round, *expect, make.clone()).await);
        }
        let mut phases = phases.into_iter().flatten();
        let (Some(health), Some(intake)) = (phases.next(), phases.next()) else {
            bail!("a phase was not measured");
        };
        let round = Round {
            health,
            intake,
            open311: phases.next(),
        };
        eprintln!(
            "  {engine} round {}: health {:.0}/s, intake {:.0}/s (ratio {:.2}){}",
            i + 1,
            round.health.rate(),
            round.intake.rate(),
            round.ratio(),
            round
                .open311
                .as_ref()
                .map(|o| format!(", Open311 {:.0}/s", o.rate()))
                .unwrap_or_default()
        );
        rounds.push(round);
    }
    Ok(IntakeResult {
        engine: engine.to_string(),
        concurrency: s.concurrency,
        round_secs: s.round.as_secs(),
        rounds,
        load_at_start,
    })
}

/// The body of `POST /api/v1/reports` as the bench files it.
#[derive(serde::Serialize)]
struct ReportBody<'a> {
    ward: &'a str,
    category: &'a str,
    description: &'a str,
    lat: f64,
    lon: f64,
}

type MakeRequest = Arc<dyn Fn(usize, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// `concurrency` clients each send requests one after another until `length` is up.
async fn drive(
    server: &Server,
    concurrency: usize,
    length: Duration,
    expect: StatusCode,
    make: MakeRequest,
) -> Phase {
    let server_cpu = server.cpu_secs();
    let client_cpu = crate::machine::cpu_secs("self");
    let (busy, iowait) = crate::machine::machine_cpu();
    let start = Instant::now();
    let deadline = start + length;
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let make = make.clone();
            tokio::spawn(async move {
                let mut lat = Vec::new();
                let (mut ok, mut failed, mut error) = (0u64, 0u64, None);
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    seq += 1;
                    let t = Instant::now();
                    let answer = match make(task, seq).send().await {
                        Ok(r) if r.status() == expect => {
                            r.bytes().await.map(|_| ()).map_err(|e| e.to_string())
                        }
                        Ok(r) => {
                            let status = r.status();
                            let body = r.text().await.unwrap_or_default();
                            Err(format!(
                                "{status}: {}",
                                body.chars().take(300).collect::<String>()
                            ))
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    match answer {
                        Ok(()) => {
                            ok += 1;
                            lat.push(t.elapsed().as_secs_f64() * 1000.0);
                        }
                        Err(e) => {
                            failed += 1;
                            error.get_or_insert(e);
                        }
                    }
                }
                (ok, failed, lat, error)
            })
        })
        .collect();
    let mut phase = Phase {
        ok: 0,
        failed: 0,
        secs: 0.0,
        lat_ms: Vec::new(),
        server_cores: 0.0,
        client_cores: 0.0,
        machine_cores: 0.0,
        iowait_cores: 0.0,
        first_error: None,
    };
    for t in tasks {
        match t.await {
            Ok((ok, failed, lat, error)) => {
                phase.ok += ok;
                phase.failed += failed;
                phase.lat_ms.extend(lat);
                if phase.first_error.is_none() {
                    phase.first_error = error;
                }
            }
            Err(e) => {
                phase.failed += 1;
                phase.first_error.get_or_insert(e.to_string());
            }
        }
    }
    phase.secs = start.elapsed().as_secs_f64();
    phase.server_cores = (server.cpu_secs() - server_cpu) / phase.secs;
    phase.client_cores = (crate::machine::cpu_secs("self") - client_cpu) / phase.secs;
    let (busy_now, iowait_now) = crate::machine::machine_cpu();
    phase.machine_cores = (busy_now - busy) / phase.secs;
    phase.iowait_cores = (iowait_now - iowait) / phase.secs;
    sort(&mut phase.lat_ms);
    phase
}

/// Issue an Open311 API key for the demo ward with the server's own command line.
async fn open311_key(server: &Server) -> Result<String> {
    let out = server
        .cli(&[
            "apikey",
            "add",
            "--ward",
            "du-hang-kenh",
            "--name",
            "load bench",
        ])
        .await?;
    out.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .context("`wardwatch apikey add` printed no key")
}

/// Whether the server has an Open311 `POST /open311/v2/requests.json`: any answer but
/// 404/405 means the route exists.
pub async fn open311_present(server: &Server) -> Result<bool> {
    let r = reqwest::Client::new()
        .post(format!("{}/open311/v2/requests.json", server.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await?;
    Ok(!matches!(
        r.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ))
}
