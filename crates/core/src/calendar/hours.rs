//! Weekly business hours: the local intervals per weekday, their validation and JSON shape.

use super::CalendarError;
use jiff::civil::Weekday;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The JSON keys of the weekdays, Monday first.
pub(crate) const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Minutes in a civil day; a `close` of this many minutes is `24:00`.
const DAY_MINUTES: u16 = 24 * 60;

/// One local opening interval of a day, `[open, close)` in minutes since local midnight.
///
/// Always `open < close <= 1440` (`1440` is `24:00`, the start of the next local day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalInterval {
    open: u16,
    close: u16,
}

impl LocalInterval {
    /// An interval from minute `open` to minute `close`; `None` unless
    /// `open < close <= 1440`.
    pub fn new(open: u16, close: u16) -> Option<Self> {
        (open < close && close <= DAY_MINUTES).then_some(Self { open, close })
    }

    /// The opening time in minutes since local midnight (`0..=1439`).
    pub fn open_minutes(self) -> u16 {
        self.open
    }

    /// The closing time in minutes since local midnight (`1..=1440`).
    pub fn close_minutes(self) -> u16 {
        self.close
    }

    fn span_text(self) -> String {
        format!("{}-{}", hhmm(self.open), hhmm(self.close))
    }
}

/// Weekly business hours in a space's local time, validated and normalised: each day's
/// intervals are sorted and touching ones are merged, so equal hours compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    days: [Vec<LocalInterval>; 7],
}

impl BusinessHours {
    /// At most this many intervals per day are accepted.
    pub const MAX_INTERVALS_PER_DAY: usize = 24;

    /// Parses and validates the JSON shape
    /// `{"mon": [{"open": "08:00", "close": "18:00"}], ..., "sun": []}`.
    ///
    /// A missing or empty day is closed; unknown keys are refused; times are `"HH:MM"`,
    /// `"24:00"` only as a close; `open < close`; intervals of one day must not overlap
    /// (touching ones are merged). This is exactly what `Deserialize` does.
    pub fn parse_json(v: &Value) -> Result<Self, CalendarError> {
        let obj = v.as_object().ok_or(CalendarError::Shape {
            path: "businessHours".to_owned(),
            expected: "an object with keys mon, tue, wed, thu, fri, sat, sun",
        })?;
        let mut days: [Vec<LocalInterval>; 7] = Default::default();
        for (key, value) in obj {
            let i = DAYS
                .iter()
                .position(|d| d == key)
                .ok_or_else(|| CalendarError::UnknownDay(key.clone()))?;
            days[i] = parse_day(DAYS[i], value)?;
        }
        Ok(Self { days })
    }

    /// Open around the clock: every day `00:00-24:00`. It has no boundaries at all.
    pub fn always() -> Self {
        let all_day = vec![LocalInterval {
            open: 0,
            close: DAY_MINUTES,
        }];
        Self {
            days: std::array::from_fn(|_| all_day.clone()),
        }
    }

    /// The (sorted, merged) intervals of a weekday.
    pub fn day(&self, weekday: Weekday) -> &[LocalInterval] {
        &self.days[weekday.to_monday_zero_offset() as usize]
    }

    /// A weekday's hours as people read them: `08:00–12:00, 13:00–18:00`, or `closed`.
    pub fn day_text(&self, weekday: Weekday) -> String {
        let day = self.day(weekday);
        if day.is_empty() {
            return "closed".to_owned();
        }
        let spans: Vec<String> = day
            .iter()
            .map(|i| format!("{}–{}", hhmm(i.open), hhmm(i.close)))
            .collect();
        spans.join(", ")
    }

    /// Whether every day is `00:00-24:00`, so the space never closes.
    pub fn is_always_open(&self) -> bool {
        self.days
            .iter()
            .all(|d| matches!(d.as_slice(), [i] if i.open == 0 && i.close == DAY_MINUTES))
    }

    /// Whether no day has any interval, so the space never opens.
    pub fn is_never_open(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }
}

fn parse_day(day: &'static str, v: &Value) -> Result<Vec<LocalInterval>, CalendarError> {
    let path = format!("businessHours.{day}");
    let items = v.as_array().ok_or_else(|| CalendarError::Shape {
        path: path.clone(),
        expected: "an array of {\"open\": \"HH:MM\", \"close\": \"HH:MM\"} intervals",
    })?;
    if items.len() > BusinessHours::MAX_INTERVALS_PER_DAY {
        return Err(CalendarError::TooManyIntervals {
            day,
            count: items.len(),
            max: BusinessHours::MAX_INTERVALS_PER_DAY,
        });
    }
    let mut list = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_interval(&format!("{path}[{i}]"), item))
        .collect::<Result<Vec<_>, _>>()?;
    list.sort_by_key(|i| (i.open, i.close));
    let mut merged: Vec<LocalInterval> = Vec::with_capacity(list.len());
    for next in list {
        match merged.last_mut() {
            Some(prev) if next.open < prev.close => {
                let (first, second) = (prev.span_text(), next.span_text());
                return Err(CalendarError::Overlap { day, first, second });
            }
            Some(prev) if next.open == prev.close => prev.close = next.close,
            _ => merged.push(next),
        }
    }
    Ok(merged)
}

fn parse_interval(path: &str, v: &Value) -> Result<LocalInterval, CalendarError> {
    let obj = v.as_object().ok_or_else(|| CalendarError::Shape {
        path: path.to_owned(),
        expected: "an object {\"open\": \"HH:MM\", \"close\": \"HH:MM\"}",
    })?;
    if let Some(field) = obj.keys().find(|k| *k != "open" && *k != "close") {
        return Err(CalendarError::UnknownField {
            path: path.to_owned(),
            field: field.clone(),
        });
    }
    let open = time_field(path, obj, "open", 0, DAY_MINUTES - 1)?;
    let close = time_field(path, obj, "close", 1, DAY_MINUTES)?;
    LocalInterval::new(open, close).ok_or_else(|| CalendarError::EmptyInterval {
        path: path.to_owned(),
        open: hhmm(open),
        close: hhmm(close),
    })
}

/// Reads `obj[field]` as `"HH:MM"` within `min..=max` minutes.
fn time_field(
    path: &str,
    obj: &Map<String, Value>,
    field: &'static str,
    min: u16,
    max: u16,
) -> Result<u16, CalendarError> {
    let path_of = || format!("{path}.{field}");
    let value = obj.get(field).ok_or_else(|| CalendarError::MissingField {
        path: path.to_owned(),
        field,
    })?;
    let text = value.as_str().ok_or_else(|| CalendarError::Shape {
        path: path_of(),
        expected: "a string \"HH:MM\"",
    })?;
    match parse_hhmm(text) {
        Some(m) if (min..=max).contains(&m) => Ok(m),
        _ => Err(CalendarError::BadTime {
            path: path_of(),
            value: text.to_owned(),
            min: if min == 0 { "00:00" } else { "00:01" },
            max: if max == DAY_MINUTES { "24:00" } else { "23:59" },
        }),
    }
}

/// `"HH:MM"` (exactly two digits each) to minutes, `00:00..=24:00`.
fn parse_hhmm(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    let digits = [b[0], b[1], b[3], b[4]];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let [h1, h0, m1, m0] = digits.map(|d| u16::from(d - b'0'));
    let (h, m) = (h1 * 10 + h0, m1 * 10 + m0);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// Minutes since midnight as `"HH:MM"`.
pub(crate) fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The JSON form of one interval.
#[derive(Serialize)]
struct WireInterval {
    open: String,
    close: String,
}

impl Serialize for BusinessHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(DAYS.len()))?;
        for (key, list) in DAYS.iter().zip(&self.days) {
            let wire: Vec<WireInterval> = list
                .iter()
                .map(|i| WireInterval {
                    open: hhmm(i.open),
                    close: hhmm(i.close),
                })
                .collect();
            map.serialize_entry(key, &wire)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for BusinessHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::parse_json(&v).map_err(serde::de::Error::custom)
    }
}
