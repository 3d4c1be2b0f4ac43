// Browser test of wardwatch's live path: a resident reports a fire from a phone,
// the ward's officer sees it arrive in the inbox without reloading, publishes a
// warning, and the resident's open page shows the warning banner at once.
//
//   WARDWATCH_URL=http://127.0.0.1:8080 \
//   WARDWATCH_BIN=target/debug/wardwatch WARDWATCH_DATA=/path/to/data \
//     node e2e/report_warning.mjs
//
// Normally run by scripts/e2e.sh, after e2e/ward_overview.mjs, against the same
// server (started with --demo on a fresh data dir). WARDWATCH_BIN and
// WARDWATCH_DATA are the server's binary and data directory: the captcha is
// answered with the operators' tool `wardwatch --data DIR captcha-answer TOKEN`.
//
// Two browser contexts are open at the same time: the officer (desktop,
// 1280x800, logged in as dhk.congan) and the resident (phone, 360x740, not
// logged in). Same conventions as ward_overview.mjs: Debian's Chromium driven
// by playwright-core, requests to other origins aborted, script errors and
// failed same-origin assets fail the step, one line per step, a closing
// "N passed, N failed" line; exit 0 when every step passed, 1 when a step
// failed, 2 when the test could not run. On a failure it saves a screenshot
// and the HTML of both contexts' pages to e2e/artifacts/.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');
const NAME = 'report_warning';

const WARD = 'du-hang-kenh';
const USERNAME = 'dhk.congan';
const PASSWORD = 'demo-wardwatch';
const PHONE = { width: 360, height: 740 };
const DESKTOP = { width: 1280, height: 800 };
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const STEP_TIMEOUT_MS = 10_000; // waits inside a step
const LIVE_TIMEOUT_MS = 10_000; // a live update (SSE) must arrive within this
const NAV_TIMEOUT_MS = 30_000; // one page load
const WATCHDOG_MS = 5 * 60_000; // the whole run

// Unique per run, so that rows and banners of earlier runs cannot match.
const SUFFIX = `e2e-${Date.now().toString(36)}`;
const DESCRIPTION = `Cháy ở khu chợ Hàng, khói đen, xin hỗ trợ (${SUFFIX})`;
const TITLE = `Cháy tại chợ Hàng — tránh đường Chợ Hàng (${SUFFIX})`;
const BODY = 'Đám cháy ở khu chợ Hàng đang được dập. Không đi vào đường Chợ Hàng, nhường đường cho xe cứu hoả.';
const LAT = '20.8395';
const LON = '106.674';
// A valid 1x1 PNG (one opaque pixel).
const PNG_1X1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

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
const BIN = process.env.WARDWATCH_BIN;
const DATA = process.env.WARDWATCH_DATA;
if (!BIN || !DATA) {
  usage('set WARDWATCH_BIN and WARDWATCH_DATA to the running server\'s binary and data directory (the captcha is answered with `wardwatch --data DIR captcha-answer TOKEN`; scripts/e2e.sh does it for you)');
}
if (!existsSync(BIN)) usage(`WARDWATCH_BIN=${BIN}: no such file`);
if (!existsSync(DATA)) usage(`WARDWATCH_DATA=${DATA}: no such directory`);
if (!existsSync(CHROMIUM)) {
  usage(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}

/** The server did not answer at all: no point running further steps. */
class Unreachable extends Error {}

const norm = (s) => (s ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error(`${NAME}: FAILED: the whole test took longer than ${WATCHDOG_MS / 1000} s; giving up`);
  Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]).finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

let browser;
const results = []; // { n, title, ok, skipped, error }
let problems = []; // same-origin asset failures and script errors of the current step
const who = {}; // 'officer' | 'resident' → { context, page, navigations }
let tmp; // temp dir holding the photo

async function newContext(role, viewport, mobile) {
  const ctx = await browser.newContext({
    viewport,
    screen: viewport,
    deviceScaleFactor: mobile ? 2 : 1,
    isMobile: mobile,
    hasTouch: mobile,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  ctx.setDefaultTimeout(STEP_TIMEOUT_MS);
  ctx.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || u.startsWith('blob:') || new URL(u).origin === origin) return route.continue();
    return route.abort('blockedbyclient');
  });
  ctx.on('response', (resp) => {
    const req = resp.request();
    if (new URL(resp.url()).origin !== origin) return;
    if (req.resourceType() === 'document') return; // checked where the step navigates
    if (new URL(resp.url()).pathname === '/favicon.ico') return;
    if (resp.status() >= 400) problems.push(`${role}: ${req.method()} ${new URL(resp.url()).pathname} answered HTTP ${resp.status()}`);
  });
  ctx.on('requestfailed', (req) => {
    const u = req.url();
    if (!/^https?:/.test(u) || new URL(u).origin !== origin) return;
    if (req.resourceType() === 'document') return;
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return; // cancelled (page left), or an HTTP error reported above
    problems.push(`${role}: request for ${new URL(u).pathname} failed: ${req.failure()?.errorText}`);
  });
  ctx.on('page', (p) => {
    p.on('pageerror', (err) => problems.push(`${role}: script error on ${p.url()}: ${err.message}`));
  });
  const page = await ctx.newPage();
  const me = { context: ctx, page, navigations: 0 };
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) me.navigations += 1;
  });
  who[role] = me;
  return me;
}

/** GET path in page, expecting HTTP 200. */
async function open(page, path) {
  let resp;
  try {
    resp = await page.goto(url(path), { waitUntil: 'load' });
  } catch (e) {
    const netErr = /net::ERR_[A-Z_]+/.exec(e.message)?.[0];
    if (netErr === 'net::ERR_UNSAFE_PORT') {
      throw new Unreachable(`Chromium refuses to open port ${base.port} (${netErr}): run wardwatch on another port`);
    }
    if (/^net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|CONNECTION_FAILED|EMPTY_RESPONSE|ADDRESS_UNREACHABLE|ADDRESS_INVALID|NAME_NOT_RESOLVED|CONNECTION_TIMED_OUT|TIMED_OUT)$/.test(netErr ?? '')) {
      throw new Unreachable(`nothing answers at ${url(path)} (${netErr}): is wardwatch running at WARDWATCH_URL=${rawBase}?`);
    }
    throw e;
  }
  assert.ok(resp, `no response for GET ${path}`);
  assert.equal(resp.status(), 200, `GET ${path} answered HTTP ${resp.status()}, expected 200`);
  return resp;
}

/** Poll fn until it returns truthy or time runs out; returns the last value. */
async function poll(fn, timeoutMs = STEP_TIMEOUT_MS) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      if (Date.now() >= end) throw e;
    }
    if (Date.now() >= end) return last;
    await sleep(100);
  }
}

/**
 * A promise for the response to the page's EventSource on pathname (it
 * resolves when the stream's headers arrive, i.e. the server has subscribed
 * the listener). Create it before the navigation that opens the stream.
 */
function streamOpened(page, pathname, timeoutMs = STEP_TIMEOUT_MS) {
  return page
    .waitForResponse((r) => {
      const u = new URL(r.url());
      return u.origin === origin && u.pathname === pathname;
    }, { timeout: timeoutMs })
    .then(
      (r) => {
        assert.equal(r.status(), 200, `the live stream ${pathname} answered HTTP ${r.status()} on ${page.url()}`);
        return r;
      },
      () => {
        throw new assert.AssertionError({ message: `${page.url()} never opened its live stream ${pathname} within ${timeoutMs / 1000} s` });
      },
    );
}

/** The text of the one element matching selector in page. */
async function textOf(page, selector) {
  const loc = page.locator(selector);
  const n = await loc.count();
  assert.ok(n > 0, `no element matches ${selector} on ${page.url()}`);
  assert.equal(n, 1, `${n} elements match ${selector} on ${page.url()}; expected exactly one`);
  return norm(await loc.textContent());
}

/** The form's field errors or the error page's text, for a message when a submission was refused. */
async function fieldErrors(page) {
  const errs = await page.locator('main .alert, .field-error, #error h1, #error h1 ~ p:not(:last-child), #error li').allTextContents().catch(() => []);
  return errs.map(norm).filter(Boolean);
}

/** Fails when the page scrolls sideways, naming the widest element sticking out. */
async function assertNoSideScroll(page, what) {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    let widest = null;
    const visit = (el) => {
      const r = el.getBoundingClientRect();
      if (r.right > vw + 0.5 && (!widest || r.right > widest.right)) {
        widest = { right: Math.round(r.right), tag: el.tagName.toLowerCase(), id: el.id, class: String(el.className).slice(0, 60) };
      }
      if (getComputedStyle(el).overflowX === 'visible') for (const c of el.children) visit(c);
    };
    visit(document.body);
    return { scrollWidth: document.documentElement.scrollWidth, clientWidth: vw, widest };
  });
  assert.ok(
    scrollWidth <= PHONE.width,
    `${what} (${page.url()}): document.documentElement.scrollWidth is ${scrollWidth} > ${PHONE.width} (clientWidth ${clientWidth}): the page scrolls sideways on a phone` +
      (widest ? `; widest overflowing element: ${JSON.stringify(widest)}` : ''),
  );
}

async function saveFailure(n) {
  const saved = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const [role, { page }] of Object.entries(who)) {
    if (!page || page.isClosed()) continue;
    try {
      mkdirSync(artifacts, { recursive: true });
      const stem = join(artifacts, `${NAME}-step${n}-${role}-${stamp}`);
      await page.screenshot({ path: `${stem}.png`, fullPage: true, timeout: 10_000 });
      saved.push(`${stem}.png`);
      writeFileSync(`${stem}.html`, await page.content());
      saved.push(`${stem}.html`);
    } catch (e) {
      console.error(`  (could not save the ${role}'s screenshot: ${e.message.split('\n')[0]})`);
    }
  }
  return saved.map((p) => relative(process.cwd(), p) || p);
}

let unreachable = false;
/** Runs step n unless a step it needs (by number) did not pass. */
async function step(n, title, fn, { needs = [] } = {}) {
  const missing = needs.filter((k) => !results.some((r) => r.n === k && r.ok));
  if (unreachable || missing.length) {
    results.push({ n, title, skipped: true });
    console.log(`SKIP ${n}. ${title} (${unreachable ? 'server unreachable' : `needs step ${missing.join(', ')}`})`);
    return;
  }
  problems = [];
  const started = Date.now();
  try {
    const note = await fn();
    for (const { page } of Object.values(who)) {
      if (!page.isClosed()) await page.waitForLoadState('load').catch(() => {});
    }
    assert.ok(problems.length === 0, 'the pages had problems (errors loading their own scripts, styles or images, or script errors)');
    results.push({ n, title, ok: true });
    console.log(`ok   ${n}. ${title} (${Date.now() - started} ms)${note ? `\n     ${note}` : ''}`);
  } catch (e) {
    if (e instanceof Unreachable) unreachable = true;
    results.push({ n, title, ok: false, error: e });
    const msg = (e instanceof assert.AssertionError || e instanceof Unreachable ? e.message : e.stack || String(e))
      .replace(/\x1b\[[0-9;]*m/g, '')
      .split('\n')
      .join('\n    ');
    const seen = problems.length ? `\n    problems seen on the way:\n      ${[...new Set(problems)].join('\n      ')}` : '';
    const pages = Object.entries(who)
      .map(([role, { page }]) => `${role}: ${page.isClosed() ? '(closed)' : page.url()}`)
      .join(', ');
    console.log(`FAIL ${n}. ${title}\n    ${msg}${seen}\n    (pages: ${pages})`);
    for (const f of await saveFailure(n)) console.log(`    saved ${f}`);
  }
}

// ---------------------------------------------------------------------------

async function main() {
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
  } catch (e) {
    console.error(`${NAME}: could not start Chromium at ${CHROMIUM}: ${e.message.split('\n').slice(0, 6).join('\n  ')}`);
    return 2;
  }
  console.log(`${NAME}: Chromium ${browser.version()}, officer ${DESKTOP.width}x${DESKTOP.height}, resident ${PHONE.width}x${PHONE.height}, against ${origin} (run ${SUFFIX})`);

  const officer = await newContext('officer', DESKTOP, false);
  const resident = await newContext('resident', PHONE, true);
  tmp = mkdtempSync(join(tmpdir(), 'wardwatch-e2e-'));
  const photo = join(tmp, 'khoi-cho-hang.png');
  writeFileSync(photo, Buffer.from(PNG_1X1, 'base64'));

  let before = new Set(); // ids of the inbox rows before the report
  let trackingCode = ''; // of the report made in step 2
  let inboxNavigations = 0;
  let wardNavigations = 0;
  let warningId = '';

  // 1. ------------------------------------------------------------------------
  await step(1, `officer (desktop) logs in as ${USERNAME} and opens /wards/${WARD}/inbox`, async () => {
    const page = officer.page;
    await open(page, '/login');
    await page.locator('#login input[name=username]').fill(USERNAME);
    await page.locator('#login input[name=password]').fill(PASSWORD);
    const nav = page.waitForNavigation({ waitUntil: 'load' });
    await page.locator('#login button[type=submit]').click();
    const resp = await nav;
    assert.ok(!resp || resp.status() < 400, `logging in answered HTTP ${resp?.status()}`);
    const account = norm(await page.locator('#account').first().textContent());
    assert.ok(account.includes(USERNAME), `after logging in, #account reads ${JSON.stringify(account)}, not ${USERNAME} (login failed? ${JSON.stringify(await fieldErrors(page))})`);

    const stream = streamOpened(page, '/api/v1/reports/stream');
    await open(page, `/wards/${WARD}/inbox`);
    assert.equal(await page.locator('#inbox-list').count(), 1, `/wards/${WARD}/inbox has no #inbox-list`);
    const live = page.locator('#live-note');
    assert.equal(await live.count(), 1, `/wards/${WARD}/inbox has no #live-note: the page is not live for ${USERNAME} (inbox.js is only loaded with it)`);
    assert.equal(await live.getAttribute('data-ward'), WARD, `#live-note[data-ward] should be ${WARD}`);
    assert.ok(await page.locator('#new-reports').isHidden(), '#new-reports is visible before any new report arrived');
    await stream;
    before = new Set(await page.locator('#inbox-list tr.report[data-id]').evaluateAll((rows) => rows.map((r) => r.dataset.id)));
    // Gone if anything reloads or navigates the page before step 3 looks again.
    await page.evaluate(() => { window.__marker = 1; });
    inboxNavigations = officer.navigations;
    return `${before.size} rows shown: ${[...before].join(', ') || '(none)'}; live stream open`;
  });

  // 2. ------------------------------------------------------------------------
  await step(2, `resident (phone, not logged in) reports a fire at ${LAT}, ${LON} with a photo, anonymously`, async () => {
    const page = resident.page;
    await open(page, `/report?ward=${WARD}`);
    const form = page.locator('#report-form');
    assert.equal(await form.count(), 1, `/report?ward=${WARD} has no #report-form`);
    await form.locator('select[name=category]').selectOption('fire');
    await form.locator('textarea[name=description]').fill(DESCRIPTION);
    for (const [name, value] of [['lat', LAT], ['lon', LON]]) {
      const input = form.locator(`input[name=${name}]`);
      await input.click();
      await input.pressSequentially(value);
      await input.blur(); // fires change: report.js looks up reports nearby
      assert.equal(await input.inputValue(), value, `input[name=${name}] reads ${JSON.stringify(await input.inputValue())} after typing ${value}`);
    }
    await form.locator('input[type=file][name=photos]').setInputFiles(photo);
    const anon = form.locator('input[name=anonymous]');
    await anon.check();
    assert.ok(await anon.isChecked(), 'the anonymous box did not get ticked');
    assert.ok(!(await form.locator('input[name=place_unknown]').isChecked()), 'place_unknown is ticked though a position was given');

    const token = await form.locator('input[name=captcha_token]').inputValue();
    assert.ok(token, 'the report form has no captcha_token value (the captcha is only shown to visitors not logged in)');
    assert.ok((await form.locator('.captcha svg').count()) >= 1, 'the captcha has no inline <svg> picture');
    let answer;
    try {
      answer = execFileSync(BIN, ['--data', DATA, 'captcha-answer', token], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      throw new assert.AssertionError({ message: `${BIN} --data ${DATA} captcha-answer ${token} failed (exit ${e.status}): ${norm(String(e.stderr || e.message))}` });
    }
    assert.match(answer, /^-?\d+$/, `captcha-answer printed ${JSON.stringify(answer)}, not a number`);
    await form.locator('input[name=captcha_answer]').fill(answer);

    const nav = page.waitForNavigation({ waitUntil: 'load' });
    await form.locator('button[type=submit]').click();
    const resp = await nav;
    const at = new URL(page.url());
    if (!/^\/track\/PA-[^/]+$/.test(at.pathname)) {
      assert.fail(`submitting the report answered HTTP ${resp?.status()} at ${at.pathname}${at.search}, not /track/PA-…?new=1; the page says: ${JSON.stringify(await fieldErrors(page))}`);
    }
    assert.equal(resp?.status(), 200, `the tracking page answered HTTP ${resp?.status()}`);
    assert.equal(at.searchParams.get('new'), '1', `landed on ${at.pathname}${at.search}, without ?new=1`);
    trackingCode = decodeURIComponent(at.pathname.slice('/track/'.length));
    const sent = await textOf(page, '#sent');
    const shown = await textOf(page, '#sent .code');
    assert.equal(shown, trackingCode, `#sent .code reads ${JSON.stringify(shown)}, the URL has ${trackingCode}`);
    assert.ok(sent.includes(trackingCode), `#sent does not show the code ${trackingCode}: ${JSON.stringify(sent)}`);
    const status = await textOf(page, '#status');
    assert.equal(status, 'Mới', `#status reads ${JSON.stringify(status)}, expected "Mới"`);
    const imgs = page.locator('.photos img');
    assert.equal(await imgs.count(), 1, `the tracking page shows ${await imgs.count()} photos, expected the 1 attached`);
    const loaded = await poll(() => imgs.first().evaluate((i) => i.complete && i.naturalWidth === 1), 5000);
    assert.ok(loaded, 'the attached photo does not load on the tracking page (not a 1x1 image)');
    return `tracking code ${trackingCode}; #status "Mới"; photo shown`;
  });

  // 3. ------------------------------------------------------------------------
  await step(3, 'officer\'s open inbox shows the new report within 10 s, without reloading', async () => {
    const page = officer.page;
    const start = norm(DESCRIPTION).slice(0, 60);
    const found = await poll(async () => {
      const rows = await page.locator('#inbox-list tr.report[data-id]').evaluateAll((rs) => rs.map((r) => ({ id: r.dataset.id, text: r.textContent })));
      return rows.find((r) => !before.has(r.id) && norm(r.text).includes(start));
    }, LIVE_TIMEOUT_MS);
    if (!found) {
      const ids = await page.locator('#inbox-list tr.report[data-id]').evaluateAll((rs) => rs.map((r) => r.dataset.id));
      assert.fail(`no new tr.report row containing ${JSON.stringify(start)} appeared in #inbox-list within ${LIVE_TIMEOUT_MS / 1000} s (rows now: ${ids.join(', ') || 'none'}; before: ${[...before].join(', ') || 'none'})`);
    }
    assert.ok(await page.locator('#new-reports').isVisible(), `the new row #${found.id} arrived but #new-reports is still hidden`);
    assert.equal(await page.evaluate(() => window.__marker), 1, 'window.__marker is gone: the inbox page was reloaded');
    assert.equal(officer.navigations, inboxNavigations, `the inbox page navigated ${officer.navigations - inboxNavigations} times: it was reloaded`);
    return `row #${found.id} appeared; #new-reports visible; no reload`;
  }, { needs: [1, 2] });

  // 4. ------------------------------------------------------------------------
  await step(4, `resident keeps /wards/${WARD} open; officer publishes a Fire/Severe/Immediate warning`, async () => {
    const rpage = resident.page;
    const stream = streamOpened(rpage, '/api/v1/warnings/stream');
    await open(rpage, `/wards/${WARD}`);
    assert.equal(await rpage.locator('#warning-banner').getAttribute('data-ward'), WARD, `#warning-banner[data-ward] on /wards/${WARD} should be ${WARD}`);
    await stream;
    await rpage.evaluate(() => { window.__marker = 1; });
    wardNavigations = resident.navigations;

    const page = officer.page;
    await open(page, `/wards/${WARD}/warnings`);
    const form = page.locator('#warning-form');
    assert.equal(await form.count(), 1, `/wards/${WARD}/warnings has no #warning-form for ${USERNAME} (may not publish?)`);
    await form.locator('input[name=title]').fill(TITLE);
    await form.locator('textarea[name=body]').fill(BODY);
    await form.locator('select[name=category]').selectOption('Fire');
    await form.locator('select[name=severity]').selectOption('Severe');
    await form.locator('select[name=urgency]').selectOption('Immediate');
    const nav = page.waitForNavigation({ waitUntil: 'load' });
    await form.locator('button[type=submit]').click();
    const resp = await nav;
    const m = /^\/warnings\/(\d+)$/.exec(new URL(page.url()).pathname);
    assert.ok(m, `publishing answered HTTP ${resp?.status()} at ${page.url()}, not /warnings/ID; the page says: ${JSON.stringify(await fieldErrors(page))}`);
    assert.equal(resp?.status(), 200, `the warning page answered HTTP ${resp?.status()}`);
    warningId = m[1];
    return `warning ${warningId} published`;
  }, { needs: [1] });

  // 5. ------------------------------------------------------------------------
  await step(5, 'resident\'s open page shows the banner within 10 s; dismissed, it stays gone after a reload', async () => {
    const page = resident.page;
    const item = page.locator(`#warning-banner .banner-item`).filter({ hasText: TITLE });
    const shown = await poll(async () => (await item.count()) === 1 && (await item.isVisible()), LIVE_TIMEOUT_MS);
    if (!shown) {
      const items = (await page.locator('#warning-banner .banner-item').allTextContents()).map(norm);
      assert.fail(`no visible .banner-item with ${JSON.stringify(TITLE)} in #warning-banner within ${LIVE_TIMEOUT_MS / 1000} s (items: ${JSON.stringify(items)}; #warning-banner hidden: ${await page.locator('#warning-banner').isHidden()})`);
    }
    assert.equal(await page.evaluate(() => window.__marker), 1, 'window.__marker is gone: the ward page was reloaded');
    assert.equal(resident.navigations, wardNavigations, 'the ward page navigated: it was reloaded');
    const id = await item.getAttribute('id');
    assert.equal(id, `warning-${warningId}`, `the banner item's id is ${JSON.stringify(id)}, expected warning-${warningId}`);

    const dismiss = item.locator('button');
    assert.equal(await dismiss.count(), 1, 'the banner item has no (single) dismiss button');
    await dismiss.click();
    const gone = await poll(async () => (await item.count()) === 0 || !(await item.isVisible()), 3000);
    assert.ok(gone, 'clicking the dismiss button did not hide the banner item');
    const keys = await page.evaluate((wid) => Object.keys(localStorage).filter((k) => k.includes(wid)), warningId);
    assert.ok(keys.length > 0, `dismissing stored nothing in localStorage for warning ${warningId}`);

    const stream = streamOpened(page, '/api/v1/warnings/stream');
    const current = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/warnings' && r.request().method() === 'GET');
    await page.reload({ waitUntil: 'load' });
    await Promise.all([stream, current]);
    // live.js shows what /api/v1/warnings returned once its JSON is parsed: give it a moment.
    const back = await poll(async () => (await item.count()) > 0, 2000);
    assert.ok(
      !back,
      `after a reload the dismissed warning's banner is back: ` +
        `${JSON.stringify(await page.evaluate(() => [...document.querySelectorAll('.banner-item')].map((e) => e.id + ': ' + e.textContent)))}; ` +
        `localStorage holds ${JSON.stringify(await page.evaluate(() => Object.keys(localStorage)))}`,
    );
    return `banner warning-${warningId} shown live, dismissed (localStorage ${keys.join(', ')}), not back after reload`;
  }, { needs: [4] });

  // 6. ------------------------------------------------------------------------
  await step(6, 'no horizontal scroll at 360 px on the report form and the tracking page', async () => {
    const page = resident.page;
    await open(page, `/report?ward=${WARD}`);
    await assertNoSideScroll(page, 'the report form');
    if (!trackingCode) return 'tracking page not checked: step 2 made no report';
    await open(page, `/track/${encodeURIComponent(trackingCode)}?new=1`);
    await assertNoSideScroll(page, 'the tracking page');
  });

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
  if (browser) await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  clearTimeout(watchdog);
}
if (code !== 0) console.error(`${NAME}: FAILED (exit ${code})`);
process.exit(code);
