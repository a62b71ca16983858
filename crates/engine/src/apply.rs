//! Applying one command to one space inside a write transaction.

use crate::{Committed, Engine, EngineError};
use jiff::Timestamp;
use zs_core::{
    BookingId, Command, Outcome, Space, SpaceFacts, SpaceId, SpaceStatus, decide, decision_instant,
};
use zs_store::{Conn, bookings, spaces};

/// The longest cleaning a space may have: completed bookings older than this never matter.
pub(crate) const MAX_CLEANING_MS: i64 = 86_400_000;

/// A command's open transaction ([`Engine::begin_command`]).
pub(crate) struct CommandTx {
    /// The transaction.
    pub(crate) tx: zs_store::Tx,
    /// The command's instant: the clock, read once.
    pub(crate) at: Timestamp,
    /// What the catch-up applied, to report after commit.
    caught_up: crate::timers::Outcomes,
    /// The space as read under its lock, while nothing has changed it since (taken by the
    /// command's first read instead of reading it again).
    pub(crate) space: Option<(Space, SpaceStatus)>,
}

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
    ///
    /// The space's timers due by now are applied first, in the same transaction and under
    /// the same lock (see [`Engine::catch_up_in`]), so a command is decided on the state of
    /// its instant whatever became of their queue jobs — late (a worker died holding one),
    /// lost with Redis, or still running elsewhere: a check-in never overtakes the
    /// `START_TIME_REACHED` due before it, a new booking never finds a room still cleaning
    /// whose cleaning is over.
    pub async fn execute(&self, space: &SpaceId, cmd: Command) -> Result<Applied, EngineError> {
        let mut c = self.begin_command(space).await?;
        let row = c.space.take();
        match self.apply_in(&mut c.tx, space, cmd, c.at, row).await {
            Ok(applied) => {
                self.commit_command(c, Some(&applied.outcome)).await?;
                Ok(applied)
            }
            Err(e) => {
                self.refuse_command(c, &e).await?;
                Err(e)
            }
        }
    }

    /// Opens a command's transaction on `space`: reads the clock once, reads and locks the
    /// space (one statement) and applies its timers due by then ([`Engine::catch_up_in`]).
    pub(crate) async fn begin_command(&self, space: &SpaceId) -> Result<CommandTx, EngineError> {
        let mut tx = self.store.begin().await?;
        let at = self.clock.now();
        let row = spaces::get(&mut tx, space)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("space {space}")))?;
        let (ran, caught_up) = self.catch_up_held(&mut tx, space, at, at).await?;
        Ok(CommandTx {
            tx,
            at,
            caught_up,
            space: (ran == 0).then_some(row),
        })
    }

    /// Commits a command's transaction, then reports what its catch-up applied and the
    /// command's own outcome, if it has one.
    pub(crate) async fn commit_command(
        &self,
        c: CommandTx,
        outcome: Option<&Outcome>,
    ) -> Result<(), EngineError> {
        self.commit_outcomes(c, outcome.map(std::slice::from_ref).unwrap_or_default())
            .await
    }

    /// [`Engine::commit_command`] for a command that applied several events, in order.
    pub(crate) async fn commit_outcomes(
        &self,
        c: CommandTx,
        outcomes: &[Outcome],
    ) -> Result<(), EngineError> {
        c.tx.commit().await?;
        self.after_timers(&c.caught_up);
        if !outcomes.is_empty() {
            let list: Vec<_> = outcomes.iter().map(|o| (o.clone(), None)).collect();
            self.after_commit(&list);
        }
        Ok(())
    }

    /// Ends the transaction of a refused command: what its catch-up applied is kept when the
    /// refusal came before any write of its own (the rules, an unknown booking); otherwise
    /// everything is rolled back and the timers run from their jobs.
    pub(crate) async fn refuse_command(
        &self,
        c: CommandTx,
        e: &EngineError,
    ) -> Result<(), EngineError> {
        let before_writes = matches!(
            e,
            EngineError::Domain(_)
                | EngineError::NotFound(_)
                | EngineError::Invalid(_)
                | EngineError::Exists(_)
                | EngineError::LiveBookings(..)
        );
        if before_writes && !c.caught_up.is_empty() {
            self.commit_command(c, None).await?;
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

    /// Applies `cmd` inside `c`; `row` is the space as read under its lock, if the caller
    /// holds it unchanged (read here otherwise).
    pub(crate) async fn apply_in(
        &self,
        c: &mut Conn,
        space_id: &SpaceId,
        cmd: Command,
        at: Timestamp,
        row: Option<(Space, SpaceStatus)>,
    ) -> Result<Applied, EngineError> {
        let (space, status) = match row {
            Some(row) => row,
            None => spaces::get(c, space_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("space {space_id}")))?,
        };
        let extra = cmd.booking().cloned();
        let bookings =
            bookings::working_set(c, space_id, at, MAX_CLEANING_MS, extra.as_ref()).await?;
        let user_event = matches!(
            cmd,
            Command::CheckIn(_)
                | Command::CheckOut(_)
                | Command::Cancel(_)
                | Command::Extend { .. }
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
