//! Applying one command to one space inside a write transaction.

use crate::{Committed, Engine, EngineError};
use jiff::Timestamp;
use zs_core::{BookingId, Command, Outcome, SpaceFacts, SpaceId, decide, decision_instant};
use zs_store::jobs::{self, MEETING_SCHEDULER};
use zs_store::{Conn, bookings, spaces};

/// The longest cleaning a space may have: completed bookings older than this never matter.
pub(crate) const MAX_CLEANING_MS: i64 = 86_400_000;

/// What a committed command did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The facts afterwards.
    pub facts: SpaceFacts,
    /// What changed.
    pub outcome: Outcome,
    /// The instant it was applied at.
    pub at: Timestamp,
}

impl Engine {
    /// Applies a user, admin or booking command to a space now, in its own transaction.
    pub async fn execute(&self, space: &SpaceId, cmd: Command) -> Result<Applied, EngineError> {
        self.catch_up(space).await?;
        let mut tx = self.store.begin().await?;
        let at = self.clock.now();
        let applied = self.apply_in(&mut tx, space, cmd, at).await?;
        tx.commit().await?;
        self.after_commit(&[(applied.outcome.clone(), None)]);
        Ok(applied)
    }

    /// Applies the space's timers that are due but not applied yet — the process has just
    /// started, the queue job is late (a worker died holding it), or Redis lost it — so a
    /// command is decided on the state of its instant: a check-in never overtakes the
    /// `START_TIME_REACHED` due before it, a cancel never skips the `UPCOMING_REACHED`
    /// (and its `booking.start`) due before it.
    pub(crate) async fn catch_up(&self, space: &SpaceId) -> Result<(), EngineError> {
        let now = self.clock.now();
        let overdue = {
            let mut c = self.store.read().await?;
            jobs::group_due(&mut c, MEETING_SCHEDULER, space.as_str(), now, 1).await?
        };
        if !overdue.is_empty() {
            let n = self.run_space_timers(space, now).await?;
            tracing::info!(space = %space, n, "overdue timers applied before a command");
        }
        Ok(())
    }

    /// The space a booking belongs to.
    pub async fn space_of(&self, booking: &BookingId) -> Result<SpaceId, EngineError> {
        let mut c = self.store.read().await?;
        bookings::get(&mut c, booking)
            .await?
            .map(|b| b.space_id)
            .ok_or_else(|| EngineError::NotFound(format!("booking {booking}")))
    }

    pub(crate) async fn apply_in(
        &self,
        c: &mut Conn,
        space_id: &SpaceId,
        cmd: Command,
        at: Timestamp,
    ) -> Result<Applied, EngineError> {
        let (space, status) = spaces::get(c, space_id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("space {space_id}")))?;
        let extra = cmd.booking().cloned();
        let bookings =
            bookings::working_set(c, space_id, at, MAX_CLEANING_MS, extra.as_ref()).await?;
        let user_event = matches!(
            cmd,
            Command::CheckIn(_) | Command::CheckOut(_) | Command::Cancel(_)
        );
        if let Some(id) = extra
            .as_ref()
            .filter(|id| user_event && !bookings.iter().any(|b| &b.id == *id))
        {
            return Err(EngineError::NotFound(format!("booking {id}")));
        }
        let mut facts = SpaceFacts {
            space,
            status,
            bookings,
        };
        // What is written with the outcome (webhook bodies, deliveries) carries the instant
        // the domain decided at, which never goes back behind the space's last change.
        let at = decision_instant(&facts, at);
        let outcome = decide(&mut facts, cmd, at)?;
        self.report_anomalies(space_id, &outcome);
        self.persist(c, &facts, &outcome, at).await?;
        Ok(Applied { facts, outcome, at })
    }

    pub(crate) fn report_anomalies(&self, space: &SpaceId, out: &Outcome) {
        for a in &out.anomalies {
            tracing::error!(space = %space, error = %a, "transition table miss: applied the guards' state");
            metrics::counter!("zs_transition_table_misses_total").increment(1);
        }
    }

    /// Logs, counts, broadcasts and wakes workers for what just committed; timer outcomes
    /// carry their due instant.
    pub(crate) fn after_commit(&self, outcomes: &[(Outcome, Option<Timestamp>)]) {
        let committed_at = Timestamp::now();
        let mut wake_timers = false;
        let mut wake_outbox = false;
        for (out, due) in outcomes {
            wake_timers |= out
                .timers
                .iter()
                .any(|t| matches!(t, zs_core::TimerChange::Schedule(_)));
            wake_outbox |= !out.notices.is_empty() || out.transition.is_some();
            if let Some(t) = &out.transition {
                tracing::info!(
                    space = %t.space_id, event = %t.event, booking = t.booking_id.as_ref().map_or("-", |b| b.as_str()),
                    from = %format!("{}/{}", t.from_space, t.from_room),
                    to = %format!("{}/{}", t.to.space, t.to.room), sequence = t.to.sequence, "transition"
                );
                metrics::counter!("zs_transitions_total", "event" => t.event.as_str()).increment(1);
                self.publish(Committed {
                    transition: t.clone(),
                    committed_at,
                    due: *due,
                });
            }
        }
        if wake_timers {
            self.wake_timers();
        }
        if wake_outbox {
            self.wake_outbox();
        }
    }
}
