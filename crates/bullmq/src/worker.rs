//! Our queue worker: `bullmq::Worker` (BullMQ's own scripts, unchanged) for any processor,
//! plus the exact timer of `due_timer.rs`, so delayed jobs start at their due instant
//! rather than up to 1000/hz ms later, and a close that does not sit out the idle wait.
//!
//! - **Exact delayed jobs.** The companion timer wakes the worker's blocking read at the due
//!   instant of the earliest delayed job; the worker's `moveToActive` then promotes every due
//!   job at once.
//! - **Fast close.** The crate's worker only notices `close()` when its `BZPOPMIN` returns:
//!   after `drain_delay` (5 s by default) on an idle queue. We set `drain_delay` to its
//!   minimum, 1 s, and once no job is in hand add the ready marker, which returns the
//!   blocked read at once (unless a worker of another process is blocked on the same queue
//!   and takes it first: then within `drain_delay`).
//! - **Events drained.** The crate queues a `WorkerEvent` per job on an unbounded channel;
//!   a task drains it, logs failures and passes every event to an optional hook.

use crate::QueueError;
use crate::due_timer::DueTimer;
use bullmq::worker::{IntoProcessor, WorkerEvent};
use bullmq::{QueueKeys, Worker, WorkerOptions};
use std::sync::Arc;
use std::time::Duration;

/// Where a [`QueueWorker`] takes its jobs from, and how many it runs at once.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Redis URL (`redis://[user:pass@]host:port[/db]`).
    pub redis_url: String,
    /// BullMQ key prefix: keys are `{prefix}:{queue}:…` (BullMQ's default is `bull`).
    pub prefix: String,
    /// Queue name.
    pub queue: String,
    /// Most jobs in flight at once.
    pub concurrency: usize,
    /// BullMQ's `lockDuration` (ms): how long a job taken by a worker that died stays
    /// locked before a live worker's stalled check takes it over. The stalled check runs
    /// at the same interval. BullMQ's default is [`DEFAULT_LOCK_MS`].
    pub lock_ms: u64,
}

/// BullMQ's default `lockDuration` and `stalledInterval` (30 s).
pub const DEFAULT_LOCK_MS: u64 = 30_000;

/// Called with every event of the worker (on the task that drains them; keep it short).
pub type EventHook = Arc<dyn Fn(&WorkerEvent) + Send + Sync>;

/// How long the idle blocking read lasts (seconds; the crate's minimum). It bounds how long
/// a close can wait for a read it could not wake.
const DRAIN_DELAY_S: u64 = 1;
/// How often `close` checks whether the jobs in hand are done.
const CLOSE_POLL: Duration = Duration::from_millis(5);

/// Milliseconds since the Unix epoch by this host's clock, the clock `moveToActive` promotes
/// delayed jobs by.
pub fn now_ms() -> u64 {
    crate::due_timer::now_ms()
}

/// A running worker on one BullMQ queue, with exact timers for its delayed jobs.
pub struct QueueWorker {
    worker: Arc<Worker>,
    timer: DueTimer,
    conn: bullmq::redis_connection::RedisConnection,
    keys: QueueKeys,
    events: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl QueueWorker {
    /// Connects, starts taking jobs with `processor`, and starts the delayed-job timer.
    pub async fn start<P: IntoProcessor>(
        config: &WorkerConfig,
        processor: P,
        hook: Option<EventHook>,
    ) -> Result<Self, QueueError> {
        let connection = bullmq::options::RedisConnectionOptions {
            url: config.redis_url.clone(),
            ..Default::default()
        };
        let opts = WorkerOptions {
            connection: connection.clone(),
            prefix: config.prefix.clone(),
            concurrency: config.concurrency.max(1),
            drain_delay: DRAIN_DELAY_S,
            lock_duration: config.lock_ms.max(1000),
            stalled_interval: config.lock_ms.max(1000),
            ..Default::default()
        };
        let conn = bullmq::redis_connection::RedisConnection::new_managed_only(&connection).await?;
        let keys = QueueKeys::new(&config.queue, Some(&config.prefix));
        let worker = Arc::new(Worker::with_options(&config.queue, processor, opts).await?);
        let timer = DueTimer::spawn(conn.clone(), keys.clone());
        let events = tokio::spawn(drain_events(worker.clone(), hook));
        tracing::debug!(queue = %keys.key_prefix(), concurrency = config.concurrency, "queue worker started");
        Ok(Self {
            worker,
            timer,
            conn,
            keys,
            events: std::sync::Mutex::new(Some(events)),
        })
    }

    /// Stops taking jobs, lets the jobs in hand finish (up to `grace_ms`) and returns once
    /// the worker has stopped.
    pub async fn close(&self, grace_ms: u64) {
        self.timer.stop();
        let close = self.worker.close(grace_ms);
        tokio::pin!(close);
        let mut woken = false;
        loop {
            tokio::select! {
                result = &mut close => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "closing the queue worker");
                    }
                    break;
                }
                () = tokio::time::sleep(CLOSE_POLL), if !woken => {
                    if self.worker.active_count().await == 0 {
                        woken = true;
                        wake_blocked_read(&self.conn, &self.keys).await;
                    }
                }
            }
        }
        // The crate sends `Closed` last; the drain task stops on it.
        let events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(events) = events {
            let _ = tokio::time::timeout(Duration::from_secs(1), events).await;
        }
    }
}

impl Drop for QueueWorker {
    fn drop(&mut self) {
        // The drain task holds the worker: without `close`, end it here.
        let events = self
            .events
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(events) = events {
            events.abort();
        }
    }
}

/// Adds the ready marker so that a worker blocked on the queue's marker returns at once
/// (not while the queue is paused, where BullMQ adds none either).
async fn wake_blocked_read(conn: &bullmq::redis_connection::RedisConnection, keys: &QueueKeys) {
    let paused: Result<bool, bullmq::Error> = conn
        .cmd(redis::cmd("HEXISTS").arg(keys.meta()).arg("paused"))
        .await;
    if !matches!(paused, Ok(false)) {
        return;
    }
    let added: Result<(), bullmq::Error> = conn
        .cmd(redis::cmd("ZADD").arg(keys.marker()).arg(0).arg("0"))
        .await;
    if let Err(e) = added {
        tracing::debug!(error = %e, "could not wake the worker's blocking read");
    }
}

/// Drains the worker's events until it is closed.
async fn drain_events(worker: Arc<Worker>, hook: Option<EventHook>) {
    while let Some(event) = worker.next_event().await {
        match &event {
            WorkerEvent::Failed { job_id, error } => {
                tracing::warn!(job = %job_id, %error, "job failed");
            }
            WorkerEvent::Error(error) => tracing::warn!(%error, "queue worker error"),
            _ => {}
        }
        if let Some(hook) = &hook {
            hook(&event);
        }
        if matches!(event, WorkerEvent::Closed) {
            break;
        }
    }
}
