//! Fresh stores for tests: every call gets its own SQLite directory or its own PostgreSQL
//! schema, so tests never share state.

use crate::{Backend, Result, Store};

/// The PostgreSQL used by tests: `ZS_TEST_DATABASE_URL`, else the local server's `test`
/// database (what `scripts/test.sh` makes sure is running).
pub fn postgres_url() -> String {
    std::env::var("ZS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn unique(label: &str) -> String {
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "zs_t_{clean}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000
    )
}

/// A new, empty schema on the test PostgreSQL, returned with its name (so more instances
/// can open it with [`Store::connect_postgres`]).
pub async fn fresh_postgres(label: &str) -> Result<(Store, String)> {
    let schema = unique(label);
    let store = Store::connect_postgres(&postgres_url(), Some(&schema)).await?;
    Ok((store, schema))
}

/// A new, empty embedded store in a temporary directory.
pub async fn fresh_sqlite(label: &str) -> Result<Store> {
    Store::open(&std::env::temp_dir().join(unique(label))).await
}

/// A new, empty store on `backend` ([`fresh_sqlite`] or [`fresh_postgres`]).
pub async fn fresh(backend: Backend, label: &str) -> Result<Store> {
    match backend {
        Backend::Sqlite => fresh_sqlite(label).await,
        Backend::Postgres => Ok(fresh_postgres(label).await?.0),
    }
}

/// A space `id` in UTC with the contract's default settings.
pub fn utc_space(id: &str) -> zs_core::Space {
    zs_core::Space {
        id: zs_core::SpaceId::parse(id).expect("a valid space id"),
        name: id.into(),
        settings: zs_core::SpaceSettings::defaults(
            zs_core::calendar::Zone::parse("UTC").expect("UTC is a zone"),
        ),
        maintenance: false,
    }
}

/// The ids of `queue`'s pending jobs, in run order.
pub async fn job_ids(c: &mut crate::Conn, queue: crate::Queue) -> Result<Vec<String>> {
    let jobs = crate::jobs::list(c, queue, i64::MAX).await?;
    Ok(jobs.into_iter().map(|j| j.id).collect())
}

/// Runs `sql` (with `$1` bound to `arg` when given) past the store's API, for tests that
/// write rows the API would not; returns the rows changed.
pub async fn execute(c: &mut crate::Conn, sql: &str, arg: Option<&str>) -> Result<u64> {
    let q = crate::query::query(sql);
    match arg {
        Some(a) => q.bind(a).execute(c).await,
        None => q.execute(c).await,
    }
}

/// The integer in the first column of the first row of `sql` (with `$1` bound to `arg`),
/// read past the store's API.
pub async fn int(c: &mut crate::Conn, sql: &str, arg: &str) -> Result<i64> {
    crate::query::query(sql)
        .bind(arg)
        .fetch_one(c, |r| Ok(r.int_at(0)))
        .await
}

/// For each `async fn case(backend: zs_store::Backend)` named, generates a `#[tokio::test]`
/// in a module `sqlite` and one in a module `postgres`, so every case runs on both stores.
#[macro_export]
macro_rules! test_on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name($crate::Backend::Postgres).await
            })*
        }
    };
}
