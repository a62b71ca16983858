//! Bearer tokens (stored as SHA-256 hashes, never in clear) and idempotency records.

use crate::backend::Cols;
use crate::query::query;
use crate::{Conn, Result};
use jiff::Timestamp;

/// A minted token's record.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Public id of the token.
    pub id: String,
    /// `admin`, `member` or `device`.
    pub role: String,
    /// A label for humans.
    pub label: String,
    /// For a device limited to some spaces, their ids (by id; empty once they are all
    /// deleted: then it acts on none); `None` for an unlimited token.
    pub space_ids: Option<Vec<String>>,
}

/// Stores a token hash, with the spaces it is limited to.
pub async fn insert_token(c: &mut Conn, hash: &str, t: &TokenRecord, at: Timestamp) -> Result<()> {
    let spaces = serde_json::to_string(t.space_ids.as_deref().unwrap_or_default())
        .expect("ids serialise as strings");
    query(
        "INSERT INTO tokens (hash, id, role, label, created_at, limited) VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(hash)
    .bind(&t.id)
    .bind(&t.role)
    .bind(&t.label)
    .bind(at.as_millisecond())
    .bind(t.space_ids.is_some() as i64)
    .execute(c)
    .await?;
    query("INSERT INTO token_spaces (token_id, space_id) SELECT DISTINCT $1, value FROM LIST($2)")
        .bind(&t.id)
        .bind(&spaces)
        .execute(c)
        .await?;
    Ok(())
}

/// The spaces a limited token may act on, by id.
async fn token_spaces(c: &mut Conn, id: &str) -> Result<Vec<String>> {
    query("SELECT space_id FROM token_spaces WHERE token_id = $1 ORDER BY space_id")
        .bind(id)
        .fetch_all(c, |r| Ok(r.text_at(0)))
        .await
}

/// Looks a token up by its hash, with the spaces it is limited to (read on every request,
/// so a change is effective at once on every instance).
pub async fn token_by_hash(c: &mut Conn, hash: &str) -> Result<Option<TokenRecord>> {
    fn record(r: &dyn Cols) -> (TokenRecord, bool) {
        let rec = TokenRecord {
            id: r.text("id"),
            role: r.text("role"),
            label: r.text("label"),
            space_ids: None,
        };
        (rec, r.int("limited") != 0)
    }
    let found = query("SELECT id, role, label, limited FROM tokens WHERE hash = $1")
        .bind(hash)
        .fetch_optional(c, |r| Ok(record(r)))
        .await?;
    match found {
        None => Ok(None),
        Some((rec, false)) => Ok(Some(rec)),
        Some((mut rec, true)) => {
            rec.space_ids = Some(token_spaces(c, &rec.id).await?);
            Ok(Some(rec))
        }
    }
}

/// A minted token as an admin sees it: never its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedToken {
    /// Its record.
    pub record: TokenRecord,
    /// When it was minted.
    pub created_at: Timestamp,
}

/// Every minted token, oldest first, with the spaces of the limited ones.
pub async fn list_tokens(c: &mut Conn) -> Result<Vec<ListedToken>> {
    fn listed(r: &dyn Cols) -> ListedToken {
        ListedToken {
            record: TokenRecord {
                id: r.text("id"),
                role: r.text("role"),
                label: r.text("label"),
                space_ids: (r.int("limited") != 0).then(Vec::new),
            },
            created_at: Timestamp::from_millisecond(r.int("created_at"))
                .unwrap_or(Timestamp::UNIX_EPOCH),
        }
    }
    let mut tokens =
        query("SELECT id, role, label, created_at, limited FROM tokens ORDER BY created_at, id")
            .fetch_all(c, |r| Ok(listed(r)))
            .await?;
    let pairs: Vec<(String, String)> =
        query("SELECT token_id, space_id FROM token_spaces ORDER BY token_id, space_id")
            .fetch_all(c, |r| Ok((r.text_at(0), r.text_at(1))))
            .await?;
    for t in &mut tokens {
        if let Some(list) = &mut t.record.space_ids {
            list.extend(
                pairs
                    .iter()
                    .filter(|(tok, _)| *tok == t.record.id)
                    .map(|(_, s)| s.clone()),
            );
        }
    }
    Ok(tokens)
}

/// Revokes a token by its id: every later request with it is refused, on every instance
/// (tokens are looked up in the store on each request). `true` if it existed.
pub async fn delete_token(c: &mut Conn, id: &str) -> Result<bool> {
    query("DELETE FROM token_spaces WHERE token_id = $1")
        .bind(id)
        .execute(c)
        .await?;
    let n = query("DELETE FROM tokens WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(n > 0)
}

/// A stored response for an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentResponse {
    /// Hash of the request that first used the key.
    pub request_hash: String,
    /// The HTTP status returned.
    pub status: u16,
    /// The body returned.
    pub body: String,
}

/// The response stored for `(scope, key)`.
pub async fn idempotent(
    c: &mut Conn,
    scope: &str,
    key: &str,
) -> Result<Option<IdempotentResponse>> {
    fn response(r: &dyn Cols) -> IdempotentResponse {
        IdempotentResponse {
            request_hash: r.text("request_hash"),
            status: r.int("status") as u16,
            body: r.text("body"),
        }
    }
    query("SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2")
        .bind(scope)
        .bind(key)
        .fetch_optional(c, |r| Ok(response(r)))
        .await
}

/// Stores the response for `(scope, key)`.
pub async fn remember(
    c: &mut Conn,
    scope: &str,
    key: &str,
    r: &IdempotentResponse,
    at: Timestamp,
) -> Result<()> {
    query(
        "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6)",
    )
    .bind(scope)
    .bind(key)
    .bind(&r.request_hash)
    .bind(r.status as i64)
    .bind(&r.body)
    .bind(at.as_millisecond())
    .execute(c)
    .await?;
    Ok(())
}
