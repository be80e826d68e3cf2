//! The database: the record of everything that must outlive the engine's store. Events
//! ([`events`]), seat maps and bookings ([`seats`]), holds ([`holds`]), queue numbers and
//! room counters ([`checkpoints`]), the webhook outbox ([`outbox`]) and the notices about
//! a sale as a whole that feed it ([`notices`]), and shared secrets (here). SQLite
//! (default) or PostgreSQL through one `AnyPool`; each backend has its own migrations
//! folder because their DDL differs.

pub mod checkpoints;
pub mod events;
pub mod holds;
pub mod notices;
pub mod orders;
pub mod outbox;
pub mod refunds;
pub mod seats;

use anyhow::Context;
use sqlx::{AnyPool, any::AnyPoolOptions};

static SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What emitting needs to know; `None` on [`Db`] means webhooks are off and nothing is
/// written (turning them on later does not flood the site with old events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSettings {
    /// How long after its creation an event is still retried.
    pub retry_ms: i64,
}

/// A cheap handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    /// Webhooks on: changes write their outbox rows (see [`OutboxSettings`]).
    outbox: Option<OutboxSettings>,
}

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
        Ok(Db { pool, outbox: None })
    }

    /// The pool, for modules that keep their own tables.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
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
