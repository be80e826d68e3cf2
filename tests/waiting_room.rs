//! The waiting room end to end over real WebSockets, against every engine.

use serde_json::json;
use usher_testkit::{Engine, World, engines, verify_with_jwks};

#[tokio::test]
async fn a_buyer_joins_sees_live_positions_and_is_admitted_with_a_token_that_verifies() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "admission_rate": 2.0, "max_active": 100 }))
            .await;
        let mut first = server.connect(event).await;
        let joined = first.join().await;
        assert_eq!(joined["event"]["id"], event, "{engine:?}");
        assert_eq!(joined["resumed"], false);
        let buyer = joined["buyer"].as_str().unwrap().to_owned();
        let admitted = first.recv_type("admitted").await;
        let token = admitted["token"].as_str().unwrap();
        let claims = verify_with_jwks(&server, token).await;
        assert_eq!(claims["evt"], event);
        assert_eq!(claims["sub"], buyer.as_str());
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        assert!(claims["exp"].as_i64().unwrap() * 1000 > server.state.clock.now_ms());
        assert_eq!(first.closed().await.code, 1000);
        server.stop().await;
    }
}

#[tokio::test]
async fn waiting_buyers_get_position_ahead_behind_and_wait_and_never_move_back() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        // Paused: nobody is admitted while the line forms.
        let event = server.create_event(json!({ "admission_rate": 5.0 })).await;
        server.pause(event).await;
        let mut buyers = Vec::new();
        for _ in 0..4 {
            let mut c = server.connect(event).await;
            c.join().await;
            buyers.push(c);
        }
        let third = &mut buyers[2];
        let s = third
            .recv_until(|m| m["type"] == "status" && m["position"] == 3 && m["behind"] == 1)
            .await;
        assert_eq!(s["ahead"], 2, "{engine:?}: {s}");
        assert_eq!(s["state"], "paused");
        assert!(
            s["expected_wait_secs"].is_null(),
            "no estimate while paused"
        );
        server.resume(event).await;
        // Watch the last buyer move up to the front: the position only ever goes down.
        let last = &mut buyers[3];
        let mut previous = u64::MAX;
        loop {
            let m = last.recv().await;
            match m["type"].as_str().unwrap() {
                "status" => {
                    let p = m["position"].as_u64().unwrap();
                    assert!(
                        p <= previous,
                        "{engine:?}: position went up {previous} -> {p}"
                    );
                    previous = p;
                    if m["state"] == "open" {
                        assert!(m["expected_wait_secs"].as_u64().is_some(), "{m}");
                    }
                }
                "admitted" => break,
                other => panic!("unexpected {other}: {m}"),
            }
        }
        assert!(
            previous <= 2,
            "{engine:?}: saw the position fall before admission"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn buyers_joining_after_opening_are_admitted_in_join_order() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({ "admission_rate": 20.0 })).await;
        server.pause(event).await;
        let mut clients = Vec::new();
        let mut order = Vec::new();
        for _ in 0..8 {
            let mut c = server.connect(event).await;
            let j = c.join().await;
            order.push(j["buyer"].as_str().unwrap().to_owned());
            clients.push(c);
        }
        server.resume(event).await;
        let mut admitted = Vec::new();
        for (i, c) in clients.iter_mut().enumerate() {
            let a = c.recv_type("admitted").await;
            let claims = verify_with_jwks(&server, a["token"].as_str().unwrap()).await;
            admitted.push((claims["jti"].as_str().unwrap().to_owned(), i));
        }
        // jti = "{event}-{queue number}-{salt}": queue numbers follow join order.
        let seqs: Vec<u64> = admitted
            .iter()
            .map(|(j, _)| j.split('-').nth(1).unwrap().parse().unwrap())
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{engine:?}: {seqs:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_second_tab_and_a_reconnect_with_the_credential_keep_the_same_place() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        server.pause(event).await;
        let mut first = server.connect(event).await;
        first.join().await;
        let mut me = server.connect(event).await;
        let joined = me.join().await;
        let credential = joined["credential"].as_str().unwrap().to_owned();
        let mut third = server.connect(event).await;
        third.join().await;
        me.recv_until(|m| m["position"] == 2).await;

        // A second tab: same buyer, same place.
        let mut tab = server.connect(event).await;
        let again = tab.join_with(json!({ "credential": credential })).await;
        assert_eq!(again["resumed"], true, "{engine:?}");
        assert_eq!(again["buyer"], joined["buyer"]);
        tab.recv_until(|m| m["type"] == "status" && m["position"] == 2)
            .await;

        // Drop both sockets and come back: still second, not the back of the line.
        drop(me);
        drop(tab);
        let mut back = server.connect(event).await;
        let resumed = back.join_with(json!({ "credential": credential })).await;
        assert_eq!(resumed["resumed"], true);
        let s = back.recv_type("status").await;
        assert_eq!(s["position"], 2, "{engine:?}: {s}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_signed_site_user_holds_one_place_without_the_credential() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        server.pause(event).await;
        let sig = usher::identity::sign_site_user(
            usher_testkit::SITE_SECRET.as_bytes(),
            event,
            "user-42",
        );
        let mut a = server.connect(event).await;
        let first = a.join_with(json!({ "user": "user-42", "sig": sig })).await;
        let mut b = server.connect(event).await;
        let second = b.join_with(json!({ "user": "user-42", "sig": sig })).await;
        assert_eq!(first["buyer"], second["buyer"], "{engine:?}");
        assert_eq!(second["resumed"], true);
        // The site user's own credential may come along (it carries the number).
        let mut c = server.connect(event).await;
        let third = c
            .join_with(json!({ "user": "user-42", "sig": sig, "credential": second["credential"] }))
            .await;
        assert_eq!(third["buyer"], first["buyer"], "{engine:?}: {third}");
        assert_eq!(third["resumed"], true, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_buyer_admitted_while_disconnected_gets_the_token_on_resume() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({ "grace_secs": 60 })).await;
        server.pause(event).await;
        let mut c = server.connect(event).await;
        let joined = c.join().await;
        drop(c);
        server.resume(event).await;
        // Wait until the engine has admitted the buyer, then resume.
        let room = loop {
            let (_, v) = server
                .admin("GET", &format!("/api/admin/events/{event}"), None)
                .await;
            if v["room"]["admitted_total"] == 1 {
                break v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert_eq!(room["room"]["active"], 1, "{engine:?}");
        let mut back = server.connect(event).await;
        back.join_with(json!({ "credential": joined["credential"] }))
            .await;
        let a = back.recv_type("admitted").await;
        let claims = verify_with_jwks(&server, a["token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], joined["buyer"]);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_redis_engine_is_used_when_configured() {
    if usher_testkit::redis_url().is_none() {
        return;
    }
    let world = World::new(Engine::Redis).await;
    let server = world.start().await;
    assert!(server.state.engine.ping().await);
    server.stop().await;
}

#[tokio::test]
async fn a_buyer_disconnected_past_the_grace_period_is_skipped() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({ "grace_secs": 1 })).await;
        server.pause(event).await;
        let mut gone = server.connect(event).await;
        let gone_joined = gone.join().await;
        let mut stays = server.connect(event).await;
        stays.join().await;
        stays.recv_until(|m| m["position"] == 2).await;
        drop(gone);
        // Once the grace period has passed, the buyer who stayed moves up to first.
        stays.recv_until(|m| m["position"] == 1).await;
        server.resume(event).await;
        stays.recv_type("admitted").await;
        let (_, room) = server
            .admin("GET", &format!("/api/admin/events/{event}"), None)
            .await;
        assert_eq!(
            room["room"]["admitted_total"], 1,
            "{engine:?}: the dropped buyer took no slot"
        );
        // Coming back after the grace period means a new place at the back.
        let mut back = server.connect(event).await;
        let again = back
            .join_with(json!({ "credential": gone_joined["credential"] }))
            .await;
        assert_eq!(again["resumed"], false, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_admitted_buyer_whose_token_expires_frees_a_slot() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "max_active": 1, "session_secs": 1, "admission_rate": 100.0 }))
            .await;
        let mut first = server.connect(event).await;
        first.join().await;
        let a = first.recv_type("admitted").await;
        let mut second = server.connect(event).await;
        second.join().await;
        let b = second.recv_type("admitted").await;
        // The second buyer got in only because the first one's session ended.
        assert!(
            b["expires_at_ms"].as_i64().unwrap() - 1000 >= a["expires_at_ms"].as_i64().unwrap(),
            "{engine:?}: admitted at {b} while {a} was still active"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn pre_queue_buyers_see_a_countdown_then_get_places_ahead_of_later_buyers() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let opens = server.state.clock.now_ms() + 1_500;
        let event = server
            .create_event(json!({ "sale_opens_at_ms": opens }))
            .await;
        // Paused, so nobody is admitted and every place stays visible.
        server.pause(event).await;
        let mut early = Vec::new();
        for _ in 0..3 {
            let mut c = server.connect(event).await;
            c.join().await;
            early.push(c);
        }
        let pre = early[2]
            .recv_until(|m| m["state"] == "pre_queue" && m["pre_queue"] == 3)
            .await;
        assert!(
            pre["opens_in_ms"].as_i64().unwrap() > 0,
            "{engine:?}: {pre}"
        );
        assert!(pre["position"].is_null(), "no position before the draw");
        let mut positions = Vec::new();
        for c in early.iter_mut() {
            let s = c.recv_until(|m| m["position"].is_u64()).await;
            assert_eq!(s["state"], "paused");
            positions.push(s["position"].as_u64().unwrap());
        }
        positions.sort();
        assert_eq!(
            positions,
            vec![1, 2, 3],
            "{engine:?}: the draw gave each a place"
        );
        let mut late = server.connect(event).await;
        late.join().await;
        let s = late.recv_until(|m| m["position"].is_u64()).await;
        assert_eq!(
            s["position"], 4,
            "{engine:?}: a later buyer is behind the pre-queue: {s}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn leaving_in_one_tab_closes_the_buyers_other_tabs() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        server.pause(event).await;
        let mut tab = server.connect(event).await;
        let joined = tab.join().await;
        let mut other_tab = server.connect(event).await;
        other_tab
            .join_with(json!({ "credential": joined["credential"] }))
            .await;
        other_tab.recv_type("status").await;
        tab.send(json!({ "type": "leave" })).await;
        assert_eq!(tab.closed().await.code, 1000);
        let closed = other_tab.closed().await;
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (1000, "no longer in line"),
            "{engine:?}"
        );
        let (_, room) = server
            .admin("GET", &format!("/api/admin/events/{event}"), None)
            .await;
        assert_eq!(room["room"]["waiting"], 0);
        server.stop().await;
    }
}

#[tokio::test]
async fn the_first_pre_queue_status_counts_everyone_who_joined_before() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let opens = server.state.clock.now_ms() + 3_600_000;
        let event = server
            .create_event(json!({ "sale_opens_at_ms": opens }))
            .await;
        let mut sockets = Vec::new();
        for n in 1..=5u64 {
            let mut c = server.connect(event).await;
            c.join().await;
            let first = c.recv_type("status").await;
            assert_eq!(first["state"], "pre_queue", "{engine:?}: {first}");
            assert!(
                first["pre_queue"].as_u64().unwrap() >= n,
                "{engine:?}: buyer {n} is told of at least {n} waiting, got {first}"
            );
            sockets.push(c);
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_buyer_drawn_from_the_pre_queue_gets_a_credential_with_their_number() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let opens = server.state.clock.now_ms() + 1_000;
        let event = server
            .create_event(json!({ "sale_opens_at_ms": opens }))
            .await;
        server.pause(event).await;
        let mut c = server.connect(event).await;
        let joined = c.join().await;
        let first = joined["credential"].as_str().unwrap().to_owned();
        let fresh = c.recv_type("credential").await;
        let numbered = fresh["credential"].as_str().unwrap().to_owned();
        assert_ne!(numbered, first, "{engine:?}");
        assert!(
            numbered.len() > first.len(),
            "{engine:?}: it carries the number"
        );
        // The new credential resumes the same place.
        drop(c);
        let mut again = server.connect(event).await;
        let back = again.join_with(json!({ "credential": numbered })).await;
        assert_eq!(back["resumed"], true, "{engine:?}: {back}");
        assert_eq!(back["buyer"], joined["buyer"], "{engine:?}");
        server.stop().await;
    }
}
