//! What operators and orchestrators poll: liveness, readiness, Prometheus metrics, and the
//! JWKS that verifies entry tokens.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::engine::reads::PUBLIC_MAX_AGE;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use crate::state::AppState;
use crate::telemetry::metrics::family;

/// `GET /.well-known/jwks.json`: the public keys of entry tokens.
pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.tokens.jwks().clone())
}

/// `GET /metrics`: Prometheus text.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        render(&state).await,
    )
}

/// Liveness: 503 while a background task (a room, a scheduler loop) is down and being
/// restarted; panics so far are reported (each is a bug), without failing the check.
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
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
        "panics": crate::telemetry::health::panics(),
    });
    (status, Json(body))
}

/// Longest one readiness probe may take: a frozen Redis must not make `/readyz` hang
/// (an orchestrator's probe times out and learns nothing).
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

/// Ready when the database and the engine both answer within [`PROBE_TIMEOUT`]. The body
/// names what is down, and Redis's persistence (read at start) with a warning when Redis
/// keeps nothing on disk; that warning does not make the instance unready.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
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

/// The Prometheus text of this instance.
async fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let mut out = String::new();
    family(
        &mut out,
        "usher_open_sockets",
        "gauge",
        "Open WebSocket connections on this instance.",
    );
    let q = m.queue_sockets.load(Ordering::Relaxed);
    let s = m.seat_sockets.load(Ordering::Relaxed);
    let _ = writeln!(out, "usher_open_sockets{{channel=\"queue\"}} {q}");
    let _ = writeln!(out, "usher_open_sockets{{channel=\"seats\"}} {s}");
    for (name, help, v) in [
        (
            "usher_holds_granted_total",
            "Seat holds granted by this instance.",
            &m.holds_granted,
        ),
        (
            "usher_holds_refused_total",
            "Seat holds refused by this instance.",
            &m.holds_refused,
        ),
        (
            "usher_bookings_written_total",
            "Bookings written by this instance.",
            &m.bookings,
        ),
        (
            "usher_store_restores_total",
            "Times the queue store had lost an event's counters and they were restored.",
            &m.restores,
        ),
        (
            "usher_panics_total",
            "Panics anywhere in this process (each is a bug).",
            &crate::telemetry::health::PANICS,
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
    }
    family(
        &mut out,
        "usher_task_restarts_total",
        "counter",
        "Background tasks (rooms, scheduler loops) that failed and were restarted.",
    );
    let _ = writeln!(out, "usher_task_restarts_total {}", state.tasks.restarts());
    m.join
        .render(&mut out, "usher_join_seconds", "Time from join to joined.");
    m.admission_push.render(
        &mut out,
        "usher_admission_push_seconds",
        "Time from the admission decision to the admitted message sent.",
    );
    m.hold.render(
        &mut out,
        "usher_hold_seconds",
        "Time to answer a hold request.",
    );

    let mut events: Vec<i64> = state.events.iter().map(|e| *e.key()).collect();
    events.sort_unstable();
    let now = state.clock.now_ms();
    let mut rows: Vec<(&str, &str, String)> = Vec::new();
    for id in events {
        let Ok(snap) = state.engine.snapshot(id, now).await else {
            continue;
        };
        rows.push((
            "usher_queue_length",
            "gauge",
            format!("{{event=\"{id}\"}} {}", snap.waiting + snap.pre),
        ));
        rows.push((
            "usher_admitted_total",
            "counter",
            format!("{{event=\"{id}\"}} {}", snap.admitted_total),
        ));
        rows.push((
            "usher_active_buyers",
            "gauge",
            format!("{{event=\"{id}\"}} {}", snap.active),
        ));
        if state.seat_map(id).await.is_some()
            && let Ok(seats) = state
                .seat_reads
                .recent(state.seats.as_ref(), id, PUBLIC_MAX_AGE)
                .await
        {
            rows.push((
                "usher_seats_held",
                "gauge",
                format!("{{event=\"{id}\"}} {}", seats.held.len()),
            ));
            rows.push((
                "usher_seats_sold",
                "gauge",
                format!("{{event=\"{id}\"}} {}", seats.sold.len()),
            ));
        }
    }
    rows.sort_by_key(|(name, _, _)| *name);
    let mut last = "";
    for (name, kind, sample) in rows {
        if name != last {
            family(
                &mut out,
                name,
                kind,
                "Per event, from the engine (the same on every instance).",
            );
            last = name;
        }
        let _ = writeln!(out, "{name}{sample}");
    }
    out
}
