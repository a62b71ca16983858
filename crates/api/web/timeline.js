// A space's day as a strip: business hours, bookings by status, cleaning, maintenance and a
// "now" line, over the local day in the space's own zone (23 or 25 hours on DST days).

import { durationMs } from './common.js';

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 1000;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

// One formatter per zone, and each answer remembered: a dashboard of 1,000 spaces draws
// 1,000 strips in a handful of zones.
const formatters = new Map();
const memo = new Map();

function remember(key, compute) {
  if (!memo.has(key)) {
    if (memo.size > 10000) memo.clear();
    memo.set(key, compute());
  }
  return memo.get(key);
}

/** The wall-clock fields of instant `t` (ms) in `zone`. */
function wall(t, zone) {
  if (!formatters.has(zone)) {
    formatters.set(zone, new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short',
    }));
  }
  const parts = formatters.get(zone).formatToParts(new Date(t));
  const f = Object.fromEntries(parts.map((p) => [p.type, p.value]));
  return { y: +f.year, m: +f.month, d: +f.day, h: +f.hour, min: +f.minute, s: +f.second, wd: f.weekday.toLowerCase().slice(0, 3) };
}

/** Offset of `zone` from UTC at instant `t`, in ms. */
function offset(t, zone) {
  const w = wall(t, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s) - Math.floor(t / 1000) * 1000;
}

/**
 * The instant of local wall time y-m-d h:min in `zone`, as business hours resolve it: an
 * ambiguous time (DST ends) takes the earlier instant; a time in a gap (DST starts) moves
 * forward by the gap.
 */
export function instant(zone, y, m, d, h = 0, min = 0) {
  return remember(`i|${zone}|${y}|${m}|${d}|${h}|${min}`, () => resolve(zone, y, m, d, h, min));
}

function resolve(zone, y, m, d, h, min) {
  const target = Date.UTC(y, m - 1, d, h, min);
  const before = offset(target - 86400e3, zone);
  const after = offset(target + 86400e3, zone);
  const fits = [target - before, target - after]
    .filter((t) => t - Math.floor(t / 1000) * 1000 === 0 && offset(t, zone) === target - t)
    .sort((p, q) => p - q);
  return fits.length ? fits[0] : target - before;
}

/** [start, end) of the local day holding `now` in `zone`, and its weekday key. */
export function localDay(now, zone) {
  return remember(`d|${zone}|${Math.floor(now / 60000)}`, () => dayOf(now, zone));
}

function dayOf(now, zone) {
  const w = wall(now, zone);
  const start = instant(zone, w.y, w.m, w.d);
  const next = new Date(Date.UTC(w.y, w.m - 1, w.d + 1));
  const end = instant(zone, next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate());
  return { start, end, w, weekday: DAYS[new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay()] };
}

/** The strip for `space` and its `bookings`, drawn for the day holding `now`. */
export function timeline(space, bookings, now) {
  const zone = space.timezone;
  const day = localDay(now, zone);
  const span = day.end - day.start;
  const x = (t) => Math.max(0, Math.min(WIDTH, ((t - day.start) / span) * WIDTH));
  const strip = svg('svg', {
    class: 'timeline', viewBox: `0 0 ${WIDTH} 20`, preserveAspectRatio: 'none',
    'data-day-hours': String(Math.round(span / 3600e3)), role: 'img', 'aria-label': 'the day',
  });
  const rect = (from, to, cls, y = 0, h = 20) => {
    if (to <= day.start || from >= day.end) return;
    strip.append(svg('rect', { x: x(from), y, width: Math.max(1, x(to) - x(from)), height: h, class: cls }));
  };
  const hours = space.businessHours ? space.businessHours[day.weekday] || [] : [{ open: '00:00', close: '24:00' }];
  for (const { open, close } of hours) {
    const [oh, om] = open.split(':').map(Number);
    const [ch, cm] = close.split(':').map(Number);
    rect(instant(zone, day.w.y, day.w.m, day.w.d, oh, om), instant(zone, day.w.y, day.w.m, day.w.d, ch, cm), 'open');
  }
  const cleaning = durationMs(space.cleaning);
  for (const b of bookings) {
    if (b.status === 'cancelled') continue;
    rect(Date.parse(b.start), Date.parse(b.end), 'booking status-' + b.status, 3, 14);
    if (b.checkedInAt && b.endedAt) rect(Date.parse(b.endedAt), Date.parse(b.endedAt) + cleaning, 'cleaning', 3, 14);
  }
  if (space.maintenance) rect(Date.parse(space.state.since), day.end, 'maintenance', 0, 20);
  // The hour ticks as one path: 1,000 strips stay 1,000 elements of ticks, not 24,000.
  let ticks = '';
  for (let h = 1; h < Math.round(span / 3600e3); h++) ticks += `M${x(day.start + h * 3600e3).toFixed(1)} 17V20`;
  strip.append(svg('path', { d: ticks, class: 'tick' }));
  strip.append(svg('line', { x1: x(now), x2: x(now), y1: 0, y2: 20, class: 'now' }));
  return strip;
}
