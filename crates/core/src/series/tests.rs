//! Expansion cases worked out by hand: local time kept across both DST changes, a gap and
//! a fold, ordinals, month ends, 29 February, and the ends of a rule.

use super::{Rule, occurrences};
use crate::calendar::Zone;
use jiff::Timestamp;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The starts of `rule` from `[start, end)` in `zone`, at most `take` of them, in UTC.
fn starts(rule: &str, zone: &str, start: &str, end: &str, take: usize) -> Vec<String> {
    let zone = Zone::parse(zone).unwrap();
    let rule = Rule::parse(rule).unwrap();
    occurrences(&rule, &zone, at(start), at(end))
        .unwrap()
        .take(take)
        .map(|o| o.start.to_string())
        .collect()
}

#[test]
fn a_weekly_meeting_keeps_its_local_time_across_both_dst_changes() {
    // Monday 09:00 in Berlin: CET (UTC+1) until 29 March 2026, CEST (UTC+2) until 25 October.
    let got = starts(
        "FREQ=WEEKLY;BYDAY=MO",
        "Europe/Berlin",
        "2026-03-23T08:00:00Z",
        "2026-03-23T09:00:00Z",
        2,
    );
    assert_eq!(got, ["2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"]);
    let got = starts(
        "FREQ=WEEKLY;BYDAY=MO",
        "Europe/Berlin",
        "2026-10-19T07:00:00Z",
        "2026-10-19T08:00:00Z",
        2,
    );
    assert_eq!(got, ["2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"]);
}

#[test]
fn a_time_in_the_gap_moves_to_its_end_and_an_ambiguous_one_takes_the_earlier_instant() {
    // Daily 02:30 Berlin from 28 March 2026: on the 29th 02:00–03:00 does not exist, and
    // the occurrence starts at 03:00 CEST (01:00Z), as business hours would; the length
    // (30 minutes) stays.
    let zone = Zone::parse("Europe/Berlin").unwrap();
    let rule = Rule::parse("FREQ=DAILY;COUNT=3").unwrap();
    let got: Vec<(String, String, String)> = occurrences(
        &rule,
        &zone,
        at("2026-03-28T01:30:00Z"),
        at("2026-03-28T02:00:00Z"),
    )
    .unwrap()
    .map(|o| (o.local.to_string(), o.start.to_string(), o.end.to_string()))
    .collect();
    assert_eq!(
        got,
        [
            (
                "2026-03-28T02:30:00".into(),
                "2026-03-28T01:30:00Z".into(),
                "2026-03-28T02:00:00Z".into()
            ),
            (
                "2026-03-29T02:30:00".into(),
                "2026-03-29T01:00:00Z".into(),
                "2026-03-29T01:30:00Z".into()
            ),
            (
                "2026-03-30T02:30:00".into(),
                "2026-03-30T00:30:00Z".into(),
                "2026-03-30T01:00:00Z".into()
            ),
        ]
    );
    // 02:30 on 25 October 2026 happens twice: CEST (00:30Z) first.
    let got = starts(
        "FREQ=DAILY;COUNT=2",
        "Europe/Berlin",
        "2026-10-24T00:30:00Z",
        "2026-10-24T01:00:00Z",
        5,
    );
    assert_eq!(got, ["2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z"]);
}

#[test]
fn monthly_ordinals_and_month_ends() {
    // The last Friday of each month, 16:00 in New York.
    let got = starts(
        "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3",
        "America/New_York",
        "2026-01-30T21:00:00Z",
        "2026-01-30T22:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2026-01-30T21:00:00Z",
            "2026-02-27T21:00:00Z",
            "2026-03-27T20:00:00Z"
        ]
    );
    // The 31st: months without one are left out (RFC 5545), not moved.
    let got = starts(
        "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4",
        "UTC",
        "2026-01-31T10:00:00Z",
        "2026-01-31T11:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2026-01-31T10:00:00Z",
            "2026-03-31T10:00:00Z",
            "2026-05-31T10:00:00Z",
            "2026-07-31T10:00:00Z"
        ]
    );
    // The last day of the month, and the first Monday and third Wednesday.
    let got = starts(
        "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
        "UTC",
        "2028-01-31T10:00:00Z",
        "2028-01-31T11:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2028-01-31T10:00:00Z",
            "2028-02-29T10:00:00Z",
            "2028-03-31T10:00:00Z"
        ]
    );
    let got = starts(
        "FREQ=MONTHLY;BYDAY=1MO,3WE;COUNT=4",
        "UTC",
        "2026-06-01T10:00:00Z",
        "2026-06-01T11:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2026-06-01T10:00:00Z",
            "2026-06-17T10:00:00Z",
            "2026-07-06T10:00:00Z",
            "2026-07-15T10:00:00Z"
        ]
    );
}

#[test]
fn weekdays_with_and_without_an_ordinal_each_add_their_days() {
    // Every Tuesday and the third Friday (RFC 5545: each BYDAY entry names days of the
    // month; dateutil would take only days that both name, that is none).
    let got = starts(
        "FREQ=MONTHLY;BYDAY=TU,3FR;COUNT=6",
        "UTC",
        "2026-06-02T10:00:00Z",
        "2026-06-02T11:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2026-06-02T10:00:00Z",
            "2026-06-09T10:00:00Z",
            "2026-06-16T10:00:00Z",
            "2026-06-19T10:00:00Z",
            "2026-06-23T10:00:00Z",
            "2026-06-30T10:00:00Z"
        ]
    );
}

#[test]
fn the_29th_of_february_comes_back_every_fourth_year() {
    let got = starts(
        "FREQ=MONTHLY;INTERVAL=12;COUNT=3",
        "Europe/London",
        "2024-02-29T09:00:00Z",
        "2024-02-29T10:00:00Z",
        9,
    );
    assert_eq!(
        got,
        [
            "2024-02-29T09:00:00Z",
            "2028-02-29T09:00:00Z",
            "2032-02-29T09:00:00Z"
        ]
    );
}

#[test]
fn until_and_count_end_a_rule_and_an_impossible_rule_ends_too() {
    // Weekly on Monday and Wednesday, every second week, until Wednesday 17 June (its date).
    let got = starts(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;UNTIL=20260617",
        "UTC",
        "2026-06-03T10:00:00Z",
        "2026-06-03T11:00:00Z",
        99,
    );
    assert_eq!(
        got,
        [
            "2026-06-03T10:00:00Z",
            "2026-06-15T10:00:00Z",
            "2026-06-17T10:00:00Z"
        ]
    );
    // UNTIL as an instant is inclusive of an occurrence starting exactly then.
    let got = starts(
        "FREQ=DAILY;UNTIL=20260605T100000Z",
        "UTC",
        "2026-06-03T10:00:00Z",
        "2026-06-03T11:00:00Z",
        99,
    );
    assert_eq!(got.len(), 3);
    let got = starts(
        "FREQ=DAILY;UNTIL=20260605T095959Z",
        "UTC",
        "2026-06-03T10:00:00Z",
        "2026-06-03T11:00:00Z",
        99,
    );
    assert_eq!(got.len(), 2);
    // An open rule is followed SCAN_YEARS past its first occurrence, and no further: the
    // 30th of every twelfth month from 30 January 2026 gives 2026 … 2126.
    let got = starts(
        "FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30",
        "UTC",
        "2026-01-30T10:00:00Z",
        "2026-01-30T11:00:00Z",
        999,
    );
    assert_eq!(got.len(), 101);
    assert_eq!(got.last().map(String::as_str), Some("2126-01-30T10:00:00Z"));
    // A rule that matches rarely still ends: Monday the 31st, daily.
    let zone = Zone::parse("UTC").unwrap();
    let rare = Rule::parse("FREQ=DAILY;BYMONTHDAY=31;BYDAY=MO").unwrap();
    let all: Vec<_> = occurrences(
        &rare,
        &zone,
        at("2025-03-31T10:00:00Z"),
        at("2025-03-31T11:00:00Z"),
    )
    .unwrap()
    .collect();
    assert!(all.len() > 50, "{}", all.len());
    for o in &all {
        let d = o.local.date();
        assert_eq!(
            (d.day(), d.weekday()),
            (31, jiff::civil::Weekday::Monday),
            "{d}"
        );
    }
    assert!(all.last().unwrap().local.date() <= jiff::civil::date(2125, 3, 31));
}

#[test]
fn the_start_must_be_the_first_occurrence() {
    let zone = Zone::parse("Europe/Berlin").unwrap();
    let rule = Rule::parse("FREQ=WEEKLY;BYDAY=MO,WE").unwrap();
    // Tuesday 2026-05-05 09:00 Berlin.
    let e = occurrences(
        &rule,
        &zone,
        at("2026-05-05T07:00:00Z"),
        at("2026-05-05T08:00:00Z"),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "rrule: the start (Tuesday 2026-05-05, 09:00 in Europe/Berlin) must be the series' first occurrence, and the rule FREQ=WEEKLY;BYDAY=MO,WE does not fall on it"
    );
    let monthly = Rule::parse("FREQ=MONTHLY;BYDAY=-1FR").unwrap();
    assert!(
        occurrences(
            &monthly,
            &zone,
            at("2026-05-22T07:00:00Z"),
            at("2026-05-22T08:00:00Z")
        )
        .is_err()
    );
    assert!(
        occurrences(
            &monthly,
            &zone,
            at("2026-05-29T07:00:00Z"),
            at("2026-05-29T08:00:00Z")
        )
        .is_ok()
    );
}
