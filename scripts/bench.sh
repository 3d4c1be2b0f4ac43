#!/usr/bin/env bash
# THE benchmark command of wardwatch: builds the release server and runs the `load` bench
# (benches/load/), which measures and then rewrites BENCHMARKS.md.
#
#   scripts/bench.sh                         everything, defaults below (~8 minutes)
#   BENCH_SKIP_PG=1 BENCH_LISTENERS_LARGE=0 scripts/bench.sh      a quicker run
#
# What it measures (targets in BENCHMARKS.md):
#   1. Intake: POST /api/v1/reports (durable, as a logged-in resident) and, when the
#      build has it, Open311 POST /open311/v2/requests.json (with an API key), against
#      GET /healthz on the same server, same client, same concurrency, in alternating
#      rounds; on SQLite and on PostgreSQL (a fresh wwbench_* database, dropped after).
#   2. Fan-out: idle live listeners of one ward (SSE); warnings are published one at a
#      time and their arrival at every listener is timed; server memory per listener. One
#      node holds at most the open-file limit less 100 listeners; a larger count is spread
#      over several nodes sharing a PostgreSQL database (skipped when that server has too
#      few connections free: they are shared with everyone's tests).
# Servers are target/release/wardwatch in their own processes; listeners live in worker
# processes of the bench. Everything is on loopback and stops by itself.
#
# Settings (environment):
#   BENCH_SECS=10               length of one phase (a round = one phase of each kind of request)
#   BENCH_ROUNDS=5              rounds per engine (the ratio is the median of the rounds' ratios)
#   BENCH_CONCURRENCY=64        concurrent clients for intake and health check
#   BENCH_LISTENERS=30000       live listeners (0 skips)
#   BENCH_LISTENERS_LARGE=100000  a larger fan-out try (0 skips)
#   BENCH_PUBLICATIONS=5        warnings published, one after another, to the same listeners
#   BENCH_SKIP_PG=1             no PostgreSQL (intake on SQLite only, fan-out on one node only)
#   BENCH_SKIP_SQLITE=1         no intake on SQLite (PostgreSQL's intake only; fan-out unchanged)
#   BENCH_SKIP_INTAKE=1, BENCH_SKIP_FANOUT=1
#   TEST_DATABASE_URL           PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_OUT=BENCHMARKS.md     where the figures go
#   BENCH_PER_WORKER=10000      listeners per worker process
#   BENCH_PER_IP=10000          listeners per loopback source address (127.0.0.2, .3, …)
#   BENCH_CONNECT_PARALLEL=16   connection attempts in flight per worker
#   BENCH_PG_IN_FLIGHT=4        on PostgreSQL, attempts in flight per node (each node's pool
#                               grows with them; the server's connections are shared)
#   BENCH_NODE_CAPACITY         listeners per node (default: the open-file limit less 100)
#   BENCH_RUST_LOG=wardwatch=warn  the servers' log filter (their logs are in target/bench/;
#                               wardwatch::reports::intake=debug logs every intake commit)
# Measure on a quiet machine: the bench reports the load average it saw.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Servers and listener workers each hold up to tens of thousands of sockets.
hard=$(ulimit -Hn)
ulimit -n "$hard"
echo "==> open files per process: $(ulimit -n) (hard limit $hard)"
echo "==> load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> building the release server"
cargo build --release --bin wardwatch

echo "==> running the load bench"
BENCH_COMMAND=${BENCH_COMMAND:-scripts/bench.sh} cargo bench --bench load
