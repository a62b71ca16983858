//! Catching a space up: applying the timers due by an instant, in due order, inside the
//! caller's transaction and under the space's lock (or, for the batch runner, skipping
//! spaces another transaction holds). Used by every space transaction before it decides
//! ([`crate::space_tx`]) and by the timer runner ([`crate::timers`]).

use crate::persist::Writes;
use crate::{Engine, EngineError, MAX_CLEANING_MS, timer_codec};
use jiff::Timestamp;
use std::collections::{HashMap, HashSet};
use zs_core::scope::NEXT_SCHEDULED;
use zs_core::{BookingId, Command, Outcome, SpaceFacts, SpaceId, decide};
use zs_store::Queue;
use zs_store::jobs::{self, Job};
use zs_store::{bookings, spaces};

/// How many due jobs one transaction applies at most.
pub(crate) const BATCH: i64 = 512;
/// Rounds a space's catch-up may take (a round per business-hours boundary missed: about
/// ten years without a runner) before it is refused as a plan that never settles.
const MAX_CATCH_UP_ROUNDS: usize = 8_000;

/// A due job with its parsed target, or why it cannot run.
type Parsed<'a> = (&'a Job, Result<(SpaceId, Command), String>);

/// What timers applied, with their due instants, to report after commit.
pub(crate) type Outcomes = Vec<(Outcome, Option<Timestamp>)>;

/// How a timer transaction holds the spaces of the jobs it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spaces {
    /// Locked already by the caller (or waited for).
    Held,
    /// Taken unless another transaction holds them (the batch runner).
    SkipBusy,
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

impl Engine {
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
    pub(crate) async fn apply_due_in(
        &self,
        tx: &mut zs_store::Conn,
        due: Vec<Job>,
        now: Timestamp,
        locks: Spaces,
    ) -> Result<(usize, Outcomes, bool), EngineError> {
        let parsed: Vec<Parsed<'_>> = due.iter().map(|j| (j, timer_codec::parse_job(j))).collect();
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
        // Outcomes (by index) with series no-shows to count once the batch is written.
        let mut struck: Vec<(SpaceId, usize, Timestamp)> = vec![];
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
                        planned.insert(space.clone(), Some(p));
                    }
                    if zs_core::series::strikes::recorded(&out).next().is_some() {
                        // A release reads the space as this batch leaves it: the space's
                        // share of the round ends here (the next round takes the rest).
                        planned.insert(space.clone(), None);
                        struck.push((space, outcomes.len(), at));
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
        for (space, i, at) in struck {
            let out = [&outcomes[i].0];
            let released = self.count_strikes(tx, &space, &out, at).await?;
            outcomes.extend(released.outcomes.into_iter().map(|o| (o, None)));
        }
        Ok((ran.len(), outcomes, left_due))
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
        // The most timers one space has here: each may move one booking out of `scheduled`.
        let mut per_space: HashMap<&SpaceId, usize> = HashMap::new();
        for (space, _) in parsed.iter().filter_map(|(_, p)| p.as_ref().ok()) {
            *per_space.entry(space).or_default() += 1;
        }
        let next = per_space.values().copied().max().unwrap_or(0) + NEXT_SCHEDULED;
        let sets = bookings::timer_sets(c, &space_ids, earliest, MAX_CLEANING_MS, &extra, next);
        for b in sets.await? {
            if let Some(f) = facts.get_mut(&b.space_id) {
                f.bookings.push(b);
            }
        }
        Ok((facts, busy))
    }
}
