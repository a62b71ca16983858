//! What the store keeps about sealed webhook secrets: the key check value, the secrets
//! still in plaintext (written before sealing), and rotation. The store never seals or opens
//! anything: it keeps opaque text the engine gives it.

use crate::query::query;
use crate::{Conn, Result};
use jiff::Timestamp;

/// The stored key check value, if any process has stored one yet.
pub async fn key_check(c: &mut Conn) -> Result<Option<String>> {
    query("SELECT sealed FROM secret_key_check WHERE id = 1")
        .fetch_optional(c, |r| Ok(r.text("sealed")))
        .await
}

/// Stores `sealed` as the key check value unless one is there already (another instance
/// may have stored its own first: read it back with [`key_check`]).
pub async fn put_key_check(c: &mut Conn, sealed: &str, at: Timestamp) -> Result<()> {
    query(
        "INSERT INTO secret_key_check (id, sealed, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(sealed)
    .bind(at.as_millisecond())
    .execute(c)
    .await?;
    Ok(())
}

/// The endpoints (id, secret) whose secret is not sealed (`v1:…`): written by a version
/// before sealing.
pub async fn unsealed(c: &mut Conn) -> Result<Vec<(String, String)>> {
    query("SELECT id, secret FROM webhooks WHERE secret NOT LIKE 'v1:%' ORDER BY id")
        .fetch_all(c, |r| Ok((r.text("id"), r.text("secret"))))
        .await
}

/// Replaces endpoint `id`'s secret `was` with its sealed form; `false` if it is no longer
/// `was` (another instance sealed it first).
pub async fn replace_secret(c: &mut Conn, id: &str, was: &str, sealed: &str) -> Result<bool> {
    let n = query("UPDATE webhooks SET secret = $3 WHERE id = $1 AND secret = $2")
        .bind(id)
        .bind(was)
        .bind(sealed)
        .execute(c)
        .await?;
    Ok(n > 0)
}

/// Rotates endpoint `id`'s secret: `sealed` becomes the secret, the current one the
/// previous secret, signing until `until` (a previous secret of an earlier rotation is
/// dropped). `false` if there is no such endpoint.
pub async fn rotate(c: &mut Conn, id: &str, sealed: &str, until: Timestamp) -> Result<bool> {
    if c.is_pg() {
        query(crate::postgres::NOTIFY_SQL)
            .bind("endpoints")
            .execute(c)
            .await?;
    }
    let n = query(
        "UPDATE webhooks SET previous_secret = secret, previous_until = $3, secret = $2 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(sealed)
    .bind(until.as_millisecond())
    .execute(c)
    .await?;
    Ok(n > 0)
}
