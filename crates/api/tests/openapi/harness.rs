//! The real app without a socket, each answer checked against the served document, and a
//! webhook receiver on 127.0.0.1 that keeps what it gets.

use super::doc::Doc;
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;
use zs_api::limit::LimitConfig;
use zs_core::ManualClock;
use zs_engine::Engine;
use zs_engine::testing::TestEngine;
use zs_store::Backend;

pub use crate::support::ADMIN;
use crate::support::App;

/// The app, its engine and clock, tokens of each role, and the document.
pub struct Api {
    pub app: axum::Router,
    pub engine: Arc<Engine>,
    pub clock: ManualClock,
    pub member: String,
    pub device: String,
    pub doc: Doc,
    /// What `/readyz`'s extra probe reports: true = down.
    pub probe_down: Arc<AtomicBool>,
}

/// An answer: status and body (JSON when it parses, else a string).
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl Api {
    pub async fn new(db: Backend, limits: LimitConfig) -> Api {
        let probe_down = Arc::new(AtomicBool::new(false));
        let down = probe_down.clone();
        let probe: zs_api::Probe = Arc::new(move || {
            let down = down.load(Ordering::SeqCst);
            Box::pin(async move {
                if down {
                    Err("connection refused".to_owned())
                } else {
                    Ok(())
                }
            })
        });
        let engine = TestEngine::on(db).label("openapi").allow_private();
        let App { app, engine, clock } = App::with(engine, vec![("redis", probe)], limits).await;
        let raw = fetch_document(&app).await;
        let mut api = Api {
            app,
            engine,
            clock,
            member: String::new(),
            device: String::new(),
            doc: Doc::new(raw),
            probe_down,
        };
        api.member = api.mint("member").await;
        api.device = api.mint("device").await;
        api
    }

    async fn mint(&mut self, role: &str) -> String {
        let a = self
            .ok(
                ADMIN,
                Method::POST,
                "/v1/tokens",
                Some(json!({"role": role, "label": role})),
            )
            .await;
        a["token"].as_str().unwrap().to_owned()
    }

    /// An instant `mins` minutes from the clock's now.
    pub fn at(&self, mins: i64) -> String {
        (zs_core::Clock::now(&self.clock) + jiff::SignedDuration::from_mins(mins)).to_string()
    }

    /// Sends a request and checks the answer against the document; a 2xx answer also means
    /// the document must accept the request body that was sent.
    pub async fn send(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if !token.is_empty() {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let ctype = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        let m = method.as_str().to_ascii_lowercase();
        if let Err(e) = self.doc.check(&m, path, status, ctype.as_deref(), &bytes) {
            panic!("drift between the API and its document: {e}");
        }
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Answer {
            status,
            body,
            headers,
        }
    }

    /// A JSON request; returns status and body.
    pub async fn call(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_with(token, method, path, body, &[]).await
    }

    /// A JSON request with extra headers.
    pub async fn call_with(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut hs = headers.to_vec();
        let b = match &body {
            Some(v) => {
                hs.push(("content-type", "application/json"));
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let a = self.send(token, method.clone(), path, b, &hs).await;
        if let (Some(sent), true) = (&body, (200..300).contains(&a.status)) {
            self.request_accepted(&method, path, sent);
        }
        (a.status, a.body)
    }

    /// A request that must succeed (2xx); returns the body.
    pub async fn ok(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let (s, v) = self.call(token, method.clone(), path, body).await;
        assert!((200..300).contains(&s), "{method} {path}: {s} {v}");
        v
    }

    /// A request that must fail with `status` and `code`.
    pub async fn refused(
        &mut self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
        code: &str,
    ) {
        let (s, v) = self.call(token, method.clone(), path, body).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}: {v}"
        );
    }

    /// The server took `sent`: the document must take it too.
    fn request_accepted(&self, method: &Method, path: &str, sent: &Value) {
        let m = method.as_str().to_ascii_lowercase();
        let template = self.doc.template(path.split('?').next().unwrap()).unwrap();
        let schema = self
            .doc
            .request_schema(&template, &m)
            .unwrap_or_else(|| panic!("{method} {template} took a body it does not document"));
        if let Err(e) = self.doc.validate(schema, sent) {
            panic!("{method} {path} accepted a body its document refuses: {e}\n  body: {sent}");
        }
    }
}

async fn fetch_document(app: &axum::Router) -> Value {
    let req = Request::get("/openapi.json").body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// What a webhook receiver got: the headers we check and the body.
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// A receiver on 127.0.0.1: `/ok` answers 200, `/fail` 500; both keep what they get.
pub async fn receiver() -> (String, Arc<Mutex<Vec<Received>>>) {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let keep = |status: u16, got: Arc<Mutex<Vec<Received>>>| {
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let headers = ["webhook-id", "webhook-timestamp", "webhook-signature"]
                .iter()
                .filter_map(|h| {
                    let v = headers.get(*h)?.to_str().ok()?;
                    Some((h.to_string(), v.to_owned()))
                })
                .collect();
            let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
            got.lock().unwrap().push(Received { headers, body });
            async move { axum::http::StatusCode::from_u16(status).unwrap() }
        }
    };
    let router = axum::Router::new()
        .route("/ok", axum::routing::post(keep(200, got.clone())))
        .route("/fail", axum::routing::post(keep(500, got.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, got)
}
