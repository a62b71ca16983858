//! `/v1/series` (CONTRACT §9): make a recurring series, read it, cancel it (all of it, or
//! from an instant). Each occurrence is an ordinary booking (`/v1/bookings/{id}`).

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, quoted};
use crate::extract::Path;
use crate::json::{Json, JsonOrEmpty};
use axum::extract::State;
use axum::http::StatusCode;
use zs_core::series::Rule;
use zs_core::{SeriesId, SpaceId};
use zs_engine::payload::booking_json;
use zs_engine::series::{Conflicts, NewSeries, SeriesMade};
use zs_store::series;

fn series_id(s: &str) -> Result<SeriesId, ApiError> {
    SeriesId::parse(s).map_err(|_| ApiError::not_found(format!("series {}", quoted(s))))
}

fn view(
    s: &series::Series,
    occurrences: Vec<serde_json::Value>,
    skipped: Vec<SkippedView>,
) -> SeriesView {
    SeriesView {
        id: s.id.to_string(),
        space_id: s.space_id.to_string(),
        title: s.title.clone(),
        rrule: s.rrule.clone(),
        start: s.start.to_string(),
        end: s.end.to_string(),
        conflicts: s.conflicts.clone(),
        cancelled_from: s.cancelled_from.map(|t| t.to_string()),
        no_shows: s.no_shows,
        released_at: s.released_at.map(|t| t.to_string()),
        occurrences,
        skipped,
    }
}

/// Make a series: its occurrences are booked at once, each as `BOOKING_CREATED`.
#[utoipa::path(post, path = "/v1/series", operation_id = "createSeries", tag = "series", request_body = SeriesInput,
    responses(
        (status = 201, description = "Made: the series with every occurrence booked and those skipped", body = SeriesView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 409, description = "`already_exists`: a series or an occurrence's booking with this id exists; with `conflicts: refuse`, an occurrence's `booking_conflict` (the message names it)", body = ErrorBody),
        (status = 422, description = "`invalid_id`, `invalid_title`, `invalid_time`, `invalid_rrule` (the rule, the start not being its first occurrence, no COUNT or UNTIL, over 1,000 occurrences), `invalid_conflicts`; with `conflicts: refuse`, an occurrence's rule or policy code (the message names it)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(input): Json<SeriesInput>,
) -> Result<(StatusCode, axum::Json<SeriesView>), ApiError> {
    caller.require(&[Role::Member])?;
    let space = SpaceId::parse(&input.space_id)
        .map_err(|_| ApiError::not_found(format!("space {}", quoted(&input.space_id))))?;
    let id = match &input.id {
        Some(s) => {
            SeriesId::parse(s).map_err(|e| ApiError::invalid("invalid_id", e.to_string()))?
        }
        None => SeriesId::parse(&super::generated_id("sr")).expect("generated ids are valid"),
    };
    let title = input.title.clone().unwrap_or_default();
    text("invalid_title", "title", &title, 500)?;
    let rule =
        Rule::parse(&input.rrule).map_err(|e| ApiError::invalid("invalid_rrule", e.to_string()))?;
    let conflicts = match input.conflicts.as_deref() {
        None => Conflicts::Refuse,
        Some(c) => Conflicts::parse(c).ok_or_else(|| {
            ApiError::invalid(
                "invalid_conflicts",
                format!(
                    "conflicts must be \"refuse\" or \"skip\", not {}",
                    quoted(c)
                ),
            )
        })?,
    };
    let new = NewSeries {
        id,
        title,
        start: instant("start", &input.start)?,
        end: instant("end", &input.end)?,
        rule,
        conflicts,
    };
    let SeriesMade {
        series,
        occurrences,
        skipped,
        ..
    } = st
        .engine
        .create_series(&space, new, caller.token_id.as_deref())
        .await?;
    let skipped = skipped
        .iter()
        .map(|s| SkippedView {
            start: s.start.to_string(),
            end: s.end.to_string(),
            code: s.error.code().to_owned(),
        })
        .collect();
    let occurrences = occurrences.iter().map(booking_json).collect();
    Ok((
        StatusCode::CREATED,
        axum::Json(view(&series, occurrences, skipped)),
    ))
}

/// The series `id` if the caller may see it: an admin any, a member its own.
async fn usable_series(
    st: &AppState,
    caller: &Caller,
    id: &SeriesId,
) -> Result<series::Series, ApiError> {
    let mut c = st.engine.store.read().await?;
    match series::get_owned(&mut c, id).await? {
        Some((s, owner)) if caller.may_use_booking(owner.as_deref(), &s.space_id) => Ok(s),
        Some(_) | None => Err(ApiError::not_found(format!("series {id}"))),
    }
}

/// Read a series with its occurrences that have not ended.
#[utoipa::path(get, path = "/v1/series/{id}", operation_id = "getSeries", tag = "series",
    params(("id" = String, Path, description = "The series id")),
    responses(
        (status = 200, description = "The series and its occurrences not ended yet, by start", body = SeriesView),
        (status = 404, description = "`not_found`: no such series, or not one of yours", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SeriesView>, ApiError> {
    caller.require(&[Role::Member])?;
    let id = series_id(&id)?;
    let s = usable_series(&st, &caller, &id).await?;
    let now = zs_core::Clock::now(&*st.engine.clock);
    let mut c = st.engine.store.read().await?;
    let list = series::occurrences(&mut c, &id, now).await?;
    Ok(axum::Json(view(
        &s,
        list.iter().map(booking_json).collect(),
        vec![],
    )))
}

/// Cancel a series: every live occurrence, or those starting at or after `from`.
#[utoipa::path(post, path = "/v1/series/{id}/cancel", operation_id = "cancelSeries", tag = "series",
    params(("id" = String, Path, description = "The series id")),
    request_body(content = SeriesCancelInput, description = "Optional: `{\"from\": instant}` cancels only the occurrences starting then or later"),
    responses(
        (status = 200, description = "The series after the cancel; `occurrences` lists those cancelled now. An occurrence in progress (checked in) is left to end.", body = SeriesView),
        (status = 404, description = "`not_found`: no such series, or not one of yours", body = ErrorBody),
        (status = 422, description = "`invalid_time`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonOrEmpty(input): JsonOrEmpty<SeriesCancelInput>,
) -> Result<axum::Json<SeriesView>, ApiError> {
    caller.require(&[Role::Member])?;
    let id = series_id(&id)?;
    let from = input
        .from
        .as_deref()
        .map(|s| instant("from", s))
        .transpose()?;
    let s = usable_series(&st, &caller, &id).await?;
    let done = st.engine.cancel_series(&s.space_id, &id, from).await?;
    let s = usable_series(&st, &caller, &id).await?;
    Ok(axum::Json(view(
        &s,
        done.cancelled.iter().map(booking_json).collect(),
        vec![],
    )))
}
