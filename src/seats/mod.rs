//! The seat map: what an admitted buyer came for. Layout ([`layout`]), storage
//! ([`store`]), the live fan-out of seat changes ([`hub`]) and the token-gated channel
//! ([`channel`]) with its messages ([`protocol`]). Holds and expiry are decided by the
//! engine (`crate::engine::seats`); each hold is also recorded in the database
//! ([`holds`]) so that a store that loses its data gets it back ([`restore`]). A booking
//! whose database answer was lost is resolved, not reported as failed ([`actions`]).

pub mod actions;
pub mod channel;
pub mod holds;
pub mod hub;
pub mod layout;
pub mod protocol;
pub mod restore;
pub mod store;

/// Most seats one buyer may hold or buy per event.
pub const MAX_SEATS_PER_BUYER: u32 = 4;
