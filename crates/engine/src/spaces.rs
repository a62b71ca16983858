//! Commands that are not machine events: creating and reconfiguring spaces, creating
//! bookings (BOOKING_CREATED with a global id check) and managing webhook endpoints.

use crate::space_tx::{Reported, SpaceTx};
use crate::timer_codec::timer_job;
use crate::{Applied, Engine, EngineError};
use zs_core::timer::{day_timer_prefix, next_day_timer};
use zs_core::{Command, EventKind, NewBooking, Space, SpaceId, SpaceSettings, initial_status};
use zs_delivery::WebhookSecret;
use zs_store::Queue;
use zs_store::deliveries::{self, Endpoint};
use zs_store::jobs;
use zs_store::{auth, bookings, spaces};

impl Engine {
    /// Creates a space with its first business-hours timer.
    pub async fn create_space(&self, space: Space) -> Result<zs_core::SpaceStatus, EngineError> {
        let mut tx = self.store.begin().await?;
        let at = self.clock.now();
        let mut status = initial_status(&space, &[], at);
        // A space deleted with this id went up to some sequence: continue above it, so
        // status receivers, which drop a sequence not above the last they saw, take ours.
        if let Some(last) = spaces::deleted_sequence(&mut tx, &space.id).await? {
            status.sequence = status.sequence.max(last);
        }
        if !spaces::insert(&mut tx, &space, &status).await? {
            return Err(EngineError::Exists(format!("space {}", space.id)));
        }
        if let Some(t) = next_day_timer(&space, at) {
            jobs::put(&mut tx, &timer_job(&t), at).await?;
        }
        tx.commit().await?;
        self.wake_timers();
        tracing::info!(space = %space.id, state = %status.space, room = %status.room, "space created");
        Ok(status)
    }

    /// Changes a space's name and settings. Timing settings (lead, grace, cleaning) may only
    /// change while the space has no live bookings; new hours must still hold every live
    /// booking. Crossing into or out of business hours applies `DAY_START`/`DAY_END` now.
    ///
    /// The space's due timers are applied first, in the same transaction (as for every
    /// command: [`Engine::execute`]): a `DAY_END` that is overdue when the hours change is
    /// applied, not dropped with the old plan.
    pub async fn update_space(
        &self,
        id: &SpaceId,
        name: String,
        settings: SpaceSettings,
    ) -> Result<Applied, EngineError> {
        let mut t = SpaceTx::open(self, id).await?;
        let r = self.update_in(&mut t, id, name, settings).await;
        let applied = t.finish(r).await?;
        self.wake_timers();
        Ok(applied)
    }

    /// The body of [`Engine::update_space`], inside its transaction.
    async fn update_in(
        &self,
        t: &mut SpaceTx<'_>,
        id: &SpaceId,
        name: String,
        settings: SpaceSettings,
    ) -> Result<Applied, EngineError> {
        let (mut space, status) = t.space().await?;
        let at = t.at();
        let live: Vec<_> = bookings::working_set(t.conn(), id, at, 0, None)
            .await?
            .into_iter()
            .filter(|b| b.status.is_live())
            .collect();
        let old = space.settings.clone();
        let timing_changed = (old.upcoming_lead, old.no_show_grace, old.cleaning)
            != (
                settings.upcoming_lead,
                settings.no_show_grace,
                settings.cleaning,
            );
        if timing_changed && !live.is_empty() {
            return Err(EngineError::Invalid(
                "upcomingLead, noShowGrace and cleaning can only change while the space has no live bookings".into(),
            ));
        }
        let probe = Space {
            settings: settings.clone(),
            ..space.clone()
        };
        if let Some(b) = live.iter().find(|b| !fits(&probe, b)) {
            return Err(EngineError::Invalid(format!(
                "booking {} would fall outside the new business hours",
                b.id
            )));
        }
        let was_open = old.is_open(at);
        space.name = name;
        space.settings = settings;
        spaces::update(t.conn(), &space, &status).await?;
        replan_day_timer(t.conn(), &space, at).await?;
        let crossing = match (was_open, space.settings.is_open(at)) {
            (false, true) => Some(EventKind::DayStart),
            (true, false) => Some(EventKind::DayEnd),
            _ => None,
        };
        let applied = match crossing {
            Some(event) => {
                // As just written.
                t.hold((space.clone(), status));
                let a = t
                    .apply(Command::Timer {
                        event,
                        booking: None,
                    })
                    .await?;
                replan_day_timer(t.conn(), &space, at).await?;
                a
            }
            None => {
                let facts = zs_core::SpaceFacts {
                    space,
                    status,
                    bookings: live,
                };
                Applied {
                    facts,
                    outcome: Default::default(),
                    at,
                    released: vec![],
                }
            }
        };
        Ok(applied)
    }

    /// Deletes a space that has no live booking, with everything only it had (its
    /// bookings, history, pending timers: see `zs_store::spaces::delete`), in one
    /// transaction. Its timers due by now are applied first, as for every command, so a
    /// booking whose end has passed counts as finished. Already queued status posts and
    /// webhook deliveries are still sent.
    pub async fn delete_space(&self, id: &SpaceId) -> Result<(), EngineError> {
        let mut t = SpaceTx::open(self, id).await?;
        let at = t.at();
        let r = async {
            let live = bookings::live_ids(t.conn(), id).await?;
            if !live.is_empty() {
                return Err(EngineError::LiveBookings(id.clone(), live));
            }
            if !spaces::delete(t.conn(), id, at).await? {
                return Err(EngineError::NotFound(format!("space {id}")));
            }
            Ok(())
        }
        .await;
        t.finish(r).await?;
        self.wake_timers();
        tracing::info!(space = %id, "space deleted");
        Ok(())
    }

    /// Creates a booking (`BOOKING_CREATED`): ids are unique across spaces. With an
    /// idempotency key, a repeat returns the first response, decided in the same transaction.
    pub async fn create_booking(
        &self,
        space: &SpaceId,
        n: NewBooking,
        idem: Option<Idempotency>,
    ) -> Result<Created, EngineError> {
        self.create_owned_booking(space, n, idem, None).await
    }

    /// [`Engine::create_booking`], recording `owner` (the creating token's id) on the
    /// booking in the same transaction.
    pub async fn create_owned_booking(
        &self,
        space: &SpaceId,
        n: NewBooking,
        idem: Option<Idempotency>,
        owner: Option<&str>,
    ) -> Result<Created, EngineError> {
        // The space's due timers first, as for every command (`Engine::execute`); this also
        // locks the space (PostgreSQL): a concurrent repeat of this request waits here and
        // then finds the stored response instead of racing it.
        let id = n.id.clone();
        let mut t = SpaceTx::open(self, space).await?;
        let r = async {
            let created = self.create_in(&mut t, n, idem.as_ref()).await?;
            if let (Created::New { .. }, Some(owner)) = (&created, owner) {
                // In the creating transaction: a failure here rolls the booking back.
                bookings::set_owner(t.conn(), &id, owner).await?;
            }
            Ok(created)
        }
        .await;
        // A repeat wrote nothing of its own: what the catch-up applied is kept.
        t.finish(r).await
    }

    /// The body of [`Engine::create_booking`], inside its transaction.
    async fn create_in(
        &self,
        t: &mut SpaceTx<'_>,
        n: NewBooking,
        idem: Option<&Idempotency>,
    ) -> Result<Created, EngineError> {
        let at = t.at();
        let earlier = match idem {
            Some(k) => auth::idempotent(t.conn(), &k.scope, &k.key)
                .await?
                .map(|r| (k, r)),
            None => None,
        };
        if let Some((k, r)) = earlier {
            if r.request_hash != k.request_hash {
                return Err(EngineError::Invalid(
                    "Idempotency-Key was already used with a different request".into(),
                ));
            }
            return Ok(Created::Replayed {
                status: r.status,
                body: r.body,
            });
        }
        if bookings::get(t.conn(), &n.id).await?.is_some() {
            return Err(EngineError::Exists(format!("booking {}", n.id)));
        }
        let id = n.id.clone();
        let applied = t.apply(Command::Create(n)).await?;
        let booking = applied
            .facts
            .bookings
            .iter()
            .find(|b| b.id == id)
            .expect("just created");
        let body = crate::payload::booking_json(booking).to_string();
        if let Some(k) = idem {
            let r = auth::IdempotentResponse {
                request_hash: k.request_hash.clone(),
                status: 201,
                body: body.clone(),
            };
            auth::remember(t.conn(), &k.scope, &k.key, &r, at).await?;
        }
        Ok(Created::New {
            applied: Box::new(applied),
            body,
        })
    }

    /// Adds a webhook endpoint with a fresh signing secret, stored sealed; returns the
    /// endpoint (as stored) and the secret (to show once).
    pub async fn create_endpoint(
        &self,
        url: String,
        events: Vec<String>,
    ) -> Result<(Endpoint, WebhookSecret), EngineError> {
        zs_delivery::ssrf::check_url(&url, self.outbound.allow_private)
            .map_err(|e| EngineError::Invalid(e.to_string()))?;
        let id = format!("ep_{}", &crate::payload::message_id()[4..]);
        let (secret, sealed) = self.new_secret(&id);
        let e = Endpoint {
            id,
            url,
            events,
            secret: sealed,
            previous_secret: None,
            previous_until: None,
            created_at: self.clock.now(),
        };
        let mut tx = self.store.begin().await?;
        deliveries::insert_endpoint(&mut tx, &e).await?;
        tx.commit().await?;
        self.invalidate_endpoints();
        Ok((e, secret))
    }

    /// Removes a webhook endpoint; its pending deliveries are marked failed.
    pub async fn delete_endpoint(&self, id: &str) -> Result<(), EngineError> {
        let mut tx = self.store.begin().await?;
        let found = deliveries::delete_endpoint(&mut tx, id).await?;
        tx.commit().await?;
        self.invalidate_endpoints();
        if found {
            Ok(())
        } else {
            Err(EngineError::NotFound(format!("webhook {id}")))
        }
    }
}

/// Replaces the space's business-hours timer by the next one from `at`.
async fn replan_day_timer(
    c: &mut zs_store::Conn,
    space: &Space,
    at: jiff::Timestamp,
) -> Result<(), EngineError> {
    jobs::remove_prefix(
        c,
        Queue::MeetingScheduler,
        space.id.as_str(),
        &day_timer_prefix(&space.id),
    )
    .await?;
    if let Some(t) = next_day_timer(space, at) {
        jobs::put(c, &timer_job(&t), at).await?;
    }
    Ok(())
}

fn fits(space: &Space, b: &zs_core::Booking) -> bool {
    match space.settings.interval_end(b.start) {
        Ok(None) => true,
        Ok(Some(close)) => b.end <= close,
        Err(()) => false,
    }
}

/// An idempotency key and the request it guards.
#[derive(Debug, Clone)]
pub struct Idempotency {
    /// Whose key (the caller's token hash): keys of different callers never collide.
    pub scope: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// A hash of the request body: reusing a key for another request is refused.
    pub request_hash: String,
}

/// The result of a booking create.
#[derive(Debug)]
pub enum Created {
    /// A new booking.
    New {
        /// What it did.
        applied: Box<Applied>,
        /// The response body (the booking).
        body: String,
    },
    /// A repeat of an earlier request with the same key.
    Replayed {
        /// The first response's status.
        status: u16,
        /// The first response's body.
        body: String,
    },
}

impl Reported for Created {
    fn outcomes(&self) -> Vec<&zs_core::Outcome> {
        match self {
            Created::New { applied, .. } => applied.outcomes(),
            Created::Replayed { .. } => vec![],
        }
    }
}
