//! Writing an outcome: bookings, status, history, timer jobs, status posts and webhook
//! deliveries, all in the caller's transaction.

use crate::{Engine, EngineError, payload};
use jiff::Timestamp;
use zs_core::{Outcome, SpaceFacts, TimerChange};
use zs_store::jobs::{self, MEETING_SCHEDULER, NewJob, STATUS_UPDATES, WEBHOOK_DELIVERIES};
use zs_store::{Conn, bookings, deliveries, spaces};

/// The job for a timer.
pub fn timer_job(t: &zs_core::Timer) -> NewJob {
    NewJob {
        id: t.id.clone(),
        queue: MEETING_SCHEDULER,
        name: t.event.as_str().to_owned(),
        data: payload::timer_data(t),
        due: t.due,
        rank: t.event.same_instant_rank(),
        group: None,
    }
}

impl Engine {
    pub(crate) async fn persist(
        &self,
        c: &mut Conn,
        f: &SpaceFacts,
        out: &Outcome,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        for id in &out.touched {
            if let Some(b) = f.bookings.iter().find(|b| &b.id == id) {
                bookings::upsert(c, b).await?;
            }
        }
        if out.transition.is_some() || out.maintenance_changed {
            spaces::update(c, &f.space, &f.status).await?;
        }
        for change in &out.timers {
            match change {
                TimerChange::Schedule(t) => jobs::put(c, &timer_job(t), at).await?,
                TimerChange::Remove(id) => {
                    jobs::remove(c, id).await?;
                }
                TimerChange::RemoveBooking(b) => {
                    jobs::remove_prefix(c, MEETING_SCHEDULER, &format!("{b}.")).await?;
                }
            }
        }
        if let Some(t) = &out.transition {
            spaces::insert_transition(c, t).await?;
            if self.outbound.status_url.is_some() {
                let job = NewJob {
                    id: format!("status.{}.{}", t.space_id, t.to.sequence),
                    queue: STATUS_UPDATES,
                    name: "status".into(),
                    data: payload::status_post(t),
                    due: at,
                    rank: 9,
                    group: Some(t.space_id.to_string()),
                };
                jobs::put(c, &job, at).await?;
            }
        }
        self.enqueue_webhooks(c, f, out, at).await
    }

    async fn enqueue_webhooks(
        &self,
        c: &mut Conn,
        f: &SpaceFacts,
        out: &Outcome,
        at: Timestamp,
    ) -> Result<(), EngineError> {
        if out.notices.is_empty() {
            return Ok(());
        }
        let endpoints = self.endpoints(c).await?;
        for notice in &out.notices {
            let ty = notice.webhook_type();
            let body = payload::webhook_body(notice, f, out.transition.as_ref(), at);
            for e in endpoints.iter().filter(|e| e.wants(ty)) {
                let d = deliveries::Delivery {
                    id: payload::message_id(),
                    endpoint_id: e.id.clone(),
                    event_type: ty.to_owned(),
                    body: body.clone(),
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: Some(at),
                    last_status: None,
                    last_error: None,
                    created_at: at,
                };
                deliveries::insert(c, &d).await?;
                let job = NewJob {
                    id: d.id.clone(),
                    queue: WEBHOOK_DELIVERIES,
                    name: ty.to_owned(),
                    data: serde_json::json!({ "deliveryId": d.id, "endpointId": e.id }),
                    due: at,
                    rank: 9,
                    group: None,
                };
                jobs::put(c, &job, at).await?;
            }
        }
        Ok(())
    }
}
