//! What the query modules see of the two backends: a connection that is one or the other,
//! a row accessor both row types implement, and the one place where SQL text differs.

use crate::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Row, Transaction};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Pools {
    Sqlite(crate::sqlite::SqliteStore),
    Pg(crate::postgres::PgStore),
}

/// A connection: a write transaction or a reader, on either backend. Every query function
/// takes `&mut Conn`.
#[derive(Debug)]
pub enum Conn {
    /// A SQLite write transaction (holding the single writer).
    LiteTx(crate::sqlite::WriteTx),
    /// A SQLite read connection.
    LiteRead(crate::sqlite::ReadConn),
    /// A PostgreSQL write transaction.
    PgTx(Transaction<'static, Postgres>),
    /// A PostgreSQL read connection.
    PgRead(PoolConnection<Postgres>),
}

/// A write transaction (see [`crate::Store::begin`]).
pub type Tx = Conn;

impl Conn {
    /// The SQLite connection, on the embedded store.
    pub(crate) fn lite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Conn::LiteTx(t) => Some(t.conn()),
            Conn::LiteRead(r) => Some(r.conn()),
            Conn::PgTx(_) | Conn::PgRead(_) => None,
        }
    }

    /// The PostgreSQL connection.
    pub(crate) fn pg(&mut self) -> Option<&mut PgConnection> {
        match self {
            Conn::PgTx(t) => Some(t),
            Conn::PgRead(c) => Some(c),
            Conn::LiteTx(_) | Conn::LiteRead(_) => None,
        }
    }

    /// Whether this is a PostgreSQL connection.
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self, Conn::PgTx(_) | Conn::PgRead(_))
    }

    /// Whether rows read here must be locked (inside a PostgreSQL write transaction; the
    /// SQLite writer is alone and needs no row locks).
    pub(crate) fn locking(&self) -> bool {
        matches!(self, Conn::PgTx(_))
    }

    /// Commits a write transaction (a no-op for a reader).
    pub async fn commit(self) -> Result<()> {
        match self {
            Conn::LiteTx(t) => t.commit().await,
            Conn::PgTx(t) => t.commit().await.map_err(map_err),
            Conn::LiteRead(_) | Conn::PgRead(_) => Ok(()),
        }
    }

    /// Rolls a write transaction back and waits until it is (a no-op for a reader). Dropping
    /// a PostgreSQL transaction also rolls it back, but only once its connection is next
    /// used, so its row locks could outlive the caller's answer; SQLite rolls back as the
    /// transaction is dropped.
    pub async fn rollback(self) -> Result<()> {
        match self {
            Conn::PgTx(t) => t.rollback().await.map_err(map_err),
            Conn::LiteTx(t) => {
                drop(t);
                Ok(())
            }
            Conn::LiteRead(_) | Conn::PgRead(_) => Ok(()),
        }
    }
}

/// Maps database errors the domain understands (the booking exclusion constraint).
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        match d.code().as_deref() {
            Some("23P01") => return StoreError::Overlap,
            Some("23505") => return StoreError::Duplicate(d.message().to_owned()),
            _ => {}
        }
    }
    StoreError::Db(e)
}

/// Writes `sql` in the backend's dialect: `ROWS($n)` is a JSON array of arrays (read with
/// `value->>i`), `LIST($n)` a JSON array of scalars (read as `value`). For SQLite, `$n`
/// becomes `?n` (a numbered parameter: `$n` would be a named one, numbered by first use)
/// and PostgreSQL's `::text` / `::bigint` casts (which type a bare NULL test) are dropped.
pub(crate) fn dialect(pg: bool, sql: &str) -> String {
    let (rows, list, cast) = if pg {
        (
            "jsonb_array_elements(",
            "jsonb_array_elements_text(",
            "::jsonb",
        )
    } else {
        ("json_each(", "json_each(", "")
    };
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    loop {
        let next = [("ROWS($", rows), ("LIST($", list)]
            .into_iter()
            .filter_map(|(tok, f)| rest.find(tok).map(|i| (i, tok, f)))
            .min_by_key(|(i, _, _)| *i);
        let Some((i, tok, f)) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        let after = &rest[i + tok.len()..];
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(f);
        out.push('$');
        out.push_str(&after[..digits]);
        out.push_str(cast);
        rest = &after[digits..];
    }
    if pg {
        return out;
    }
    let out = out.replace("::text", "").replace("::bigint", "");
    let mut lite = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            lite.push('?');
        } else {
            lite.push(ch);
        }
    }
    lite
}

/// `sql` with the row-lock clause `lock` appended when `locking` (inside a PostgreSQL write
/// transaction; SQLite's single writer needs no row locks).
pub(crate) fn locked(sql: &str, locking: bool, lock: &str) -> String {
    if locking {
        format!("{sql} {lock}")
    } else {
        sql.to_owned()
    }
}

/// Column access shared by both row types, by name or by position (a wrong type is a
/// schema bug and panics, as `sqlx::Row::get` does).
pub(crate) trait Cols {
    fn text(&self, col: &str) -> String;
    fn opt_text(&self, col: &str) -> Option<String>;
    fn int(&self, col: &str) -> i64;
    fn opt_int(&self, col: &str) -> Option<i64>;
    fn text_at(&self, i: usize) -> String;
    fn opt_text_at(&self, i: usize) -> Option<String>;
    fn int_at(&self, i: usize) -> i64;
    fn opt_int_at(&self, i: usize) -> Option<i64>;
}

impl Cols for sqlx::postgres::PgRow {
    fn text(&self, col: &str) -> String {
        self.get(col)
    }
    fn opt_text(&self, col: &str) -> Option<String> {
        self.get(col)
    }
    fn int(&self, col: &str) -> i64 {
        self.get(col)
    }
    fn opt_int(&self, col: &str) -> Option<i64> {
        self.get(col)
    }
    fn text_at(&self, i: usize) -> String {
        self.get(i)
    }
    fn opt_text_at(&self, i: usize) -> Option<String> {
        self.get(i)
    }
    fn int_at(&self, i: usize) -> i64 {
        self.get(i)
    }
    fn opt_int_at(&self, i: usize) -> Option<i64> {
        self.get(i)
    }
}

/// Reads column `idx` of a SQLite row as `T`; panics on a schema bug, naming the column.
fn lite_get<T: rusqlite::types::FromSql, I: rusqlite::RowIndex + std::fmt::Debug + Copy>(
    r: &rusqlite::Row<'_>,
    idx: I,
) -> T {
    match r.get(idx) {
        Ok(v) => v,
        Err(e) => panic!("column {idx:?}: {e}"),
    }
}

/// A SQLite row with its statement's column names, read once per statement run and only
/// if a column is read by name: a read by name looks the name up here instead of asking
/// SQLite for each column's name (with a `strlen` and a compare) on every read of every
/// row, and a statement read only by position never reads them.
pub(crate) struct LiteRow<'r, 's> {
    pub(crate) row: &'r rusqlite::Row<'s>,
    /// Shared by the rows of one run of the statement.
    pub(crate) names: &'r std::cell::OnceCell<Vec<String>>,
}

impl LiteRow<'_, '_> {
    fn index(&self, col: &str) -> usize {
        let names = self.names.get_or_init(|| {
            let st: &rusqlite::Statement<'_> = AsRef::as_ref(self.row);
            st.column_names().into_iter().map(str::to_owned).collect()
        });
        match names.iter().position(|n| n.eq_ignore_ascii_case(col)) {
            Some(i) => i,
            None => panic!("column {col:?}: not in the statement's columns {names:?}"),
        }
    }
}

impl Cols for LiteRow<'_, '_> {
    fn text(&self, col: &str) -> String {
        lite_get(self.row, self.index(col))
    }
    fn opt_text(&self, col: &str) -> Option<String> {
        lite_get(self.row, self.index(col))
    }
    fn int(&self, col: &str) -> i64 {
        lite_get(self.row, self.index(col))
    }
    fn opt_int(&self, col: &str) -> Option<i64> {
        lite_get(self.row, self.index(col))
    }
    fn text_at(&self, i: usize) -> String {
        lite_get(self.row, i)
    }
    fn opt_text_at(&self, i: usize) -> Option<String> {
        lite_get(self.row, i)
    }
    fn int_at(&self, i: usize) -> i64 {
        lite_get(self.row, i)
    }
    fn opt_int_at(&self, i: usize) -> Option<i64> {
        lite_get(self.row, i)
    }
}

#[cfg(test)]
mod tests {
    use super::dialect;

    #[test]
    fn json_sources_are_rewritten_per_backend() {
        let sql = "SELECT value->>0 FROM ROWS($1) WHERE id IN (SELECT value FROM LIST($2))";
        assert_eq!(
            dialect(false, sql),
            "SELECT value->>0 FROM json_each(?1) WHERE id IN (SELECT value FROM json_each(?2))"
        );
        assert_eq!(
            dialect(true, sql),
            "SELECT value->>0 FROM jsonb_array_elements($1::jsonb) WHERE id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb))"
        );
    }

    #[test]
    fn sqlite_gets_numbered_parameters_and_no_postgres_casts() {
        let sql = "SELECT * FROM t WHERE ($1::text IS NULL OR a = $1) AND ($12::bigint IS NULL OR b > $12)";
        assert_eq!(
            dialect(false, sql),
            "SELECT * FROM t WHERE (?1 IS NULL OR a = ?1) AND (?12 IS NULL OR b > ?12)"
        );
        assert_eq!(dialect(true, sql), sql);
    }
}
