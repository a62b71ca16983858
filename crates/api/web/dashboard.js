// The operator's dashboard: every space with its two states, its bookings of the day and the
// actions the token allows (check in/out, cancel, extend, maintenance), kept live from
// /v1/events.
import { takeToken, withToken, forgetToken, api, follow, el, clock, stateOf } from './common.js';
import { drawUtilisation } from './utilisation.js';
import { timeline } from './timeline.js';

const spaces = new Map(); // id -> {space, card}
let bookingsOf = new Map(); // space id -> its bookings in the window, by start
let token = takeToken();
let refreshTimer = null;

const $ = (id) => document.getElementById(id);

function say(text) {
  $('message').textContent = text;
}

/** Runs an action; the API's refusal message is shown as it is. */
async function act(label, fn) {
  try {
    await fn();
    say(label + ': done');
    scheduleRefresh(0);
  } catch (e) {
    say(label + ': ' + e.message);
  }
}

function bookingActions(b) {
  const out = [];
  const post = (what, path) => el('button', {
    type: 'button', 'data-action': what,
    onclick: () => act(what, () => api(token, 'POST', path)),
  }, what);
  if (['scheduled', 'upcoming', 'awaiting_check_in'].includes(b.status)) {
    out.push(post('check in', `/v1/bookings/${b.id}/check-in`));
    out.push(post('cancel', `/v1/bookings/${b.id}/cancel`));
  }
  if (b.status === 'checked_in') out.push(post('check out', `/v1/bookings/${b.id}/check-out`));
  if (['scheduled', 'upcoming', 'awaiting_check_in', 'checked_in'].includes(b.status)) {
    // 15 minutes past the current end; a refusal (the next booking, closing time) is shown.
    const end = new Date(Date.parse(b.end) + 15 * 60e3).toISOString();
    out.push(el('button', {
      type: 'button', 'data-action': 'extend',
      onclick: () => act('extend', () => api(token, 'POST', `/v1/bookings/${b.id}/extend`, { end })),
    }, 'extend +15 min'));
  }
  return out;
}

function renderCard(id) {
  const entry = spaces.get(id);
  const s = entry.space;
  const st = s.state;
  const zone = s.timezone;
  const mine = bookingsOf.get(id) || [];
  // Drawn again only when something it shows changed (a re-read of 1,000 spaces redraws few).
  const minute = Math.floor(Date.now() / 60000); // the "now" line moves once a minute
  const key = JSON.stringify([s, mine, minute]);
  if (entry.card && entry.key === key) return entry.card;
  entry.key = key;
  const about = mine.find((b) => b.id === st.bookingId);
  const card = el('article', {
    class: `space room-${st.room} space-${st.space}`,
    'data-space-id': id, 'data-space-state': st.space, 'data-room-state': st.room,
  },
  el('h2', {}, s.name, ' ', el('small', {}, id)),
  el('p', { class: 'states' },
    el('span', { class: 'badge space-state' }, st.space), ' ',
    el('span', { class: 'badge room-state' }, st.room)),
  timeline(s, mine, Date.now()),
  el('p', {}, 'about: ', about ? about.title || about.id : (st.bookingId || '—')),
  el('p', {}, 'next at: ', st.nextBookingAt ? clock(st.nextBookingAt, zone) : '—',
    ' · since ', clock(st.since, zone)),
  el('ul', { class: 'bookings' }, ...mine.map((b) => el('li', {
    class: 'booking status-' + b.status, 'data-booking-id': b.id,
  }, `${clock(b.start, zone)}–${clock(b.end, zone)} `, el('span', { class: 'title' }, b.title || ''),
  ` (${b.status}) `, ...bookingActions(b)))),
  el('p', { class: 'actions' },
    el('button', {
      type: 'button', 'data-action': 'maintenance',
      onclick: () => act('maintenance', () => api(token, 'POST',
        `/v1/spaces/${id}/${s.maintenance ? 'enable' : 'disable'}`)),
    }, s.maintenance ? 'end maintenance' : 'start maintenance')));
  if (entry.card) entry.card.replaceWith(card);
  entry.card = card;
  applyFilter(card);
  return card;
}

function applyFilter(card) {
  const q = $('search').value.trim().toLowerCase();
  const f = $('filter').value;
  const text = card.querySelector('h2').textContent.toLowerCase();
  const state = f.startsWith('room:') ? card.dataset.roomState === f.slice(5)
    : !f || card.dataset.spaceState === f;
  card.hidden = !(state && (!q || text.includes(q)));
}

async function refresh() {
  refreshTimer = null;
  try {
    const now = Date.now();
    const from = new Date(now - 12 * 3600e3).toISOString();
    const to = new Date(now + 36 * 3600e3).toISOString();
    const [list, bl] = await Promise.all([
      api(token, 'GET', '/v1/spaces'),
      api(token, 'GET', `/v1/bookings?from=${from}&to=${to}&limit=1000`),
    ]);
    bookingsOf = new Map();
    for (const b of bl.items) {
      if (!bookingsOf.has(b.spaceId)) bookingsOf.set(b.spaceId, []);
      bookingsOf.get(b.spaceId).push(b);
    }
    const main = $('spaces');
    for (const s of list.items) {
      const entry = spaces.get(s.id) || { card: null };
      entry.space = s;
      spaces.set(s.id, entry);
      const card = renderCard(s.id);
      if (!card.isConnected) main.append(card);
    }
    const listed = new Set(list.items.map((s) => s.id));
    for (const [id, entry] of spaces) {
      if (!listed.has(id)) { entry.card.remove(); spaces.delete(id); }
    }
    if (spaces.size !== $('book-space').options.length) fillSpaceChoice();
  } catch (e) {
    if (e.status === 401) { forgetToken(); location.reload(); return; }
    say('could not read the spaces: ' + e.message);
  }
}

function scheduleRefresh(ms) {
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, ms);
}

/** A transition: the card changes at once; bookings are read again shortly after. */
function onTransition(t) {
  $('stream').dataset.lastTransition = `${t.spaceId}.${t.sequence}`;
  const entry = spaces.get(t.spaceId);
  if (!entry) { scheduleRefresh(0); return; }
  if (t.sequence < entry.space.state.sequence) return;
  entry.space.state = stateOf(t);
  entry.space.maintenance = t.spaceState === 'in-maintenance';
  renderCard(t.spaceId);
  scheduleRefresh(500);
}

/** The spaces to book, by name, kept in step with the cards. */
function fillSpaceChoice() {
  const select = $('book-space');
  const chosen = select.value;
  const options = [...spaces.values()].map((e) => e.space)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    .map((s) => el('option', { value: s.id }, `${s.name} (${s.id})`));
  select.replaceChildren(...options);
  if (chosen) select.value = chosen;
}

/** The form's start is the browser's local time; the API gets the instant. */
function bookFromForm(e) {
  e.preventDefault();
  const start = new Date($('book-start').value);
  const end = new Date(start.getTime() + Number($('book-length').value) * 60e3);
  const body = { spaceId: $('book-space').value, start: start.toISOString(), end: end.toISOString() };
  const title = $('book-title').value.trim();
  if (title) body.title = title;
  act('book', () => api(token, 'POST', '/v1/bookings', body));
}

function start(given) {
  token = given;
  $('login').hidden = true;
  $('new-booking').hidden = false;
  $('book').addEventListener('submit', bookFromForm);
  $('tools').hidden = false;
  for (const id of ['search', 'filter']) {
    $(id).addEventListener('input', () => spaces.forEach((e) => applyFilter(e.card)));
  }
  $('logout').addEventListener('click', () => { forgetToken(); location.reload(); });
  refresh();
  setInterval(() => scheduleRefresh(0), 10000);
  const utilisation = () => drawUtilisation(token, $('range'), $('utilisation'), say);
  $('range').addEventListener('change', utilisation);
  utilisation();
  setInterval(utilisation, 60000);
  follow(token, '', {
    onEvent: (name, data) => {
      if (name === 'transition') onTransition(data);
      else if (name === 'reset') scheduleRefresh(0);
    },
    onState: (s) => {
      $('stream').dataset.stream = s;
      $('stream').textContent = s;
      if (s === 'live') scheduleRefresh(0);
    },
  });
}

withToken(token, start);
