//! BullMQ-compatible Redis queues, through the BullMQ maintainers' own crate
//! (`bullmq-official`, which runs the upstream scripts unchanged).
//!
//! - `meetingScheduler`: timers as delayed jobs ([`scheduler`]) and ingress jobs from Node
//!   services (CONTRACT §7), applied with the same rules as the API, in the order they were
//!   added for each booking and space ([`order`]); a malformed or refused job fails with a
//!   clear reason and the queue goes on.
//! - `statusUpdateQueue`, `webhookDeliveryQueue`: one job per delivery attempt.
//! - Our workers keep an exact timer for the earliest delayed job ([`worker`]).

pub mod depth;
mod due_timer;
pub mod failure;
pub mod order;
pub mod producer;
pub mod reach;
pub mod scheduler;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;
use zs_engine::{Engine, Queue};

/// How many `meetingScheduler` jobs a worker runs at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Why the Redis side could not start.
#[derive(Debug, thiserror::Error)]
#[error("redis queues: {0}")]
pub struct QueueError(bullmq::Error);

// Not `#[from]`: that would also make the cause the `source()`, and a printed error chain
// would repeat the text the message already holds.
impl From<bullmq::Error> for QueueError {
    fn from(e: bullmq::Error) -> Self {
        Self(e)
    }
}

/// A running ingress worker (with exact timers for delayed jobs: [`worker::QueueWorker`]).
pub struct IngressWorker {
    worker: worker::QueueWorker,
}

/// Starts a worker on `{prefix}:meetingScheduler` at `redis_url` that runs timer jobs and
/// applies ingress jobs, with BullMQ's default lock duration.
pub async fn start_ingress(
    engine: Arc<Engine>,
    redis_url: &str,
    prefix: &str,
) -> Result<IngressWorker, QueueError> {
    let lock_ms = worker::DEFAULT_LOCK_MS;
    start_scheduler_worker(engine, redis_url, prefix, lock_ms, DEFAULT_CONCURRENCY).await
}

/// [`start_ingress`] with a lock duration (`lock_ms`: how soon a job held by a worker that
/// died is taken over by a live one) and how many jobs run at once (`concurrency`). An
/// ingress job first waits its turn behind earlier jobs for its booking or space
/// ([`order::Gate`]), then, if it names a booking not yet stored, for the booking; each wait
/// lasts at most `lock_ms`. Timer jobs do neither. Each failed attempt of a retried job
/// keeps its reason (`failedReason`, `stacktrace`) for Node's tools ([`failure::FailureLog`]).
pub async fn start_scheduler_worker(
    engine: Arc<Engine>,
    redis_url: &str,
    prefix: &str,
    lock_ms: u64,
    concurrency: usize,
) -> Result<IngressWorker, QueueError> {
    let config = worker::WorkerConfig {
        redis_url: redis_url.to_owned(),
        prefix: prefix.to_owned(),
        queue: Queue::MeetingScheduler.as_str().to_owned(),
        concurrency,
        lock_ms,
    };
    let queue = Queue::MeetingScheduler.as_str();
    let failures = failure::FailureLog::connect(redis_url, prefix, queue).await?;
    let gate = Arc::new(order::Gate::connect(redis_url, prefix, queue).await?);
    let bound = Duration::from_millis(lock_ms.max(1000));
    let processor = move |job: bullmq::Job, _token: bullmq::worker::CancellationToken| {
        let engine = engine.clone();
        let gate = gate.clone();
        async move {
            let name = job.name().to_owned();
            if scheduler::is_timer(&name) {
                return scheduler::run_timer(&engine, &job).await;
            }
            if let Ok(parsed) = zs_engine::ingress::parse(&name, job.data())
                && let Some(other) = gate.wait_turn(&engine, &job, &parsed, bound).await
            {
                tracing::warn!(job = %job.id(), %name, waited_for = %other, "ingress job goes ahead of an earlier one for the same booking or space, still active after the lock duration (its instance may have died)");
            }
            let result = engine.apply_ingress_within(&name, job.data(), bound).await;
            gate.finished(job.id());
            match result {
                Ok(v) => {
                    tracing::info!(job = %job.id(), %name, "ingress job applied");
                    Ok(v)
                }
                Err(reason) => {
                    tracing::warn!(job = %job.id(), %name, %reason, "ingress job refused");
                    Err(bullmq::Error::Unrecoverable(reason))
                }
            }
        }
    };
    let worker = worker::QueueWorker::start(&config, failures.wrap(processor), None).await?;
    Ok(IngressWorker { worker })
}

/// Starts workers on `{prefix}:statusUpdateQueue` and `{prefix}:webhookDeliveryQueue` that
/// send the status posts and webhooks the relay put there (see [`scheduler`]).
pub async fn start_delivery_workers(
    engine: Arc<Engine>,
    redis_url: &str,
    prefix: &str,
    lock_ms: u64,
) -> Result<Vec<IngressWorker>, QueueError> {
    let mut list = Vec::new();
    for queue in [Queue::StatusUpdates, Queue::WebhookDeliveries] {
        let config = worker::WorkerConfig {
            redis_url: redis_url.to_owned(),
            prefix: prefix.to_owned(),
            queue: queue.as_str().to_owned(),
            concurrency: 16,
            lock_ms,
        };
        let engine = engine.clone();
        let processor = move |job: bullmq::Job, _token: bullmq::worker::CancellationToken| {
            let engine = engine.clone();
            async move { scheduler::run_delivery(&engine, queue, &job).await }
        };
        let worker = worker::QueueWorker::start(&config, processor, None).await?;
        list.push(IngressWorker { worker });
    }
    Ok(list)
}

impl IngressWorker {
    /// Stops taking jobs and waits up to `timeout_ms` for the ones in hand.
    pub async fn close(&self, timeout_ms: u64) {
        self.worker.close(timeout_ms).await;
    }
}
