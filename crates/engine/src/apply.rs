//! Applying a user, admin or booking command to one space: the public entry to the space
//! transaction ([`crate::space_tx`]).

use crate::space_tx::SpaceTx;
use crate::{Engine, EngineError};
use jiff::Timestamp;
use zs_core::{BookingId, Command, Outcome, SpaceFacts, SpaceId};
use zs_store::bookings;

/// What a committed command did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The facts afterwards.
    pub facts: SpaceFacts,
    /// What changed.
    pub outcome: Outcome,
    /// The instant it was applied at.
    pub at: Timestamp,
    /// What it set off in the same transaction: the cancels and notice of a series its
    /// no-show released ([`crate::strikes`]), in order.
    pub released: Vec<Outcome>,
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
        let mut t = SpaceTx::open(self, space).await?;
        let r = t.apply(cmd).await;
        t.finish(r).await
    }

    /// The space a booking belongs to.
    pub async fn space_of(&self, booking: &BookingId) -> Result<SpaceId, EngineError> {
        let mut c = self.store.read().await?;
        bookings::get(&mut c, booking)
            .await?
            .map(|b| b.space_id)
            .ok_or_else(|| EngineError::NotFound(format!("booking {booking}")))
    }
}
