//! Business hours per space, resolved per day in the space's IANA zone.
//!
//! A space's [`BusinessHours`] are weekly local intervals. Each local day's intervals are
//! resolved to instants in the space's [`Zone`]: a local time inside a DST gap moves
//! forward to the end of the gap, an ambiguous local time (fall-back overlap) resolves to
//! the earlier instant, and `24:00` is the first instant of the next local day (which may
//! itself not be 00:00). Touching intervals, also across midnight, are one interval.

mod error;
mod hours;
mod resolve;
mod zone;

#[cfg(test)]
mod tests;

pub use error::CalendarError;
pub use hours::{BusinessHours, LocalInterval};
pub use zone::Zone;

use jiff::Timestamp;

/// A merged open interval of business hours, `[start, end)` in absolute time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenInterval {
    /// When it opened (`Timestamp::MIN` for a space that is always open).
    pub start: Timestamp,
    /// When it closes; `None` when the space never closes.
    pub end: Option<Timestamp>,
}

/// The kind of a business-hours boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boundary {
    /// The space opens.
    Open,
    /// The space closes.
    Close,
}
