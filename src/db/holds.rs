//! The durable record of seat holds (table `holds`, one row per held seat). Every hold
//! the engine grants is written here in the same request, and the row goes when the hold
//! ends (release, expiry, sale). The engine decides who holds what; this record is what a
//! store that lost its data (a Redis restarted empty, a restarted memory engine) is given
//! back, so a hold survives the loss of the engine's state.

use crate::db::Db;
use crate::engine::seats::RestoredHold;
use crate::events::EventId;

/// `$first, $first+1, …` for `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Db {
    /// Records that `buyer` (with the entry token `jti`) holds `seats` until
    /// `expires_at_ms`. A row left behind by an earlier hold of a seat is taken over:
    /// the engine has just decided the seat is this buyer's.
    pub async fn record_holds(
        &self,
        event: EventId,
        buyer: &str,
        jti: &str,
        seats: &[u32],
        expires_at_ms: i64,
        now_ms: i64,
    ) -> anyhow::Result<()> {
        if seats.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..seats.len())
            .map(|i| format!("($1, ${}, $2, $3, $4, $5)", i + 6))
            .collect();
        let sql = format!(
            "INSERT INTO holds (event_id, seat_id, buyer, jti, expires_at_ms, created_at_ms) \
             VALUES {} ON CONFLICT (event_id, seat_id) DO UPDATE SET buyer = excluded.buyer, \
             jti = excluded.jti, expires_at_ms = excluded.expires_at_ms, \
             created_at_ms = excluded.created_at_ms",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event)
            .bind(buyer.to_owned())
            .bind(jti.to_owned())
            .bind(expires_at_ms)
            .bind(now_ms);
        for s in seats {
            q = q.bind(i64::from(*s));
        }
        q.execute(self.pool()).await?;
        Ok(())
    }

    /// Forgets `buyer`'s holds of `seats` (released, or a hold undone). A row another
    /// buyer has taken over since is left alone.
    pub async fn forget_holds(
        &self,
        event: EventId,
        buyer: &str,
        seats: &[u32],
    ) -> anyhow::Result<()> {
        if seats.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM holds WHERE event_id = $1 AND buyer = $2 AND seat_id IN ({})",
            placeholders(3, seats.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event)
            .bind(buyer.to_owned());
        for s in seats {
            q = q.bind(i64::from(*s));
        }
        q.execute(self.pool()).await?;
        Ok(())
    }

    /// Forgets every hold of an event that ended by `now_ms`. A seat held again since has
    /// a later expiry, so its new row stays.
    pub async fn forget_expired_holds(&self, event: EventId, now_ms: i64) -> anyhow::Result<u64> {
        let done = sqlx::query("DELETE FROM holds WHERE event_id = $1 AND expires_at_ms <= $2")
            .bind(event)
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Every hold of an event still running at `now_ms`, by seat.
    pub async fn live_holds(
        &self,
        event: EventId,
        now_ms: i64,
    ) -> anyhow::Result<Vec<RestoredHold>> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT seat_id, buyer, expires_at_ms FROM holds \
             WHERE event_id = $1 AND expires_at_ms > $2 ORDER BY seat_id",
        )
        .bind(event)
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(seat, buyer, exp)| {
                Some(RestoredHold {
                    seat: u32::try_from(seat).ok()?,
                    buyer,
                    expires_at_ms: exp,
                })
            })
            .collect())
    }
}
