//! One query API over both drivers, so each query is written once: SQL text with `$n`
//! parameters (rewritten per backend by [`dialect`]), bound values, and rows read through
//! [`Cols`] while the statement runs.
//!
//! On SQLite a statement runs on rusqlite in the calling task, on the transaction's own
//! connection, from a per-connection cache of prepared statements: a command's whole
//! transaction is one hand-off (taking the writer), not a thread hop per statement. On
//! PostgreSQL it goes through sqlx.

use crate::backend::{Cols, Conn, LiteRow, dialect, map_err};
use crate::{Result, StoreError};
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::borrow::Cow;

/// A bound value. The type of a NULL matters to PostgreSQL, so each kind keeps its own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// An integer (`BIGINT`).
    Int(Option<i64>),
    /// Text.
    Text(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl Arg {
    /// The value as JSON (for PostgreSQL's `ROWS($n)` arrays: [`crate::bulk`]).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        match self {
            Arg::Int(v) => v.map_or(serde_json::Value::Null, Into::into),
            Arg::Text(v) => v.as_deref().map_or(serde_json::Value::Null, Into::into),
        }
    }
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Arg::Int(Some(v)) => ValueRef::Integer(*v),
            Arg::Text(Some(s)) => ValueRef::Text(s.as_bytes()),
            Arg::Int(None) | Arg::Text(None) => ValueRef::Null,
        }))
    }
}

/// A statement with its bound values (see [`query`]).
#[derive(Debug, Clone)]
pub(crate) struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Arg>,
}

/// A statement: `$1`, `$2`, … are bound in order by [`Query::bind`]; `ROWS($n)` and
/// `LIST($n)` read a JSON array bound as text (see [`dialect`]).
pub(crate) fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Query<'_> {
    /// Binds the next parameter.
    pub(crate) fn bind(mut self, v: impl Into<Arg>) -> Self {
        self.args.push(v.into());
        self
    }

    /// Runs the statement; returns how many rows it changed.
    pub(crate) async fn execute(self, c: &mut Conn) -> Result<u64> {
        if let Some(conn) = c.lite() {
            let mut st = self.lite(conn)?;
            return st.raw_execute().map(|n| n as u64).map_err(lite_err);
        }
        let (sql, conn) = self.pg(c);
        let done = pg_query(&sql, self.args)
            .execute(conn)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    /// Every row, each read by `f` while the statement runs.
    pub(crate) async fn fetch_all<T>(
        self,
        c: &mut Conn,
        mut f: impl FnMut(&dyn Cols) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.fetch_some(c, |r| f(r).map(Some)).await
    }

    /// The rows `f` keeps (it returns `None` for a row it skips), each read while the
    /// statement runs.
    pub(crate) async fn fetch_some<T>(
        self,
        c: &mut Conn,
        mut f: impl FnMut(&dyn Cols) -> Result<Option<T>>,
    ) -> Result<Vec<T>> {
        if let Some(conn) = c.lite() {
            let mut st = self.lite(conn)?;
            let names = std::cell::OnceCell::new();
            let mut rows = st.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(lite_err)? {
                out.extend(f(&LiteRow { row, names: &names })?);
            }
            return Ok(out);
        }
        let (sql, conn) = self.pg(c);
        let rows = pg_query(&sql, self.args)
            .fetch_all(conn)
            .await
            .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.extend(f(r)?);
        }
        Ok(out)
    }

    /// The first row, if any, read by `f`.
    pub(crate) async fn fetch_optional<T>(
        self,
        c: &mut Conn,
        mut f: impl FnMut(&dyn Cols) -> Result<T>,
    ) -> Result<Option<T>> {
        if let Some(conn) = c.lite() {
            let mut st = self.lite(conn)?;
            let names = std::cell::OnceCell::new();
            let mut rows = st.raw_query();
            return match rows.next().map_err(lite_err)? {
                Some(row) => Ok(Some(f(&LiteRow { row, names: &names })?)),
                None => Ok(None),
            };
        }
        let (sql, conn) = self.pg(c);
        let row = pg_query(&sql, self.args)
            .fetch_optional(conn)
            .await
            .map_err(map_err)?;
        row.as_ref().map(|r| f(r)).transpose()
    }

    /// The statement on a SQLite connection: its text in SQLite's dialect (rewritten once
    /// per text: [`lite_sql`]), prepared from the connection's cache, values bound.
    fn lite<'c>(&self, conn: &'c rusqlite::Connection) -> Result<rusqlite::CachedStatement<'c>> {
        prepare(conn, &lite_sql(&self.sql), &self.args)
    }

    /// The statement's text in PostgreSQL's dialect, and the PostgreSQL connection.
    fn pg<'c>(&self, c: &'c mut Conn) -> (String, &'c mut sqlx::PgConnection) {
        let sql = dialect(true, &self.sql);
        (sql, c.pg().expect("a PostgreSQL connection"))
    }

    /// The first row, read by `f`; a statement that returns none is a bug (aggregates
    /// always return one).
    pub(crate) async fn fetch_one<T>(
        self,
        c: &mut Conn,
        f: impl FnMut(&dyn Cols) -> Result<T>,
    ) -> Result<T> {
        let what = self.sql.chars().take(60).collect::<String>();
        self.fetch_optional(c, f)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {what:?}")))
    }
}

/// `sql` in SQLite's dialect ([`dialect`]). The store's statements are a fixed set of
/// texts built from constants (values are always bound, never written into the text), so
/// each is rewritten once and kept: the rewrite was a few per cent of a busy service's CPU
/// when done on every statement. Past [`KEPT_TEXTS`] texts, new ones are rewritten each time.
pub(crate) fn lite_sql(sql: &str) -> std::sync::Arc<str> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, PoisonError, RwLock};
    // foldhash, not the standard SipHash: the key is the whole text (hundreds of bytes), and
    // SipHash over it was most of this lookup, on every statement.
    type Texts = HashMap<String, Arc<str>, foldhash::fast::RandomState>;
    static REWRITTEN: LazyLock<RwLock<Texts>> = LazyLock::new(Default::default);
    if let Some(done) = REWRITTEN
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(sql)
    {
        return done.clone();
    }
    let done: Arc<str> = dialect(false, sql).into();
    let mut kept = REWRITTEN.write().unwrap_or_else(PoisonError::into_inner);
    if kept.len() < KEPT_TEXTS {
        kept.insert(sql.to_owned(), done.clone());
    }
    done
}

/// How many statement texts [`lite_sql`] keeps (the store has about two hundred).
const KEPT_TEXTS: usize = 4096;

/// The cached statement for `sql` on `conn`, with `args` bound (`?n` takes the n-th; a
/// value the text does not use is not bound).
fn prepare<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
    args: &[Arg],
) -> Result<rusqlite::CachedStatement<'c>> {
    let mut st = conn.prepare_cached(sql).map_err(lite_err)?;
    let used = st.parameter_count();
    for (i, a) in args.iter().enumerate().take(used) {
        st.raw_bind_parameter(i + 1, a).map_err(lite_err)?;
    }
    Ok(st)
}

fn pg_query(
    sql: &str,
    args: Vec<Arg>,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for a in args {
        q = match a {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
        };
    }
    q
}

/// A SQLite error as the store reports it.
pub(crate) fn lite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn memory() -> Conn {
        crate::sqlite::memory_conn_for_tests()
    }

    #[test]
    fn a_text_is_rewritten_once_and_kept() {
        let sql = "SELECT value FROM LIST($1) WHERE $2::bigint IS NULL -- kept";
        let first = lite_sql(sql);
        assert_eq!(&*first, dialect(false, sql));
        assert!(std::sync::Arc::ptr_eq(&first, &lite_sql(sql)));
    }

    #[tokio::test]
    async fn parameters_bind_by_number_whatever_order_the_text_uses_them() {
        let mut c = memory().await;
        let got = query("SELECT $2 - $1 AS d, $3 AS t, $4 AS n")
            .bind(1i64)
            .bind(10i64)
            .bind("x")
            .bind(None::<i64>)
            .fetch_one(&mut c, |r| Ok((r.int("d"), r.text("t"), r.opt_int("n"))))
            .await
            .unwrap();
        assert_eq!(got, (9, "x".to_owned(), None));
    }

    #[tokio::test]
    async fn json_sources_read_bound_arrays() {
        let mut c = memory().await;
        let got = query("SELECT CAST(value->>1 AS BIGINT) AS v FROM ROWS($1) WHERE value->>0 IN (SELECT value FROM LIST($2)) ORDER BY v")
            .bind(r#"[["a",1],["b",2],["c",3]]"#)
            .bind(r#"["c","a"]"#)
            .fetch_all(&mut c, |r| Ok(r.int_at(0)))
            .await
            .unwrap();
        assert_eq!(got, [1, 3]);
    }

    #[tokio::test]
    async fn a_bound_limit_or_pattern_does_not_make_the_statement_prepare_again() {
        const SQL: &str = "SELECT value FROM LIST($1) WHERE value LIKE $2 ORDER BY value LIMIT $3";
        let mut c = memory().await;
        for (pattern, limit, want) in [("a%", 1, 1), ("b%", 5, 2), ("a%", 3, 3), ("c%", 2, 0)] {
            let got = query(SQL)
                .bind(r#"["a1","b1","a2","b2","a3"]"#)
                .bind(pattern)
                .bind(limit)
                .fetch_all(&mut c, |r| Ok(r.text_at(0)))
                .await
                .unwrap();
            assert_eq!(got.len(), want, "{pattern} limit {limit}: {got:?}");
        }
        // Without the planner's stability guarantee, each new value bound to the LIMIT or
        // the LIKE pattern re-parses and re-plans the cached statement.
        let conn = c.lite().expect("a SQLite connection");
        let st = conn.prepare_cached(&lite_sql(SQL)).unwrap();
        assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    #[tokio::test]
    async fn sqlite_is_built_without_its_process_wide_locks() {
        // Memory statistics lock on every allocation, memory management makes the page
        // caches one behind a lock (.cargo/config.toml).
        let mut c = memory().await;
        let used = query(
            "SELECT sqlite_compileoption_used('DEFAULT_MEMSTATUS=0') AS a, \
             sqlite_compileoption_used('ENABLE_MEMORY_MANAGEMENT') AS b",
        )
        .fetch_one(&mut c, |r| Ok((r.int_at(0), r.int_at(1))))
        .await
        .unwrap();
        assert_eq!(used, (1, 0), "statistics off, memory management out");
    }

    #[tokio::test]
    async fn a_bad_statement_is_an_error_not_a_panic() {
        let mut c = memory().await;
        let e = query("SELECT * FROM no_such_table")
            .execute(&mut c)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no_such_table"), "{e}");
    }
}
