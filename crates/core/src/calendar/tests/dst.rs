//! DST-correct resolution in zones with gaps and folds (tzdb facts asserted first).

use super::{MS, mins, only_interval, sunday, ts, zone};
use crate::calendar::{Boundary, OpenInterval, Zone};
use jiff::Timestamp;
use jiff::civil::{Weekday, date};
use jiff::tz::Offset;

/// Asserts the zone's first transition after `after` is at `at` to offset `secs`.
fn assert_transition(z: &Zone, after: &str, at: &str, secs: i32) {
    let t = z.tz().following(ts(after)).next().expect("a transition");
    assert_eq!(
        (t.timestamp(), t.offset()),
        (ts(at), Offset::from_seconds(secs).unwrap()),
        "{}",
        z.name()
    );
}

fn length((s, e): (Timestamp, Timestamp)) -> jiff::SignedDuration {
    e - s
}

#[test]
fn the_2026_dates_used_are_sundays() {
    for (m, d) in [(3, 8), (3, 29), (4, 5), (10, 4), (10, 25), (11, 1)] {
        assert_eq!(date(2026, m, d).weekday(), Weekday::Sunday, "2026-{m}-{d}");
    }
}

#[test]
fn berlin_spring_forward() {
    let z = zone("Europe/Berlin");
    assert_transition(&z, "2026-03-01T00:00Z", "2026-03-29T01:00Z", 7200);
    // 01:00 CET .. 04:00 CEST: three civil hours, two real ones.
    let iv = only_interval(
        &sunday("01:00", "04:00"),
        &z,
        "2026-03-28T12:00Z",
        "2026-03-29T12:00Z",
    );
    assert_eq!(iv, (ts("2026-03-29T00:00Z"), ts("2026-03-29T02:00Z")));
    // 02:30 does not exist: it moves forward to the end of the gap, 03:00 CEST.
    let h = sunday("02:30", "05:00");
    let iv = only_interval(&h, &z, "2026-03-28T12:00Z", "2026-03-29T12:00Z");
    assert_eq!(iv, (ts("2026-03-29T01:00Z"), ts("2026-03-29T03:00Z")));
    assert_eq!(length(iv), mins(120));
    assert_eq!(
        h.next_boundary(&z, ts("2026-03-28T12:00Z")),
        Some((ts("2026-03-29T01:00Z"), Boundary::Open))
    );
    // jiff's `compatible` would have said 03:30 (shifted by the gap length) instead.
    let compatible = z
        .tz()
        .to_timestamp(date(2026, 3, 29).at(2, 30, 0, 0))
        .unwrap();
    assert_eq!(compatible, ts("2026-03-29T01:30Z"));
    // Closing inside the gap closes at its end.
    let iv = only_interval(
        &sunday("01:00", "02:30"),
        &z,
        "2026-03-28T12:00Z",
        "2026-03-29T12:00Z",
    );
    assert_eq!(length(iv), mins(60));
}

#[test]
fn berlin_interval_entirely_in_the_gap_is_closed_that_day() {
    let z = zone("Europe/Berlin");
    let h = sunday("02:00", "02:45");
    assert!(
        h.open_intervals(&z, ts("2026-03-28T12:00Z"), ts("2026-03-29T12:00Z"))
            .is_empty()
    );
    assert!(!h.is_open(&z, ts("2026-03-29T01:00Z")));
    // The next opening is a week later (CEST: 02:00 = 00:00Z).
    let next = h.next_boundary(&z, ts("2026-03-28T12:00Z"));
    assert_eq!(next, Some((ts("2026-04-05T00:00Z"), Boundary::Open)));
}

#[test]
fn berlin_fall_back() {
    let z = zone("Europe/Berlin");
    assert_transition(&z, "2026-10-01T00:00Z", "2026-10-25T01:00Z", 3600);
    let (from, to) = ("2026-10-24T12:00Z", "2026-10-25T12:00Z");
    let iv = only_interval(&sunday("01:00", "04:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-10-24T23:00Z"), ts("2026-10-25T03:00Z")));
    assert_eq!(length(iv), mins(240));
    // 02:30 happens twice: the earlier one (CEST) opens; 03:30 is CET.
    let h = sunday("02:30", "03:30");
    let iv = only_interval(&h, &z, from, to);
    assert_eq!(iv, (ts("2026-10-25T00:30Z"), ts("2026-10-25T02:30Z")));
    assert_eq!(length(iv), mins(120));
    let at = ts("2026-10-25T01:45Z"); // the second 02:45
    assert_eq!(
        h.interval_at(&z, at),
        Some(OpenInterval {
            start: iv.0,
            end: Some(iv.1)
        })
    );
    assert_eq!(h.next_boundary(&z, at), Some((iv.1, Boundary::Close)));
    // Both ends ambiguous: both resolve to the earlier pass.
    assert_eq!(
        length(only_interval(&sunday("02:00", "02:30"), &z, from, to)),
        mins(30)
    );
}

#[test]
fn new_york_spring_forward_and_fall_back() {
    let z = zone("America/New_York");
    assert_transition(&z, "2026-03-01T00:00Z", "2026-03-08T07:00Z", -4 * 3600);
    assert_transition(&z, "2026-10-01T00:00Z", "2026-11-01T06:00Z", -5 * 3600);
    let (from, to) = ("2026-03-07T12:00Z", "2026-03-08T20:00Z");
    let iv = only_interval(&sunday("01:00", "04:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-03-08T06:00Z"), ts("2026-03-08T08:00Z")));
    let iv = only_interval(&sunday("02:30", "05:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-03-08T07:00Z"), ts("2026-03-08T09:00Z")));
    let (from, to) = ("2026-10-31T12:00Z", "2026-11-01T20:00Z");
    // 01:30 is ambiguous: as a close it is the earlier (EDT) 01:30.
    let iv = only_interval(&sunday("00:30", "01:30"), &z, from, to);
    assert_eq!(iv, (ts("2026-11-01T04:30Z"), ts("2026-11-01T05:30Z")));
    let iv = only_interval(&sunday("01:30", "03:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-11-01T05:30Z"), ts("2026-11-01T08:00Z")));
    assert_eq!(length(iv), mins(150));
    let iv = only_interval(&sunday("01:00", "04:00"), &z, from, to);
    assert_eq!(length(iv), mins(240));
}

#[test]
fn havana_midnight_does_not_exist_on_2026_03_08() {
    let z = zone("America/Havana");
    // The fact relied on: at 05:00Z clocks jump from 00:00 CST to 01:00 CDT.
    assert_transition(&z, "2026-03-01T00:00Z", "2026-03-08T05:00Z", -4 * 3600);
    assert_eq!(
        z.tz().to_datetime(ts("2026-03-08T05:00Z")),
        date(2026, 3, 8).at(1, 0, 0, 0)
    );
    assert_eq!(
        z.tz().to_datetime(ts("2026-03-08T04:59:59Z")),
        date(2026, 3, 7).at(23, 59, 59, 0)
    );
    // A whole Sunday opens at its first instant, 01:00 local.
    let iv = only_interval(
        &sunday("00:00", "24:00"),
        &z,
        "2026-03-07T00:00Z",
        "2026-03-10T00:00Z",
    );
    assert_eq!(iv, (ts("2026-03-08T05:00Z"), ts("2026-03-09T04:00Z")));
    assert_eq!(length(iv), mins(23 * 60));
    // Saturday's 24:00 is that same instant.
    let sat = super::hours(serde_json::json!({"sat": [{"open": "20:00", "close": "24:00"}]}));
    let iv = only_interval(&sat, &z, "2026-03-07T00:00Z", "2026-03-10T00:00Z");
    assert_eq!(iv, (ts("2026-03-08T01:00Z"), ts("2026-03-08T05:00Z")));
    // Saturday evening and early Sunday are one interval across the missing midnight.
    let both = super::hours(
        serde_json::json!({"sat": [{"open": "20:00", "close": "24:00"}],
        "sun": [{"open": "00:00", "close": "02:00"}]}),
    );
    let open = both
        .interval_at(&z, ts("2026-03-08T04:59:59.999Z"))
        .unwrap();
    assert_eq!(
        open,
        OpenInterval {
            start: ts("2026-03-08T01:00Z"),
            end: Some(ts("2026-03-08T06:00Z"))
        }
    );
    assert_eq!(
        both.next_boundary(&z, ts("2026-03-08T02:00Z")),
        Some((ts("2026-03-08T06:00Z"), Boundary::Close))
    );
}

#[test]
fn havana_fall_back_repeats_midnight_on_2026_11_01() {
    let z = zone("America/Havana");
    assert_transition(&z, "2026-10-01T00:00Z", "2026-11-01T05:00Z", -5 * 3600);
    // Local 00:00-01:00 happens twice; the day starts at the first 00:00 (04:00Z).
    let iv = only_interval(
        &sunday("00:00", "01:00"),
        &z,
        "2026-10-31T00:00Z",
        "2026-11-02T00:00Z",
    );
    assert_eq!(iv, (ts("2026-11-01T04:00Z"), ts("2026-11-01T06:00Z")));
    let sat = super::hours(serde_json::json!({"sat": [{"open": "22:00", "close": "24:00"}]}));
    let iv = only_interval(&sat, &z, "2026-10-31T00:00Z", "2026-11-02T00:00Z");
    assert_eq!(iv, (ts("2026-11-01T02:00Z"), ts("2026-11-01T04:00Z")));
}

#[test]
fn lord_howe_half_hour_shifts() {
    let z = zone("Australia/Lord_Howe");
    assert_transition(
        &z,
        "2026-03-01T00:00Z",
        "2026-04-04T15:00Z",
        10 * 3600 + 1800,
    );
    assert_transition(&z, "2026-09-01T00:00Z", "2026-10-03T15:30Z", 11 * 3600);
    // 2026-04-05 02:00 -> 01:30: 01:00-03:00 lasts 2h30.
    let iv = only_interval(
        &sunday("01:00", "03:00"),
        &z,
        "2026-04-04T00:00Z",
        "2026-04-05T12:00Z",
    );
    assert_eq!(iv, (ts("2026-04-04T14:00Z"), ts("2026-04-04T16:30Z")));
    // 01:45 is ambiguous: the earlier one (+11).
    let iv = only_interval(
        &sunday("01:45", "03:00"),
        &z,
        "2026-04-04T00:00Z",
        "2026-04-05T12:00Z",
    );
    assert_eq!(length(iv), mins(105));
    // 2026-10-04 02:00 -> 02:30: 01:00-03:00 lasts 1h30; 02:15 moves to 02:30.
    let (from, to) = ("2026-10-03T00:00Z", "2026-10-04T12:00Z");
    let iv = only_interval(&sunday("01:00", "03:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-10-03T14:30Z"), ts("2026-10-03T16:00Z")));
    let iv = only_interval(&sunday("02:15", "03:00"), &z, from, to);
    assert_eq!(iv, (ts("2026-10-03T15:30Z"), ts("2026-10-03T16:00Z")));
    assert!(!sunday("02:15", "03:00").is_open(&z, ts("2026-10-03T15:30Z") - MS));
}
