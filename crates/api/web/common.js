// Shared by the dashboard and the door panel: the token, API calls, the live event stream.
// The token travels only in the Authorization header: never in a URL, never logged.

const KEY = 'zs-token';

/** The token from the URL fragment (moved into the session and off the address bar), or the session's. */
export function takeToken() {
  const m = location.hash.match(/(?:^#|&)token=([^&]*)/);
  if (m) {
    sessionStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * Runs `start(token)` with the session's token, or once one is pasted into the page's
 * `#login` form (which then goes into the session).
 */
export function withToken(token, start) {
  if (token) { start(token); return; }
  const form = document.getElementById('login');
  form.hidden = false;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const pasted = document.getElementById('token').value.trim();
    saveToken(pasted);
    start(pasted);
  });
}

/** The state view of a `/v1/events` transition (the shape `GET /v1/spaces` answers with). */
export function stateOf(t) {
  return {
    space: t.spaceState, room: t.roomState, bookingId: t.bookingId,
    nextBookingAt: t.nextBookingAt, since: t.occurredAt, sequence: t.sequence,
  };
}

/** Milliseconds of an ISO-8601 duration as the API writes them (PT10M, PT1H30M, PT45S). */
export function durationMs(iso) {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(iso || '');
  return m ? ((+(m[1] || 0) * 60 + +(m[2] || 0)) * 60 + +(m[3] || 0)) * 1000 : 0;
}

/** An API call; a refusal throws an Error carrying the API's message, code and status. */
export async function api(token, method, path, body) {
  const headers = { Authorization: 'Bearer ' + token };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    const err = new Error((data && data.error && data.error.message) || ('HTTP ' + r.status));
    err.status = r.status;
    err.code = data && data.error ? data.error.code : undefined;
    throw err;
  }
  return data;
}

/** Parses one server-sent event block into {event, data, id}. */
function parseBlock(block) {
  const ev = { event: 'message', data: '', id: null };
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') ev.event = value;
    else if (field === 'data') ev.data += (ev.data ? '\n' : '') + value;
    else if (field === 'id') ev.id = value;
  }
  return ev;
}

/**
 * Follows /v1/events with fetch (EventSource cannot send the Authorization header). After a
 * drop it reconnects with the last id as Last-Event-ID, so the server replays what was missed.
 * handlers: onEvent(name, data), onState('live' | 'reconnecting').
 */
export function follow(token, query, handlers) {
  let last = null;
  const once = async () => {
    const headers = { Authorization: 'Bearer ' + token, Accept: 'text/event-stream' };
    if (last) headers['Last-Event-ID'] = last;
    const r = await fetch('/v1/events' + query, { headers, cache: 'no-store' });
    if (!r.ok) throw new Error('events: HTTP ' + r.status);
    handlers.onState('live');
    const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value.replace(/\r\n?/g, '\n');
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = parseBlock(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (ev.id !== null) last = ev.id;
        if (ev.data) handlers.onEvent(ev.event, JSON.parse(ev.data));
      }
    }
  };
  (async () => {
    for (;;) {
      try { await once(); } catch { /* dropped or refused: try again */ }
      handlers.onState('reconnecting');
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
}

/** An element with text content only: user text is never parsed as markup. */
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else if (k === 'onclick') e.addEventListener('click', v);
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

const clocks = new Map();

/** "14:05" in the space's own zone (one formatter per zone). */
export function clock(iso, zone) {
  if (!iso) return '';
  if (!clocks.has(zone)) {
    clocks.set(zone, new Intl.DateTimeFormat(undefined, {
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: zone,
    }));
  }
  return clocks.get(zone).format(new Date(iso));
}
