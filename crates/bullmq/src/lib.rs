//! BullMQ-compatible Redis queues, through the BullMQ maintainers' own crate
//! (`bullmq-official`, which runs the upstream scripts unchanged).
//!
//! - `meetingScheduler`: timers as delayed jobs ([`scheduler`]) and ingress jobs from Node
//!   services (CONTRACT §7), applied with the same rules as the API; a malformed or refused
//!   job fails with a clear reason and the queue goes on.
//! - `statusUpdateQueue`, `webhookDeliveryQueue`: one job per delivery attempt.
//! - Our workers keep an exact timer for the earliest delayed job ([`worker`]).

pub mod depth;
mod due_timer;
pub mod failure;
pub mod producer;
pub mod reach;
pub mod scheduler;
pub mod worker;

use std::sync::Arc;
use zs_engine::Engine;

/// The queue that carries timer and ingress jobs.
pub const MEETING_SCHEDULER: &str = "meetingScheduler";

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
    start_scheduler_worker(engine, redis_url, prefix, worker::DEFAULT_LOCK_MS).await
}

/// [`start_ingress`] with a lock duration (`lock_ms`: how soon a job held by a worker that
/// died is taken over by a live one). Each failed attempt of a retried job keeps its reason
/// (`failedReason`, `stacktrace`) for Node's tools ([`failure::FailureLog`]).
pub async fn start_scheduler_worker(
    engine: Arc<Engine>,
    redis_url: &str,
    prefix: &str,
    lock_ms: u64,
) -> Result<IngressWorker, QueueError> {
    let config = worker::WorkerConfig {
        redis_url: redis_url.to_owned(),
        prefix: prefix.to_owned(),
        queue: MEETING_SCHEDULER.to_owned(),
        concurrency: 8,
        lock_ms,
    };
    let failures = failure::FailureLog::connect(redis_url, prefix, MEETING_SCHEDULER).await?;
    let processor = move |job: bullmq::Job, _token: bullmq::worker::CancellationToken| {
        let engine = engine.clone();
        async move {
            let name = job.name().to_owned();
            if scheduler::is_timer(&name) {
                return scheduler::run_timer(&engine, &job).await;
            }
            match engine.apply_ingress(&name, job.data()).await {
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
    for queue in [scheduler::STATUS_UPDATES, scheduler::WEBHOOK_DELIVERIES] {
        let config = worker::WorkerConfig {
            redis_url: redis_url.to_owned(),
            prefix: prefix.to_owned(),
            queue: queue.to_owned(),
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
