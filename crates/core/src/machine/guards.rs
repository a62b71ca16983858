//! Guards: what the machines may know about the facts when choosing a target state.

use crate::booking::{Booking, BookingStatus};
use crate::event::EventKind;
use crate::ids::BookingId;
use crate::space::Space;
use crate::state::{RoomState, SpaceState};
use jiff::Timestamp;

/// A point in a space's timeline: an instant, and how far through that instant's timer
/// events (in their documented same-instant order) it is. A fact that a timer event brings
/// about at an instant — a start reached, an end, a cleaning over — counts only from that
/// event's turn on, so an event never sees the effect of another due at the same instant
/// but applied after it, and history names the event that really made each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    at: Timestamp,
    /// [`EventKind::same_instant_rank`] of the event applied; commands and plain
    /// derivations come after every timer event of their instant.
    rank: u8,
}

impl Moment {
    /// After every timer event due at `at` (a command, or the state at an instant).
    pub fn after(at: Timestamp) -> Self {
        Self { at, rank: u8::MAX }
    }

    /// The turn of `event` at `at`.
    pub fn of(event: EventKind, at: Timestamp) -> Self {
        let rank = if event.is_timer() {
            event.same_instant_rank()
        } else {
            u8::MAX
        };
        Self { at, rank }
    }

    /// Whether what `event` brings about at `instant` has happened by this moment.
    fn reached(self, instant: Timestamp, event: EventKind) -> bool {
        Self::of(event, instant) <= self
    }

    /// The instant whose business hours this moment sees: a boundary at its instant counts
    /// only from `DAY_END`'s turn on (and `DAY_START`'s, which comes after it), so an event
    /// ordered before them (an end at closing time) sees the interval still open and leaves
    /// the closing to `DAY_END`.
    pub fn hours_instant(self) -> Timestamp {
        if self.rank < EventKind::DayEnd.same_instant_rank() {
            self.at - jiff::SignedDuration::from_nanos(1)
        } else {
            self.at
        }
    }
}

/// What the room machine sees.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomGuards {
    /// A checked-in session is in progress (its booking).
    pub occupied: Option<BookingId>,
    /// Within `cleaning` after an occupied session ended.
    pub cleaning: bool,
    /// A booking not checked in is within its upcoming window (the earliest such booking).
    pub upcoming: Option<BookingId>,
}

/// What the space machine sees.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpaceGuards {
    /// The admin maintenance flag.
    pub maintenance: bool,
    /// Within business hours.
    pub open: bool,
    /// The booking whose start has been reached, awaiting check-in or checked in.
    pub reserved: Option<BookingId>,
    /// The start of the next booking before the current interval closes.
    pub next_booking_at: Option<Timestamp>,
}

impl RoomGuards {
    /// Reads the guards from the facts at moment `m`.
    pub fn read(space: &Space, bookings: &[Booking], m: Moment) -> Self {
        let cleaning = space.settings.cleaning.duration();
        let occupied = bookings
            .iter()
            .filter(|b| b.status == BookingStatus::CheckedIn)
            .min_by_key(|b| b.start)
            .map(|b| b.id.clone());
        let cleaning = bookings.iter().any(|b| {
            b.status == BookingStatus::Completed
                && b.checked_in_at.is_some()
                && b.ended_at.is_some_and(|e| {
                    e <= m.at && !m.reached(e + cleaning, EventKind::CleaningEnded)
                })
        });
        let upcoming = bookings
            .iter()
            .filter(|b| {
                matches!(
                    b.status,
                    BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn
                )
            })
            .min_by_key(|b| b.start)
            .map(|b| b.id.clone());
        Self {
            occupied,
            cleaning,
            upcoming,
        }
    }

    /// The state these guards call for (priority: occupied, cleaning, upcoming, free).
    pub fn derive(&self) -> RoomState {
        if self.occupied.is_some() {
            RoomState::Occupied
        } else if self.cleaning {
            RoomState::Cleaning
        } else if self.upcoming.is_some() {
            RoomState::Upcoming
        } else {
            RoomState::Free
        }
    }
}

impl SpaceGuards {
    /// Reads the guards from the facts at moment `m`.
    pub fn read(space: &Space, bookings: &[Booking], m: Moment) -> Self {
        let at = m.at;
        let hours_at = m.hours_instant();
        let open = space.settings.is_open(hours_at);
        let reserved = bookings
            .iter()
            .filter(|b| {
                m.reached(b.start, EventKind::StartTimeReached)
                    && !m.reached(b.end, EventKind::EndTimeReached)
            })
            .find(|b| {
                matches!(
                    b.status,
                    BookingStatus::AwaitingCheckIn | BookingStatus::CheckedIn
                )
            })
            .map(|b| b.id.clone());
        let close = space.settings.interval_end(hours_at).ok().flatten();
        let next_booking_at = bookings
            .iter()
            .filter(|b| b.status.is_live() && b.start >= at && reserved.as_ref() != Some(&b.id))
            .filter(|b| b.status != BookingStatus::AwaitingCheckIn)
            .filter(|b| close.is_none_or(|c| b.start < c))
            .map(|b| b.start)
            .min();
        Self {
            maintenance: space.maintenance,
            open,
            reserved,
            next_booking_at,
        }
    }

    /// The state these guards call for (priority as in CONTRACT §3).
    pub fn derive(&self) -> SpaceState {
        if self.maintenance {
            SpaceState::InMaintenance
        } else if !self.open {
            SpaceState::NotAvailable
        } else if self.reserved.is_some() {
            SpaceState::Reserved
        } else if self.next_booking_at.is_some() {
            SpaceState::AvailableAt
        } else {
            SpaceState::AvailableNow
        }
    }
}
