//! Bodies of the extension and walk-up requests (CONTRACT §10).

use super::parse::period;
use crate::error::ApiError;
use serde::Deserialize;
use utoipa::ToSchema;
use zs_core::Period;

/// A later end for a booking that has not ended.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"end": "2026-05-04T10:00:00Z"}))]
pub struct ExtendInput {
    /// RFC 3339 new end (kept to the millisecond): later than the current end, inside the
    /// same business-hours interval, clear of the next booking and its cleaning.
    #[schema(format = DateTime)]
    pub end: String,
}

/// A walk-up: book the space from now and check in at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"duration": "PT30M", "title": "Walk-up"}))]
pub struct BookNowInput {
    /// ISO-8601 duration from now, between PT1S and PT24H (e.g. `PT30M`).
    pub duration: String,
    /// A title (at most 500 characters, no control characters).
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$")]
    pub title: Option<String>,
}

impl BookNowInput {
    /// The duration, checked.
    pub fn period(&self) -> Result<Period, ApiError> {
        period("duration", Some(&self.duration), Period::seconds(1))
    }
}
