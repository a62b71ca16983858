//! Exact timers for delayed jobs: a companion task that wakes the queue's worker at the due
//! instant of the earliest delayed job, instead of leaving that to Redis.
//!
//! A BullMQ worker waits for the next delayed job with `BZPOPMIN` on the queue's `marker`
//! key and a fractional timeout. Redis checks blocked-client timeouts only when its event
//! loop wakes, every `1000/hz` ms on an idle server, so at the default `hz 10` delayed jobs
//! start up to ~100 ms late. This task keeps its own timer instead (spec/bullmq-protocol.md
//! §2, §7, §11, §19), using only documented facts about the key layout:
//! - the next due job is the head of `{prefix}:{queue}:delayed`, whose score is
//!   `due_ms × 4096 + seq`;
//! - newly delayed jobs (adds, retries with backoff, `changeDelay`) are announced on the
//!   queue's `events` stream (`delayed` events). The task follows the stream with
//!   `XREAD BLOCK`, but only as a doorbell: whenever entries arrived it jumps to the newest
//!   entry and reads the delayed head again, so a busy stream (every job writes several
//!   events) costs a few small reads every few ms, not one parse per event;
//! - at the due instant (never before: the wall clock must have reached the due ms) it adds
//!   the ready marker, `ZADD marker 0 "0"`, which is exactly what BullMQ's own scripts write
//!   when work is ready (and, like them, not while the queue is paused or at its global
//!   concurrency). That wakes a worker blocked on the marker; its `moveToActive` then
//!   promotes every job due by its clock. Any worker sharing the queue (Node's `bullmq`
//!   included) treats it the same way; a job due by then that was promoted by another
//!   route meanwhile just makes it a wake-up with nothing to do, as BullMQ's markers can be.
//!
//! The task reads, and writes nothing but that marker.

use bullmq::QueueKeys;
use bullmq::redis_connection::{AnyConnection, RedisConnection};
use redis::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use tokio::time::Instant;

/// A `ZRANGE … WITHSCORES` reply.
type Head = Vec<(String, f64)>;
/// `HMGET meta paused concurrency`.
type Settings = (Option<String>, Option<u64>);

/// Delayed-set scores are `due_ms × 4096 + seq` (spec §7).
const SCORE_SCALE: u64 = 4096;
/// The tokio timer sleeps until this long before the due instant; a blocking thread sleeps
/// the rest, which is precise to well under a millisecond.
const COARSE_MARGIN: Duration = Duration::from_millis(2);
/// How long one `XREAD` blocks; after a timeout the delayed head is read again anyway.
const XREAD_BLOCK_MS: u64 = 5_000;
/// A blocked read that has not answered this long after its own timeout is presumed stuck
/// (a half-open socket, spec §17 #4479) and its connection is rebuilt.
const XREAD_WATCHDOG: Duration = Duration::from_millis(XREAD_BLOCK_MS + 2_000);
/// Under a busy stream, doorbell reads are at least this far apart. It bounds how late we can
/// learn of a job whose delay is shorter than this.
const XREAD_MIN_GAP: Duration = Duration::from_millis(3);
/// Pause before starting over after a Redis error.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Milliseconds since the Unix epoch, by this host's clock (the one `moveToActive` uses).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The due instant, in ms, of a delayed-set score (`due × 4096 + seq`, `seq` < 4096).
pub(crate) fn due_of_score(score: f64) -> u64 {
    // Scores stay below 2^53, so the f64 is an exact integer.
    score as u64 / SCORE_SCALE
}

/// The running timer task; stops when dropped or on [`DueTimer::stop`].
pub(crate) struct DueTimer {
    stop: watch::Sender<bool>,
}

impl DueTimer {
    /// Starts the timer for the queue of `keys`, on the connections of `conn`.
    pub(crate) fn spawn(conn: RedisConnection, keys: QueueKeys) -> Self {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(run(conn, keys, stopped));
        Self { stop }
    }

    /// Asks the task to stop; it ends at its next wake-up.
    pub(crate) fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for DueTimer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Where the timer stands.
struct Timer {
    conn: RedisConnection,
    cmd: AnyConnection,
    keys: QueueKeys,
    /// The due ms the timer is set for.
    armed: Option<u64>,
    /// The last due ms the timer fired for: jobs due by then are the worker's to promote.
    fired: Option<u64>,
    /// Whether the queue is paused (`meta.paused`), as of the last resync.
    paused: bool,
    /// The queue's global concurrency (`meta.concurrency`), as of the last resync.
    global_concurrency: Option<u64>,
}

async fn run(conn: RedisConnection, keys: QueueKeys, mut stopped: watch::Receiver<bool>) {
    let mut timer = Timer {
        cmd: conn.connection(),
        conn,
        keys,
        armed: None,
        fired: None,
        paused: false,
        global_concurrency: None,
    };
    while !*stopped.borrow() {
        tokio::select! {
            biased;
            _ = stopped.changed() => return,
            result = timer.follow() => {
                if let Err(e) = result {
                    tracing::warn!(error = %e, queue = %timer.keys.key_prefix(), "delayed-job timer: redis error, starting over");
                }
            }
        }
        tokio::select! {
            _ = stopped.changed() => return,
            () = tokio::time::sleep(RETRY_AFTER) => {}
        }
    }
}

impl Timer {
    /// Syncs with Redis, then keeps the timer set until a Redis error.
    async fn follow(&mut self) -> redis::RedisResult<()> {
        let mut blocking = self
            .conn
            .dedicated_any_connection()
            .await
            .map_err(to_redis_error)?;
        let mut last_id = self.resync().await?;
        let mut read = Box::pin(doorbell(
            blocking.clone(),
            self.keys.events(),
            last_id.clone(),
            Instant::now(),
        ));
        loop {
            let wake_at = self.armed.map(coarse_deadline);
            tokio::select! {
                () = sleep_until_opt(wake_at) => {
                    let due = self.armed.take().unwrap_or_default();
                    wait_until_wall_ms(due).await;
                    self.fire(due).await?;
                }
                rang = &mut read => {
                    let issued = Instant::now();
                    match rang {
                        // Something was written: catch up with the newest entry and re-read
                        // the head. After a quiet block too, in case a change was missed.
                        Ok(_) => last_id = self.resync().await?,
                        Err(e) => {
                            tracing::debug!(error = %e, "delayed-job timer: events read failed, reconnecting");
                            blocking = self.conn.dedicated_any_connection().await.map_err(to_redis_error)?;
                            last_id = self.resync().await?;
                        }
                    }
                    read = Box::pin(doorbell(blocking.clone(), self.keys.events(), last_id.clone(), issued + XREAD_MIN_GAP));
                }
            }
        }
    }

    /// Reads the newest entry id of the events stream, then the delayed head and the queue's
    /// pause and global-concurrency settings, in one round trip and in that order: a job
    /// delayed in between shows up in both, never in neither. (Pausing and resuming write
    /// events too, so the settings are re-read within a doorbell of a change.)
    async fn resync(&mut self) -> redis::RedisResult<String> {
        let (newest, head, (paused, concurrency)): (Value, Head, Settings) = redis::pipe()
            .cmd("XREVRANGE")
            .arg(self.keys.events())
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .add_command(self.head_query())
            .cmd("HMGET")
            .arg(self.keys.meta())
            .arg("paused")
            .arg("concurrency")
            .query_async(&mut self.cmd)
            .await?;
        self.armed = head.first().map(|(_, score)| due_of_score(*score));
        self.paused = paused.is_some();
        self.global_concurrency = concurrency;
        let mut last = None;
        for_each_entry(&newest, &mut |id| last = Some(id.to_owned()));
        Ok(last.unwrap_or_else(|| "0-0".to_owned()))
    }

    /// `ZRANGEBYSCORE` for the first delayed job due after the last fired due ms.
    fn head_query(&self) -> redis::Cmd {
        let min = self.fired.map_or_else(
            || "-inf".to_owned(),
            |d| ((d + 1) * SCORE_SCALE).to_string(),
        );
        let mut cmd = redis::cmd("ZRANGEBYSCORE");
        cmd.arg(self.keys.delayed())
            .arg(min)
            .arg("+inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(1);
        cmd
    }

    /// At the due instant `due`: adds the ready marker, unless the queue is paused or at its
    /// global concurrency (where BullMQ's scripts add none either), and sets the timer for
    /// the next due job — in one round trip in the usual case.
    async fn fire(&mut self, due: u64) -> redis::RedisResult<()> {
        self.fired = Some(due);
        let mut marker = redis::cmd("ZADD");
        marker.arg(self.keys.marker()).arg(0).arg("0");
        let head: Head = if self.paused {
            self.head_query().query_async(&mut self.cmd).await?
        } else if let Some(max) = self.global_concurrency {
            let active: u64 = redis::cmd("LLEN")
                .arg(self.keys.active())
                .query_async(&mut self.cmd)
                .await?;
            let mut pipe = redis::pipe();
            if active < max {
                pipe.add_command(marker).ignore();
            }
            pipe.add_command(self.head_query());
            let (head,): (Head,) = pipe.query_async(&mut self.cmd).await?;
            head
        } else {
            let (head,): (Head,) = redis::pipe()
                .add_command(marker)
                .ignore()
                .add_command(self.head_query())
                .query_async(&mut self.cmd)
                .await?;
            head
        };
        self.armed = head.first().map(|(_, score)| due_of_score(*score));
        Ok(())
    }
}

/// One `XREAD BLOCK` for a single entry after `last_id`, issued no earlier than
/// `not_before`: whether anything was written to the stream.
async fn doorbell(
    mut conn: AnyConnection,
    key: String,
    last_id: String,
    not_before: Instant,
) -> redis::RedisResult<bool> {
    tokio::time::sleep_until(not_before).await;
    let mut cmd = redis::cmd("XREAD");
    cmd.arg("COUNT")
        .arg(1)
        .arg("BLOCK")
        .arg(XREAD_BLOCK_MS)
        .arg("STREAMS")
        .arg(&key)
        .arg(&last_id);
    let read = cmd.query_async::<Value>(&mut conn);
    let reply = tokio::time::timeout(XREAD_WATCHDOG, read)
        .await
        .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "XREAD watchdog expired")))??;
    Ok(!matches!(reply, Value::Nil))
}

/// Calls `f(id)` for each `[id, [field, value, …]]` entry of a stream range.
fn for_each_entry(entries: &Value, f: &mut dyn FnMut(&str)) {
    let Value::Array(entries) = entries else {
        return;
    };
    for entry in entries {
        if let Value::Array(parts) = entry
            && let Some(Value::BulkString(id)) = parts.first()
            && let Ok(id) = std::str::from_utf8(id)
        {
            f(id);
        }
    }
}

/// The tokio instant `COARSE_MARGIN` before the wall-clock ms `due`.
fn coarse_deadline(due: u64) -> Instant {
    let ahead = Duration::from_millis(due.saturating_sub(now_ms()));
    Instant::now() + ahead.saturating_sub(COARSE_MARGIN)
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Returns once the wall clock has reached `due` ms, never before. The last stretch is slept
/// on a blocking thread (`nanosleep` is precise to well under a millisecond, the tokio timer
/// to about one).
async fn wait_until_wall_ms(due: u64) {
    let due_at = UNIX_EPOCH + Duration::from_millis(due);
    if SystemTime::now() >= due_at {
        return;
    }
    let wait = tokio::task::spawn_blocking(move || {
        while let Ok(left) = due_at.duration_since(SystemTime::now()) {
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left);
        }
    });
    if wait.await.is_err() {
        // The blocking pool is shutting down: fall back to the tokio timer, then spin-yield.
        while SystemTime::now() < due_at {
            tokio::task::yield_now().await;
        }
    }
}

fn to_redis_error(e: bullmq::Error) -> redis::RedisError {
    match e {
        bullmq::Error::Redis(e) => e,
        other => {
            redis::RedisError::from((redis::ErrorKind::Client, "connection", other.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn score_gives_the_due_ms() {
        let due = 1_795_528_877_041_u64;
        assert_eq!(due_of_score((due * 4096) as f64), due);
        assert_eq!(due_of_score((due * 4096 + 4095) as f64), due);
        assert_eq!(due_of_score((due * 4096 + 1) as f64), due);
    }

    #[test]
    fn stream_range_yields_entry_ids() {
        let entry = |id: &str| {
            Value::Array(vec![
                bulk(id),
                Value::Array(vec![bulk("event"), bulk("added")]),
            ])
        };
        let range = Value::Array(vec![entry("1-0"), entry("2-3")]);
        let mut ids = Vec::new();
        for_each_entry(&range, &mut |id| ids.push(id.to_owned()));
        assert_eq!(ids, ["1-0", "2-3"]);
        for_each_entry(&Value::Nil, &mut |_| panic!("no entries"));
    }
}
