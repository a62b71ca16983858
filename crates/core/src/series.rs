//! Recurring series (CONTRACT §9): the RRULE subset a series is written in
//! ([`Rule`]), its occurrences in the space's zone ([`occurrences`]) and its no-show
//! strikes ([`strikes`]). Pure: the engine stores a series and books its occurrences as
//! ordinary bookings.

mod expand;
mod rule;
pub mod strikes;

#[cfg(test)]
mod tests;

pub use expand::{Occurrence, Occurrences, SCAN_YEARS, occurrences};
pub use rule::{ByDay, Freq, MAX_COUNT, MAX_INTERVAL, Rule, RuleEnd, RuleError};
pub use strikes::{NoShowStrikes, Strike};
