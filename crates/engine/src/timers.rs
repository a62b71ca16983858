//! The timer runner: sleeps until the next due job (no polling), is woken when an earlier
//! one is added, never fires early, and applies due jobs in order, in batches. Applying
//! them is the catch-up's work ([`crate::catch_up`]); this module only decides when.

use crate::catch_up::{BATCH, Spaces};
use crate::{Engine, EngineError};
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use zs_core::SpaceId;
use zs_store::Queue;
use zs_store::jobs;

/// The earliest due timer job, as the runner read it (`None`: no job).
type Next = Option<Timestamp>;

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
        Ok(self.run_due_timers_and_look().await?.0)
    }

    /// [`Engine::run_due_timers`], and the earliest due job it saw when it stopped for
    /// finding none due, if it stopped so (the runner sleeps until it without reading
    /// again).
    async fn run_due_timers_and_look(&self) -> Result<(usize, Option<Next>), EngineError> {
        let mut total = 0;
        loop {
            let (n, left_due, next) = self.run_batch().await?;
            total += n;
            if n < BATCH as usize && !left_due {
                return Ok((total, next));
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
    /// Returns how many jobs ran, whether it left due jobs for another round (see
    /// [`Engine::apply_due_in`]), and the earliest due job when none was due.
    async fn run_batch(&self) -> Result<(usize, bool, Option<Next>), EngineError> {
        // Nothing due, nothing to take: one read instead of a turn of the writer (every
        // booking create wakes this runner).
        let due_by = self.clock.now() - self.fallback_lag();
        let next = self.next_timer_due().await?;
        if next.is_none_or(|d| d > due_by) {
            return Ok((0, false, Some(next)));
        }
        let mut tx = self.store.begin().await?;
        let now = self.clock.now();
        let up_to = now - self.fallback_lag();
        let due = jobs::due(&mut tx, Queue::MeetingScheduler, up_to, up_to, BATCH).await?;
        if due.is_empty() {
            tx.commit().await?;
            return Ok((0, false, None));
        }
        let (ran, outcomes, left_due) = self
            .apply_due_in(&mut tx, due, now, Spaces::SkipBusy)
            .await?;
        tx.commit().await?;
        self.after_timers(&outcomes);
        Ok((ran, left_due, None))
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

    /// Runs timers until `shutdown` turns true: sleeps exactly until the next due job.
    /// While it sleeps, a commit wakes it only for a timer earlier than that job
    /// ([`Engine::wake_timers_for`]).
    pub async fn timer_loop(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut looked_again = false;
        loop {
            if *shutdown.borrow() {
                return;
            }
            // Awake: whatever a commit plans from here on may be missing from what this
            // round reads, so every planned timer wakes it again.
            self.timers_asleep_until(None);
            let (ran, seen) = match self.run_due_timers_and_look().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "timer runner failed; retrying in 1 s");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            };
            // What the last round saw when it found nothing due; read again after work.
            let next = match seen {
                Some(next) => Ok(next),
                None => self.next_timer_due().await,
            };
            let next = match next {
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
            let next_due = next;
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
            self.timers_asleep_until(next_due);
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
    use crate::Engine;
    use crate::testing::TestEngine;
    use jiff::{SignedDuration, Timestamp};
    use std::sync::Arc;
    use std::time::Duration;
    use zs_core::calendar::Zone;
    use zs_core::{BookingId, NewBooking, Space, SpaceId, SpaceSettings, SystemClock};
    use zs_store::Backend;

    /// Whether the timer runner's wake-up holds a permit (taking it).
    async fn woken(e: &Engine) -> bool {
        let wake = e.timers_wake.notified();
        tokio::time::timeout(Duration::from_millis(1), wake)
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_planned_timer_wakes_the_runner_only_when_earlier_than_its_next_job() {
        let (e, _) = TestEngine::on(Backend::Sqlite).build().await;
        let t = Timestamp::from_second(1_800_000_000).unwrap();
        let ms = SignedDuration::from_millis(1);
        // Asleep until t: a timer at or after t is found when it wakes for t.
        e.timers_asleep_until(Some(t));
        e.wake_timers_for(t);
        e.wake_timers_for(t + ms);
        assert!(!woken(&e).await);
        e.wake_timers_for(t - ms);
        assert!(woken(&e).await);
        // Awake (reading the store, which may not hold this commit yet), or asleep with no
        // job at all: any timer wakes it.
        e.timers_asleep_until(None);
        e.wake_timers_for(t + SignedDuration::from_hours(10_000));
        assert!(woken(&e).await);
    }

    #[tokio::test]
    async fn a_runner_asleep_for_a_later_job_runs_an_earlier_one_planned_meanwhile() {
        let e = TestEngine::on(Backend::Sqlite)
            .build_with_clock(Arc::new(SystemClock))
            .await;
        let space = SpaceId::parse("s").unwrap();
        let settings = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
        e.create_space(Space {
            id: space.clone(),
            name: "s".into(),
            settings,
            maintenance: false,
        })
        .await
        .unwrap();
        let book = |id: &str, start: Timestamp| NewBooking {
            id: BookingId::parse(id).unwrap(),
            title: String::new(),
            start,
            end: start + SignedDuration::from_mins(30),
        };
        let now = Timestamp::now();
        let far = book("far", now + SignedDuration::from_hours(2));
        e.create_booking(&space, far, None).await.unwrap();
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let runner = tokio::spawn(e.clone().timer_loop(stop_rx));
        // Wait until the runner sleeps for the far booking's first timer.
        let asleep = || {
            e.timers_asleep_until_ms
                .load(std::sync::atomic::Ordering::SeqCst)
        };
        for _ in 0..500 {
            if asleep() != i64::MAX {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(asleep() > (now + SignedDuration::from_mins(90)).as_millisecond());
        let soon = Timestamp::now() + SignedDuration::from_millis(300);
        let start = Timestamp::from_millisecond(soon.as_millisecond()).unwrap();
        e.create_booking(&space, book("near", start), None)
            .await
            .unwrap();
        // The near booking starts long before the far one's timer: it must not wait for it.
        let mut started = None;
        for _ in 0..1000 {
            let mut c = e.store.read().await.unwrap();
            let h = zs_store::spaces::history(&mut c, &space, 10).await.unwrap();
            drop(c);
            started = h.into_iter().find(|t| {
                t.event == zs_core::EventKind::StartTimeReached
                    && t.booking_id.as_ref().is_some_and(|b| b.as_str() == "near")
            });
            if started.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let started = started.expect("the near booking started while the runner slept");
        assert!(started.to.since >= start, "never early");
        stop.send(true).unwrap();
        runner.abort();
    }
}
