//! Persistence for zs-scheduler: spaces, bookings, transitions, the job queues, webhook
//! deliveries, tokens and idempotency keys.
//!
//! Two backends behind one API:
//! - **SQLite** (the embedded default): one file, every write through one connection in
//!   `BEGIN IMMEDIATE` transactions, so a change and the jobs it causes commit together and
//!   conflicting writes are serialised.
//! - **PostgreSQL** (`ZS_DATABASE_URL`): many connections and many instances. A space read
//!   inside a write transaction is locked (`FOR UPDATE`) until commit, so the commands of one
//!   space are serialised, and an exclusion constraint makes two live bookings that overlap
//!   in time impossible whatever the application does. Due jobs are claimed with
//!   `FOR UPDATE SKIP LOCKED`.
//!
//! The SQL is shared where the dialects agree (written once, with `$n` parameters, and run
//! through one query layer: rusqlite on the embedded file, sqlx on PostgreSQL); where they
//! differ, each function says so with a branch on the backend.

pub mod auth;
pub mod bookings;
pub mod deliveries;
pub mod events;
pub mod jobs;
pub mod secrets;
pub mod series;
pub mod spaces;
mod typed;
pub mod utilisation;

mod backend;
mod bulk;
mod postgres;
mod query;
mod sqlite;
#[doc(hidden)]
pub mod testing;

pub use backend::{Backend, Conn, Tx};
pub use postgres::{Change, Listener};
pub use sqlx::Error as SqlxError;
pub use typed::{DeliveryStatus, Queue, Relay};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    // The message holds the cause's text, so the cause is not also its `source()`: a
    // printed error chain would say it twice.
    #[error("database error: {0}")]
    Db(sqlx::Error),
    /// The embedded database failed.
    #[error("database error: {0}")]
    Sqlite(String),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A stored row does not parse (a bug or a hand-edited file).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The configuration cannot work (bad URL, bad schema name).
    #[error("{0}")]
    Config(String),
    /// A write would make two live bookings of one space overlap (the database refused it).
    #[error("booking overlaps a live booking of the same space")]
    Overlap,
    /// The database server could not be reached at start (refused, no answer, bad host).
    #[error("{0}")]
    Unreachable(String),
    /// A row with this key exists already (a race between instances lost).
    #[error("already exists: {0}")]
    Duplicate(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(e)
    }
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The store: an embedded SQLite file or a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Store {
    inner: backend::Pools,
}

impl Store {
    /// Opens (creating if needed) `dir/zs-scheduler.db` and runs the migrations.
    pub async fn open(dir: &std::path::Path) -> Result<Self> {
        Ok(Self {
            inner: backend::Pools::Sqlite(sqlite::SqliteStore::open(dir).await?),
        })
    }

    /// A store on a private in-memory SQLite database (the simulator's `--store memory`):
    /// the same schema, SQL and store code as [`Store::open`], nothing on disk. Keep the
    /// store across a simulated crash: it holds exactly what was committed.
    pub fn open_memory() -> Result<Self> {
        Ok(Self {
            inner: backend::Pools::Sqlite(sqlite::SqliteStore::open_memory()?),
        })
    }

    /// Connects to PostgreSQL at `url` and runs the migrations. With `schema`, every table
    /// lives in that schema (created if missing); otherwise in the connection's default.
    ///
    /// One connection is tried first, within a few seconds: a server that cannot be reached
    /// is [`StoreError::Unreachable`], a missing database or a refused login is
    /// [`StoreError::Config`] saying so (the pools would otherwise retry for their whole
    /// acquire timeout).
    pub async fn connect_postgres(url: &str, schema: Option<&str>) -> Result<Self> {
        Ok(Self {
            inner: backend::Pools::Pg(postgres::PgStore::connect(url, schema).await?),
        })
    }

    /// Which database this store runs on.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            backend::Pools::Sqlite(_) => Backend::Sqlite,
            backend::Pools::Pg(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`);
    /// PostgreSQL locks the rows of the spaces the transaction reads.
    pub async fn begin(&self) -> Result<Tx> {
        match &self.inner {
            backend::Pools::Sqlite(s) => Ok(Conn::LiteTx(s.begin().await?)),
            // Boxed: sqlx's pool futures are kilobytes, and every future that awaits this one
            // would carry them inline (copied on each move), on SQLite too.
            backend::Pools::Pg(p) => Ok(Conn::PgTx(Box::pin(p.begin()).await?)),
        }
    }

    /// A connection for reads that need no transaction.
    pub async fn read(&self) -> Result<Conn> {
        match &self.inner {
            backend::Pools::Sqlite(s) => Ok(Conn::LiteRead(s.read().await?)),
            backend::Pools::Pg(p) => Ok(Conn::PgRead(Box::pin(p.read()).await?)),
        }
    }

    /// SQLite: folds the write-ahead log back into the database without blocking the writer
    /// (`PASSIVE`), restarts the log once it has grown past a few MiB, and returns the frames
    /// left. PostgreSQL manages its own log: always 0.
    pub async fn checkpoint(&self) -> Result<i64> {
        match &self.inner {
            backend::Pools::Sqlite(s) => s.checkpoint().await,
            backend::Pools::Pg(_) => Ok(0),
        }
    }

    /// Notifications of what other instances on the same PostgreSQL schema change (jobs
    /// added, endpoints changed); `None` on the embedded store, which has one process.
    pub async fn listen(&self) -> Result<Option<Listener>> {
        match &self.inner {
            backend::Pools::Sqlite(_) => Ok(None),
            backend::Pools::Pg(p) => Ok(Some(p.listen().await?)),
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        let Ok(mut c) = self.read().await else {
            return false;
        };
        jobs::next_due(&mut c, Queue::MeetingScheduler)
            .await
            .is_ok()
    }

    /// Closes every pool.
    pub async fn close(&self) {
        match &self.inner {
            backend::Pools::Sqlite(s) => s.close().await,
            backend::Pools::Pg(p) => p.close().await,
        }
    }
}

pub(crate) fn ts(ms: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<jiff::Timestamp>> {
    ms.map(ts).transpose()
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn a_database_error_says_its_cause_once() {
        let e = StoreError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(
            e.to_string(),
            "database error: pool timed out while waiting for an open connection"
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}
