//! Recurring series (CONTRACT §9): the RRULE subset a series is written in
//! ([`Rule`]) and its occurrences in the space's zone ([`occurrences`]). Pure: the
//! engine stores a series and books its occurrences as ordinary bookings.

mod expand;
mod rule;

#[cfg(test)]
mod tests;

pub use expand::{Occurrence, Occurrences, SCAN_YEARS, occurrences};
pub use rule::{ByDay, Freq, MAX_COUNT, MAX_INTERVAL, Rule, RuleEnd, RuleError};
