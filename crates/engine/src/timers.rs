//! The timer runner: sleeps until the next due job (no polling), is woken when an earlier
//! one is added, never fires early, and applies due jobs in order, in batches.

use crate::apply::At;
use crate::{Applied, Engine, EngineError};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zs_core::{BookingId, Command, EventKind, SpaceId};
use zs_store::jobs::{self, Job, MEETING_SCHEDULER};

/// How many due jobs one transaction applies at most.
const BATCH: i64 = 512;

/// A timer job's data, parsed.
fn parse_job(j: &Job) -> Result<(SpaceId, Command), String> {
    let event = EventKind::parse(&j.name)
        .filter(|e| e.is_timer())
        .ok_or_else(|| format!("unknown timer event {:?}", j.name))?;
    let space = j
        .data
        .get("spaceId")
        .and_then(|v| v.as_str())
        .ok_or("data.spaceId missing")?;
    let space = SpaceId::parse(space).map_err(|e| e.to_string())?;
    let booking = match j.data.get("bookingId").and_then(|v| v.as_str()) {
        Some(b) => Some(BookingId::parse(b).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok((space, Command::Timer { event, booking }))
}

impl Engine {
    /// Applies every timer job due at or before the clock's now, in due order.
    /// Returns how many jobs ran.
    pub async fn run_due_timers(&self) -> Result<usize, EngineError> {
        let mut total = 0;
        loop {
            let n = self.run_batch().await?;
            total += n;
            if n < BATCH as usize {
                return Ok(total);
            }
        }
    }

    async fn run_batch(&self) -> Result<usize, EngineError> {
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        let due = jobs::due(&mut tx, MEETING_SCHEDULER, now, BATCH).await?;
        let mut applied: Vec<Applied> = Vec::with_capacity(due.len());
        let mut dues: Vec<Timestamp> = Vec::with_capacity(due.len());
        let seqs: Vec<i64> = due.iter().map(|j| j.seq).collect();
        jobs::remove_seqs(&mut tx, &seqs).await?;
        for job in &due {
            match parse_job(job) {
                Ok((space, cmd)) => {
                    match self.apply_in(&mut tx, &space, cmd, At::Due(job.due)).await {
                        Ok(a) => {
                            applied.push(a);
                            dues.push(job.due);
                        }
                        Err(EngineError::Store(e)) => return Err(EngineError::Store(e)),
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "timer job dropped"),
                    }
                }
                Err(reason) => {
                    tracing::warn!(job = %job.id, %reason, "malformed timer job dropped")
                }
            }
        }
        tx.commit().await?;
        let late = zs_core::clock::to_millis(Timestamp::now());
        for d in &dues {
            let secs = late.duration_since(*d).as_secs_f64().max(0.0);
            metrics::histogram!("zs_timer_lateness_seconds").record(secs);
        }
        self.after_commit(&applied, Some(&dues));
        Ok(due.len())
    }

    /// Runs timers until `shutdown` turns true: sleeps exactly until the next due job.
    pub async fn timer_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.run_due_timers().await {
                tracing::error!(error = %e, "timer runner failed; retrying in 1 s");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let next = match self.next_timer_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "reading the next timer failed");
                    Some(self.clock.now() + jiff::SignedDuration::from_secs(1))
                }
            };
            let sleep = next.map(|due| {
                // Sleep to the due instant with the clock's full precision; the batch re-checks
                // `due <= now` on whole milliseconds, so a wake-up can never run a job early.
                let ns = due.as_nanosecond() - self.clock.now_precise().as_nanosecond();
                Duration::from_nanos(ns.max(0) as u64)
            });
            let wake = self.timers_wake.notified();
            tokio::select! {
                _ = wake => {}
                _ = shutdown.changed() => {}
                _ = async { match sleep { Some(d) => tokio::time::sleep(d).await, None => std::future::pending().await } } => {}
            }
        }
    }

    async fn next_timer_due(&self) -> Result<Option<Timestamp>, EngineError> {
        let mut c = self.store.reader().acquire().await?;
        Ok(jobs::next_due(&mut c, MEETING_SCHEDULER).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(name: &str, data: serde_json::Value) -> Job {
        Job {
            seq: 1,
            id: "j".into(),
            queue: MEETING_SCHEDULER.into(),
            name: name.into(),
            data,
            due: Timestamp::UNIX_EPOCH,
            attempts_made: 0,
            last_error: None,
        }
    }

    #[test]
    fn parses_timer_jobs_and_refuses_malformed_ones() {
        let ok = parse_job(&job(
            "START_TIME_REACHED",
            json!({"spaceId": "s1", "bookingId": "b1"}),
        ));
        assert!(matches!(
            ok,
            Ok((
                _,
                Command::Timer {
                    event: EventKind::StartTimeReached,
                    booking: Some(_)
                }
            ))
        ));
        assert!(parse_job(&job("BOOKING_CREATED", json!({"spaceId": "s1"}))).is_err());
        assert!(
            parse_job(&job("DAY_START", json!({})))
                .unwrap_err()
                .contains("spaceId")
        );
        assert!(parse_job(&job("DAY_START", json!({"spaceId": "a b"}))).is_err());
    }
}
