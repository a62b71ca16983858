//! Writing outcomes: bookings, statuses, history, timer jobs, status posts and webhook
//! deliveries. Outcomes are gathered in [`Writes`] and flushed with a handful of bulk
//! statements, so a batch of due timers costs about as much as one.

use crate::{Engine, EngineError, payload, timer_codec};
use jiff::Timestamp;
use std::collections::BTreeMap;
use zs_core::{Booking, Outcome, Space, SpaceFacts, SpaceStatus, TimerChange, Transition};
use zs_store::Queue;
use zs_store::deliveries::{self, Delivery, Endpoint};
use zs_store::jobs::{self, NewJob};
use zs_store::{Conn, bookings, spaces};

/// A change to the job tables, kept in order.
enum JobOp {
    Put(NewJob),
    Remove(String),
    /// The jobs of a group (a space) whose ids start with a prefix.
    RemovePrefix {
        group: String,
        prefix: String,
    },
}

/// Everything a transaction will write, gathered from one or more outcomes.
#[derive(Default)]
pub(crate) struct Writes {
    bookings: BTreeMap<String, Booking>,
    created: Vec<String>,
    spaces: BTreeMap<String, (Space, SpaceStatus)>,
    transitions: Vec<Transition>,
    jobs: Vec<JobOp>,
    deliveries: Vec<Delivery>,
}

impl Writes {
    /// Adds what `out` changed in `f` at `at`.
    pub(crate) fn add(
        &mut self,
        e: &Engine,
        endpoints: &[Endpoint],
        f: &SpaceFacts,
        out: &Outcome,
        at: Timestamp,
    ) {
        for id in &out.touched {
            if let Some(b) = f.bookings.iter().find(|b| &b.id == id) {
                self.bookings.insert(id.to_string(), b.clone());
            }
        }
        if let Some(id) = &out.created {
            self.created.push(id.to_string());
        }
        if out.transition.is_some() || out.maintenance_changed {
            self.spaces
                .insert(f.space.id.to_string(), (f.space.clone(), f.status.clone()));
        }
        for change in &out.timers {
            self.jobs.push(match change {
                TimerChange::Schedule(t) => JobOp::Put(timer_codec::timer_job(t)),
                TimerChange::Remove(id) => JobOp::Remove(id.clone()),
                TimerChange::RemoveBooking(b) => JobOp::RemovePrefix {
                    group: f.space.id.as_str().to_owned(),
                    prefix: format!("{b}."),
                },
            });
        }
        if let Some(t) = &out.transition {
            if e.outbound.status_url.is_some() {
                self.jobs.push(JobOp::Put(NewJob {
                    id: format!("status.{}.{}", t.space_id, t.to.sequence),
                    queue: Queue::StatusUpdates,
                    name: "status".into(),
                    data: payload::status_post(t),
                    due: at,
                    rank: 9,
                    group: Some(t.space_id.to_string()),
                }));
            }
            self.transitions.push(t.clone());
        }
        for notice in &out.notices {
            let ty = notice.webhook_type();
            let mut body = None;
            for ep in endpoints.iter().filter(|ep| ep.wants(ty)) {
                let body = body.get_or_insert_with(|| {
                    payload::webhook_body(notice, f, out.transition.as_ref(), at)
                });
                let d = Delivery::pending(
                    payload::message_id(),
                    ep.id.clone(),
                    ty.to_owned(),
                    body.clone(),
                    at,
                );
                self.jobs.push(JobOp::Put(NewJob {
                    id: d.id.clone(),
                    queue: Queue::WebhookDeliveries,
                    name: ty.to_owned(),
                    data: serde_json::json!({ "deliveryId": d.id, "endpointId": ep.id }),
                    due: at,
                    rank: 9,
                    group: None,
                }));
                self.deliveries.push(d);
            }
        }
    }

    /// Writes everything, in a few statements.
    pub(crate) async fn flush(self, c: &mut Conn, now: Timestamp) -> Result<(), EngineError> {
        let (new, changed): (Vec<&Booking>, Vec<&Booking>) = self
            .bookings
            .values()
            .partition(|b| self.created.iter().any(|id| id == b.id.as_str()));
        bookings::upsert_many(c, &new).await?;
        bookings::update_many(c, &changed).await?;
        let s: Vec<(&Space, &SpaceStatus)> = self.spaces.values().map(|(a, b)| (a, b)).collect();
        spaces::update_status_many(c, &s).await?;
        let t: Vec<&Transition> = self.transitions.iter().collect();
        spaces::insert_transitions(c, &t).await?;
        deliveries::insert_many(c, &self.deliveries).await?;
        let mut puts: Vec<NewJob> = vec![];
        for op in self.jobs {
            match op {
                JobOp::Put(j) => puts.push(j),
                JobOp::Remove(id) => {
                    jobs::put_many(c, &std::mem::take(&mut puts), now).await?;
                    jobs::remove(c, &id).await?;
                }
                JobOp::RemovePrefix { group, prefix } => {
                    jobs::put_many(c, &std::mem::take(&mut puts), now).await?;
                    jobs::remove_prefix(c, Queue::MeetingScheduler, &group, &prefix).await?;
                }
            }
        }
        jobs::put_many(c, &puts, now).await?;
        Ok(())
    }
}

impl Engine {
    /// Writes one outcome.
    pub(crate) async fn persist(
        &self,
        c: &mut Conn,
        f: &SpaceFacts,
        out: &Outcome,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        let endpoints = if out.notices.is_empty() {
            Default::default()
        } else {
            self.endpoints(c).await?
        };
        let mut w = Writes::default();
        w.add(self, &endpoints, f, out, at);
        w.flush(c, at).await
    }
}
