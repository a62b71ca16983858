//! The utilisation read on both backends: the bookings that can touch a range (with the
//! instant each no-show was recorded), the maintenance intervals from the transitions, and
//! each space's creation instant; one space or all.

use jiff::Timestamp;
use zs_core::utilisation::{BookingFacts, Maintenance};
use zs_core::{
    Booking, BookingId, BookingStatus, EventKind, RoomState, SpaceId, SpaceState, SpaceStatus,
    Transition, initial_status,
};
use zs_store::utilisation::histories;
use zs_store::{Backend, bookings, spaces, testing};

const T0: i64 = 1_800_000_000;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(T0 + s).unwrap()
}

fn sid(s: &str) -> SpaceId {
    SpaceId::parse(s).unwrap()
}

fn booking(id: &str, space: &str, start: i64, end: i64, status: BookingStatus) -> Booking {
    Booking {
        id: BookingId::parse(id).unwrap(),
        space_id: sid(space),
        title: id.into(),
        start: at(start),
        end: at(end),
        status,
        created_at: at(-86_400),
        checked_in_at: None,
        ended_at: None,
        cancelled_at: None,
        cancel_reason: None,
        series_id: None,
    }
}

fn transition(space: &str, seq: u64, event: EventKind, b: Option<&str>, when: i64) -> Transition {
    let status = SpaceStatus {
        space: SpaceState::AvailableNow,
        room: RoomState::Free,
        booking_id: None,
        next_booking_at: None,
        since: at(when),
        sequence: seq,
    };
    Transition {
        space_id: sid(space),
        event,
        booking_id: b.map(|b| BookingId::parse(b).unwrap()),
        from_space: SpaceState::AvailableNow,
        from_room: RoomState::Upcoming,
        to: status,
    }
}

async fn histories_hold_what_the_figures_need(db: Backend) {
    use BookingStatus::*;
    let store = testing::fresh(db, "utilisation").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["s1", "s2"] {
        let s = testing::utc_space(id);
        assert!(
            spaces::insert(&mut tx, &s, &initial_status(&s, &[], at(-1000)))
                .await
                .unwrap()
        );
    }
    let mut early = booking("early", "s1", 0, 3600, Completed);
    early.checked_in_at = Some(at(-60));
    early.ended_at = Some(at(1800));
    let mut cancelled = booking("cancelled", "s1", 7200, 9000, Cancelled);
    cancelled.cancelled_at = Some(at(100));
    let all = [
        early,
        booking("no-show", "s1", 4000, 5000, NoShow),
        booking("unrecorded", "s1", 5000, 5500, NoShow),
        cancelled,
        booking("before", "s1", -5000, -100, Completed),
        booking("after", "s1", 20_000, 21_000, Scheduled),
        booking("other", "s2", 100, 200, Scheduled),
    ];
    bookings::upsert_many(&mut tx, &all.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    let ts = [
        transition("s1", 1, EventKind::AdminDisable, None, -500),
        transition("s1", 2, EventKind::AdminEnable, None, -400),
        transition("s1", 3, EventKind::NoShowTimeout, Some("no-show"), 4600),
        transition("s1", 4, EventKind::AdminDisable, None, 6000),
        transition("s1", 5, EventKind::AdminEnable, None, 30_000),
        transition("s2", 1, EventKind::AdminDisable, None, 150),
    ];
    spaces::insert_transitions(&mut tx, &ts.iter().collect::<Vec<_>>())
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut c = store.read().await.unwrap();
    let (from, to) = (at(0), at(10_000));
    let one = histories(&mut c, Some(&sid("s1")), from, to).await.unwrap();
    assert_eq!(one.keys().cloned().collect::<Vec<_>>(), [sid("s1")]);
    let h = &one[&sid("s1")];
    assert_eq!(h.created_at, Some(at(-1000)));
    let starts: Vec<(Timestamp, Option<Timestamp>)> = h
        .bookings
        .iter()
        .map(|b| (b.start, b.released_at))
        .collect();
    assert_eq!(
        starts,
        [
            (at(0), None),
            (at(4000), Some(at(4600))),
            (at(5000), None),
            (at(7200), None)
        ],
        "bookings touching the range, with the recorded no-show instant"
    );
    let first: &BookingFacts = &h.bookings[0];
    assert_eq!(
        (first.checked_in_at, first.ended_at, first.status),
        (Some(at(-60)), Some(at(1800)), Completed)
    );
    assert_eq!(h.bookings[3].cancelled_at, Some(at(100)));
    let spans: Vec<Maintenance> = vec![(at(-500), Some(at(-400))), (at(6000), None)];
    assert_eq!(
        h.maintenance, spans,
        "the enable after the range is not read"
    );

    let all = histories(&mut c, None, from, to).await.unwrap();
    assert_eq!(
        all.keys().cloned().collect::<Vec<_>>(),
        [sid("s1"), sid("s2")]
    );
    assert_eq!(all[&sid("s1")], *h);
    assert_eq!(all[&sid("s2")].bookings.len(), 1);
    assert_eq!(all[&sid("s2")].maintenance, vec![(at(150), None)]);

    // A check-in before the range's end counts even when the booking starts after it.
    let mut c2 = store.begin().await.unwrap();
    let mut soon = booking("soon", "s2", 10_500, 11_000, CheckedIn);
    soon.checked_in_at = Some(at(9_900));
    bookings::upsert_many(&mut c2, &[&soon]).await.unwrap();
    c2.commit().await.unwrap();
    let two = histories(&mut c, Some(&sid("s2")), from, to).await.unwrap();
    assert_eq!(two[&sid("s2")].bookings.len(), 2);
    let none = histories(&mut c, Some(&sid("nope")), from, to)
        .await
        .unwrap();
    assert!(none.is_empty());
}

zs_store::test_on_both_backends!(histories_hold_what_the_figures_need);
