//! The seat map: what an admitted buyer came for. Layout ([`layout`]), its compact wire
//! forms ([`compact`]: the layout over HTTP, states 2 bits a seat), storage ([`store`]),
//! the live fan-out of seat changes ([`hub`]) and the token-gated channel ([`channel`])
//! with its messages ([`protocol`]). Holds and expiry are decided by the
//! engine (`crate::engine::seats`).

pub mod channel;
pub mod compact;
pub mod hub;
pub mod layout;
pub mod store;

/// Most seats one buyer may hold or buy per event.
pub const MAX_SEATS_PER_BUYER: u32 = 4;

// What the seat requests do and what keeps them true through faults: each hold is also
// recorded in the database ([`holds`]) so that a store that loses its data gets it back
// ([`restore`]), and a booking whose database answer was lost is resolved, not reported
// as failed ([`actions`]).
pub mod actions;
pub mod holds;
pub mod restore;
