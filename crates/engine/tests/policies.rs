//! Booking policies (CONTRACT §11) on every path that makes or moves a booking — a command,
//! an ingress job, a walk-up, an extension — on both backends: each refusal carries its
//! `policy_…` code and stores nothing (no booking, no timer job, no history); each bound
//! itself is accepted.

use jiff::{SignedDuration, Timestamp};
use zs_core::calendar::Zone;
use zs_core::{
    BookingId, Command, DomainError, Limit, NewBooking, Period, Policies, Space, SpaceId,
    SpaceSettings, WalkUp,
};
use zs_engine::testing::TestEngine;
use zs_engine::{Engine, EngineError};
use zs_store::{Backend, Queue, bookings, jobs, spaces};

const NOW: &str = "2026-05-04T08:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn mins(m: i64) -> Timestamp {
    now() + SignedDuration::from_mins(m)
}

/// Everything a refusal must leave as it was: the space's bookings, pending timer jobs and
/// history length.
async fn footprint(e: &Engine, id: &SpaceId) -> (Vec<String>, Vec<String>, usize) {
    let mut c = e.store.read().await.unwrap();
    let list = bookings::list(&mut c, Some(id), None, None, 1000)
        .await
        .unwrap();
    let ids = list
        .into_iter()
        .map(|b| format!("{} {}", b.id, b.end))
        .collect();
    let timers = zs_store::testing::job_ids(&mut c, Queue::MeetingScheduler)
        .await
        .unwrap();
    let history = spaces::history(&mut c, id, 1000).await.unwrap().len();
    (ids, timers, history)
}

fn code(r: Result<impl std::fmt::Debug, EngineError>) -> &'static str {
    match r {
        Err(EngineError::Domain(d)) => d.code(),
        other => panic!("expected a domain refusal, got {other:?}"),
    }
}

fn booking(id: &str, from: i64, to: i64) -> NewBooking {
    NewBooking {
        id: BookingId::parse(id).unwrap(),
        title: String::new(),
        start: mins(from),
        end: mins(to),
    }
}

fn ingress(id: &str, from: i64, to: i64) -> serde_json::Value {
    serde_json::json!({"bookingId": id, "spaceId": "s", "start": mins(from).to_string(),
        "end": mins(to).to_string()})
}

async fn every_path_refuses_what_breaks_a_policy(db: Backend) {
    let (e, _clock) = TestEngine::on(db).at(NOW).build().await;
    let settings = SpaceSettings {
        policies: Policies {
            max_duration: Some(Limit::hours(2)),
            min_duration: Some(Limit::minutes(15)),
            booking_horizon: Some(Limit::parse("P7D").unwrap()),
            min_notice: Some(Limit::minutes(30)),
        },
        ..SpaceSettings::defaults(Zone::parse("UTC").unwrap())
    };
    let id = SpaceId::parse("s").unwrap();
    e.create_space(Space {
        id: id.clone(),
        name: "s".into(),
        settings,
        maintenance: false,
    })
    .await
    .unwrap();
    let week = 7 * 24 * 60;

    // A booking made by command, and the same through an ingress job.
    let refused = [
        (60, 181, "policy_max_duration"),
        (60, 74, "policy_min_duration"),
        (29, 60, "policy_min_notice"),
        (week + 1, week + 60, "policy_horizon"),
    ];
    let before = footprint(&e, &id).await;
    for (n, (from, to, want)) in refused.into_iter().enumerate() {
        let r = e
            .create_booking(&id, booking(&format!("c{n}"), from, to), None)
            .await;
        assert_eq!(code(r), want, "command {from}..{to}");
        let r = e
            .apply_ingress("BOOKING_CREATED", &ingress(&format!("i{n}"), from, to))
            .await;
        let reason = r.expect_err("refused");
        assert!(
            reason.starts_with(&format!("{want}: ")),
            "ingress {from}..{to}: {reason}"
        );
        assert_eq!(footprint(&e, &id).await, before, "{want} stored something");
    }

    // Each bound itself is accepted: 30 minutes' notice, 2 hours long; 15 minutes long, a week ahead.
    e.create_booking(&id, booking("edge-1", 30, 150), None)
        .await
        .unwrap();
    e.apply_ingress("BOOKING_CREATED", &ingress("edge-2", week - 15, week))
        .await
        .unwrap();

    // An extension past two hours is refused; to exactly two hours it is accepted.
    let before = footprint(&e, &id).await;
    let extend = |end: i64| Command::Extend {
        booking: BookingId::parse("edge-2").unwrap(),
        end: mins(end),
    };
    let r = e.execute(&id, extend(week - 15 + 121)).await;
    assert_eq!(code(r), "policy_max_duration");
    assert_eq!(footprint(&e, &id).await, before);
    e.execute(&id, extend(week - 15 + 120)).await.unwrap();

    // A walk-up starts now: with 30 minutes' notice required, it is refused.
    let before = footprint(&e, &id).await;
    let walk_up = WalkUp {
        id: BookingId::parse("w").unwrap(),
        title: String::new(),
        duration: Period::minutes(20),
    };
    let r = e.book_now(&id, walk_up.clone(), None).await;
    assert!(
        matches!(
            r,
            Err(EngineError::Domain(DomainError::PolicyMinNotice { .. }))
        ),
        "{r:?}"
    );
    assert_eq!(footprint(&e, &id).await, before);

    // Without a notice policy, the walk-up is held to the length limits alone.
    let (mut space, _) = {
        let mut c = e.store.read().await.unwrap();
        spaces::get(&mut c, &id).await.unwrap().unwrap()
    };
    space.settings.policies.min_notice = None;
    e.update_space(&id, space.name.clone(), space.settings.clone())
        .await
        .unwrap();
    let short = WalkUp {
        duration: Period::minutes(10),
        ..walk_up.clone()
    };
    assert_eq!(
        code(e.book_now(&id, short, None).await),
        "policy_min_duration"
    );
    assert_eq!(footprint(&e, &id).await, before);
    let b = e.book_now(&id, walk_up, None).await.unwrap();
    assert_eq!(b.status, zs_core::BookingStatus::CheckedIn);
    let mut c = e.store.read().await.unwrap();
    assert!(
        jobs::list(&mut c, Queue::MeetingScheduler, 100)
            .await
            .unwrap()
            .len()
            > before.1.len()
    );
}

zs_store::test_on_both_backends!(every_path_refuses_what_breaks_a_policy);
