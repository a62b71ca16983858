//! Bearer-token roles: `admin` (from `ZS_ADMIN_TOKEN`), `member` and `device` (minted).
//! Tokens are compared by SHA-256 hash in constant time; the clear token is never stored.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Manages spaces, webhooks, tokens; may do everything.
    Admin,
    /// Books and acts on bookings.
    Member,
    /// A room device: checks in, checks out, cancels.
    Device,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Device => "device",
        }
    }
    /// Parses a mintable role (`member` or `device`).
    pub fn parse_minted(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "device" => Some(Role::Device),
            _ => None,
        }
    }
}

/// The hex SHA-256 of a token.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Its role.
    pub role: Role,
    /// Its token's hash (scopes idempotency keys).
    pub token_hash: String,
}

impl Caller {
    /// Allows the call when the caller has one of `roles` (admins always may).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this needs the {} role; your token is {}",
                    wanted.join(" or "),
                    self.role.as_str()
                ),
            ))
        }
    }
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthorized("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <token>'"))?;
        let hash = token_hash(token);
        if bool::from(hash.as_bytes().ct_eq(state.admin_token_hash.as_bytes())) {
            return Ok(Caller {
                role: Role::Admin,
                token_hash: hash,
            });
        }
        let mut c = state.engine.store.read().await?;
        match zs_store::auth::token_by_hash(&mut c, &hash).await? {
            Some(rec) => {
                let role =
                    Role::parse_minted(&rec.role).ok_or_else(|| unauthorized("unknown token"))?;
                Ok(Caller {
                    role,
                    token_hash: hash,
                })
            }
            None => Err(unauthorized("unknown token")),
        }
    }
}
