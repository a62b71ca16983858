//! The space machine: `available_now`, `available_at`, `reserved`, `in-maintenance`,
//! `not_available` (CONTRACT §1, §3).

use super::guards::SpaceGuards;
use super::{Target, TransitionError, settle};
use crate::event::EventKind as E;
use crate::state::SpaceState::{
    self, AvailableAt as At, AvailableNow as Now, InMaintenance as Maint, NotAvailable as Closed,
    Reserved,
};

const FREE: &[SpaceState] = &[At, Now];
const OPENED: &[SpaceState] = &[Reserved, At, Now];
const STARTED: &[SpaceState] = &[Reserved, At, Now];
const ENABLED: &[SpaceState] = &[Closed, Reserved, At, Now];
/// A check-out of a session checked in early (before its start) while another booking's
/// session reserves the space leaves it reserved.
const CHECKED_OUT_WHILE_RESERVED: &[SpaceState] = &[Reserved, At, Now];
/// A cancel while a booking is in progress: of that booking (free again), or of a later
/// one (still reserved).
const CANCELLED_WHILE_RESERVED: &[SpaceState] = &[Reserved, At, Now];

/// The space table: what `event` does in `state`. No wildcard arm: every pair is written out.
pub fn table(state: SpaceState, event: E) -> Target<SpaceState> {
    use Target::{Choose, Refuse, Stay, To};
    match (state, event) {
        // maintenance overrides everything until an admin re-enables the space.
        (Maint, E::AdminDisable) => Refuse,
        (Maint, E::AdminEnable) => Choose(ENABLED),
        (Maint, E::UserChecksIn) => Refuse,
        (Maint, E::BookingCreated | E::UpcomingReached | E::StartTimeReached) => Stay,
        (Maint, E::NoShowTimeout | E::UserChecksOut | E::EndTimeReached) => Stay,
        (Maint, E::CleaningEnded | E::BookingCancelled | E::DayStart | E::DayEnd) => Stay,
        // a later end moves no state: the start, hence reserved and nextBookingAt, stay.
        (Maint | Closed | Now | At | Reserved, E::BookingExtended) => Stay,
        // every other state enters maintenance on ADMIN_DISABLE and refuses ADMIN_ENABLE.
        (Now | At | Reserved | Closed, E::AdminDisable) => To(Maint),
        (Now | At | Reserved | Closed, E::AdminEnable) => Refuse,
        // outside business hours nothing but opening moves the space.
        (Closed, E::DayStart) => Choose(OPENED),
        (Closed, E::DayEnd) => Stay,
        (Closed, E::BookingCreated | E::UpcomingReached | E::StartTimeReached) => Stay,
        (Closed, E::UserChecksIn | E::NoShowTimeout | E::UserChecksOut) => Stay,
        (Closed, E::EndTimeReached | E::CleaningEnded | E::BookingCancelled) => Stay,
        // open and free, nothing later today.
        (Now, E::BookingCreated) => Choose(FREE),
        (Now, E::UpcomingReached) => Stay,
        (Now, E::StartTimeReached) => Choose(STARTED),
        (Now, E::UserChecksIn) => Stay,
        (Now, E::NoShowTimeout) => Stay,
        (Now, E::UserChecksOut) => Refuse,
        (Now, E::EndTimeReached) => Stay,
        (Now, E::CleaningEnded) => Stay,
        (Now, E::BookingCancelled) => Stay,
        (Now, E::DayStart) => Stay,
        (Now, E::DayEnd) => To(Closed),
        // open and free, with a booking later in this interval.
        (At, E::BookingCreated) => Stay,
        (At, E::UpcomingReached) => Stay,
        (At, E::StartTimeReached) => Choose(STARTED),
        (At, E::UserChecksIn) => Stay,
        (At, E::NoShowTimeout) => Choose(FREE),
        (At, E::UserChecksOut) => Choose(FREE),
        (At, E::EndTimeReached) => Choose(FREE),
        (At, E::CleaningEnded) => Stay,
        (At, E::BookingCancelled) => Choose(FREE),
        (At, E::DayStart) => Stay,
        (At, E::DayEnd) => To(Closed),
        // a booking's start has been reached.
        (Reserved, E::BookingCreated) => Stay,
        (Reserved, E::UpcomingReached) => Stay,
        (Reserved, E::StartTimeReached) => Stay,
        (Reserved, E::UserChecksIn) => Stay,
        (Reserved, E::NoShowTimeout) => Choose(FREE),
        (Reserved, E::UserChecksOut) => Choose(CHECKED_OUT_WHILE_RESERVED),
        (Reserved, E::EndTimeReached) => Choose(FREE),
        (Reserved, E::CleaningEnded) => Stay,
        (Reserved, E::BookingCancelled) => Choose(CANCELLED_WHILE_RESERVED),
        (Reserved, E::DayStart) => Stay,
        (Reserved, E::DayEnd) => To(Closed),
    }
}

/// Whether the table refuses `event` in `state` (checked before any fact changes).
pub fn refuses(state: SpaceState, event: E) -> bool {
    table(state, event) == Target::Refuse
}

/// Applies `event` to `state`; `guards` describe the facts after the event.
pub fn apply(
    state: SpaceState,
    event: E,
    guards: &SpaceGuards,
) -> Result<SpaceState, TransitionError> {
    let derived = guards.derive();
    settle(
        table(state, event),
        state,
        derived,
        || TransitionError::TableMiss {
            machine: "space",
            state: state.as_str(),
            event,
            derived: derived.as_str(),
        },
        || TransitionError::Refused {
            machine: "space",
            state: state.as_str(),
            event,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::BookingId;

    fn guards_for(target: SpaceState) -> SpaceGuards {
        let open = SpaceGuards {
            open: true,
            ..Default::default()
        };
        match target {
            Maint => SpaceGuards {
                maintenance: true,
                ..open
            },
            Closed => SpaceGuards::default(),
            Reserved => SpaceGuards {
                reserved: Some(BookingId::parse("b").unwrap()),
                ..open
            },
            At => SpaceGuards {
                next_booking_at: Some(jiff::Timestamp::UNIX_EPOCH),
                ..open
            },
            Now => open,
        }
    }

    /// Every state × event pair against every possible guard outcome.
    #[test]
    fn every_state_event_pair() {
        let refused = super::super::check_every_pair(&SpaceState::ALL, table, |s, e, d| {
            apply(s, e, &guards_for(d))
        });
        // ADMIN_ENABLE outside maintenance (4), ADMIN_DISABLE and check-in in maintenance (2),
        // check-out while available_now (1).
        assert_eq!(refused, 7);
    }

    /// Cancelling a later booking while another is in progress keeps the space reserved
    /// (this was a table miss, logged as an ERROR, before the cell listed `reserved`).
    #[test]
    fn cancelling_a_later_booking_keeps_the_space_reserved() {
        let later_cancelled = guards_for(Reserved);
        assert_eq!(
            apply(Reserved, E::BookingCancelled, &later_cancelled),
            Ok(Reserved)
        );
        assert_eq!(
            apply(Reserved, E::BookingCancelled, &guards_for(Now)),
            Ok(Now)
        );
    }

    #[test]
    fn maintenance_dominates() {
        for e in crate::EventKind::ALL {
            let cell = table(Maint, e);
            if e != E::AdminEnable {
                assert!(matches!(cell, Target::Stay | Target::Refuse), "{e}");
            }
        }
        for s in [Now, At, Reserved, Closed] {
            assert_eq!(table(s, E::AdminDisable), Target::To(Maint));
        }
    }
}
