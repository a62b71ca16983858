//! `/v1/spaces`: create, read, update, maintenance, history, availability.

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, quoted};
use crate::extract::{Path, Query};
use crate::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use zs_core::{Command, Space, SpaceId};
use zs_store::{bookings, spaces};

fn space_id(s: &str) -> Result<SpaceId, ApiError> {
    SpaceId::parse(s).map_err(|_| ApiError::not_found(format!("space {}", quoted(s))))
}

fn space_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "invalid_name",
            "name must be 1 to 200 characters",
        ));
    }
    text("invalid_name", "name", name, 200)?;
    Ok(name.to_owned())
}

pub(crate) async fn load(st: &AppState, id: &SpaceId) -> Result<SpaceView, ApiError> {
    let mut c = st.engine.store.read().await?;
    let (sp, status) = spaces::get(&mut c, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("space {id}")))?;
    Ok(SpaceView::new(&sp, &status))
}

/// Create a space.
#[utoipa::path(post, path = "/v1/spaces", operation_id = "createSpace", request_body = SpaceInput, tag = "spaces",
    responses(
        (status = 201, description = "Created: the space with its initial state", body = SpaceView),
        (status = 409, description = "`already_exists`: a space with this id exists", body = ErrorBody),
        (status = 422, description = "`invalid_id`, `invalid_name`, `invalid_timezone`, `invalid_business_hours` or `invalid_duration`; `invalid_policy`: policies no booking could meet", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(input): Json<SpaceInput>,
) -> Result<(StatusCode, axum::Json<SpaceView>), ApiError> {
    caller.require(&[Role::Admin])?;
    let settings = input.settings()?;
    let id = match &input.id {
        Some(s) => SpaceId::parse(s).map_err(|e| ApiError::invalid("invalid_id", e.to_string()))?,
        None => SpaceId::parse(&super::generated_id("sp")).expect("generated ids are valid"),
    };
    let name = space_name(&input.name)?;
    let space = Space {
        id: id.clone(),
        name,
        settings,
        maintenance: false,
    };
    st.engine.create_space(space).await?;
    Ok((StatusCode::CREATED, axum::Json(load(&st, &id).await?)))
}

/// List spaces.
#[utoipa::path(get, path = "/v1/spaces", operation_id = "listSpaces", tag = "spaces",
    responses((status = 200, description = "Every space with its state, by id", body = SpaceList)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    _caller: Caller,
) -> Result<axum::Json<SpaceList>, ApiError> {
    let mut c = st.engine.store.read().await?;
    let items = spaces::list(&mut c)
        .await?
        .iter()
        .map(|(s, st)| SpaceView::new(s, st))
        .collect();
    Ok(axum::Json(SpaceList { items }))
}

/// Read a space with its state.
#[utoipa::path(get, path = "/v1/spaces/{id}", operation_id = "getSpace", tag = "spaces",
    params(("id" = String, Path, description = "The space id")),
    responses(
        (status = 200, description = "The space with its current state", body = SpaceView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SpaceView>, ApiError> {
    Ok(axum::Json(load(&st, &space_id(&id)?).await?))
}

/// Change a space's name or settings.
#[utoipa::path(patch, path = "/v1/spaces/{id}", operation_id = "updateSpace", tag = "spaces",
    params(("id" = String, Path, description = "The space id")), request_body = SpacePatch,
    responses(
        (status = 200, description = "Updated: the space with its state re-derived", body = SpaceView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 422, description = "`invalid_name`, `invalid_timezone`, `invalid_business_hours` or `invalid_duration`; `invalid_policy`: policies no booking could meet; `invalid_request`: timings change while live bookings exist, or a live booking would fall outside the new hours", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn patch(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(p): Json<SpacePatch>,
) -> Result<axum::Json<SpaceView>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = space_id(&id)?;
    let mut c = st.engine.store.read().await?;
    let (sp, _) = spaces::get(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("space {id}")))?;
    drop(c);
    let settings = p.apply(&sp.settings)?;
    let name = match &p.name {
        Some(n) => space_name(n)?,
        None => sp.name,
    };
    st.engine.update_space(&id, name, settings).await?;
    Ok(axum::Json(load(&st, &id).await?))
}

/// Delete a space with no live booking, and everything only it had.
#[utoipa::path(delete, path = "/v1/spaces/{id}", operation_id = "deleteSpace", tag = "spaces",
    params(("id" = String, Path, description = "The space id")),
    responses(
        (status = 204, description = "Deleted, with its finished bookings, its history and its pending timers"),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 409, description = "`space_has_live_bookings`: cancel or finish them first (the message says how many, and which)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = space_id(&id)?;
    st.engine.delete_space(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn admin_event(
    st: AppState,
    caller: Caller,
    id: String,
    cmd: Command,
) -> Result<axum::Json<SpaceView>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = space_id(&id)?;
    st.engine.execute(&id, cmd).await?;
    Ok(axum::Json(load(&st, &id).await?))
}

/// Put a space in maintenance (`ADMIN_DISABLE`).
#[utoipa::path(post, path = "/v1/spaces/{id}/disable", operation_id = "disableSpace", tag = "spaces",
    params(("id" = String, Path, description = "The space id")),
    responses(
        (status = 200, description = "The space, now `in-maintenance`", body = SpaceView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 409, description = "`already_in_maintenance`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn disable(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SpaceView>, ApiError> {
    admin_event(st, caller, id, Command::Disable).await
}

/// Take a space out of maintenance (`ADMIN_ENABLE`).
#[utoipa::path(post, path = "/v1/spaces/{id}/enable", operation_id = "enableSpace", tag = "spaces",
    params(("id" = String, Path, description = "The space id")),
    responses(
        (status = 200, description = "The space, out of maintenance, its state re-derived", body = SpaceView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 409, description = "`not_in_maintenance`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn enable(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<SpaceView>, ApiError> {
    admin_event(st, caller, id, Command::Enable).await
}

/// Query of the history route.
#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// At most this many (default 100, from 1 to 1000; anything else is refused).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// The space's transitions, newest first.
#[utoipa::path(get, path = "/v1/spaces/{id}/history", operation_id = "getSpaceHistory", tag = "spaces",
    params(("id" = String, Path, description = "The space id"), HistoryQuery),
    responses(
        (status = 200, description = "The space's transitions, newest first", body = History),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 422, description = "`invalid_limit`: limit is not from 1 to 1000", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn history(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<axum::Json<History>, ApiError> {
    let id = space_id(&id)?;
    load(&st, &id).await?;
    let mut c = st.engine.store.read().await?;
    let limit = crate::dto::page_limit(q.limit)?;
    let items = spaces::history(&mut c, &id, limit)
        .await?
        .iter()
        .map(TransitionView::from)
        .collect();
    Ok(axum::Json(History { items }))
}

/// Query of the availability route.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AvailabilityQuery {
    /// RFC 3339 start (default now).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339 end (default `from` + 7 days; at most 62 days after `from`).
    #[param(format = DateTime)]
    pub to: Option<String>,
}

/// Bookable intervals.
#[utoipa::path(get, path = "/v1/spaces/{id}/availability", operation_id = "getSpaceAvailability", tag = "spaces",
    params(("id" = String, Path, description = "The space id"), AvailabilityQuery),
    responses(
        (status = 200, description = "The intervals where a booking fits, in order", body = Availability),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 422, description = "`invalid_time` or `invalid_range`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn availability(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AvailabilityQuery>,
) -> Result<axum::Json<Availability>, ApiError> {
    let id = space_id(&id)?;
    let now = st.engine.clock.now();
    let from = q
        .from
        .as_deref()
        .map(|s| instant("from", s))
        .transpose()?
        .unwrap_or(now);
    let to =
        q.to.as_deref()
            .map(|s| instant("to", s))
            .transpose()?
            .unwrap_or(from + jiff::SignedDuration::from_hours(24 * 7));
    if to <= from || to.duration_since(from) > jiff::SignedDuration::from_hours(24 * 62) {
        return Err(ApiError::invalid(
            "invalid_range",
            "to must be after from, at most 62 days later",
        ));
    }
    let mut c = st.engine.store.read().await?;
    let (sp, _) = spaces::get(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("space {id}")))?;
    let held = bookings::working_set(&mut c, &id, now, 86_400_000, None).await?;
    let items = zs_core::availability::bookable(&sp, &held, from, to, now)
        .into_iter()
        .map(|(a, z)| Interval {
            start: a.to_string(),
            end: z.to_string(),
        })
        .collect();
    Ok(axum::Json(Availability {
        space_id: id.to_string(),
        items,
    }))
}

/// Walk-up ("book now"): book the space from now for `duration` and check in at once. The
/// booking (id generated, owned by the caller) goes through `BOOKING_CREATED`,
/// `START_TIME_REACHED` and `USER_CHECKS_IN` in one transaction; each shows in history.
#[utoipa::path(post, path = "/v1/spaces/{id}/book-now", operation_id = "bookSpaceNow", tag = "spaces",
    params(("id" = String, Path, description = "The space id")), request_body = BookNowInput,
    responses(
        (status = 201, description = "The booking, `checked_in`; the room is `occupied`", body = BookingView),
        (status = 404, description = "`not_found`: no such space, or not one of a limited device's spaces", body = ErrorBody),
        (status = 409, description = "`booking_conflict`: a booking or a cleaning holds the span; `space_in_maintenance`", body = ErrorBody),
        (status = 422, description = "`invalid_duration`, `invalid_title`; `outside_business_hours`: closed now, or closing before the duration ends; `policy_min_notice`, `policy_min_duration`, `policy_max_duration`: the space's booking policies", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn book_now(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<BookNowInput>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    caller.require(&[Role::Member, Role::Device])?;
    let id = space_id(&id)?;
    if let (Role::Device, Some(allowed)) = (caller.role, &caller.space_ids)
        && !allowed.iter().any(|a| a == id.as_str())
    {
        return Err(ApiError::not_found(format!("space {id}")));
    }
    let duration = input.period()?;
    let title = input.title.unwrap_or_default();
    text("invalid_title", "title", &title, 500)?;
    let walk_up = zs_core::WalkUp {
        id: zs_core::BookingId::parse(&super::generated_id("bk")).expect("generated ids are valid"),
        title,
        duration,
    };
    let b = st
        .engine
        .book_now(&id, walk_up, caller.token_id.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(zs_engine::payload::booking_json(&b)),
    ))
}
