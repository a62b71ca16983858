//! Validation of zones and business hours, and the JSON round trip.

use super::{hours, zone};
use crate::calendar::{BusinessHours, CalendarError, LocalInterval, Zone};
use jiff::civil::Weekday;
use serde_json::{Value, json};

fn err(v: Value) -> CalendarError {
    BusinessHours::parse_json(&v).expect_err("should be refused")
}

fn one(open: &str, close: &str) -> Value {
    json!({ "mon": [{ "open": open, "close": close }] })
}

#[test]
fn zones_parse_canonically_and_refuse_unknown_names() {
    assert_eq!(zone("europe/berlin").name(), "Europe/Berlin");
    assert_eq!(zone("UTC").name(), "UTC");
    assert_eq!(zone("Europe/Berlin"), zone("europe/BERLIN"));
    for bad in [
        "",
        "Mars/Olympus",
        "Etc/Unknown",
        "+01:00",
        "Europe/Berlin ",
    ] {
        let e = Zone::parse(bad).expect_err(bad);
        assert_eq!(e, CalendarError::UnknownZone(bad.to_owned()));
    }
    assert!(
        Zone::parse("Mars/Olympus")
            .unwrap_err()
            .to_string()
            .contains("IANA")
    );
}

#[test]
fn zone_serde_is_the_plain_name_and_validates() {
    let z = zone("America/New_York");
    assert_eq!(serde_json::to_value(&z).unwrap(), json!("America/New_York"));
    let back: Zone = serde_json::from_value(json!("america/new_york")).unwrap();
    assert_eq!(back, z);
    assert!(serde_json::from_value::<Zone>(json!("Nowhere/City")).is_err());
    assert!(serde_json::from_value::<Zone>(json!(5)).is_err());
}

#[test]
fn shape_errors() {
    assert!(matches!(err(json!([])), CalendarError::Shape { path, .. } if path == "businessHours"));
    assert!(
        matches!(err(json!({"mon": {}})), CalendarError::Shape { path, .. } if path == "businessHours.mon")
    );
    assert!(matches!(
        err(json!({"mon": null})),
        CalendarError::Shape { .. }
    ));
    assert!(
        matches!(err(json!({"tue": ["08:00"]})), CalendarError::Shape { path, .. } if path == "businessHours.tue[0]")
    );
    let e = err(json!({"mon": [{"open": 8, "close": "18:00"}]}));
    assert!(matches!(e, CalendarError::Shape { path, .. } if path == "businessHours.mon[0].open"));
}

#[test]
fn unknown_keys_are_refused() {
    assert_eq!(
        err(json!({"monday": []})),
        CalendarError::UnknownDay("monday".into())
    );
    assert_eq!(
        err(json!({"Mon": []})),
        CalendarError::UnknownDay("Mon".into())
    );
    let e = err(json!({"wed": [{"open": "08:00", "close": "09:00", "note": "x"}]}));
    assert_eq!(
        e,
        CalendarError::UnknownField {
            path: "businessHours.wed[0]".into(),
            field: "note".into()
        }
    );
    let e = err(json!({"wed": [{"open": "08:00"}]}));
    assert_eq!(
        e,
        CalendarError::MissingField {
            path: "businessHours.wed[0]".into(),
            field: "close"
        }
    );
}

#[test]
fn bad_times_are_refused() {
    let open_bad = [
        "24:00",
        "8:00",
        "08:0",
        "08-00",
        "25:00",
        "08:60",
        "0800",
        "ab:cd",
        " 8:00",
        "+8:00",
        "٠٨:٠٠",
    ];
    for bad in open_bad {
        let e = err(one(bad, "23:00"));
        assert!(
            matches!(&e, CalendarError::BadTime { path, value, .. }
            if path == "businessHours.mon[0].open" && value == bad),
            "{bad}: {e:?}"
        );
    }
    for bad in ["00:00", "24:01", "24:30", "99:99", ""] {
        let e = err(one("00:00", bad));
        assert!(
            matches!(&e, CalendarError::BadTime { path, .. } if path == "businessHours.mon[0].close"),
            "{bad}: {e:?}"
        );
    }
    let msg = err(one("24:00", "23:00")).to_string();
    assert_eq!(
        msg,
        "businessHours.mon[0].open: \"24:00\" is not a valid time (use \"HH:MM\" from 00:00 to 23:59)"
    );
}

#[test]
fn empty_intervals_are_refused() {
    let e = err(one("18:00", "08:00"));
    assert_eq!(
        e.to_string(),
        "businessHours.mon[0]: open 18:00 is not before close 08:00"
    );
    assert!(matches!(
        err(one("08:00", "08:00")),
        CalendarError::EmptyInterval { .. }
    ));
}

#[test]
fn overlaps_are_refused_and_touching_intervals_merge() {
    let v =
        json!({"fri": [{"open": "11:00", "close": "14:00"}, {"open": "08:00", "close": "12:00"}]});
    let e = err(v);
    assert_eq!(
        e.to_string(),
        "businessHours.fri: intervals 08:00-12:00 and 11:00-14:00 overlap"
    );
    let dup =
        json!({"fri": [{"open": "08:00", "close": "12:00"}, {"open": "08:00", "close": "12:00"}]});
    assert!(matches!(
        err(dup),
        CalendarError::Overlap { day: "fri", .. }
    ));
    let touching = hours(json!({"fri": [
        {"open": "12:00", "close": "18:00"}, {"open": "08:00", "close": "12:00"}, {"open": "20:00", "close": "24:00"}]}));
    let want = [
        LocalInterval::new(480, 1080).unwrap(),
        LocalInterval::new(1200, 1440).unwrap(),
    ];
    assert_eq!(touching.day(Weekday::Friday), want);
    assert_eq!(
        touching,
        hours(
            json!({"fri": [{"open": "08:00", "close": "18:00"}, {"open": "20:00", "close": "24:00"}]})
        )
    );
}

#[test]
fn too_many_intervals_are_refused() {
    let list: Vec<Value> = (0..25)
        .map(|h| json!({"open": format!("{h:02}:00"), "close": format!("{h:02}:30")}))
        .take(24)
        .collect();
    assert!(BusinessHours::parse_json(&json!({"sat": list})).is_ok());
    let mut list = list;
    list.push(json!({"open": "23:40", "close": "23:50"}));
    let e = err(json!({"sat": list}));
    assert_eq!(
        e,
        CalendarError::TooManyIntervals {
            day: "sat",
            count: 25,
            max: 24
        }
    );
}

#[test]
fn serde_round_trips_the_json_shape() {
    let v = json!({"mon": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "24:00"}],
        "tue": [{"open": "00:00", "close": "02:00"}], "sun": []});
    let h: BusinessHours = serde_json::from_value(v).unwrap();
    let out = serde_json::to_value(&h).unwrap();
    let want = json!({"mon": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "24:00"}],
        "tue": [{"open": "00:00", "close": "02:00"}], "wed": [], "thu": [], "fri": [], "sat": [], "sun": []});
    assert_eq!(out, want);
    assert_eq!(BusinessHours::parse_json(&out).unwrap(), h);
    assert_eq!(serde_json::from_value::<BusinessHours>(out).unwrap(), h);
    let e = serde_json::from_value::<BusinessHours>(
        json!({"mon": [{"open": "9:00", "close": "10:00"}]}),
    );
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("businessHours.mon[0].open")
    );
}

#[test]
fn always_and_never() {
    let all_day = json!([{"open": "00:00", "close": "24:00"}]);
    let split = json!([{"open": "00:00", "close": "12:00"}, {"open": "12:00", "close": "24:00"}]);
    let a = hours(
        json!({"mon": all_day, "tue": split, "wed": all_day, "thu": all_day,
        "fri": all_day, "sat": all_day, "sun": all_day}),
    );
    assert!(a.is_always_open());
    assert_eq!(a, BusinessHours::always());
    assert!(!BusinessHours::always().is_never_open());
    let closed = hours(json!({}));
    assert!(closed.is_never_open() && !closed.is_always_open());
    assert_eq!(closed, hours(json!({"mon": [], "sun": []})));
    assert!(!hours(json!({"mon": all_day})).is_always_open());
}
