//! The space transaction: every command on one space (a user, admin or booking command, a
//! space update or delete, a walk-up) takes this path, in this order:
//!
//! 1. **open** ([`SpaceTx::open`]): begin a write transaction, read the clock once (the
//!    command's instant), read and lock the space (one statement);
//! 2. **catch up**: apply the space's timers due by that instant, in due order, in the same
//!    transaction and under the same lock ([`crate::catch_up`]), so the command is decided on
//!    the state of its instant whatever became of the timers' queue jobs;
//! 3. **decide** ([`SpaceTx::apply`], or the caller's own body): the domain decides the
//!    command on the space's facts ([`zs_core::decide`]);
//! 4. **persist**: the outcome's writes, in the transaction ([`crate::persist`]);
//! 5. **commit or refuse** ([`SpaceTx::finish`]): on success commit, then report what the
//!    catch-up and the command did (logs, metrics, broadcast, wake-ups: [`crate::report`]).
//!    A refusal that came before any write of the command's own (the rules, an unknown
//!    booking, a duplicate id) keeps what the catch-up applied: committed and reported.
//!    Any other failure rolls everything back, and the timers run later from their jobs.
//!
//! Every caller has the same shape:
//!
//! ```text
//! let mut t = SpaceTx::open(engine, space).await?;
//! let r = t.apply(cmd).await;     // or any body using t.conn(), t.at(), t.space()
//! t.finish(r).await
//! ```

use crate::catch_up::Outcomes;
use crate::{Applied, Engine, EngineError};
use jiff::Timestamp;
use zs_core::{
    Command, Outcome, Scope, Space, SpaceFacts, SpaceId, SpaceStatus, decide, decision_instant,
};
use zs_store::{Conn, bookings, spaces};

/// One command's open transaction on one space, caught up to the command's instant.
pub(crate) struct SpaceTx<'e> {
    engine: &'e Engine,
    /// The space.
    space_id: SpaceId,
    /// The transaction.
    tx: zs_store::Tx,
    /// The command's instant: the clock, read once.
    at: Timestamp,
    /// What the catch-up applied, to report after commit.
    caught_up: Outcomes,
    /// The space as read under its lock, while nothing has changed it since (taken by the
    /// command's first read instead of reading it again).
    space: Option<(Space, SpaceStatus)>,
}

/// What a space transaction's body reports once it commits: the outcomes it applied, in
/// order.
pub(crate) trait Reported {
    /// The outcomes to report after commit.
    fn outcomes(&self) -> Vec<&Outcome>;
}

impl Reported for () {
    fn outcomes(&self) -> Vec<&Outcome> {
        vec![]
    }
}

impl Reported for Applied {
    fn outcomes(&self) -> Vec<&Outcome> {
        std::iter::once(&self.outcome)
            .chain(&self.released)
            .collect()
    }
}

/// Whether a command refused with `e` was refused before any write of its own (so what its
/// catch-up applied may be kept).
fn refused_before_writes(e: &EngineError) -> bool {
    match e {
        EngineError::Domain(_)
        | EngineError::NotFound(_)
        | EngineError::Invalid(_)
        | EngineError::InvalidRule(_)
        | EngineError::Occurrence { .. }
        | EngineError::Exists(_)
        | EngineError::LiveBookings(..) => true,
        EngineError::Store(_) => false,
    }
}

impl<'e> SpaceTx<'e> {
    /// Opens a command's transaction on `space`: reads the clock once, reads and locks the
    /// space (one statement) and applies its timers due by then
    /// ([`Engine::catch_up_held`]).
    pub(crate) async fn open(engine: &'e Engine, space: &SpaceId) -> Result<Self, EngineError> {
        let mut tx = engine.store.begin().await?;
        let at = engine.clock.now();
        let row = spaces::get(&mut tx, space)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("space {space}")))?;
        let (ran, caught_up) = engine.catch_up_held(&mut tx, space, at, at).await?;
        Ok(SpaceTx {
            engine,
            space_id: space.clone(),
            tx,
            at,
            caught_up,
            space: (ran == 0).then_some(row),
        })
    }

    /// The command's instant.
    pub(crate) fn at(&self) -> Timestamp {
        self.at
    }

    /// The transaction, for the body's own reads and writes.
    pub(crate) fn conn(&mut self) -> &mut Conn {
        &mut self.tx
    }

    /// The space as it stands in the transaction: as read under its lock if nothing has
    /// changed it since, read again otherwise.
    pub(crate) async fn space(&mut self) -> Result<(Space, SpaceStatus), EngineError> {
        match self.space.take() {
            Some(row) => Ok(row),
            None => spaces::get(&mut self.tx, &self.space_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("space {}", self.space_id))),
        }
    }

    /// Records the space as the body has just written it, so the next [`SpaceTx::space`]
    /// takes it instead of reading it again.
    pub(crate) fn hold(&mut self, row: (Space, SpaceStatus)) {
        self.space = Some(row);
    }

    /// Decides `cmd` on the space's facts at the command's instant, writes the outcome and
    /// counts its no-show strikes ([`crate::strikes`]).
    pub(crate) async fn apply(&mut self, cmd: Command) -> Result<Applied, EngineError> {
        let row = self.space().await?;
        let mut applied = self
            .engine
            .apply_held(&mut self.tx, row, cmd, self.at)
            .await?;
        let released = self
            .engine
            .count_strikes(
                &mut self.tx,
                &self.space_id,
                &[&applied.outcome],
                applied.at,
            )
            .await?;
        if let Some(facts) = released.facts {
            applied.facts = facts;
        }
        applied.released = released.outcomes;
        Ok(applied)
    }

    /// Ends the transaction with the body's result `r`: commits and reports on success; on
    /// a refusal before any write of the command's own, commits and reports what the
    /// catch-up applied (if anything); otherwise rolls back. Returns `r`, or the commit's
    /// failure.
    pub(crate) async fn finish<T: Reported>(
        self,
        r: Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        match r {
            Ok(v) => {
                self.commit(v.outcomes()).await?;
                Ok(v)
            }
            Err(e) => {
                if refused_before_writes(&e) && !self.caught_up.is_empty() {
                    self.commit(vec![]).await?;
                } else if let Err(r) = self.tx.rollback().await {
                    // The refusal stands; the connection is discarded with its failure.
                    tracing::warn!(error = %r, "rolling back a refused command failed");
                }
                Err(e)
            }
        }
    }

    /// Commits, then reports what the catch-up applied and then `outcomes`.
    async fn commit(self, outcomes: Vec<&Outcome>) -> Result<(), EngineError> {
        self.tx.commit().await?;
        self.engine.after_timers(&self.caught_up);
        self.engine
            .after_commit(outcomes.into_iter().map(|o| (o, None)));
        Ok(())
    }
}

impl Engine {
    /// Decides `cmd` on space `row` (its lock held by `c`'s transaction) at `at` — at the
    /// space's last change if that is later ([`decision_instant`]) — and writes the outcome.
    pub(crate) async fn apply_held(
        &self,
        c: &mut Conn,
        row: (Space, SpaceStatus),
        cmd: Command,
        at: Timestamp,
    ) -> Result<Applied, EngineError> {
        let (space, status) = row;
        let space_id = space.id.clone();
        let extra = cmd.booking().cloned();
        let mut facts = SpaceFacts {
            space,
            status,
            bookings: vec![],
        };
        // What is written with the outcome (webhook bodies, deliveries) carries the instant
        // the domain decided at, which never goes back behind the space's last change.
        let at = decision_instant(&facts, at);
        // Only the bookings the decision reads (zs_core::scope), not every one ahead.
        let scope = Scope::of(&cmd, &facts.space, at);
        let bookings = bookings::scoped(c, &space_id, &scope).await?;
        let named_booking = matches!(
            cmd,
            Command::CheckIn(_)
                | Command::CheckOut(_)
                | Command::Cancel(_)
                | Command::Release(_)
                | Command::Extend { .. }
        );
        if let Some(id) = extra
            .as_ref()
            .filter(|id| named_booking && !bookings.iter().any(|b| &b.id == *id))
        {
            return Err(EngineError::NotFound(format!("booking {id}")));
        }
        facts.bookings = bookings;
        let outcome = decide(&mut facts, cmd, at)?;
        self.report_anomalies(&space_id, &outcome);
        self.persist(c, &facts, &outcome, at).await?;
        Ok(Applied {
            facts,
            outcome,
            at,
            released: vec![],
        })
    }
}
