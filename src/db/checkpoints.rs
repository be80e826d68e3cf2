//! Queue numbers reserved before the engine hands them out, room counters checkpointed
//! every second, and revocations: what lets a store that lost its data carry on without
//! handing a number out twice (see `crate::queue::checkpoint`).

use super::Db;
use crate::engine::queue::Counters;
use crate::events::EventId;

/// Checkpointed room counters (see migrations/*/0003_checkpoints.sql).
impl Db {
    /// The event's checkpoint, created (with a fresh token-id salt) on first use.
    pub async fn checkpoint(&self, event: EventId, now_ms: i64) -> anyhow::Result<Counters> {
        let salt = i64::from(rand::random::<u32>());
        sqlx::query(
            "INSERT INTO room_checkpoints \
             (event_id, seq_limit, seq, head, admitted_total, opened, salt, updated_at_ms) \
             VALUES ($1, 0, 0, 0, 0, 0, $2, $3) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event)
        .bind(salt)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        let (seq_limit, head, admitted_total, opened, salt, issued): (
            i64,
            i64,
            i64,
            i64,
            i64,
            i64,
        ) = sqlx::query_as(
            "SELECT seq_limit, head, admitted_total, opened, salt, seq FROM room_checkpoints \
                 WHERE event_id = $1",
        )
        .bind(event)
        .fetch_one(&self.pool)
        .await?;
        Ok(Counters {
            seq: seq_limit as u64,
            seq_limit: seq_limit as u64,
            head: head as u64,
            admitted_total: admitted_total as u64,
            opened: opened != 0,
            salt: salt as u32,
            pre: 0,
            issued: issued as u64,
        })
    }

    /// Reserves queue numbers: the limit becomes `max(limit, at_least) + block`, in one
    /// statement, so instances reserving at once never hand out the same range. Returns
    /// the new limit.
    pub async fn reserve_numbers(
        &self,
        event: EventId,
        at_least: u64,
        block: u64,
    ) -> anyhow::Result<u64> {
        let (limit,): (i64,) = sqlx::query_as(
            "UPDATE room_checkpoints SET seq_limit = \
             (CASE WHEN seq_limit < $2 THEN $2 ELSE seq_limit END) + $3 \
             WHERE event_id = $1 RETURNING seq_limit",
        )
        .bind(event)
        .bind(at_least as i64)
        .bind(block as i64)
        .fetch_one(&self.pool)
        .await?;
        Ok(limit as u64)
    }

    /// Raises the checkpointed head, admitted total and opened flag (never lowers them).
    pub async fn save_checkpoint(
        &self,
        event: EventId,
        c: &Counters,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE room_checkpoints SET \
             head = CASE WHEN head < $2 THEN $2 ELSE head END, \
             seq = CASE WHEN seq < $6 THEN $6 ELSE seq END, \
             admitted_total = CASE WHEN admitted_total < $3 THEN $3 ELSE admitted_total END, \
             opened = CASE WHEN $4 = 1 THEN 1 ELSE opened END, updated_at_ms = $5 \
             WHERE event_id = $1",
        )
        .bind(event)
        .bind(c.head as i64)
        .bind(c.admitted_total as i64)
        .bind(i64::from(c.opened))
        .bind(now_ms)
        .bind(c.seq as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a revocation (idempotent), so a store that loses its data gets it back, and
    /// forgets the buyer's seat holds.
    pub async fn revoke(&self, event: EventId, buyer: &str, now_ms: i64) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO revocations (event_id, buyer, revoked_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (event_id, buyer) DO NOTHING",
        )
        .bind(event)
        .bind(buyer.to_owned())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        // A revoked buyer's holds go back (the engine frees them too): a store restored
        // later must not bring them back.
        sqlx::query("DELETE FROM holds WHERE event_id = $1 AND buyer = $2")
            .bind(event)
            .bind(buyer.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every buyer revoked from an event.
    pub async fn revoked(&self, event: EventId) -> anyhow::Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT buyer FROM revocations WHERE event_id = $1")
                .bind(event)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(b,)| b).collect())
    }
}
