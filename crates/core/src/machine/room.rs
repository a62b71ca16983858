//! The room machine: `free`, `upcoming`, `occupied`, `cleaning` (CONTRACT §1, §3).

use super::guards::RoomGuards;
use super::{Target, TransitionError, settle};
use crate::event::EventKind as E;
use crate::state::RoomState::{self, Cleaning, Free, Occupied, Upcoming};

const UPCOMING_OR_FREE: &[RoomState] = &[Upcoming, Free];
const STILL_OCCUPIED_OR_CLEANING: &[RoomState] = &[Occupied, Cleaning];
/// After one session's cleaning, another's may still run: a session checked in early and
/// out again before its start, while the previous session's cleaning was on.
const CLEANING_UPCOMING_OR_FREE: &[RoomState] = &[Cleaning, Upcoming, Free];

/// The room table: what `event` does in `state`. No wildcard arm: every pair is written out.
pub fn table(state: RoomState, event: E) -> Target<RoomState> {
    use Target::{Choose, Refuse, Stay, To};
    match (state, event) {
        // free: nobody is due, in, or just out.
        (Free, E::BookingCreated) => Choose(UPCOMING_OR_FREE),
        (Free, E::UpcomingReached) => To(Upcoming),
        (Free, E::StartTimeReached) => Stay,
        (Free, E::UserChecksIn) => Refuse,
        (Free, E::NoShowTimeout) => Stay,
        (Free, E::UserChecksOut) => Refuse,
        (Free, E::EndTimeReached) => Stay,
        (Free, E::CleaningEnded) => Stay,
        (Free, E::BookingCancelled) => Stay,
        (Free, E::BookingExtended) => Stay,
        (Free, E::AdminDisable | E::AdminEnable | E::DayStart | E::DayEnd) => Stay,
        // upcoming: a booking is within its lead or grace and nobody has checked in.
        (Upcoming, E::BookingCreated) => Stay,
        (Upcoming, E::UpcomingReached) => Stay,
        (Upcoming, E::StartTimeReached) => Choose(UPCOMING_OR_FREE),
        (Upcoming, E::UserChecksIn) => To(Occupied),
        (Upcoming, E::NoShowTimeout) => Choose(UPCOMING_OR_FREE),
        (Upcoming, E::UserChecksOut) => Refuse,
        (Upcoming, E::EndTimeReached) => Choose(UPCOMING_OR_FREE),
        (Upcoming, E::CleaningEnded) => Stay,
        (Upcoming, E::BookingCancelled) => Choose(UPCOMING_OR_FREE),
        (Upcoming, E::BookingExtended) => Stay,
        (Upcoming, E::AdminDisable | E::AdminEnable | E::DayStart | E::DayEnd) => Stay,
        // occupied: a checked-in session is in progress.
        (Occupied, E::BookingCreated) => Stay,
        (Occupied, E::UpcomingReached) => Stay,
        (Occupied, E::StartTimeReached) => Stay,
        (Occupied, E::UserChecksIn) => Stay,
        (Occupied, E::NoShowTimeout) => Stay,
        (Occupied, E::UserChecksOut) => Choose(STILL_OCCUPIED_OR_CLEANING),
        (Occupied, E::EndTimeReached) => Choose(STILL_OCCUPIED_OR_CLEANING),
        (Occupied, E::CleaningEnded) => Stay,
        (Occupied, E::BookingCancelled) => Stay,
        (Occupied, E::BookingExtended) => Stay,
        (Occupied, E::AdminDisable | E::AdminEnable | E::DayStart | E::DayEnd) => Stay,
        // cleaning: an occupied session ended less than `cleaning` ago.
        (Cleaning, E::BookingCreated) => Stay,
        (Cleaning, E::UpcomingReached) => Stay,
        (Cleaning, E::StartTimeReached) => Stay,
        (Cleaning, E::UserChecksIn) => To(Occupied),
        (Cleaning, E::NoShowTimeout) => Stay,
        (Cleaning, E::UserChecksOut) => Refuse,
        (Cleaning, E::EndTimeReached) => Stay,
        (Cleaning, E::CleaningEnded) => Choose(CLEANING_UPCOMING_OR_FREE),
        (Cleaning, E::BookingCancelled) => Stay,
        (Cleaning, E::BookingExtended) => Stay,
        (Cleaning, E::AdminDisable | E::AdminEnable | E::DayStart | E::DayEnd) => Stay,
    }
}

/// Whether the table refuses `event` in `state` (checked before any fact changes).
pub fn refuses(state: RoomState, event: E) -> bool {
    table(state, event) == Target::Refuse
}

/// Applies `event` to `state`; `guards` describe the facts after the event.
pub fn apply(
    state: RoomState,
    event: E,
    guards: &RoomGuards,
) -> Result<RoomState, TransitionError> {
    let derived = guards.derive();
    settle(
        table(state, event),
        state,
        derived,
        || TransitionError::TableMiss {
            machine: "room",
            state: state.as_str(),
            event,
            derived: derived.as_str(),
        },
        || TransitionError::Refused {
            machine: "room",
            state: state.as_str(),
            event,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::BookingId;

    fn guards_for(target: RoomState) -> RoomGuards {
        let b = Some(BookingId::parse("b").unwrap());
        match target {
            Free => RoomGuards::default(),
            Upcoming => RoomGuards {
                upcoming: b,
                ..Default::default()
            },
            Occupied => RoomGuards {
                occupied: b,
                ..Default::default()
            },
            Cleaning => RoomGuards {
                cleaning: true,
                ..Default::default()
            },
        }
    }

    /// Every state × event pair: refused cells give a typed error whatever the guards say;
    /// allowed cells reach exactly their listed targets and miss every other state.
    #[test]
    fn every_state_event_pair() {
        let refused = super::super::check_every_pair(&RoomState::ALL, table, |s, e, d| {
            apply(s, e, &guards_for(d))
        });
        assert_eq!(
            refused, 4,
            "check-out refused unless occupied; check-in refused when free"
        );
    }

    #[test]
    fn documented_cells() {
        assert_eq!(table(Upcoming, E::UserChecksIn), Target::To(Occupied));
        assert_eq!(table(Cleaning, E::UserChecksIn), Target::To(Occupied));
        assert_eq!(table(Free, E::UpcomingReached), Target::To(Upcoming));
        assert!(refuses(Free, E::UserChecksOut));
        assert!(!refuses(Occupied, E::UserChecksOut));
        for s in RoomState::ALL {
            for e in [E::AdminDisable, E::AdminEnable, E::DayStart, E::DayEnd] {
                assert_eq!(
                    table(s, e),
                    Target::Stay,
                    "maintenance and hours never move the room"
                );
            }
        }
    }
}
