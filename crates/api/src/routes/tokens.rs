//! `/v1/tokens`: admins mint `member` and `device` tokens, list them (never their secret)
//! and revoke them (effective at once on every instance: tokens are looked up per request).

use crate::AppState;
use crate::auth::{Caller, Role, token_hash};
use crate::dto::{TokenInfo, TokenInput, TokenList, TokenView};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
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

/// Mint a token; the clear token is in this response only.
#[utoipa::path(post, path = "/v1/tokens", operation_id = "createToken", tag = "tokens", request_body = TokenInput,
    responses(
        (status = 201, description = "Minted: the bearer token is in this answer only", body = TokenView),
        (status = 422, description = "`invalid_role` or `invalid_label`", body = ErrorBody)),
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
    let token = new_token();
    let rec = TokenRecord {
        id: super::generated_id("tok"),
        role: role.as_str().into(),
        label: input.label,
    };
    let mut tx = st.engine.store.begin().await?;
    insert_token(&mut tx, &token_hash(&token), &rec, st.engine.clock.now()).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenView {
            id: rec.id,
            role: rec.role,
            label: rec.label,
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
        Err(ApiError::not_found(format!(
            "token {}",
            crate::error::quoted(&id)
        )))
    }
}
