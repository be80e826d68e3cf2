//! The waiting room: buyers in line, their live positions, and admission.
//!
//! - [`socket`]: `GET /ws/events/{id}/queue`: reads `join`, pushes views; its refusals are
//!   [`refusal::Refusal`].
//! - [`room`]: one event's room on this instance, synced with the engine (its task, the
//!   bus messages, presence heartbeats); [`line`]: its local buyers in queue order and the
//!   one pass that computes and pushes their views; [`view`]: what a buyer sees (pure
//!   functions); [`hub`]: every room of the instance, and the bus routed to them.
//! - [`checkpoint`]: queue numbers reserved in the database and room counters checkpointed
//!   there, so a store that loses its data loses no place ([`reservations`] sizes them).
//! - [`admission`]: the admission and checkpoint loops every instance runs.
//! - [`state`]: what the waiting room adds to the shared state.

pub mod admission;
pub mod checkpoint;
pub mod estimate;
pub mod hub;
pub mod line;
pub mod refusal;
pub mod reservations;
pub mod room;
pub mod socket;
pub mod state;
pub mod view;
