//! usher: a self-hosted WebSocket waiting room for ticket sales.
//!
//! Map of the crate (ARCHITECTURE.md has the longer tour). Wire types live in the
//! `usher-protocol` crate; the layers below go from the top (wiring) down, and a module
//! only uses modules below it (tests/architecture.rs checks there is no cycle).
//! - [`app`]: builds the server from [`config::Settings`] and runs it (tests start it on
//!   port 0), with the instance's background loops; [`http`]: every route.
//! - [`queue`]: the waiting room: its socket, rooms, views, admission and checkpoints.
//! - [`seats`]: the seat map: its socket, hold/release/book, fan-out, expiry, and the
//!   layout as served over HTTP.
//! - [`webhooks`]: signed deliveries of the outbox's events to the ticket site.
//! - [`socket`]: one WebSocket connection for either channel: frames, limits, refusals.
//! - [`state`]: what every part shares ([`state::AppState`]).
//! - [`engine`]: where shared state lives and atomic decisions are taken: queue, seats
//!   and bus traits, a `memory` and a `redis` implementation, [`engine::connect`].
//! - [`db`]: the record that outlives the engine's store (events, seat maps, bookings,
//!   holds, checkpoints, the webhook outbox) in SQLite or PostgreSQL.
//! - [`events`]: the event model and its seat layout; [`identity`]: buyer ids,
//!   credentials and signed site user ids; [`token`]: Ed25519 entry tokens and the JWKS.
//! - [`telemetry`]: metrics, panics and supervised tasks; [`shutdown`]: sockets a stop
//!   waits for; [`clock`]: injectable time; [`config`]: settings.

pub mod app;
pub mod clock;
pub mod config;
pub mod db;
pub mod engine;
pub mod events;
pub mod http;
pub mod identity;
pub mod queue;
pub mod seats;
pub mod shutdown;
pub mod socket;
pub mod state;
pub mod telemetry;
pub mod token;
pub mod webhooks;

pub use app::{App, ShutdownHandle};
pub use config::Settings;
pub use state::AppState;
