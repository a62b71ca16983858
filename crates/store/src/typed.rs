//! The typed values the store keeps in its columns: job queue names, a job's relay mark
//! and a delivery's status. Each has one mapping to what is stored and one parse back, and
//! the SQL binds them as parameters: no queue name, relay number or delivery status is
//! written as a literal in a query.

use serde::Serialize;
use std::fmt;

/// A durable job queue (`jobs.queue`). The names are also the BullMQ queue names in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Queue {
    /// `meetingScheduler`: timers and ingress jobs from other services.
    MeetingScheduler,
    /// `statusUpdateQueue`: status posts to the core platform.
    StatusUpdates,
    /// `webhookDeliveryQueue`: webhook deliveries.
    WebhookDeliveries,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Queue; 3] = [
        Self::MeetingScheduler,
        Self::StatusUpdates,
        Self::WebhookDeliveries,
    ];

    /// The stored (and Redis) name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::MeetingScheduler => "meetingScheduler",
            Self::StatusUpdates => "statusUpdateQueue",
            Self::WebhookDeliveries => "webhookDeliveryQueue",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a job's current plan is in the BullMQ queue in Redis (`jobs.relayed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relay {
    /// Not relayed yet (or to relay again): `0`.
    Pending,
    /// Added to the Redis queue: `1`.
    Relayed,
    /// Relayed and leased by a queue worker: `2`. If the lease runs out the store's runner
    /// takes the job at once.
    Claimed,
}

impl Relay {
    /// Every mark.
    pub const ALL: [Relay; 3] = [Self::Pending, Self::Relayed, Self::Claimed];

    /// The stored number.
    pub const fn as_i64(self) -> i64 {
        match self {
            Self::Pending => 0,
            Self::Relayed => 1,
            Self::Claimed => 2,
        }
    }

    /// Parses a stored number.
    pub fn parse(n: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_i64() == n)
    }
}

/// Where a webhook delivery stands (`deliveries.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Attempts are still to come.
    Pending,
    /// The endpoint accepted it.
    Delivered,
    /// Dead-lettered: refused for good, out of attempts, or its endpoint deleted.
    Failed,
}

impl DeliveryStatus {
    /// Every status.
    pub const ALL: [DeliveryStatus; 3] = [Self::Pending, Self::Delivered, Self::Failed];

    /// The stored (and API) string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored values are the ones earlier versions wrote (no migration): a change here
    /// would orphan stored rows and Redis queues.
    #[test]
    fn stored_values_are_unchanged() {
        let queues: Vec<_> = Queue::ALL.iter().map(|q| q.as_str()).collect();
        assert_eq!(
            queues,
            [
                "meetingScheduler",
                "statusUpdateQueue",
                "webhookDeliveryQueue"
            ]
        );
        let marks: Vec<_> = Relay::ALL.iter().map(|r| r.as_i64()).collect();
        assert_eq!(marks, [0, 1, 2]);
        let statuses: Vec<_> = DeliveryStatus::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(statuses, ["pending", "delivered", "failed"]);
        assert_eq!(
            serde_json::to_value(DeliveryStatus::Failed).unwrap(),
            serde_json::json!("failed")
        );
    }

    #[test]
    fn every_value_parses_back_and_nothing_else_does() {
        for q in Queue::ALL {
            assert_eq!(Queue::parse(q.as_str()), Some(q));
        }
        for r in Relay::ALL {
            assert_eq!(Relay::parse(r.as_i64()), Some(r));
        }
        for d in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(d.as_str()), Some(d));
        }
        assert_eq!(Queue::parse("MeetingScheduler"), None);
        assert_eq!(Relay::parse(3), None);
        assert_eq!(DeliveryStatus::parse("dead"), None);
    }
}
