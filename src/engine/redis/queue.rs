//! The queue half of the Redis engine: each operation one Lua script over the event's
//! keys (or one read), so any number of instances may call it at once.

use anyhow::Context;
use async_trait::async_trait;
use redis::AsyncCommands;

use super::{RedisEngine, joins};
use crate::engine::persistence;
use crate::engine::queue::{
    Admission, BURST_SECONDS, Counters, EngineResult, Joined, MAX_BATCH, OUTAGE_GAP_MS, Place,
    Presence, QueueEngine, RoomSnapshot, SWEEP_LIMIT, TickReport,
};
use crate::events::{EventId, RoomConfig};
use crate::identity::BuyerId;

/// A buyer's place as the `st` hash keeps it (`P`, `W:seq`, `R`, `A:seq:jti:exp`).
fn parse_state(s: &str, buyer: BuyerId, now_ms: i64) -> Option<Place> {
    let mut parts = s.split(':');
    match parts.next()? {
        "P" => Some(Place::Pre),
        "W" => Some(Place::Waiting {
            seq: parts.next()?.parse().ok()?,
        }),
        "R" => Some(Place::Revoked),
        "A" => {
            let seq = parts.next()?.parse().ok()?;
            let jti = parts.next()?.to_owned();
            let exp_ms: i64 = parts.next()?.parse().ok()?;
            (exp_ms > now_ms).then_some(Place::Admitted(Admission {
                buyer,
                seq,
                jti,
                exp_ms,
            }))
        }
        _ => None,
    }
}

#[async_trait]
impl QueueEngine for RedisEngine {
    async fn configure(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()> {
        self.configure_with(event, cfg, false).await
    }

    async fn ensure_configured(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()> {
        self.configure_with(event, cfg, true).await
    }

    async fn join(
        &self,
        event: EventId,
        buyer: BuyerId,
        claim: Option<u64>,
        now_ms: i64,
        seed: u64,
    ) -> EngineResult<Joined> {
        // Batched with the event's other joins on this instance (see `joins`).
        let (reply, answer) = tokio::sync::oneshot::channel();
        let req = joins::Request {
            buyer,
            claim: claim.unwrap_or(0),
            now_ms,
            seed,
            reply,
        };
        if self.joins.push(event, req) {
            let runner = joins::Runner {
                conn: self.conn.clone(),
                scripts: self.scripts.clone(),
                keys: self.keys(event),
                event,
                publish: self.publish_command(),
                lease_ms: self.lease_ms,
            };
            tokio::spawn(joins::flush(self.joins.clone(), runner));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the join was dropped unanswered")))
    }

    async fn touch(
        &self,
        event: EventId,
        buyers: &[Presence],
        now_ms: i64,
        connected: bool,
    ) -> EngineResult<()> {
        let lease = if connected { self.lease_ms } else { 0 };
        // One script call per thousand buyers: a heartbeat of a large room stays a few
        // round trips, each O(batch).
        for chunk in buyers.chunks(1000) {
            let mut args = Vec::with_capacity(1 + chunk.len() * 2);
            args.push(lease.to_string());
            for p in chunk {
                args.push(p.buyer.to_string());
                args.push(p.seq.unwrap_or(0).to_string());
            }
            let _: i64 = self
                .run(&self.scripts.presence, event, now_ms, 0, &args)
                .await?;
        }
        Ok(())
    }

    async fn counters(&self, event: EventId) -> EngineResult<Option<Counters>> {
        let mut conn = self.conn.clone();
        let (m, pre): (Vec<Option<String>>, u64) = redis::pipe()
            .cmd("HMGET")
            .arg(self.key(event, "meta"))
            .arg(&[
                "rate",
                "seq",
                "seq_limit",
                "head",
                "admitted_total",
                "opened",
                "salt",
            ])
            .scard(self.key(event, "pre"))
            .query_async(&mut conn)
            .await?;
        let num = |i: usize| {
            m.get(i)
                .and_then(|v| v.as_deref())
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if m.first().is_none_or(Option::is_none) {
            return Ok(None);
        }
        Ok(Some(Counters {
            seq: num(1) as u64,
            seq_limit: num(2) as u64,
            head: num(3) as u64,
            admitted_total: num(4) as u64,
            opened: num(5) == 1.0,
            salt: num(6) as u32,
            pre,
            issued: num(1) as u64,
        }))
    }

    async fn reserve(&self, event: EventId, limit: u64, restore: &Counters) -> EngineResult<bool> {
        let args = [
            limit.to_string(),
            restore.seq.to_string(),
            restore.head.to_string(),
            restore.admitted_total.to_string(),
            if restore.opened { "1" } else { "0" }.to_string(),
            restore.salt.to_string(),
            restore.issued.to_string(),
        ];
        let seed = rand::random::<u64>() | 1;
        let restored: i64 = self
            .run(&self.scripts.reserve, event, 0, seed, &args)
            .await?;
        Ok(restored == 1)
    }

    async fn leave(&self, event: EventId, buyer: BuyerId) -> EngineResult<()> {
        let args = [buyer.to_string(), "G".into(), "0".into()];
        let _: i64 = self.run(&self.scripts.leave, event, 0, 0, &args).await?;
        Ok(())
    }

    async fn tick(&self, event: EventId, now_ms: i64, seed: u64) -> EngineResult<TickReport> {
        let args = [
            BURST_SECONDS.to_string(),
            MAX_BATCH.to_string(),
            SWEEP_LIMIT.to_string(),
            self.lease_ms.to_string(),
            OUTAGE_GAP_MS.to_string(),
        ];
        let (a, d, expired): (String, String, u64) = self
            .run(&self.scripts.tick, event, now_ms, seed, &args)
            .await?;
        let admitted: Vec<Admission> = serde_json::from_str(&format!("[{a}]"))
            .context("reading the admissions of the tick script")?;
        let dropped = d.split(',').filter_map(|s| s.parse().ok()).collect();
        Ok(TickReport {
            admitted,
            dropped,
            expired,
        })
    }

    async fn snapshot(&self, event: EventId, now_ms: i64) -> EngineResult<RoomSnapshot> {
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET")
            .arg(self.key(event, "meta"))
            .arg(&[
                "opened",
                "head",
                "rate",
                "max_active",
                "paused",
                "sold_out",
                "opens_at",
                "admitted_total",
                "dep_ver",
                "epoch",
                "gap_lo",
                "gap_hi",
                "restored",
                "admit_after",
                "ended",
            ])
            .zcard(self.key(event, "q"))
            .scard(self.key(event, "pre"))
            .zcount(self.key(event, "active"), format!("({now_ms}"), "+inf");
        let mut conn = self.conn.clone();
        let (m, waiting, pre, active): (Vec<Option<String>>, u64, u64, u64) =
            pipe.query_async(&mut conn).await?;
        let field = |i: usize| m.get(i).and_then(|v| v.as_deref());
        let num = |i: usize| field(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let flag = |i: usize| field(i) == Some("1");
        Ok(RoomSnapshot {
            opened: flag(0),
            head: num(1) as u64,
            waiting,
            pre,
            active,
            admitted_total: num(7) as u64,
            departed_version: num(8) as u64,
            epoch: field(9).and_then(|v| v.parse().ok()).unwrap_or(0),
            // Until the restore has settled (one lease, while connected buyers are put
            // back), every reserved number counts as a person: a position may start high
            // and come down, never the other way round.
            gap: if flag(12) || (now_ms as f64) < num(13) {
                (0, 0)
            } else {
                (num(10) as u64, num(11) as u64)
            },
            paused: flag(4),
            sold_out: flag(5),
            rate: num(2),
            max_active: num(3) as u64,
            opens_at_ms: num(6) as i64,
            ended: flag(14),
        })
    }

    async fn departed_above(&self, event: EventId, head: u64) -> EngineResult<Vec<u64>> {
        let mut conn = self.conn.clone();
        let seqs: Vec<u64> = conn
            .zrangebyscore(self.key(event, "dep"), format!("({head}"), "+inf")
            .await?;
        Ok(seqs)
    }

    async fn places(
        &self,
        event: EventId,
        buyers: &[BuyerId],
        now_ms: i64,
    ) -> EngineResult<Vec<Option<Place>>> {
        if buyers.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = buyers.iter().map(|b| b.to_string()).collect();
        let mut conn = self.conn.clone();
        let states: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.key(event, "st"))
            .arg(&ids)
            .query_async(&mut conn)
            .await?;
        Ok(states
            .iter()
            .zip(buyers)
            .map(|(s, buyer)| parse_state(s.as_deref()?, *buyer, now_ms))
            .collect())
    }

    async fn revoke(&self, event: EventId, buyer: BuyerId) -> EngineResult<bool> {
        let args = [buyer.to_string(), "R".into(), "1".into()];
        let r: i64 = self.run(&self.scripts.leave, event, 0, 0, &args).await?;
        Ok(r >= 0)
    }

    async fn finish(&self, event: EventId, buyer: BuyerId) -> EngineResult<()> {
        let _: i64 = self
            .run(&self.scripts.finish, event, 0, 0, &[buyer.to_string()])
            .await?;
        Ok(())
    }

    fn persistence(&self) -> Option<persistence::Persistence> {
        Some(self.persistence.clone())
    }

    async fn ping(&self) -> bool {
        let mut conn = self.conn.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .is_ok()
    }
}
