//! Runs a plan against the real engine and store (embedded SQLite) on a virtual clock,
//! checking the invariants after every step.

use crate::errors::ErrorLines;
use crate::history;
use crate::model::{Refusal, SpaceModel};
use crate::net::Net;
use crate::plan::{Action, PlanConfig, RECEIVERS, Step, StoreKind, settings};
use jiff::{SignedDuration, Timestamp};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::broadcast;
use zs_core::{
    BookingId, BookingStatus, Clock, Command, EventKind, ManualClock, NewBooking, Space, SpaceId,
};
use zs_delivery::{RetrySchedule, Sender, SenderConfig};
use zs_engine::{Committed, Created, Engine, EngineError, OutboundConfig};
use zs_store::jobs;
use zs_store::{DeliveryStatus, Queue};
use zs_store::{Store, bookings, deliveries, spaces};

/// Whether a refusal's code agrees with the model on booking policies: the model's policy
/// code when it expects one, and no `policy_…` code when it expects another refusal.
fn same_policy(expect: Option<Refusal>, code: Option<&str>) -> bool {
    let code = code.unwrap_or("");
    match expect {
        Some(Refusal::Policy(want)) => code == want,
        _ => !code.starts_with("policy_"),
    }
}

/// Whether a booking's refusal `d` is the one the model expects: a conflict exactly when it
/// says conflict, and the policy code it names (or none).
fn refused_as(expect: Option<Refusal>, d: &zs_core::DomainError) -> bool {
    let conflict = matches!(d, zs_core::DomainError::Conflict { .. });
    conflict == (expect == Some(Refusal::Conflict)) && same_policy(expect, Some(d.code()))
}

/// What a run did, in numbers.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Steps run.
    pub steps: usize,
    /// Booking requests, accepted, refused as conflicts, refused as invalid.
    pub booking_requests: u64,
    /// Accepted.
    pub bookings: u64,
    /// Refused: overlap.
    pub conflicts: u64,
    /// Refused: another rule.
    pub invalid: u64,
    /// Refused: a booking policy (bookings, extensions and walk-ups alike).
    pub policy_refused: u64,
    /// Series requested.
    pub series_requests: u64,
    /// Series made (their occurrences count among the bookings).
    pub series: u64,
    /// Series refused whole (`conflicts: refuse`).
    pub series_refused: u64,
    /// Occurrences left out (`conflicts: skip`).
    pub series_skipped: u64,
    /// Occurrences cancelled with their series.
    pub series_cancelled: u64,
    /// Series released by their no-show strikes.
    pub series_released: u64,
    /// Occurrences booked by extending series without an end.
    pub series_extended: u64,
    /// Occurrences cancelled by those releases.
    pub released_occurrences: u64,
    /// User events accepted and refused.
    pub user_accepted: u64,
    /// User events refused.
    pub user_refused: u64,
    /// Ingress jobs applied (including repeats).
    pub ingress_jobs: u64,
    /// Ingress jobs delivered a second time.
    pub ingress_repeats: u64,
    /// Maintenance toggles.
    pub maintenance: u64,
    /// Extensions accepted.
    pub extensions: u64,
    /// Extensions refused.
    pub extensions_refused: u64,
    /// Walk-ups accepted.
    pub walk_ups: u64,
    /// Walk-ups refused.
    pub walk_ups_refused: u64,
    /// Transitions checked.
    pub transitions: u64,
    /// Transitions caused by timers.
    pub timer_transitions: u64,
    /// Crashes between operations.
    pub crashes: u64,
    /// Crashes with a delivery on the wire.
    pub mid_delivery_crashes: u64,
    /// Timer jobs handed over twice.
    pub duplicate_timers: u64,
    /// Times the timer runner stalled (commands then catch their space up themselves).
    pub runner_stalls: u64,
    /// Clock jumps.
    pub clock_jumps: u64,
    /// Receiver mode changes.
    pub receiver_changes: u64,
    /// Webhook deliveries delivered.
    pub webhooks_delivered: u64,
    /// Webhook deliveries dead-lettered (after their whole schedule).
    pub webhooks_dead: u64,
    /// Webhook ids received more than once (allowed: at least once).
    pub webhook_redeliveries: u64,
    /// Status posts acknowledged (distinct space × sequence).
    pub status_posts: u64,
    /// Settled deliveries checked and then deleted by the retention.
    pub deliveries_pruned: u64,
    /// Virtual time covered.
    pub virtual_days: f64,
}

/// A broken invariant.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The index of the step after which it was found (`steps.len()`: the final checks).
    pub step: usize,
    /// What broke.
    pub message: String,
}

type Check<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    format!("engine error: {e}")
}

/// The queues with a job due.
struct Due {
    timers: bool,
    status_posts: bool,
    webhooks: bool,
}

/// The simulated world.
struct World {
    dir: PathBuf,
    /// The in-memory store, kept across simulated crashes (`None` on a file).
    memory: Option<Store>,
    clock: ManualClock,
    net: Net,
    outbound: OutboundConfig,
    engine: Arc<Engine>,
    events: broadcast::Receiver<Arc<Committed>>,
    models: Vec<SpaceModel>,
    index: HashMap<SpaceId, usize>,
    last_seq: Vec<u64>,
    schedule: BTreeSet<(Timestamp, usize)>,
    next_of: Vec<Option<Timestamp>>,
    all_dirty: bool,
    fired: HashSet<(BookingId, EventKind)>,
    day_fired: HashSet<(usize, EventKind, Timestamp)>,
    crash_on_delivery: bool,
    stalled_until: Option<Timestamp>,
    /// Every series made: (space, id).
    made_series: Vec<(usize, String)>,
    /// The series without an end, extended as the engine's loop would.
    open_series: Vec<OpenSeries>,
    /// Deliveries to the endpoint of every booking event, per event type, counted as they
    /// are checked (before the retention deletes them, or at the end).
    sent: HashMap<String, u64>,
    /// When the settled deliveries are next checked and deleted.
    next_retention: Timestamp,
    stats: Stats,
}

/// How long the world keeps a settled delivery (`ZS_DELIVERY_RETENTION`): a day, so every
/// simulated day checks and deletes the deliveries settled the day before, through the
/// engine's own pruning, and the store stays as small as a service's.
const DELIVERY_RETENTION: SignedDuration = SignedDuration::from_hours(24);

/// How far ahead the engine books a series without an end (`ZS_SERIES_HORIZON`): a few
/// days, so the simulated weeks extend every such series many times.
const SERIES_HORIZON: SignedDuration = SignedDuration::from_hours(24 * 4);

/// A series without an end, as the model books it.
struct OpenSeries {
    space: usize,
    id: String,
    rule: zs_core::series::Rule,
    start: Timestamp,
    end: Timestamp,
    /// Booked up to here; `None` once nothing more will be booked.
    booked_until: Option<Timestamp>,
    /// Cancelled from this instant on (the earliest).
    cancelled_from: Option<Timestamp>,
}

/// The admin event that turns maintenance on or off.
fn cmd_event(on: bool) -> EventKind {
    if on {
        EventKind::AdminDisable
    } else {
        EventKind::AdminEnable
    }
}

fn space_id(i: usize) -> SpaceId {
    SpaceId::parse(&format!("s{i:04}")).expect("valid id")
}

/// Runs `steps` on a fresh store under `dir`.
pub async fn run(plan: &PlanConfig, steps: &[Step], dir: &Path) -> Result<Stats, Violation> {
    let errors = ErrorLines::default();
    let _on_this_thread = tracing::subscriber::set_default(errors.clone());
    let logged = |step: usize| match errors.take().first() {
        Some(line) => Err(Violation {
            step,
            message: format!("an ERROR line was logged: {line}"),
        }),
        None => Ok(()),
    };
    let at_setup = |message: String| Violation { step: 0, message };
    let mut w = World::start(plan, dir).await.map_err(at_setup)?;
    logged(0)?;
    for (i, step) in steps.iter().enumerate() {
        if i % 2000 == 1999 {
            // As `serve` does every second: keep the write-ahead log short.
            let r = w.engine.store.checkpoint().await;
            r.map_err(|e| Violation {
                step: i,
                message: err(e),
            })?;
        }
        w.step(step)
            .await
            .map_err(|message| Violation { step: i, message })?;
        if w.clock.now() >= w.next_retention {
            w.retire_deliveries()
                .await
                .map_err(|message| Violation { step: i, message })?;
        }
        logged(i)?;
        w.stats.steps += 1;
    }
    let last = steps.len();
    w.finish(plan).await.map_err(|message| Violation {
        step: last,
        message,
    })?;
    logged(last)?;
    w.stats.virtual_days = w.clock.now().duration_since(plan.start).as_secs_f64() / 86_400.0;
    Ok(w.stats)
}

impl World {
    async fn start(plan: &PlanConfig, dir: &Path) -> Check<World> {
        let clock = ManualClock::new(plan.start);
        let net = Net::new();
        let sender =
            Sender::simulated(SenderConfig::default(), Arc::new(net.clone())).map_err(err)?;
        let outbound = OutboundConfig {
            status_url: Some(format!("https://{}/status", RECEIVERS[0])),
            ..OutboundConfig::with_sender(sender)
        };
        let (store, memory) = match plan.store {
            StoreKind::File => {
                std::fs::create_dir_all(dir).map_err(err)?;
                (Store::open(dir).await.map_err(err)?, None)
            }
            StoreKind::Memory => {
                let store = Store::open_memory().map_err(err)?;
                (store.clone(), Some(store))
            }
        };
        let engine = Engine::new(store, Arc::new(clock.clone()), outbound.clone());
        engine.set_series_horizon(SERIES_HORIZON);
        let events = engine.subscribe();
        let mut w = World {
            dir: dir.to_owned(),
            memory,
            clock,
            net,
            outbound,
            engine,
            events,
            models: vec![],
            index: HashMap::new(),
            last_seq: vec![],
            made_series: vec![],
            open_series: vec![],
            schedule: BTreeSet::new(),
            next_of: vec![],
            all_dirty: true,
            fired: HashSet::new(),
            day_fired: HashSet::new(),
            crash_on_delivery: false,
            stalled_until: None,
            sent: HashMap::new(),
            next_retention: plan.start + DELIVERY_RETENTION,
            stats: Stats::default(),
        };
        let now = w.clock.now();
        for i in 0..plan.spaces {
            let space = Space {
                id: space_id(i),
                name: format!("space {i}"),
                settings: settings(i),
                maintenance: false,
            };
            let st = w.engine.create_space(space.clone()).await.map_err(err)?;
            w.index.insert(space.id.clone(), i);
            w.last_seq.push(st.sequence);
            w.models.push(SpaceModel::new(space, now));
            w.next_of.push(None);
        }
        let mut every_booking_event = zs_core::notice::booking_webhook_types();
        every_booking_event.push("series.released");
        let endpoints: [(&str, &[&str]); 3] = [
            (RECEIVERS[1], &every_booking_event),
            (RECEIVERS[2], &["booking.start", "booking.no_show"]),
            (RECEIVERS[3], &["booking.cancelled"]),
        ];
        for (host, events) in endpoints {
            let events = events.iter().map(|e| e.to_string()).collect();
            w.engine
                .create_endpoint(format!("https://{host}/hooks"), events)
                .await
                .map_err(err)?;
        }
        let now = w.clock.now();
        w.check(now, &[]).await?;
        Ok(w)
    }

    /// Drops the engine and everything it holds in memory, reopens the store, starts over.
    async fn restart(&mut self) -> Check<()> {
        let store = match &self.memory {
            // Everything but the committed database is gone with the old engine.
            Some(store) => store.clone(),
            None => Store::open(&self.dir).await.map_err(err)?,
        };
        self.engine = Engine::new(store, Arc::new(self.clock.clone()), self.outbound.clone());
        self.engine.set_series_horizon(SERIES_HORIZON);
        self.events = self.engine.subscribe();
        self.all_dirty = true;
        // A restarted process starts its runner afresh.
        self.stalled_until = None;
        Ok(())
    }

    /// Which queues have jobs due at `now`. One read, so steps with nothing due cost no
    /// write transaction.
    async fn due(&self, now: Timestamp) -> Check<Due> {
        let mut c = self.engine.store.read().await.map_err(err)?;
        let next = jobs::next_due_by_queue(&mut c).await.map_err(err)?;
        let due = |q: Queue| next.iter().any(|(n, t)| *n == q && *t <= now);
        Ok(Due {
            timers: due(Queue::MeetingScheduler),
            status_posts: due(Queue::StatusUpdates),
            webhooks: due(Queue::WebhookDeliveries),
        })
    }

    /// Runs due timers until none is left: a timer may plan another that is already due
    /// (cleaning after an end passed during a clock jump; each business-hours boundary plans
    /// the next, so days of downtime take a round per boundary), as the runner's loop would.
    /// Returns what is due once they are done (the outbox reads it instead of asking again).
    async fn run_timers(&mut self) -> Check<Due> {
        for _ in 0..100_000 {
            let ran = self.engine.run_due_timers().await.map_err(err)?;
            let due = self.due(self.clock.now()).await?;
            if ran == 0 || !due.timers {
                return Ok(due);
            }
        }
        Err("timers kept coming due after 100,000 rounds".into())
    }

    /// Sends every due delivery; with a mid-delivery crash armed, dies with one on the wire.
    /// `known` is what is due now if the caller has just read it.
    async fn run_outbox(&mut self, mut known: Option<Due>) -> Check<()> {
        if self.crash_on_delivery {
            let hung = self.net.hang_next();
            let e = self.engine.clone();
            let mut task = tokio::spawn(async move {
                let a = e.run_outbox_once(Queue::StatusUpdates).await;
                let b = e.run_outbox_once(Queue::WebhookDeliveries).await;
                a.and(b)
            });
            let on_the_wire = tokio::select! {
                r = hung => r.is_ok(),
                _ = &mut task => false,
            };
            if on_the_wire {
                task.abort();
                let _ = task.await;
            }
            self.net.no_hang();
            // Something was sent, or the process restarted: what was due has changed.
            known = None;
            if on_the_wire {
                self.crash_on_delivery = false;
                self.stats.mid_delivery_crashes += 1;
                self.restart().await?;
                self.run_timers().await?;
            }
        }
        for _ in 0..64 {
            let due = match known.take() {
                Some(due) => due,
                None => self.due(self.clock.now()).await?,
            };
            let mut sent = 0;
            for (queue, is_due) in [
                (Queue::StatusUpdates, due.status_posts),
                (Queue::WebhookDeliveries, due.webhooks),
            ] {
                if is_due {
                    sent += self.engine.run_outbox_once(queue).await.map_err(err)?;
                }
            }
            if sent == 0 {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Settles the models whose next change has come, and returns them for checking.
    fn settle_due(&mut self, now: Timestamp) -> Vec<usize> {
        let mut due = vec![];
        while let Some(&(t, i)) = self.schedule.first() {
            if t > now {
                break;
            }
            self.schedule.pop_first();
            self.next_of[i] = None;
            self.models[i].settle(now);
            due.push(i);
        }
        due
    }

    async fn step(&mut self, step: &Step) -> Check<()> {
        let mut now = self.clock.now().max(step.at);
        if let Action::ClockJump { by } = &step.action {
            now += *by;
            self.stats.clock_jumps += 1;
        }
        self.clock.set(now);
        if self.stalled_until.is_some_and(|u| now >= u) {
            // The runner is back: it catches every space up, and every space is checked.
            self.stalled_until = None;
            self.all_dirty = true;
        }
        let stalled = self.stalled_until.is_some();
        if !stalled && self.due(now).await?.timers {
            self.run_timers().await?;
        }
        // While the runner stalls, spaces whose time moved on are checked when it is back;
        // a command's space is checked at once (the command caught it up first).
        let due = self.settle_due(now);
        let mut touched = if stalled { vec![] } else { due };
        touched.extend(self.extend_open_series(now).await?);
        match &step.action {
            Action::Book {
                space,
                id,
                start,
                end,
                ingress,
                twice,
            } => {
                self.models[*space].settle(now);
                self.book(*space, id, *start, *end, *ingress, *twice, now)
                    .await?;
                touched.push(*space);
            }
            Action::User {
                space,
                id,
                event,
                ingress,
                twice,
            } => {
                self.models[*space].settle(now);
                // An ingress job names only its booking: for a booking the space never had,
                // it never reaches the space (nor catches it up).
                let known = BookingId::parse(id).is_ok_and(|b| self.models[*space].knows(&b));
                self.user(*space, id, *event, *ingress, *twice, now).await?;
                if known || !*ingress {
                    touched.push(*space);
                }
            }
            Action::Extend { space, id, by } => {
                self.models[*space].settle(now);
                self.extend(*space, id, *by, now).await?;
                touched.push(*space);
            }
            Action::BookNow {
                space,
                id,
                duration,
            } => {
                self.models[*space].settle(now);
                self.book_now(*space, id, *duration, now).await?;
                touched.push(*space);
            }
            Action::Series {
                space,
                id,
                start,
                end,
                rrule,
                skip,
            } => {
                self.models[*space].settle(now);
                self.series(*space, id, (*start, *end), rrule, *skip, now)
                    .await?;
                touched.push(*space);
            }
            Action::SeriesCancel { space, id, from } => {
                self.models[*space].settle(now);
                self.series_cancel(*space, id, *from, now).await?;
                touched.push(*space);
            }
            Action::Maintenance { space, on } => {
                self.models[*space].settle(now);
                let cmd = if *on {
                    Command::Disable
                } else {
                    Command::Enable
                };
                let allowed = self.models[*space].space.maintenance != *on;
                let r = self.engine.execute(&space_id(*space), cmd).await;
                match (r, allowed) {
                    (Ok(_), true) => {
                        let event = cmd_event(*on);
                        self.models[*space].accepted(now, event, None);
                        self.models[*space].space.maintenance = *on;
                        self.stats.maintenance += 1;
                    }
                    (Err(EngineError::Domain(_)), false) => {}
                    (r, _) => {
                        return Err(format!(
                            "maintenance {on} on s{space}: expected allowed={allowed}, got {:?}",
                            r.map(|_| ())
                        ));
                    }
                }
                touched.push(*space);
            }
            Action::Crash => {
                self.stats.crashes += 1;
                self.restart().await?;
                self.run_timers().await?;
            }
            Action::CrashMidDelivery => self.crash_on_delivery = true,
            Action::RunnerStall { lasting } => {
                self.stats.runner_stalls += 1;
                let until = now + *lasting;
                self.stalled_until = Some(self.stalled_until.map_or(until, |u| u.max(until)));
            }
            Action::DuplicateTimer { space } => {
                self.stats.duplicate_timers += 1;
                let n = self
                    .engine
                    .run_space_timers(&space_id(*space), now)
                    .await
                    .map_err(err)?;
                if n != 0 && !stalled {
                    return Err(format!(
                        "a timer job handed over again ran {n} timers of s{space} a second time"
                    ));
                }
                touched.push(*space);
            }
            Action::ClockJump { .. } => {}
            Action::DropTimers { space } => self.sabotage(Queue::MeetingScheduler, *space).await?,
            Action::DropStatusPosts { space } => {
                self.sabotage(Queue::StatusUpdates, *space).await?
            }
            Action::Receiver { which, mode } => {
                self.stats.receiver_changes += 1;
                self.net.set(RECEIVERS[*which], *mode);
            }
        }
        // What the commands planned for this instant (a booking starting now) runs now too:
        // by the runner, or while it stalls by the space's own queue job.
        let mut known = None;
        if stalled {
            for &i in &touched {
                self.engine
                    .run_space_timers(&space_id(i), now)
                    .await
                    .map_err(err)?;
            }
        } else {
            let due = self.due(now).await?;
            known = Some(if due.timers {
                self.run_timers().await?
            } else {
                due
            });
        }
        for &i in &touched {
            self.models[i].settle(now);
        }
        self.run_outbox(known).await?;
        self.check(now, &touched).await
    }

    /// Deletes the space's pending jobs of `queue` behind the engine's back.
    async fn sabotage(&mut self, queue: Queue, space: usize) -> Check<()> {
        let mut tx = self.engine.store.begin().await.map_err(err)?;
        for j in jobs::list(&mut tx, queue, i64::MAX).await.map_err(err)? {
            if j.data.get("spaceId").and_then(|v| v.as_str()) == Some(space_id(space).as_str()) {
                jobs::remove(&mut tx, &j.id).await.map_err(err)?;
            }
        }
        tx.commit().await.map_err(err)
    }

    #[allow(clippy::too_many_arguments)]
    async fn book(
        &mut self,
        s: usize,
        id: &str,
        start: Timestamp,
        end: Timestamp,
        ingress: bool,
        twice: bool,
        now: Timestamp,
    ) -> Check<()> {
        self.stats.booking_requests += 1;
        let bid = BookingId::parse(id).map_err(err)?;
        let expect = self.models[s].refusal(start, end, now);
        let accepted = if ingress {
            let data = serde_json::json!({"bookingId": id, "spaceId": space_id(s), "start": start.to_string(), "end": end.to_string(), "title": "sim"});
            self.stats.ingress_jobs += 1;
            let r = self.engine.apply_ingress("BOOKING_CREATED", &data).await;
            if twice && r.is_ok() {
                self.stats.ingress_repeats += 1;
                let seq = self.sequence(s).await?;
                let again = self.engine.apply_ingress("BOOKING_CREATED", &data).await;
                if again.is_err() || self.sequence(s).await? != seq {
                    return Err(format!(
                        "BOOKING_CREATED {id} delivered twice was not a no-op: {again:?}"
                    ));
                }
            }
            match r {
                Ok(_) => true,
                Err(reason)
                    if expect == Some(Refusal::Conflict) && !reason.contains("conflict") =>
                {
                    return Err(format!(
                        "booking {id} refused as {reason:?}, the rules say conflict"
                    ));
                }
                Err(reason) if !same_policy(expect, reason.split(':').next()) => {
                    return Err(format!(
                        "booking {id} refused as {reason:?}, the rules say {expect:?}"
                    ));
                }
                Err(_) => false,
            }
        } else {
            let n = NewBooking {
                id: bid.clone(),
                title: "sim".into(),
                start,
                end,
            };
            match self.engine.create_booking(&space_id(s), n, None).await {
                Ok(Created::New { .. }) => true,
                Ok(Created::Replayed { .. }) => {
                    return Err(format!("booking {id} replayed without a key"));
                }
                Err(EngineError::Domain(d)) => {
                    if !refused_as(expect, &d) {
                        return Err(format!(
                            "booking {id} [{start}, {end}) refused with {d}; the rules say {expect:?}"
                        ));
                    }
                    false
                }
                Err(e) => return Err(format!("booking {id}: {e}")),
            }
        };
        match (accepted, expect) {
            (true, None) => {
                self.models[s].book(
                    bid,
                    zs_core::clock::to_millis(start),
                    zs_core::clock::to_millis(end),
                    now,
                );
                self.stats.bookings += 1;
            }
            (false, Some(Refusal::Conflict)) => self.stats.conflicts += 1,
            (false, Some(Refusal::Invalid)) => self.stats.invalid += 1,
            (false, Some(Refusal::Policy(_))) => self.stats.policy_refused += 1,
            (true, Some(r)) => {
                return Err(format!(
                    "booking {id} [{start}, {end}) on s{s} accepted at {now}; the rules refuse it ({r:?})"
                ));
            }
            (false, None) => {
                return Err(format!(
                    "booking {id} [{start}, {end}) on s{s} refused at {now}; the rules accept it"
                ));
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn user(
        &mut self,
        s: usize,
        id: &str,
        event: EventKind,
        ingress: bool,
        twice: bool,
        now: Timestamp,
    ) -> Check<()> {
        let bid = BookingId::parse(id).map_err(err)?;
        let found = self.models[s].find(&bid);
        let allowed = match found {
            Some(i) => {
                let (check_in, check_out, cancel) = self.models[s].allowed(i, now);
                match event {
                    EventKind::UserChecksIn => check_in,
                    EventKind::UserChecksOut => check_out,
                    _ => cancel,
                }
            }
            None => false,
        };
        let applied = if ingress {
            self.stats.ingress_jobs += 1;
            let data = serde_json::json!({ "bookingId": id });
            let r = self.engine.apply_ingress(event.as_str(), &data).await;
            let fresh = matches!(&r, Ok(v) if v.get("alreadyApplied").is_none());
            if twice {
                self.stats.ingress_repeats += 1;
                let seq = self.sequence(s).await?;
                let again = self.engine.apply_ingress(event.as_str(), &data).await;
                let fresh_again = matches!(&again, Ok(v) if v.get("alreadyApplied").is_none());
                if fresh_again || self.sequence(s).await? != seq {
                    return Err(format!(
                        "{event} {id} delivered twice changed something the second time: {again:?}"
                    ));
                }
            }
            fresh
        } else {
            let cmd = match event {
                EventKind::UserChecksIn => Command::CheckIn(bid.clone()),
                EventKind::UserChecksOut => Command::CheckOut(bid.clone()),
                _ => Command::Cancel(bid.clone()),
            };
            match self.engine.execute(&space_id(s), cmd).await {
                Ok(_) => true,
                Err(EngineError::Domain(_) | EngineError::NotFound(_)) => false,
                Err(e) => return Err(format!("{event} {id}: {e}")),
            }
        };
        if applied != allowed {
            let status = found.map(|i| self.models[s].status(i, now));
            return Err(format!(
                "{event} on {id} ({status:?}, maintenance {}) at {now}: applied={applied}, the rules say {allowed}",
                self.models[s].space.maintenance
            ));
        }
        if applied {
            self.stats.user_accepted += 1;
            if let Some(i) = found {
                self.models[s].record(i, event, now);
            }
        } else {
            self.stats.user_refused += 1;
        }
        Ok(())
    }

    /// Extends booking `id` by `by` past its current end (by the model), when the rules
    /// allow it, and checks the engine agrees; an unknown booking is refused.
    async fn extend(
        &mut self,
        s: usize,
        id: &str,
        by: SignedDuration,
        now: Timestamp,
    ) -> Check<()> {
        let bid = BookingId::parse(id).map_err(err)?;
        let Some(i) = self.models[s].find(&bid) else {
            let cmd = Command::Extend {
                booking: bid,
                end: now + by,
            };
            return match self.engine.execute(&space_id(s), cmd).await {
                Err(EngineError::NotFound(_) | EngineError::Domain(_)) => Ok(()),
                r => Err(format!(
                    "extending {id}, unknown to s{s}: {:?}",
                    r.map(|_| ())
                )),
            };
        };
        let end = self.models[s].bookings[i].facts.end + by;
        let expect = self.models[s].extension_refusal(i, end, now);
        let cmd = Command::Extend { booking: bid, end };
        match (self.engine.execute(&space_id(s), cmd).await, expect) {
            (Ok(a), None) => {
                if a.outcome.transition.is_some() {
                    return Err(format!("extending {id} recorded a transition"));
                }
                self.models[s].extend(i, end);
                self.stats.extensions += 1;
            }
            (Err(EngineError::Domain(d)), Some(r)) => {
                let conflict = d.kind() == zs_core::ErrorKind::Conflict;
                if conflict != (r == Refusal::Conflict) || !same_policy(Some(r), Some(d.code())) {
                    return Err(format!(
                        "extending {id} to {end} refused with {d}; the rules say {r:?}"
                    ));
                }
                self.stats.extensions_refused += 1;
                if matches!(r, Refusal::Policy(_)) {
                    self.stats.policy_refused += 1;
                }
            }
            (r, expect) => {
                let status = self.models[s].status(i, now);
                return Err(format!(
                    "extending {id} ({status:?}) to {end} at {now}: {:?}; the rules say {expect:?}",
                    r.map(|_| ())
                ));
            }
        }
        Ok(())
    }

    /// A walk-up of `duration` from now, when the rules allow it (free for the span, open,
    /// not in maintenance); recorded in the model as a booking made and checked in now.
    /// Makes a series; the model decides each occurrence in order on what the earlier ones
    /// left (CONTRACT §9: the first refusal refuses the series, or with `skip` is left out),
    /// and the engine must agree occurrence by occurrence, codes included.
    async fn series(
        &mut self,
        s: usize,
        id: &str,
        (start, end): (Timestamp, Timestamp),
        rrule: &str,
        skip: bool,
        now: Timestamp,
    ) -> Check<()> {
        use zs_engine::series::{Conflicts, NewSeries};
        self.stats.series_requests += 1;
        let rule = zs_core::series::Rule::parse(rrule).map_err(err)?;
        let zone = self.models[s].space.settings.zone.clone();
        // A series without an end is booked up to the horizon from now.
        let open = rule.end == zs_core::series::RuleEnd::Never;
        let until = now + SERIES_HORIZON;
        let planned: Vec<_> = zs_core::series::occurrences(&rule, &zone, start, end)
            .map_err(err)?
            .take_while(|o| !open || o.start <= until)
            .collect();
        let open_rule = open.then(|| rule.clone());
        let mut trial = self.models[s].clone();
        let (mut booked, mut skipped, mut refused) = (vec![], vec![], None);
        for o in &planned {
            let bid = BookingId::parse(&format!("{id}-{}", o.n)).map_err(err)?;
            match trial.refusal(o.start, o.end, now) {
                None => {
                    trial.book(bid.clone(), o.start, o.end, now);
                    trial.mark_series(&bid, id);
                    booked.push(bid.to_string());
                }
                Some(r) if skip => skipped.push((o.n, r)),
                Some(r) => {
                    refused = Some((o.n, r));
                    break;
                }
            }
        }
        let new = NewSeries {
            id: zs_core::SeriesId::parse(id).map_err(err)?,
            title: "sim".into(),
            start,
            end,
            rule,
            conflicts: if skip {
                Conflicts::Skip
            } else {
                Conflicts::Refuse
            },
        };
        match (
            self.engine.create_series(&space_id(s), new, None).await,
            refused,
        ) {
            (Ok(made), None) => {
                let got: Vec<String> = made.occurrences.iter().map(|b| b.id.to_string()).collect();
                if got != booked {
                    return Err(format!(
                        "series {id} ({rrule}) booked {got:?}; the rules book {booked:?}"
                    ));
                }
                let left: Vec<u32> = made.skipped.iter().map(|k| k.n).collect();
                let want: Vec<u32> = skipped.iter().map(|(n, _)| *n).collect();
                if left != want
                    || !made
                        .skipped
                        .iter()
                        .zip(&skipped)
                        .all(|(k, (_, r))| refused_as(Some(*r), &k.error))
                {
                    return Err(format!(
                        "series {id} ({rrule}) skipped {:?}; the rules skip {skipped:?}",
                        made.skipped
                            .iter()
                            .map(|k| (k.n, k.error.code()))
                            .collect::<Vec<_>>()
                    ));
                }
                self.models[s] = trial;
                self.made_series.push((s, id.to_owned()));
                if let Some(rule) = open_rule {
                    self.open_series.push(OpenSeries {
                        space: s,
                        id: id.to_owned(),
                        rule,
                        start,
                        end,
                        booked_until: Some(until),
                        cancelled_from: None,
                    });
                }
                self.stats.series += 1;
                self.stats.bookings += booked.len() as u64;
                self.stats.series_skipped += skipped.len() as u64;
            }
            (Err(EngineError::Occurrence { n, error, .. }), Some((want, r)))
                if n == want && refused_as(Some(r), &error) =>
            {
                self.stats.series_refused += 1;
            }
            (r, expect) => {
                return Err(format!(
                    "series {id} ({rrule}) on s{s} at {now}: {:?}; the rules say {expect:?}",
                    r.map(|m| m.occurrences.len())
                ));
            }
        }
        Ok(())
    }

    /// Extends the series without an end as the engine's loop does: each one booked up to
    /// less than `now + SERIES_HORIZON` gets its occurrences up to there (or up to its
    /// cancel), each decided on what the earlier ones left, a refused one left out; nothing
    /// more once it is cancelled from an instant within the horizon or released. The engine
    /// must book as many. Returns the spaces extended (their transactions caught them up).
    async fn extend_open_series(&mut self, now: Timestamp) -> Check<Vec<usize>> {
        // The engine's loop runs once a minute; the world extends once some series' horizon
        // has moved six hours (steps are minutes apart), and then every due series, as the
        // engine does.
        let until = now + SERIES_HORIZON;
        let due = self.open_series.iter().any(|o| {
            o.booked_until
                .is_some_and(|b| b + SignedDuration::from_hours(6) <= until)
        });
        if !due {
            return Ok(vec![]);
        }
        let mut touched = vec![];
        // The occurrences entering the horizon now, across every series: booked in start
        // order, at one start in the order the series were made (as the engine does).
        let mut entering = vec![];
        for (k, o) in self.open_series.iter_mut().enumerate() {
            let Some(from) = o.booked_until.filter(|b| *b < until) else {
                continue;
            };
            touched.push(o.space);
            let m = &mut self.models[o.space];
            m.settle(now);
            if m.is_released(&o.id) {
                o.booked_until = None;
                continue;
            }
            let bound = o
                .cancelled_from
                .map_or(until, |c| until.min(c - SignedDuration::from_millis(1)));
            let zone = m.space.settings.zone.clone();
            let list = zs_core::series::occurrences(&o.rule, &zone, o.start, o.end).map_err(err)?;
            for occ in list
                .skip_while(|x| x.start <= from)
                .take_while(|x| x.start <= bound)
            {
                entering.push((occ.start, k, occ));
            }
            o.booked_until = (bound >= until).then_some(until);
        }
        entering.sort_by_key(|(start, k, _)| (*start, *k));
        let mut booked = 0;
        for (_, k, occ) in entering {
            let o = &self.open_series[k];
            let m = &mut self.models[o.space];
            let bid = BookingId::parse(&format!("{}-{}", o.id, occ.n)).map_err(err)?;
            if m.knows(&bid) || m.refusal(occ.start, occ.end, now).is_some() {
                continue;
            }
            m.book(bid.clone(), occ.start, occ.end, now);
            m.mark_series(&bid, &o.id);
            booked += 1;
        }
        let got = self.engine.extend_series().await.map_err(err)?;
        if got != booked {
            return Err(format!(
                "extending the series without an end at {now} booked {got} occurrences; the rules book {booked}"
            ));
        }
        self.stats.bookings += booked as u64;
        self.stats.series_extended += booked as u64;
        Ok(touched)
    }

    /// Cancels a series: the engine must cancel exactly the occurrences the model has
    /// pending that start at or after `from`, in start order.
    async fn series_cancel(
        &mut self,
        s: usize,
        id: &str,
        from: Option<Timestamp>,
        now: Timestamp,
    ) -> Check<()> {
        let sid = zs_core::SeriesId::parse(id).map_err(err)?;
        let prefix = format!("{id}-");
        let m = &self.models[s];
        let mut want: Vec<(Timestamp, String, usize)> = m
            .bookings
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                b.facts.id.as_str().starts_with(&prefix)
                    && from.is_none_or(|f| b.facts.start >= f)
                    && m.status(*i, now).is_pending()
            })
            .map(|(i, b)| (b.facts.start, b.facts.id.to_string(), i))
            .collect();
        want.sort();
        let done = self
            .engine
            .cancel_series(&space_id(s), &sid, from)
            .await
            .map_err(|e| format!("cancelling series {id}: {e}"))?;
        let got: Vec<String> = done.cancelled.iter().map(|b| b.id.to_string()).collect();
        let expected: Vec<String> = want.iter().map(|(_, b, _)| b.clone()).collect();
        if got != expected {
            return Err(format!(
                "cancelling series {id} from {from:?} at {now} cancelled {got:?}; the rules cancel {expected:?}"
            ));
        }
        for (_, _, i) in want {
            self.models[s].record(i, EventKind::BookingCancelled, now);
        }
        let from = from.unwrap_or(Timestamp::MIN).max(now);
        for o in self.open_series.iter_mut().filter(|o| o.id == id) {
            o.cancelled_from = Some(o.cancelled_from.map_or(from, |c| c.min(from)));
        }
        self.stats.series_cancelled += got.len() as u64;
        Ok(())
    }

    async fn book_now(
        &mut self,
        s: usize,
        id: &str,
        duration: zs_core::Period,
        now: Timestamp,
    ) -> Check<()> {
        let bid = BookingId::parse(id).map_err(err)?;
        let start = zs_core::clock::to_millis(now);
        let end = start + duration.duration();
        let m = &self.models[s];
        let expect = if m.space.maintenance {
            Some(Refusal::Conflict)
        } else {
            m.refusal(start, end, now)
        };
        let walk_up = zs_core::WalkUp {
            id: bid.clone(),
            title: "walk-up".into(),
            duration,
        };
        match (
            self.engine.book_now(&space_id(s), walk_up, None).await,
            expect,
        ) {
            (Ok(b), None) => {
                if (b.start, b.end) != (start, end) {
                    return Err(format!(
                        "walk-up {id} stored [{}, {}), wanted [{start}, {end})",
                        b.start, b.end
                    ));
                }
                let m = &mut self.models[s];
                m.book(bid, start, end, now);
                let i = m.bookings.len() - 1;
                m.record(i, EventKind::UserChecksIn, now);
                self.stats.walk_ups += 1;
            }
            (Err(EngineError::Domain(d)), Some(r)) => {
                let conflict = d.kind() == zs_core::ErrorKind::Conflict;
                if conflict != (r == Refusal::Conflict) || !same_policy(Some(r), Some(d.code())) {
                    return Err(format!(
                        "walk-up {id} refused with {d}; the rules say {r:?}"
                    ));
                }
                self.stats.walk_ups_refused += 1;
                if matches!(r, Refusal::Policy(_)) {
                    self.stats.policy_refused += 1;
                }
            }
            (r, expect) => {
                return Err(format!(
                    "walk-up {id} on s{s} at {now} for {duration}: {:?}; the rules say {expect:?}",
                    r.map(|b| b.status)
                ));
            }
        }
        Ok(())
    }

    async fn sequence(&self, s: usize) -> Check<u64> {
        let mut c = self.engine.store.read().await.map_err(err)?;
        let (_, st) = spaces::get(&mut c, &space_id(s))
            .await
            .map_err(err)?
            .ok_or("space vanished")?;
        Ok(st.sequence)
    }

    /// Checks the spaces that changed or whose derived state may have: stored states
    /// against the oracle, gapless sequences, timers fired once and never early.
    async fn check(&mut self, now: Timestamp, touched: &[usize]) -> Check<()> {
        let mut dirty: HashSet<usize> = touched.iter().copied().collect();
        loop {
            match self.events.try_recv() {
                Ok(c) => {
                    if let Some(&i) = self.index.get(&c.transition.space_id) {
                        dirty.insert(i);
                    }
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => self.all_dirty = true,
                Err(_) => break,
            }
        }
        let list: Vec<usize> =
            if self.stalled_until.is_none() && std::mem::take(&mut self.all_dirty) {
                (0..self.models.len()).collect()
            } else {
                let mut v: Vec<usize> = dirty.into_iter().collect();
                v.sort_unstable();
                v
            };
        if list.is_empty() {
            return Ok(());
        }
        let ids: Vec<SpaceId> = list.iter().map(|&i| space_id(i)).collect();
        let refs: Vec<&SpaceId> = ids.iter().collect();
        let mut c = self.engine.store.read().await.map_err(err)?;
        let rows = spaces::get_many(&mut c, &refs).await.map_err(err)?;
        if rows.len() != list.len() {
            return Err(format!("{} spaces asked, {} found", list.len(), rows.len()));
        }
        for (space, st) in rows {
            let i = self.index[&space.id];
            let last = self.last_seq[i];
            if st.sequence < last {
                return Err(format!(
                    "{}: sequence went back from {last} to {} (a committed change was lost)",
                    space.id, st.sequence
                ));
            }
            let mut new = vec![];
            if st.sequence > last {
                new = spaces::history(&mut c, &space.id, (st.sequence - last) as i64)
                    .await
                    .map_err(err)?;
                new.reverse();
                for (k, t) in new.iter().enumerate() {
                    if t.to.sequence != last + 1 + k as u64 {
                        return Err(format!(
                            "{}: sequence gap: expected {}, found {}",
                            space.id,
                            last + 1 + k as u64,
                            t.to.sequence
                        ));
                    }
                    self.check_transition(i, t, now)?;
                }
                self.last_seq[i] = st.sequence;
            }
            let m = &mut self.models[i];
            // What passed while the space was not checked (a runner stall: starts, and
            // no-shows that count as strikes and may release a series) is settled before
            // its history is compared; every start before this step's maintenance change
            // was settled before it.
            m.settle(now);
            let want = m.replay(now);
            history::compare(space.id.as_str(), &new, &want)?;
            if space.maintenance != m.space.maintenance {
                return Err(format!(
                    "{}: maintenance stored {}, expected {}",
                    space.id, space.maintenance, m.space.maintenance
                ));
            }
            let d = m.derive(now);
            if (st.space, st.room, st.next_booking_at) != (d.space, d.room, d.next_booking_at) {
                return Err(format!(
                    "{} at {now}: stored {}/{} next {:?}, the oracle says {}/{} next {:?}; bookings {:?}",
                    space.id,
                    st.space,
                    st.room,
                    st.next_booking_at,
                    d.space,
                    d.room,
                    d.next_booking_at,
                    m.bookings.iter().map(|b| &b.facts).collect::<Vec<_>>()
                ));
            }
            m.prune(now);
            if let Some(old) = self.next_of[i].take() {
                self.schedule.remove(&(old, i));
            }
            if let Some(t) = m.next_change(now) {
                self.schedule.insert((t, i));
                self.next_of[i] = Some(t);
            }
        }
        Ok(())
    }

    fn check_transition(&mut self, i: usize, t: &zs_core::Transition, now: Timestamp) -> Check<()> {
        self.stats.transitions += 1;
        let at = t.to.since;
        if at > now {
            return Err(format!(
                "{}: {} recorded at {at}, after the clock's {now}",
                t.space_id, t.event
            ));
        }
        if !t.event.is_timer() {
            return Ok(());
        }
        self.stats.timer_transitions += 1;
        match (t.event, &t.booking_id) {
            (EventKind::DayStart | EventKind::DayEnd, _) => {
                if !self.day_fired.insert((i, t.event, at)) {
                    return Err(format!("{}: {} at {at} fired twice", t.space_id, t.event));
                }
                let open = self.models[i].space.settings.is_open(at);
                if open != (t.event == EventKind::DayStart) {
                    return Err(format!(
                        "{}: {} at {at}, but the space is {} then",
                        t.space_id,
                        t.event,
                        if open { "open" } else { "closed" }
                    ));
                }
            }
            (_, Some(b)) => {
                if !self.fired.insert((b.clone(), t.event)) {
                    return Err(format!("{}: {} for {b} fired twice", t.space_id, t.event));
                }
                if let Some(due) = self.models[i].timer_due(t.event, b) {
                    if due > now {
                        return Err(format!(
                            "{}: {} for {b} fired at clock {now}, early: due {due}",
                            t.space_id, t.event
                        ));
                    }
                    if at < due {
                        return Err(format!(
                            "{}: {} for {b} recorded at {at}, before its due {due}",
                            t.space_id, t.event
                        ));
                    }
                }
            }
            (e, None) => return Err(format!("{}: timer {e} without a booking", t.space_id)),
        }
        Ok(())
    }

    /// Runs to the end of every booking and delivery schedule with all receivers back,
    /// then checks the end state of everything.
    async fn finish(&mut self, plan: &PlanConfig) -> Check<()> {
        self.net.all_up();
        self.stalled_until = None;
        self.all_dirty = true;
        if self.crash_on_delivery {
            self.crash_on_delivery = false;
        }
        let last_end = self
            .models
            .iter()
            .flat_map(|m| m.bookings.iter().map(|b| b.facts.end))
            .max()
            .unwrap_or(plan.start);
        let schedule: SignedDuration = self
            .outbound
            .webhook_retry
            .delays()
            .iter()
            .map(|d| SignedDuration::try_from(*d).unwrap_or_default())
            .sum();
        let horizon = self.clock.now().max(last_end) + schedule + SignedDuration::from_hours(26);
        while self.clock.now() < horizon {
            let now = (self.clock.now() + SignedDuration::from_mins(30)).min(horizon);
            self.clock.set(now);
            self.run_timers().await?;
            let due = self.settle_due(now);
            self.run_outbox(None).await?;
            self.check(now, &due).await?;
        }
        self.all_dirty = true;
        let now = self.clock.now();
        self.check(now, &[]).await?;
        self.final_bookings(now).await?;
        self.final_deliveries().await?;
        self.final_status_posts()
    }

    async fn final_bookings(&mut self, now: Timestamp) -> Check<()> {
        let mut c = self.engine.store.read().await.map_err(err)?;
        let stored = bookings::list(&mut c, None, None, None, i64::MAX)
            .await
            .map_err(err)?;
        let mut expected: HashMap<BookingId, BookingStatus> = HashMap::new();
        let mut released: HashSet<BookingId> = HashSet::new();
        for m in &self.models {
            expected.extend(m.all(now).into_iter().map(|(f, st)| (f.id, st)));
            released.extend(m.released_ids().cloned());
            self.stats.series_released += m.released.len() as u64;
        }
        self.stats.released_occurrences = released.len() as u64;
        if stored.len() != expected.len() {
            return Err(format!(
                "{} bookings stored, {} accepted",
                stored.len(),
                expected.len()
            ));
        }
        for b in stored {
            let want = expected
                .get(&b.id)
                .ok_or_else(|| format!("booking {} stored but never accepted", b.id))?;
            if b.status != *want {
                return Err(format!(
                    "booking {} ends {:?}, the oracle says {want:?}",
                    b.id, b.status
                ));
            }
            let by_release = released.contains(&b.id);
            if by_release != (b.cancel_reason.as_deref() == Some("no_show_strikes")) {
                return Err(format!(
                    "booking {} cancelled with reason {:?}; released by its series: {by_release}",
                    b.id, b.cancel_reason
                ));
            }
            if !matches!(
                b.status,
                BookingStatus::Completed | BookingStatus::Cancelled | BookingStatus::NoShow
            ) {
                return Err(format!(
                    "booking {} never reached a terminal status ({:?})",
                    b.id, b.status
                ));
            }
        }
        // Every series counted its no-shows and was released as the facts say.
        for (s, id) in &self.made_series {
            let sid = zs_core::SeriesId::parse(id).map_err(err)?;
            let (stored, _) = zs_store::series::get_owned(&mut c, &sid)
                .await
                .map_err(err)?
                .ok_or_else(|| format!("series {id} made but not stored"))?;
            let want = self.models[*s].series_count(id);
            if (stored.no_shows, stored.released_at) != want {
                return Err(format!(
                    "series {id} on s{s} counts {} no-shows, released at {:?}; the facts say {want:?}",
                    stored.no_shows, stored.released_at
                ));
            }
        }
        let left = jobs::list(&mut c, Queue::MeetingScheduler, i64::MAX)
            .await
            .map_err(err)?;
        if let Some(j) = left.iter().find(|j| j.due <= now) {
            return Err(format!("timer job {} due {} never ran", j.id, j.due));
        }
        if let Some(j) = left.iter().find(|j| j.data.get("bookingId").is_some()) {
            return Err(format!(
                "booking timer {} left after every booking ended",
                j.id
            ));
        }
        Ok(())
    }

    /// Checks every delivery settled a retention ago, then has the engine delete them (as
    /// `serve` does); the engine must delete exactly those.
    async fn retire_deliveries(&mut self) -> Check<()> {
        let now = self.clock.now();
        let before = now - DELIVERY_RETENTION;
        self.next_retention = now + DELIVERY_RETENTION;
        let mut c = self.engine.store.read().await.map_err(err)?;
        let settled = deliveries::settled_before(&mut c, before, i64::MAX)
            .await
            .map_err(err)?;
        let ids = self.check_deliveries(&mut c, settled).await?;
        drop(c);
        let pruned = self.engine.prune_deliveries(before).await.map_err(err)?;
        if pruned != ids.len() as u64 {
            return Err(format!(
                "the retention deleted {pruned} deliveries settled before {before}; {} were",
                ids.len()
            ));
        }
        self.net.forget_webhooks(&ids);
        self.stats.deliveries_pruned += pruned;
        Ok(())
    }

    /// Checks deliveries (settled ones, or every one left at the end): a delivered one was
    /// received, a dead-lettered one used its whole schedule, none is pending, retries kept
    /// their delays; counts them. Returns their ids.
    async fn check_deliveries(
        &mut self,
        c: &mut zs_store::Conn,
        list: Vec<deliveries::Delivery>,
    ) -> Check<Vec<String>> {
        let every_event: HashSet<String> = deliveries::endpoints(c)
            .await
            .map_err(err)?
            .into_iter()
            .filter(|e| e.url.contains(RECEIVERS[1]))
            .map(|e| e.id)
            .collect();
        let schedule: &RetrySchedule = &self.outbound.webhook_retry;
        let mut ids = Vec::with_capacity(list.len());
        for d in list {
            if every_event.contains(&d.endpoint_id) {
                *self.sent.entry(d.event_type.clone()).or_default() += 1;
            }
            let acked = self
                .net
                .seen(|s| s.webhooks.get(&d.id).copied().unwrap_or(0));
            match d.status {
                DeliveryStatus::Delivered => {
                    if acked == 0 {
                        return Err(format!(
                            "delivery {} marked delivered, never received",
                            d.id
                        ));
                    }
                    self.stats.webhooks_delivered += 1;
                    self.stats.webhook_redeliveries += u64::from(acked - 1);
                }
                DeliveryStatus::Failed => {
                    if d.attempts != i64::from(schedule.max_attempts()) {
                        return Err(format!(
                            "delivery {} dead-lettered after {} of {} attempts",
                            d.id,
                            d.attempts,
                            schedule.max_attempts()
                        ));
                    }
                    self.stats.webhooks_dead += 1;
                }
                DeliveryStatus::Pending => {
                    return Err(format!("delivery {} left pending at the end", d.id));
                }
            }
            if d.status == DeliveryStatus::Failed || d.attempts > 1 {
                let attempts = deliveries::attempts(c, &d.id).await.map_err(err)?;
                for w in attempts.windows(2) {
                    let wanted = schedule
                        .delay_before(w[1].attempt as u32)
                        .unwrap_or_default();
                    let gap = w[1].at.duration_since(w[0].at);
                    if gap < SignedDuration::try_from(wanted).unwrap_or_default() {
                        return Err(format!(
                            "delivery {} attempt {} came {gap:#} after the last, schedule says {wanted:?}",
                            d.id, w[1].attempt
                        ));
                    }
                }
            }
            ids.push(d.id);
        }
        Ok(ids)
    }

    async fn final_deliveries(&mut self) -> Check<()> {
        let mut c = self.engine.store.read().await.map_err(err)?;
        let mut left = vec![];
        for e in deliveries::endpoints(&mut c).await.map_err(err)? {
            left.extend(
                deliveries::for_endpoint(&mut c, &e.id, i64::MAX)
                    .await
                    .map_err(err)?,
            );
        }
        let ids: HashSet<String> = self
            .check_deliveries(&mut c, left)
            .await?
            .into_iter()
            .collect();
        // The endpoint subscribed to every booking event got one message per fact (those
        // the retention deleted were counted before they went).
        let now = self.clock.now();
        let mut want: HashMap<&str, u64> = HashMap::new();
        for m in &self.models {
            *want.entry("series.released").or_default() += m.released.len() as u64;
            for (f, st) in m.all(now) {
                let mut add = |kind, yes: bool| *want.entry(kind).or_default() += u64::from(yes);
                add("booking.created", true);
                add("booking.start", m.starts(&f));
                add("booking.checked_in", f.checked_in_at.is_some());
                add("booking.no_show", st == BookingStatus::NoShow);
                add("booking.cancelled", st == BookingStatus::Cancelled);
            }
        }
        for (kind, n) in want {
            let got = self.sent.get(kind).copied().unwrap_or(0);
            if got != n {
                return Err(format!("{got} {kind} deliveries, the facts call for {n}"));
            }
        }
        let unknown = self
            .net
            .seen(|s| s.webhooks.keys().filter(|k| !ids.contains(*k)).count());
        if unknown > 0 {
            return Err(format!(
                "{unknown} webhook ids received that no delivery has"
            ));
        }
        Ok(())
    }

    fn final_status_posts(&mut self) -> Check<()> {
        let mut total = 0;
        for (i, &last) in self.last_seq.iter().enumerate() {
            let id = space_id(i);
            let seen = self
                .net
                .seen(|s| s.status.get(id.as_str()).cloned().unwrap_or_default());
            let mut first = vec![];
            let mut have = HashSet::new();
            for q in seen {
                if have.insert(q) {
                    first.push(q);
                }
            }
            let want: Vec<u64> = (1..=last).collect();
            if first != want {
                let missing: Vec<u64> =
                    want.iter().filter(|q| !have.contains(q)).copied().collect();
                return Err(format!(
                    "{id}: status posts arrived as {:?}… (missing {missing:?}), expected 1..={last} in order",
                    &first[..first.len().min(20)]
                ));
            }
            total += last;
        }
        self.stats.status_posts = total;
        Ok(())
    }
}
