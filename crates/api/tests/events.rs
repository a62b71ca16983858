//! `/v1/events` from the stored event log: a client that reconnects with `Last-Event-ID`
//! gets exactly what it missed, in order, then the live events; the `spaceId` filter; the
//! refusals and the `reset` signal; `eventBookingId` in the stream, status posts, the
//! state-change webhooks and history; two instances on one PostgreSQL schema.

mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{ADMIN, App};
use tower::ServiceExt;
use zs_engine::testing::TestEngine;
use zs_store::{Backend, Store};

/// An instance: the app on `engine`, which may deliver to 127.0.0.1.
async fn node(engine: TestEngine) -> App {
    App::new(engine.allow_private()).await
}

impl App {
    async fn space(&self, id: &str) {
        let s = json!({"id": id, "name": id, "timezone": "UTC"});
        self.ok(Method::POST, "/v1/spaces", Some(s)).await;
    }

    async fn toggle(&self, id: &str, on: bool) {
        let what = if on { "enable" } else { "disable" };
        self.ok(Method::POST, &format!("/v1/spaces/{id}/{what}"), None)
            .await;
    }

    /// Opens `/v1/events{query}`, with `Last-Event-ID: last` when given.
    async fn events(&self, query: &str, last: Option<&str>) -> Result<Sse, (StatusCode, Value)> {
        let mut req = Request::get(format!("/v1/events{query}"))
            .header("authorization", format!("Bearer {ADMIN}"));
        if let Some(l) = last {
            req = req.header("last-event-id", l);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        if resp.status() != StatusCode::OK {
            let s = resp.status();
            let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                .await
                .unwrap();
            return Err((s, serde_json::from_slice(&bytes).unwrap_or(Value::Null)));
        }
        Ok(Sse {
            body: Box::pin(resp.into_body().into_data_stream()),
            text: String::new(),
        })
    }
}

/// One server-sent event: its `event:` (empty for an id-only event), `id:` and data.
#[derive(Debug, Clone)]
struct Ev {
    kind: String,
    id: String,
    data: Value,
}

struct Sse {
    body: std::pin::Pin<
        Box<dyn futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Send>,
    >,
    text: String,
}

impl Sse {
    /// The next event with data or an id (comments skipped), or `None` if none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Ev> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.text.find("\n\n") {
                let frame: String = self.text.drain(..end + 2).collect();
                let mut ev = Ev {
                    kind: String::new(),
                    id: String::new(),
                    data: Value::Null,
                };
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        ev.kind = v.into();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = v.into();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data = serde_json::from_str(v).unwrap();
                    }
                }
                if !ev.id.is_empty() || !ev.kind.is_empty() {
                    return Some(ev);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.text
                .push_str(std::str::from_utf8(&chunk.unwrap()).unwrap());
        }
    }

    /// The next `transition` event (id-only events passed over), within 5 s.
    async fn transition(&mut self) -> Ev {
        loop {
            let ev = self
                .next(Duration::from_secs(5))
                .await
                .expect("a transition within 5 s");
            if ev.kind == "transition" {
                return ev;
            }
            assert_eq!(ev.kind, "", "unexpected event {ev:?}");
        }
    }

    /// Asserts that no transition comes within `wait`.
    async fn quiet(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        while let Some(ev) = self.next(deadline - tokio::time::Instant::now()).await {
            assert_ne!(ev.kind, "transition", "nothing more was expected: {ev:?}");
        }
    }
}

fn what(ev: &Ev) -> (String, String) {
    (
        ev.data["spaceId"].as_str().unwrap().to_owned(),
        ev.data["event"].as_str().unwrap().to_owned(),
    )
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn fresh(db: Backend) -> App {
    node(TestEngine::on(db).label("events")).await
}

/// Connect, see an event, disconnect; three transitions happen meanwhile; reconnecting with
/// the last id seen gives exactly those three, in commit order, then live ones, and no
/// duplicate. `lastEventId` in the query works the same.
async fn a_reconnecting_client_gets_exactly_what_it_missed_then_live(db: Backend) {
    let n = fresh(db).await;
    n.space("a").await;
    n.space("b").await;
    let mut sse = n.events("", None).await.unwrap();
    n.toggle("a", false).await;
    let seen = sse.transition().await;
    assert_eq!(what(&seen), ("a".into(), "ADMIN_DISABLE".into()));
    drop(sse);

    n.toggle("a", true).await;
    n.toggle("b", false).await;
    n.toggle("b", true).await;

    let mut sse = n.events("", Some(&seen.id)).await.unwrap();
    let mut got = vec![];
    let mut ids = vec![seen.id.clone()];
    for _ in 0..3 {
        let ev = sse.transition().await;
        ids.push(ev.id.clone());
        got.push(what(&ev));
    }
    assert_eq!(
        got,
        pairs(&[
            ("a", "ADMIN_ENABLE"),
            ("b", "ADMIN_DISABLE"),
            ("b", "ADMIN_ENABLE")
        ])
    );
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "every event has its own id: {ids:?}");
    sse.quiet(Duration::from_millis(600)).await;
    n.toggle("a", false).await;
    let live = sse.transition().await;
    assert_eq!(what(&live), ("a".into(), "ADMIN_DISABLE".into()));
    drop(sse);

    // The query parameter, for clients that cannot set the header: nothing missed, then live.
    let mut sse = n
        .events(&format!("?lastEventId={}", live.id), None)
        .await
        .unwrap();
    sse.quiet(Duration::from_millis(600)).await;
    n.toggle("a", true).await;
    assert_eq!(
        what(&sse.transition().await),
        ("a".into(), "ADMIN_ENABLE".into())
    );
}

/// `spaceId` (repeated or comma separated) keeps other spaces out, replay included; other
/// spaces' transitions still move the client's id on (id-only events); an unknown space is
/// a 404, an id this stream never issues a 400, a well-formed id the log does not hold an
/// `event: reset` followed by live events.
async fn the_stream_filters_by_space_and_says_when_it_cannot_resume(db: Backend) {
    let n = fresh(db).await;
    for s in ["a", "b", "c"] {
        n.space(s).await;
    }
    n.toggle("a", false).await;
    n.toggle("b", false).await;
    n.toggle("c", false).await;
    n.toggle("a", true).await;

    let mut only_b = n.events("?spaceId=b", Some("0-0")).await.unwrap();
    assert_eq!(
        what(&only_b.transition().await),
        ("b".into(), "ADMIN_DISABLE".into())
    );
    // What follows b's transition (c, a) is not shown, but the id moves past it.
    let moved = only_b.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (moved.kind.as_str(), &moved.data),
        ("", &Value::Null),
        "{moved:?}"
    );
    only_b.quiet(Duration::from_millis(400)).await;
    let mut resumed = n.events("?spaceId=b", Some(&moved.id)).await.unwrap();
    resumed.quiet(Duration::from_millis(400)).await;

    let mut a_and_c = n.events("?spaceId=a,c", Some("0-0")).await.unwrap();
    let mut repeated = n.events("?spaceId=c&spaceId=a", Some("0-0")).await.unwrap();
    for sse in [&mut a_and_c, &mut repeated] {
        let mut got = vec![];
        for _ in 0..3 {
            got.push(what(&sse.transition().await));
        }
        assert_eq!(
            got,
            pairs(&[
                ("a", "ADMIN_DISABLE"),
                ("c", "ADMIN_DISABLE"),
                ("a", "ADMIN_ENABLE")
            ])
        );
    }
    n.toggle("b", true).await;
    n.toggle("c", true).await;
    assert_eq!(
        what(&only_b.transition().await),
        ("b".into(), "ADMIN_ENABLE".into())
    );
    assert_eq!(
        what(&resumed.transition().await),
        ("b".into(), "ADMIN_ENABLE".into())
    );
    assert_eq!(
        what(&a_and_c.transition().await),
        ("c".into(), "ADMIN_ENABLE".into())
    );
    only_b.quiet(Duration::from_millis(400)).await;

    let (s, v) = n
        .events("?spaceId=b,nope", None)
        .await
        .err()
        .expect("a refusal");
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (404, Some("not_found")),
        "{v}"
    );
    for bad in ["b.3", "abc", "1-2-3"] {
        let (s, v) = n.events("", Some(bad)).await.err().expect("a refusal");
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (400, Some("invalid_last_event_id")),
            "{bad}: {v}"
        );
    }
    let (s, v) = n
        .events("?lastEventId=x", None)
        .await
        .err()
        .expect("a refusal");
    assert_eq!(
        (s.as_u16(), v["error"]["code"].as_str()),
        (400, Some("invalid_last_event_id")),
        "{v}"
    );

    let mut reset = n.events("", Some("0-999999")).await.unwrap();
    let first = reset.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(first.kind, "reset", "{first:?}");
    assert_eq!(first.data, json!({"reason": "unknown_cursor"}));
    reset.quiet(Duration::from_millis(400)).await;
    n.toggle("a", false).await;
    assert_eq!(
        what(&reset.transition().await),
        ("a".into(), "ADMIN_DISABLE".into())
    );

    // Older than the 24 h window: reset too.
    let mut last = n.events("", Some(&first.id)).await.unwrap();
    let last_id = last.transition().await.id;
    n.clock.advance(jiff::SignedDuration::from_hours(25));
    let mut old = n.events("", Some(&last_id)).await.unwrap();
    let ev = old.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        (ev.kind.as_str(), &ev.data),
        ("reset", &json!({"reason": "expired"}))
    );
}

/// A receiver on 127.0.0.1 that keeps (path, body) of every POST.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let g = got.clone();
    let router =
        axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                g.lock().unwrap().push((uri.path().to_owned(), body));
                StatusCode::OK
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, got)
}

/// `eventBookingId` is the booking whose event caused a transition (null for an admin
/// event), beside `bookingId`, in the stream, status posts, the state-change webhooks and
/// the history.
async fn every_transition_names_the_booking_whose_event_caused_it(db: Backend) {
    let (base, got) = receiver().await;
    let status_url = format!("{base}/status");
    let n = node(
        TestEngine::on(db)
            .label("events_ebid")
            .status_url(status_url),
    )
    .await;
    let hook = json!({"url": format!("{base}/hook"), "events": ["space.state_changed", "room.state_changed"]});
    n.ok(Method::POST, "/v1/webhooks", Some(hook)).await;
    n.space("a").await;
    let mut sse = n.events("?spaceId=a", None).await.unwrap();
    // Inside the upcoming lead: the room changes too (`room.state_changed`).
    let start = n.clock_at(5);
    let end = n.clock_at(35);
    let b = json!({"id": "bk1", "spaceId": "a", "start": start, "end": end});
    n.ok(Method::POST, "/v1/bookings", Some(b)).await;
    n.toggle("a", false).await;

    let created = sse.transition().await;
    assert_eq!(created.data["event"], "BOOKING_CREATED", "{created:?}");
    assert_eq!(created.data["eventBookingId"], "bk1", "{created:?}");
    let disabled = sse.transition().await;
    assert_eq!(disabled.data["event"], "ADMIN_DISABLE", "{disabled:?}");
    assert_eq!(
        disabled.data.get("eventBookingId"),
        Some(&Value::Null),
        "{disabled:?}"
    );

    let h = n.ok(Method::GET, "/v1/spaces/a/history", None).await;
    let by_event = |e: &str| {
        h["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["event"] == e)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_event("BOOKING_CREATED")["eventBookingId"], "bk1", "{h}");
    assert_eq!(
        by_event("ADMIN_DISABLE").get("eventBookingId"),
        Some(&Value::Null),
        "{h}"
    );

    for q in [
        zs_store::Queue::StatusUpdates,
        zs_store::Queue::WebhookDeliveries,
    ] {
        while n.engine.run_outbox_once(q).await.unwrap() > 0 {}
    }
    let got = got.lock().unwrap().clone();
    let status: Vec<&Value> = got
        .iter()
        .filter(|(p, _)| p == "/status")
        .map(|(_, b)| b)
        .collect();
    let post = |e: &str| {
        *status
            .iter()
            .find(|b| b["event"] == e)
            .unwrap_or_else(|| panic!("a status post for {e}: {got:?}"))
    };
    assert_eq!(post("BOOKING_CREATED")["eventBookingId"], "bk1");
    assert_eq!(
        post("ADMIN_DISABLE").get("eventBookingId"),
        Some(&Value::Null)
    );
    let hooks: Vec<&Value> = got
        .iter()
        .filter(|(p, _)| p == "/hook")
        .map(|(_, b)| b)
        .collect();
    let types = |e: &str| -> Vec<String> {
        let mut t: Vec<String> = hooks
            .iter()
            .filter(|h| h["data"]["event"] == e)
            .map(|h| h["type"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        types("BOOKING_CREATED"),
        ["room.state_changed", "space.state_changed"],
        "{got:?}"
    );
    assert_eq!(types("ADMIN_DISABLE"), ["space.state_changed"], "{got:?}");
    for h in &hooks {
        let want = if h["data"]["event"] == "BOOKING_CREATED" {
            json!("bk1")
        } else {
            Value::Null
        };
        assert_eq!(h["data"].get("eventBookingId"), Some(&want), "{h}");
    }
}

impl App {
    fn clock_at(&self, mins: i64) -> String {
        (zs_core::Clock::now(&self.clock) + jiff::SignedDuration::from_mins(mins)).to_string()
    }
}

zs_store::test_on_both_backends!(
    a_reconnecting_client_gets_exactly_what_it_missed_then_live,
    the_stream_filters_by_space_and_says_when_it_cannot_resume,
    every_transition_names_the_booking_whose_event_caused_it,
);

/// Two instances on one PostgreSQL schema: a client of one sees what the other commits,
/// live and on resume, and an id from one instance resumes on the other.
#[tokio::test]
async fn a_client_on_one_instance_sees_the_other_instances_transitions() {
    let (store_a, schema) = zs_store::testing::fresh_postgres("events_two")
        .await
        .unwrap();
    let store_b = Store::connect_postgres(&zs_store::testing::postgres_url(), Some(&schema))
        .await
        .unwrap();
    let (a, b) = (
        node(TestEngine::over(store_a)).await,
        node(TestEngine::over(store_b)).await,
    );
    a.space("s1").await;
    b.space("s2").await;
    let mut on_a = a.events("", None).await.unwrap();
    b.toggle("s2", false).await;
    let first = on_a.transition().await;
    assert_eq!(what(&first), ("s2".into(), "ADMIN_DISABLE".into()));
    a.toggle("s1", false).await;
    b.toggle("s2", true).await;
    let got = [
        what(&on_a.transition().await),
        what(&on_a.transition().await),
    ];
    assert_eq!(
        got.to_vec(),
        pairs(&[("s1", "ADMIN_DISABLE"), ("s2", "ADMIN_ENABLE")])
    );
    // A's id resumes on B.
    let mut on_b = b.events("", Some(&first.id)).await.unwrap();
    let got = [
        what(&on_b.transition().await),
        what(&on_b.transition().await),
    ];
    assert_eq!(
        got.to_vec(),
        pairs(&[("s1", "ADMIN_DISABLE"), ("s2", "ADMIN_ENABLE")])
    );
    on_b.quiet(Duration::from_millis(600)).await;
}
