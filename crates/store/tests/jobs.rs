//! The job table's prefix removal, on both backends.

use jiff::Timestamp;
use zs_store::jobs::{self, NewJob};
use zs_store::{Backend, testing};

const QUEUE: &str = "meetingScheduler";

fn job(id: &str, group: &str) -> NewJob {
    NewJob {
        id: id.into(),
        queue: QUEUE,
        name: "T".into(),
        data: serde_json::Value::Null,
        due: Timestamp::UNIX_EPOCH,
        rank: 0,
        group: Some(group.into()),
    }
}

/// A booking's timers are removed by prefix within their space's group: `b1.` takes `b1.*`
/// of `s1` and nothing else — not `b10.*` (same leading characters), not another group's
/// job, and a `LIKE` wildcard in a prefix is taken literally.
async fn a_prefix_removal_takes_the_groups_jobs_with_that_prefix_only(db: Backend) {
    let store = testing::fresh(db, "remove-prefix").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let all = [
        job("b1.START_TIME_REACHED", "s1"),
        job("b1.END_TIME_REACHED", "s1"),
        job("b10.START_TIME_REACHED", "s1"),
        job("b1_x.START_TIME_REACHED", "s1"),
        job("s1.DAY.1", "s1"),
        job("b2.START_TIME_REACHED", "s2"),
    ];
    jobs::put_many(&mut tx, &all, Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    let removed = jobs::remove_prefix(&mut tx, QUEUE, "s1", "b1.");
    assert_eq!(removed.await.unwrap(), 2);
    // `_` is a LIKE wildcard: unescaped, `b1_` would take `b10.…` too.
    let removed = jobs::remove_prefix(&mut tx, QUEUE, "s1", "b1_");
    assert_eq!(removed.await.unwrap(), 1);
    // Another group's removal leaves s1's jobs alone.
    let removed = jobs::remove_prefix(&mut tx, QUEUE, "s2", "s1.DAY.");
    assert_eq!(removed.await.unwrap(), 0);
    let left: Vec<String> = jobs::list(&mut tx, QUEUE, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.id)
        .collect();
    assert_eq!(
        left,
        [
            "b10.START_TIME_REACHED",
            "s1.DAY.1",
            "b2.START_TIME_REACHED"
        ],
        "in run order (due, rank, insertion)"
    );
}

zs_store::test_on_both_backends!(a_prefix_removal_takes_the_groups_jobs_with_that_prefix_only);
