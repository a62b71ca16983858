//! A space's working set: exactly the bookings its next event may concern, on both backends.

use jiff::{SignedDuration, Timestamp};
use zs_core::{Booking, BookingId, BookingStatus, SpaceId, initial_status};
use zs_store::{Backend, bookings, spaces, testing};

const NOW: i64 = 1_800_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(NOW + s).unwrap()
}

/// A booking of `space` five minutes long from `start`; a completed one ended at `ended`.
fn booking(
    id: &str,
    space: &str,
    start: i64,
    status: BookingStatus,
    ended: Option<i64>,
) -> Booking {
    Booking {
        id: BookingId::parse(id).unwrap(),
        space_id: SpaceId::parse(space).unwrap(),
        title: id.into(),
        start: at(start),
        end: at(start + 300),
        status,
        created_at: at(-86_400),
        checked_in_at: None,
        ended_at: ended.map(at),
        cancelled_at: None,
        cancel_reason: None,
    }
}

/// Every live booking of the asked spaces, the completed ones whose cleaning may still run
/// (ended within `max_cleaning` of now), and the extra bookings of those spaces whatever their
/// status — in start order, each once; nothing of another space, nothing else that is over.
async fn a_working_set_is_the_live_recent_and_asked_bookings_of_its_spaces(db: Backend) {
    use BookingStatus::*;
    let store = testing::fresh(db, "working-sets").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["s1", "s2", "s3"] {
        let s = testing::utc_space(id);
        let st = initial_status(&s, &[], at(0));
        assert!(spaces::insert(&mut tx, &s, &st).await.unwrap());
    }
    let all = [
        booking("checked-in", "s1", -290, CheckedIn, None),
        booking("awaiting", "s1", 20, AwaitingCheckIn, None),
        booking("upcoming", "s1", 600, Upcoming, None),
        booking("scheduled", "s1", 7200, Scheduled, None),
        booking("just-ended", "s1", -700, Completed, Some(-400)),
        booking("long-ended", "s1", -90_000, Completed, Some(-86_000)),
        booking("cancelled", "s1", -50_000, Cancelled, None),
        booking("no-show", "s1", -60_000, NoShow, None),
        booking("other-live", "s2", 0, Scheduled, None),
        booking("other-old", "s2", -90_000, Completed, Some(-86_000)),
        booking("third-live", "s3", 100, Scheduled, None),
    ];
    bookings::upsert_many(&mut tx, &all.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let ids = |list: Vec<Booking>| {
        list.into_iter()
            .map(|b| b.id.to_string())
            .collect::<Vec<_>>()
    };
    let s = |id: &str| SpaceId::parse(id).unwrap();
    let b = |id: &str| BookingId::parse(id).unwrap();
    let cleaning = SignedDuration::from_mins(10).as_millis() as i64;

    let (s1, s3) = (s("s1"), s("s3"));
    let one = bookings::working_set(&mut tx, &s1, at(0), cleaning, None);
    assert_eq!(
        ids(one.await.unwrap()),
        [
            "just-ended",
            "checked-in",
            "awaiting",
            "upcoming",
            "scheduled"
        ],
        "live and within cleaning, in start order"
    );

    // An asked booking comes whatever its status, once even when it is live anyway; an
    // asked booking of a space not asked for does not.
    let extra = [b("long-ended"), b("upcoming"), b("other-old")];
    let extra: Vec<&BookingId> = extra.iter().collect();
    let both = [&s1, &s3];
    let many = bookings::working_sets(&mut tx, &both, at(0), cleaning, &extra);
    assert_eq!(
        ids(many.await.unwrap()),
        [
            "long-ended",
            "just-ended",
            "checked-in",
            "awaiting",
            "third-live",
            "upcoming",
            "scheduled"
        ]
    );

    // Once the cleaning window has passed, the completed booking drops out.
    let later = bookings::working_set(&mut tx, &s1, at(-400 + 601), cleaning, None);
    assert!(!ids(later.await.unwrap()).contains(&"just-ended".to_string()));
    let edge = bookings::working_set(&mut tx, &s1, at(-400 + 599), cleaning, None);
    assert!(ids(edge.await.unwrap()).contains(&"just-ended".to_string()));
}

zs_store::test_on_both_backends!(a_working_set_is_the_live_recent_and_asked_bookings_of_its_spaces);
