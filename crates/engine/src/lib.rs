//! The application service: applies commands and due timers to the store in one
//! transaction each, runs the timer runner and the outbound delivery workers.
//!
//! Modules, by the path a command takes:
//! - `apply`: [`Engine::execute`], the public entry for a user, admin or booking command;
//!   `spaces` (space create, update and delete, booking create, webhook endpoints) and
//!   `walk_up` ([`Engine::book_now`]) and [`series`] (a recurring series made or cancelled)
//!   are the other commands;
//! - `space_tx`: the space transaction every command on a space takes — open, catch up,
//!   decide, persist, commit or refuse — in one place;
//! - `catch_up`: applying a space's (or a batch's) due timers inside a transaction;
//! - `persist`: an outcome's writes, gathered and flushed in bulk; [`payload`]: the JSON
//!   they carry; [`timer_codec`]: a timer as a job row and a timer job as a command;
//! - `report`: what committed, logged, counted, broadcast and woken up;
//! - [`timers`]: the timer runner; [`outbox`]: status posts and webhook deliveries;
//!   [`ingress`]: ingress jobs from other services; [`secrets`]: webhook signing secrets;
//!   [`retention`]: settled webhook deliveries deleted once past their retention;
//! - [`testing`]: an engine on a fresh store and a manual clock, for tests.

mod apply;
mod catch_up;
pub mod ingress;
pub mod outbox;
pub mod payload;
mod persist;
mod report;
pub mod retention;
pub mod secrets;
pub mod series;
mod space_tx;
pub mod spaces;
mod strikes;
pub mod testing;
pub mod timer_codec;
pub mod timers;
mod walk_up;

use std::sync::{Arc, RwLock};
use tokio::sync::{Notify, broadcast};
use zs_core::{Clock, DomainError};
use zs_delivery::{RetrySchedule, SecretKey, Sender, WebhookSecret};
use zs_store::Store;
use zs_store::deliveries::Endpoint;

pub use apply::Applied;
pub use spaces::{Created, Idempotency};
/// The typed queue names and delivery statuses of the engine's API.
pub use zs_store::{DeliveryStatus, Queue};

/// The longest cleaning a space may have: completed bookings older than this never matter.
pub(crate) const MAX_CLEANING_MS: i64 = 86_400_000;

/// Why the engine refused or failed a command.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The domain refused it (nothing changed).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Something named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// Something with this id exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// A value is invalid.
    #[error("{0}")]
    Invalid(String),
    /// A series' rule does not hold (its start is not its first occurrence, it has no
    /// end, it has too many occurrences).
    #[error("{0}")]
    InvalidRule(String),
    /// Occurrence `n` of a series (starting at `start`) was refused by the rules
    /// (`conflicts: refuse`): the whole series is refused, nothing stored.
    #[error("occurrence {n} of the series (starting {start}): {error}")]
    Occurrence {
        /// Its number, from 1.
        n: u32,
        /// Its start.
        start: jiff::Timestamp,
        /// The rules' refusal.
        error: DomainError,
    },
    /// A space cannot be deleted while these bookings of it are live.
    #[error("{}", live_bookings_message(.0, .1))]
    LiveBookings(zs_core::SpaceId, Vec<zs_core::BookingId>),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] zs_store::StoreError),
}

fn live_bookings_message(space: &zs_core::SpaceId, live: &[zs_core::BookingId]) -> String {
    const SHOWN: usize = 10;
    let mut ids: Vec<&str> = live.iter().take(SHOWN).map(|b| b.as_str()).collect();
    if live.len() > SHOWN {
        ids.push("…");
    }
    format!(
        "space {space} has {} live booking{}: cancel or finish {} first ({})",
        live.len(),
        if live.len() == 1 { "" } else { "s" },
        if live.len() == 1 { "it" } else { "them" },
        ids.join(", ")
    )
}

impl From<zs_store::SqlxError> for EngineError {
    fn from(e: zs_store::SqlxError) -> Self {
        EngineError::Store(e.into())
    }
}

/// Outbound settings.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Where status updates are POSTed (`ZS_STATUS_URL`).
    pub status_url: Option<String>,
    /// Signs status posts (`ZS_STATUS_SECRET`).
    pub status_secret: Option<WebhookSecret>,
    /// Webhook retry schedule.
    pub webhook_retry: RetrySchedule,
    /// Status-post retry schedule; its last delay repeats until delivered.
    pub status_retry: RetrySchedule,
    /// The webhook sender (timeout, SSRF guard).
    pub sender: Sender,
    /// The status-post sender: the status URL is the operator's own, so private targets are fine.
    pub status_sender: Sender,
    /// Whether webhook targets may be private or loopback (`ZS_ALLOW_PRIVATE_WEBHOOKS`).
    pub allow_private: bool,
    /// How long a claimed delivery stays claimed: longer than one attempt takes, so only a
    /// crashed process lets it run out, and then another process (or the restarted one)
    /// sends it again with the same id.
    pub claim_lease: std::time::Duration,
}

impl OutboundConfig {
    /// No status URL, default retry schedules, private webhook targets refused; `sender`
    /// for both webhooks and status posts.
    pub fn with_sender(sender: Sender) -> Self {
        Self {
            status_url: None,
            status_secret: None,
            webhook_retry: RetrySchedule::default(),
            status_retry: RetrySchedule::default(),
            sender: sender.clone(),
            status_sender: sender,
            allow_private: false,
            claim_lease: std::time::Duration::from_secs(30),
        }
    }
}

/// A transition as broadcast to `/v1/events` subscribers, after its commit.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The transition.
    pub transition: zs_core::Transition,
    /// The wall-clock instant it was committed (for lateness measurement).
    pub committed_at: jiff::Timestamp,
    /// For timer events: when the timer was due.
    pub due: Option<jiff::Timestamp>,
}

/// The engine: shared by the API and the workers.
pub struct Engine {
    /// The store.
    pub store: Store,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Outbound settings.
    pub outbound: OutboundConfig,
    /// Seals and opens the stored webhook signing secrets.
    secret_key: SecretKey,
    timers_wake: Notify,
    /// Where the timer runner sleeps until (the earliest due job it saw, in milliseconds;
    /// `i64::MAX` while it is awake or has no job): a commit that plans a timer wakes it
    /// only when the timer is earlier ([`Engine::wake_timers_for`]).
    timers_asleep_until_ms: std::sync::atomic::AtomicI64,
    /// One per delivery queue, so a wake-up is one runner's, and its permit is not taken by
    /// the other.
    status_wake: Notify,
    webhooks_wake: Notify,
    events: broadcast::Sender<Arc<Committed>>,
    endpoints: RwLock<Option<Arc<Vec<Endpoint>>>>,
    relay_wake: Notify,
    fallback_lag_ms: std::sync::atomic::AtomicI64,
    /// How far ahead a series without an end is booked ([`Engine::series_horizon`]).
    series_horizon_ms: std::sync::atomic::AtomicI64,
}

impl Engine {
    /// A new engine over `store`, sealing webhook secrets with a random key made once per
    /// process (tests, benchmarks and simulations: an engine restarted in the same process
    /// opens what the previous one sealed; another process does not).
    pub fn new(store: Store, clock: Arc<dyn Clock>, outbound: OutboundConfig) -> Arc<Self> {
        static PROCESS_KEY: std::sync::OnceLock<SecretKey> = std::sync::OnceLock::new();
        let key = PROCESS_KEY.get_or_init(SecretKey::generate).clone();
        Self::with_secret_key(store, clock, outbound, key)
    }

    /// A new engine over `store`, sealing webhook secrets with `secret_key` (the service's
    /// `ZS_SECRET_KEY` or key file; check it with [`Engine::prepare_secrets`] before use).
    pub fn with_secret_key(
        store: Store,
        clock: Arc<dyn Clock>,
        outbound: OutboundConfig,
        secret_key: SecretKey,
    ) -> Arc<Self> {
        let (events, _) = broadcast::channel(4096);
        Arc::new(Self {
            store,
            clock,
            outbound,
            secret_key,
            timers_wake: Notify::new(),
            timers_asleep_until_ms: std::sync::atomic::AtomicI64::new(i64::MAX),
            status_wake: Notify::new(),
            webhooks_wake: Notify::new(),
            events,
            endpoints: RwLock::new(None),
            relay_wake: Notify::new(),
            fallback_lag_ms: std::sync::atomic::AtomicI64::new(0),
            series_horizon_ms: std::sync::atomic::AtomicI64::new(
                series::DEFAULT_HORIZON.as_millis() as i64,
            ),
        })
    }

    /// Subscribes to committed transitions.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, c: Committed) {
        let _ = self.events.send(Arc::new(c));
    }

    /// Wakes the timer runner (a job earlier than the one it sleeps for may exist) and the
    /// Redis relay (a plan changed).
    pub fn wake_timers(&self) {
        self.timers_wake.notify_one();
        self.relay_wake.notify_one();
    }

    /// Wakes the Redis relay, and the timer runner if a timer due at `due` is earlier than
    /// the job it sleeps for (or it is awake, reading the store: then it may have read
    /// before the commit that planned it). A timer at or after the runner's next job is
    /// found when the runner wakes for that job.
    pub(crate) fn wake_timers_for(&self, due: jiff::Timestamp) {
        let asleep_until = self
            .timers_asleep_until_ms
            .load(std::sync::atomic::Ordering::SeqCst);
        if due.as_millisecond() < asleep_until {
            self.timers_wake.notify_one();
        }
        self.relay_wake.notify_one();
    }

    /// Records that the timer runner sleeps until its next job at `next`; `None`: it is
    /// awake, or has no job to sleep for (every planned timer wakes it).
    pub(crate) fn timers_asleep_until(&self, next: Option<jiff::Timestamp>) {
        let ms = next.map_or(i64::MAX, |t| t.as_millisecond());
        self.timers_asleep_until_ms
            .store(ms, std::sync::atomic::Ordering::SeqCst);
    }

    /// Resolves when job plans (timers or deliveries) may have changed since the last call
    /// (for the Redis relay).
    pub async fn plans_changed(&self) {
        self.relay_wake.notified().await;
    }

    /// With the jobs relayed to queues (Redis), the store's own runners (timers and
    /// deliveries) become a safety net: they only take jobs overdue by `lag` (the queue lost
    /// them, e.g. Redis restarted empty, or a worker died holding a claimed delivery).
    pub fn set_fallback_lag(&self, lag: std::time::Duration) {
        let ms = i64::try_from(lag.as_millis()).unwrap_or(i64::MAX);
        self.fallback_lag_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
        self.timers_wake.notify_one();
    }

    pub(crate) fn fallback_lag(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_millis(
            self.fallback_lag_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Keeps the relay's index on the embedded store while a relay runs, and drops it
    /// otherwise ([`zs_store::jobs::relay_index`]).
    pub async fn relay_index(&self, relaying: bool) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        zs_store::jobs::relay_index(&mut tx, relaying).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Jobs of `queue` whose current plan is not in the Redis queue yet, in due order.
    pub async fn unrelayed(
        &self,
        queue: Queue,
        limit: i64,
    ) -> Result<Vec<zs_store::jobs::Job>, EngineError> {
        let mut c = self.store.read().await?;
        Ok(zs_store::jobs::unrelayed(&mut c, queue, limit).await?)
    }

    /// Marks every relayed plan of `queue` unrelayed, so the relay adds them all again (the
    /// queue lost them: Redis restarted without its data). Returns how many.
    pub async fn relay_again(&self, queue: Queue) -> Result<u64, EngineError> {
        let mut tx = self.store.begin().await?;
        let n = zs_store::jobs::unmark_relayed(&mut tx, queue).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Records that these plans (id, due) are in the queue.
    pub async fn mark_relayed(
        &self,
        plans: &[(String, jiff::Timestamp)],
    ) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        zs_store::jobs::mark_relayed(&mut tx, plans).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Wakes the delivery workers and the Redis relay.
    pub fn wake_outbox(&self) {
        self.wake_queue(Queue::StatusUpdates);
        self.wake_queue(Queue::WebhookDeliveries);
    }

    /// Wakes the runner of one delivery queue (a permit if it is busy: it looks again
    /// before it sleeps) and the Redis relay.
    pub(crate) fn wake_queue(&self, queue: Queue) {
        self.queue_wake(queue).notify_one();
        self.relay_wake.notify_one();
    }

    /// The wake-up of a delivery queue's runner.
    pub(crate) fn queue_wake(&self, queue: Queue) -> &Notify {
        match queue {
            Queue::StatusUpdates => &self.status_wake,
            Queue::WebhookDeliveries => &self.webhooks_wake,
            // Timer jobs have their own runner and wake-up.
            Queue::MeetingScheduler => &self.timers_wake,
        }
    }

    /// Checkpoints the store's write-ahead log five times a second until `shutdown`: often
    /// enough that a burst of writes cannot grow the log far past the size at which the
    /// checkpoint restarts it (see `zs_store::Store::checkpoint`).
    pub async fn checkpoint_loop(
        self: Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(e) = self.store.checkpoint().await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }

    /// Follows what other instances on the same PostgreSQL schema change: their new jobs
    /// wake this instance's runners (so a job is never stranded when the instance that
    /// added it dies), and their endpoint changes refresh the cached endpoint list. Returns
    /// at once on the embedded store.
    pub async fn follow_other_instances(
        self: Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut listener = loop {
            match self.store.listen().await {
                Ok(Some(l)) => break l,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for other instances failed; retrying in 1 s");
                    tokio::select! {
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        };
        loop {
            let change = tokio::select! {
                c = listener.recv() => c,
                _ = shutdown.changed() => return,
            };
            match change {
                zs_store::Change::Jobs => {
                    self.wake_timers();
                    self.wake_outbox();
                }
                zs_store::Change::Endpoints => self.invalidate_endpoints(),
                zs_store::Change::Unknown => {
                    self.invalidate_endpoints();
                    self.wake_timers();
                    self.wake_outbox();
                }
            }
        }
    }

    pub(crate) fn invalidate_endpoints(&self) {
        *self.endpoints.write().expect("endpoints lock") = None;
    }

    pub(crate) async fn endpoints(
        &self,
        c: &mut zs_store::Conn,
    ) -> Result<Arc<Vec<Endpoint>>, EngineError> {
        if let Some(e) = self.endpoints.read().expect("endpoints lock").clone() {
            return Ok(e);
        }
        let list = Arc::new(zs_store::deliveries::endpoints(c).await?);
        *self.endpoints.write().expect("endpoints lock") = Some(list.clone());
        Ok(list)
    }
}
