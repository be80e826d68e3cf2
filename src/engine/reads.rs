//! Every seat's state, read once for many askers.
//!
//! Reading every seat's state costs O(held + sold) in the engine: on Redis an HGETALL of
//! up to 100,000 fields. Each snapshot needs one, and so does each `GET /api/events/{id}`,
//! which anyone may ask for as often as they like: without this, a stranger looping on
//! that URL would make Redis send a whole stadium's states on every request. Askers of
//! one event take turns; one who finds a read already made that is fresh enough for them
//! takes it instead of reading again. So a rush of N askers costs at most two reads, and
//! counts shown to the public cost at most one read per event per `max_age` per process.
//!
//! Fresh enough means either read after the asker asked (what a snapshot needs: it has
//! subscribed to changes first, so no change falls between the two), or, for figures
//! that may lag a little (counts on a page, metrics), not older than `max_age`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::queue::EngineResult;
use super::seats::{SeatEngine, SeatStates};
use crate::events::EventId;

/// How old seat counts shown to the public (event pages, metrics) may be.
pub const PUBLIC_MAX_AGE: Duration = Duration::from_secs(1);

/// The last read of each event's seat states, shared by everyone who asks.
#[derive(Default)]
pub struct StateReads {
    slots: DashMap<EventId, Arc<tokio::sync::Mutex<Option<Read>>>>,
}

struct Read {
    started: Instant,
    states: Arc<SeatStates>,
}

impl StateReads {
    /// The event's seat states as read after this call began.
    pub async fn fresh(
        &self,
        seats: &dyn SeatEngine,
        event: EventId,
    ) -> EngineResult<Arc<SeatStates>> {
        self.read(seats, event, None).await
    }

    /// The event's seat states, read at most `max_age` ago.
    pub async fn recent(
        &self,
        seats: &dyn SeatEngine,
        event: EventId,
        max_age: Duration,
    ) -> EngineResult<Arc<SeatStates>> {
        self.read(seats, event, Some(max_age)).await
    }

    async fn read(
        &self,
        seats: &dyn SeatEngine,
        event: EventId,
        max_age: Option<Duration>,
    ) -> EngineResult<Arc<SeatStates>> {
        let asked = Instant::now();
        // The map's guard is dropped before waiting: only the slot's lock is held across
        // the engine's answer (a tokio mutex: it cannot be poisoned).
        let slot = self.slots.entry(event).or_default().clone();
        let mut last = slot.lock().await;
        if let Some(read) = last.as_ref() {
            let after_asking = read.started >= asked;
            let young = max_age.is_some_and(|age| read.started.elapsed() <= age);
            if after_asking || young {
                return Ok(read.states.clone());
            }
        }
        let started = Instant::now();
        let states = Arc::new(seats.seat_states(event).await?);
        *last = Some(Read {
            started,
            states: states.clone(),
        });
        Ok(states)
    }

    /// Forgets an event's last read (the event was deleted).
    pub fn forget(&self, event: EventId) {
        self.slots.remove(&event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::seats::Inventory;
    use crate::identity::BuyerId;

    #[tokio::test]
    async fn a_fresh_read_sees_a_hold_made_just_before_and_a_recent_one_may_not() {
        let engine = MemoryEngine::default();
        let seats: &dyn SeatEngine = &engine;
        seats.init_seats(1, Inventory::single(10)).await.unwrap();
        let reads = StateReads::default();
        assert!(reads.fresh(seats, 1).await.unwrap().held.is_empty());
        let hold = seats
            .hold(1, BuyerId::random(), &[3], 0, 60_000, 4)
            .await
            .unwrap();
        assert!(hold.is_ok());
        // Within max_age the last read is given again: the public counts may lag.
        let recent = reads
            .recent(seats, 1, Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(recent.held.is_empty());
        // A fresh read is made after asking: a snapshot never misses a change.
        let fresh = reads.fresh(seats, 1).await.unwrap();
        assert_eq!(fresh.held.iter().map(|h| h.0).collect::<Vec<_>>(), vec![3]);
        // With no age allowed, a recent read reads again too.
        let again = seats
            .hold(1, BuyerId::random(), &[5], 0, 60_000, 4)
            .await
            .unwrap();
        assert!(again.is_ok());
        assert_eq!(
            reads
                .recent(seats, 1, Duration::ZERO)
                .await
                .unwrap()
                .held
                .len(),
            2
        );
    }
}
