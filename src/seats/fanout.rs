//! Fan-out of seat changes on this instance: one broadcast channel per event. Changes are
//! gathered for a few milliseconds and sent as one `seats` message, serialized once and
//! shared by every viewer's socket: in a rush, a viewer gets a few frames a second
//! instead of one per hold.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use parking_lot::Mutex;
use tokio::sync::broadcast;

use crate::engine::bus::BusMessage;
use crate::events::EventId;
use usher_protocol::{SeatChange, SeatServerMessage, SeatState};

/// How long changes are gathered before they go out together.
const BATCH: Duration = Duration::from_millis(10);
/// How many messages a viewer may fall behind before it gets a fresh snapshot.
const BACKLOG: usize = 1024;

/// One batch of seat changes: typed, and serialized once for every viewer.
#[derive(Debug)]
pub struct SeatDelta {
    /// (seat, new state), the last change of each seat in the batch.
    pub changes: Vec<(u32, SeatState)>,
    /// The `seats` message, ready to send.
    pub text: Utf8Bytes,
    /// Changes were lost before they reached this hub (the engine bus fell behind): no
    /// message to forward, every viewer needs a fresh snapshot instead.
    pub resync: bool,
}

struct Channel {
    tx: broadcast::Sender<Arc<SeatDelta>>,
    // A parking_lot Mutex (cannot be poisoned): held only to push or take the pending
    // changes, never across an await.
    pending: Mutex<Vec<(u32, SeatState)>>,
    flush_scheduled: AtomicBool,
}

/// Seat changes per event, for this instance's viewers.
#[derive(Default)]
pub struct SeatHub {
    channels: DashMap<EventId, Arc<Channel>>,
}

impl SeatHub {
    /// An empty hub.
    pub fn new() -> Arc<SeatHub> {
        Arc::new(SeatHub::default())
    }

    fn channel(&self, event: EventId) -> Arc<Channel> {
        self.channels
            .entry(event)
            .or_insert_with(|| {
                Arc::new(Channel {
                    tx: broadcast::channel(BACKLOG).0,
                    pending: Mutex::new(Vec::new()),
                    flush_scheduled: AtomicBool::new(false),
                })
            })
            .clone()
    }

    /// Changes of one event from now on.
    pub fn subscribe(&self, event: EventId) -> broadcast::Receiver<Arc<SeatDelta>> {
        self.channel(event).tx.subscribe()
    }

    /// Tells every viewer on this instance to take a fresh snapshot: called when the
    /// engine bus fell behind and seat changes may have been lost.
    pub fn resync_all(&self) {
        for ch in self.channels.iter() {
            if ch.tx.receiver_count() > 0 {
                let _ = ch.tx.send(Arc::new(SeatDelta {
                    changes: Vec::new(),
                    text: Utf8Bytes::from_static(""),
                    resync: true,
                }));
            }
        }
    }

    /// Queues a bus message about seats for this instance's viewers of that event.
    pub fn on_bus(&self, msg: &BusMessage) {
        let BusMessage::Seats { e, c } = msg else {
            return;
        };
        let Some(ch) = self.channels.get(e).map(|c| c.clone()) else {
            return;
        };
        if ch.tx.receiver_count() == 0 {
            return;
        }
        ch.pending.lock().extend_from_slice(c);
        if !ch.flush_scheduled.swap(true, Ordering::AcqRel) {
            tokio::spawn(async move {
                tokio::time::sleep(BATCH).await;
                ch.flush_scheduled.store(false, Ordering::Release);
                let changes = std::mem::take(&mut *ch.pending.lock());
                if !changes.is_empty() {
                    let _ = ch.tx.send(Arc::new(delta(changes)));
                }
            });
        }
    }
}

/// Keeps the last change of each seat, in order, and serializes the message once.
fn delta(changes: Vec<(u32, SeatState)>) -> SeatDelta {
    let mut seen = HashSet::new();
    let mut last: Vec<(u32, SeatState)> = changes
        .into_iter()
        .rev()
        .filter(|(s, _)| seen.insert(*s))
        .collect();
    last.reverse();
    let msg = SeatServerMessage::Seats {
        changes: last
            .iter()
            .map(|(seat, state)| SeatChange {
                seat: *seat,
                state: *state,
            })
            .collect(),
    };
    // A message of numbers and fixed names always serializes; an empty text would only
    // be skipped by the viewers' JSON parsers.
    let text = serde_json::to_string(&msg).unwrap_or_default();
    SeatDelta {
        changes: last,
        text: Utf8Bytes::from(text),
        resync: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_resync_reaches_every_viewer_of_every_event() {
        let hub = SeatHub::new();
        let mut a = hub.subscribe(1);
        let mut b = hub.subscribe(2);
        hub.resync_all();
        assert!(a.recv().await.unwrap().resync);
        assert!(b.recv().await.unwrap().resync);
    }

    #[test]
    fn a_batch_keeps_the_last_change_of_each_seat_in_order() {
        let (free, held, sold) = (SeatState::Free, SeatState::Held, SeatState::Sold);
        let d = delta(vec![(1, held), (2, held), (1, free), (3, sold)]);
        assert_eq!(d.changes, vec![(2, held), (1, free), (3, sold)]);
        assert!(d.text.as_str().starts_with("{\"type\":\"seats\""));
    }
}
