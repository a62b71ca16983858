//! Unit tests of the calendar: parsing, DST resolution per zone, and properties.

mod dst;
mod merge;
mod parse;
mod prop;

use super::{BusinessHours, Zone};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn zone(name: &str) -> Zone {
    Zone::parse(name).expect("known zone")
}

fn hours(v: serde_json::Value) -> BusinessHours {
    BusinessHours::parse_json(&v).expect("valid hours")
}

/// Hours open only on Sundays, `open`-`close`.
fn sunday(open: &str, close: &str) -> BusinessHours {
    hours(json!({ "sun": [{ "open": open, "close": close }] }))
}

/// An instant from RFC 3339 text.
fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

const MS: SignedDuration = SignedDuration::from_millis(1);

/// The only open interval of `h` between `from` and `to`, checked to be exactly one.
fn only_interval(h: &BusinessHours, z: &Zone, from: &str, to: &str) -> (Timestamp, Timestamp) {
    let all = h.open_intervals(z, ts(from), ts(to));
    assert_eq!(all.len(), 1, "expected one interval, got {all:?}");
    all[0]
}
