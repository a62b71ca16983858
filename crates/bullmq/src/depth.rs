//! How many unfinished jobs each of our BullMQ queues holds in Redis, read in one pipelined
//! round trip (for `zs_queue_depth`).
//!
//! Unfinished means in any list or set a job passes through before it completes or fails
//! (spec/bullmq-protocol.md §2): `wait`, `paused` and `active` (lists), `delayed`,
//! `prioritized` and `waiting-children` (sorted sets). Finished jobs (`completed`,
//! `failed`) are history, not depth.

use bullmq::QueueKeys;
use std::time::Duration;

/// How long a count waits for Redis: a Redis that is down must not hold a scrape.
const COUNT_WITHIN: Duration = Duration::from_secs(1);

/// Counts the jobs of some queues under one prefix, on a connection of its own (dropped
/// after a failure, so the next count connects afresh).
pub struct QueueCounts {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    queues: Vec<(&'static str, QueueKeys)>,
}

/// The keys of `keys` that hold unfinished jobs, each with the command that counts it.
fn counted(keys: &QueueKeys) -> [(&'static str, String); 6] {
    [
        ("LLEN", keys.wait()),
        ("LLEN", keys.paused()),
        ("LLEN", keys.active()),
        ("ZCARD", keys.delayed()),
        ("ZCARD", keys.prioritized()),
        ("ZCARD", keys.waiting_children()),
    ]
}

impl QueueCounts {
    /// Counts `queues` under `prefix` on the Redis at `redis_url` (it connects at the first
    /// count).
    pub fn new(redis_url: &str, prefix: &str, queues: &[&'static str]) -> Result<Self, String> {
        let client = redis::Client::open(redis_url).map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            conn: tokio::sync::Mutex::new(None),
            queues: queues
                .iter()
                .map(|q| (*q, QueueKeys::new(q, Some(prefix))))
                .collect(),
        })
    }

    /// The unfinished jobs of each queue, `(queue, jobs)` in the order given to
    /// [`QueueCounts::new`], all read in one round trip; `Err` says why not.
    pub async fn count(&self) -> Result<Vec<(&'static str, u64)>, String> {
        let mut pipe = redis::pipe();
        for (_, keys) in &self.queues {
            for (command, key) in counted(keys) {
                pipe.cmd(command).arg(key);
            }
        }
        let mut slot = self.conn.lock().await;
        let answer = tokio::time::timeout(COUNT_WITHIN, async {
            if slot.is_none() {
                *slot = Some(self.client.get_multiplexed_async_connection().await?);
            }
            let conn = slot.as_mut().expect("connected above");
            pipe.query_async::<Vec<u64>>(conn).await
        })
        .await;
        let failure = match answer {
            Ok(Ok(counts)) => return Ok(self.sum(&counts)),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} s", COUNT_WITHIN.as_secs()),
        };
        *slot = None;
        Err(failure)
    }

    /// Adds up the answers of [`QueueCounts::count`]'s pipeline per queue.
    fn sum(&self, counts: &[u64]) -> Vec<(&'static str, u64)> {
        let per_queue = counts.len() / self.queues.len().max(1);
        self.queues
            .iter()
            .zip(counts.chunks(per_queue.max(1)))
            .map(|((name, _), c)| (*name, c.iter().sum()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unfinished_state_is_counted_and_no_finished_one() {
        let keys = QueueKeys::new("meetingScheduler", Some("zs"));
        let names: Vec<String> = counted(&keys).into_iter().map(|(_, k)| k).collect();
        for state in [
            "wait",
            "paused",
            "active",
            "delayed",
            "prioritized",
            "waiting-children",
        ] {
            assert!(
                names.contains(&format!("zs:meetingScheduler:{state}")),
                "{state} not counted"
            );
        }
        assert!(
            !names
                .iter()
                .any(|k| k.ends_with(":completed") || k.ends_with(":failed"))
        );
    }

    #[test]
    fn answers_add_up_per_queue_in_order() {
        let c = QueueCounts::new("redis://127.0.0.1:1", "p", &["a", "b"]).unwrap();
        let answers = [1, 0, 2, 40, 0, 0, 0, 0, 0, 3, 0, 1];
        assert_eq!(c.sum(&answers), vec![("a", 43), ("b", 4)]);
    }
}
