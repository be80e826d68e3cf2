//! Several usher instances on one Redis and one database behave as one server: on the
//! Redis at `REDIS_URL` (`redis::case`), and on a Redis Cluster that this test binary
//! starts when `redis-server` is installed (`cluster::case`).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use usher::clock::Clock;
use usher_testkit::{Client, Engine, World, verify_with_jwks};

/// Turns each listed `async fn case(engine: Engine)` into `redis::case` (when REDIS_URL is
/// set) and `cluster::case` (when a cluster can be started).
macro_rules! on_redis_and_cluster {
    ($($case:ident),+ $(,)?) => {
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    if usher_testkit::redis_url().is_none() {
                        eprintln!("REDIS_URL is not set: skipping {}", stringify!($case));
                        return;
                    }
                    super::$case(usher_testkit::Engine::Redis).await;
                }
            )+
        }

        mod cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    if usher_testkit::RedisCluster::shared().is_none() {
                        eprintln!("no redis-server: skipping {} on a cluster", stringify!($case));
                        return;
                    }
                    super::$case(usher_testkit::Engine::Cluster).await;
                }
            )+
        }
    };
}

async fn a_credential_from_one_instance_keeps_the_place_on_another(engine: Engine) {
    let world = World::new(engine).await;
    let a = world.start().await;
    let b = world.start().await;
    let event = a.create_event(json!({})).await;
    a.pause(event).await;
    let mut first = a.connect(event).await;
    first.join().await;
    let mut me = a.connect(event).await;
    let joined = me.join().await;
    me.recv_until(|m| m["position"] == 2).await;
    drop(me);
    let mut elsewhere = b.connect(event).await;
    let resumed = elsewhere
        .join_with(json!({ "credential": joined["credential"] }))
        .await;
    assert_eq!(resumed["resumed"], true);
    assert_eq!(resumed["buyer"], joined["buyer"]);
    let s = elsewhere.recv_type("status").await;
    assert_eq!(s["position"], 2, "{s}");
    a.stop().await;
    b.stop().await;
}

/// Waits until every client has its `admitted` message; returns the jti of each.
async fn collect_admissions(server: &usher_testkit::Server, clients: &mut [Client]) -> Vec<String> {
    let mut jtis = Vec::new();
    for c in clients.iter_mut() {
        let a = c.recv_type("admitted").await;
        let claims = verify_with_jwks(server, a["token"].as_str().unwrap()).await;
        jtis.push(claims["jti"].as_str().unwrap().to_owned());
        assert_eq!(
            c.closed().await.code,
            1000,
            "one admission per buyer, then the socket ends"
        );
    }
    jtis
}

async fn two_instances_hold_the_rate_globally_and_admit_each_buyer_exactly_once(engine: Engine) {
    let clock = Clock::manual(1_800_000_000_000);
    let world = World::with_clock(engine, clock.clone()).await;
    let a = world.start().await;
    let b = world.start().await;
    let event = a
        .create_event(json!({ "admission_rate": 10.0, "max_active": 1000, "sale_opens_at_ms": clock.now_ms() }))
        .await;
    a.pause(event).await;
    let mut clients = Vec::new();
    for i in 0..30 {
        let server = if i % 2 == 0 { &a } else { &b };
        let mut c = server.connect(event).await;
        c.join().await;
        clients.push(c);
    }
    a.resume(event).await;
    let start = clock.now_ms();
    // Both instances run admission steps every 20 ms of real time; the clock only moves
    // here. Whatever they do, the total may never pass burst + rate x elapsed.
    for _ in 0..40 {
        clock.advance(50);
        tokio::time::sleep(Duration::from_millis(25)).await;
        let snap = a
            .state
            .engine
            .snapshot(event, clock.now_ms())
            .await
            .unwrap();
        let allowed = 2 + (10 * (clock.now_ms() - start) / 1000) as u64;
        assert!(
            snap.admitted_total <= allowed,
            "{} admitted, allowed {allowed}",
            snap.admitted_total
        );
    }
    // Let time run (the bucket refills only as the clock moves) until everyone is in.
    let ticking = {
        let clock = clock.clone();
        tokio::spawn(async move {
            loop {
                clock.advance(100);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let jtis = collect_admissions(&a, &mut clients).await;
    ticking.abort();
    let unique: HashSet<_> = jtis.iter().collect();
    assert_eq!(unique.len(), 30, "every buyer admitted exactly once");
    let snap = b
        .state
        .engine
        .snapshot(event, clock.now_ms())
        .await
        .unwrap();
    assert_eq!(snap.admitted_total, 30);
    a.stop().await;
    b.stop().await;
}

async fn two_instances_hold_the_cap_globally(engine: Engine) {
    let world = World::new(engine).await;
    let a = world.start().await;
    let b = world.start().await;
    let event = a
        .create_event(json!({ "admission_rate": 1000.0, "max_active": 4 }))
        .await;
    let mut tokens = Vec::new();
    let mut waiting = Vec::new();
    for i in 0..10 {
        let server = if i % 2 == 0 { &a } else { &b };
        let mut c = server.connect(event).await;
        c.join().await;
        waiting.push(c);
    }
    // The first four in line get in; then the cap is full.
    let mut still = waiting.split_off(4);
    for c in waiting.iter_mut() {
        let m = c.recv_type("admitted").await;
        tokens.push(m["token"].as_str().unwrap().to_owned());
    }
    // Both instances keep running admission steps (every 20 ms at 1000/s); give a broken
    // cap the chance to show, then check nobody else got in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let snap = a
        .state
        .engine
        .snapshot(event, a.state.clock.now_ms())
        .await
        .unwrap();
    assert_eq!((snap.active, snap.admitted_total), (4, 4));
    still[0]
        .recv_until(|m| m["type"] == "status" && m["position"] == 1)
        .await;
    // One buyer finishes on instance B: exactly one more gets in.
    let res = reqwest::Client::new()
        .post(format!("{}/api/events/{event}/session/end", b.http()))
        .bearer_auth(&tokens[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let next = still[0].recv_type("admitted").await;
    assert!(next["token"].is_string());
    let snap = a
        .state
        .engine
        .snapshot(event, a.state.clock.now_ms())
        .await
        .unwrap();
    assert_eq!((snap.active, snap.admitted_total), (4, 5));
    a.stop().await;
    b.stop().await;
}

async fn when_one_instance_stops_its_buyers_resume_on_the_other_and_admission_goes_on(
    engine: Engine,
) {
    let world = World::new(engine).await;
    let a = world.start().await;
    let b = world.start().await;
    let event = a.create_event(json!({ "admission_rate": 5.0 })).await;
    a.pause(event).await;
    let mut on_a = a.connect(event).await;
    let joined = on_a.join().await;
    on_a.recv_type("status").await;
    a.stop().await;
    let closed = on_a.closed().await;
    assert_eq!(
        closed.code, 4000,
        "shutdown close code tells the page to reconnect"
    );
    let mut on_b = b.connect(event).await;
    let again = on_b
        .join_with(json!({ "credential": joined["credential"] }))
        .await;
    assert_eq!(again["resumed"], true);
    b.resume(event).await;
    let adm = on_b.recv_type("admitted").await;
    let claims = verify_with_jwks(&b, adm["token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], joined["buyer"]);
    b.stop().await;
}

on_redis_and_cluster!(
    a_credential_from_one_instance_keeps_the_place_on_another,
    two_instances_hold_the_rate_globally_and_admit_each_buyer_exactly_once,
    two_instances_hold_the_cap_globally,
    when_one_instance_stops_its_buyers_resume_on_the_other_and_admission_goes_on,
);
