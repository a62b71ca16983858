//! Webhook endpoints, their deliveries and the log of every attempt.

use crate::{Conn, Result, opt_ts, ts};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Subscribed types (empty: every type).
    pub events: Vec<String>,
    /// The `whsec_…` signing secret.
    pub secret: String,
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
    pub status: String,
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

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// 1-based attempt number.
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

fn row_to_endpoint(r: &sqlx::sqlite::SqliteRow) -> Result<Endpoint> {
    let events: String = r.get("events");
    Ok(Endpoint {
        id: r.get("id"),
        url: r.get("url"),
        events: serde_json::from_str(&events).unwrap_or_default(),
        secret: r.get("secret"),
        created_at: ts(r.get("created_at"))?,
    })
}

/// Adds an endpoint.
pub async fn insert_endpoint(c: &mut Conn, e: &Endpoint) -> Result<()> {
    sqlx::query("INSERT INTO webhooks (id, url, events, secret, created_at) VALUES (?,?,?,?,?)")
        .bind(&e.id)
        .bind(&e.url)
        .bind(serde_json::to_string(&e.events).expect("strings serialise"))
        .bind(&e.secret)
        .bind(e.created_at.as_millisecond())
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Every endpoint.
pub async fn endpoints(c: &mut Conn) -> Result<Vec<Endpoint>> {
    let rows = sqlx::query("SELECT * FROM webhooks ORDER BY created_at, id")
        .fetch_all(&mut *c)
        .await?;
    rows.iter().map(row_to_endpoint).collect()
}

/// One endpoint.
pub async fn endpoint(c: &mut Conn, id: &str) -> Result<Option<Endpoint>> {
    let row = sqlx::query("SELECT * FROM webhooks WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(row_to_endpoint).transpose()
}

/// Removes an endpoint and its pending delivery jobs; `false` if unknown.
pub async fn delete_endpoint(c: &mut Conn, id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM webhooks WHERE id = ?")
        .bind(id)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "DELETE FROM jobs WHERE queue = 'webhookDeliveryQueue' AND id IN \
         (SELECT id FROM deliveries WHERE endpoint_id = ? AND status = 'pending')",
    )
    .bind(id)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE deliveries SET status = 'failed', last_error = 'endpoint deleted' WHERE endpoint_id = ? AND status = 'pending'")
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(r.rows_affected() > 0)
}

fn row_to_delivery(r: &sqlx::sqlite::SqliteRow) -> Result<Delivery> {
    Ok(Delivery {
        id: r.get("id"),
        endpoint_id: r.get("endpoint_id"),
        event_type: r.get("event_type"),
        body: r.get("body"),
        status: r.get("status"),
        attempts: r.get("attempts"),
        next_attempt_at: opt_ts(r.get("next_attempt_at"))?,
        last_status: r.get("last_status"),
        last_error: r.get("last_error"),
        created_at: ts(r.get("created_at"))?,
    })
}

/// Adds many pending deliveries in one statement.
pub async fn insert_many(c: &mut Conn, list: &[Delivery]) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = list
        .iter()
        .map(|d| {
            serde_json::json!([
                d.id,
                d.endpoint_id,
                d.event_type,
                d.body,
                d.next_attempt_at.map(|t| t.as_millisecond()),
                d.created_at.as_millisecond()
            ])
        })
        .collect();
    sqlx::query(
        "INSERT INTO deliveries (id, endpoint_id, event_type, body, status, attempts, next_attempt_at, \
         created_at, updated_at) SELECT value->>0, value->>1, value->>2, value->>3, 'pending', 0, value->>4, \
         value->>5, value->>5 FROM json_each(?)",
    )
    .bind(serde_json::Value::Array(rows).to_string())
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// One delivery.
pub async fn get(c: &mut Conn, id: &str) -> Result<Option<Delivery>> {
    let row = sqlx::query("SELECT * FROM deliveries WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    row.as_ref().map(row_to_delivery).transpose()
}

/// An endpoint's deliveries, newest first.
pub async fn for_endpoint(c: &mut Conn, endpoint_id: &str, limit: i64) -> Result<Vec<Delivery>> {
    let rows = sqlx::query(
        "SELECT * FROM deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
    )
    .bind(endpoint_id)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    rows.iter().map(row_to_delivery).collect()
}

/// Records an attempt and the delivery's new status.
pub async fn record_attempt(
    c: &mut Conn,
    id: &str,
    a: &Attempt,
    status: &str,
    next_attempt_at: Option<Timestamp>,
) -> Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms, success) \
         VALUES (?,?,?,?,?,?,?)",
    )
    .bind(id)
    .bind(a.attempt)
    .bind(a.at.as_millisecond())
    .bind(a.status_code)
    .bind(&a.error)
    .bind(a.duration_ms)
    .bind(a.success as i64)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?, \
         updated_at = ? WHERE id = ?",
    )
    .bind(status)
    .bind(a.attempt)
    .bind(next_attempt_at.map(|t| t.as_millisecond()))
    .bind(a.status_code)
    .bind(&a.error)
    .bind(a.at.as_millisecond())
    .bind(id)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Re-opens a delivery for a manual replay (its attempt count restarts).
pub async fn reopen(c: &mut Conn, id: &str, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE id = ?")
        .bind(at.as_millisecond())
        .bind(at.as_millisecond())
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The attempts of a delivery, oldest first.
pub async fn attempts(c: &mut Conn, id: &str) -> Result<Vec<Attempt>> {
    let rows =
        sqlx::query("SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY at, attempt")
            .bind(id)
            .fetch_all(&mut *c)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Attempt {
                attempt: r.get("attempt"),
                at: ts(r.get("at"))?,
                status_code: r.get("status_code"),
                error: r.get("error"),
                duration_ms: r.get("duration_ms"),
                success: r.get::<i64, _>("success") != 0,
            })
        })
        .collect()
}
