//! Seat operations of the memory engine; the same rules as the Redis scripts.

use async_trait::async_trait;

use super::MemoryEngine;
use super::room::{Seat, State, add_free};
use crate::engine::bus::BusMessage;
use crate::engine::queue::{Admission, EngineResult};
use crate::engine::seats::{
    AdmissionProof, Block, Inventory, SeatEngine, SeatRefusal, SeatRestore, SeatStates,
    SessionClaim,
};
use crate::events::EventId;
use crate::identity::BuyerId;
use usher_protocol::SeatState;

impl MemoryEngine {
    /// Frees every seat a revoked buyer holds (not a booking in progress).
    pub(super) fn release_all(&self, event: EventId, buyer: BuyerId) {
        let (freed, flipped) = self.with_room(event, |r| {
            let mut freed: Vec<u32> = r.seats.held_by.get(&buyer).cloned().unwrap_or_default();
            freed.retain(
                |s| matches!(r.seats.seats.get(s), Some(Seat::Held { by, .. }) if *by == buyer),
            );
            for s in &freed {
                r.seats.seats.remove(s);
                r.seats.unhold(buyer, *s);
            }
            let flipped = !freed.is_empty() && add_free(r, freed.len() as i64);
            (freed, flipped)
        });
        self.announce(event, &freed, SeatState::Free, flipped);
    }

    fn announce(&self, event: EventId, seats: &[u32], state: SeatState, flipped: bool) {
        if !seats.is_empty() {
            let c = seats.iter().map(|s| (*s, state)).collect();
            let _ = self.bus.send(BusMessage::Seats { e: event, c });
        }
        if flipped {
            let _ = self.bus.send(BusMessage::SoldOut { e: event });
        }
    }
}

#[async_trait]
impl SeatEngine for MemoryEngine {
    async fn seats_ready(&self, event: EventId) -> EngineResult<bool> {
        Ok(self.with_room(event, |r| r.seats.inv.is_some()))
    }

    async fn restore_seats(
        &self,
        event: EventId,
        inv: Inventory,
        restore: &SeatRestore,
        now_ms: i64,
    ) -> EngineResult<bool> {
        let nseats = inv.total();
        let done = self.with_room(event, |r| {
            if r.seats.inv.is_some() {
                return None;
            }
            r.seats.inv = Some(inv);
            r.seats.free = nseats as i64;
            let (mut sold, mut held) = (Vec::new(), Vec::new());
            for (s, buyer) in &restore.sold {
                if *s < nseats && !r.seats.seats.contains_key(s) {
                    r.seats.seats.insert(
                        *s,
                        Seat::Sold {
                            by: BuyerId::parse(buyer),
                        },
                    );
                    if let Some(b) = BuyerId::parse(buyer) {
                        r.seats.add_sold(b, *s, 1);
                    }
                    sold.push(*s);
                }
            }
            for h in &restore.holds {
                let Some(by) = BuyerId::parse(&h.buyer) else {
                    continue;
                };
                if h.seat < nseats
                    && h.expires_at_ms > now_ms
                    && !r.seats.seats.contains_key(&h.seat)
                {
                    let exp = h.expires_at_ms;
                    r.seats.seats.insert(h.seat, Seat::Held { by, exp });
                    r.seats.held_by.entry(by).or_default().push(h.seat);
                    held.push(h.seat);
                }
            }
            r.seats.nsold += sold.len() as u64;
            let flipped = add_free(r, -((sold.len() + held.len()) as i64));
            Some((sold, held, flipped))
        });
        let Some((sold, held, flipped)) = done else {
            return Ok(false);
        };
        self.announce(event, &held, SeatState::Held, false);
        self.announce(event, &sold, SeatState::Sold, flipped);
        Ok(true)
    }

    async fn hold(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
        now_ms: i64,
        hold_ms: i64,
        max: u32,
    ) -> EngineResult<Result<i64, SeatRefusal>> {
        let out = self.with_room(event, |r| {
            let Some(inv) = r.seats.inv else {
                return Err(SeatRefusal::NotReady);
            };
            // Every seat of one performance: the limit is the buyer's in that one.
            let perf = seats.first().map_or(0, |s| inv.performance_of(*s));
            let outside = |s: &&u32| **s >= inv.total() || inv.performance_of(**s) != perf;
            if let Some(s) = seats.iter().find(outside) {
                return Err(SeatRefusal::UnknownSeat(*s));
            }
            let held_here = r.seats.held_by.get(&buyer).map_or(0, |l| {
                l.iter().filter(|s| inv.performance_of(**s) == perf).count()
            }) as u32;
            let have = held_here + r.seats.sold_to.get(&(buyer, perf)).copied().unwrap_or(0);
            if have + seats.len() as u32 > max {
                return Err(SeatRefusal::TooManySeats(max));
            }
            if let Some(s) = seats.iter().find(|s| r.seats.seats.contains_key(s)) {
                return Err(SeatRefusal::SeatTaken(*s));
            }
            let exp = now_ms + hold_ms;
            for s in seats {
                r.seats.seats.insert(*s, Seat::Held { by: buyer, exp });
            }
            r.seats
                .held_by
                .entry(buyer)
                .or_default()
                .extend_from_slice(seats);
            Ok((exp, add_free(r, -(seats.len() as i64))))
        });
        Ok(out.map(|(exp, flipped)| {
            self.announce(event, seats, SeatState::Held, flipped);
            exp
        }))
    }

    async fn hold_best(
        &self,
        event: EventId,
        buyer: BuyerId,
        blocks: &[Block],
        now_ms: i64,
        hold_ms: i64,
        max: u32,
    ) -> EngineResult<Result<(Vec<u32>, i64), SeatRefusal>> {
        let out = self.with_room(event, |r| {
            let Some(inv) = r.seats.inv else {
                return Err(SeatRefusal::NotReady);
            };
            let Some(first) = blocks.first() else {
                return Err(SeatRefusal::NoBlock);
            };
            let n = first.seats.len();
            let perf = first.seats.first().map_or(0, |s| inv.performance_of(*s));
            let held_here = r.seats.held_by.get(&buyer).map_or(0, |l| {
                l.iter().filter(|s| inv.performance_of(**s) == perf).count()
            }) as u32;
            let have = held_here + r.seats.sold_to.get(&(buyer, perf)).copied().unwrap_or(0);
            if have + n as u32 > max {
                return Err(SeatRefusal::TooManySeats(max));
            }
            let free = |s: Option<u32>| s.is_some_and(|s| !r.seats.seats.contains_key(&s));
            let taken_or_end = |s: Option<u32>| s.is_none_or(|s| r.seats.seats.contains_key(&s));
            let pick = blocks.iter().find(|b| {
                b.seats.len() == n
                    && n > 0
                    && b.seats.iter().all(|s| {
                        *s < inv.total()
                            && inv.performance_of(*s) == perf
                            && !r.seats.seats.contains_key(s)
                    })
                    && !(free(b.left[0]) && taken_or_end(b.left[1]))
                    && !(free(b.right[0]) && taken_or_end(b.right[1]))
            });
            let Some(pick) = pick else {
                return Err(SeatRefusal::NoBlock);
            };
            let seats = pick.seats.clone();
            let exp = now_ms + hold_ms;
            for s in &seats {
                r.seats.seats.insert(*s, Seat::Held { by: buyer, exp });
            }
            r.seats
                .held_by
                .entry(buyer)
                .or_default()
                .extend_from_slice(&seats);
            Ok((seats, exp, add_free(r, -(n as i64))))
        });
        Ok(out.map(|(seats, exp, flipped)| {
            self.announce(event, &seats, SeatState::Held, flipped);
            (seats, exp)
        }))
    }

    async fn release(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
    ) -> EngineResult<Result<(), SeatRefusal>> {
        let out = self.with_room(event, |r| {
            if r.seats.inv.is_none() {
                return Err(SeatRefusal::NotReady);
            }
            let mine = |s: &u32| matches!(r.seats.seats.get(s), Some(Seat::Held { by, .. }) if *by == buyer);
            if let Some(s) = seats.iter().find(|s| !mine(s)) {
                return Err(SeatRefusal::NotYourSeat(*s));
            }
            for s in seats {
                r.seats.seats.remove(s);
                r.seats.unhold(buyer, *s);
            }
            Ok(add_free(r, seats.len() as i64))
        });
        Ok(out.map(|flipped| self.announce(event, seats, SeatState::Free, flipped)))
    }

    async fn expire_holds(&self, event: EventId, now_ms: i64) -> EngineResult<Vec<u32>> {
        let (freed, flipped) = self.with_room(event, |r| {
            let mut due: Vec<(u32, BuyerId)> = r
                .seats
                .seats
                .iter()
                .filter_map(|(s, st)| match *st {
                    Seat::Held { by, exp } if exp <= now_ms => Some((*s, by)),
                    Seat::Booking { by, deadline, .. } if deadline <= now_ms => Some((*s, by)),
                    _ => None,
                })
                .collect();
            due.sort_unstable();
            for (s, by) in &due {
                r.seats.seats.remove(s);
                r.seats.unhold(*by, *s);
            }
            let flipped = !due.is_empty() && add_free(r, due.len() as i64);
            (due.into_iter().map(|(s, _)| s).collect::<Vec<_>>(), flipped)
        });
        self.announce(event, &freed, SeatState::Free, flipped);
        Ok(freed)
    }

    async fn begin_booking(
        &self,
        event: EventId,
        buyer: BuyerId,
        performance: u32,
        now_ms: i64,
        window_ms: i64,
    ) -> EngineResult<Result<Vec<u32>, SeatRefusal>> {
        Ok(self.with_room(event, |r| {
            let Some(inv) = r.seats.inv else {
                return Err(SeatRefusal::NotReady);
            };
            let mut list = r.seats.held_by.get(&buyer).cloned().unwrap_or_default();
            list.retain(|s| inv.performance_of(*s) == performance);
            if list.is_empty() {
                return Err(if r.seats.sold_to.contains_key(&(buyer, performance)) {
                    SeatRefusal::AlreadyBooked
                } else {
                    SeatRefusal::NoHold
                });
            }
            for s in &list {
                match r.seats.seats.get(s) {
                    Some(Seat::Held { exp, .. }) if *exp <= now_ms => {
                        return Err(SeatRefusal::HoldExpired);
                    }
                    Some(Seat::Held { .. }) => {}
                    // A booking of this buyer whose outcome was not known: entered again.
                    Some(Seat::Booking { by, .. }) if *by == buyer => {}
                    _ => return Err(SeatRefusal::NoHold),
                }
            }
            let deadline = now_ms + window_ms;
            for s in &list {
                if let Some(Seat::Held { by, exp } | Seat::Booking { by, exp, .. }) =
                    r.seats.seats.get(s).copied()
                {
                    r.seats
                        .seats
                        .insert(*s, Seat::Booking { by, exp, deadline });
                }
            }
            Ok(list)
        }))
    }

    async fn end_booking(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
        sold: bool,
    ) -> EngineResult<()> {
        let flipped = self.with_room(event, |r| {
            let mut flipped = false;
            let mut newly = 0;
            for s in seats {
                match (r.seats.seats.get(s).copied(), sold) {
                    (Some(Seat::Sold { .. }), true) => continue,
                    (Some(Seat::Held { by, .. } | Seat::Booking { by, .. }), true) => {
                        r.seats.unhold(by, *s)
                    }
                    (None, true) => flipped |= add_free(r, -1),
                    (Some(Seat::Booking { by, exp, .. }), false) if by == buyer => {
                        r.seats.seats.insert(*s, Seat::Held { by, exp });
                    }
                    _ => {}
                }
                if sold {
                    r.seats.seats.insert(*s, Seat::Sold { by: Some(buyer) });
                    r.seats.add_sold(buyer, *s, 1);
                    newly += 1;
                }
            }
            if sold {
                r.seats.nsold += newly;
                r.active.remove(&buyer);
                if matches!(r.state.get(&buyer), Some(State::Admitted(_))) {
                    r.state.insert(buyer, State::Gone);
                }
            }
            flipped
        });
        if sold {
            self.announce(event, seats, SeatState::Sold, flipped);
        }
        Ok(())
    }

    async fn mark_sold(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize> {
        let (changed, flipped) = self.with_room(event, |r| {
            // Like the Redis script: nothing before the seats are restored (the restore
            // brings the database's sales itself, and counts the free seats from them).
            if r.seats.inv.is_none() {
                return (Vec::new(), false);
            }
            let mut changed = Vec::new();
            let mut flipped = false;
            for (s, buyer) in sold {
                match r.seats.seats.get(s).copied() {
                    Some(Seat::Sold { .. }) => continue,
                    Some(Seat::Held { by, .. } | Seat::Booking { by, .. }) => {
                        r.seats.unhold(by, *s)
                    }
                    None => flipped |= add_free(r, -1),
                }
                r.seats.seats.insert(
                    *s,
                    Seat::Sold {
                        by: BuyerId::parse(buyer),
                    },
                );
                if let Some(b) = BuyerId::parse(buyer) {
                    r.seats.add_sold(b, *s, 1);
                }
                changed.push(*s);
            }
            r.seats.nsold += changed.len() as u64;
            (changed, flipped)
        });
        self.announce(event, &changed, SeatState::Sold, flipped);
        Ok(changed.len())
    }

    async fn unsell(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize> {
        let (changed, flipped) = self.with_room(event, |r| {
            if r.seats.inv.is_none() {
                return (Vec::new(), false);
            }
            let mut changed = Vec::new();
            for (s, buyer) in sold {
                // Only a seat sold to this buyer (any buyer, when none is named): one
                // sold again to someone else since stays theirs.
                let owner = match r.seats.seats.get(s) {
                    Some(Seat::Sold { by }) => *by,
                    _ => continue,
                };
                let named = BuyerId::parse(buyer);
                if named.is_some() && owner.is_some() && named != owner {
                    continue;
                }
                r.seats.seats.remove(s);
                let perf = r.seats.performance_of(*s);
                if let Some(b) = owner.or(named)
                    && let Some(n) = r.seats.sold_to.get_mut(&(b, perf))
                {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        r.seats.sold_to.remove(&(b, perf));
                    }
                }
                changed.push(*s);
            }
            r.seats.nsold = r.seats.nsold.saturating_sub(changed.len() as u64);
            let flipped = !changed.is_empty() && add_free(r, changed.len() as i64);
            (changed, flipped)
        });
        self.announce(event, &changed, SeatState::Free, flipped);
        Ok(changed.len())
    }

    async fn sold_count(&self, event: EventId) -> EngineResult<u64> {
        Ok(self.with_room(event, |r| r.seats.nsold))
    }

    async fn bought(&self, event: EventId, buyer: BuyerId, performance: u32) -> EngineResult<u32> {
        Ok(self.with_room(event, |r| {
            r.seats
                .sold_to
                .get(&(buyer, performance))
                .copied()
                .unwrap_or(0)
        }))
    }

    async fn seat_states(&self, event: EventId) -> EngineResult<SeatStates> {
        Ok(self.with_room(event, |r| {
            let mut states = SeatStates::default();
            for (s, st) in &r.seats.seats {
                match *st {
                    Seat::Sold { .. } => states.sold.push(*s),
                    Seat::Held { by, exp } | Seat::Booking { by, exp, .. } => {
                        states.held.push((*s, by.to_string(), exp))
                    }
                }
            }
            states.sold.sort_unstable();
            states.held.sort_unstable();
            states
        }))
    }

    async fn claim_session(
        &self,
        event: EventId,
        buyer: BuyerId,
        jti: &str,
        sid: &str,
        now_ms: i64,
        stale_ms: i64,
        restore: Option<AdmissionProof<'_>>,
    ) -> EngineResult<SessionClaim> {
        Ok(self.with_room(event, |r| {
            if r.seats.inv.is_none() {
                return SessionClaim::NotReady;
            }
            match (r.state.get(&buyer), restore) {
                (Some(State::Revoked), _) => return SessionClaim::Revoked,
                (Some(State::Admitted(a)), _) if a.jti == jti && a.exp_ms > now_ms => {}
                (None, None) => return SessionClaim::Unknown,
                (None, Some(p)) if p.jti == jti && p.exp_ms > now_ms => {
                    let a = Admission {
                        buyer,
                        seq: p.seq,
                        jti: jti.to_owned(),
                        exp_ms: p.exp_ms,
                    };
                    r.active.insert(buyer, p.exp_ms);
                    r.state.insert(buyer, State::Admitted(a));
                }
                _ => return SessionClaim::Ended,
            }
            if let Some((owner, seen)) = r.seats.sessions.get(jti)
                && owner != sid
                && now_ms - seen < stale_ms
            {
                return SessionClaim::InUse;
            }
            r.seats
                .sessions
                .insert(jti.to_owned(), (sid.to_owned(), now_ms));
            SessionClaim::Granted
        }))
    }

    async fn release_session(&self, event: EventId, jti: &str, sid: &str) -> EngineResult<()> {
        self.with_room(event, |r| {
            if r.seats
                .sessions
                .get(jti)
                .is_some_and(|(owner, _)| owner == sid)
            {
                r.seats.sessions.remove(jti);
            }
        });
        Ok(())
    }
}
