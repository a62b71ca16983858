//! Property tests: `is_open`, `interval_at`, `next_boundary` and `open_intervals` agree.

use super::{MS, ts, zone};
use crate::calendar::{Boundary, BusinessHours, Zone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Zones with DST (some with midnight gaps, folds across midnight, or 30-minute shifts).
const ZONES: [&str; 10] = [
    "Europe/Berlin",
    "America/New_York",
    "America/Havana",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Nuuk",
    "Africa/Casablanca",
    "Asia/Gaza",
    "Pacific/Chatham",
    "UTC",
];

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// One day: sorted quarter-hour points paired up; equal neighbours touch or vanish.
fn day() -> impl Strategy<Value = Value> {
    let point = prop_oneof![Just(0u16), Just(96), 0u16..=96];
    proptest::collection::vec(point, 0..=6).prop_map(|mut pts| {
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
    crate::calendar::hours::hhmm(m)
}

fn week() -> impl Strategy<Value = BusinessHours> {
    proptest::array::uniform7(day()).prop_map(|days| {
        let keys = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let obj: serde_json::Map<String, Value> =
            keys.iter().map(|k| k.to_string()).zip(days).collect();
        BusinessHours::parse_json(&Value::Object(obj)).expect("generated hours are valid")
    })
}

/// An instant in 2026: uniform, or within three days of one of the zone's transitions.
fn instant(z: &Zone, near: Option<(usize, i64)>, uniform_ms: i64) -> Timestamp {
    let year = ts("2026-01-01T00:00Z");
    let transitions: Vec<Timestamp> = z
        .tz()
        .following(year)
        .map(|t| t.timestamp())
        .take_while(|t| *t < ts("2027-01-01T00:00Z"))
        .collect();
    match near {
        Some((k, ms)) if !transitions.is_empty() => {
            transitions[k % transitions.len()] + SignedDuration::from_millis(ms)
        }
        _ => year + SignedDuration::from_millis(uniform_ms),
    }
}

/// Open intervals of `[from, to)` rebuilt from `is_open` and the chain of `next_boundary`.
fn chain(
    h: &BusinessHours,
    z: &Zone,
    from: Timestamp,
    to: Timestamp,
) -> Vec<(Timestamp, Timestamp)> {
    let (mut out, mut cur) = (vec![], from);
    let mut open_since = h.is_open(z, from).then_some(from);
    while let Some((b, kind)) = h.next_boundary(z, cur).filter(|&(b, _)| b < to) {
        assert!(b > cur, "boundary {b} not after {cur}");
        match kind {
            Boundary::Open => assert!(open_since.replace(b).is_none(), "open while open at {b}"),
            Boundary::Close => out.push((open_since.take().expect("close while closed"), b)),
        }
        assert_eq!(
            h.is_open(z, b),
            kind == Boundary::Open,
            "just after {kind:?} at {b}"
        );
        assert_eq!(
            h.is_open(z, b - MS),
            kind == Boundary::Close,
            "just before {kind:?} at {b}"
        );
        cur = b;
    }
    out.extend(open_since.map(|s| (s, to)));
    out
}

/// Away from transitions, the answer is the plain civil one.
fn check_civil(h: &BusinessHours, z: &Zone, t: Timestamp) {
    let quiet = z
        .tz()
        .following(t - 2 * DAY)
        .next()
        .is_none_or(|x| x.timestamp() > t + 2 * DAY);
    if quiet {
        let dt = z.tz().to_datetime(t);
        let m = (dt.hour() as u16) * 60 + dt.minute() as u16;
        let civil = h
            .day(dt.weekday())
            .iter()
            .any(|i| i.open_minutes() <= m && m < i.close_minutes());
        assert_eq!(h.is_open(z, t), civil, "civil {dt}");
    }
}

fn check_point(h: &BusinessHours, z: &Zone, t: Timestamp) {
    let iv = h.interval_at(z, t);
    assert_eq!(h.is_open(z, t), iv.is_some());
    let next = h.next_boundary(z, t);
    match iv {
        Some(iv) => {
            assert!(iv.start <= t);
            if iv.start > Timestamp::MIN {
                assert!(
                    h.is_open(z, iv.start) && !h.is_open(z, iv.start - MS),
                    "start {}",
                    iv.start
                );
            }
            if let Some(end) = iv.end {
                assert!(
                    t < end && h.is_open(z, end - MS) && !h.is_open(z, end),
                    "end {end}"
                );
            }
            assert_eq!(next, iv.end.map(|e| (e, Boundary::Close)));
        }
        None => assert!(next.is_none_or(|(_, k)| k == Boundary::Open)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn queries_agree(
        h in week(),
        zi in 0..ZONES.len(),
        near in proptest::option::of((0usize..8, -3 * 86_400_000i64..3 * 86_400_000)),
        uniform in 0i64..365 * 86_400_000,
    ) {
        let z = zone(ZONES[zi]);
        let t = instant(&z, near, uniform);
        check_point(&h, &z, t);
        check_civil(&h, &z, t);
        let to = t + 7 * DAY;
        let all = h.open_intervals(&z, t, to);
        for w in all.windows(2) {
            prop_assert!(w[0].1 < w[1].0, "touching or unordered: {all:?}");
        }
        for &(s, e) in &all {
            prop_assert!(t <= s && s < e && e <= to);
        }
        prop_assert_eq!(&all, &chain(&h, &z, t, to));
    }
}
