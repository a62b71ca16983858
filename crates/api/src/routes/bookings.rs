//! `/v1/bookings`: create (with `Idempotency-Key`), list, read, and the user events.

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, quoted};
use crate::extract::{Path, Query};
use crate::json::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use zs_core::{BookingId, Command, NewBooking, SpaceId};
use zs_engine::{Created, Idempotency};
use zs_store::bookings;

fn booking_id(s: &str) -> Result<BookingId, ApiError> {
    BookingId::parse(s).map_err(|_| ApiError::not_found(format!("booking {}", quoted(s))))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn idempotency(
    headers: &HeaderMap,
    caller: &Caller,
    input: &BookingInput,
) -> Result<Option<Idempotency>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
        })?;
    let body = serde_json::to_vec(input).expect("input serialises");
    let request_hash = Sha256::digest(&body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Some(Idempotency {
        scope: caller.token_hash.clone(),
        key: key.to_owned(),
        request_hash,
    }))
}

/// Create a booking (`BOOKING_CREATED`).
#[utoipa::path(post, path = "/v1/bookings", operation_id = "createBooking", tag = "bookings", request_body = BookingInput,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[\\t\\x20-\\x7e]{1,255}$",
        description = "1 to 255 visible ASCII characters: a repeat with the same key and body returns the first answer; the same key with another body is refused")),
    responses(
        (status = 201, description = "Created (or the replay of an earlier create with this Idempotency-Key)", body = BookingView),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 409, description = "`booking_conflict`: it overlaps a live booking with its cleaning; `already_exists`: a booking with this id exists", body = ErrorBody),
        (status = 422, description = "`invalid_id`, `invalid_title`, `invalid_time`; a rule: `invalid_interval`, `booking_in_past`, `booking_too_long`, `outside_business_hours`; a policy of the space: `policy_max_duration`, `policy_min_duration`, `policy_min_notice`, `policy_horizon`; `invalid_request`: the Idempotency-Key was used with another body", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(input): Json<BookingInput>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Member])?;
    let idem = idempotency(&headers, &caller, &input)?;
    let space = SpaceId::parse(&input.space_id)
        .map_err(|_| ApiError::not_found(format!("space {}", quoted(&input.space_id))))?;
    let id = match &input.id {
        Some(s) => {
            BookingId::parse(s).map_err(|e| ApiError::invalid("invalid_id", e.to_string()))?
        }
        None => BookingId::parse(&super::generated_id("bk")).expect("generated ids are valid"),
    };
    let title = input.title.clone().unwrap_or_default();
    text("invalid_title", "title", &title, 500)?;
    let n = NewBooking {
        id,
        title,
        start: instant("start", &input.start)?,
        end: instant("end", &input.end)?,
    };
    match st
        .engine
        .create_owned_booking(&space, n, idem, caller.token_id.as_deref())
        .await?
    {
        Created::New { body, .. } => Ok(json_response(StatusCode::CREATED, body)),
        Created::Replayed { status, body } => Ok(json_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            body,
        )),
    }
}

/// Query of the booking list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only this space.
    #[param(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub space_id: Option<String>,
    /// Only bookings ending after this instant.
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Only bookings starting before this instant.
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// At most this many (default 100, from 1 to 1000; anything else is refused).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// List bookings.
#[utoipa::path(get, path = "/v1/bookings", operation_id = "listBookings", tag = "bookings", params(ListQuery),
    responses(
        (status = 200, description = "The matching bookings, by start", body = BookingList),
        (status = 404, description = "`not_found`: a limited device asked for a space not its own", body = ErrorBody),
        (status = 422, description = "`invalid_id`, `invalid_time`, `invalid_limit` (limit not from 1 to 1000) or `space_required` (a limited device gave no spaceId)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<BookingList>, ApiError> {
    caller.require(&[Role::Member, Role::Device])?;
    let space = q
        .space_id
        .as_deref()
        .map(|s| SpaceId::parse(s).map_err(|e| ApiError::invalid("invalid_id", e.to_string())))
        .transpose()?;
    // A device limited to some spaces (a door panel) lists one of them at a time.
    if let (Role::Device, Some(allowed)) = (caller.role, &caller.space_ids) {
        match &space {
            None => {
                return Err(ApiError::invalid(
                    "space_required",
                    "a device limited to spaces lists the bookings of one of them: give spaceId",
                ));
            }
            Some(s) if !allowed.iter().any(|a| a == s.as_str()) => {
                return Err(ApiError::not_found(format!("space {s}")));
            }
            Some(_) => {}
        }
    }
    let from = q.from.as_deref().map(|s| instant("from", s)).transpose()?;
    let to = q.to.as_deref().map(|s| instant("to", s)).transpose()?;
    let mut c = st.engine.store.read().await?;
    let limit = crate::dto::page_limit(q.limit)?;
    // A member lists the bookings it created; an admin every booking; a device those of
    // its spaces (checked above when it is limited).
    let owner = match caller.role {
        Role::Member => Some(caller.token_id.as_deref().unwrap_or_default()),
        Role::Admin | Role::Device => None,
    };
    let items = bookings::list_owned(&mut c, owner, space.as_ref(), from, to, limit)
        .await?
        .iter()
        .map(zs_engine::payload::booking_json)
        .collect();
    Ok(axum::Json(BookingList { items }))
}

/// Read a booking.
#[utoipa::path(get, path = "/v1/bookings/{id}", operation_id = "getBooking", tag = "bookings",
    params(("id" = String, Path, description = "The booking id")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 404, description = "`not_found`: no such booking, or not one of yours (a member's own, a limited device's spaces')", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Member, Role::Device])?;
    let id = booking_id(&id)?;
    let b = usable_booking(&st, &caller, &id).await?;
    Ok(json_response(
        StatusCode::OK,
        zs_engine::payload::booking_json(&b).to_string(),
    ))
}

/// The booking `id` if the caller may read and act on it (see
/// [`Caller::may_use_booking`]); otherwise the same 404 as for an id that does not exist,
/// so ids cannot be probed.
async fn usable_booking(
    st: &AppState,
    caller: &Caller,
    id: &BookingId,
) -> Result<zs_core::Booking, ApiError> {
    let mut c = st.engine.store.read().await?;
    match bookings::get_owned(&mut c, id).await? {
        Some((b, owner)) if caller.may_use_booking(owner.as_deref(), &b.space_id) => Ok(b),
        Some(_) | None => Err(ApiError::not_found(format!("booking {id}"))),
    }
}

/// The space of booking `id` if the caller may act on it: [`usable_booking`]'s check,
/// reading only the booking's space and owner.
async fn usable_booking_space(
    st: &AppState,
    caller: &Caller,
    id: &BookingId,
) -> Result<zs_core::SpaceId, ApiError> {
    let mut c = st.engine.store.read().await?;
    match bookings::space_and_owner(&mut c, id).await? {
        Some((space, owner)) if caller.may_use_booking(owner.as_deref(), &space) => Ok(space),
        Some(_) | None => Err(ApiError::not_found(format!("booking {id}"))),
    }
}

async fn user_event(
    st: AppState,
    caller: Caller,
    id: String,
    cmd: fn(BookingId) -> Command,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Member, Role::Device])?;
    let id = booking_id(&id)?;
    // A booking's space and owner never change, so this check holds for the command.
    let space = usable_booking_space(&st, &caller, &id).await?;
    let applied = st.engine.execute(&space, cmd(id.clone())).await?;
    let b = applied
        .facts
        .bookings
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found(format!("booking {id}")))?;
    Ok(json_response(
        StatusCode::OK,
        zs_engine::payload::booking_json(b).to_string(),
    ))
}

/// Cancel a booking (`BOOKING_CANCELLED`).
#[utoipa::path(post, path = "/v1/bookings/{id}/cancel", operation_id = "cancelBooking", tag = "bookings",
    params(("id" = String, Path, description = "The booking id")),
    responses(
        (status = 200, description = "The booking, now `cancelled`", body = BookingView),
        (status = 404, description = "`not_found`: no such booking, or not one of yours (a member's own, a limited device's spaces')", body = ErrorBody),
        (status = 409, description = "`booking_finished` or `booking_in_progress` (check out instead)", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user_event(st, caller, id, Command::Cancel).await
}

/// Check in (`USER_CHECKS_IN`), from `start - upcomingLead` until the no-show deadline.
#[utoipa::path(post, path = "/v1/bookings/{id}/check-in", operation_id = "checkInBooking", tag = "bookings",
    params(("id" = String, Path, description = "The booking id")),
    responses(
        (status = 200, description = "The booking, now `checked_in`", body = BookingView),
        (status = 404, description = "`not_found`: no such booking, or not one of yours (a member's own, a limited device's spaces')", body = ErrorBody),
        (status = 409, description = "`check_in_window`, `already_checked_in`, `booking_finished` or `space_in_maintenance`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check_in(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user_event(st, caller, id, Command::CheckIn).await
}

/// Check out early (`USER_CHECKS_OUT`).
#[utoipa::path(post, path = "/v1/bookings/{id}/check-out", operation_id = "checkOutBooking", tag = "bookings",
    params(("id" = String, Path, description = "The booking id")),
    responses(
        (status = 200, description = "The booking, now `completed`", body = BookingView),
        (status = 404, description = "`not_found`: no such booking, or not one of yours (a member's own, a limited device's spaces')", body = ErrorBody),
        (status = 409, description = "`not_checked_in`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check_out(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    user_event(st, caller, id, Command::CheckOut).await
}

/// Extend a booking that has not ended to a later end (`BOOKING_EXTENDED`); its end and
/// no-show timers are re-planned in the same transaction and `booking.extended` is sent.
#[utoipa::path(post, path = "/v1/bookings/{id}/extend", operation_id = "extendBooking", tag = "bookings",
    params(("id" = String, Path, description = "The booking id")), request_body = ExtendInput,
    responses(
        (status = 200, description = "The booking with its new end (its status unchanged)", body = BookingView),
        (status = 404, description = "`not_found`: no such booking, or not one of yours (a member's own, a limited device's spaces')", body = ErrorBody),
        (status = 409, description = "`booking_conflict`: the new end with its cleaning reaches the next booking; `booking_finished`: the booking has ended", body = ErrorBody),
        (status = 422, description = "`invalid_time`; a rule: `end_not_later` (not after the current end), `outside_business_hours` (past the interval's close), `booking_too_long`; a policy of the space: `policy_max_duration`, `policy_min_duration`", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn extend(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<ExtendInput>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Member, Role::Device])?;
    let end = instant("end", &input.end)?;
    let id = booking_id(&id)?;
    let space = usable_booking_space(&st, &caller, &id).await?;
    let cmd = Command::Extend {
        booking: id.clone(),
        end,
    };
    let applied = st.engine.execute(&space, cmd).await?;
    let b = applied
        .facts
        .bookings
        .iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found(format!("booking {id}")))?;
    Ok(json_response(
        StatusCode::OK,
        zs_engine::payload::booking_json(b).to_string(),
    ))
}
