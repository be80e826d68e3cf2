//! The database: events and shared secrets, on SQLite (default) or PostgreSQL through one
//! `AnyPool`. Each backend has its own migrations folder because their DDL differs.

use anyhow::Context;
use sqlx::{AnyPool, any::AnyPoolOptions};

use crate::engine::Counters;
use crate::events::{Event, EventId, EventPatch, NewEvent};
use usher_protocol::SeatInfo;

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A cheap handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
}

const EVENT_COLUMNS: &str = "id, name, kind, venue, starts_at_ms, sale_opens_at_ms, \
     admission_rate, max_active, session_secs, grace_secs, paused, hold_secs";

impl Db {
    /// Connects and runs the migrations of the backend the URL names.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let is_sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            // SQLite allows one writer: a single connection avoids "database is locked".
            .max_connections(if is_sqlite { 1 } else { 10 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if is_sqlite {
                        // One writer serves every hold, release and booking: a write-ahead
                        // log synced at checkpoints, not at every commit, keeps a seat rush
                        // from queueing behind fsyncs. A power cut may lose the last
                        // commits; an usher crash loses nothing. (PostgreSQL is the
                        // production database.)
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .with_context(|| format!("connecting to the database ({})", redact(url)))?;
        let migrator = if is_sqlite { &SQLITE } else { &POSTGRES };
        migrator
            .run(&pool)
            .await
            .context("running database migrations")?;
        Ok(Db { pool })
    }

    /// The pool, for modules that keep their own tables.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

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
            crate::seats::store::insert_map(&mut tx, event.id, seats, &map.prices).await?;
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

    /// True for exactly one caller ever (per database): guards one-time setup that several
    /// instances may attempt at once.
    pub async fn claim_once(&self, name: &str) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ($1, '1') ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The named secret; created from `make` by the first instance that asks, so all
    /// instances on one database end up with the same value.
    pub async fn shared_secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        sqlx::query(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_owned())
        .bind(make())
        .execute(&self.pool)
        .await?;
        let (value,): (String,) = sqlx::query_as("SELECT value FROM secrets WHERE name = $1")
            .bind(name.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(value)
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

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
