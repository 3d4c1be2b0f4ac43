#!/usr/bin/env bash
# Duty roster benchmark: a month of Dư Hàng Kênh in memory, a city of 100 wards, and
# one ward end to end on SQLite. Writes its section of BENCHMARKS.md (between the
# roster markers) and prints the figures.
#
#   scripts/bench-roster.sh            BENCH_RUNS=N for more runs of the one-ward case
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --bench roster
