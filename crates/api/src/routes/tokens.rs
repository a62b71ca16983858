//! `/v1/tokens`: admins mint `member` and `device` tokens.

use crate::AppState;
use crate::auth::{Caller, Role, token_hash};
use crate::dto::{TokenInput, TokenView};
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zs_store::auth::{TokenRecord, insert_token};

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
