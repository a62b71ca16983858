//! `/v1/webhooks` and `/v1/deliveries`: endpoints, their delivery logs, and replay.

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, quoted};
use crate::extract::Path;
use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use zs_core::notice::WEBHOOK_TYPES;
use zs_delivery::WebhookSecret;
use zs_store::deliveries::{self, Delivery, Endpoint};

/// A webhook or delivery id from a path: ours are `ep_…` and `msg_…`; anything that could not
/// be one is simply not found (and never reaches the store).
fn known_id(kind: &str, id: String) -> Result<String, ApiError> {
    let plausible = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plausible {
        Ok(id)
    } else {
        Err(ApiError::not_found(format!("{kind} {}", quoted(&id))))
    }
}

/// An endpoint as shown: never its stored secrets; `secret` (the `whsec_` text) only when
/// it was just made; the previous secret's end while it still signs at `now`.
fn view(e: &Endpoint, secret: Option<&WebhookSecret>, now: jiff::Timestamp) -> WebhookView {
    WebhookView {
        id: e.id.clone(),
        url: e.url.clone(),
        events: e.events.clone(),
        created_at: e.created_at.to_string(),
        secret: secret.map(WebhookSecret::as_str),
        previous_secret_expires_at: e
            .previous_until
            .filter(|until| now < *until && e.previous_secret.is_some())
            .map(|until| until.to_string()),
    }
}

/// Add a webhook endpoint; the response carries its signing secret, once.
#[utoipa::path(post, path = "/v1/webhooks", operation_id = "createWebhook", tag = "webhooks", request_body = WebhookInput,
    responses(
        (status = 201, description = "Created: the endpoint with its `whsec_` signing secret, shown only here", body = WebhookView),
        (status = 422, description = "`invalid_url` or `invalid_event_type`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(input): Json<WebhookInput>,
) -> Result<(StatusCode, axum::Json<WebhookView>), ApiError> {
    caller.require(&[Role::Admin])?;
    if let Some(bad) = input
        .events
        .iter()
        .find(|e| !WEBHOOK_TYPES.contains(&e.as_str()))
    {
        return Err(ApiError::invalid(
            "invalid_event_type",
            format!(
                "unknown event type {}; known: {}",
                quoted(bad),
                WEBHOOK_TYPES.join(", ")
            ),
        ));
    }
    text("invalid_url", "url", &input.url, 2000)?;
    // A name that resolves only to private addresses is refused now, like its literal IP,
    // rather than accepted and then failing every delivery.
    zs_delivery::check_target(&input.url, st.engine.outbound.allow_private)
        .await
        .map_err(|e| ApiError::invalid("invalid_url", e.to_string()))?;
    let (e, secret) = st
        .engine
        .create_endpoint(input.url, input.events)
        .await
        .map_err(|e| match e {
            zs_engine::EngineError::Invalid(m) => ApiError::invalid("invalid_url", m),
            other => other.into(),
        })?;
    let now = st.engine.clock.now();
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&e, Some(&secret), now)),
    ))
}

/// Rotate an endpoint's signing secret: the response carries the new secret, once. The
/// previous secret also signs for 24 hours (two `v1,` signatures per delivery); rotating
/// again within them keeps only the secret being replaced.
#[utoipa::path(post, path = "/v1/webhooks/{id}/rotate", operation_id = "rotateWebhookSecret", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`ep_…`)")),
    responses(
        (status = 200, description = "Rotated: the endpoint with its new `whsec_` signing secret, shown only here, and when the previous one stops signing", body = WebhookView),
        (status = 404, description = "`not_found`: no such endpoint", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<WebhookView>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = known_id("webhook", id)?;
    let r = st.engine.rotate_endpoint_secret(&id).await?;
    let now = st.engine.clock.now();
    Ok(axum::Json(view(&r.endpoint, Some(&r.secret), now)))
}

/// List webhook endpoints.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    responses((status = 200, description = "Every endpoint (without secrets)", body = WebhookList)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<WebhookList>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut c = st.engine.store.read().await?;
    let now = st.engine.clock.now();
    let items = deliveries::endpoints(&mut c)
        .await?
        .iter()
        .map(|e| view(e, None, now))
        .collect();
    Ok(axum::Json(WebhookList { items }))
}

/// Remove a webhook endpoint.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`ep_…`)")),
    responses(
        (status = 204, description = "Removed: nothing more is sent to it"),
        (status = 404, description = "`not_found`: no such endpoint", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = known_id("webhook", id)?;
    st.engine.delete_endpoint(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delivery_view(c: &mut zs_store::Conn, d: Delivery) -> Result<DeliveryView, ApiError> {
    let log = deliveries::attempts(c, &d.id)
        .await?
        .iter()
        .map(|a| serde_json::to_value(a).expect("attempt"))
        .collect();
    Ok(DeliveryView {
        id: d.id,
        endpoint_id: d.endpoint_id,
        event_type: d.event_type,
        status: d.status.as_str().to_owned(),
        attempts: d.attempts,
        next_attempt_at: d.next_attempt_at.map(|t| t.to_string()),
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at.to_string(),
        log,
    })
}

/// The delivery log of an endpoint, newest first (at most 200).
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", operation_id = "listWebhookDeliveries", tag = "webhooks",
    params(("id" = String, Path, description = "The endpoint id (`ep_…`)")),
    responses(
        (status = 200, description = "The endpoint's deliveries with their attempts, newest first; a settled delivery is deleted once `ZS_DELIVERY_RETENTION` (default 30 days) has passed since its last change", body = DeliveryList),
        (status = 404, description = "`not_found`: no such endpoint", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deliveries_of(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<DeliveryList>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = known_id("webhook", id)?;
    let mut c = st.engine.store.read().await?;
    deliveries::endpoint(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook {id}")))?;
    let mut items = vec![];
    for d in deliveries::for_endpoint(&mut c, &id, 200).await? {
        items.push(delivery_view(&mut c, d).await?);
    }
    Ok(axum::Json(DeliveryList { items }))
}

/// Replay a delivery now (also a dead-lettered one).
#[utoipa::path(post, path = "/v1/deliveries/{id}/retry", operation_id = "retryDelivery", tag = "webhooks",
    params(("id" = String, Path, description = "The delivery id (`msg_…`)")),
    responses(
        (status = 202, description = "Accepted: the delivery is pending again and will be attempted now", body = DeliveryView),
        (status = 404, description = "`not_found`: no such delivery (also one deleted after `ZS_DELIVERY_RETENTION`)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn retry(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<DeliveryView>), ApiError> {
    caller.require(&[Role::Admin])?;
    let id = known_id("delivery", id)?;
    let d = st.engine.retry_delivery(&id).await?;
    let mut c = st.engine.store.read().await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(delivery_view(&mut c, d).await?),
    ))
}
