//! The shared helpers of usher's integration tests (`tests/*.rs` at the repository root).
//!
//! The tests run usher for real: servers start in-process on port 0 against real Redis,
//! PostgreSQL or SQLite ([`World`], [`Server`]), and buyers talk to them over real
//! WebSockets and HTTP ([`Client`]). Around that:
//!
//! - [`server`]: worlds (an isolated Redis prefix and database) and the servers in them;
//! - [`client`]: a buyer's WebSocket, with the waits every test needs;
//! - [`seats`]: the seat map as a page sees it (snapshots, deltas, layouts);
//! - [`stores`]: Redis and PostgreSQL of the test environment, and a `redis-server` of a
//!   test's own that it can wipe, kill, freeze and restart;
//! - [`cluster`]: a Redis Cluster of a test's own (or one shared per test binary);
//! - [`proxy`]: a TCP proxy in front of PostgreSQL that loses a COMMIT on purpose;
//! - [`tokens`]: entry tokens checked independently of usher's own code.
//!
//! Only tests use this crate; it is not published.

#![warn(missing_docs)]

use std::time::Duration;

pub mod client;
pub mod cluster;
pub mod proxy;
pub mod seats;
pub mod server;
pub mod stores;
pub mod tokens;

pub use client::{Client, Closed};
pub use cluster::RedisCluster;
pub use seats::{LayoutSeat, SeatView, decode_states, expand_layout, seat_map};
pub use server::{Server, World};
pub use stores::{RedisServer, fresh_postgres, redis_url};
pub use tokens::{claims, verify_with_jwks};

/// The admin key every test server uses.
pub const ADMIN_KEY: &str = "test-admin-key";
/// The site secret every test server uses.
pub const SITE_SECRET: &str = "test-site-secret";
/// How long a test waits for an expected message before failing (a hang guard only).
pub const WAIT: Duration = Duration::from_secs(15);

/// Checks `check` every 50 ms until it gives `Ok`, and returns that; panics with the
/// last `Err` (what was seen instead) when [`WAIT`] runs out. For states that arrive on
/// their own (a restore, a background loop), not for timing.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(v) => return v,
            Err(seen) if tokio::time::Instant::now() >= deadline => {
                panic!("{what} never happened; last seen: {seen}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Which engine a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// The in-process engine (`engine = "memory"`).
    Memory,
    /// The Redis engine, on the Redis at `REDIS_URL` unless a test says otherwise.
    Redis,
    /// The Redis engine on a Redis Cluster: the test binary's shared cluster
    /// ([`RedisCluster::shared`]) unless a test says otherwise.
    Cluster,
}

/// Engines to run a conformance case against: memory always, Redis when configured.
pub fn engines() -> Vec<Engine> {
    let mut v = vec![Engine::Memory];
    if redis_url().is_some() {
        v.push(Engine::Redis);
    } else {
        eprintln!("REDIS_URL is not set: skipping the Redis engine");
    }
    v
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the OS picked it).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("an address").port()
}

/// Twelve random hex digits: names of test databases, Redis prefixes and directories.
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}
