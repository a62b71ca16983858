//! `/v1/spaces/{id}/utilisation` and `/v1/utilisation`: time open, booked, occupied and
//! released, and counts of bookings, no-shows and check-ins over a range, per space and in
//! total, computed from the stored history (see `zs_core::utilisation` for the definitions).

use crate::AppState;
use crate::auth::Caller;
use crate::dto::instant;
use crate::error::{ApiError, ErrorBody, quoted};
use crate::extract::{Path, Query};
use axum::extract::State;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use zs_core::utilisation::{Figures, History, figures};
use zs_core::{Space, SpaceId};
use zs_store::{spaces, utilisation};

/// The longest range a request may ask for.
pub const MAX_RANGE: SignedDuration = SignedDuration::from_hours(24 * 366);

/// Query of the utilisation routes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct UtilisationQuery {
    /// RFC 3339 start of the range (inclusive).
    #[param(format = DateTime, example = "2026-05-04T00:00:00Z")]
    pub from: String,
    /// RFC 3339 end of the range (exclusive): after `from`, at most 366 days later.
    #[param(format = DateTime, example = "2026-05-11T00:00:00Z")]
    pub to: String,
}

/// Figures over the range. Durations are seconds with millisecond precision (at most three
/// decimals, exact); counts concern the bookings that start in the range.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UtilisationFigures {
    /// Time inside business hours, not in maintenance, since the space exists.
    pub open_seconds: f64,
    /// `[start, end)` of the bookings that were not cancelled.
    pub booked_seconds: f64,
    /// Checked-in time: check-in to check-out (or `end`; a session in progress, to now).
    pub occupied_seconds: f64,
    /// Booked time given back: no-show release to `end`, early check-out to `end`.
    pub released_seconds: f64,
    /// Bookings starting in the range that were not cancelled.
    pub bookings: u64,
    /// Of those, no-shows.
    pub no_shows: u64,
    /// Of those, checked in.
    pub check_ins: u64,
}

/// One space's figures.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpaceUtilisation {
    /// The space.
    pub space_id: String,
    /// Its name.
    pub name: String,
    /// Time inside business hours, not in maintenance, since the space exists.
    pub open_seconds: f64,
    /// `[start, end)` of the bookings that were not cancelled.
    pub booked_seconds: f64,
    /// Checked-in time: check-in to check-out (or `end`; a session in progress, to now).
    pub occupied_seconds: f64,
    /// Booked time given back: no-show release to `end`, early check-out to `end`.
    pub released_seconds: f64,
    /// Bookings starting in the range that were not cancelled.
    pub bookings: u64,
    /// Of those, no-shows.
    pub no_shows: u64,
    /// Of those, checked in.
    pub check_ins: u64,
}

/// Utilisation over `[from, to)`: per space, and the sum over them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"from": "2026-05-04T00:00:00Z", "to": "2026-05-05T00:00:00Z",
    "total": {"openSeconds": 36000.0, "bookedSeconds": 7200.0, "occupiedSeconds": 2700.5,
        "releasedSeconds": 4199.5, "bookings": 2, "noShows": 1, "checkIns": 1},
    "spaces": [{"spaceId": "room-1", "name": "Room 1", "openSeconds": 36000.0,
        "bookedSeconds": 7200.0, "occupiedSeconds": 2700.5, "releasedSeconds": 4199.5,
        "bookings": 2, "noShows": 1, "checkIns": 1}]}))]
pub struct UtilisationReport {
    /// The range's start, as asked (UTC).
    #[schema(format = DateTime)]
    pub from: String,
    /// The range's end, as asked (UTC).
    #[schema(format = DateTime)]
    pub to: String,
    /// The sum over `spaces`.
    pub total: UtilisationFigures,
    /// Each space, by id.
    pub spaces: Vec<SpaceUtilisation>,
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

impl UtilisationFigures {
    fn new(f: &Figures) -> Self {
        Self {
            open_seconds: seconds(f.open_ms),
            booked_seconds: seconds(f.booked_ms),
            occupied_seconds: seconds(f.occupied_ms),
            released_seconds: seconds(f.released_ms),
            bookings: f.bookings,
            no_shows: f.no_shows,
            check_ins: f.check_ins,
        }
    }
}

impl SpaceUtilisation {
    fn new(space: &Space, f: &Figures) -> Self {
        let t = UtilisationFigures::new(f);
        Self {
            space_id: space.id.to_string(),
            name: space.name.clone(),
            open_seconds: t.open_seconds,
            booked_seconds: t.booked_seconds,
            occupied_seconds: t.occupied_seconds,
            released_seconds: t.released_seconds,
            bookings: t.bookings,
            no_shows: t.no_shows,
            check_ins: t.check_ins,
        }
    }
}

/// The range of a query: both instants valid, `from < to`, at most [`MAX_RANGE`].
fn range(q: &UtilisationQuery) -> Result<(Timestamp, Timestamp), ApiError> {
    let (from, to) = (instant("from", &q.from)?, instant("to", &q.to)?);
    if to <= from || to.duration_since(from) > MAX_RANGE {
        return Err(ApiError::invalid(
            "invalid_range",
            "to must be after from, at most 366 days later",
        ));
    }
    Ok((from, to))
}

/// Computes the report of the spaces `list` (all of them, or the one `only`).
async fn report(
    st: &AppState,
    c: &mut zs_store::Conn,
    list: &[Space],
    only: Option<&SpaceId>,
    (from, to): (Timestamp, Timestamp),
) -> Result<UtilisationReport, ApiError> {
    let now = st.engine.clock.now();
    let histories = utilisation::histories(c, only, from, to).await?;
    let empty = utilisation::SpaceHistory::default();
    let mut total = Figures::default();
    let mut items = Vec::with_capacity(list.len());
    for sp in list {
        let h = histories.get(&sp.id).unwrap_or(&empty);
        let history = History {
            settings: &sp.settings,
            bookings: &h.bookings,
            maintenance: &h.maintenance,
            created_at: h.created_at,
        };
        let f = figures(&history, from, to, now);
        total.add(&f);
        items.push(SpaceUtilisation::new(sp, &f));
    }
    Ok(UtilisationReport {
        from: from.to_string(),
        to: to.to_string(),
        total: UtilisationFigures::new(&total),
        spaces: items,
    })
}

/// Utilisation of one space over a range.
#[utoipa::path(get, path = "/v1/spaces/{id}/utilisation", operation_id = "getSpaceUtilisation", tag = "spaces",
    params(("id" = String, Path, description = "The space id"), UtilisationQuery),
    responses(
        (status = 200, description = "The space's figures over `[from, to)` (`spaces` holds it alone; `total` is the same figures)", body = UtilisationReport),
        (status = 404, description = "`not_found`: no such space", body = ErrorBody),
        (status = 422, description = "`invalid_time`: from or to is not an RFC 3339 instant; `invalid_range`: to is not after from, or more than 366 days later", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn space(
    State(st): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<UtilisationQuery>,
) -> Result<axum::Json<UtilisationReport>, ApiError> {
    let id =
        SpaceId::parse(&id).map_err(|_| ApiError::not_found(format!("space {}", quoted(&id))))?;
    let range = range(&q)?;
    let mut c = st.engine.store.read().await?;
    let (sp, _) = spaces::get(&mut c, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("space {id}")))?;
    let report = report(&st, &mut c, &[sp], Some(&id), range).await?;
    Ok(axum::Json(report))
}

/// Utilisation of every space, and in total, over a range.
#[utoipa::path(get, path = "/v1/utilisation", operation_id = "getUtilisation", tag = "spaces",
    params(UtilisationQuery),
    responses(
        (status = 200, description = "Every space's figures over `[from, to)`, by id, and their sum", body = UtilisationReport),
        (status = 422, description = "`invalid_time`: from or to is not an RFC 3339 instant; `invalid_range`: to is not after from, or more than 366 days later", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn all(
    State(st): State<AppState>,
    _caller: Caller,
    Query(q): Query<UtilisationQuery>,
) -> Result<axum::Json<UtilisationReport>, ApiError> {
    let range = range(&q)?;
    let mut c = st.engine.store.read().await?;
    let list: Vec<Space> = spaces::list(&mut c)
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    Ok(axum::Json(report(&st, &mut c, &list, None, range).await?))
}
