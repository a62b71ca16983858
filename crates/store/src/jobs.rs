//! The durable job queues (`meetingScheduler`, `statusUpdateQueue`, `webhookDeliveryQueue`):
//! jobs are rows written in the same transaction as the change that causes them.

use crate::{Conn, Result, ts};
use jiff::Timestamp;
use sqlx::Row;

/// The timer and ingress queue.
pub const MEETING_SCHEDULER: &str = "meetingScheduler";
/// Status posts to the core platform.
pub const STATUS_UPDATES: &str = "statusUpdateQueue";
/// Webhook deliveries.
pub const WEBHOOK_DELIVERIES: &str = "webhookDeliveryQueue";

/// A job to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Deterministic id; adding an existing id replaces the pending job.
    pub id: String,
    /// The queue.
    pub queue: &'static str,
    /// The job name (for timers: the event name).
    pub name: String,
    /// JSON data.
    pub data: serde_json::Value,
    /// When it is due.
    pub due: Timestamp,
    /// Order among jobs due at the same instant (lower first).
    pub rank: u8,
    /// Jobs of one group run one at a time, oldest first (status posts of one space).
    pub group: Option<String>,
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Insertion order (ties at the same instant and rank).
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// The queue.
    pub queue: String,
    /// The name.
    pub name: String,
    /// JSON data.
    pub data: serde_json::Value,
    /// When it is due.
    pub due: Timestamp,
    /// Attempts made so far.
    pub attempts_made: i64,
    /// The last failure.
    pub last_error: Option<String>,
}

/// Adds or replaces a job. Returns its due instant so callers can wake a sleeping runner.
pub async fn put(c: &mut Conn, j: &NewJob, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (id, queue, name, data, due_ms, rank, grp, created_at) VALUES (?,?,?,?,?,?,?,?) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, \
         due_ms = excluded.due_ms, rank = excluded.rank, attempts_made = 0, last_error = NULL",
    )
    .bind(&j.id)
    .bind(j.queue)
    .bind(&j.name)
    .bind(j.data.to_string())
    .bind(j.due.as_millisecond())
    .bind(j.rank as i64)
    .bind(&j.group)
    .bind(now.as_millisecond())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Adds or replaces many jobs in one statement (same semantics as [`put`]).
pub async fn put_many(c: &mut Conn, list: &[NewJob], now: Timestamp) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|j| {
            serde_json::json!([
                j.id,
                j.queue,
                j.name,
                j.data.to_string(),
                j.due.as_millisecond(),
                j.rank,
                j.group
            ])
        })
        .collect();
    sqlx::query(
        "INSERT INTO jobs (id, queue, name, data, due_ms, rank, grp, created_at) SELECT value->>0, value->>1, \
         value->>2, value->>3, value->>4, value->>5, value->>6, ?2 FROM json_each(?1) WHERE true \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data, \
         due_ms = excluded.due_ms, rank = excluded.rank, attempts_made = 0, last_error = NULL",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(now.as_millisecond())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Removes one job; `true` if it existed.
pub async fn remove(c: &mut Conn, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM jobs WHERE id = ?")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Removes jobs by their insertion numbers (a claimed batch), in one statement.
pub async fn remove_seqs(c: &mut Conn, seqs: &[i64]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let list = serde_json::to_string(seqs).expect("numbers serialise");
    sqlx::query("DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?))")
        .bind(list)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Removes every job of `queue` whose id starts with `prefix`.
pub async fn remove_prefix(c: &mut Conn, queue: &str, prefix: &str) -> Result<u64> {
    let like = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let r = sqlx::query("DELETE FROM jobs WHERE queue = ? AND id LIKE ? ESCAPE '\\'")
        .bind(queue)
        .bind(like)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected())
}

fn row_to_job(r: &sqlx::sqlite::SqliteRow) -> Result<Job> {
    let data: String = r.get("data");
    Ok(Job {
        seq: r.get("seq"),
        id: r.get("id"),
        queue: r.get("queue"),
        name: r.get("name"),
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        due: ts(r.get("due_ms"))?,
        attempts_made: r.get("attempts_made"),
        last_error: r.get("last_error"),
    })
}

/// Jobs of `queue` due at or before `now`, in run order (due, rank, insertion).
///
/// The rows come back as one JSON array: a burst of due timers is read in one step
/// instead of one driver round trip per row.
pub async fn due(c: &mut Conn, queue: &str, now: Timestamp, limit: i64) -> Result<Vec<Job>> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT json_group_array(json_array(seq, id, queue, name, data, due_ms, attempts_made, last_error)) \
         FROM (SELECT * FROM jobs WHERE queue = ? AND due_ms <= ? ORDER BY due_ms, rank, seq LIMIT ?)",
    )
    .bind(queue)
    .bind(now.as_millisecond())
    .bind(limit)
    .fetch_one(&mut *c)
    .await?;
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
    );
    let rows: Vec<Row> = serde_json::from_str(text.as_deref().unwrap_or("[]"))
        .map_err(|e| crate::StoreError::Corrupt(format!("due jobs: {e}")))?;
    let mut jobs: Vec<Job> = Vec::with_capacity(rows.len());
    for (seq, id, queue, name, data, due_ms, attempts_made, last_error) in rows {
        jobs.push(Job {
            seq,
            id,
            queue,
            name,
            data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
            due: ts(due_ms)?,
            attempts_made,
            last_error,
        });
    }
    Ok(jobs)
}

/// Like [`due`], but only the oldest job of each group (so groups run in order).
pub async fn due_heads(c: &mut Conn, queue: &str, now: Timestamp, limit: i64) -> Result<Vec<Job>> {
    let rows = sqlx::query(
        "SELECT * FROM jobs j WHERE queue = ?1 AND due_ms <= ?2 AND (grp IS NULL OR NOT EXISTS \
         (SELECT 1 FROM jobs k WHERE k.queue = ?1 AND k.grp = j.grp AND k.seq < j.seq)) \
         ORDER BY due_ms, rank, seq LIMIT ?3",
    )
    .bind(queue)
    .bind(now.as_millisecond())
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(row_to_job).collect()
}

/// Leases jobs until `until`: they are not due again unless the lease runs out (a crash).
pub async fn lease(c: &mut Conn, ids: &[String], until: Timestamp) -> Result<()> {
    for id in ids {
        sqlx::query("UPDATE jobs SET due_ms = ? WHERE id = ?")
            .bind(until.as_millisecond())
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// The earliest due instant in `queue`, if any job is pending.
pub async fn next_due(c: &mut Conn, queue: &str) -> Result<Option<Timestamp>> {
    let ms: Option<i64> = sqlx::query_scalar("SELECT MIN(due_ms) FROM jobs WHERE queue = ?")
        .bind(queue)
        .fetch_one(&mut *c)
        .await?;
    ms.map(ts).transpose()
}

/// Pending jobs of `queue` in run order (for inspection).
pub async fn list(c: &mut Conn, queue: &str, limit: i64) -> Result<Vec<Job>> {
    let rows = sqlx::query("SELECT * FROM jobs WHERE queue = ? ORDER BY due_ms, rank, seq LIMIT ?")
        .bind(queue)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(row_to_job).collect()
}

/// Records a failed attempt and moves the job to `retry_at`.
pub async fn retry_later(c: &mut Conn, id: &str, retry_at: Timestamp, error: &str) -> Result<()> {
    sqlx::query("UPDATE jobs SET attempts_made = attempts_made + 1, due_ms = ?, last_error = ? WHERE id = ?")
        .bind(retry_at.as_millisecond())
        .bind(error)
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Pending job counts per queue (for `/metrics`).
pub async fn depths(c: &mut Conn) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT queue, COUNT(*) AS n FROM jobs GROUP BY queue")
        .fetch_all(&mut *c)
        .await?;
    Ok(rows.iter().map(|r| (r.get("queue"), r.get("n"))).collect())
}
