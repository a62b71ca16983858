//! `GET /v1/events`: every transition as a server-sent event, read from the stored event
//! log (`zs_store::events`) in commit order. A client that reconnects with the `id:` of the
//! last event it saw (`Last-Event-ID`) gets what it missed, then the live events, with no
//! gap and no duplicate; transitions committed by other instances on the same PostgreSQL
//! arrive too.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, quoted};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::time::Duration;
use zs_core::SpaceId;
use zs_store::events::{self, Cursor};
use zs_store::{Backend, spaces};

/// A reconnecting client is replayed at most this many transitions (of all spaces)…
pub const REPLAY_MAX_EVENTS: i64 = 10_000;
/// …and only if the last one it saw is at most this old; otherwise it gets `event: reset`.
pub const REPLAY_MAX_AGE: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// How often a stream looks for transitions committed by other instances (PostgreSQL). The
/// local instance's commits wake it at once.
pub const POLL_POSTGRES: Duration = Duration::from_millis(250);
/// The same on the embedded store, where every commit is local (a safety net only).
pub const POLL_SQLITE: Duration = Duration::from_secs(5);
/// Transitions read from the log per query.
const PAGE: i64 = 500;
/// At most this many spaces in a `spaceId` filter.
const MAX_FILTER: usize = 100;

/// Where a stream starts, and why it starts over when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// From the newest transition: no cursor was given.
    Live,
    /// Right after the client's cursor: it is replayed what it missed.
    Resume,
    /// From the newest transition after an `event: reset`: the cursor is not in the log.
    ResetUnknown,
    /// Likewise: the cursor is older than [`REPLAY_MAX_AGE`].
    ResetExpired,
    /// Likewise: more than [`REPLAY_MAX_EVENTS`] follow the cursor.
    ResetTooFarBehind,
}

impl Start {
    /// The `reason` of the `reset` event, if one is sent.
    fn reset_reason(self) -> Option<&'static str> {
        match self {
            Start::Live | Start::Resume => None,
            Start::ResetUnknown => Some("unknown_cursor"),
            Start::ResetExpired => Some("expired"),
            Start::ResetTooFarBehind => Some("too_far_behind"),
        }
    }
}

/// What the query string asks for.
struct Request {
    spaces: Option<BTreeSet<SpaceId>>,
    cursor: Option<Cursor>,
}

fn parse_request(query: Option<&str>, headers: &HeaderMap) -> Result<Request, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?;
    let mut ids: Vec<String> = vec![];
    let mut from_query = None;
    for (k, v) in pairs {
        match k.as_str() {
            "spaceId" => ids.extend(v.split(',').map(|s| s.trim().to_owned())),
            "lastEventId" => from_query = Some(v),
            _ => {}
        }
    }
    let spaces = if ids.is_empty() {
        None
    } else {
        if ids.len() > MAX_FILTER {
            return Err(ApiError::invalid(
                "invalid_space_filter",
                format!("spaceId names at most {MAX_FILTER} spaces"),
            ));
        }
        let mut set = BTreeSet::new();
        for id in ids {
            set.insert(
                SpaceId::parse(&id)
                    .map_err(|_| ApiError::not_found(format!("space {}", quoted(&id))))?,
            );
        }
        Some(set)
    };
    // The header (what EventSource sends when it reconnects) wins over the query parameter.
    let raw = match headers.get("last-event-id") {
        Some(h) => Some(h.to_str().map(str::to_owned).map_err(|_| bad_cursor("?"))?),
        None => from_query,
    };
    let cursor = match raw {
        None => None,
        Some(s) if s.is_empty() => None,
        Some(s) => Some(Cursor::parse(&s).ok_or_else(|| bad_cursor(&s))?),
    };
    Ok(Request { spaces, cursor })
}

fn bad_cursor(s: &str) -> ApiError {
    ApiError::bad_request(
        "invalid_last_event_id",
        format!(
            "Last-Event-ID {} is not an event id of this stream (`{{n}}-{{n}}`); reconnect without it",
            quoted(s)
        ),
    )
}

/// Where to start for `cursor`, and the position to read after.
async fn start(st: &AppState, cursor: Option<Cursor>) -> Result<(Start, Cursor), ApiError> {
    let mut c = st.engine.store.read().await?;
    let Some(cursor) = cursor else {
        return Ok((Start::Live, events::head(&mut c).await?));
    };
    let verdict = if cursor == Cursor::START {
        Start::Resume
    } else {
        match events::occurred_at(&mut c, cursor).await? {
            None => Start::ResetUnknown,
            Some(at) if at < st.engine.clock.now() - REPLAY_MAX_AGE => Start::ResetExpired,
            Some(_) => Start::Resume,
        }
    };
    let verdict = if verdict == Start::Resume
        && events::count_after(&mut c, cursor, REPLAY_MAX_EVENTS + 1).await? > REPLAY_MAX_EVENTS
    {
        Start::ResetTooFarBehind
    } else {
        verdict
    };
    match verdict {
        Start::Resume => Ok((verdict, cursor)),
        Start::Live | Start::ResetUnknown | Start::ResetExpired | Start::ResetTooFarBehind => {
            Ok((verdict, events::head(&mut c).await?))
        }
    }
}

/// Stream transitions: replayed after `Last-Event-ID`, then live.
#[utoipa::path(get, path = "/v1/events", operation_id = "streamEvents", tag = "events",
    params(
        ("spaceId" = Option<String>, Query, description = "Only these spaces: repeat the parameter or separate ids with commas (at most 100). An unknown space is a 404."),
        ("lastEventId" = Option<String>, Query, description = "Resume after this event id, for clients that cannot set the `Last-Event-ID` header (the header wins)."),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id (the `id:` of the last event seen): the transitions committed since are replayed in order, then the stream goes live. `0-0` replays from the start of the log. See the replay window in docs/api.md.")),
    responses(
        (status = 200, description = "A `text/event-stream`: per transition, `event: transition`, `id:` its opaque event id (a position in the event log) and `data:` a `TransitionEvent` JSON object. With a `spaceId` filter, an event with only an `id:` line moves the client's position past transitions of other spaces. When the `Last-Event-ID` cannot be resumed (not in the log, older than 24 h or more than 10000 transitions behind), first `event: reset` with `data: {\"reason\": \"unknown_cursor\"|\"expired\"|\"too_far_behind\"}` and `id:` the newest position: reload state, then read on. A comment line every 15 s keeps the connection open",
            body = String, content_type = "text/event-stream"),
        (status = 400, description = "`invalid_last_event_id`: not an id this stream issues; `invalid_query`", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: a space of the `spaceId` filter does not exist", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_space_filter`: more than 100 spaces", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn stream(
    State(st): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let req = parse_request(query.as_deref(), &headers)?;
    if let Some(wanted) = &req.spaces {
        let ids: Vec<&SpaceId> = wanted.iter().collect();
        let mut c = st.engine.store.read().await?;
        let found = spaces::existing(&mut c, &ids).await?;
        if let Some(missing) = wanted.iter().find(|id| !found.contains(id)) {
            return Err(ApiError::not_found(format!(
                "space {}",
                quoted(missing.as_str())
            )));
        }
    }
    // Subscribe before reading the log: a commit after the read still wakes the stream.
    let mut wake = st.engine.subscribe();
    let (how, mut cursor) = start(&st, req.cursor).await?;
    let poll = match st.engine.store.backend() {
        Backend::Sqlite => POLL_SQLITE,
        Backend::Postgres => POLL_POSTGRES,
    };
    let store = st.engine.store.clone();
    let filter = req.spaces;
    let s = async_stream::stream! {
        if let Some(reason) = how.reset_reason() {
            yield Ok(Event::default()
                .event("reset")
                .id(cursor.to_string())
                .data(serde_json::json!({ "reason": reason }).to_string()));
        }
        loop {
            let page = match store.read().await {
                Ok(mut c) => events::after(&mut c, cursor, PAGE).await,
                Err(e) => Err(e),
            };
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "event stream: reading the event log failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let full = page.len() as i64 == PAGE;
            let mut skipped = false;
            for (at, t) in page {
                cursor = at;
                if filter.as_ref().is_some_and(|f| !f.contains(&t.space_id)) {
                    skipped = true;
                    continue;
                }
                skipped = false;
                yield Ok(Event::default()
                    .event("transition")
                    .id(at.to_string())
                    .data(zs_engine::payload::status_post(&t).to_string()));
            }
            if skipped {
                // No data, so clients dispatch nothing, but their Last-Event-ID moves on.
                yield Ok(Event::default().id(cursor.to_string()));
            }
            if full {
                continue;
            }
            use tokio::sync::broadcast::error::{RecvError, TryRecvError};
            let closed = tokio::select! {
                r = wake.recv() => matches!(r, Err(RecvError::Closed)),
                _ = tokio::time::sleep(poll) => false,
            };
            if closed {
                // The engine is shutting down.
                break;
            }
            // One read serves every commit that woke it (a lagged receiver included: the
            // log, not the broadcast, says what happened).
            while let Ok(_) | Err(TryRecvError::Lagged(_)) = wake.try_recv() {}
        }
    };
    Ok(Sse::new(s).keep_alive(KeepAlive::default()))
}
