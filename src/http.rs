//! HTTP routes: the public event API, the JWKS, health, the admin API (bearer key), the
//! waiting-room socket, and the static pages.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

use crate::app::AppState;
use crate::engine::{BusMessage, RoomSnapshot};
use crate::events::{Event, EventPatch, NewEvent, validate_room};
use crate::identity::BuyerId;
use usher_protocol::EventInfo;

/// Errors of the HTTP API: a stable code and a message; details go to the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404.
    #[error("{0}")]
    NotFound(&'static str),
    /// 400, with what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// 401.
    #[error("missing or wrong admin key")]
    Unauthorized,
    /// 503: the admin API has no key configured.
    #[error("the admin API is disabled: set USHER_ADMIN_KEY")]
    AdminDisabled,
    /// 500.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::AdminDisabled => (StatusCode::SERVICE_UNAVAILABLE, "admin_disabled"),
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        (
            status,
            Json(json!({ "error": code, "message": self.to_string() })),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let dir = std::path::PathBuf::from(&state.settings.static_dir);
    let page = |name: &str| ServeFile::new(dir.join(name));
    Router::new()
        .route_service("/", page("index.html"))
        .route_service("/events/{id}", page("queue.html"))
        .route_service("/events/{id}/seats", page("seats.html"))
        .route_service("/operator", page("operator.html"))
        .nest_service("/static", ServeDir::new(&dir))
        .route("/ws/events/{id}/queue", get(crate::ws::queue_socket))
        .route(
            "/ws/events/{id}/seats",
            get(crate::seats::channel::seat_socket),
        )
        .route("/api/events", get(list_public))
        .route("/api/events/{id}", get(get_public))
        .route("/api/events/{id}/seats/layout", get(seat_layout))
        .route("/api/events/{id}/session/end", post(end_session))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/readyz", get(ready))
        .route("/api/admin/events", get(admin_list).post(admin_create))
        .route("/api/admin/events/{id}", get(admin_get).patch(admin_patch))
        .route("/api/admin/events/{id}/pause", post(admin_pause))
        .route("/api/admin/events/{id}/resume", post(admin_resume))
        .route("/api/admin/events/{id}/revoke", post(admin_revoke))
        .with_state(state)
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.tokens.jwks().clone())
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        crate::metrics::render(&state).await,
    )
}

/// Liveness: 503 while a background task (a room, a scheduler loop) is down and being
/// restarted; panics so far are reported (each is a bug), without failing the check.
async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let down = state.tasks.down();
    let status = if down.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if down.is_empty() { "ok" } else { "degraded" },
        "tasks_down": down,
        "task_restarts": state.tasks.restarts(),
        "panics": crate::health::panics(),
    });
    (status, Json(body))
}

/// Longest one readiness probe may take: a frozen Redis must not make `/readyz` hang
/// (an orchestrator's probe times out and learns nothing).
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Ready when the database and the engine both answer within [`PROBE_TIMEOUT`]. The body
/// names what is down, and Redis's persistence (read at start) with a warning when Redis
/// keeps nothing on disk; that warning does not make the instance unready.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let (db, engine) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, state.db.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, state.engine.ping()),
    );
    // A probe that did not answer in time counts as down.
    let (db, engine) = (db.unwrap_or(false), engine.unwrap_or(false));
    let down: Vec<&str> = [("database", db), ("engine", engine)]
        .into_iter()
        .filter(|(_, up)| !up)
        .map(|(part, _)| part)
        .collect();
    let mut body = json!({ "ready": down.is_empty(), "database": db, "engine": engine });
    if !down.is_empty() {
        body["down"] = json!(down);
    }
    if let Some(p) = state.engine.persistence() {
        body["redis_persistence"] = json!(p.label());
        if let Some(w) = p.warning() {
            body["warnings"] = json!([w]);
        }
    }
    let status = if down.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

async fn event_or_404(state: &AppState, id: &str) -> ApiResult<Event> {
    state
        .event(id)
        .await
        .ok_or(ApiError::NotFound("no such event"))
}

/// An event with its room's live counters.
#[derive(Serialize)]
struct EventView<T: Serialize> {
    #[serde(flatten)]
    event: T,
    room: RoomSnapshot,
    #[serde(skip_serializing_if = "Option::is_none")]
    seats: Option<SeatCounts>,
}

/// Seats free, held and sold.
#[derive(Serialize)]
struct SeatCounts {
    total: usize,
    free: usize,
    held: usize,
    sold: usize,
}

async fn seat_counts(state: &AppState, event: i64) -> ApiResult<Option<SeatCounts>> {
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

async fn list_public(State(state): State<AppState>) -> ApiResult<Json<Vec<EventInfo>>> {
    let events = state.db.events().await?;
    Ok(Json(events.iter().map(Event::info).collect()))
}

async fn get_public(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView<EventInfo>>> {
    let event = event_or_404(&state, &id).await?;
    let room = state
        .engine
        .snapshot(event.id, state.clock.now_ms())
        .await?;
    let seats = seat_counts(&state, event.id).await?;
    Ok(Json(EventView {
        event: event.info(),
        room,
        seats,
    }))
}

/// The seat layout of an event (`docs/protocol.md`, "Seat layout"): public, the same
/// bytes forever, so it carries a strong ETag, answers `If-None-Match` with 304, may be
/// cached for a year, and comes gzipped when the client accepts it.
async fn seat_layout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    use axum::http::header;
    let event = event_or_404(&state, &id).await?;
    let map = state
        .seat_map(event.id)
        .await
        .ok_or(ApiError::NotFound("this event has no seat map"))?;
    let layout = crate::seats::compact::published(&state, event.id, map).await?;
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

/// Ends an admitted buyer's session (done, or gave up): frees their active slot. The
/// caller proves who it is with the entry token as a bearer token.
async fn end_session(
    State(state): State<AppState>,
    Path(id): Path<String>,
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

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn check_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<()> {
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

fn body<T>(payload: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    payload
        .map(|Json(v)| v)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

async fn admin_view(state: &AppState, event: Event) -> ApiResult<EventView<Event>> {
    let room = state
        .engine
        .snapshot(event.id, state.clock.now_ms())
        .await?;
    let seats = seat_counts(state, event.id).await?;
    Ok(EventView { event, room, seats })
}

/// Pushes an event's room settings to the engine and tells every instance.
async fn apply(state: &AppState, event: &Event) -> ApiResult<()> {
    state
        .engine
        .configure(event.id, &event.room_config())
        .await?;
    state.events.insert(event.id, event.clone());
    state
        .engine
        .publish(&BusMessage::Config { e: event.id })
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
async fn admin_create(
    State(state): State<AppState>,
    headers: HeaderMap,
    payload: Result<Json<NewEvent>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<EventView<Event>>)> {
    check_admin(&state, &headers)?;
    let new = body(payload)?;
    new.validate().map_err(ApiError::BadRequest)?;
    let seats = match &new.seat_map {
        Some(spec) => spec.expand().map_err(ApiError::BadRequest)?,
        None => Vec::new(),
    };
    let event = state
        .db
        .create_event(&new, &seats, state.clock.now_ms())
        .await?;
    if !seats.is_empty() {
        state.seats.init_seats(event.id, seats.len() as u32).await?;
    }
    apply(&state, &event).await?;
    Ok((StatusCode::CREATED, Json(admin_view(&state, event).await?)))
}

async fn admin_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<EventView<Event>>>> {
    check_admin(&state, &headers)?;
    let mut out = Vec::new();
    for event in state.db.events().await? {
        out.push(admin_view(&state, event).await?);
    }
    Ok(Json(out))
}

async fn admin_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView<Event>>> {
    check_admin(&state, &headers)?;
    let event = event_or_404(&state, &id).await?;
    Ok(Json(admin_view(&state, event).await?))
}

#[tracing::instrument(skip(state, headers, payload))]
async fn admin_patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    payload: Result<Json<EventPatch>, JsonRejection>,
) -> ApiResult<Json<EventView<Event>>> {
    check_admin(&state, &headers)?;
    let patch = body(payload)?;
    let current = event_or_404(&state, &id).await?;
    validate_room(
        patch.admission_rate.unwrap_or(current.admission_rate),
        patch.max_active.unwrap_or(current.max_active),
    )
    .map_err(ApiError::BadRequest)?;
    let event = state
        .db
        .patch_event(current.id, &patch)
        .await?
        .ok_or(ApiError::NotFound("no such event"))?;
    apply(&state, &event).await?;
    Ok(Json(admin_view(&state, event).await?))
}

async fn set_paused(
    state: AppState,
    headers: HeaderMap,
    id: String,
    paused: bool,
) -> ApiResult<Json<EventView<Event>>> {
    check_admin(&state, &headers)?;
    let current = event_or_404(&state, &id).await?;
    let event = state
        .db
        .set_paused(current.id, paused)
        .await?
        .ok_or(ApiError::NotFound("no such event"))?;
    apply(&state, &event).await?;
    Ok(Json(admin_view(&state, event).await?))
}

#[tracing::instrument(skip(state, headers))]
async fn admin_pause(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView<Event>>> {
    set_paused(state, headers, id, true).await
}

#[tracing::instrument(skip(state, headers))]
async fn admin_resume(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<EventView<Event>>> {
    set_paused(state, headers, id, false).await
}

/// Who to revoke: a buyer id, or the ticket site's user id.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    buyer: Option<String>,
    user: Option<String>,
}

#[tracing::instrument(skip(state, headers, payload))]
async fn admin_revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
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
