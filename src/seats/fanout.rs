//! Fan-out of seat changes on this instance: one broadcast channel per performance of an
//! event. Changes are gathered for a few milliseconds and sent as one `seats` message,
//! serialized once and shared by every viewer's socket: in a rush, a viewer gets a few
//! frames a second instead of one per hold. The bus speaks engine seat ids; each channel
//! sends its performance's own ids ([`crate::engine::seats::Inventory`]).

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
    /// The performance's engine seats are `first..first + seats`.
    first: u32,
    seats: u32,
    tx: broadcast::Sender<Arc<SeatDelta>>,
    // A parking_lot Mutex (cannot be poisoned): held only to push or take the pending
    // changes, never across an await.
    pending: Mutex<Vec<(u32, SeatState)>>,
    flush_scheduled: AtomicBool,
}

/// Seat changes per event and performance, for this instance's viewers.
#[derive(Default)]
pub struct SeatHub {
    /// Each event's channels, one per performance watched here.
    channels: DashMap<EventId, Vec<Arc<Channel>>>,
}

impl SeatHub {
    /// An empty hub.
    pub fn new() -> Arc<SeatHub> {
        Arc::new(SeatHub::default())
    }

    fn channel(&self, event: EventId, first: u32, seats: u32) -> Arc<Channel> {
        let mut list = self.channels.entry(event).or_default();
        if let Some(ch) = list.iter().find(|c| c.first == first && c.seats == seats) {
            return ch.clone();
        }
        let ch = Arc::new(Channel {
            first,
            seats,
            tx: broadcast::channel(BACKLOG).0,
            pending: Mutex::new(Vec::new()),
            flush_scheduled: AtomicBool::new(false),
        });
        list.push(ch.clone());
        ch
    }

    /// Changes of one performance of an event from now on (its engine seats are
    /// `first..first + seats`), in the performance's own seat ids.
    pub fn subscribe(
        &self,
        event: EventId,
        first: u32,
        seats: u32,
    ) -> broadcast::Receiver<Arc<SeatDelta>> {
        self.channel(event, first, seats).tx.subscribe()
    }

    /// Tells every viewer on this instance to take a fresh snapshot: called when the
    /// engine bus fell behind and seat changes may have been lost.
    pub fn resync_all(&self) {
        for ch in self.channels.iter().flat_map(|l| l.value().clone()) {
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
        let Some(list) = self.channels.get(e).map(|l| l.value().clone()) else {
            return;
        };
        for ch in list {
            if ch.tx.receiver_count() == 0 {
                continue;
            }
            let mine = c.iter().filter_map(|(seat, st)| {
                let local = seat.checked_sub(ch.first).filter(|s| *s < ch.seats)?;
                Some((local, *st))
            });
            let added = {
                let mut pending = ch.pending.lock();
                let before = pending.len();
                pending.extend(mine);
                pending.len() != before
            };
            if added {
                schedule(ch);
            }
        }
    }
}

/// Sends a channel's pending changes after [`BATCH`], unless a send is on its way.
fn schedule(ch: Arc<Channel>) {
    if ch.flush_scheduled.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async move {
        tokio::time::sleep(BATCH).await;
        ch.flush_scheduled.store(false, Ordering::Release);
        let changes = std::mem::take(&mut *ch.pending.lock());
        if !changes.is_empty() {
            let _ = ch.tx.send(Arc::new(delta(changes)));
        }
    });
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
        let mut a = hub.subscribe(1, 0, 10);
        let mut b = hub.subscribe(2, 0, 10);
        hub.resync_all();
        assert!(a.recv().await.unwrap().resync);
        assert!(b.recv().await.unwrap().resync);
    }

    #[tokio::test]
    async fn each_performance_hears_only_its_seats_in_its_own_ids() {
        let hub = SeatHub::new();
        let mut first = hub.subscribe(1, 0, 10);
        let mut second = hub.subscribe(1, 10, 10);
        let held = SeatState::Held;
        hub.on_bus(&BusMessage::Seats {
            e: 1,
            c: vec![(3, held), (12, held), (25, held)],
        });
        assert_eq!(first.recv().await.unwrap().changes, vec![(3, held)]);
        assert_eq!(second.recv().await.unwrap().changes, vec![(2, held)]);
        assert!(first.try_recv().is_err() && second.try_recv().is_err());
    }

    #[test]
    fn a_batch_keeps_the_last_change_of_each_seat_in_order() {
        let (free, held, sold) = (SeatState::Free, SeatState::Held, SeatState::Sold);
        let d = delta(vec![(1, held), (2, held), (1, free), (3, sold)]);
        assert_eq!(d.changes, vec![(2, held), (1, free), (3, sold)]);
        assert!(d.text.as_str().starts_with("{\"type\":\"seats\""));
    }
}
