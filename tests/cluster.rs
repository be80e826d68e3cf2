//! usher on a Redis Cluster: events whose keys live on different primaries each work
//! across two instances (their bus messages travel by sharded pub/sub, each on its own
//! shard), and a failover of the primary serving an event lets admission go on without
//! admitting anyone twice. Each test starts its cluster when `redis-server` is installed,
//! and otherwise says so and passes.

use std::collections::{BTreeSet, HashSet};

use serde_json::json;
use usher_testkit::{Client, Engine, RedisCluster, SeatView, Server, World, seat_map};

/// Waits for every client's `admitted` and the socket's end that follows; returns the
/// entry tokens.
async fn admitted(clients: &mut [Client]) -> Vec<String> {
    let mut tokens = Vec::new();
    for c in clients.iter_mut() {
        let m = c.recv_type("admitted").await;
        tokens.push(m["token"].as_str().expect("a token").to_owned());
        assert_eq!(c.closed().await.code, 1000, "one admission, then the end");
    }
    tokens
}

/// `n` buyers join the event's waiting room, alternately on each server.
async fn join(servers: &[&Server], event: i64, n: usize) -> Vec<Client> {
    let mut clients = Vec::new();
    for i in 0..n {
        let mut c = servers[i % servers.len()].connect(event).await;
        c.join().await;
        clients.push(c);
    }
    clients
}

/// The entry token's `jti`: one per admission.
fn jti(server: &Server, event: i64, token: &str) -> String {
    let s = &server.state;
    let claims = s
        .tokens
        .verify(token, event, s.clock.now_ms())
        .expect("a valid token");
    claims.jti
}

#[tokio::test]
async fn events_on_different_primaries_each_admit_and_hold_seats_across_two_instances() {
    let Some(cluster) = RedisCluster::shared() else {
        return;
    };
    let world = World::new(Engine::Cluster).await;
    let (a, b) = (world.start().await, world.start().await);
    // Events until every primary serves one (ids are sequential; slots spread them).
    let mut by_primary = std::collections::BTreeMap::new();
    for _ in 0..40 {
        let event = a
            .create_event(json!({
                "admission_rate": 1000.0, "max_active": 1000, "seat_map": seat_map(2, 5),
            }))
            .await;
        by_primary
            .entry(cluster.primary_of_event(event).await)
            .or_insert(event);
        if by_primary.len() == 3 {
            break;
        }
    }
    assert_eq!(by_primary.len(), 3, "events on all three primaries");
    for (primary, &event) in &by_primary {
        let mut clients = join(&[&a, &b], event, 4).await;
        let tokens = admitted(&mut clients).await;
        let jtis: HashSet<String> = tokens.iter().map(|t| jti(&a, event, t)).collect();
        assert_eq!(jtis.len(), 4, "event {event} on {primary}: four admissions");

        // A viewer on each instance; a holder on each instance; each viewer sees both holds.
        let (mut va, snap_a) = a.seats(event, &tokens[0]).await;
        let (mut vb, snap_b) = b.seats(event, &tokens[1]).await;
        let (mut ha, _) = a.seats(event, &tokens[2]).await;
        let (mut hb, _) = b.seats(event, &tokens[3]).await;
        let held = ha.ask(json!({ "type": "hold", "seats": [0] })).await;
        assert_eq!(held["type"], "held", "event {event}: {held}");
        let held = hb.ask(json!({ "type": "hold", "seats": [0, 1] })).await;
        assert_eq!(held["code"], "seat_taken", "event {event}: {held}");
        let held = hb.ask(json!({ "type": "hold", "seats": [1] })).await;
        assert_eq!(held["type"], "held", "event {event}: {held}");
        for (viewer, snap) in [(&mut va, snap_a), (&mut vb, snap_b)] {
            let mut view = SeatView::from_snapshot(&snap);
            viewer
                .watch_until(&mut view, |v| v.with("held") == vec![0, 1])
                .await;
        }
        let states = b.state.seats.seat_states(event).await.expect("seat states");
        let engine_held: BTreeSet<u32> = states.held.iter().map(|h| h.0).collect();
        assert_eq!(engine_held, BTreeSet::from([0, 1]), "event {event}");
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn after_a_failover_admission_goes_on_and_nobody_is_admitted_twice() {
    let Some(mut cluster) = RedisCluster::try_start_with_replicas().await else {
        return;
    };
    // The world's database; both servers on this test's own cluster.
    let world = World::new(Engine::Redis).await;
    let urls = cluster.urls();
    let on_cluster = |s: &mut usher::Settings| {
        s.redis_url.clear();
        s.redis_cluster_urls = urls.clone();
    };
    let a = world.start_with(on_cluster).await;
    let b = world.start_with(on_cluster).await;
    let event = a
        .create_event(json!({
            "admission_rate": 5.0, "max_active": 1000, "seat_map": seat_map(2, 5),
        }))
        .await;
    let slot = cluster.keyslot(&format!("{{e{event}}}")).await;
    let (primary, replicas) = cluster.owners(slot).await;
    let replica = *replicas.first().expect("the primary has a replica");

    a.pause(event).await;
    let mut clients = join(&[&a, &b], event, 20).await;
    a.resume(event).await;
    // Some are in when the primary goes: the first admission's message arrived.
    let mut first = admitted(&mut clients[..1]).await;

    // The replica takes over (nothing acknowledged is lost), then the old primary dies,
    // taking every connection and subscription to it along.
    cluster.failover(replica, slot).await;
    cluster.kill(primary);

    let mut tokens = admitted(&mut clients[1..]).await;
    tokens.append(&mut first);
    let jtis: HashSet<String> = tokens.iter().map(|t| jti(&b, event, t)).collect();
    assert_eq!(jtis.len(), 20, "every buyer admitted, each once");
    let snap = b
        .state
        .engine
        .snapshot(event, b.state.clock.now_ms())
        .await
        .expect("the new primary answers");
    assert_eq!(snap.admitted_total, 20, "no admission twice");

    // The bus follows the slot to its new primary: holds made on one instance, one after
    // the other, reach a viewer on the other (only a live subscription carries the second).
    let (mut viewer, snap) = b.seats(event, &tokens[0]).await;
    let mut view = SeatView::from_snapshot(&snap);
    let (mut holder, _) = a.seats(event, &tokens[1]).await;
    for seat in 0..2u64 {
        let held = holder.ask(json!({ "type": "hold", "seats": [seat] })).await;
        assert_eq!(held["type"], "held", "{held}");
        let want: Vec<u64> = (0..=seat).collect();
        viewer
            .watch_until(&mut view, |v| v.with("held") == want)
            .await;
    }
    a.stop().await;
    b.stop().await;
}
