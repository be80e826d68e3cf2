//! The engine's connection: one Redis server (a [`ConnectionManager`]) or a Redis Cluster
//! (the redis crate's async [`ClusterConnection`], which routes each command by its first
//! key's slot and follows MOVED / ASK and failovers). Every script and read of the engine
//! names keys of one event only, all in that event's slot, so the same code runs on both.

use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// How long one command may take. A sale's first seconds can queue many scripts at once:
/// allow a slow answer rather than failing joins (the crate's default is 500 ms).
pub(super) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connecting to one node may take.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to a single Redis or to a cluster; cheap to clone (both multiplex).
#[derive(Clone)]
pub enum Conn {
    /// One Redis server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl Conn {
    /// Connects to one Redis server.
    pub(super) async fn single(client: redis::Client) -> anyhow::Result<Conn> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .context("connecting to Redis")?;
        Ok(Conn::Single(conn))
    }

    /// Connects to the cluster that these seed nodes belong to (any reachable one will do;
    /// the rest of the topology is read from it).
    pub(super) async fn cluster(seeds: &[String]) -> anyhow::Result<Conn> {
        let client = cluster_builder(seeds)
            .build()
            .context("parsing redis_cluster_urls")?;
        let conn = client
            .get_async_connection()
            .await
            .context("connecting to the Redis Cluster")?;
        Ok(Conn::Cluster(conn))
    }

    /// True on a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, Conn::Cluster(_))
    }
}

/// The settings every cluster client of the engine shares (commands and subscriptions).
pub(super) fn cluster_builder(seeds: &[String]) -> ClusterClientBuilder {
    ClusterClientBuilder::new(seeds.iter().map(String::as_str))
        .response_timeout(RESPONSE_TIMEOUT)
        .connection_timeout(CONNECT_TIMEOUT)
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}
