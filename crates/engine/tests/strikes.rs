//! No-show strikes (CONTRACT §9) on both backends: consecutive no-shows of a series count,
//! a check-in sets the count back, and the no-show that reaches the space's
//! `noShowStrikes` releases the series at its own instant — its pending occurrences
//! cancelled with reason `no_show_strikes`, each as its own `BOOKING_CANCELLED`, and
//! `series.released` sent — whether the timers run on time or are caught up days later.

use jiff::{SignedDuration, Timestamp};
use zs_core::calendar::Zone;
use zs_core::series::{NoShowStrikes, Rule};
use zs_core::{BookingId, Command, SeriesId, Space, SpaceId, SpaceSettings};
use zs_engine::Engine;
use zs_engine::series::{Conflicts, NewSeries};
use zs_engine::testing::TestEngine;
use zs_store::{Backend, deliveries, series, spaces};

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn id(s: &str) -> BookingId {
    BookingId::parse(s).unwrap()
}

/// A UTC space with `strikes`, a webhook endpoint for every type, and a daily series
/// `name` of `count` occurrences at 09:00–09:30 from 4 May 2026 (grace 10 min).
async fn space_with_series(
    e: &Engine,
    space: &str,
    strikes: u16,
    name: &str,
    count: u32,
) -> SpaceId {
    let sid = SpaceId::parse(space).unwrap();
    let mut settings = SpaceSettings::defaults(Zone::parse("UTC").unwrap());
    settings.no_show_strikes = NoShowStrikes::new(strikes.into()).unwrap();
    e.create_space(Space {
        id: sid.clone(),
        name: space.into(),
        settings,
        maintenance: false,
    })
    .await
    .unwrap();
    e.create_series(
        &sid,
        NewSeries {
            id: SeriesId::parse(name).unwrap(),
            title: "Daily".into(),
            start: at("2026-05-04T09:00:00Z"),
            end: at("2026-05-04T09:30:00Z"),
            rule: Rule::parse(&format!("FREQ=DAILY;COUNT={count}")).unwrap(),
            conflicts: Conflicts::Refuse,
        },
        None,
    )
    .await
    .unwrap();
    sid
}

/// Each occurrence as `id status reason`.
async fn occurrences(e: &Engine, name: &str) -> Vec<String> {
    let mut c = e.store.read().await.unwrap();
    let list = series::occurrences(&mut c, &SeriesId::parse(name).unwrap(), Timestamp::MIN)
        .await
        .unwrap();
    list.iter()
        .map(|b| {
            let reason = b.cancel_reason.as_deref().unwrap_or("-");
            format!("{} {} {reason}", b.id, b.status.as_str())
        })
        .collect()
}

async fn stored(e: &Engine, name: &str) -> series::Series {
    let mut c = e.store.read().await.unwrap();
    series::get_owned(&mut c, &SeriesId::parse(name).unwrap())
        .await
        .unwrap()
        .unwrap()
        .0
}

/// The day's instant `hh:mm` of occurrence day `d` (1 = 4 May).
fn day(d: i64, hhmm: &str) -> Timestamp {
    at(&format!("2026-05-04T{hhmm}:00Z")) + SignedDuration::from_hours(24 * (d - 1))
}

async fn the_third_consecutive_no_show_releases_the_series(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-03T12:00:00Z").build().await;
    let (hook, _) = e
        .create_endpoint("https://example.com/h".into(), vec![])
        .await
        .unwrap();
    let space = space_with_series(&e, "s", 3, "daily", 10).await;
    // Day by day, every timer at its instant: 1 checked in, 2–3 no-shows, 4 checked in,
    // 5–7 no-shows: the seventh's no-show (09:10 on 10 May) releases 8–10.
    for d in 1..=7 {
        clock.set(day(d, "09:05"));
        e.run_due_timers().await.unwrap();
        if d == 1 || d == 4 {
            let b = id(&format!("daily-{d}"));
            e.execute(&space, Command::CheckIn(b)).await.unwrap();
        }
        clock.set(day(d, "09:10") - SignedDuration::from_millis(1));
        e.run_due_timers().await.unwrap();
        let before = stored(&e, "daily").await;
        assert_eq!(before.released_at, None, "day {d}: nothing early");
        clock.set(day(d, "09:10"));
        e.run_due_timers().await.unwrap();
        let s = stored(&e, "daily").await;
        let want = [0, 1, 2, 0, 1, 2, 3][d as usize - 1];
        assert_eq!(s.no_shows, want, "day {d}");
    }
    let s = stored(&e, "daily").await;
    assert_eq!(s.released_at, Some(day(7, "09:10")));
    assert_eq!(
        occurrences(&e, "daily").await[3..],
        [
            "daily-4 completed -",
            "daily-5 no_show -",
            "daily-6 no_show -",
            "daily-7 no_show -",
            "daily-8 cancelled no_show_strikes",
            "daily-9 cancelled no_show_strikes",
            "daily-10 cancelled no_show_strikes",
        ]
    );
    // The history: the no-show, then each cancel (each moves the next booking the space
    // shows), all at the no-show's instant.
    let mut c = e.store.read().await.unwrap();
    let h = spaces::history(&mut c, &space, 4).await.unwrap();
    let tail: Vec<String> = h
        .iter()
        .rev()
        .map(|t| {
            format!(
                "{} {} {} {} {}",
                t.to.since,
                t.event,
                t.booking_id.as_ref().unwrap(),
                t.to.space,
                t.to.next_booking_at.map_or("-".into(), |n| n.to_string())
            )
        })
        .collect();
    assert_eq!(
        tail,
        [
            "2026-05-10T09:10:00Z NO_SHOW_TIMEOUT daily-7 available_at 2026-05-11T09:00:00Z",
            "2026-05-10T09:10:00Z BOOKING_CANCELLED daily-8 available_at 2026-05-12T09:00:00Z",
            "2026-05-10T09:10:00Z BOOKING_CANCELLED daily-9 available_at 2026-05-13T09:00:00Z",
            "2026-05-10T09:10:00Z BOOKING_CANCELLED daily-10 available_now -",
        ]
    );
    // The webhooks: each cancel, then the release.
    let sent = deliveries::for_endpoint(&mut c, &hook.id, 200)
        .await
        .unwrap();
    let bodies: Vec<serde_json::Value> = sent
        .iter()
        .map(|d| serde_json::from_str(&d.body).unwrap())
        .filter(|b: &serde_json::Value| {
            b["type"] == "series.released"
                || (b["type"] == "booking.cancelled"
                    && b["data"]["cancelReason"] == "no_show_strikes")
        })
        .collect();
    assert_eq!(bodies.len(), 4, "{bodies:#?}");
    let released = bodies
        .iter()
        .find(|b| b["type"] == "series.released")
        .unwrap();
    assert_eq!(
        released["data"],
        serde_json::json!({
            "seriesId": "daily", "spaceId": "s", "reason": "no_show_strikes", "noShows": 3,
            "cancelledBookingIds": ["daily-8", "daily-9", "daily-10"],
            "releasedAt": "2026-05-10T09:10:00Z",
        })
    );
    assert_eq!(released["timestamp"], "2026-05-10T09:10:00Z");
    drop(c);
    // Nothing is counted on a released series, and nothing more happens.
    clock.set(day(12, "12:00"));
    e.run_due_timers().await.unwrap();
    assert_eq!(stored(&e, "daily").await.no_shows, 3);
}

/// Timers caught up days late release the series at the no-show's own instant: the
/// occurrences after it are cancelled then (not when the runner woke), before their start.
async fn a_caught_up_release_happens_at_the_no_shows_instant(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-03T12:00:00Z").build().await;
    let space = space_with_series(&e, "s", 2, "late", 6).await;
    // Nobody comes and no runner runs until 9 May; then everything due runs at once.
    clock.set(day(6, "12:00"));
    e.run_due_timers().await.unwrap();
    assert_eq!(
        occurrences(&e, "late").await,
        [
            "late-1 no_show -",
            "late-2 no_show -",
            "late-3 cancelled no_show_strikes",
            "late-4 cancelled no_show_strikes",
            "late-5 cancelled no_show_strikes",
            "late-6 cancelled no_show_strikes",
        ]
    );
    let s = stored(&e, "late").await;
    assert_eq!((s.no_shows, s.released_at), (2, Some(day(2, "09:10"))));
    let mut c = e.store.read().await.unwrap();
    let mut h = spaces::history(&mut c, &space, 100).await.unwrap();
    h.reverse();
    let events: Vec<String> = h
        .iter()
        .map(|t| {
            let b = t.booking_id.as_ref().map_or("-", |b| b.as_str());
            format!("{} {} {b}", t.to.since, t.event)
        })
        .collect();
    assert!(
        events.contains(&"2026-05-05T09:10:00Z BOOKING_CANCELLED late-3".to_owned()),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| e.contains("START_TIME_REACHED late-3")),
        "a released occurrence never starts: {events:#?}"
    );
}

/// `noShowStrikes: 0` never releases (the count is still kept); cancelled occurrences
/// neither count nor reset.
async fn zero_strikes_never_release_and_cancels_do_not_count(db: Backend) {
    let (e, clock) = TestEngine::on(db).at("2026-05-03T12:00:00Z").build().await;
    space_with_series(&e, "off", 0, "never", 5).await;
    let on = space_with_series(&e, "on", 3, "kept", 5).await;
    // In "on": the second occurrence is cancelled by hand; 1, 3, 4 are no-shows: released
    // at the fourth's no-show.
    e.execute(&on, Command::Cancel(id("kept-2"))).await.unwrap();
    clock.set(day(5, "08:00"));
    e.run_due_timers().await.unwrap();
    let s = stored(&e, "never").await;
    assert_eq!((s.no_shows, s.released_at), (4, None));
    assert_eq!(
        occurrences(&e, "never").await[4],
        "never-5 scheduled -",
        "not released"
    );
    let k = stored(&e, "kept").await;
    assert_eq!((k.no_shows, k.released_at), (3, Some(day(4, "09:10"))));
    assert_eq!(
        occurrences(&e, "kept").await,
        [
            "kept-1 no_show -",
            "kept-2 cancelled requested",
            "kept-3 no_show -",
            "kept-4 no_show -",
            "kept-5 cancelled no_show_strikes",
        ]
    );
}

zs_store::test_on_both_backends!(
    the_third_consecutive_no_show_releases_the_series,
    a_caught_up_release_happens_at_the_no_shows_instant,
    zero_strikes_never_release_and_cancels_do_not_count
);
