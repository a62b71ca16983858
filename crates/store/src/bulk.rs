//! Writing many rows in one call, each backend its cheapest way: on SQLite one statement
//! prepared once and run per row on the transaction's own connection (no round trip to
//! save, and no JSON to build and parse); on PostgreSQL one statement for all the rows,
//! passed as one JSON array (`ROWS($1)`), so a batch costs one round trip.
//!
//! The two texts of a write sit side by side where it is defined, with the same values
//! in the same order: the row's values are `$1..$k` of the SQLite text and `value->>0..`
//! of the PostgreSQL one; values shared by every row follow (`$k+1..` and `$2..`).

use crate::Result;
use crate::backend::Conn;
use crate::query::{Arg, lite_err, lite_sql, query};

/// A write of many rows. Build with [`bulk`], add [`Bulk::row`]s, then [`Bulk::execute`].
pub(crate) struct Bulk {
    one: &'static str,
    many: &'static str,
    width: usize,
    shared: Vec<Arg>,
    rows: Vec<Arg>,
}

/// A bulk write: `one` is the SQLite statement for one row (`$1..$width` the row's
/// values, then the shared ones), `many` the PostgreSQL statement for all rows
/// (`ROWS($1)`, then the shared values from `$2`).
pub(crate) fn bulk(one: &'static str, many: &'static str, width: usize) -> Bulk {
    Bulk {
        one,
        many,
        width,
        shared: Vec::new(),
        rows: Vec::new(),
    }
}

impl Bulk {
    /// Binds the next value shared by every row.
    pub(crate) fn shared(mut self, v: impl Into<Arg>) -> Self {
        self.shared.push(v.into());
        self
    }

    /// Adds a row: exactly `width` values, in the order the statements read them.
    pub(crate) fn row<const N: usize>(&mut self, values: [Arg; N]) {
        assert_eq!(N, self.width, "a bulk row has the statement's width");
        self.rows.extend(values);
    }

    /// Runs the write; returns how many rows it changed.
    pub(crate) async fn execute(self, c: &mut Conn) -> Result<u64> {
        if self.rows.is_empty() {
            return Ok(0);
        }
        if let Some(conn) = c.lite() {
            let sql = lite_sql(self.one);
            let mut st = conn.prepare_cached(&sql).map_err(lite_err)?;
            let used = st.parameter_count();
            for (i, a) in self.shared.iter().enumerate() {
                if self.width + i < used {
                    st.raw_bind_parameter(self.width + i + 1, a)
                        .map_err(lite_err)?;
                }
            }
            let mut changed = 0;
            for row in self.rows.chunks(self.width) {
                for (i, a) in row.iter().enumerate().take(used) {
                    st.raw_bind_parameter(i + 1, a).map_err(lite_err)?;
                }
                changed += st.raw_execute().map_err(lite_err)? as u64;
            }
            return Ok(changed);
        }
        let rows = serde_json::Value::Array(
            self.rows
                .chunks(self.width)
                .map(|r| serde_json::Value::Array(r.iter().map(Arg::to_json).collect()))
                .collect(),
        )
        .to_string();
        let mut q = query(self.many).bind(rows);
        for a in self.shared {
            q = q.bind(a);
        }
        q.execute(c).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "INSERT INTO t (k, v, tag) VALUES ($1, $2, $3)";
    const MANY: &str =
        "INSERT INTO t (k, v, tag) SELECT value->>0, CAST(value->>1 AS BIGINT), $2 FROM ROWS($1)";

    async fn write_and_read(mut c: Conn) -> Vec<(String, Option<i64>, String)> {
        query("CREATE TEMP TABLE t (k TEXT, v BIGINT, tag TEXT)")
            .execute(&mut c)
            .await
            .unwrap();
        let mut b = bulk(ONE, MANY, 2).shared("x");
        b.row(["a".into(), 1i64.into()]);
        b.row(["b".into(), None::<i64>.into()]);
        b.row(["c".into(), 3i64.into()]);
        assert_eq!(b.execute(&mut c).await.unwrap(), 3);
        assert_eq!(bulk(ONE, MANY, 2).execute(&mut c).await.unwrap(), 0);
        query("SELECT k, v, tag FROM t ORDER BY k")
            .fetch_all(&mut c, |r| {
                Ok((r.text_at(0), r.opt_int_at(1), r.text_at(2)))
            })
            .await
            .unwrap()
    }

    fn expected() -> Vec<(String, Option<i64>, String)> {
        vec![
            ("a".into(), Some(1), "x".into()),
            ("b".into(), None, "x".into()),
            ("c".into(), Some(3), "x".into()),
        ]
    }

    #[tokio::test]
    async fn sqlite_runs_the_one_row_text_per_row_with_the_shared_values() {
        let c = crate::sqlite::memory_conn_for_tests();
        assert_eq!(write_and_read(c).await, expected());
    }

    #[tokio::test]
    async fn postgres_writes_every_row_in_one_statement() {
        let (store, _) = crate::testing::fresh_postgres("bulk").await.unwrap();
        let c = store.begin().await.unwrap();
        assert_eq!(write_and_read(c).await, expected());
    }
}
