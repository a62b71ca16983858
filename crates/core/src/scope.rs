//! The bookings a decision reads: a space's working set, bounded by the command.
//!
//! A space with a month of bookings ahead must not read all of them for every check-in.
//! What [`crate::decide`] looks at is small and known in advance:
//!
//! - the guards (`machine/guards.rs`) see bookings in an active status (`upcoming`,
//!   `awaiting_check_in`, `checked_in`), completed ones whose cleaning may still run, and the
//!   start of the next booking still `scheduled` from the decision instant on;
//! - the rules (`rules.rs`) find the command's own booking, and test a new or extended span
//!   for a clash with any booking whose blocked interval (its span plus cleaning) meets it;
//! - the booking table moves only the command's own booking.
//!
//! [`Scope`] says which bookings those are; the store reads exactly them
//! (`zs_store::bookings::scoped`) and [`Scope::select`] is the same rule over a list in memory,
//! which [`crate::sim::SpaceSim`] applies before every decision, so the property tests check
//! against the CONTRACT §3 oracle that the bounded set decides as the whole one would.

use crate::booking::{Booking, BookingStatus as S};
use crate::decide::Command;
use crate::ids::BookingId;
use crate::rules::MAX_BOOKING;
use crate::space::Space;
use crate::walk_up::WalkUp;
use jiff::{SignedDuration, Timestamp};

/// How many `scheduled` bookings from the decision instant on a decision reads: the next
/// one, and the one after it in case the command moves the next one out of `scheduled`
/// (its start reached, or cancelled).
pub const NEXT_SCHEDULED: usize = 2;

/// Which of a space's bookings a command decided at an instant reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The decision instant ([`crate::decision_instant`]).
    pub at: Timestamp,
    /// The space's cleaning time.
    pub cleaning: SignedDuration,
    /// The command's own booking, whatever its status.
    pub booking: Option<BookingId>,
    /// The span `[from, to)` the command claims (a new booking's, an extension's), if any:
    /// every `scheduled` booking whose blocked interval meets it is read.
    pub span: Option<(Timestamp, Timestamp)>,
}

/// Which `scheduled` bookings a claimed span reads (see [`Scope::clash_bounds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClashBounds {
    /// They start at or after this instant (a bound from the longest booking, for an index
    /// range on the start)...
    pub starts_from: Timestamp,
    /// ...and before this one...
    pub starts_before: Timestamp,
    /// ...and end after this one.
    pub ends_after: Timestamp,
}

impl Scope {
    /// The scope of `cmd` on `space`, decided at `at`.
    pub fn of(cmd: &Command, space: &Space, at: Timestamp) -> Self {
        let span = match cmd {
            Command::Create(n) => Some((n.start, n.end)),
            // The rules test the booking's whole new span, from its start: a booking not
            // ended yet started less than the longest booking before `at`. (The scheduled
            // bookings before `at` are few: their start timers have come due.)
            Command::Extend { end, .. } => Some((at - MAX_BOOKING, *end)),
            Command::CheckIn(_)
            | Command::CheckOut(_)
            | Command::Cancel(_)
            | Command::Release(_)
            | Command::Disable
            | Command::Enable
            | Command::Timer { .. } => None,
        };
        Self::with_span(space, at, cmd.booking().cloned(), span)
    }

    /// The scope of a walk-up decided at `at`: its booking from `at` (rounded up to the
    /// millisecond, see [`crate::book_now`]) for its duration.
    pub fn of_walk_up(walk_up: &WalkUp, space: &Space, at: Timestamp) -> Self {
        let end = at + walk_up.duration.duration() + SignedDuration::from_millis(1);
        Self::with_span(space, at, Some(walk_up.id.clone()), Some((at, end)))
    }

    /// The scope of a decision at `at` about `booking` that claims `span`, if any.
    pub fn with_span(
        space: &Space,
        at: Timestamp,
        booking: Option<BookingId>,
        span: Option<(Timestamp, Timestamp)>,
    ) -> Self {
        // Kept to whole milliseconds, like the bookings the rules compare it with.
        let span = span.map(|(a, z)| (crate::clock::to_millis(a), crate::clock::to_millis(z)));
        Self {
            at,
            cleaning: space.settings.cleaning.duration(),
            booking,
            span,
        }
    }

    /// The `scheduled` bookings whose blocked interval `[start, end + cleaning)` meets the
    /// claimed span widened by cleaning, `[from, to + cleaning)`: those starting before
    /// `to + cleaning` and ending after `from - cleaning`; none starts before
    /// `from - cleaning - MAX_BOOKING`.
    pub fn clash_bounds(&self) -> Option<ClashBounds> {
        self.span.map(|(from, to)| ClashBounds {
            starts_from: from - self.cleaning - MAX_BOOKING,
            starts_before: to + self.cleaning,
            ends_after: from - self.cleaning,
        })
    }

    /// The next scheduled bookings start at or after this instant: the decision instant,
    /// rounded up to the millisecond bookings are kept to.
    pub fn next_from(&self) -> Timestamp {
        let ms = crate::clock::to_millis(self.at);
        if ms < self.at {
            ms + SignedDuration::from_millis(1)
        } else {
            ms
        }
    }

    /// Completed bookings ending at or after this instant are read: their cleaning may still
    /// run at the decision instant (the guards see it until `CLEANING_ENDED`'s turn).
    pub fn completed_since(&self) -> Timestamp {
        self.at - self.cleaning
    }

    /// Whether `b` is read for a reason other than being one of the next `scheduled` ones.
    pub fn holds(&self, b: &Booking) -> bool {
        match b.status {
            S::Upcoming | S::AwaitingCheckIn | S::CheckedIn => return true,
            S::Completed => {
                if b.ended_at.is_some_and(|e| e >= self.completed_since()) {
                    return true;
                }
            }
            S::Scheduled => {
                let clashes = self.clash_bounds().is_some_and(|c| {
                    b.start >= c.starts_from && b.start < c.starts_before && b.end > c.ends_after
                });
                if clashes {
                    return true;
                }
            }
            S::Cancelled | S::NoShow => {}
        }
        self.booking.as_ref() == Some(&b.id)
    }

    /// The bookings of `all` (one space's) this scope reads, in the order of `all`: those it
    /// [holds](Self::holds), and the first [`NEXT_SCHEDULED`] `scheduled` ones starting at
    /// or after the decision instant.
    pub fn select(&self, all: &[Booking]) -> Vec<Booking> {
        let mut next: Vec<&Booking> = all
            .iter()
            .filter(|b| b.status == S::Scheduled && b.start >= self.next_from())
            .collect();
        next.sort_by_key(|b| (b.start, b.id.as_str().to_owned()));
        next.truncate(NEXT_SCHEDULED);
        all.iter()
            .filter(|b| self.holds(b) || next.iter().any(|n| n.id == b.id))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SpaceId;
    use crate::rules::NewBooking;
    use crate::space::SpaceSettings;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000).unwrap() + SignedDuration::from_mins(min)
    }

    fn booking(id: &str, start: i64, end: i64, status: S) -> Booking {
        let space = SpaceId::parse("s").unwrap();
        let mut b = NewBooking {
            id: BookingId::parse(id).unwrap(),
            title: String::new(),
            start: t(start),
            end: t(end),
        }
        .to_booking(space, t(-1000));
        b.status = status;
        if status == S::Completed {
            b.ended_at = Some(t(end));
        }
        b
    }

    fn space() -> Space {
        Space {
            id: SpaceId::parse("s").unwrap(),
            name: String::new(),
            settings: SpaceSettings::defaults(crate::calendar::Zone::parse("UTC").unwrap()),
            maintenance: false,
        }
    }

    fn ids(v: &[Booking]) -> Vec<&str> {
        v.iter().map(|b| b.id.as_str()).collect()
    }

    #[test]
    fn a_check_in_reads_the_active_the_cleaning_and_the_next_two() {
        let all = vec![
            booking("old", -200, -100, S::Completed),
            booking("done", -60, -5, S::Completed),
            booking("gone", -30, -20, S::Cancelled),
            booking("now", 0, 30, S::AwaitingCheckIn),
            booking("a", 60, 90, S::Scheduled),
            booking("b", 120, 150, S::Scheduled),
            booking("c", 180, 210, S::Scheduled),
        ];
        let cmd = Command::CheckIn(BookingId::parse("now").unwrap());
        let scope = Scope::of(&cmd, &space(), t(1));
        assert_eq!(ids(&scope.select(&all)), ["done", "now", "a", "b"]);
    }

    #[test]
    fn a_create_reads_what_may_clash_with_its_span() {
        let all: Vec<Booking> = (0..40)
            .map(|i| booking(&format!("b{i}"), i * 60, i * 60 + 30, S::Scheduled))
            .collect();
        let new = NewBooking {
            id: BookingId::parse("new").unwrap(),
            title: String::new(),
            start: t(20 * 60 + 35),
            end: t(20 * 60 + 50),
        };
        let scope = Scope::of(&Command::Create(new), &space(), t(0));
        let got = scope.select(&all);
        // The next two, and the neighbours whose span plus cleaning meets the new one's.
        assert_eq!(ids(&got), ["b0", "b1", "b20"]);
    }

    /// Decides `cmd` at `at` on all of `bookings` and on what the scope selects: both alike.
    fn decide_both(
        all: Vec<Booking>,
        cmd: Command,
        at: Timestamp,
    ) -> Result<Vec<Booking>, crate::DomainError> {
        let space = space();
        let status = crate::initial_status(&space, &all, t(-1000));
        let mut full = crate::SpaceFacts {
            space,
            status,
            bookings: all,
        };
        let scope = Scope::of(&cmd, &full.space, at);
        let mut part = crate::SpaceFacts {
            bookings: scope.select(&full.bookings),
            ..full.clone()
        };
        let by_part = crate::decide(&mut part, cmd.clone(), at);
        let by_full = crate::decide(&mut full, cmd, at);
        assert_eq!(by_part, by_full);
        assert_eq!(part.status, full.status);
        by_full.map(|_| part.bookings)
    }

    #[test]
    fn a_cleaning_ending_at_the_instant_is_read_for_the_timers_ordered_before_it() {
        // `done` ended at 0 after a check-in: its cleaning runs to 10, where `late`'s no-show
        // deadline also falls. NO_SHOW_TIMEOUT comes before CLEANING_ENDED at one instant,
        // so it still sees the room cleaning.
        let mut done = booking("done", -30, 0, S::Completed);
        done.checked_in_at = Some(t(-30));
        let late = booking("late", 0, 60, S::AwaitingCheckIn);
        let cmd = Command::Timer {
            event: crate::EventKind::NoShowTimeout,
            booking: Some(BookingId::parse("late").unwrap()),
        };
        let read = decide_both(vec![done, late], cmd, t(10)).unwrap();
        assert_eq!(ids(&read), ["done", "late"]);
    }

    #[test]
    fn a_neighbour_whose_cleaning_reaches_into_the_span_is_read_beyond_the_next_two() {
        // Three bookings come first, so `x` is not among the next two; its cleaning runs
        // to 600 (ends at 590, cleaning ten minutes).
        let mut all: Vec<Booking> = (0..3)
            .map(|i| booking(&format!("b{i}"), 100 + i * 60, 130 + i * 60, S::Scheduled))
            .collect();
        all.push(booking("x", 500, 590, S::Scheduled));
        let create = |start: i64| {
            Command::Create(NewBooking {
                id: BookingId::parse("new").unwrap(),
                title: String::new(),
                start: t(start),
                end: t(start + 30),
            })
        };
        let clash = decide_both(all.clone(), create(599), t(0)).unwrap_err();
        assert_eq!(
            clash,
            crate::DomainError::Conflict {
                with: BookingId::parse("x").unwrap()
            }
        );
        decide_both(all, create(600), t(0)).unwrap();
    }

    #[test]
    fn the_commands_own_booking_is_read_whatever_its_status() {
        let all = vec![booking("x", -300, -200, S::Cancelled)];
        let cmd = Command::Cancel(BookingId::parse("x").unwrap());
        let scope = Scope::of(&cmd, &space(), t(0));
        assert_eq!(ids(&scope.select(&all)), ["x"]);
    }
}
