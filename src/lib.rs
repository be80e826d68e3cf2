//! usher: a self-hosted WebSocket waiting room for ticket sales.
//!
//! Map of the crate:
//! - [`app`]: builds the server from [`config::Settings`] and runs it (tests start it on
//!   port 0); [`scheduler`]: the per-instance background loops (admission steps, event
//!   cache, bus); [`shutdown`]: tracks upgraded sockets so a stop can wait for them.
//! - [`engine`]: where queue state lives and admission is decided, behind one trait with
//!   a `memory` and a `redis` implementation.
//! - [`room`]: this instance's view of each waiting room; computes positions for the
//!   local sockets and fans changes out to them.
//! - [`ws`]: the waiting-room WebSocket (bytes and frames); [`protocol`]: its messages.
//! - [`http`]: public, admin and health routes; [`db`]: events in SQLite / PostgreSQL;
//!   [`events`]: the event model; [`metrics`]: Prometheus text.
//! - [`seats`]: the seat map: layout, bookings in the database, the token-gated live
//!   channel and its fan-out.
//! - [`checkpoint`]: queue numbers reserved and room counters checkpointed in the
//!   database, so a store that loses its data loses no place; [`health`]: panics and
//!   room tasks that are down, for `/healthz`.
//! - [`token`]: Ed25519 entry tokens and the JWKS; [`identity`]: buyer ids, resume
//!   credentials and signed site user ids; [`clock`]: injectable time.

pub mod app;
pub mod checkpoint;
pub mod clock;
pub mod config;
pub mod db;
pub mod engine;
pub mod events;
pub mod health;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod room;
pub mod scheduler;
pub mod seats;
pub mod shutdown;
pub mod token;
pub mod ws;

pub use app::{App, AppState, ShutdownHandle};
pub use config::Settings;
