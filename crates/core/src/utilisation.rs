//! Utilisation of a space over a range `[from, to)`, from its stored history: time open,
//! booked, occupied and released, and counts of bookings, no-shows and check-ins.
//!
//! Every figure is exact to the millisecond (instants are whole milliseconds; sums are
//! integer milliseconds). The definitions, all clipped to `[from, to)`:
//!
//! - **open**: inside business hours (the space's current hours, resolved per local day in
//!   its zone, DST days included), not in maintenance, and not before the space existed;
//! - **booked**: `[start, end)` of every booking that was not cancelled (no-shows and early
//!   check-outs included: they were booked);
//! - **occupied**: `[checkedInAt, session end)` of every checked-in booking, where the session
//!   ends at `endedAt` (early check-out, or `end`); a session still in progress counts up to
//!   `now` (never past `end`). A check-in before `start` counts from the check-in;
//! - **released**: booked time given back: `[release, end)` of a no-show (release = the
//!   instant the no-show was recorded, else `start + noShowGrace` capped at `end`), and
//!   `[endedAt, end)` of an early check-out;
//! - **bookings**, **noShows**, **checkIns**: bookings starting in `[from, to)` that were not
//!   cancelled, that were no-shows, that were checked in (so the two rates share one base).

#[cfg(test)]
mod tests;

use crate::booking::{Booking, BookingStatus};
use crate::event::EventKind;
use crate::space::SpaceSettings;
use jiff::Timestamp;

/// A maintenance interval `[start, end)`; `end = None` while it has not ended.
pub type Maintenance = (Timestamp, Option<Timestamp>);

/// What utilisation needs of one booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingFacts {
    /// Inclusive start.
    pub start: Timestamp,
    /// Exclusive end.
    pub end: Timestamp,
    /// Its status now.
    pub status: BookingStatus,
    /// When the user checked in.
    pub checked_in_at: Option<Timestamp>,
    /// When an occupied session ended (early check-out, or `end`).
    pub ended_at: Option<Timestamp>,
    /// When it was cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// For a no-show: when the history recorded it (its `NO_SHOW_TIMEOUT` or
    /// `END_TIME_REACHED` transition); `None` when no transition was recorded.
    pub released_at: Option<Timestamp>,
}

impl BookingFacts {
    /// The facts of `b`, with the no-show instant the history recorded for it, if any.
    pub fn of(b: &Booking, released_at: Option<Timestamp>) -> Self {
        Self {
            start: b.start,
            end: b.end,
            status: b.status,
            checked_in_at: b.checked_in_at,
            ended_at: b.ended_at,
            cancelled_at: b.cancelled_at,
            released_at,
        }
    }
}

/// The figures of one space (or a sum over spaces), durations in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    /// Time inside business hours and not in maintenance.
    pub open_ms: i64,
    /// Booked time of bookings that were not cancelled.
    pub booked_ms: i64,
    /// Checked-in time.
    pub occupied_ms: i64,
    /// Booked time freed by no-shows and early check-outs.
    pub released_ms: i64,
    /// Bookings starting in the range, not cancelled.
    pub bookings: u64,
    /// Of those, no-shows.
    pub no_shows: u64,
    /// Of those, checked in.
    pub check_ins: u64,
}

impl Figures {
    /// Adds `other` to these figures (for totals).
    pub fn add(&mut self, other: &Figures) {
        self.open_ms += other.open_ms;
        self.booked_ms += other.booked_ms;
        self.occupied_ms += other.occupied_ms;
        self.released_ms += other.released_ms;
        self.bookings += other.bookings;
        self.no_shows += other.no_shows;
        self.check_ins += other.check_ins;
    }
}

/// One space's history as utilisation reads it.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// The space's zone, business hours and no-show grace.
    pub settings: &'a SpaceSettings,
    /// Its bookings (those outside the range add nothing).
    pub bookings: &'a [BookingFacts],
    /// Its maintenance intervals (see [`maintenance_spans`]).
    pub maintenance: &'a [Maintenance],
    /// When the space was created: no open time before it (`None`: no such bound).
    pub created_at: Option<Timestamp>,
}

/// The maintenance intervals of a space from its `ADMIN_DISABLE` / `ADMIN_ENABLE`
/// transitions in sequence order (`(event, occurredAt)`; other events are ignored). A space
/// starts out of maintenance; a disable not yet followed by an enable runs on.
pub fn maintenance_spans(events: &[(EventKind, Timestamp)]) -> Vec<Maintenance> {
    let mut out = vec![];
    let mut since: Option<Timestamp> = None;
    for &(event, at) in events {
        match (event, since) {
            (EventKind::AdminDisable, None) => since = Some(at),
            (EventKind::AdminEnable, Some(s)) => {
                out.push((s, Some(at)));
                since = None;
            }
            // A repeat (refused by the rules, so never stored) changes nothing.
            (EventKind::AdminDisable, Some(_)) | (EventKind::AdminEnable, None) => {}
            (
                EventKind::BookingCreated
                | EventKind::UpcomingReached
                | EventKind::StartTimeReached
                | EventKind::UserChecksIn
                | EventKind::NoShowTimeout
                | EventKind::UserChecksOut
                | EventKind::EndTimeReached
                | EventKind::CleaningEnded
                | EventKind::BookingCancelled
                | EventKind::BookingExtended
                | EventKind::DayStart
                | EventKind::DayEnd,
                _,
            ) => {}
        }
    }
    if let Some(s) = since {
        out.push((s, None));
    }
    out
}

/// The utilisation of one space over `[from, to)` as of `now` (see the module docs).
/// An empty or reversed range gives zeros.
pub fn figures(h: &History<'_>, from: Timestamp, to: Timestamp, now: Timestamp) -> Figures {
    let mut f = Figures::default();
    if from >= to {
        return f;
    }
    let clip = |s: Timestamp, e: Timestamp| overlap_ms((s, e), (from, to));
    f.open_ms = open_ms(h, h.created_at.map_or(from, |c| c.max(from)), to);
    let grace = h.settings.no_show_grace;
    for b in h.bookings {
        let starts_inside = from <= b.start && b.start < to;
        let (booked, session, released) = match b.status {
            BookingStatus::Cancelled => (false, None, None),
            BookingStatus::Scheduled | BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn => {
                (true, None, None)
            }
            BookingStatus::CheckedIn => {
                let end = b.end.min(now);
                (true, b.checked_in_at.map(|c| (c, end.max(c))), None)
            }
            BookingStatus::Completed => {
                let ended = b.ended_at.unwrap_or(b.end);
                let session = b.checked_in_at.map(|c| (c, ended.max(c)));
                (true, session, Some((ended.min(b.end), b.end)))
            }
            BookingStatus::NoShow => {
                let release = b.released_at.unwrap_or_else(|| b.no_show_at(grace));
                (true, None, Some((release.max(b.start).min(b.end), b.end)))
            }
        };
        if booked {
            f.booked_ms += clip(b.start, b.end);
            if starts_inside {
                f.bookings += 1;
                f.no_shows += u64::from(b.status == BookingStatus::NoShow);
                f.check_ins += u64::from(b.checked_in_at.is_some());
            }
        }
        if let Some((s, e)) = session {
            f.occupied_ms += clip(s, e);
        }
        if let Some((s, e)) = released {
            f.released_ms += clip(s, e);
        }
    }
    f
}

impl BookingFacts {
    /// `start + grace`, or `end` if sooner (the no-show deadline).
    fn no_show_at(&self, grace: crate::Period) -> Timestamp {
        (self.start + grace.duration()).min(self.end)
    }
}

/// Milliseconds of `[from, to)` inside business hours and outside every maintenance span.
fn open_ms(h: &History<'_>, from: Timestamp, to: Timestamp) -> i64 {
    if from >= to {
        return 0;
    }
    let s = h.settings;
    let open = match &s.business_hours {
        None => vec![(from, to)],
        Some(hours) => hours.open_intervals(&s.zone, from, to),
    };
    let closed = merged(h.maintenance, from, to);
    open.iter()
        .map(|&iv| {
            let whole = overlap_ms(iv, iv);
            whole - closed.iter().map(|&m| overlap_ms(iv, m)).sum::<i64>()
        })
        .sum()
}

/// The spans clipped to `[from, to)`, sorted, overlapping ones merged.
fn merged(spans: &[Maintenance], from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    let mut list: Vec<(Timestamp, Timestamp)> = spans
        .iter()
        .map(|&(s, e)| (s.max(from), e.unwrap_or(to).min(to)))
        .filter(|(s, e)| s < e)
        .collect();
    list.sort();
    let mut out: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(list.len());
    for (s, e) in list {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            Some(_) | None => out.push((s, e)),
        }
    }
    out
}

/// Milliseconds the two half-open intervals share (0 when disjoint or empty).
fn overlap_ms(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> i64 {
    let (s, e) = (a.0.max(b.0), a.1.min(b.1));
    if s < e {
        e.as_millisecond() - s.as_millisecond()
    } else {
        0
    }
}
