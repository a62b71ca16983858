//! A delivery read with its endpoint for sending, on both backends.

use jiff::Timestamp;
use zs_store::deliveries::{self, Delivery, Endpoint};
use zs_store::{Backend, testing};

/// What a send reads in one query is what the two separate reads give: the delivery and its
/// endpoint; the delivery alone once the endpoint is deleted; nothing for an unknown id.
async fn a_delivery_is_read_with_its_endpoint_in_one_query(db: Backend) {
    let store = testing::fresh(db, "delivery-endpoint").await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let endpoint = Endpoint {
        id: "ep_1".into(),
        url: "https://hooks.example.com/in".into(),
        events: vec!["booking.start".into(), "space.updated".into()],
        secret: "whsec_dGVzdA==".into(),
        created_at: at,
    };
    deliveries::insert_endpoint(&mut tx, &endpoint)
        .await
        .unwrap();
    let delivery = Delivery::pending(
        "msg_1".into(),
        "ep_1".into(),
        "booking.start".into(),
        r#"{"type":"booking.start"}"#.into(),
        at,
    );
    deliveries::insert_many(&mut tx, std::slice::from_ref(&delivery))
        .await
        .unwrap();

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
    assert_eq!(stored.status, "failed");
    assert_eq!(orphan, Some((stored, None)));

    let unknown = deliveries::get_with_endpoint(&mut tx, "msg_2")
        .await
        .unwrap();
    assert_eq!(unknown, None);
}

zs_store::test_on_both_backends!(a_delivery_is_read_with_its_endpoint_in_one_query);
