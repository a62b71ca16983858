//! The embedded SQLite backend: one writer connection, a few readers (WAL lets them run
//! alongside), and a checkpointer so the writer never stalls on the log and the log stays
//! small (see [`SqliteStore::checkpoint`]).

use crate::Result;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Log size (pages) past which a checkpoint also restarts the log: 8 MiB at 4 KiB pages.
const RESTART_AT_PAGES: i64 = 2048;
/// Size the log file is cut back to when it restarts (`journal_size_limit`).
const LOG_SIZE_LIMIT: &str = "8388608";
/// How long a restarting checkpoint waits for readers on an older snapshot before giving
/// up until the next round. New writers wait meanwhile, so it is short.
const RESTART_WAIT: Duration = Duration::from_millis(250);

/// Creates the database file readable by its owner only (0600), or makes an existing one so;
/// SQLite gives its `-wal` and `-shm` files the database file's permissions.
fn owner_only(file: &Path) -> Result<()> {
    let config = |e: std::io::Error| crate::StoreError::Config(format!("{}: {e}", file.display()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let f = opts.open(file).map_err(config)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let private = || std::fs::Permissions::from_mode(0o600);
        f.set_permissions(private()).map_err(config)?;
        // A log and an index left by an earlier version keep their own permissions.
        for side in ["-wal", "-shm"] {
            let mut p = file.as_os_str().to_owned();
            p.push(side);
            if std::path::Path::new(&p).exists() {
                std::fs::set_permissions(&p, private()).map_err(config)?;
            }
        }
    }
    Ok(())
}

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
        let file = dir.join("zs-scheduler.db");
        owner_only(&file)?;
        let url = format!("sqlite://{}", file.display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .pragma("journal_size_limit", LOG_SIZE_LIMIT)
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
            .connect_with(opts.busy_timeout(RESTART_WAIT))
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

    /// Folds the log back into the database without blocking the writer (`PASSIVE`), and
    /// once the log is past [`RESTART_AT_PAGES`] also restarts it (`RESTART`), so the next
    /// commit writes from the log's start and the file is cut back to [`LOG_SIZE_LIMIT`].
    /// A passive checkpoint alone never restarts the log while readers keep using it, which
    /// under steady reads and writes is always: the file then grows without bound, and
    /// every write slows with it. Returns the frames left in the log.
    pub(crate) async fn checkpoint(&self) -> Result<i64> {
        let mut c = self.checkpointer.acquire().await?;
        let (_, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut *c)
            .await?;
        if log < RESTART_AT_PAGES {
            return Ok(log - done);
        }
        // Busy (a reader older than RESTART_WAIT) is not an error: the next round retries.
        let (_, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
            .fetch_one(&mut *c)
            .await?;
        Ok(log - done)
    }

    pub(crate) async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        self.checkpointer.close().await;
    }
}
