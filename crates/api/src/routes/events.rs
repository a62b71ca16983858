//! `GET /v1/events`: every transition as a server-sent event, as it commits.

use crate::AppState;
use crate::auth::Caller;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use std::convert::Infallible;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

/// Stream transitions (`event: transition`, data = the status-post JSON).
#[utoipa::path(get, path = "/v1/events", operation_id = "streamEvents", tag = "events",
    responses((status = 200, description = "A `text/event-stream`: per transition, `event: transition`, `id: {spaceId}.{sequence}` and `data:` a `TransitionEvent` JSON object; when the client falls behind, `event: lagged` with `data: {\"missed\": n}`; a comment line every 15 s keeps the connection open",
        body = String, content_type = "text/event-stream")),
    security(("bearer" = [])))]
pub async fn stream(
    State(st): State<AppState>,
    _caller: Caller,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = st.engine.subscribe();
    let s = BroadcastStream::new(rx).filter_map(|m| match m {
        Ok(c) => {
            let data = zs_engine::payload::status_post(&c.transition).to_string();
            Some(Ok(Event::default()
                .event("transition")
                .id(format!(
                    "{}.{}",
                    c.transition.space_id, c.transition.to.sequence
                ))
                .data(data)))
        }
        Err(tokio_stream::wrappers::errors::BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default()
                .event("lagged")
                .data(format!("{{\"missed\":{n}}}"))))
        }
    });
    Sse::new(s).keep_alive(KeepAlive::default())
}
