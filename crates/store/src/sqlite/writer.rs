//! The embedded store's single writer, with group commit.
//!
//! Every write transaction runs on one connection, taken in turn. A lone writer begins,
//! writes and commits as it always did. When others are queued for the connection, the
//! transactions share one SQLite transaction instead: each runs inside its own savepoint
//! (a refusal or an error rolls back its own writes and nothing else), hands the
//! connection on after releasing its savepoint, and comes back for it; the first to find
//! nobody queued, or to come back while the shared transaction is still open, commits it
//! for all of them. Every member learns the outcome of that one `COMMIT`, and none returns
//! from [`WriteTx::commit`] before it: an acknowledged write is a committed write, exactly
//! as without batching. What a batch saves is the per-commit work — the log pages a commit
//! writes, once for pages several members touched, and the commit's own bookkeeping.
//!
//! Coming back for the connection runs in a task of its own, so a caller that stops
//! waiting (a dropped request) never leaves a batch that others wait on uncommitted.
//!
//! On a file, the writer also holds the write-ahead log to its bound ([`LogBound`]): the
//! checkpointer restarts the log in the background only when it finds the writer idle,
//! which under steady writes it rarely does, so the writer restarts the log itself after the
//! commit that took it past the bound, before it takes the next transaction.

use crate::query::lite_err;
use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// The most the write-ahead log file may hold before the writer restarts it itself.
pub(crate) struct LogBound {
    /// The `-wal` file.
    pub(crate) file: PathBuf,
    /// Past this size (bytes), a commit is followed by a restarting checkpoint.
    pub(crate) max_bytes: u64,
    /// The checkpointer's connection (its busy timeout bounds the wait for readers). The
    /// background checkpoint holds it while it runs; SQLite refuses a second checkpoint
    /// meanwhile without waiting, so the writer takes it in turn instead.
    pub(crate) checkpointer: Arc<std::sync::Mutex<Connection>>,
}

impl LogBound {
    /// After a commit: when the log file is past the bound, checkpoints and restarts the
    /// log, so the next commit writes from the log's start (and cuts the file back to the
    /// store's size limit). It runs while the writer is held and no write transaction is
    /// open, so the restart never waits for a writer — under steady writes the background
    /// checkpointer's restart does, and rarely finds a gap between two commits. While a
    /// background checkpoint runs (it copies the log into the database on another thread,
    /// which leaves less for this restart), the writer lets it be until the log is twice the
    /// bound; then it waits for it. The writer also waits for readers on an older snapshot,
    /// up to the checkpointer's busy timeout, and tries again after its next commit if one
    /// holds on longer. That back-pressure is what bounds the log.
    fn hold(&self) {
        let size = std::fs::metadata(&self.file).map_or(0, |m| m.len());
        if size <= self.max_bytes {
            return;
        }
        // Past the bound, a checkpoint running in the background is left to finish (it copies
        // the log on the other core, which makes this restart cheaper); past twice the bound
        // the writer waits for it.
        let c = match self.checkpointer.try_lock() {
            Ok(c) => c,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) if size <= 2 * self.max_bytes => return,
            Err(std::sync::TryLockError::WouldBlock) => self
                .checkpointer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        };
        match super::wal_checkpoint(&c, "RESTART") {
            Ok((0, ..)) => {
                tracing::debug!(bytes = size, "write-ahead log past its bound: restarted")
            }
            Ok(_) => tracing::debug!(
                bytes = size,
                "write-ahead log past its bound and a reader holds it; retrying after the next commit"
            ),
            Err(e) => tracing::warn!(bytes = size, error = %e, "write-ahead log checkpoint failed"),
        }
    }
}

/// The writer connection and the shared transaction open on it, if any.
pub struct WriterState {
    pub(crate) conn: Connection,
    batch: Option<Arc<Batch>>,
    /// Members of the open batch that released their savepoint and wait for its commit.
    members: usize,
}

/// One shared transaction: its outcome, once committed or lost.
#[derive(Default)]
struct Batch {
    outcome: OnceLock<std::result::Result<(), String>>,
}

/// The single writer: its connection, and how many transactions wait to begin on it.
#[derive(Clone)]
pub(crate) struct Writer {
    state: Arc<tokio::sync::Mutex<WriterState>>,
    queued: Arc<AtomicUsize>,
    /// Whether transactions may share a commit (not in memory, where reads take the
    /// writer's own connection and must not see another transaction's writes).
    group: bool,
    commits: Arc<AtomicU64>,
    /// The log's hard bound (on a file; `None` in memory).
    bound: Option<Arc<LogBound>>,
}

/// Counts a transaction waiting to begin, until it begins or stops waiting.
struct Queued(Arc<AtomicUsize>);

impl Queued {
    fn new(n: &Arc<AtomicUsize>) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Self(n.clone())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    pub(crate) fn new(conn: Connection, group: bool, bound: Option<LogBound>) -> Self {
        Self {
            state: Arc::new(tokio::sync::Mutex::new(WriterState {
                conn,
                batch: None,
                members: 0,
            })),
            queued: Arc::new(AtomicUsize::new(0)),
            group,
            commits: Arc::new(AtomicU64::new(0)),
            bound: bound.map(Arc::new),
        }
    }

    /// Takes the connection between transactions (the in-memory store's reads).
    pub(crate) async fn lock(&self) -> tokio::sync::OwnedMutexGuard<WriterState> {
        self.state.clone().lock_owned().await
    }

    /// How many `COMMIT`s have run (a batch counts once).
    #[cfg(test)]
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Waits for the connection, then begins: a savepoint inside the open shared
    /// transaction, or a new one (`BEGIN IMMEDIATE`).
    pub(crate) async fn begin(&self) -> Result<WriteTx> {
        let state = {
            let _queued = Queued::new(&self.queued);
            self.state.clone().lock_owned().await
        };
        let mut tx = WriteTx {
            state: Some(state),
            writer: self.clone(),
            in_savepoint: false,
        };
        let group = self.group;
        let s = tx.state_mut();
        if s.batch.is_none() {
            run_cached(&s.conn, "BEGIN IMMEDIATE").map_err(lite_err)?;
            s.batch = Some(Arc::default());
            s.members = 0;
        }
        // A member's own savepoint only where members share a transaction; alone, the
        // transaction is the member's.
        if group {
            run_cached(&s.conn, "SAVEPOINT member").map_err(lite_err)?;
            tx.in_savepoint = true;
        }
        Ok(tx)
    }

    /// Commits the open shared transaction for all its members.
    fn commit_batch(&self, s: &mut WriterState) -> Result<()> {
        let Some(batch) = s.batch.take() else {
            return Ok(());
        };
        s.members = 0;
        let outcome = if s.conn.is_autocommit() {
            Err("the transaction was rolled back by the database".to_owned())
        } else {
            self.commits.fetch_add(1, Ordering::SeqCst);
            run_cached(&s.conn, "COMMIT")
                .map(drop)
                .map_err(|e| e.to_string())
        };
        if outcome.is_err() && !s.conn.is_autocommit() {
            // A failed commit leaves the transaction open: end it, nothing of it kept.
            let _ = s.conn.execute_batch("ROLLBACK");
        }
        let _ = batch.outcome.set(outcome.clone());
        if let (Ok(()), Some(bound)) = (&outcome, &self.bound) {
            bound.hold();
        }
        outcome.map_err(StoreError::Sqlite)
    }
}

/// Runs one of the writer's fixed statements (transaction control), prepared once.
fn run_cached(c: &Connection, sql: &str) -> rusqlite::Result<usize> {
    c.prepare_cached(sql).and_then(|mut st| st.execute([]))
}

/// A write transaction on the embedded store: holds the writer until it commits or is
/// dropped; dropped without [`WriteTx::commit`], its writes are rolled back.
pub struct WriteTx {
    /// The connection, held until the transaction ends (`None` once handed on).
    state: Option<tokio::sync::OwnedMutexGuard<WriterState>>,
    writer: Writer,
    in_savepoint: bool,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx")
            .field("in_savepoint", &self.in_savepoint)
            .finish()
    }
}

impl WriteTx {
    fn state_mut(&mut self) -> &mut WriterState {
        self.state
            .as_mut()
            .expect("held until the transaction ends")
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self
            .state
            .as_ref()
            .expect("held until the transaction ends")
            .conn
    }

    /// Commits: at once when no other transaction waits for the writer; otherwise the
    /// writes join the shared transaction, the writer goes to the next, and this returns
    /// once that transaction has committed (or failed: then nothing of it was kept).
    pub(crate) async fn commit(mut self) -> Result<()> {
        if self.conn().is_autocommit() {
            // The database rolled the transaction back itself (a full disk, an I/O error):
            // everything in it is lost, this transaction's writes too.
            let writer = self.writer.clone();
            return writer
                .commit_batch(self.state_mut())
                .and(Err(StoreError::Sqlite(
                    "the transaction was rolled back by the database".into(),
                )));
        }
        if self.in_savepoint {
            run_cached(self.conn(), "RELEASE member").map_err(lite_err)?;
            self.in_savepoint = false;
        }
        let writer = self.writer.clone();
        if !writer.group || writer.queued.load(Ordering::SeqCst) == 0 {
            return writer.commit_batch(self.state_mut());
        }
        let mut state = self.state.take().expect("held until the transaction ends");
        state.members += 1;
        let batch = state.batch.clone().expect("a transaction is open");
        drop(state);
        let back = tokio::spawn(async move {
            let mut state = writer.state.clone().lock_owned().await;
            match batch.outcome.get() {
                Some(outcome) => outcome.clone().map_err(StoreError::Sqlite),
                None => writer.commit_batch(&mut state),
            }
        });
        back.await
            .map_err(|e| StoreError::Sqlite(format!("group commit task: {e}")))?
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        let in_savepoint = self.in_savepoint;
        let Some(s) = self.state.as_mut() else {
            return;
        };
        if s.batch.is_none() {
            return;
        }
        if s.conn.is_autocommit() {
            // Rolled back by the database: the members waiting learn it.
            let _ = self.writer.commit_batch(s);
            return;
        }
        // An error has been reported already; a failed rollback leaves nothing to do.
        if in_savepoint {
            let _ = s.conn.execute_batch("ROLLBACK TO member; RELEASE member");
        }
        if s.members == 0 {
            // Nobody else's writes are in the shared transaction: end it here.
            let batch = s.batch.take();
            let _ = s.conn.execute_batch("ROLLBACK");
            if let Some(b) = batch {
                let _ = b.outcome.set(Ok(()));
            }
        }
        // Otherwise the members who handed the writer on come back and commit it.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn writer(dir: &std::path::Path) -> (Writer, std::path::PathBuf) {
        std::fs::create_dir_all(dir).unwrap();
        let file = dir.join("w.db");
        let c = Connection::open(&file).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT);",
        )
        .unwrap();
        (Writer::new(c, true, None), file)
    }

    fn dir(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!(
            "zs-writer-{name}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ))
    }

    fn committed(file: &std::path::Path, k: i64) -> bool {
        let c = Connection::open(file).unwrap();
        c.query_row("SELECT count(*) FROM t WHERE k = ?1", [k], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            == 1
    }

    /// Many writers at once: each one's commit returns only once its row is visible to
    /// another connection; the refused ones leave nothing; and commits were shared.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn queued_writers_share_commits_and_each_returns_committed() {
        let d = dir("share");
        let (w, file) = writer(&d);
        let mut tasks = vec![];
        for k in 0..200i64 {
            let (w, file) = (w.clone(), file.clone());
            tasks.push(tokio::spawn(async move {
                let tx = w.begin().await.unwrap();
                tx.conn()
                    .execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
                    .unwrap();
                // Hold the writer across an await, as the engine does, so others queue.
                tokio::time::sleep(Duration::from_micros(200)).await;
                if k % 7 == 3 {
                    drop(tx); // refused: rolled back
                    assert!(!committed(&file, k));
                    return false;
                }
                tx.commit().await.unwrap();
                assert!(
                    committed(&file, k),
                    "row {k} acknowledged before its commit"
                );
                true
            }));
        }
        let mut kept = 0;
        for t in tasks {
            kept += usize::from(t.await.unwrap());
        }
        let c = Connection::open(&file).unwrap();
        let rows: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        let refused: i64 = c
            .query_row("SELECT count(*) FROM t WHERE k % 7 = 3", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows as usize, kept);
        assert_eq!(refused, 0);
        assert!(
            w.commits() < kept as u64,
            "{} commits for {kept} transactions: none shared",
            w.commits()
        );
        let _ = std::fs::remove_dir_all(d);
    }

    /// A lone writer commits at once, as without batching.
    #[tokio::test]
    async fn a_lone_writer_commits_at_once() {
        let d = dir("lone");
        let (w, file) = writer(&d);
        for k in 0..3 {
            let tx = w.begin().await.unwrap();
            tx.conn()
                .execute("INSERT INTO t (k, v) VALUES (?1, 'x')", [k])
                .unwrap();
            tx.commit().await.unwrap();
            assert!(committed(&file, k));
        }
        assert_eq!(w.commits(), 3);
        let _ = std::fs::remove_dir_all(d);
    }

    /// With no checkpointer running at all (a host too loaded to schedule it), the writer
    /// keeps the log file within its bound plus one commit; without the bound the same
    /// writes leave a log of several MiB.
    #[tokio::test]
    async fn the_writer_restarts_a_log_past_its_bound() {
        let d = dir("bound");
        std::fs::create_dir_all(&d).unwrap();
        let file = d.join("w.db");
        let c = Connection::open(&file).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             PRAGMA journal_size_limit = 65536; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);",
        )
        .unwrap();
        let wal = super::super::side_file(&file, "-wal");
        const MAX: u64 = 256 << 10;
        let checkpointer = Connection::open(&file).unwrap();
        checkpointer
            .busy_timeout(Duration::from_millis(250))
            .unwrap();
        let bound = LogBound {
            file: wal.clone(),
            max_bytes: MAX,
            checkpointer: Arc::new(std::sync::Mutex::new(checkpointer)),
        };
        let w = Writer::new(c, true, Some(bound));
        // A reader that comes and goes, as the API's reads do.
        let reader = Connection::open(&file).unwrap();
        let row = "x".repeat(16 << 10);
        let mut peak = 0;
        for k in 0..256i64 {
            let tx = w.begin().await.unwrap();
            tx.conn()
                .execute(
                    "INSERT INTO t (k, v) VALUES (?1, ?2)",
                    rusqlite::params![k, row],
                )
                .unwrap();
            tx.commit().await.unwrap();
            let n: i64 = reader
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, k + 1);
            peak = peak.max(std::fs::metadata(&wal).unwrap().len());
        }
        // One commit writes its 16 KiB row and a few pages of the table's tree.
        assert!(
            peak <= MAX + (64 << 10),
            "the log grew to {peak} bytes (bound {MAX})"
        );
        assert!(committed(&file, 255));
        let _ = std::fs::remove_dir_all(d);
    }

    /// A member that fails a statement and is dropped takes only its own writes back; a
    /// member's error does not undo another's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_member_rolls_back_only_its_own_writes() {
        let d = dir("fail");
        let (w, file) = writer(&d);
        let first = w.begin().await.unwrap();
        first
            .conn()
            .execute("INSERT INTO t (k, v) VALUES (1, 'a')", [])
            .unwrap();
        let w2 = w.clone();
        let second = tokio::spawn(async move {
            let tx = w2.begin().await.unwrap();
            tx.conn()
                .execute("INSERT INTO t (k, v) VALUES (2, 'b')", [])
                .unwrap();
            // The same key again: refused by the database, and the transaction dropped.
            assert!(
                tx.conn()
                    .execute("INSERT INTO t (k, v) VALUES (1, 'c')", [])
                    .is_err()
            );
        });
        // Let the second queue, so the first hands the writer on instead of committing.
        while w.queued.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        first.commit().await.unwrap();
        second.await.unwrap();
        assert!(committed(&file, 1));
        assert!(!committed(&file, 2));
        let _ = std::fs::remove_dir_all(d);
    }
}
