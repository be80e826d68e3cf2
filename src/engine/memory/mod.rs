//! The in-memory engine: one process, no setup. Same behaviour as the Redis engine
//! (checked by the shared conformance suite), but its state dies with the process.

use std::collections::HashMap;

use parking_lot::Mutex;

use async_trait::async_trait;
use tokio::sync::broadcast;

use crate::engine::bus::{Bus, BusMessage};
use crate::engine::queue::EngineResult;
use crate::events::EventId;

mod queue;
mod room;
mod seats;

use room::Room;

/// The in-memory engine.
pub struct MemoryEngine {
    // A parking_lot Mutex: it cannot be poisoned, no `.await` happens while it is held,
    // and every operation is short.
    rooms: Mutex<HashMap<EventId, Room>>,
    bus: broadcast::Sender<BusMessage>,
    lease_ms: i64,
}

impl Default for MemoryEngine {
    fn default() -> Self {
        MemoryEngine {
            rooms: Mutex::new(HashMap::new()),
            bus: broadcast::channel(4096).0,
            lease_ms: crate::engine::queue::presence_lease_ms(5_000),
        }
    }
}

impl MemoryEngine {
    /// Sets how long a connected buyer's presence lasts beyond the grace period without a
    /// heartbeat (see [`super::presence_lease_ms`]).
    pub fn with_lease(mut self, lease_ms: i64) -> MemoryEngine {
        self.lease_ms = lease_ms;
        self
    }

    fn with_room<T>(&self, event: EventId, f: impl FnOnce(&mut Room) -> T) -> T {
        let mut rooms = self.rooms.lock();
        f(rooms.entry(event).or_default())
    }
}

#[async_trait]
impl Bus for MemoryEngine {
    async fn publish(&self, msg: &BusMessage) -> EngineResult<()> {
        let _ = self.bus.send(msg.clone());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.bus.subscribe()
    }
}
