//! Parsing and checking the values requests carry: durations, zones, business hours,
//! instants and free text, each refused with a 422 naming the field.

use crate::error::ApiError;
use jiff::Timestamp;
use serde_json::Value;
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::{Limit, Period};

/// Whether `s` is an ISO-8601 duration of hours, minutes and seconds as the API takes it:
/// `PT`, then at least one of `nH`, `nM`, `n[.fff]S` in that order, letters in either case.
/// It is exactly the `pattern` the OpenAPI document gives these fields (the parser beneath
/// would take more, such as `15m`, which no pattern can describe).
pub fn iso_period_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].eq_ignore_ascii_case(&b'P') || !b[1].eq_ignore_ascii_case(&b'T') {
        return false;
    }
    let (mut i, mut rank) = (2, 0);
    while i < b.len() {
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
        let mut fraction = false;
        if b.get(i) == Some(&b'.') {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=3).contains(&n) {
                return false;
            }
            i += 1 + n;
            fraction = true;
        }
        let next = match b.get(i).map(u8::to_ascii_uppercase) {
            Some(b'H') if !fraction => 1,
            Some(b'M') if !fraction => 2,
            Some(b'S') => 3,
            _ => return false,
        };
        if next <= rank {
            return false;
        }
        rank = next;
        i += 1;
    }
    true
}

/// Whether `s` is an ISO-8601 duration as the booking policies take it: `P`, then weeks
/// (`nW`, alone), or days (`nD`) with an optional time part, or a time part alone — the time
/// part as [`iso_period_syntax`] reads it after its `PT`. Exactly the `pattern` the OpenAPI
/// document gives the policy fields.
pub fn iso_limit_syntax(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(['P', 'p']) else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return iso_period_syntax(s);
    }
    match rest.as_bytes().get(digits).map(u8::to_ascii_uppercase) {
        Some(b'W') => digits + 1 == rest.len(),
        Some(b'D') => {
            let time = &rest[digits + 1..];
            time.is_empty() || iso_period_syntax(&format!("P{time}"))
        }
        _ => false,
    }
}

/// A booking policy from a request: `None` when absent or null (not set).
pub(crate) fn limit(field: &str, v: Option<&str>) -> Result<Option<Limit>, ApiError> {
    let Some(s) = v else { return Ok(None) };
    let refused = || {
        ApiError::invalid(
            "invalid_duration",
            format!(
                "{field}: {} is not a duration between PT1S and P3660D: write ISO-8601 weeks, days, hours, minutes or seconds such as \"PT4H\", \"P1DT12H\" or \"P90D\"",
                crate::error::quoted(s)
            ),
        )
    };
    if !iso_limit_syntax(s) {
        return Err(refused());
    }
    Limit::parse(s).map(Some).map_err(|_| refused())
}

pub(crate) fn period(field: &str, v: Option<&str>, default: Period) -> Result<Period, ApiError> {
    let Some(s) = v else { return Ok(default) };
    let refused = || {
        ApiError::invalid(
            "invalid_duration",
            format!(
                "{field}: {} is not a duration between PT1S and PT24H: write ISO-8601 such as \"PT15M\", \"PT1H30M\" or \"PT90.5S\"",
                crate::error::quoted(s)
            ),
        )
    };
    if !iso_period_syntax(s) {
        return Err(refused());
    }
    Period::parse(s).map_err(|_| refused())
}

/// Parses a zone.
pub fn zone(name: &str) -> Result<Zone, ApiError> {
    Zone::parse(name).map_err(|e| ApiError::invalid("invalid_timezone", e.to_string()))
}

/// Parses business hours (`null` = always open).
pub fn hours(v: Option<&Value>) -> Result<Option<BusinessHours>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => BusinessHours::parse_json(v)
            .map(Some)
            .map_err(|e| ApiError::invalid("invalid_business_hours", e.to_string())),
    }
}

/// The instants the API takes: from 1970 to the end of 9998, so that a booking's end plus
/// its cleaning, a timer's due time or an availability window never leaves jiff's range
/// (which ends on 9999-12-30).
const EARLIEST: Timestamp = Timestamp::UNIX_EPOCH;
const LATEST: Timestamp = Timestamp::constant(253_370_764_800, 0); // 9999-01-01T00:00:00Z

/// What the instant parser beneath would take although RFC 3339 does not, or that could
/// not be stored as written: an offset past ±23:59 (it was applied, shifting the instant
/// by more than a day) and a leap second (`:60`, stored as the next second).
fn beyond_rfc3339(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let two = |i: usize| -> Option<u8> {
        let d = b.get(i..i + 2)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| (d[0] - b'0') * 10 + (d[1] - b'0'))
    };
    if b.get(16) == Some(&b':') && two(17) == Some(60) {
        return Some("a leap second (:60) cannot be kept: write :59.999 or the next minute");
    }
    let off = b.len().checked_sub(6)?;
    let signed = matches!(b[off], b'+' | b'-') && b[off + 3] == b':';
    if signed && (two(off + 1)? > 23 || two(off + 4)? > 59) {
        return Some("an offset must be between -23:59 and +23:59");
    }
    None
}

/// Parses an RFC 3339 instant between 1970 and 9998, kept to the millisecond.
pub fn instant(field: &str, s: &str) -> Result<Timestamp, ApiError> {
    let shown = crate::error::quoted(s);
    if let Some(why) = beyond_rfc3339(s) {
        return Err(ApiError::invalid(
            "invalid_time",
            format!("{field}: {shown} is not a valid RFC 3339 instant: {why}"),
        ));
    }
    let t = s.parse::<Timestamp>().map_err(|_| {
        ApiError::invalid(
            "invalid_time",
            format!("{field}: {shown} is not an RFC 3339 instant such as 2026-05-04T09:00:00Z"),
        )
    })?;
    if t < EARLIEST || t >= LATEST {
        return Err(ApiError::invalid(
            "invalid_time",
            format!("{field}: {shown} is out of range: instants are from 1970 to 9998"),
        ));
    }
    Ok(zs_core::clock::to_millis(t))
}

/// A page size from a `limit` query parameter: 1 to 1000, 100 when absent.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(n),
        Some(n) => Err(ApiError::invalid(
            "invalid_limit",
            format!("limit must be from 1 to 1000 (got {n})"),
        )),
    }
}

/// Checks a free-text field: at most `max` bytes and no control characters (none belongs in
/// a name or a title, and PostgreSQL refuses NUL).
pub fn text(code: &'static str, field: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::invalid(
            code,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            code,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// +25:00 was applied (the instant moved by more than a day) and :60 was stored as the
    /// next second; both are refused now, and what RFC 3339 allows still parses.
    #[test]
    fn instants_are_strict_rfc3339() {
        for bad in [
            "2026-05-04T09:00:00+25:00",
            "2026-05-04T09:00:00-24:00",
            "2026-05-04T09:00:00+05:60",
            "2026-06-30T23:59:60Z",
            "2026-06-30T23:59:60.5+01:00",
        ] {
            let e = instant("start", bad).unwrap_err();
            assert_eq!(e.code, "invalid_time", "{bad}");
        }
        for good in [
            "2026-05-04T09:00:00Z",
            "2026-05-04T09:00:00.123+23:59",
            "2026-05-04T09:00:00-23:59",
            "2026-05-04t09:00:00z",
        ] {
            assert!(instant("start", good).is_ok(), "{good}");
        }
    }

    /// limit=-1 and limit=0 returned one item.
    #[test]
    fn page_limits_are_from_1_to_1000() {
        assert_eq!(page_limit(None).unwrap(), 100);
        assert_eq!(page_limit(Some(1)).unwrap(), 1);
        assert_eq!(page_limit(Some(1000)).unwrap(), 1000);
        for bad in [-1, 0, 1001, i64::MIN] {
            assert_eq!(page_limit(Some(bad)).unwrap_err().code, "invalid_limit");
        }
    }

    #[test]
    fn text_counts_characters_and_refuses_control_characters() {
        assert!(text("c", "f", &"é".repeat(200), 200).is_ok());
        assert!(text("c", "f", &"é".repeat(201), 200).is_err());
        for bad in ["a\u{0}b", "tab\there", "\u{85}"] {
            assert_eq!(text("c", "f", bad, 200).unwrap_err().code, "c");
        }
    }

    #[test]
    fn durations_are_iso_hours_minutes_seconds_in_either_case() {
        for good in [
            "PT15M",
            "pt5m",
            "PT1H30M",
            "PT1H2M3.004S",
            "PT90.5S",
            "Pt24h",
            "PT1H5S",
        ] {
            assert!(iso_period_syntax(good), "{good} refused");
        }
        for bad in [
            "5m",
            "15 minutes",
            "PT",
            "P",
            "P1D",
            "PT1.5M",
            "PT30M1H",
            "PT1,5S",
            "PT1.0000S",
            "-PT5M",
            " PT5M",
            "PT5M ",
            "PT5",
            "PTM",
            "PT1S1S",
            "PT.5S",
            "PT1.S",
        ] {
            assert!(!iso_period_syntax(bad), "{bad} accepted");
        }
        assert_eq!(
            period("cleaning", Some("5m"), Period::minutes(1))
                .unwrap_err()
                .code,
            "invalid_duration"
        );
        assert_eq!(
            period("cleaning", Some("pt5m"), Period::minutes(1)).unwrap(),
            Period::minutes(5)
        );
    }

    #[test]
    fn policy_durations_are_iso_weeks_days_and_time() {
        for good in [
            "P90D", "p2w", "P1DT12H", "P1dT0.5S", "PT4H", "pt30m", "P0D", "PT0S",
        ] {
            assert!(iso_limit_syntax(good), "{good} refused");
        }
        for bad in [
            "90d",
            "P",
            "PT",
            "P1D1W",
            "P1W1D",
            "P1DT",
            "P1M",
            "P1Y",
            "PD",
            "P1.5D",
            "P1D T1H",
            "-P1D",
            "P1DT30M1H",
            " P1D",
            "P1D ",
        ] {
            assert!(!iso_limit_syntax(bad), "{bad} accepted");
        }
        assert_eq!(limit("maxDuration", None).unwrap(), None);
        assert_eq!(
            limit("maxDuration", Some("p2w")).unwrap(),
            Some(Limit::hours(14 * 24))
        );
        for bad in ["4h", "P0D", "P3661D", "PT0.5S"] {
            let e = limit("bookingHorizon", Some(bad)).unwrap_err();
            assert_eq!(e.code, "invalid_duration", "{bad}");
            assert!(e.message.starts_with("bookingHorizon: "), "{}", e.message);
        }
    }

    #[test]
    fn instants_stay_within_what_the_arithmetic_can_hold() {
        assert!(instant("t", "2026-05-04T09:00:00Z").is_ok());
        assert!(instant("t", "9998-12-31T23:59:59.999Z").is_ok());
        for bad in [
            "9999-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "-000001-01-01T00:00:00Z",
        ] {
            assert_eq!(instant("t", bad).unwrap_err().code, "invalid_time", "{bad}");
        }
    }
}
