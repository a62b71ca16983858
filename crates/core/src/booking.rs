//! Bookings: their facts, statuses and the interval they block on the space's calendar.

use crate::ids::{BookingId, SpaceId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A booking's status (CONTRACT §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Confirmed; its upcoming window has not begun.
    Scheduled,
    /// Within `upcomingLead` of its start.
    Upcoming,
    /// Its start has passed; waiting for check-in until the no-show deadline.
    AwaitingCheckIn,
    /// The user checked in and has not left.
    CheckedIn,
    /// Ended after a check-in (at `end` or by an early check-out).
    Completed,
    /// Cancelled by a user, a service, or because the space was in maintenance at its start.
    Cancelled,
    /// Nobody checked in before the no-show deadline.
    NoShow,
}

impl BookingStatus {
    /// Every status.
    pub const ALL: [BookingStatus; 7] = [
        Self::Scheduled,
        Self::Upcoming,
        Self::AwaitingCheckIn,
        Self::CheckedIn,
        Self::Completed,
        Self::Cancelled,
        Self::NoShow,
    ];
    /// The contract string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Upcoming => "upcoming",
            Self::AwaitingCheckIn => "awaiting_check_in",
            Self::CheckedIn => "checked_in",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::NoShow => "no_show",
        }
    }
    /// Parses the contract string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Live bookings still hold their slot and have timers ahead.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Self::Scheduled | Self::Upcoming | Self::AwaitingCheckIn | Self::CheckedIn
        )
    }
    /// Not checked in yet, and not finished.
    pub fn is_pending(self) -> bool {
        matches!(
            self,
            Self::Scheduled | Self::Upcoming | Self::AwaitingCheckIn
        )
    }
}

/// The reason recorded when a booking is cancelled because its start came during maintenance.
pub const CANCEL_SPACE_IN_MAINTENANCE: &str = "space_in_maintenance";
/// The reason recorded when a user or service cancels a booking.
pub const CANCEL_REQUESTED: &str = "requested";
/// The reason recorded when a series is released after its no-show strikes (CONTRACT §9).
pub const CANCEL_NO_SHOW_STRIKES: &str = "no_show_strikes";

/// A booking and the facts it has gathered.
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    /// Its id (client-chosen or generated).
    pub id: BookingId,
    /// The space it reserves.
    pub space_id: SpaceId,
    /// A human title.
    pub title: String,
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
    /// The status the machines keep.
    pub status: BookingStatus,
    /// When it was created.
    pub created_at: Timestamp,
    /// When the user checked in.
    pub checked_in_at: Option<Timestamp>,
    /// When the occupied session actually ended (early check-out, or `end`).
    pub ended_at: Option<Timestamp>,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The series it is an occurrence of (CONTRACT §9), if any.
    pub series_id: Option<crate::ids::SeriesId>,
}

impl Booking {
    /// The instant the room becomes `upcoming` and `booking.start` fires.
    pub fn upcoming_at(&self, lead: crate::Period) -> Timestamp {
        self.start - lead.duration()
    }
    /// The no-show deadline: `start + noShowGrace`, or `end` if sooner.
    pub fn no_show_at(&self, grace: crate::Period) -> Timestamp {
        (self.start + grace.duration()).min(self.end)
    }
    /// The interval this booking keeps others out of, `[start, end + cleaning)`; an
    /// occupied session that ended early frees the rest (after its cleaning). `None` once
    /// it no longer blocks anything (cancelled, no-show).
    pub fn blocked_interval(&self, cleaning: crate::Period) -> Option<(Timestamp, Timestamp)> {
        match self.status {
            BookingStatus::Cancelled | BookingStatus::NoShow => None,
            BookingStatus::Completed => {
                let ended = self.ended_at.unwrap_or(self.end);
                Some((self.start, ended + cleaning.duration()))
            }
            _ => Some((self.start, self.end + cleaning.duration())),
        }
    }
}
