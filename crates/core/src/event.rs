//! The events that drive both machines (CONTRACT §2) and their order at one instant.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An event name, exactly as other systems see it (job names, history, status posts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    /// A booking is confirmed.
    BookingCreated,
    /// `start - upcomingLead` (the seed's "T-15 min").
    UpcomingReached,
    /// `start`.
    StartTimeReached,
    /// The user checks in.
    UserChecksIn,
    /// `start + noShowGrace` (or `end`, if sooner) without a check-in.
    NoShowTimeout,
    /// The user ends the session early.
    UserChecksOut,
    /// `end`.
    EndTimeReached,
    /// The actual end of an occupied session + `cleaning`.
    CleaningEnded,
    /// A booking is cancelled.
    BookingCancelled,
    /// A booking that has not ended is given a later end.
    BookingExtended,
    /// An admin puts the space in maintenance.
    AdminDisable,
    /// An admin re-enables the space.
    AdminEnable,
    /// A business-hours interval opens.
    DayStart,
    /// A business-hours interval closes.
    DayEnd,
}

impl EventKind {
    /// Every event, in declaration order.
    pub const ALL: [EventKind; 14] = [
        Self::BookingCreated,
        Self::UpcomingReached,
        Self::StartTimeReached,
        Self::UserChecksIn,
        Self::NoShowTimeout,
        Self::UserChecksOut,
        Self::EndTimeReached,
        Self::CleaningEnded,
        Self::BookingCancelled,
        Self::BookingExtended,
        Self::AdminDisable,
        Self::AdminEnable,
        Self::DayStart,
        Self::DayEnd,
    ];

    /// The exact event name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BookingCreated => "BOOKING_CREATED",
            Self::UpcomingReached => "UPCOMING_REACHED",
            Self::StartTimeReached => "START_TIME_REACHED",
            Self::UserChecksIn => "USER_CHECKS_IN",
            Self::NoShowTimeout => "NO_SHOW_TIMEOUT",
            Self::UserChecksOut => "USER_CHECKS_OUT",
            Self::EndTimeReached => "END_TIME_REACHED",
            Self::CleaningEnded => "CLEANING_ENDED",
            Self::BookingCancelled => "BOOKING_CANCELLED",
            Self::BookingExtended => "BOOKING_EXTENDED",
            Self::AdminDisable => "ADMIN_DISABLE",
            Self::AdminEnable => "ADMIN_ENABLE",
            Self::DayStart => "DAY_START",
            Self::DayEnd => "DAY_END",
        }
    }

    /// Parses an exact event name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Whether this event comes from a timer (as opposed to a user, admin or booking source).
    pub fn is_timer(self) -> bool {
        matches!(
            self,
            Self::UpcomingReached
                | Self::StartTimeReached
                | Self::NoShowTimeout
                | Self::EndTimeReached
                | Self::CleaningEnded
                | Self::DayStart
                | Self::DayEnd
        )
    }

    /// The order of timer events due at the same instant: what finishes goes before what
    /// begins, so a beginning always sees a settled room. Lower runs first.
    ///
    /// `NO_SHOW_TIMEOUT` < `END_TIME_REACHED` < `CLEANING_ENDED` < `DAY_END` < `DAY_START`
    /// < `UPCOMING_REACHED` < `START_TIME_REACHED`; non-timer events sort last.
    pub fn same_instant_rank(self) -> u8 {
        match self {
            Self::NoShowTimeout => 0,
            Self::EndTimeReached => 1,
            Self::CleaningEnded => 2,
            Self::DayEnd => 3,
            Self::DayStart => 4,
            Self::UpcomingReached => 5,
            Self::StartTimeReached => 6,
            Self::BookingCreated
            | Self::UserChecksIn
            | Self::UserChecksOut
            | Self::BookingCancelled
            | Self::BookingExtended
            | Self::AdminDisable
            | Self::AdminEnable => 9,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in EventKind::ALL {
            assert_eq!(EventKind::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
        }
        assert_eq!(EventKind::parse("NOPE"), None);
    }

    #[test]
    fn timer_ranks_are_distinct_and_ends_precede_starts() {
        let mut ranks: Vec<u8> = EventKind::ALL
            .into_iter()
            .filter(|e| e.is_timer())
            .map(EventKind::same_instant_rank)
            .collect();
        ranks.sort();
        ranks.dedup();
        assert_eq!(ranks.len(), 7);
        assert!(
            EventKind::EndTimeReached.same_instant_rank()
                < EventKind::StartTimeReached.same_instant_rank()
        );
        assert!(EventKind::DayEnd.same_instant_rank() < EventKind::DayStart.same_instant_rank());
    }
}
