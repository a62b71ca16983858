//! A series without an end (CONTRACT §9) on both backends: booked up to the rolling horizon
//! when made, extended as time passes — each occurrence once, however many instances
//! extend at the same moment — and no further than a cancel from an instant.

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use zs_core::calendar::Zone;
use zs_core::series::Rule;
use zs_core::{SeriesId, Space, SpaceId, SpaceSettings};
use zs_engine::Engine;
use zs_engine::series::{Conflicts, NewSeries};
use zs_engine::testing::TestEngine;
use zs_store::{Backend, series};

const NOW: &str = "2026-05-04T06:00:00Z";

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The series' occurrences, as `id start`.
async fn booked(e: &Engine, id: &str) -> Vec<String> {
    let mut c = e.store.read().await.unwrap();
    let list = series::occurrences(&mut c, &SeriesId::parse(id).unwrap(), Timestamp::MIN)
        .await
        .unwrap();
    list.iter()
        .map(|b| format!("{} {}", b.id, b.start))
        .collect()
}

/// Space `s` in Berlin. Nobody comes to the occurrences these tests book: no-show strikes
/// off, or the third no-show would release the series (tests/strikes.rs).
async fn berlin_space(e: &Engine) -> SpaceId {
    let space = SpaceId::parse("s").unwrap();
    let settings = SpaceSettings {
        no_show_strikes: zs_core::series::NoShowStrikes::OFF,
        ..SpaceSettings::defaults(Zone::parse("Europe/Berlin").unwrap())
    };
    e.create_space(Space {
        id: space.clone(),
        name: "s".into(),
        settings,
        maintenance: false,
    })
    .await
    .unwrap();
    space
}

async fn an_open_series_is_extended_once_as_time_passes(db: Backend) {
    let (e, clock) = TestEngine::on(db).at(NOW).build().await;
    e.set_series_horizon(SignedDuration::from_hours(24 * 14));
    // A second instance over the same store, on the same clock.
    let other = TestEngine::over(e.store.clone())
        .clock(&clock)
        .build()
        .await
        .0;
    other.set_series_horizon(e.series_horizon());
    let space = berlin_space(&e).await;
    // Tuesdays 09:00 Berlin (07:00Z in summer) from 5 May 2026, without an end.
    let made = e
        .create_series(
            &space,
            NewSeries {
                id: SeriesId::parse("open").unwrap(),
                title: "Open".into(),
                start: at("2026-05-05T07:00:00Z"),
                end: at("2026-05-05T07:30:00Z"),
                rule: Rule::parse("FREQ=WEEKLY;BYDAY=TU").unwrap(),
                conflicts: Conflicts::Refuse,
            },
            None,
        )
        .await
        .unwrap();
    // Up to 18 May 06:00Z: the 5th and the 12th.
    assert_eq!(made.occurrences.len(), 2);
    assert_eq!(
        made.series.materialized_until,
        Some(at("2026-05-18T06:00:00Z"))
    );
    assert_eq!(
        e.extend_series().await.unwrap(),
        0,
        "nothing new is due yet"
    );

    // A week later both instances extend at once: the 19th is booked once.
    clock.set(at("2026-05-11T06:00:00Z"));
    let (a, b) = tokio::join!(e.extend_series(), other.extend_series());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(
        booked(&e, "open").await,
        [
            "open-1 2026-05-05T07:00:00Z",
            "open-2 2026-05-12T07:00:00Z",
            "open-3 2026-05-19T07:00:00Z"
        ]
    );
    assert_eq!(e.extend_series().await.unwrap(), 0);

    // Cancelled from 2 June on: extended up to it, never past it.
    let cancelled = e
        .cancel_series(
            &space,
            &SeriesId::parse("open").unwrap(),
            Some(at("2026-06-02T00:00:00Z")),
        )
        .await
        .unwrap();
    assert!(
        cancelled.cancelled.is_empty(),
        "nothing from 2 June is booked yet"
    );
    // On 20 May the horizon reaches 3 June: the 26th is booked, the 2nd is not.
    clock.set(at("2026-05-20T06:00:00Z"));
    assert_eq!(e.extend_series().await.unwrap(), 1);
    let list = booked(&e, "open").await;
    assert_eq!(
        list.last().map(String::as_str),
        Some("open-4 2026-05-26T07:00:00Z")
    );
    clock.set(at("2026-07-01T06:00:00Z"));
    assert_eq!(e.extend_series().await.unwrap(), 0);
    assert_eq!(booked(&e, "open").await.len(), 4);
    let mut c = e.store.read().await.unwrap();
    let (s, _) = series::get_owned(&mut c, &SeriesId::parse("open").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.materialized_until, None, "nothing more to book");
    let _ = Arc::clone(&other);
}

/// Two series without an end on one space whose next occurrences overlap and enter the
/// horizon in the same extension: the one that starts first is booked, as if each had been
/// booked the moment it entered the horizon — not the series made first, nor the one whose
/// id sorts first.
async fn occurrences_entering_the_horizon_together_are_booked_in_start_order(db: Backend) {
    let (e, clock) = TestEngine::on(db).at(NOW).build().await;
    e.set_series_horizon(SignedDuration::from_hours(24 * 14));
    let space = berlin_space(&e).await;
    // Tuesdays: "aa" (made first) 18:10–18:50 Berlin, "zz" 17:00–18:40, without an end.
    for (id, start, end) in [
        ("aa", "2026-05-05T16:10:00Z", "2026-05-05T16:50:00Z"),
        ("zz", "2026-05-05T15:00:00Z", "2026-05-05T16:40:00Z"),
    ] {
        e.create_series(
            &space,
            NewSeries {
                id: SeriesId::parse(id).unwrap(),
                title: id.into(),
                start: at(start),
                end: at(end),
                rule: Rule::parse("FREQ=WEEKLY;BYDAY=TU").unwrap(),
                conflicts: Conflicts::Skip,
            },
            None,
        )
        .await
        .unwrap();
    }
    // When made, "aa" took the 5th and the 12th; "zz" skipped them.
    assert_eq!(booked(&e, "aa").await.len(), 2);
    assert!(booked(&e, "zz").await.is_empty());

    // Both horizons reach the 19th in one extension: "zz" starts first there.
    clock.set(at("2026-05-11T06:00:00Z"));
    assert_eq!(e.extend_series().await.unwrap(), 1);
    assert_eq!(booked(&e, "zz").await, ["zz-3 2026-05-19T15:00:00Z"]);
    assert_eq!(
        booked(&e, "aa").await.len(),
        2,
        "aa-3 overlaps zz-3: skipped"
    );
}

zs_store::test_on_both_backends!(
    an_open_series_is_extended_once_as_time_passes,
    occurrences_entering_the_horizon_together_are_booked_in_start_order
);
