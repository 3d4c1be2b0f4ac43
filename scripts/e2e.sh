#!/usr/bin/env bash
# Browser test: build wardwatch, start it with demo data on a free port and a
# fresh data dir (web push on, with a VAPID key made for the run), wait for
# /readyz, run e2e/ward_overview.mjs, then e2e/report_warning.mjs and
# e2e/duty_checkin.mjs against it in Debian's Chromium, then
# e2e/webpush_interop.mjs (a warning pushed to the npm package web-push-testing,
# a real push service on localhost, which must decrypt it), stop the server,
# exit non-zero if any test failed.
#
# Needs: cargo, node + npm, /usr/bin/chromium (apt-get install -y chromium).
# Env:   WARDWATCH_BIN   use this binary instead of building one
#        WARDWATCH_E2E_PORT  listen on this port instead of a free one
#        CHROMIUM_PATH   another Chromium than /usr/bin/chromium
#        READY_TIMEOUT   seconds to wait for /readyz (default 120)
# On failure the tests leave screenshots, the push service's output and the
# server log in e2e/artifacts/.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
ready_timeout=${READY_TIMEOUT:-120}

say() { echo "e2e: $*"; }
die() { echo "e2e: ERROR: $*" >&2; exit 2; }

command -v node >/dev/null || die "node is missing (apt-get install -y nodejs npm)"
[[ -x ${CHROMIUM_PATH:-/usr/bin/chromium} ]] || die "Chromium is missing at ${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install -y chromium)"

if [[ ! -d e2e/node_modules/playwright-core || ! -d e2e/node_modules/web-push-testing ]]; then
  command -v npm >/dev/null || die "npm is missing (apt-get install -y npm)"
  say "installing e2e/node_modules (npm ci)"
  (cd e2e && npm ci --no-audit --no-fund)
fi

if [[ -n ${WARDWATCH_BIN:-} ]]; then
  bin=$WARDWATCH_BIN
else
  say "building (cargo build --bin wardwatch)"
  cargo build --bin wardwatch
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/wardwatch"
fi
[[ -x $bin ]] || die "no wardwatch binary at $bin"

if [[ -n ${WARDWATCH_E2E_PORT:-} ]]; then
  port=$WARDWATCH_E2E_PORT
else
  port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
fi

tmpdir=$(mktemp -d -t wardwatch-e2e.XXXXXX)
log="$tmpdir/server.log"
server_pid=
status=1

# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  if [[ -n $server_pid ]]; then
    # the server's process group: the server and anything it started
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $status -ne 0 && -f $log ]]; then
    mkdir -p "$root/e2e/artifacts"
    cp "$log" "$root/e2e/artifacts/server.log"
    echo "e2e: last lines of the server log (all of it in e2e/artifacts/server.log):" >&2
    tail -n 40 "$log" >&2 || true
  fi
  rm -rf "$tmpdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# HTTP status of GET http://127.0.0.1:$port$1, or 000 when nothing answers.
http_status() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n" "$2" "$1" >&3
    IFS=" " read -r _ code _ <&3 && echo "$code"
  ' _ "$port" "$1" 2>/dev/null || echo 000
}

# Web push on, for e2e/webpush_interop.mjs: the private key is the raw P-256
# scalar in base64url, which is a JWK's "d".
vapid_key=$(node -e 'const {privateKey} = require("crypto").generateKeyPairSync("ec", {namedCurve: "P-256"}); console.log(privateKey.export({format: "jwk"}).d)')

say "starting $bin --data $tmpdir serve --listen 127.0.0.1:$port --demo (web push on)"
# In its own process group (setsid), so that stopping it also stops anything it started.
WARDWATCH_VAPID_PRIVATE_KEY=$vapid_key WARDWATCH_VAPID_SUBJECT=mailto:e2e@wardwatch.invalid \
  setsid "$bin" --data "$tmpdir" serve --listen "127.0.0.1:$port" --demo >"$log" 2>&1 </dev/null &
server_pid=$!

deadline=$((SECONDS + ready_timeout))
until [[ $(http_status /readyz) == 200 ]]; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    wait "$server_pid" && rc=0 || rc=$?
    echo "e2e: ERROR: the server exited (status $rc) before /readyz answered 200" >&2
    status=2
    exit 2
  fi
  if ((SECONDS >= deadline)); then
    echo "e2e: ERROR: GET /readyz did not answer 200 within ${ready_timeout} s (last: $(http_status /readyz))" >&2
    status=2
    exit 2
  fi
  sleep 0.5
done
say "server ready on 127.0.0.1:$port (${SECONDS} s since start)"

# Each test runs even when an earlier one failed; the worst exit status wins
# (1: a step failed, 2: a test could not run).
# WARDWATCH_BIN/WARDWATCH_DATA: report_warning.mjs answers the report form's
# captcha with `$WARDWATCH_BIN --data $WARDWATCH_DATA captcha-answer TOKEN`.
failed=()
worst=0
for test in ward_overview report_warning duty_checkin webpush_interop; do
  say "running e2e/$test.mjs"
  set +e
  WARDWATCH_URL="http://127.0.0.1:$port" WARDWATCH_BIN="$bin" WARDWATCH_DATA="$tmpdir" node "e2e/$test.mjs"
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    failed+=("$test (exit $rc)")
    if ((rc > worst)); then worst=$rc; fi
  fi
done
status=$worst
if [[ $status -eq 0 ]]; then say "browser tests passed"; else echo "e2e: browser tests FAILED: ${failed[*]}" >&2; fi
exit "$status"
