//! BullMQ-compatible Redis queues, through the BullMQ maintainers' own crate
//! (`bullmq-official`, which runs the upstream scripts unchanged).
//!
//! So far: the `meetingScheduler` ingress worker. Node services that `Queue.add` ingress
//! jobs (CONTRACT §7) on the same Redis have them applied by zs-scheduler with the same
//! rules as the API; a malformed or refused job fails with a clear reason and the queue
//! goes on.

use std::sync::Arc;
use zs_engine::Engine;

/// The queue that carries ingress (and, later, timer) jobs.
pub const MEETING_SCHEDULER: &str = "meetingScheduler";

/// Why the Redis side could not start.
#[derive(Debug, thiserror::Error)]
#[error("redis queues: {0}")]
pub struct QueueError(#[from] bullmq::Error);

/// A running ingress worker.
pub struct IngressWorker {
    worker: bullmq::Worker,
}

/// Starts a worker on `{prefix}:meetingScheduler` at `redis_url` that applies ingress jobs.
pub async fn start_ingress(
    engine: Arc<Engine>,
    redis_url: &str,
    prefix: &str,
) -> Result<IngressWorker, QueueError> {
    let opts = bullmq::WorkerOptions {
        connection: bullmq::options::RedisConnectionOptions {
            url: redis_url.to_owned(),
            ..Default::default()
        },
        prefix: prefix.to_owned(),
        concurrency: 8,
        ..Default::default()
    };
    let processor = move |job: bullmq::Job, _token: bullmq::worker::CancellationToken| {
        let engine = engine.clone();
        async move {
            let name = job.name().to_owned();
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
    let worker = bullmq::Worker::with_options(MEETING_SCHEDULER, processor, opts).await?;
    Ok(IngressWorker { worker })
}

impl IngressWorker {
    /// Stops taking jobs and waits up to `timeout_ms` for the ones in hand.
    pub async fn close(&self, timeout_ms: u64) {
        if let Err(e) = self.worker.close(timeout_ms).await {
            tracing::warn!(error = %e, "closing the ingress worker");
        }
    }
}
