//! Walk-up (CONTRACT §10, "book now"): a booking from now for a duration, checked in at
//! once. It is not a new event: it is the three events a booking made and used at the same
//! instant goes through — `BOOKING_CREATED`, its `START_TIME_REACHED` (due at once, applied
//! here instead of from its queue job) and `USER_CHECKS_IN` — decided in order on the same
//! facts, so history, status posts and webhooks name each change's own event and booking,
//! and the machines' tables need no cell of their own.

use crate::decide::{Command, Outcome, SpaceFacts, decide, decision_instant};
use crate::error::DomainError;
use crate::event::EventKind;
use crate::ids::BookingId;
use crate::period::Period;
use crate::rules::NewBooking;
use crate::timer::{TimerChange, booking_timer_id};
use jiff::Timestamp;

/// A walk-up request.
#[derive(Debug, Clone, PartialEq)]
pub struct WalkUp {
    /// The new booking's id.
    pub id: BookingId,
    /// A human title.
    pub title: String,
    /// How long from now (one second to a day).
    pub duration: Period,
}

/// Books the space from `at` (the decision instant, see [`decision_instant`], rounded up
/// to the millisecond) for the
/// walk-up's duration and checks the booking in. Returns the outcomes of the three events in
/// the order they were applied; on `Err` nothing changed.
///
/// Refused like a booking made by hand (`booking_conflict` while a booking or its cleaning
/// holds the span, `outside_business_hours` past closing or when closed), and with
/// `space_in_maintenance` during maintenance (where a booking could be made, but not used).
pub fn book_now(
    facts: &mut SpaceFacts,
    walk_up: &WalkUp,
    at: Timestamp,
) -> Result<Vec<Outcome>, DomainError> {
    // Decided at a whole millisecond (as bookings are kept), never before the space's
    // last change: the booking starts exactly at the instant its events are decided at.
    let at = decision_instant(facts, at);
    let ms = crate::clock::to_millis(at);
    let at = if ms < at {
        ms + jiff::SignedDuration::from_millis(1)
    } else {
        ms
    };
    if facts.space.maintenance {
        return Err(DomainError::InMaintenance);
    }
    let id = walk_up.id.clone();
    let new = NewBooking {
        id: id.clone(),
        title: walk_up.title.clone(),
        start: at,
        end: at + walk_up.duration.duration(),
    };
    let mut next = facts.clone();
    let mut created = decide(&mut next, Command::Create(new), at)?;
    // The start is due now and applied next, here: its queue job would only come stale.
    let start_timer = booking_timer_id(&id, EventKind::StartTimeReached);
    created
        .timers
        .retain(|t| !matches!(t, TimerChange::Schedule(t) if t.id == start_timer));
    let started = decide(
        &mut next,
        Command::Timer {
            event: EventKind::StartTimeReached,
            booking: Some(id.clone()),
        },
        at,
    )?;
    let checked_in = decide(&mut next, Command::CheckIn(id), at)?;
    *facts = next;
    Ok(vec![created, started, checked_in])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BookingStatus;
    use crate::calendar::{BusinessHours, Zone};
    use crate::ids::SpaceId;
    use crate::sim::SpaceSim;
    use crate::space::{Space, SpaceSettings};
    use crate::state::{RoomState, SpaceState};
    use jiff::SignedDuration;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// `room-1` in UTC, open 08:00–18:00 every day; cleaning 10 min.
    fn room(now: Timestamp) -> SpaceSim {
        let day = serde_json::json!([{"open": "08:00", "close": "18:00"}]);
        let hours = serde_json::json!({"mon": day, "tue": day, "wed": day, "thu": day,
            "fri": day, "sat": day, "sun": day});
        let settings = SpaceSettings {
            business_hours: Some(BusinessHours::parse_json(&hours).unwrap()),
            ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
        };
        let space = Space {
            id: SpaceId::parse("room-1").unwrap(),
            name: "Room 1".into(),
            settings,
            maintenance: false,
        };
        SpaceSim::new(space, now)
    }

    fn walk_up(id: &str, minutes: i64) -> WalkUp {
        WalkUp {
            id: BookingId::parse(id).unwrap(),
            title: "walk-up".into(),
            duration: Period::minutes(minutes),
        }
    }

    #[test]
    fn books_from_now_and_checks_in_with_three_events() {
        let now = at("2026-05-04T09:00:00.123456Z");
        let mut sim = room(now);
        let outs = sim.book_now(&walk_up("w1", 30), now).unwrap();
        let events: Vec<_> = outs
            .iter()
            .map(|o| {
                o.transition
                    .as_ref()
                    .map(|t| (t.event, t.booking_id.clone()))
            })
            .collect();
        let w1 = Some(BookingId::parse("w1").unwrap());
        assert_eq!(
            events,
            vec![
                Some((EventKind::BookingCreated, w1.clone())),
                Some((EventKind::StartTimeReached, w1.clone())),
                Some((EventKind::UserChecksIn, w1)),
            ]
        );
        let st = &sim.facts.status;
        assert_eq!(
            (st.space, st.room),
            (SpaceState::Reserved, RoomState::Occupied)
        );
        let b = &sim.facts.bookings[0];
        assert_eq!(b.status, BookingStatus::CheckedIn);
        assert_eq!(b.start, at("2026-05-04T09:00:00.124Z"));
        assert_eq!(b.end, at("2026-05-04T09:30:00.124Z"));
        assert_eq!(b.checked_in_at, Some(b.start));
        // Only its end is left to come; the sequence grew by one per transition.
        let pending: Vec<_> = sim.pending().filter(|t| t.booking_id.is_some()).collect();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0].event, EventKind::EndTimeReached);
        assert_eq!(st.sequence, 3);
        let done = sim.run_until(b.end);
        assert_eq!(sim.facts.status.room, RoomState::Cleaning, "{done:?}");
    }

    #[test]
    fn refusals_change_nothing() {
        let now = at("2026-05-04T09:00:00Z");
        let mut sim = room(now);
        sim.command(
            Command::Create(NewBooking {
                id: BookingId::parse("b1").unwrap(),
                title: String::new(),
                start: now + SignedDuration::from_mins(25),
                end: now + SignedDuration::from_mins(60),
            }),
            now,
        )
        .unwrap();
        let cases = [
            // 30 min + 10 min cleaning reaches into b1's start.
            (walk_up("w1", 30), now, "booking_conflict"),
            // past 18:00.
            (
                walk_up("w2", 30),
                at("2026-05-04T17:45:00Z"),
                "outside_business_hours",
            ),
            // closed.
            (
                walk_up("w3", 30),
                at("2026-05-04T19:00:00Z"),
                "outside_business_hours",
            ),
        ];
        for (w, when, code) in cases {
            let before = sim.facts.clone();
            let err = sim.book_now(&w, when).unwrap_err();
            assert_eq!(err.code(), code, "{w:?}");
            assert_eq!(sim.facts, before);
        }
        assert!(sim.book_now(&walk_up("w4", 15), now).is_ok());
        // the room is taken now.
        let before = sim.facts.clone();
        let err = sim.book_now(&walk_up("w5", 1), now).unwrap_err();
        assert_eq!(err.code(), "booking_conflict");
        assert_eq!(sim.facts, before);
    }

    #[test]
    fn maintenance_and_cleaning_refuse() {
        let now = at("2026-05-04T09:00:00Z");
        let mut sim = room(now);
        sim.command(Command::Disable, now).unwrap();
        let err = sim.book_now(&walk_up("w1", 30), now).unwrap_err();
        assert_eq!(err.code(), "space_in_maintenance");
        sim.command(Command::Enable, now).unwrap();
        sim.book_now(&walk_up("w1", 30), now).unwrap();
        sim.command(
            Command::CheckOut(BookingId::parse("w1").unwrap()),
            now + SignedDuration::from_mins(5),
        )
        .unwrap();
        let later = now + SignedDuration::from_mins(6);
        sim.run_until(later);
        assert_eq!(sim.facts.status.room, RoomState::Cleaning);
        let err = sim.book_now(&walk_up("w2", 30), later).unwrap_err();
        assert_eq!(err.code(), "booking_conflict");
        let clean = now + SignedDuration::from_mins(15);
        sim.run_until(clean);
        sim.book_now(&walk_up("w2", 30), clean).unwrap();
        assert_eq!(sim.facts.status.room, RoomState::Occupied);
    }
}
