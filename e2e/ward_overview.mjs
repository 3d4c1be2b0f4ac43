// Browser test of wardwatch's ward overview, as a phone user sees it.
//
//   WARDWATCH_URL=http://127.0.0.1:8080 node e2e/ward_overview.mjs
//
// Normally run by scripts/e2e.sh, which builds the service, starts it with
// --demo on a fresh data dir and points WARDWATCH_URL at it.
//
// Drives Debian's Chromium (/usr/bin/chromium, or $CHROMIUM_PATH) with
// playwright-core: npm cannot download browsers here. Every request to
// another origin (map tiles, ...) is aborted, so the test never depends on
// the internet; the page's own scripts and styles must come from wardwatch.
//
// Prints one line per step and a closing "N passed, N failed" line; exits 0
// when every step passed, 1 when a step failed, 2 when the test could not run
// (no WARDWATCH_URL, no Chromium, or nothing answers at WARDWATCH_URL).
// On a failure it saves a screenshot and the page's HTML to e2e/artifacts/.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = join(here, 'artifacts');

const WARD = 'lach-tray';
const USERNAME = 'lt.congan';
const PASSWORD = 'demo-wardwatch';
const VIEWPORT = { width: 360, height: 740 };
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
const STEP_TIMEOUT_MS = 10_000; // waits inside a step (selectors, Leaflet)
const NAV_TIMEOUT_MS = 30_000; // one page load
const WATCHDOG_MS = 5 * 60_000; // the whole run

// ---------------------------------------------------------------------------

function usage(msg) {
  console.error(`ward_overview: ${msg}`);
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
if (!existsSync(CHROMIUM)) {
  usage(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}

/** The server did not answer at all: no point running further steps. */
class Unreachable extends Error {}

const norm = (s) => (s ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();

// A 12-digit number standing alone (a citizen ID), not part of a longer
// number, a decimal fraction (coordinates), or a word/token (hex ids).
const TWELVE_DIGITS = /(?<![\p{L}\p{N}_.,-])\d{12}(?![\p{L}\p{N}_])/gu;
// A Vietnamese phone number as a person would write it: 0912345678,
// 0912 345 678, 0912.345.678, +84 912 345 678.
const PHONE = /(?<![\p{L}\p{N}_.,+-])(?:\+84[ .]?|0)\d{2,3}[ .]?\d{3}[ .]?\d{3,4}(?![\p{L}\p{N}_])/gu;
const digitsOf = (s) => s.replace(/\D/g, '');

// ---------------------------------------------------------------------------

const watchdog = setTimeout(() => {
  console.error(`ward_overview: FAILED: the whole test took longer than ${WATCHDOG_MS / 1000} s; giving up`);
  Promise.race([browser?.close(), new Promise((r) => setTimeout(r, 5000))]).finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();

let browser;
let context;
let page;
const results = []; // { n, title, ok, skipped, error }
let problems = []; // same-origin asset failures and script errors of the current step
let personalNumbers = []; // phone numbers / IDs the logged-in view shows in #teams

async function newContext() {
  const ctx = await browser.newContext({
    viewport: VIEWPORT,
    screen: VIEWPORT,
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  ctx.setDefaultTimeout(STEP_TIMEOUT_MS);
  ctx.setDefaultNavigationTimeout(NAV_TIMEOUT_MS);
  // Same origin goes through; anything else (map tiles, fonts, CDNs) is
  // aborted so the result does not depend on the network.
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || u.startsWith('blob:') || new URL(u).origin === origin) return route.continue();
    return route.abort('blockedbyclient');
  });
  ctx.on('response', (resp) => {
    const req = resp.request();
    if (new URL(resp.url()).origin !== origin) return;
    if (req.resourceType() === 'document') return; // checked by open()
    if (new URL(resp.url()).pathname === '/favicon.ico') return;
    if (resp.status() >= 400) problems.push(`${req.method()} ${new URL(resp.url()).pathname} answered HTTP ${resp.status()}`);
  });
  ctx.on('requestfailed', (req) => {
    const u = req.url();
    if (!/^https?:/.test(u) || new URL(u).origin !== origin) return;
    if (req.resourceType() === 'document') return; // reported by open()/navigation
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return; // cancelled, or an HTTP error reported above
    problems.push(`request for ${new URL(u).pathname} failed: ${req.failure()?.errorText}`);
  });
  ctx.on('page', (p) => {
    p.on('pageerror', (err) => problems.push(`script error on ${p.url()}: ${err.message}`));
  });
  return ctx;
}

/** GET path in the current page, expecting HTTP 200. */
async function open(path) {
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
      // the page may be navigating; try again
      if (Date.now() >= end) throw e;
    }
    if (Date.now() >= end) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function textOf(selector) {
  const loc = page.locator(selector);
  const n = await loc.count();
  assert.ok(n > 0, `no element matches ${selector} on ${page.url()}`);
  assert.equal(n, 1, `${n} elements match ${selector} on ${page.url()}; expected exactly one`);
  return norm(await loc.textContent());
}

function assertContains(haystack, needle, what) {
  assert.ok(
    haystack.includes(needle.normalize('NFC')),
    `${what} should contain ${JSON.stringify(needle)}; it reads ${JSON.stringify(haystack.slice(0, 400))}`,
  );
}

async function saveFailure(n) {
  if (!page || page.isClosed()) return [];
  const saved = [];
  try {
    mkdirSync(artifacts, { recursive: true });
    const stem = join(artifacts, `step${n}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await page.screenshot({ path: `${stem}.png`, fullPage: true, timeout: 10_000 });
    saved.push(`${stem}.png`);
    writeFileSync(`${stem}.html`, await page.content());
    saved.push(`${stem}.html`);
  } catch (e) {
    console.error(`  (could not save screenshot: ${e.message.split('\n')[0]})`);
  }
  return saved.map((p) => relative(process.cwd(), p) || p);
}

let unreachable = false;
async function step(n, title, fn) {
  if (unreachable) {
    results.push({ n, title, skipped: true });
    console.log(`SKIP ${n}. ${title} (server unreachable)`);
    return;
  }
  problems = [];
  const started = Date.now();
  try {
    const note = await fn();
    // let late asset loads/script errors of this step's page arrive
    await page.waitForLoadState('load').catch(() => {});
    assert.ok(problems.length === 0, 'the page had problems (errors loading its own scripts, styles or images, or script errors)');
    results.push({ n, title, ok: true });
    console.log(`ok   ${n}. ${title} (${Date.now() - started} ms)${note ? `\n     ${note}` : ''}`);
  } catch (e) {
    if (e instanceof Unreachable) unreachable = true;
    results.push({ n, title, ok: false, error: e });
    const msg = (e instanceof assert.AssertionError || e instanceof Unreachable ? e.message : e.stack || String(e))
      .replace(/\x1b\[[0-9;]*m/g, '') // playwright's call logs carry colour codes
      .split('\n')
      .join('\n    ');
    const seen = problems.length ? `\n    problems seen on the way:\n      ${[...new Set(problems)].join('\n      ')}` : '';
    console.log(`FAIL ${n}. ${title}\n    ${msg}${seen}\n    (page: ${page?.url()})`);
    for (const f of await saveFailure(n)) console.log(`    saved ${f}`);
  }
}

// ---------------------------------------------------------------------------

async function main() {
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (e) {
    console.error(`ward_overview: could not start Chromium at ${CHROMIUM}: ${e.message.split('\n').slice(0, 6).join('\n  ')}`);
    return 2;
  }
  console.log(`ward_overview: Chromium ${browser.version()}, ${VIEWPORT.width}x${VIEWPORT.height}, against ${origin}`);

  context = await newContext();
  page = await context.newPage();

  await step(1, 'home page is Vietnamese and links to the ward', async () => {
    await open('/');
    const lang = await page.locator('html').getAttribute('lang');
    assert.equal(lang, 'vi', `<html lang> is ${JSON.stringify(lang)} on /, expected "vi"`);
    const links = await page.locator(`a[href="/wards/${WARD}"]`).count();
    assert.ok(links >= 1, `/ has no link a[href="/wards/${WARD}"]`);
  });

  await step(2, `log in as ${USERNAME}`, async () => {
    await open('/login');
    await page.locator('input[name=username]').fill(USERNAME);
    await page.locator('input[name=password]').fill(PASSWORD);
    const nav = page.waitForNavigation({ waitUntil: 'load' });
    await page.locator('button[type=submit]').click();
    const resp = await nav;
    assert.ok(!resp || resp.status() < 400, `logging in answered HTTP ${resp?.status()}`);
    const account = await poll(async () => {
      const t = norm(await page.locator('#account').first().textContent({ timeout: 1000 }));
      return t.includes(USERNAME) ? t : '';
    });
    assert.ok(account, `after logging in, ${page.url()} shows no #account containing ${JSON.stringify(USERNAME)} (login failed?)`);
  });

  await step(3, `ward page /wards/${WARD}: figures, teams, members, map, sites`, async () => {
    await open(`/wards/${WARD}`);
    const figures = await textOf('#ward-figures');
    assertContains(figures, '67,48', '#ward-figures (area in ha)');
    assertContains(figures, '1981', '#ward-figures');
    const teams = await page.locator('#teams .team').count();
    assert.equal(teams, 7, `#teams should contain exactly 7 .team elements, found ${teams}`);
    const total = await textOf('#members-total');
    assert.equal(total, '21', `#members-total reads ${JSON.stringify(total)}, expected "21"`);
    const map = page.locator('#map');
    assert.equal(await map.count(), 1, '#map: expected exactly one map container');
    assert.ok(await map.isVisible(), '#map is not visible (a Leaflet map needs a height set in CSS)');
    const box = await map.boundingBox();
    assert.ok(box && box.height >= 100, `#map is too small to use: ${JSON.stringify(box)}`);
    const leaflet = await poll(() => map.evaluate((el) => el.classList.contains('leaflet-container')));
    assert.ok(leaflet, `#map never got class leaflet-container within ${STEP_TIMEOUT_MS / 1000} s: Leaflet did not initialise (is /static/vendor/leaflet-1.9.4/leaflet.js loaded?)`);
    const sites = await textOf('#sites');
    assertContains(sites, 'SHP', '#sites');
    assertContains(sites, 'Đồng Tâm', '#sites');
    // Remember the personal numbers an official sees, for step 6.
    const teamsText = (await page.locator('#teams').innerText()).normalize('NFC');
    personalNumbers = [...new Set([...(teamsText.match(TWELVE_DIGITS) ?? []), ...(teamsText.match(PHONE) ?? [])])];
  });

  await step(4, 'no horizontal scroll at 360 px', async () => {
    await open(`/wards/${WARD}`);
    await poll(() => page.evaluate(() => document.querySelector('#map')?.classList.contains('leaflet-container')), 5000);
    const { scrollWidth, widest } = await page.evaluate(() => {
      // The outermost element sticking out on the right, not looking inside
      // elements that clip their content (the map's panes, scroll boxes).
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
      return { scrollWidth: document.documentElement.scrollWidth, widest };
    });
    assert.ok(
      scrollWidth <= VIEWPORT.width,
      `document.documentElement.scrollWidth is ${scrollWidth} > ${VIEWPORT.width}: the page scrolls sideways on a phone` +
        (widest ? `; widest overflowing element: ${JSON.stringify(widest)}` : '') +
        ' (is <meta name="viewport" content="width=device-width, initial-scale=1"> there?)',
    );
  });

  await step(5, 'English switch: a[hreflang=en] → lang=en, "Residential groups"', async () => {
    await open(`/wards/${WARD}`);
    const link = page.locator('a[hreflang=en]').first();
    assert.ok((await page.locator('a[hreflang=en]').count()) >= 1, `no a[hreflang=en] on /wards/${WARD}`);
    await link.click();
    const lang = await poll(async () => {
      const l = await page.locator('html').getAttribute('lang', { timeout: 1000 });
      return l === 'en' ? l : '';
    });
    assert.ok(lang, `after clicking a[hreflang=en], <html lang> is ${JSON.stringify(await page.locator('html').getAttribute('lang'))} on ${page.url()}, expected "en"`);
    await page.waitForLoadState('load');
    const body = norm(await page.locator('body').innerText());
    assertContains(body, 'Residential groups', `the English page ${page.url()}`);
  });

  await step(6, `logged out, /wards/${WARD} shows figures but no citizen IDs or phone numbers`, async () => {
    await context.close();
    context = await newContext(); // no cookies: a visitor who is not logged in
    page = await context.newPage();
    await open(`/wards/${WARD}`);
    const figures = await textOf('#ward-figures');
    assertContains(figures, '67,48', '#ward-figures seen logged out');
    assertContains(figures, '1981', '#ward-figures seen logged out');
    if ((await page.locator('#account').count()) > 0) {
      const account = norm(await page.locator('#account').first().textContent());
      assert.ok(!account.includes(USERNAME), `logged out, #account still shows ${USERNAME}`);
    }
    const html = (await page.content()).normalize('NFC');
    const text = (await page.locator('body').innerText()).normalize('NFC');
    const ids = [...new Set([...(html.match(TWELVE_DIGITS) ?? []), ...(text.match(TWELVE_DIGITS) ?? [])])];
    assert.ok(ids.length === 0, `logged out, the page contains 12-digit numbers (citizen IDs?): ${ids.join(', ')}`);
    const leaked = personalNumbers.filter((p) => [p, digitsOf(p)].some((form) => html.includes(form) || text.includes(form)));
    assert.ok(leaked.length === 0, `logged out, the page shows numbers that #teams shows officials: ${leaked.join(', ')}`);
    return `no 12-digit number, none of the ${personalNumbers.length} IDs/phone numbers #teams shows when logged in`;
  });

  const passed = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => r.ok === false).length;
  const skipped = results.filter((r) => r.skipped).length;
  console.log(`ward_overview: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (unreachable) return 2;
  return failed || skipped ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  console.error(`ward_overview: FAILED: ${e.stack || e}`);
  code = 1;
} finally {
  if (browser) await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000))]);
  clearTimeout(watchdog);
}
if (code !== 0) console.error(`ward_overview: FAILED (exit ${code})`);
process.exit(code);
