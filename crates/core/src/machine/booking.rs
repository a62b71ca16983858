//! The booking machine: `scheduled`, `upcoming`, `awaiting_check_in`, `checked_in`,
//! `completed`, `cancelled`, `no_show` (CONTRACT §4).
//!
//! Like the room and space tables, one cell per status × event, no wildcard arm. A booking
//! cell can also be [`Step::Stale`]: a timer event that comes after its booking has moved
//! on (a no-show deadline of a booking checked in, any timer of a cancelled one) has nothing
//! left to do, and `decide` reports the event stale without changing anything. Cells
//! marked [`Step::Refuse`] are the commands a booking rule (`rules::precheck`) refuses for
//! the status, before anything changes; `decide` never asks the table about them.
//!
//! The table says which status follows; `decide` does what entering that status means
//! (timers, notices, the cancel reason).

use crate::booking::BookingStatus::{
    self, AwaitingCheckIn as Awaiting, Cancelled, CheckedIn, Completed, NoShow, Scheduled, Upcoming,
};
use crate::event::EventKind as E;

/// What one event does to one booking status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A booking rule refuses this command in this status (a 409 with the rule's code).
    Refuse,
    /// The event comes too late for this status: nothing changes, the outcome says stale.
    Stale,
    /// The event is accepted and leaves the booking where it is.
    Stay,
    /// The event always moves the booking to this status.
    To(BookingStatus),
    /// The event moves the booking to one of these, chosen by the space's maintenance flag.
    Choose(&'static [BookingStatus]),
}

impl Step {
    /// Every status this cell may lead to from `from` (for diagrams and exhaustive tests).
    pub fn targets(self, from: BookingStatus) -> Vec<BookingStatus> {
        match self {
            Step::Refuse | Step::Stale => vec![],
            Step::Stay => vec![from],
            Step::To(s) => vec![s],
            Step::Choose(list) => list.to_vec(),
        }
    }
}

/// What `BOOKING_CREATED` makes of a new booking: `upcoming` if its upcoming window has
/// already begun, else `scheduled`.
pub const CREATED: &[BookingStatus] = &[Scheduled, Upcoming];
/// A start reached: waiting for check-in, or cancelled because the space is in maintenance.
pub const STARTED: &[BookingStatus] = &[Awaiting, Cancelled];

/// The booking table: what `event` (concerning this booking) does in `status`. No wildcard
/// arm: every pair is written out. Events about the space (maintenance, business hours) and
/// the creation of another booking leave a booking where it is.
pub fn table(status: BookingStatus, event: E) -> Step {
    use Step::{Choose, Refuse, Stale, Stay, To};
    match (status, event) {
        // another booking's creation and the space's own events never move a booking.
        (
            Scheduled | Upcoming | Awaiting | CheckedIn | Completed | Cancelled | NoShow,
            E::BookingCreated | E::AdminDisable | E::AdminEnable | E::DayStart | E::DayEnd,
        ) => Stay,
        // scheduled, upcoming, awaiting_check_in: nobody has checked in yet.
        (Scheduled, E::UpcomingReached) => To(Upcoming),
        (Upcoming | Awaiting, E::UpcomingReached) => Stale,
        (Scheduled | Upcoming, E::StartTimeReached) => Choose(STARTED),
        (Awaiting, E::StartTimeReached) => Stale,
        (Scheduled | Upcoming | Awaiting, E::UserChecksIn) => To(CheckedIn),
        (Scheduled | Upcoming | Awaiting, E::NoShowTimeout | E::EndTimeReached) => To(NoShow),
        (Scheduled | Upcoming | Awaiting, E::UserChecksOut) => Refuse,
        (Scheduled | Upcoming | Awaiting, E::CleaningEnded) => Stale,
        (Scheduled | Upcoming | Awaiting, E::BookingCancelled) => To(Cancelled),
        // checked_in: a session checked in early sees its start pass; it ends at check-out
        // or at its end.
        (CheckedIn, E::UpcomingReached | E::NoShowTimeout | E::CleaningEnded) => Stale,
        (CheckedIn, E::StartTimeReached) => Stay,
        (CheckedIn, E::UserChecksIn | E::BookingCancelled) => Refuse,
        (CheckedIn, E::UserChecksOut | E::EndTimeReached) => To(Completed),
        // completed: only its cleaning is left to end.
        (Completed, E::CleaningEnded) => Stay,
        (Completed, E::UpcomingReached | E::StartTimeReached) => Stale,
        (Completed, E::NoShowTimeout | E::EndTimeReached) => Stale,
        // cancelled, no_show: nothing is left to do.
        (Cancelled | NoShow, E::UpcomingReached | E::StartTimeReached) => Stale,
        (Cancelled | NoShow, E::NoShowTimeout | E::EndTimeReached | E::CleaningEnded) => Stale,
        // a booking that has not ended may get a later end; its status stays.
        (Scheduled | Upcoming | Awaiting | CheckedIn, E::BookingExtended) => Stay,
        // a finished booking refuses every command about it.
        (Completed | Cancelled | NoShow, E::UserChecksIn | E::UserChecksOut) => Refuse,
        (Completed | Cancelled | NoShow, E::BookingCancelled | E::BookingExtended) => Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{CANCEL_REQUESTED, CANCEL_SPACE_IN_MAINTENANCE};
    use crate::calendar::Zone;
    use crate::decide::{Command, Outcome, SpaceFacts, change_booking, initial_status};
    use crate::ids::{BookingId, SpaceId};
    use crate::notice::Notice;
    use crate::rules::{self, NewBooking};
    use crate::space::{Space, SpaceSettings};
    use jiff::{SignedDuration, Timestamp};

    /// Every command about one booking, by its event.
    const COMMANDS: [E; 4] = [
        E::UserChecksIn,
        E::UserChecksOut,
        E::BookingCancelled,
        E::BookingExtended,
    ];

    /// A space with one booking in `status`, at the booking's start (inside its check-in
    /// window, so only the status decides what a rule refuses).
    fn facts(status: BookingStatus, maintenance: bool) -> (SpaceFacts, Timestamp) {
        let created: Timestamp = "2026-05-04T08:00:00Z".parse().unwrap();
        let start = created + SignedDuration::from_hours(1);
        let space = Space {
            id: SpaceId::parse("room-1").unwrap(),
            name: "Room 1".into(),
            settings: SpaceSettings::defaults(Zone::parse("UTC").unwrap()),
            maintenance,
        };
        let new = NewBooking {
            id: BookingId::parse("b1").unwrap(),
            title: String::new(),
            start,
            end: start + SignedDuration::from_hours(1),
        };
        let mut b = new.to_booking(space.id.clone(), created);
        b.status = status;
        let bookings = vec![b];
        let status = initial_status(&space, &bookings, start);
        let facts = SpaceFacts {
            space,
            status,
            bookings,
        };
        (facts, start)
    }

    /// `change_booking` does exactly what each cell says, in both maintenance modes:
    /// refused and stale cells change nothing and report `false`, `Stay` changes nothing,
    /// a move sets the listed status, touches the booking and notices its new status.
    #[test]
    fn change_booking_agrees_with_every_cell() {
        for status in BookingStatus::ALL {
            for event in E::ALL {
                for maintenance in [false, true] {
                    let (mut f, at) = facts(status, maintenance);
                    let before = f.clone();
                    let mut out = Outcome::default();
                    let done = change_booking(&mut f, 0, event, at, &mut out);
                    let cell = table(status, event);
                    let case = format!("{status:?} {event} maintenance={maintenance}");
                    match cell {
                        Step::Refuse | Step::Stale | Step::Stay => {
                            assert_eq!(done, cell == Step::Stay, "{case}");
                            assert_eq!(f, before, "{case}");
                            assert_eq!(out, Outcome::default(), "{case}");
                            continue;
                        }
                        Step::To(_) | Step::Choose(_) => assert!(done, "{case}"),
                    }
                    let b = &f.bookings[0];
                    assert!(cell.targets(status).contains(&b.status), "{case}");
                    assert_ne!(b.status, status, "{case}: a move changes the status");
                    assert_eq!(out.touched, std::slice::from_ref(&b.id), "{case}");
                    let noticed: Vec<_> = out
                        .notices
                        .iter()
                        .map(|n| match n {
                            Notice::Booking { booking, .. } => booking.status,
                            other => panic!("{case}: {other:?}"),
                        })
                        .collect();
                    let silent = b.status == BookingStatus::AwaitingCheckIn;
                    let expected = if silent { vec![] } else { vec![b.status] };
                    assert_eq!(noticed, expected, "{case}");
                    if let Step::Choose(_) = cell {
                        let chosen = if maintenance { Cancelled } else { Awaiting };
                        assert_eq!(b.status, chosen, "{case}");
                    }
                    if b.status == Cancelled {
                        let reason = if event == E::StartTimeReached {
                            CANCEL_SPACE_IN_MAINTENANCE
                        } else {
                            CANCEL_REQUESTED
                        };
                        assert_eq!(b.cancel_reason.as_deref(), Some(reason), "{case}");
                    }
                }
            }
        }
    }

    /// The refused cells are exactly the commands `rules::precheck` refuses for the status,
    /// answered with the code the generated docs print; timers are never refused, and only
    /// timers come too late.
    #[test]
    fn refused_cells_are_the_rules_refusals() {
        for status in BookingStatus::ALL {
            let (f, at) = facts(status, false);
            let id = f.bookings[0].id.clone();
            for event in COMMANDS {
                let cmd = match event {
                    E::UserChecksIn => Command::CheckIn(id.clone()),
                    E::UserChecksOut => Command::CheckOut(id.clone()),
                    E::BookingExtended => Command::Extend {
                        booking: id.clone(),
                        end: f.bookings[0].end + SignedDuration::from_mins(30),
                    },
                    _ => Command::Cancel(id.clone()),
                };
                let by_rule = rules::precheck(&f, &cmd, at).err().map(|e| e.code());
                let documented = crate::diagram::booking_refusal_code(status, event);
                assert_eq!(by_rule, documented, "{status:?} {event}");
                assert_eq!(
                    by_rule.is_some(),
                    table(status, event) == Step::Refuse,
                    "{status:?} {event}"
                );
            }
            for event in E::ALL {
                let cell = table(status, event);
                if cell == Step::Refuse {
                    assert!(COMMANDS.contains(&event), "{status:?} {event}");
                }
                if cell == Step::Stale {
                    assert!(event.is_timer(), "{status:?} {event}");
                }
            }
        }
    }

    /// Every status is reachable from creation, and the finished ones are final.
    #[test]
    fn every_status_is_reachable_and_finished_ones_are_final() {
        let mut seen: Vec<BookingStatus> = CREATED.to_vec();
        let mut i = 0;
        while i < seen.len() {
            let from = seen[i];
            for event in E::ALL {
                for to in table(from, event).targets(from) {
                    if !seen.contains(&to) {
                        seen.push(to);
                    }
                }
            }
            i += 1;
        }
        assert_eq!(seen.len(), BookingStatus::ALL.len(), "{seen:?}");
        for s in [Completed, Cancelled, NoShow] {
            for event in E::ALL {
                let targets = table(s, event).targets(s);
                assert!(targets.iter().all(|t| *t == s), "{s:?} {event}");
            }
        }
    }
}
