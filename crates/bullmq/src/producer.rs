//! Our producer on a BullMQ queue: timer and delivery jobs added through `bullmq-official`
//! so that Node's `bullmq` 6.7.0 reads them exactly as jobs it added itself.
//!
//! Compatibility choices (spec/bullmq-protocol.md §4, §13, §15):
//! - `attempts` is always stored (Node's `Queue.add` always stores it, default 0);
//! - a due instant becomes `timestamp = now` and `delay = due − now`, so a queue inspector
//!   sees `timestamp + delay` = the due instant;
//! - custom ids follow Node's rules, tightened: never integer-like, never with `:`;
//! - the crate writes `meta.library` instead of Node's `meta.version`, so the producer also
//!   fills `meta.version` when it is missing, and Node's `Queue.getVersion()` is not null.

use crate::QueueError;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What `meta.version` says when our producer is the first to touch a queue: Node writes
/// `{libName}:{version}`; keep this in step with the `bullmq-official` dependency.
pub const LIBRARY_VERSION: &str = "bullmq-official:1.4.4";

/// A custom job id Node's `bullmq` accepts and that cannot collide with an auto id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobId(String);

/// Why a string is not a usable job id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job id {id:?} {why}")]
pub struct InvalidJobId {
    id: String,
    why: &'static str,
}

impl JobId {
    /// Parses a deterministic job id (e.g. `bk-42-start`): not empty, at most 255 bytes, no
    /// `:` (the key separator), and not integer-like (auto ids are integers).
    pub fn parse(id: &str) -> Result<Self, InvalidJobId> {
        let bad = |why| {
            Err(InvalidJobId {
                id: id.to_owned(),
                why,
            })
        };
        let digits = id.strip_prefix('-').unwrap_or(id);
        if id.is_empty() || id.len() > 255 {
            bad("must have 1 to 255 bytes")
        } else if id.contains(':') {
            bad("must not contain ':'")
        } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            bad("must not be an integer (those are BullMQ's auto ids)")
        } else {
            Ok(Self(id.to_owned()))
        }
    }

    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// When a job becomes ready to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// At once (a `wait` job).
    Now,
    /// After a delay from now (a `delayed` job).
    After(Duration),
    /// At an instant (a `delayed` job; at once when the instant is not in the future).
    At(SystemTime),
}

/// How long a failed attempt waits before the next one (BullMQ's built-in strategies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backoff {
    /// The same wait before every retry.
    Fixed(Duration),
    /// `delay`, then 2×, 4×, … (`2^(attempt−1) × delay`).
    Exponential(Duration),
}

/// What happens to a job's hash once it is finished (`removeOnComplete`/`removeOnFail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Keep it (`false`).
    Keep,
    /// Delete it at once (`true`); its id can then be reused.
    Remove,
    /// Keep the most recent `n` finished jobs of the queue (`n`).
    KeepLast(usize),
}

/// A job to add: name, JSON data and options.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    name: String,
    data: Value,
    id: Option<JobId>,
    due: Due,
    attempts: u32,
    backoff: Option<Backoff>,
    remove_on_complete: Option<Retention>,
    remove_on_fail: Option<Retention>,
}

impl NewJob {
    /// A job due now, tried once, with an auto id.
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        Self {
            name: name.into(),
            data,
            id: None,
            due: Due::Now,
            attempts: 0,
            backoff: None,
            remove_on_complete: None,
            remove_on_fail: None,
        }
    }

    /// A deterministic id: adding the same id again changes nothing while the job exists.
    pub fn id(mut self, id: JobId) -> Self {
        self.id = Some(id);
        self
    }

    /// When the job becomes ready.
    pub fn due(mut self, due: Due) -> Self {
        self.due = due;
        self
    }

    /// Up to `attempts` tries in all, waiting `backoff` between them.
    pub fn retries(mut self, attempts: u32, backoff: Backoff) -> Self {
        self.attempts = attempts;
        self.backoff = Some(backoff);
        self
    }

    /// What to do with the job once it completed.
    pub fn remove_on_complete(mut self, r: Retention) -> Self {
        self.remove_on_complete = Some(r);
        self
    }

    /// What to do with the job once it failed for good.
    pub fn remove_on_fail(mut self, r: Retention) -> Self {
        self.remove_on_fail = Some(r);
        self
    }

    /// The crate's options, with `timestamp = now_ms` and the delay to the due instant.
    fn options(&self, now_ms: u64) -> bullmq::JobOptions {
        let delay = match self.due {
            Due::Now => 0,
            Due::After(d) => u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Due::At(t) => epoch_ms(t).saturating_sub(now_ms),
        };
        bullmq::JobOptions {
            delay: (delay > 0).then_some(delay),
            attempts: Some(self.attempts),
            backoff: self.backoff.map(|b| match b {
                Backoff::Fixed(d) => bullmq::types::BackoffStrategy::Fixed(millis(d)),
                Backoff::Exponential(d) => bullmq::types::BackoffStrategy::Exponential(millis(d)),
            }),
            job_id: self.id.as_ref().map(|i| i.0.clone()),
            timestamp: Some(now_ms),
            remove_on_complete: self.remove_on_complete.map(retention),
            remove_on_fail: self.remove_on_fail.map(retention),
            ..Default::default()
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, millis)
}

fn retention(r: Retention) -> bullmq::types::RemoveOnFinish {
    use bullmq::types::RemoveOnFinish as R;
    match r {
        Retention::Keep => R::Bool(false),
        Retention::Remove => R::Bool(true),
        Retention::KeepLast(n) => R::Count(n),
    }
}

/// Adds jobs to one queue (`{prefix}:{queue}`).
#[derive(Clone)]
pub struct Producer {
    queue: bullmq::Queue,
    client: redis::Client,
    redis_url: String,
    prefix: String,
    name: String,
}

impl Producer {
    /// Connects to `redis_url` and opens `{prefix}:{queue}`.
    pub async fn connect(
        redis_url: &str,
        prefix: &str,
        queue_name: &str,
    ) -> Result<Self, QueueError> {
        let opts = bullmq::QueueOptions {
            connection: bullmq::options::RedisConnectionOptions {
                url: redis_url.to_owned(),
                ..Default::default()
            },
            prefix: prefix.to_owned(),
            ..Default::default()
        };
        let queue = bullmq::Queue::with_options(queue_name, opts).await?;
        // Node's `Queue.getVersion()` reads `meta.version`; the crate only writes
        // `meta.library`. Fill it when absent; a Node `Queue` overwrites it with its own.
        queue
            .connection()
            .cmd::<i64>(
                redis::cmd("HSETNX")
                    .arg(queue.keys().meta())
                    .arg("version")
                    .arg(LIBRARY_VERSION),
            )
            .await?;
        Ok(Self {
            queue,
            client: redis::Client::open(redis_url).map_err(bullmq::Error::Redis)?,
            redis_url: redis_url.to_owned(),
            prefix: prefix.to_owned(),
            name: queue_name.to_owned(),
        })
    }

    /// A new producer on the same queue with connections of its own. The crate's connection
    /// reconnects on its own, but after an outage it waits out its backoff (up to 5 s
    /// between attempts) even when Redis is back; a fresh connection tries at once.
    pub async fn reconnect(&self) -> Result<Self, QueueError> {
        Self::connect(&self.redis_url, &self.prefix, &self.name).await
    }

    /// Adds `job` and returns its id. With a custom id that exists already (in any state),
    /// nothing changes and the existing id is returned (BullMQ's rule).
    pub async fn add(&self, job: NewJob) -> Result<String, QueueError> {
        let now = epoch_ms(SystemTime::now());
        let opts = job.options(now);
        let added = self.queue.add(&job.name, &job.data).options(opts).await?;
        Ok(added.id().to_owned())
    }

    /// A readiness probe of this producer's Redis ([`RedisProbe`]; it connects at its first
    /// ping).
    pub fn probe(&self) -> RedisProbe {
        RedisProbe {
            client: self.client.clone(),
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// Adds `jobs` (sent together, not one round trip each); as [`Producer::add`], an id the
    /// queue holds already changes nothing. On an error some of them may have been added.
    pub async fn add_many(&self, jobs: Vec<NewJob>) -> Result<(), QueueError> {
        let now = epoch_ms(SystemTime::now());
        let bulk = jobs
            .into_iter()
            .map(|j| {
                let opts = j.options(now);
                bullmq::BulkJob::with_options(j.name, j.data, opts)
            })
            .collect();
        self.queue.add_bulk(bulk).await?;
        Ok(())
    }

    /// Whether this queue's relay marker (a field of its `meta` hash) is missing: the queue
    /// is new to us, or Redis lost its data (restarted without persistence, flushed), so
    /// every plan the store counts as relayed must be relayed again before
    /// [`Producer::set_relay_marker`].
    pub async fn relay_marker_missing(&self) -> Result<bool, QueueError> {
        let meta = self.queue.keys().meta();
        let exists = self
            .queue
            .connection()
            .cmd::<i64>(redis::cmd("HEXISTS").arg(&meta).arg("zs-relay"))
            .await?;
        Ok(exists == 0)
    }

    /// Sets the relay marker (and `meta.version`, lost with the rest).
    pub async fn set_relay_marker(&self) -> Result<(), QueueError> {
        let meta = self.queue.keys().meta();
        self.queue
            .connection()
            .cmd::<i64>(redis::cmd("HSET").arg(&meta).arg("zs-relay").arg(1))
            .await?;
        self.queue
            .connection()
            .cmd::<i64>(
                redis::cmd("HSETNX")
                    .arg(&meta)
                    .arg("version")
                    .arg(LIBRARY_VERSION),
            )
            .await?;
        Ok(())
    }

    /// The underlying crate queue (counts, inspection, obliterate).
    pub fn queue(&self) -> &bullmq::Queue {
        &self.queue
    }

    /// Closes the connection.
    pub async fn close(&self) {
        self.queue.close().await;
    }
}

/// Answers "does Redis answer?" for a readiness probe, on a connection of its own: a
/// connection that failed is dropped and the next probe connects afresh, so the answer
/// turns to yes as soon as Redis is back (a crate connection would first wait out its
/// reconnect backoff, up to 5 s).
pub struct RedisProbe {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

/// How long a probe waits for Redis: a Redis that is down must not hold the probe.
const PROBE_WITHIN: Duration = Duration::from_secs(1);

impl RedisProbe {
    /// Whether Redis answers `PING` within a second; `Err` says why not.
    pub async fn ping(&self) -> Result<(), String> {
        let mut slot = self.conn.lock().await;
        let answer = tokio::time::timeout(PROBE_WITHIN, async {
            if slot.is_none() {
                *slot = Some(self.client.get_multiplexed_async_connection().await?);
            }
            let conn = slot.as_mut().expect("connected above");
            redis::cmd("PING").query_async::<String>(conn).await
        })
        .await;
        let failure = match answer {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {} s", PROBE_WITHIN.as_secs()),
        };
        *slot = None;
        Err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_follow_node_rules_and_never_look_like_auto_ids() {
        assert!(JobId::parse("bk-42-start").is_ok());
        assert!(JobId::parse("a1").is_ok());
        for bad in ["", "0", "42", "-7", "a:b", "0:x", "a:b:c"] {
            assert!(JobId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(JobId::parse(&"x".repeat(256)).is_err());
    }

    #[test]
    fn a_due_instant_becomes_timestamp_plus_delay() {
        let now = 1_800_000_000_000;
        let due = UNIX_EPOCH + Duration::from_millis(now + 1_234);
        let o = NewJob::new("T", Value::Null).due(Due::At(due)).options(now);
        assert_eq!((o.timestamp, o.delay), (Some(now), Some(1_234)));
        let past = UNIX_EPOCH + Duration::from_millis(now - 5);
        let o = NewJob::new("T", Value::Null)
            .due(Due::At(past))
            .options(now);
        assert_eq!(o.delay, None, "a past instant is due now");
        assert_eq!(
            o.attempts,
            Some(0),
            "attempts is always stored, as Node does"
        );
    }
}
