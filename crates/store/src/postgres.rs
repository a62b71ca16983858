//! The PostgreSQL backend: a connection pool shared by reads and writes; several instances
//! may use one database at once.

use crate::{Result, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
}

/// A schema name we are willing to put into SQL: a plain identifier.
fn check_schema(s: &str) -> Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "schema {s:?}: use lowercase letters, digits and _ (at most 63, not starting with a digit)"
        )))
    }
}

impl PgStore {
    pub(crate) async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        const SHAPE: &str = "expected postgres://user[:password]@host[:port]/database";
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Config(format!("not a PostgreSQL URL; {SHAPE}")));
        }
        let mut opts = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("not a PostgreSQL URL ({e}); {SHAPE}")))?;
        first_contact(&opts).await?;
        if let Some(s) = schema {
            check_schema(s)?;
            // Create the schema through a plain connection first, then point every pooled
            // connection at it (with `public` behind it for the btree_gist operators).
            let boot = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.clone())
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS {s}"
            )))
            .execute(&boot)
            .await
            .or_else(ignore_race)?;
            boot.close().await;
            opts = opts.options([("search_path", format!("{s},public"))]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await?;
        // The exclusion constraint needs btree_gist (a trusted extension: no superuser
        // needed). It goes into `public` so that every schema sees it.
        sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            .execute(&pool)
            .await
            .or_else(ignore_race)?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    pub(crate) async fn read(&self) -> Result<PoolConnection<Postgres>> {
        Ok(self.pool.acquire().await?)
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) async fn listen(&self) -> Result<Listener> {
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&self.pool)
            .await?;
        let mut inner = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        inner.listen(&channel(&schema)).await?;
        Ok(Listener { inner })
    }
}

/// How long the first connection may take before the server counts as unreachable.
const FIRST_CONTACT_WITHIN: Duration = Duration::from_secs(4);

/// One plain connection, once: tells "cannot reach the server" from "the server says no"
/// (missing database, refused login) in one clear sentence each.
async fn first_contact(opts: &PgConnectOptions) -> Result<()> {
    use sqlx::Connection;
    let attempt = sqlx::PgConnection::connect_with(opts);
    match tokio::time::timeout(FIRST_CONTACT_WITHIN, attempt).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(first_contact_error(e)),
        Err(_) => Err(StoreError::Unreachable(format!(
            "no answer within {} s",
            FIRST_CONTACT_WITHIN.as_secs()
        ))),
    }
}

fn first_contact_error(e: sqlx::Error) -> StoreError {
    match e {
        // The server's own sentence (`database "x" does not exist`, `password authentication
        // failed for user "y"`), without sqlx's wrapping.
        sqlx::Error::Database(d) => StoreError::Config(d.message().to_owned()),
        sqlx::Error::Io(io) => StoreError::Unreachable(plain_io(&io)),
        sqlx::Error::PoolTimedOut => StoreError::Unreachable("no answer".into()),
        sqlx::Error::Protocol(_) => StoreError::Unreachable(
            "something answers at that address, but not as PostgreSQL does".into(),
        ),
        other => StoreError::Unreachable(other.to_string()),
    }
}

/// `Connection refused (os error 111)` → `connection refused`.
pub(crate) fn plain_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The notification channel of one schema (several deployments may share a database).
fn channel(schema: &str) -> String {
    format!("zs_{schema}")
}

/// The SQL that tells the other instances on this schema that something changed; it is
/// delivered when (and only if) the transaction commits.
pub(crate) const NOTIFY_SQL: &str = "SELECT pg_notify('zs_' || current_schema(), $1)";

/// What another instance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Jobs were added or moved: a runner may have to wake earlier.
    Jobs,
    /// Webhook endpoints were added or removed.
    Endpoints,
    /// The connection dropped and came back: notifications may have been missed.
    Unknown,
}

/// Notifications from the other instances sharing the PostgreSQL schema.
#[derive(Debug)]
pub struct Listener {
    inner: sqlx::postgres::PgListener,
}

impl Listener {
    /// Waits for the next change (reconnecting after a lost connection, which reports
    /// [`Change::Unknown`]).
    pub async fn recv(&mut self) -> Change {
        match self.inner.recv().await {
            Ok(n) if n.payload() == "endpoints" => Change::Endpoints,
            Ok(_) => Change::Jobs,
            Err(e) => {
                tracing::warn!(error = %e, "PostgreSQL notifications interrupted; reconnecting");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                Change::Unknown
            }
        }
    }
}

/// Two instances (or two tests) creating the same schema or extension at once: one of them
/// gets a unique-violation from the catalogue; the object exists either way.
fn ignore_race(e: sqlx::Error) -> std::result::Result<sqlx::postgres::PgQueryResult, sqlx::Error> {
    match &e {
        sqlx::Error::Database(d)
            if matches!(d.code().as_deref(), Some("23505" | "42P06" | "42710")) =>
        {
            Ok(Default::default())
        }
        _ => Err(e),
    }
}
