//! Seat operations of the Redis engine: each one Lua script over the event's keys.

use async_trait::async_trait;
use redis::{AsyncCommands, Script};

use super::RedisEngine;
use crate::engine::queue::EngineResult;
use crate::engine::seats::{
    AdmissionProof, Block, Inventory, SeatEngine, SeatRefusal, SeatRestore, SeatStates,
    SessionClaim,
};
use crate::events::EventId;
use crate::identity::BuyerId;

/// Most holds one expiry pass frees (keeps each script short).
const EXPIRE_LIMIT: u32 = 1000;

fn refusal(reply: &[String]) -> SeatRefusal {
    let detail = || reply.get(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    match reply.first().map(String::as_str) {
        Some("unknown_seat") => SeatRefusal::UnknownSeat(detail()),
        Some("too_many_seats") => SeatRefusal::TooManySeats(detail()),
        Some("seat_taken") => SeatRefusal::SeatTaken(detail()),
        Some("not_your_seat") => SeatRefusal::NotYourSeat(detail()),
        Some("hold_expired") => SeatRefusal::HoldExpired,
        Some("already_booked") => SeatRefusal::AlreadyBooked,
        Some("not_ready") => SeatRefusal::NotReady,
        Some("no_block") => SeatRefusal::NoBlock,
        _ => SeatRefusal::NoHold,
    }
}

impl RedisEngine {
    /// Runs a script over (seat, buyer) pairs the database has (or no longer has) sold;
    /// returns how many seats it changed.
    async fn run_sold(
        &self,
        script: &Script,
        event: EventId,
        sold: &[(u32, String)],
    ) -> EngineResult<usize> {
        if sold.is_empty() {
            return Ok(0);
        }
        let args: Vec<String> = sold
            .iter()
            .flat_map(|(seat, buyer)| [seat.to_string(), buyer.clone()])
            .collect();
        let n: i64 = self.run(script, event, 0, 0, &args).await?;
        Ok(n as usize)
    }
}

fn strings(xs: &[u32]) -> impl Iterator<Item = String> + '_ {
    xs.iter().map(u32::to_string)
}

#[async_trait]
impl SeatEngine for RedisEngine {
    async fn seats_ready(&self, event: EventId) -> EngineResult<bool> {
        let mut conn = self.conn.clone();
        Ok(conn.hexists(self.key(event, "meta"), "nseats").await?)
    }

    async fn restore_seats(
        &self,
        event: EventId,
        inv: Inventory,
        restore: &SeatRestore,
        now_ms: i64,
    ) -> EngineResult<bool> {
        let mut args = vec![
            inv.total().to_string(),
            inv.seats.to_string(),
            restore.sold.len().to_string(),
        ];
        for (seat, buyer) in &restore.sold {
            args.extend([seat.to_string(), buyer.clone()]);
        }
        for h in &restore.holds {
            args.extend([
                h.seat.to_string(),
                h.buyer.clone(),
                h.expires_at_ms.to_string(),
            ]);
        }
        let s = &self.scripts.seats;
        let done: i64 = self.run(&s.init, event, now_ms, 0, &args).await?;
        Ok(done == 1)
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
        let mut args = vec![buyer.to_string(), hold_ms.to_string(), max.to_string()];
        args.extend(strings(seats));
        let r: Vec<String> = self
            .run(&self.scripts.seats.hold, event, now_ms, 0, &args)
            .await?;
        Ok(match r.first().map(String::as_str) {
            Some("ok") => Ok(r[1].parse()?),
            _ => Err(refusal(&r)),
        })
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
        let n = blocks.first().map_or(0, |b| b.seats.len());
        let mut args = vec![
            buyer.to_string(),
            hold_ms.to_string(),
            max.to_string(),
            n.to_string(),
        ];
        let id = |x: Option<u32>| x.map_or("-1".to_owned(), |s| s.to_string());
        for b in blocks.iter().filter(|b| b.seats.len() == n) {
            args.extend(strings(&b.seats));
            args.extend([id(b.left[0]), id(b.left[1]), id(b.right[0]), id(b.right[1])]);
        }
        let r: Vec<String> = self
            .run(&self.scripts.seats.best, event, now_ms, 0, &args)
            .await?;
        Ok(match r.first().map(String::as_str) {
            Some("ok") => {
                let exp = r
                    .get(1)
                    .and_then(|e| e.parse().ok())
                    .unwrap_or(now_ms + hold_ms);
                let seats = r.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
                Ok((seats, exp))
            }
            _ => Err(refusal(&r)),
        })
    }

    async fn release(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
    ) -> EngineResult<Result<(), SeatRefusal>> {
        let mut args = vec![buyer.to_string()];
        args.extend(strings(seats));
        let r: Vec<String> = self
            .run(&self.scripts.seats.release, event, 0, 0, &args)
            .await?;
        Ok(if r.first().map(String::as_str) == Some("ok") {
            Ok(())
        } else {
            Err(refusal(&r))
        })
    }

    async fn expire_holds(&self, event: EventId, now_ms: i64) -> EngineResult<Vec<u32>> {
        let freed: Vec<u32> = self
            .run(
                &self.scripts.seats.expire,
                event,
                now_ms,
                0,
                &[EXPIRE_LIMIT.to_string()],
            )
            .await?;
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
        let args = [
            buyer.to_string(),
            window_ms.to_string(),
            performance.to_string(),
        ];
        let r: Vec<String> = self
            .run(&self.scripts.seats.begin_book, event, now_ms, 0, &args)
            .await?;
        Ok(match r.first().map(String::as_str) {
            Some("ok") => Ok(r[1].split(',').filter_map(|s| s.parse().ok()).collect()),
            _ => Err(refusal(&r)),
        })
    }

    async fn end_booking(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
        sold: bool,
    ) -> EngineResult<()> {
        let mut args = vec![buyer.to_string(), if sold { "1" } else { "0" }.to_string()];
        args.extend(strings(seats));
        let _: i64 = self
            .run(&self.scripts.seats.end_book, event, 0, 0, &args)
            .await?;
        Ok(())
    }

    async fn mark_sold(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize> {
        self.run_sold(&self.scripts.seats.mark_sold, event, sold)
            .await
    }

    async fn unsell(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize> {
        self.run_sold(&self.scripts.seats.unsell, event, sold).await
    }

    async fn sold_count(&self, event: EventId) -> EngineResult<u64> {
        let mut conn = self.conn.clone();
        let n: Option<u64> = conn.hget(self.key(event, "meta"), "nsold").await?;
        Ok(n.unwrap_or(0))
    }

    async fn bought(&self, event: EventId, buyer: BuyerId, performance: u32) -> EngineResult<u32> {
        let mut conn = self.conn.clone();
        // The field the Lua scripts keep (prelude.lua, sold_key): "{buyer}:{performance}".
        let n: Option<u32> = conn
            .hget(self.key(event, "bsold"), format!("{buyer}:{performance}"))
            .await?;
        Ok(n.unwrap_or(0))
    }

    async fn seat_states(&self, event: EventId) -> EngineResult<SeatStates> {
        let mut conn = self.conn.clone();
        let all: Vec<(u32, String)> = conn.hgetall(self.key(event, "seats")).await?;
        let mut states = SeatStates::default();
        for (seat, v) in all {
            match v.as_bytes().first() {
                Some(b'S') => states.sold.push(seat),
                Some(b'H' | b'B') if v.len() > 35 => {
                    let exp = v[35..].parse().unwrap_or(0);
                    states.held.push((seat, v[2..34].to_owned(), exp));
                }
                _ => {}
            }
        }
        states.sold.sort_unstable();
        states.held.sort_unstable();
        Ok(states)
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
        let args = [
            buyer.to_string(),
            jti.to_owned(),
            sid.to_owned(),
            stale_ms.to_string(),
            restore.map_or(String::new(), |p| p.seq.to_string()),
            restore.map_or(String::new(), |p| p.exp_ms.to_string()),
        ];
        let r: String = self
            .run(&self.scripts.seats.claim, event, now_ms, 0, &args)
            .await?;
        Ok(match r.as_str() {
            "ok" => SessionClaim::Granted,
            "in_use" => SessionClaim::InUse,
            "revoked" => SessionClaim::Revoked,
            "unknown" => SessionClaim::Unknown,
            "not_ready" => SessionClaim::NotReady,
            _ => SessionClaim::Ended,
        })
    }

    async fn release_session(&self, event: EventId, jti: &str, sid: &str) -> EngineResult<()> {
        let args = [jti.to_owned(), sid.to_owned()];
        let _: i64 = self
            .run(&self.scripts.seats.unclaim, event, 0, 0, &args)
            .await?;
        Ok(())
    }
}
