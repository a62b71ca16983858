//! Keeps a failed attempt's `failedReason` and `stacktrace` on the job hash, as Node's
//! `bullmq` worker does (spec/bullmq-protocol.md §3, §9).
//!
//! `bullmq-official` 1.4.4 retries a failed attempt (`moveToDelayed`/`retryJob`) without
//! the fields Node writes with it, so a Node inspector would see `attemptsMade` go up but
//! no `failedReason` until the final failure (§15). [`FailureLog::wrap`] closes that gap:
//! when the processor fails it writes both fields while the job is still ours (its lock
//! holds our token), then hands the error to the crate, which retries or fails the job as
//! before. On a final failure the crate then writes the same `failedReason` again.

use crate::QueueError;
use bullmq::worker::{CancellationToken, ProcessorFn};
use bullmq::{Job, QueueKeys};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One processing attempt, as the crate's processors return it.
type Attempt = Pin<Box<dyn Future<Output = Result<Value, bullmq::Error>> + Send>>;

/// How many attempts' traces Node keeps by default (`stackTraceLimit`).
const STACK_TRACE_LIMIT: usize = 10;

/// Records failed attempts on the jobs of one queue.
#[derive(Clone)]
pub struct FailureLog {
    conn: bullmq::redis_connection::RedisConnection,
    keys: QueueKeys,
}

/// Whether an error is a real failure (and not one of the crate's control-flow signals).
fn is_failure(e: &bullmq::Error) -> bool {
    !matches!(
        e,
        bullmq::Error::Delayed | bullmq::Error::WaitingChildren | bullmq::Error::RateLimited { .. }
    )
}

impl FailureLog {
    /// Connects to `redis_url` for the jobs of `{prefix}:{queue}`.
    pub async fn connect(redis_url: &str, prefix: &str, queue: &str) -> Result<Self, QueueError> {
        let opts = bullmq::options::RedisConnectionOptions {
            url: redis_url.to_owned(),
            ..Default::default()
        };
        let conn = bullmq::redis_connection::RedisConnection::new_managed_only(&opts).await?;
        Ok(Self {
            conn,
            keys: QueueKeys::new(queue, Some(prefix)),
        })
    }

    /// Writes `reason` as the job's `failedReason` and appends it to its `stacktrace`, if
    /// the job is still locked with the token it was fetched with (otherwise the job is
    /// not ours any more and nothing is written). Returns whether it wrote.
    pub async fn record(&self, job: &Job, reason: &str) -> Result<bool, QueueError> {
        let key = self.keys.job_key(job.id());
        let Some(token) = job.token().filter(|t| !t.is_empty()) else {
            return Ok(false);
        };
        let lock: Option<String> = self
            .conn
            .cmd(redis::cmd("GET").arg(format!("{key}:lock")))
            .await?;
        if lock.as_deref() != Some(token) {
            return Ok(false);
        }
        let old: Option<String> = self
            .conn
            .cmd(redis::cmd("HGET").arg(&key).arg("stacktrace"))
            .await?;
        let limit = job
            .opts()
            .stack_trace_limit
            .map_or(STACK_TRACE_LIMIT, |n| n as usize);
        let traces = append_trace(old.as_deref(), reason, limit);
        self.conn
            .cmd::<()>(
                redis::cmd("HSET")
                    .arg(&key)
                    .arg("failedReason")
                    .arg(reason)
                    .arg("stacktrace")
                    .arg(traces),
            )
            .await?;
        Ok(true)
    }

    /// Wraps a processor so that each failed attempt is recorded before the crate retries
    /// or fails the job. A recording error is logged and does not change the outcome.
    pub fn wrap<P, Fut>(&self, processor: P) -> ProcessorFn
    where
        P: Fn(Job, CancellationToken) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, bullmq::Error>> + Send + 'static,
    {
        let log = self.clone();
        Arc::new(move |job: Job, cancel: CancellationToken| {
            let log = log.clone();
            let run = processor(job.clone(), cancel);
            let fut: Attempt = Box::pin(async move {
                let result = run.await;
                if let Err(e) = &result
                    && is_failure(e)
                    && let Err(w) = log.record(&job, &e.to_string()).await
                {
                    tracing::warn!(job = %job.id(), error = %w, "recording the failed attempt");
                }
                result
            });
            fut
        })
    }
}

/// Node's `stacktrace` field: a JSON array of the attempts' traces, the newest last,
/// trimmed to the last `limit` entries.
fn append_trace(old: Option<&str>, reason: &str, limit: usize) -> String {
    let mut traces: Vec<Value> = old
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    traces.push(Value::String(reason.to_owned()));
    let skip = traces.len().saturating_sub(limit);
    Value::Array(traces.split_off(skip)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_accumulate_newest_last_and_are_trimmed() {
        assert_eq!(append_trace(None, "a", 10), r#"["a"]"#);
        assert_eq!(append_trace(Some("not json"), "a", 10), r#"["a"]"#);
        assert_eq!(append_trace(Some(r#"["a","b"]"#), "c", 2), r#"["b","c"]"#);
    }

    #[test]
    fn control_flow_signals_are_not_failures() {
        assert!(!is_failure(&bullmq::Error::Delayed));
        assert!(!is_failure(&bullmq::Error::RateLimited { delay_ms: 5 }));
        assert!(is_failure(&bullmq::Error::ProcessingError("boom".into())));
        assert!(is_failure(&bullmq::Error::Unrecoverable("bad".into())));
    }
}
