//! The webhook outbox: events for the ticket site, written in the same transaction as the
//! change they report ([`insert_event`]), then delivered by every instance
//! (`crate::webhooks`). A row is sent only by the instance that holds its lease
//! ([`Db::claim_webhook`]): a conditional `UPDATE` whose `rows_affected` says who won, on
//! SQLite and PostgreSQL alike. A lease that runs out (its instance died mid-delivery)
//! lets another instance send the same event again, with the same `event_uid`.

use sqlx::{Any, Transaction};

use crate::db::{Db, OutboxSettings};
use crate::events::EventId;

/// Which deliveries to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Not delivered yet, still being retried.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Retries ran out (`gave_up`).
    Failed,
}

impl WebhookEvent {
    /// Where it stands.
    pub fn status(&self) -> WebhookStatus {
        if self.delivered_at_ms.is_some() {
            WebhookStatus::Delivered
        } else if self.gave_up {
            WebhookStatus::Failed
        } else {
            WebhookStatus::Pending
        }
    }
}

impl WebhookStatus {
    /// The name the admin API uses.
    pub fn name(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "pending",
            WebhookStatus::Delivered => "delivered",
            WebhookStatus::Failed => "failed",
        }
    }

    /// `pending`, `delivered` or `failed`.
    pub fn parse(s: &str) -> Option<WebhookStatus> {
        match s {
            "pending" => Some(WebhookStatus::Pending),
            "delivered" => Some(WebhookStatus::Delivered),
            "failed" => Some(WebhookStatus::Failed),
            _ => None,
        }
    }

    fn condition(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "delivered_at_ms IS NULL AND gave_up = 0",
            WebhookStatus::Delivered => "delivered_at_ms IS NOT NULL",
            WebhookStatus::Failed => "delivered_at_ms IS NULL AND gave_up = 1",
        }
    }
}

/// One outbox row, as the delivery loop and the admin API see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Row id (the admin API's cursor).
    pub id: i64,
    /// The id receivers de-duplicate on (`evt_…`), the same for every attempt.
    pub event_uid: String,
    /// `order.paid`, …
    pub kind: String,
    /// The sale it is about.
    pub event_id: EventId,
    /// The body's `data`, as JSON text.
    pub payload: String,
    /// When the change happened.
    pub created_at_ms: i64,
    /// Attempts begun so far.
    pub attempts: i64,
    /// When the next attempt is due (meaningless once delivered or given up).
    pub next_attempt_at_ms: i64,
    /// When it was delivered.
    pub delivered_at_ms: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Retries ran out.
    pub gave_up: bool,
}

type Row = (
    i64,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
);

const COLUMNS: &str = "id, event_uid, type, event_id, payload, created_at_ms, attempts, \
    next_attempt_at_ms, delivered_at_ms, last_error, gave_up";

fn from_row(r: Row) -> WebhookEvent {
    WebhookEvent {
        id: r.0,
        event_uid: r.1,
        kind: r.2,
        event_id: r.3,
        payload: r.4,
        created_at_ms: r.5,
        attempts: r.6,
        next_attempt_at_ms: r.7,
        delivered_at_ms: r.8,
        last_error: r.9,
        gave_up: r.10 != 0,
    }
}

/// Writes an event into the outbox inside the caller's transaction, so it exists exactly
/// when the change it reports does. Returns its `event_uid`. Every kind of event (order
/// paid, later expired, refunded, sold out…) goes through here.
pub async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    settings: OutboxSettings,
    kind: &str,
    event: EventId,
    data: &serde_json::Value,
    now_ms: i64,
) -> anyhow::Result<String> {
    let uid = format!("evt_{}", hex::encode(rand::random::<[u8; 16]>()));
    sqlx::query(
        "INSERT INTO webhook_events (event_uid, type, event_id, payload, created_at_ms, \
         next_attempt_at_ms, give_up_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uid.clone())
    .bind(kind.to_owned())
    .bind(event)
    .bind(data.to_string())
    .bind(now_ms)
    .bind(now_ms)
    .bind(now_ms.saturating_add(settings.retry_ms))
    .execute(&mut **tx)
    .await?;
    Ok(uid)
}

impl Db {
    /// Writes outbox rows when webhooks are on (see [`OutboxSettings`]).
    pub fn with_outbox(mut self, outbox: Option<OutboxSettings>) -> Db {
        self.outbox = outbox;
        self
    }

    /// The outbox settings, `None` when webhooks are off.
    pub fn outbox(&self) -> Option<OutboxSettings> {
        self.outbox
    }

    /// Ids of rows due for an attempt and not leased, oldest due first.
    pub async fn due_webhooks(&self, now_ms: i64, limit: i64) -> anyhow::Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM webhook_events WHERE delivered_at_ms IS NULL AND gave_up = 0 \
             AND next_attempt_at_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms < $1) \
             ORDER BY next_attempt_at_ms, id LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Takes the lease of row `id` until `lease_until_ms` for `owner`, counting an attempt;
    /// `None` when another instance holds it or it needs no attempt any more. One
    /// conditional `UPDATE`: of several instances, exactly one sees a row affected.
    pub async fn claim_webhook(
        &self,
        id: i64,
        owner: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> anyhow::Result<Option<WebhookEvent>> {
        let done = sqlx::query(
            "UPDATE webhook_events SET lease_until_ms = $1, lease_owner = $2, \
             attempts = attempts + 1 WHERE id = $3 AND delivered_at_ms IS NULL \
             AND gave_up = 0 AND next_attempt_at_ms <= $4 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $4)",
        )
        .bind(lease_until_ms)
        .bind(owner.to_owned())
        .bind(id)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        self.webhook(id).await
    }

    /// One outbox row.
    pub async fn webhook(&self, id: i64) -> anyhow::Result<Option<WebhookEvent>> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_events WHERE id = $1");
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(from_row))
    }

    /// The receiver took it. Recorded whoever holds the lease now: delivered is final.
    pub async fn webhook_delivered(&self, id: i64, now_ms: i64) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE webhook_events SET delivered_at_ms = $1, lease_until_ms = NULL, \
             lease_owner = NULL, last_error = NULL WHERE id = $2 AND delivered_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// An attempt by `owner` failed: the next one is due at `next_at_ms`, or never
    /// (`gave_up`) once that is past the row's give-up time. Ignored when `owner` lost
    /// the lease meanwhile (another instance is already on it).
    pub async fn webhook_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        next_at_ms: i64,
    ) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE webhook_events SET lease_until_ms = NULL, lease_owner = NULL, \
             last_error = $1, next_attempt_at_ms = $2, \
             gave_up = CASE WHEN $2 > give_up_at_ms THEN 1 ELSE 0 END \
             WHERE id = $3 AND lease_owner = $4 AND delivered_at_ms IS NULL",
        )
        .bind(error.to_owned())
        .bind(next_at_ms)
        .bind(id)
        .bind(owner.to_owned())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deliveries with `status`, by id after the cursor `after`.
    pub async fn webhooks(
        &self,
        status: Option<WebhookStatus>,
        after: i64,
        limit: i64,
    ) -> anyhow::Result<Vec<WebhookEvent>> {
        let filter = status.map_or("1 = 1", WebhookStatus::condition);
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_events WHERE id > $1 AND {filter} ORDER BY id LIMIT $2"
        );
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// Puts a delivery that gave up back in line: due now, retried for `retry_ms` more,
    /// attempts counted from zero. False when `id` has not given up (or does not exist).
    pub async fn retry_webhook(&self, id: i64, now_ms: i64, retry_ms: i64) -> anyhow::Result<bool> {
        let done = sqlx::query(
            "UPDATE webhook_events SET gave_up = 0, attempts = 0, next_attempt_at_ms = $1, \
             give_up_at_ms = $2, lease_until_ms = NULL, lease_owner = NULL \
             WHERE id = $3 AND gave_up = 1 AND delivered_at_ms IS NULL",
        )
        .bind(now_ms)
        .bind(now_ms.saturating_add(retry_ms))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
