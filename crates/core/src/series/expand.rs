//! A rule's occurrences in a space's zone. Each keeps the first occurrence's local
//! wall-clock time on its own local date; a time that falls in a DST gap moves forward to
//! the end of the gap and an ambiguous one takes the earlier instant — the way business
//! hours resolve local times ([`Zone`]). Every occurrence lasts as long as the first.

use super::rule::{ByDay, Freq, Rule, RuleEnd, RuleError};
use crate::calendar::Zone;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::{SignedDuration, Timestamp, ToSpan};

/// One occurrence of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Its number, from 1 (the first occurrence).
    pub n: u32,
    /// Its local date and wall-clock time in the space's zone.
    pub local: DateTime,
    /// When it starts.
    pub start: Timestamp,
    /// When it ends (`start` plus the first occurrence's length).
    pub end: Timestamp,
}

/// How many years past the first occurrence a rule is followed at most: a rule whose
/// dates stop existing (the 30th of every twelfth February) ends there instead of
/// searching for ever.
pub const SCAN_YEARS: i16 = 100;

/// The occurrences of `rule` whose first is `[start, end)` in `zone`, in order; the
/// iterator ends with the rule (its `COUNT` or `UNTIL`), or runs on without one (take
/// what a horizon needs). Refused when `start`'s local date is not itself an occurrence
/// of the rule (a Tuesday start for `BYDAY=MO`): the first occurrence is the one given.
pub fn occurrences(
    rule: &Rule,
    zone: &Zone,
    start: Timestamp,
    end: Timestamp,
) -> Result<Occurrences, RuleError> {
    let first = zone.tz().to_datetime(start);
    let it = Occurrences {
        rule: rule.clone(),
        zone: zone.clone(),
        first,
        length: end.duration_since(start),
        period: 0,
        pending: vec![],
        emitted: 0,
        done: false,
        last_date: first
            .date()
            .checked_add(SCAN_YEARS.years())
            .unwrap_or(Date::MAX),
    };
    if !it.dates_of(0).contains(&first.date()) {
        return Err(RuleError(format!(
            "the start ({} {}, {} in {}) must be the series' first occurrence, and the rule {} does not fall on it",
            weekday_name(first.date().weekday()),
            first.date(),
            first.time().strftime("%H:%M"),
            zone.name(),
            rule
        )));
    }
    Ok(it)
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// The iterator [`occurrences`] returns.
#[derive(Debug, Clone)]
pub struct Occurrences {
    rule: Rule,
    zone: Zone,
    first: DateTime,
    length: SignedDuration,
    /// The next period (day, week or month) to expand, counted from the first's.
    period: i64,
    /// Dates of the current period not yet emitted, latest first.
    pending: Vec<Date>,
    emitted: u32,
    done: bool,
    last_date: Date,
}

impl Occurrences {
    /// The candidate dates of period `k` (the rule's filters applied), in order; dates
    /// before the first occurrence included.
    fn dates_of(&self, k: i64) -> Vec<Date> {
        let r = &self.rule;
        let first = self.first.date();
        let Some(start) = self.period_start(k) else {
            return vec![];
        };
        match r.freq {
            Freq::Daily => {
                let d = start;
                let by_day =
                    r.by_day.is_empty() || r.by_day.iter().any(|b| b.weekday == d.weekday());
                let by_month_day =
                    r.by_month_day.is_empty() || month_days(d, &r.by_month_day).contains(&d.day());
                if by_day && by_month_day {
                    vec![d]
                } else {
                    vec![]
                }
            }
            Freq::Weekly => {
                let week = start;
                let weekdays: Vec<Weekday> = if r.by_day.is_empty() {
                    vec![first.weekday()]
                } else {
                    r.by_day.iter().map(|b| b.weekday).collect()
                };
                let mut out: Vec<Date> = weekdays
                    .iter()
                    .filter_map(|w| {
                        week.checked_add(i64::from(w.to_monday_zero_offset()).days())
                            .ok()
                    })
                    .collect();
                out.sort();
                out
            }
            Freq::Monthly => {
                let (year, month) = (start.year(), start.month());
                let mut days: Vec<i8> = match (r.by_month_day.is_empty(), r.by_day.is_empty()) {
                    (true, true) => vec![first.day()],
                    (false, true) => month_days(start, &r.by_month_day),
                    (true, false) => weekday_days(start, &r.by_day),
                    (false, false) => {
                        let by_day = weekday_days(start, &r.by_day);
                        month_days(start, &r.by_month_day)
                            .into_iter()
                            .filter(|d| by_day.contains(d))
                            .collect()
                    }
                };
                days.sort_unstable();
                days.dedup();
                days.into_iter()
                    .filter(|&d| d <= start.days_in_month())
                    .filter_map(|d| Date::new(year, month, d).ok())
                    .collect()
            }
        }
    }
}

/// The days of `month`'s month that `BYMONTHDAY` names (negative: from the end), those the
/// month has.
fn month_days(month: Date, by: &[i8]) -> Vec<i8> {
    let n = month.days_in_month();
    by.iter()
        .map(|&d| if d > 0 { d } else { n + 1 + d })
        .filter(|&d| (1..=n).contains(&d))
        .collect()
}

/// The days of `month`'s month that `BYDAY` names: every such weekday, or the nth from the
/// start or end.
fn weekday_days(month: Date, by: &[ByDay]) -> Vec<i8> {
    let n = month.days_in_month();
    let first_of = month.first_of_month();
    let mut out = vec![];
    for b in by {
        // The first day of the month that is this weekday.
        let lead = (b.weekday.to_monday_zero_offset() - first_of.weekday().to_monday_zero_offset())
            .rem_euclid(7);
        let all: Vec<i8> = (0..5)
            .map(|w| 1 + lead + 7 * w)
            .filter(|&d| d <= n)
            .collect();
        match b.nth {
            None => out.extend(all),
            Some(k) if k > 0 => out.extend(all.get(k as usize - 1)),
            Some(k) => out.extend(
                all.len()
                    .checked_sub(k.unsigned_abs() as usize)
                    .map(|i| all[i]),
            ),
        }
    }
    out
}

impl Iterator for Occurrences {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        loop {
            if self.done {
                return None;
            }
            let Some(date) = self.pending.pop() else {
                if self.period > 0
                    && self
                        .period_start(self.period)
                        .is_none_or(|d| d > self.last_date)
                {
                    self.done = true;
                    continue;
                }
                let mut dates = self.dates_of(self.period);
                self.period += 1;
                let first = self.first.date();
                dates.retain(|d| *d >= first && *d <= self.last_date);
                dates.reverse();
                self.pending = dates;
                continue;
            };
            if let RuleEnd::Count(n) = self.rule.end
                && self.emitted >= n
            {
                self.done = true;
                continue;
            }
            if let RuleEnd::UntilDate(until) = self.rule.end
                && date > until
            {
                self.done = true;
                continue;
            }
            let local = date.to_datetime(self.first.time());
            let Some(start) = self.zone.resolve(local) else {
                self.done = true;
                continue;
            };
            if let RuleEnd::UntilInstant(until) = self.rule.end
                && start > until
            {
                self.done = true;
                continue;
            }
            let Ok(end) = start.checked_add(self.length) else {
                self.done = true;
                continue;
            };
            self.emitted += 1;
            return Some(Occurrence {
                n: self.emitted,
                local,
                start,
                end,
            });
        }
    }
}

impl Occurrences {
    /// The first day of period `k` (a day, a week from Monday, a month), counted from the
    /// first occurrence's; `None` past the calendar's range.
    fn period_start(&self, k: i64) -> Option<Date> {
        let step = k * i64::from(self.rule.interval);
        let first = self.first.date();
        match self.rule.freq {
            Freq::Daily => first.checked_add(step.days()).ok(),
            Freq::Weekly => first
                .checked_sub(i64::from(first.weekday().to_monday_zero_offset()).days())
                .and_then(|m| m.checked_add((7 * step).days()))
                .ok(),
            Freq::Monthly => first.first_of_month().checked_add(step.months()).ok(),
        }
    }
}
