//! Walk-up ("book now", CONTRACT §10): a booking from now, checked in at once, in one
//! transaction — the domain decides its three events ([`zs_core::book_now`]) and they are
//! written, posted and sent in order, each naming its own event and the new booking.

use crate::persist::Writes;
use crate::space_tx::{Reported, SpaceTx};
use crate::{Engine, EngineError};
use zs_core::{Booking, Outcome, Scope, SpaceFacts, SpaceId, WalkUp, decision_instant};
use zs_store::bookings;

/// A walk-up as its transaction decided it: the booking and its events' outcomes, in order.
struct WalkedUp {
    booking: Booking,
    outcomes: Vec<Outcome>,
}

impl Reported for WalkedUp {
    fn outcomes(&self) -> Vec<&Outcome> {
        self.outcomes.iter().collect()
    }
}

impl Engine {
    /// Books `space` from now for the walk-up's duration and checks the booking in;
    /// `owner` (the calling token's id) is recorded on it in the same transaction. Returns
    /// the booking. Refused like a booking made by hand (nothing changes), and with
    /// `space_in_maintenance` during maintenance.
    pub async fn book_now(
        &self,
        space: &SpaceId,
        walk_up: WalkUp,
        owner: Option<&str>,
    ) -> Result<Booking, EngineError> {
        let mut t = SpaceTx::open(self, space).await?;
        let r = async {
            let w = self.book_now_in(&mut t, space, &walk_up).await?;
            if let Some(owner) = owner {
                bookings::set_owner(t.conn(), &walk_up.id, owner).await?;
            }
            Ok(w)
        }
        .await;
        Ok(t.finish(r).await?.booking)
    }

    async fn book_now_in(
        &self,
        t: &mut SpaceTx<'_>,
        space_id: &SpaceId,
        walk_up: &WalkUp,
    ) -> Result<WalkedUp, EngineError> {
        let (space, status) = t.space().await?;
        let at = t.at();
        let c = t.conn();
        if bookings::get(c, &walk_up.id).await?.is_some() {
            return Err(EngineError::Exists(format!("booking {}", walk_up.id)));
        }
        let mut facts = SpaceFacts {
            space,
            status,
            bookings: vec![],
        };
        let at = decision_instant(&facts, at);
        let scope = Scope::of_walk_up(walk_up, &facts.space, at);
        facts.bookings = bookings::scoped(c, space_id, &scope).await?;
        let outcomes = zs_core::book_now(&mut facts, walk_up, at)?;
        let endpoints = self.endpoints(c).await?;
        let mut w = Writes::default();
        for out in &outcomes {
            self.report_anomalies(space_id, out);
            // Each event's webhooks show the status it led to, not the last one.
            let mut step = facts.clone();
            if let Some(t) = &out.transition {
                step.status = t.to.clone();
            }
            let occurred = out.transition.as_ref().map_or(at, |t| t.to.since);
            w.add(self, &endpoints, &step, out, occurred);
        }
        w.flush(c, at).await?;
        let booking = facts
            .bookings
            .iter()
            .find(|b| b.id == walk_up.id)
            .cloned()
            .expect("just booked");
        Ok(WalkedUp { booking, outcomes })
    }
}
