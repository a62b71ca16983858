//! Timers as BullMQ jobs on `{prefix}:meetingScheduler`.
//!
//! The store stays the authority: a timer is a row written in the same transaction as the
//! change that plans it. The **relay** adds each plan to the queue as an ordinary delayed
//! BullMQ job (name = the event, data = CONTRACT §7's timer payload, id =
//! `{timer id}.{due ms}`, `timestamp + delay` = the due instant), so Node's tools see it and
//! any of our workers — on any instance — can run it. The **worker** runs a timer job by
//! applying, in one transaction, every timer of that space due up to the job's instant:
//! same-instant timers keep their documented order whichever job comes first, a job
//! delivered twice finds nothing left (`alreadyApplied`), and a job whose plan was
//! cancelled or moved finds no row and completes as superseded. A change of plan therefore
//! never has to chase a job in Redis.
//!
//! Status posts and webhook deliveries go the same way on `statusUpdateQueue` and
//! `webhookDeliveryQueue`: one queue job per attempt (id `{delivery job id}.{due ms}`); the
//! store keeps the retry schedule, so a failed attempt fails its queue job (with the reason
//! as `failedReason`) and the retry is a new delayed job. A status job drains its space's
//! pending posts in sequence order.
//!
//! If Redis loses jobs (restarted without persistence), the store's own runners apply any
//! job still overdue after a lag (`Engine::set_fallback_lag`), and the relay notices the
//! loss (its marker in each queue's `meta` hash is gone) and relays every pending plan
//! again, so timers due after Redis is back fire at their instant again.

use crate::producer::{Backoff, Due, JobId, NewJob, Producer, Retention};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;
use zs_engine::outbox::QueuedRun;
use zs_engine::timer_codec;
use zs_engine::{Engine, Queue};

/// How many plans the relay reads per round.
const RELAY_BATCH: i64 = 500;
/// Finished timer jobs kept in Redis for inspection (BullMQ retention by count).
const KEEP_COMPLETED: usize = 10_000;
/// Failed attempts are retried (transient store errors) this many times in all.
const ATTEMPTS: u32 = 5;

/// The queue job id of a timer plan: the timer's own deterministic id and its due instant,
/// so a moved plan is a new job and the old one completes as superseded.
pub fn job_id(timer_id: &str, due_ms: i64) -> String {
    format!("{timer_id}.{due_ms}")
}

/// Whether a `meetingScheduler` job name is a timer event (the rest are ingress jobs).
pub fn is_timer(name: &str) -> bool {
    timer_codec::timer_event(name).is_some()
}

/// Runs a timer job: applies the space's timers due up to the job's instant.
pub async fn run_timer(engine: &Engine, job: &bullmq::Job) -> Result<Value, bullmq::Error> {
    let space = timer_codec::space_id(job.data())
        .map_err(|e| bullmq::Error::Unrecoverable(e.to_string()))?;
    let due_ms = job.timestamp() + job.opts().delay.unwrap_or(0);
    let due = jiff::Timestamp::from_millisecond(i64::try_from(due_ms).unwrap_or(i64::MAX))
        .map_err(|e| bullmq::Error::Unrecoverable(format!("due instant: {e}")))?;
    // Never early: a queue that hands the job over before its instant (another worker's
    // clock, a manual promote) waits for it here.
    let early = due.as_millisecond() - engine.clock.now().as_millisecond();
    if early > 0 {
        tokio::time::sleep(Duration::from_millis(early as u64)).await;
        while engine.clock.now() < due {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    match engine.run_space_timers(&space, due).await {
        Ok(0) => Ok(json!({"alreadyApplied": true})),
        Ok(n) => Ok(json!({"applied": n})),
        Err(e) => Err(bullmq::Error::ProcessingError(format!("store: {e}"))),
    }
}

/// Runs a delivery job (`statusUpdateQueue`, `webhookDeliveryQueue`): the attempt its id
/// names. A failed attempt fails the job with its reason; the retry is a new job.
pub async fn run_delivery(
    engine: &Arc<Engine>,
    queue: Queue,
    job: &bullmq::Job,
) -> Result<Value, bullmq::Error> {
    let (id, due) = job
        .id()
        .rsplit_once('.')
        .and_then(|(id, ms)| Some((id, ms.parse::<i64>().ok()?)))
        .ok_or_else(|| {
            bullmq::Error::Unrecoverable(format!("job id {:?} is not {{id}}.{{due ms}}", job.id()))
        })?;
    let due = jiff::Timestamp::from_millisecond(due)
        .map_err(|e| bullmq::Error::Unrecoverable(format!("due instant: {e}")))?;
    match engine.run_queued_delivery(queue, id, due, job.data()).await {
        Ok(QueuedRun::NothingLeft) => Ok(json!({"alreadyApplied": true})),
        Ok(QueuedRun::Sent {
            sent,
            failure: None,
        }) => Ok(json!({"sent": sent})),
        Ok(QueuedRun::Sent {
            failure: Some(why), ..
        }) => Err(bullmq::Error::Unrecoverable(format!(
            "attempt failed: {why}"
        ))),
        Err(e) => Err(bullmq::Error::Unrecoverable(format!("store: {e}"))),
    }
}

/// Why a relay round failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// Redis failed or did not answer within [`ANSWER_WITHIN`].
    #[error("redis: {0}")]
    Redis(String),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
}

/// How long a relay call may wait for Redis before the round fails and the relay connects
/// afresh: the crate's connection waits out its reconnect backoff (up to 5 s between
/// attempts) even once Redis is back.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// How often the relay asks whether Redis is back after a failure.
const REDIS_POLL: Duration = Duration::from_millis(250);

/// Waits for a Redis call, at most [`ANSWER_WITHIN`].
async fn answered<T>(
    what: &str,
    call: impl Future<Output = Result<T, crate::QueueError>>,
) -> Result<T, RelayError> {
    match tokio::time::timeout(ANSWER_WITHIN, call).await {
        Ok(r) => r.map_err(|e| RelayError::Redis(format!("{what}: {e}"))),
        Err(_) => Err(RelayError::Redis(format!(
            "{what}: no answer within {} s",
            ANSWER_WITHIN.as_secs()
        ))),
    }
}

/// Adds every unrelayed plan (timers, status posts, webhooks) to its queue, until `stop`;
/// woken when plans change. `producers` holds one producer per queue of [`Queue::ALL`]. After a
/// Redis failure the relay polls Redis on a fresh connection and, once it answers, goes on
/// with fresh connections: back within [`REDIS_POLL`] of Redis, not after the crate's
/// reconnect backoff.
pub async fn relay_loop(
    engine: Arc<Engine>,
    mut producers: Vec<(Queue, Producer)>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let changed = engine.plans_changed();
        let mut n = 0;
        let mut failed = None;
        for (queue, producer) in &producers {
            match relay_once(&engine, *queue, producer).await {
                Ok(k) => n = n.max(k),
                Err(e) => failed = Some(e),
            }
        }
        if let Some(e) = failed {
            tracing::warn!(error = %e, "relaying jobs to Redis failed; retrying");
            match e {
                RelayError::Redis(_) => back_on_redis(&mut producers, &mut stop).await,
                RelayError::Store(_) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
            continue;
        }
        if n as i64 >= RELAY_BATCH {
            continue;
        }
        tokio::select! {
            _ = changed => {}
            // A safety net for a wake-up lost to a race: plans are re-read now and then.
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// After a Redis failure: waits until Redis answers on a fresh connection (polled every
/// [`REDIS_POLL`]), then replaces every producer by one with fresh connections.
async fn back_on_redis(producers: &mut [(Queue, Producer)], stop: &mut watch::Receiver<bool>) {
    let Some(probe) = producers.first().map(|(_, p)| p.probe()) else {
        return;
    };
    // A Redis that answers but refuses (out of memory, a script error) is retried once a
    // second, not at every poll.
    let earliest = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REDIS_POLL) => {}
            _ = stop.changed() => return,
        }
        if tokio::time::Instant::now() >= earliest && probe.ping().await.is_ok() {
            break;
        }
    }
    let fresh = futures::future::join_all(
        producers
            .iter()
            .map(|(_, p)| answered("connecting", p.reconnect())),
    )
    .await;
    for ((queue, producer), fresh) in producers.iter_mut().zip(fresh) {
        match fresh {
            // The old connections close once their last clone is dropped.
            Ok(fresh) => *producer = fresh,
            Err(e) => tracing::warn!(queue = %queue, error = %e, "relay could not reconnect"),
        }
    }
    tracing::info!("Redis answers again: the relay connected afresh");
}

/// One relay round on `queue`; returns how many plans were added.
pub async fn relay_once(
    engine: &Engine,
    queue: Queue,
    producer: &Producer,
) -> Result<usize, RelayError> {
    let store = |e: zs_engine::EngineError| RelayError::Store(e.to_string());
    // Redis lost its data while the store counted plans as relayed? Relay them all again
    // (adding an id the queue holds changes nothing). The marker is set only after the
    // store has taken note, so a failure in between repeats the check, never skips it.
    if answered("reading the relay marker", producer.relay_marker_missing()).await? {
        let n = engine.relay_again(queue).await.map_err(store)?;
        if n > 0 {
            tracing::warn!(
                %queue,
                plans = n,
                "the Redis queue lost its jobs (restarted empty?): relaying every pending plan again"
            );
        }
        answered("setting the relay marker", producer.set_relay_marker()).await?;
    }
    let plans = engine.unrelayed(queue, RELAY_BATCH).await.map_err(store)?;
    if plans.is_empty() {
        return Ok(0);
    }
    let now = SystemTime::now();
    let mut jobs = Vec::with_capacity(plans.len());
    let mut done = Vec::with_capacity(plans.len());
    for j in &plans {
        let id = job_id(&j.id, j.due.as_millisecond());
        let id = JobId::parse(&id).map_err(|e| RelayError::Store(e.to_string()))?;
        let at = UNIX_EPOCH + Duration::from_millis(j.due.as_millisecond().max(0) as u64);
        let mut job = NewJob::new(j.name.clone(), j.data.clone())
            .id(id)
            .due(if at > now { Due::At(at) } else { Due::Now })
            .remove_on_complete(Retention::KeepLast(KEEP_COMPLETED))
            .remove_on_fail(Retention::KeepLast(KEEP_COMPLETED));
        if queue == Queue::MeetingScheduler {
            // Timers retry transient store errors; a delivery's retries are its own plan.
            job = job.retries(ATTEMPTS, Backoff::Exponential(Duration::from_millis(500)));
        }
        jobs.push(job);
        done.push((j.id.clone(), j.due));
    }
    answered("adding jobs", producer.add_many(jobs)).await?;
    engine.mark_relayed(&done).await.map_err(store)?;
    Ok(done.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_names_are_told_from_ingress_names() {
        assert!(is_timer("START_TIME_REACHED"));
        assert!(is_timer("DAY_START"));
        assert!(!is_timer("BOOKING_CREATED"));
        assert!(!is_timer("USER_CHECKS_IN"));
        assert!(!is_timer("nonsense"));
    }

    #[test]
    fn job_ids_are_valid_bullmq_ids_and_change_with_the_plan() {
        let a = job_id("bk-1.START_TIME_REACHED", 1_800_000_000_000);
        let b = job_id("bk-1.START_TIME_REACHED", 1_800_000_060_000);
        assert_ne!(a, b);
        assert!(JobId::parse(&a).is_ok());
        assert!(JobId::parse(&job_id("room.DAY.1800000000000", 1_800_000_000_000)).is_ok());
    }
}
