//! The delivery workers: status posts (in order per space, retried until delivered) and
//! signed webhooks (retried on the schedule, then dead-lettered and kept for replay).
//! A slow receiver never holds up a transition: sending happens outside any transaction.

use crate::{Engine, EngineError};
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use zs_delivery::{AttemptOutcome, signing};
use zs_store::deliveries::{self, Attempt, JobAfterAttempt};
use zs_store::jobs::{self, Job};
use zs_store::{DeliveryStatus, Queue};

/// Parallel sends per queue.
const PARALLEL: usize = 16;

impl Engine {
    /// Claims due jobs of `queue` by leasing them past the send timeout; a crash mid-send
    /// lets the lease run out and the job is sent again (at least once, same `webhook-id`).
    async fn claim(&self, queue: Queue) -> Result<Vec<Job>, EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        // With Redis, the queue workers send; this runner only catches what they lost.
        let up_to = now - self.fallback_lag();
        let due = if queue == Queue::StatusUpdates {
            jobs::due_heads(&mut tx, queue, up_to, now, PARALLEL as i64).await?
        } else {
            jobs::due(&mut tx, queue, up_to, now, PARALLEL as i64).await?
        };
        let ids: Vec<String> = due.iter().map(|j| j.id.clone()).collect();
        jobs::lease(&mut tx, &ids, now + self.lease()).await?;
        tx.commit().await?;
        Ok(due)
    }

    fn lease(&self) -> SignedDuration {
        SignedDuration::try_from(self.outbound.claim_lease).unwrap_or(SignedDuration::from_secs(30))
    }

    /// Runs one delivery job handed over by a queue (Redis): the plan `id` due at `due`.
    ///
    /// A webhook is sent if that plan is still pending (claimed with a lease, so a second
    /// delivery of the queue job finds nothing). A status post drains its space's pending
    /// posts in sequence order from the oldest, stopping at the first failure (which is
    /// re-planned for its retry). Returns what was sent, or `None` when nothing was left.
    pub async fn run_queued_delivery(
        self: &Arc<Self>,
        queue: Queue,
        id: &str,
        due: Timestamp,
        data: &serde_json::Value,
    ) -> Result<QueuedRun, EngineError> {
        if queue == Queue::StatusUpdates {
            let Some(space) = data.get("spaceId").and_then(|v| v.as_str()) else {
                return Err(EngineError::Invalid("data.spaceId must be a string".into()));
            };
            return self.drain_status_group(space).await;
        }
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        let job = jobs::claim_exact(&mut tx, queue, id, due, now + self.lease()).await?;
        tx.commit().await?;
        match job {
            None => Ok(QueuedRun::NothingLeft),
            Some(job) => {
                let out = self.send_webhook(job).await?;
                Ok(QueuedRun::Sent {
                    sent: 1,
                    failure: out.filter(|o| !o.success).map(|o| describe(&o)),
                })
            }
        }
    }

    async fn drain_status_group(&self, space: &str) -> Result<QueuedRun, EngineError> {
        let mut sent = 0;
        loop {
            let mut tx = self.store.begin().await?;
            let now = self.clock.now();
            let head = jobs::group_head(&mut tx, Queue::StatusUpdates, space).await?;
            let Some(head) = head.filter(|h| h.due <= now) else {
                // Empty, held by another worker, leased, or waiting for its retry.
                tx.commit().await?;
                return Ok(if sent == 0 {
                    QueuedRun::NothingLeft
                } else {
                    QueuedRun::Sent {
                        sent,
                        failure: None,
                    }
                });
            };
            jobs::lease(&mut tx, std::slice::from_ref(&head.id), now + self.lease()).await?;
            tx.commit().await?;
            let out = self.send_status(head).await?;
            sent += 1;
            if let Some(o) = out.filter(|o| !o.success) {
                return Ok(QueuedRun::Sent {
                    sent,
                    failure: Some(describe(&o)),
                });
            }
        }
    }

    /// Sends everything due on `queue` now; returns how many jobs were attempted.
    pub async fn run_outbox_once(self: &Arc<Self>, queue: Queue) -> Result<usize, EngineError> {
        Ok(self.run_outbox_and_look(queue).await?.0)
    }

    /// [`Engine::run_outbox_once`], and the earliest due job it saw if it found none due
    /// now (the runner sleeps until it without reading again).
    async fn run_outbox_and_look(
        self: &Arc<Self>,
        queue: Queue,
    ) -> Result<(usize, Option<Option<Timestamp>>), EngineError> {
        // Nothing due: one read instead of a turn of the writer (every transition wakes
        // this runner). A lease that ran out is due by its instant, so it is seen here too.
        let next = self.next_due(queue).await?;
        if next.is_none_or(|d| d > self.clock.now()) {
            return Ok((0, Some(next)));
        }
        Ok((self.send_due(queue).await?, None))
    }

    /// Claims and sends the jobs due on `queue`; returns how many were attempted.
    async fn send_due(self: &Arc<Self>, queue: Queue) -> Result<usize, EngineError> {
        let claimed = self.claim(queue).await?;
        let n = claimed.len();
        let gate = Arc::new(Semaphore::new(PARALLEL));
        let mut tasks = tokio::task::JoinSet::new();
        for job in claimed {
            let me = self.clone();
            let permit = gate.clone().acquire_owned().await.expect("semaphore open");
            tasks.spawn(async move {
                let r = if queue == Queue::StatusUpdates {
                    let space = job.data.get("spaceId").and_then(|v| v.as_str()).map(str::to_owned);
                    match me.send_status(job).await {
                        // Caught up after a lost lease (Redis mode): the space's later posts
                        // may be waiting behind this one; send them in order now.
                        Ok(Some(o)) if o.success && me.fallback_lag().is_positive() => match space {
                            Some(s) => me.drain_status_group(&s).await.map(drop),
                            None => Ok(()),
                        },
                        r => r.map(drop),
                    }
                } else {
                    me.send_webhook(job).await.map(drop)
                };
                if let Err(e) = r {
                    tracing::error!(error = %e, "recording a delivery failed; the lease will retry it");
                }
                drop(permit);
            });
        }
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }

    async fn send_status(&self, job: Job) -> Result<Option<AttemptOutcome>, EngineError> {
        let Some(url) = self.outbound.status_url.clone() else {
            let mut c = self.store.begin().await?;
            jobs::remove(&mut c, &job.id).await?;
            c.commit().await?;
            return Ok(None);
        };
        let body = job.data.to_string().into_bytes();
        let headers = signing::signed_headers(
            self.outbound.status_secret.as_slice(),
            &job.id,
            Timestamp::now().as_second(),
            &body,
        );
        let out = self.outbound.status_sender.post(&url, &headers, body).await;
        let mut tx = self.store.begin().await?;
        if out.success {
            jobs::remove(&mut tx, &job.id).await?;
        } else {
            let attempt = job.attempts_made as u32 + 1;
            let delay = self
                .outbound
                .status_retry
                .delay_before(attempt + 1)
                .unwrap_or_else(|| {
                    self.outbound
                        .status_retry
                        .delay_before(self.outbound.status_retry.max_attempts())
                        .unwrap_or(Duration::from_secs(60))
                });
            let at = self.clock.now()
                + SignedDuration::try_from(delay).unwrap_or(SignedDuration::from_secs(60));
            jobs::retry_later(&mut tx, &job.id, at, &describe(&out)).await?;
        }
        tx.commit().await?;
        let attempt = job.attempts_made + 1;
        if out.success {
            tracing::info!(job = %job.id, attempt, status = out.status, "status post delivered");
        } else {
            let reason = describe(&out);
            tracing::warn!(job = %job.id, attempt, status = out.status, %reason, "status post failed; retrying");
        }
        record("status", &out);
        Ok(Some(out))
    }

    async fn send_webhook(&self, job: Job) -> Result<Option<AttemptOutcome>, EngineError> {
        let mut c = self.store.read().await?;
        let found = deliveries::get_with_endpoint(&mut c, &job.id).await?;
        drop(c);
        let Some((d, Some(e))) = found else {
            let mut tx = self.store.begin().await?;
            jobs::remove(&mut tx, &job.id).await?;
            tx.commit().await?;
            // Its endpoint (or the delivery itself) was deleted: the delivery ends unsent.
            metrics::counter!("zs_deliveries_total", "queue" => "webhook", "outcome" => "dropped")
                .increment(1);
            return Ok(None);
        };
        // The secrets valid now: a retry after a rotation signs with the new secret.
        let secrets = self.signing_secrets(&e)?;
        let body = d.body.clone().into_bytes();
        let headers = signing::signed_headers(&secrets, &d.id, Timestamp::now().as_second(), &body);
        let out = self.outbound.sender.post(&e.url, &headers, body).await;
        let attempt = d.attempts + 1;
        let now = self.clock.now();
        let next = if out.success || out.permanent {
            None
        } else {
            self.outbound
                .webhook_retry
                .delay_before(attempt as u32 + 1)
                .map(|delay| {
                    now + SignedDuration::try_from(delay).unwrap_or(SignedDuration::from_secs(60))
                })
        };
        let status = match (out.success, next) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        let a = Attempt {
            attempt,
            at: now,
            status_code: out.status.map(i64::from),
            error: out.error.clone(),
            duration_ms: out.duration_ms as i64,
            success: out.success,
        };
        let error;
        let then = match next {
            Some(at) => {
                error = describe(&out);
                JobAfterAttempt::RetryAt(at, &error)
            }
            None => JobAfterAttempt::Remove,
        };
        let mut tx = self.store.begin().await?;
        deliveries::settle_attempt(&mut tx, &d.id, &a, status, &job.id, then).await?;
        tx.commit().await?;
        if out.success {
            tracing::info!(delivery = %d.id, endpoint = %e.id, r#type = %d.event_type, attempt, outcome = %status, "webhook delivery");
        } else {
            // The reason an operator needs to fix the receiver (or the settings).
            let reason = describe(&out);
            tracing::warn!(delivery = %d.id, endpoint = %e.id, r#type = %d.event_type, attempt, outcome = %status, status = out.status, %reason, "webhook delivery attempt failed");
        }
        record("webhook", &out);
        if status == DeliveryStatus::Failed {
            metrics::counter!("zs_deliveries_total", "queue" => "webhook", "outcome" => "dead_lettered").increment(1);
        }
        Ok(Some(out))
    }

    /// Runs one delivery queue until `shutdown`: sleeps until its next due job or a wake-up.
    pub async fn outbox_loop(self: Arc<Self>, queue: Queue, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let wake = self.queue_wake(queue).notified();
            let (n, seen) = match self.run_outbox_and_look(queue).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, %queue, "delivery worker failed; retrying in 1 s");
                    (0, None)
                }
            };
            if n > 0 {
                continue;
            }
            let next = match seen {
                Some(next) => Ok(next),
                None => self.next_due(queue).await,
            };
            let sleep = match next {
                Ok(Some(due)) => Duration::from_millis(
                    (due.as_millisecond() + self.fallback_lag().as_millis() as i64
                        - self.clock.now().as_millisecond())
                    .max(1) as u64,
                ),
                Ok(None) => Duration::from_secs(3600),
                Err(_) => Duration::from_secs(1),
            };
            // With Redis, this runner is the safety net for claims whose lease ran out: it
            // looks again every second (it cannot be woken by a process that died).
            let sleep = if self.fallback_lag().is_positive() {
                sleep.min(Duration::from_secs(1))
            } else {
                sleep
            };
            tokio::select! {
                _ = wake => {}
                _ = shutdown.changed() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
    }

    async fn next_due(&self, queue: Queue) -> Result<Option<Timestamp>, EngineError> {
        let mut c = self.store.read().await?;
        Ok(jobs::next_due(&mut c, queue).await?)
    }

    /// Replays a delivery now (`POST /v1/deliveries/{id}/retry`).
    pub async fn retry_delivery(&self, id: &str) -> Result<deliveries::Delivery, EngineError> {
        let mut tx = self.store.begin().await?;
        let d = deliveries::get(&mut tx, id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("delivery {id}")))?;
        let now = self.clock.now();
        deliveries::reopen(&mut tx, id, now).await?;
        let job = jobs::NewJob {
            id: d.id.clone(),
            queue: Queue::WebhookDeliveries,
            name: d.event_type.clone(),
            data: serde_json::json!({ "deliveryId": d.id, "endpointId": d.endpoint_id }),
            due: now,
            rank: 9,
            group: None,
        };
        jobs::put(&mut tx, &job, now).await?;
        let d = deliveries::get(&mut tx, id).await?.expect("just read");
        tx.commit().await?;
        self.wake_outbox();
        Ok(d)
    }
}

/// What a queued delivery job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueuedRun {
    /// Its plan was gone: delivered already, superseded, or held by another worker.
    NothingLeft,
    /// `sent` attempts were made; `failure` describes the last one if it failed (its retry
    /// is planned in the store and relayed as a new queue job).
    Sent {
        /// Attempts made.
        sent: usize,
        /// Why the last attempt failed.
        failure: Option<String>,
    },
}

fn describe(o: &AttemptOutcome) -> String {
    match (&o.status, &o.error) {
        (_, Some(e)) => e.clone(),
        (Some(s), None) => format!("HTTP {s}"),
        (None, None) => "failed".into(),
    }
}

fn record(queue: &'static str, o: &AttemptOutcome) {
    let outcome = if o.success {
        "delivered"
    } else {
        "failed_attempt"
    };
    metrics::counter!("zs_deliveries_total", "queue" => queue, "outcome" => outcome).increment(1);
}
