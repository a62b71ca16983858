//! Persistence for zs-scheduler: spaces, bookings, transitions, the job queues, webhook
//! deliveries, tokens and idempotency keys, on one embedded SQLite file.
//!
//! Every write goes through one connection in `BEGIN IMMEDIATE` transactions, so a change
//! and the jobs it causes commit together, and conflicting writes are serialised.

pub mod auth;
pub mod bookings;
pub mod deliveries;
pub mod jobs;
pub mod spaces;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub use sqlx::Error as SqlxError;
pub use sqlx::SqliteConnection as Conn;

/// A write transaction.
pub type Tx = Transaction<'static, Sqlite>;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not parse (a bug or a hand-edited file).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Shorthand for store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The embedded store: one writer connection, a few readers (WAL lets them run alongside).
#[derive(Debug, Clone)]
pub struct Store {
    write: SqlitePool,
    read: SqlitePool,
    checkpointer: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) `dir/zs-scheduler.db` and runs the migrations.
    pub async fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", dir.display())))?;
        let url = format!("sqlite://{}", dir.join("zs-scheduler.db").display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // The writer never checkpoints inline (a multi-millisecond stall at a random commit);
        // a background task checkpoints through a reader connection instead.
        let write_opts = opts.clone().pragma("wal_autocheckpoint", "0");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(write_opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.clone().read_only(true))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        Ok(Self {
            write,
            read,
            checkpointer,
        })
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`: takes the write lock up front).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Folds the write-ahead log back into the database without blocking the writer
    /// (`PASSIVE`); call it periodically. Returns the WAL frames left uncheckpointed.
    pub async fn checkpoint(&self) -> Result<i64> {
        let mut c = self.checkpointer.acquire().await?;
        let row: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *c)
            .await?;
        Ok(row.1 - row.2)
    }

    /// A pool for reads that need no transaction.
    pub fn reader(&self) -> &SqlitePool {
        &self.read
    }

    /// Closes both pools.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.checkpointer.close().await;
    }
}

pub(crate) fn ts(ms: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<jiff::Timestamp>> {
    ms.map(ts).transpose()
}
