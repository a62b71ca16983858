//! The two states a space carries at every instant, with their exact contract strings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The physical room's state (CONTRACT §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    /// Empty and available.
    Free,
    /// A booking is about to start (within its upcoming lead or no-show grace).
    Upcoming,
    /// A checked-in session is in progress.
    Occupied,
    /// Post-meeting cleaning period.
    Cleaning,
}

/// The scheduling space's state (CONTRACT §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SpaceState {
    /// Free with no upcoming booking in the current business-hours interval.
    #[serde(rename = "available_now")]
    AvailableNow,
    /// Free now, with a booking later in the current interval.
    #[serde(rename = "available_at")]
    AvailableAt,
    /// A booking's start time has been reached; awaiting check-in or checked in.
    #[serde(rename = "reserved")]
    Reserved,
    /// An admin put the space in maintenance.
    #[serde(rename = "in-maintenance")]
    InMaintenance,
    /// Outside business hours.
    #[serde(rename = "not_available")]
    NotAvailable,
}

impl RoomState {
    /// Every room state, in declaration order.
    pub const ALL: [RoomState; 4] = [Self::Free, Self::Upcoming, Self::Occupied, Self::Cleaning];
    /// The contract string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Upcoming => "upcoming",
            Self::Occupied => "occupied",
            Self::Cleaning => "cleaning",
        }
    }
    /// Parses the contract string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl SpaceState {
    /// Every space state, in declaration order.
    pub const ALL: [SpaceState; 5] = [
        Self::AvailableNow,
        Self::AvailableAt,
        Self::Reserved,
        Self::InMaintenance,
        Self::NotAvailable,
    ];
    /// The contract string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AvailableNow => "available_now",
            Self::AvailableAt => "available_at",
            Self::Reserved => "reserved",
            Self::InMaintenance => "in-maintenance",
            Self::NotAvailable => "not_available",
        }
    }
    /// Parses the contract string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for RoomState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Display for SpaceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_match_serde() {
        for s in RoomState::ALL {
            assert_eq!(RoomState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in SpaceState::ALL {
            assert_eq!(SpaceState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(SpaceState::InMaintenance.as_str(), "in-maintenance");
    }
}
