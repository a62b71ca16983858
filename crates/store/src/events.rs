//! The event log: every transition in commit order, read by `/v1/events` from a cursor.
//!
//! A [`Cursor`] names a position in the log; "everything after C" read now never later gains
//! a row before C:
//! - **SQLite**: `log_pos`, taken inside the single writer's transaction (see
//!   [`crate::spaces::insert_transitions`]), so positions grow in commit order.
//! - **PostgreSQL**: identity values are not commit ordered, so each row also keeps its
//!   transaction id (`log_tx`), and readers only see rows whose transaction is older than
//!   the oldest one still running (`pg_snapshot_xmin`): those can no longer change. Order
//!   is (`log_tx`, `log_pos`). A transaction left open anywhere on the server holds new
//!   rows back until it ends.

use crate::backend::Cols;
use crate::query::query;
use crate::{Conn, Result};
use zs_core::Transition;

/// A position in the event log: after the transition it names. Written as `{tx}-{pos}`
/// (`tx` is 0 on SQLite); [`Cursor::START`] is before every transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    tx: i64,
    pos: i64,
}

impl Cursor {
    /// Before the first transition.
    pub const START: Cursor = Cursor { tx: 0, pos: 0 };

    /// Parses the `{tx}-{pos}` form (two unsigned decimal numbers); `None` if it is not one.
    pub fn parse(s: &str) -> Option<Cursor> {
        let (tx, pos) = s.split_once('-')?;
        let num = |x: &str| -> Option<i64> {
            if x.is_empty() || x.len() > 18 || !x.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            x.parse().ok()
        };
        Some(Cursor {
            tx: num(tx)?,
            pos: num(pos)?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.tx, self.pos)
    }
}

/// Rows older than this are settled: on PostgreSQL, no transaction that could still add
/// a row before them is running.
const PG_SETTLED: &str = "log_tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

fn cursor_of(r: &dyn Cols, pg: bool) -> Cursor {
    Cursor {
        tx: if pg { r.int("log_tx") } else { 0 },
        pos: r.int("log_pos"),
    }
}

/// The newest settled position ([`Cursor::START`] for an empty log): reading after it
/// gives exactly what commits from now on.
pub async fn head(c: &mut Conn) -> Result<Cursor> {
    let pg = c.is_pg();
    let sql = if pg {
        format!(
            "SELECT log_tx, log_pos FROM transitions WHERE {PG_SETTLED} \
             ORDER BY log_tx DESC, log_pos DESC LIMIT 1"
        )
    } else {
        "SELECT log_pos FROM transitions ORDER BY log_pos DESC LIMIT 1".to_owned()
    };
    let row = query(sql)
        .fetch_optional(c, |r| Ok(cursor_of(r, pg)))
        .await?;
    Ok(row.unwrap_or(Cursor::START))
}

/// Up to `limit` settled transitions after `after`, in commit order, with their cursors.
pub async fn after(c: &mut Conn, after: Cursor, limit: i64) -> Result<Vec<(Cursor, Transition)>> {
    let pg = c.is_pg();
    let q = if pg {
        query(format!(
            "SELECT * FROM transitions WHERE (log_tx, log_pos) > ($1, $2) AND {PG_SETTLED} \
             ORDER BY log_tx, log_pos LIMIT $3"
        ))
        .bind(after.tx)
        .bind(after.pos)
        .bind(limit)
    } else {
        query("SELECT * FROM transitions WHERE log_pos > $1 ORDER BY log_pos LIMIT $2")
            .bind(after.pos)
            .bind(limit)
    };
    q.fetch_all(c, |r| {
        Ok((cursor_of(r, pg), crate::spaces::row_to_transition(r)?))
    })
    .await
}

/// When the transition at `at` happened, or `None` when the log holds no such position
/// (never issued, or issued by another database). [`Cursor::START`] has no transition: `None`.
pub async fn occurred_at(c: &mut Conn, at: Cursor) -> Result<Option<jiff::Timestamp>> {
    let ms: Option<i64> = if c.is_pg() {
        query("SELECT occurred_at FROM transitions WHERE log_tx = $1 AND log_pos = $2")
            .bind(at.tx)
            .bind(at.pos)
            .fetch_optional(c, |r| Ok(r.int_at(0)))
            .await?
    } else if at.tx != 0 {
        None
    } else {
        query("SELECT occurred_at FROM transitions WHERE log_pos = $1")
            .bind(at.pos)
            .fetch_optional(c, |r| Ok(r.int_at(0)))
            .await?
    };
    crate::opt_ts(ms)
}

/// How many settled transitions follow `after`, counting no further than `cap`.
pub async fn count_after(c: &mut Conn, after: Cursor, cap: i64) -> Result<i64> {
    let q = if c.is_pg() {
        query(format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM transitions \
             WHERE (log_tx, log_pos) > ($1, $2) AND {PG_SETTLED} LIMIT $3) AS t"
        ))
        .bind(after.tx)
        .bind(after.pos)
        .bind(cap)
    } else {
        query("SELECT COUNT(*) FROM (SELECT 1 FROM transitions WHERE log_pos > $1 LIMIT $2)")
            .bind(after.pos)
            .bind(cap)
    };
    q.fetch_one(c, |r| Ok(r.int_at(0))).await
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_reads_back_what_it_writes_and_nothing_else() {
        let c = Cursor::parse("812-17").unwrap();
        assert_eq!(c.to_string(), "812-17");
        assert_eq!(Cursor::parse("0-0"), Some(Cursor::START));
        assert!(Cursor::parse("0-1") > Cursor::parse("0-0"));
        assert!(Cursor::parse("2-1") > Cursor::parse("1-9"));
        for bad in [
            "",
            "5",
            "-5",
            "5-",
            "a-1",
            "1-b",
            "+1-2",
            "1-2-3",
            "room-1.5",
            " 1-2",
            "1234567890123456789-1",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }
}
