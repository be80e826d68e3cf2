//! The seat map end to end: holds, expiry, bookings, sold out, over real WebSockets, on
//! every engine (Redis with PostgreSQL when configured; memory with SQLite).

use std::collections::{BTreeSet, HashSet};

use rand::seq::IteratorRandom;
use serde_json::{Value, json};
use usher_testkit::{Engine, SeatView, World, engines, seat_map};

async fn seat_event(server: &usher_testkit::Server, rows: u32, per_row: u32, extra: Value) -> i64 {
    let mut body = json!({
        "admission_rate": 100000.0,
        "max_active": 100000,
        "seat_map": seat_map(rows, per_row),
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    server.create_event(body).await
}

#[tokio::test]
async fn a_thousand_buyers_racing_for_a_hundred_seats_never_share_a_seat() {
    for engine in engines() {
        let world = World::new(engine).await;
        let instances = if engine == Engine::Redis { 3 } else { 1 };
        let mut servers = Vec::new();
        for _ in 0..instances {
            servers.push(world.start().await);
        }
        let event = seat_event(&servers[0], 10, 10, json!({})).await;
        let tokens = servers[0].admitted_tokens(event, 1000 + instances).await;

        // One viewer per instance watches the whole rush.
        let mut viewers = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            let (c, snap) = server.seats(event, &tokens[1000 + i]).await;
            viewers.push((c, SeatView::from_snapshot(&snap)));
        }

        // Everyone connects first, then all requests go out at once, overlapping.
        let mut buyers = Vec::new();
        for (i, token) in tokens[..1000].iter().enumerate() {
            let (c, _) = servers[i % instances].seats(event, token).await;
            let n = 1 + i % 4;
            let want: Vec<u64> = (0..100u64).choose_multiple(&mut rand::rng(), n);
            buyers.push((c, want));
        }
        let tasks: Vec<_> = buyers
            .into_iter()
            .map(|(mut c, want)| {
                tokio::spawn(async move {
                    let reply = c.ask(json!({ "type": "hold", "seats": want })).await;
                    (c, want, reply)
                })
            })
            .collect();
        let mut held: Vec<(usher_testkit::Client, Vec<u64>)> = Vec::new();
        let mut refused = 0;
        for t in tasks {
            let (c, want, reply) = t.await.unwrap();
            match reply["type"].as_str().unwrap() {
                "held" => {
                    let got: Vec<u64> = reply["seats"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_u64().unwrap())
                        .collect();
                    assert_eq!(got, want, "{engine:?}: all the requested seats or none");
                    held.push((c, got));
                }
                "error" => {
                    assert_eq!(reply["code"], "seat_taken", "{engine:?}: {reply}");
                    refused += 1;
                }
                other => panic!("unexpected {other}: {reply}"),
            }
        }
        let mut taken = HashSet::new();
        for (_, seats) in &held {
            for s in seats {
                assert!(taken.insert(*s), "{engine:?}: seat {s} held twice");
            }
        }
        assert_eq!(held.len() + refused, 1000);
        assert!(!held.is_empty());

        // Every other holder books.
        let mut booked = BTreeSet::new();
        for (i, (c, seats)) in held.iter_mut().enumerate() {
            if i % 2 == 0 {
                let r = c.ask(json!({ "type": "book" })).await;
                assert_eq!(r["type"], "booked", "{engine:?}: {r}");
                booked.extend(seats.iter().copied());
            }
        }
        let in_db: BTreeSet<u64> = servers[0]
            .state
            .db
            .sold_seats(event)
            .await
            .unwrap()
            .into_iter()
            .map(u64::from)
            .collect();
        assert_eq!(
            in_db, booked,
            "{engine:?}: the database has exactly the booked seats"
        );

        // Every viewer's map ends up equal to the engine and the database.
        let states = servers[0].state.seats.seat_states(event).await.unwrap();
        let engine_held: Vec<u64> = states.held.iter().map(|(s, _, _)| u64::from(*s)).collect();
        let engine_sold: Vec<u64> = states.sold.iter().map(|s| u64::from(*s)).collect();
        assert_eq!(engine_sold, in_db.iter().copied().collect::<Vec<_>>());
        for (c, view) in viewers.iter_mut() {
            c.watch_until(view, |v| {
                v.with("held") == engine_held && v.with("sold") == engine_sold
            })
            .await;
        }
        for s in servers {
            s.stop().await;
        }
    }
}

#[tokio::test]
async fn an_expired_hold_comes_back_free_for_every_viewer() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 2, 5, json!({ "hold_secs": 1 })).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut buyer, _) = server.seats(event, &tokens[0]).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let r = buyer.ask(json!({ "type": "hold", "seats": [3, 4] })).await;
        assert_eq!(r["type"], "held", "{engine:?}: {r}");
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![3, 4])
            .await;
        // After the hold time, the seats are free again for both.
        viewer
            .watch_until(&mut view, |v| v.with("held").is_empty())
            .await;
        let expired = buyer.recv_until(|m| m["type"] == "expired").await;
        assert_eq!(expired["seats"], json!([3, 4]), "{engine:?}");
        let r = buyer.ask(json!({ "type": "book" })).await;
        assert_eq!(r["code"], "no_hold", "{engine:?}: nothing left to book");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_booking_survives_a_server_restart() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 2, 5, json!({})).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut buyer, _) = server.seats(event, &tokens[0]).await;
        buyer.ask(json!({ "type": "hold", "seats": [1, 2] })).await;
        let booked = buyer.ask(json!({ "type": "book" })).await;
        assert_eq!(booked["type"], "booked", "{engine:?}");
        assert_eq!(booked["total"], 2 * 165000, "VIP row prices");
        assert_eq!(buyer.closed().await.code, 1000);
        server.stop().await;

        // A new instance on the same database (with the memory engine, all queue state
        // is gone: the booking lives in the database, and the map is rebuilt from it).
        let again = world.start().await;
        let viewer = if engine == Engine::Redis {
            tokens[1].clone()
        } else {
            again.admitted_tokens(event, 1).await.remove(0)
        };
        let (_, snap) = again.seats(event, &viewer).await;
        assert_eq!(
            SeatView::from_snapshot(&snap).with("sold"),
            vec![1, 2],
            "{engine:?}: still sold after the restart"
        );
        assert_eq!(again.state.db.sold_seats(event).await.unwrap(), vec![1, 2]);
        again.stop().await;
    }
}

#[tokio::test]
async fn the_four_seat_limit_holds_across_requests_and_bookings() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 2, 10, json!({})).await;
        let tokens = server.admitted_tokens(event, 1).await;
        let (mut c, _) = server.seats(event, &tokens[0]).await;
        let r = c
            .ask(json!({ "type": "hold", "seats": [0, 1, 2, 3, 4] }))
            .await;
        assert_eq!(r["code"], "too_many_seats", "{engine:?}");
        assert_eq!(
            c.ask(json!({ "type": "hold", "seats": [0, 1, 2] })).await["type"],
            "held"
        );
        let r = c.ask(json!({ "type": "hold", "seats": [5, 6] })).await;
        assert_eq!(r["code"], "too_many_seats", "{engine:?}: 3 held + 2 > 4");
        assert_eq!(
            c.ask(json!({ "type": "hold", "seats": [5] })).await["type"],
            "held"
        );
        assert_eq!(c.ask(json!({ "type": "book" })).await["type"], "booked");

        let snapshot = server.state.seats.seat_states(event).await.unwrap();
        assert_eq!(snapshot.sold, vec![0, 1, 2, 5]);

        // The same buyer queues again and is admitted again: four are bought, no more.
        let buyer = server.buyer_of(event, &tokens[0]);
        let token = server.admit(event, &[buyer]).await.remove(0);
        let (mut again, _) = server.seats(event, &token).await;
        let r = again.ask(json!({ "type": "hold", "seats": [9] })).await;
        assert_eq!(r["code"], "too_many_seats", "{engine:?}: {r}");
        server.stop().await;
    }
}

#[tokio::test]
async fn expired_forged_and_foreign_tokens_are_refused() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 5, json!({ "session_secs": 3 })).await;
        let other = seat_event(&server, 1, 5, json!({})).await;
        let url = |e: i64| server.seats_url(e);

        // A token of another event (long-lived, so only the event can be wrong).
        let lasting = server.admitted_tokens(other, 1).await;
        let mut foreign = usher_testkit::Client::connect(&url(event)).await;
        foreign
            .send(json!({ "type": "auth", "token": lasting[0] }))
            .await;
        assert_eq!(foreign.error_code().await, "foreign_token");
        assert_eq!(foreign.closed().await.code, 4512, "{engine:?}");

        let mut forged = usher_testkit::Client::connect(&url(other)).await;
        let mut bad = lasting[0].clone();
        bad.insert(bad.len() - 5, 'x');
        forged.send(json!({ "type": "auth", "token": bad })).await;
        assert_eq!(forged.error_code().await, "token_invalid");
        assert_eq!(forged.closed().await.code, 4510, "{engine:?}");

        // A three-second session runs out.
        let tokens = server.admitted_tokens(event, 1).await;
        let (mut live, _) = server.seats(event, &tokens[0]).await;
        assert_eq!(
            live.closed().await.code,
            4513,
            "{engine:?}: the session ended"
        );
        let mut late = usher_testkit::Client::connect(&url(event)).await;
        late.send(json!({ "type": "auth", "token": tokens[0] }))
            .await;
        assert_eq!(late.error_code().await, "token_expired");
        assert_eq!(late.closed().await.code, 4511, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn one_token_gives_one_live_seat_map_session() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 5, json!({})).await;
        let tokens = server.admitted_tokens(event, 1).await;
        let (first, _) = server.seats(event, &tokens[0]).await;
        let mut copy = usher_testkit::Client::connect(&server.seats_url(event)).await;
        copy.send(json!({ "type": "auth", "token": tokens[0] }))
            .await;
        assert_eq!(copy.error_code().await, "session_in_use", "{engine:?}");
        assert_eq!(copy.closed().await.code, 4409);
        // Closing the first session frees the token for a reconnect (a page refresh).
        drop(first);
        let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
        loop {
            let mut again = usher_testkit::Client::connect(&server.seats_url(event)).await;
            again
                .send(json!({ "type": "auth", "token": tokens[0] }))
                .await;
            if again.recv().await["type"] == "snapshot" {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{engine:?}: the refresh never got back in"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn bad_seat_requests_get_clear_errors_and_change_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 5, json!({})).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut a, _) = server.seats(event, &tokens[0]).await;
        let (mut b, _) = server.seats(event, &tokens[1]).await;
        assert_eq!(
            a.ask(json!({ "type": "hold", "seats": [99] })).await["code"],
            "unknown_seat"
        );
        assert_eq!(
            a.ask(json!({ "type": "hold", "seats": [] })).await["code"],
            "bad_seat_list"
        );
        assert_eq!(
            a.ask(json!({ "type": "hold", "seats": [1, 1] })).await["code"],
            "bad_seat_list"
        );
        assert_eq!(a.ask(json!({ "type": "book" })).await["code"], "no_hold");
        assert_eq!(
            a.ask(json!({ "type": "release", "seats": [0] })).await["code"],
            "not_your_seat"
        );
        assert_eq!(
            a.ask(json!({ "type": "hold", "seats": [0, 1] })).await["type"],
            "held"
        );
        assert_eq!(
            b.ask(json!({ "type": "hold", "seats": [1, 2] })).await["code"],
            "seat_taken",
            "{engine:?}"
        );
        assert_eq!(
            b.ask(json!({ "type": "release", "seats": [0] })).await["code"],
            "not_your_seat"
        );
        assert_eq!(
            b.ask(json!({ "type": "dance" })).await["code"],
            "unknown_type"
        );
        assert_eq!(b.ask(json!("hold")).await["code"], "malformed_message");
        let states = server.state.seats.seat_states(event).await.unwrap();
        let held: Vec<u32> = states.held.iter().map(|(s, _, _)| *s).collect();
        assert_eq!(
            held,
            vec![0, 1],
            "{engine:?}: only the good hold changed anything"
        );
        // Book, then replay the booking with the same token: the session is over.
        assert_eq!(a.ask(json!({ "type": "book" })).await["type"], "booked");
        let mut replay = usher_testkit::Client::connect(&server.seats_url(event)).await;
        replay
            .send(json!({ "type": "auth", "token": tokens[0] }))
            .await;
        assert_eq!(replay.error_code().await, "session_ended");
        assert_eq!(replay.closed().await.code, 4513, "{engine:?}");
        assert_eq!(server.state.db.sold_seats(event).await.unwrap(), vec![0, 1]);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_sold_out_event_stops_admission_and_released_seats_resume_it() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 2, json!({})).await;
        let tokens = server.admitted_tokens(event, 1).await;
        let (mut holder, _) = server.seats(event, &tokens[0]).await;
        assert_eq!(
            holder.ask(json!({ "type": "hold", "seats": [0, 1] })).await["type"],
            "held"
        );
        // Every seat is held: a buyer in line is told, and is not admitted.
        let mut waiting = server.connect(event).await;
        waiting.join().await;
        let s = waiting.recv_until(|m| m["state"] == "sold_out").await;
        assert_eq!(s["position"], 1, "{engine:?}");
        let snap = server
            .state
            .engine
            .snapshot(event, server.state.clock.now_ms())
            .await
            .unwrap();
        assert!(snap.sold_out);
        assert_eq!(
            snap.admitted_total, 1,
            "{engine:?}: nobody admitted while sold out"
        );
        // One seat comes back: admission resumes.
        assert_eq!(
            holder.ask(json!({ "type": "release", "seats": [1] })).await["type"],
            "released"
        );
        let admitted = waiting.recv_type("admitted").await;
        assert!(admitted["token"].is_string(), "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn revoking_a_buyer_gives_their_held_seats_back_to_everyone() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 5, json!({})).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut bot, _) = server.seats(event, &tokens[0]).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        assert_eq!(
            bot.ask(json!({ "type": "hold", "seats": [0, 1, 2] })).await["type"],
            "held"
        );
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![0, 1, 2])
            .await;
        let buyer = server.buyer_of(event, &tokens[0]);
        let (status, _) = server
            .admin(
                "POST",
                &format!("/api/admin/events/{event}/revoke"),
                Some(json!({ "buyer": buyer.to_string() })),
            )
            .await;
        assert_eq!(status, 200);
        viewer
            .watch_until(&mut view, |v| v.with("held").is_empty())
            .await;
        assert_eq!(
            bot.closed().await.code,
            4502,
            "{engine:?}: the revoked session ends"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn the_four_seat_limit_still_holds_after_the_engine_state_is_lost() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 10, json!({})).await;
        let tokens = server.admitted_tokens(event, 1).await;
        let (mut c, _) = server.seats(event, &tokens[0]).await;
        assert_eq!(
            c.ask(json!({ "type": "hold", "seats": [0, 1, 2, 3] }))
                .await["type"],
            "held"
        );
        assert_eq!(c.ask(json!({ "type": "book" })).await["type"], "booked");
        let buyer = server.buyer_of(event, &tokens[0]);
        server.stop().await;
        if engine == Engine::Redis {
            // A flushed Redis: every key of this world is gone.
            let client = redis::Client::open(usher_testkit::redis_url().unwrap()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", world.prefix))
                .query_async(&mut conn)
                .await
                .unwrap();
            let _: () = redis::cmd("DEL")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .unwrap();
        }
        // A new instance rebuilds the sold seats, and whose they are, from the database.
        let again = world.start().await;
        let token = again.admit(event, &[buyer]).await.remove(0);
        let (mut back, snap) = again.seats(event, &token).await;
        assert_eq!(
            SeatView::from_snapshot(&snap).with("sold"),
            vec![0, 1, 2, 3],
            "{engine:?}"
        );
        let r = back.ask(json!({ "type": "hold", "seats": [5] })).await;
        assert_eq!(r["code"], "too_many_seats", "{engine:?}: {r}");
        again.stop().await;
    }
}
