//! The event log: transitions read back after a cursor in commit order, on both backends;
//! on PostgreSQL, a row of a transaction that commits later never appears before a row
//! already read.

use jiff::Timestamp;
use zs_core::{EventKind, RoomState, SpaceId, SpaceState, SpaceStatus, Transition};
use zs_store::events::{self, Cursor};
use zs_store::{Backend, spaces, testing};

fn transition(space: &str, sequence: u64) -> Transition {
    let at = Timestamp::from_second(1_800_000_000 + sequence as i64).unwrap();
    Transition {
        space_id: SpaceId::parse(space).unwrap(),
        event: EventKind::AdminDisable,
        booking_id: None,
        from_space: SpaceState::AvailableNow,
        from_room: RoomState::Free,
        to: SpaceStatus {
            space: SpaceState::InMaintenance,
            room: RoomState::Free,
            booking_id: None,
            next_booking_at: None,
            since: at,
            sequence,
        },
    }
}

async fn write(store: &zs_store::Store, list: &[Transition]) {
    let mut tx = store.begin().await.unwrap();
    let refs: Vec<&Transition> = list.iter().collect();
    spaces::insert_transitions(&mut tx, &refs).await.unwrap();
    tx.commit().await.unwrap();
}

/// `after`, waiting (up to 5 s) until `want` rows are settled: on PostgreSQL a transaction of
/// any client of the server that is still running holds newer rows back.
async fn settled(
    store: &zs_store::Store,
    from: Cursor,
    limit: i64,
    want: usize,
) -> Vec<(Cursor, Transition)> {
    let mut rows = vec![];
    for _ in 0..100 {
        let mut c = store.read().await.unwrap();
        rows = events::after(&mut c, from, limit).await.unwrap();
        if rows.len() >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    rows
}

fn names(rows: &[(Cursor, Transition)]) -> Vec<String> {
    rows.iter()
        .map(|(_, t)| format!("{}.{}", t.space_id, t.to.sequence))
        .collect()
}

/// Positions grow in commit order across batches; `after` pages through them, `head` is the
/// last, `count_after` stops at its cap, `occurred_at` finds issued positions only.
async fn the_log_reads_back_in_commit_order_from_any_cursor(db: Backend) {
    let store = testing::fresh(db, "event_log").await.unwrap();
    let mut c = store.read().await.unwrap();
    assert_eq!(events::head(&mut c).await.unwrap(), Cursor::START);
    write(&store, &[transition("b", 1), transition("a", 1)]).await;
    write(&store, &[transition("a", 2)]).await;
    write(&store, &[transition("c", 1), transition("b", 2)]).await;
    let all = settled(&store, Cursor::START, 100, 5).await;
    assert_eq!(names(&all), ["b.1", "a.1", "a.2", "c.1", "b.2"]);
    let mut c = store.read().await.unwrap();
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{all:?}");
    assert_eq!(events::head(&mut c).await.unwrap(), all[4].0);
    let rest = events::after(&mut c, all[1].0, 2).await.unwrap();
    assert_eq!(names(&rest), ["a.2", "c.1"]);
    assert_eq!(events::count_after(&mut c, all[0].0, 100).await.unwrap(), 4);
    assert_eq!(events::count_after(&mut c, all[0].0, 3).await.unwrap(), 3);
    let parsed = Cursor::parse(&all[2].0.to_string()).unwrap();
    assert_eq!(
        events::occurred_at(&mut c, parsed).await.unwrap(),
        Some(all[2].1.to.since)
    );
    let never = Cursor::parse("12345-999999").unwrap();
    assert_eq!(events::occurred_at(&mut c, never).await.unwrap(), None);
    assert_eq!(
        events::occurred_at(&mut c, Cursor::START).await.unwrap(),
        None
    );
}

/// Transaction 1 writes first but commits last: while it is open, transaction 2's committed
/// row is held back (it would otherwise be read, and transaction 1's row would then land
/// behind the reader's cursor); once 1 commits, both come, in transaction order.
#[tokio::test]
async fn postgres_holds_back_rows_until_every_earlier_transaction_ended() {
    let (store, _) = testing::fresh_postgres("event_log_order").await.unwrap();
    let mut first = store.begin().await.unwrap();
    spaces::insert_transitions(&mut first, &[&transition("one", 1)])
        .await
        .unwrap();
    write(&store, &[transition("two", 1)]).await;
    let mut c = store.read().await.unwrap();
    assert_eq!(
        names(&events::after(&mut c, Cursor::START, 100).await.unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(events::head(&mut c).await.unwrap(), Cursor::START);
    first.commit().await.unwrap();
    let all = settled(&store, Cursor::START, 100, 2).await;
    assert_eq!(names(&all), ["one.1", "two.1"]);
}

/// Deleting a space deletes its transitions; when they were the newest, their positions are
/// still never handed out again, so a client whose cursor is one of them misses nothing that
/// commits afterwards.
async fn a_deleted_spaces_positions_are_never_reused(db: Backend) {
    let store = testing::fresh(db, "event_log_delete").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    for id in ["keep", "gone"] {
        let s = testing::utc_space(id);
        let st = zs_core::initial_status(&s, &[], Timestamp::from_second(1_800_000_000).unwrap());
        spaces::insert(&mut tx, &s, &st).await.unwrap();
    }
    tx.commit().await.unwrap();
    write(&store, &[transition("keep", 1)]).await;
    write(&store, &[transition("gone", 1), transition("gone", 2)]).await;
    let seen = settled(&store, Cursor::START, 100, 3).await;
    assert_eq!(names(&seen), ["keep.1", "gone.1", "gone.2"]);
    let cursor = seen[2].0;
    let mut tx = store.begin().await.unwrap();
    let gone = SpaceId::parse("gone").unwrap();
    assert!(
        spaces::delete(
            &mut tx,
            &gone,
            Timestamp::from_second(1_800_000_100).unwrap()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    write(&store, &[transition("keep", 2)]).await;
    let next = settled(&store, cursor, 100, 1).await;
    assert_eq!(names(&next), ["keep.2"]);
    assert!(next[0].0 > cursor, "{next:?} after {cursor}");
}

zs_store::test_on_both_backends!(
    the_log_reads_back_in_commit_order_from_any_cursor,
    a_deleted_spaces_positions_are_never_reused
);
