//! Events in the database.

use anyhow::Context;

use super::Db;
use crate::events::{Event, EventId, EventTimes, NewEvent, Performance};
use usher_protocol::SeatInfo;

const EVENT_COLUMNS: &str = "id, name, kind, venue, starts_at_ms, sale_opens_at_ms, \
     admission_rate, max_active, session_secs, grace_secs, paused, hold_secs, ended_at_ms";

impl Db {
    /// Stores a new event and its seat map in one transaction, and returns it.
    pub async fn create_event(
        &self,
        new: &NewEvent,
        times: &EventTimes,
        seats: &[SeatInfo],
        now_ms: i64,
    ) -> anyhow::Result<Event> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO events (name, kind, venue, starts_at_ms, sale_opens_at_ms, \
             admission_rate, max_active, session_secs, grace_secs, paused, created_at_ms, hold_secs) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11) RETURNING {EVENT_COLUMNS}"
        );
        let event = sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(sql))
            .bind(&new.name)
            .bind(&new.kind)
            .bind(&new.venue)
            .bind(times.starts_at_ms)
            .bind(times.sale_opens_at_ms.unwrap_or(now_ms))
            .bind(new.admission_rate)
            .bind(new.max_active)
            .bind(new.session_secs)
            .bind(new.grace_secs)
            .bind(now_ms)
            .bind(new.hold_secs)
            .fetch_one(&mut *tx)
            .await
            .context("inserting an event")?;
        if let Some(map) = &new.seat_map {
            super::seats::insert_map(&mut tx, event.id, seats, &map.prices).await?;
            if let Some(plan) = map.plan().map_err(anyhow::Error::msg)? {
                super::seats::insert_plan(&mut tx, event.id, &plan).await?;
            }
            for p in &times.performances {
                sqlx::query(
                    "INSERT INTO performances (event_id, number, starts_at_ms, label, \
                     first_seat) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(event.id)
                .bind(i64::from(p.index))
                .bind(p.starts_at_ms)
                .bind(p.label.clone())
                .bind(i64::from(p.index) * seats.len() as i64)
                .execute(&mut *tx)
                .await
                .context("inserting a performance")?;
            }
        }
        // A sale that opens at once is told in the transaction that creates it; a later
        // opening is found by the event refresh of whichever instance is first.
        super::notices::sale_opened_in(&mut tx, self, event.id, now_ms).await?;
        tx.commit().await?;
        Ok(event)
    }

    /// One event, if it exists.
    pub async fn event(&self, id: EventId) -> anyhow::Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        Ok(sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The performances of an event with a seat map, in order (empty: no seat map).
    pub async fn performances(&self, event: EventId) -> anyhow::Result<Vec<Performance>> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT number, starts_at_ms, label FROM performances \
             WHERE event_id = $1 ORDER BY number",
        )
        .bind(event)
        .fetch_all(&self.pool)
        .await
        .context("reading performances")?;
        Ok(rows
            .into_iter()
            .map(|(n, starts_at_ms, label)| Performance {
                index: n as u32,
                starts_at_ms,
                label,
            })
            .collect())
    }

    /// Every event, oldest first.
    pub async fn events(&self) -> anyhow::Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY id");
        Ok(sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Writes a patched event (`Event::patched`) over `was`, the row it was computed
    /// from, and returns the row as stored. The write is guarded, so a change that raced
    /// another one is not lost silently: it happens only while the sale has not ended and,
    /// when the opening moves, while the stored opening is still `was`'s and still in the
    /// future. `Ok(None)`: the guard failed (or the event is gone); read the event again
    /// to say why.
    pub async fn patch_event(
        &self,
        was: &Event,
        new: &Event,
        now_ms: i64,
    ) -> anyhow::Result<Option<Event>> {
        let moves = new.sale_opens_at_ms != was.sale_opens_at_ms;
        let sql = format!(
            "UPDATE events SET name = $1, kind = $2, venue = $3, starts_at_ms = $4, \
             sale_opens_at_ms = $5, admission_rate = $6, max_active = $7, hold_secs = $8, \
             session_secs = $9, grace_secs = $10 \
             WHERE id = $11 AND ended_at_ms = 0 \
             AND ($12 = 0 OR (sale_opens_at_ms = $13 AND sale_opens_at_ms > $14)) \
             RETURNING {EVENT_COLUMNS}"
        );
        let mut tx = self.pool.begin().await?;
        let stored = sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(sql))
            .bind(&new.name)
            .bind(&new.kind)
            .bind(&new.venue)
            .bind(new.starts_at_ms)
            .bind(new.sale_opens_at_ms)
            .bind(new.admission_rate)
            .bind(new.max_active)
            .bind(new.hold_secs)
            .bind(new.session_secs)
            .bind(new.grace_secs)
            .bind(was.id)
            .bind(moves as i64)
            .bind(was.sale_opens_at_ms)
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await
            .context("patching an event")?;
        // An event of one performance is that performance: it moves with the start.
        if let Some(e) = &stored {
            sqlx::query(
                "UPDATE performances SET starts_at_ms = $1 WHERE event_id = $2 \
                 AND (SELECT COUNT(*) FROM performances WHERE event_id = $2) = 1",
            )
            .bind(e.starts_at_ms)
            .bind(e.id)
            .execute(&mut *tx)
            .await
            .context("moving the only performance")?;
        }
        tx.commit().await.context("patching an event")?;
        Ok(stored)
    }

    /// Ends the sale for good (idempotent: a second end keeps the first time) and returns
    /// the event as stored.
    /// The first end also writes `sale.ended` to the webhook outbox, in the same
    /// transaction: ending twice tells the ticket site once.
    pub async fn end_sale(&self, id: EventId, now_ms: i64) -> anyhow::Result<Option<Event>> {
        let ended_at = now_ms.max(1);
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("UPDATE events SET ended_at_ms = $1 WHERE id = $2 AND ended_at_ms = 0")
                .bind(ended_at)
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("ending a sale")?;
        if done.rows_affected() == 1
            && let Some(outbox) = self.outbox()
        {
            let data = serde_json::json!({
                "event_id": id,
                "ended_at": crate::clock::rfc3339(ended_at),
                "ended_at_ms": ended_at,
            });
            super::outbox::insert_event(&mut tx, outbox, "sale.ended", id, &data, now_ms)
                .await
                .context("writing sale.ended to the outbox")?;
        }
        tx.commit().await.context("ending a sale")?;
        self.event(id).await
    }

    /// Deletes an event that sold nothing, with its seat map, holds, revocations and
    /// checkpoint, in one transaction. `Ok(false)`: it has a booking, and nothing changed.
    pub async fn delete_unsold_event(&self, id: EventId) -> anyhow::Result<bool> {
        let mut tx = self.pool.begin().await?;
        let (booked,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM bookings WHERE event_id = $1) \
             + (SELECT COUNT(*) FROM booked_seats WHERE event_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .context("counting an event's bookings")?;
        if booked > 0 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM order_seats WHERE order_id IN (SELECT id FROM orders WHERE event_id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("deleting an event's order seats")?;
        for table in [
            "orders",
            "performances",
            "event_notices",
            "holds",
            "revocations",
            "room_checkpoints",
            "prices",
            "seats",
            "seat_map_areas",
            "events",
        ] {
            let column = if table == "events" { "id" } else { "event_id" };
            let sql = format!("DELETE FROM {table} WHERE {column} = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("deleting an event's {table}"))?;
        }
        tx.commit().await.context("deleting an event")?;
        Ok(true)
    }

    /// Pauses (true) or resumes admission.
    pub async fn set_paused(&self, id: EventId, paused: bool) -> anyhow::Result<Option<Event>> {
        sqlx::query("UPDATE events SET paused = $1 WHERE id = $2")
            .bind(paused as i64)
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.event(id).await
    }
}
