// The dashboard and the door panel in a real browser (Chromium through playwright-core),
// against the real binary. Usage: node dashboard.mjs BASE_URL ADMIN_TOKEN
// Prints one JSON line of figures; exits non-zero with the reason on any failure.
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, admin] = process.argv.slice(2);
const executablePath = process.env.ZS_CHROMIUM || '/usr/bin/chromium';
const figures = {};
// Where the screenshots go (scripts/screenshots.sh points it at docs/screenshots).
const shots = process.env.ZS_SCREENSHOTS;
if (shots) fs.mkdirSync(shots, { recursive: true });
async function shoot(p, name) {
  if (shots) await p.screenshot({ path: path.join(shots, name + '.png') });
}

async function call(token, method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

/** Milliseconds until the selector's attribute has the value (fails after `within`). */
async function until(page, selector, attr, value, within = 5000) {
  const t0 = Date.now();
  await page.waitForFunction(
    ([s, a, v]) => { const e = document.querySelector(s); return e && e.getAttribute(a) === v; },
    [selector, attr, value], { timeout: within, polling: 'raf' });
  return Date.now() - t0;
}

// The browser reaches the server through this TCP relay, so the test can cut its connections
// (a real network drop) while the API calls below go straight to the server.
const relay = { up: true, sockets: new Set() };
const target = new URL(base);
const proxy = net.createServer((client) => {
  if (!relay.up) { client.destroy(); return; }
  const server = net.connect(Number(target.port), target.hostname);
  const close = () => {
    client.destroy(); server.destroy();
    relay.sockets.delete(client); relay.sockets.delete(server);
  };
  for (const s of [client, server]) { relay.sockets.add(s); s.on('error', close); s.on('close', close); }
  client.pipe(server); server.pipe(client);
});
await new Promise((res) => proxy.listen(0, '127.0.0.1', res));
const front = `http://127.0.0.1:${proxy.address().port}`;
const cut = () => { relay.up = false; for (const s of relay.sockets) s.destroy(); };
const restore = () => { relay.up = true; };

const soon = (mins) => new Date(Date.now() + mins * 60e3).toISOString();
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  // A 10" tablet's screen, landscape, for the dashboard and the panel alike.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A console error is a failure, except the network errors of the connections the test cuts.
  // A refusal the test provokes is logged once by the browser: `expect` allows that one.
  const allowed = [];
  const expect = (text) => allowed.push(text);
  const consoleErrors = (p, who) => p.on('console', (m) => {
    if (m.type() !== 'error' || m.text().startsWith('Failed to load resource: net::')) return;
    const i = allowed.findIndex((a) => m.text().includes(a));
    if (i >= 0) allowed.splice(i, 1);
    else errors.push(who + m.text());
  });
  consoleErrors(page, '');

  // The token handed over in the fragment leaves the address bar and stays in the session.
  await page.goto(`${front}/#token=${admin}`);
  if (page.url().includes('token')) throw new Error('the token stayed in the URL: ' + page.url());
  await until(page, '#stream', 'data-stream', 'live');

  // A space and a booking made through the API appear; the hostile title is only text.
  await call(admin, 'POST', '/v1/spaces', { id: 'b1', name: 'Board room', timezone: 'Europe/Berlin' });
  const title = '<img src=x onerror="window.__xss=1">';
  const booking = await call(admin, 'POST', '/v1/bookings', { spaceId: 'b1', title, start: soon(5), end: soon(35) });
  await until(page, '[data-space-id="b1"]', 'data-room-state', 'upcoming');
  await page.waitForFunction((t) => [...document.querySelectorAll('[data-space-id="b1"] .title')]
    .some((e) => e.textContent === t), title, { timeout: 5000 });
  if (await page.evaluate(() => window.__xss !== undefined)) throw new Error('the title ran as markup');
  if (await page.locator('[data-space-id="b1"] img').count() !== 0) throw new Error('an img element from a title');

  // The card's day strip: the local day in the space's zone, with the booking on it; the
  // page's own day arithmetic gives 23 and 25 hours on Berlin's DST days and takes the earlier
  // of an ambiguous time, the later side of a gap (as business hours do).
  const strip = page.locator('[data-space-id="b1"] svg.timeline');
  if (await strip.count() !== 1) throw new Error('no day strip on the card');
  if (await strip.locator('rect.booking').count() !== 1) throw new Error('the booking is not on the strip');
  const dst = await page.evaluate(async () => {
    const m = await import('/assets/timeline.js');
    const len = (iso, zone) => { const d = m.localDay(Date.parse(iso), zone); return (d.end - d.start) / 3600e3; };
    return [len('2026-03-29T12:00:00Z', 'Europe/Berlin'), len('2026-10-25T12:00:00Z', 'Europe/Berlin'),
      len('2026-04-05T12:00:00Z', 'Australia/Lord_Howe'), len('2026-11-01T17:00:00Z', 'America/New_York'),
      new Date(m.instant('Europe/Berlin', 2026, 10, 25, 2, 30)).toISOString(),
      new Date(m.instant('Europe/Berlin', 2026, 3, 29, 2, 30)).toISOString()];
  });
  const wantDst = [23, 25, 24.5, 25, '2026-10-25T00:30:00.000Z', '2026-03-29T01:30:00.000Z'];
  if (JSON.stringify(dst) !== JSON.stringify(wantDst)) throw new Error('day arithmetic: ' + JSON.stringify(dst));

  // A booking made with the page's form appears on its card; one that overlaps it is
  // refused, and the page shows the API's reason.
  const local = (ms) => {
    const d = new Date(ms);
    const p2 = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}`;
  };
  const at = Math.ceil((Date.now() + 60 * 60e3) / 60e3) * 60e3;
  await page.locator('#new-booking summary').click();
  await page.selectOption('#book-space', 'b1');
  await page.fill('#book-title', 'Review from the form');
  await page.fill('#book-start', local(at));
  await page.selectOption('#book-length', '30');
  await page.locator('#book button[type=submit]').click();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-space-id="b1"] .title')]
    .some((e) => e.textContent === 'Review from the form'), null, { timeout: 5000 });
  const made = (await call(admin, 'GET', '/v1/bookings?spaceId=b1')).items.find((b) => b.title === 'Review from the form');
  if (!made || Date.parse(made.start) !== at || Date.parse(made.end) !== at + 30 * 60e3) {
    throw new Error('the form booked ' + JSON.stringify(made));
  }
  expect('status of 409');
  await page.fill('#book-start', local(at + 15 * 60e3));
  await page.locator('#book button[type=submit]').click();
  await page.waitForFunction(() => /^book: (?!done)/.test(document.getElementById('message').textContent),
    null, { timeout: 5000 });
  const refusal = await page.locator('#message').textContent();
  const count = (await call(admin, 'GET', '/v1/bookings?spaceId=b1')).items.length;
  if (count !== 2) throw new Error(`the refused booking was stored (${count} bookings; page said ${refusal})`);
  await call(admin, 'POST', `/v1/bookings/${made.id}/cancel`);

  // Maintenance through the API shows within a second.
  await call(admin, 'POST', '/v1/spaces/b1/disable');
  figures.maintenanceShownMs = await until(page, '[data-space-id="b1"]', 'data-space-state', 'in-maintenance', 1000);
  await call(admin, 'POST', '/v1/spaces/b1/enable');
  await until(page, '[data-space-id="b1"]', 'data-space-state', 'available_at');

  // The stream drops (its connection is cut); what happens meanwhile arrives on resume.
  cut();
  await until(page, '#stream', 'data-stream', 'reconnecting');
  await call(admin, 'POST', '/v1/spaces/b1/disable');
  const missed = (await call(admin, 'GET', '/v1/spaces/b1')).state.sequence;
  restore();
  // The transition itself comes over the resumed stream (replayed after Last-Event-ID), not
  // only from re-reading the spaces.
  figures.resumedMs = await until(page, '#stream', 'data-last-transition', `b1.${missed}`, 5000);
  await until(page, '[data-space-id="b1"]', 'data-space-state', 'in-maintenance');
  await until(page, '#stream', 'data-stream', 'live');
  await call(admin, 'POST', '/v1/spaces/b1/enable');

  // The door panel, with a device token: check in there, see the room occupied on the dashboard.
  const device = await call(admin, 'POST', '/v1/tokens', { role: 'device', spaceIds: ['b1'] });
  const panel = await context.newPage();
  panel.on('pageerror', (e) => errors.push('panel: ' + e.message));
  consoleErrors(panel, 'panel: ');
  await panel.goto(`${front}/panel/b1#token=${device.token}`);
  if (panel.url().includes('token')) throw new Error('the token stayed in the panel URL');
  await until(panel, '[data-panel]', 'data-room-state', 'upcoming').catch(async (e) => {
    throw new Error(`${e.message}; the panel shows: ${await panel.locator('body').innerText()}`);
  });
  const shown = await panel.locator('#current').textContent();
  if (!shown.includes(title)) throw new Error('the panel does not show the booking: ' + shown);
  await shoot(panel, 'panel-upcoming');
  await panel.locator('#checkin').click();
  await until(panel, '[data-panel]', 'data-room-state', 'occupied');
  await shoot(panel, 'panel-occupied');
  figures.checkInShownMs = await until(page, '[data-space-id="b1"]', 'data-room-state', 'occupied');
  const b = await call(admin, 'GET', `/v1/bookings/${booking.id}`);
  if (b.status !== 'checked_in') throw new Error('the booking is ' + b.status);

  // The other looks of a panel, and a dashboard with a few spaces: the screenshots.
  await call(admin, 'POST', `/v1/bookings/${booking.id}/check-out`);
  await until(panel, '[data-panel]', 'data-room-state', 'cleaning');
  await shoot(panel, 'panel-cleaning');
  await call(admin, 'POST', '/v1/spaces', { id: 'b2', name: 'Focus room', timezone: 'Europe/Berlin' });
  await panel.goto(`${front}/panel/b2#token=${admin}`);
  await until(panel, '[data-panel]', 'data-room-state', 'free');
  await shoot(panel, 'panel-free');
  await call(admin, 'POST', '/v1/spaces/b2/disable');
  await until(panel, '[data-panel]', 'data-space-state', 'in-maintenance');
  await shoot(panel, 'panel-maintenance');
  await call(admin, 'POST', '/v1/spaces/b2/enable');
  await call(admin, 'POST', '/v1/spaces', { id: 'b3', name: 'Library', timezone: 'America/New_York' });
  await call(admin, 'POST', '/v1/bookings', { spaceId: 'b3', title: 'Reading group', start: soon(60), end: soon(120) });
  await call(admin, 'POST', '/v1/bookings', { spaceId: 'b2', title: 'Stand-up', start: soon(8), end: soon(23) });
  await until(page, '[data-space-id="b3"]', 'data-space-state', 'available_at', 15000);
  await until(page, '[data-space-id="b2"]', 'data-room-state', 'upcoming');
  // Utilisation over the last 7 days: the session checked in early and out again shows as
  // occupied time (its booked time lies ahead, outside the range).
  await page.selectOption('#range', '7');
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-utilisation-space="b1"]');
    return r && Number(r.dataset.occupiedSeconds) > 0;
  }, null, { timeout: 5000 });
  const bars = await page.locator('[data-utilisation-space="b1"] rect').count();
  if (bars !== 4) throw new Error(`${bars} bars for b1`);
  await shoot(page, 'dashboard');

  // Walk-up on a free room's panel (a device limited to it): "book now 30 min" checks in at
  // once, and the dashboard's card turns occupied.
  await call(admin, 'POST', '/v1/spaces', { id: 'b4', name: 'Phone booth', timezone: 'UTC' });
  const booth = await call(admin, 'POST', '/v1/tokens', { role: 'device', spaceIds: ['b4'] });
  await panel.goto(`${front}/panel/b4#token=${booth.token}`);
  await until(panel, '[data-panel]', 'data-room-state', 'free');
  if (await panel.locator('#book-now').isHidden()) throw new Error('no book-now buttons on a free room');
  await panel.locator('#book-now button[data-minutes="30"]').click();
  await until(panel, '[data-panel]', 'data-room-state', 'occupied');
  figures.walkUpShownMs = await until(page, '[data-space-id="b4"]', 'data-room-state', 'occupied');
  if (!(await panel.locator('#book-now').isHidden())) throw new Error('book-now still offered while occupied');
  const walked = (await call(admin, 'GET', '/v1/bookings?spaceId=b4')).items;
  if (walked.length !== 1 || walked[0].status !== 'checked_in'
      || Date.parse(walked[0].end) - Date.parse(walked[0].start) !== 30 * 60e3) {
    throw new Error('the walk-up stored ' + JSON.stringify(walked));
  }
  const w = walked[0];

  // Extend it from the dashboard by 15 minutes; the API shows the new end.
  const extendButton = page.locator(`[data-space-id="b4"] [data-booking-id="${w.id}"] button[data-action="extend"]`);
  await extendButton.click();
  const extendedEnd = Date.parse(w.end) + 15 * 60e3;
  const t0 = Date.now();
  while (Date.parse((await call(admin, 'GET', `/v1/bookings/${w.id}`)).end) !== extendedEnd) {
    if (Date.now() - t0 > 5000) throw new Error('the extension did not reach the booking');
    await new Promise((r) => setTimeout(r, 50));
  }
  // A booking right after the new end (inside its cleaning): a second extension is refused,
  // the page shows the API's reason and the end stays.
  await call(admin, 'POST', '/v1/bookings', {
    spaceId: 'b4', title: 'Next call', start: new Date(extendedEnd + 15 * 60e3).toISOString(),
    end: new Date(extendedEnd + 45 * 60e3).toISOString(),
  });
  // A booking that changes no state reaches an open page at its next periodic refresh
  // (every 10 s): wait longer than one period.
  await page.waitForFunction((id) => {
    const e = document.querySelector(`[data-booking-id="${id}"] button[data-action="extend"]`);
    return e && e.closest('[data-space-id="b4"]').querySelectorAll('li.booking').length === 2;
  }, w.id, { timeout: 15000 });
  expect('status of 409');
  await extendButton.click();
  await page.waitForFunction(() => /^extend: (?!done)/.test(document.getElementById('message').textContent),
    null, { timeout: 5000 });
  const extendRefusal = await page.locator('#message').textContent();
  if (!extendRefusal.includes('already booked')) throw new Error('the refusal shown: ' + extendRefusal);
  if (Date.parse((await call(admin, 'GET', `/v1/bookings/${w.id}`)).end) !== extendedEnd) {
    throw new Error('a refused extension moved the end');
  }

  if (errors.length) throw new Error('errors in the page: ' + errors.join(' | '));
  console.log(JSON.stringify(figures));
} finally {
  await browser.close();
  proxy.close();
}
