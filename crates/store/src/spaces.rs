//! Spaces: settings, maintenance flag, stored status, and their transition history.

use crate::backend::{Cols, locked};
use crate::bulk::bulk;
use crate::query::query;
use crate::{Conn, Result, StoreError, opt_ts, ts};
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::series::NoShowStrikes;
use zs_core::{
    BookingId, EventKind, Limit, Period, Policies, RoomState, Space, SpaceId, SpaceSettings,
    SpaceState, SpaceStatus, Transition,
};

/// The columns every space read selects, in this order ([`row_to_space`] reads them by
/// position).
const COLUMNS: &str = "id, name, timezone, business_hours, upcoming_lead_ms, no_show_grace_ms, cleaning_ms, \
     maintenance, space_state, room_state, booking_id, next_booking_at, since, sequence, \
     max_duration_ms, min_duration_ms, booking_horizon_ms, min_notice_ms, no_show_strikes";

fn corrupt(what: &str, v: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v}"))
}

fn period(ms: i64) -> Result<Period> {
    Period::from_millis(ms).ok_or_else(|| corrupt("period", ms))
}

fn limit(ms: Option<i64>) -> Result<Option<Limit>> {
    ms.map(|ms| Limit::from_millis(ms).ok_or_else(|| corrupt("policy", ms)))
        .transpose()
}

/// A space and its status from a row of [`COLUMNS`], read by position (as bookings are).
fn row_to_space(r: &dyn Cols) -> Result<(Space, SpaceStatus)> {
    let zone = Zone::parse(&r.text_at(2)).map_err(|e| corrupt("timezone", e))?;
    let business_hours = match r.opt_text_at(3) {
        None => None,
        Some(h) => Some(hours_of(h)?),
    };
    let settings = SpaceSettings {
        zone,
        business_hours,
        upcoming_lead: period(r.int_at(4))?,
        no_show_grace: period(r.int_at(5))?,
        cleaning: period(r.int_at(6))?,
        policies: Policies {
            max_duration: limit(r.opt_int_at(14))?,
            min_duration: limit(r.opt_int_at(15))?,
            booking_horizon: limit(r.opt_int_at(16))?,
            min_notice: limit(r.opt_int_at(17))?,
        },
        no_show_strikes: NoShowStrikes::new(r.int_at(18))
            .ok_or_else(|| corrupt("no_show_strikes", r.int_at(18)))?,
    };
    let id = r.text_at(0);
    let space = Space {
        id: SpaceId::parse(&id).map_err(|e| corrupt("id", e))?,
        name: r.text_at(1),
        settings,
        maintenance: r.int_at(7) != 0,
    };
    let status = SpaceStatus {
        space: SpaceState::parse(&r.text_at(8)).ok_or_else(|| corrupt("space_state", "?"))?,
        room: RoomState::parse(&r.text_at(9)).ok_or_else(|| corrupt("room_state", "?"))?,
        booking_id: r
            .opt_text_at(10)
            .map(|b| BookingId::parse(&b))
            .transpose()
            .map_err(|e| corrupt("booking_id", e))?,
        next_booking_at: opt_ts(r.opt_int_at(11))?,
        since: ts(r.int_at(12))?,
        sequence: r.int_at(13) as u64,
    };
    Ok((space, status))
}

/// How many distinct business-hours texts [`hours_of`] keeps parsed.
const KEPT_HOURS: usize = 1024;

/// Business hours from their stored JSON. Every command reads its space, and parsing the
/// hours was two thirds of decoding a space row (3.3 of 4.9 µs: BENCHMARKS.md); a campus
/// has few distinct weekly schedules, so each text is parsed once and kept (up to
/// [`KEPT_HOURS`] texts, then parsed each time). Stored hours were validated when written;
/// a text that no longer parses is reported as corrupt, never kept.
fn hours_of(text: String) -> Result<BusinessHours> {
    use std::collections::HashMap;
    use std::sync::{LazyLock, PoisonError, RwLock};
    static PARSED: LazyLock<RwLock<HashMap<String, BusinessHours>>> =
        LazyLock::new(Default::default);
    if let Some(h) = PARSED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&text)
    {
        return Ok(h.clone());
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| corrupt("hours", e))?;
    let hours = BusinessHours::parse_json(&v).map_err(|e| corrupt("hours", e))?;
    let mut kept = PARSED.write().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < KEPT_HOURS {
        kept.insert(text, hours.clone());
    }
    Ok(hours)
}

fn hours_json(s: &Space) -> Option<String> {
    s.settings
        .business_hours
        .as_ref()
        .map(|h| serde_json::to_string(h).expect("hours serialise"))
}

/// Binds every column after `id`: name … sequence, the four policies, the no-show strikes.
macro_rules! bind_fields {
    ($q:expr, $s:expr, $st:expr, $hours:expr) => {{
        let p = &$s.settings.policies;
        $q.bind(&$s.name)
            .bind($s.settings.zone.name())
            .bind($hours)
            .bind($s.settings.upcoming_lead.as_millis())
            .bind($s.settings.no_show_grace.as_millis())
            .bind($s.settings.cleaning.as_millis())
            .bind($s.maintenance as i64)
            .bind($st.space.as_str())
            .bind($st.room.as_str())
            .bind($st.booking_id.as_ref().map(|b| b.as_str()))
            .bind($st.next_booking_at.map(|t| t.as_millisecond()))
            .bind($st.since.as_millisecond())
            .bind($st.sequence as i64)
            .bind(p.max_duration.map(Limit::as_millis))
            .bind(p.min_duration.map(Limit::as_millis))
            .bind(p.booking_horizon.map(Limit::as_millis))
            .bind(p.min_notice.map(Limit::as_millis))
            .bind(i64::from($s.settings.no_show_strikes.get()))
    }};
}

/// Inserts a new space; `false` when the id is taken.
pub async fn insert(c: &mut Conn, s: &Space, st: &SpaceStatus) -> Result<bool> {
    let hours = hours_json(s);
    let q = query(
        "INSERT INTO spaces (id, name, timezone, business_hours, upcoming_lead_ms, no_show_grace_ms, \
         cleaning_ms, maintenance, space_state, room_state, booking_id, next_booking_at, since, sequence, \
         max_duration_ms, min_duration_ms, booking_horizon_ms, min_notice_ms, no_show_strikes, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20) ON CONFLICT (id) DO NOTHING",
    )
    .bind(s.id.as_str());
    let n = bind_fields!(q, s, st, &hours)
        .bind(st.since.as_millisecond())
        .execute(c)
        .await?;
    Ok(n == 1)
}

/// Writes a space's settings, maintenance flag and status.
pub async fn update(c: &mut Conn, s: &Space, st: &SpaceStatus) -> Result<()> {
    let hours = hours_json(s);
    let q = query(
        "UPDATE spaces SET name = $1, timezone = $2, business_hours = $3, upcoming_lead_ms = $4, \
         no_show_grace_ms = $5, cleaning_ms = $6, maintenance = $7, space_state = $8, room_state = $9, \
         booking_id = $10, next_booking_at = $11, since = $12, sequence = $13, max_duration_ms = $14, \
         min_duration_ms = $15, booking_horizon_ms = $16, min_notice_ms = $17, no_show_strikes = $18 \
         WHERE id = $19",
    );
    bind_fields!(q, s, st, &hours)
        .bind(s.id.as_str())
        .execute(c)
        .await?;
    Ok(())
}

/// Writes many spaces' maintenance flags and statuses (one statement on PostgreSQL: [`crate::bulk`]; settings are
/// changed only by [`update`]).
pub async fn update_status_many(c: &mut Conn, list: &[(&Space, &SpaceStatus)]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    const ONE: &str = "UPDATE spaces SET maintenance = $2, space_state = $3, room_state = $4, \
         booking_id = $5, next_booking_at = $6, since = $7, sequence = $8 WHERE id = $1";
    const MANY: &str = "WITH j AS MATERIALIZED (SELECT value->>0 AS id, CAST(value->>1 AS BIGINT) AS m, \
         value->>2 AS ss, value->>3 AS rs, value->>4 AS b, CAST(value->>5 AS BIGINT) AS n, \
         CAST(value->>6 AS BIGINT) AS si, CAST(value->>7 AS BIGINT) AS sq FROM ROWS($1)) \
         UPDATE spaces SET maintenance = j.m, space_state = j.ss, room_state = j.rs, booking_id = j.b, \
         next_booking_at = j.n, since = j.si, sequence = j.sq FROM j WHERE spaces.id = j.id";
    let mut w = bulk(ONE, MANY, 8);
    for (s, st) in list {
        w.row([
            s.id.as_str().into(),
            (s.maintenance as i64).into(),
            st.space.as_str().into(),
            st.room.as_str().into(),
            st.booking_id.as_ref().map(|b| b.as_str()).into(),
            st.next_booking_at.map(|t| t.as_millisecond()).into(),
            st.since.as_millisecond().into(),
            (st.sequence as i64).into(),
        ]);
    }
    w.execute(c).await?;
    Ok(())
}

/// Locks the rows of `ids` until commit, in id order, inside a PostgreSQL write transaction
/// (a no-op elsewhere: SQLite's single writer needs no row locks). A transaction that will
/// take a space's jobs takes the space first, as commands do ([`get_many`]), so two
/// transactions never wait on each other in opposite orders.
pub async fn lock(c: &mut Conn, ids: &[&SpaceId]) -> Result<()> {
    let list = serde_json::to_string(ids).expect("ids serialise as strings");
    if c.locking() {
        query(
            "SELECT id FROM spaces WHERE id IN (SELECT value FROM LIST($1)) ORDER BY id FOR UPDATE",
        )
        .bind(&list)
        .fetch_all(c, |_| Ok(()))
        .await?;
    }
    Ok(())
}

/// Many spaces with their statuses. Inside a PostgreSQL write transaction the rows are
/// locked until commit (in id order, so two transactions cannot deadlock on them): the
/// commands of one space are serialised across connections and instances.
pub async fn get_many(c: &mut Conn, ids: &[&SpaceId]) -> Result<Vec<(Space, SpaceStatus)>> {
    select_many(c, ids, "FOR UPDATE").await
}

/// Like [`get_many`], but inside a PostgreSQL write transaction a space another transaction
/// holds is left out instead of waited for (`SKIP LOCKED`): a runner that already holds
/// job rows never waits for a space whose holder may be waiting for those rows.
pub async fn get_many_unless_busy(
    c: &mut Conn,
    ids: &[&SpaceId],
) -> Result<Vec<(Space, SpaceStatus)>> {
    select_many(c, ids, "FOR UPDATE SKIP LOCKED").await
}

/// Which of `ids` exist, without locking them.
pub async fn existing(c: &mut Conn, ids: &[&SpaceId]) -> Result<Vec<SpaceId>> {
    let list = serde_json::to_string(ids).expect("ids serialise as strings");
    let found: Vec<String> =
        query("SELECT id FROM spaces WHERE id IN (SELECT value FROM LIST($1))")
            .bind(&list)
            .fetch_all(c, |r| Ok(r.text_at(0)))
            .await?;
    found
        .into_iter()
        .map(|id| SpaceId::parse(&id).map_err(|e| crate::StoreError::Corrupt(e.to_string())))
        .collect()
}

async fn select_many(
    c: &mut Conn,
    ids: &[&SpaceId],
    lock: &str,
) -> Result<Vec<(Space, SpaceStatus)>> {
    if !c.is_pg() {
        // SQLite (no row locks): each space by its key, in id order. An `IN` list is read
        // into a temporary B-tree first, which cost several times the lookups themselves.
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(get(c, id).await?);
        }
        return Ok(out);
    }
    let list = serde_json::to_string(ids).expect("ids serialise as strings");
    let q = format!(
        "SELECT {COLUMNS} FROM spaces WHERE id IN (SELECT value FROM LIST($1)) ORDER BY id"
    );
    query(locked(&q, c.locking(), lock))
        .bind(&list)
        .fetch_all(c, row_to_space)
        .await
}

/// Records many transitions (one statement on PostgreSQL, one prepared statement per row
/// on SQLite: [`crate::bulk`]).
pub async fn insert_transitions(c: &mut Conn, list: &[&Transition]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    // The event-log position (`log_pos`, see crate::events): SQLite takes the next one in
    // the same statement (one index lookup; the single writer makes them commit ordered);
    // PostgreSQL's come from the identity column and the transaction id default.
    const SQLITE: &str = "INSERT INTO transitions (space_id, sequence, event, booking_id, from_space, from_room, \
         to_space, to_room, state_booking_id, next_booking_at, occurred_at, log_pos) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         MAX((SELECT COALESCE(MAX(log_pos), 0) FROM transitions), (SELECT pos FROM event_log_floor)) + 1)";
    const PG: &str = "INSERT INTO transitions (space_id, sequence, event, booking_id, from_space, from_room, \
         to_space, to_room, state_booking_id, next_booking_at, occurred_at) SELECT value->>0, \
         CAST(value->>1 AS BIGINT), value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, \
         CAST(value->>9 AS BIGINT), CAST(value->>10 AS BIGINT) \
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(value, n) ORDER BY n";
    let mut w = bulk(SQLITE, PG, 11);
    for t in list {
        w.row([
            t.space_id.as_str().into(),
            (t.to.sequence as i64).into(),
            t.event.as_str().into(),
            t.booking_id.as_ref().map(|b| b.as_str()).into(),
            t.from_space.as_str().into(),
            t.from_room.as_str().into(),
            t.to.space.as_str().into(),
            t.to.room.as_str().into(),
            t.to.booking_id.as_ref().map(|b| b.as_str()).into(),
            t.to.next_booking_at.map(|x| x.as_millisecond()).into(),
            t.to.since.as_millisecond().into(),
        ]);
    }
    w.execute(c).await?;
    Ok(())
}

/// One space with its status (locked until commit inside a PostgreSQL write transaction,
/// as [`get_many`]).
pub async fn get(c: &mut Conn, id: &SpaceId) -> Result<Option<(Space, SpaceStatus)>> {
    // Not `get_many` of one: its list (a JSON array read into a temporary table, then
    // sorted) cost several times the row's own lookup, on every command.
    let q = format!("SELECT {COLUMNS} FROM spaces WHERE id = $1");
    query(locked(&q, c.locking(), "FOR UPDATE"))
        .bind(id.as_str())
        .fetch_optional(c, row_to_space)
        .await
}

/// All spaces, by id.
pub async fn list(c: &mut Conn) -> Result<Vec<(Space, SpaceStatus)>> {
    let q = format!("SELECT {COLUMNS} FROM spaces ORDER BY id");
    query(q).fetch_all(c, row_to_space).await
}

/// A space's transitions, newest first.
pub async fn history(c: &mut Conn, id: &SpaceId, limit: i64) -> Result<Vec<Transition>> {
    query("SELECT * FROM transitions WHERE space_id = $1 ORDER BY sequence DESC LIMIT $2")
        .bind(id.as_str())
        .bind(limit)
        .fetch_all(c, row_to_transition)
        .await
}

pub(crate) fn row_to_transition(r: &dyn Cols) -> Result<Transition> {
    let bid = |col: &str| -> Result<Option<BookingId>> {
        r.opt_text(col)
            .map(|b| BookingId::parse(&b).map_err(|e| corrupt(col, e)))
            .transpose()
    };
    let state = |col: &str| SpaceState::parse(&r.text(col)).ok_or_else(|| corrupt(col, "?"));
    let room = |col: &str| RoomState::parse(&r.text(col)).ok_or_else(|| corrupt(col, "?"));
    Ok(Transition {
        space_id: SpaceId::parse(&r.text("space_id")).map_err(|e| corrupt("space_id", e))?,
        event: EventKind::parse(&r.text("event")).ok_or_else(|| corrupt("event", "?"))?,
        booking_id: bid("booking_id")?,
        from_space: state("from_space")?,
        from_room: room("from_room")?,
        to: SpaceStatus {
            space: state("to_space")?,
            room: room("to_room")?,
            booking_id: bid("state_booking_id")?,
            next_booking_at: opt_ts(r.opt_int("next_booking_at"))?,
            since: ts(r.int("occurred_at"))?,
            sequence: r.int("sequence") as u64,
        },
    })
}

/// Every space id (for start-up re-planning of business-hours timers).
pub async fn ids(c: &mut Conn) -> Result<Vec<SpaceId>> {
    let rows: Vec<String> = query("SELECT id FROM spaces ORDER BY id")
        .fetch_all(c, |r| Ok(r.text_at(0)))
        .await?;
    rows.iter()
        .map(|s| SpaceId::parse(s).map_err(|e| corrupt("id", e)))
        .collect()
}

/// Removes a space and everything only it had: its bookings, its history, its pending timer
/// jobs and its place in limited tokens' lists; keeps its last sequence, so a space created
/// again with the same id continues above it ([`deleted_sequence`]). Status posts and
/// webhook deliveries already queued stay. Call it in a write transaction that holds the
/// space ([`get`]) and has checked it has no live booking. `false` when there was none.
pub async fn delete(c: &mut Conn, id: &SpaceId, at: jiff::Timestamp) -> Result<bool> {
    let seq: Option<i64> = query("SELECT sequence FROM spaces WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(c, |r| Ok(r.int_at(0)))
        .await?;
    let Some(seq) = seq else {
        return Ok(false);
    };
    if !c.is_pg() {
        // Positions the deleted transitions held are never handed out again (see
        // crate::events); PostgreSQL's identity column never reuses one anyway.
        query(
            "UPDATE event_log_floor SET pos = \
             MAX(pos, (SELECT COALESCE(MAX(log_pos), 0) FROM transitions))",
        )
        .execute(c)
        .await?;
    }
    for sql in [
        "DELETE FROM transitions WHERE space_id = $1",
        "DELETE FROM bookings WHERE space_id = $1",
        "DELETE FROM series WHERE space_id = $1",
        "DELETE FROM token_spaces WHERE space_id = $1",
    ] {
        query(sql).bind(id.as_str()).execute(c).await?;
    }
    query("DELETE FROM jobs WHERE queue = $1 AND grp = $2")
        .bind(crate::Queue::MeetingScheduler.as_str())
        .bind(id.as_str())
        .execute(c)
        .await?;
    query(
        "INSERT INTO deleted_spaces (id, sequence, deleted_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET sequence = excluded.sequence, deleted_at = excluded.deleted_at",
    )
    .bind(id.as_str())
    .bind(seq)
    .bind(at.as_millisecond())
    .execute(c)
    .await?;
    let n = query("DELETE FROM spaces WHERE id = $1")
        .bind(id.as_str())
        .execute(c)
        .await?;
    Ok(n == 1)
}

/// The last sequence of a deleted space with this id, if one was deleted.
pub async fn deleted_sequence(c: &mut Conn, id: &SpaceId) -> Result<Option<u64>> {
    let seq: Option<i64> = query("SELECT sequence FROM deleted_spaces WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(c, |r| Ok(r.int_at(0)))
        .await?;
    Ok(seq.map(|s| s as u64))
}

#[cfg(test)]
mod tests {
    /// Kept hours are the hours of their own text: two schedules read in turn each come
    /// back as written, and a text that does not parse is an error every time.
    #[test]
    fn parsed_hours_are_kept_per_text() {
        use zs_core::calendar::BusinessHours;
        let parse = |t: &str| BusinessHours::parse_json(&serde_json::from_str(t).unwrap()).unwrap();
        let weekdays = r#"{"mon":[{"open":"08:00","close":"18:00"}],"fri":[{"open":"08:00","close":"12:00"}]}"#;
        let nights = r#"{"sat":[{"open":"00:00","close":"06:00"}]}"#;
        for _ in 0..2 {
            assert_eq!(super::hours_of(weekdays.into()).unwrap(), parse(weekdays));
            assert_eq!(super::hours_of(nights.into()).unwrap(), parse(nights));
            assert_ne!(parse(weekdays), parse(nights));
            let bad = super::hours_of(r#"{"mon":[{"open":"18:00","close":"08:00"}]}"#.into());
            assert!(matches!(bad, Err(crate::StoreError::Corrupt(_))), "{bad:?}");
        }
    }

    /// [`super::row_to_space`] reads the columns by position: this is their order.
    #[test]
    fn a_space_row_is_read_in_the_columns_order() {
        let names: Vec<&str> = super::COLUMNS.split(',').map(str::trim).collect();
        assert_eq!(
            names,
            [
                "id",
                "name",
                "timezone",
                "business_hours",
                "upcoming_lead_ms",
                "no_show_grace_ms",
                "cleaning_ms",
                "maintenance",
                "space_state",
                "room_state",
                "booking_id",
                "next_booking_at",
                "since",
                "sequence",
                "max_duration_ms",
                "min_duration_ms",
                "booking_horizon_ms",
                "min_notice_ms",
                "no_show_strikes"
            ]
        );
    }
}
