//! Faults the waiting room must survive: clients that churn at full speed, a grace period
//! shorter than the heartbeat, a queue store that loses its data (FLUSHALL, a Redis
//! restarted empty, the memory engine restarted) and a queue store that freezes.
//!
//! Each test starts its own `redis-server` on a free port with no persistence, so it can
//! wipe, kill, restart, freeze and thaw it without touching anyone else's data.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use usher_testkit::{Client, Engine, RedisServer, Server, WAIT, World, claims, verify_with_jwks};

/// A world of one test: a redis-server of its own for the Redis engine (none for memory).
async fn world(engine: Engine) -> (Option<RedisServer>, World) {
    let redis = match engine {
        Engine::Redis => Some(RedisServer::start().await),
        Engine::Memory | Engine::Cluster => None,
    };
    (redis, World::new(engine).await)
}

async fn start(
    world: &World,
    redis: &Option<RedisServer>,
    change: impl FnOnce(&mut usher::Settings),
) -> Server {
    let url = redis.as_ref().map(RedisServer::url).unwrap_or_default();
    world
        .start_with(|s| {
            s.redis_url = url;
            change(s);
        })
        .await
}

/// GET with a client timeout that is only a hang guard.
async fn get(server: &Server, path: &str) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client");
    let res = client
        .get(format!("{}{path}", server.http()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("expected {path} to answer, got {e}"));
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The queue number a credential carries.
fn seq_of(server: &Server, event: i64, credential: &Value) -> u64 {
    let (_, seq) = server
        .state
        .identity
        .check_credential(event, credential.as_str().expect("a credential"))
        .expect("a credential usher issued");
    seq.expect("the credential carries a queue number")
}

async fn patch(server: &Server, event: i64, body: Value) {
    let (status, res) = server
        .admin("PATCH", &format!("/api/admin/events/{event}"), Some(body))
        .await;
    assert_eq!(status, 200, "patching the event: {res}");
}

/// A buyer in line: the socket, the `joined` message and the first position.
struct Buyer {
    client: Client,
    joined: Value,
    position: u64,
}

async fn join_line(server: &Server, event: i64, extra: Value) -> Buyer {
    let mut client = server.connect(event).await;
    let joined = client.join_with(extra).await;
    let status = client.recv_type("status").await;
    let position = status["position"]
        .as_u64()
        .unwrap_or_else(|| panic!("expected a position, got {status}"));
    Buyer {
        client,
        joined,
        position,
    }
}

/// The next `status` sent at or after `after_ms` in state `state` (earlier ones and other
/// states are skipped); an error, an admission or a close fails the test.
async fn status_after(client: &mut Client, after_ms: i64, state: &str) -> Value {
    client
        .recv_until(|m| {
            assert!(
                m["type"] == "status" || m["type"] == "credential",
                "expected a {state} status, got {m}"
            );
            m["type"] == "status"
                && m["state"] == state
                && m["server_time_ms"].as_i64().unwrap_or(0) >= after_ms
        })
        .await
}

/// Waits for the socket's `admitted`, checks the token and the close; returns the token's
/// claims and when the session ends (ms).
async fn admitted(server: &Server, client: &mut Client, buyer: &Value) -> (Value, i64) {
    let a = client.recv_type("admitted").await;
    let token = a["token"].as_str().expect("a token");
    let verified = verify_with_jwks(server, token).await;
    let c = claims(token);
    assert_eq!(verified, c, "the hand-decoded payload is the verified one");
    assert_eq!(&c["sub"], buyer, "the token is for this buyer");
    assert_eq!(client.closed().await.code, 1000, "admitted, then closed");
    (c, a["expires_at_ms"].as_i64().expect("expires_at_ms"))
}

// ---------------------------------------------------------------------------------------
// 1. Churn
// ---------------------------------------------------------------------------------------

/// One churning connection: join → leave → hang up, join → hang up, or join sent and the
/// socket dropped at once. The server may admit the buyer at any point in between.
async fn churn_once(url: &str, kind: usize) {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens");
    let join = Message::Text(json!({ "type": "join" }).to_string().into());
    ws.send(join).await.expect("sending join");
    if kind == 2 {
        return; // hung up right after join
    }
    let first = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("expected joined, got nothing in time");
    match first {
        Some(Ok(Message::Text(t))) => {
            let m: Value = serde_json::from_str(&t).expect("JSON");
            assert_eq!(m["type"], "joined", "expected joined, got {m}");
        }
        other => panic!("expected joined, got {other:?}"),
    }
    if kind == 0 {
        // The buyer may already be admitted and the socket closing: ignore send errors.
        let _ = ws
            .send(Message::Text(json!({ "type": "leave" }).to_string().into()))
            .await;
    }
}

async fn churn_leaves_the_room_healthy(engine: Engine) {
    let (redis, world) = world(engine).await;
    let server = start(&world, &redis, |_| {}).await;
    let panics_before = usher::telemetry::health::panics();
    // A high rate: buyers are admitted between the engine's join and the room's attach.
    let event = server
        .create_event(json!({ "admission_rate": 100000.0, "max_active": 1_000_000 }))
        .await;
    let url = server.queue_url(event);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let url = url.clone();
            tokio::spawn(async move {
                for i in 0..300 {
                    churn_once(&url, (t + i) % 3).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("a churning task ended without panicking");
    }
    // A normal buyer still gets the whole lifecycle.
    server.pause(event).await;
    let mut buyer = join_line(&server, event, json!({})).await;
    server.resume(event).await;
    admitted(&server, &mut buyer.client, &buyer.joined["buyer"]).await;
    let (status, health) = get(&server, "/healthz").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["tasks_down"], json!([]), "{health}");
    assert_eq!(health["task_restarts"], 0, "{health}");
    assert_eq!(
        usher::telemetry::health::panics(),
        panics_before,
        "no panic anywhere in the process during the churn"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churning_clients_leave_the_room_healthy_memory() {
    churn_leaves_the_room_healthy(Engine::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churning_clients_leave_the_room_healthy_redis() {
    churn_leaves_the_room_healthy(Engine::Redis).await;
}

// ---------------------------------------------------------------------------------------
// 2. Grace 0
// ---------------------------------------------------------------------------------------

async fn grace_zero_drops_no_connected_buyer(engine: Engine, heartbeat_ms: u64) {
    let (redis, world) = world(engine).await;
    let server = start(&world, &redis, |s| s.heartbeat_ms = heartbeat_ms).await;
    let event = server
        .create_event(json!({ "admission_rate": 1.0, "grace_secs": 0, "max_active": 1000 }))
        .await;
    server.pause(event).await;
    let mut buyers = Vec::new();
    for _ in 0..5 {
        buyers.push(join_line(&server, event, json!({})).await);
    }
    server.resume(event).await;
    // One a second: the last is let in four seconds after the first, many heartbeats
    // (and, with a short heartbeat, many presence leases) later.
    let mut decided = Vec::new();
    let guard = WAIT * 2;
    for b in buyers.iter_mut() {
        let (_, exp_ms) =
            tokio::time::timeout(guard, admitted(&server, &mut b.client, &b.joined["buyer"]))
                .await
                .expect("expected every buyer admitted, got a hang");
        decided.push(exp_ms);
    }
    let positions: Vec<u64> = buyers.iter().map(|b| b.position).collect();
    assert_eq!(positions, vec![1, 2, 3, 4, 5]);
    assert!(
        decided.windows(2).all(|w| w[0] < w[1]),
        "admitted one at a time (rate 1/s, burst 1) in the order they joined: {decided:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn grace_zero_keeps_connected_buyers_with_the_default_heartbeat_memory() {
    grace_zero_drops_no_connected_buyer(Engine::Memory, 5000).await;
}

#[tokio::test]
async fn grace_zero_keeps_connected_buyers_with_the_default_heartbeat_redis() {
    grace_zero_drops_no_connected_buyer(Engine::Redis, 5000).await;
}

#[tokio::test]
async fn grace_zero_keeps_connected_buyers_across_many_short_leases_memory() {
    grace_zero_drops_no_connected_buyer(Engine::Memory, 300).await;
}

#[tokio::test]
async fn grace_zero_keeps_connected_buyers_across_many_short_leases_redis() {
    grace_zero_drops_no_connected_buyer(Engine::Redis, 300).await;
}

// ---------------------------------------------------------------------------------------
// 3, 4. The queue store loses its data
// ---------------------------------------------------------------------------------------

/// How the queue store loses every place it held.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Loss {
    /// `FLUSHALL` on the Redis.
    Flushall,
    /// The redis-server SIGKILLed and started again, empty, on the same port.
    RedisRestartedEmpty,
    /// The memory engine's app stopped and a new one started on the same SQLite file.
    AppRestarted,
}

/// Waits until the database's checkpoint has seen every number up to `seq` handed out.
async fn until_checkpointed(server: &Server, event: i64, seq: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let now = server.state.clock.now_ms();
        let c = server.state.db.checkpoint(event, now).await.expect("db");
        if c.issued >= seq {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected the checkpoint to reach number {seq}, got {c:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `/readyz` until it answers 200 (the engine reconnected after a restart).
async fn until_ready(server: &Server) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = get(server, "/readyz").await;
        if status == 200 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected /readyz 200 after the store came back, got {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_store_that_loses_its_data_loses_no_place(loss: Loss) {
    let engine = match loss {
        Loss::AppRestarted => Engine::Memory,
        Loss::Flushall | Loss::RedisRestartedEmpty => Engine::Redis,
    };
    let (mut redis, world) = world(engine).await;
    let mut server = start(&world, &redis, |_| {}).await;
    let event = server
        .create_event(json!({ "admission_rate": 1000.0, "max_active": 1000 }))
        .await;
    server.pause(event).await;
    // 20 buyers stay connected; 10 join and hang up, keeping their credentials.
    let mut connected = Vec::new();
    for _ in 0..20 {
        connected.push(join_line(&server, event, json!({})).await);
    }
    let mut gone = Vec::new();
    for _ in 0..10 {
        let b = join_line(&server, event, json!({})).await;
        gone.push((b.joined, b.position));
    }
    let positions: Vec<u64> = connected
        .iter()
        .map(|b| b.position)
        .chain(gone.iter().map(|g| g.1))
        .collect();
    assert_eq!(positions, (1..=30).collect::<Vec<u64>>());
    let original_seqs: Vec<u64> = connected
        .iter()
        .map(|b| &b.joined)
        .chain(gone.iter().map(|g| &g.0))
        .map(|j| seq_of(&server, event, &j["credential"]))
        .collect();
    let last_original = *original_seqs.iter().max().expect("30 numbers");
    // The loss comes after the room's counters were checkpointed (every second): buyers
    // who joined within the last second before a loss may be counted late (see
    // docs/protocol.md, "What survives a store loss").
    until_checkpointed(&server, event, last_original).await;

    match loss {
        Loss::Flushall => redis.as_ref().expect("a redis").flushall().await,
        Loss::RedisRestartedEmpty => {
            let redis = redis.as_mut().expect("a redis");
            redis.kill();
            // While it is down, the connected buyers hear so, with their place.
            let down = server.state.clock.now_ms();
            for b in connected.iter_mut() {
                let s = status_after(&mut b.client, down, "unavailable").await;
                assert_eq!(s["position"], b.position, "the place is kept: {s}");
            }
            redis.respawn().await;
            until_ready(&server).await;
        }
        Loss::AppRestarted => {
            server.stop().await;
            for b in connected.iter_mut() {
                assert_eq!(
                    b.client.closed().await.code,
                    4000,
                    "told the server restarts"
                );
            }
            server = start(&world, &redis, |_| {}).await;
        }
    }

    // Newcomers join first: they must still queue behind everyone the store forgot.
    let mut newcomers = Vec::new();
    for _ in 0..10 {
        let b = join_line(&server, event, json!({})).await;
        let seq = seq_of(&server, event, &b.joined["credential"]);
        assert!(
            seq > last_original,
            "a newcomer's number {seq} comes after every original one (up to {last_original})"
        );
        assert!(
            b.position > 30,
            "a newcomer is behind the 30 originals, got position {}",
            b.position
        );
        newcomers.push(b);
    }
    // The buyers who hung up come back with their credentials, at their numbers.
    let mut returning = Vec::new();
    let rejoining: Vec<(Value, u64)> = if loss == Loss::AppRestarted {
        let mut all: Vec<(Value, u64)> = connected
            .drain(..)
            .map(|b| (b.joined, b.position))
            .collect();
        all.append(&mut gone);
        all
    } else {
        std::mem::take(&mut gone)
    };
    for (joined, position) in rejoining {
        let credential = joined["credential"].clone();
        let b = join_line(&server, event, json!({ "credential": credential })).await;
        assert_eq!(b.joined["resumed"], true, "{}", b.joined);
        assert_eq!(b.joined["buyer"], joined["buyer"]);
        assert_eq!(
            seq_of(&server, event, &b.joined["credential"]),
            seq_of(&server, event, &credential),
            "back at the number the credential carries"
        );
        assert_eq!(b.position, position, "back at the same position");
        returning.push(b);
    }
    // The buyers who stayed connected keep hearing about their unchanged place.
    let after = server.state.clock.now_ms();
    for b in connected.iter_mut() {
        let s = status_after(&mut b.client, after, "paused").await;
        assert_eq!(s["position"], b.position, "{s}");
    }
    for b in newcomers.iter_mut() {
        let s = status_after(&mut b.client, after, "paused").await;
        let p = s["position"].as_u64().expect("a position");
        assert!(p > 30, "a newcomer stays behind the originals: {s}");
    }

    // Room for exactly the 30 originals: if a newcomer were let in ahead of any of them,
    // that original would never be admitted (and the hang guard would say so).
    patch(&server, event, json!({ "max_active": 30 })).await;
    server.resume(event).await;
    let mut jtis = std::collections::HashMap::new();
    let mut subs = HashSet::new();
    for b in connected.iter_mut().chain(returning.iter_mut()) {
        let (c, _) = admitted(&server, &mut b.client, &b.joined["buyer"]).await;
        assert!(subs.insert(c["sub"].clone()), "admitted twice: {c}");
        jtis.insert(b.joined["buyer"].clone(), c["jti"].clone());
    }
    // The room is full: the newcomers are still in line, in the order they joined, and
    // (once the restore has settled) exactly behind each other: positions 1, 2, … 10.
    for (i, b) in newcomers.iter_mut().enumerate() {
        let want = i as u64 + 1;
        b.client
            .recv_until(|m| {
                assert!(
                    m["type"] == "status" || m["type"] == "credential",
                    "expected status, got {m}"
                );
                let p = m["position"].as_u64().unwrap_or(u64::MAX);
                assert!(p >= want, "newcomer {want} was told {p}: {m}");
                p == want
            })
            .await;
    }
    patch(&server, event, json!({ "max_active": 1000 })).await;
    for b in newcomers.iter_mut() {
        let (c, _) = admitted(&server, &mut b.client, &b.joined["buyer"]).await;
        assert!(subs.insert(c["sub"].clone()), "admitted twice: {c}");
        jtis.insert(b.joined["buyer"].clone(), c["jti"].clone());
    }
    let unique: HashSet<_> = jtis.values().collect();
    assert_eq!(unique.len(), 40, "one token id per buyer: {jtis:?}");
    // Coming back once more gives each original the same admission, not a second one.
    for b in returning.iter() {
        let mut again = server.connect(event).await;
        let joined = again
            .join_with(json!({ "credential": b.joined["credential"] }))
            .await;
        assert_eq!(joined["resumed"], true, "{joined}");
        let (c, _) = admitted(&server, &mut again, &b.joined["buyer"]).await;
        assert_eq!(c["jti"], jtis[&b.joined["buyer"]], "the same admission");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_mid_sale_keeps_every_place_and_puts_newcomers_behind() {
    a_store_that_loses_its_data_loses_no_place(Loss::Flushall).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_mid_sale_keeps_every_place_and_puts_newcomers_behind() {
    a_store_that_loses_its_data_loses_no_place(Loss::RedisRestartedEmpty).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_engine_restart_keeps_every_place_and_puts_newcomers_behind() {
    a_store_that_loses_its_data_loses_no_place(Loss::AppRestarted).await;
}

// ---------------------------------------------------------------------------------------
// 5. The queue store freezes
// ---------------------------------------------------------------------------------------

async fn a_frozen_store_is_reported_and_every_place_kept(grace_secs: u64) {
    let (redis, world) = world(Engine::Redis).await;
    let server = start(&world, &redis, |_| {}).await;
    let redis = redis.as_ref().expect("a redis");
    let event = server
        .create_event(json!({ "admission_rate": 1000.0, "max_active": 1000,
                              "grace_secs": grace_secs }))
        .await;
    server.pause(event).await;
    let mut buyers = Vec::new();
    for _ in 0..8 {
        buyers.push(join_line(&server, event, json!({})).await);
    }

    redis.freeze();
    let frozen = server.state.clock.now_ms();
    for b in buyers.iter_mut() {
        // Told in words, with the place they had; and told again while it lasts.
        for _ in 0..2 {
            let s = status_after(&mut b.client, frozen, "unavailable").await;
            assert_eq!(s["position"], b.position, "the place is kept: {s}");
            assert!(
                s["message"].as_str().is_some_and(|m| !m.is_empty()),
                "the buyer is told in words: {s}"
            );
        }
    }
    // A join meanwhile is refused in words, not left hanging.
    let mut late = server.connect(event).await;
    late.send(json!({ "type": "join" })).await;
    assert_eq!(late.error_code().await, "unavailable");
    assert_eq!(late.closed().await.code, 4013);
    let (status, body) = get(&server, "/readyz").await;
    assert_eq!(status, 503, "not ready while the store is frozen: {body}");
    let (status, body) = get(&server, "/healthz").await;
    assert_eq!(status, 200, "alive while the store is frozen: {body}");

    redis.thaw();
    let thawed = server.state.clock.now_ms();
    for b in buyers.iter_mut() {
        let s = status_after(&mut b.client, thawed, "paused").await;
        let p = s["position"].as_u64().expect("a position");
        assert!(
            p <= b.position,
            "the place is kept: {s}, was {}",
            b.position
        );
    }
    until_ready(&server).await;
    server.resume(event).await;
    let mut jtis = HashSet::new();
    for b in buyers.iter_mut() {
        let (c, _) = admitted(&server, &mut b.client, &b.joined["buyer"]).await;
        assert!(
            jtis.insert(c["jti"].clone()),
            "one admission per buyer: {c}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_is_reported_to_every_buyer_who_keeps_the_place() {
    a_frozen_store_is_reported_and_every_place_kept(60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_drops_nobody_connected_even_with_grace_zero() {
    a_frozen_store_is_reported_and_every_place_kept(0).await;
}

// ---------------------------------------------------------------------------------------
// Positions after a store loss
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_store_loss_a_newcomers_position_counts_people_not_skipped_numbers() {
    let (redis, world) = world(Engine::Redis).await;
    // A short heartbeat: the restore settles within one lease (three heartbeats).
    let server = start(&world, &redis, |s| s.heartbeat_ms = 300).await;
    let event = server.create_event(json!({})).await;
    server.pause(event).await;
    let mut buyers = Vec::new();
    for _ in 0..3 {
        buyers.push(join_line(&server, event, json!({})).await);
    }
    redis.as_ref().expect("a redis").flushall().await;
    let mut newcomer = join_line(&server, event, json!({})).await;
    // Right after the loss the newcomer may be told a higher place (numbers reserved but
    // maybe never handed out count until the restore settles), never a lower one; then
    // exactly the three people ahead.
    assert!(newcomer.position >= 4, "got {}", newcomer.position);
    newcomer
        .client
        .recv_until(|m| {
            if m["type"] == "status" {
                let p = m["position"].as_u64().unwrap_or(0);
                assert!(p >= 4, "never fewer than the three ahead: {m}");
            }
            m["type"] == "status" && m["position"] == 4
        })
        .await;
    server.stop().await;
}
