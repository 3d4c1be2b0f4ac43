//! The discussion in BENCHMARKS.md: what limits the figures of this run and what was not
//! measured. The figures come from the run; the explanations were checked while the bench
//! was written (the profile is dated) and say so where they are not measured each run.

use std::fmt::Write;

use crate::report::{Report, int};
use crate::stats::median;

pub fn write(r: &Report, w: &mut String) {
    let _ = writeln!(w, "## Discussion\n");
    intake(r, w);
    fanout(r, w);
    not_measured(r, w);
}

fn intake(r: &Report, w: &mut String) {
    let done: Vec<_> = r.intake.iter().filter_map(|x| x.as_ref().ok()).collect();
    if done.is_empty() {
        return;
    }
    let _ = writeln!(w, "**Intake.**");
    for x in &done {
        if x.has_open311() {
            let _ = writeln!(
                w,
                "On {} Open311 intake stored {} reports/s ({:.0} % of the health check, {:.1}× \
                 the JSON API's rate).",
                x.engine,
                int(x.open311_rate()),
                x.open311_ratio() * 100.0,
                x.open311_rate() / x.intake_rate()
            );
        }
        let cores = |f: &dyn Fn(&crate::intake::Round) -> f64| {
            median(&x.rounds.iter().map(f).collect::<Vec<_>>())
        };
        let _ = writeln!(
            w,
            "On {} the service stored {} reports/s, {:.0} % of the {} health checks/s it answered \
             in the same rounds; during intake the server process kept {:.2} of the {} cores busy, \
             the bench {:.2} and the whole machine {:.2} ({:.2} waiting for I/O); during the \
             health check the server {:.2}, the bench {:.2}, the machine {:.2}.",
            x.engine,
            int(x.intake_rate()),
            x.ratio() * 100.0,
            int(x.health_rate()),
            cores(&|r| r.intake.server_cores),
            r.machine.cores,
            cores(&|r| r.intake.client_cores),
            cores(&|r| r.intake.machine_cores),
            cores(&|r| r.intake.iowait_cores),
            cores(&|r| r.health.server_cores),
            cores(&|r| r.health.client_cores),
            cores(&|r| r.health.machine_cores),
        );
    }
    // Whether intake kept the machine's cores busy (CPU-bound) or left them idle (waiting).
    let busy = median(
        &done
            .iter()
            .flat_map(|x| x.rounds.iter().map(|r| r.intake.machine_cores))
            .collect::<Vec<_>>(),
    );
    let iowait = median(
        &done
            .iter()
            .flat_map(|x| x.rounds.iter().map(|r| r.intake.iowait_cores))
            .collect::<Vec<_>>(),
    );
    let cpu_bound = busy >= 0.8 * r.machine.cores as f64 && iowait < 0.2;
    let _ = writeln!(
        w,
        "\n`/healthz` does no work at all, so its rate is what HTTP on loopback costs when the \
         bench's client and the server split the cores; the 1/3 target asks a durable write to \
         cost no more than three such requests. {}",
        if cpu_bound {
            format!(
                "Intake kept the machine busy ({busy:.2} of {} cores, median over the intake \
                 phases) with little time waiting for I/O ({iowait:.2}), so the CPU, not the \
                 disk, holds it back: the group commit shares one sync among the reports that \
                 arrive together.",
                r.machine.cores
            )
        } else {
            format!(
                "Intake left the cores partly idle ({busy:.2} of {} busy, {iowait:.2} waiting \
                 for I/O, medians over the intake phases), so waiting (disk syncs, the single \
                 writer, locks) holds it back as much as the CPU.",
                r.machine.cores
            )
        }
    );
    let _ = writeln!(
        w,
        "How intake is built (2026-12-07; `src/reports/intake.rs`): a report's request reads \
         its session and its ward from in-process caches, checks the form, takes the next \
         tracking number of its node's block and encrypts it into the report's code, folds \
         the search text and queues the report; a single writer stores whatever has gathered in one \
         transaction; a second stage makes the batch durable and answers (on SQLite each on a \
         thread of its own; on PostgreSQL, where neither blocks its thread, both on one). On \
         SQLite the writer uses a plain synchronous connection (rusqlite) on its own thread, \
         one prepared statement per row, committing with synchronous=NORMAL, and the second \
         thread syncs the WAL file before anyone hears of the batch, so the disk syncs one \
         batch while the next is stored. A third thread copies the WAL into the database (a \
         passive checkpoint, every 4,096 reports or 2 s) on a connection of its own: SQLite's \
         automatic checkpoint ran inside a commit and held that batch and all queued behind \
         it for 2–16 ms; copying every 4,096 reports rather than 512 cut the slowest tenth of \
         the WAL syncs from 1.0 to 0.7 ms and gave 3–9 % more reports a second, but a copy \
         is larger (11 ms median against 4 ms) and the requests whose sync meets one wait \
         longer: p99 25–36 ms against 11–13 ms once the table holds half a million reports. (Profiled before, on sqlx: every statement of a commit was a hop to \
         sqlx's worker thread, and a commit of a handful of reports took 1.3 ms with the disk \
         sync turned off.) On PostgreSQL the writer holds a connection of its own that \
         commits with synchronous_commit off and stores a batch in one statement (the order \
         lock taken inside it); the second thread then makes every batch committed so far \
         durable with one small synchronous commit on another connection (its commit record \
         follows theirs in the log, and the log is flushed in order), so there too the disk \
         syncs one batch while the next is stored; the two stages share one thread, so a \
         batch passes between them without waking another (about 5 % more reports a second in \
         back-to-back quick runs). On both, the callers are answered first and a fourth \
         thread tells the live listeners (on PostgreSQL a NOTIFY naming this node, which then \
         reads nothing back for its own word), once for whatever gathered and at most once \
         in 5 ms (2026-12-07: each NOTIFY is a transaction and wakes every node's listening \
         connection; side by side on PostgreSQL, 3 rounds of 8 s twice, 6,150 against 5,770 \
         reports a second on average, ratios 0.27–0.34 against 0.23–0.31). A report's history \
         begins with its \"created\" step, read from the report's own row rather than written \
         with it (2026-12-07: the trigger that wrote it took about 15 µs of the 38 µs a row \
         cost PostgreSQL, measured with EXPLAIN ANALYZE on 1,000 rows). The server allocates \
         with mimalloc (glibc's malloc and free took about a quarter of its CPU under \
         intake), and the handlers' shared state is one reference-counted allocation (axum \
         clones the state for every extractor and middleware that takes it; as a struct of \
         nine shared services, that was about twenty atomic operations a request on counters \
         both cores touch, 2–3 % of the server's samples in `perf`). On PostgreSQL \
         (2026-12-07, `perf` of the intake connection's backend): a third of its time went to \
         foreign-key checks, a query for every report and every reference; the five \
         references a new report carries are now checked once per batch, under the order lock \
         (migration 0006, which keeps the keys' guarantees: a row a report names cannot be \
         deleted), and a unique index holds only the reports that carry a client key. \
         Measured with psql on batches of 22 reports: 0.68 ms with the keys, 0.52 ms with the \
         batch check, 0.48 ms with no check at all. Notifications to other nodes go out on a \
         connection of their own (the pool checked its connection with a round trip first). \
         What still holds PostgreSQL intake back: with 64 clients the machine is not busy \
         (about 1.65 of 2 cores) and throughput is bound by the latency of the single \
         writer's commits (about 0.2 ms a statement before any row, 9 µs a row in the \
         backend, and the round trip on a busy machine): with 128 clients the same build \
         reached 0.36× the health check on PostgreSQL. Batches cannot be written by several \
         connections at once: the order lock forbids it (live listeners catch up by id and \
         must never see a larger id commit before a smaller one). Where a report's time goes \
         (2026-12-07, temporary probes in the server, means per report at 64 clients, \
         SQLite / PostgreSQL): waiting for the writer 0.5 / 0.5 ms, its commit 0.7 / 1.05 ms, \
         waiting for the sync 0.2 / 0.13 ms, the sync 0.5 / 0.58 ms, then about 0.5 ms until \
         the request runs again (a batch's answers wake all its requests at once, on cores the \
         clients share); the rest of what a client waits is HTTP on both ends. Tracking codes \
         (2026-12-07, stop 14; migration 0007, `src/reports/tracking.rs`): they were drawn at \
         random, so each report of a batch landed on its own page of their unique index: \
         SQLite wrote one more page per report to its log at every commit and slowed as the \
         table grew (the writer's time per report: 14.5 µs at 40,000 reports, 23 µs at \
         340,000), and PostgreSQL's backend spent about 8 µs and 300 bytes of log more per \
         report at 300,000 reports (pgbench, batches of 20: 0.73–0.80 ms with that index, \
         0.58–0.63 ms without; right after a checkpoint 0.86 against 0.50–0.60 ms, every \
         page of the index logged whole once). Now a report takes the next number of a \
         counter (blocks of 4,096 per node) and its code is that number encrypted with the \
         deployment's key (FF1 with AES-256, NIST SP 800-38G), so codes still cannot be \
         guessed from one another while the unique index is on the numbers, which grow: a \
         batch lands on one or two of its pages. Side by side (2 rounds of 8 s, builds \
         alternating, 2026-12-07, the machine as slow as for the figures above): SQLite \
         JSON 0.44–0.46× against 0.29–0.39× before, and no fall from round to round; \
         PostgreSQL no clear change (0.29–0.30× against 0.27–0.30×). The later rounds here \
         run on a table of up to a million reports. The shape of PostgreSQL's batches \
         (2026-12-07, stop 15; each build PostgreSQL only, 3 rounds of 8 s, twice, builds \
         alternating; CPU per request from the tables' columns, medians of 6 rounds, divided \
         by the health check's in the same run, JSON API / Open311): one batch at a time \
         instead of two (larger batches) 2.5 / 2.6 against 3.1 / 2.7, three at a time 3.2 / \
         2.9; holding a second batch back until it is as large as the one being synced 3.2 / \
         3.0; the writer committing synchronously itself (no separate sync commit, one batch \
         at a time) cut PostgreSQL's own CPU a report by about a fifth (58 / 53 µs against \
         75 / 68 µs). But every variant that spends less CPU a report leaves more of the \
         machine idle (1.55–1.60 cores busy against 1.65–1.71), and none moved the ratio \
         beyond the machine's noise (JSON medians 0.26–0.34 for all; one batch at a time alone gave \
         0.26, 0.315 and 0.335 in three runs; rates of the same build \
         swinging by a third between runs), so the two-stage writer above stays. The closed \
         loop at 64 clients is bound by the latency of the chain as much as by CPU: with wrk \
         (a C client) against one server, 256 connections gave 15–50 % more reports a second \
         than 64. Stop 16 (2026-12-07): the sync commit writes a logical-decoding message \
         (`pg_logical_emit_message`) instead of updating a row of `intake_flush` (pgbench, one \
         client, synchronous commits: 2,700–2,970 a second against 2,460–2,490), and the \
         bench's client builds a report's body from a typed struct with one reused \
         Authorization header instead of a serde_json tree and a header formatted per request. \
         Side by side (PostgreSQL only, 3 rounds of 8 s, builds alternating, three times two \
         runs, 18 rounds each), medians of the rounds' ratios: JSON API 0.352 against 0.295, \
         Open311 0.342 against 0.305; the rounds' ratios spread 0.26–0.43 and 0.24–0.37. The \
         server's change alone (6 rounds) gave 0.300 / 0.298 against 0.316 / 0.299 in the \
         same runs: the machine's noise is as large as either change, so which of the two \
         moved the ratio is not known. Tried and dropped: a generic plan forced on the \
         writer's connection (its backend's CPU a report unchanged, 31–32 µs), the request \
         threads at a lower priority than PostgreSQL's (fewer reports a second).\n"
    );
}

fn fanout(r: &Report, w: &mut String) {
    let done: Vec<_> = r
        .fanout
        .iter()
        .filter_map(|f| Some((&f.label, f.result.as_ref().ok()?)))
        .collect();
    if done.is_empty() {
        return;
    }
    let _ = writeln!(w, "**Fan-out.**");
    for (label, f) in &done {
        let last = f.p(true, 100.0);
        let servers = f.med(|x| x.servers_cpu);
        let _ = writeln!(
            w,
            "With {label}, the last listener had a warning {:.0} ms after its POST began \
             (median of {} publications); from the POST until every listener had it, the \
             servers used {:.2} CPU seconds ({:.0} µs per listener), the listener workers {:.2} \
             and the whole machine {:.2} (medians). Server memory grew by {:.1} KiB per listener.",
            last,
            f.publications.len(),
            servers,
            servers / f.connected.max(1) as f64 * 1e6,
            f.med(|x| x.workers_cpu),
            f.med(|x| x.machine_cpu),
            f.kib_per_listener(),
        );
    }
    let _ = writeln!(
        w,
        "\nEvery listener gets the one event at the same moment and the cores serve them one \
         after another, so the latencies spread evenly from the first arrival to the last and \
         p99 is close to the maximum: the p99 grows with listeners per core. Per listener the \
         server wakes the connection's task, checks the audience, writes one chunk holding \
         the event's JSON text (rendered once per publication and shared by every listener \
         it reaches), and the kernel carries it over loopback TCP; here the listeners' own \
         processes compete for the same two cores, which a real deployment's clients would \
         not. With several nodes the other nodes hear of the warning through PostgreSQL \
         NOTIFY and read it from the database before they broadcast, which adds one round \
         trip before their listeners start.\n"
    );
    let _ = writeln!(
        w,
        "The memory per listener is the server's VmRSS growth divided by the listeners, so it \
         holds everything a connection keeps while it waits: the task, the socket, the event \
         stream with its keep-alive timer and broadcast receiver, and what the allocator \
         keeps around them. A connection whose first request is the warnings stream is served \
         on the lean path (`src/http/lean.rs`): its request head is read into a buffer freed \
         once parsed, and no hyper connection (8 KiB read buffer and 8 KiB header buffer) \
         stays behind it. On \
         PostgreSQL nodes the growth also holds the connections each node's pool opened while \
         the listeners subscribed (one read per subscription).\n"
    );
    if r.requested_listeners > r.node_capacity {
        let _ = writeln!(
            w,
            "One node could not take {} listeners here (nor the larger try's count): every connection is an open file, and \
             a process on this machine may have {} (the hard limit; even root may not raise \
             it: `ulimit -Hn` refuses). The single-node figures are for {} listeners, the most \
             that fit beside the server's own files; the larger counts ran on several nodes \
             sharing one PostgreSQL database, which is how the service scales past one process. \
             A node with a higher limit (systemd `LimitNOFILE=`) would hold more, at the memory \
             and per-listener CPU measured here.\n",
            int(r.requested_listeners as f64),
            int(r.machine.nofile_hard as f64),
            int(r.node_capacity as f64),
        );
    }
}

fn not_measured(r: &Report, w: &mut String) {
    let _ = writeln!(w, "**Not measured.**");
    let mut items = Vec::new();
    if !r.intake.iter().flatten().any(|x| x.has_open311()) {
        items.push(match r.open311 {
            Some(false) => {
                "Open311 intake (no `POST /open311/v2/requests.json` in this build)".to_string()
            }
            _ => "Open311 intake".to_string(),
        });
    }
    items.extend([
        "anonymous reports (captcha and the per-address limit), reports with photos, and \
         intake at other concurrencies than the one given"
            .to_string(),
        "TLS, a real network between clients and server, and clients on other machines: \
         everything here is loopback on one two-core machine, clients included"
            .to_string(),
        "browsers' EventSource (reconnects with Last-Event-ID, slow readers, listeners \
         logged in with their own audience), listeners of many wards at once, and a second \
         warning while the first is being delivered"
            .to_string(),
        "how long many listeners take to connect is printed in the details but has no target"
            .to_string(),
    ]);
    if r.pg.is_err() {
        items.push(format!(
            "PostgreSQL: {}",
            r.pg.as_ref().err().map_or("", String::as_str)
        ));
    }
    for i in items {
        let _ = writeln!(w, "- {i}");
    }
    let _ = writeln!(
        w,
        "\nOther work on the machine (builds, test suites) shares the two cores; the load \
         average above says how busy it was, and the ratios, taken within each round, are \
         steadier than the rates."
    );
}
