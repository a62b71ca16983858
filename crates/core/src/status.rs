//! What a space shows at an instant, and the record of a change to it.

use crate::event::EventKind;
use crate::ids::{BookingId, SpaceId};
use crate::state::{RoomState, SpaceState};
use jiff::Timestamp;

/// The stored state of a space: both machines plus the details the API shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceStatus {
    /// The space machine.
    pub space: SpaceState,
    /// The room machine.
    pub room: RoomState,
    /// The booking the space is about: occupying, reserved, or upcoming.
    pub booking_id: Option<BookingId>,
    /// With `available_at`: when the next booking starts.
    pub next_booking_at: Option<Timestamp>,
    /// When the last change happened.
    pub since: Timestamp,
    /// How many changes the space has had (the status-post sequence).
    pub sequence: u64,
}

impl SpaceStatus {
    /// Whether anything a client sees differs (ignores `since` and `sequence`).
    pub fn differs(&self, other: &SpaceStatus) -> bool {
        (
            self.space,
            self.room,
            &self.booking_id,
            self.next_booking_at,
        ) != (
            other.space,
            other.room,
            &other.booking_id,
            other.next_booking_at,
        )
    }
}

/// One change of a space's status, caused by one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The space.
    pub space_id: SpaceId,
    /// The event that caused it.
    pub event: EventKind,
    /// The booking the event concerned.
    pub booking_id: Option<BookingId>,
    /// The space state before.
    pub from_space: SpaceState,
    /// The room state before.
    pub from_room: RoomState,
    /// The status after (its `sequence` numbers the transition, its `since` is when).
    pub to: SpaceStatus,
}
