//! A delivery read with its endpoint for sending, and an attempt settled, on both backends.

use jiff::{SignedDuration, Timestamp};
use zs_store::deliveries::{self, Attempt, Delivery, Endpoint, JobAfterAttempt};
use zs_store::jobs::{self, NewJob};
use zs_store::{Backend, Conn, testing};
use zs_store::{DeliveryStatus, Queue};

/// The endpoint `ep_1` and a pending delivery `id` for it, created at `at`.
async fn endpoint_and_delivery(tx: &mut Conn, id: &str, at: Timestamp) -> (Endpoint, Delivery) {
    let endpoint = Endpoint {
        id: "ep_1".into(),
        url: "https://hooks.example.com/in".into(),
        events: vec!["booking.start".into(), "space.updated".into()],
        secret: "v1:c2VhbGVk".into(),
        previous_secret: Some("v1:b2xk".into()),
        previous_until: Some(at + SignedDuration::from_hours(24)),
        created_at: at,
    };
    if deliveries::endpoint(tx, "ep_1").await.unwrap().is_none() {
        deliveries::insert_endpoint(tx, &endpoint).await.unwrap();
    }
    let delivery = Delivery::pending(
        id.into(),
        "ep_1".into(),
        "booking.start".into(),
        r#"{"type":"booking.start"}"#.into(),
        at,
    );
    deliveries::insert_many(tx, std::slice::from_ref(&delivery))
        .await
        .unwrap();
    (endpoint, delivery)
}

/// What a send reads in one query is what the two separate reads give: the delivery and its
/// endpoint; the delivery alone once the endpoint is deleted; nothing for an unknown id.
async fn a_delivery_is_read_with_its_endpoint_in_one_query(db: Backend) {
    let store = testing::fresh(db, "delivery-endpoint").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let (endpoint, delivery) = endpoint_and_delivery(&mut tx, "msg_1", at).await;

    let both = deliveries::get_with_endpoint(&mut tx, "msg_1")
        .await
        .unwrap();
    let stored = deliveries::get(&mut tx, "msg_1").await.unwrap().unwrap();
    assert_eq!(stored, delivery);
    assert_eq!(both, Some((stored, Some(endpoint))));

    // Deleting the endpoint dead-letters its pending deliveries; the row stays.
    assert!(deliveries::delete_endpoint(&mut tx, "ep_1").await.unwrap());
    let orphan = deliveries::get_with_endpoint(&mut tx, "msg_1")
        .await
        .unwrap();
    let stored = deliveries::get(&mut tx, "msg_1").await.unwrap().unwrap();
    assert_eq!(stored.status, DeliveryStatus::Failed);
    assert_eq!(orphan, Some((stored, None)));

    let unknown = deliveries::get_with_endpoint(&mut tx, "msg_2")
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

/// A delivery's status, attempts, next attempt, last HTTP status and last error.
fn outcome(d: &Delivery) -> (&str, i64, Option<Timestamp>, Option<i64>, Option<&str>) {
    (
        d.status.as_str(),
        d.attempts,
        d.next_attempt_at,
        d.last_status,
        d.last_error.as_deref(),
    )
}

/// A failed attempt is logged, leaves the delivery pending until its retry and moves its
/// job there; a later successful one is logged after it, marks the delivery delivered and
/// removes the job. Another delivery and its job are left alone.
async fn an_attempt_is_logged_and_settles_its_delivery_and_job(db: Backend) {
    let store = testing::fresh(db, "settle-attempt").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    for id in ["msg_1", "msg_2"] {
        endpoint_and_delivery(&mut tx, id, at).await;
        let job = NewJob {
            id: id.into(),
            queue: Queue::WebhookDeliveries,
            name: "deliver".into(),
            data: serde_json::json!({ "deliveryId": id }),
            due: at,
            rank: 0,
            group: None,
        };
        jobs::put(&mut tx, &job, at).await.unwrap();
    }
    let untouched = |jobs: &[jobs::Job]| jobs.iter().find(|j| j.id == "msg_2").cloned();
    let other_job = untouched(
        &jobs::list(&mut tx, Queue::WebhookDeliveries, 10)
            .await
            .unwrap(),
    );
    let other_delivery = deliveries::get(&mut tx, "msg_2").await.unwrap();

    let failed = Attempt {
        attempt: 1,
        at: at + SignedDuration::from_secs(1),
        status_code: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 12,
        success: false,
    };
    let retry_at = at + SignedDuration::from_secs(61);
    let then = JobAfterAttempt::RetryAt(retry_at, "HTTP 500");
    deliveries::settle_attempt(
        &mut tx,
        "msg_1",
        &failed,
        DeliveryStatus::Pending,
        "msg_1",
        then,
    )
    .await
    .unwrap();
    let d = deliveries::get(&mut tx, "msg_1").await.unwrap().unwrap();
    assert_eq!(
        outcome(&d),
        ("pending", 1, Some(retry_at), Some(500), Some("HTTP 500"))
    );
    let pending = jobs::list(&mut tx, Queue::WebhookDeliveries, 10)
        .await
        .unwrap();
    let job = pending.iter().find(|j| j.id == "msg_1").unwrap();
    assert_eq!(
        (job.due, job.attempts_made, job.last_error.as_deref()),
        (retry_at, 1, Some("HTTP 500"))
    );
    assert_eq!(
        deliveries::attempts(&mut tx, "msg_1").await.unwrap(),
        vec![failed.clone()]
    );

    let delivered = Attempt {
        attempt: 2,
        at: retry_at,
        status_code: Some(204),
        error: None,
        duration_ms: 7,
        success: true,
    };
    deliveries::settle_attempt(
        &mut tx,
        "msg_1",
        &delivered,
        DeliveryStatus::Delivered,
        "msg_1",
        JobAfterAttempt::Remove,
    )
    .await
    .unwrap();
    let d = deliveries::get(&mut tx, "msg_1").await.unwrap().unwrap();
    assert_eq!(outcome(&d), ("delivered", 2, None, Some(204), None));
    assert_eq!(
        testing::job_ids(&mut tx, Queue::WebhookDeliveries)
            .await
            .unwrap(),
        vec!["msg_2"]
    );
    assert_eq!(
        deliveries::attempts(&mut tx, "msg_1").await.unwrap(),
        vec![failed, delivered]
    );

    let pending = jobs::list(&mut tx, Queue::WebhookDeliveries, 10)
        .await
        .unwrap();
    assert_eq!(untouched(&pending), other_job);
    assert!(other_job.is_some());
    assert_eq!(
        deliveries::get(&mut tx, "msg_2").await.unwrap(),
        other_delivery
    );
    assert!(
        deliveries::attempts(&mut tx, "msg_2")
            .await
            .unwrap()
            .is_empty()
    );
}

/// Settles `id` with one attempt at `at`: delivered, failed for good, or failed with a
/// retry an hour later (still pending).
async fn attempt(tx: &mut Conn, id: &str, at: Timestamp, status: DeliveryStatus) {
    let a = Attempt {
        attempt: 1,
        at,
        status_code: Some(if status == DeliveryStatus::Delivered {
            204
        } else {
            500
        }),
        error: None,
        duration_ms: 3,
        success: status == DeliveryStatus::Delivered,
    };
    let retry = at + SignedDuration::from_hours(1);
    let job = match status {
        DeliveryStatus::Pending => JobAfterAttempt::RetryAt(retry, "HTTP 500"),
        _ => JobAfterAttempt::Remove,
    };
    deliveries::settle_attempt(tx, id, &a, status, id, job)
        .await
        .unwrap();
}

/// How many attempts of `id` are logged.
async fn logged(tx: &mut Conn, id: &str) -> usize {
    deliveries::attempts(tx, id).await.unwrap().len()
}

/// Retention deletes settled deliveries (delivered and failed) whose last change is before
/// the cut-off, oldest first and at most `limit` a call, with their attempt logs; a pending
/// delivery stays however old, and so does one replayed (pending again).
async fn settled_deliveries_are_pruned_oldest_first_with_their_attempts(db: Backend) {
    let store = testing::fresh(db, "prune-settled").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let t0 = Timestamp::from_second(1_800_000_000).unwrap();
    let secs = |s: i64| t0 + SignedDuration::from_secs(s);
    let plan = [
        ("msg_a", 3, DeliveryStatus::Delivered),
        ("msg_b", 1, DeliveryStatus::Delivered),
        ("msg_c", 2, DeliveryStatus::Failed),
        ("msg_d", 1, DeliveryStatus::Pending),
        ("msg_e", 10, DeliveryStatus::Delivered),
        ("msg_f", 4, DeliveryStatus::Failed),
    ];
    for (id, at, status) in plan {
        endpoint_and_delivery(&mut tx, id, t0).await;
        attempt(&mut tx, id, secs(at), status).await;
    }
    // msg_f is replayed: pending again, its log kept.
    deliveries::reopen(&mut tx, "msg_f", secs(5)).await.unwrap();

    let mut first = deliveries::prune_settled(&mut tx, secs(5), 2)
        .await
        .unwrap();
    first.sort();
    assert_eq!(first, ["msg_b", "msg_c"], "the oldest two settled");
    let rest = deliveries::prune_settled(&mut tx, secs(5), 10)
        .await
        .unwrap();
    assert_eq!(rest, ["msg_a"]);
    assert!(
        deliveries::prune_settled(&mut tx, secs(5), 10)
            .await
            .unwrap()
            .is_empty()
    );
    for id in ["msg_a", "msg_b", "msg_c"] {
        assert_eq!(deliveries::get(&mut tx, id).await.unwrap(), None, "{id}");
        assert_eq!(logged(&mut tx, id).await, 0, "{id}'s attempts");
    }
    for id in ["msg_d", "msg_e", "msg_f"] {
        assert!(
            deliveries::get(&mut tx, id).await.unwrap().is_some(),
            "{id}"
        );
        assert_eq!(logged(&mut tx, id).await, 1, "{id}'s attempts");
    }
    // Later, the newer settled one goes too; the pending ones never do.
    let later = deliveries::prune_settled(&mut tx, secs(86_400), 10)
        .await
        .unwrap();
    assert_eq!(later, ["msg_e"]);
    let left: Vec<String> = deliveries::for_endpoint(&mut tx, "ep_1", 10)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&"msg_d".to_owned()) && left.contains(&"msg_f".to_owned()));
    tx.commit().await.unwrap();
}

zs_store::test_on_both_backends!(
    a_delivery_is_read_with_its_endpoint_in_one_query,
    an_attempt_is_logged_and_settles_its_delivery_and_job,
    settled_deliveries_are_pruned_oldest_first_with_their_attempts
);
