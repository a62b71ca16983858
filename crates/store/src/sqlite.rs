//! The embedded SQLite backend: one writer connection, a few readers (WAL lets them run
//! alongside), and a checkpointer so the writer never stalls on the log and the log stays
//! small (see [`SqliteStore::checkpoint`]). Writers queued together share a commit
//! ([`writer`]).

mod writer;
pub use writer::WriteTx;
use writer::{LogBound, Writer, WriterState};

use crate::Result;
use crate::query::lite_err;
use rusqlite::{Connection, OpenFlags};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Log size (pages) past which a checkpoint also restarts the log: 8 MiB at 4 KiB pages.
const RESTART_AT_PAGES: i64 = 2048;
/// Size the log file is cut back to when it restarts (`journal_size_limit`).
const LOG_SIZE_LIMIT: &str = "8388608";
/// The log's bound: past 24 MiB the writer restarts the log itself after its commit unless
/// a background checkpoint is running, and past 48 MiB it waits for that one first
/// ([`LogBound`]). The checkpointer restarts the log at 8 MiB, but under steady writes it
/// rarely can: it must find the writer idle.
const LOG_HARD_LIMIT: u64 = 24 << 20;
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
            let p = side_file(file, side);
            if p.exists() {
                std::fs::set_permissions(&p, private()).map_err(config)?;
            }
        }
    }
    Ok(())
}

/// How many read connections run alongside the writer.
const READERS: usize = 4;
/// Prepared statements kept per connection (every query the store has fits).
const STATEMENT_CACHE: usize = 256;

/// The embedded store's connections: one writer taken in turn (a write transaction holds it
/// until it commits or hands it on: [`writer`]), a small pool of readers, and the
/// checkpointer. Statements run on rusqlite in the task that holds the connection.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    writer: Writer,
    /// `None` in memory: reads go through the writer's connection (the only one).
    readers: Option<Arc<ReadPool>>,
    checkpointer: Option<Arc<std::sync::Mutex<Connection>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// Opens a connection to `file` with the settings every connection shares.
fn connect(file: &Path, flags: OpenFlags, busy: Duration) -> Result<Connection> {
    let c = Connection::open_with_flags(file, flags).map_err(lite_err)?;
    c.busy_timeout(busy).map_err(lite_err)?;
    c.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = {LOG_SIZE_LIMIT};"
    ))
    .map_err(lite_err)?;
    every_connection(&c)?;
    Ok(c)
}

/// The settings of every connection, on a file or in memory: foreign keys enforced, a
/// statement cache that holds every query, and the query planner's stability guarantee
/// (QPSG). Without the QPSG, SQLite plans a statement whose `LIMIT` or `LIKE` takes a bound
/// value for that value, and prepares it again each time the value is bound: the due-jobs
/// claim, a space's catch-up, its history read and a booking's job removal were re-parsed
/// and re-planned on every run, cached or not.
fn every_connection(c: &Connection) -> Result<()> {
    c.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(lite_err)?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    c.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(lite_err)?;
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::StoreError::Config(format!("{}: {e}", dir.display())))?;
        let file = dir.join("zs-scheduler.db");
        owner_only(&file)?;
        migrate(&file).await?;
        let rw = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let writer = connect(&file, rw, BUSY)?;
        // The writer never checkpoints inline (a multi-millisecond stall at a random
        // commit); the checkpointer does, through its own connection.
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0")
            .map_err(lite_err)?;
        let checkpointer = connect(&file, rw, RESTART_WAIT)?;
        let ro = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let read_file = file.clone();
        let readers = ReadPool::new(Box::new(move || connect(&read_file, ro, BUSY)));
        let checkpointer = Arc::new(std::sync::Mutex::new(checkpointer));
        Ok(Self {
            writer: Writer::new(writer, true, Some(log_bound(&file, checkpointer.clone()))),
            readers: Some(Arc::new(readers)),
            checkpointer: Some(checkpointer),
        })
    }

    /// A store on a private in-memory database: the same schema, SQL and store code, one
    /// connection (reads take it too, between transactions), nothing on disk. What a
    /// process crash keeps of it is exactly what was committed: drop everything else and
    /// keep this store.
    pub(crate) fn open_memory() -> Result<Self> {
        let writer = Connection::open_in_memory().map_err(lite_err)?;
        every_connection(&writer)?;
        for m in sqlx::migrate!("./migrations/sqlite").iter() {
            writer.execute_batch(m.sql.as_str()).map_err(lite_err)?;
        }
        Ok(Self {
            writer: Writer::new(writer, false, None),
            readers: None,
            checkpointer: None,
        })
    }

    /// Takes the writer (waiting for the transaction holding it) and begins.
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        self.writer.begin().await
    }

    pub(crate) async fn read(&self) -> Result<ReadConn> {
        match &self.readers {
            Some(pool) => ReadPool::take(pool).await,
            None => Ok(ReadConn::Shared(self.writer.lock().await)),
        }
    }

    /// Folds the log back into the database without blocking the writer (`PASSIVE`), and
    /// once the log is past [`RESTART_AT_PAGES`] also restarts it (`RESTART`), so the next
    /// commit writes from the log's start and the file is cut back to [`LOG_SIZE_LIMIT`].
    /// A passive checkpoint alone never restarts the log while readers keep using it, which
    /// under steady reads and writes is always: the file then grows without bound, and
    /// every write slows with it. Returns the frames left in the log.
    pub(crate) async fn checkpoint(&self) -> Result<i64> {
        let Some(c) = self.checkpointer.clone() else {
            return Ok(0);
        };
        tokio::task::spawn_blocking(move || {
            let c = c.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (_, log, done) = wal_checkpoint(&c, "PASSIVE").map_err(lite_err)?;
            if log < RESTART_AT_PAGES {
                return Ok(log - done);
            }
            // Busy (a reader older than RESTART_WAIT) is not an error: the next round retries.
            let (_, log, done) = wal_checkpoint(&c, "RESTART").map_err(lite_err)?;
            Ok(log - done)
        })
        .await
        .map_err(|e| crate::StoreError::Sqlite(format!("checkpoint task: {e}")))?
    }

    pub(crate) async fn close(&self) {
        // Connections close when the last clone of the store is dropped.
    }
}

/// How long a statement waits for a lock held elsewhere (another process on the file).
const BUSY: Duration = Duration::from_secs(10);

/// The writer's hold on the log of the database `file` ([`LOG_HARD_LIMIT`]), restarting it
/// through the `checkpointer`'s connection.
fn log_bound(file: &Path, checkpointer: Arc<std::sync::Mutex<Connection>>) -> LogBound {
    LogBound {
        file: side_file(file, "-wal"),
        max_bytes: LOG_HARD_LIMIT,
        checkpointer,
    }
}

/// The file SQLite keeps beside the database `file` (`-wal`: its log, `-shm`: the log's index).
pub(crate) fn side_file(file: &Path, side: &str) -> std::path::PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(side);
    p.into()
}

/// Runs `PRAGMA wal_checkpoint(mode)` on `c`: whether it was blocked (1) or done (0), the
/// log's frames, and the frames copied into the database.
pub(crate) fn wal_checkpoint(c: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    c.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// Runs the migrations through a short-lived sqlx connection (the same migration table as
/// every earlier version), and puts the file in WAL mode (which the file keeps).
async fn migrate(file: &Path) -> Result<()> {
    use sqlx::ConnectOptions;
    let url = format!("sqlite://{}", file.display());
    let opts = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY)
        .foreign_keys(true);
    let mut c = opts.connect().await?;
    sqlx::migrate!("./migrations/sqlite").run(&mut c).await?;
    sqlx::Connection::close(c).await?;
    Ok(())
}

type Opener = Box<dyn Fn() -> Result<Connection> + Send + Sync>;

/// Read connections, opened as needed up to [`READERS`].
pub struct ReadPool {
    idle: std::sync::Mutex<Vec<Connection>>,
    permits: Arc<tokio::sync::Semaphore>,
    open: Opener,
}

impl ReadPool {
    fn new(open: Opener) -> Self {
        Self {
            idle: std::sync::Mutex::new(Vec::new()),
            permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
            open,
        }
    }

    async fn take(pool: &Arc<ReadPool>) -> Result<ReadConn> {
        let permit = pool
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| crate::StoreError::Sqlite("the store is closed".into()))?;
        let idle = pool
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(c) => c,
            None => (pool.open)()?,
        };
        Ok(ReadConn::Pooled {
            conn: Some(conn),
            pool: pool.clone(),
            _permit: permit,
        })
    }
}

/// A read connection of the embedded store: one of the pool's (back in it when dropped),
/// or, in memory, the writer's own connection between transactions.
pub enum ReadConn {
    /// A pooled read-only connection.
    Pooled {
        /// The connection (taken back by the pool on drop).
        conn: Option<Connection>,
        /// Its pool.
        pool: Arc<ReadPool>,
        /// Its place among the pool's connections.
        _permit: tokio::sync::OwnedSemaphorePermit,
    },
    /// The in-memory store's only connection.
    Shared(tokio::sync::OwnedMutexGuard<WriterState>),
}

impl std::fmt::Debug for ReadConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadConn").finish_non_exhaustive()
    }
}

impl ReadConn {
    pub(crate) fn conn(&self) -> &Connection {
        match self {
            ReadConn::Pooled { conn, .. } => conn.as_ref().expect("held until dropped"),
            ReadConn::Shared(s) => &s.conn,
        }
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let ReadConn::Pooled { conn, pool, .. } = self
            && let Some(c) = conn.take()
        {
            pool.idle
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(c);
        }
    }
}

/// A reader on a private in-memory database, for the query layer's own tests.
#[cfg(test)]
pub(crate) fn memory_conn_for_tests() -> crate::Conn {
    let pool = Arc::new(ReadPool::new(Box::new(|| {
        let c = Connection::open_in_memory().map_err(lite_err)?;
        every_connection(&c)?;
        Ok(c)
    })));
    let conn = (pool.open)().expect("an in-memory database opens");
    let permit = pool.permits.clone().try_acquire_owned().expect("a permit");
    crate::Conn::LiteRead(ReadConn::Pooled {
        conn: Some(conn),
        pool,
        _permit: permit,
    })
}
