//! Bookings as the operator handles them: a refund puts a paid booking's seats back on
//! sale, live for every viewer (`POST /api/admin/bookings/{id}/refund`).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::admin::check_admin;
use super::error::{ApiError, ApiResult};
use super::views::Id;
use crate::state::AppState;

/// `POST /api/admin/bookings/{id}/refund`: refunds a booking. The database decides (and
/// tells the ticket site, `order.refunded`); then the engine frees the seats. Refunding
/// again answers the same refund with `already_refunded: true` and frees nothing: the
/// seats may be someone else's by then.
#[tracing::instrument(skip(state, headers))]
pub async fn refund(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    check_admin(&state, &headers)?;
    let booking: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such booking"))?;
    let refund = state
        .db
        .refund_booking(booking, state.clock.now_ms())
        .await?
        .ok_or(ApiError::NotFound("no such booking"))?;
    if refund.now {
        let sold: Vec<(u32, String)> = refund
            .seats
            .iter()
            .map(|seat| (*seat, refund.buyer.clone()))
            .collect();
        // The refund stands whatever the engine answers: if it cannot be reached now,
        // the sold-seat reconciliation (every 2 s, `crate::seats::expiry`) frees them.
        if let Err(e) = state.seats.unsell(refund.event, &sold).await {
            tracing::warn!(booking, error = %e, "freeing refunded seats failed; the reconciliation will");
        }
    }
    Ok(Json(json!({
        "booking": refund.booking,
        "event_id": refund.event,
        "performance": refund.performance.index,
        "buyer": refund.buyer,
        "seats": refund.seats.iter().map(|s| refund.performance.local(*s)).collect::<Vec<_>>(),
        "total": refund.total,
        "refunded_at": crate::clock::rfc3339(refund.refunded_at_ms),
        "refunded_at_ms": refund.refunded_at_ms,
        "already_refunded": !refund.now,
    })))
}
