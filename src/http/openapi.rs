//! The OpenAPI 3 description of the HTTP API (`docs/openapi.json`), served as written.
//!
//! It is written by hand rather than derived (utoipa): the wire types live in two crates,
//! several are `serde_json::Value`s built in place, and the rules the doc states (the two
//! forms of a time, fields refused by name) are in code, not in types. `tests/openapi.rs`
//! keeps it in step with [`super::router`]: every route there is here, and the reverse;
//! CI runs schemathesis against the served copy (`scripts/ci-schemathesis.sh`).

use axum::http::header;
use axum::response::IntoResponse;

/// The description, as checked in.
pub const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

/// `GET /api/openapi.json`: the description (public).
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
