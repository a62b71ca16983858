// The dashboard's utilisation charts: per space and in total, booked, occupied and released
// hours against the open hours, and the no-show rate, over a chosen range (GET /v1/utilisation).
import { api, el } from './common.js';

const SVG = 'http://www.w3.org/2000/svg';
const SERIES = [
  ['openSeconds', 'open'], ['bookedSeconds', 'booked'],
  ['occupiedSeconds', 'occupied'], ['releasedSeconds', 'released'],
];

function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

const hours = (s) => (s < 3600 ? (s / 60).toFixed(1) + ' min' : (s / 3600).toFixed(1) + ' h');

/** One row: a bar per series, scaled to `max` seconds. */
function row(label, figures, max, id) {
  const width = 320;
  const chart = svg('svg', { width, height: 4 * 12, role: 'img', 'aria-label': label });
  SERIES.forEach(([key, name], i) => {
    const w = max > 0 ? Math.round((figures[key] / max) * width) : 0;
    const bar = svg('rect', { x: 0, y: i * 12, width: w, height: 10, class: 'bar ' + name });
    const title = svg('title', {});
    title.textContent = `${name}: ${hours(figures[key])}`;
    bar.append(title);
    chart.append(bar);
  });
  const rate = figures.bookings ? Math.round((100 * figures.noShows) / figures.bookings) + ' %' : '—';
  return el('tr', {
    'data-utilisation-space': id, 'data-booked-seconds': String(figures.bookedSeconds),
    'data-occupied-seconds': String(figures.occupiedSeconds),
  },
  el('th', {}, label), el('td', {}, chart),
  el('td', {}, `${hours(figures.bookedSeconds)} booked · ${hours(figures.occupiedSeconds)} occupied · `
    + `${hours(figures.releasedSeconds)} released of ${hours(figures.openSeconds)} open`),
  el('td', {}, `${figures.bookings} bookings, ${figures.checkIns} check-ins, no-shows ${rate}`));
}

/** Reads the range chosen in `select` (days back from now) and draws the table into `box`. */
export async function drawUtilisation(token, select, box, say) {
  const days = Number(select.value);
  const to = new Date();
  const from = new Date(to.getTime() - days * 86400e3);
  try {
    const u = await api(token, 'GET', `/v1/utilisation?from=${from.toISOString()}&to=${to.toISOString()}`);
    const max = Math.max(1, ...u.spaces.map((s) => Math.max(s.openSeconds, s.bookedSeconds)));
    const maxTotal = Math.max(1, u.total.openSeconds, u.total.bookedSeconds);
    const legend = el('p', { class: 'legend' }, ...SERIES.map(([, name]) => el('span', { class: 'key ' + name }, name)));
    const table = el('table', { class: 'utilisation' },
      row('All spaces', u.total, maxTotal, ''),
      ...u.spaces.map((s) => row(s.name + ' (' + s.spaceId + ')', s, max, s.spaceId)));
    box.replaceChildren(legend, table);
  } catch (e) {
    say('could not read the utilisation: ' + e.message);
  }
}
