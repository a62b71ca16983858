//! The property: [`figures`] equals a pointwise model on generated histories.
//!
//! The model cuts `[from, to)` at every instant where anything could change (every booking
//! instant, every maintenance edge, every DST transition, and both readings of every local
//! opening and closing time of the days around), then asks each piece, at its first
//! instant, whether the space is open (`SpaceSettings::is_open`, a path of its own through
//! the calendar) and which bookings are booked, occupied or released there. Between two
//! cuts nothing changes, so the sum of piece lengths is exact to the millisecond.

use super::super::*;
use crate::calendar::{BusinessHours, Zone};
use crate::period::Period;
use jiff::{SignedDuration, ToSpan};
use proptest::prelude::*;
use serde_json::{Value, json};

const ZONES: [&str; 4] = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "UTC",
];
const MIN: i64 = 60_000;
const DAY: i64 = 24 * 60 * MIN;

/// One booking as the generator describes it, relative to a centre instant.
#[derive(Debug, Clone)]
struct Gen {
    start: i64,
    len: i64,
    kind: u8,
    a: i64,
    b: i64,
    recorded: bool,
}

fn day_hours() -> impl Strategy<Value = Value> {
    let point = prop_oneof![Just(0u16), Just(96), 0u16..=96];
    proptest::collection::vec(point, 0..=4).prop_map(|mut pts| {
        pts.sort_unstable();
        let list: Vec<Value> = pts
            .chunks_exact(2)
            .filter(|c| c[0] < c[1])
            .map(|c| json!({"open": hhmm(c[0] * 15), "close": hhmm(c[1] * 15)}))
            .collect();
        Value::Array(list)
    })
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn hours() -> impl Strategy<Value = Option<BusinessHours>> {
    let week = proptest::array::uniform7(day_hours()).prop_map(|days| {
        let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let obj: serde_json::Map<String, Value> =
            keys.iter().map(|k| k.to_string()).zip(days).collect();
        Some(BusinessHours::parse_json(&Value::Object(obj)).expect("valid hours"))
    });
    prop_oneof![1 => Just(None), 4 => week]
}

fn booking() -> impl Strategy<Value = Gen> {
    (
        -3 * DAY..3 * DAY,
        prop_oneof![1i64..=MIN, MIN..=12 * 60 * MIN],
        0u8..8,
        0i64..=i64::MAX,
        0i64..=i64::MAX,
        any::<bool>(),
    )
        .prop_map(|(start, len, kind, a, b, recorded)| Gen {
            start,
            len,
            kind,
            a,
            b,
            recorded,
        })
}

/// A history's bookings from the generated ones, each consistent with the machines:
/// check-in from `start - lead` to the no-show deadline, check-out after check-in, a no-show
/// released at or after its deadline by today's grace (recorded: the grace may have been
/// longer then; or left to the fallback), cancellations before the deadline. Some start
/// exactly at `from` or `to`.
fn facts(
    g: &Gen,
    centre: Timestamp,
    s: &SpaceSettings,
    range: (Timestamp, Timestamp),
) -> BookingFacts {
    let start = match g.a % 8 {
        0 => range.0,
        1 => range.1,
        _ => centre + SignedDuration::from_millis(g.start),
    };
    let end = start + SignedDuration::from_millis(g.len);
    let lead = s.upcoming_lead.duration();
    let deadline = (start + s.no_show_grace.duration()).min(end);
    let within = |lo: Timestamp, hi: Timestamp, r: i64| -> Timestamp {
        let span = (hi.as_millisecond() - lo.as_millisecond()).max(1);
        lo + SignedDuration::from_millis(r % span)
    };
    let checked_in = within(start - lead, deadline, g.a);
    let mut f = BookingFacts {
        start,
        end,
        status: BookingStatus::Scheduled,
        checked_in_at: None,
        ended_at: None,
        cancelled_at: None,
        released_at: None,
    };
    match g.kind {
        0 => f.status = [BookingStatus::Scheduled, BookingStatus::Upcoming][g.b as usize % 2],
        1 => f.status = BookingStatus::AwaitingCheckIn,
        2 => {
            f.status = BookingStatus::CheckedIn;
            f.checked_in_at = Some(checked_in);
        }
        3 | 4 => {
            f.status = BookingStatus::Completed;
            f.checked_in_at = Some(checked_in);
            // Half end at `end`, half check out early (possibly before `start`).
            let ended = within(checked_in + SignedDuration::from_millis(1), end, g.b);
            f.ended_at = Some(if g.kind == 3 { end } else { ended.min(end) });
        }
        5 | 6 => {
            f.status = BookingStatus::NoShow;
            let late = SignedDuration::from_millis(g.b % (5 * MIN));
            f.released_at = g.recorded.then_some((deadline + late).min(end));
        }
        _ => {
            f.status = BookingStatus::Cancelled;
            f.cancelled_at = Some(within(
                start - SignedDuration::from_hours(48),
                deadline,
                g.b,
            ));
        }
    }
    f
}

/// Every instant at which openness could change near `[from, to)`: both readings of each
/// local opening and closing time of the days around, and the zone's transitions.
fn calendar_cuts(s: &SpaceSettings, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
    let mut out = vec![];
    let Some(hours) = &s.business_hours else {
        return out;
    };
    let tz = s.zone.tz();
    let first = tz
        .to_datetime(from)
        .date()
        .checked_sub(2.days())
        .expect("date");
    let last = tz
        .to_datetime(to)
        .date()
        .checked_add(2.days())
        .expect("date");
    let mut d = first;
    while d <= last {
        for iv in hours.day(d.weekday()) {
            for m in [iv.open_minutes(), iv.close_minutes()] {
                let dt = d
                    .at(0, 0, 0, 0)
                    .checked_add(SignedDuration::from_mins(i64::from(m)))
                    .expect("datetime");
                let amb = tz.to_ambiguous_timestamp(dt);
                out.extend(amb.earlier().ok());
                out.extend(amb.later().ok());
            }
        }
        d = d.tomorrow().expect("date");
    }
    let lo = from - SignedDuration::from_hours(96);
    out.extend(
        tz.following(lo)
            .map(|t| t.timestamp())
            .take_while(|t| *t <= to + SignedDuration::from_hours(96)),
    );
    out
}

fn model(h: &History<'_>, from: Timestamp, to: Timestamp, now: Timestamp) -> Figures {
    let grace = h.settings.no_show_grace.duration();
    let release = |b: &BookingFacts| {
        b.released_at
            .unwrap_or((b.start + grace).min(b.end))
            .clamp(b.start, b.end)
    };
    let mut cuts = vec![from, to, now];
    cuts.extend(h.created_at);
    cuts.extend(calendar_cuts(h.settings, from, to));
    for m in h.maintenance {
        cuts.push(m.0);
        cuts.extend(m.1);
    }
    for b in h.bookings {
        cuts.extend([b.start, b.end, release(b)]);
        cuts.extend(b.checked_in_at);
        cuts.extend(b.ended_at);
    }
    cuts.retain(|t| from <= *t && *t <= to);
    cuts.sort();
    cuts.dedup();
    let mut f = Figures::default();
    for w in cuts.windows(2) {
        let (t, len) = (w[0], w[1].as_millisecond() - w[0].as_millisecond());
        let in_maintenance = h
            .maintenance
            .iter()
            .any(|&(s, e)| s <= t && e.is_none_or(|e| t < e));
        let existed = h.created_at.is_none_or(|c| c <= t);
        if h.settings.is_open(t) && !in_maintenance && existed {
            f.open_ms += len;
        }
        for b in h.bookings {
            let inside = |s: Timestamp, e: Timestamp| s <= t && t < e;
            let status = b.status;
            if status != BookingStatus::Cancelled && inside(b.start, b.end) {
                f.booked_ms += len;
            }
            let session_end = match status {
                BookingStatus::CheckedIn => Some(b.end.min(now)),
                BookingStatus::Completed => b.ended_at,
                BookingStatus::Scheduled
                | BookingStatus::Upcoming
                | BookingStatus::AwaitingCheckIn
                | BookingStatus::Cancelled
                | BookingStatus::NoShow => None,
            };
            if let (Some(c), Some(e)) = (b.checked_in_at, session_end)
                && inside(c, e)
            {
                f.occupied_ms += len;
            }
            let released = match status {
                BookingStatus::NoShow => inside(release(b), b.end),
                BookingStatus::Completed => b.ended_at.is_some_and(|e| inside(e, b.end)),
                BookingStatus::Scheduled
                | BookingStatus::Upcoming
                | BookingStatus::AwaitingCheckIn
                | BookingStatus::CheckedIn
                | BookingStatus::Cancelled => false,
            };
            if released {
                f.released_ms += len;
            }
        }
    }
    let starting: Vec<&BookingFacts> = h
        .bookings
        .iter()
        .filter(|b| from <= b.start && b.start < to && b.status != BookingStatus::Cancelled)
        .collect();
    f.bookings = starting.len() as u64;
    f.no_shows = starting
        .iter()
        .filter(|b| b.status == BookingStatus::NoShow)
        .count() as u64;
    f.check_ins = starting
        .iter()
        .filter(|b| b.checked_in_at.is_some())
        .count() as u64;
    f
}

/// The centre of a history: a DST transition of the zone in 2026 (when it has any), or a
/// uniform instant of 2026.
fn centre(z: &Zone, pick: usize, near_dst: bool, uniform: i64) -> Timestamp {
    let year = Timestamp::from_second(1_767_225_600).expect("2026-01-01");
    let dst: Vec<Timestamp> = z
        .tz()
        .following(year)
        .map(|t| t.timestamp())
        .take_while(|t| *t < year + SignedDuration::from_hours(24 * 365))
        .collect();
    if near_dst && !dst.is_empty() {
        dst[pick % dst.len()]
    } else {
        year + SignedDuration::from_millis(uniform)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn figures_match_the_pointwise_model(
        zone in 0usize..ZONES.len(),
        hours in hours(),
        pick in 0usize..8,
        near_dst in prop_oneof![3 => Just(true), 1 => Just(false)],
        uniform in 0i64..365 * DAY,
        from_off in -2 * DAY..2 * DAY,
        len in prop_oneof![1i64..=DAY / 4, 1i64..=3 * DAY],
        now_off in -4 * DAY..4 * DAY,
        grace_min in 1i64..30,
        maint in proptest::collection::vec((-3 * DAY..3 * DAY, 0i64..DAY, any::<bool>()), 0..4),
        gens in proptest::collection::vec(booking(), 0..10),
        created in proptest::option::of(-3 * DAY..3 * DAY),
    ) {
        let z = Zone::parse(ZONES[zone]).expect("zone");
        let mut s = SpaceSettings::defaults(z.clone());
        s.business_hours = hours;
        s.no_show_grace = Period::minutes(grace_min);
        let c = centre(&z, pick, near_dst, uniform);
        let at = |ms: i64| c + SignedDuration::from_millis(ms);
        let (from, to, now) = (at(from_off), at(from_off + len), at(now_off));
        let maintenance: Vec<Maintenance> = maint
            .iter()
            .map(|&(s, l, open)| (at(s), (!open).then(|| at(s + l + 1))))
            .collect();
        let bookings: Vec<BookingFacts> =
            gens.iter().map(|g| facts(g, c, &s, (from, to))).collect();
        let h = History {
            settings: &s,
            bookings: &bookings,
            maintenance: &maintenance,
            created_at: created.map(at),
        };
        prop_assert_eq!(figures(&h, from, to, now), model(&h, from, to, now));
    }
}
