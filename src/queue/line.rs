//! The local line of one room: the buyers connected to this instance in queue order,
//! and the pass that computes and pushes every one's view (`super::room` drives it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::sync::watch;

use super::estimate::Outflow;
use super::view::{AheadCounter, View, ahead_of, pre_view, waiting_view, worth_pushing};
use crate::engine::queue::RoomSnapshot;
use crate::identity::BuyerId;

/// One local buyer: their view channel, how many of their sockets are here, and the
/// lowest `ahead` shown so far.
pub(super) struct Member {
    pub(super) tx: watch::Sender<View>,
    pub(super) sockets: u32,
    /// Lowest `ahead` shown so far: a position never goes up while the buyer is in line.
    pub(super) best_ahead: u64,
}

impl Member {
    pub(super) fn new() -> Member {
        Member {
            tx: watch::channel(View::Pending).0,
            sockets: 0,
            best_ahead: u64::MAX,
        }
    }
}

/// The room's state on this instance: the engine's counters and every local buyer in
/// queue order.
#[derive(Default)]
pub(super) struct Inner {
    pub(super) snap: RoomSnapshot,
    pub(super) departed: BTreeSet<u64>,
    pub(super) departed_version: u64,
    pub(super) waiting: BTreeMap<u64, (BuyerId, Member)>,
    pub(super) pre: HashMap<BuyerId, Member>,
    /// Where each local buyer is: `Some(seq)` in line, `None` in the pre-queue.
    pub(super) index: HashMap<BuyerId, Option<u64>>,
    /// The line's measured outflow, for wait estimates.
    pub(super) outflow: Outflow,
    pub(super) synced: bool,
    /// The last sync failed: the store does not answer.
    pub(super) outage: bool,
    /// The store's epoch when last seen with counters: a new one means it lost its data
    /// and restored them.
    pub(super) epoch: u64,
}

/// Into how many slices the periodic update is spread.
pub(super) const SLICES: u64 = 10;

/// Which members get a view pushed even when nothing changed.
#[derive(Clone, Copy)]
pub(super) enum Force {
    /// Only changed views.
    None,
    /// Also every member whose key falls in this slice (the periodic update).
    Slice(u64),
    /// Every member.
    All,
}

impl Force {
    pub(super) fn covers(self, key: u64) -> bool {
        match self {
            Force::None => false,
            Force::Slice(n) => key % SLICES == n,
            Force::All => true,
        }
    }
}

impl Inner {
    /// Ends a local buyer's time in line with a final view.
    pub(super) fn finish(&mut self, buyer: BuyerId, view: View) {
        let member = match self.index.remove(&buyer) {
            Some(Some(seq)) => self.waiting.remove(&seq).map(|(_, m)| m),
            Some(None) => self.pre.remove(&buyer),
            None => None,
        };
        if let Some(m) = member {
            m.tx.send_replace(view);
        }
    }

    /// The sale has ended: every local buyer, in line or in the pre-queue, is told and
    /// leaves the room.
    pub(super) fn end_all(&mut self) {
        let buyers: Vec<BuyerId> = self.index.keys().copied().collect();
        for buyer in buyers {
            self.finish(buyer, View::Ended);
        }
    }

    pub(super) fn move_to_line(&mut self, buyer: BuyerId, seq: u64) {
        if let Some(None) = self.index.get(&buyer)
            && let Some(m) = self.pre.remove(&buyer)
        {
            self.waiting.insert(seq, (buyer, m));
            self.index.insert(buyer, Some(seq));
        }
    }

    /// Admission rate for estimates: the line's smoothed outflow while it moves (see
    /// [`Outflow`]), else the configured one. None while paused or sold out, and while
    /// full before anything was measured (nobody gets in until a slot frees).
    pub(super) fn rate(&self) -> Option<f64> {
        let snap = &self.snap;
        if snap.paused || snap.sold_out {
            return None;
        }
        if snap.active >= snap.max_active && self.outflow.measured().is_none() {
            return None;
        }
        self.outflow.rate(snap.rate)
    }

    /// Recomputes every local buyer's view in one pass in queue order; `force` picks who
    /// gets an update even when nothing changed (the periodic update).
    pub(super) fn recompute(&mut self, force: Force) {
        if self.snap.ended {
            self.end_all();
            return;
        }
        let head = self.snap.head;
        let rate = self.rate();
        let outage = self.outage;
        let mut counter = AheadCounter::new(head, &self.departed, self.snap.gap);
        for (&seq, (_, m)) in self.waiting.iter_mut() {
            let ahead = counter.ahead(seq);
            let view = if outage {
                m.best_ahead = m.best_ahead.min(ahead);
                View::Unavailable {
                    ahead: Some(m.best_ahead),
                }
            } else {
                waiting_view(&self.snap, rate, &mut m.best_ahead, seq, ahead)
            };
            push(&m.tx, view, force.covers(seq));
        }
        for (buyer, m) in self.pre.iter() {
            let view = if outage {
                View::Unavailable { ahead: None }
            } else {
                pre_view(&self.snap)
            };
            push(&m.tx, view, force.covers(u64::from(buyer.0[0])));
        }
    }

    /// The view of one buyer who just attached (the departed count is a range count).
    pub(super) fn show_one(&mut self, buyer: BuyerId) {
        if self.snap.ended {
            self.finish(buyer, View::Ended);
            return;
        }
        let rate = self.rate();
        let head = self.snap.head;
        match self.index.get(&buyer).copied() {
            Some(Some(seq)) => {
                let ahead = ahead_of(seq, head, &self.departed, self.snap.gap);
                if let Some((_, m)) = self.waiting.get_mut(&seq) {
                    let view = waiting_view(&self.snap, rate, &mut m.best_ahead, seq, ahead);
                    m.tx.send_replace(view);
                }
            }
            Some(None) => {
                if let Some(m) = self.pre.get(&buyer) {
                    m.tx.send_replace(pre_view(&self.snap));
                }
            }
            None => {}
        }
    }
}

pub(super) fn push(tx: &watch::Sender<View>, view: View, force: bool) {
    if force {
        tx.send_replace(view);
    } else {
        tx.send_if_modified(|v| {
            let changed = worth_pushing(v, &view);
            *v = view;
            changed
        });
    }
}
