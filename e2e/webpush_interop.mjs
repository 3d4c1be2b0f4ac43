// Interoperability test of wardwatch's web push against a push service that is not
// wardwatch's own code: the npm package web-push-testing, run on localhost. It accepts
// only pushes whose VAPID token (RFC 8292, ES256) verifies against the key the
// subscription was made with, decrypts the aes128gcm payload (RFC 8291, RFC 8188) with
// the subscription's private key and keeps the plaintext for the test to read back.
//
//   WARDWATCH_URL=http://127.0.0.1:8080 node e2e/webpush_interop.mjs
//
// Normally run by scripts/e2e.sh, against the server it starts with --demo and with
// WARDWATCH_VAPID_PRIVATE_KEY and WARDWATCH_VAPID_SUBJECT set. No browser: a browser's
// subscription lives at its vendor's push service, so the subscription comes from
// web-push-testing instead and is registered with wardwatch exactly as static/push.js
// registers `subscription.toJSON()`. The steps: the push service subscribes with
// wardwatch's VAPID key; an anonymous resident registers that subscription for the
// ward's warnings; the ward's officer publishes a warning through the JSON API; the
// push service must hold the decrypted warning (title, text, link; Vietnamese intact)
// and wardwatch must record the delivery as sent; then the push service expires the
// subscription, the officer cancels the warning, and wardwatch must record the 410 as a
// failure without retrying and drop the subscription.
//
// The push service runs as a child process on a free port (its own server script, the
// one `web-push-testing start` would start detached) and is stopped however the test
// ends. Prints one line per step and a closing "N passed, N failed" line; exits 0 when
// every step passed, 1 when a step failed, 2 when the test could not run. On a failure
// the push service's output is saved to e2e/artifacts/.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const NAME = 'webpush_interop';

const WARD = 'du-hang-kenh';
const USERNAME = 'dhk.congan';
const PASSWORD = 'demo-wardwatch';
const CALL_TIMEOUT_MS = 10_000; // one HTTP call
const PUSH_TIMEOUT_MS = 20_000; // a publication must reach the push service within this
const WATCHDOG_MS = 3 * 60_000; // the whole run

// Unique per run; composed (NFC) Vietnamese, as typed on a phone.
const SUFFIX = `e2e-${Date.now().toString(36)}`;
const TITLE = `Ngập sâu ở phố Chợ Hàng — không đi xe máy qua (${SUFFIX})`;
const BODY = 'Nước ngập quá đầu gối từ ngã tư Chợ Hàng đến cầu Niệm. Người già và trẻ nhỏ ở yên trong nhà.';
const INSTRUCTION = 'Đi vòng đường Nguyễn Văn Linh; gọi 113 khi cần giúp đỡ.';

// ---------------------------------------------------------------------------

function usage(msg) {
  console.error(`${NAME}: ${msg}`);
  process.exit(2);
}

const rawBase = process.env.WARDWATCH_URL;
if (!rawBase) usage('set WARDWATCH_URL to the base URL of a running wardwatch, e.g. WARDWATCH_URL=http://127.0.0.1:8080 (scripts/e2e.sh does it for you)');
let base;
try {
  base = new URL(rawBase);
} catch {
  usage(`WARDWATCH_URL is not a URL: ${JSON.stringify(rawBase)}`);
}
if (!/^https?:$/.test(base.protocol)) usage(`WARDWATCH_URL must be http(s): ${rawBase}`);
const origin = base.origin;
const url = (path) => new URL(path, base).href;

let pushServerScript;
try {
  // The package's entry point for `web-push-testing start`; `main` names no file.
  const pkg = createRequire(import.meta.url).resolve('web-push-testing/package.json');
  pushServerScript = join(dirname(pkg), 'src', 'bin', 'server.js');
} catch {
  usage('the npm package web-push-testing is missing: run `npm ci` in e2e/');
}
if (!existsSync(pushServerScript)) usage(`web-push-testing has no ${pushServerScript}: is e2e/package-lock.json's version installed (npm ci in e2e/)?`);

/** wardwatch or the push service did not answer at all: no point running further steps. */
class Unreachable extends Error {}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the push service --------------------------------------------------------

const push = { child: null, port: 0, output: '' };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts web-push-testing on a free port; answers once it says it listens. */
async function startPushService() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, [pushServerScript, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    push.child = child;
    push.port = port;
    push.output += `--- node ${relative(process.cwd(), pushServerScript)} ${port}\n`;
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 15_000);
      const done = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      child.stdout.on('data', (d) => {
        push.output += d;
        if (push.output.includes(`Server running on port ${port}`)) done(true);
      });
      child.stderr.on('data', (d) => {
        push.output += d;
      });
      child.on('exit', (code, signal) => {
        push.output += `--- exited (${signal ?? `status ${code}`})\n`;
        done(false);
      });
      child.on('error', (e) => {
        push.output += `--- could not start: ${e.message}\n`;
        done(false);
      });
    });
    if (ready) return;
    await stopPushService();
    // Another process may have taken the port between freePort() and the listen.
    if (attempt === 3) {
      throw new Error(`web-push-testing did not start (3 attempts); its output:\n${push.output.trim()}`);
    }
  }
}

async function stopPushService() {
  const child = push.child;
  push.child = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

// Whatever ends this process, the push service ends with it.
process.on('exit', () => {
  if (push.child && push.child.exitCode === null && push.child.signalCode === null) push.child.kill('SIGKILL');
});
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    console.error(`${NAME}: stopped by ${signal}`);
    process.exit(code);
  });
}

const pushUrl = (path) => `http://localhost:${push.port}${path}`;

// ---- HTTP --------------------------------------------------------------------

/** One JSON call; answers { status, json, text }. */
async function call(method, target, { token, body } = {}) {
  let res;
  try {
    res = await fetch(target, {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
  } catch (e) {
    const why = e.cause?.code || e.cause?.message || e.message;
    throw new Unreachable(`${method} ${target} got no answer (${why})`);
  }
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: the text says why
  }
  return { status: res.status, json, text };
}

/** Fails unless the call answered `status`, quoting what it answered. */
function expectStatus(r, status, what) {
  assert.equal(r.status, status, `${what} answered HTTP ${r.status}, expected ${status}: ${r.text.slice(0, 500) || '(empty body)'}`);
  return r.json;
}

/**
 * Poll fn until it returns truthy, `giveUp()` holds or time runs out; returns fn's
 * last value.
 */
async function poll(fn, timeoutMs, giveUp = () => false) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (last || giveUp() || Date.now() >= end) return last;
    await sleep(200);
  }
}

// ---- steps -------------------------------------------------------------------

const results = []; // { n, title, ok, skipped }
let unreachable = false;

/** Runs step n unless a step it needs (by number) did not pass. */
async function step(n, title, fn, { needs = [] } = {}) {
  const missing = needs.filter((k) => !results.some((r) => r.n === k && r.ok));
  if (unreachable || missing.length) {
    results.push({ n, title, skipped: true });
    console.log(`SKIP ${n}. ${title} (${unreachable ? 'a server did not answer' : `needs step ${missing.join(', ')}`})`);
    return;
  }
  const started = Date.now();
  try {
    const note = await fn();
    results.push({ n, title, ok: true });
    console.log(`ok   ${n}. ${title} (${Date.now() - started} ms)${note ? `\n     ${note}` : ''}`);
  } catch (e) {
    if (e instanceof Unreachable) unreachable = true;
    results.push({ n, title, ok: false });
    const msg = e instanceof assert.AssertionError || e instanceof Unreachable ? e.message : e.stack || String(e);
    console.log(`FAIL ${n}. ${title}\n    ${msg.split('\n').join('\n    ')}`);
  }
}

async function main() {
  const watchdog = setTimeout(() => {
    console.error(`${NAME}: FAILED: the whole test took longer than ${WATCHDOG_MS / 1000} s; giving up`);
    process.exit(1); // the exit handler stops the push service
  }, WATCHDOG_MS);
  watchdog.unref();

  try {
    await startPushService();
  } catch (e) {
    console.error(`${NAME}: ${e.message}`);
    return 2;
  }
  console.log(`${NAME}: web-push-testing (pid ${push.child.pid}) on port ${push.port}, against ${origin} (run ${SUFFIX})`);

  let vapidKey = '';
  let subscription = null; // what web-push-testing answered: the browser's toJSON() plus clientHash
  let subscriptionId = 0; // wardwatch's
  let token = '';
  let warningId = 0;

  /** What wardwatch records of warning `id`'s deliveries to our subscription (as the officer). */
  async function deliveries(id) {
    const r = await call('GET', url(`/api/v1/warnings/${id}/deliveries`), { token });
    const list = expectStatus(r, 200, `GET /api/v1/warnings/${id}/deliveries`);
    return list.filter((d) => d.subscription_id === subscriptionId);
  }

  /**
   * The delivery of warning `id` (of event `eventId`, or any) to our subscription once
   * `done(delivery)` holds; null when that did not happen in time.
   */
  async function deliveryTo(id, eventId, done) {
    let last = null;
    const found = await poll(async () => {
      last = (await deliveries(id)).find((d) => eventId === null || d.event_id === eventId) ?? null;
      return last && done(last) ? last : null;
    }, PUSH_TIMEOUT_MS);
    if (!found && last) console.log(`     (the delivery is still ${JSON.stringify(last)})`);
    return found;
  }

  // 1. ------------------------------------------------------------------------
  await step(1, 'wardwatch offers its VAPID public key at GET /api/v1/push/key', async () => {
    const r = await call('GET', url('/api/v1/push/key'));
    const json = expectStatus(r, 200, 'GET /api/v1/push/key');
    assert.ok(
      json?.key,
      `GET /api/v1/push/key answered ${r.text}: web push is not configured on the server; ` +
        'start it with WARDWATCH_VAPID_PRIVATE_KEY and WARDWATCH_VAPID_SUBJECT (scripts/e2e.sh does)',
    );
    const raw = Buffer.from(json.key, 'base64url');
    assert.ok(raw.length === 65 && raw[0] === 4, `the key is not an uncompressed P-256 point in base64url: ${json.key}`);
    vapidKey = json.key;
    return `key ${vapidKey.slice(0, 12)}…`;
  });

  // 2. ------------------------------------------------------------------------
  await step(2, 'web-push-testing makes a push subscription for that key (as pushManager.subscribe would)', async () => {
    const r = await call('POST', pushUrl('/subscribe'), { body: { applicationServerKey: vapidKey } });
    const json = expectStatus(r, 200, 'web-push-testing POST /subscribe');
    const sub = json?.data;
    assert.ok(sub?.endpoint && sub?.keys?.p256dh && sub?.keys?.auth && sub?.clientHash, `web-push-testing answered no subscription: ${r.text}`);
    assert.ok(sub.endpoint.startsWith(pushUrl('/notify/')), `the endpoint ${sub.endpoint} is not on ${pushUrl('/notify/')}`);
    subscription = sub;
    return `endpoint ${sub.endpoint}`;
  }, { needs: [1] });

  // 3. ------------------------------------------------------------------------
  await step(3, `an anonymous resident registers it for ${WARD}'s warnings (POST /api/v1/subscriptions, as static/push.js does)`, async () => {
    const { endpoint, keys } = subscription; // toJSON() has no clientHash
    const r = await call('POST', url('/api/v1/subscriptions'), {
      body: { ward: WARD, channel: 'webpush', subscription: { endpoint, expirationTime: null, keys } },
    });
    const json = expectStatus(r, 201, 'POST /api/v1/subscriptions (a plain-http endpoint on localhost must be accepted)');
    assert.ok(Number.isInteger(json?.id), `POST /api/v1/subscriptions answered no id: ${r.text}`);
    subscriptionId = json.id;
    return `subscription ${subscriptionId}`;
  }, { needs: [2] });

  // 4. ------------------------------------------------------------------------
  await step(4, `officer ${USERNAME} publishes a Met/Severe/Immediate warning to ${WARD} (POST /api/v1/warnings)`, async () => {
    const login = await call('POST', url('/api/v1/session'), { body: { username: USERNAME, password: PASSWORD } });
    token = expectStatus(login, 200, `logging in as ${USERNAME} (POST /api/v1/session)`)?.token;
    assert.ok(token, `POST /api/v1/session answered no token: ${login.text}`);
    const r = await call('POST', url('/api/v1/warnings'), {
      token,
      body: { ward: WARD, category: 'Met', severity: 'Severe', urgency: 'Immediate', title: TITLE, body: BODY, instruction: INSTRUCTION },
    });
    const json = expectStatus(r, 201, 'POST /api/v1/warnings');
    warningId = json.id;
    return `warning ${warningId} (event ${json.event_id})`;
  }, { needs: [3] });

  // 5. ------------------------------------------------------------------------
  await step(5, `web-push-testing accepts the push (VAPID verified) and decrypts it to the warning within ${PUSH_TIMEOUT_MS / 1000} s, Vietnamese intact`, async () => {
    const messages = async () => {
      const r = await call('POST', pushUrl('/get-notifications'), { body: { clientHash: subscription.clientHash } });
      return expectStatus(r, 200, 'web-push-testing POST /get-notifications')?.data?.messages ?? [];
    };
    // Stops early when wardwatch already recorded the push as refused.
    let refused = null;
    const got = await poll(async () => {
      const m = await messages();
      if (m.length) return m;
      refused = (await deliveries(warningId)).find((d) => d.status === 'failed') ?? null;
      return null;
    }, PUSH_TIMEOUT_MS, () => refused);
    assert.ok(!refused, `the push service refused wardwatch's push: ${refused?.last_error}`);
    assert.ok(got, `web-push-testing received no notification for the subscription within ${PUSH_TIMEOUT_MS / 1000} s`);
    assert.equal(got.length, 1, `web-push-testing holds ${got.length} notifications, expected 1: ${JSON.stringify(got)}`);
    let payload;
    try {
      payload = JSON.parse(got[0]);
    } catch {
      assert.fail(`the decrypted notification is not JSON: ${JSON.stringify(got[0])}`);
    }
    assert.deepEqual(
      payload,
      { title: TITLE, body: `${BODY}\n${INSTRUCTION}`, url: url(`/warnings/${warningId}`) },
      'the decrypted notification is not the warning as the service worker (static/sw.js) expects it',
    );
    return `decrypted: ${got[0]}`;
  }, { needs: [4] });

  // 6. ------------------------------------------------------------------------
  await step(6, `wardwatch records the delivery to subscription ${subscriptionId || '…'} as sent at the first attempt (GET /api/v1/warnings/ID/deliveries)`, async () => {
    const mine = await deliveryTo(warningId, null, (d) => d.status !== 'pending' && d.status !== 'sending');
    assert.ok(mine, `no delivery to subscription ${subscriptionId} left "pending" within ${PUSH_TIMEOUT_MS / 1000} s`);
    assert.equal(mine.status, 'sent', `the delivery is "${mine.status}", not "sent"; last error: ${mine.last_error || '(none)'}`);
    assert.equal(mine.channel, 'webpush');
    assert.equal(mine.recipient, subscription.endpoint, 'the delivery names another recipient than the endpoint');
    assert.equal(mine.attempts, 1, `the delivery took ${mine.attempts} attempts; last error: ${mine.last_error}`);
    return `delivery ${mine.id}: ${mine.status}, ${mine.attempts} attempt`;
  }, { needs: [4] });

  // 7. ------------------------------------------------------------------------
  await step(7, 'after web-push-testing expires the subscription, cancelling the warning fails with 410 once and wardwatch drops the subscription', async () => {
    const expire = await call('POST', pushUrl(`/expire-subscription/${subscription.clientHash}`));
    expectStatus(expire, 200, 'web-push-testing POST /expire-subscription');
    const r = await call('POST', url(`/api/v1/warnings/${warningId}/cancel`), { token });
    const cancel = expectStatus(r, 200, `POST /api/v1/warnings/${warningId}/cancel`);
    const mine = await deliveryTo(warningId, cancel.event_id, (d) => d.status === 'failed' || d.status === 'sent');
    assert.ok(mine, `no delivery of the cancellation (event ${cancel.event_id}) to subscription ${subscriptionId} ended within ${PUSH_TIMEOUT_MS / 1000} s`);
    assert.equal(mine.status, 'failed', `the cancellation's delivery to an expired subscription is "${mine.status}", not "failed"`);
    assert.match(mine.last_error, /410/, `the failure does not name HTTP 410: ${mine.last_error}`);
    assert.equal(mine.attempts, 1, `a gone subscription was tried ${mine.attempts} times; 410 is permanent`);
    // Already revoked by wardwatch, so there is nothing left to unsubscribe.
    const del = await call('DELETE', url('/api/v1/subscriptions'), { body: { channel: 'webpush', address: subscription.endpoint } });
    assert.equal(del.status, 404, `unsubscribing the expired endpoint answered HTTP ${del.status}, expected 404 (wardwatch should have revoked it on the 410): ${del.text}`);
    return `delivery ${mine.id}: failed after ${mine.attempts} attempt (${mine.last_error}); subscription revoked`;
  }, { needs: [5, 6] });

  const passed = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => r.ok === false).length;
  const skipped = results.filter((r) => r.skipped).length;
  console.log(`${NAME}: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (unreachable) return 2;
  return failed || skipped ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`${NAME}: FAILED: ${e.stack || e}`);
  code = 1;
} finally {
  await stopPushService();
}
if (code !== 0) {
  try {
    mkdirSync(artifacts, { recursive: true });
    const log = join(artifacts, `${NAME}-push-service.log`);
    writeFileSync(log, push.output);
    console.error(`${NAME}: web-push-testing's output is in ${relative(process.cwd(), log)}`);
  } catch (e) {
    console.error(`${NAME}: could not save web-push-testing's output: ${e.message}`);
  }
  console.error(`${NAME}: FAILED (exit ${code})`);
}
process.exit(code);
