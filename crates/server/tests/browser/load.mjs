// The dashboard under load: N spaces (ZS_DASH_SPACES, default 1000), then transitions at a
// steady rate (ZS_DASH_RATE per second, default 200, for ZS_DASH_SECS, default 5) made through
// the API. Prints one JSON line: how long until all cards were shown and the stream live, the
// rate the server took, and how far behind the page was (sampled lag, catch-up at the end).
// Usage: node load.mjs BASE_URL ADMIN_TOKEN
import { chromium } from 'playwright-core';

const [base, admin] = process.argv.slice(2);
const N = Number(process.env.ZS_DASH_SPACES || 1000);
const RATE = Number(process.env.ZS_DASH_RATE || 200);
const SECS = Number(process.env.ZS_DASH_SECS || 5);

async function call(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: 'Bearer ' + admin, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}

/** Runs `task(i)` for i in [0, n) with `width` at a time. */
async function pool(n, width, task) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await task(next++);
  }));
}

const id = (i) => 'L' + String(i).padStart(4, '0');
await pool(N, 16, (i) => call('POST', '/v1/spaces', { id: id(i), name: 'Room ' + i, timezone: 'Europe/Berlin' }));

const browser = await chromium.launch({ executablePath: process.env.ZS_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const figures = { spaces: N };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const t0 = Date.now();
  await page.goto(`${base}/#token=${admin}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-space-id]').length === n
    && document.getElementById('stream').dataset.stream === 'live', N, { timeout: 30000, polling: 'raf' });
  figures.shownMs = Date.now() - t0;
  // The page answers input at once: a search narrows 1,000 cards to one.
  const t1 = Date.now();
  await page.fill('#search', 'Room 777');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-space-id]')].filter((c) => !c.hidden).length === 1,
    null, { timeout: 5000, polling: 'raf' });
  figures.searchMs = Date.now() - t1;
  await page.fill('#search', '');

  // Transitions at RATE per second: each op toggles maintenance on the next space.
  const disabled = new Array(N).fill(false);
  const lags = [];
  let done = 0;
  const total = RATE * SECS;
  const start = Date.now();
  const sampled = [];
  await pool(total, 32, async (k) => {
    const due = start + (k * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = k % N;
    disabled[i] = !disabled[i];
    const want = disabled[i] ? 'in-maintenance' : 'available_now';
    await call('POST', `/v1/spaces/${id(i)}/${disabled[i] ? 'disable' : 'enable'}`);
    done++;
    if (k % RATE === 0) {
      // Once a second: how long after the API answered does the page show this change?
      const t = Date.now();
      sampled.push(page.waitForFunction(([s, w]) => document.querySelector(`[data-space-id="${s}"]`)?.dataset.spaceState === w,
        [id(i), want], { timeout: 30000, polling: 'raf' }).then(() => lags.push(Date.now() - t)));
    }
  });
  const took = (Date.now() - start) / 1000;
  figures.transitions = done;
  figures.serverRate = Math.round(done / took);
  const t2 = Date.now();
  const want = disabled.map((d) => (d ? 'in-maintenance' : 'available_now'));
  await page.waitForFunction((w) => w.every((s, i) => document.querySelector(`[data-space-id="L${String(i).padStart(4, '0')}"]`)?.dataset.spaceState === s),
    want, { timeout: 60000, polling: 200 });
  figures.catchUpMs = Date.now() - t2;
  await Promise.all(sampled);
  lags.sort((a, b) => a - b);
  figures.lagMedianMs = lags[Math.floor(lags.length / 2)];
  figures.lagMaxMs = lags[lags.length - 1];
  if (errors.length) throw new Error('errors in the page: ' + errors.join(' | '));
  console.log(JSON.stringify(figures));
} finally {
  await browser.close();
}
