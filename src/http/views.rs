//! What several routes share: finding an event, reading a bearer token, and the event
//! views with their live counters.

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use crate::engine::queue::RoomSnapshot;
use crate::events::Event;
use crate::state::AppState;

/// The `{id}` of a route, as given. An id that is not UTF-8 (`%FF`) comes out empty: it
/// is not a number either, so the route answers its documented 404 (`not_found`), not
/// the plain-text 400 of axum's `Path` rejection.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Id, Self::Rejection> {
        let id = Path::<String>::from_request_parts(parts, state).await;
        Ok(Id(id.map(|Path(id)| id).unwrap_or_default()))
    }
}

/// An event by its id as given in a URL, or a 404.
pub async fn event_or_404(state: &AppState, id: &str) -> ApiResult<Event> {
    state
        .event(id)
        .await
        .ok_or(ApiError::NotFound("no such event"))
}

/// An event with its room's live counters.
#[derive(Serialize)]
pub struct EventView<T: Serialize> {
    /// The event.
    #[serde(flatten)]
    pub event: T,
    /// Its room's counters.
    pub room: RoomSnapshot,
    /// Its seats, if it has a seat map.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats: Option<SeatCounts>,
}

/// Seats free, held and sold.
#[derive(Serialize)]
pub struct SeatCounts {
    /// Seats in the map.
    pub total: usize,
    /// Free seats.
    pub free: usize,
    /// Held seats (bookings in progress included).
    pub held: usize,
    /// Sold seats.
    pub sold: usize,
}

/// An event's seat counts (None: no seat map).
pub async fn seat_counts(state: &AppState, event: i64) -> ApiResult<Option<SeatCounts>> {
    let Some(map) = state.seat_map(event).await else {
        return Ok(None);
    };
    let states = state.seats.seat_states(event).await?;
    let total = map.seats.len();
    let (held, sold) = (states.held.len(), states.sold.len());
    Ok(Some(SeatCounts {
        total,
        free: total.saturating_sub(held + sold),
        held,
        sold,
    }))
}

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}
