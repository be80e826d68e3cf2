//! The Redis engine: all queue state in Redis, every decision in one Lua script, and the
//! bus fanned out in process. It runs on one Redis server or on a Redis Cluster
//! ([`conn::Conn`]); the code above the connection is the same.
//!
//! Keys: `{prefix}:{e<event id>}:<name>`. The hash tag puts one event in one cluster slot;
//! the only variable part is the event's numeric id, never a user-supplied string. Buyers
//! appear only as random (or keyed-hash) 128-bit ids.
//!
//! The bus: on one server, one pub/sub channel per deployment and one subscription per
//! process (`single`); on a cluster, sharded pub/sub, one channel per event in the event's
//! slot, and each instance subscribes to the events it serves (`shard`).

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use redis::Script;
use tokio::sync::{broadcast, watch};

use crate::engine::bus::{Bus, BusMessage};
use crate::engine::queue::EngineResult;
use crate::events::{EventId, RoomConfig};

use crate::engine::persistence;
pub use conn::Conn;
use scripts::Scripts;
mod conn;
mod joins;
mod queue;
mod scripts;
mod seats;
mod shard;
mod single;

/// The Redis engine.
pub struct RedisEngine {
    conn: Conn,
    prefix: String,
    /// The deployment's one bus channel (one server); unused on a cluster.
    channel: String,
    /// The sharded subscriptions (a cluster only).
    listener: Option<Arc<shard::Listener>>,
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
    /// Connects to one Redis server, and starts the process's one pub/sub subscription.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<RedisEngine> {
        let client = redis::Client::open(url).context("parsing redis_url")?;
        let conn = Conn::single(client.clone()).await?;
        let (bus, _) = broadcast::channel(16_384);
        let alive = Arc::new(());
        let channel = format!("{prefix}:bus");
        tokio::spawn(single::supervise_subscriber(
            client,
            channel.clone(),
            bus.clone(),
            Arc::downgrade(&alive),
        ));
        Ok(RedisEngine::with(conn, prefix, channel, None, bus, alive).await)
    }

    /// Connects to a Redis Cluster through any of these seed nodes (`redis://host:port`),
    /// with sharded pub/sub for the bus.
    pub async fn connect_cluster(seeds: &[String], prefix: &str) -> anyhow::Result<RedisEngine> {
        anyhow::ensure!(!seeds.is_empty(), "redis_cluster_urls names no node");
        let conn = Conn::cluster(seeds).await?;
        let (bus, _) = broadcast::channel(16_384);
        let listener = shard::Listener::start(seeds, prefix, bus.clone()).await?;
        let channel = String::new();
        let alive = Arc::new(());
        Ok(RedisEngine::with(conn, prefix, channel, Some(listener), bus, alive).await)
    }

    async fn with(
        conn: Conn,
        prefix: &str,
        channel: String,
        listener: Option<Arc<shard::Listener>>,
        bus: broadcast::Sender<BusMessage>,
        alive: Arc<()>,
    ) -> RedisEngine {
        let persistence = persistence::probe(&conn).await;
        match persistence.warning() {
            Some(w) => tracing::warn!(persistence = persistence.label(), "{w}"),
            None => tracing::info!(persistence = persistence.label(), "Redis persistence"),
        }
        RedisEngine {
            conn,
            prefix: prefix.to_owned(),
            channel,
            listener,
            scripts: Arc::new(Scripts::new()),
            joins: Arc::default(),
            bus,
            lease_ms: crate::engine::queue::presence_lease_ms(5_000),
            _alive: alive,
            persistence,
        }
    }

    /// True on a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.conn.is_cluster()
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

    /// The keys every script declares, in prelude order (the last is the bus channel).
    fn keys(&self, event: EventId) -> [String; 13] {
        let mut keys = [
            "meta", "q", "pre", "st", "seen", "active", "dep", "seats", "hexp", "bhold", "bsold",
            "sess", "",
        ]
        .map(|n| self.key(event, n));
        keys[12] = self.bus_channel(event);
        keys
    }

    /// Where an event's bus messages go: the deployment's channel on one server, the
    /// event's sharded channel (in its slot) on a cluster.
    fn bus_channel(&self, event: EventId) -> String {
        match self.listener {
            Some(_) => shard::channel(&self.prefix, event),
            None => self.channel.clone(),
        }
    }

    /// How the scripts publish (see `lua/prelude.lua`).
    fn publish_command(&self) -> &'static str {
        match self.listener {
            Some(_) => "SPUBLISH",
            None => "PUBLISH",
        }
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
            .arg(self.publish_command())
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

#[async_trait]
impl Bus for RedisEngine {
    async fn publish(&self, msg: &BusMessage) -> EngineResult<()> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd(self.publish_command())
            .arg(self.bus_channel(msg.event()))
            .arg(serde_json::to_string(msg)?)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<BusMessage> {
        self.bus.subscribe()
    }

    async fn listen(&self, event: EventId) {
        if let Some(l) = &self.listener {
            l.listen(event).await;
        }
    }

    fn gaps(&self) -> Option<watch::Receiver<u64>> {
        self.listener.as_ref().map(|l| l.gaps())
    }
}
