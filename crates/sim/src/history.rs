//! The history a space must record: the model replays, in order, every event that reached
//! the space since the last check — each timer that came due (in due order, then the
//! documented same-instant order) and each accepted command — and keeps the ones that change
//! what a client sees (space, room, the state's booking, `nextBookingAt`), as the engine
//! records a transition only then (docs/api.md: `sequence` is one more at every
//! transition). The stored history since the last check must be exactly that list: each
//! change once, named by its own event and booking, at its own instant, in order.
//!
//! The replay knows only what has been applied so far (a start is reserved from its own
//! `START_TIME_REACHED` on, not from its instant), so an event never takes the credit for
//! another due at the same instant but applied after it.

use crate::model::SpaceModel;
use jiff::Timestamp;
use zs_core::timer::next_day_timer;
use zs_core::{BookingId, BookingStatus, EventKind, RoomState, SpaceState};

/// What a client sees of a space: what a transition changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The space machine.
    pub space: SpaceState,
    /// The room machine.
    pub room: RoomState,
    /// The booking the state is about.
    pub booking: Option<BookingId>,
    /// With `available_at`: the next booking's start.
    pub next_booking_at: Option<Timestamp>,
}

/// One transition the space must record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The event that makes the change.
    pub event: EventKind,
    /// The booking the event concerns.
    pub booking: Option<BookingId>,
    /// When: the timer's due instant, or the command's.
    pub at: Timestamp,
    /// The space state before.
    pub from_space: SpaceState,
    /// The room state before.
    pub from_room: RoomState,
    /// What the space shows after.
    pub to: Shown,
}

impl Expected {
    /// Whether a stored transition is this one.
    pub fn matches(&self, t: &zs_core::Transition) -> bool {
        (
            self.event,
            &self.booking,
            self.at,
            self.from_space,
            self.from_room,
            self.to.space,
            self.to.room,
            &self.to.booking,
            self.to.next_booking_at,
        ) == (
            t.event,
            &t.booking_id,
            t.to.since,
            t.from_space,
            t.from_room,
            t.to.space,
            t.to.room,
            &t.to.booking_id,
            t.to.next_booking_at,
        )
    }
}

/// One line of a history report: `seq EVENT booking at from → to`.
pub fn describe(
    event: EventKind,
    booking: Option<&BookingId>,
    at: Timestamp,
    from: (SpaceState, RoomState),
    to: &Shown,
) -> String {
    let b = booking.map_or("-", |b| b.as_str());
    let state = to.booking.as_ref().map_or("-", |b| b.as_str());
    let next = to
        .next_booking_at
        .map(|t| format!(" next {t}"))
        .unwrap_or_default();
    format!(
        "{event} {b} at {at}: {}/{} -> {}/{} ({state}){next}",
        from.0, from.1, to.space, to.room
    )
}

fn shown_of(t: &zs_core::Transition) -> Shown {
    Shown {
        space: t.to.space,
        room: t.to.room,
        booking: t.to.booking_id.clone(),
        next_booking_at: t.to.next_booking_at,
    }
}

/// Compares the transitions stored since the last check with the replay's list; the
/// report names the first difference and shows both lists.
pub fn compare(
    space: &str,
    stored: &[zs_core::Transition],
    want: &[Expected],
) -> Result<(), String> {
    let first_bad = (0..stored.len().max(want.len()))
        .find(|&k| !matches!((want.get(k), stored.get(k)), (Some(w), Some(t)) if w.matches(t)));
    let Some(k) = first_bad else {
        return Ok(());
    };
    let mut report = format!(
        "{space}: history differs from the model at transition {} of {} since the last check \
         (each change once, by its own event and booking, in due then same-instant order)\n  \
         model says:",
        k + 1,
        want.len().max(stored.len())
    );
    for w in want {
        let line = describe(
            w.event,
            w.booking.as_ref(),
            w.at,
            (w.from_space, w.from_room),
            &w.to,
        );
        report.push_str(&format!("\n    {line}"));
    }
    report.push_str("\n  stored:");
    for t in stored {
        let line = describe(
            t.event,
            t.booking_id.as_ref(),
            t.to.since,
            (t.from_space, t.from_room),
            &shown_of(t),
        );
        report.push_str(&format!("\n    #{} {line}", t.to.sequence));
    }
    Err(report)
}

/// A command the space accepted, waiting for the next check's replay.
#[derive(Debug, Clone)]
struct Accepted {
    at: Timestamp,
    event: EventKind,
    booking: Option<BookingId>,
    seq: u64,
}

/// How far a booking has come in the replay.
#[derive(Debug, Clone, Copy, Default)]
pub struct BookingWalk {
    created: bool,
    checked_in: bool,
    checked_out: bool,
    cancelled: bool,
    /// Its timer events replayed, one bit each ([`timer_bit`]).
    timers: u8,
    /// The sequence number of its `BOOKING_CREATED`.
    created_seq: u64,
}

/// How far a space has come in the replay.
#[derive(Debug, Clone)]
pub struct SpaceWalk {
    accepted: Vec<Accepted>,
    /// Business-hours boundaries up to here are replayed.
    days_to: Timestamp,
    maintenance: bool,
    open: bool,
    shown: Shown,
    seq: u64,
}

impl SpaceWalk {
    /// A space created at `at`, showing `shown`.
    pub fn new(at: Timestamp, open: bool, shown: Shown) -> Self {
        Self {
            accepted: vec![],
            days_to: at,
            maintenance: false,
            open,
            shown,
            seq: 0,
        }
    }
}

/// The booking timer events, each with its bit in [`BookingWalk::timers`].
const BOOKING_TIMERS: [EventKind; 5] = [
    EventKind::UpcomingReached,
    EventKind::StartTimeReached,
    EventKind::NoShowTimeout,
    EventKind::EndTimeReached,
    EventKind::CleaningEnded,
];

fn timer_bit(e: EventKind) -> u8 {
    match e {
        EventKind::UpcomingReached => 1,
        EventKind::StartTimeReached => 2,
        EventKind::NoShowTimeout => 4,
        EventKind::EndTimeReached => 8,
        EventKind::CleaningEnded => 16,
        EventKind::BookingCreated
        | EventKind::UserChecksIn
        | EventKind::UserChecksOut
        | EventKind::BookingCancelled
        | EventKind::BookingExtended
        | EventKind::AdminDisable
        | EventKind::AdminEnable
        | EventKind::DayStart
        | EventKind::DayEnd => 0,
    }
}

/// One event to replay, with its place in the order.
struct Item {
    /// Instant, same-instant rank, command sequence, and 1 for a timer a command planned
    /// for its own instant (it runs right after that command).
    key: (Timestamp, u8, u64, u8),
    what: What,
}

enum What {
    Booking(EventKind, usize),
    /// A cancel of its series' release.
    Release(usize),
    Day(EventKind),
    Command(usize),
}

impl SpaceModel {
    /// Notes a command the space accepted at `at`, for the next replay.
    pub fn accepted(&mut self, at: Timestamp, event: EventKind, booking: Option<BookingId>) {
        let w = &mut self.walk;
        w.seq += 1;
        w.accepted.push(Accepted {
            at: zs_core::clock::to_millis(at),
            event,
            booking,
            seq: w.seq,
        });
    }

    /// Replays everything that reached the space up to `now` since the last replay, and
    /// returns the transitions it must have recorded, in order.
    pub fn replay(&mut self, now: Timestamp) -> Vec<Expected> {
        let mut items = self.due_items(now);
        items.sort_unstable_by_key(|i| i.key);
        let accepted = std::mem::take(&mut self.walk.accepted);
        let mut out = vec![];
        for item in items {
            let (event, booking, at) = match item.what {
                What::Booking(e, i) => {
                    self.replay_timer(e, i);
                    (e, Some(self.bookings[i].facts.id.clone()), item.key.0)
                }
                What::Release(i) => {
                    self.bookings[i].walk.cancelled = true;
                    let b = &self.bookings[i].facts;
                    (EventKind::BookingCancelled, Some(b.id.clone()), item.key.0)
                }
                What::Day(e) => {
                    self.walk.open = e == EventKind::DayStart;
                    (e, None, item.key.0)
                }
                What::Command(k) => {
                    let c = &accepted[k];
                    self.replay_command(c);
                    (c.event, c.booking.clone(), c.at)
                }
            };
            let shown = self.shown(at, item.key.1);
            if shown != self.walk.shown {
                out.push(Expected {
                    event,
                    booking,
                    at,
                    from_space: self.walk.shown.space,
                    from_room: self.walk.shown.room,
                    to: shown.clone(),
                });
                self.walk.shown = shown;
            }
        }
        out
    }

    /// What the space must show now, by the replay (held against the stored state).
    pub fn replayed(&self) -> &Shown {
        &self.walk.shown
    }

    fn due_items(&mut self, now: Timestamp) -> Vec<Item> {
        let mut items = vec![];
        for (i, b) in self.bookings.iter().enumerate() {
            if !b.walk.created
                && !self.walk.accepted.iter().any(|c| {
                    c.event == EventKind::BookingCreated && c.booking.as_ref() == Some(&b.facts.id)
                })
            {
                continue;
            }
            for e in BOOKING_TIMERS {
                if b.walk.timers & timer_bit(e) != 0 {
                    continue;
                }
                if e == EventKind::CleaningEnded && b.facts.checked_in_at.is_none() {
                    continue;
                }
                let Some(due) = self.timer_due(e, &b.facts.id) else {
                    continue;
                };
                if due > now {
                    continue;
                }
                let key = if due > b.created_at {
                    (due, e.same_instant_rank(), 0, 0)
                } else if e == EventKind::StartTimeReached {
                    // A booking made for the very instant it starts: its start runs right
                    // after its creation.
                    (b.created_at, u8::MAX, self.created_seq(b), 1)
                } else {
                    // Its window had begun at creation: never planned.
                    continue;
                };
                items.push(Item {
                    key,
                    what: What::Booking(e, i),
                });
            }
        }
        // A series' release cancels its occurrences right after the no-show that released
        // it, at its instant, in start order, before any later timer of that instant.
        for (i, b) in self.bookings.iter().enumerate() {
            if let Some((t, k)) = b.released
                && !b.walk.cancelled
                && t <= now
            {
                items.push(Item {
                    key: (t, EventKind::NoShowTimeout.same_instant_rank(), k, 2),
                    what: What::Release(i),
                });
            }
        }
        let mut after = self.walk.days_to;
        while let Some(t) = next_day_timer(&self.space, after).filter(|t| t.due <= now) {
            items.push(Item {
                key: (t.due, t.event.same_instant_rank(), 0, 0),
                what: What::Day(t.event),
            });
            after = t.due;
        }
        self.walk.days_to = now.max(self.walk.days_to);
        for (k, c) in self.walk.accepted.iter().enumerate() {
            items.push(Item {
                key: (c.at, u8::MAX, c.seq, 0),
                what: What::Command(k),
            });
        }
        items
    }

    fn created_seq(&self, b: &crate::model::ModelBooking) -> u64 {
        if b.walk.created {
            return b.walk.created_seq;
        }
        self.walk
            .accepted
            .iter()
            .find(|c| {
                c.event == EventKind::BookingCreated && c.booking.as_ref() == Some(&b.facts.id)
            })
            .map_or(0, |c| c.seq)
    }

    fn replay_timer(&mut self, e: EventKind, i: usize) {
        let maintenance = self.walk.maintenance;
        let pending_start = matches!(
            self.walk_status(i),
            BookingStatus::Scheduled | BookingStatus::Upcoming
        );
        let w = &mut self.bookings[i].walk;
        w.timers |= timer_bit(e);
        if e == EventKind::StartTimeReached && maintenance && pending_start {
            w.cancelled = true;
        }
    }

    fn replay_command(&mut self, c: &Accepted) {
        let i = c.booking.as_ref().and_then(|b| self.find(b));
        let flag = |m: &mut SpaceModel, set: fn(&mut BookingWalk)| {
            if let Some(i) = i {
                set(&mut m.bookings[i].walk);
            }
        };
        match c.event {
            EventKind::BookingCreated => flag(self, |w| w.created = true),
            EventKind::UserChecksIn => flag(self, |w| w.checked_in = true),
            EventKind::UserChecksOut => flag(self, |w| w.checked_out = true),
            EventKind::BookingCancelled => flag(self, |w| w.cancelled = true),
            EventKind::AdminDisable => self.walk.maintenance = true,
            EventKind::AdminEnable => self.walk.maintenance = false,
            // A later end changes nothing shown (the model's end moved with it).
            EventKind::BookingExtended
            | EventKind::UpcomingReached
            | EventKind::StartTimeReached
            | EventKind::NoShowTimeout
            | EventKind::EndTimeReached
            | EventKind::CleaningEnded
            | EventKind::DayStart
            | EventKind::DayEnd => {}
        }
        if c.event == EventKind::BookingCreated
            && let Some(i) = i
        {
            self.bookings[i].walk.created_seq = c.seq;
        }
    }

    /// A booking's status by what the replay has applied to it.
    fn walk_status(&self, i: usize) -> BookingStatus {
        let b = &self.bookings[i];
        let w = &b.walk;
        let done = |e| w.timers & timer_bit(e) != 0;
        let lead = self.space.settings.upcoming_lead.duration();
        if w.cancelled {
            BookingStatus::Cancelled
        } else if w.checked_in {
            if w.checked_out || done(EventKind::EndTimeReached) {
                BookingStatus::Completed
            } else {
                BookingStatus::CheckedIn
            }
        } else if done(EventKind::NoShowTimeout) || done(EventKind::EndTimeReached) {
            BookingStatus::NoShow
        } else if done(EventKind::StartTimeReached) {
            BookingStatus::AwaitingCheckIn
        } else if done(EventKind::UpcomingReached) || b.facts.start - lead <= b.created_at {
            BookingStatus::Upcoming
        } else {
            BookingStatus::Scheduled
        }
    }

    /// What the space shows at `at`, by the replay (CONTRACT §3, each fact counted from
    /// the event that brings it about).
    fn shown(&self, at: Timestamp, rank: u8) -> Shown {
        let live: Vec<(usize, BookingStatus)> = (0..self.bookings.len())
            .filter(|&i| self.bookings[i].walk.created)
            .map(|i| (i, self.walk_status(i)))
            .collect();
        let start = |i: usize| self.bookings[i].facts.start;
        let id = |i: usize| self.bookings[i].facts.id.clone();
        let earliest = |keep: &dyn Fn(BookingStatus) -> bool| {
            live.iter()
                .filter(|(_, st)| keep(*st))
                .min_by_key(|(i, _)| start(*i))
                .map(|(i, _)| *i)
        };
        let occupied = earliest(&|st| st == BookingStatus::CheckedIn);
        let cleaning = live.iter().any(|&(i, st)| {
            let w = &self.bookings[i].walk;
            st == BookingStatus::Completed
                && w.checked_in
                && w.timers & timer_bit(EventKind::CleaningEnded) == 0
        });
        let upcoming =
            earliest(&|st| matches!(st, BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn));
        let room = if occupied.is_some() {
            RoomState::Occupied
        } else if cleaning {
            RoomState::Cleaning
        } else if upcoming.is_some() {
            RoomState::Upcoming
        } else {
            RoomState::Free
        };
        let reserved = live
            .iter()
            .find(|&&(i, st)| {
                let w = &self.bookings[i].walk;
                w.timers & timer_bit(EventKind::StartTimeReached) != 0
                    && w.timers & timer_bit(EventKind::EndTimeReached) == 0
                    && matches!(
                        st,
                        BookingStatus::AwaitingCheckIn | BookingStatus::CheckedIn
                    )
            })
            .map(|&(i, _)| i);
        // Before DAY_END's turn at a closing instant, the closing interval is still the
        // current one (DAY_START comes after DAY_END).
        let hours_at = if rank < EventKind::DayEnd.same_instant_rank() {
            at - jiff::SignedDuration::from_nanos(1)
        } else {
            at
        };
        let close = self.space.settings.interval_end(hours_at).ok().flatten();
        let next = live
            .iter()
            .filter(|&&(i, st)| {
                st.is_live()
                    && st != BookingStatus::AwaitingCheckIn
                    && Some(i) != reserved
                    && start(i) >= at
                    && close.is_none_or(|c| start(i) < c)
            })
            .map(|&(i, _)| start(i))
            .min();
        let space = if self.walk.maintenance {
            SpaceState::InMaintenance
        } else if !self.walk.open {
            SpaceState::NotAvailable
        } else if reserved.is_some() {
            SpaceState::Reserved
        } else if next.is_some() {
            SpaceState::AvailableAt
        } else {
            SpaceState::AvailableNow
        };
        Shown {
            space,
            room,
            booking: occupied.or(reserved).or(upcoming).map(id),
            next_booking_at: next.filter(|_| space == SpaceState::AvailableAt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zs_core::calendar::Zone;
    use zs_core::{Period, Space, SpaceId, SpaceSettings};

    fn t(s: &str) -> Timestamp {
        format!("2026-05-04T{s}Z").parse().unwrap()
    }

    fn model() -> SpaceModel {
        let settings = SpaceSettings {
            upcoming_lead: Period::minutes(15),
            no_show_grace: Period::minutes(10),
            cleaning: Period::minutes(10),
            ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
        };
        let space = Space {
            id: SpaceId::parse("s").unwrap(),
            name: "s".into(),
            settings,
            maintenance: false,
        };
        SpaceModel::new(space, t("08:00:00"))
    }

    fn lines(v: &[Expected]) -> Vec<String> {
        v.iter()
            .map(|e| {
                let b = e.booking.as_ref().map_or("-", |b| b.as_str());
                format!("{}({b})@{} {}/{}", e.event, e.at, e.to.space, e.to.room)
            })
            .collect()
    }

    /// Issue 14 finding 2b as the replay sees it: `a` checked in early, `b`'s upcoming due
    /// at `a`'s start. `b`'s `UPCOMING_REACHED` runs first and changes nothing; the start
    /// of `a` is `a`'s own transition.
    #[test]
    fn coinciding_timers_each_take_only_their_own_change() {
        let mut m = model();
        let (a, b) = (
            BookingId::parse("a").unwrap(),
            BookingId::parse("b").unwrap(),
        );
        m.book(a.clone(), t("09:00:00"), t("09:05:00"), t("08:00:00"));
        m.book(b, t("09:15:00"), t("09:45:00"), t("08:00:00"));
        assert_eq!(
            lines(&m.replay(t("08:00:00"))),
            ["BOOKING_CREATED(a)@2026-05-04T08:00:00Z available_at/free"]
        );
        let i = m.find(&a).unwrap();
        m.record(i, EventKind::UserChecksIn, t("08:50:00"));
        assert_eq!(
            lines(&m.replay(t("09:01:00"))),
            [
                "UPCOMING_REACHED(a)@2026-05-04T08:45:00Z available_at/upcoming",
                "USER_CHECKS_IN(a)@2026-05-04T08:50:00Z available_at/occupied",
                "START_TIME_REACHED(a)@2026-05-04T09:00:00Z reserved/occupied",
            ]
        );
        // Later: a's end plans its cleaning; the cleaning ends when b's upcoming window
        // has begun, and b's start comes after both, each with its own change.
        assert_eq!(
            lines(&m.replay(t("09:20:00"))),
            [
                "END_TIME_REACHED(a)@2026-05-04T09:05:00Z available_at/cleaning",
                "CLEANING_ENDED(a)@2026-05-04T09:15:00Z available_at/upcoming",
                "START_TIME_REACHED(b)@2026-05-04T09:15:00Z reserved/upcoming",
            ]
        );
        // Nothing new, nothing expected.
        assert!(m.replay(t("09:21:00")).is_empty());
    }

    #[test]
    fn a_stored_history_that_names_the_wrong_event_is_reported_with_both_lists() {
        let mut m = model();
        m.book(
            BookingId::parse("a").unwrap(),
            t("09:00:00"),
            t("10:00:00"),
            t("08:00:00"),
        );
        let want = m.replay(t("08:00:00"));
        let w = &want[0];
        let mut status = zs_core::SpaceStatus {
            space: w.to.space,
            room: w.to.room,
            booking_id: w.to.booking.clone(),
            next_booking_at: w.to.next_booking_at,
            since: w.at,
            sequence: 2,
        };
        let mut stored = zs_core::Transition {
            space_id: SpaceId::parse("s").unwrap(),
            event: EventKind::BookingCreated,
            booking_id: w.booking.clone(),
            from_space: w.from_space,
            from_room: w.from_room,
            to: status.clone(),
        };
        assert_eq!(compare("s", std::slice::from_ref(&stored), &want), Ok(()));
        let missing = compare("s", &[], &want).unwrap_err();
        assert!(missing.contains("transition 1 of 1"), "{missing}");
        stored.event = EventKind::UpcomingReached;
        let wrong = compare("s", std::slice::from_ref(&stored), &want).unwrap_err();
        assert!(
            wrong.contains("model says:\n    BOOKING_CREATED a"),
            "{wrong}"
        );
        assert!(
            wrong.contains("stored:\n    #2 UPCOMING_REACHED a"),
            "{wrong}"
        );
        status.sequence = 3;
        stored.event = EventKind::BookingCreated;
        let extra = [
            stored.clone(),
            zs_core::Transition {
                to: status,
                ..stored
            },
        ];
        let twice = compare("s", &extra, &want).unwrap_err();
        assert!(twice.contains("transition 2 of 2"), "{twice}");
    }
}
