//! No-show strikes (CONTRACT §9) in the space transaction. Once an outcome is written, each
//! no-show of a series occurrence counts against its series and each check-in of one sets
//! the count back to zero ([`zs_core::series::strikes`]). A series whose count reaches its
//! space's `noShowStrikes` is released there and then — same transaction, same instant as
//! the no-show: each of its pending occurrences is cancelled as its own `BOOKING_CANCELLED`
//! with reason `no_show_strikes` (its own transition, history entry and webhooks), nothing
//! more is booked for it, and `series.released` is sent.
//!
//! Called by every path an outcome comes from: a command ([`crate::space_tx`]) and a timer
//! ([`crate::catch_up`], which ends the space's share of a batch at a series no-show so the
//! release reads what the batch wrote).

use crate::{Applied, Engine, EngineError};
use jiff::Timestamp;
use zs_core::series::Strike;
use zs_core::series::strikes::{counted, recorded};
use zs_core::{Command, Notice, Outcome, SpaceFacts, SpaceId};
use zs_store::{Conn, series, spaces};

/// What counting strikes set off: the releases' outcomes, in order.
#[derive(Debug, Default)]
pub(crate) struct Released {
    /// Each cancelled occurrence's outcome, then the `series.released` notice, per series.
    pub(crate) outcomes: Vec<Outcome>,
    /// The space's facts after the last cancel, if any was made.
    pub(crate) facts: Option<SpaceFacts>,
}

impl Engine {
    /// Counts the strikes `outcomes` record (decided on `space`, whose lock `c` holds, at
    /// `at`) against their series, and releases each series whose count reaches the space's
    /// `noShowStrikes` (see the module).
    pub(crate) async fn count_strikes(
        &self,
        c: &mut Conn,
        space: &SpaceId,
        outcomes: &[&Outcome],
        at: Timestamp,
    ) -> Result<Released, EngineError> {
        let mut released = Released::default();
        for out in outcomes {
            for (id, strike) in recorded(out) {
                let Some((s, _)) = series::get_owned(c, id).await? else {
                    continue; // an occurrence whose series is gone: nothing to count
                };
                if s.released_at.is_some() {
                    continue;
                }
                let n = counted(s.no_shows, strike);
                if n != s.no_shows {
                    series::set_no_shows(c, id, n).await?;
                }
                let limit = self.space_row(c, space).await?.0.settings.no_show_strikes;
                if strike == Strike::NoShow && limit.releases(n) {
                    self.release(c, space, &s, n, at, &mut released).await?;
                }
            }
        }
        Ok(released)
    }

    /// Releases series `s` after `no_shows` consecutive no-shows, at `at`.
    async fn release(
        &self,
        c: &mut Conn,
        space: &SpaceId,
        s: &series::Series,
        no_shows: u32,
        at: Timestamp,
        released: &mut Released,
    ) -> Result<(), EngineError> {
        let mut cancelled = vec![];
        for b in series::occurrences(c, &s.id, Timestamp::MIN).await? {
            if !b.status.is_pending() {
                continue;
            }
            let row = self.space_row(c, space).await?;
            let Applied { facts, outcome, .. } = self
                .apply_held(c, row, Command::Release(b.id.clone()), at)
                .await?;
            cancelled.push(b.id);
            released.outcomes.push(outcome);
            released.facts = Some(facts);
        }
        series::release(c, &s.id, at).await?;
        tracing::info!(space = %space, series = %s.id, no_shows, cancelled = cancelled.len(),
            "series released after its no-show strikes");
        let facts = match &released.facts {
            Some(f) => f.clone(),
            None => {
                let (space, status) = self.space_row(c, space).await?;
                SpaceFacts {
                    space,
                    status,
                    bookings: vec![],
                }
            }
        };
        let out = Outcome {
            notices: vec![Notice::SeriesReleased {
                series: s.id.clone(),
                no_shows,
                cancelled,
            }],
            ..Outcome::default()
        };
        self.persist(c, &facts, &out, at).await?;
        released.outcomes.push(out);
        Ok(())
    }

    /// The space as it stands in `c` (whose transaction holds its lock).
    async fn space_row(
        &self,
        c: &mut Conn,
        space: &SpaceId,
    ) -> Result<(zs_core::Space, zs_core::SpaceStatus), EngineError> {
        spaces::get(c, space)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("space {space}")))
    }
}
