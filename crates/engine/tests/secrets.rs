//! Webhook signing secrets at rest, on both backends: stored sealed (never the `whsec_`
//! text), a plaintext secret of an older version sealed at start, a wrong key refused, and
//! a rotation whose previous secret also signs real deliveries to a receiver on 127.0.0.1
//! for 24 hours of the engine's clock, and not after.

use axum::http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex};
use zs_core::calendar::Zone;
use zs_core::{BookingId, ManualClock, NewBooking, Space, SpaceId, SpaceSettings};
use zs_delivery::{SecretKey, WebhookSecret};
use zs_engine::Engine;
use zs_engine::secrets::PrepareError;
use zs_engine::testing::TestEngine;
use zs_store::Queue;
use zs_store::deliveries::{self, Endpoint};
use zs_store::{Backend, Store};

/// An engine on `store` and `clock` sealing secrets with `key`, delivering to 127.0.0.1.
async fn engine_with(store: Store, clock: &ManualClock, key: SecretKey) -> Arc<Engine> {
    let test = TestEngine::over(store).clock(clock).allow_private();
    test.secret_key(key).build().await.0
}

/// What a receiver got: the headers and the body of each POST.
type Got = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A webhook receiver on 127.0.0.1 answering 200 to everything; returns its URL.
async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: axum::body::Bytes| {
        let keep = keep.clone();
        async move {
            keep.lock().unwrap().push((headers, body.to_vec()));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn verifies(secret: &WebhookSecret, (headers, body): &(HeaderMap, Vec<u8>)) -> bool {
    standardwebhooks::Webhook::new(&secret.as_str())
        .unwrap()
        .verify(body, headers)
        .is_ok()
}

fn signatures(r: &(HeaderMap, Vec<u8>)) -> usize {
    r.0["webhook-signature"]
        .to_str()
        .unwrap()
        .split(' ')
        .count()
}

fn now(clock: &ManualClock) -> Timestamp {
    zs_core::Clock::now(clock)
}

/// Books `id` in space `s` (made on first use) an hour ahead: a `booking.created` webhook.
async fn book(e: &Engine, clock: &ManualClock, id: &str) {
    let s = SpaceId::parse("s").unwrap();
    let space = Space {
        id: s.clone(),
        name: "s".into(),
        settings: SpaceSettings::defaults(Zone::parse("UTC").unwrap()),
        maintenance: false,
    };
    let _ = e.create_space(space).await;
    let start = now(clock) + SignedDuration::from_hours(1);
    let n = NewBooking {
        id: BookingId::parse(id).unwrap(),
        title: "t".into(),
        start,
        end: start + SignedDuration::from_mins(30),
    };
    e.create_booking(&s, n, None).await.unwrap();
}

/// Sends every due delivery; returns what the receiver got meanwhile.
async fn deliver(e: &Arc<Engine>, got: &Got) -> Vec<(HeaderMap, Vec<u8>)> {
    while e.run_outbox_once(Queue::WebhookDeliveries).await.unwrap() > 0 {}
    std::mem::take(&mut *got.lock().unwrap())
}

async fn stored(e: &Engine, id: &str) -> Endpoint {
    let mut c = e.store.read().await.unwrap();
    deliveries::endpoint(&mut c, id).await.unwrap().unwrap()
}

async fn a_secret_is_stored_sealed_and_signs_after_a_restart(db: Backend) {
    let store = zs_store::testing::fresh(db, "sealed").await.unwrap();
    let clock = ManualClock::new("2030-01-07T09:00:00Z".parse().unwrap());
    let key = SecretKey::generate();
    let e = engine_with(store.clone(), &clock, key.clone()).await;
    assert!(e.prepare_secrets().await.unwrap().first_key);
    let (url, got) = receiver().await;
    let (ep, secret) = e.create_endpoint(url, vec![]).await.unwrap();
    let row = stored(&e, &ep.id).await;
    assert!(row.secret.starts_with("v1:"), "stored: {}", row.secret);
    assert!(!row.secret.contains(&secret.as_str()[6..]));
    // The same key after a restart opens it; deliveries verify with the secret shown once.
    let e = engine_with(store.clone(), &clock, key).await;
    assert_eq!(e.prepare_secrets().await.unwrap().sealed, 0);
    book(&e, &clock, "b1").await;
    let got = deliver(&e, &got).await;
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|r| verifies(&secret, r) && signatures(r) == 1)
    );
    // Another key is refused before anything is signed.
    let other = engine_with(store, &clock, SecretKey::generate()).await;
    assert!(matches!(
        other.prepare_secrets().await,
        Err(PrepareError::WrongKey)
    ));
}

async fn a_plaintext_secret_of_an_older_version_is_sealed_at_start(db: Backend) {
    let store = zs_store::testing::fresh(db, "upgrade").await.unwrap();
    let clock = ManualClock::new("2030-01-07T09:00:00Z".parse().unwrap());
    let (url, got) = receiver().await;
    // As a version before sealing wrote it: the `whsec_` text itself, no key check value.
    let secret = WebhookSecret::generate();
    let old = Endpoint {
        id: "ep_old".into(),
        url,
        events: vec![],
        secret: secret.as_str(),
        previous_secret: None,
        previous_until: None,
        created_at: now(&clock),
    };
    let mut tx = store.begin().await.unwrap();
    deliveries::insert_endpoint(&mut tx, &old).await.unwrap();
    tx.commit().await.unwrap();

    let key = SecretKey::generate();
    let e = engine_with(store.clone(), &clock, key.clone()).await;
    let prepared = e.prepare_secrets().await.unwrap();
    assert_eq!((prepared.first_key, prepared.sealed), (true, 1));
    let row = stored(&e, "ep_old").await;
    assert!(row.secret.starts_with("v1:"), "stored: {}", row.secret);
    assert!(!row.secret.contains(&secret.as_str()[6..]));
    // Idempotent: a second start seals nothing more and changes nothing.
    let again = engine_with(store, &clock, key).await;
    let prepared = again.prepare_secrets().await.unwrap();
    assert_eq!((prepared.first_key, prepared.sealed), (false, 0));
    assert_eq!(stored(&again, "ep_old").await.secret, row.secret);
    // The subscriber's secret is unchanged: deliveries still verify with it.
    book(&again, &clock, "b1").await;
    let got = deliver(&again, &got).await;
    assert!(!got.is_empty());
    assert!(got.iter().all(|r| verifies(&secret, r)));
}

async fn the_previous_secret_signs_for_24_hours_after_a_rotation(db: Backend) {
    let store = zs_store::testing::fresh(db, "rotate").await.unwrap();
    let clock = ManualClock::new("2030-01-07T09:00:00Z".parse().unwrap());
    let e = engine_with(store, &clock, SecretKey::generate()).await;
    e.prepare_secrets().await.unwrap();
    let (url, got) = receiver().await;
    let (ep, first) = e.create_endpoint(url, vec![]).await.unwrap();
    let rotated = e.rotate_endpoint_secret(&ep.id).await.unwrap();
    let second = rotated.secret;
    assert_ne!(second.as_str(), first.as_str());
    let row = stored(&e, &ep.id).await;
    assert!(row.previous_secret.as_deref().unwrap().starts_with("v1:"));
    assert_eq!(
        row.previous_until,
        Some(now(&clock) + SignedDuration::from_hours(24))
    );

    // During the overlap: two signatures, each secret verifies on its own.
    clock.advance(SignedDuration::from_hours(23));
    book(&e, &clock, "b1").await;
    let during = deliver(&e, &got).await;
    assert!(!during.is_empty());
    for r in &during {
        assert_eq!(signatures(r), 2);
        assert!(verifies(&second, r), "the new secret verifies");
        assert!(verifies(&first, r), "the previous secret verifies");
    }
    // After it: the new secret only.
    clock.advance(SignedDuration::from_hours(1));
    book(&e, &clock, "b2").await;
    let after = deliver(&e, &got).await;
    assert!(!after.is_empty());
    for r in &after {
        assert_eq!(signatures(r), 1);
        assert!(verifies(&second, r));
        assert!(!verifies(&first, r), "the previous secret no longer signs");
    }

    // Rotating twice within the overlap keeps only the secret being replaced.
    clock.advance(SignedDuration::from_hours(2));
    let third = e.rotate_endpoint_secret(&ep.id).await.unwrap().secret;
    let fourth = e.rotate_endpoint_secret(&ep.id).await.unwrap().secret;
    book(&e, &clock, "b3").await;
    let twice = deliver(&e, &got).await;
    assert!(!twice.is_empty());
    for r in &twice {
        assert_eq!(signatures(r), 2);
        assert!(verifies(&fourth, r) && verifies(&third, r));
        assert!(!verifies(&second, r));
    }
    assert!(matches!(
        e.rotate_endpoint_secret("ep_nope").await,
        Err(zs_engine::EngineError::NotFound(_))
    ));
}

zs_store::test_on_both_backends!(
    a_secret_is_stored_sealed_and_signs_after_a_restart,
    a_plaintext_secret_of_an_older_version_is_sealed_at_start,
    the_previous_secret_signs_for_24_hours_after_a_rotation
);
