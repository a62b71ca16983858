//! Request and response bodies of the HTTP API, with their OpenAPI schemas.

mod outbound;
mod parse;
mod series;
mod walk_up;

pub use outbound::*;
pub use parse::{hours, instant, iso_limit_syntax, iso_period_syntax, page_limit, text, zone};
pub use series::{SeriesCancelInput, SeriesInput, SeriesView, SkippedView};
pub use walk_up::{BookNowInput, ExtendInput};

use crate::error::ApiError;
use parse::{limit, period};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use zs_core::series::NoShowStrikes;
use zs_core::{Limit, Policies, Space, SpaceSettings, SpaceStatus, Transition};

/// A space to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "room-1", "name": "Room 1", "timezone": "Europe/Berlin",
    "upcomingLead": "PT15M", "noShowGrace": "PT10M", "cleaning": "PT10M"}))]
pub struct SpaceInput {
    /// Client-chosen id (1–64 of A-Z a-z 0-9 _ -); generated when absent.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub id: Option<String>,
    /// A human name: 1–200 characters, not all spaces (it is trimmed), no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000-\\u001f\\u007f-\\u009f]*$"
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
    /// The longest a booking may last (`maxDuration`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent or null = not set (CONTRACT §11).
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub max_duration: Option<String>,
    /// The shortest a booking may last (`minDuration`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent or null = not set (CONTRACT §11).
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub min_duration: Option<String>,
    /// How far ahead a booking may start (`bookingHorizon`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent or null = not set (CONTRACT §11).
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub booking_horizon: Option<String>,
    /// How soon a booking may start (`minNotice`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent or null = not set (CONTRACT §11).
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub min_notice: Option<String>,
    /// Consecutive no-shows of a series that release it (its remaining occurrences are
    /// cancelled with reason `no_show_strikes`): 0 (never) to 1000; default 3 (CONTRACT §9).
    #[schema(minimum = 0, maximum = 1000, example = 3)]
    pub no_show_strikes: Option<i64>,
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
    /// The longest a booking may last (ISO-8601), or null when not set.
    #[schema(required = true)]
    pub max_duration: Option<String>,
    /// The shortest a booking may last (ISO-8601), or null when not set.
    #[schema(required = true)]
    pub min_duration: Option<String>,
    /// How far ahead a booking may start (ISO-8601), or null when not set.
    #[schema(required = true)]
    pub booking_horizon: Option<String>,
    /// How soon a booking may start (ISO-8601), or null when not set.
    #[schema(required = true)]
    pub min_notice: Option<String>,
    /// Consecutive no-shows of a series that release it (0: never).
    #[schema(minimum = 0, maximum = 1000)]
    pub no_show_strikes: u16,
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
        let p = &sp.settings.policies;
        let shown = |l: Option<Limit>| l.map(|l| l.to_string());
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
            max_duration: shown(p.max_duration),
            min_duration: shown(p.min_duration),
            booking_horizon: shown(p.booking_horizon),
            min_notice: shown(p.min_notice),
            no_show_strikes: sp.settings.no_show_strikes.get(),
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
            policies: consistent(Policies {
                max_duration: limit("maxDuration", self.max_duration.as_deref())?,
                min_duration: limit("minDuration", self.min_duration.as_deref())?,
                booking_horizon: limit("bookingHorizon", self.booking_horizon.as_deref())?,
                min_notice: limit("minNotice", self.min_notice.as_deref())?,
            })?,
            no_show_strikes: strikes(self.no_show_strikes, d.no_show_strikes)?,
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
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000-\\u001f\\u007f-\\u009f]*$"
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
    /// The longest a booking may last (`maxDuration`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent = unchanged, null = no longer set.
    #[serde(default, deserialize_with = "present_text")]
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub max_duration: Option<Option<String>>,
    /// The shortest a booking may last (`minDuration`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent = unchanged, null = no longer set.
    #[serde(default, deserialize_with = "present_text")]
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub min_duration: Option<Option<String>>,
    /// How far ahead a booking may start (`bookingHorizon`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent = unchanged, null = no longer set.
    #[serde(default, deserialize_with = "present_text")]
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub booking_horizon: Option<Option<String>>,
    /// How soon a booking may start (`minNotice`): ISO-8601 weeks, days (24 h), hours, minutes, seconds, from PT1S to P3660D;
    /// absent = unchanged, null = no longer set.
    #[serde(default, deserialize_with = "present_text")]
    #[schema(value_type = Option<String>, nullable, pattern = "^[Pp]([0-9]+[Ww]|[0-9]+[Dd]([Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))?|[Tt]([0-9]+[Hh]([0-9]+[Mm])?([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+[Mm]([0-9]+(\\.[0-9]{1,3})?[Ss])?|[0-9]+(\\.[0-9]{1,3})?[Ss]))$", example = "PT4H")]
    pub min_notice: Option<Option<String>>,
    /// Consecutive no-shows of a series that release it: 0 (never) to 1000; absent =
    /// unchanged. A series whose count already reaches a lowered setting is released at its
    /// next no-show.
    #[schema(minimum = 0, maximum = 1000, example = 3)]
    pub no_show_strikes: Option<i64>,
}

/// Keeps an explicit `null` as `Some(Value::Null)` so it differs from an absent field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A present field as `Some`: `Some(None)` for an explicit `null`, unlike an absent one.
fn present_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Refuses policies no booking could satisfy (422 `invalid_policy`).
fn consistent(p: Policies) -> Result<Policies, ApiError> {
    p.consistent()
        .map_err(|e| ApiError::invalid("invalid_policy", e.to_string()))
}

/// `noShowStrikes` from a request: `default` when absent; 422 `invalid_no_show_strikes`
/// outside 0–1000.
fn strikes(v: Option<i64>, default: NoShowStrikes) -> Result<NoShowStrikes, ApiError> {
    let Some(n) = v else { return Ok(default) };
    NoShowStrikes::new(n).ok_or_else(|| {
        ApiError::invalid(
            "invalid_no_show_strikes",
            format!(
                "noShowStrikes: {n} is not a number of no-shows from 0 (never release a series) to {}",
                NoShowStrikes::MAX
            ),
        )
    })
}

/// A policy after a patch: kept when absent, unset by `null`, else the new value.
fn patched(
    field: &str,
    v: &Option<Option<String>>,
    old: Option<Limit>,
) -> Result<Option<Limit>, ApiError> {
    match v {
        None => Ok(old),
        Some(v) => limit(field, v.as_deref()),
    }
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
            policies: consistent(Policies {
                max_duration: patched(
                    "maxDuration",
                    &self.max_duration,
                    old.policies.max_duration,
                )?,
                min_duration: patched(
                    "minDuration",
                    &self.min_duration,
                    old.policies.min_duration,
                )?,
                booking_horizon: patched(
                    "bookingHorizon",
                    &self.booking_horizon,
                    old.policies.booking_horizon,
                )?,
                min_notice: patched("minNotice", &self.min_notice, old.policies.min_notice)?,
            })?,
            no_show_strikes: strikes(self.no_show_strikes, old.no_show_strikes)?,
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
    /// The series it is an occurrence of (`/v1/series/{id}`), or null.
    #[schema(required = true)]
    pub series_id: Option<String>,
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
    /// The booking the event concerned (null for space events); the same as
    /// `eventBookingId`, kept under this name for existing readers.
    #[schema(required = true)]
    pub booking_id: Option<String>,
    /// The booking whose event caused the transition (null for space events), as in status
    /// posts, `/v1/events` and the state-change webhooks.
    #[schema(required = true)]
    pub event_booking_id: Option<String>,
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
            event_booking_id: t.booking_id.as_ref().map(|b| b.to_string()),
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
}
