//! `/v1/tokens`: admins mint `member` and `device` tokens, list them (never their secret)
//! and revoke them (effective at once on every instance: tokens are looked up per request).

use crate::AppState;
use crate::auth::{Caller, Role, token_hash};
use crate::dto::{TokenInfo, TokenInput, TokenList, TokenView};
use crate::error::{ApiError, ErrorBody, quoted};
use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use zs_core::SpaceId;
use zs_store::auth::{TokenRecord, delete_token, insert_token, list_tokens};

/// A new random bearer token (`zs_` + 43 base64url characters: 256 bits).
pub fn new_token() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "zs_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The most spaces one device token may be limited to.
const MAX_TOKEN_SPACES: usize = 100;

/// The spaces a new token is limited to, checked: devices only, 1 to 100 valid ids
/// (repeats folded); `None`: not limited.
fn space_limit(role: Role, ids: Option<&[String]>) -> Result<Option<Vec<SpaceId>>, ApiError> {
    let bad = |m: String| ApiError::invalid("invalid_space_ids", m);
    let Some(ids) = ids else { return Ok(None) };
    match role {
        Role::Device => {}
        Role::Member | Role::Admin => {
            return Err(bad(format!(
                "spaceIds limits device tokens only; a {} acts on the bookings it creates",
                role.as_str()
            )));
        }
    }
    if ids.is_empty() || ids.len() > MAX_TOKEN_SPACES {
        return Err(bad(format!(
            "spaceIds must list 1 to {MAX_TOKEN_SPACES} spaces (leave it out for a device of every space)"
        )));
    }
    let mut out: Vec<SpaceId> = vec![];
    for s in ids {
        let id = SpaceId::parse(s)
            .map_err(|e| bad(format!("spaceIds: {} is not a space id: {e}", quoted(s))))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(Some(out))
}

/// Mint a token; the clear token is in this response only.
#[utoipa::path(post, path = "/v1/tokens", operation_id = "createToken", tag = "tokens", request_body = TokenInput,
    responses(
        (status = 201, description = "Minted: the bearer token is in this answer only", body = TokenView),
        (status = 422, description = "`invalid_role`, `invalid_label`; `invalid_space_ids`: `spaceIds` given for a member, empty, over 100 or not ids; `unknown_space`: a space in `spaceIds` does not exist", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(input): Json<TokenInput>,
) -> Result<(StatusCode, axum::Json<TokenView>), ApiError> {
    caller.require(&[Role::Admin])?;
    let role = Role::parse_minted(&input.role).ok_or_else(|| {
        ApiError::invalid("invalid_role", "role must be \"member\" or \"device\"")
    })?;
    crate::dto::text("invalid_label", "label", &input.label, 200)?;
    let limit = space_limit(role, input.space_ids.as_deref())?;
    let token = new_token();
    let rec = TokenRecord {
        id: super::generated_id("tok"),
        role: role.as_str().into(),
        label: input.label,
        space_ids: limit
            .as_ref()
            .map(|l| l.iter().map(|s| s.to_string()).collect()),
    };
    let mut tx = st.engine.store.begin().await?;
    if let Some(limit) = &limit {
        // Read under the spaces' locks (PostgreSQL): a space deleted meanwhile waits or is
        // missing here, never left in the new token's list.
        let ids: Vec<&SpaceId> = limit.iter().collect();
        let found = zs_store::spaces::get_many(&mut tx, &ids).await?;
        if let Some(missing) = limit
            .iter()
            .find(|s| !found.iter().any(|(f, _)| &f.id == *s))
        {
            return Err(ApiError::invalid(
                "unknown_space",
                format!("spaceIds: there is no space {missing}"),
            ));
        }
    }
    insert_token(&mut tx, &token_hash(&token), &rec, st.engine.clock.now()).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenView {
            id: rec.id,
            role: rec.role,
            label: rec.label,
            space_ids: rec.space_ids,
            token,
        }),
    ))
}

/// List the minted tokens (ids, roles, labels; never a token).
#[utoipa::path(get, path = "/v1/tokens", operation_id = "listTokens", tag = "tokens",
    responses((status = 200, description = "The minted tokens, oldest first", body = TokenList)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<TokenList>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut c = st.engine.store.read().await?;
    let items = list_tokens(&mut c)
        .await?
        .into_iter()
        .map(|t| TokenInfo {
            id: t.record.id,
            role: t.record.role,
            label: t.record.label,
            space_ids: t.record.space_ids,
            created_at: t.created_at.to_string(),
        })
        .collect();
    Ok(axum::Json(TokenList { items }))
}

/// Revoke a token: every later request with it gets 401, on every instance.
#[utoipa::path(delete, path = "/v1/tokens/{id}", operation_id = "revokeToken", tag = "tokens",
    params(("id" = String, Path, description = "The token id (`tok_…`)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "`not_found`: no such token", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = st.engine.store.begin().await?;
    let existed = delete_token(&mut tx, &id).await?;
    tx.commit().await?;
    if existed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("token {}", quoted(&id))))
    }
}
