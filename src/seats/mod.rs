//! The seat map: what an admitted buyer came for.
//!
//! - [`socket`]: `GET /ws/events/{id}/seats`, token-gated, one live session per token: a
//!   snapshot, then every change; its refusals are [`refusal::Refusal`].
//! - [`requests`]: `hold`, `release` and `book`: the engine's atomic step plus its record
//!   in the database; a booking whose database answer was lost is resolved, not reported
//!   as failed.
//! - [`best`]: "best available": blocks of adjacent seats nearest the stage, proposed to
//!   the engine, which holds the first still free.
//! - [`fanout`]: seat changes from every instance, batched and serialized once for this
//!   instance's viewers.
//! - [`expiry`]: holds that run out, and the engine kept in line with the database;
//!   [`restore`]: what a store that lost its data gets back (holds, sales, admissions).
//! - [`compact`]: the layout as served over HTTP (rows as runs, gzipped, cached forever).
//! - [`state`]: what the seat map adds to the shared state.
//!
//! Holds are decided by the engine (`crate::engine::seats`); the layout model is
//! `crate::events::layout`, the records `crate::db::seats` and `crate::db::holds`.

pub mod best;
pub mod compact;
pub mod expiry;
pub mod fanout;
pub mod refusal;
pub mod requests;
pub mod restore;
pub mod socket;
pub mod state;

/// Most seats one buyer may hold or buy per event.
pub const MAX_SEATS_PER_BUYER: u32 = 4;
