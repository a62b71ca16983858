//! No-show strikes (CONTRACT §9): a space's `noShowStrikes` setting releases a series after
//! that many consecutive no-shows of its occurrences; a check-in starts the count again.
//! The count is kept with the series (the engine stores it); this module says what each
//! outcome does to it and when it releases the series. An occurrence cancelled (on request
//! or by maintenance) neither counts nor resets: nobody was expected to come.

use crate::decide::Outcome;
use crate::ids::SeriesId;
use crate::notice::{BookingNotice, Notice};

/// A space's `noShowStrikes`: how many consecutive no-shows release a series (0 = never).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NoShowStrikes(u16);

impl NoShowStrikes {
    /// The contract's default: 3.
    pub const DEFAULT: Self = Self(3);
    /// Never release a series.
    pub const OFF: Self = Self(0);
    /// The largest setting taken.
    pub const MAX: u16 = 1000;

    /// `n` strikes, if within `0..=MAX`.
    pub fn new(n: i64) -> Option<Self> {
        u16::try_from(n).ok().filter(|n| *n <= Self::MAX).map(Self)
    }

    /// The number.
    pub fn get(self) -> u16 {
        self.0
    }

    /// Whether a series with `streak` consecutive no-shows is released.
    pub fn releases(self, streak: u32) -> bool {
        self.0 > 0 && streak >= u32::from(self.0)
    }
}

/// What one occurrence's event does to its series' count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strike {
    /// A no-show: one more.
    NoShow,
    /// A check-in: back to zero.
    CheckIn,
}

/// The strikes `out` records, in order, with the series of each occurrence concerned.
pub fn recorded(out: &Outcome) -> impl Iterator<Item = (&SeriesId, Strike)> {
    out.notices.iter().filter_map(|n| match n {
        Notice::Booking { kind, booking } => {
            let strike = match kind {
                BookingNotice::NoShow => Strike::NoShow,
                BookingNotice::CheckedIn => Strike::CheckIn,
                BookingNotice::Created
                | BookingNotice::Start
                | BookingNotice::CheckedOut
                | BookingNotice::Ended
                | BookingNotice::Cancelled
                | BookingNotice::Extended => return None,
            };
            booking.series_id.as_ref().map(|s| (s, strike))
        }
        Notice::SeriesReleased { .. }
        | Notice::SpaceStateChanged { .. }
        | Notice::RoomStateChanged { .. } => None,
    })
}

/// A series' count after `strike`.
pub fn counted(streak: u32, strike: Strike) -> u32 {
    match strike {
        Strike::NoShow => streak.saturating_add(1),
        Strike::CheckIn => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Booking, BookingStatus};
    use crate::ids::{BookingId, SpaceId};

    fn notice(kind: BookingNotice, series: Option<&str>) -> Notice {
        let at = "2026-05-04T09:00:00Z".parse().unwrap();
        Notice::Booking {
            kind,
            booking: Box::new(Booking {
                id: BookingId::parse("b").unwrap(),
                space_id: SpaceId::parse("s").unwrap(),
                title: String::new(),
                start: at,
                end: at,
                status: BookingStatus::NoShow,
                created_at: at,
                checked_in_at: None,
                ended_at: None,
                cancelled_at: None,
                cancel_reason: None,
                series_id: series.map(|s| SeriesId::parse(s).unwrap()),
            }),
        }
    }

    #[test]
    fn the_setting_is_bounded_and_zero_never_releases() {
        assert_eq!(NoShowStrikes::new(0), Some(NoShowStrikes::OFF));
        assert_eq!(NoShowStrikes::new(3), Some(NoShowStrikes::DEFAULT));
        assert_eq!(NoShowStrikes::new(1000).map(NoShowStrikes::get), Some(1000));
        assert_eq!(NoShowStrikes::new(1001), None);
        assert_eq!(NoShowStrikes::new(-1), None);
        assert!(!NoShowStrikes::OFF.releases(u32::MAX));
        assert!(!NoShowStrikes::DEFAULT.releases(2));
        assert!(NoShowStrikes::DEFAULT.releases(3));
        assert!(NoShowStrikes::new(1).unwrap().releases(1));
    }

    #[test]
    fn no_shows_count_check_ins_reset_everything_else_is_ignored() {
        assert_eq!(counted(2, Strike::NoShow), 3);
        assert_eq!(counted(2, Strike::CheckIn), 0);
        assert_eq!(counted(u32::MAX, Strike::NoShow), u32::MAX);
        let out = Outcome {
            notices: vec![
                notice(BookingNotice::NoShow, Some("weekly")),
                notice(BookingNotice::NoShow, None),
                notice(BookingNotice::Cancelled, Some("weekly")),
                notice(BookingNotice::Ended, Some("weekly")),
                notice(BookingNotice::CheckedIn, Some("daily")),
            ],
            ..Outcome::default()
        };
        let got: Vec<(&str, Strike)> = recorded(&out).map(|(s, k)| (s.as_str(), k)).collect();
        assert_eq!(
            got,
            vec![("weekly", Strike::NoShow), ("daily", Strike::CheckIn)]
        );
    }
}
