//! Webhook endpoints, their deliveries and the log of every attempt.

use crate::backend::Cols;
use crate::bulk::bulk;
use crate::query::{Query, query};
use crate::typed::{DeliveryStatus, Queue};
use crate::{Conn, Result, StoreError, opt_ts, ts};
use jiff::Timestamp;
use serde::Serialize;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Subscribed types (empty: every type).
    pub events: Vec<String>,
    /// The signing secret as stored: sealed (`v1:…`, see `zs_delivery::sealing`); the
    /// plaintext `whsec_…` only in a database written by a version before sealing, until
    /// the next start seals it.
    pub secret: String,
    /// After a rotation: the previous secret (stored like `secret`), which also signs
    /// until `previous_until`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing.
    pub previous_until: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Endpoint {
    /// Whether the endpoint wants `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.events.is_empty() || self.events.iter().any(|e| e == event_type)
    }
}

/// One delivery: a message for one endpoint, with a stable `webhook-id`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The `webhook-id`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event type.
    pub event_type: String,
    /// The exact body sent.
    #[serde(skip)]
    pub body: String,
    /// `pending`, `delivered` or `failed` (dead-lettered).
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: Option<Timestamp>,
    /// The last HTTP status received.
    pub last_status: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Delivery {
    /// A new delivery of `body` to `endpoint_id`, pending and due at `at`.
    pub fn pending(
        id: String,
        endpoint_id: String,
        event_type: String,
        body: String,
        at: Timestamp,
    ) -> Self {
        Self {
            id,
            endpoint_id,
            event_type,
            body,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(at),
            last_status: None,
            last_error: None,
            created_at: at,
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1-based attempt number: in the log, every attempt in order (also across replays).
    pub attempt: i64,
    /// When it was made.
    pub at: Timestamp,
    /// The HTTP status, if a response came.
    pub status_code: Option<i64>,
    /// What went wrong.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Whether it succeeded.
    pub success: bool,
}

/// An endpoint's columns, in the order [`endpoint_at`] reads them.
macro_rules! endpoint_columns {
    () => {
        "id, url, events, secret, previous_secret, previous_until, created_at"
    };
}

/// A delivery's columns, in the order [`row_to_delivery`] reads them (by position: by
/// name, each column was a search of the statement's names, on every attempt to send).
macro_rules! delivery_columns {
    () => {
        "id, endpoint_id, event_type, body, status, attempts, next_attempt_at, last_status, \
         last_error, created_at"
    };
}

/// How many columns `delivery_columns!` names: a joined endpoint's come after them.
const DELIVERY_WIDTH: usize = column_count(delivery_columns!());

/// The number of columns in a comma-separated list of them.
const fn column_count(list: &str) -> usize {
    let bytes = list.as_bytes();
    let (mut i, mut n) = (0, 1);
    while i < bytes.len() {
        if bytes[i] == b',' {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The endpoint whose `endpoint_columns!` start at column `at` of `r`.
fn endpoint_at(r: &dyn Cols, at: usize) -> Result<Endpoint> {
    Ok(Endpoint {
        id: r.text_at(at),
        url: r.text_at(at + 1),
        events: serde_json::from_str(&r.text_at(at + 2)).unwrap_or_default(),
        secret: r.text_at(at + 3),
        previous_secret: r.opt_text_at(at + 4),
        previous_until: opt_ts(r.opt_int_at(at + 5))?,
        created_at: ts(r.int_at(at + 6))?,
    })
}

fn row_to_endpoint(r: &dyn Cols) -> Result<Endpoint> {
    endpoint_at(r, 0)
}

/// The endpoint joined to a delivery row, if it still exists.
fn joined_endpoint(r: &dyn Cols) -> Result<Option<Endpoint>> {
    if r.opt_text_at(DELIVERY_WIDTH).is_none() {
        return Ok(None);
    }
    endpoint_at(r, DELIVERY_WIDTH).map(Some)
}

/// Adds an endpoint.
pub async fn insert_endpoint(c: &mut Conn, e: &Endpoint) -> Result<()> {
    let events = serde_json::to_string(&e.events).expect("strings serialise");
    query(
        "INSERT INTO webhooks (id, url, events, secret, previous_secret, previous_until, \
         created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(&e.id)
    .bind(&e.url)
    .bind(&events)
    .bind(&e.secret)
    .bind(&e.previous_secret)
    .bind(e.previous_until.map(|t| t.as_millisecond()))
    .bind(e.created_at.as_millisecond())
    .execute(c)
    .await?;
    if c.is_pg() {
        query(crate::postgres::NOTIFY_SQL)
            .bind("endpoints")
            .execute(c)
            .await?;
    }
    Ok(())
}

/// Every endpoint.
pub async fn endpoints(c: &mut Conn) -> Result<Vec<Endpoint>> {
    query(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhooks ORDER BY created_at, id"
    ))
    .fetch_all(c, row_to_endpoint)
    .await
}

/// One endpoint.
pub async fn endpoint(c: &mut Conn, id: &str) -> Result<Option<Endpoint>> {
    query(concat!(
        "SELECT ",
        endpoint_columns!(),
        " FROM webhooks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c, row_to_endpoint)
    .await
}

/// Removes an endpoint and its pending delivery jobs; `false` if unknown.
pub async fn delete_endpoint(c: &mut Conn, id: &str) -> Result<bool> {
    if c.is_pg() {
        query(crate::postgres::NOTIFY_SQL)
            .bind("endpoints")
            .execute(c)
            .await?;
    }
    let n = query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    query(
        "DELETE FROM jobs WHERE queue = $2 AND id IN \
         (SELECT id FROM deliveries WHERE endpoint_id = $1 AND status = $3)",
    )
    .bind(id)
    .bind(Queue::WebhookDeliveries.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(c)
    .await?;
    query(
        "UPDATE deliveries SET status = $2, last_error = 'endpoint deleted' \
         WHERE endpoint_id = $1 AND status = $3",
    )
    .bind(id)
    .bind(DeliveryStatus::Failed.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(c)
    .await?;
    Ok(n > 0)
}

fn row_to_delivery(r: &dyn Cols) -> Result<Delivery> {
    let status = r.text_at(4);
    let status = DeliveryStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery status {status:?}")))?;
    Ok(Delivery {
        id: r.text_at(0),
        endpoint_id: r.text_at(1),
        event_type: r.text_at(2),
        body: r.text_at(3),
        status,
        attempts: r.int_at(5),
        next_attempt_at: opt_ts(r.opt_int_at(6))?,
        last_status: r.opt_int_at(7),
        last_error: r.opt_text_at(8),
        created_at: ts(r.int_at(9))?,
    })
}

/// Adds many pending deliveries (one statement on PostgreSQL: [`crate::bulk`]).
pub async fn insert_many(c: &mut Conn, list: &[Delivery]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    const ONE: &str = "INSERT INTO deliveries (id, endpoint_id, event_type, body, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $7, 0, $5, $6, $6)";
    const MANY: &str = "INSERT INTO deliveries (id, endpoint_id, event_type, body, status, attempts, \
         next_attempt_at, created_at, updated_at) SELECT value->>0, value->>1, value->>2, value->>3, $2, \
         0, CAST(value->>4 AS BIGINT), CAST(value->>5 AS BIGINT), CAST(value->>5 AS BIGINT) FROM ROWS($1)";
    let mut w = bulk(ONE, MANY, 6).shared(DeliveryStatus::Pending.as_str());
    for d in list {
        w.row([
            d.id.as_str().into(),
            d.endpoint_id.as_str().into(),
            d.event_type.as_str().into(),
            d.body.as_str().into(),
            d.next_attempt_at.map(|t| t.as_millisecond()).into(),
            d.created_at.as_millisecond().into(),
        ]);
    }
    w.execute(c).await?;
    Ok(())
}

/// One delivery.
pub async fn get(c: &mut Conn, id: &str) -> Result<Option<Delivery>> {
    query(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM deliveries WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c, row_to_delivery)
    .await
}

/// One delivery with its endpoint (`None` once the endpoint is deleted), in one read: what
/// an attempt to send it needs.
pub async fn get_with_endpoint(
    c: &mut Conn,
    id: &str,
) -> Result<Option<(Delivery, Option<Endpoint>)>> {
    query(concat!(
        "SELECT d.*, w.* FROM (SELECT ",
        delivery_columns!(),
        " FROM deliveries WHERE id = $1) AS d LEFT JOIN (SELECT ",
        endpoint_columns!(),
        " FROM webhooks) AS w ON w.id = d.endpoint_id"
    ))
    .bind(id)
    .fetch_optional(c, |r| Ok((row_to_delivery(r)?, joined_endpoint(r)?)))
    .await
}

/// An endpoint's deliveries, newest first.
pub async fn for_endpoint(c: &mut Conn, endpoint_id: &str, limit: i64) -> Result<Vec<Delivery>> {
    query(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM deliveries WHERE endpoint_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(c, row_to_delivery)
    .await
}

/// What becomes of a delivery's queue job after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobAfterAttempt<'a> {
    /// Run again at the delivery's `next_attempt_at`, noting why this attempt failed.
    RetryAt(Timestamp, &'a str),
    /// Done with (delivered, refused for good, or out of attempts).
    Remove,
}

/// Settles one attempt in one round trip: logs it, sets the delivery's new status, and
/// moves or removes its queue job `job_id`. On PostgreSQL that is one statement (the log
/// and the delivery in data-modifying `WITH` clauses), on SQLite three cached statements
/// on the writer's own connection; either way inside the caller's transaction.
pub async fn settle_attempt(
    c: &mut Conn,
    id: &str,
    a: &Attempt,
    status: DeliveryStatus,
    job_id: &str,
    job: JobAfterAttempt<'_>,
) -> Result<()> {
    // The log only grows: a replay restarts the delivery's attempt count (and so its
    // retry schedule), but its attempts are logged after the earlier ones, never over them.
    const LOG: &str = "INSERT INTO delivery_attempts \
        (delivery_id, attempt, at, status_code, error, duration_ms, success) \
        SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3, $4, $5, $6 FROM delivery_attempts \
        WHERE delivery_id = $1";
    const DELIVERY: &str = "UPDATE deliveries SET status = $7, attempts = $8, \
        next_attempt_at = $9, last_status = $3, last_error = $4, updated_at = $2 WHERE id = $1";
    let (job_sql, next, job_error) = match job {
        JobAfterAttempt::RetryAt(at, error) => (
            "UPDATE jobs SET attempts_made = attempts_made + 1, due_ms = $9, last_error = $11, \
             relayed = $12 WHERE id = $10",
            Some(at.as_millisecond()),
            Some(error),
        ),
        JobAfterAttempt::Remove => ("DELETE FROM jobs WHERE id = $10", None, None),
    };
    let bound = |q: Query<'static>| {
        let q = q
            .bind(id)
            .bind(a.at.as_millisecond())
            .bind(a.status_code)
            .bind(&a.error)
            .bind(a.duration_ms)
            .bind(a.success as i64)
            .bind(status.as_str())
            .bind(a.attempt)
            .bind(next)
            .bind(job_id);
        match job_error {
            Some(error) => q.bind(error).bind(crate::typed::Relay::Pending.as_i64()),
            None => q,
        }
    };
    // Built from the constants above only: no input reaches the text.
    if c.is_pg() {
        let sql = format!(
            "WITH logged AS ({LOG} RETURNING 1), settled AS ({DELIVERY} RETURNING 1) {job_sql}"
        );
        bound(query(sql)).execute(c).await?;
    } else {
        for sql in [LOG, DELIVERY, job_sql] {
            bound(query(sql)).execute(c).await?;
        }
    }
    Ok(())
}

/// Re-opens a delivery for a manual replay (its attempt count restarts).
pub async fn reopen(c: &mut Conn, id: &str, at: Timestamp) -> Result<()> {
    query(
        "UPDATE deliveries SET status = $3, attempts = 0, next_attempt_at = $1, updated_at = $1 \
         WHERE id = $2",
    )
    .bind(at.as_millisecond())
    .bind(id)
    .bind(DeliveryStatus::Pending.as_str())
    .execute(c)
    .await?;
    Ok(())
}

/// Deletes up to `limit` settled deliveries (delivered or failed: never a pending one)
/// whose last change is before `before`, oldest first, with their attempt logs; returns
/// the ids deleted. The settled rows are read through their own partial index
/// (`deliveries_settled`), so a call visits only what it deletes however many are pending.
/// A delivery replayed meanwhile is pending again and stays (the condition is checked
/// again on the row it deletes).
pub async fn prune_settled(c: &mut Conn, before: Timestamp, limit: i64) -> Result<Vec<String>> {
    let ids = query(prune_sql())
        .bind(before.as_millisecond())
        .bind(limit)
        .fetch_all(c, |r| Ok(r.text_at(0)))
        .await?;
    const ONE: &str = "DELETE FROM delivery_attempts WHERE delivery_id = $1";
    const MANY: &str =
        "DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT value->>0 FROM ROWS($1))";
    let mut w = bulk(ONE, MANY, 1);
    for id in &ids {
        w.row([id.as_str().into()]);
    }
    w.execute(c).await?;
    Ok(ids)
}

/// [`prune_settled`]'s statement. The partial index's condition is a literal in its
/// migration; the planners use the index only for a statement that names the same
/// literal, not a bound value.
fn prune_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let settled = settled_before_sql();
        format!(
            "DELETE FROM deliveries WHERE {settled} AND id IN (SELECT id FROM deliveries \
             WHERE {settled} ORDER BY updated_at, id LIMIT $2) RETURNING id"
        )
    });
    SQL.as_str()
}

/// The condition of a delivery settled before `$1`: the partial index's, with its literal.
fn settled_before_sql() -> String {
    format!(
        "status <> '{}' AND updated_at < $1",
        DeliveryStatus::Pending.as_str()
    )
}

/// The deliveries [`prune_settled`] would delete with the same arguments, in its order
/// (for the simulator, which checks each before it goes).
pub async fn settled_before(c: &mut Conn, before: Timestamp, limit: i64) -> Result<Vec<Delivery>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {} FROM deliveries WHERE {} ORDER BY updated_at, id LIMIT $2",
            delivery_columns!(),
            settled_before_sql()
        )
    });
    query(SQL.as_str())
        .bind(before.as_millisecond())
        .bind(limit)
        .fetch_all(c, row_to_delivery)
        .await
}

/// The attempts of a delivery, oldest first.
pub async fn attempts(c: &mut Conn, id: &str) -> Result<Vec<Attempt>> {
    fn row_to_attempt(r: &dyn Cols) -> Result<Attempt> {
        Ok(Attempt {
            attempt: r.int("attempt"),
            at: ts(r.int("at"))?,
            status_code: r.opt_int("status_code"),
            error: r.opt_text("error"),
            duration_ms: r.int("duration_ms"),
            success: r.int("success") != 0,
        })
    }
    query("SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY at, attempt")
        .bind(id)
        .fetch_all(c, row_to_attempt)
        .await
}

#[cfg(test)]
mod tests {
    use crate::query::query;

    /// The pruning reads the settled deliveries through their partial index, in its order
    /// (no sort, no scan of the pending ones).
    #[tokio::test]
    async fn settled_deliveries_are_found_through_their_partial_index() {
        let store = crate::testing::fresh_sqlite("prune-plan").await.unwrap();
        let mut c = store.read().await.unwrap();
        let steps = query(format!("EXPLAIN QUERY PLAN {}", super::prune_sql()))
            .bind(0_i64)
            .bind(10_i64)
            .fetch_all(&mut c, |r| Ok(r.text_at(3)))
            .await
            .unwrap()
            .join("\n");
        assert!(steps.contains("INDEX deliveries_settled"), "{steps}");
        assert!(!steps.contains("SCAN deliveries\n"), "{steps}");
        assert!(!steps.contains("TEMP B-TREE"), "{steps}");
    }
}
