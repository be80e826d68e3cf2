//! What several routes share: finding an event, reading a bearer token, and the event
//! views with their live counters.

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use crate::engine::queue::RoomSnapshot;
use crate::engine::reads::PUBLIC_MAX_AGE;
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
    /// Its seats, if it has a seat map (every performance together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seats: Option<SeatCounts>,
    /// Its performances with their own seats (empty: no seat map).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub performances: Vec<PerformanceView>,
}

/// One performance of an event, with its seats.
#[derive(Serialize)]
pub struct PerformanceView {
    /// Its index (what the seat-map socket's `auth` names).
    pub index: u32,
    /// Its start (ms since the epoch).
    pub starts_at_ms: i64,
    /// Its start (RFC 3339).
    pub starts_at: String,
    /// Its short name; may be empty.
    pub label: String,
    /// Its seats.
    pub seats: SeatCounts,
    /// Every seat is sold or held.
    pub sold_out: bool,
}

/// Seats free, held and sold.
#[derive(Serialize, Default)]
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

/// An event's seat counts, in all and per performance (None and empty: no seat map).
/// `public`: counts anyone may ask for, as often as they like, so read at most once per
/// [`PUBLIC_MAX_AGE`] (they may lag that much); the operator's are read afresh.
pub async fn seat_counts(
    state: &AppState,
    event: i64,
    public: bool,
) -> ApiResult<(Option<SeatCounts>, Vec<PerformanceView>)> {
    let Some(map) = state.seat_map(event).await else {
        return Ok((None, Vec::new()));
    };
    let reads = &state.seat_reads;
    let states = if public {
        reads
            .recent(state.seats.as_ref(), event, PUBLIC_MAX_AGE)
            .await?
    } else {
        reads.fresh(state.seats.as_ref(), event).await?
    };
    let inv = map.inventory();
    let mut per: Vec<SeatCounts> = (0..inv.performances)
        .map(|_| SeatCounts {
            total: inv.seats as usize,
            ..SeatCounts::default()
        })
        .collect();
    for (seat, _, _) in &states.held {
        if let Some(c) = per.get_mut(inv.performance_of(*seat) as usize) {
            c.held += 1;
        }
    }
    for seat in &states.sold {
        if let Some(c) = per.get_mut(inv.performance_of(*seat) as usize) {
            c.sold += 1;
        }
    }
    let mut all = SeatCounts::default();
    for c in &mut per {
        c.free = c.total.saturating_sub(c.held + c.sold);
        all.total += c.total;
        all.free += c.free;
        all.held += c.held;
        all.sold += c.sold;
    }
    let performances = state.db.performances(event).await?;
    let views = per
        .into_iter()
        .enumerate()
        .map(|(i, seats)| {
            let p = performances.iter().find(|p| p.index as usize == i);
            let starts_at_ms = p.map_or(0, |p| p.starts_at_ms);
            PerformanceView {
                index: i as u32,
                starts_at_ms,
                starts_at: crate::clock::rfc3339(starts_at_ms),
                label: p.map(|p| p.label.clone()).unwrap_or_default(),
                sold_out: seats.total > 0 && seats.free == 0,
                seats,
            }
        })
        .collect();
    Ok((Some(all), views))
}

/// The bearer token of a request.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}
