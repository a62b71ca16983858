//! The RRULE subset of CONTRACT §9 (RFC 5545 §3.3.10): `FREQ=DAILY|WEEKLY|MONTHLY`,
//! `INTERVAL`, `BYDAY` (ordinals only monthly: `1MO`, `-1FR`), `BYMONTHDAY`, `COUNT`,
//! `UNTIL`. Parsing refuses anything else by name, so a rule is never half understood.

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use std::fmt;

/// How often a series repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    /// Every `INTERVAL` days.
    Daily,
    /// Every `INTERVAL` weeks (weeks start on Monday).
    Weekly,
    /// Every `INTERVAL` months.
    Monthly,
}

impl Freq {
    fn as_str(self) -> &'static str {
        match self {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
        }
    }
}

/// One `BYDAY` entry: a weekday, with an ordinal within the month (`1MO`: the first
/// Monday, `-1FR`: the last Friday) in monthly rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByDay {
    /// `1..=5` from the month's start, `-5..=-1` from its end; `None`: every such weekday.
    pub nth: Option<i8>,
    /// The weekday.
    pub weekday: Weekday,
}

/// When a series stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleEnd {
    /// After this many occurrences (the first included).
    Count(u32),
    /// With the last occurrence starting at or before this instant (`UNTIL=…T…Z`).
    UntilInstant(Timestamp),
    /// With the last occurrence on or before this local date (`UNTIL=YYYYMMDD`).
    UntilDate(Date),
    /// Never: materialised up to a rolling horizon.
    Never,
}

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `FREQ`.
    pub freq: Freq,
    /// `INTERVAL` (1 when absent).
    pub interval: u32,
    /// `BYDAY`, sorted, without repeats.
    pub by_day: Vec<ByDay>,
    /// `BYMONTHDAY` (`1..=31`, or `-31..=-1` from the month's end), sorted, without repeats.
    pub by_month_day: Vec<i8>,
    /// `COUNT` or `UNTIL`.
    pub end: RuleEnd,
}

/// The most occurrences a `COUNT` may ask for.
pub const MAX_COUNT: u32 = 1000;
/// The longest `INTERVAL`.
pub const MAX_INTERVAL: u32 = 1000;

/// Why a rule was refused; the text says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rrule: {0}")]
pub struct RuleError(pub String);

fn refuse<T>(why: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError(why.into()))
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("MO", Weekday::Monday),
    ("TU", Weekday::Tuesday),
    ("WE", Weekday::Wednesday),
    ("TH", Weekday::Thursday),
    ("FR", Weekday::Friday),
    ("SA", Weekday::Saturday),
    ("SU", Weekday::Sunday),
];

fn weekday_code(w: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, d)| *d == w)
        .map(|(c, _)| *c)
        .expect("every weekday has a code")
}

/// RFC 5545 parts this subset does not take, named in the refusal.
const UNSUPPORTED: [&str; 8] = [
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
];

impl Rule {
    /// Parses a rule (`FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10`; an `RRULE:` prefix and lower-case
    /// letters are taken too).
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let upper = text.trim().to_ascii_uppercase();
        let body = upper.strip_prefix("RRULE:").unwrap_or(&upper);
        if body.is_empty() {
            return refuse("empty: write e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10");
        }
        let mut seen: Vec<&str> = vec![];
        let (mut freq, mut interval, mut count, mut until) = (None, None, None, None);
        let (mut by_day, mut by_month_day) = (None, None);
        for part in body.split(';') {
            let Some((name, value)) = part.split_once('=') else {
                return refuse(format!("{part:?} is not NAME=VALUE"));
            };
            if seen.contains(&name) {
                return refuse(format!("{name} is given twice"));
            }
            seen.push(name);
            match name {
                "FREQ" => freq = Some(parse_freq(value)?),
                "INTERVAL" => interval = Some(parse_number(name, value, 1, MAX_INTERVAL)?),
                "COUNT" => count = Some(parse_number(name, value, 1, MAX_COUNT)?),
                "UNTIL" => until = Some(parse_until(value)?),
                "BYDAY" => by_day = Some(parse_by_day(value)?),
                "BYMONTHDAY" => by_month_day = Some(parse_month_days(value)?),
                n if UNSUPPORTED.contains(&n) => {
                    return refuse(format!(
                        "{n} is not supported: the parts taken are FREQ, INTERVAL, BYDAY, BYMONTHDAY, COUNT and UNTIL"
                    ));
                }
                n => return refuse(format!("{n:?} is not an RRULE part")),
            }
        }
        let Some(freq) = freq else {
            return refuse("FREQ is required (DAILY, WEEKLY or MONTHLY)");
        };
        let end = match (count, until) {
            (Some(_), Some(_)) => return refuse("COUNT and UNTIL cannot both be given"),
            (Some(n), None) => RuleEnd::Count(n),
            (None, Some(u)) => u,
            (None, None) => RuleEnd::Never,
        };
        let by_day = by_day.unwrap_or_default();
        let by_month_day = by_month_day.unwrap_or_default();
        if freq != Freq::Monthly && by_day.iter().any(|d| d.nth.is_some()) {
            return refuse(format!(
                "BYDAY with an ordinal (such as 1MO or -1FR) is for FREQ=MONTHLY only, not {}",
                freq.as_str()
            ));
        }
        if freq == Freq::Weekly && !by_month_day.is_empty() {
            return refuse("BYMONTHDAY cannot be used with FREQ=WEEKLY");
        }
        Ok(Rule {
            freq,
            interval: interval.unwrap_or(1),
            by_day,
            by_month_day,
            end,
        })
    }
}

fn parse_freq(v: &str) -> Result<Freq, RuleError> {
    match v {
        "DAILY" => Ok(Freq::Daily),
        "WEEKLY" => Ok(Freq::Weekly),
        "MONTHLY" => Ok(Freq::Monthly),
        "YEARLY" | "HOURLY" | "MINUTELY" | "SECONDLY" => refuse(format!(
            "FREQ={v} is not supported: DAILY, WEEKLY or MONTHLY (a yearly series is MONTHLY with INTERVAL=12)"
        )),
        _ => refuse(format!("FREQ={v:?} is not DAILY, WEEKLY or MONTHLY")),
    }
}

fn parse_number(name: &str, v: &str, min: u32, max: u32) -> Result<u32, RuleError> {
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) && v.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => refuse(format!(
            "{name}={v:?} must be a whole number from {min} to {max}"
        )),
    }
}

fn parse_until(v: &str) -> Result<RuleEnd, RuleError> {
    let bad = || {
        RuleError(format!(
            "UNTIL={v:?} must be a UTC date-time such as 20261231T235959Z or a date such as 20261231"
        ))
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let date = |s: &str| -> Result<Date, RuleError> {
        if s.len() != 8 || !digits(s) {
            return Err(bad());
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<i16>().map_err(|_| bad());
        Date::new(n(0..4)?, n(4..6)? as i8, n(6..8)? as i8).map_err(|_| bad())
    };
    match v.len() {
        8 => Ok(RuleEnd::UntilDate(date(v)?)),
        16 if v.as_bytes()[8] == b'T' && v.ends_with('Z') && digits(&v[9..15]) => {
            let d = date(&v[..8])?;
            let n = |r: std::ops::Range<usize>| v[r].parse::<i8>().map_err(|_| bad());
            let t =
                jiff::civil::Time::new(n(9..11)?, n(11..13)?, n(13..15)?, 0).map_err(|_| bad())?;
            let at = jiff::tz::TimeZone::UTC
                .to_timestamp(d.to_datetime(t))
                .map_err(|_| bad())?;
            Ok(RuleEnd::UntilInstant(at))
        }
        _ => Err(bad()),
    }
}

fn parse_by_day(v: &str) -> Result<Vec<ByDay>, RuleError> {
    let mut out = vec![];
    for item in v.split(',') {
        let bad = || {
            RuleError(format!(
                "BYDAY entry {item:?} must be a weekday (MO, TU, WE, TH, FR, SA, SU), monthly with an ordinal from 1 to 5 or -5 to -1 (1MO, -1FR)"
            ))
        };
        if item.len() < 2 {
            return Err(bad());
        }
        let (ord, code) = item.split_at(item.len() - 2);
        let weekday = WEEKDAYS
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| *d)
            .ok_or_else(bad)?;
        let nth = match ord {
            "" => None,
            o => {
                let digits = o.trim_start_matches(['+', '-']);
                let ok = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && o.len() - digits.len() <= 1;
                let n: i8 = if ok { o.parse().map_err(|_| bad())? } else { 0 };
                if !(1..=5).contains(&n.unsigned_abs()) {
                    return Err(bad());
                }
                Some(n)
            }
        };
        out.push(ByDay { nth, weekday });
    }
    out.sort_by_key(|d| (d.weekday.to_monday_zero_offset(), d.nth));
    out.dedup();
    Ok(out)
}

fn parse_month_days(v: &str) -> Result<Vec<i8>, RuleError> {
    let mut out = vec![];
    for item in v.split(',') {
        let digits = item.trim_start_matches(['+', '-']);
        let n: i8 = match item.parse() {
            Ok(n) if !digits.is_empty() && item.len() - digits.len() <= 1 => n,
            _ => 0,
        };
        if !(1..=31).contains(&n.unsigned_abs()) {
            return refuse(format!(
                "BYMONTHDAY entry {item:?} must be a day from 1 to 31, or -31 to -1 counted from the month's end"
            ));
        }
        out.push(n);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The rule in canonical form: upper case, parts in a fixed order, `INTERVAL` only when
/// not 1, `UNTIL` in UTC or as a date.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FREQ={}", self.freq.as_str())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|d| match d.nth {
                    Some(n) => format!("{n}{}", weekday_code(d.weekday)),
                    None => weekday_code(d.weekday).to_owned(),
                })
                .collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        if !self.by_month_day.is_empty() {
            let days: Vec<String> = self.by_month_day.iter().map(i8::to_string).collect();
            write!(f, ";BYMONTHDAY={}", days.join(","))?;
        }
        match self.end {
            RuleEnd::Count(n) => write!(f, ";COUNT={n}"),
            RuleEnd::UntilInstant(t) => write!(f, ";UNTIL={}", t.strftime("%Y%m%dT%H%M%SZ")),
            RuleEnd::UntilDate(d) => write!(f, ";UNTIL={}", d.strftime("%Y%m%d")),
            RuleEnd::Never => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_to_a_canonical_form() {
        for (text, canonical) in [
            (
                "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
                "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
            ),
            (
                "rrule:freq=weekly;byday=we,mo,mo",
                "FREQ=WEEKLY;BYDAY=MO,WE",
            ),
            ("FREQ=DAILY;INTERVAL=1", "FREQ=DAILY"),
            (
                "FREQ=DAILY;INTERVAL=3;UNTIL=20261231",
                "FREQ=DAILY;INTERVAL=3;UNTIL=20261231",
            ),
            (
                "FREQ=MONTHLY;BYDAY=-1FR,+1MO;UNTIL=20270101T080000Z",
                "FREQ=MONTHLY;BYDAY=1MO,-1FR;UNTIL=20270101T080000Z",
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=-1,15,15",
                "FREQ=MONTHLY;BYMONTHDAY=-1,15",
            ),
            (
                "FREQ=DAILY;BYDAY=MO,TU;BYMONTHDAY=1",
                "FREQ=DAILY;BYDAY=MO,TU;BYMONTHDAY=1",
            ),
        ] {
            let r = Rule::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(r.to_string(), canonical, "{text}");
            assert_eq!(Rule::parse(canonical).unwrap(), r, "{canonical} read back");
        }
        let r = Rule::parse("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU;COUNT=3").unwrap();
        assert_eq!(
            (r.freq, r.interval, r.by_day[0].nth, r.end),
            (Freq::Monthly, 2, Some(2), RuleEnd::Count(3))
        );
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        for (text, says) in [
            ("", "empty"),
            ("BYDAY=MO", "FREQ is required"),
            ("FREQ=YEARLY", "MONTHLY with INTERVAL=12"),
            ("FREQ=FORTNIGHTLY", "not DAILY, WEEKLY or MONTHLY"),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
            (
                "FREQ=DAILY;COUNT=0",
                "COUNT=\"0\" must be a whole number from 1 to 1000",
            ),
            ("FREQ=DAILY;COUNT=1001", "from 1 to 1000"),
            ("FREQ=DAILY;COUNT=+5", "whole number"),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
            ("FREQ=DAILY;COUNT=3;UNTIL=20261231", "cannot both"),
            ("FREQ=DAILY;UNTIL=20261231T235959", "UTC date-time"),
            ("FREQ=DAILY;UNTIL=20260230", "UTC date-time"),
            ("FREQ=DAILY;UNTIL=2026-12-31", "UTC date-time"),
            ("FREQ=WEEKLY;BYDAY=1MO", "FREQ=MONTHLY only, not WEEKLY"),
            ("FREQ=DAILY;BYDAY=-1FR", "FREQ=MONTHLY only, not DAILY"),
            ("FREQ=MONTHLY;BYDAY=6MO", "BYDAY entry \"6MO\""),
            ("FREQ=MONTHLY;BYDAY=0MO", "BYDAY entry"),
            ("FREQ=MONTHLY;BYDAY=+-1MO", "BYDAY entry"),
            ("FREQ=WEEKLY;BYDAY=MON", "BYDAY entry \"MON\""),
            ("FREQ=WEEKLY;BYDAY=", "BYDAY entry \"\""),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY entry \"32\""),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY entry"),
            (
                "FREQ=WEEKLY;BYMONTHDAY=1",
                "BYMONTHDAY cannot be used with FREQ=WEEKLY",
            ),
            ("FREQ=MONTHLY;BYSETPOS=-1", "BYSETPOS is not supported"),
            ("FREQ=WEEKLY;WKST=SU", "WKST is not supported"),
            ("FREQ=WEEKLY;COLOR=RED", "\"COLOR\" is not an RRULE part"),
            ("FREQ=WEEKLY;COUNT", "is not NAME=VALUE"),
        ] {
            let e = Rule::parse(text).expect_err(text).to_string();
            assert!(e.starts_with("rrule: ") && e.contains(says), "{text}: {e}");
        }
    }
}
