//! Events in the database.

use anyhow::Context;

use super::Db;
use crate::events::{Event, EventId, EventPatch, NewEvent};
use usher_protocol::SeatInfo;

const EVENT_COLUMNS: &str = "id, name, kind, venue, starts_at_ms, sale_opens_at_ms, \
     admission_rate, max_active, session_secs, grace_secs, paused, hold_secs";

impl Db {
    /// Stores a new event and its seat map in one transaction, and returns it.
    pub async fn create_event(
        &self,
        new: &NewEvent,
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
            .bind(new.starts_at_ms)
            .bind(new.sale_opens_at_ms.unwrap_or(now_ms))
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
        }
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

    /// Every event, oldest first.
    pub async fn events(&self) -> anyhow::Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events ORDER BY id");
        Ok(sqlx::query_as::<_, Event>(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Applies a patch and returns the changed event.
    pub async fn patch_event(
        &self,
        id: EventId,
        patch: &EventPatch,
    ) -> anyhow::Result<Option<Event>> {
        let Some(mut event) = self.event(id).await? else {
            return Ok(None);
        };
        event.admission_rate = patch.admission_rate.unwrap_or(event.admission_rate);
        event.max_active = patch.max_active.unwrap_or(event.max_active);
        sqlx::query("UPDATE events SET admission_rate = $1, max_active = $2 WHERE id = $3")
            .bind(event.admission_rate)
            .bind(event.max_active)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(Some(event))
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
