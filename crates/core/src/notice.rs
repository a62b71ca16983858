//! Notices: what happened, as data, for the adapters to deliver as webhooks.

use crate::booking::Booking;
use crate::ids::{BookingId, SeriesId};
use crate::state::{RoomState, SpaceState};

/// A webhook-worthy domain event.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// Something happened to a booking.
    Booking {
        /// What.
        kind: BookingNotice,
        /// The booking afterwards.
        booking: Box<Booking>,
    },
    /// The space machine moved.
    SpaceStateChanged {
        /// Before.
        from: SpaceState,
        /// After.
        to: SpaceState,
    },
    /// A series was released after its no-show strikes (`series.released`): its
    /// remaining occurrences were cancelled with reason `no_show_strikes`.
    SeriesReleased {
        /// The series.
        series: SeriesId,
        /// The consecutive no-shows that released it.
        no_shows: u32,
        /// The occurrences cancelled, in order.
        cancelled: Vec<BookingId>,
    },
    /// The room machine moved.
    RoomStateChanged {
        /// Before.
        from: RoomState,
        /// After.
        to: RoomState,
    },
}

/// The booking webhook types of CONTRACT §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookingNotice {
    /// `booking.created`
    Created,
    /// `booking.start` (at `UPCOMING_REACHED`)
    Start,
    /// `booking.checked_in`
    CheckedIn,
    /// `booking.no_show`
    NoShow,
    /// `booking.checked_out`
    CheckedOut,
    /// `booking.ended`
    Ended,
    /// `booking.cancelled`
    Cancelled,
    /// `booking.extended`
    Extended,
}

/// Every webhook event type, as subscribed to and sent.
pub const WEBHOOK_TYPES: [&str; 11] = [
    "booking.created",
    "booking.start",
    "booking.checked_in",
    "booking.no_show",
    "booking.checked_out",
    "booking.ended",
    "booking.cancelled",
    "booking.extended",
    "series.released",
    "space.state_changed",
    "room.state_changed",
];

/// The webhook types about bookings (`booking.*`), in [`WEBHOOK_TYPES`] order.
pub fn booking_webhook_types() -> Vec<&'static str> {
    WEBHOOK_TYPES
        .iter()
        .copied()
        .filter(|t| t.starts_with("booking."))
        .collect()
}

impl Notice {
    /// The webhook `type`.
    pub fn webhook_type(&self) -> &'static str {
        match self {
            Notice::Booking { kind, .. } => match kind {
                BookingNotice::Created => "booking.created",
                BookingNotice::Start => "booking.start",
                BookingNotice::CheckedIn => "booking.checked_in",
                BookingNotice::NoShow => "booking.no_show",
                BookingNotice::CheckedOut => "booking.checked_out",
                BookingNotice::Ended => "booking.ended",
                BookingNotice::Cancelled => "booking.cancelled",
                BookingNotice::Extended => "booking.extended",
            },
            Notice::SeriesReleased { .. } => "series.released",
            Notice::SpaceStateChanged { .. } => "space.state_changed",
            Notice::RoomStateChanged { .. } => "room.state_changed",
        }
    }
}
