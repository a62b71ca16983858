//! The app over a test engine, without a socket, and the request helpers: shared by the API's
//! test crates (`mod support;` in each crate root).
#![allow(dead_code)] // Each test crate uses its own part of it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use zs_api::limit::{LimitConfig, Limits};
use zs_api::{AppState, Probe, app, auth::token_hash};
use zs_core::ManualClock;
use zs_engine::Engine;
use zs_engine::testing::TestEngine;

/// The admin token of every test app.
pub const ADMIN: &str = "admin-secret";

/// The router on `engine`, with [`ADMIN`] as the admin token, `probes` on `/readyz` and
/// `limits`.
pub fn router(
    engine: Arc<Engine>,
    probes: Vec<(&'static str, Probe)>,
    limits: LimitConfig,
) -> axum::Router {
    app(AppState {
        engine,
        admin_token_hash: token_hash(ADMIN),
        probes,
        limits: Arc::new(Limits::new(limits)),
        queue_depths: None,
    })
}

/// The app, its engine and the engine's manual clock.
pub struct App {
    /// The router, called without a socket.
    pub app: axum::Router,
    /// The engine behind it.
    pub engine: Arc<Engine>,
    /// The engine's clock.
    pub clock: ManualClock,
}

impl App {
    /// The app on the engine `engine` builds, rate limits off, no extra readiness probe.
    pub async fn new(engine: TestEngine) -> App {
        Self::with(engine, vec![], LimitConfig::OFF).await
    }

    /// The app on the engine `engine` builds, with `probes` and `limits`.
    pub async fn with(
        engine: TestEngine,
        probes: Vec<(&'static str, Probe)>,
        limits: LimitConfig,
    ) -> App {
        let (engine, clock) = engine.build().await;
        let app = router(engine.clone(), probes, limits);
        App { app, engine, clock }
    }

    /// Sends `body` (of content type `ctype`, when given) to `method path` as `token` (none
    /// when empty); returns the status and the body, as JSON when it parses, else as a string.
    pub async fn raw(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Body,
        ctype: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if !token.is_empty() {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, body)
    }

    /// A JSON request (`body` when given) to `method path` as `token`: status and body.
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        match body {
            Some(b) => {
                let json = Some("application/json");
                self.raw(token, method, path, Body::from(b.to_string()), json)
                    .await
            }
            None => self.raw(token, method, path, Body::empty(), None).await,
        }
    }

    /// A JSON request as [`ADMIN`] that must succeed (2xx); returns the body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(ADMIN, method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }
}
