//! Bodies of `/v1/series` (CONTRACT §9).

use crate::dto::BookingView;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A series to make: its first occurrence and the rule that repeats it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "standup", "spaceId": "room-1", "start": "2026-03-23T08:00:00Z",
    "end": "2026-03-23T08:15:00Z", "title": "Stand-up", "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=4"}))]
pub struct SeriesInput {
    /// Client-chosen id (1–58 of A-Z a-z 0-9 _ -; occurrence n is booking `{id}-{n}`);
    /// generated when absent.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,58}$")]
    pub id: Option<String>,
    /// The space.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub space_id: String,
    /// The first occurrence's start (RFC 3339); every occurrence keeps its local
    /// wall-clock time in the space's zone.
    #[schema(format = DateTime)]
    pub start: String,
    /// The first occurrence's end; every occurrence lasts as long.
    #[schema(format = DateTime)]
    pub end: String,
    /// The occurrences' title (at most 500 characters).
    pub title: Option<String>,
    /// RFC 5545 RRULE subset: `FREQ=DAILY|WEEKLY|MONTHLY`, `INTERVAL`, `BYDAY` (`MO,WE`;
    /// monthly `1MO`, `-1FR`), `BYMONTHDAY`, and `COUNT` or `UNTIL` (a UTC date-time
    /// `20261231T235959Z` or a local date `20261231`).
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10")]
    pub rrule: String,
    /// `refuse` (default): if any occurrence breaks a rule, nothing is stored; `skip`: those
    /// occurrences are left out and listed.
    #[schema(value_type = Option<String>, pattern = "^(refuse|skip)$")]
    pub conflicts: Option<String>,
}

/// An occurrence left out (`conflicts: skip`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedView {
    /// Its start.
    #[schema(format = DateTime)]
    pub start: String,
    /// Its end.
    #[schema(format = DateTime)]
    pub end: String,
    /// The code the rules refused it with (`booking_conflict`, `outside_business_hours`, a
    /// `policy_…` code, …).
    pub code: String,
}

/// A series with occurrences.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeriesView {
    /// Id.
    pub id: String,
    /// The space.
    pub space_id: String,
    /// The occurrences' title.
    pub title: String,
    /// The rule, in canonical form.
    pub rrule: String,
    /// The first occurrence's start.
    #[schema(format = DateTime)]
    pub start: String,
    /// The first occurrence's end.
    #[schema(format = DateTime)]
    pub end: String,
    /// `refuse` or `skip`.
    pub conflicts: String,
    /// When it was cancelled from (occurrences starting then or later were cancelled), or
    /// null.
    #[schema(format = DateTime, required = true)]
    pub cancelled_from: Option<String>,
    /// Consecutive no-shows of its occurrences so far (a check-in sets it back to 0).
    pub no_shows: u32,
    /// When its no-show strikes released it (its remaining occurrences cancelled with
    /// reason `no_show_strikes`), or null.
    #[schema(format = DateTime, required = true)]
    pub released_at: Option<String>,
    /// On create: every occurrence booked. On read: those not ended yet. By start.
    #[schema(value_type = Vec<BookingView>)]
    pub occurrences: Vec<Value>,
    /// On create: the occurrences left out (`conflicts: skip`); on read, empty.
    pub skipped: Vec<SkippedView>,
}

/// Which occurrences a cancel cancels.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"from": "2026-11-02T00:00:00Z"}))]
pub struct SeriesCancelInput {
    /// Only those starting at or after this instant (RFC 3339); absent: every live one.
    #[schema(format = DateTime)]
    pub from: Option<String>,
}
