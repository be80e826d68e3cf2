//! The in-memory engine: one process, no setup. Same behaviour as the Redis engine
//! (checked by the shared conformance suite), but its state dies with the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use rand::{SeedableRng, seq::SliceRandom};
use tokio::sync::broadcast;

use super::{
    Admission, BURST_SECONDS, BusMessage, EngineResult, Joined, MAX_BATCH, Place, QueueEngine,
    RoomSnapshot, TickReport, jti_for,
};
use crate::events::{EventId, RoomConfig};
use crate::identity::BuyerId;

mod seats;

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
    cfg: Option<RoomConfig>,
    opened: bool,
    head: u64,
    seq: u64,
    queue: BTreeMap<u64, BuyerId>,
    pre: Vec<BuyerId>,
    state: HashMap<BuyerId, State>,
    seen: HashMap<BuyerId, i64>,
    active: HashMap<BuyerId, i64>,
    departed: BTreeSet<u64>,
    tokens: f64,
    last_ms: Option<i64>,
    admitted_total: u64,
    departed_version: u64,
    sold_out: bool,
    seats: seats::SeatRoom,
}

impl Room {
    fn open_if_due(
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
    fn depart(&mut self, buyer: BuyerId, new_state: State) -> Option<u64> {
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

    fn is_stale(&self, buyer: &BuyerId, now_ms: i64) -> bool {
        let grace = self.cfg.map_or(0, |c| c.grace_ms);
        self.seen
            .get(buyer)
            .is_none_or(|seen| now_ms - seen > grace)
    }
}

/// The in-memory engine.
pub struct MemoryEngine {
    // A std Mutex: no `.await` happens while it is held, and every operation is short.
    rooms: Mutex<HashMap<EventId, Room>>,
    bus: broadcast::Sender<BusMessage>,
}

impl Default for MemoryEngine {
    fn default() -> Self {
        MemoryEngine {
            rooms: Mutex::new(HashMap::new()),
            bus: broadcast::channel(4096).0,
        }
    }
}

impl MemoryEngine {
    fn with_room<T>(&self, event: EventId, f: impl FnOnce(&mut Room) -> T) -> T {
        let mut rooms = self.rooms.lock().expect("memory engine lock");
        f(rooms.entry(event).or_default())
    }
}

#[async_trait]
impl QueueEngine for MemoryEngine {
    async fn configure(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()> {
        self.with_room(event, |r| r.cfg = Some(*cfg));
        Ok(())
    }

    async fn ensure_configured(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()> {
        self.with_room(event, |r| {
            r.cfg.get_or_insert(*cfg);
        });
        Ok(())
    }

    async fn join(
        &self,
        event: EventId,
        buyer: BuyerId,
        now_ms: i64,
        seed: u64,
    ) -> EngineResult<Joined> {
        Ok(self.with_room(event, |r| {
            match r.state.get(&buyer).cloned() {
                Some(State::Revoked) => {
                    return Joined {
                        place: Place::Revoked,
                        resumed: true,
                    };
                }
                Some(State::Admitted(a)) if a.exp_ms > now_ms => {
                    return Joined {
                        place: Place::Admitted(a),
                        resumed: true,
                    };
                }
                Some(State::Admitted(_)) => {
                    r.active.remove(&buyer);
                }
                Some(State::Pre) => {
                    r.seen.insert(buyer, now_ms);
                    return Joined {
                        place: Place::Pre,
                        resumed: true,
                    };
                }
                Some(State::Waiting(seq)) => {
                    r.seen.insert(buyer, now_ms);
                    return Joined {
                        place: Place::Waiting { seq },
                        resumed: true,
                    };
                }
                Some(State::Gone) | None => {}
            }
            r.seen.insert(buyer, now_ms);
            if !r.open_if_due(event, now_ms, seed, &self.bus) {
                r.pre.push(buyer);
                r.state.insert(buyer, State::Pre);
                return Joined {
                    place: Place::Pre,
                    resumed: false,
                };
            }
            r.seq += 1;
            let seq = r.seq;
            r.queue.insert(seq, buyer);
            r.state.insert(buyer, State::Waiting(seq));
            Joined {
                place: Place::Waiting { seq },
                resumed: false,
            }
        }))
    }

    async fn touch(&self, event: EventId, buyers: &[BuyerId], now_ms: i64) -> EngineResult<()> {
        self.with_room(event, |r| {
            for b in buyers {
                if let Some(seen) = r.seen.get_mut(b) {
                    *seen = now_ms;
                }
            }
        });
        Ok(())
    }

    async fn leave(&self, event: EventId, buyer: BuyerId) -> EngineResult<()> {
        let left = self.with_room(event, |r| match r.state.get(&buyer) {
            Some(State::Waiting(_) | State::Pre) => Some(r.depart(buyer, State::Gone)),
            _ => None,
        });
        if let Some(seq) = left {
            let _ = self.bus.send(BusMessage::Departed {
                e: event,
                d: seq.into_iter().collect(),
                b: Some(buyer.to_string()),
            });
        }
        Ok(())
    }

    async fn tick(&self, event: EventId, now_ms: i64, seed: u64) -> EngineResult<TickReport> {
        let report = self.with_room(event, |r| {
            let mut report = TickReport::default();
            let Some(cfg) = r.cfg else { return report };
            if !r.open_if_due(event, now_ms, seed, &self.bus) {
                return report;
            }
            // Drop buyers gone past their grace period.
            let stale: Vec<BuyerId> = r
                .seen
                .iter()
                .filter(|(_, seen)| now_ms - **seen > cfg.grace_ms)
                .map(|(b, _)| *b)
                .collect();
            for b in stale {
                if let Some(seq) = r.depart(b, State::Gone) {
                    report.dropped.push(seq);
                }
            }
            // End expired sessions.
            let expired: Vec<BuyerId> = r
                .active
                .iter()
                .filter(|(_, exp)| **exp <= now_ms)
                .map(|(b, _)| *b)
                .collect();
            for b in expired {
                r.active.remove(&b);
                r.state.insert(b, State::Gone);
                report.expired += 1;
            }
            // Refill the token bucket, then admit in queue order.
            let burst = (cfg.rate * BURST_SECONDS).max(1.0);
            let elapsed = r.last_ms.map_or(0, |last| (now_ms - last).max(0));
            r.tokens = if r.last_ms.is_none() {
                burst
            } else {
                (r.tokens + elapsed as f64 / 1000.0 * cfg.rate).min(burst)
            };
            r.last_ms = Some(now_ms);
            if cfg.paused || r.sold_out {
                return report;
            }
            let room_left = (cfg.max_active - r.active.len() as i64).max(0) as u64;
            let mut n = (r.tokens.floor() as u64).min(room_left).min(MAX_BATCH);
            while n > 0 {
                let Some((&seq, &buyer)) = r.queue.iter().next() else {
                    break;
                };
                if r.is_stale(&buyer, now_ms) {
                    r.depart(buyer, State::Gone);
                    report.dropped.push(seq);
                    continue;
                }
                r.queue.remove(&seq);
                r.seen.remove(&buyer);
                let a = Admission {
                    buyer: buyer.to_string(),
                    seq,
                    jti: jti_for(event, seq, seed),
                    exp_ms: now_ms + cfg.session_ms,
                };
                r.active.insert(buyer, a.exp_ms);
                r.state.insert(buyer, State::Admitted(a.clone()));
                r.head = seq;
                r.admitted_total += 1;
                r.tokens -= 1.0;
                report.admitted.push(a);
                n -= 1;
            }
            let head = r.head;
            r.departed = r.departed.split_off(&(head + 1));
            report
        });
        if !report.admitted.is_empty() || !report.dropped.is_empty() {
            let head = self.with_room(event, |r| r.head);
            let _ = self.bus.send(BusMessage::Admitted {
                e: event,
                h: head,
                a: report.admitted.clone(),
                d: report.dropped.clone(),
            });
        }
        Ok(report)
    }

    async fn snapshot(&self, event: EventId, now_ms: i64) -> EngineResult<RoomSnapshot> {
        Ok(self.with_room(event, |r| {
            let cfg = r.cfg.unwrap_or(RoomConfig {
                rate: 0.0,
                max_active: 0,
                session_ms: 0,
                grace_ms: 0,
                opens_at_ms: 0,
                paused: false,
            });
            RoomSnapshot {
                opened: r.opened,
                head: r.head,
                waiting: r.queue.len() as u64,
                pre: r.pre.len() as u64,
                active: r.active.values().filter(|exp| **exp > now_ms).count() as u64,
                admitted_total: r.admitted_total,
                departed_version: r.departed_version,
                paused: cfg.paused,
                sold_out: r.sold_out,
                rate: cfg.rate,
                max_active: cfg.max_active as u64,
                opens_at_ms: cfg.opens_at_ms,
            }
        }))
    }

    async fn departed_above(&self, event: EventId, head: u64) -> EngineResult<Vec<u64>> {
        Ok(self.with_room(event, |r| r.departed.range(head + 1..).copied().collect()))
    }

    async fn places(
        &self,
        event: EventId,
        buyers: &[BuyerId],
        now_ms: i64,
    ) -> EngineResult<Vec<Option<Place>>> {
        Ok(self.with_room(event, |r| {
            buyers
                .iter()
                .map(|b| match r.state.get(b)? {
                    State::Pre => Some(Place::Pre),
                    State::Waiting(seq) => Some(Place::Waiting { seq: *seq }),
                    State::Admitted(a) if a.exp_ms > now_ms => Some(Place::Admitted(a.clone())),
                    State::Revoked => Some(Place::Revoked),
                    _ => None,
                })
                .collect()
        }))
    }

    async fn revoke(&self, event: EventId, buyer: BuyerId) -> EngineResult<bool> {
        // An unknown buyer is banned all the same (revoked before joining).
        let (known, seq) = self.with_room(event, |r| {
            let known = r.state.contains_key(&buyer);
            (known, r.depart(buyer, State::Revoked))
        });
        if let Some(seq) = seq {
            let _ = self.bus.send(BusMessage::Departed {
                e: event,
                d: vec![seq],
                b: None,
            });
        }
        self.release_all(event, buyer);
        let _ = self.bus.send(BusMessage::Revoked {
            e: event,
            b: buyer.to_string(),
        });
        Ok(known)
    }

    async fn finish(&self, event: EventId, buyer: BuyerId) -> EngineResult<()> {
        self.with_room(event, |r| {
            if matches!(r.state.get(&buyer), Some(State::Admitted(_))) {
                r.active.remove(&buyer);
                r.state.insert(buyer, State::Gone);
            }
        });
        Ok(())
    }

    async fn publish(&self, msg: &BusMessage) -> EngineResult<()> {
        let _ = self.bus.send(msg.clone());
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.bus.subscribe()
    }

    async fn ping(&self) -> bool {
        true
    }
}
