//! The public API: events as buyers see them, the seat layout, and the end of an entry
//! session.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use usher_protocol::EventInfo;

use super::error::{ApiError, ApiResult};
use super::views::{EventView, Id, bearer, event_or_404, seat_counts};
use crate::events::Event;
use crate::identity::BuyerId;
use crate::seats::state::SeatMapState;
use crate::state::AppState;

/// `GET /api/events`: every event, as buyers see it.
pub async fn list_public(State(state): State<AppState>) -> ApiResult<Json<Vec<EventInfo>>> {
    let events = state.db.events().await?;
    Ok(Json(events.iter().map(Event::info).collect()))
}

/// `GET /api/events/{id}`: one event with its room's and seats' counters.
pub async fn get_public(
    State(state): State<AppState>,
    Id(id): Id,
) -> ApiResult<Json<EventView<EventInfo>>> {
    let event = event_or_404(&state, &id).await?;
    let room = state
        .engine
        .snapshot(event.id, state.clock.now_ms())
        .await?;
    let (seats, performances) = seat_counts(&state, event.id, true).await?;
    Ok(Json(EventView {
        event: event.info(),
        room,
        seats,
        performances,
    }))
}

/// The seat layout of an event (`docs/protocol.md`, "Seat layout"): public, the same
/// bytes forever, so it carries a strong ETag, answers `If-None-Match` with 304, may be
/// cached for a year, and comes gzipped when the client accepts it.
pub async fn seat_layout(
    State(state): State<SeatMapState>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    use axum::http::header;
    let event = event_or_404(&state, &id).await?;
    let map = state
        .seat_map(event.id)
        .await
        .ok_or(ApiError::NotFound("this event has no seat map"))?;
    let layout = state.layouts.published(event.id, map).await?;
    let common = [
        (header::ETAG, layout.etag.clone()),
        (header::CACHE_CONTROL, LAYOUT_CACHE.to_owned()),
        (header::VARY, "Accept-Encoding".to_owned()),
    ];
    if etag_matches(&headers, &layout.etag) {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    let json = [(header::CONTENT_TYPE, "application/json")];
    if accepts_gzip(&headers) {
        let gz = [(header::CONTENT_ENCODING, "gzip")];
        Ok((common, json, gz, layout.gzip.clone()).into_response())
    } else {
        Ok((common, json, layout.json.clone()).into_response())
    }
}

/// A seat map never changes, and its URL in a snapshot carries its version.
const LAYOUT_CACHE: &str = "public, max-age=31536000, immutable";

/// Whether `If-None-Match` names this ETag (or `*`). Weak comparison, as RFC 9110 asks
/// for this header; anything unreadable simply does not match.
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(axum::http::header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// Whether `Accept-Encoding` allows gzip (`gzip`, `x-gzip` or `*`, without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(axum::http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let named = ["gzip", "x-gzip", "*"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n));
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// `POST /api/events/{id}/session/end`. Ends an admitted buyer's session (done, or gave up): frees their active slot. The
/// caller proves who it is with the entry token as a bearer token.
pub async fn end_session(
    State(state): State<AppState>,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let event = event_or_404(&state, &id).await?;
    let token = bearer(&headers).ok_or(ApiError::BadRequest(
        "send the entry token as a bearer token".into(),
    ))?;
    let claims = state
        .tokens
        .verify(token, event.id, state.clock.now_ms())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let buyer =
        BuyerId::parse(&claims.sub).ok_or(ApiError::BadRequest("bad token subject".into()))?;
    state.engine.finish(event.id, buyer).await?;
    Ok(StatusCode::NO_CONTENT)
}
