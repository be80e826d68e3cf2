//! The Redis engine: all queue state in Redis, every decision in one Lua script, and one
//! pub/sub subscription per process fanned out in process.
//!
//! Keys: `{prefix}:{e<event id>}:<name>`. The hash tag puts one event in one cluster slot;
//! the only variable part is the event's numeric id, never a user-supplied string. Buyers
//! appear only as random (or keyed-hash) 128-bit ids.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use futures_util::StreamExt;
use redis::{AsyncCommands, Script, aio::ConnectionManager};
use tokio::sync::broadcast;

use crate::engine::bus::{Bus, BusMessage};
use crate::engine::queue::EngineResult;
use crate::events::{EventId, RoomConfig};

use crate::engine::persistence;
use scripts::Scripts;
mod joins;
mod queue;
mod scripts;
mod seats;

/// The Redis engine.
pub struct RedisEngine {
    conn: ConnectionManager,
    prefix: String,
    channel: String,
    scripts: Arc<Scripts>,
    /// Joins waiting to go out together (`joins`).
    joins: Arc<joins::JoinBatches>,
    bus: broadcast::Sender<BusMessage>,
    lease_ms: i64,
    _alive: Arc<()>,
    /// Redis's persistence settings, read at connect.
    persistence: persistence::Persistence,
}

impl RedisEngine {
    /// Connects, and starts the process's one pub/sub subscription.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisEngine> {
        let client = redis::Client::open(url).context("parsing redis_url")?;
        // A sale's first seconds can queue many scripts at once: allow a slow answer
        // rather than failing joins (the default response timeout is 500 ms).
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_connection_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .context("connecting to Redis")?;
        let persistence = persistence::probe(&conn).await;
        match persistence.warning() {
            Some(w) => tracing::warn!(persistence = persistence.label(), "{w}"),
            None => tracing::info!(persistence = persistence.label(), "Redis persistence"),
        }
        let channel = format!("{prefix}:bus");
        let (bus, _) = broadcast::channel(16_384);
        let alive = Arc::new(());
        tokio::spawn(supervise_subscriber(
            client,
            channel.clone(),
            bus.clone(),
            Arc::downgrade(&alive),
        ));
        Ok(RedisEngine {
            conn,
            prefix: prefix.to_owned(),
            channel,
            scripts: Arc::new(Scripts::new()),
            joins: Arc::default(),
            bus,
            lease_ms: crate::engine::queue::presence_lease_ms(5_000),
            _alive: alive,
            persistence,
        })
    }

    /// Sets how long a connected buyer's presence lasts beyond the grace period without a
    /// heartbeat (see [`super::presence_lease_ms`]).
    pub fn with_lease(mut self, lease_ms: i64) -> RedisEngine {
        self.lease_ms = lease_ms;
        self
    }

    fn key(&self, event: EventId, name: &str) -> String {
        format!("{}:{{e{event}}}:{name}", self.prefix)
    }

    /// The keys every script declares, in prelude order.
    fn keys(&self, event: EventId) -> [String; 12] {
        [
            "meta", "q", "pre", "st", "seen", "active", "dep", "seats", "hexp", "bhold", "bsold",
            "sess",
        ]
        .map(|n| self.key(event, n))
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        event: EventId,
        now_ms: i64,
        seed: u64,
        args: &[String],
    ) -> EngineResult<T> {
        let mut inv = script.prepare_invoke();
        for k in self.keys(event) {
            inv.key(k);
        }
        inv.arg(event)
            .arg(&self.channel)
            .arg(now_ms)
            .arg(seed % (1 << 40));
        for a in args {
            inv.arg(a);
        }
        let mut conn = self.conn.clone();
        Ok(inv.invoke_async(&mut conn).await?)
    }

    async fn configure_with(
        &self,
        event: EventId,
        cfg: &RoomConfig,
        only_if_missing: bool,
    ) -> EngineResult<()> {
        let args = [
            cfg.rate.to_string(),
            cfg.max_active.to_string(),
            cfg.session_ms.to_string(),
            cfg.grace_ms.to_string(),
            cfg.opens_at_ms.to_string(),
            if cfg.paused { "1" } else { "0" }.to_string(),
            if only_if_missing { "1" } else { "0" }.to_string(),
            if cfg.ended { "1" } else { "0" }.to_string(),
        ];
        let _: i64 = self
            .run(&self.scripts.configure, event, 0, 0, &args)
            .await?;
        Ok(())
    }
}

/// Runs [`subscribe_forever`] and starts it again should it ever panic (the panic is
/// counted and shows in `/healthz`): an instance without its bus would stop hearing about
/// admissions and seat changes made elsewhere.
async fn supervise_subscriber(
    client: redis::Client,
    channel: String,
    bus: broadcast::Sender<BusMessage>,
    alive: std::sync::Weak<()>,
) {
    loop {
        let run = subscribe_forever(client.clone(), channel.clone(), bus.clone(), alive.clone());
        match tokio::spawn(run).await {
            Err(e) if e.is_panic() && alive.upgrade().is_some() => {
                tracing::error!("the bus subscriber panicked; starting it again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ => return,
        }
    }
}

/// Keeps one subscription to the bus channel open, reconnecting with backoff; rooms resync
/// from snapshots on their own, so a message missed while reconnecting is not lost state.
async fn subscribe_forever(
    client: redis::Client,
    channel: String,
    bus: broadcast::Sender<BusMessage>,
    alive: std::sync::Weak<()>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&channel).await {
                    tracing::warn!(error = %e, "subscribing to the bus failed");
                } else {
                    backoff = Duration::from_millis(100);
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        match serde_json::from_slice::<BusMessage>(msg.get_payload_bytes()) {
                            Ok(m) => {
                                let _ = bus.send(m);
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable bus message"),
                        }
                    }
                }
                tracing::warn!("bus subscription ended; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "bus connection failed; retrying"),
        }
        if alive.upgrade().is_none() {
            return; // the engine was dropped with its app
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[async_trait]
impl Bus for RedisEngine {
    async fn publish(&self, msg: &BusMessage) -> EngineResult<()> {
        let mut conn = self.conn.clone();
        let _: i64 = conn
            .publish(&self.channel, serde_json::to_string(msg)?)
            .await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.bus.subscribe()
    }
}
