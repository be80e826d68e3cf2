//! One event's state in the memory engine: its line and its seats.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rand::{SeedableRng, seq::SliceRandom};
use tokio::sync::broadcast;

use crate::engine::bus::BusMessage;
use crate::engine::queue::Admission;
use crate::engine::seats::Inventory;
use crate::events::{EventId, RoomConfig};
use crate::identity::BuyerId;

/// A buyer's state in one event.
#[derive(Debug, Clone)]
pub(super) enum State {
    Pre,
    Waiting(u64),
    Admitted(Admission),
    /// Session over, dropped, left or bought: a new join starts at the back.
    Gone,
    Revoked,
}

#[derive(Default)]
pub(super) struct Room {
    pub(super) cfg: Option<RoomConfig>,
    pub(super) opened: bool,
    pub(super) head: u64,
    pub(super) seq: u64,
    /// Queue numbers up to this one may be handed out (reserved in the database).
    pub(super) seq_limit: Option<u64>,
    pub(super) salt: u32,
    pub(super) epoch: u64,
    pub(super) nodrop_until: i64,
    /// Restored after a loss: the next step starts a pause of one lease.
    pub(super) restored: bool,
    /// No admission before this time (after a restore).
    pub(super) admit_after: i64,
    /// Numbers reserved before a loss and maybe never handed out.
    pub(super) gap: (u64, u64),
    pub(super) queue: BTreeMap<u64, BuyerId>,
    pub(super) pre: Vec<BuyerId>,
    pub(super) state: HashMap<BuyerId, State>,
    /// Until when each waiting or pre-queue buyer keeps their place.
    pub(super) seen: HashMap<BuyerId, i64>,
    pub(super) active: HashMap<BuyerId, i64>,
    pub(super) departed: BTreeSet<u64>,
    pub(super) tokens: f64,
    pub(super) last_ms: Option<i64>,
    pub(super) admitted_total: u64,
    pub(super) departed_version: u64,
    pub(super) sold_out: bool,
    pub(super) seats: SeatRoom,
}

impl Room {
    pub(super) fn open_if_due(
        &mut self,
        event: EventId,
        now_ms: i64,
        seed: u64,
        bus: &broadcast::Sender<BusMessage>,
    ) -> bool {
        if self.opened {
            return true;
        }
        let opens = self.cfg.map_or(0, |c| c.opens_at_ms);
        if now_ms < opens {
            return false;
        }
        // Every number must be reserved in the database first.
        if self.seq + self.pre.len() as u64 > self.seq_limit.unwrap_or(0) {
            return false;
        }
        let mut pre = std::mem::take(&mut self.pre);
        pre.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        for buyer in pre {
            self.seq += 1;
            self.queue.insert(self.seq, buyer);
            self.state.insert(buyer, State::Waiting(self.seq));
        }
        self.opened = true;
        let _ = bus.send(BusMessage::Opened { e: event });
        true
    }

    /// Takes a waiting or pre-queue buyer out of the line; returns their queue number.
    pub(super) fn depart(&mut self, buyer: BuyerId, new_state: State) -> Option<u64> {
        self.seen.remove(&buyer);
        match self.state.insert(buyer, new_state) {
            Some(State::Waiting(seq)) => {
                self.queue.remove(&seq);
                self.departed.insert(seq);
                self.departed_version += 1;
                Some(seq)
            }
            Some(State::Pre) => {
                self.pre.retain(|b| *b != buyer);
                None
            }
            Some(State::Admitted(_)) => {
                self.active.remove(&buyer);
                None
            }
            _ => None,
        }
    }

    /// A buyer put back at `seq` after a loss proves every number up to it was handed
    /// out: the skipped range starts above it.
    pub(super) fn handed_out(&mut self, seq: u64) {
        if seq > self.gap.0 && seq <= self.gap.1 {
            self.gap.0 = seq;
        }
    }

    pub(super) fn is_stale(&self, buyer: &BuyerId, now_ms: i64) -> bool {
        self.seen.get(buyer).is_none_or(|until| *until < now_ms)
    }

    /// Until when a buyer keeps their place: the grace period, plus the lease while
    /// connected.
    pub(super) fn keep_until(&self, now_ms: i64, lease_ms: i64) -> i64 {
        now_ms + self.cfg.map_or(0, |c| c.grace_ms) + lease_ms
    }
}

/// One seat that is not free.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seat {
    Held {
        by: BuyerId,
        exp: i64,
    },
    Booking {
        by: BuyerId,
        exp: i64,
        deadline: i64,
    },
    /// Sold (to this buyer, when known).
    Sold {
        by: Option<BuyerId>,
    },
}

/// The seats of one event.
#[derive(Default)]
pub(super) struct SeatRoom {
    pub(super) inv: Option<Inventory>,
    pub(super) seats: HashMap<u32, Seat>,
    pub(super) held_by: HashMap<BuyerId, Vec<u32>>,
    /// Seats sold per buyer and performance.
    pub(super) sold_to: HashMap<(BuyerId, u32), u32>,
    pub(super) free: i64,
    pub(super) nsold: u64,
    pub(super) sessions: HashMap<String, (String, i64)>,
}

impl SeatRoom {
    /// The performance of a seat (0 before the seats are known).
    pub(super) fn performance_of(&self, seat: u32) -> u32 {
        self.inv.map_or(0, |i| i.performance_of(seat))
    }

    /// Counts `n` more seats sold to `by` in the seat's performance.
    pub(super) fn add_sold(&mut self, by: BuyerId, seat: u32, n: u32) {
        let key = (by, self.performance_of(seat));
        *self.sold_to.entry(key).or_default() += n;
    }

    pub(super) fn unhold(&mut self, by: BuyerId, seat: u32) {
        if let Some(list) = self.held_by.get_mut(&by) {
            list.retain(|s| *s != seat);
            if list.is_empty() {
                self.held_by.remove(&by);
            }
        }
    }
}

/// Changes the free count and flips `sold_out`; returns true when it flipped.
pub(super) fn add_free(r: &mut Room, delta: i64) -> bool {
    r.seats.free += delta;
    let sold_out = r.seats.free <= 0 && r.seats.inv.map_or(0, |i| i.total()) > 0;
    let flipped = sold_out != r.sold_out;
    r.sold_out = sold_out;
    flipped
}
