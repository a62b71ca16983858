//! The timer runner: sleeps until the next due job (no polling), is woken when an earlier
//! one is added, never fires early, and applies due jobs in order, in batches.

use crate::apply::MAX_CLEANING_MS;
use crate::persist::Writes;
use crate::{Engine, EngineError};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zs_core::{BookingId, Command, EventKind, SpaceId};
use zs_core::{Outcome, SpaceFacts, decide};
use zs_store::Queue;
use zs_store::jobs::{self, Job};
use zs_store::{bookings, spaces};

/// How many due jobs one transaction applies at most.
const BATCH: i64 = 512;
/// Rounds a space's catch-up may take (a round per business-hours boundary missed: about
/// ten years without a runner) before it is refused as a plan that never settles.
const MAX_CATCH_UP_ROUNDS: usize = 8_000;

/// A due job with its parsed target, or why it cannot run.
type Parsed<'a> = (&'a Job, Result<(SpaceId, Command), String>);

/// What timers applied, with their due instants, to report after commit.
pub(crate) type Outcomes = Vec<(Outcome, Option<Timestamp>)>;

/// How a timer transaction holds the spaces of the jobs it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spaces {
    /// Locked already by the caller (or waited for).
    Held,
    /// Taken unless another transaction holds them (the batch runner).
    SkipBusy,
}

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

/// The earliest timer `out` plans, if any.
fn earliest_timer(out: &Outcome) -> Option<Timestamp> {
    out.timers
        .iter()
        .filter_map(|t| match t {
            zs_core::TimerChange::Schedule(t) => Some(t.due),
            zs_core::TimerChange::Remove(_) | zs_core::TimerChange::RemoveBooking(_) => None,
        })
        .min()
}

/// How much earlier than a due instant the coarse (tokio, millisecond-tick) sleep ends;
/// the rest is slept on a blocking thread with the OS's sub-millisecond precision.
const COARSE_MARGIN: Duration = Duration::from_millis(2);

/// Sleeps until `due` on `clock` as precisely as the OS allows, and never returns early
/// by the clock: tokio's timer (millisecond ticks, rounded up) takes the bulk, a
/// `thread::sleep` on the blocking pool the last stretch.
async fn sleep_until_precise(clock: &dyn zs_core::Clock, due: Timestamp) {
    let left = |c: &dyn zs_core::Clock| {
        let ns = due.as_nanosecond() - c.now_precise().as_nanosecond();
        Duration::from_nanos(ns.max(0) as u64)
    };
    let coarse = left(clock).saturating_sub(COARSE_MARGIN);
    if !coarse.is_zero() {
        tokio::time::sleep(coarse).await;
    }
    let fine = left(clock);
    if !fine.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(fine)).await;
    }
}

impl Engine {
    /// Applies every timer job due at or before the clock's now, in due order.
    /// Returns how many jobs ran.
    pub async fn run_due_timers(&self) -> Result<usize, EngineError> {
        let mut total = 0;
        loop {
            let (n, left_due) = self.run_batch().await?;
            total += n;
            if n < BATCH as usize && !left_due {
                return Ok(total);
            }
        }
    }

    /// Applies up to [`BATCH`] due jobs in one transaction: the spaces they concern are read
    /// in two queries, the jobs applied in due order in memory, and the writes flushed in bulk.
    /// With a timer lag (Redis mode), only jobs overdue by the lag are taken here.
    ///
    /// On PostgreSQL the jobs are claimed first (`SKIP LOCKED`, a space's jobs only up to
    /// one held elsewhere: [`jobs::due`]), then their spaces — and a space another
    /// transaction holds is skipped, its jobs left for the next round, instead of waited
    /// for: its holder (a command) may be waiting for one of these job rows.
    /// Returns how many jobs ran, and whether it left due jobs for another round (see
    /// [`Engine::apply_due_in`]).
    async fn run_batch(&self) -> Result<(usize, bool), EngineError> {
        // Nothing due, nothing to take: one read instead of a turn of the writer (every
        // booking create wakes this runner).
        let due_by = self.clock.now() - self.fallback_lag();
        if self.next_timer_due().await?.is_none_or(|d| d > due_by) {
            return Ok((0, false));
        }
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        let up_to = now - self.fallback_lag();
        let due = jobs::due(&mut tx, Queue::MeetingScheduler, up_to, up_to, BATCH).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok((0, false));
        }
        let (ran, outcomes, left_due) = self
            .apply_due_in(&mut tx, due, now, Spaces::SkipBusy)
            .await?;
        tx.commit().await?;
        self.after_timers(&outcomes);
        Ok((ran, left_due))
    }

    /// Applies the timers of `space` due at or before `up_to`, in due order, in one
    /// transaction; returns how many ran (0: another worker already ran them, or the plan
    /// changed). A queue job for one of a space's timers runs them all up to its instant, so
    /// timers due at the same instant keep their documented order whichever job arrives
    /// first, and a job delivered twice finds nothing left to do.
    pub async fn run_space_timers(
        &self,
        space: &SpaceId,
        up_to: Timestamp,
    ) -> Result<usize, EngineError> {
        let now = self.clock.now();
        if up_to > now {
            // Never early: a queue that hands a job over before its instant gets nothing.
            return Ok(0);
        }
        let mut tx = self.store.begin().await?;
        let (ran, outcomes) = self.catch_up_in(&mut tx, space, up_to, now).await?;
        tx.commit().await?;
        self.after_timers(&outcomes);
        Ok(ran)
    }

    /// Inside `tx`: locks `space` (before any of its jobs, in the order commands take them,
    /// so no two transactions wait on each other in opposite orders), then removes and
    /// applies its timers due at or before `up_to`, in due order. Returns how many jobs ran
    /// and the outcomes to report once `tx` commits ([`Engine::after_timers`]).
    pub(crate) async fn catch_up_in(
        &self,
        tx: &mut zs_store::Conn,
        space: &SpaceId,
        up_to: Timestamp,
        now: Timestamp,
    ) -> Result<(usize, Outcomes), EngineError> {
        spaces::lock(tx, &[space]).await?;
        self.catch_up_held(tx, space, up_to, now).await
    }

    /// [`Engine::catch_up_in`] for a caller that holds the space's lock already.
    pub(crate) async fn catch_up_held(
        &self,
        tx: &mut zs_store::Conn,
        space: &SpaceId,
        up_to: Timestamp,
        now: Timestamp,
    ) -> Result<(usize, Outcomes), EngineError> {
        let mut ran = 0;
        let mut outcomes = vec![];
        // Until nothing is due: a round may plan a timer that is due already (the cleaning
        // of an end the clock has passed; after days without a runner, each business-hours
        // boundary plans the next), and a command must not be decided before it.
        for _ in 0..MAX_CATCH_UP_ROUNDS {
            let due =
                jobs::group_due(tx, Queue::MeetingScheduler, space.as_str(), up_to, BATCH).await?;
            if due.is_empty() {
                return Ok((ran, outcomes));
            }
            let (k, out, _) = self.apply_due_in(tx, due, now, Spaces::Held).await?;
            ran += k;
            outcomes.extend(out);
        }
        Err(EngineError::Store(zs_store::StoreError::Corrupt(format!(
            "space {space}: timers still due after {MAX_CATCH_UP_ROUNDS} rounds of catching up"
        ))))
    }

    /// Removes and applies `due` (claimed in `tx`) in due order and writes the outcomes, in
    /// `tx`. With [`Spaces::SkipBusy`], jobs whose space another transaction holds are left
    /// untouched. Once a job plans a timer of its space due no later than a later job of
    /// that space here (a cleaning whose end a catch-up has passed already), that space's
    /// share of the round ends before that later job: the rest stay queued, and the next
    /// round takes them in due order with the new timer. Returns how many jobs ran
    /// (applied, refused or dropped as malformed), their outcomes, and whether jobs of `due`
    /// were left for the next round.
    async fn apply_due_in(
        &self,
        tx: &mut zs_store::Conn,
        due: Vec<Job>,
        now: Timestamp,
        locks: Spaces,
    ) -> Result<(usize, Outcomes, bool), EngineError> {
        let parsed: Vec<Parsed<'_>> = due.iter().map(|j| (j, parse_job(j))).collect();
        let (mut facts, busy) = self.load_facts(tx, &parsed, due[0].due, locks).await?;
        let parsed: Vec<Parsed<'_>> = parsed
            .into_iter()
            .filter(|(_, p)| !matches!(p, Ok((space, _)) if busy.contains(space)))
            .collect();
        let endpoints = self.endpoints(tx).await?;
        let mut writes = Writes::default();
        let mut outcomes: Outcomes = Vec::with_capacity(parsed.len());
        let mut ran: Vec<i64> = Vec::with_capacity(parsed.len());
        // Per space, the earliest timer this round has planned; `None` once its share ended.
        let mut planned: HashMap<SpaceId, Option<Timestamp>> = HashMap::new();
        let mut left_due = false;
        for (job, p) in parsed {
            let (space, cmd) = match p {
                Ok(x) => x,
                Err(reason) => {
                    ran.push(job.seq);
                    tracing::warn!(job = %job.id, %reason, "malformed timer job dropped");
                    continue;
                }
            };
            let earliest_planned = planned.get(&space).copied();
            if earliest_planned.is_some_and(|p| p.is_none_or(|p| p <= job.due)) {
                planned.insert(space, None);
                left_due = true;
                continue;
            }
            ran.push(job.seq);
            let Some(f) = facts.get_mut(&space) else {
                tracing::warn!(job = %job.id, space = %space, "timer job for an unknown space dropped");
                continue;
            };
            let at = zs_core::decision_instant(f, job.due);
            match decide(f, cmd, at) {
                Ok(out) => {
                    self.report_anomalies(&space, &out);
                    writes.add(self, &endpoints, f, &out, at);
                    if let Some(first) = earliest_timer(&out) {
                        let p = earliest_planned.flatten().map_or(first, |p| p.min(first));
                        planned.insert(space, Some(p));
                    }
                    outcomes.push((out, Some(job.due)));
                }
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "timer job refused by the domain")
                }
            }
        }
        jobs::remove_seqs(tx, &ran).await?;
        writes.flush(tx, now).await?;
        Ok((ran.len(), outcomes, left_due))
    }

    /// Reports committed timer outcomes: lateness, logs, broadcast, wake-ups. Every path a
    /// timer fires from ends here (the store's runner, a Redis timer job, a catch-up), so
    /// `zs_timer_lateness_seconds` sees them all.
    pub(crate) fn after_timers(&self, outcomes: &[(Outcome, Option<Timestamp>)]) {
        // The engine's clock, like the due instants: a manual clock measures its own lateness.
        let late = zs_core::clock::to_millis(self.clock.now());
        for (_, d) in outcomes {
            if let Some(d) = d {
                let secs = late.duration_since(*d).as_secs_f64().max(0.0);
                metrics::histogram!("zs_timer_lateness_seconds").record(secs);
            }
        }
        self.after_commit(outcomes);
    }

    /// The facts of the spaces of `parsed` (locked as `locks` says), and the spaces left
    /// out because another transaction holds them.
    async fn load_facts(
        &self,
        c: &mut zs_store::Conn,
        parsed: &[Parsed<'_>],
        earliest: Timestamp,
        locks: Spaces,
    ) -> Result<(HashMap<SpaceId, SpaceFacts>, HashSet<SpaceId>), EngineError> {
        let mut space_ids: Vec<&SpaceId> = parsed
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().map(|(s, _)| s))
            .collect();
        space_ids.sort();
        space_ids.dedup();
        let rows = match locks {
            Spaces::Held => spaces::get_many(c, &space_ids).await?,
            Spaces::SkipBusy => spaces::get_many_unless_busy(c, &space_ids).await?,
        };
        let mut facts: HashMap<SpaceId, SpaceFacts> = rows
            .into_iter()
            .map(|(space, status)| {
                (
                    space.id.clone(),
                    SpaceFacts {
                        space,
                        status,
                        bookings: vec![],
                    },
                )
            })
            .collect();
        let mut busy = HashSet::new();
        let missing: Vec<&SpaceId> = space_ids
            .iter()
            .copied()
            .filter(|s| !facts.contains_key(*s))
            .collect();
        if !missing.is_empty() && locks == Spaces::SkipBusy {
            // Left out: held by another transaction if it exists (its jobs wait), unknown
            // otherwise (its jobs are dropped).
            busy.extend(spaces::existing(c, &missing).await?);
            space_ids.retain(|s| !busy.contains(*s));
        }
        let extra: Vec<&BookingId> = parsed
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok())
            .filter(|(s, _)| !busy.contains(s))
            .filter_map(|(_, c)| c.booking())
            .collect();
        for b in bookings::working_sets(c, &space_ids, earliest, MAX_CLEANING_MS, &extra).await? {
            if let Some(f) = facts.get_mut(&b.space_id) {
                f.bookings.push(b);
            }
        }
        Ok((facts, busy))
    }

    /// Runs timers until `shutdown` turns true: sleeps exactly until the next due job.
    pub async fn timer_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut looked_again = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let ran = match self.run_due_timers().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "timer runner failed; retrying in 1 s");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            };
            let next = match self.next_timer_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "reading the next timer failed");
                    Some(self.clock.now() + jiff::SignedDuration::from_secs(1))
                }
            };
            let clock = self.clock.clone();
            // A job already due that this run did not take is being run by another instance
            // (PostgreSQL, `SKIP LOCKED`): look again shortly — if that instance dies, its
            // transaction is rolled back and the job is ours.
            let lag = self.fallback_lag();
            let next = next.map(|due| due + lag);
            let due_now = next.is_some_and(|due| due <= self.clock.now());
            if due_now && (ran > 0 || !looked_again) {
                // It came due while this run was committing, or just after the run looked:
                // run again at once.
                looked_again = ran == 0;
                continue;
            }
            // Due, yet two runs in a row found nothing to take: another instance holds it.
            let held_elsewhere = due_now;
            looked_again = false;
            let sleep = async move {
                match next {
                    Some(_) if held_elsewhere => {
                        tokio::time::sleep(Duration::from_millis(10)).await
                    }
                    Some(due) => sleep_until_precise(clock.as_ref(), due).await,
                    None => std::future::pending().await,
                }
            };
            let wake = self.timers_wake.notified();
            tokio::select! {
                _ = wake => {}
                _ = shutdown.changed() => {}
                _ = sleep => {}
            }
        }
    }

    async fn next_timer_due(&self) -> Result<Option<Timestamp>, EngineError> {
        let mut c = self.store.read().await?;
        Ok(jobs::next_due(&mut c, Queue::MeetingScheduler).await?)
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
            queue: Queue::MeetingScheduler,
            name: name.into(),
            data,
            due: Timestamp::UNIX_EPOCH,
            attempts_made: 0,
            last_error: None,
            group: None,
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
