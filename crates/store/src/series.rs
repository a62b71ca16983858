//! Recurring series (CONTRACT §9): the rule a series was made with; its occurrences are
//! ordinary bookings carrying its id (`bookings.series_id`).

use crate::backend::Cols;
use crate::query::query;
use crate::{Conn, Result, StoreError, opt_ts, ts};
use jiff::Timestamp;
use zs_core::{Booking, SeriesId, SpaceId};

/// A stored series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its id; occurrence `n` is booking `{id}-{n}`.
    pub id: SeriesId,
    /// The space.
    pub space_id: SpaceId,
    /// The occurrences' title.
    pub title: String,
    /// The rule, in canonical form.
    pub rrule: String,
    /// The first occurrence's start.
    pub start: Timestamp,
    /// The first occurrence's end.
    pub end: Timestamp,
    /// `refuse` or `skip`.
    pub conflicts: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// Set when the series was cancelled from this instant on.
    pub cancelled_from: Option<Timestamp>,
    /// A series without an end: its occurrences are booked up to this instant (the rolling
    /// horizon). `None` for a series that ends (all booked when it was made).
    pub materialized_until: Option<Timestamp>,
    /// Consecutive no-shows of its occurrences so far (no-show strikes, CONTRACT §9).
    pub no_shows: u32,
    /// When its no-show strikes released it, if they did.
    pub released_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, space_id, title, rrule, start_ms, end_ms, conflicts, created_at, \
     cancelled_from_ms, materialized_until_ms, no_show_streak, released_at_ms";

fn corrupt(what: &str, v: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("series {what}: {v}"))
}

fn row_to_series(r: &dyn Cols) -> Result<Series> {
    Ok(Series {
        id: SeriesId::parse(&r.text_at(0)).map_err(|e| corrupt("id", e))?,
        space_id: SpaceId::parse(&r.text_at(1)).map_err(|e| corrupt("space_id", e))?,
        title: r.text_at(2),
        rrule: r.text_at(3),
        start: ts(r.int_at(4))?,
        end: ts(r.int_at(5))?,
        conflicts: r.text_at(6),
        created_at: ts(r.int_at(7))?,
        cancelled_from: opt_ts(r.opt_int_at(8))?,
        materialized_until: opt_ts(r.opt_int_at(9))?,
        no_shows: u32::try_from(r.int_at(10)).map_err(|e| corrupt("no_show_streak", e))?,
        released_at: opt_ts(r.opt_int_at(11))?,
    })
}

/// Stores a new series; `false` when the id is taken.
pub async fn insert(c: &mut Conn, s: &Series, owner: Option<&str>) -> Result<bool> {
    let n = query(
        "INSERT INTO series (id, space_id, title, rrule, start_ms, end_ms, conflicts, created_at, \
         cancelled_from_ms, owner, materialized_until_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
    )
    .bind(s.id.as_str())
    .bind(s.space_id.as_str())
    .bind(s.title.as_str())
    .bind(s.rrule.as_str())
    .bind(s.start.as_millisecond())
    .bind(s.end.as_millisecond())
    .bind(s.conflicts.as_str())
    .bind(s.created_at.as_millisecond())
    .bind(s.cancelled_from.map(|t| t.as_millisecond()))
    .bind(owner)
    .bind(s.materialized_until.map(|t| t.as_millisecond()))
    .execute(c)
    .await?;
    Ok(n == 1)
}

/// A series and the token that made it (`None`: an admin, or made before owners).
pub async fn get_owned(c: &mut Conn, id: &SeriesId) -> Result<Option<(Series, Option<String>)>> {
    let sql = format!("SELECT {COLUMNS}, owner FROM series WHERE id = $1");
    query(sql)
        .bind(id.as_str())
        .fetch_optional(c, |r| Ok((row_to_series(r)?, r.opt_text_at(12))))
        .await
}

/// Records that the series was cancelled from `from` on (the earliest such instant is kept).
pub async fn cancel_from(c: &mut Conn, id: &SeriesId, from: Timestamp) -> Result<()> {
    query(
        "UPDATE series SET cancelled_from_ms = CASE WHEN cancelled_from_ms IS NULL OR cancelled_from_ms > $2 \
         THEN $2 ELSE cancelled_from_ms END WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(from.as_millisecond())
    .execute(c)
    .await?;
    Ok(())
}

/// Records a series' count of consecutive no-shows.
pub async fn set_no_shows(c: &mut Conn, id: &SeriesId, no_shows: u32) -> Result<()> {
    query("UPDATE series SET no_show_streak = $2 WHERE id = $1")
        .bind(id.as_str())
        .bind(i64::from(no_shows))
        .execute(c)
        .await?;
    Ok(())
}

/// Records that no-show strikes released the series at `at`: nothing more is booked for it.
pub async fn release(c: &mut Conn, id: &SeriesId, at: Timestamp) -> Result<()> {
    query("UPDATE series SET released_at_ms = $2, materialized_until_ms = NULL WHERE id = $1")
        .bind(id.as_str())
        .bind(at.as_millisecond())
        .execute(c)
        .await?;
    Ok(())
}

/// The series without an end of `space` booked up to less than `before`, in the order they
/// were made.
pub async fn open_due_in_space(
    c: &mut Conn,
    space: &SpaceId,
    before: Timestamp,
) -> Result<Vec<SeriesId>> {
    query(
        "SELECT id FROM series WHERE space_id = $1 AND materialized_until_ms IS NOT NULL \
         AND materialized_until_ms < $2 ORDER BY created_at, id",
    )
    .bind(space.as_str())
    .bind(before.as_millisecond())
    .fetch_all(c, |r| {
        SeriesId::parse(&r.text_at(0)).map_err(|e| corrupt("id", e))
    })
    .await
}

/// Series without an end booked up to less than `before`, the least booked first: (series,
/// space) of at most `limit`.
pub async fn open_due(
    c: &mut Conn,
    before: Timestamp,
    limit: i64,
) -> Result<Vec<(SeriesId, SpaceId)>> {
    query(
        "SELECT id, space_id FROM series WHERE materialized_until_ms IS NOT NULL \
         AND materialized_until_ms < $1 ORDER BY materialized_until_ms, id LIMIT $2",
    )
    .bind(before.as_millisecond())
    .bind(limit)
    .fetch_all(c, |r| {
        Ok((
            SeriesId::parse(&r.text_at(0)).map_err(|e| corrupt("id", e))?,
            SpaceId::parse(&r.text_at(1)).map_err(|e| corrupt("space_id", e))?,
        ))
    })
    .await
}

/// Records how far a series without an end is booked; `None`: nothing more to book (it
/// was cancelled from an instant already reached).
pub async fn set_materialized(c: &mut Conn, id: &SeriesId, until: Option<Timestamp>) -> Result<()> {
    query("UPDATE series SET materialized_until_ms = $2 WHERE id = $1")
        .bind(id.as_str())
        .bind(until.map(|t| t.as_millisecond()))
        .execute(c)
        .await?;
    Ok(())
}

/// The series' occurrences ending after `ended_after`, in start order.
pub async fn occurrences(
    c: &mut Conn,
    id: &SeriesId,
    ended_after: Timestamp,
) -> Result<Vec<Booking>> {
    crate::bookings::of_series(c, id, ended_after).await
}
