//! Schemas the OpenAPI document needs beyond the request and response types of `dto`: the
//! closed vocabularies (states, statuses, events), typed business hours, a delivery attempt,
//! and the payloads the service sends (webhooks, status posts, server-sent events). The
//! vocabularies are built from the domain's own lists, so they cannot drift from it.

use crate::dto::BookingView;
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn string_enum(description: &str, values: impl IntoIterator<Item = &'static str>) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
            .enum_values(Some(values))
            .build(),
    )
}

/// Declares a string vocabulary: a named schema whose `enum` is `$values`.
macro_rules! vocabulary {
    ($(#[doc = $doc:literal])* $name:ident, $values:expr) => {
        $(#[doc = $doc])*
        pub struct $name;
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(string_enum(concat!($($doc),*).trim(), $values))
            }
        }
        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

vocabulary!(
    /// The space (scheduling) state.
    SpaceState,
    zs_core::SpaceState::ALL.map(|s| s.as_str())
);
vocabulary!(
    /// The room (physical) state.
    RoomState,
    zs_core::RoomState::ALL.map(|s| s.as_str())
);
vocabulary!(
    /// A booking's status.
    BookingStatus,
    zs_core::BookingStatus::ALL.map(|s| s.as_str())
);
vocabulary!(
    /// An event of the state machines.
    EventName,
    zs_core::EventKind::ALL.map(|e| e.as_str())
);
vocabulary!(
    /// Why a booking was cancelled: on request, because its space was in maintenance at its start, or because its series was released after its no-show strikes.
    CancelReason,
    [
        zs_core::booking::CANCEL_REQUESTED,
        zs_core::booking::CANCEL_SPACE_IN_MAINTENANCE,
        zs_core::booking::CANCEL_NO_SHOW_STRIKES
    ]
);
vocabulary!(
    /// Where a webhook delivery stands: `pending` (attempts to come), `delivered`, or `failed` (attempts exhausted; it can be replayed).
    DeliveryStatus,
    ["pending", "delivered", "failed"]
);
vocabulary!(
    /// The type of a booking webhook.
    BookingWebhookType,
    zs_core::notice::booking_webhook_types()
);

/// Weekly business hours in the space's time zone: for each weekday, its opening intervals.
/// A missing or empty day is closed; intervals of a day must not overlap (touching ones are
/// merged, also across midnight). The API answers with every day listed.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BusinessHours, example = json!({
    "mon": [{"open": "08:00", "close": "18:00"}], "tue": [{"open": "08:00", "close": "18:00"}],
    "wed": [{"open": "08:00", "close": "18:00"}], "thu": [{"open": "08:00", "close": "18:00"}],
    "fri": [{"open": "08:00", "close": "18:00"}], "sat": [], "sun": []}))]
#[allow(dead_code)] // describes `zs_core::calendar::BusinessHours`'s JSON, never built
pub struct WeeklyHours {
    /// Monday.
    #[schema(max_items = 24)]
    mon: Option<Vec<OpeningInterval>>,
    /// Tuesday.
    #[schema(max_items = 24)]
    tue: Option<Vec<OpeningInterval>>,
    /// Wednesday.
    #[schema(max_items = 24)]
    wed: Option<Vec<OpeningInterval>>,
    /// Thursday.
    #[schema(max_items = 24)]
    thu: Option<Vec<OpeningInterval>>,
    /// Friday.
    #[schema(max_items = 24)]
    fri: Option<Vec<OpeningInterval>>,
    /// Saturday.
    #[schema(max_items = 24)]
    sat: Option<Vec<OpeningInterval>>,
    /// Sunday.
    #[schema(max_items = 24)]
    sun: Option<Vec<OpeningInterval>>,
}

/// A local opening interval `[open, close)`, `open` before `close`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // describes JSON, never built
pub struct OpeningInterval {
    /// Opening time, `HH:MM` (00:00 to 23:59).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "08:00")]
    open: String,
    /// Closing time, `HH:MM` (00:01 to 24:00; `24:00` is midnight).
    #[schema(
        pattern = "^(00:(0[1-9]|[1-5][0-9])|(0[1-9]|1[0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        example = "18:00"
    )]
    close: String,
}

/// One attempt of a webhook delivery.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes `zs_store::deliveries::Attempt`'s JSON, never built
pub struct DeliveryAttempt {
    /// 1-based attempt number, in order across replays.
    attempt: i64,
    /// When it was made.
    #[schema(format = DateTime)]
    at: String,
    /// The HTTP status, if a response came.
    #[schema(required = true)]
    status_code: Option<i64>,
    /// What went wrong, if it failed.
    #[schema(required = true)]
    error: Option<String>,
    /// How long it took, in milliseconds.
    duration_ms: i64,
    /// Whether the receiver acknowledged it (2xx in time).
    success: bool,
}

/// A webhook about a booking: `data` is the booking as the API shows it.
#[derive(ToSchema)]
#[allow(dead_code)] // describes `zs_engine::payload::webhook_body`, never built
pub struct BookingWebhook {
    /// The webhook type.
    r#type: BookingWebhookType,
    /// When the event happened (RFC 3339).
    #[schema(format = DateTime)]
    timestamp: String,
    /// The booking after the event.
    data: BookingView,
}

/// The `space.state_changed` webhook.
#[derive(ToSchema)]
#[allow(dead_code)] // describes `zs_engine::payload::webhook_body`, never built
pub struct SpaceStateChangedWebhook {
    /// Always `space.state_changed`.
    #[schema(pattern = "^space\\.state_changed$")]
    r#type: String,
    /// When the change happened (RFC 3339).
    #[schema(format = DateTime)]
    timestamp: String,
    /// The change.
    data: SpaceStateChange,
}

/// The `room.state_changed` webhook.
#[derive(ToSchema)]
#[allow(dead_code)] // describes `zs_engine::payload::webhook_body`, never built
pub struct RoomStateChangedWebhook {
    /// Always `room.state_changed`.
    #[schema(pattern = "^room\\.state_changed$")]
    r#type: String,
    /// When the change happened (RFC 3339).
    #[schema(format = DateTime)]
    timestamp: String,
    /// The change.
    data: RoomStateChange,
}

/// The `series.released` webhook.
#[derive(ToSchema)]
#[allow(dead_code)] // describes `zs_engine::payload::webhook_body`, never built
pub struct SeriesReleasedWebhook {
    /// Always `series.released`.
    #[schema(pattern = "^series\\.released$")]
    r#type: String,
    /// When the series was released: the instant of the no-show that released it (RFC 3339).
    #[schema(format = DateTime)]
    timestamp: String,
    /// The release.
    data: SeriesRelease,
}

/// A series released after its no-show strikes: its occurrences not yet checked in were
/// cancelled with reason `no_show_strikes` (each also sent as `booking.cancelled`).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes JSON, never built
pub struct SeriesRelease {
    /// The series.
    series_id: String,
    /// Its space.
    space_id: String,
    /// Always `no_show_strikes`.
    #[schema(pattern = "^no_show_strikes$")]
    reason: String,
    /// The consecutive no-shows that released it (the space's `noShowStrikes`).
    no_shows: u32,
    /// The occurrences cancelled, in order.
    cancelled_booking_ids: Vec<String>,
    /// When it was released (RFC 3339).
    #[schema(format = DateTime)]
    released_at: String,
}

/// A change of a space's scheduling state.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes JSON, never built
pub struct SpaceStateChange {
    /// The space.
    space_id: String,
    /// The state before.
    from: SpaceState,
    /// The state after.
    to: SpaceState,
    /// The event that caused the change.
    #[schema(required = true)]
    event: Option<EventName>,
    /// The space's status sequence after the change.
    #[schema(required = true)]
    sequence: Option<u64>,
    /// The booking the new state is about, or null.
    #[schema(required = true)]
    booking_id: Option<String>,
    /// The booking whose event caused the change (null for space events and changes no
    /// event caused).
    #[schema(required = true)]
    event_booking_id: Option<String>,
    /// With `available_at`: the next booking's start; otherwise null.
    #[schema(format = DateTime, required = true)]
    next_booking_at: Option<String>,
}

/// A change of a room's physical state.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes JSON, never built
pub struct RoomStateChange {
    /// The space.
    space_id: String,
    /// The state before.
    from: RoomState,
    /// The state after.
    to: RoomState,
    /// The event that caused the change.
    #[schema(required = true)]
    event: Option<EventName>,
    /// The space's status sequence after the change.
    #[schema(required = true)]
    sequence: Option<u64>,
    /// The booking the new state is about, or null.
    #[schema(required = true)]
    booking_id: Option<String>,
    /// The booking whose event caused the change (null for space events and changes no
    /// event caused).
    #[schema(required = true)]
    event_booking_id: Option<String>,
}

/// A transition, as a status post (`ZS_STATUS_URL`) and as the `data` of a `transition`
/// server-sent event on `/v1/events`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // describes `zs_engine::payload::status_post`, never built
pub struct TransitionEvent {
    /// The space.
    space_id: String,
    /// The space state after the transition.
    space_state: SpaceState,
    /// The room state after the transition.
    room_state: RoomState,
    /// The booking the new state is about, or null.
    #[schema(required = true)]
    booking_id: Option<String>,
    /// The booking whose event caused the transition (null for space events).
    #[schema(required = true)]
    event_booking_id: Option<String>,
    /// With `available_at`: the next booking's start; otherwise null.
    #[schema(format = DateTime, required = true)]
    next_booking_at: Option<String>,
    /// The event that caused it.
    event: EventName,
    /// The space's status sequence: one more per transition, so stale updates can be dropped.
    sequence: u64,
    /// When it happened.
    #[schema(format = DateTime)]
    occurred_at: String,
}
