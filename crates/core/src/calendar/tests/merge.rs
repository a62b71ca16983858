//! Merging across midnight, always-open and never-open hours.

use super::{MS, hours, ts, zone};
use crate::calendar::{Boundary, BusinessHours, OpenInterval};
use serde_json::json;

fn late_monday() -> BusinessHours {
    hours(
        json!({"mon": [{"open": "20:00", "close": "24:00"}], "tue": [{"open": "00:00", "close": "02:00"}]}),
    )
}

#[test]
fn touching_intervals_across_midnight_are_one() {
    let z = zone("Europe/Berlin"); // CET in January: local = UTC + 1
    let h = late_monday();
    let (open, close) = (ts("2026-01-05T19:00Z"), ts("2026-01-06T01:00Z"));
    let want = OpenInterval {
        start: open,
        end: Some(close),
    };
    for at in [
        open,
        ts("2026-01-05T22:59:59.999Z"),
        ts("2026-01-05T23:00Z"),
        close - MS,
    ] {
        assert_eq!(h.interval_at(&z, at), Some(want), "{at}");
        assert!(h.is_open(&z, at));
        assert_eq!(
            h.next_boundary(&z, at),
            Some((close, Boundary::Close)),
            "{at}"
        );
    }
    assert_eq!(h.interval_at(&z, close), None);
    assert_eq!(h.interval_at(&z, open - MS), None);
    assert_eq!(h.next_boundary(&z, open - MS), Some((open, Boundary::Open)));
    // Strictly after: from the closing instant, the next boundary is next week's opening.
    assert_eq!(
        h.next_boundary(&z, close),
        Some((ts("2026-01-12T19:00Z"), Boundary::Open))
    );
    let week = h.open_intervals(&z, ts("2026-01-05T00:00Z"), ts("2026-01-12T00:00Z"));
    assert_eq!(week, vec![(open, close)]);
    // Clipping.
    let clipped = h.open_intervals(&z, ts("2026-01-05T23:00Z"), ts("2026-01-06T00:00Z"));
    assert_eq!(
        clipped,
        vec![(ts("2026-01-05T23:00Z"), ts("2026-01-06T00:00Z"))]
    );
    assert!(h.open_intervals(&z, close, open).is_empty());
}

#[test]
fn an_interval_spanning_days_extends_back_and_forward() {
    let all = json!([{"open": "00:00", "close": "24:00"}]);
    let h = hours(
        json!({"mon": all, "tue": all, "wed": all, "thu": all, "fri": all, "sat": all,
        "sun": [{"open": "00:00", "close": "23:00"}]}),
    );
    let z = zone("UTC");
    let got = h.interval_at(&z, ts("2026-01-08T12:00Z")).unwrap();
    assert_eq!(
        got,
        OpenInterval {
            start: ts("2026-01-05T00:00Z"),
            end: Some(ts("2026-01-11T23:00Z"))
        }
    );
    assert_eq!(
        h.next_boundary(&z, ts("2026-01-08T12:00Z")),
        Some((ts("2026-01-11T23:00Z"), Boundary::Close))
    );
    assert_eq!(
        h.next_boundary(&z, ts("2026-01-11T23:00Z")),
        Some((ts("2026-01-12T00:00Z"), Boundary::Open))
    );
}

#[test]
fn always_open_has_no_boundaries() {
    let z = zone("America/Havana");
    for h in [
        BusinessHours::always(),
        hours(json!({"mon": [{"open": "00:00", "close": "12:00"},
        {"open": "12:00", "close": "24:00"}], "tue": [{"open": "00:00", "close": "24:00"}],
        "wed": [{"open": "00:00", "close": "24:00"}], "thu": [{"open": "00:00", "close": "24:00"}],
        "fri": [{"open": "00:00", "close": "24:00"}], "sat": [{"open": "00:00", "close": "24:00"}],
        "sun": [{"open": "00:00", "close": "24:00"}]})),
    ] {
        let at = ts("2026-03-08T05:00Z");
        assert!(h.is_open(&z, at));
        assert_eq!(h.interval_at(&z, at).map(|i| i.end), Some(None));
        assert_eq!(h.next_boundary(&z, at), None);
        let (from, to) = (ts("2026-03-01T00:00Z"), ts("2026-03-15T00:00Z"));
        assert_eq!(h.open_intervals(&z, from, to), vec![(from, to)]);
    }
}

#[test]
fn closed_all_week_never_opens() {
    let z = zone("Europe/Berlin");
    let h = hours(json!({"mon": [], "sun": []}));
    let at = ts("2026-06-01T12:00Z");
    assert!(!h.is_open(&z, at));
    assert_eq!(h.interval_at(&z, at), None);
    assert_eq!(h.next_boundary(&z, at), None);
    assert!(h.open_intervals(&z, at, ts("2027-06-01T12:00Z")).is_empty());
}

#[test]
fn a_closed_minute_vanishing_in_a_gap_merges_that_week_only() {
    // Sunday 00:00-02:00 and 03:00-24:00 in Berlin: on 2026-03-29 02:00-03:00 does not exist.
    let z = zone("Europe/Berlin");
    let h = hours(
        json!({"sun": [{"open": "00:00", "close": "02:00"}, {"open": "03:00", "close": "24:00"}]}),
    );
    let got = h.interval_at(&z, ts("2026-03-29T00:30Z")).unwrap();
    assert_eq!(
        got,
        OpenInterval {
            start: ts("2026-03-28T23:00Z"),
            end: Some(ts("2026-03-29T22:00Z"))
        }
    );
    let week_before = h.open_intervals(&z, ts("2026-03-21T00:00Z"), ts("2026-03-23T00:00Z"));
    assert_eq!(week_before.len(), 2);
}

#[test]
fn extreme_instants_do_not_panic() {
    let z = zone("Pacific/Chatham");
    let h = late_monday();
    for at in [jiff::Timestamp::MIN, jiff::Timestamp::MAX] {
        let _ = (
            h.is_open(&z, at),
            h.interval_at(&z, at),
            h.next_boundary(&z, at),
        );
    }
    let all = h.open_intervals(
        &z,
        jiff::Timestamp::MAX - jiff::SignedDuration::from_hours(24 * 30),
        jiff::Timestamp::MAX,
    );
    assert!(all.len() >= 3);
    assert!(
        !h.open_intervals(
            &z,
            jiff::Timestamp::MIN,
            jiff::Timestamp::MIN + jiff::SignedDuration::from_hours(24 * 30)
        )
        .is_empty()
    );
}
