//! Engines for tests: a fresh store (its own SQLite directory or PostgreSQL schema, see
//! [`zs_store::testing::fresh`]) or a given one, a [`ManualClock`], and the outbound
//! settings a test asks for.
//!
//! ```no_run
//! # async fn f() {
//! use zs_engine::testing::TestEngine;
//! let (engine, clock) = TestEngine::on(zs_store::Backend::Sqlite)
//!     .at("2026-05-04T08:00:00Z")
//!     .allow_private()
//!     .build()
//!     .await;
//! # }
//! ```

use crate::{Engine, OutboundConfig};
use std::sync::Arc;
use std::time::Duration;
use zs_core::{Clock, ManualClock};
use zs_delivery::{SecretKey, Sender, SenderConfig};
use zs_store::{Backend, Store};

/// Where a test engine starts its manual clock unless told otherwise.
pub const START: &str = "2026-05-04T06:00:00Z";

/// The store a test engine runs on.
enum StoreSource {
    /// A new, empty store on the backend, named after the label.
    Fresh(Backend, &'static str),
    /// A store the test opened itself (a schema shared by several engines, a directory it
    /// removes afterwards).
    Given(Store),
}

/// A change to the outbound settings, applied last.
type Tweak = Box<dyn FnOnce(&mut OutboundConfig) + Send>;

/// Builds an [`Engine`] for a test: on a fresh store by default, with a manual clock at
/// [`START`], the default sender and outbound settings, and the process's secret key.
#[must_use = "call .build() or .build_with_clock()"]
pub struct TestEngine {
    store: StoreSource,
    clock: ManualClock,
    sender: SenderConfig,
    status_url: Option<String>,
    secret_key: Option<SecretKey>,
    tweak: Option<Tweak>,
}

impl TestEngine {
    /// An engine on a new, empty store on `backend`.
    pub fn on(backend: Backend) -> Self {
        Self::from_store(StoreSource::Fresh(backend, "engine"))
    }

    /// An engine on `store`, opened by the test.
    pub fn over(store: Store) -> Self {
        Self::from_store(StoreSource::Given(store))
    }

    fn from_store(store: StoreSource) -> Self {
        Self {
            store,
            clock: ManualClock::new(START.parse().expect("START is an instant")),
            sender: SenderConfig::default(),
            status_url: None,
            secret_key: None,
            tweak: None,
        }
    }

    /// Names the fresh store's directory or schema after `label` (default `engine`), to
    /// tell a test's leftovers apart; no effect with [`TestEngine::over`].
    pub fn label(mut self, label: &'static str) -> Self {
        if let StoreSource::Fresh(backend, _) = self.store {
            self.store = StoreSource::Fresh(backend, label);
        }
        self
    }

    /// A new manual clock standing at `instant` (RFC 3339) instead of [`START`].
    pub fn at(mut self, instant: &str) -> Self {
        let t = instant.parse().expect("an RFC 3339 instant");
        self.clock = ManualClock::new(t);
        self
    }

    /// Runs on `clock`, shared with the test and other engines (a clone moves them all).
    pub fn clock(mut self, clock: &ManualClock) -> Self {
        self.clock = clock.clone();
        self
    }

    /// Lets webhooks and status posts reach private and loopback targets (a receiver on
    /// 127.0.0.1): both the sender's guard and the engine's own check.
    pub fn allow_private(mut self) -> Self {
        self.sender.allow_private = true;
        self
    }

    /// The sender's whole-attempt timeout (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.sender.timeout = timeout;
        self
    }

    /// POSTs status updates to `url`.
    pub fn status_url(mut self, url: impl Into<String>) -> Self {
        self.status_url = Some(url.into());
        self
    }

    /// Seals webhook secrets with `key` instead of the process's key
    /// ([`Engine::with_secret_key`]).
    pub fn secret_key(mut self, key: SecretKey) -> Self {
        self.secret_key = Some(key);
        self
    }

    /// Changes the outbound settings after everything above is applied (retry schedules,
    /// claim lease, ...).
    pub fn outbound(mut self, tweak: impl FnOnce(&mut OutboundConfig) + Send + 'static) -> Self {
        self.tweak = Some(Box::new(tweak));
        self
    }

    /// The engine and its manual clock.
    pub async fn build(self) -> (Arc<Engine>, ManualClock) {
        let clock = self.clock.clone();
        let engine = self.build_with_clock(Arc::new(clock.clone())).await;
        (engine, clock)
    }

    /// The engine on `clock` (the system clock, a scripted one) instead of the manual one.
    pub async fn build_with_clock(self, clock: Arc<dyn Clock>) -> Arc<Engine> {
        let store = match self.store {
            StoreSource::Fresh(backend, label) => zs_store::testing::fresh(backend, label)
                .await
                .expect("a fresh test store"),
            StoreSource::Given(store) => store,
        };
        let allow_private = self.sender.allow_private;
        let sender = Sender::new(self.sender).expect("a sender");
        let mut out = OutboundConfig::with_sender(sender);
        out.allow_private = allow_private;
        out.status_url = self.status_url;
        if let Some(tweak) = self.tweak {
            tweak(&mut out);
        }
        match self.secret_key {
            Some(key) => Engine::with_secret_key(store, clock, out, key),
            None => Engine::new(store, clock, out),
        }
    }
}
