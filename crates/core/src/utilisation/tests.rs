//! Utilisation: worked examples (DST days, maintenance, early check-out, no-show) and a
//! property test against a pointwise model on generated histories.

mod model;

use super::*;
use crate::calendar::{BusinessHours, Zone};
use crate::period::Period;
use jiff::SignedDuration;
use serde_json::json;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn settings(zone: &str, hours: Option<serde_json::Value>) -> SpaceSettings {
    let mut s = SpaceSettings::defaults(Zone::parse(zone).expect("zone"));
    s.business_hours = hours.map(|h| BusinessHours::parse_json(&h).expect("hours"));
    s
}

fn booking(start: &str, end: &str, status: BookingStatus) -> BookingFacts {
    BookingFacts {
        start: ts(start),
        end: ts(end),
        status,
        checked_in_at: None,
        ended_at: None,
        cancelled_at: None,
        released_at: None,
    }
}

const H: i64 = 3_600_000;

#[test]
fn a_sunday_around_the_clock_is_23_hours_on_the_spring_forward_day_and_25_on_the_fall_back_day() {
    let all_sunday = json!({"sun": [{"open": "00:00", "close": "24:00"}]});
    let s = settings("Europe/Berlin", Some(all_sunday));
    let h = History {
        settings: &s,
        bookings: &[],
        maintenance: &[],
        created_at: None,
    };
    let (from, to) = (ts("2026-03-28T00:00Z"), ts("2026-03-30T00:00Z"));
    assert_eq!(figures(&h, from, to, from).open_ms, 23 * H);
    let (from, to) = (ts("2026-10-24T00:00Z"), ts("2026-10-27T00:00Z"));
    assert_eq!(figures(&h, from, to, from).open_ms, 25 * H);
}

#[test]
fn lord_howe_shifts_by_half_an_hour() {
    // 2026-04-05 02:00 LHDT (+11) becomes 01:30 LHST (+10:30): that Sunday is 24.5 h long.
    let all_sunday = json!({"sun": [{"open": "00:00", "close": "24:00"}]});
    let s = settings("Australia/Lord_Howe", Some(all_sunday));
    let h = History {
        settings: &s,
        bookings: &[],
        maintenance: &[],
        created_at: None,
    };
    let (from, to) = (ts("2026-04-03T00:00Z"), ts("2026-04-07T00:00Z"));
    assert_eq!(figures(&h, from, to, from).open_ms, 24 * H + H / 2);
}

#[test]
fn maintenance_is_not_open_time_and_an_open_ended_one_runs_to_the_range_end() {
    let s = settings("UTC", None);
    let maintenance = [
        (ts("2026-05-04T01:00Z"), Some(ts("2026-05-04T02:00Z"))),
        (ts("2026-05-04T01:30Z"), Some(ts("2026-05-04T02:30Z"))),
        (ts("2026-05-04T23:00Z"), None),
    ];
    let h = History {
        settings: &s,
        bookings: &[],
        maintenance: &maintenance,
        created_at: None,
    };
    let (from, to) = (ts("2026-05-04T00:00Z"), ts("2026-05-05T00:00Z"));
    // 24 h less 01:00–02:30 (overlapping spans count once) less 23:00–24:00.
    assert_eq!(figures(&h, from, to, from).open_ms, 24 * H - 3 * H / 2 - H);
    // A space created at 12:00 was not open before.
    let created = History {
        created_at: Some(ts("2026-05-04T12:00Z")),
        ..h
    };
    assert_eq!(figures(&created, from, to, from).open_ms, 11 * H);
    let late = History {
        created_at: Some(ts("2026-05-06T00:00Z")),
        ..h
    };
    assert_eq!(figures(&late, from, to, from).open_ms, 0);
}

#[test]
fn early_check_out_no_show_and_cancellation_to_the_millisecond() {
    let s = settings("UTC", None);
    let mut early = booking(
        "2026-05-04T09:00Z",
        "2026-05-04T10:00Z",
        BookingStatus::Completed,
    );
    early.checked_in_at = Some(ts("2026-05-04T08:55:00.001Z"));
    early.ended_at = Some(ts("2026-05-04T09:30:00.250Z"));
    let mut no_show = booking(
        "2026-05-04T11:00Z",
        "2026-05-04T12:00Z",
        BookingStatus::NoShow,
    );
    // Recorded at 11:12 (the grace was PT12M then); today's grace would say 11:10.
    no_show.released_at = Some(ts("2026-05-04T11:12Z"));
    let mut grace_only = booking(
        "2026-05-04T13:00Z",
        "2026-05-04T13:05Z",
        BookingStatus::NoShow,
    );
    grace_only.released_at = None; // grace PT10M is past the end: nothing released
    let mut cancelled = booking(
        "2026-05-04T14:00Z",
        "2026-05-04T15:00Z",
        BookingStatus::Cancelled,
    );
    cancelled.cancelled_at = Some(ts("2026-05-04T08:00Z"));
    let mut live = booking(
        "2026-05-04T16:00Z",
        "2026-05-04T17:00Z",
        BookingStatus::CheckedIn,
    );
    live.checked_in_at = Some(ts("2026-05-04T16:01Z"));
    let bookings = [early, no_show, grace_only, cancelled, live];
    let h = History {
        settings: &s,
        bookings: &bookings,
        maintenance: &[],
        created_at: None,
    };
    let (from, to) = (ts("2026-05-04T09:00Z"), ts("2026-05-04T23:00Z"));
    let now = ts("2026-05-04T16:31Z");
    let f = figures(&h, from, to, now);
    assert_eq!(
        f,
        Figures {
            open_ms: 14 * H,
            booked_ms: 3 * H + 5 * 60_000,
            // 09:00 (clipped) to 09:30:00.250, and 16:01 to now.
            occupied_ms: 30 * 60_000 + 250 + 30 * 60_000,
            // 09:30:00.250 to 10:00, and 11:12 to 12:00.
            released_ms: 30 * 60_000 - 250 + 48 * 60_000,
            bookings: 4,
            no_shows: 2,
            check_ins: 2,
        }
    );
    // A range starting before the early check-in counts it from the check-in.
    let f = figures(&h, ts("2026-05-04T08:00Z"), ts("2026-05-04T10:00Z"), now);
    assert_eq!(f.occupied_ms, 35 * 60_000 - 1 + 250);
    // The no-show without a recorded release falls back to start + grace.
    let mut s2 = s.clone();
    s2.no_show_grace = Period::minutes(2);
    let h2 = History { settings: &s2, ..h };
    let f = figures(&h2, ts("2026-05-04T13:00Z"), ts("2026-05-04T14:00Z"), now);
    assert_eq!(f.released_ms, 3 * 60_000);
}

#[test]
fn a_reversed_range_is_all_zeros() {
    let s = settings("UTC", None);
    let h = History {
        settings: &s,
        bookings: &[booking(
            "2026-05-04T09:00Z",
            "2026-05-04T10:00Z",
            BookingStatus::Scheduled,
        )],
        maintenance: &[],
        created_at: None,
    };
    let t = ts("2026-05-04T09:00Z");
    assert_eq!(figures(&h, t, t, t), Figures::default());
    assert_eq!(
        figures(&h, t + SignedDuration::from_hours(1), t, t),
        Figures::default()
    );
}

#[test]
fn maintenance_spans_pair_disables_with_enables() {
    let (a, b, c) = (
        ts("2026-05-04T01:00Z"),
        ts("2026-05-04T02:00Z"),
        ts("2026-05-04T03:00Z"),
    );
    let events = [
        (EventKind::AdminEnable, a),
        (EventKind::AdminDisable, a),
        (EventKind::BookingCreated, b),
        (EventKind::AdminEnable, b),
        (EventKind::AdminDisable, c),
    ];
    assert_eq!(maintenance_spans(&events), vec![(a, Some(b)), (c, None)]);
}
