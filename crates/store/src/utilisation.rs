//! What the utilisation figures are computed from: the bookings of a space (or of every
//! space) that can touch a range, with the instant each no-show was recorded, and the
//! maintenance intervals from the stored transitions. One SQL text per read serves both
//! backends.

use crate::backend::Cols;
use crate::query::query;
use crate::{Conn, Result, StoreError, opt_ts, ts};
use jiff::Timestamp;
use std::collections::BTreeMap;
use zs_core::utilisation::{BookingFacts, Maintenance, maintenance_spans};
use zs_core::{BookingStatus, EventKind, SpaceId};

/// One space's stored history for a range: when it was created, its bookings and its
/// maintenance intervals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpaceHistory {
    /// When the space was created (`None` for rows of a space that is gone).
    pub created_at: Option<Timestamp>,
    /// Bookings whose booked or occupied time can touch the range.
    pub bookings: Vec<BookingFacts>,
    /// Maintenance intervals that began before the range's end, in order.
    pub maintenance: Vec<Maintenance>,
}

fn corrupt(what: &str, v: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("utilisation {what}: {v}"))
}

fn space_id(s: &str) -> Result<SpaceId> {
    SpaceId::parse(s).map_err(|e| corrupt("space_id", e))
}

/// The histories of `space` (or of every space, with `None`) for `[from, to)`, by space id:
/// every existing space has an entry.
pub async fn histories(
    c: &mut Conn,
    space: Option<&SpaceId>,
    from: Timestamp,
    to: Timestamp,
) -> Result<BTreeMap<SpaceId, SpaceHistory>> {
    let mut out: BTreeMap<SpaceId, SpaceHistory> = BTreeMap::new();
    for (id, created) in created(c, space).await? {
        out.entry(id).or_default().created_at = Some(created);
    }
    for (id, b) in bookings(c, space, from, to).await? {
        out.entry(id).or_default().bookings.push(b);
    }
    let mut events: BTreeMap<SpaceId, Vec<(EventKind, Timestamp)>> = BTreeMap::new();
    for (id, e) in maintenance_events(c, space, to).await? {
        events.entry(id).or_default().push(e);
    }
    for (id, list) in events {
        out.entry(id).or_default().maintenance = maintenance_spans(&list);
    }
    Ok(out)
}

/// When each space (or `space`) was created.
async fn created(c: &mut Conn, space: Option<&SpaceId>) -> Result<Vec<(SpaceId, Timestamp)>> {
    const SQL: &str = "SELECT id, created_at FROM spaces WHERE ($1::text IS NULL OR id = $1)";
    query(SQL)
        .bind(space.map(|s| s.as_str()))
        .fetch_all(c, |r| {
            Ok((space_id(&r.text("id"))?, ts(r.int("created_at"))?))
        })
        .await
}

/// Bookings ending after `from` that start (or were checked in) before `to`, with the
/// instant of the transition that recorded a no-show (`NO_SHOW_TIMEOUT`, or
/// `END_TIME_REACHED` when that came first).
async fn bookings(
    c: &mut Conn,
    space: Option<&SpaceId>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(SpaceId, BookingFacts)>> {
    const SQL: &str = "SELECT b.space_id, b.start_ms, b.end_ms, b.status, b.checked_in_at, \
         b.ended_at, b.cancelled_at, CASE WHEN b.status = 'no_show' THEN \
         (SELECT MIN(t.occurred_at) FROM transitions t WHERE t.space_id = b.space_id \
         AND t.booking_id = b.id AND t.event IN ('NO_SHOW_TIMEOUT', 'END_TIME_REACHED')) \
         END AS released_at FROM bookings b WHERE ($1::text IS NULL OR b.space_id = $1) \
         AND b.end_ms > $2 AND (b.start_ms < $3 OR b.checked_in_at < $3) \
         ORDER BY b.space_id, b.start_ms, b.id";
    query(SQL)
        .bind(space.map(|s| s.as_str()))
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_all(c, row_to_facts)
        .await
}

fn row_to_facts(r: &dyn Cols) -> Result<(SpaceId, BookingFacts)> {
    let status = r.text("status");
    let facts = BookingFacts {
        start: ts(r.int("start_ms"))?,
        end: ts(r.int("end_ms"))?,
        status: BookingStatus::parse(&status).ok_or_else(|| corrupt("status", status))?,
        checked_in_at: opt_ts(r.opt_int("checked_in_at"))?,
        ended_at: opt_ts(r.opt_int("ended_at"))?,
        cancelled_at: opt_ts(r.opt_int("cancelled_at"))?,
        released_at: opt_ts(r.opt_int("released_at"))?,
    };
    Ok((space_id(&r.text("space_id"))?, facts))
}

/// The `ADMIN_DISABLE` / `ADMIN_ENABLE` transitions before `to`, by space and sequence.
async fn maintenance_events(
    c: &mut Conn,
    space: Option<&SpaceId>,
    to: Timestamp,
) -> Result<Vec<(SpaceId, (EventKind, Timestamp))>> {
    const SQL: &str = "SELECT space_id, event, occurred_at FROM transitions \
         WHERE ($1::text IS NULL OR space_id = $1) AND event IN ('ADMIN_DISABLE', 'ADMIN_ENABLE') \
         AND occurred_at < $2 ORDER BY space_id, sequence";
    query(SQL)
        .bind(space.map(|s| s.as_str()))
        .bind(to.as_millisecond())
        .fetch_all(c, |r| {
            let name = r.text("event");
            let event = EventKind::parse(&name).ok_or_else(|| corrupt("event", name))?;
            let at = ts(r.int("occurred_at"))?;
            Ok((space_id(&r.text("space_id"))?, (event, at)))
        })
        .await
}
