//! Integration tests for the sender against real HTTP receivers on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::post;
use standardwebhooks::Webhook;
use zs_delivery::{Sender, SenderConfig, WebhookSecret, signed_headers};

/// One request as seen by the receiver.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A receiver that records every request it gets.
#[derive(Clone, Default)]
struct Receiver {
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.received().into_iter().map(|r| r.path).collect()
    }
}

async fn record(
    State(rx): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    rx.log.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    match uri.path() {
        "/fail" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::OK,
    }
}

async fn slow() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(3)).await;
    StatusCode::OK
}

async fn redirect(headers: HeaderMap) -> impl IntoResponse {
    let host = headers[header::HOST].to_str().unwrap().to_owned();
    (
        StatusCode::FOUND,
        [(header::LOCATION, format!("http://{host}/target"))],
    )
}

/// Starts a receiver on 127.0.0.1 with an OS-assigned port.
async fn start() -> (SocketAddr, Receiver) {
    let rx = Receiver::default();
    let app = Router::new()
        .route("/ok", post(record))
        .route("/fail", post(record))
        .route("/target", post(record))
        .route("/slow", post(slow))
        .route("/redirect", post(redirect))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, rx)
}

fn sender(allow_private: bool, timeout: Duration) -> Sender {
    Sender::new(SenderConfig {
        timeout,
        allow_private,
        ..SenderConfig::default()
    })
    .unwrap()
}

fn open_sender() -> Sender {
    sender(true, Duration::from_secs(5))
}

#[tokio::test]
async fn signed_delivery_is_received_and_verifies() {
    let (addr, rx) = start().await;
    let secret = WebhookSecret::generate();
    let body = br#"{"type":"booking.created","data":{"id":"bk_1"}}"#.to_vec();
    let ts = jiff::Timestamp::now().as_second();
    let mut headers: Vec<(&str, String)> =
        signed_headers(std::slice::from_ref(&secret), "msg_42", ts, &body);
    headers.push(("content-type", "text/plain".into()));

    let outcome = open_sender()
        .post(&format!("http://{addr}/ok"), &headers, body.clone())
        .await;
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.status, Some(200));
    assert_eq!(outcome.error, None);
    assert!(!outcome.permanent);

    let got = rx.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.body.as_ref(), body.as_slice());
    let content_types: Vec<_> = req.headers.get_all(header::CONTENT_TYPE).iter().collect();
    assert_eq!(content_types, ["application/json"]);
    assert_eq!(req.headers[header::USER_AGENT], "zs-scheduler/0.1");
    assert_eq!(req.headers["webhook-id"], "msg_42");
    let oracle = Webhook::new(&secret.as_str()).unwrap();
    oracle
        .verify(&req.body, &req.headers)
        .expect("signature verifies");
    let other = Webhook::new(&WebhookSecret::generate().as_str()).unwrap();
    assert!(other.verify(&req.body, &req.headers).is_err());
}

#[tokio::test]
async fn server_error_is_a_retryable_failure_with_status() {
    let (addr, rx) = start().await;
    let outcome = open_sender()
        .post(&format!("http://{addr}/fail"), &[], b"{}".to_vec())
        .await;
    assert!(!outcome.success);
    assert_eq!(outcome.status, Some(500));
    assert!(
        outcome.error.as_deref().unwrap().contains("500"),
        "{outcome:?}"
    );
    assert!(!outcome.permanent);
    assert_eq!(rx.paths(), ["/fail"]);
}

#[tokio::test]
async fn slow_receiver_hits_the_attempt_timeout() {
    let (addr, _rx) = start().await;
    let s = sender(true, Duration::from_millis(300));
    let outcome = s
        .post(&format!("http://{addr}/slow"), &[], b"{}".to_vec())
        .await;
    assert!(!outcome.success);
    assert_eq!(outcome.status, None);
    assert!(
        outcome.error.as_deref().unwrap().contains("timeout"),
        "{outcome:?}"
    );
    assert!(!outcome.permanent);
    assert!((250..2_000).contains(&outcome.duration_ms), "{outcome:?}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (addr, rx) = start().await;
    let outcome = open_sender()
        .post(&format!("http://{addr}/redirect"), &[], b"{}".to_vec())
        .await;
    assert!(!outcome.success);
    assert_eq!(outcome.status, Some(302));
    assert_eq!(outcome.error.as_deref(), Some("redirect not followed"));
    assert!(
        rx.paths().is_empty(),
        "redirect target must receive nothing"
    );
}

#[tokio::test]
async fn loopback_literal_refused_unless_private_allowed() {
    let (addr, rx) = start().await;
    let url = format!("http://{addr}/ok");
    let refused = sender(false, Duration::from_secs(5))
        .post(&url, &[], b"{}".to_vec())
        .await;
    assert!(!refused.success);
    assert!(refused.permanent, "{refused:?}");
    assert_eq!(refused.status, None);
    assert!(
        refused.error.as_deref().unwrap().contains("forbidden"),
        "{refused:?}"
    );
    assert!(rx.paths().is_empty());

    let accepted = open_sender().post(&url, &[], b"{}".to_vec()).await;
    assert!(accepted.success, "{accepted:?}");
    assert_eq!(rx.paths(), ["/ok"]);
}

#[tokio::test]
async fn localhost_name_refused_by_the_resolver() {
    let (addr, rx) = start().await;
    let url = format!("http://localhost:{}/ok", addr.port());
    let refused = sender(false, Duration::from_secs(5))
        .post(&url, &[], b"{}".to_vec())
        .await;
    assert!(!refused.success);
    assert!(refused.permanent, "{refused:?}");
    assert!(
        refused.error.as_deref().unwrap().contains("non-public"),
        "{refused:?}"
    );
    assert!(rx.paths().is_empty());

    let accepted = open_sender().post(&url, &[], b"{}".to_vec()).await;
    assert!(accepted.success, "{accepted:?}");
    assert_eq!(rx.paths(), ["/ok"]);
}

#[tokio::test]
async fn invalid_targets_are_permanent_failures() {
    let s = sender(false, Duration::from_secs(5));
    for url in [
        "not a url",
        "ftp://example.com/",
        "https://user:pw@example.com/",
    ] {
        let outcome = s.post(url, &[], b"{}".to_vec()).await;
        assert!(!outcome.success && outcome.permanent, "{url}: {outcome:?}");
        assert!(
            !outcome.error.as_deref().unwrap().contains("pw@"),
            "{outcome:?}"
        );
    }
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let outcome = open_sender()
        .post(&format!("http://{addr}/ok"), &[], b"{}".to_vec())
        .await;
    assert!(!outcome.success);
    assert!(!outcome.permanent, "{outcome:?}");
    let error = outcome.error.unwrap();
    assert!(error.starts_with("connection failed"), "{error}");
    assert!(!error.contains("http://"), "no URL in errors: {error}");
}

#[test]
fn zero_timeout_is_rejected() {
    let cfg = SenderConfig {
        timeout: Duration::ZERO,
        ..SenderConfig::default()
    };
    assert!(Sender::new(cfg).is_err());
}
