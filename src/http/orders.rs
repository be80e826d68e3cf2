//! Orders, as the ticket site's backend handles them (server to server, with the admin
//! key): confirm payment, cancel, read, list, export. The payment page reads one order
//! with the order's own token from the payment link instead.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::check_admin;
use super::error::{ApiError, ApiResult, body};
use super::views::Id;
use crate::db::orders::{Order, OrderFilter, OrderRefusal, OrderStatus};
use crate::identity::BuyerId;
use crate::state::AppState;

/// An order as the API shows it.
fn view(o: &Order) -> Value {
    json!({
        "id": o.id,
        "event_id": o.event,
        "performance": o.performance.index,
        "buyer": o.buyer,
        "status": o.status.name(),
        "seats": o.local_seats().map(|(id, price)| json!({ "id": id, "price": price })).collect::<Vec<_>>(),
        "total": o.total,
        "deadline": crate::clock::rfc3339(o.deadline_ms),
        "deadline_ms": o.deadline_ms,
        "payment_ref": o.payment_ref,
        "booking": o.booking,
        "created_at_ms": o.created_at_ms,
        "extended": o.extended,
    })
}

fn order_id(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| ApiError::NotFound("no such order"))
}

fn refused(r: OrderRefusal) -> ApiError {
    let code = match r {
        OrderRefusal::PaidOtherwise => "order_paid_otherwise",
        OrderRefusal::Expired => "order_expired",
        OrderRefusal::Cancelled => "order_cancelled",
        OrderRefusal::Paid => "order_paid",
        OrderRefusal::SeatSold => "seat_sold",
        OrderRefusal::Refunded => "order_refunded",
        OrderRefusal::ExtendedAlready => "order_extended_already",
    };
    ApiError::Refused(code, r.to_string())
}

/// The body of a confirmation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The ticket site's payment reference (1 to 200 characters).
    pub payment_ref: String,
}

/// `POST /api/admin/orders/{id}/confirm`: payment went through. The order becomes a booking
/// (`order.paid`) and its seats are sold for every viewer. Safe to retry: the same
/// reference answers the same paid order. Refused after the deadline (`order_expired`)
/// or a cancellation (`order_cancelled`), and nothing changes. When the database's answer
/// is lost and it cannot be asked again, the answer is `503 outcome_unknown`: the payment
/// may be recorded, and a retry finds out.
#[tracing::instrument(skip(state, headers, payload))]
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
    payload: Result<Json<Confirm>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    check_admin(&state, &headers)?;
    let id = order_id(&id)?;
    let Confirm { payment_ref } = body(payload)?;
    let length = payment_ref.chars().count();
    if length == 0 || length > 200 || payment_ref.contains('\0') {
        return Err(ApiError::BadRequest(
            "payment_ref must be 1 to 200 characters".into(),
        ));
    }
    let (order, _) = settled_confirm(&state, id, &payment_ref)
        .await?
        .ok_or(ApiError::NotFound("no such order"))?
        .map_err(refused)?;
    if let Some(buyer) = BuyerId::parse(&order.buyer) {
        let seats: Vec<u32> = order.seats.iter().map(|(seat, _)| *seat).collect();
        // Every answer that the order is paid tells the engine (seats sold already count
        // once): after a lost answer, the call that paid it may never have. The database
        // has the sale: if the engine cannot be told now, the sold-seat reconciliation
        // tells it (`crate::seats::expiry`).
        if let Err(e) = state
            .seats
            .end_booking(order.event, buyer, &seats, true)
            .await
        {
            tracing::warn!(order = order.id, error = %e, "marking a paid order's seats sold failed");
        }
    }
    Ok(Json(view(&order)))
}

type Confirmed = Option<Result<(Order, bool), OrderRefusal>>;

/// Confirms in the database, once more if the first answer is an error: that error may
/// have lost the answer of a COMMIT that went through, and confirming again is safe (it
/// waits for a transaction still in flight on the order, then answers the paid order
/// for the same reference). If the database cannot be asked, nobody can tell:
/// `outcome_unknown`, never an answer that says nothing changed.
async fn settled_confirm(state: &AppState, id: i64, payment_ref: &str) -> ApiResult<Confirmed> {
    let first = state
        .db
        .confirm_order(id, payment_ref, state.clock.now_ms())
        .await;
    let error = match first {
        Ok(confirmed) => return Ok(confirmed),
        Err(e) => e,
    };
    tracing::warn!(order = id, error = ?error, "confirming an order failed; asking again");
    state
        .db
        .confirm_order(id, payment_ref, state.clock.now_ms())
        .await
        .map_err(|e| {
            tracing::error!(order = id, error = ?e, "confirming an order failed twice");
            ApiError::OutcomeUnknown(
                "the database could not confirm whether the payment was recorded; \
                 confirm again with the same payment_ref to find out"
                    .into(),
            )
        })
}

/// `POST /api/admin/orders/{id}/cancel`: the buyer gave up, or payment failed for good. The
/// seats go back on sale at once (`order.cancelled`). Cancelling again answers the same.
#[tracing::instrument(skip(state, headers))]
pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    check_admin(&state, &headers)?;
    let id = order_id(&id)?;
    let (order, newly) = state
        .db
        .cancel_order(id, state.clock.now_ms())
        .await?
        .ok_or(ApiError::NotFound("no such order"))?
        .map_err(refused)?;
    if newly {
        crate::seats::expiry::give_back_order(&state, &order).await;
    }
    Ok(Json(view(&order)))
}

/// The order token of `GET /api/orders/{id}?token=`.
#[derive(Deserialize)]
pub struct TokenQuery {
    /// The order's token from the payment page's link.
    pub token: Option<String>,
}

/// The order's own token (from the payment link) must come with the request.
fn check_token(state: &AppState, id: i64, q: &TokenQuery) -> ApiResult<()> {
    let valid = q
        .token
        .as_deref()
        .is_some_and(|t| state.identity.check_order_token(id, t));
    if valid {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// `GET /api/orders/{id}?token=`: one order, for the payment page, with the order's own
/// token from the payment link (no admin key).
pub async fn get_with_token(
    State(state): State<AppState>,
    Id(id): Id,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Json<Value>> {
    let id = order_id(&id)?;
    check_token(&state, id, &q)?;
    read(&state, id).await
}

/// `POST /api/orders/{id}/extend?token=`: the buyer needs more time to pay (the payment
/// page asks, with the order's token): the deadline moves `checkout_extend_secs` later,
/// once, and the engine keeps the seats that much longer.
pub async fn extend(
    State(state): State<AppState>,
    Id(id): Id,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Json<Value>> {
    let id = order_id(&id)?;
    check_token(&state, id, &q)?;
    let by_ms = (state.settings.checkout_extend_secs as i64).saturating_mul(1000);
    if by_ms == 0 {
        return Err(ApiError::Refused(
            "order_extended_already",
            "this sale does not extend payment deadlines".into(),
        ));
    }
    let now = state.clock.now_ms();
    let order = state
        .db
        .extend_order(id, by_ms, now)
        .await?
        .ok_or(ApiError::NotFound("no such order"))?
        .map_err(refused)?;
    if let Some(buyer) = BuyerId::parse(&order.buyer) {
        let window = (order.deadline_ms - now).max(0) + crate::seats::requests::CONFIRM_MARGIN_MS;
        if let Err(e) = state
            .seats
            .begin_booking(order.event, buyer, order.performance.index, now, window)
            .await
        {
            tracing::warn!(order = order.id, error = %e, "keeping an extended order's seats failed");
        }
    }
    Ok(Json(view(&order)))
}

/// `GET /api/admin/orders/{id}`: one order.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    check_admin(&state, &headers)?;
    read(&state, order_id(&id)?).await
}

async fn read(state: &AppState, id: i64) -> ApiResult<Json<Value>> {
    let order = state
        .db
        .order(id)
        .await?
        .ok_or(ApiError::NotFound("no such order"))?;
    Ok(Json(view(&order)))
}

/// The filters of `GET /api/admin/orders`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this event's.
    pub event: Option<i64>,
    /// Only in this state.
    pub status: Option<String>,
    /// Only this buyer's (32 hex digits).
    pub buyer: Option<String>,
    /// Only the orders of this ticket-site user (the id the site signs; needs `event`,
    /// since a user's buyer id is derived per event).
    pub user: Option<String>,
    /// Only this performance's orders (needs `event`).
    pub performance: Option<u32>,
    /// Orders with an id above this (the cursor; `next_after` of the previous page).
    pub after: Option<i64>,
    /// 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// `GET /api/admin/orders?event=&performance=&status=&buyer=&user=&after=&limit=`: orders
/// by ascending id.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    check_admin(&state, &headers)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::from_name(s).ok_or_else(|| {
            ApiError::BadRequest(
                "status must be pending_payment, paid, cancelled, expired or refunded".into(),
            )
        })?),
    };
    if let Some(b) = &q.buyer
        && BuyerId::parse(b).is_none()
    {
        return Err(ApiError::BadRequest("buyer must be 32 hex digits".into()));
    }
    let buyer = match (&q.user, q.event, &q.buyer) {
        (None, _, _) => q.buyer.clone(),
        (Some(_), _, Some(_)) => {
            return Err(ApiError::BadRequest("give buyer or user, not both".into()));
        }
        (Some(_), None, None) => {
            return Err(ApiError::BadRequest("user needs event".into()));
        }
        (Some(user), Some(event), None) => {
            if user.is_empty() || user.chars().count() > 200 {
                return Err(ApiError::BadRequest(
                    "user must be 1 to 200 characters".into(),
                ));
            }
            Some(state.identity.user_buyer(event, user).to_string())
        }
    };
    if q.performance.is_some() && q.event.is_none() {
        return Err(ApiError::BadRequest("performance needs event".into()));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 500".into(),
        ));
    }
    let filter = OrderFilter {
        event: q.event,
        performance: q.performance,
        status,
        buyer,
        after: q.after.unwrap_or(0).max(0),
        limit,
    };
    let orders = state.db.orders(&filter).await?;
    let next_after = (orders.len() as i64 == limit)
        .then(|| orders.last().map(|o| o.id))
        .flatten();
    Ok(Json(json!({
        "orders": orders.iter().map(view).collect::<Vec<_>>(),
        "next_after": next_after,
    })))
}

/// `GET /api/admin/events/{id}/orders.csv`: every seat of the event's paid orders, one
/// line each, for the box office.
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    check_admin(&state, &headers)?;
    let event = super::views::event_or_404(&state, &id).await?;
    let rows = state.db.paid_order_seats(event.id).await?;
    let mut csv =
        String::from("order,booking,buyer,performance,seat,section,row,number,price,paid_at\r\n");
    for (order, booking, buyer, perf, seat, section, row, number, price, paid_ms) in rows {
        let booking = booking.map(|b| b.to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{order},{booking},{buyer},{perf},{seat},{},{},{number},{price},{}\r\n",
            csv_field(&section),
            csv_field(&row),
            crate::clock::rfc3339(paid_ms),
        ));
    }
    let disposition = format!("attachment; filename=\"event-{}-orders.csv\"", event.id);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

/// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it.
fn csv_field(text: &str) -> String {
    let safe = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if safe.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_when_needed_and_never_run_as_formulas() {
        assert_eq!(csv_field("A"), "A");
        assert_eq!(csv_field("Floor, left"), "\"Floor, left\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
    }
}
