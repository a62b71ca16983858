//! Walk-up ("book now", CONTRACT §10): a booking from now, checked in at once, in one
//! transaction — the domain decides its three events ([`zs_core::book_now`]) and they are
//! written, posted and sent in order, each naming its own event and the new booking.

use crate::persist::Writes;
use crate::{Engine, EngineError};
use jiff::Timestamp;
use zs_core::{
    Booking, Outcome, Space, SpaceFacts, SpaceId, SpaceStatus, WalkUp, decision_instant,
};
use zs_store::{Conn, bookings, spaces};

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
        let mut c = self.begin_command(space).await?;
        let row = c.space.take();
        match self
            .book_now_in(&mut c.tx, space, &walk_up, c.at, row)
            .await
        {
            Ok((booking, outcomes)) => {
                if let Some(owner) = owner {
                    bookings::set_owner(&mut c.tx, &walk_up.id, owner).await?;
                }
                self.commit_outcomes(c, &outcomes).await?;
                Ok(booking)
            }
            Err(e) => {
                self.refuse_command(c, &e).await?;
                Err(e)
            }
        }
    }

    async fn book_now_in(
        &self,
        c: &mut Conn,
        space_id: &SpaceId,
        walk_up: &WalkUp,
        at: Timestamp,
        row: Option<(Space, SpaceStatus)>,
    ) -> Result<(Booking, Vec<Outcome>), EngineError> {
        let (space, status) = match row {
            Some(row) => row,
            None => spaces::get(c, space_id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("space {space_id}")))?,
        };
        if bookings::get(c, &walk_up.id).await?.is_some() {
            return Err(EngineError::Exists(format!("booking {}", walk_up.id)));
        }
        let bookings =
            bookings::working_set(c, space_id, at, crate::apply::MAX_CLEANING_MS, None).await?;
        let mut facts = SpaceFacts {
            space,
            status,
            bookings,
        };
        let at = decision_instant(&facts, at);
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
        Ok((booking, outcomes))
    }
}
