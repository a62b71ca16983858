//! The engine on a real SQLite store with a manual clock: business hours in a space's own
//! zone across DST, timers never early, a job run twice changes nothing, plans replaced.

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::{
    BookingId, Clock, Command, ManualClock, NewBooking, Period, Space, SpaceId, SpaceSettings,
};
use zs_engine::Engine;
use zs_engine::testing::TestEngine;
use zs_store::Queue;
use zs_store::jobs;
use zs_store::{Backend, spaces};

fn berlin_weekdays() -> SpaceSettings {
    let day = serde_json::json!([{"open": "08:00", "close": "18:00"}]);
    let hours = serde_json::json!({"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []});
    SpaceSettings {
        business_hours: Some(BusinessHours::parse_json(&hours).unwrap()),
        ..SpaceSettings::defaults(Zone::parse("Europe/Berlin").unwrap())
    }
}

/// Creates space `id` with `settings` (name = id); returns its id and first status.
async fn open_space(
    e: &Engine,
    id: &str,
    settings: SpaceSettings,
) -> (SpaceId, zs_core::SpaceStatus) {
    let id = SpaceId::parse(id).unwrap();
    let status = e
        .create_space(Space {
            id: id.clone(),
            name: id.to_string(),
            settings,
            maintenance: false,
        })
        .await
        .unwrap();
    (id, status)
}

/// A UTC space `s` with default settings and booking `b` for the hour from `start`.
async fn utc_space_booked(e: &Engine, start: Timestamp) -> (SpaceId, BookingId) {
    let utc = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
    let (id, _) = open_space(e, "s", utc).await;
    let b = BookingId::parse("b").unwrap();
    let n = NewBooking {
        id: b.clone(),
        title: "t".into(),
        start,
        end: start + SignedDuration::from_hours(1),
    };
    e.create_booking(&id, n, None).await.unwrap();
    (id, b)
}

async fn history(e: &Engine, id: &SpaceId) -> Vec<zs_core::Transition> {
    let mut c = e.store.read().await.unwrap();
    let mut h = spaces::history(&mut c, id, 1000).await.unwrap();
    h.reverse();
    h
}

/// Books `slots` (id, start and end in minutes after `t0`) in space `id`.
async fn book(e: &Engine, id: &SpaceId, t0: Timestamp, slots: &[(&str, i64, i64)]) {
    for &(b, s, en) in slots {
        let n = NewBooking {
            id: BookingId::parse(b).unwrap(),
            title: String::new(),
            start: t0 + SignedDuration::from_mins(s),
            end: t0 + SignedDuration::from_mins(en),
        };
        e.create_booking(id, n, None).await.unwrap();
    }
}

/// A transition as `EVENT(booking)@minutes-after-t0 space/room`.
fn attributed(x: &zs_core::Transition, t0: Timestamp) -> String {
    let b = x.booking_id.as_ref().map_or("-", |b| b.as_str());
    let at = x.to.since.duration_since(t0).as_mins();
    format!("{}({b})@{at} {}/{}", x.event, x.to.space, x.to.room)
}

/// Steps the manual clock to each pending job's instant and runs it (what the runner does).
async fn run_until(e: &Engine, clock: &ManualClock, until: Timestamp) {
    loop {
        let next = {
            let mut c = e.store.read().await.unwrap();
            jobs::next_due(&mut c, Queue::MeetingScheduler)
                .await
                .unwrap()
        };
        match next {
            Some(due) if due <= until => {
                clock.set(due - SignedDuration::from_millis(1));
                assert_eq!(
                    e.run_due_timers().await.unwrap(),
                    0,
                    "nothing runs a millisecond early"
                );
                clock.set(due);
                assert!(e.run_due_timers().await.unwrap() > 0);
            }
            _ => break,
        }
    }
    clock.set(until);
}

async fn business_hours_follow_the_local_clock_across_spring_forward(db: Backend) {
    // Saturday before the 2026-03-29 change; Berlin is UTC+1 until then, UTC+2 after.
    let (e, clock) = TestEngine::on(db).at("2026-03-27T20:00:00Z").build().await;
    let (id, status) = open_space(&e, "berlin", berlin_weekdays()).await;
    assert_eq!(status.space, zs_core::SpaceState::NotAvailable);
    run_until(&e, &clock, "2026-03-31T00:00:00Z".parse().unwrap()).await;
    let h = history(&e, &id).await;
    let seen: Vec<String> = h
        .iter()
        .map(|t| format!("{} {} {}", t.event, t.to.since, t.to.space))
        .collect();
    assert_eq!(
        seen,
        [
            "DAY_START 2026-03-30T06:00:00Z available_now", // 08:00 CEST
            "DAY_END 2026-03-30T16:00:00Z not_available",   // 18:00 CEST
        ]
    );
}

async fn a_timer_run_twice_changes_nothing_the_second_time(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let start: Timestamp = "2026-05-04T09:00:00Z".parse().unwrap();
    let (id, _) = utc_space_booked(&e, start).await;
    {
        let mut c = e.store.read().await.unwrap();
        let plan = zs_store::testing::job_ids(&mut c, Queue::MeetingScheduler)
            .await
            .unwrap();
        assert_eq!(
            plan,
            [
                "b.UPCOMING_REACHED",
                "b.START_TIME_REACHED",
                "b.NO_SHOW_TIMEOUT",
                "b.END_TIME_REACHED"
            ]
        );
    }
    run_until(&e, &clock, start).await;
    let before = history(&e, &id).await;
    // Deliver START_TIME_REACHED again, as a crashed worker or a duplicate ingress would.
    let again = zs_store::jobs::NewJob {
        id: "dup".into(),
        queue: Queue::MeetingScheduler,
        name: "START_TIME_REACHED".into(),
        data: serde_json::json!({"spaceId": "s", "bookingId": "b"}),
        due: start,
        rank: 6,
        group: None,
    };
    let mut tx = e.store.begin().await.unwrap();
    jobs::put(&mut tx, &again, start).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(e.run_due_timers().await.unwrap(), 1);
    assert_eq!(history(&e, &id).await, before, "no second transition");
    // A check-in removes the no-show timer; a check-out replaces END with CLEANING_ENDED.
    e.execute(&id, Command::CheckIn(BookingId::parse("b").unwrap()))
        .await
        .unwrap();
    clock.set(start + SignedDuration::from_mins(20));
    e.execute(&id, Command::CheckOut(BookingId::parse("b").unwrap()))
        .await
        .unwrap();
    let mut c = e.store.read().await.unwrap();
    let plan: Vec<(String, Timestamp)> = jobs::list(&mut c, Queue::MeetingScheduler, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.id, j.due))
        .collect();
    assert_eq!(
        plan,
        [(
            "b.CLEANING_ENDED".to_owned(),
            start + SignedDuration::from_mins(30)
        )]
    );
    assert_eq!(clock.now(), start + SignedDuration::from_mins(20));
}

async fn overdue_timers_run_in_due_order_with_their_own_instants(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let settings = SpaceSettings {
        cleaning: Period::minutes(5),
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let (id, _) = open_space(&e, "s", settings).await;
    let t = |m: i64| {
        "2026-05-04T08:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
    };
    book(&e, &id, t(0), &[("a", 30, 60), ("b", 90, 120)]).await;
    clock.set(t(200)); // everything came due while "down"
    e.run_due_timers().await.unwrap();
    let h = history(&e, &id).await;
    let at: Vec<Timestamp> = h.iter().map(|x| x.to.since).collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "in due order");
    let events: Vec<String> = h
        .iter()
        .skip(1)
        .map(|x| format!("{}@{}", x.event, x.to.since.duration_since(t(0)).as_mins()))
        .collect();
    assert_eq!(
        events,
        [
            "UPCOMING_REACHED@15",
            "START_TIME_REACHED@30",
            "NO_SHOW_TIMEOUT@40",
            "UPCOMING_REACHED@75",
            "START_TIME_REACHED@90",
            "NO_SHOW_TIMEOUT@100"
        ]
    );
}

/// The wall clock steps back (an NTP correction, a VM resumed from a snapshot): a space's
/// time never goes back with it. Commands are decided at the later of the clock and the
/// space's last change, history stays in order, fired timers do not fire again, and
/// nothing due later fires before its instant on the corrected clock.
async fn a_clock_that_steps_back_never_takes_a_space_back_in_time(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let start: Timestamp = "2026-05-04T09:00:00Z".parse().unwrap();
    let (id, b) = utc_space_booked(&e, start).await;
    run_until(&e, &clock, start + SignedDuration::from_mins(5)).await;
    e.execute(&id, Command::CheckIn(b.clone())).await.unwrap();
    let checked_in = start + SignedDuration::from_mins(5);
    // The clock steps back 20 minutes: before the booking's start, before its T-15.
    clock.set(start - SignedDuration::from_mins(15));
    assert_eq!(e.run_due_timers().await.unwrap(), 0, "nothing fires again");
    e.execute(&id, Command::CheckOut(b.clone())).await.unwrap();
    let h = history(&e, &id).await;
    let seen: Vec<String> = h
        .iter()
        .map(|t| format!("{} {}", t.event, t.to.since))
        .collect();
    assert_eq!(
        seen,
        [
            "BOOKING_CREATED 2026-05-04T08:00:00Z".to_owned(),
            "UPCOMING_REACHED 2026-05-04T08:45:00Z".to_owned(),
            "START_TIME_REACHED 2026-05-04T09:00:00Z".to_owned(),
            format!("USER_CHECKS_IN {checked_in}"),
            format!("USER_CHECKS_OUT {checked_in}"),
        ],
        "the check-out is recorded at the space's last instant, not the stepped-back clock"
    );
    // Cleaning (default length) ends relative to the check-out's instant, and not before it
    // on the corrected clock.
    let cleaning_ends = {
        let mut c = e.store.read().await.unwrap();
        jobs::next_due(&mut c, Queue::MeetingScheduler)
            .await
            .unwrap()
            .unwrap()
    };
    assert!(cleaning_ends > checked_in, "{cleaning_ends}");
    clock.set(cleaning_ends - SignedDuration::from_millis(1));
    assert_eq!(e.run_due_timers().await.unwrap(), 0, "never early");
    clock.set(cleaning_ends);
    assert_eq!(e.run_due_timers().await.unwrap(), 1);
    let h = history(&e, &id).await;
    assert!(
        h.windows(2).all(|w| w[0].to.since <= w[1].to.since),
        "{h:?}"
    );
    assert_eq!(h.last().unwrap().event, zs_core::EventKind::CleaningEnded);
}

/// A clock whose next readings are scripted: time moves on between two readings of one
/// operation, as it does on a busy machine while a command waits for its space's lock.
struct MovingClock {
    base: ManualClock,
    next: std::sync::Mutex<std::collections::VecDeque<Timestamp>>,
}

impl Clock for MovingClock {
    fn now(&self) -> Timestamp {
        if let Some(t) = self.next.lock().unwrap().pop_front() {
            self.base.set(t);
        }
        self.base.now()
    }
}

/// A command reads the clock once and is decided on the state of that instant: the space's
/// timers due by then are applied first, in its own transaction. Before, the catch-up read
/// the clock before the transaction and the command after it, so a `CLEANING_ENDED` coming
/// due in between was overtaken — the new booking found the room still cleaning, took the
/// guards' "free" (a table miss), and the cleaning timer then changed nothing and was lost
/// from the history (found by the SIGKILL loop on Redis + PostgreSQL, under load).
async fn a_timer_coming_due_while_a_command_waits_is_not_overtaken(db: Backend) {
    let t = |s: &str| -> Timestamp { format!("2026-05-04T{s}:00Z").parse().unwrap() };
    let clock = Arc::new(MovingClock {
        base: ManualClock::new(t("08:00")),
        next: Default::default(),
    });
    let e = TestEngine::on(db)
        .label("overtake")
        .build_with_clock(clock.clone())
        .await;
    let (id, b) = utc_space_booked(&e, t("09:00")).await;
    for at in ["08:45", "09:00"] {
        clock.base.set(t(at));
        e.run_due_timers().await.unwrap();
    }
    clock.base.set(t("09:05"));
    e.execute(&id, Command::CheckIn(b.clone())).await.unwrap();
    clock.base.set(t("09:30"));
    e.execute(&id, Command::CheckOut(b.clone())).await.unwrap();
    // Cleaning ends at 09:40. A booking request reads the clock at 09:39, then at 09:41.
    clock.next.lock().unwrap().extend([t("09:39"), t("09:41")]);
    let later = NewBooking {
        id: BookingId::parse("b2").unwrap(),
        title: "t".into(),
        start: t("11:00"),
        end: t("11:30"),
    };
    e.create_booking(&id, later, None).await.unwrap();
    clock.next.lock().unwrap().clear();
    clock.base.set(t("09:45"));
    e.run_due_timers().await.unwrap();
    let events: Vec<String> = history(&e, &id)
        .await
        .iter()
        .map(|t| format!("{} {} {}", t.event, t.to.since, t.to.room))
        .collect();
    assert!(
        events.contains(&"CLEANING_ENDED 2026-05-04T09:40:00Z free".to_owned()),
        "{events:?}"
    );
}

/// Changing a space's settings while its `DAY_END` is overdue (the runner behind, a queue
/// job late) applies that `DAY_END` first: replacing the business-hours plan must not drop
/// it, leaving a closed space open.
async fn a_settings_change_applies_the_overdue_day_end_first(db: Backend) {
    // Monday 09:00 in Berlin (CEST): open; it closes at 18:00 (16:00 UTC).
    let (e, clock) = TestEngine::on(db).at("2026-05-04T07:00:00Z").build().await;
    let (id, status) = open_space(&e, "berlin", berlin_weekdays()).await;
    assert_eq!(status.space, zs_core::SpaceState::AvailableNow);
    clock.set("2026-05-04T16:00:01Z".parse().unwrap());
    // The runner has not run yet; an admin renames the space, hours unchanged.
    e.update_space(&id, "renamed".into(), berlin_weekdays())
        .await
        .unwrap();
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .map(|t| format!("{} {} {}", t.event, t.to.since, t.to.space))
        .collect();
    assert_eq!(seen, ["DAY_END 2026-05-04T16:00:00Z not_available"]);
    // The next plan is Tuesday's opening, 08:00 CEST.
    let mut c = e.store.read().await.unwrap();
    let next = jobs::next_due(&mut c, Queue::MeetingScheduler)
        .await
        .unwrap();
    assert_eq!(next, Some("2026-05-05T06:00:00Z".parse().unwrap()));
}

/// Found by the simulator (a year of 1,000 spaces, a runner stall): a command's catch-up
/// stopped after one round of due timers, so a timer that round planned already due (the
/// cleaning of an end the clock had passed) was left for later, and the command was decided
/// on a room still cleaning. The catch-up now runs until nothing of the space is due.
async fn a_command_catches_up_timers_its_catch_up_planned(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let start: Timestamp = "2026-05-04T09:00:00Z".parse().unwrap();
    let (id, b) = utc_space_booked(&e, start).await;
    clock.set(start + SignedDuration::from_mins(5));
    e.execute(&id, Command::CheckIn(b.clone())).await.unwrap();
    // The runner does not run; the clock passes the end (10:00) and its cleaning (10:10).
    clock.set(start + SignedDuration::from_mins(90));
    let applied = e.execute(&id, Command::Disable).await.unwrap();
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .skip(4)
        .map(|t| format!("{} {} {}", t.event, t.to.since, t.to.room))
        .collect();
    assert_eq!(
        seen,
        [
            "END_TIME_REACHED 2026-05-04T10:00:00Z cleaning",
            "CLEANING_ENDED 2026-05-04T10:10:00Z free",
            "ADMIN_DISABLE 2026-05-04T10:30:00Z free",
        ]
    );
    assert_eq!(applied.facts.status.room, zs_core::RoomState::Free);
    let mut c = e.store.read().await.unwrap();
    let left = jobs::list(&mut c, Queue::MeetingScheduler, 10)
        .await
        .unwrap();
    assert!(left.is_empty(), "nothing of the booking left: {left:?}");
}

/// Issue 14 finding 2c: after downtime, the catch-up applied the next booking's
/// `START_TIME_REACHED` before the overdue `CLEANING_ENDED` that an `END_TIME_REACHED` of the
/// same catch-up planned for the same instant: the states were right, but the history said
/// `cleaning -> upcoming` by the wrong event and had no `CLEANING_ENDED`. A timer a round
/// plans no later than the space's next due job now ends the round for that space.
async fn a_catch_up_applies_the_cleaning_it_planned_before_the_next_start(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let settings = SpaceSettings {
        cleaning: Period::minutes(10),
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let (id, _) = open_space(&e, "s", settings).await;
    let t = |m: i64| {
        "2026-05-04T09:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
    };
    book(&e, &id, t(0), &[("a", 0, 60), ("b", 70, 120)]).await;
    run_until(&e, &clock, t(1)).await;
    e.execute(&id, Command::CheckIn(BookingId::parse("a").unwrap()))
        .await
        .unwrap();
    // Down from 09:01 to 10:30: a's end (10:00) plans its cleaning to end at 10:10, when b
    // starts; b's no-show falls at 10:20.
    clock.set(t(90));
    e.run_due_timers().await.unwrap();
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .filter(|x| x.to.since >= t(2))
        .map(|x| attributed(x, t(0)))
        .collect();
    assert_eq!(
        seen,
        [
            "END_TIME_REACHED(a)@60 available_at/cleaning",
            "CLEANING_ENDED(a)@70 available_at/upcoming",
            "START_TIME_REACHED(b)@70 reserved/upcoming",
            "NO_SHOW_TIMEOUT(b)@80 available_now/free",
        ]
    );
}

/// Issue 14 finding 2b: booking a checked in early, booking b's `UPCOMING_REACHED` due at
/// a's start. Both are due at one instant and `UPCOMING_REACHED` runs first; it saw a's
/// start as reached and moved the space to `reserved` itself, so history and status posts
/// named the wrong event and booking, and a's `START_TIME_REACHED` was never recorded. A
/// timer event now sees only what the events before it in the instant's order brought
/// about. Finding 2a rides along: cancelling b while a is in progress is no table miss.
async fn coinciding_timers_are_each_recorded_with_their_own_booking(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let settings = SpaceSettings {
        cleaning: Period::minutes(10),
        upcoming_lead: Period::minutes(15),
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let (id, _) = open_space(&e, "s", settings).await;
    let t = |m: i64| {
        "2026-05-04T09:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
    };
    book(&e, &id, t(0), &[("a", 0, 5), ("b", 15, 45)]).await;
    run_until(&e, &clock, t(-10)).await;
    e.execute(&id, Command::CheckIn(BookingId::parse("a").unwrap()))
        .await
        .unwrap();
    run_until(&e, &clock, t(1)).await;
    let cancelled = e
        .execute(&id, Command::Cancel(BookingId::parse("b").unwrap()))
        .await
        .unwrap();
    assert!(
        cancelled.outcome.anomalies.is_empty(),
        "{:?}",
        cancelled.outcome.anomalies
    );
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .filter(|x| x.to.since >= t(-10))
        .map(|x| attributed(x, t(0)))
        .collect();
    assert_eq!(
        seen,
        [
            "USER_CHECKS_IN(a)@-10 available_at/occupied",
            "START_TIME_REACHED(a)@0 reserved/occupied",
        ]
    );
}

/// Found by the simulator's history check (issue 14 finding 2): a booking that ends when
/// the space closes. `END_TIME_REACHED` comes before `DAY_END` at that instant, yet it saw
/// the space closed already, took the `not_available` for itself, and `DAY_END` recorded
/// nothing. A timer event ordered before `DAY_END` now sees the closing interval still open.
async fn a_booking_ending_at_closing_time_leaves_the_closing_to_day_end(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let day = serde_json::json!([{"open": "08:00", "close": "18:00"}]);
    let week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let hours: serde_json::Map<String, serde_json::Value> =
        week.iter().map(|d| (d.to_string(), day.clone())).collect();
    let settings = SpaceSettings {
        business_hours: Some(BusinessHours::parse_json(&hours.into()).unwrap()),
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let (id, _) = open_space(&e, "s", settings).await;
    let t = |m: i64| {
        "2026-05-04T17:00:00Z".parse::<Timestamp>().unwrap() + SignedDuration::from_mins(m)
    };
    book(&e, &id, t(0), &[("a", 0, 60)]).await;
    run_until(&e, &clock, t(0)).await;
    e.execute(&id, Command::CheckIn(BookingId::parse("a").unwrap()))
        .await
        .unwrap();
    run_until(&e, &clock, t(60)).await;
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .filter(|x| x.to.since >= t(1))
        .map(|x| attributed(x, t(0)))
        .collect();
    assert_eq!(
        seen,
        [
            "END_TIME_REACHED(a)@60 available_now/cleaning",
            "DAY_END(-)@60 not_available/cleaning",
        ]
    );
}

/// The pending `meetingScheduler` jobs of booking `b`, as `EVENT@minutes-after-t0`.
async fn plan_of(e: &Engine, b: &str, t0: Timestamp) -> Vec<String> {
    let mut c = e.store.read().await.unwrap();
    jobs::list(&mut c, Queue::MeetingScheduler, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.id.starts_with(&format!("{b}.")))
        .map(|j| format!("{}@{}", j.name, j.due.duration_since(t0).as_mins()))
        .collect()
}

/// An extension moves the stored end and the end timer in one transaction, records no
/// transition (no state changes), and the booking then ends at its new end; one that
/// would reach the next booking's start with its cleaning is refused and changes nothing.
async fn an_extension_moves_the_end_and_its_timer(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T08:00:00Z").build().await;
    let utc = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
    let (id, _) = open_space(&e, "s", utc).await;
    let t0: Timestamp = "2026-05-04T09:00:00Z".parse().unwrap();
    book(&e, &id, t0, &[("a", 0, 60), ("c", 120, 180)]).await;
    run_until(&e, &clock, t0).await;
    e.execute(&id, Command::CheckIn(BookingId::parse("a").unwrap()))
        .await
        .unwrap();
    let before = history(&e, &id).await.len();
    let (hook, _) = e
        .create_endpoint(
            "https://example.com/h".into(),
            vec!["booking.extended".into()],
        )
        .await
        .unwrap();
    let sent = |e: Arc<Engine>, hook: String| async move {
        let mut c = e.store.read().await.unwrap();
        let list = zs_store::deliveries::for_endpoint(&mut c, &hook, 10)
            .await
            .unwrap();
        list.iter()
            .map(|d| {
                let body: serde_json::Value = serde_json::from_str(&d.body).unwrap();
                format!(
                    "{} {}",
                    body["type"].as_str().unwrap(),
                    body["data"]["end"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    let extend = |mins: i64| Command::Extend {
        booking: BookingId::parse("a").unwrap(),
        end: t0 + SignedDuration::from_mins(mins),
    };
    let applied = e.execute(&id, extend(90)).await.unwrap();
    assert_eq!(applied.outcome.transition, None);
    assert_eq!(history(&e, &id).await.len(), before);
    let stored = |e: Arc<Engine>| async move {
        let mut c = e.store.read().await.unwrap();
        let b = zs_store::bookings::get(&mut c, &BookingId::parse("a").unwrap())
            .await
            .unwrap()
            .unwrap();
        b.end.duration_since(t0).as_mins()
    };
    assert_eq!(stored(e.clone()).await, 90);
    assert_eq!(plan_of(&e, "a", t0).await, ["END_TIME_REACHED@90"]);
    let once = ["booking.extended 2026-05-04T10:30:00Z"];
    assert_eq!(sent(e.clone(), hook.id.clone()).await, once);
    // 115 + 10 min cleaning reaches c at 120.
    let err = e.execute(&id, extend(115)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the space is already booked: conflicts with booking c (cleaning time included)"
    );
    assert_eq!(stored(e.clone()).await, 90);
    assert_eq!(plan_of(&e, "a", t0).await, ["END_TIME_REACHED@90"]);
    assert_eq!(sent(e.clone(), hook.id.clone()).await, once);
    run_until(&e, &clock, t0 + SignedDuration::from_mins(100)).await;
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .skip(before)
        .map(|x| attributed(x, t0))
        .collect();
    assert_eq!(
        seen,
        [
            "END_TIME_REACHED(a)@90 available_at/cleaning",
            "CLEANING_ENDED(a)@100 available_at/free",
        ]
    );
}

/// A walk-up is three transitions of the new booking at one instant, in one transaction;
/// only its end is left in the plan. The room taken, a second walk-up is refused; in
/// maintenance, one is refused with `space_in_maintenance`.
async fn a_walk_up_books_and_checks_in_at_once(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-04T09:00:00Z").build().await;
    let utc = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
    let (id, _) = open_space(&e, "s", utc).await;
    let t0 = clock.now();
    let walk_up = |b: &str, mins| zs_core::WalkUp {
        id: BookingId::parse(b).unwrap(),
        title: "walk-up".into(),
        duration: Period::minutes(mins),
    };
    let b = e.book_now(&id, walk_up("w", 30), None).await.unwrap();
    assert_eq!(b.status, zs_core::BookingStatus::CheckedIn);
    assert_eq!((b.start, b.end), (t0, t0 + SignedDuration::from_mins(30)));
    let seen: Vec<String> = history(&e, &id)
        .await
        .iter()
        .map(|x| attributed(x, t0))
        .collect();
    assert_eq!(
        seen,
        [
            "BOOKING_CREATED(w)@0 available_at/upcoming",
            "START_TIME_REACHED(w)@0 reserved/upcoming",
            "USER_CHECKS_IN(w)@0 reserved/occupied",
        ]
    );
    assert_eq!(plan_of(&e, "w", t0).await, ["END_TIME_REACHED@30"]);
    let err = e.book_now(&id, walk_up("w2", 15), None).await.unwrap_err();
    assert!(
        err.to_string().contains("conflicts with booking w"),
        "{err}"
    );
    assert_eq!(history(&e, &id).await.len(), 3);
    run_until(&e, &clock, t0 + SignedDuration::from_mins(40)).await;
    e.execute(&id, Command::Disable).await.unwrap();
    let err = e.book_now(&id, walk_up("w3", 15), None).await.unwrap_err();
    assert_eq!(err.to_string(), "the space is in maintenance");
    let mut c = e.store.read().await.unwrap();
    let w3 = zs_store::bookings::get(&mut c, &BookingId::parse("w3").unwrap()).await;
    assert!(w3.unwrap().is_none());
}

zs_store::test_on_both_backends!(
    an_extension_moves_the_end_and_its_timer,
    a_walk_up_books_and_checks_in_at_once,
    a_booking_ending_at_closing_time_leaves_the_closing_to_day_end,
    coinciding_timers_are_each_recorded_with_their_own_booking,
    a_catch_up_applies_the_cleaning_it_planned_before_the_next_start,
    a_command_catches_up_timers_its_catch_up_planned,
    business_hours_follow_the_local_clock_across_spring_forward,
    a_timer_run_twice_changes_nothing_the_second_time,
    overdue_timers_run_in_due_order_with_their_own_instants,
    a_clock_that_steps_back_never_takes_a_space_back_in_time,
    a_timer_coming_due_while_a_command_waits_is_not_overtaken,
    a_settings_change_applies_the_overdue_day_end_first
);
