//! Fan-out of seat changes on this instance: one broadcast channel per event; each change
//! is serialized once and shared by every viewer's socket.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use tokio::sync::broadcast;

use super::protocol::{SeatChange, SeatServerMessage, SeatState};
use crate::engine::BusMessage;
use crate::events::EventId;

/// One batch of seat changes: typed, and serialized once for every viewer.
#[derive(Debug)]
pub struct SeatDelta {
    /// (seat, 'f' | 'h' | 's').
    pub changes: Vec<(u32, char)>,
    /// The `seats` message, ready to send.
    pub text: Utf8Bytes,
}

/// Seat changes per event, for this instance's viewers.
#[derive(Default)]
pub struct SeatHub {
    channels: DashMap<EventId, broadcast::Sender<Arc<SeatDelta>>>,
}

/// How many change messages a viewer may fall behind before it gets a fresh snapshot.
const BACKLOG: usize = 1024;

impl SeatHub {
    /// An empty hub.
    pub fn new() -> Arc<SeatHub> {
        Arc::new(SeatHub::default())
    }

    /// Changes of one event from now on.
    pub fn subscribe(&self, event: EventId) -> broadcast::Receiver<Arc<SeatDelta>> {
        self.channels
            .entry(event)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }

    /// Forwards a bus message about seats to this instance's viewers of that event.
    pub fn on_bus(&self, msg: &BusMessage) {
        let BusMessage::Seats { e, c } = msg else {
            return;
        };
        let Some(tx) = self.channels.get(e) else {
            return;
        };
        if tx.receiver_count() == 0 {
            return;
        }
        let changes = c
            .iter()
            .map(|(seat, st)| SeatChange {
                seat: *seat,
                state: match st {
                    'h' => SeatState::Held,
                    's' => SeatState::Sold,
                    _ => SeatState::Free,
                },
            })
            .collect();
        let text =
            serde_json::to_string(&SeatServerMessage::Seats { changes }).expect("serializes");
        let _ = tx.send(Arc::new(SeatDelta {
            changes: c.clone(),
            text: Utf8Bytes::from(text),
        }));
    }
}
