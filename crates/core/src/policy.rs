//! Booking policies (CONTRACT §11): limits a space puts on how long a booking may last and
//! on how far ahead and how soon it may start. [`crate::rules`] applies them to every
//! command that makes or moves a booking — a booking made by hand or through the ingress
//! queue, a walk-up, an extension — so each path refuses alike, with a `policy_…` code.

use crate::error::DomainError;
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
use std::fmt;

/// A policy's duration: whole milliseconds from one second to 3,660 days (ten years).
/// Written in ISO-8601 with weeks, days, hours, minutes and seconds (`P90D`, `PT4H`,
/// `P1DT12H`); a day is 24 hours here, as a limit is a length of time, not a calendar span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Limit(SignedDuration);

/// Why a policy duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "duration {0:?} is invalid: write ISO-8601 weeks, days, hours, minutes or seconds such as \
     \"PT4H\", \"P1DT12H\" or \"P90D\", between PT1S and P3660D"
)]
pub struct InvalidLimit(pub String);

impl Limit {
    /// The shortest limit.
    pub const MIN: SignedDuration = SignedDuration::from_secs(1);
    /// The longest limit.
    pub const MAX: SignedDuration = SignedDuration::from_hours(24 * 3660);

    /// Parses ISO-8601 (`P90D`, `PT30M`); years and months are refused (their length
    /// depends on the date).
    pub fn parse(s: &str) -> Result<Self, InvalidLimit> {
        let refused = || InvalidLimit(s.to_owned());
        let span: Span = s.parse().map_err(|_| refused())?;
        if span.get_years() != 0 || span.get_months() != 0 {
            return Err(refused());
        }
        let d = span
            .to_duration(SpanRelativeTo::days_are_24_hours())
            .map_err(|_| refused())?;
        Self::from_duration(d).ok_or_else(refused)
    }

    /// A limit from a duration, if within bounds and whole milliseconds.
    pub fn from_duration(d: SignedDuration) -> Option<Self> {
        let whole_ms = d.subsec_nanos() % 1_000_000 == 0;
        (whole_ms && d >= Self::MIN && d <= Self::MAX).then_some(Self(d))
    }

    /// A limit of whole milliseconds (as stored).
    pub fn from_millis(ms: i64) -> Option<Self> {
        Self::from_duration(SignedDuration::from_millis(ms))
    }

    /// A limit of whole hours; panics outside bounds (for tests).
    pub fn hours(h: i64) -> Self {
        Self::from_duration(SignedDuration::from_hours(h)).expect("limit in bounds")
    }

    /// A limit of whole minutes; panics outside bounds (for tests).
    pub fn minutes(m: i64) -> Self {
        Self::from_duration(SignedDuration::from_mins(m)).expect("limit in bounds")
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

/// ISO-8601 with whole days split off: `P90D`, `P1DT12H`, `PT4H30M`.
impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAY: i64 = 86_400;
        let days = self.0.as_secs() / DAY;
        let rest = self.0 - SignedDuration::from_secs(days * DAY);
        match (days, rest.is_zero()) {
            (0, _) => write!(f, "{}", self.0),
            (d, true) => write!(f, "P{d}D"),
            // `rest` prints as `PT…`: the time part follows the days.
            (d, false) => write!(f, "P{d}D{}", &rest.to_string()[1..]),
        }
    }
}

/// A space's booking policies; each unset (`None`) by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policies {
    /// The longest a booking may last (`maxDuration`).
    pub max_duration: Option<Limit>,
    /// The shortest a booking may last (`minDuration`).
    pub min_duration: Option<Limit>,
    /// How far ahead of now a booking may start (`bookingHorizon`).
    pub booking_horizon: Option<Limit>,
    /// How soon after now a booking may start (`minNotice`).
    pub min_notice: Option<Limit>,
}

/// Policies that together refuse every booking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContradictoryPolicies {
    /// `minDuration` above `maxDuration`.
    #[error("minDuration {min} is longer than maxDuration {max}: no booking could be made")]
    Duration {
        /// minDuration.
        min: Limit,
        /// maxDuration.
        max: Limit,
    },
    /// `minNotice` at or beyond `bookingHorizon`.
    #[error(
        "minNotice {notice} is not shorter than bookingHorizon {horizon}: no booking could start"
    )]
    Window {
        /// minNotice.
        notice: Limit,
        /// bookingHorizon.
        horizon: Limit,
    },
}

impl Policies {
    /// No policy set.
    pub const NONE: Self = Self {
        max_duration: None,
        min_duration: None,
        booking_horizon: None,
        min_notice: None,
    };

    /// Refuses a set of policies no booking could satisfy.
    pub fn consistent(self) -> Result<Self, ContradictoryPolicies> {
        if let (Some(min), Some(max)) = (self.min_duration, self.max_duration)
            && min > max
        {
            return Err(ContradictoryPolicies::Duration { min, max });
        }
        if let (Some(notice), Some(horizon)) = (self.min_notice, self.booking_horizon)
            && notice >= horizon
        {
            return Err(ContradictoryPolicies::Window { notice, horizon });
        }
        Ok(self)
    }

    /// A booking lasting from `start` to `end` (made or extended) is within the length
    /// limits. Both bounds are inclusive.
    pub fn check_length(&self, start: Timestamp, end: Timestamp) -> Result<(), DomainError> {
        let length = end.duration_since(start);
        if let Some(max) = self.max_duration
            && length > max.duration()
        {
            return Err(DomainError::PolicyMaxDuration { max, length });
        }
        if let Some(min) = self.min_duration
            && length < min.duration()
        {
            return Err(DomainError::PolicyMinDuration { min, length });
        }
        Ok(())
    }

    /// A booking made at `at` may start at `start`: no sooner than the notice, no further
    /// ahead than the horizon. Both bounds are inclusive.
    pub fn check_start(&self, start: Timestamp, at: Timestamp) -> Result<(), DomainError> {
        let ahead = start.duration_since(at);
        let from_now = |l: Limit| at.checked_add(l.duration()).unwrap_or(Timestamp::MAX);
        if let Some(notice) = self.min_notice
            && ahead < notice.duration()
        {
            return Err(DomainError::PolicyMinNotice {
                notice,
                earliest: from_now(notice),
            });
        }
        if let Some(horizon) = self.booking_horizon
            && ahead > horizon.duration()
        {
            return Err(DomainError::PolicyHorizon {
                horizon,
                latest: from_now(horizon),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn limits_parse_weeks_days_and_time_and_print_days_apart() {
        for (text, shown, ms) in [
            ("PT4H", "PT4H", 4 * 3_600_000),
            ("P90D", "P90D", 90 * 86_400_000),
            ("P2W", "P14D", 14 * 86_400_000),
            ("P1DT12H", "P1DT12H", 36 * 3_600_000),
            ("p1dt0.5s", "P1DT0.5S", 86_400_500),
            ("PT30M", "PT30M", 1_800_000),
            ("PT1S", "PT1S", 1_000),
            ("P3660D", "P3660D", 3660 * 86_400_000),
        ] {
            let l = Limit::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(l.as_millis(), ms, "{text}");
            assert_eq!(l.to_string(), shown, "{text}");
            assert_eq!(
                Limit::parse(&l.to_string()),
                Ok(l),
                "{text} printed and read back"
            );
        }
        for bad in [
            "",
            "P",
            "PT",
            "P1M",
            "P1Y",
            "PT0S",
            "PT0.5S",
            "P3661D",
            "-PT1H",
            "PT1.0001S",
            "4h x",
        ] {
            assert!(Limit::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn length_limits_are_inclusive() {
        let p = Policies {
            max_duration: Some(Limit::hours(2)),
            min_duration: Some(Limit::minutes(15)),
            ..Policies::NONE
        };
        let start = at("2026-05-04T09:00:00Z");
        assert_eq!(p.check_length(start, at("2026-05-04T11:00:00Z")), Ok(()));
        assert_eq!(p.check_length(start, at("2026-05-04T09:15:00Z")), Ok(()));
        let long = p
            .check_length(start, at("2026-05-04T11:00:00.001Z"))
            .unwrap_err();
        assert_eq!(long.code(), "policy_max_duration");
        assert_eq!(
            long.to_string(),
            "the space's policy allows bookings of at most PT2H (maxDuration): this one lasts PT2H0.001S"
        );
        let short = p
            .check_length(start, at("2026-05-04T09:14:59Z"))
            .unwrap_err();
        assert_eq!(short.code(), "policy_min_duration");
        assert_eq!(
            Policies::NONE.check_length(start, at("2026-05-11T09:00:00Z")),
            Ok(())
        );
    }

    #[test]
    fn start_limits_are_inclusive_and_name_the_bound() {
        let p = Policies {
            booking_horizon: Some(Limit::parse("P30D").unwrap()),
            min_notice: Some(Limit::hours(1)),
            ..Policies::NONE
        };
        let now = at("2026-05-04T09:00:00Z");
        assert_eq!(p.check_start(at("2026-05-04T10:00:00Z"), now), Ok(()));
        assert_eq!(p.check_start(at("2026-06-03T09:00:00Z"), now), Ok(()));
        let soon = p
            .check_start(at("2026-05-04T09:59:59.999Z"), now)
            .unwrap_err();
        assert_eq!(soon.code(), "policy_min_notice");
        assert_eq!(
            soon.to_string(),
            "the space's policy takes bookings at least PT1H ahead (minNotice): the earliest start now is 2026-05-04T10:00:00Z"
        );
        let far = p
            .check_start(at("2026-06-03T09:00:00.001Z"), now)
            .unwrap_err();
        assert_eq!(far.code(), "policy_horizon");
        assert_eq!(
            far.to_string(),
            "the space's policy takes bookings at most P30D ahead (bookingHorizon): the latest start now is 2026-06-03T09:00:00Z"
        );
    }

    #[test]
    fn contradictory_policies_are_refused() {
        let p = Policies {
            max_duration: Some(Limit::hours(1)),
            min_duration: Some(Limit::hours(2)),
            ..Policies::NONE
        };
        assert!(matches!(
            p.consistent(),
            Err(ContradictoryPolicies::Duration { .. })
        ));
        let p = Policies {
            booking_horizon: Some(Limit::hours(1)),
            min_notice: Some(Limit::hours(1)),
            ..Policies::NONE
        };
        assert!(matches!(
            p.consistent(),
            Err(ContradictoryPolicies::Window { .. })
        ));
        let equal = Policies {
            max_duration: Some(Limit::hours(1)),
            min_duration: Some(Limit::hours(1)),
            ..Policies::NONE
        };
        assert_eq!(equal.consistent(), Ok(equal));
    }
}
