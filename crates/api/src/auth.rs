//! Bearer-token roles: `admin` (from `ZS_ADMIN_TOKEN`), `member` and `device` (minted).
//! Tokens are compared by SHA-256 hash in constant time; the clear token is never stored.
//! Every authenticated request is counted against its token's rate limit.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
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
    /// A minted token's public id (`tok_…`): a member's bookings are recorded with it.
    /// `None` for the admin.
    pub token_id: Option<String>,
    /// The spaces a limited device acts on; `None`: not limited. Read with the token on
    /// every request.
    pub space_ids: Option<Vec<String>>,
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

impl Caller {
    /// Whether this caller may read or act on a booking of `space` created by the token
    /// `owner` (`None`: created by an admin or the ingress queue). Admins: every booking.
    /// Members: the ones they created. Devices: every booking of their spaces (all spaces
    /// when not limited). Whoever may not gets the same 404 as for an unknown id.
    pub fn may_use_booking(&self, owner: Option<&str>, space: &zs_core::SpaceId) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Member => owner.is_some() && owner == self.token_id.as_deref(),
            Role::Device => self
                .space_ids
                .as_ref()
                .is_none_or(|list| list.iter().any(|s| s == space.as_str())),
        }
    }
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// Authenticates, then counts the request against the token's rate limit; a failure
    /// counts against the client's address instead (see [`crate::limit`]).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let caller = match bearer(parts) {
            Ok(token) => authenticate(token, ip, state).await?,
            Err(e) => {
                state.limits.check_blocked(ip)?;
                Err(e)
            }
        };
        match caller {
            Ok(c) => {
                state.limits.token(&c.token_hash)?;
                Ok(c)
            }
            Err(e) => Err(state.limits.failure(ip, e)),
        }
    }
}

/// The bearer token of the request.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send Authorization: Bearer <token>"))?;
    // The scheme is case-insensitive (RFC 7235 §2.1): `bearer` and `BEARER` are `Bearer`.
    header
        .to_str()
        .ok()
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <token>'"))
}

/// The caller a token belongs to: the outer `Err` is a refusal (store down, or an unknown
/// token from an address over its failure allowance), the inner one an unknown token.
///
/// A known token is looked up and accepted whatever its address's failures: others behind
/// the same proxy must not lock a valid token out. Only unknown tokens meet the failure
/// limit; tokens are 256 random bits, so the limit guards the store's load, not secrecy.
async fn authenticate(
    token: &str,
    ip: Option<IpAddr>,
    state: &AppState,
) -> Result<Result<Caller, ApiError>, ApiError> {
    let hash = token_hash(token);
    // The admin is never locked out by what others sharing its address do.
    if bool::from(hash.as_bytes().ct_eq(state.admin_token_hash.as_bytes())) {
        return Ok(Ok(Caller {
            role: Role::Admin,
            token_hash: hash,
            token_id: None,
            space_ids: None,
        }));
    }
    let mut c = state.engine.store.read().await?;
    let found = zs_store::auth::token_by_hash(&mut c, &hash)
        .await?
        .and_then(|rec| Some((Role::parse_minted(&rec.role)?, rec)));
    match found {
        Some((role, rec)) => Ok(Ok(Caller {
            role,
            token_hash: hash,
            token_id: Some(rec.id),
            space_ids: rec.space_ids,
        })),
        None => {
            state.limits.check_blocked(ip)?;
            Ok(Err(unauthorized("unknown token")))
        }
    }
}
