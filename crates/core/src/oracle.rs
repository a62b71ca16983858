//! The derivation oracle of CONTRACT §3: both states as a pure function of raw facts.
//!
//! It deliberately ignores the statuses the machines keep and works from what happened
//! (check-in and check-out instants, cancellations) and the clock alone, so tests can hold
//! the machines against it.

use crate::booking::BookingStatus;
use crate::ids::BookingId;
use crate::space::SpaceSettings;
use crate::state::{RoomState, SpaceState};
use jiff::Timestamp;

/// What happened to one booking, as raw facts.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingFacts {
    /// The booking.
    pub id: BookingId,
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
    /// When it was cancelled (by a user, or at its start during maintenance).
    pub cancelled_at: Option<Timestamp>,
    /// When the user checked in.
    pub checked_in_at: Option<Timestamp>,
    /// When the user checked out early.
    pub checked_out_at: Option<Timestamp>,
}

/// The derived states of a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The space machine's state.
    pub space: SpaceState,
    /// The room machine's state.
    pub room: RoomState,
    /// With `available_at`: the next booking's start.
    pub next_booking_at: Option<Timestamp>,
}

/// The status a booking must have at `now`, from its facts alone.
pub fn booking_status(b: &BookingFacts, s: &SpaceSettings, now: Timestamp) -> BookingStatus {
    if b.cancelled_at.is_some_and(|c| c <= now) {
        return BookingStatus::Cancelled;
    }
    if b.checked_in_at.is_some_and(|c| c <= now) {
        let left = b.checked_out_at.is_some_and(|c| c <= now);
        return if left || now >= b.end {
            BookingStatus::Completed
        } else {
            BookingStatus::CheckedIn
        };
    }
    let no_show_at = (b.start + s.no_show_grace.duration()).min(b.end);
    if now >= no_show_at {
        BookingStatus::NoShow
    } else if now >= b.start {
        BookingStatus::AwaitingCheckIn
    } else if now >= b.start - s.upcoming_lead.duration() {
        BookingStatus::Upcoming
    } else {
        BookingStatus::Scheduled
    }
}

/// Derives both states at `now` (CONTRACT §3).
pub fn derive(
    s: &SpaceSettings,
    maintenance: bool,
    bookings: &[BookingFacts],
    now: Timestamp,
) -> Derived {
    let status = |b: &BookingFacts| booking_status(b, s, now);
    let in_session = |b: &&BookingFacts| status(b) == BookingStatus::CheckedIn;
    let room = if bookings.iter().any(|b| in_session(&b)) {
        RoomState::Occupied
    } else if bookings.iter().any(|b| in_cleaning(b, s, now)) {
        RoomState::Cleaning
    } else if bookings.iter().any(|b| {
        matches!(
            status(b),
            BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn
        )
    }) {
        RoomState::Upcoming
    } else {
        RoomState::Free
    };
    let (space, next_booking_at) = derive_space(s, maintenance, bookings, now);
    Derived {
        space,
        room,
        next_booking_at,
    }
}

fn in_cleaning(b: &BookingFacts, s: &SpaceSettings, now: Timestamp) -> bool {
    let Some(_) = b.checked_in_at.filter(|c| *c <= now) else {
        return false;
    };
    if b.cancelled_at.is_some() {
        return false;
    }
    let ended = b.checked_out_at.filter(|c| *c < b.end).unwrap_or(b.end);
    ended <= now && now < ended + s.cleaning.duration()
}

fn derive_space(
    s: &SpaceSettings,
    maintenance: bool,
    bookings: &[BookingFacts],
    now: Timestamp,
) -> (SpaceState, Option<Timestamp>) {
    if maintenance {
        return (SpaceState::InMaintenance, None);
    }
    if !s.is_open(now) {
        return (SpaceState::NotAvailable, None);
    }
    let status = |b: &BookingFacts| booking_status(b, s, now);
    let reserved = bookings.iter().any(|b| {
        b.start <= now
            && now < b.end
            && matches!(
                status(b),
                BookingStatus::AwaitingCheckIn | BookingStatus::CheckedIn
            )
    });
    if reserved {
        return (SpaceState::Reserved, None);
    }
    let close = s.interval_end(now).ok().flatten();
    let next = bookings
        .iter()
        .filter(|b| b.start > now && status(b).is_live())
        .filter(|b| close.is_none_or(|c| b.start < c))
        .map(|b| b.start)
        .min();
    match next {
        Some(t) => (SpaceState::AvailableAt, Some(t)),
        None => (SpaceState::AvailableNow, None),
    }
}
