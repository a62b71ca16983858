//! Bodies of the webhook, delivery and token routes, with their OpenAPI schemas.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A webhook endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://example.com/hooks",
    "events": ["booking.created", "booking.cancelled", "space.state_changed"]}))]
pub struct WebhookInput {
    /// `http(s)` URL of a public address (private ones need `ZS_ALLOW_PRIVATE_WEBHOOKS`).
    #[schema(
        format = "uri",
        max_length = 2000,
        example = "https://example.com/hooks"
    )]
    pub url: String,
    /// Types to receive; empty or absent = all.
    #[serde(default)]
    #[schema(value_type = Vec<WebhookType>)]
    pub events: Vec<String>,
}

/// A webhook event type.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // documents the names `WebhookInput::events` takes
pub enum WebhookType {
    /// A booking was created.
    #[serde(rename = "booking.created")]
    Created,
    /// The upcoming lead of a booking was reached.
    #[serde(rename = "booking.start")]
    Start,
    /// Checked in.
    #[serde(rename = "booking.checked_in")]
    CheckedIn,
    /// Nobody checked in in time.
    #[serde(rename = "booking.no_show")]
    NoShow,
    /// Checked out early.
    #[serde(rename = "booking.checked_out")]
    CheckedOut,
    /// The booking's time ended.
    #[serde(rename = "booking.ended")]
    Ended,
    /// Cancelled.
    #[serde(rename = "booking.cancelled")]
    Cancelled,
    /// Its end was moved later (`POST /v1/bookings/{id}/extend`).
    #[serde(rename = "booking.extended")]
    Extended,
    /// A series' no-show strikes released it.
    #[serde(rename = "series.released")]
    SeriesReleased,
    /// The space state changed.
    #[serde(rename = "space.state_changed")]
    SpaceStateChanged,
    /// The room state changed.
    #[serde(rename = "room.state_changed")]
    RoomStateChanged,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    /// Id (`ep_…`).
    pub id: String,
    /// URL.
    pub url: String,
    /// Subscribed types (empty = all).
    #[schema(value_type = Vec<WebhookType>)]
    pub events: Vec<String>,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The `whsec_…` signing secret: only in the create and rotate responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// After a rotation: until when the previous secret also signs (absent once it no
    /// longer does, or if the secret was never rotated).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// A list of webhook endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// The endpoints.
    pub items: Vec<WebhookView>,
}

/// A delivery with its attempts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The delivery id (`msg_…`), sent as the `webhook-id` header.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event type.
    #[schema(value_type = WebhookType)]
    pub event_type: String,
    /// Where the delivery stands.
    #[schema(value_type = crate::openapi::schemas::DeliveryStatus)]
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (null when none is).
    #[schema(format = DateTime, required = true)]
    pub next_attempt_at: Option<String>,
    /// The HTTP status of the last attempt that got a response, or null.
    #[schema(required = true)]
    pub last_status: Option<i64>,
    /// What went wrong in the last failed attempt, or null.
    #[schema(required = true)]
    pub last_error: Option<String>,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Every attempt, oldest first.
    #[schema(value_type = Vec<crate::openapi::schemas::DeliveryAttempt>)]
    pub log: Vec<Value>,
}

/// Deliveries of an endpoint, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Deliveries.
    pub items: Vec<DeliveryView>,
}

/// A token to mint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"role": "device", "label": "panel outside room 1", "spaceIds": ["room-1"]}))]
pub struct TokenInput {
    /// `member` or `device`.
    #[schema(pattern = "^(member|device)$", example = "member")]
    pub role: String,
    /// A label (at most 200 characters, no control characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub label: String,
    /// Device tokens only: the spaces (existing ids, 1 to 100) whose bookings it may act
    /// on. Absent or null: every space.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub space_ids: Option<Vec<String>>,
}

/// A minted token as listed: never the token itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Token id (`tok_…`).
    pub id: String,
    /// Role: `member` or `device`.
    #[schema(pattern = "^(member|device)$")]
    pub role: String,
    /// Label.
    pub label: String,
    /// The spaces a limited device acts on (empty once they are all deleted); null for a
    /// token that is not limited.
    pub space_ids: Option<Vec<String>>,
    /// When it was minted.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// The minted tokens, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens.
    pub items: Vec<TokenInfo>,
}

/// A minted token: the clear token is shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Token id (`tok_…`).
    pub id: String,
    /// Role: `member` or `device`.
    #[schema(pattern = "^(member|device)$")]
    pub role: String,
    /// Label.
    pub label: String,
    /// The spaces a limited device acts on; null for a token that is not limited.
    pub space_ids: Option<Vec<String>>,
    /// The bearer token (shown only now).
    pub token: String,
}
