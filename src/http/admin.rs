//! The admin API (bearer key `admin_key`): create, read, change, pause and resume events,
//! end a sale, delete an event that sold nothing, revoke buyers, and list and re-queue
//! webhook deliveries.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::{ApiError, ApiResult, body};
use super::views::{EventView, Id, bearer, event_or_404, seat_counts};
use crate::db::outbox::{WebhookEvent, WebhookStatus};
use crate::engine::bus::BusMessage;
use crate::engine::seats::Inventory;
use crate::events::{Event, EventPatch, MAX_INVENTORY, NewEvent, times};
use crate::identity::BuyerId;
use crate::state::AppState;
use crate::telemetry::admitted::Recent;

pub(super) fn check_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    let key = &state.settings.admin_key;
    if key.is_empty() {
        return Err(ApiError::AdminDisabled);
    }
    let given = bearer(headers).ok_or(ApiError::Unauthorized)?;
    let same = given.len() == key.len()
        && given
            .bytes()
            .zip(key.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// An event as the admin API shows it: every stored field, and the times also as RFC 3339
/// strings.
#[derive(Serialize)]
pub struct AdminEvent {
    /// The stored event (times in ms).
    #[serde(flatten)]
    pub event: Event,
    /// `starts_at_ms` in RFC 3339 (UTC).
    pub starts_at: String,
    /// `sale_opens_at_ms` in RFC 3339 (UTC).
    pub sale_opens_at: String,
    /// The sale was ended for good (`ended_at_ms` is when).
    pub ended: bool,
    /// Buyers admitted in the last minute, measured (see `telemetry::admitted` for the
    /// rule); None when this instance has no recent sample of the room.
    pub admitted_last_minute: Option<Recent>,
}

impl From<Event> for AdminEvent {
    fn from(event: Event) -> AdminEvent {
        AdminEvent {
            starts_at: times::format(event.starts_at_ms),
            sale_opens_at: times::format(event.sale_opens_at_ms),
            ended: event.ended(),
            admitted_last_minute: None,
            event,
        }
    }
}

/// What every admin route answers with.
type AdminView = EventView<AdminEvent>;

async fn admin_view(state: &AppState, event: Event) -> ApiResult<AdminView> {
    let room = state
        .engine
        .snapshot(event.id, state.clock.now_ms())
        .await?;
    let (seats, performances) = seat_counts(state, event.id, false).await?;
    let now = state.clock.now_ms();
    let opened_at = room.opened.then_some(room.opens_at_ms);
    let recent = state
        .metrics
        .admitted
        .recent(event.id, now, room.admitted_total, opened_at);
    Ok(EventView {
        event: AdminEvent {
            admitted_last_minute: recent,
            ..event.into()
        },
        room,
        seats,
        performances,
    })
}

/// The words of every refusal of a change to an ended sale.
const ENDED: &str = "the sale has ended: the event can no longer change";

/// Pushes an event's room settings to the engine and tells every instance.
async fn apply(state: &AppState, event: &Event) -> ApiResult<()> {
    state
        .engine
        .configure(event.id, &event.room_config())
        .await?;
    // The cache takes the stored row, not `event`: a change that raced an end must not
    // put a running sale back in the cache (the engine keeps `ended` on its own).
    state.reload_event(event.id).await?;
    state
        .bus
        .publish(&BusMessage::Config { e: event.id })
        .await?;
    Ok(())
}

/// `POST /api/admin/events`: creates an event (and its seat map).
#[tracing::instrument(skip_all)]
pub async fn admin_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<NewEvent>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<AdminView>)> {
    check_admin(&state, &headers)?;
    let new = body(payload)?;
    let times = new.validate().map_err(ApiError::BadRequest)?;
    let seats = match &new.seat_map {
        Some(spec) => spec.expand().map_err(ApiError::BadRequest)?,
        None => Vec::new(),
    };
    let inv = Inventory {
        seats: seats.len() as u32,
        performances: times.performances.len() as u32,
    };
    if u64::from(inv.seats) * u64::from(inv.performances) > MAX_INVENTORY {
        return Err(ApiError::BadRequest(format!(
            "{} performances of {} seats is {} seats; an event has at most {MAX_INVENTORY}",
            inv.performances,
            inv.seats,
            u64::from(inv.seats) * u64::from(inv.performances)
        )));
    }
    let event = state
        .db
        .create_event(&new, &times, &seats, state.clock.now_ms())
        .await?;
    if !seats.is_empty() {
        state.seats.init_seats(event.id, inv).await?;
    }
    apply(&state, &event).await?;
    Ok((StatusCode::CREATED, Json(admin_view(&state, event).await?)))
}

/// `GET /api/admin/events`: every event with its counters.
pub async fn admin_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<AdminView>>> {
    check_admin(&state, &headers)?;
    let mut out = Vec::new();
    for event in state.db.events().await? {
        out.push(admin_view(&state, event).await?);
    }
    Ok(Json(out))
}

/// `GET /api/admin/events/{id}`.
pub async fn admin_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<AdminView>> {
    check_admin(&state, &headers)?;
    let event = event_or_404(&state, &id).await?;
    Ok(Json(admin_view(&state, event).await?))
}

/// `PATCH /api/admin/events/{id}`: changes the fields given, each by its rule
/// (`Event::patched`); a refused patch changes nothing. 409 once the sale has ended.
#[tracing::instrument(skip(state, headers, payload))]
pub async fn admin_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
    payload: Result<Json<EventPatch>, JsonRejection>,
) -> ApiResult<Json<AdminView>> {
    check_admin(&state, &headers)?;
    let patch = body(payload)?;
    let current = fresh_event(&state, &id).await?;
    if current.ended() {
        return Err(ApiError::Conflict(ENDED.into()));
    }
    let now = state.clock.now_ms();
    let wanted = current.patched(&patch, now).map_err(ApiError::BadRequest)?;
    let Some(event) = state.db.patch_event(&current, &wanted, now).await? else {
        // The guard failed: the event changed under this patch. Say why.
        let again = fresh_event(&state, &id).await?;
        if again.ended() {
            return Err(ApiError::Conflict(ENDED.into()));
        }
        return Err(ApiError::Conflict(
            "the sale opening changed or passed while this patch was made; read the event \
             and try again"
                .into(),
        ));
    };
    apply(&state, &event).await?;
    Ok(Json(admin_view(&state, event).await?))
}

/// An event read from the database (not the cache: a change is decided on the stored row).
async fn fresh_event(state: &AppState, id: &str) -> ApiResult<Event> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such event"))?;
    state
        .db
        .event(id)
        .await?
        .ok_or(ApiError::NotFound("no such event"))
}

/// `POST /api/admin/events/{id}/end`: ends the sale for good. Waiting buyers are told and
/// sent away (`sale_ended`, close 4506), new joins are refused, nobody more is admitted;
/// buyers already admitted may finish their holds and bookings. Ending twice is the same
/// as once.
#[tracing::instrument(skip(state, headers))]
pub async fn admin_end(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<AdminView>> {
    check_admin(&state, &headers)?;
    let current = fresh_event(&state, &id).await?;
    let event = state
        .db
        .end_sale(current.id, state.clock.now_ms())
        .await?
        .ok_or(ApiError::NotFound("no such event"))?;
    apply(&state, &event).await?;
    Ok(Json(admin_view(&state, event).await?))
}

/// `DELETE /api/admin/events/{id}`: deletes an event that sold nothing (204); 409 when a
/// booking exists. Buyers still waiting are told the sale has ended. The engine keeps the
/// event's keys (marked ended, so it admits nobody); they are never read again.
#[tracing::instrument(skip(state, headers))]
pub async fn admin_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    check_admin(&state, &headers)?;
    let current = fresh_event(&state, &id).await?;
    let refused = || {
        ApiError::Conflict(
            "the event has bookings: it cannot be deleted (end the sale instead)".into(),
        )
    };
    let deleted = match state.db.delete_unsold_event(current.id).await {
        Ok(deleted) => deleted,
        // A booking that raced the delete makes it fail on its reference to the event:
        // once more, and the count sees the booking.
        Err(e) => {
            tracing::warn!(event = current.id, error = %e, "deleting an event failed; again");
            state.db.delete_unsold_event(current.id).await?
        }
    };
    if !deleted {
        return Err(refused());
    }
    let ended = Event {
        ended_at_ms: state.clock.now_ms().max(1),
        ..current
    };
    state
        .engine
        .configure(ended.id, &ended.room_config())
        .await?;
    state.events.remove(&ended.id);
    state.seat_maps.remove(&ended.id);
    state.seat_reads.forget(ended.id);
    state.metrics.admitted.forget(ended.id);
    state
        .bus
        .publish(&BusMessage::Config { e: ended.id })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_paused(
    state: AppState,
    headers: HeaderMap,
    id: String,
    paused: bool,
) -> ApiResult<Json<AdminView>> {
    check_admin(&state, &headers)?;
    let current = fresh_event(&state, &id).await?;
    if current.ended() && !paused {
        return Err(ApiError::Conflict(
            "the sale has ended: it cannot be resumed".into(),
        ));
    }
    let event = state
        .db
        .set_paused(current.id, paused)
        .await?
        .ok_or(ApiError::NotFound("no such event"))?;
    apply(&state, &event).await?;
    Ok(Json(admin_view(&state, event).await?))
}

/// `POST /api/admin/events/{id}/pause`.
#[tracing::instrument(skip(state, headers))]
pub async fn admin_pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<AdminView>> {
    set_paused(state, headers, id, true).await
}

/// `POST /api/admin/events/{id}/resume`.
#[tracing::instrument(skip(state, headers))]
pub async fn admin_resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<AdminView>> {
    set_paused(state, headers, id, false).await
}

/// Who to revoke: a buyer id, or the ticket site's user id.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// A buyer id (32 hex digits).
    pub buyer: Option<String>,
    /// The ticket site's user id.
    pub user: Option<String>,
}

/// `POST /api/admin/events/{id}/revoke`: bans a buyer from the event.
#[tracing::instrument(skip(state, headers, payload))]
pub async fn admin_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
    payload: Result<Json<Revoke>, JsonRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    check_admin(&state, &headers)?;
    let event = event_or_404(&state, &id).await?;
    let buyer = match body(payload)? {
        Revoke {
            buyer: Some(b),
            user: None,
        } => {
            BuyerId::parse(&b).ok_or(ApiError::BadRequest("buyer must be 32 hex digits".into()))?
        }
        Revoke {
            buyer: None,
            user: Some(u),
        } => state.identity.user_buyer(event.id, &u),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of buyer or user".into(),
            ));
        }
    };
    // The database first: a store that loses its data gets the revocation back.
    let now = state.clock.now_ms();
    state.db.revoke(event.id, &buyer.to_string(), now).await?;
    let known = state.engine.revoke(event.id, buyer).await?;
    Ok(Json(
        json!({ "buyer": buyer.to_string(), "known": known, "revoked": true }),
    ))
}

/// The most deliveries one page lists.
const MAX_WEBHOOK_PAGE: i64 = 500;

/// `GET /api/admin/webhooks` query: `status`, `limit` (default 100), `after` (an id).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookQuery {
    /// `pending`, `delivered` or `failed`; every delivery without it.
    pub status: Option<String>,
    /// Page size, 1 to 500.
    pub limit: Option<i64>,
    /// Only ids above this (the previous page's `next_after`).
    pub after: Option<i64>,
}

fn webhook_view(w: &WebhookEvent) -> serde_json::Value {
    let status = w.status();
    json!({
        "id": w.id,
        "event_uid": w.event_uid,
        "type": w.kind,
        "event_id": w.event_id,
        "status": status.name(),
        "created_at_ms": w.created_at_ms,
        "attempts": w.attempts,
        "next_attempt_at_ms": (status == WebhookStatus::Pending).then_some(w.next_attempt_at_ms),
        "delivered_at_ms": w.delivered_at_ms,
        "last_error": w.last_error,
    })
}

/// `GET /api/admin/webhooks`: deliveries by id, a page at a time.
pub async fn admin_webhooks(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<WebhookQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    check_admin(&state, &headers)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(WebhookStatus::parse(s).ok_or(ApiError::BadRequest(
            "status must be pending, delivered or failed".into(),
        ))?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_WEBHOOK_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 500".into()));
    }
    let page = state
        .db
        .webhooks(status, q.after.unwrap_or(0), limit)
        .await?;
    let next_after = (page.len() as i64 == limit)
        .then(|| page.last().map(|w| w.id))
        .flatten();
    let webhooks: Vec<serde_json::Value> = page.iter().map(webhook_view).collect();
    Ok(Json(
        json!({ "webhooks": webhooks, "next_after": next_after }),
    ))
}

/// `POST /api/admin/webhooks/{id}/retry`: a delivery that gave up is due again now, and
/// retried for another `webhook_retry_secs`.
#[tracing::instrument(skip(state, headers))]
pub async fn admin_webhook_retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
) -> ApiResult<Json<serde_json::Value>> {
    check_admin(&state, &headers)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound("no such delivery"))?;
    let current = state
        .db
        .webhook(id)
        .await?
        .ok_or(ApiError::NotFound("no such delivery"))?;
    let retry_ms = (state.settings.webhook_retry_secs as i64).saturating_mul(1000);
    let now = state.clock.now_ms();
    if current.status() != WebhookStatus::Failed
        || !state.db.retry_webhook(id, now, retry_ms).await?
    {
        return Err(ApiError::Conflict(
            "only a delivery that gave up can be retried".into(),
        ));
    }
    let again = state
        .db
        .webhook(id)
        .await?
        .ok_or(ApiError::NotFound("no such delivery"))?;
    Ok(Json(webhook_view(&again)))
}
