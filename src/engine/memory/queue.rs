//! The queue half of the memory engine: every operation one short section under the
//! engine's lock, so it is atomic like the Redis scripts.

use async_trait::async_trait;

use super::MemoryEngine;
use super::room::State;
use crate::engine::bus::BusMessage;
use crate::engine::queue::{
    Admission, BURST_SECONDS, Counters, EngineResult, JoinRefusal, Joined, MAX_BATCH,
    OUTAGE_GAP_MS, Place, Presence, QueueEngine, RoomSnapshot, TickReport, jti_for,
};
use crate::events::{EventId, RoomConfig};
use crate::identity::BuyerId;

#[async_trait]
impl QueueEngine for MemoryEngine {
    async fn configure(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()> {
        self.with_room(event, |r| {
            // An ended sale stays ended: a stale configure (a patch that raced the end)
            // cannot reopen it.
            let ended = cfg.ended || r.cfg.is_some_and(|c| c.ended);
            r.cfg = Some(RoomConfig {
                ended,
                paused: cfg.paused || ended,
                ..*cfg
            });
        });
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
        claim: Option<u64>,
        now_ms: i64,
        seed: u64,
    ) -> EngineResult<Joined> {
        let lease = self.lease_ms;
        let joined = |place, resumed, pre| Joined {
            place,
            resumed,
            pre,
        };
        self.with_room(event, |r| {
            if r.cfg.is_none() {
                return Err(JoinRefusal::Unconfigured.into());
            }
            let until = r.keep_until(now_ms, lease);
            match r.state.get(&buyer).cloned() {
                Some(State::Revoked) => return Ok(joined(Place::Revoked, true, 0)),
                Some(State::Admitted(a)) if a.exp_ms > now_ms => {
                    return Ok(joined(Place::Admitted(a), true, 0));
                }
                Some(State::Admitted(_)) => {
                    r.active.remove(&buyer);
                }
                Some(State::Pre) => {
                    r.seen.insert(buyer, until);
                    return Ok(joined(Place::Pre, true, r.pre.len() as u64));
                }
                Some(State::Waiting(seq)) => {
                    r.seen.insert(buyer, until);
                    return Ok(joined(Place::Waiting { seq }, true, 0));
                }
                Some(State::Gone) => {}
                None => {
                    // The engine lost this buyer (it never forgets a state otherwise):
                    // their signed number puts them back where they were.
                    if let Some(seq) = claim.filter(|s| *s > 0)
                        && r.seq_limit.is_some()
                    {
                        r.queue.insert(seq, buyer);
                        r.state.insert(buyer, State::Waiting(seq));
                        r.seen.insert(buyer, until);
                        r.handed_out(seq);
                        return Ok(joined(Place::Waiting { seq }, true, 0));
                    }
                }
            }
            if !r.open_if_due(event, now_ms, seed, &self.bus) {
                let opens = r.cfg.map_or(0, |c| c.opens_at_ms);
                if now_ms >= opens {
                    return Err(JoinRefusal::OutOfNumbers.into());
                }
                r.pre.push(buyer);
                r.state.insert(buyer, State::Pre);
                r.seen.insert(buyer, until);
                return Ok(joined(Place::Pre, false, r.pre.len() as u64));
            }
            if r.seq + 1 > r.seq_limit.unwrap_or(0) {
                return Err(JoinRefusal::OutOfNumbers.into());
            }
            r.seq += 1;
            let seq = r.seq;
            r.queue.insert(seq, buyer);
            r.state.insert(buyer, State::Waiting(seq));
            r.seen.insert(buyer, until);
            Ok(joined(Place::Waiting { seq }, false, 0))
        })
    }

    async fn touch(
        &self,
        event: EventId,
        buyers: &[Presence],
        now_ms: i64,
        connected: bool,
    ) -> EngineResult<()> {
        let lease = if connected { self.lease_ms } else { 0 };
        self.with_room(event, |r| {
            if r.seq_limit.is_none() {
                return;
            }
            let until = r.keep_until(now_ms, lease);
            for p in buyers {
                match r.state.get(&p.buyer) {
                    Some(State::Waiting(_) | State::Pre) => {}
                    Some(_) => continue,
                    None => match p.seq {
                        Some(seq) if seq > 0 => {
                            r.queue.insert(seq, p.buyer);
                            r.state.insert(p.buyer, State::Waiting(seq));
                            r.handed_out(seq);
                        }
                        _ if !r.opened => {
                            r.pre.push(p.buyer);
                            r.state.insert(p.buyer, State::Pre);
                        }
                        _ => continue,
                    },
                }
                r.seen.insert(p.buyer, until);
            }
        });
        Ok(())
    }

    async fn counters(&self, event: EventId) -> EngineResult<Option<Counters>> {
        Ok(self.with_room(event, |r| {
            r.cfg.map(|_| Counters {
                seq: r.seq,
                seq_limit: r.seq_limit.unwrap_or(0),
                head: r.head,
                admitted_total: r.admitted_total,
                opened: r.opened,
                salt: r.salt,
                pre: r.pre.len() as u64,
                issued: r.seq,
            })
        }))
    }

    async fn reserve(&self, event: EventId, limit: u64, restore: &Counters) -> EngineResult<bool> {
        let restored = self.with_room(event, |r| {
            let restored = r.seq_limit.is_none();
            if restored {
                r.seq = r.seq.max(restore.seq);
                r.head = r.head.max(restore.head);
                r.admitted_total = r.admitted_total.max(restore.admitted_total);
                r.opened |= restore.opened;
                r.salt = restore.salt;
                r.epoch = rand::random::<u64>() | 1;
                // A line existed before the loss: admit nobody for one presence lease,
                // while connected buyers are put back at their numbers.
                r.restored = restore.seq > 0;
                if restore.issued < restore.seq {
                    r.gap = (restore.issued.max(restore.head), restore.seq);
                }
            }
            r.seq_limit = Some(r.seq_limit.unwrap_or(0).max(limit));
            restored
        });
        if restored {
            let _ = self.bus.send(BusMessage::Config { e: event });
        }
        Ok(restored)
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
        let lease = self.lease_ms;
        let report = self.with_room(event, |r| {
            let mut report = TickReport::default();
            let Some(cfg) = r.cfg else { return report };
            if !r.open_if_due(event, now_ms, seed, &self.bus) {
                return report;
            }
            // No step for a while (every instance down): drop nobody until connected
            // buyers' heartbeats have had a lease to come in.
            if r.last_ms.is_some_and(|last| now_ms - last > OUTAGE_GAP_MS) {
                r.nodrop_until = now_ms + lease;
            }
            let may_drop = now_ms >= r.nodrop_until;
            if std::mem::take(&mut r.restored) {
                r.admit_after = now_ms + lease;
            }
            // Drop buyers whose place ran out (grace period over).
            let stale: Vec<BuyerId> = r
                .seen
                .iter()
                .filter(|(_, until)| may_drop && **until < now_ms)
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
            if cfg.paused || r.sold_out || now_ms < r.admit_after {
                return report;
            }
            let room_left = (cfg.max_active - r.active.len() as i64).max(0) as u64;
            let mut n = (r.tokens.floor() as u64).min(room_left).min(MAX_BATCH);
            while n > 0 {
                let Some((&seq, &buyer)) = r.queue.iter().next() else {
                    break;
                };
                if r.is_stale(&buyer, now_ms) {
                    if !may_drop {
                        break;
                    }
                    r.depart(buyer, State::Gone);
                    report.dropped.push(seq);
                    continue;
                }
                r.queue.remove(&seq);
                r.seen.remove(&buyer);
                let a = Admission {
                    buyer,
                    seq,
                    jti: jti_for(event, seq, r.salt),
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
                ended: false,
            });
            RoomSnapshot {
                opened: r.opened,
                head: r.head,
                waiting: r.queue.len() as u64,
                pre: r.pre.len() as u64,
                active: r.active.values().filter(|exp| **exp > now_ms).count() as u64,
                admitted_total: r.admitted_total,
                departed_version: r.departed_version,
                epoch: r.epoch,
                // Until the restore has settled (one lease), every reserved number
                // counts as a person: a position may start high and come down.
                gap: if r.restored || now_ms < r.admit_after {
                    (0, 0)
                } else {
                    r.gap
                },
                paused: cfg.paused,
                sold_out: r.sold_out,
                rate: cfg.rate,
                max_active: cfg.max_active as u64,
                opens_at_ms: cfg.opens_at_ms,
                ended: cfg.ended,
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

    async fn ping(&self) -> bool {
        true
    }
}
