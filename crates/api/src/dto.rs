//! Request and response bodies of the HTTP API, with their OpenAPI schemas.

use crate::error::ApiError;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use zs_core::calendar::{BusinessHours, Zone};
use zs_core::{Period, Space, SpaceSettings, SpaceStatus, Transition};

/// A space to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "room-1", "name": "Room 1", "timezone": "Europe/Berlin",
    "upcomingLead": "PT15M", "noShowGrace": "PT10M", "cleaning": "PT10M"}))]
pub struct SpaceInput {
    /// Client-chosen id (1–64 of A-Z a-z 0-9 _ -); generated when absent.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: Option<String>,
    /// A human name (1–200 characters, no control characters).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: String,
    /// IANA time zone, e.g. `Europe/Berlin`.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    /// Weekly hours `{"mon": [{"open": "08:00", "close": "18:00"}], …}`; absent = always open.
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<Value>,
    /// ISO-8601 duration from PT1S to PT24H, default `PT15M`.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub upcoming_lead: Option<String>,
    /// ISO-8601 duration from PT1S to PT24H, default `PT10M`.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub no_show_grace: Option<String>,
    /// ISO-8601 duration from PT1S to PT24H, default `PT10M`.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub cleaning: Option<String>,
}

/// The state part of a space.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateView {
    /// `available_now`, `available_at`, `reserved`, `in-maintenance` or `not_available`.
    pub space: String,
    /// `free`, `upcoming`, `occupied` or `cleaning`.
    pub room: String,
    /// The booking the space is about.
    pub booking_id: Option<String>,
    /// With `available_at`: the next booking's start.
    pub next_booking_at: Option<String>,
    /// When the state last changed.
    pub since: String,
    /// The status sequence.
    pub sequence: u64,
}

/// A space.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpaceView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// IANA zone.
    pub timezone: String,
    /// Weekly business hours, or null when always open.
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<Value>,
    /// Upcoming lead.
    pub upcoming_lead: String,
    /// No-show grace.
    pub no_show_grace: String,
    /// Cleaning.
    pub cleaning: String,
    /// Maintenance flag.
    pub maintenance: bool,
    /// Current states.
    pub state: StateView,
}

impl StateView {
    /// From a stored status.
    pub fn from_status(s: &SpaceStatus) -> Self {
        Self {
            space: s.space.as_str().into(),
            room: s.room.as_str().into(),
            booking_id: s.booking_id.as_ref().map(|b| b.to_string()),
            next_booking_at: s.next_booking_at.map(|t| t.to_string()),
            since: s.since.to_string(),
            sequence: s.sequence,
        }
    }
}

impl SpaceView {
    /// From the domain.
    pub fn new(sp: &Space, st: &SpaceStatus) -> Self {
        Self {
            id: sp.id.to_string(),
            name: sp.name.clone(),
            timezone: sp.settings.zone.name().into(),
            business_hours: sp
                .settings
                .business_hours
                .as_ref()
                .map(|h| serde_json::to_value(h).expect("hours")),
            upcoming_lead: sp.settings.upcoming_lead.to_string(),
            no_show_grace: sp.settings.no_show_grace.to_string(),
            cleaning: sp.settings.cleaning.to_string(),
            maintenance: sp.maintenance,
            state: StateView::from_status(st),
        }
    }
}

/// A list of spaces.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceList {
    /// The spaces.
    pub items: Vec<SpaceView>,
}

fn period(field: &str, v: Option<&str>, default: Period) -> Result<Period, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => Period::parse(s)
            .map_err(|e| ApiError::invalid("invalid_duration", format!("{field}: {e}"))),
    }
}

/// Parses a zone.
pub fn zone(name: &str) -> Result<Zone, ApiError> {
    Zone::parse(name).map_err(|e| ApiError::invalid("invalid_timezone", e.to_string()))
}

/// Parses business hours (`null` = always open).
pub fn hours(v: Option<&Value>) -> Result<Option<BusinessHours>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => BusinessHours::parse_json(v)
            .map(Some)
            .map_err(|e| ApiError::invalid("invalid_business_hours", e.to_string())),
    }
}

impl SpaceInput {
    /// Validated settings.
    pub fn settings(&self) -> Result<SpaceSettings, ApiError> {
        let d = SpaceSettings::defaults(zone(&self.timezone)?);
        Ok(SpaceSettings {
            business_hours: hours(self.business_hours.as_ref())?,
            upcoming_lead: period(
                "upcomingLead",
                self.upcoming_lead.as_deref(),
                d.upcoming_lead,
            )?,
            no_show_grace: period(
                "noShowGrace",
                self.no_show_grace.as_deref(),
                d.no_show_grace,
            )?,
            cleaning: period("cleaning", self.cleaning.as_deref(), d.cleaning)?,
            zone: d.zone,
        })
    }
}

/// A partial update of a space: absent fields stay, `businessHours: null` means always open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpacePatch {
    /// New name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    )]
    pub name: Option<String>,
    /// New zone.
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// New hours (`null`: always open).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub business_hours: Option<Value>,
    /// New lead.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub upcoming_lead: Option<String>,
    /// New grace.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub no_show_grace: Option<String>,
    /// New cleaning.
    #[schema(
        pattern = "^PT([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]{1,3})?S)?$",
        example = "PT10M"
    )]
    pub cleaning: Option<String>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` so it differs from an absent field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl SpacePatch {
    /// The settings after the patch.
    pub fn apply(&self, old: &SpaceSettings) -> Result<SpaceSettings, ApiError> {
        Ok(SpaceSettings {
            zone: match &self.timezone {
                Some(z) => zone(z)?,
                None => old.zone.clone(),
            },
            business_hours: match &self.business_hours {
                Some(v) => hours(Some(v))?,
                None => old.business_hours.clone(),
            },
            upcoming_lead: period(
                "upcomingLead",
                self.upcoming_lead.as_deref(),
                old.upcoming_lead,
            )?,
            no_show_grace: period(
                "noShowGrace",
                self.no_show_grace.as_deref(),
                old.no_show_grace,
            )?,
            cleaning: period("cleaning", self.cleaning.as_deref(), old.cleaning)?,
        })
    }
}

/// A booking to create.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookingInput {
    /// Client-chosen id (1–64 of A-Z a-z 0-9 _ -); generated when absent.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: Option<String>,
    /// The space.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub space_id: String,
    /// RFC 3339 start (kept to the millisecond), from 1970 to 9998.
    #[schema(format = DateTime)]
    pub start: String,
    /// RFC 3339 end: after the start, at most 7 days later.
    #[schema(format = DateTime)]
    pub end: String,
    /// A title (at most 500 characters, no control characters).
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub title: Option<String>,
}

/// A booking.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingView {
    /// Id.
    pub id: String,
    /// The space.
    pub space_id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub start: String,
    /// End.
    pub end: String,
    /// `scheduled`, `upcoming`, `awaiting_check_in`, `checked_in`, `completed`, `cancelled`, `no_show`.
    pub status: String,
    /// Created.
    pub created_at: String,
    /// Check-in instant.
    pub checked_in_at: Option<String>,
    /// When the occupied session ended.
    pub ended_at: Option<String>,
    /// Cancellation instant.
    pub cancelled_at: Option<String>,
    /// Why it was cancelled (`requested`, `space_in_maintenance`).
    pub cancel_reason: Option<String>,
}

/// A list of bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    /// The bookings (as `BookingView`).
    #[schema(value_type = Vec<BookingView>)]
    pub items: Vec<Value>,
}

/// One transition in a space's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionView {
    /// Sequence.
    pub sequence: u64,
    /// The event.
    pub event: String,
    /// The booking the event concerned.
    pub booking_id: Option<String>,
    /// Space state before.
    pub from_space: String,
    /// Room state before.
    pub from_room: String,
    /// Space state after.
    pub space_state: String,
    /// Room state after.
    pub room_state: String,
    /// The booking the space is about afterwards.
    pub state_booking_id: Option<String>,
    /// Next booking start, with `available_at`.
    pub next_booking_at: Option<String>,
    /// When.
    pub occurred_at: String,
}

impl From<&Transition> for TransitionView {
    fn from(t: &Transition) -> Self {
        Self {
            sequence: t.to.sequence,
            event: t.event.as_str().into(),
            booking_id: t.booking_id.as_ref().map(|b| b.to_string()),
            from_space: t.from_space.as_str().into(),
            from_room: t.from_room.as_str().into(),
            space_state: t.to.space.as_str().into(),
            room_state: t.to.room.as_str().into(),
            state_booking_id: t.to.booking_id.as_ref().map(|b| b.to_string()),
            next_booking_at: t.to.next_booking_at.map(|x| x.to_string()),
            occurred_at: t.to.since.to_string(),
        }
    }
}

/// A space's history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Transitions.
    pub items: Vec<TransitionView>,
}

/// A bookable interval.
#[derive(Debug, Serialize, ToSchema)]
pub struct Interval {
    /// Start.
    pub start: String,
    /// End.
    pub end: String,
}

/// Bookable intervals.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Availability {
    /// The space.
    pub space_id: String,
    /// Intervals where a booking fits (business hours, cleaning and other bookings considered).
    pub items: Vec<Interval>,
}

/// A webhook endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
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
    /// Id.
    pub id: String,
    /// URL.
    pub url: String,
    /// Subscribed types (empty = all).
    pub events: Vec<String>,
    /// Created.
    pub created_at: String,
    /// The `whsec_…` signing secret: only in the create response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
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
    /// The `webhook-id`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt.
    pub next_attempt_at: Option<String>,
    /// Last HTTP status.
    pub last_status: Option<i64>,
    /// Last error.
    pub last_error: Option<String>,
    /// Created.
    pub created_at: String,
    /// Every attempt.
    #[schema(value_type = Vec<Object>)]
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
pub struct TokenInput {
    /// `member` or `device`.
    #[schema(pattern = "^(member|device)$", example = "member")]
    pub role: String,
    /// A label (at most 200 characters, no control characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub label: String,
}

/// A minted token: the clear token is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Label.
    pub label: String,
    /// The bearer token (shown only now).
    pub token: String,
}

/// The instants the API takes: from 1970 to the end of 9998, so that a booking's end plus
/// its cleaning, a timer's due time or an availability window never leaves jiff's range
/// (which ends on 9999-12-30).
const EARLIEST: Timestamp = Timestamp::UNIX_EPOCH;
const LATEST: Timestamp = Timestamp::constant(253_370_764_800, 0); // 9999-01-01T00:00:00Z

/// Parses an RFC 3339 instant between 1970 and 9998, kept to the millisecond.
pub fn instant(field: &str, s: &str) -> Result<Timestamp, ApiError> {
    let shown = crate::error::quoted(s);
    let t = s.parse::<Timestamp>().map_err(|_| {
        ApiError::invalid(
            "invalid_time",
            format!("{field}: {shown} is not an RFC 3339 instant such as 2026-05-04T09:00:00Z"),
        )
    })?;
    if t < EARLIEST || t >= LATEST {
        return Err(ApiError::invalid(
            "invalid_time",
            format!("{field}: {shown} is out of range: instants are from 1970 to 9998"),
        ));
    }
    Ok(zs_core::clock::to_millis(t))
}

/// Checks a free-text field: at most `max` bytes and no control characters (none belongs in
/// a name or a title, and PostgreSQL refuses NUL).
pub fn text(code: &'static str, field: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.chars().count() > max {
        return Err(ApiError::invalid(
            code,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            code,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_webhook_types_are_the_ones_we_send() {
        let schema =
            serde_json::to_value(<WebhookType as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(
            schema["enum"],
            serde_json::json!(zs_core::notice::WEBHOOK_TYPES)
        );
    }

    #[test]
    fn text_counts_characters_and_refuses_control_characters() {
        assert!(text("c", "f", &"é".repeat(200), 200).is_ok());
        assert!(text("c", "f", &"é".repeat(201), 200).is_err());
        for bad in ["a\u{0}b", "tab\there", "\u{85}"] {
            assert_eq!(text("c", "f", bad, 200).unwrap_err().code, "c");
        }
    }

    #[test]
    fn instants_stay_within_what_the_arithmetic_can_hold() {
        assert!(instant("t", "2026-05-04T09:00:00Z").is_ok());
        assert!(instant("t", "9998-12-31T23:59:59.999Z").is_ok());
        for bad in [
            "9999-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "-000001-01-01T00:00:00Z",
        ] {
            assert_eq!(instant("t", bad).unwrap_err().code, "invalid_time", "{bad}");
        }
    }
}
