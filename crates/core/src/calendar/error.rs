//! Errors from parsing zones and business hours, worded to tell a user what to fix.

/// Why a zone name or a `businessHours` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The zone name is not in the IANA time zone database.
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Berlin\"")]
    UnknownZone(String),
    /// A value has the wrong JSON type.
    #[error("{path}: expected {expected}")]
    Shape {
        /// Where, e.g. `businessHours.mon[0]`.
        path: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// A key of the `businessHours` object is not a weekday.
    #[error("businessHours: unknown day {0:?} (use mon, tue, wed, thu, fri, sat, sun)")]
    UnknownDay(String),
    /// An interval object has a key other than `open` and `close`.
    #[error("{path}: unknown field {field:?} (an interval has only \"open\" and \"close\")")]
    UnknownField {
        /// Where, e.g. `businessHours.mon[0]`.
        path: String,
        /// The refused key.
        field: String,
    },
    /// An interval object lacks `open` or `close`.
    #[error("{path}: missing {field:?}")]
    MissingField {
        /// Where, e.g. `businessHours.mon[0]`.
        path: String,
        /// `open` or `close`.
        field: &'static str,
    },
    /// A time is not `HH:MM` within the allowed range.
    #[error("{path}: {value:?} is not a valid time (use \"HH:MM\" from {min} to {max})")]
    BadTime {
        /// Where, e.g. `businessHours.mon[0].open`.
        path: String,
        /// The refused text.
        value: String,
        /// The earliest allowed time.
        min: &'static str,
        /// The latest allowed time.
        max: &'static str,
    },
    /// An interval's `open` is not before its `close`.
    #[error("{path}: open {open} is not before close {close}")]
    EmptyInterval {
        /// Where, e.g. `businessHours.mon[0]`.
        path: String,
        /// The opening time as written.
        open: String,
        /// The closing time as written.
        close: String,
    },
    /// Two intervals of one day overlap (touching intervals are fine).
    #[error("businessHours.{day}: intervals {first} and {second} overlap")]
    Overlap {
        /// The day key, e.g. `mon`.
        day: &'static str,
        /// One interval, e.g. `08:00-12:00`.
        first: String,
        /// The other interval.
        second: String,
    },
    /// A day lists more intervals than allowed.
    #[error("businessHours.{day}: {count} intervals, at most {max} are allowed")]
    TooManyIntervals {
        /// The day key, e.g. `mon`.
        day: &'static str,
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
}
