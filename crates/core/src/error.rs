//! Domain errors: each has a stable snake_case code clients match on, and a kind that
//! decides the HTTP status at the edge.

use crate::booking::BookingStatus;
use crate::ids::BookingId;
use crate::machine::TransitionError;
use crate::policy::Limit;
use jiff::{SignedDuration, Timestamp};

/// How the edge should report an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is well-formed but its values break a rule (422).
    Invalid,
    /// The request conflicts with the current state (409).
    Conflict,
}

/// Why the domain refused a command. Nothing changes when one is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    /// `start` is not before `end`.
    #[error("start must be before end")]
    InvalidInterval,
    /// The booking starts in the past.
    #[error("start {start} is in the past (now is {now})")]
    InPast {
        /// Requested start.
        start: Timestamp,
        /// The clock.
        now: Timestamp,
    },
    /// The booking is longer than allowed.
    #[error("a booking may last at most 7 days")]
    TooLong,
    /// Not inside one business-hours interval.
    #[error(
        "the booking must lie inside one business-hours interval: it is outside the business \
         hours of {space} on {day} ({zone}): {hours}"
    )]
    OutsideBusinessHours {
        /// The space's id.
        space: String,
        /// The local day the booking starts on, e.g. `Mon 2026-05-04`.
        day: String,
        /// The space's zone name.
        zone: String,
        /// That day's hours in local time (`08:00–18:00`, or `closed`).
        hours: String,
    },
    /// Its `[start, end + cleaning)` overlaps another booking's.
    #[error("the space is already booked: conflicts with booking {with} (cleaning time included)")]
    Conflict {
        /// The booking it conflicts with.
        with: BookingId,
    },
    /// Check-in outside `[start - upcomingLead, start + noShowGrace)`.
    #[error("check-in is open from {opens} until {closes}")]
    CheckInWindow {
        /// Window start.
        opens: Timestamp,
        /// Window end (exclusive).
        closes: Timestamp,
    },
    /// The booking is already checked in.
    #[error("the booking is already checked in")]
    AlreadyCheckedIn,
    /// Check-out of a booking that is not checked in.
    #[error("the booking is not checked in (status {})", .0.as_str())]
    NotCheckedIn(BookingStatus),
    /// Cancelling a booking whose session is in progress.
    #[error("the booking is checked in: check out instead of cancelling")]
    InProgress,
    /// Acting on a booking that is over.
    #[error("the booking is already {}", .0.as_str())]
    Finished(BookingStatus),
    /// Check-in while the space is in maintenance.
    #[error("the space is in maintenance")]
    InMaintenance,
    /// Disabling a space already in maintenance.
    #[error("the space is already in maintenance")]
    AlreadyInMaintenance,
    /// Enabling a space that is not in maintenance.
    #[error("the space is not in maintenance")]
    NotInMaintenance,
    /// An extension whose end is not later than the booking's current end.
    #[error("the new end {end} must be later than the booking's current end {current}")]
    EndNotLater {
        /// The requested end.
        end: Timestamp,
        /// The booking's current end.
        current: Timestamp,
    },
    /// Extending a booking whose end has passed.
    #[error("the booking ended at {end}: only a booking that has not ended can be extended")]
    Ended {
        /// Its end.
        end: Timestamp,
    },
    /// Longer than the space's `maxDuration`.
    #[error(
        "the space's policy allows bookings of at most {max} (maxDuration): this one lasts {length}"
    )]
    PolicyMaxDuration {
        /// The policy.
        max: Limit,
        /// The booking's length.
        length: SignedDuration,
    },
    /// Shorter than the space's `minDuration`.
    #[error(
        "the space's policy allows bookings of at least {min} (minDuration): this one lasts {length}"
    )]
    PolicyMinDuration {
        /// The policy.
        min: Limit,
        /// The booking's length.
        length: SignedDuration,
    },
    /// Starting further ahead than the space's `bookingHorizon`.
    #[error(
        "the space's policy takes bookings at most {horizon} ahead (bookingHorizon): the latest start now is {latest}"
    )]
    PolicyHorizon {
        /// The policy.
        horizon: Limit,
        /// The latest start accepted now.
        latest: Timestamp,
    },
    /// Starting sooner than the space's `minNotice`.
    #[error(
        "the space's policy takes bookings at least {notice} ahead (minNotice): the earliest start now is {earliest}"
    )]
    PolicyMinNotice {
        /// The policy.
        notice: Limit,
        /// The earliest start accepted now.
        earliest: Timestamp,
    },
    /// A machine refused the event.
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

impl DomainError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInterval => "invalid_interval",
            Self::InPast { .. } => "booking_in_past",
            Self::TooLong => "booking_too_long",
            Self::OutsideBusinessHours { .. } => "outside_business_hours",
            Self::Conflict { .. } => "booking_conflict",
            Self::CheckInWindow { .. } => "check_in_window",
            Self::AlreadyCheckedIn => "already_checked_in",
            Self::NotCheckedIn(_) => "not_checked_in",
            Self::InProgress => "booking_in_progress",
            Self::Finished(_) => "booking_finished",
            Self::InMaintenance => "space_in_maintenance",
            Self::AlreadyInMaintenance => "already_in_maintenance",
            Self::NotInMaintenance => "not_in_maintenance",
            Self::EndNotLater { .. } => "end_not_later",
            Self::Ended { .. } => "booking_finished",
            Self::PolicyMaxDuration { .. } => "policy_max_duration",
            Self::PolicyMinDuration { .. } => "policy_min_duration",
            Self::PolicyHorizon { .. } => "policy_horizon",
            Self::PolicyMinNotice { .. } => "policy_min_notice",
            Self::Transition(_) => "transition_refused",
        }
    }

    /// Whether the edge reports 422 (invalid values) or 409 (wrong moment / conflict).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInterval
            | Self::InPast { .. }
            | Self::TooLong
            | Self::OutsideBusinessHours { .. }
            | Self::EndNotLater { .. }
            | Self::PolicyMaxDuration { .. }
            | Self::PolicyMinDuration { .. }
            | Self::PolicyHorizon { .. }
            | Self::PolicyMinNotice { .. } => ErrorKind::Invalid,
            Self::Conflict { .. }
            | Self::CheckInWindow { .. }
            | Self::AlreadyCheckedIn
            | Self::NotCheckedIn(_)
            | Self::InProgress
            | Self::Finished(_)
            | Self::Ended { .. }
            | Self::InMaintenance
            | Self::AlreadyInMaintenance
            | Self::NotInMaintenance
            | Self::Transition(_) => ErrorKind::Conflict,
        }
    }
}
