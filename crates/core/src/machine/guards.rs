//! Guards: what the machines may know about the facts when choosing a target state.

use crate::booking::{Booking, BookingStatus};
use crate::ids::BookingId;
use crate::space::Space;
use crate::state::{RoomState, SpaceState};
use jiff::Timestamp;

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
    /// Reads the guards from the facts at `at`.
    pub fn read(space: &Space, bookings: &[Booking], at: Timestamp) -> Self {
        let cleaning = space.settings.cleaning.duration();
        let occupied = bookings
            .iter()
            .filter(|b| b.status == BookingStatus::CheckedIn)
            .min_by_key(|b| b.start)
            .map(|b| b.id.clone());
        let cleaning = bookings.iter().any(|b| {
            b.status == BookingStatus::Completed
                && b.checked_in_at.is_some()
                && b.ended_at.is_some_and(|e| e <= at && at < e + cleaning)
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
    /// Reads the guards from the facts at `at`.
    pub fn read(space: &Space, bookings: &[Booking], at: Timestamp) -> Self {
        let open = space.settings.is_open(at);
        let reserved = bookings
            .iter()
            .filter(|b| b.start <= at && at < b.end)
            .find(|b| {
                matches!(
                    b.status,
                    BookingStatus::AwaitingCheckIn | BookingStatus::CheckedIn
                )
            })
            .map(|b| b.id.clone());
        let close = space.settings.interval_end(at).ok().flatten();
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
