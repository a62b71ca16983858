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
    /// Weekly hours `{"mon": [{"open": "08:00", "close": "18:00"}], …}`; absent or null =
    /// always open.
    #[schema(value_type = Option<crate::openapi::schemas::WeeklyHours>)]
    pub business_hours: Option<Value>,
    /// ISO-8601 duration (`PT` then hours, minutes, seconds) from PT1S to PT24H in whole
    /// milliseconds; default `PT15M`.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
        example = "PT10M"
    )]
    pub upcoming_lead: Option<String>,
    /// ISO-8601 duration (`PT` then hours, minutes, seconds) from PT1S to PT24H in whole
    /// milliseconds; default `PT10M`.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
        example = "PT10M"
    )]
    pub no_show_grace: Option<String>,
    /// ISO-8601 duration (`PT` then hours, minutes, seconds) from PT1S to PT24H in whole
    /// milliseconds; default `PT10M`.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
        example = "PT10M"
    )]
    pub cleaning: Option<String>,
}

/// The state part of a space.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateView {
    /// The space (scheduling) state.
    #[schema(value_type = crate::openapi::schemas::SpaceState)]
    pub space: String,
    /// The room (physical) state.
    #[schema(value_type = crate::openapi::schemas::RoomState)]
    pub room: String,
    /// The booking the state is about (null when none).
    #[schema(required = true)]
    pub booking_id: Option<String>,
    /// With `available_at`: the next booking's start; otherwise null.
    #[schema(format = DateTime, required = true)]
    pub next_booking_at: Option<String>,
    /// When the state last changed.
    #[schema(format = DateTime)]
    pub since: String,
    /// The space's status sequence: one more at every transition.
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
    /// IANA time zone.
    pub timezone: String,
    /// Weekly business hours (every day listed), or null when always open.
    #[schema(value_type = Option<crate::openapi::schemas::WeeklyHours>, required = true)]
    pub business_hours: Option<Value>,
    /// How long before a booking's start the room turns `upcoming` (ISO-8601, e.g. `PT15M`).
    pub upcoming_lead: String,
    /// How long after the start a check-in is still accepted (ISO-8601).
    pub no_show_grace: String,
    /// How long the room is `cleaning` after an occupied session (ISO-8601).
    pub cleaning: String,
    /// Whether the space is in maintenance.
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

/// Whether `s` is an ISO-8601 duration of hours, minutes and seconds as the API takes it:
/// `PT`, then at least one of `nH`, `nM`, `n[.fff]S` in that order, letters in either case.
/// It is exactly the `pattern` the OpenAPI document gives these fields (the parser beneath
/// would take more, such as `15m`, which no pattern can describe).
pub fn iso_period_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || !b[0].eq_ignore_ascii_case(&b'P') || !b[1].eq_ignore_ascii_case(&b'T') {
        return false;
    }
    let (mut i, mut rank) = (2, 0);
    while i < b.len() {
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += digits;
        let mut fraction = false;
        if b.get(i) == Some(&b'.') {
            let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=3).contains(&n) {
                return false;
            }
            i += 1 + n;
            fraction = true;
        }
        let next = match b.get(i).map(u8::to_ascii_uppercase) {
            Some(b'H') if !fraction => 1,
            Some(b'M') if !fraction => 2,
            Some(b'S') => 3,
            _ => return false,
        };
        if next <= rank {
            return false;
        }
        rank = next;
        i += 1;
    }
    true
}

fn period(field: &str, v: Option<&str>, default: Period) -> Result<Period, ApiError> {
    let Some(s) = v else { return Ok(default) };
    let refused = || {
        ApiError::invalid(
            "invalid_duration",
            format!(
                "{field}: {} is not a duration between PT1S and PT24H: write ISO-8601 such as \"PT15M\", \"PT1H30M\" or \"PT90.5S\"",
                crate::error::quoted(s)
            ),
        )
    };
    if !iso_period_syntax(s) {
        return Err(refused());
    }
    Period::parse(s).map_err(|_| refused())
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
#[schema(example = json!({"name": "Room 1 (2nd floor)", "businessHours": {
    "mon": [{"open": "08:00", "close": "18:00"}], "tue": [{"open": "08:00", "close": "18:00"}],
    "wed": [{"open": "08:00", "close": "12:00"}, {"open": "13:00", "close": "18:00"}],
    "thu": [{"open": "08:00", "close": "18:00"}], "fri": [{"open": "08:00", "close": "16:00"}],
    "sat": [], "sun": []}, "cleaning": "PT5M"}))]
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
    #[schema(value_type = Option<crate::openapi::schemas::WeeklyHours>)]
    pub business_hours: Option<Value>,
    /// New lead.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
        example = "PT10M"
    )]
    pub upcoming_lead: Option<String>,
    /// New grace.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
        example = "PT10M"
    )]
    pub no_show_grace: Option<String>,
    /// New cleaning.
    #[schema(
        pattern = "^[Pp][Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss])$",
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
#[schema(example = json!({"id": "bk-2026-05-04-standup", "spaceId": "room-1",
    "start": "2026-05-04T09:00:00Z", "end": "2026-05-04T09:30:00Z", "title": "Stand-up"}))]
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

/// A booking, as the API serves it and as booking webhooks carry it in `data` (the
/// handlers and the webhooks both write it with `zs_engine::payload::booking_json`; this type
/// only describes that JSON).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // a description of `booking_json`'s output, never built
pub struct BookingView {
    /// Id.
    pub id: String,
    /// The same id again, under the name webhook consumers and status posts use.
    pub booking_id: String,
    /// The space.
    pub space_id: String,
    /// Title (empty when none was given).
    pub title: String,
    /// Start (RFC 3339, UTC, to the millisecond).
    #[schema(format = DateTime)]
    pub start: String,
    /// End (RFC 3339, UTC, to the millisecond).
    #[schema(format = DateTime)]
    pub end: String,
    /// The booking's status.
    #[schema(value_type = crate::openapi::schemas::BookingStatus)]
    pub status: String,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it was checked in, or null.
    #[schema(format = DateTime, required = true)]
    pub checked_in_at: Option<String>,
    /// When the occupied session ended (check-out or end time), or null.
    #[schema(format = DateTime, required = true)]
    pub ended_at: Option<String>,
    /// When it was cancelled, or null.
    #[schema(format = DateTime, required = true)]
    pub cancelled_at: Option<String>,
    /// Why it was cancelled, or null.
    #[schema(value_type = Option<crate::openapi::schemas::CancelReason>, required = true)]
    pub cancel_reason: Option<String>,
}

/// A list of bookings.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    /// The bookings, by start.
    #[schema(value_type = Vec<BookingView>)]
    pub items: Vec<Value>,
}

/// One transition in a space's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitionView {
    /// The space's status sequence after the transition.
    pub sequence: u64,
    /// The event that caused it.
    #[schema(value_type = crate::openapi::schemas::EventName)]
    pub event: String,
    /// The booking the event concerned (null for space events).
    #[schema(required = true)]
    pub booking_id: Option<String>,
    /// Space state before.
    #[schema(value_type = crate::openapi::schemas::SpaceState)]
    pub from_space: String,
    /// Room state before.
    #[schema(value_type = crate::openapi::schemas::RoomState)]
    pub from_room: String,
    /// Space state after.
    #[schema(value_type = crate::openapi::schemas::SpaceState)]
    pub space_state: String,
    /// Room state after.
    #[schema(value_type = crate::openapi::schemas::RoomState)]
    pub room_state: String,
    /// The booking the new state is about, or null.
    #[schema(required = true)]
    pub state_booking_id: Option<String>,
    /// With `available_at`: the next booking's start; otherwise null.
    #[schema(format = DateTime, required = true)]
    pub next_booking_at: Option<String>,
    /// When it happened.
    #[schema(format = DateTime)]
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
    #[schema(format = DateTime)]
    pub start: String,
    /// End.
    #[schema(format = DateTime)]
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
#[schema(example = json!({"role": "device", "label": "panel outside room 1"}))]
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
    /// Token id (`tok_…`).
    pub id: String,
    /// Role: `member` or `device`.
    #[schema(pattern = "^(member|device)$")]
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
    fn durations_are_iso_hours_minutes_seconds_in_either_case() {
        for good in [
            "PT15M",
            "pt5m",
            "PT1H30M",
            "PT1H2M3.004S",
            "PT90.5S",
            "Pt24h",
            "PT1H5S",
        ] {
            assert!(iso_period_syntax(good), "{good} refused");
        }
        for bad in [
            "5m",
            "15 minutes",
            "PT",
            "P",
            "P1D",
            "PT1.5M",
            "PT30M1H",
            "PT1,5S",
            "PT1.0000S",
            "-PT5M",
            " PT5M",
            "PT5M ",
            "PT5",
            "PTM",
            "PT1S1S",
            "PT.5S",
            "PT1.S",
        ] {
            assert!(!iso_period_syntax(bad), "{bad} accepted");
        }
        assert_eq!(
            period("cleaning", Some("5m"), Period::minutes(1))
                .unwrap_err()
                .code,
            "invalid_duration"
        );
        assert_eq!(
            period("cleaning", Some("pt5m"), Period::minutes(1)).unwrap(),
            Period::minutes(5)
        );
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
