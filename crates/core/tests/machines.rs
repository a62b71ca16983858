//! Property tests: random sequences of bookings, check-ins, check-outs, cancellations,
//! maintenance toggles and clock advances, driven through the real domain (`SpaceSim`);
//! after every step both stored states must equal the CONTRACT §3 oracle, computed from an
//! independent model of the raw facts.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::oracle::{self, BookingFacts};
use zs_core::sim::SpaceSim;
use zs_core::{
    BookingId, BookingStatus, Command, DomainError, NewBooking, Period, Space, SpaceId,
    SpaceSettings, WalkUp,
};

#[derive(Debug, Clone)]
enum Op {
    Book { start_min: i64, dur_min: i64 },
    CheckIn(usize),
    CheckOut(usize),
    Cancel(usize),
    Extend { i: usize, by_min: i64 },
    BookNow { dur_min: i64 },
    Disable,
    Enable,
    Advance { secs: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0i64..300, 1i64..150).prop_map(|(s, d)| Op::Book { start_min: s, dur_min: d }),
        3 => (0usize..8).prop_map(Op::CheckIn),
        2 => (0usize..8).prop_map(Op::CheckOut),
        1 => (0usize..8).prop_map(Op::Cancel),
        2 => (0usize..8, 1i64..90).prop_map(|(i, by_min)| Op::Extend { i, by_min }),
        2 => (1i64..120).prop_map(|dur_min| Op::BookNow { dur_min }),
        1 => Just(Op::Disable),
        1 => Just(Op::Enable),
        6 => prop_oneof![(1i64..180).prop_map(|m| m * 60), 1i64..120].prop_map(|secs| Op::Advance { secs }),
    ]
}

fn hours(kind: u8) -> (Zone, Option<BusinessHours>) {
    let weekdays = serde_json::json!({
        "mon": [{"open": "08:00", "close": "18:00"}], "tue": [{"open": "08:00", "close": "18:00"}],
        "wed": [{"open": "08:00", "close": "18:00"}], "thu": [{"open": "08:00", "close": "18:00"}],
        "fri": [{"open": "08:00", "close": "18:00"}], "sat": [], "sun": [] });
    let split = serde_json::json!({
        "mon": [{"open": "01:30", "close": "03:30"}, {"open": "09:00", "close": "12:00"}],
        "tue": [{"open": "00:00", "close": "24:00"}], "wed": [{"open": "20:00", "close": "24:00"}],
        "thu": [{"open": "00:00", "close": "04:00"}], "fri": [{"open": "02:00", "close": "03:00"}],
        "sat": [{"open": "06:00", "close": "23:00"}], "sun": [{"open": "01:00", "close": "05:00"}] });
    match kind % 3 {
        0 => (Zone::parse("UTC").unwrap(), None),
        1 => (
            Zone::parse("Europe/Berlin").unwrap(),
            Some(BusinessHours::parse_json(&weekdays).unwrap()),
        ),
        _ => (
            Zone::parse("America/New_York").unwrap(),
            Some(BusinessHours::parse_json(&split).unwrap()),
        ),
    }
}

/// The independent model: raw facts only.
struct Model {
    settings: SpaceSettings,
    maintenance: bool,
    facts: Vec<BookingFacts>,
    started: Vec<bool>,
}

impl Model {
    fn status(&self, i: usize, now: Timestamp) -> BookingStatus {
        oracle::booking_status(&self.facts[i], &self.settings, now)
    }
    /// A booking whose start arrives during maintenance is cancelled at its start.
    fn settle(&mut self, now: Timestamp) {
        for i in 0..self.facts.len() {
            let f = &self.facts[i];
            if !self.started[i] && f.start <= now {
                self.started[i] = true;
                let pending = f.cancelled_at.is_none() && f.checked_in_at.is_none();
                if self.maintenance && pending {
                    self.facts[i].cancelled_at = Some(f.start);
                }
            }
        }
    }
}

fn check(sim: &SpaceSim, m: &Model, now: Timestamp) -> Result<(), TestCaseError> {
    let d = oracle::derive(&m.settings, m.maintenance, &m.facts, now);
    let st = &sim.facts.status;
    prop_assert_eq!(st.space, d.space, "space state at {}", now);
    prop_assert_eq!(st.room, d.room, "room state at {}", now);
    prop_assert_eq!(
        st.next_booking_at,
        d.next_booking_at,
        "nextBookingAt at {}",
        now
    );
    for (i, f) in m.facts.iter().enumerate() {
        let b = sim
            .facts
            .bookings
            .iter()
            .find(|b| b.id == f.id)
            .expect("booking kept");
        prop_assert_eq!(b.status, m.status(i, now), "status of {} at {}", f.id, now);
    }
    for (t, at) in &sim.fired {
        prop_assert!(*at >= t.due, "timer {} fired early", t.id);
    }
    Ok(())
}

fn run(
    kind: u8,
    start_offset_h: i64,
    lead: i64,
    grace: i64,
    cleaning: i64,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let (zone, business_hours) = hours(kind);
    let settings = SpaceSettings {
        zone,
        business_hours,
        upcoming_lead: Period::minutes(lead),
        no_show_grace: Period::minutes(grace),
        cleaning: Period::minutes(cleaning),
        policies: zs_core::Policies::NONE,
        no_show_strikes: zs_core::series::NoShowStrikes::DEFAULT,
    };
    // Around the 2026 DST changes of both zones, and ordinary weeks.
    let base: Timestamp = "2026-03-06T00:00:00Z".parse().unwrap();
    let mut now = base + SignedDuration::from_hours(start_offset_h);
    let space = Space {
        id: SpaceId::parse("s").unwrap(),
        name: "s".into(),
        settings: settings.clone(),
        maintenance: false,
    };
    let mut sim = SpaceSim::new(space, now);
    let mut m = Model {
        settings,
        maintenance: false,
        facts: vec![],
        started: vec![],
    };
    check(&sim, &m, now)?;
    for op in ops {
        step(&mut sim, &mut m, &mut now, op)?;
        for out in sim.run_until(now) {
            prop_assert!(out.anomalies.is_empty(), "table miss: {:?}", out.anomalies);
        }
        m.settle(now);
        check(&sim, &m, now)?;
        let live: Vec<_> = sim
            .facts
            .bookings
            .iter()
            .filter_map(|b| b.blocked_interval(m.settings.cleaning))
            .collect();
        for (i, a) in live.iter().enumerate() {
            for b in &live[i + 1..] {
                prop_assert!(
                    a.1 <= b.0 || b.1 <= a.0,
                    "bookings overlap with cleaning: {:?} {:?}",
                    a,
                    b
                );
            }
        }
    }
    Ok(())
}

fn step(
    sim: &mut SpaceSim,
    m: &mut Model,
    now: &mut Timestamp,
    op: Op,
) -> Result<(), TestCaseError> {
    let before = sim.facts.clone();
    let id = |i: usize| m.facts.get(i).map(|f| f.id.clone());
    let result = match &op {
        Op::Book { start_min, dur_min } => {
            let n = m.facts.len();
            let start = *now + SignedDuration::from_mins(*start_min);
            let nb = NewBooking {
                id: BookingId::parse(&format!("b{n}")).unwrap(),
                title: String::new(),
                start,
                end: start + SignedDuration::from_mins(*dur_min),
            };
            let r = sim.command(Command::Create(nb.clone()), *now);
            if r.is_ok() {
                m.facts.push(BookingFacts {
                    id: nb.id,
                    start: nb.start,
                    end: nb.end,
                    cancelled_at: None,
                    checked_in_at: None,
                    checked_out_at: None,
                });
                m.started.push(false);
            }
            r.map(|_| ())
        }
        Op::CheckIn(i) | Op::CheckOut(i) | Op::Cancel(i) => {
            let Some(bid) = id(*i) else { return Ok(()) };
            let status = m.status(*i, *now);
            let (cmd, allowed) = match op {
                Op::CheckIn(_) => (
                    Command::CheckIn(bid),
                    matches!(
                        status,
                        BookingStatus::Upcoming | BookingStatus::AwaitingCheckIn
                    ) && !m.maintenance,
                ),
                Op::CheckOut(_) => (Command::CheckOut(bid), status == BookingStatus::CheckedIn),
                _ => (Command::Cancel(bid), status.is_pending()),
            };
            let r = sim.command(cmd, *now).map(|_| ());
            prop_assert_eq!(
                r.is_ok(),
                allowed,
                "{:?} on a {:?} booking: {:?}",
                op,
                status,
                r
            );
            if r.is_ok() {
                let f = &mut m.facts[*i];
                match op {
                    Op::CheckIn(_) => f.checked_in_at = Some(*now),
                    Op::CheckOut(_) => f.checked_out_at = Some(*now),
                    _ => f.cancelled_at = Some(*now),
                }
            }
            r
        }
        Op::Extend { i, by_min } => {
            let Some(bid) = id(*i) else { return Ok(()) };
            let status = m.status(*i, *now);
            let end = m.facts[*i].end + SignedDuration::from_mins(*by_min);
            let cmd = Command::Extend { booking: bid, end };
            let r = sim.command(cmd, *now).map(|_| ());
            if r.is_ok() {
                prop_assert!(status.is_live(), "extended a {:?} booking", status);
                m.facts[*i].end = end;
            }
            r
        }
        Op::BookNow { dur_min } => {
            let n = m.facts.len();
            let w = WalkUp {
                id: BookingId::parse(&format!("b{n}")).unwrap(),
                title: String::new(),
                duration: Period::minutes(*dur_min),
            };
            let r = sim.book_now(&w, *now);
            if let Ok(outs) = &r {
                prop_assert!(!m.maintenance, "a walk-up during maintenance");
                for out in outs {
                    prop_assert!(out.anomalies.is_empty(), "table miss: {:?}", out.anomalies);
                }
                let b = sim
                    .facts
                    .bookings
                    .iter()
                    .find(|b| b.id == w.id)
                    .expect("made");
                m.facts.push(BookingFacts {
                    id: w.id.clone(),
                    start: b.start,
                    end: b.end,
                    cancelled_at: None,
                    checked_in_at: Some(b.start),
                    checked_out_at: None,
                });
                m.started.push(true);
            }
            r.map(|_| ())
        }
        Op::Disable | Op::Enable => {
            let want = matches!(op, Op::Disable);
            let r = sim
                .command(
                    if want {
                        Command::Disable
                    } else {
                        Command::Enable
                    },
                    *now,
                )
                .map(|_| ());
            prop_assert_eq!(r.is_ok(), m.maintenance != want);
            if r.is_ok() {
                m.maintenance = want;
            }
            r
        }
        Op::Advance { secs } => {
            *now += SignedDuration::from_secs(*secs);
            Ok(())
        }
    };
    if let Err(e) = result {
        prop_assert_eq!(
            &sim.facts,
            &before,
            "a refused command changed the facts: {}",
            e
        );
        let _: DomainError = e;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn machines_match_the_oracle_after_every_step(
        kind in 0u8..3,
        start_offset_h in 0i64..(24 * 300),
        lead in 1i64..40,
        grace in 1i64..40,
        cleaning in 1i64..40,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(kind, start_offset_h, lead, grace, cleaning, ops)?;
    }
}

/// A day written out: the documented same-instant order (end before cleaning before start).
#[test]
fn back_to_back_bookings_follow_the_documented_order() {
    let settings = SpaceSettings {
        upcoming_lead: Period::minutes(15),
        no_show_grace: Period::minutes(10),
        cleaning: Period::minutes(10),
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let t0: Timestamp = "2026-05-04T08:00:00Z".parse().unwrap();
    let space = Space {
        id: SpaceId::parse("s").unwrap(),
        name: "s".into(),
        settings,
        maintenance: false,
    };
    let mut sim = SpaceSim::new(space, t0);
    let at = |m: i64| t0 + SignedDuration::from_mins(m);
    let book = |sim: &mut SpaceSim, id: &str, s: i64, e: i64| {
        sim.command(
            Command::Create(NewBooking {
                id: BookingId::parse(id).unwrap(),
                title: String::new(),
                start: at(s),
                end: at(e),
            }),
            t0,
        )
        .unwrap();
    };
    book(&mut sim, "a", 60, 120);
    book(&mut sim, "b", 130, 180);
    sim.run_until(at(60));
    sim.command(Command::CheckIn(BookingId::parse("a").unwrap()), at(61))
        .unwrap();
    sim.run_until(at(130));
    let events: Vec<_> = sim
        .fired
        .iter()
        .map(|(t, _)| format!("{}@{}", t.event, t.due.duration_since(t0).as_mins()))
        .collect();
    let expected = [
        "UPCOMING_REACHED@45",
        "START_TIME_REACHED@60",
        "UPCOMING_REACHED@115",
        "END_TIME_REACHED@120",
        "CLEANING_ENDED@130",
        "START_TIME_REACHED@130",
    ];
    assert_eq!(events, expected);
    assert_eq!(sim.facts.status.room, zs_core::RoomState::Upcoming);
    assert_eq!(sim.facts.status.space, zs_core::SpaceState::Reserved);
}
