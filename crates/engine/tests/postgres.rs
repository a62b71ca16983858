//! PostgreSQL as several instances see it: many engines (each with its own pool, as
//! separate processes would have) on one schema.

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use zs_core::{Booking, BookingId, BookingStatus, ManualClock, NewBooking, SpaceId};
use zs_engine::testing::TestEngine;
use zs_engine::{Engine, EngineError};
use zs_store::Queue;
use zs_store::jobs;
use zs_store::testing::utc_space;
use zs_store::{Store, StoreError, bookings, spaces};

const START: &str = "2026-05-04T08:00:00Z";

/// `n` engines on one fresh schema, sharing one manual clock.
async fn instances(label: &str, n: usize) -> (Vec<Arc<Engine>>, ManualClock) {
    let (first, schema) = zs_store::testing::fresh_postgres(label).await.unwrap();
    let (engine, clock) = TestEngine::over(first).at(START).build().await;
    let mut list = vec![engine];
    for _ in 1..n {
        let store = Store::connect_postgres(&zs_store::testing::postgres_url(), Some(&schema))
            .await
            .unwrap();
        list.push(TestEngine::over(store).clock(&clock).build().await.0);
    }
    (list, clock)
}

fn booking(id: &str, start: Timestamp, mins: i64) -> NewBooking {
    NewBooking {
        id: BookingId::parse(id).unwrap(),
        title: id.into(),
        start,
        end: start + SignedDuration::from_mins(mins),
    }
}

#[tokio::test]
async fn conflicting_creates_from_three_instances_exactly_one_wins() {
    let (engines, _clock) = instances("conflict", 3).await;
    engines[0].create_space(utc_space("room")).await.unwrap();
    let room = SpaceId::parse("room").unwrap();
    let base: Timestamp = "2026-05-04T10:00:00Z".parse().unwrap();
    for round in 0..5 {
        // Twelve creates per round, overlapping one another, spread over the instances.
        let start = base + SignedDuration::from_hours(2 * round);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..12 {
            let e = engines[i % engines.len()].clone();
            let room = room.clone();
            let b = booking(
                &format!("r{round}-{i}"),
                start + SignedDuration::from_mins(i as i64),
                30,
            );
            tasks.spawn(async move { e.create_booking(&room, b, None).await });
        }
        let (mut won, mut refused) = (0, 0);
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(_) => won += 1,
                Err(EngineError::Domain(d)) if d.code() == "booking_conflict" => refused += 1,
                Err(EngineError::Store(StoreError::Overlap)) => refused += 1,
                Err(e) => panic!("round {round}: unexpected error {e}"),
            }
        }
        assert_eq!((won, refused), (1, 11), "round {round}");
    }
    let mut c = engines[1].store.read().await.unwrap();
    let live = bookings::list(&mut c, Some(&room), None, None, 100)
        .await
        .unwrap();
    assert_eq!(
        live.len(),
        5,
        "one booking per round is stored, nothing else"
    );
}

#[tokio::test]
async fn the_database_itself_refuses_overlapping_live_bookings() {
    let (engines, _clock) = instances("exclusion", 1).await;
    let e = &engines[0];
    e.create_space(utc_space("room")).await.unwrap();
    let at: Timestamp = "2026-05-04T10:00:00Z".parse().unwrap();
    let raw = |id: &str, start: Timestamp, status: BookingStatus| Booking {
        id: BookingId::parse(id).unwrap(),
        space_id: SpaceId::parse("room").unwrap(),
        title: id.into(),
        start,
        end: start + SignedDuration::from_hours(1),
        status,
        created_at: at,
        checked_in_at: None,
        ended_at: None,
        cancelled_at: None,
        cancel_reason: None,
        series_id: None,
    };
    // Bypass the rules entirely, as a buggy instance would.
    let mut tx = e.store.begin().await.unwrap();
    bookings::upsert_many(&mut tx, &[&raw("a", at, BookingStatus::Scheduled)])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = e.store.begin().await.unwrap();
    let half = at + SignedDuration::from_mins(30);
    let err = bookings::upsert_many(&mut tx, &[&raw("b", half, BookingStatus::Scheduled)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Overlap), "{err}");
    drop(tx);
    // A cancelled booking does not block, and a live one may follow back to back.
    let mut tx = e.store.begin().await.unwrap();
    bookings::upsert_many(
        &mut tx,
        &[
            &raw("c", half, BookingStatus::Cancelled),
            &raw(
                "d",
                at + SignedDuration::from_hours(1),
                BookingStatus::Scheduled,
            ),
        ],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn timers_run_by_competing_instances_apply_each_job_once() {
    let (engines, clock) = instances("timers", 3).await;
    let start: Timestamp = "2026-05-04T09:00:00Z".parse().unwrap();
    let mut ids = Vec::new();
    for s in 0..20 {
        let id = format!("s{s}");
        engines[s % 3].create_space(utc_space(&id)).await.unwrap();
        let room = SpaceId::parse(&id).unwrap();
        engines[s % 3]
            .create_booking(&room, booking(&format!("b{s}"), start, 60), None)
            .await
            .unwrap();
        ids.push(room);
    }
    // Each step: every instance races for the same due jobs.
    let mut c = engines[0].store.read().await.unwrap();
    let mut applied = 0;
    while let Some(due) = jobs::next_due(&mut c, Queue::MeetingScheduler)
        .await
        .unwrap()
    {
        if due > start + SignedDuration::from_hours(2) {
            break;
        }
        clock.set(due);
        let mut tasks = tokio::task::JoinSet::new();
        for e in &engines {
            let e = e.clone();
            tasks.spawn(async move { e.run_due_timers().await.unwrap() });
        }
        while let Some(n) = tasks.join_next().await {
            applied += n.unwrap();
        }
    }
    // Nobody checks in: upcoming, start and the no-show release (which drops the end timer).
    assert_eq!(
        applied,
        20 * 3,
        "every job ran exactly once across the instances"
    );
    for room in &ids {
        let h = spaces::history(&mut c, room, 100).await.unwrap();
        let mut seqs: Vec<u64> = h.iter().map(|t| t.to.sequence).collect();
        seqs.sort_unstable();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "{room}: gapless, no transition twice");
        let (_, status) = spaces::get(&mut c, room).await.unwrap().unwrap();
        assert_eq!(status.room.as_str(), "free", "{room}");
    }
    let b0 = bookings::get(&mut c, &BookingId::parse("b0").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b0.status, BookingStatus::NoShow);
}

/// A space's timers apply in due order even when another instance holds the earlier one:
/// the store's runner (`SKIP LOCKED`) must not take a later timer of the same space past an
/// earlier one that another transaction has locked (a queue worker mid-run, or one about
/// to be killed). Taken out of order, a `CLEANING_ENDED` after the next booking's
/// `UPCOMING_REACHED` finds the room no longer cleaning and is lost from the history — the
/// intermittent loss the SIGKILL loop on Redis + PostgreSQL found.
#[tokio::test]
async fn a_space_timer_locked_elsewhere_holds_back_the_later_ones_of_that_space() {
    let (engines, clock) = instances("order", 2).await;
    let (holder, runner) = (&engines[0], &engines[1]);
    let room = SpaceId::parse("room").unwrap();
    holder.create_space(utc_space("room")).await.unwrap();
    let t = |s: &str| -> Timestamp { format!("2026-05-04T{s}:00Z").parse().unwrap() };
    let b = BookingId::parse("b").unwrap();
    holder
        .create_booking(&room, booking("b", t("09:00"), 60), None)
        .await
        .unwrap();
    holder
        .create_booking(&room, booking("b2", t("10:30"), 30), None)
        .await
        .unwrap();
    for at in ["08:45", "09:00"] {
        clock.set(t(at));
        holder.run_due_timers().await.unwrap();
    }
    clock.set(t("09:05"));
    holder
        .execute(&room, zs_core::Command::CheckIn(b.clone()))
        .await
        .unwrap();
    clock.set(t("09:30"));
    holder
        .execute(&room, zs_core::Command::CheckOut(b.clone()))
        .await
        .unwrap();
    // Cleaning ends at 09:40; b2's T-15 is at 10:15. Both are due at 10:16.
    clock.set(t("10:16"));
    // Another instance has taken the cleaning timer (a queue worker's transaction).
    let mut held = holder.store.begin().await.unwrap();
    let taken = jobs::group_due(&mut held, Queue::MeetingScheduler, "room", t("09:40"), 1)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "the cleaning timer is locked by the holder");
    assert_eq!(
        runner.run_due_timers().await.unwrap(),
        0,
        "nothing of the space may run past the job held elsewhere"
    );
    // The holder ends without applying it (it died: its transaction changed nothing).
    held.commit().await.unwrap();
    assert_eq!(runner.run_due_timers().await.unwrap(), 2);
    let mut c = runner.store.read().await.unwrap();
    let mut h = spaces::history(&mut c, &room, 100).await.unwrap();
    h.reverse();
    let tail: Vec<String> = h[h.len() - 3..]
        .iter()
        .map(|t| format!("{} {}", t.event, t.to.room))
        .collect();
    assert_eq!(
        tail,
        [
            "USER_CHECKS_OUT cleaning",
            "CLEANING_ENDED free",
            "UPCOMING_REACHED upcoming"
        ]
    );
}

/// Deletes racing creates on other instances: each round either the delete wins (the
/// create finds no space) or the create does (the delete is refused for its live booking);
/// never both, never a database error, and nothing of a deleted space is left.
#[tokio::test]
async fn a_delete_racing_creates_on_other_instances_never_leaves_orphans() {
    let (engines, _clock) = instances("delete-race", 3).await;
    let base: Timestamp = "2026-05-04T10:00:00Z".parse().unwrap();
    for round in 0..8 {
        let id = format!("room-{round}");
        let room = SpaceId::parse(&id).unwrap();
        engines[0].create_space(utc_space(&id)).await.unwrap();
        let (a, b) = (engines[1].clone(), engines[2].clone());
        let (r2, r3) = (room.clone(), room.clone());
        let bk = booking(&format!("b-{round}"), base, 30);
        let create = tokio::spawn(async move { a.create_booking(&r2, bk, None).await });
        let delete = tokio::spawn(async move { b.delete_space(&r3).await });
        let (created, deleted) = (create.await.unwrap(), delete.await.unwrap());
        let mut c = engines[0].store.read().await.unwrap();
        let left = bookings::list(&mut c, Some(&room), None, None, 10)
            .await
            .unwrap();
        match (&created, &deleted) {
            (Ok(_), Err(EngineError::LiveBookings(_, live))) => {
                assert_eq!(live.len(), 1);
                assert_eq!(left.len(), 1);
            }
            (Err(EngineError::NotFound(_)), Ok(())) => {
                assert!(left.is_empty());
                assert!(spaces::get(&mut c, &room).await.unwrap().is_none());
                let timers = jobs::list(&mut c, Queue::MeetingScheduler, 1000)
                    .await
                    .unwrap();
                assert!(
                    timers
                        .iter()
                        .all(|j| j.group.as_deref() != Some(id.as_str()))
                );
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
}
