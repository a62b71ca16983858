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

/// A running worker on one BullMQ queue, with exact timers for its delayed jobs, replaced
/// when it is stuck (see [`supervise`]).
pub struct QueueWorker {
    shared: Arc<Shared>,
    timer: DueTimer,
    supervisor: tokio::task::JoinHandle<()>,
}

/// What the worker and its supervisor share.
struct Shared {
    queue: String,
    opts: WorkerOptions,
    processor: bullmq::worker::ProcessorFn,
    hook: Option<EventHook>,
    conn: bullmq::redis_connection::RedisConnection,
    keys: QueueKeys,
    current: tokio::sync::Mutex<Running>,
    pulse: std::sync::Mutex<Pulse>,
    closing: std::sync::atomic::AtomicBool,
}

/// The crate's worker in use, and the task draining its events.
struct Running {
    worker: Arc<Worker>,
    events: Option<tokio::task::JoinHandle<()>>,
}

/// When the worker last reported an error, and last showed it was working.
#[derive(Debug, Default, Clone, Copy)]
struct Pulse {
    error: Option<tokio::time::Instant>,
    alive: Option<tokio::time::Instant>,
}

/// How often the supervisor looks at the worker's pulse.
const SUPERVISE_EVERY: Duration = Duration::from_millis(250);
/// How long a worker woken on purpose has to show it is working (a live one answers within
/// a round trip or two; replacing a live worker that was slower costs nothing but the
/// replacement, as only a worker with no job in hand is replaced).
const KNOCK_WAIT: Duration = Duration::from_millis(400);

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
        let processor = processor.into_processor();
        let worker =
            Arc::new(Worker::with_options(&config.queue, processor.clone(), opts.clone()).await?);
        let timer = DueTimer::spawn(conn.clone(), keys.clone());
        let shared = Arc::new(Shared {
            queue: config.queue.clone(),
            opts,
            processor,
            hook,
            conn,
            keys,
            current: tokio::sync::Mutex::new(Running {
                worker: worker.clone(),
                events: None,
            }),
            pulse: Default::default(),
            closing: Default::default(),
        });
        shared.current.lock().await.events =
            Some(tokio::spawn(drain_events(worker, shared.clone())));
        let supervisor = tokio::spawn(supervise(shared.clone()));
        tracing::debug!(queue = %shared.keys.key_prefix(), concurrency = config.concurrency, "queue worker started");
        Ok(Self {
            shared,
            timer,
            supervisor,
        })
    }

    /// Stops taking jobs, lets the jobs in hand finish (up to `grace_ms`) and returns once
    /// the worker has stopped.
    pub async fn close(&self, grace_ms: u64) {
        self.shared
            .closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.supervisor.abort();
        self.timer.stop();
        let mut running = self.shared.current.lock().await;
        let worker = running.worker.clone();
        let close = worker.close(grace_ms);
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
                    if worker.active_count().await == 0 {
                        woken = true;
                        wake_blocked_read(&self.shared.conn, &self.shared.keys).await;
                    }
                }
            }
        }
        // The crate sends `Closed` last; the drain task stops on it.
        if let Some(events) = running.events.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), events).await;
        }
    }
}

impl Drop for QueueWorker {
    fn drop(&mut self) {
        self.supervisor.abort();
        // The drain task holds the worker: without `close`, end it here.
        if let Ok(mut running) = self.shared.current.try_lock()
            && let Some(events) = running.events.take()
        {
            events.abort();
        }
    }
}

/// Replaces the worker when it is stuck. The crate's worker can be left waiting forever on
/// a connection that died with Redis (a Redis restart: its blocking read never returns and
/// it stops taking jobs, silently; bullmq issue #4742), and then every job would wait for
/// the store's fallback runner. A worker whose last word was an error is knocked on once
/// Redis answers again: the ready marker wakes a live worker's blocking read, and it reports
/// within moments (the queue drained, or a job). One that stays silent with no job in hand
/// is closed (its stuck loop aborted) and replaced by a new one on fresh connections.
async fn supervise(shared: Arc<Shared>) {
    use std::sync::atomic::Ordering;
    loop {
        tokio::time::sleep(SUPERVISE_EVERY).await;
        if shared.closing.load(Ordering::SeqCst) {
            return;
        }
        let pulse = *shared.pulse.lock().unwrap_or_else(|p| p.into_inner());
        let Some(error) = pulse.error else { continue };
        if pulse.alive.is_some_and(|a| a > error) {
            continue;
        }
        let knocked = tokio::time::Instant::now();
        if !knock(&shared).await {
            continue;
        }
        tokio::time::sleep(KNOCK_WAIT).await;
        let pulse = *shared.pulse.lock().unwrap_or_else(|p| p.into_inner());
        let answered = pulse.alive.is_some_and(|a| a > knocked);
        let failing_again = pulse.error.is_some_and(|e| e > knocked);
        if answered || failing_again || shared.closing.load(Ordering::SeqCst) {
            continue;
        }
        let mut running = shared.current.lock().await;
        if running.worker.active_count().await > 0 {
            continue;
        }
        let fresh = match Worker::with_options(
            &shared.queue,
            shared.processor.clone(),
            shared.opts.clone(),
        )
        .await
        {
            Ok(w) => Arc::new(w),
            Err(e) => {
                tracing::warn!(queue = %shared.keys.key_prefix(), error = %e, "replacing a stuck queue worker failed; retrying");
                continue;
            }
        };
        tracing::warn!(queue = %shared.keys.key_prefix(), "queue worker silent since a Redis error: replaced by a new one");
        *shared.pulse.lock().unwrap_or_else(|p| p.into_inner()) = Pulse::default();
        let old = std::mem::replace(
            &mut *running,
            Running {
                worker: fresh.clone(),
                events: Some(tokio::spawn(drain_events(fresh, shared.clone()))),
            },
        );
        drop(running);
        tokio::spawn(async move {
            // Aborts the stuck loop after the grace; nothing is in hand.
            let _ = old.worker.close(100).await;
            if let Some(events) = old.events {
                events.abort();
            }
        });
    }
}

/// Adds the ready marker on a connection of its own (the shared ones may still be
/// reconnecting after an outage); `false` when Redis does not take it within a second.
async fn knock(shared: &Shared) -> bool {
    let attempt = async {
        let conn =
            bullmq::redis_connection::RedisConnection::new_managed_only(&shared.opts.connection)
                .await
                .ok()?;
        wake_blocked_read(&conn, &shared.keys).await.then_some(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), attempt).await,
        Ok(Some(()))
    )
}

/// Adds the ready marker so that a worker blocked on the queue's marker returns at once
/// (not while the queue is paused, where BullMQ adds none either). Returns whether it did.
async fn wake_blocked_read(
    conn: &bullmq::redis_connection::RedisConnection,
    keys: &QueueKeys,
) -> bool {
    let paused: Result<bool, bullmq::Error> = conn
        .cmd(redis::cmd("HEXISTS").arg(keys.meta()).arg("paused"))
        .await;
    if !matches!(paused, Ok(false)) {
        return false;
    }
    let added: Result<(), bullmq::Error> = conn
        .cmd(redis::cmd("ZADD").arg(keys.marker()).arg(0).arg("0"))
        .await;
    match added {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "could not wake the worker's blocking read");
            false
        }
    }
}

/// Drains the worker's events until it is closed, keeping its pulse.
async fn drain_events(worker: Arc<Worker>, shared: Arc<Shared>) {
    while let Some(event) = worker.next_event().await {
        let now = tokio::time::Instant::now();
        {
            let mut pulse = shared.pulse.lock().unwrap_or_else(|p| p.into_inner());
            match &event {
                WorkerEvent::Error(_) => pulse.error = Some(now),
                WorkerEvent::Closed => {}
                _ => pulse.alive = Some(now),
            }
        }
        match &event {
            WorkerEvent::Failed { job_id, error } => {
                tracing::warn!(job = %job_id, %error, "job failed");
            }
            WorkerEvent::Error(error) => tracing::warn!(%error, "queue worker error"),
            _ => {}
        }
        if let Some(hook) = &shared.hook {
            hook(&event);
        }
        if matches!(event, WorkerEvent::Closed) {
            break;
        }
    }
}
