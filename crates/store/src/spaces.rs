//! Spaces: settings, maintenance flag, stored status, and their transition history.

use crate::{Conn, Result, StoreError, opt_ts, ts};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::{
    BookingId, EventKind, Period, RoomState, Space, SpaceId, SpaceSettings, SpaceState,
    SpaceStatus, Transition,
};

const COLUMNS: &str = "id, name, timezone, business_hours, upcoming_lead_ms, no_show_grace_ms, cleaning_ms, \
     maintenance, space_state, room_state, booking_id, next_booking_at, since, sequence";

fn corrupt(what: &str, v: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v}"))
}

fn period(ms: i64) -> Result<Period> {
    Period::from_millis(ms).ok_or_else(|| corrupt("period", ms))
}

fn row_to_space(r: &SqliteRow) -> Result<(Space, SpaceStatus)> {
    let zone = Zone::parse(r.get("timezone")).map_err(|e| corrupt("timezone", e))?;
    let hours: Option<String> = r.get("business_hours");
    let business_hours = match hours {
        None => None,
        Some(h) => {
            let v: serde_json::Value = serde_json::from_str(&h).map_err(|e| corrupt("hours", e))?;
            Some(BusinessHours::parse_json(&v).map_err(|e| corrupt("hours", e))?)
        }
    };
    let settings = SpaceSettings {
        zone,
        business_hours,
        upcoming_lead: period(r.get("upcoming_lead_ms"))?,
        no_show_grace: period(r.get("no_show_grace_ms"))?,
        cleaning: period(r.get("cleaning_ms"))?,
    };
    let id: String = r.get("id");
    let space = Space {
        id: SpaceId::parse(&id).map_err(|e| corrupt("id", e))?,
        name: r.get("name"),
        settings,
        maintenance: r.get::<i64, _>("maintenance") != 0,
    };
    let status = SpaceStatus {
        space: SpaceState::parse(r.get("space_state"))
            .ok_or_else(|| corrupt("space_state", "?"))?,
        room: RoomState::parse(r.get("room_state")).ok_or_else(|| corrupt("room_state", "?"))?,
        booking_id: r
            .get::<Option<String>, _>("booking_id")
            .map(|b| BookingId::parse(&b))
            .transpose()
            .map_err(|e| corrupt("booking_id", e))?,
        next_booking_at: opt_ts(r.get("next_booking_at"))?,
        since: ts(r.get("since"))?,
        sequence: r.get::<i64, _>("sequence") as u64,
    };
    Ok((space, status))
}

fn hours_json(s: &Space) -> Option<String> {
    s.settings
        .business_hours
        .as_ref()
        .map(|h| serde_json::to_string(h).expect("hours serialise"))
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

/// Binds every column after `id`, in table order (name … sequence).
fn bind_fields<'q>(q: Query<'q>, s: &'q Space, st: &'q SpaceStatus) -> Query<'q> {
    q.bind(&s.name)
        .bind(s.settings.zone.name())
        .bind(hours_json(s))
        .bind(s.settings.upcoming_lead.as_millis())
        .bind(s.settings.no_show_grace.as_millis())
        .bind(s.settings.cleaning.as_millis())
        .bind(s.maintenance as i64)
        .bind(st.space.as_str())
        .bind(st.room.as_str())
        .bind(st.booking_id.as_ref().map(|b| b.as_str()))
        .bind(st.next_booking_at.map(|t| t.as_millisecond()))
        .bind(st.since.as_millisecond())
        .bind(st.sequence as i64)
}

/// Inserts a new space; `false` when the id is taken.
pub async fn insert(c: &mut Conn, s: &Space, st: &SpaceStatus) -> Result<bool> {
    let q = sqlx::query(
        "INSERT INTO spaces (id, name, timezone, business_hours, upcoming_lead_ms, no_show_grace_ms, \
         cleaning_ms, maintenance, space_state, room_state, booking_id, next_booking_at, since, sequence, created_at) \
         VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(s.id.as_str());
    let r = bind_fields(q, s, st)
        .bind(st.since.as_millisecond())
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Writes a space's settings, maintenance flag and status.
pub async fn update(c: &mut Conn, s: &Space, st: &SpaceStatus) -> Result<()> {
    let q = sqlx::query(
        "UPDATE spaces SET name = ?, timezone = ?, business_hours = ?, upcoming_lead_ms = ?, \
         no_show_grace_ms = ?, cleaning_ms = ?, maintenance = ?, space_state = ?, room_state = ?, \
         booking_id = ?, next_booking_at = ?, since = ?, sequence = ? WHERE id = ?",
    );
    bind_fields(q, s, st)
        .bind(s.id.as_str())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Writes many spaces' maintenance flags and statuses in one statement (settings are
/// changed only by [`update`]).
pub async fn update_status_many(c: &mut Conn, list: &[(&Space, &SpaceStatus)]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|(s, st)| {
            serde_json::json!([
                s.id.as_str(),
                s.maintenance as i64,
                st.space.as_str(),
                st.room.as_str(),
                st.booking_id.as_ref().map(|b| b.as_str()),
                st.next_booking_at.map(|t| t.as_millisecond()),
                st.since.as_millisecond(),
                st.sequence as i64
            ])
        })
        .collect();
    sqlx::query(
        "WITH j AS MATERIALIZED (SELECT value->>0 AS id, value->>1 AS m, value->>2 AS ss, value->>3 AS rs, \
         value->>4 AS b, value->>5 AS n, value->>6 AS si, value->>7 AS sq FROM json_each(?)) \
         UPDATE spaces SET maintenance = j.m, space_state = j.ss, room_state = j.rs, booking_id = j.b, \
         next_booking_at = j.n, since = j.si, sequence = j.sq FROM j WHERE spaces.id = j.id",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Many spaces with their statuses.
pub async fn get_many(c: &mut Conn, ids: &[&SpaceId]) -> Result<Vec<(Space, SpaceStatus)>> {
    let list =
        serde_json::to_string(&ids.iter().map(|s| s.as_str()).collect::<Vec<_>>()).expect("ids");
    let q = format!("SELECT {COLUMNS} FROM spaces WHERE id IN (SELECT value FROM json_each(?))");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(list)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(row_to_space).collect()
}

/// Records many transitions in one statement.
pub async fn insert_transitions(c: &mut Conn, list: &[&Transition]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|t| {
            serde_json::json!([
                t.space_id.as_str(),
                t.to.sequence as i64,
                t.event.as_str(),
                t.booking_id.as_ref().map(|b| b.as_str()),
                t.from_space.as_str(),
                t.from_room.as_str(),
                t.to.space.as_str(),
                t.to.room.as_str(),
                t.to.booking_id.as_ref().map(|b| b.as_str()),
                t.to.next_booking_at.map(|x| x.as_millisecond()),
                t.to.since.as_millisecond()
            ])
        })
        .collect();
    sqlx::query(
        "INSERT INTO transitions (space_id, sequence, event, booking_id, from_space, from_room, to_space, \
         to_room, state_booking_id, next_booking_at, occurred_at) SELECT value->>0, value->>1, value->>2, \
         value->>3, value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, value->>10 FROM json_each(?)",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// One space with its status.
pub async fn get(c: &mut Conn, id: &SpaceId) -> Result<Option<(Space, SpaceStatus)>> {
    let q = format!("SELECT {COLUMNS} FROM spaces WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(q))
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(row_to_space).transpose()
}

/// All spaces, by id.
pub async fn list(c: &mut Conn) -> Result<Vec<(Space, SpaceStatus)>> {
    let q = format!("SELECT {COLUMNS} FROM spaces ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(q))
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(row_to_space).collect()
}

/// A space's transitions, newest first.
pub async fn history(c: &mut Conn, id: &SpaceId, limit: i64) -> Result<Vec<Transition>> {
    let rows =
        sqlx::query("SELECT * FROM transitions WHERE space_id = ? ORDER BY sequence DESC LIMIT ?")
            .bind(id.as_str())
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
    rows.iter().map(row_to_transition).collect()
}

fn row_to_transition(r: &SqliteRow) -> Result<Transition> {
    let bid = |col: &str| -> Result<Option<BookingId>> {
        r.get::<Option<String>, _>(col)
            .map(|b| BookingId::parse(&b).map_err(|e| corrupt(col, e)))
            .transpose()
    };
    let state = |col: &str| SpaceState::parse(r.get(col)).ok_or_else(|| corrupt(col, "?"));
    let room = |col: &str| RoomState::parse(r.get(col)).ok_or_else(|| corrupt(col, "?"));
    Ok(Transition {
        space_id: SpaceId::parse(r.get("space_id")).map_err(|e| corrupt("space_id", e))?,
        event: EventKind::parse(r.get("event")).ok_or_else(|| corrupt("event", "?"))?,
        booking_id: bid("booking_id")?,
        from_space: state("from_space")?,
        from_room: room("from_room")?,
        to: SpaceStatus {
            space: state("to_space")?,
            room: room("to_room")?,
            booking_id: bid("state_booking_id")?,
            next_booking_at: opt_ts(r.get("next_booking_at"))?,
            since: ts(r.get("occurred_at"))?,
            sequence: r.get::<i64, _>("sequence") as u64,
        },
    })
}

/// Every space id (for start-up re-planning of business-hours timers).
pub async fn ids(c: &mut Conn) -> Result<Vec<SpaceId>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT id FROM spaces")
        .fetch_all(&mut *c)
        .await?;
    rows.iter()
        .map(|s| SpaceId::parse(s).map_err(|e| corrupt("id", e)))
        .collect()
}
