// The door panel of one space: a full-screen colour per room state (grey when closed or in
// maintenance), the current and next booking, the time left to check in, a check-in button,
// and "book now" buttons while the room is free.
import { takeToken, withToken, api, follow, clock, durationMs, stateOf } from './common.js';

const spaceId = decodeURIComponent(location.pathname.split('/').pop());
const $ = (id) => document.getElementById(id);
let token = takeToken();
let space = null;
let bookings = [];
let refreshTimer = null;

const LABEL = {
  free: 'Free', upcoming: 'Starting soon', occupied: 'Occupied', cleaning: 'Cleaning',
  closed: 'Closed', maintenance: 'Out of service',
};

function look(st) {
  if (st.space === 'in-maintenance') return 'maintenance';
  if (st.space === 'not_available') return 'closed';
  return st.room;
}

function line(b, zone) {
  return b ? `${clock(b.start, zone)}–${clock(b.end, zone)} ${b.title || ''}` : '';
}

function render() {
  const st = space.state;
  const zone = space.timezone;
  const root = $('panel');
  root.hidden = false;
  root.dataset.spaceState = st.space;
  root.dataset.roomState = st.room;
  root.className = 'panel look-' + look(st);
  $('name').textContent = space.name;
  $('state').textContent = LABEL[look(st)];
  const now = Date.now();
  const live = bookings.filter((b) => ['scheduled', 'upcoming', 'awaiting_check_in', 'checked_in'].includes(b.status));
  const current = live.find((b) => b.id === st.bookingId) || null;
  const next = live.find((b) => b !== current && Date.parse(b.start) > now) || null;
  $('current').textContent = current ? 'Now: ' + line(current, zone) : '';
  $('next').textContent = next ? 'Next: ' + line(next, zone) : 'Nothing else booked today';
  const waiting = current && ['upcoming', 'awaiting_check_in'].includes(current.status) ? current : null;
  $('checkin').hidden = !waiting;
  $('checkin').dataset.bookingId = waiting ? waiting.id : '';
  // A walk-up is offered while the room is free and the space open; the API still decides.
  $('book-now').hidden = !(look(st) === 'free');
  renderCountdown(waiting);
}

/** Time left until the booking is released as a no-show (its start plus the grace). */
function renderCountdown(b) {
  if (!b) { $('countdown').textContent = ''; return; }
  const release = Date.parse(b.start) + durationMs(space.noShowGrace);
  const left = Math.max(0, Math.round((release - Date.now()) / 1000));
  $('countdown').textContent = `Check in within ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

async function refresh() {
  refreshTimer = null;
  try {
    const now = Date.now();
    const from = new Date(now - 12 * 3600e3).toISOString();
    const to = new Date(now + 24 * 3600e3).toISOString();
    const [s, bl] = await Promise.all([
      api(token, 'GET', `/v1/spaces/${encodeURIComponent(spaceId)}`),
      api(token, 'GET', `/v1/bookings?spaceId=${encodeURIComponent(spaceId)}&from=${from}&to=${to}&limit=1000`),
    ]);
    space = s;
    bookings = bl.items;
    render();
  } catch (e) {
    $('message').textContent = e.message;
  }
}

function scheduleRefresh(ms) {
  if (refreshTimer === null) refreshTimer = setTimeout(refresh, ms);
}

function start(given) {
  token = given;
  $('login').hidden = true;
  $('checkin').addEventListener('click', async () => {
    try {
      await api(token, 'POST', `/v1/bookings/${$('checkin').dataset.bookingId}/check-in`);
      $('message').textContent = 'Checked in';
    } catch (e) {
      $('message').textContent = e.message;
    }
    scheduleRefresh(0);
  });
  for (const b of $('book-now').querySelectorAll('button')) {
    b.addEventListener('click', async () => {
      try {
        await api(token, 'POST', `/v1/spaces/${encodeURIComponent(spaceId)}/book-now`,
          { duration: `PT${b.dataset.minutes}M`, title: 'Walk-up' });
        $('message').textContent = `Booked for ${b.dataset.minutes} min`;
      } catch (e) {
        $('message').textContent = e.message;
      }
      scheduleRefresh(0);
    });
  }
  refresh();
  setInterval(() => scheduleRefresh(0), 30000);
  setInterval(() => { if (space) render(); }, 1000);
  follow(token, '?spaceId=' + encodeURIComponent(spaceId), {
    onEvent: (name, t) => {
      if (name === 'transition' && space && t.sequence >= space.state.sequence) {
        space.state = stateOf(t);
        render();
      }
      scheduleRefresh(200);
    },
    onState: (s) => { $('stream').dataset.stream = s; $('stream').textContent = s === 'live' ? '' : s; },
  });
}

withToken(token, start);
