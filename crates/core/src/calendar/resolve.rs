//! Business hours resolved to instants: each local day's civil intervals become absolute
//! intervals in the zone, and touching ones (also across midnight) are merged.
//!
//! Resolving a civil time is monotone (gap → end of gap, fold → earlier), so the resolved
//! intervals of consecutive local days, in order, are sorted and never overlap; merging is
//! joining neighbours that touch. Queries only resolve the few days they need.

use super::{Boundary, BusinessHours, OpenInterval, Zone};
use jiff::civil::{Date, DateTime};
use jiff::{Span, Timestamp};
use std::iter::Peekable;

/// How many local days a search looks ahead before deciding the answer is "never".
const HORIZON_DAYS: i64 = 2 * 366;

/// An absolute half-open interval `[start, end)`.
type Instants = (Timestamp, Timestamp);

impl BusinessHours {
    /// The merged open interval containing `at` (`start <= at < end`), or `None` when the
    /// space is closed at `at`. `end` is `None` when the space never closes (always open,
    /// or no closing within about two years); an always-open space reports
    /// `start = Timestamp::MIN`.
    pub fn interval_at(&self, zone: &Zone, at: Timestamp) -> Option<OpenInterval> {
        if self.is_always_open() {
            return Some(OpenInterval {
                start: Timestamp::MIN,
                end: None,
            });
        }
        if self.is_never_open() {
            return None;
        }
        let from = day_before(zone.local_date(at));
        let mut merged = Merged::new(self.raw_forward(zone, from, plus_days(from, HORIZON_DAYS)));
        let (start, end) = merged.find(|&(_, e)| e > at).filter(|&(s, _)| s <= at)?;
        let end = (!merged.cut).then_some(end);
        Some(OpenInterval {
            start: self.extend_back(zone, from, start),
            end,
        })
    }

    /// The first boundary strictly after `after`: when the space opens
    /// ([`Boundary::Open`]) or closes ([`Boundary::Close`]). `None` when there are no
    /// boundaries (always open, never open, or none within about two years).
    pub fn next_boundary(&self, zone: &Zone, after: Timestamp) -> Option<(Timestamp, Boundary)> {
        if self.is_always_open() || self.is_never_open() {
            return None;
        }
        let from = day_before(zone.local_date(after));
        let mut merged = Merged::new(self.raw_forward(zone, from, plus_days(from, HORIZON_DAYS)));
        let (start, end) = merged.find(|&(_, e)| e > after)?;
        if start > after {
            Some((start, Boundary::Open))
        } else {
            (!merged.cut).then_some((end, Boundary::Close))
        }
    }

    /// All merged open intervals intersecting `[from, to)`, clipped to it, in order. They
    /// are disjoint and never touch.
    pub fn open_intervals(&self, zone: &Zone, from: Timestamp, to: Timestamp) -> Vec<Instants> {
        if from >= to || self.is_never_open() {
            return vec![];
        }
        if self.is_always_open() {
            return vec![(from, to)];
        }
        let first = day_before(zone.local_date(from));
        let last = plus_days(zone.local_date(to), 1);
        Merged::new(self.raw_forward(zone, first, last))
            .skip_while(|&(_, e)| e <= from)
            .take_while(|&(s, _)| s < to)
            .map(|(s, e)| (s.max(from), e.min(to)))
            .collect()
    }

    /// Whether the space is open at `at`.
    pub fn is_open(&self, zone: &Zone, at: Timestamp) -> bool {
        if self.is_always_open() {
            return true;
        }
        // An interval of an earlier local day ends by the start of `at`'s day; one of the
        // next day can contain `at` only when a fall-back repeats the end of `at`'s day.
        let day = zone.local_date(at);
        [Some(day), day.tomorrow().ok()]
            .into_iter()
            .flatten()
            .any(|d| {
                self.resolve_day(zone, d)
                    .iter()
                    .any(|&(s, e)| s <= at && at < e)
            })
    }

    /// The resolved, non-empty intervals of one local date, in order.
    fn resolve_day(&self, zone: &Zone, date: Date) -> Vec<Instants> {
        let list = self.day(date.weekday());
        let mut out = Vec::with_capacity(list.len());
        for iv in list {
            let open = zone.resolve(at_minute(date, iv.open_minutes()));
            let close = match iv.close_minutes() {
                1440 => date.tomorrow().ok().and_then(|d| zone.start_of(d)),
                m => zone.resolve(at_minute(date, m)),
            };
            // Both ends inside one DST gap resolve to the same instant: nothing is open.
            if let (Some(s), Some(e)) = (open, close)
                && s < e
            {
                out.push((s, e));
            }
        }
        out
    }

    /// Resolved intervals of the local dates `first..=last`, in order.
    fn raw_forward<'a>(
        &'a self,
        zone: &'a Zone,
        first: Date,
        last: Date,
    ) -> impl Iterator<Item = Instants> + 'a {
        std::iter::successors(Some(first), |d| d.tomorrow().ok())
            .take_while(move |d| *d <= last)
            .flat_map(move |d| self.resolve_day(zone, d))
    }

    /// Moves `start` (the start of an interval found by walking forward from `walked`)
    /// back over the intervals of earlier days that touch it.
    fn extend_back(&self, zone: &Zone, walked: Date, start: Timestamp) -> Timestamp {
        let mut start = start;
        let days = std::iter::successors(walked.yesterday().ok(), |d| d.yesterday().ok());
        let raw = days
            .take(HORIZON_DAYS as usize)
            .flat_map(|d| self.resolve_day(zone, d).into_iter().rev());
        for (s, e) in raw {
            if e < start {
                break;
            }
            start = start.min(s);
        }
        start
    }
}

/// Merges sorted, non-overlapping intervals that touch.
struct Merged<I: Iterator<Item = Instants>> {
    inner: Peekable<I>,
    /// Whether the last interval returned ran into the end of the input, so it may
    /// really extend further.
    cut: bool,
}

impl<I: Iterator<Item = Instants>> Merged<I> {
    fn new(inner: I) -> Self {
        Self {
            inner: inner.peekable(),
            cut: false,
        }
    }
}

impl<I: Iterator<Item = Instants>> Iterator for Merged<I> {
    type Item = Instants;

    fn next(&mut self) -> Option<Instants> {
        let (start, mut end) = self.inner.next()?;
        while let Some(&(s, e)) = self.inner.peek() {
            if s > end {
                return Some((start, end));
            }
            end = end.max(e);
            self.inner.next();
        }
        self.cut = true;
        Some((start, end))
    }
}

/// The civil datetime `minutes` after midnight of `date` (`minutes < 1440`).
fn at_minute(date: Date, minutes: u16) -> DateTime {
    let (h, m) = (minutes / 60, minutes % 60);
    date.at(h as i8, m as i8, 0, 0)
}

fn day_before(date: Date) -> Date {
    date.yesterday().unwrap_or(date)
}

fn plus_days(date: Date, days: i64) -> Date {
    date.checked_add(Span::new().days(days))
        .unwrap_or(Date::MAX)
}
