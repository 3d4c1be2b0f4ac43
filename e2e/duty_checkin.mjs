// Browser test of duty in the field: a veteran of Dư Hàng Kênh, on a phone, sees next
// Sunday's Chợ Hàng duty on "My duties", checks in to the duty under way at the market
// gate (the phone's position is sent), and the team leader's page of that duty shows
// the check-in with its distance.
//
//   WARDWATCH_URL=http://127.0.0.1:8080 node e2e/duty_checkin.mjs
//
// Normally run by scripts/e2e.sh against a server started with --demo. The set-up
// (a duty under way now, the veteran on it and on next Sunday's session) goes through
// the JSON API as the ward's officer. Conventions as in the other e2e tests: Debian's
// Chromium driven by playwright-core, other origins blocked, one line per step, a
// closing "N passed, N failed" line; exit 0 when every step passed, 1 when one failed,
// 2 when the test could not run. A failure saves a screenshot and the page's HTML to
// e2e/artifacts/.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const NAME = 'duty_checkin';
const WARD = 'du-hang-kenh';
const PASSWORD = 'demo-wardwatch';
const VETERAN = 'dhk.cuuchienbinh';
const OFFICER = 'dhk.congan';
const LEADER = 'dhk.totruong1';
const MARKET = 'Phân luồng giao thông phiên chợ Hàng';
const NOW_DUTY = `Trực tăng cường cổng chợ (e2e-${Date.now().toString(36)})`;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PHONE = { width: 360, height: 740 };

const rawBase = process.env.WARDWATCH_URL;
if (!rawBase) {
  console.error(`${NAME}: set WARDWATCH_URL (scripts/e2e.sh does it for you)`);
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  console.error(`${NAME}: Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  process.exit(2);
}
const base = new URL(rawBase);
const origin = base.origin;
const url = (p) => new URL(p, base).href;
const norm = (s) => (s ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
const pad = (n) => String(n).padStart(2, '0');

// Vietnam time: UTC+7 all year.
function vn(date = new Date()) {
  const d = new Date(date.getTime() + 7 * 3600_000);
  return {
    date: `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`,
    month: `${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`,
  };
}

async function api(method, path, token, body) {
  const res = await fetch(url(path), {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

async function login(username) {
  const r = await api('POST', '/api/v1/session', null, { username, password: PASSWORD });
  assert.equal(r.status, 200, `API login ${username}: ${r.text}`);
  return r.json.token;
}

const results = [];
let browser;
let page;

async function step(n, title, fn) {
  try {
    await fn();
    results.push({ n, ok: true });
    console.log(`ok ${n} - ${title}`);
  } catch (e) {
    results.push({ n, ok: false });
    console.log(`not ok ${n} - ${title}\n  ${String(e.message).split('\n').join('\n  ')}`);
    if (page) {
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: join(artifacts, `${NAME}-${n}.png`), fullPage: true }).catch(() => {});
      writeFileSync(join(artifacts, `${NAME}-${n}.html`), await page.content().catch(() => ''));
    }
  }
}

async function openPage(path) {
  const resp = await page.goto(url(path), { waitUntil: 'load' });
  assert.equal(resp?.status(), 200, `GET ${path} answered HTTP ${resp?.status()}`);
}

async function loginPage(username) {
  await openPage('/login');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(PASSWORD);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator('button[type=submit]').click()]);
  const who = norm(await page.locator('#account').textContent());
  assert.ok(who.includes(username), `not logged in as ${username}: ${who}`);
}

const watchdog = setTimeout(() => {
  console.error(`${NAME}: FAILED: took longer than 3 minutes`);
  process.exit(1);
}, 180_000);
watchdog.unref();

let gate;
let nowShift;
let sunday;

try {
  // -- set-up through the API ------------------------------------------------------
  const officer = await login(OFFICER);
  const veteran = await login(VETERAN);
  const me = (await api('GET', '/api/v1/me', veteran)).json;
  assert.ok(me?.person_id, `${VETERAN} is linked to a person`);
  const forces = (await api('GET', `/api/v1/wards/${WARD}/forces`, officer)).json;
  const veterans = forces.find((f) => f.kind === 'veterans');
  const places = (await api('GET', `/api/v1/duty/places?ward=${WARD}`, officer)).json;
  gate = places.find((p) => p.name === 'Cổng chợ Hàng');
  assert.ok(veterans && gate, 'the demo has the veterans and the market gate');

  // Next Sunday's market session, with the veteran on it.
  const now = new Date();
  const months = [vn(now).month, vn(new Date(now.getTime() + 8 * 86400_000)).month];
  const roster = [];
  for (const m of new Set(months)) {
    const r = await api('GET', `/api/v1/duty/roster?ward=${WARD}&month=${m}`, officer);
    assert.equal(r.status, 200, r.text);
    roster.push(...r.json);
  }
  sunday = roster
    .filter((s) => s.kind === 'market_session' && new Date(s.starts_at) > now)
    .sort((a, b) => a.starts_at.localeCompare(b.starts_at))[0];
  assert.ok(sunday, 'a coming Sunday market session in the roster');
  if (!sunday.people.some((p) => p.person_id === me.person_id)) {
    const r = await api('POST', `/api/v1/duty/shifts/${sunday.id}/assign`, officer, {
      person: me.person_id, accept_conflicts: true, note: 'e2e: thêm người',
    });
    assert.equal(r.status, 201, `assigning to the Sunday session: ${r.text}`);
  }

  // A duty under way now at the gate, with the veteran on it.
  const start = vn(new Date(now.getTime() - 5 * 60_000)); // not late: 15 minutes are allowed
  const end = vn(new Date(now.getTime() + 2 * 3600_000));
  let r = await api('POST', '/api/v1/duty/templates', officer, {
    ward: WARD, kind: 'traffic_post', title: NOW_DUTY, place: String(gate.id),
    force: `partner:${veterans.id}`, needed: '1', start_time: start.time, end_time: end.time,
    starts_on: start.date, rule: '',
  });
  assert.equal(r.status, 201, `creating the duty under way: ${r.text}`);
  r = await api('POST', '/api/v1/duty/roster/build', officer, { ward: WARD, month: start.month, accept_open: true });
  assert.equal(r.status, 200, `building the roster: ${r.text}`);
  r = await api('GET', `/api/v1/duty/roster?ward=${WARD}&month=${start.month}`, officer);
  nowShift = r.json.find((s) => s.title === NOW_DUTY);
  assert.ok(nowShift, 'the duty under way is in the roster');
  for (const p of nowShift.people) {
    if (p.person_id !== me.person_id) await api('DELETE', `/api/v1/duty/assignments/${p.assignment_id}`, officer);
  }
  if (!nowShift.people.some((p) => p.person_id === me.person_id)) {
    r = await api('POST', `/api/v1/duty/shifts/${nowShift.id}/assign`, officer, { person: me.person_id });
    assert.equal(r.status, 201, `assigning the veteran now: ${r.text}`);
  }
} catch (e) {
  console.error(`${NAME}: could not set up: ${e.message}`);
  process.exit(2);
}

try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const stop = gate.stops[0];
  const phone = await browser.newContext({
    viewport: PHONE, screen: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
    locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh',
    // 20 m north of the gate.
    geolocation: { latitude: stop.lat + 0.00018, longitude: stop.lon, accuracy: 10 },
    permissions: ['geolocation'],
  });
  await phone.route('**/*', (route) => (new URL(route.request().url()).origin === origin || route.request().url().startsWith('data:')
    ? route.continue() : route.abort('blockedbyclient')));
  page = await phone.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await step(1, `${VETERAN} logs in on a phone`, async () => {
    await loginPage(VETERAN);
  });

  await step(2, 'My duties shows next Sunday\'s market duty and the duty under way', async () => {
    await page.locator('#my-duty-link').click();
    await page.waitForURL(/\/duty\/me$/);
    const cards = norm(await page.locator('#my-duties').textContent());
    assert.ok(cards.includes(MARKET), `no "${MARKET}" in: ${cards}`);
    assert.ok(cards.includes('Chủ nhật'), `no Sunday in: ${cards}`);
    const card = page.locator(`#my-duties li[data-assignment]`, { hasText: NOW_DUTY });
    assert.equal(await card.count(), 1, 'the duty under way is listed once');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= PHONE.width + 1, `the page is wider than the phone: ${width}px`);
  });

  await step(3, 'checking in sends the position and answers with the distance', async () => {
    const card = page.locator('#my-duties li[data-assignment]', { hasText: NOW_DUTY });
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      card.locator('button[value=in]').click(),
    ]);
    const msg = norm(await page.locator('#duty-message').textContent());
    assert.ok(msg.includes('Đã điểm danh đến'), `message: ${msg}`);
    const m = /cách điểm trực (\d+) m/.exec(msg);
    assert.ok(m && Number(m[1]) >= 10 && Number(m[1]) <= 30, `distance in: ${msg}`);
    const card2 = norm(await page.locator('#my-duties li[data-assignment]', { hasText: NOW_DUTY }).textContent());
    assert.ok(card2.includes('Đã đến'), `card after check-in: ${card2}`);
    assert.deepEqual(errors, [], 'no script errors');
  });

  await step(4, `the team leader ${LEADER} sees the check-in on the duty's page`, async () => {
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    page = await desk.newPage();
    await loginPage(LEADER);
    await openPage(`/duty/shifts/${nowShift.id}`);
    const row = norm(await page.locator('#on-duty tbody tr').first().textContent());
    assert.ok(row.includes('Đã đến'), `row (arrived, on time): ${row}`);
    assert.ok(/\d\d:\d\d/.test(row), `check-in time in row: ${row}`);
    assert.ok(/\d+ m/.test(row), `distance in row: ${row}`);
    await openPage(`/wards/${WARD}/duty`);
    const roster = norm(await page.locator(`[data-shift="${nowShift.id}"]`).textContent());
    assert.ok(roster.includes('✓'), `roster entry: ${roster}`);
  });
} catch (e) {
  console.log(`${NAME}: ${e.message}`);
  results.push({ n: 0, ok: false });
} finally {
  await browser?.close();
}

const failed = results.filter((r) => !r.ok).length;
console.log(`${NAME}: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
