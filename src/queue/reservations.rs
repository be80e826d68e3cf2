//! How many queue numbers each event reserves in the database at a time, and one
//! reservation at a time per event on this instance (`super::checkpoint` uses them).

use std::collections::HashMap;
use std::sync::Arc;

use dashmap::DashMap;

use crate::events::EventId;

/// Fewest queue numbers reserved at once.
pub(super) const MIN_BLOCK: u64 = 256;
/// Most queue numbers reserved at once (bounds the numbers skipped after a store loss).
pub(super) const MAX_BLOCK: u64 = 1 << 20;

/// One reservation at a time per event on this instance: a burst of joins that runs out
/// of numbers waits for one database write, not one each.
#[derive(Default)]
pub struct Reservations {
    pub(super) locks: DashMap<EventId, Arc<tokio::sync::Mutex<()>>>,
    /// Last queue number seen by the checkpoint loop, to size the next block.
    pub(super) last_seq: parking_lot::Mutex<HashMap<EventId, u64>>,
    /// Size of each event's next reservation: three seconds of joins as the checkpoint
    /// loop last measured them, doubled each time joins ran out before it came round.
    block: parking_lot::Mutex<HashMap<EventId, u64>>,
}

impl Reservations {
    /// The size of the event's next reservation.
    pub(super) fn block(&self, event: EventId) -> u64 {
        self.block.lock().get(&event).copied().unwrap_or(MIN_BLOCK)
    }

    /// Sets the size of the event's next reservation (within bounds).
    pub(super) fn set_block(&self, event: EventId, block: u64) {
        self.block
            .lock()
            .insert(event, block.clamp(MIN_BLOCK, MAX_BLOCK));
    }
}
