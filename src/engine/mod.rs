//! Engines: where the state several instances share lives, and where every decision that
//! must be atomic across them is taken (a place in line, an admission step, a hold).
//!
//! Three contracts, each one trait: [`queue::QueueEngine`] (the waiting room),
//! [`seats::SeatEngine`] (holds, bookings in progress, seat-map sessions) and [`bus::Bus`]
//! (every instance hears of every change). Two implementations provide all three on one
//! object: `memory` (one process, the zero-setup demo) and `redis` (Lua scripts, one event's
//! keys in one hash slot, so several instances behave as one). [`connect`] picks one from
//! the settings and hands out the three handles. The same conformance suite
//! (tests/conformance/) runs against both.

pub mod bus;
pub mod memory;
pub mod persistence;
pub mod queue;
pub mod reads;
pub mod redis;
pub mod seats;

use std::sync::Arc;

pub use bus::{Bus, BusMessage};
pub use queue::{
    Admission, BURST_SECONDS, Counters, EngineResult, JoinRefusal, Joined, MAX_BATCH,
    OUTAGE_GAP_MS, Place, Presence, QueueEngine, RoomSnapshot, SWEEP_LIMIT, TickReport, jti_for,
    presence_lease_ms,
};

use crate::config::{EngineKind, Settings};

/// One engine, as the three handles the rest of the server holds.
#[derive(Clone)]
pub struct Engines {
    /// The waiting room.
    pub queue: Arc<dyn QueueEngine>,
    /// The seats.
    pub seats: Arc<dyn SeatEngine>,
    /// The bus between instances.
    pub bus: Arc<dyn Bus>,
}

pub use seats::SeatEngine;

impl Engines {
    /// The three handles of one engine object.
    pub fn of<E: QueueEngine + SeatEngine + Bus>(engine: E) -> Engines {
        let e = Arc::new(engine);
        Engines {
            queue: e.clone(),
            seats: e.clone(),
            bus: e,
        }
    }
}

/// Builds the engine the settings name (memory, or Redis at `redis_url` or on the cluster
/// of `redis_cluster_urls`, under `redis_prefix`), with the presence lease that follows
/// from `heartbeat_ms`.
pub async fn connect(settings: &Settings) -> anyhow::Result<Engines> {
    let lease = presence_lease_ms(settings.heartbeat_ms);
    Ok(match settings.engine_kind()? {
        EngineKind::Memory => Engines::of(memory::MemoryEngine::default().with_lease(lease)),
        EngineKind::Redis => {
            let prefix = &settings.redis_prefix;
            let seeds = settings.redis_cluster_nodes();
            let e = if seeds.is_empty() {
                redis::RedisEngine::connect(&settings.redis_url, prefix).await?
            } else {
                redis::RedisEngine::connect_cluster(&seeds, prefix).await?
            };
            Engines::of(e.with_lease(lease))
        }
    })
}
