//! The load: spaces with 1–3 s lead, grace and cleaning, and bookings one after another on
//! each space whose fates (no-show, run to the end, check out early, cancel) are drawn from
//! a seeded generator.

use crate::support::Rng;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

/// Milliseconds as a duration.
pub fn ms(n: i64) -> SignedDuration {
    SignedDuration::from_millis(n)
}

/// A space and its timings (whole seconds, in ms).
#[derive(Debug, Clone)]
pub struct SpacePlan {
    pub id: String,
    pub lead_ms: i64,
    pub grace_ms: i64,
    pub cleaning_ms: i64,
}

impl SpacePlan {
    /// The `POST /v1/spaces` body.
    pub fn body(&self) -> serde_json::Value {
        json!({"id": self.id, "name": self.id, "timezone": "UTC",
            "upcomingLead": format!("PT{}S", self.lead_ms / 1000),
            "noShowGrace": format!("PT{}S", self.grace_ms / 1000),
            "cleaning": format!("PT{}S", self.cleaning_ms / 1000)})
    }
}

/// What the test does to a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fate {
    /// Nobody checks in.
    NoShow,
    /// Checked in, runs to its end.
    RunToEnd,
    /// Checked in, checked out before its end.
    CheckOutEarly,
    /// Cancelled before it starts.
    Cancel,
}

/// A booking, when it is created, and when its user actions are sent.
#[derive(Debug, Clone)]
pub struct BookingPlan {
    pub id: String,
    pub space: usize,
    pub start: Timestamp,
    pub end: Timestamp,
    pub fate: Fate,
    pub create_at: Timestamp,
    /// Check-in (RunToEnd, CheckOutEarly) or cancel (Cancel).
    pub act1_at: Option<Timestamp>,
    /// Check-out (CheckOutEarly).
    pub act2_at: Option<Timestamp>,
}

/// The whole load.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spaces: Vec<SpacePlan>,
    pub bookings: Vec<BookingPlan>,
}

impl Plan {
    /// Draws `spaces` spaces and their bookings, the first upcoming instants a few seconds
    /// after `t0` and the last ones before `t0 + span_ms`.
    pub fn draw(rng: &mut Rng, spaces: usize, t0: Timestamp, span_ms: i64) -> Plan {
        let mut plan = Plan {
            spaces: vec![],
            bookings: vec![],
        };
        for s in 0..spaces {
            let sp = SpacePlan {
                id: format!("room-{s}"),
                lead_ms: rng.range(1, 4) * 1000,
                grace_ms: rng.range(1, 4) * 1000,
                cleaning_ms: rng.range(1, 4) * 1000,
            };
            let mut upcoming = t0 + ms(3000 + rng.range(0, 3000));
            let mut k = 0;
            while upcoming < t0 + ms(span_ms) {
                let b = draw_booking(rng, &sp, s, k, t0, upcoming);
                upcoming = b.end + ms(sp.cleaning_ms + rng.range(300, 1500));
                plan.bookings.push(b);
                k += 1;
            }
            plan.spaces.push(sp);
        }
        plan
    }

    /// The instant every timer of the plan has passed.
    pub fn all_done_at(&self) -> Timestamp {
        self.bookings
            .iter()
            .map(|b| b.end + ms(self.spaces[b.space].cleaning_ms))
            .max()
            .unwrap_or_else(Timestamp::now)
    }
}

fn draw_booking(
    rng: &mut Rng,
    sp: &SpacePlan,
    s: usize,
    k: usize,
    t0: Timestamp,
    upcoming: Timestamp,
) -> BookingPlan {
    let start = upcoming + ms(sp.lead_ms);
    let dur = sp.grace_ms + rng.range(1500, 3000);
    let end = start + ms(dur);
    let fate = match rng.range(0, 100) {
        0..35 => Fate::NoShow,
        35..60 => Fate::RunToEnd,
        60..85 => Fate::CheckOutEarly,
        _ => Fate::Cancel,
    };
    let create_at = if k == 0 {
        t0
    } else {
        (upcoming - ms(rng.range(1500, 4000))).max(t0)
    };
    let check_in = start + ms(rng.range(100, sp.grace_ms - 400));
    let act1_at = match fate {
        Fate::NoShow => None,
        Fate::RunToEnd | Fate::CheckOutEarly => Some(check_in),
        Fate::Cancel => {
            Some((upcoming + ms(rng.range(-1000, sp.lead_ms - 200))).max(create_at + ms(300)))
        }
    };
    let act2_at = (fate == Fate::CheckOutEarly)
        .then(|| start + ms(sp.grace_ms + 100 + rng.range(0, dur - sp.grace_ms - 500)));
    BookingPlan {
        id: format!("bk-{s}-{k}"),
        space: s,
        start,
        end,
        fate,
        create_at,
        act1_at,
        act2_at,
    }
}
