//! Every waiting room of this instance: started on first use, each a supervised task,
//! and the bus messages of every instance routed to the room they are about.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::watch;

use super::room::{Room, RoomContext};
use crate::clock::Clock;
use crate::engine::bus::{Bus, BusMessage};
use crate::engine::queue::QueueEngine;
use crate::events::EventId;
use crate::telemetry::health::Tasks;

/// Every room on this instance.
pub struct Hub {
    ctx: Arc<RoomContext>,
    rooms: DashMap<EventId, Arc<Room>>,
    tasks: Arc<Tasks>,
}

impl Hub {
    /// A hub with no rooms yet; its room tasks end when `shutdown` turns true.
    pub fn new(
        engine: Arc<dyn QueueEngine>,
        bus: Arc<dyn Bus>,
        clock: Clock,
        update_interval: Duration,
        heartbeat: Duration,
        shutdown: watch::Receiver<bool>,
        tasks: Arc<Tasks>,
    ) -> Arc<Hub> {
        let ctx = RoomContext {
            engine,
            bus,
            clock,
            update_interval,
            heartbeat,
            shutdown,
        };
        Arc::new(Hub {
            ctx: Arc::new(ctx),
            rooms: DashMap::new(),
            tasks,
        })
    }

    /// What the rooms run with (a socket attaching to a room passes it along).
    pub fn context(&self) -> &RoomContext {
        &self.ctx
    }

    /// The room of an event, started on first use.
    pub fn room(self: &Arc<Self>, event: EventId) -> Arc<Room> {
        if let Some(r) = self.rooms.get(&event) {
            return r.clone();
        }
        let entry = self.rooms.entry(event).or_insert_with(|| {
            let room = Arc::new(Room::new(event));
            // A bug in one room must not leave its buyers frozen: a failed room task is
            // restarted (and shows in `/healthz` meanwhile); whatever the failed pass
            // left half done, the restart's first sync redoes.
            let (ctx, r) = (self.ctx.clone(), room.clone());
            self.tasks.supervise(format!("room {event}"), move || {
                r.unsync();
                r.clone().run(ctx.clone())
            });
            room
        });
        entry.clone()
    }

    /// The store lost its data and restored its counters: put this instance's buyers of
    /// the event back at their numbers now, and resync the room before it shows anyone a
    /// position.
    pub async fn store_restored(&self, event: EventId) {
        let Some(room) = self.rooms.get(&event).map(|r| r.clone()) else {
            return;
        };
        room.unsync();
        room.heartbeat(&self.ctx).await;
        room.resync();
    }

    /// Routes a bus message to its room, if this instance has it.
    pub fn on_bus(&self, msg: &BusMessage) {
        if let Some(room) = self.rooms.get(&msg.event()) {
            room.on_bus(msg);
        }
    }

    /// Marks every room for a full resync (after missed bus messages).
    pub fn resync_all(&self) {
        for r in self.rooms.iter() {
            r.resync();
        }
    }
}
