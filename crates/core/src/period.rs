//! Setting durations (`upcomingLead`, `noShowGrace`, `cleaning`): ISO-8601, 1 s to 24 h.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated setting duration, whole milliseconds, between one second and one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(SignedDuration);

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duration {0:?} is invalid: write ISO-8601 such as \"PT15M\", between PT1S and PT24H")]
pub struct InvalidPeriod(pub String);

impl Period {
    /// The shortest allowed period.
    pub const MIN: SignedDuration = SignedDuration::from_secs(1);
    /// The longest allowed period.
    pub const MAX: SignedDuration = SignedDuration::from_hours(24);

    /// Parses ISO-8601 (`PT15M`); jiff's friendly form (`15m`) is accepted too.
    pub fn parse(s: &str) -> Result<Self, InvalidPeriod> {
        let d: SignedDuration = s.parse().map_err(|_| InvalidPeriod(s.to_owned()))?;
        Self::from_duration(d).ok_or_else(|| InvalidPeriod(s.to_owned()))
    }
    /// A period from a duration, if within bounds and whole milliseconds.
    pub fn from_duration(d: SignedDuration) -> Option<Self> {
        let whole_ms = d.subsec_nanos() % 1_000_000 == 0;
        (whole_ms && d >= Self::MIN && d <= Self::MAX).then_some(Self(d))
    }
    /// A period of whole milliseconds (as stored).
    pub fn from_millis(ms: i64) -> Option<Self> {
        Self::from_duration(SignedDuration::from_millis(ms))
    }
    /// A period of whole minutes; panics outside bounds (for defaults and tests).
    pub fn minutes(m: i64) -> Self {
        Self::from_duration(SignedDuration::from_mins(m)).expect("period in bounds")
    }
    /// A period of whole seconds; panics outside bounds (for defaults and tests).
    pub fn seconds(s: i64) -> Self {
        Self::from_duration(SignedDuration::from_secs(s)).expect("period in bounds")
    }
    /// The duration.
    pub fn duration(self) -> SignedDuration {
        self.0
    }
    /// Whole milliseconds.
    pub fn as_millis(self) -> i64 {
        self.0.as_millis() as i64
    }
}

impl TryFrom<String> for Period {
    type Error = InvalidPeriod;
    fn try_from(s: String) -> Result<Self, InvalidPeriod> {
        Self::parse(&s)
    }
}
impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}
impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_and_prints_iso() {
        assert_eq!(Period::parse("PT15M").unwrap(), Period::minutes(15));
        assert_eq!(Period::parse("PT1S").unwrap().to_string(), "PT1S");
        assert_eq!(Period::minutes(10).to_string(), "PT10M");
        assert_eq!(Period::parse("PT24H").unwrap().as_millis(), 86_400_000);
    }

    #[test]
    fn refuses_out_of_bounds_and_garbage() {
        for bad in [
            "PT0S",
            "-PT5M",
            "PT0.5S",
            "PT25H",
            "P2D",
            "soon",
            "",
            "PT0.0001S",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
