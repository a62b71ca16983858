//! The simulator's independent model of one space: the raw facts only (what was booked,
//! when people checked in and out, cancellations, the maintenance flag), from which the
//! CONTRACT §3 oracle derives what the stored states must be.

use crate::history::{BookingWalk, Shown, SpaceWalk};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use zs_core::oracle::{self, BookingFacts, Derived};
use zs_core::timer::next_day_timer;
use zs_core::{BookingId, BookingStatus, EventKind, Space, SpaceId, SpaceSettings};

/// One booking the model knows about.
#[derive(Debug, Clone)]
pub struct ModelBooking {
    /// Its raw facts.
    pub facts: BookingFacts,
    /// Its start has been settled (a start during maintenance cancels it).
    started: bool,
    /// When the space accepted it.
    pub created_at: Timestamp,
    /// How far the history replay has come with it.
    pub(crate) walk: BookingWalk,
    /// The series it is an occurrence of.
    series: Option<String>,
    /// Its no-show has been counted against its series.
    struck: bool,
    /// Cancelled by its series' release: the instant, and its place among the release's
    /// cancels (in start order).
    pub(crate) released: Option<(Timestamp, u64)>,
}

/// One space, as raw facts.
#[derive(Debug, Clone)]
pub struct SpaceModel {
    /// The space.
    pub space: Space,
    /// Its bookings that may still matter (finished ones are pruned).
    pub bookings: Vec<ModelBooking>,
    /// Bookings pruned so far, with their final status.
    pub finished: Vec<(BookingFacts, BookingStatus)>,
    /// How far the history replay has come.
    pub(crate) walk: SpaceWalk,
    /// Per series: its consecutive no-shows so far (no-show strikes, CONTRACT §9).
    streaks: HashMap<String, u32>,
    /// The series released, with the instant and the occurrences cancelled.
    pub released: Vec<(String, Timestamp, Vec<BookingId>)>,
}

/// Why a booking request must be refused, by the rules of CONTRACT §4 and §11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `start >= end`, in the past, too long, or outside business hours.
    Invalid,
    /// It breaks the space's booking policy with this code (checked after the rules of
    /// `Invalid` that need no policy, before business hours and conflicts).
    Policy(&'static str),
    /// It overlaps a live booking's `[start, end + cleaning)`.
    Conflict,
}

impl SpaceModel {
    /// A new space, created at `at`.
    pub fn new(space: Space, at: Timestamp) -> Self {
        let d = oracle::derive(&space.settings, space.maintenance, &[], at);
        let shown = Shown {
            space: d.space,
            room: d.room,
            booking: None,
            next_booking_at: d.next_booking_at,
        };
        let walk = SpaceWalk::new(at, space.settings.is_open(at), shown);
        Self {
            space,
            bookings: vec![],
            finished: vec![],
            walk,
            streaks: HashMap::new(),
            released: vec![],
        }
    }

    /// The space id.
    pub fn id(&self) -> &SpaceId {
        &self.space.id
    }

    fn settings(&self) -> &SpaceSettings {
        &self.space.settings
    }

    /// The index of a booking.
    pub fn find(&self, id: &BookingId) -> Option<usize> {
        self.bookings.iter().position(|b| &b.facts.id == id)
    }

    /// Whether the space ever accepted this booking (live or pruned).
    pub fn knows(&self, id: &BookingId) -> bool {
        self.find(id).is_some() || self.finished.iter().any(|(f, _)| &f.id == id)
    }

    /// A booking's status at `now`, from its facts alone.
    pub fn status(&self, i: usize, now: Timestamp) -> BookingStatus {
        oracle::booking_status(&self.bookings[i].facts, self.settings(), now)
    }

    /// Settles what happened by `now`, in time order: a booking whose start arrives during
    /// maintenance is cancelled at its start; a series occurrence's no-show counts against
    /// its series, and the one that reaches `noShowStrikes` releases the series at its
    /// instant (every occurrence still pending then is cancelled). Call at every instant
    /// the model may have crossed a start or a no-show, before the maintenance flag changes
    /// and before a check-in is recorded.
    pub fn settle(&mut self, now: Timestamp) {
        let maintenance = self.space.maintenance;
        let grace = self.settings().no_show_grace;
        loop {
            // The earliest unsettled start or series no-show at or before `now`.
            let next = self
                .bookings
                .iter()
                .enumerate()
                .flat_map(|(i, b)| {
                    let start =
                        (!b.started && b.facts.start <= now).then_some((b.facts.start, 0, i));
                    let no_show = (b.facts.start + grace.duration()).min(b.facts.end);
                    let strike = (b.series.is_some() && !b.struck && no_show <= now)
                        .then_some((no_show, 1, i));
                    start.into_iter().chain(strike)
                })
                .min();
            let Some((t, kind, i)) = next else { return };
            if kind == 0 {
                let b = &mut self.bookings[i];
                b.started = true;
                let pending = b.facts.cancelled_at.is_none() && b.facts.checked_in_at.is_none();
                if maintenance && pending {
                    b.facts.cancelled_at = Some(b.facts.start);
                }
                continue;
            }
            self.bookings[i].struck = true;
            if oracle::booking_status(&self.bookings[i].facts, self.settings(), t)
                != BookingStatus::NoShow
            {
                continue;
            }
            let series = self.bookings[i]
                .series
                .clone()
                .expect("a series occurrence");
            if self.released.iter().any(|(s, ..)| *s == series) {
                continue;
            }
            let n = self.streaks.entry(series.clone()).or_default();
            *n += 1;
            if self.space.settings.no_show_strikes.releases(*n) {
                self.release(&series, t);
            }
        }
    }

    /// Releases `series` at `t`: its occurrences pending then are cancelled, in start order.
    fn release(&mut self, series: &str, t: Timestamp) {
        let settings = self.settings().clone();
        let mut pending: Vec<usize> = (0..self.bookings.len())
            .filter(|&j| {
                let b = &self.bookings[j];
                b.series.as_deref() == Some(series)
                    && oracle::booking_status(&b.facts, &settings, t).is_pending()
            })
            .collect();
        pending.sort_by_key(|&j| self.bookings[j].facts.start);
        let mut cancelled = vec![];
        for (k, j) in pending.into_iter().enumerate() {
            let b = &mut self.bookings[j];
            b.facts.cancelled_at = Some(t);
            b.released = Some((t, k as u64));
            cancelled.push(b.facts.id.clone());
        }
        self.released.push((series.to_owned(), t, cancelled));
    }

    /// Marks booking `id` as an occurrence of `series`.
    pub fn mark_series(&mut self, id: &BookingId, series: &str) {
        if let Some(i) = self.find(id) {
            self.bookings[i].series = Some(series.to_owned());
        }
    }

    /// What the store must show of series `id`: its consecutive no-shows, and when it was
    /// released.
    pub fn series_count(&self, id: &str) -> (u32, Option<Timestamp>) {
        let released = self
            .released
            .iter()
            .find(|(s, ..)| s == id)
            .map(|(_, t, _)| *t);
        (self.streaks.get(id).copied().unwrap_or(0), released)
    }

    /// Whether series `id` was released by its no-show strikes.
    pub fn is_released(&self, id: &str) -> bool {
        self.released.iter().any(|(s, ..)| s == id)
    }

    /// The bookings cancelled by their series' release (live or pruned).
    pub fn released_ids(&self) -> impl Iterator<Item = &BookingId> {
        self.released.iter().flat_map(|(_, _, ids)| ids)
    }

    /// Both states the space must show at `now`.
    pub fn derive(&self, now: Timestamp) -> Derived {
        let facts: Vec<BookingFacts> = self.bookings.iter().map(|b| b.facts.clone()).collect();
        oracle::derive(self.settings(), self.space.maintenance, &facts, now)
    }

    /// The interval a booking keeps others out of at `now`, if any.
    fn blocked(&self, i: usize, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let f = &self.bookings[i].facts;
        let cleaning = self.settings().cleaning.duration();
        match self.status(i, now) {
            BookingStatus::Cancelled | BookingStatus::NoShow => None,
            BookingStatus::Completed => {
                let ended = f.checked_out_at.filter(|c| *c < f.end).unwrap_or(f.end);
                Some((f.start, ended + cleaning))
            }
            _ => Some((f.start, f.end + cleaning)),
        }
    }

    /// Whether CONTRACT §4 refuses booking `[start, end)` at `now`, and why.
    pub fn refusal(&self, start: Timestamp, end: Timestamp, now: Timestamp) -> Option<Refusal> {
        let s = self.settings();
        if start >= end || start < now || end.duration_since(start) > zs_core::rules::MAX_BOOKING {
            return Some(Refusal::Invalid);
        }
        if let Some(r) = self.policy_refusal(start, end, Some(now)) {
            return Some(r);
        }
        match s.interval_end(start) {
            Ok(None) => {}
            Ok(Some(close)) if end <= close => {}
            _ => return Some(Refusal::Invalid),
        }
        let wanted = (start, end + s.cleaning.duration());
        let clash = (0..self.bookings.len())
            .filter_map(|i| self.blocked(i, now))
            .any(|(a, z)| a < wanted.1 && wanted.0 < z);
        clash.then_some(Refusal::Conflict)
    }

    /// The policy (CONTRACT §11) a booking `[start, end)` made at `made_at` breaks, if any,
    /// in the order the rules check them: longest, shortest, notice, horizon. Without
    /// `made_at` (an extension) only the lengths count.
    fn policy_refusal(
        &self,
        start: Timestamp,
        end: Timestamp,
        made_at: Option<Timestamp>,
    ) -> Option<Refusal> {
        let p = &self.settings().policies;
        let ms = |l: Option<zs_core::Limit>| l.map(zs_core::Limit::as_millis);
        let length = end.as_millisecond() - start.as_millisecond();
        if ms(p.max_duration).is_some_and(|max| length > max) {
            return Some(Refusal::Policy("policy_max_duration"));
        }
        if ms(p.min_duration).is_some_and(|min| length < min) {
            return Some(Refusal::Policy("policy_min_duration"));
        }
        let ahead = start.as_millisecond() - made_at?.as_millisecond();
        if ms(p.min_notice).is_some_and(|notice| ahead < notice) {
            return Some(Refusal::Policy("policy_min_notice"));
        }
        if ms(p.booking_horizon).is_some_and(|horizon| ahead > horizon) {
            return Some(Refusal::Policy("policy_horizon"));
        }
        None
    }

    /// Whether CONTRACT §10 refuses extending booking `i` to `end` at `now`, and why: it
    /// has ended (or is over), the end is not later, or the longer booking breaks a rule of
    /// §4 (its own interval aside).
    pub fn extension_refusal(&self, i: usize, end: Timestamp, now: Timestamp) -> Option<Refusal> {
        let f = &self.bookings[i].facts;
        if !self.status(i, now).is_live() || now >= f.end {
            return Some(Refusal::Conflict);
        }
        let s = self.settings();
        if end <= f.end || end.duration_since(f.start) > zs_core::rules::MAX_BOOKING {
            return Some(Refusal::Invalid);
        }
        // The start, accepted when the booking was made, does not move: lengths only.
        if let Some(r) = self.policy_refusal(f.start, end, None) {
            return Some(r);
        }
        match s.interval_end(f.start) {
            Ok(None) => {}
            Ok(Some(close)) if end <= close => {}
            _ => return Some(Refusal::Invalid),
        }
        let wanted = (f.start, end + s.cleaning.duration());
        let clash = (0..self.bookings.len())
            .filter(|&k| k != i)
            .filter_map(|k| self.blocked(k, now))
            .any(|(a, z)| a < wanted.1 && wanted.0 < z);
        clash.then_some(Refusal::Conflict)
    }

    /// Records an extension of booking `i` to `end` (no transition: nothing shown changes).
    pub fn extend(&mut self, i: usize, end: Timestamp) {
        self.bookings[i].facts.end = end;
    }

    /// Records a booking accepted at `now`.
    pub fn book(&mut self, id: BookingId, start: Timestamp, end: Timestamp, now: Timestamp) {
        self.accepted(now, EventKind::BookingCreated, Some(id.clone()));
        self.bookings.push(ModelBooking {
            facts: BookingFacts {
                id,
                start,
                end,
                cancelled_at: None,
                checked_in_at: None,
                checked_out_at: None,
            },
            started: false,
            created_at: zs_core::clock::to_millis(now),
            walk: BookingWalk::default(),
            series: None,
            struck: false,
            released: None,
        });
    }

    /// Whether each user event is allowed now: (check-in, check-out, cancel).
    pub fn allowed(&self, i: usize, now: Timestamp) -> (bool, bool, bool) {
        let st = self.status(i, now);
        (
            matches!(st, BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn)
                && !self.space.maintenance,
            st == BookingStatus::CheckedIn,
            st.is_pending(),
        )
    }

    /// When a timer event for `booking` is due, by the facts.
    pub fn timer_due(&self, event: EventKind, booking: &BookingId) -> Option<Timestamp> {
        let f = &self.bookings[self.find(booking)?].facts;
        let s = self.settings();
        Some(match event {
            EventKind::UpcomingReached => f.start - s.upcoming_lead.duration(),
            EventKind::StartTimeReached => f.start,
            EventKind::NoShowTimeout => (f.start + s.no_show_grace.duration()).min(f.end),
            EventKind::EndTimeReached => f.end,
            EventKind::CleaningEnded => {
                let ended = f.checked_out_at.filter(|c| *c < f.end).unwrap_or(f.end);
                ended + s.cleaning.duration()
            }
            _ => return None,
        })
    }

    /// The next instant after `now` at which the derived states may change: a booking's
    /// lead, start, no-show, end or cleaning end, or a business-hours boundary.
    pub fn next_change(&self, now: Timestamp) -> Option<Timestamp> {
        let s = self.settings();
        let mut next = next_day_timer(&self.space, now).map(|t| t.due);
        let mut consider = |t: Timestamp| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for b in &self.bookings {
            let f = &b.facts;
            consider(f.start - s.upcoming_lead.duration());
            consider(f.start);
            consider((f.start + s.no_show_grace.duration()).min(f.end));
            consider(f.end);
            let ended = f.checked_out_at.filter(|c| *c < f.end).unwrap_or(f.end);
            consider(ended + s.cleaning.duration());
        }
        next
    }

    /// Drops bookings that can no longer matter (finished, and past their cleaning), keeping
    /// their final status for the end-of-run check.
    pub fn prune(&mut self, now: Timestamp) {
        let cleaning = self.settings().cleaning.duration();
        let settings = self.settings().clone();
        let mut kept = Vec::with_capacity(self.bookings.len());
        for b in std::mem::take(&mut self.bookings) {
            let st = oracle::booking_status(&b.facts, &settings, now);
            let over = b
                .facts
                .end
                .max(b.facts.checked_out_at.unwrap_or(b.facts.end))
                + cleaning
                + SignedDuration::from_secs(1);
            let terminal = matches!(
                st,
                BookingStatus::Completed | BookingStatus::Cancelled | BookingStatus::NoShow
            );
            if terminal && b.started && over < now {
                self.finished.push((b.facts, st));
            } else {
                kept.push(b);
            }
        }
        self.bookings = kept;
    }

    /// Every booking the space accepted, with its status at `now` (for the final checks).
    pub fn all(&self, now: Timestamp) -> Vec<(BookingFacts, BookingStatus)> {
        let mut v = self.finished.clone();
        v.extend(
            (0..self.bookings.len()).map(|i| (self.bookings[i].facts.clone(), self.status(i, now))),
        );
        v
    }

    /// Whether `booking.start` must have been sent for a booking: at `UPCOMING_REACHED`, or
    /// at creation inside the window, unless it was cancelled before its window began.
    pub fn starts(&self, f: &BookingFacts) -> bool {
        let upcoming_at = f.start - self.settings().upcoming_lead.duration();
        f.cancelled_at.is_none_or(|c| c >= upcoming_at)
    }

    /// Records a check-in, check-out or cancellation at `now` (a check-in of a series
    /// occurrence sets its series' no-show count back to zero).
    pub fn record(&mut self, i: usize, event: EventKind, now: Timestamp) {
        let id = self.bookings[i].facts.id.clone();
        self.accepted(now, event, Some(id));
        if let (EventKind::UserChecksIn, Some(s)) = (event, &self.bookings[i].series) {
            self.streaks.insert(s.clone(), 0);
        }
        let f = &mut self.bookings[i].facts;
        match event {
            EventKind::UserChecksIn => f.checked_in_at = Some(now),
            EventKind::UserChecksOut => f.checked_out_at = Some(now),
            EventKind::BookingCancelled => f.cancelled_at = Some(now),
            EventKind::BookingCreated
            | EventKind::UpcomingReached
            | EventKind::StartTimeReached
            | EventKind::NoShowTimeout
            | EventKind::EndTimeReached
            | EventKind::CleaningEnded
            | EventKind::BookingExtended
            | EventKind::AdminDisable
            | EventKind::AdminEnable
            | EventKind::DayStart
            | EventKind::DayEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zs_core::calendar::Zone;
    use zs_core::{Period, SpaceState};

    fn model() -> SpaceModel {
        let settings = SpaceSettings {
            upcoming_lead: Period::minutes(15),
            no_show_grace: Period::minutes(10),
            cleaning: Period::minutes(10),
            ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
        };
        SpaceModel::new(
            Space {
                id: SpaceId::parse("s").unwrap(),
                name: "s".into(),
                settings,
                maintenance: false,
            },
            t("08:00:00"),
        )
    }

    fn t(s: &str) -> Timestamp {
        format!("2026-05-04T{s}Z").parse().unwrap()
    }

    #[test]
    fn refuses_overlaps_including_cleaning_and_frees_no_shows() {
        let mut m = model();
        m.book(
            BookingId::parse("a").unwrap(),
            t("10:00:00"),
            t("11:00:00"),
            t("09:00:00"),
        );
        let now = t("09:00:00");
        assert_eq!(
            m.refusal(t("11:05:00"), t("12:00:00"), now),
            Some(Refusal::Conflict)
        );
        assert_eq!(m.refusal(t("11:10:00"), t("12:00:00"), now), None);
        assert_eq!(
            m.refusal(t("08:00:00"), t("08:30:00"), now),
            Some(Refusal::Invalid)
        );
        // Nobody came: after the no-show deadline the slot is free again.
        assert_eq!(m.refusal(t("10:30:00"), t("10:45:00"), t("10:20:00")), None);
    }

    #[test]
    fn a_start_during_maintenance_cancels_and_next_change_walks_the_plan() {
        let mut m = model();
        m.book(
            BookingId::parse("a").unwrap(),
            t("10:00:00"),
            t("11:00:00"),
            t("09:00:00"),
        );
        assert_eq!(m.next_change(t("09:00:00")), Some(t("09:45:00")));
        assert_eq!(m.next_change(t("09:45:00")), Some(t("10:00:00")));
        m.space.maintenance = true;
        m.settle(t("10:00:00"));
        assert_eq!(m.status(0, t("10:00:00")), BookingStatus::Cancelled);
        assert_eq!(m.derive(t("10:00:00")).space, SpaceState::InMaintenance);
        m.prune(t("12:00:00"));
        assert!(m.bookings.is_empty());
        assert_eq!(m.finished.len(), 1);
    }
}
