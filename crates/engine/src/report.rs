//! Reporting what committed: transition-table misses as they are decided, and after the
//! commit the logs, metrics, broadcast and wake-ups of every outcome.

use crate::{Committed, Engine};
use jiff::Timestamp;
use zs_core::{Outcome, SpaceId};

impl Engine {
    /// Logs and counts the transition-table misses of `out`, decided on `space`.
    pub(crate) fn report_anomalies(&self, space: &SpaceId, out: &Outcome) {
        for a in &out.anomalies {
            tracing::error!(space = %space, error = %a, "transition table miss: applied the guards' state");
            metrics::counter!("zs_transition_table_misses_total").increment(1);
        }
    }

    /// Reports committed timer outcomes: lateness, logs, broadcast, wake-ups. Every path a
    /// timer fires from ends here (the store's runner, a Redis timer job, a catch-up), so
    /// `zs_timer_lateness_seconds` sees them all.
    pub(crate) fn after_timers(&self, outcomes: &[(Outcome, Option<Timestamp>)]) {
        // The engine's clock, like the due instants: a manual clock measures its own lateness.
        let late = zs_core::clock::to_millis(self.clock.now());
        for (_, d) in outcomes {
            if let Some(d) = d {
                let secs = late.duration_since(*d).as_secs_f64().max(0.0);
                metrics::histogram!("zs_timer_lateness_seconds").record(secs);
            }
        }
        self.after_commit(outcomes.iter().map(|(o, d)| (o, *d)));
    }

    /// Logs, counts, broadcasts and wakes workers for what just committed; timer outcomes
    /// carry their due instant.
    pub(crate) fn after_commit<'o>(
        &self,
        outcomes: impl IntoIterator<Item = (&'o Outcome, Option<Timestamp>)>,
    ) {
        let committed_at = Timestamp::now();
        // The earliest timer planned, and which delivery queues were given jobs.
        let mut earliest_timer: Option<Timestamp> = None;
        let mut status_posts = false;
        let mut webhooks = false;
        for (out, due) in outcomes {
            for t in &out.timers {
                match t {
                    zs_core::TimerChange::Schedule(t) => {
                        earliest_timer = Some(earliest_timer.map_or(t.due, |e| e.min(t.due)));
                    }
                    zs_core::TimerChange::Remove(_) | zs_core::TimerChange::RemoveBooking(_) => {}
                }
            }
            webhooks |= !out.notices.is_empty();
            status_posts |= out.transition.is_some() && self.outbound.status_url.is_some();
            if let Some(t) = &out.transition {
                tracing::info!(
                    space = %t.space_id, event = %t.event, booking = t.booking_id.as_ref().map_or("-", |b| b.as_str()),
                    from = %Pair(&t.from_space, &t.from_room),
                    to = %Pair(&t.to.space, &t.to.room), sequence = t.to.sequence, "transition"
                );
                metrics::counter!("zs_transitions_total", "event" => t.event.as_str()).increment(1);
                self.publish(Committed {
                    transition: t.clone(),
                    committed_at,
                    due,
                });
            }
        }
        if let Some(due) = earliest_timer {
            self.wake_timers_for(due);
        }
        if status_posts {
            self.wake_queue(zs_store::Queue::StatusUpdates);
        }
        if webhooks {
            self.wake_queue(zs_store::Queue::WebhookDeliveries);
        }
    }
}

/// A space and room state written `space/room` in a log line, without building a string.
struct Pair<'a, S, R>(&'a S, &'a R);

impl<S: std::fmt::Display, R: std::fmt::Display> std::fmt::Display for Pair<'_, S, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.0, self.1)
    }
}
