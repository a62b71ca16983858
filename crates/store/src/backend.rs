//! What the query modules see of the two backends: a connection that is one or the other,
//! a row accessor both row types implement, and the one place where SQL text differs.

use crate::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Row, Sqlite, SqliteConnection, Transaction};

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

/// A connection: a write transaction or a pooled reader, on either backend. Every query
/// function takes `&mut Conn`.
#[derive(Debug)]
pub enum Conn {
    /// A SQLite write transaction.
    SqliteTx(Transaction<'static, Sqlite>),
    /// A SQLite read connection.
    SqliteRead(PoolConnection<Sqlite>),
    /// A PostgreSQL write transaction.
    PgTx(Transaction<'static, Postgres>),
    /// A PostgreSQL read connection.
    PgRead(PoolConnection<Postgres>),
}

/// A write transaction (see [`crate::Store::begin`]).
pub type Tx = Conn;

pub(crate) enum Db<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection, bool),
}

impl Conn {
    pub(crate) fn db(&mut self) -> Db<'_> {
        match self {
            Conn::SqliteTx(t) => Db::Sqlite(t),
            Conn::SqliteRead(c) => Db::Sqlite(c),
            Conn::PgTx(t) => Db::Pg(t, true),
            Conn::PgRead(c) => Db::Pg(c, false),
        }
    }

    /// Commits a write transaction (a no-op for a reader).
    pub async fn commit(self) -> Result<()> {
        match self {
            Conn::SqliteTx(t) => t.commit().await.map_err(map_err),
            Conn::PgTx(t) => t.commit().await.map_err(map_err),
            Conn::SqliteRead(_) | Conn::PgRead(_) => Ok(()),
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

/// Runs `$body` with `$conn` bound to the backend's own connection type, so the same query
/// code (and the same binds) type-check against each driver. `$pg` tells the body which
/// backend it is on; `$locking` whether it is inside a PostgreSQL write transaction.
macro_rules! on_db {
    ($c:expr, |$conn:ident, $pg:ident, $locking:ident| $body:expr) => {
        match $c.db() {
            $crate::backend::Db::Sqlite($conn) => {
                #[allow(unused_variables)]
                let ($pg, $locking) = (false, false);
                $body
            }
            $crate::backend::Db::Pg($conn, tx) => {
                #[allow(unused_variables)]
                let ($pg, $locking) = (true, tx);
                $body
            }
        }
    };
}
pub(crate) use on_db;

/// Rewrites the two JSON table sources for the backend: `ROWS($n)` is a JSON array of
/// arrays (read with `value->>i`), `LIST($n)` a JSON array of scalars (read as `value`).
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
            return out;
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

/// Column access shared by both row types (a wrong type is a schema bug and panics, as
/// `Row::get` does).
pub(crate) trait Cols {
    fn text(&self, col: &str) -> String;
    fn opt_text(&self, col: &str) -> Option<String>;
    fn int(&self, col: &str) -> i64;
    fn opt_int(&self, col: &str) -> Option<i64>;
}

macro_rules! impl_cols {
    ($row:ty) => {
        impl Cols for $row {
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
        }
    };
}
impl_cols!(sqlx::sqlite::SqliteRow);
impl_cols!(sqlx::postgres::PgRow);

#[cfg(test)]
mod tests {
    use super::dialect;

    #[test]
    fn json_sources_are_rewritten_per_backend() {
        let sql = "SELECT value->>0 FROM ROWS($1) WHERE id IN (SELECT value FROM LIST($2))";
        assert_eq!(
            dialect(false, sql),
            "SELECT value->>0 FROM json_each($1) WHERE id IN (SELECT value FROM json_each($2))"
        );
        assert_eq!(
            dialect(true, sql),
            "SELECT value->>0 FROM jsonb_array_elements($1::jsonb) WHERE id IN (SELECT value FROM jsonb_array_elements_text($2::jsonb))"
        );
    }
}
