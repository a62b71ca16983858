//! The job table's prefix removal and queue heads, on both backends.

use jiff::Timestamp;
use zs_store::Queue;
use zs_store::jobs::{self, NewJob};
use zs_store::{Backend, testing};

const QUEUE: Queue = Queue::MeetingScheduler;

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
    // The same prefix on another queue is not this queue's job.
    let other = NewJob {
        queue: Queue::WebhookDeliveries,
        ..job("b1.DELIVERY", "s1")
    };
    jobs::put_many(&mut tx, &[other], Timestamp::UNIX_EPOCH)
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
    let other = testing::job_ids(&mut tx, Queue::WebhookDeliveries).await;
    assert_eq!(other.unwrap(), ["b1.DELIVERY"]);
    let left = testing::job_ids(&mut tx, QUEUE).await.unwrap();
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

/// Each queue's head is its earliest due job; an empty queue has none. The query names the
/// three queues itself, so this also proves it names them as the constants do.
async fn each_queue_reports_its_earliest_due_job(db: Backend) {
    let store = testing::fresh(db, "queue-heads").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert_eq!(jobs::next_due_by_queue(&mut tx).await.unwrap(), vec![]);
    let at = |s: i64| Timestamp::from_second(s).unwrap();
    let mut all = vec![];
    for (queue, dues) in [
        (Queue::MeetingScheduler, [30, 10, 20]),
        (Queue::StatusUpdates, [7, 9, 8]),
        (Queue::WebhookDeliveries, [50, 40, 60]),
    ] {
        for (k, due) in dues.into_iter().enumerate() {
            all.push(NewJob {
                id: format!("{queue}.{k}"),
                queue,
                due: at(due),
                ..job("x", "g")
            });
        }
    }
    jobs::put_many(&mut tx, &all, Timestamp::UNIX_EPOCH)
        .await
        .unwrap();
    let mut heads = jobs::next_due_by_queue(&mut tx).await.unwrap();
    heads.sort();
    let want = |q: Queue, s: i64| (q, at(s));
    assert_eq!(
        heads,
        vec![
            want(Queue::MeetingScheduler, 10),
            want(Queue::StatusUpdates, 7),
            want(Queue::WebhookDeliveries, 40)
        ]
    );
    // A queue emptied drops out.
    for k in 0..3 {
        jobs::remove(&mut tx, &format!("{}.{k}", Queue::StatusUpdates))
            .await
            .unwrap();
    }
    let mut heads = jobs::next_due_by_queue(&mut tx).await.unwrap();
    heads.sort();
    assert_eq!(
        heads,
        vec![
            want(Queue::MeetingScheduler, 10),
            want(Queue::WebhookDeliveries, 40)
        ]
    );
}

zs_store::test_on_both_backends!(
    a_prefix_removal_takes_the_groups_jobs_with_that_prefix_only,
    each_queue_reports_its_earliest_due_job,
);
