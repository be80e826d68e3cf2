//! HTTP: every route of the server, and the state they are served with. The public event
//! API and the seat layout ([`public`]), the admin API ([`admin`]), health, readiness,
//! metrics and the JWKS ([`ops`]), the OpenAPI description of those routes ([`openapi`]),
//! the two sockets (`crate::queue::socket`, `crate::seats::socket`), and the static pages.

pub mod admin;
pub mod bookings;
pub mod error;
pub mod openapi;
pub mod ops;
pub mod orders;
pub mod pages;
pub mod public;
pub mod views;

use std::ops::Deref;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use tower_http::services::{ServeDir, ServeFile};

use crate::queue::state::QueueState;
use crate::seats::state::SeatMapState;
use crate::state::AppState;

/// The state the router serves with: the shared state, and what the waiting room and
/// the seat map add to it. Each handler takes the part it needs.
#[derive(Clone)]
pub struct ServerState {
    /// The shared state.
    pub app: AppState,
    /// The waiting room.
    pub queue: QueueState,
    /// The seat map. (Not `seats`: that is the shared state's seat engine.)
    pub seat_map: SeatMapState,
}

impl Deref for ServerState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl FromRef<ServerState> for AppState {
    fn from_ref(s: &ServerState) -> AppState {
        s.app.clone()
    }
}

impl FromRef<ServerState> for QueueState {
    fn from_ref(s: &ServerState) -> QueueState {
        s.queue.clone()
    }
}

impl FromRef<ServerState> for SeatMapState {
    fn from_ref(s: &ServerState) -> SeatMapState {
        s.seat_map.clone()
    }
}

/// The pages: embedded in the binary ([`pages`]), or from `static_dir` when it is set.
fn page_routes(static_dir: &str) -> Router<ServerState> {
    if static_dir.is_empty() {
        return pages::routes();
    }
    let dir = std::path::PathBuf::from(static_dir);
    let page = |name: &str| ServeFile::new(dir.join(name));
    Router::new()
        .route_service("/", page("index.html"))
        .route_service("/events/{id}", page("queue.html"))
        .route_service("/events/{id}/seats", page("seats.html"))
        .route_service("/operator", page("operator.html"))
        .nest_service("/static", ServeDir::new(&dir))
}

/// Every route of the server.
pub fn router(state: ServerState) -> Router {
    page_routes(&state.settings.static_dir)
        .route(
            "/ws/events/{id}/queue",
            get(crate::queue::socket::queue_socket),
        )
        .route(
            "/ws/events/{id}/seats",
            get(crate::seats::socket::seat_socket),
        )
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/events", get(public::list_public))
        .route("/api/events/{id}", get(public::get_public))
        .route("/api/events/{id}/seats/layout", get(public::seat_layout))
        .route("/api/events/{id}/session/end", post(public::end_session))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/healthz", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route("/readyz", get(ops::ready))
        .route(
            "/api/admin/events",
            get(admin::admin_list).post(admin::admin_create),
        )
        .route(
            "/api/admin/events/{id}",
            get(admin::admin_get)
                .patch(admin::admin_patch)
                .delete(admin::admin_delete),
        )
        .route("/api/admin/events/{id}/end", post(admin::admin_end))
        .route("/api/admin/events/{id}/pause", post(admin::admin_pause))
        .route("/api/admin/events/{id}/resume", post(admin::admin_resume))
        .route("/api/admin/events/{id}/revoke", post(admin::admin_revoke))
        .route("/api/admin/bookings/{id}/refund", post(bookings::refund))
        .route("/api/orders/{id}", get(orders::get_with_token))
        .route("/api/orders/{id}/extend", post(orders::extend))
        .route("/api/admin/orders/{id}", get(orders::get))
        .route("/api/admin/orders", get(orders::list))
        .route("/api/admin/events/{id}/orders.csv", get(orders::export))
        .route("/api/admin/orders/{id}/confirm", post(orders::confirm))
        .route("/api/admin/orders/{id}/cancel", post(orders::cancel))
        .route("/api/admin/webhooks", get(admin::admin_webhooks))
        .route(
            "/api/admin/webhooks/{id}/retry",
            post(admin::admin_webhook_retry),
        )
        .with_state(state)
}
