//! Bookable intervals of a space: business hours minus what bookings (with cleaning) hold.

use crate::booking::Booking;
use crate::space::Space;
use jiff::Timestamp;

/// The intervals within `[from, to)` where a booking `[s, e)` with `from ≤ s < e ≤ end of
/// interval` would be accepted at `now` (ignoring the global id check).
pub fn bookable(
    space: &Space,
    bookings: &[Booking],
    from: Timestamp,
    to: Timestamp,
    now: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let from = from.max(now);
    if from >= to {
        return vec![];
    }
    let s = &space.settings;
    let open = match &s.business_hours {
        None => vec![(from, to)],
        Some(h) => h.open_intervals(&s.zone, from, to),
    };
    let cleaning = s.cleaning.duration();
    // A new booking's own cleaning must end before the next held interval begins.
    let mut held: Vec<(Timestamp, Timestamp)> = bookings
        .iter()
        .filter_map(|b| b.blocked_interval(s.cleaning))
        .map(|(a, z)| (a - cleaning, z))
        .collect();
    held.sort();
    let mut out = vec![];
    for (mut a, z) in open {
        for &(ha, hz) in &held {
            if hz <= a || ha >= z {
                continue;
            }
            if ha > a {
                out.push((a, ha));
            }
            a = a.max(hz);
            if a >= z {
                break;
            }
        }
        if a < z {
            out.push((a, z));
        }
    }
    out
}
