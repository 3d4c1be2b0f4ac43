//! The listener worker: one process holding many live listeners of a ward, each a plain
//! TCP connection from its own loopback source address reading
//! `GET /api/v1/warnings/stream?ward=…` (HTTP/1.1, chunked Server-Sent Events).
//!
//! Started by the bench as `load worker SERVERS FIRST COUNT PER_IP PARALLEL DEADLINE_S`.
//! It prints `ready OK FAILED CPU_S` once every listener has its response headers (so is
//! subscribed). Then, for each `published` line on standard input, it waits until every
//! listener has that warning (or 30 s), prints one line `a ARRIVAL_US SENT_US` per listener
//! that got it (Unix microseconds; SENT_US is the event's `sent_at`) and then
//! `done RECEIVED MISSING CLOSED CPU_S`. CPU_S is the CPU seconds the worker has used so
//! far. Standard input closing (the bench is done or gone) or DEADLINE_S ends it.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, mpsc};

/// How long a listener waits for the warning after the bench says it was published.
const EVENT_WAIT: Duration = Duration::from_secs(30);

pub struct Plan {
    pub servers: Vec<SocketAddr>,
    /// Global index of this worker's first listener (which decides source address and node).
    pub first: usize,
    pub count: usize,
    pub per_ip: usize,
    pub parallel: usize,
    pub deadline: Duration,
}

impl Plan {
    pub fn to_args(&self) -> Vec<String> {
        let servers: Vec<String> = self.servers.iter().map(|s| s.to_string()).collect();
        vec![
            "worker".into(),
            servers.join(","),
            self.first.to_string(),
            self.count.to_string(),
            self.per_ip.to_string(),
            self.parallel.to_string(),
            self.deadline.as_secs().to_string(),
        ]
    }

    fn from_args(args: &[String]) -> Result<Self> {
        let [servers, first, count, per_ip, parallel, deadline] = args else {
            bail!("usage: load worker SERVERS FIRST COUNT PER_IP PARALLEL DEADLINE_S");
        };
        Ok(Self {
            servers: servers
                .split(',')
                .map(str::parse)
                .collect::<Result<_, _>>()?,
            first: first.parse()?,
            count: count.parse()?,
            per_ip: per_ip.parse::<usize>()?.max(1),
            parallel: parallel.parse::<usize>()?.max(1),
            deadline: Duration::from_secs(deadline.parse()?),
        })
    }
}

/// Which source address and server the listener with this global index uses. Source
/// addresses start at 127.0.0.2; servers take listeners in turn.
pub fn route(g: usize, per_ip: usize, servers: &[SocketAddr]) -> (Ipv4Addr, SocketAddr) {
    let n = 2 + (g / per_ip) as u32;
    let ip = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 0, 0, 0)) + n);
    (ip, servers[g % servers.len()])
}

enum Outcome {
    Ready(bool),
    /// The listener's `nth` warning (1 for the first) arrived.
    Arrived {
        nth: usize,
        arrival_us: i64,
        sent_us: i64,
    },
    Closed,
}

pub fn main(args: &[String]) -> ExitCode {
    let plan = match Plan::from_args(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("worker: {e:#}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let deadline = plan.deadline;
    let result = rt.block_on(async {
        tokio::time::timeout(deadline, work(plan))
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("worker deadline reached")))
    });
    // Exit without dropping thousands of sockets one by one; the kernel closes them.
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("worker: {e:#}");
            1
        }
    };
    let _ = std::io::stdout().flush();
    std::process::exit(code)
}

async fn work(plan: Plan) -> Result<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(plan.parallel));
    for i in 0..plan.count {
        let g = plan.first + i;
        let (src, server) = route(g, plan.per_ip, &plan.servers);
        tokio::spawn(listen(src, server, gate.clone(), tx.clone()));
    }
    drop(tx);

    let mut commands = stdin_lines();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut ready, mut failed, mut closed) = (0usize, 0usize, 0usize);
    // Arrivals by publication (1, 2, …): each listener numbers the warnings it sees.
    let mut arrivals: Vec<Vec<(i64, i64)>> = Vec::new();
    while ready + failed < plan.count {
        match rx.recv().await {
            Some(Outcome::Ready(true)) => ready += 1,
            Some(Outcome::Ready(false)) => failed += 1,
            Some(Outcome::Arrived {
                nth,
                arrival_us,
                sent_us,
            }) => record(&mut arrivals, nth, arrival_us, sent_us),
            Some(Outcome::Closed) => closed += 1,
            None => break,
        }
    }
    let cpu = || crate::machine::cpu_secs("self");
    writeln!(out, "ready {ready} {failed} {:.3}", cpu())?;
    out.flush()?;

    // For each publication the bench announces: wait until every listener has it.
    let mut publication = 0;
    while let Some(command) = commands.recv().await {
        if command.trim() != "published" {
            continue;
        }
        publication += 1;
        let got = |a: &Vec<Vec<(i64, i64)>>| a.get(publication - 1).map_or(0, Vec::len);
        let wait = tokio::time::sleep(EVENT_WAIT);
        tokio::pin!(wait);
        while got(&arrivals) + closed < ready {
            tokio::select! {
                m = rx.recv() => match m {
                    Some(Outcome::Arrived { nth, arrival_us, sent_us }) => {
                        record(&mut arrivals, nth, arrival_us, sent_us)
                    }
                    Some(Outcome::Closed) => closed += 1,
                    Some(Outcome::Ready(_)) => {}
                    None => break,
                },
                _ = &mut wait => break,
            }
        }
        let these = arrivals.get(publication - 1).map_or(&[][..], Vec::as_slice);
        for (a, s) in these {
            writeln!(out, "a {a} {s}")?;
        }
        writeln!(
            out,
            "done {} {} {closed} {:.3}",
            these.len(),
            ready.saturating_sub(these.len()),
            cpu()
        )?;
        out.flush()?;
    }
    Ok(())
}

/// One listener: connect, subscribe, report readiness, then report every warning.
async fn listen(
    src: Ipv4Addr,
    server: SocketAddr,
    gate: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Outcome>,
) {
    let Ok(permit) = gate.acquire().await else {
        return;
    };
    let mut attempt = 0;
    let (mut stream, leftover) = loop {
        attempt += 1;
        match tokio::time::timeout(Duration::from_secs(30), subscribe(src, server)).await {
            Ok(Ok(s)) => break s,
            Ok(Err(e)) if attempt >= 3 => return fail(&tx, src, &e.to_string()),
            Err(_) if attempt >= 3 => return fail(&tx, src, "no answer within 30 s"),
            _ => tokio::time::sleep(Duration::from_millis(250 * attempt)).await,
        }
    };
    drop(permit);
    let _ = tx.send(Outcome::Ready(true));

    // Each arrival costs this process as little as it can: the listeners share the
    // machine's cores with the servers they measure (on a real ward they are phones).
    let mut body = Dechunk::default();
    let mut events = SseParser::default();
    let mut buf = vec![0u8; 2048];
    let mut sse = Vec::new();
    let mut found = Vec::new();
    let mut nth = 0;
    body.feed(&leftover, &mut sse);
    drop(leftover);
    loop {
        let arrival_us = unix_us();
        events.feed(&sse, &mut found);
        sse.clear();
        for json in found.drain(..) {
            nth += 1;
            let sent_us = sent_at_us(&json).unwrap_or(0);
            let _ = tx.send(Outcome::Arrived {
                nth,
                arrival_us,
                sent_us,
            });
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = tx.send(Outcome::Closed);
                return;
            }
            Ok(n) => body.feed(&buf[..n], &mut sse),
        }
    }
}

fn record(arrivals: &mut Vec<Vec<(i64, i64)>>, nth: usize, arrival_us: i64, sent_us: i64) {
    if arrivals.len() < nth {
        arrivals.resize_with(nth, Vec::new);
    }
    arrivals[nth - 1].push((arrival_us, sent_us));
}

/// Standard input line by line, read on a thread of its own; the channel closes at EOF.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn fail(tx: &mpsc::UnboundedSender<Outcome>, src: Ipv4Addr, why: &str) {
    static SHOWN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if SHOWN.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 3 {
        eprintln!("worker: a listener from {src} failed: {why}");
    }
    let _ = tx.send(Outcome::Ready(false));
}

/// Connect from `src`, ask for the ward's stream, read the response headers. Returns the
/// stream and whatever body bytes came with the headers.
async fn subscribe(src: Ipv4Addr, server: SocketAddr) -> Result<(TcpStream, Vec<u8>)> {
    let socket = TcpSocket::new_v4()?;
    socket
        .bind(SocketAddr::from((src, 0)))
        .with_context(|| format!("bind {src}"))?;
    let mut stream = socket.connect(server).await.context("connect")?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET /api/v1/warnings/stream?ward=du-hang-kenh HTTP/1.1\r\nHost: {server}\r\n\
         Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            bail!("closed before the response headers");
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = find(&head, b"\r\n\r\n") {
            let status = String::from_utf8_lossy(&head[..head.len().min(12)]).to_string();
            if !status.starts_with("HTTP/1.1 200") {
                bail!("answered {status}");
            }
            let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
            if !text.contains("transfer-encoding: chunked") {
                bail!("the event stream is not chunked");
            }
            return Ok((stream, head[end + 4..].to_vec()));
        }
        if head.len() > 16 * 1024 {
            bail!("response headers too long");
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The event's `sent_at`, found by its key rather than by parsing the whole event (a
/// quote inside a JSON string is escaped, so `"sent_at":"` can only be a key).
fn sent_at_us(json: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"sent_at\":\"";
    let start = find(json, KEY)? + KEY.len();
    let len = json[start..].iter().position(|b| *b == b'"')?;
    let text = std::str::from_utf8(&json[start..start + len]).ok()?;
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(t.timestamp_micros())
}

/// HTTP/1.1 chunked transfer decoding, fed as bytes arrive.
#[derive(Default)]
struct Dechunk {
    raw: Vec<u8>,
}

impl Dechunk {
    fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.raw.extend_from_slice(data);
        loop {
            let Some(line_end) = find(&self.raw, b"\r\n") else {
                return;
            };
            let size_text = String::from_utf8_lossy(&self.raw[..line_end]);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let Ok(size) = usize::from_str_radix(size_text, 16) else {
                // Not a chunk header: give up on this stream's framing.
                self.raw.clear();
                return;
            };
            let start = line_end + 2;
            if self.raw.len() < start + size + 2 {
                return;
            }
            out.extend_from_slice(&self.raw[start..start + size]);
            self.raw.drain(..start + size + 2);
        }
    }
}

/// Server-Sent Events: the data of each complete `warning` event, as bytes.
#[derive(Default)]
struct SseParser {
    line: Vec<u8>,
    warning: bool,
    data: Vec<u8>,
}

impl SseParser {
    fn feed(&mut self, bytes: &[u8], found: &mut Vec<Vec<u8>>) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            self.end_line(found);
        }
        self.line.extend_from_slice(rest);
    }

    fn end_line(&mut self, found: &mut Vec<Vec<u8>>) {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        if line.is_empty() {
            if self.warning && !self.data.is_empty() {
                found.push(std::mem::take(&mut self.data));
            }
            self.data.clear();
            self.warning = false;
        } else if let Some(v) = line.strip_prefix(b"event:") {
            self.warning = v.trim_ascii_start() == b"warning";
        } else if let Some(v) = line.strip_prefix(b"data:") {
            if !self.data.is_empty() {
                self.data.push(b'\n');
            }
            self.data
                .extend_from_slice(v.strip_prefix(b" ").unwrap_or(v));
        }
        self.line.clear();
    }
}

/// Check the two parsers on a captured stream shape (run from the bench's own start).
pub fn self_check() -> Result<()> {
    let event = "id: 7\nevent: warning\ndata: {\"sent_at\":\"2026-01-02T03:04:05.5Z\"}\n\n";
    let other = "id: 8\r\nevent: report\r\ndata: {\"sent_at\":\"2026-01-02T03:04:06Z\"}\r\n\r\n";
    let text = "event: warning\ndata: {\"headline\":\"\\\"sent_at\\\":\\\"x\",\ndata: \"sent_at\":\"2026-01-02T03:04:07Z\"}\n\n";
    let wire = format!(
        "d\r\n: keep-alive\n\r\n{:x}\r\n{event}\r\n{:x}\r\n{other}\r\n{:x}\r\n{text}\r\n",
        event.len(),
        other.len(),
        text.len()
    );
    let (mut d, mut p, mut out) = (Dechunk::default(), SseParser::default(), Vec::new());
    let mut found = Vec::new();
    for piece in wire.as_bytes().chunks(5) {
        d.feed(piece, &mut out);
        p.feed(&out, &mut found);
        out.clear();
    }
    let sent: Vec<Option<i64>> = found.iter().map(|json| sent_at_us(json)).collect();
    anyhow::ensure!(
        sent == [Some(1_767_323_045_500_000), Some(1_767_323_047_000_000)],
        "the parsers found {sent:?}"
    );
    Ok(())
}
