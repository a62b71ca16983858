//! The embedded SQLite backend: one writer connection, a few readers (WAL lets them run
//! alongside), and a checkpointer so the writer never stalls on the log.

use crate::Result;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
    checkpointer: SqlitePool,
}

impl SqliteStore {
    pub(crate) async fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::StoreError::Config(format!("{}: {e}", dir.display())))?;
        let url = format!("sqlite://{}", dir.join("zs-scheduler.db").display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // The writer never checkpoints inline (a multi-millisecond stall at a random commit);
        // a background task checkpoints through its own connection instead.
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

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub(crate) async fn read(&self) -> Result<PoolConnection<Sqlite>> {
        Ok(self.read.acquire().await?)
    }

    pub(crate) async fn checkpoint(&self) -> Result<i64> {
        let mut c = self.checkpointer.acquire().await?;
        let row: (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *c)
            .await?;
        Ok(row.1 - row.2)
    }

    pub(crate) async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.checkpointer.close().await;
    }
}
