//! Engine conformance: the same cases against every engine, memory and Redis, on manual
//! time (every step is given its `now_ms`; nothing sleeps). `queue` covers the waiting
//! room ([`QueueEngine`]), `seats` the seat half ([`SeatEngine`]).
//!
//! Each case is written once as `async fn case(kind: Engine)` and listed in
//! [`engine_test!`], which makes it three tests, `memory::case`, `redis::case` and
//! `cluster::case`, so a failure names its engine. The Redis ones run when REDIS_URL is set
//! (CI sets it) and otherwise say so and pass. The cluster ones run the Redis engine on a
//! three-primary Redis Cluster that this test binary starts once (`RedisCluster::shared`)
//! when `redis-server` is installed, each case under its own key prefix.

use std::sync::Arc;

use usher::engine::seats::SeatEngine;
use usher::engine::{Engines, QueueEngine, memory::MemoryEngine, redis::RedisEngine};
use usher_testkit::RedisCluster;

/// Which engine a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Memory,
    Redis,
    Cluster,
}

/// The Redis URL of the test environment; `None` skips the Redis variants.
pub fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
}

/// A fresh engine of this kind, both halves of it: a new memory engine, or a Redis engine
/// under its own random key prefix (so cases never see each other's keys). `lease_ms`
/// sets the presence lease; `None` keeps the engine's default.
pub async fn fresh(
    kind: Engine,
    lease_ms: Option<i64>,
) -> (Arc<dyn QueueEngine>, Arc<dyn SeatEngine>) {
    let e = fresh_engines(kind, lease_ms).await;
    (e.queue, e.seats)
}

/// [`fresh`], as all three handles (queue, seats and bus) of the one engine.
pub async fn fresh_engines(kind: Engine, lease_ms: Option<i64>) -> Engines {
    match kind {
        Engine::Memory => {
            let mut e = MemoryEngine::default();
            if let Some(ms) = lease_ms {
                e = e.with_lease(ms);
            }
            Engines::of(e)
        }
        Engine::Redis | Engine::Cluster => {
            let prefix = format!("c{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            let mut e = if kind == Engine::Cluster {
                let cluster = RedisCluster::shared().expect("a cluster for the cluster variants");
                let seeds: Vec<String> = cluster.urls().split(',').map(String::from).collect();
                RedisEngine::connect_cluster(&seeds, &prefix)
                    .await
                    .expect("the cluster answers")
            } else {
                let url = redis_url().expect("REDIS_URL is set for the Redis variants");
                RedisEngine::connect(&url, &prefix)
                    .await
                    .expect("Redis answers")
            };
            if let Some(ms) = lease_ms {
                e = e.with_lease(ms);
            }
            Engines::of(e)
        }
    }
}

/// Turns each listed `async fn case(kind: Engine)` of the calling module into three tests,
/// `memory::case`, `redis::case` and `cluster::case`.
macro_rules! engine_test {
    ($($case:ident),+ $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(crate::Engine::Memory).await;
                }
            )+
        }

        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    if crate::redis_url().is_none() {
                        eprintln!(
                            "REDIS_URL is not set: skipping the Redis engine for {}",
                            stringify!($case)
                        );
                        return;
                    }
                    super::$case(crate::Engine::Redis).await;
                }
            )+
        }

        mod cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    if usher_testkit::RedisCluster::shared().is_none() {
                        eprintln!(
                            "redis-server is not installed: skipping the cluster for {}",
                            stringify!($case)
                        );
                        return;
                    }
                    super::$case(crate::Engine::Cluster).await;
                }
            )+
        }
    };
}

mod bus;
mod queue;
mod seats;
