//! Bookings: the working set a space's events need, and the API's reads.

use crate::backend::Cols;
use crate::bulk::bulk;
use crate::query::query;
use crate::{Conn, Result, StoreError, opt_ts, ts};
use jiff::Timestamp;
use std::collections::HashSet;
use zs_core::scope::NEXT_SCHEDULED;
use zs_core::{Booking, BookingId, BookingStatus, Scope, SeriesId, SpaceId};

/// The columns every booking read selects first, in this order ([`row_to_booking`] reads
/// them by position).
const COLUMNS: &str = "id, space_id, title, start_ms, end_ms, status, created_at, checked_in_at, \
     ended_at, cancelled_at, cancel_reason, series_id";

fn corrupt(what: &str, v: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("booking {what}: {v}"))
}

/// A booking from a row whose first columns are [`COLUMNS`], read by position: by name, each
/// column was a search of the statement's names, on the hottest read of every command.
fn row_to_booking(r: &dyn Cols) -> Result<Booking> {
    booking_with_id(r.text_at(0), r)
}

/// A booking from a row whose id (column 0) is already read as `id`.
fn booking_with_id(id: String, r: &dyn Cols) -> Result<Booking> {
    Ok(Booking {
        id: BookingId::parse(&id).map_err(|e| corrupt("id", e))?,
        space_id: SpaceId::parse(&r.text_at(1)).map_err(|e| corrupt("space_id", e))?,
        title: r.text_at(2),
        start: ts(r.int_at(3))?,
        end: ts(r.int_at(4))?,
        status: BookingStatus::parse(&r.text_at(5)).ok_or_else(|| corrupt("status", "?"))?,
        created_at: ts(r.int_at(6))?,
        checked_in_at: opt_ts(r.opt_int_at(7))?,
        ended_at: opt_ts(r.opt_int_at(8))?,
        cancelled_at: opt_ts(r.opt_int_at(9))?,
        cancel_reason: r.opt_text_at(10),
        series_id: r
            .opt_text_at(11)
            .map(|s| SeriesId::parse(&s))
            .transpose()
            .map_err(|e| corrupt("series_id", e))?,
    })
}

/// Writes many bookings (insert or full update; one statement on PostgreSQL: [`crate::bulk`]).
pub async fn upsert_many(c: &mut Conn, list: &[&Booking]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    const ONE: &str = "INSERT INTO bookings (id, space_id, title, start_ms, end_ms, status, created_at, \
         checked_in_at, ended_at, cancelled_at, cancel_reason, series_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, checked_in_at = excluded.checked_in_at, \
         ended_at = excluded.ended_at, cancelled_at = excluded.cancelled_at, cancel_reason = excluded.cancel_reason";
    const MANY: &str = "INSERT INTO bookings (id, space_id, title, start_ms, end_ms, status, created_at, \
         checked_in_at, ended_at, cancelled_at, cancel_reason, series_id) SELECT value->>0, value->>1, value->>2, \
         CAST(value->>3 AS BIGINT), CAST(value->>4 AS BIGINT), value->>5, CAST(value->>6 AS BIGINT), \
         CAST(value->>7 AS BIGINT), CAST(value->>8 AS BIGINT), CAST(value->>9 AS BIGINT), value->>10, value->>11 \
         FROM ROWS($1) WHERE true \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, checked_in_at = excluded.checked_in_at, \
         ended_at = excluded.ended_at, cancelled_at = excluded.cancelled_at, cancel_reason = excluded.cancel_reason";
    let ms = |t: Option<Timestamp>| t.map(|t| t.as_millisecond());
    let mut w = bulk(ONE, MANY, 12);
    for b in list {
        w.row([
            b.id.as_str().into(),
            b.space_id.as_str().into(),
            b.title.as_str().into(),
            b.start.as_millisecond().into(),
            b.end.as_millisecond().into(),
            b.status.as_str().into(),
            b.created_at.as_millisecond().into(),
            ms(b.checked_in_at).into(),
            ms(b.ended_at).into(),
            ms(b.cancelled_at).into(),
            b.cancel_reason.as_deref().into(),
            b.series_id.as_ref().map(SeriesId::as_str).into(),
        ]);
    }
    w.execute(c).await?;
    Ok(())
}

/// The bookings of series `id` ending after `ended_after`, in start order.
pub async fn of_series(
    c: &mut Conn,
    id: &SeriesId,
    ended_after: Timestamp,
) -> Result<Vec<Booking>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM bookings WHERE series_id = $1 AND end_ms > $2 ORDER BY start_ms, id"
    );
    query(sql)
        .bind(id.as_str())
        .bind(ended_after.as_millisecond())
        .fetch_all(c, row_to_booking)
        .await
}

/// Writes the changing facts (status, check-in, end, extended end, cancellation) of many existing
/// bookings (one statement on PostgreSQL: [`crate::bulk`]).
pub async fn update_many(c: &mut Conn, list: &[&Booking]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    // The end changes too: an extension (CONTRACT §10) moves it later.
    const ONE: &str = "UPDATE bookings SET status = $2, checked_in_at = $3, ended_at = $4, \
         cancelled_at = $5, cancel_reason = $6, end_ms = $7 WHERE id = $1";
    const MANY: &str = "WITH j AS MATERIALIZED (SELECT value->>0 AS id, value->>1 AS st, \
         CAST(value->>2 AS BIGINT) AS ci, CAST(value->>3 AS BIGINT) AS en, CAST(value->>4 AS BIGINT) AS ca, \
         value->>5 AS cr, CAST(value->>6 AS BIGINT) AS em FROM ROWS($1)) UPDATE bookings SET status = j.st, \
         checked_in_at = j.ci, ended_at = j.en, cancelled_at = j.ca, cancel_reason = j.cr, end_ms = j.em \
         FROM j WHERE bookings.id = j.id";
    let ms = |t: Option<Timestamp>| t.map(|t| t.as_millisecond());
    let mut w = bulk(ONE, MANY, 7);
    for b in list {
        w.row([
            b.id.as_str().into(),
            b.status.as_str().into(),
            ms(b.checked_in_at).into(),
            ms(b.ended_at).into(),
            ms(b.cancelled_at).into(),
            b.cancel_reason.as_deref().into(),
            b.end.as_millisecond().into(),
        ]);
    }
    w.execute(c).await?;
    Ok(())
}

/// The working sets of many spaces at once (see [`working_set`]), plus the bookings `extra`.
pub async fn working_sets(
    c: &mut Conn,
    spaces: &[&SpaceId],
    at: Timestamp,
    max_cleaning_ms: i64,
    extra: &[&BookingId],
) -> Result<Vec<Booking>> {
    let ids = serde_json::to_string(spaces).expect("ids serialise as strings");
    let extra = serde_json::to_string(extra).expect("ids serialise as strings");
    // Four branches, each read through an index of its own (migrations 0003 and 0007), so
    // the cost follows a space's live bookings, not every booking it ever had: an `OR` of
    // them made both backends read all of a space's bookings, which grows every day.
    let q = format!(
        "SELECT {COLUMNS} FROM bookings WHERE space_id IN (SELECT value FROM LIST($1)) AND \
         status IN ('upcoming','awaiting_check_in','checked_in') \
         UNION SELECT {COLUMNS} FROM bookings WHERE space_id IN (SELECT value FROM LIST($1)) AND \
         status = 'scheduled' \
         UNION SELECT {COLUMNS} FROM bookings WHERE space_id IN (SELECT value FROM LIST($1)) AND \
         status = 'completed' AND ended_at > $3 - $2 \
         UNION SELECT {COLUMNS} FROM bookings WHERE id IN (SELECT value FROM LIST($4)) AND \
         space_id IN (SELECT value FROM LIST($1)) ORDER BY start_ms"
    );
    query(q)
        .bind(&ids)
        .bind(max_cleaning_ms)
        .bind(at.as_millisecond())
        .bind(&extra)
        .fetch_all(c, row_to_booking)
        .await
}

/// A row reader for the reads below, which join their branches with UNION ALL (a plain
/// UNION sorts every branch in a temporary B-tree), so a booking two branches find comes
/// twice: it reads each row's id and decodes the booking only if `seen` does not hold it yet.
fn each_once(seen: &mut HashSet<String>) -> impl FnMut(&dyn Cols) -> Result<Option<Booking>> {
    move |r| {
        let id = r.text_at(0);
        if seen.contains(&id) {
            return Ok(None);
        }
        seen.insert(id.clone());
        booking_with_id(id, r).map(Some)
    }
}

/// `list` (each booking once) in start order, then id.
fn in_start_order(mut list: Vec<Booking>) -> Vec<Booking> {
    list.sort_by(|a, b| (a.start, a.id.as_str()).cmp(&(b.start, b.id.as_str())));
    list
}

/// The bookings the timer runner's batch reads for `spaces`, whose timers fall due from
/// `earliest` on: those in an active status, completed ones that ended within
/// `max_cleaning_ms` before `earliest`, the bookings `extra` (the timers' own), and of each
/// space the first `next` scheduled ones starting at or after `earliest` — not every booking
/// ahead. In start order, each once.
///
/// A space with `k` timers in the batch needs `k +` [`NEXT_SCHEDULED`] of them: timers apply
/// in due order, so when one at `t` is decided every scheduled booking starting before `t`
/// has had its start applied (it is no longer scheduled), and the `k - 1` timers before it
/// moved at most `k - 1` bookings out of `scheduled`; the next two from `t` remain among
/// the first `k + 2` from `earliest`.
pub async fn timer_sets(
    c: &mut Conn,
    spaces: &[&SpaceId],
    earliest: Timestamp,
    max_cleaning_ms: i64,
    extra: &[&BookingId],
    next: usize,
) -> Result<Vec<Booking>> {
    if !c.is_pg() {
        return timer_sets_one_by_one(c, spaces, earliest, max_cleaning_ms, extra, next).await;
    }
    let ids = serde_json::to_string(spaces).expect("ids serialise as strings");
    let extra = serde_json::to_string(extra).expect("ids serialise as strings");
    // Each branch an index range; the last reads, per space, up to the start of its
    // `next`-th scheduled booking (found by the correlated subquery, from the index).
    let q = format!(
        "SELECT {COLUMNS} FROM bookings WHERE space_id IN (SELECT value FROM LIST($1)) AND \
         status IN ('upcoming','awaiting_check_in','checked_in') \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE space_id IN (SELECT value FROM LIST($1)) \
         AND status = 'completed' AND ended_at >= $3 - $2 \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE id IN (SELECT value FROM LIST($4)) AND \
         space_id IN (SELECT value FROM LIST($1)) \
         UNION ALL SELECT {COLUMNS} FROM (SELECT value AS sid FROM LIST($1)) AS s JOIN bookings \
         ON bookings.space_id = s.sid AND bookings.status = 'scheduled' \
         AND bookings.start_ms >= $3 AND bookings.start_ms <= COALESCE((SELECT c.start_ms \
         FROM bookings AS c WHERE c.space_id = s.sid AND c.status = 'scheduled' \
         AND c.start_ms >= $3 ORDER BY c.start_ms LIMIT 1 OFFSET $5), 9223372036854775807)"
    );
    let list = query(q)
        .bind(&ids)
        .bind(max_cleaning_ms)
        .bind(earliest.as_millisecond())
        .bind(&extra)
        .bind(next.max(1) as i64 - 1)
        .fetch_some(c, each_once(&mut HashSet::new()))
        .await?;
    Ok(in_start_order(list))
}

/// [`timer_sets`] on SQLite: each space's set by its key, then each of `extra` by its id.
/// There is no round trip to save, and a list read with `IN` is first copied into a
/// temporary B-tree (three of them here), which cost more than the index ranges it selects.
async fn timer_sets_one_by_one(
    c: &mut Conn,
    spaces: &[&SpaceId],
    earliest: Timestamp,
    max_cleaning_ms: i64,
    extra: &[&BookingId],
    next: usize,
) -> Result<Vec<Booking>> {
    let one_space = format!(
        "SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND \
         status IN ('upcoming','awaiting_check_in','checked_in') \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE space_id = $1 \
         AND status = 'completed' AND ended_at >= $3 - $2 \
         UNION ALL SELECT * FROM (SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND \
         status = 'scheduled' AND start_ms >= $3 ORDER BY start_ms LIMIT $4) AS nx"
    );
    let one_booking = format!("SELECT {COLUMNS} FROM bookings WHERE id = $1");
    let mut seen = HashSet::new();
    let mut list = vec![];
    for space in spaces {
        let q = query(one_space.as_str())
            .bind(space.as_str())
            .bind(max_cleaning_ms)
            .bind(earliest.as_millisecond())
            .bind(next.max(1) as i64);
        list.extend(q.fetch_some(c, each_once(&mut seen)).await?);
    }
    // The timers' own bookings: most are among those read already.
    let missing: Vec<&&BookingId> = extra
        .iter()
        .filter(|id| !seen.contains(id.as_str()))
        .collect();
    for id in missing {
        let q = query(one_booking.as_str()).bind(id.as_str());
        let found = q.fetch_some(c, each_once(&mut seen)).await?;
        list.extend(found.into_iter().filter(|b| spaces.contains(&&b.space_id)));
    }
    Ok(in_start_order(list))
}

/// The bookings of `space` that a decision in `scope` reads ([`Scope::select`] over all of
/// them, in start order): those in an active status, completed ones whose cleaning may still
/// run, the command's own booking, the next [`NEXT_SCHEDULED`] scheduled ones, and the
/// scheduled ones that may clash with a span the command claims. Each branch is an index
/// range of migration 0007 or 0003, so the read does not grow with the bookings ahead.
pub async fn scoped(c: &mut Conn, space: &SpaceId, scope: &Scope) -> Result<Vec<Booking>> {
    // Without a claimed span the last branch is an empty range.
    let (from, before, after) = scope.clash_bounds().map_or((0, 0, 0), |b| {
        (
            b.starts_from.as_millisecond(),
            b.starts_before.as_millisecond(),
            b.ends_after.as_millisecond(),
        )
    });
    let q = format!(
        "SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND \
         status IN ('upcoming','awaiting_check_in','checked_in') \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND status = 'completed' \
         AND ended_at >= $2 \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE id = $3 AND space_id = $1 \
         UNION ALL SELECT * FROM (SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND \
         status = 'scheduled' AND start_ms >= $4 ORDER BY start_ms LIMIT {NEXT_SCHEDULED}) AS nx \
         UNION ALL SELECT {COLUMNS} FROM bookings WHERE space_id = $1 AND status = 'scheduled' \
         AND start_ms >= $5 AND start_ms < $6 AND end_ms > $7"
    );
    let list = query(q)
        .bind(space.as_str())
        .bind(scope.completed_since().as_millisecond())
        .bind(scope.booking.as_ref().map(BookingId::as_str))
        .bind(scope.next_from().as_millisecond())
        .bind(from)
        .bind(before)
        .bind(after)
        .fetch_some(c, each_once(&mut HashSet::new()))
        .await?;
    Ok(in_start_order(list))
}

/// The bookings a space's next event may concern: every live booking, completed ones whose
/// cleaning may still run at `at`, and the booking `extra` whatever its status.
pub async fn working_set(
    c: &mut Conn,
    space: &SpaceId,
    at: Timestamp,
    max_cleaning_ms: i64,
    extra: Option<&BookingId>,
) -> Result<Vec<Booking>> {
    let extra: Vec<&BookingId> = extra.into_iter().collect();
    working_sets(c, &[space], at, max_cleaning_ms, &extra).await
}

/// One booking.
pub async fn get(c: &mut Conn, id: &BookingId) -> Result<Option<Booking>> {
    let q = format!("SELECT {COLUMNS} FROM bookings WHERE id = $1");
    query(q)
        .bind(id.as_str())
        .fetch_optional(c, row_to_booking)
        .await
}

/// Records the token that created a booking (its public id), in the transaction that
/// created it.
pub async fn set_owner(c: &mut Conn, id: &BookingId, owner: &str) -> Result<()> {
    query("UPDATE bookings SET owner = $1 WHERE id = $2")
        .bind(owner)
        .bind(id.as_str())
        .execute(c)
        .await?;
    Ok(())
}

/// One booking with its owner (the id of the token that created it; `None` when an admin
/// or the ingress queue did).
pub async fn get_owned(c: &mut Conn, id: &BookingId) -> Result<Option<(Booking, Option<String>)>> {
    let q = format!("SELECT {COLUMNS}, owner FROM bookings WHERE id = $1");
    query(q)
        .bind(id.as_str())
        .fetch_optional(c, |r| Ok((row_to_booking(r)?, r.opt_text("owner"))))
        .await
}

/// A booking's space and owner (see [`get_owned`]), without reading the rest of it: what a
/// command on the booking needs to check its caller and find the space to lock.
pub async fn space_and_owner(
    c: &mut Conn,
    id: &BookingId,
) -> Result<Option<(SpaceId, Option<String>)>> {
    query("SELECT space_id, owner FROM bookings WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(c, |r| {
            let space = SpaceId::parse(&r.text_at(0)).map_err(|e| corrupt("space_id", e))?;
            Ok((space, r.opt_text_at(1)))
        })
        .await
}

/// [`live_ids`]: two branches, each read through its partial index (migration 0007), sorted
/// outside them — sorted inside, SQLite reads the first through the start index, which holds
/// every booking the space ever had.
const LIVE_IDS: &str = "SELECT id FROM (SELECT id, start_ms FROM bookings WHERE space_id = $1 \
     AND status IN ('upcoming','awaiting_check_in','checked_in') \
     UNION ALL SELECT id, start_ms FROM bookings WHERE space_id = $1 AND status = 'scheduled') \
     AS live ORDER BY start_ms, id";

/// The ids of a space's live bookings (not yet completed, cancelled or no-show), by start.
pub async fn live_ids(c: &mut Conn, space: &SpaceId) -> Result<Vec<BookingId>> {
    let ids: Vec<String> = query(LIVE_IDS)
        .bind(space.as_str())
        .fetch_all(c, |r| Ok(r.text_at(0)))
        .await?;
    ids.iter()
        .map(|s| BookingId::parse(s).map_err(|e| corrupt("id", e)))
        .collect()
}

/// Bookings overlapping `[from, to)`, optionally of one space, by start.
pub async fn list(
    c: &mut Conn,
    space: Option<&SpaceId>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<Booking>> {
    list_owned(c, None, space, from, to, limit).await
}

/// Like [`list`], and with `owner` only the bookings that token created.
pub async fn list_owned(
    c: &mut Conn,
    owner: Option<&str>,
    space: Option<&SpaceId>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: i64,
) -> Result<Vec<Booking>> {
    let q = format!(
        "SELECT {COLUMNS} FROM bookings WHERE ($1::text IS NULL OR space_id = $1) AND \
         ($2::bigint IS NULL OR end_ms > $2) AND ($3::bigint IS NULL OR start_ms < $3) AND \
         ($5::text IS NULL OR owner = $5) ORDER BY start_ms, id LIMIT $4"
    );
    // The `::type` casts type a bare NULL test on PostgreSQL (SQLite's dialect drops them).
    query(q)
        .bind(space.map(|s| s.as_str()))
        .bind(from.map(|t| t.as_millisecond()))
        .bind(to.map(|t| t.as_millisecond()))
        .bind(limit)
        .bind(owner)
        .fetch_all(c, row_to_booking)
        .await
}

#[cfg(test)]
mod tests {
    use crate::query::query;

    /// How SQLite reads `sql` (`EXPLAIN QUERY PLAN`), one step a line.
    async fn plan(sql: &str, args: usize) -> String {
        let store = crate::testing::fresh_sqlite("live-plan").await.unwrap();
        let mut c = store.read().await.unwrap();
        let mut q = query(format!("EXPLAIN QUERY PLAN {sql}"));
        for _ in 0..args {
            q = q.bind("x");
        }
        let steps = q.fetch_all(&mut c, |r| Ok(r.text_at(3))).await.unwrap();
        steps.join("\n")
    }

    /// [`super::row_to_booking`] reads the columns by position: this is their order.
    #[test]
    fn a_booking_row_is_read_in_the_columns_order() {
        let names: Vec<&str> = super::COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(
            names,
            [
                "id",
                "space_id",
                "title",
                "start_ms",
                "end_ms",
                "status",
                "created_at",
                "checked_in_at",
                "ended_at",
                "cancelled_at",
                "cancel_reason",
                "series_id"
            ]
        );
    }

    /// A space's live bookings are read from the two partial indexes, never from the start
    /// index (every booking the space ever had); the index that duplicated them is gone.
    #[tokio::test]
    async fn live_bookings_are_read_through_the_partial_indexes() {
        let p = plan(super::LIVE_IDS, 1).await;
        assert!(p.contains("INDEX bookings_active"), "{p}");
        assert!(p.contains("INDEX bookings_scheduled"), "{p}");
        assert!(!p.contains("bookings_space_start"), "{p}");
        assert!(!p.contains("bookings_live"), "{p}");
    }
}
