//! Bad input on the waiting-room socket, against every engine: each bad message or frame
//! gets the error and/or close code docs/protocol.md documents, changes nothing in the
//! room, and the server keeps serving everybody else.

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use usher_testkit::{Client, Engine, SITE_SECRET, Server, WAIT, World, engines};

/// Creates an event and pauses it: nobody is admitted, so the line stays as the test
/// leaves it and `room.waiting` only changes when someone joins or leaves.
async fn paused_event(server: &Server) -> i64 {
    let event = server.create_event(json!({})).await;
    let (status, body) = server
        .admin("POST", &format!("/api/admin/events/{event}/pause"), None)
        .await;
    assert_eq!(status, 200, "pausing: {body}");
    event
}

/// The event's room counters, as the admin API reports them.
async fn room(server: &Server, event: i64) -> Value {
    let (status, body) = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await;
    assert_eq!(status, 200, "reading the event: {body}");
    body["room"].clone()
}

/// Buyers waiting in line.
async fn waiting(server: &Server, event: i64) -> u64 {
    room(server, event).await["waiting"]
        .as_u64()
        .expect("room.waiting")
}

/// How many events exist.
async fn event_count(server: &Server) -> usize {
    let (status, body) = server.admin("GET", "/api/admin/events", None).await;
    assert_eq!(status, 200, "listing events: {body}");
    body.as_array().expect("a list").len()
}

/// Skips messages until one satisfies `pred`; panics when none comes in time (a waiting
/// buyer gets a `status` every update interval, so "nothing in time" never happens alone).
async fn until(c: &mut Client, pred: impl FnMut(&Value) -> bool) -> Value {
    tokio::time::timeout(WAIT, c.recv_until(pred))
        .await
        .expect("expected a matching message in time")
}

/// The next `error`, skipping `joined` and `status`; panics on anything else.
async fn next_error_message(c: &mut Client) -> Value {
    let m = until(c, |m| {
        !matches!(m["type"].as_str(), Some("joined" | "status"))
    })
    .await;
    assert_eq!(m["type"], "error", "expected an error, got {m}");
    m
}

/// The code of the next `error`.
async fn next_error(c: &mut Client) -> String {
    let m = next_error_message(c).await;
    m["code"].as_str().expect("a code").to_owned()
}

/// The next `admitted`, skipping `status`; panics on anything else.
async fn admitted(c: &mut Client) -> Value {
    let m = until(c, |m| m["type"] != "status").await;
    assert_eq!(m["type"], "admitted", "expected admitted, got {m}");
    m
}

/// Sends a raw frame and returns the code of the `error` it gets.
async fn error_for(c: &mut Client, frame: Message) -> String {
    c.send_raw(frame).await;
    next_error(c).await
}

fn text(s: &str) -> Message {
    Message::Text(s.to_owned().into())
}

/// Sends `msg` and returns the code of the `error` it gets and the close code that follows.
async fn refusal(c: &mut Client, msg: Value) -> (String, u16) {
    c.send(msg).await;
    let code = next_error(c).await;
    (code, c.closed().await.code)
}

/// Checks the socket still answers: a `ping` gets its `pong`.
async fn still_open(c: &mut Client) {
    c.send(json!({ "type": "ping" })).await;
    let m = until(c, |m| m["type"] != "status").await;
    assert_eq!(m["type"], "pong", "expected pong, got {m}");
}

/// Reads until the socket ends: the messages received, and the close code (`None` when the
/// connection ended without a close frame).
async fn until_end(c: &mut Client) -> (Vec<Value>, Option<u16>) {
    let mut messages = Vec::new();
    loop {
        let next = tokio::time::timeout(WAIT, c.ws.next())
            .await
            .expect("expected the socket to end, got nothing in time");
        match next {
            Some(Ok(Message::Text(t))) => messages.push(serde_json::from_str(&t).expect("JSON")),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(frame))) => {
                return (messages, Some(frame.map_or(1005, |f| f.code.into())));
            }
            Some(Ok(other)) => panic!("expected text or a close, got {other:?}"),
            None | Some(Err(_)) => return (messages, None),
        }
    }
}

/// A fresh buyer can still join, and is counted.
async fn serves_a_new_buyer(server: &Server, event: i64, engine: Engine) -> Client {
    let before = waiting(server, event).await;
    let mut c = server.connect(event).await;
    c.join().await;
    c.recv_type("status").await;
    assert_eq!(waiting(server, event).await, before + 1, "{engine:?}");
    c
}

#[tokio::test]
async fn malformed_json_gets_malformed_message_and_a_later_join_still_works() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        for bad in [
            "hello",
            "{",
            "",
            "[1,2,3]",
            "42",
            r#"{"kind":"join"}"#,
            r#"{"type":5}"#,
            r#"{"type":"join","extra":1}"#,
            r#"{"type":"join","credential":7}"#,
        ] {
            assert_eq!(
                error_for(&mut c, text(bad)).await,
                "malformed_message",
                "{engine:?}: {bad:?}"
            );
        }
        still_open(&mut c).await;
        assert_eq!(
            waiting(&server, event).await,
            0,
            "{engine:?}: bad messages joined nobody"
        );

        let joined = c.join().await;
        assert_eq!(joined["resumed"], false);
        let s = c.recv_type("status").await;
        assert_eq!(s["position"], 1, "{engine:?}: {s}");
        assert_eq!(waiting(&server, event).await, 1);

        // In line, malformed messages are answered the same way and the place is kept.
        assert_eq!(
            error_for(&mut c, text("{not json")).await,
            "malformed_message"
        );
        until(&mut c, |m| m["type"] == "status" && m["position"] == 1).await;
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_message_of_an_unknown_type_gets_unknown_type_and_changes_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        for bad in [
            r#"{"type":"dance"}"#,
            r#"{"type":"JOIN"}"#,
            r#"{"type":"admitted","token":"x"}"#,
        ] {
            assert_eq!(
                error_for(&mut c, text(bad)).await,
                "unknown_type",
                "{engine:?}: {bad}"
            );
        }
        still_open(&mut c).await;
        assert_eq!(waiting(&server, event).await, 0, "{engine:?}");

        c.join().await;
        assert_eq!(
            error_for(&mut c, text(r#"{"type":"buy"}"#)).await,
            "unknown_type"
        );
        still_open(&mut c).await;
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn unknown_fields_on_leave_or_ping_are_malformed_like_on_join() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        c.join().await;
        for bad in [
            r#"{"type":"join","now":true}"#,
            r#"{"type":"ping","now":true}"#,
            r#"{"type":"leave","now":true}"#,
        ] {
            assert_eq!(
                error_for(&mut c, text(bad)).await,
                "malformed_message",
                "{engine:?}: {bad}"
            );
        }
        still_open(&mut c).await;
        assert_eq!(
            waiting(&server, event).await,
            1,
            "{engine:?}: still in line"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn leave_before_join_gets_not_joined_and_ping_before_join_gets_pong() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        c.send(json!({ "type": "ping" })).await;
        let pong = c.recv().await;
        assert_eq!(pong["type"], "pong", "{engine:?}: {pong}");
        assert!(pong["server_time_ms"].as_i64().is_some(), "{pong}");
        assert_eq!(
            error_for(&mut c, text(r#"{"type":"leave"}"#)).await,
            "not_joined",
            "{engine:?}"
        );
        still_open(&mut c).await;
        assert_eq!(waiting(&server, event).await, 0);
        c.join().await;
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_second_join_on_one_socket_gets_already_joined_and_keeps_the_place() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut first = server.connect(event).await;
        let joined = first.join().await;
        let mut c = server.connect(event).await;
        let me = c.join().await;
        until(&mut c, |m| m["type"] == "status" && m["position"] == 2).await;

        for again in [
            json!({ "type": "join" }),
            json!({ "type": "join", "credential": joined["credential"] }),
            json!({ "type": "join", "credential": "forged" }),
        ] {
            c.send(again.clone()).await;
            assert_eq!(
                next_error(&mut c).await,
                "already_joined",
                "{engine:?}: {again}"
            );
        }
        // Still the same buyer in the same place: no second `joined`, no new place.
        let s = c.recv().await;
        assert_eq!(s["type"], "status", "{engine:?}: {s}");
        assert_eq!(s["position"], 2, "{engine:?}: {s}");
        still_open(&mut c).await;
        assert_eq!(waiting(&server, event).await, 2, "{engine:?}");
        assert_ne!(me["buyer"], joined["buyer"]);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_binary_frame_gets_binary_frame_then_close_4503() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;

        // Before joining.
        let mut c = server.connect(event).await;
        let frame = Message::Binary(br#"{"type":"join"}"#.to_vec().into());
        assert_eq!(error_for(&mut c, frame).await, "binary_frame", "{engine:?}");
        assert_eq!(c.closed().await.code, 4503, "{engine:?}");
        assert_eq!(waiting(&server, event).await, 0);

        // In line: the socket closes, but the place is kept for the grace period.
        let mut buyer = server.connect(event).await;
        let joined = buyer.join().await;
        buyer.recv_type("status").await;
        let frame = Message::Binary(vec![0, 1, 2, 3].into());
        assert_eq!(error_for(&mut buyer, frame).await, "binary_frame");
        assert_eq!(buyer.closed().await.code, 4503, "{engine:?}");
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");

        let mut back = server.connect(event).await;
        let resumed = back
            .join_with(json!({ "credential": joined["credential"] }))
            .await;
        assert_eq!(resumed["resumed"], true, "{engine:?}");
        let s = back.recv_type("status").await;
        assert_eq!(s["position"], 1, "{engine:?}: {s}");
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

/// An oversized frame ends the socket and nothing else happens (the test below checks the
/// error and close code).
#[tokio::test]
async fn an_oversized_frame_ends_the_socket_and_changes_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let max = server.state.settings.max_message_bytes;
        assert_eq!(max, 4096, "the default limit");

        for size in [max + 100, 4 * max] {
            let mut c = server.connect(event).await;
            let big = json!({ "type": "join", "user": "x".repeat(size) }).to_string();
            c.send_raw(text(&big)).await;
            let (messages, close) = until_end(&mut c).await;
            for m in &messages {
                assert_eq!(m["type"], "error", "{engine:?}: {m}");
                assert_eq!(m["code"], "message_too_big", "{engine:?}: {m}");
            }
            assert!(
                close.is_none() || close == Some(4504),
                "{engine:?}: closed with {close:?}"
            );
        }
        assert_eq!(waiting(&server, event).await, 0, "{engine:?}");

        // A message just under the limit is still read (and refused for what it says).
        let mut c = server.connect(event).await;
        let fits = json!({ "type": "join", "user": "x".repeat(max - 100) });
        assert_eq!(
            refusal(&mut c, fits).await,
            ("bad_credential".into(), 4501),
            "{engine:?}"
        );
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn an_oversized_frame_gets_message_too_big_then_close_4504() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        let big = json!({ "type": "join", "user": "x".repeat(10_000) }).to_string();
        c.send_raw(text(&big)).await;
        assert_eq!(next_error(&mut c).await, "message_too_big", "{engine:?}");
        assert_eq!(c.closed().await.code, 4504, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_unknown_or_non_numeric_event_gets_unknown_event_then_close_4500() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let before = event_count(&server).await;
        let next = (event + 1).to_string();
        for id in ["999999", "abc", "1.5", "-1", next.as_str()] {
            let url = format!("ws://{}/ws/events/{id}/queue", server.addr);
            let mut c = Client::connect(&url).await;
            // The event is only looked up once `join` arrives.
            still_open(&mut c).await;
            assert_eq!(
                refusal(&mut c, json!({ "type": "join" })).await,
                ("unknown_event".into(), 4500),
                "{engine:?}: event {id}"
            );
        }
        assert_eq!(
            event_count(&server).await,
            before,
            "{engine:?}: no event appeared"
        );
        assert_eq!(waiting(&server, event).await, 0);
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_forged_or_tampered_credential_gets_bad_credential_then_close_4501() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut owner = server.connect(event).await;
        let joined = owner.join().await;
        owner.recv_type("status").await;
        let credential = joined["credential"].as_str().unwrap().to_owned();

        let mut tampered = credential.clone().into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        // Issued by another deployment (another server secret): the same shape, not ours.
        let other_world = World::new(engine).await;
        let other = other_world.start().await;
        let other_event = other.create_event(json!({})).await;
        assert_eq!(other_event, event, "both worlds number events alike");
        let mut stranger = other.connect(other_event).await;
        let foreign = stranger.join().await["credential"]
            .as_str()
            .unwrap()
            .to_owned();
        other.stop().await;

        for bad in [
            tampered,
            foreign,
            credential[..credential.len() - 4].to_owned(),
            "not a credential!".to_owned(),
            String::new(),
        ] {
            let mut c = server.connect(event).await;
            assert_eq!(
                refusal(&mut c, json!({ "type": "join", "credential": bad })).await,
                ("bad_credential".into(), 4501),
                "{engine:?}: {bad:?}"
            );
        }
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        let s = until(&mut owner, |m| m["type"] == "status" && m["position"] == 1).await;
        assert_eq!(s["behind"], 0, "{engine:?}: {s}");
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_credential_of_another_event_gets_bad_credential_then_close_4501() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let first = paused_event(&server).await;
        let second = paused_event(&server).await;
        let mut c = server.connect(first).await;
        let joined = c.join().await;

        let mut elsewhere = server.connect(second).await;
        let msg = json!({ "type": "join", "credential": joined["credential"] });
        elsewhere.send(msg).await;
        let e = next_error_message(&mut elsewhere).await;
        assert_eq!(e["code"], "bad_credential", "{engine:?}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains("another event"),
            "{e}"
        );
        assert_eq!(elsewhere.closed().await.code, 4501, "{engine:?}");

        assert_eq!(waiting(&server, first).await, 1, "{engine:?}");
        assert_eq!(waiting(&server, second).await, 0, "{engine:?}");
        still_open(&mut c).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_user_id_with_a_bad_or_missing_sig_gets_bad_credential_then_close_4501() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let other_event = paused_event(&server).await;
        let sign = |secret: &str, event: i64, user: &str| {
            usher::identity::sign_site_user(secret.as_bytes(), event, user)
        };
        let good = sign(SITE_SECRET, event, "user-42");
        let mut flipped = good.clone();
        let last = if flipped.pop() == Some('0') { '1' } else { '0' };
        flipped.push(last);
        for sig in [
            json!(sign(SITE_SECRET, event, "user-43")),
            json!(sign(SITE_SECRET, other_event, "user-42")),
            json!(sign("another-secret", event, "user-42")),
            json!(flipped),
            json!(&good[..32]),
            json!("zz"),
            json!(""),
            Value::Null,
        ] {
            let mut c = server.connect(event).await;
            let mut msg = json!({ "type": "join", "user": "user-42" });
            if !sig.is_null() {
                msg["sig"] = sig.clone();
            }
            assert_eq!(
                refusal(&mut c, msg).await,
                ("bad_credential".into(), 4501),
                "{engine:?}: sig {sig}"
            );
        }
        assert_eq!(waiting(&server, event).await, 0, "{engine:?}");

        // The right sig still works.
        let mut c = server.connect(event).await;
        c.join_with(json!({ "user": "user-42", "sig": good })).await;
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_credential_together_with_a_user_id_gets_ambiguous_identity_then_close_4501() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut owner = server.connect(event).await;
        let joined = owner.join().await;
        let credential = joined["credential"].clone();
        let sig = usher::identity::sign_site_user(SITE_SECRET.as_bytes(), event, "user-42");

        for msg in [
            json!({ "type": "join", "credential": credential, "user": "user-42", "sig": sig }),
            json!({ "type": "join", "credential": credential, "user": "user-42" }),
            json!({ "type": "join", "credential": "forged", "user": "user-42", "sig": sig }),
        ] {
            let mut c = server.connect(event).await;
            assert_eq!(
                refusal(&mut c, msg.clone()).await,
                ("ambiguous_identity".into(), 4501),
                "{engine:?}: {msg}"
            );
        }
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        let s = until(&mut owner, |m| m["type"] == "status" && m["position"] == 1).await;
        assert_eq!(
            s["behind"], 0,
            "{engine:?}: the site user got no place: {s}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn a_revoked_buyer_is_closed_with_4502_and_cannot_rejoin_with_the_credential() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut other = server.connect(event).await;
        other.join().await;
        let mut c = server.connect(event).await;
        let joined = c.join().await;
        until(&mut c, |m| m["type"] == "status" && m["position"] == 2).await;
        assert_eq!(waiting(&server, event).await, 2);

        let (status, body) = server
            .admin(
                "POST",
                &format!("/api/admin/events/{event}/revoke"),
                Some(json!({ "buyer": joined["buyer"] })),
            )
            .await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["known"], true, "{body}");
        assert_eq!(body["revoked"], true, "{body}");
        // The open socket is told and closed.
        assert_eq!(next_error(&mut c).await, "revoked", "{engine:?}");
        assert_eq!(c.closed().await.code, 4502, "{engine:?}");
        assert_eq!(
            waiting(&server, event).await,
            1,
            "{engine:?}: the place was freed"
        );

        // Coming back with the credential, in one tab or several, changes nothing.
        for _ in 0..2 {
            let mut back = server.connect(event).await;
            let msg = json!({ "type": "join", "credential": joined["credential"] });
            assert_eq!(
                refusal(&mut back, msg).await,
                ("revoked".into(), 4502),
                "{engine:?}"
            );
        }
        assert_eq!(waiting(&server, event).await, 1, "{engine:?}");
        let s = until(&mut other, |m| m["type"] == "status" && m["position"] == 1).await;
        assert_eq!(s["behind"], 0, "{engine:?}: {s}");
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_site_user_revoked_by_user_id_is_closed_with_4502_and_cannot_rejoin() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let sig = usher::identity::sign_site_user(SITE_SECRET.as_bytes(), event, "user-42");
        let mut c = server.connect(event).await;
        let joined = c.join_with(json!({ "user": "user-42", "sig": sig })).await;
        c.recv_type("status").await;

        let (status, body) = server
            .admin(
                "POST",
                &format!("/api/admin/events/{event}/revoke"),
                Some(json!({ "user": "user-42" })),
            )
            .await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["buyer"], joined["buyer"], "{engine:?}: {body}");
        assert_eq!(body["known"], true, "{body}");
        assert_eq!(next_error(&mut c).await, "revoked", "{engine:?}");
        assert_eq!(c.closed().await.code, 4502);

        let mut back = server.connect(event).await;
        let msg = json!({ "type": "join", "user": "user-42", "sig": sig });
        assert_eq!(
            refusal(&mut back, msg).await,
            ("revoked".into(), 4502),
            "{engine:?}"
        );
        assert_eq!(waiting(&server, event).await, 0, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_site_user_revoked_before_joining_is_refused_on_join() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let (status, body) = server
            .admin(
                "POST",
                &format!("/api/admin/events/{event}/revoke"),
                Some(json!({ "user": "user-42" })),
            )
            .await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["known"], false, "{body}");
        assert_eq!(body["revoked"], true, "{body}");

        let sig = usher::identity::sign_site_user(SITE_SECRET.as_bytes(), event, "user-42");
        let mut c = server.connect(event).await;
        let msg = json!({ "type": "join", "user": "user-42", "sig": sig });
        assert_eq!(
            refusal(&mut c, msg).await,
            ("revoked".into(), 4502),
            "{engine:?}"
        );
        assert_eq!(waiting(&server, event).await, 0, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn too_many_joins_from_one_address_get_rate_limited_then_close_4008() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world
            .start_with(|s| {
                s.join_rate_per_ip = 1;
                s.join_burst_per_ip = 2;
            })
            .await;
        let event = paused_event(&server).await;
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(server.connect(event).await);
        }
        // All three joins at once: the burst of two is let in, the third is refused.
        for c in &mut clients {
            c.send(json!({ "type": "join" })).await;
        }
        let mut joined = Vec::new();
        for mut c in clients {
            let m = c.recv().await;
            match m["type"].as_str() {
                Some("joined") => joined.push(c),
                Some("error") => {
                    assert_eq!(m["code"], "rate_limited", "{engine:?}: {m}");
                    assert_eq!(c.closed().await.code, 4008, "{engine:?}");
                }
                _ => panic!("{engine:?}: expected joined or error, got {m}"),
            }
        }
        assert_eq!(joined.len(), 2, "{engine:?}: the burst is two joins");
        assert_eq!(waiting(&server, event).await, 2, "{engine:?}");
        // The buyers already in line are not affected.
        for c in &mut joined {
            c.recv_type("status").await;
            still_open(c).await;
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn messages_over_the_per_socket_rate_are_ignored_with_rate_limited() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start_with(|s| s.messages_per_socket = 1).await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        // One message a second, a burst of two: the third message in a row is ignored.
        c.send(json!({ "type": "ping" })).await;
        c.send(json!({ "type": "ping" })).await;
        c.send(json!({ "type": "join" })).await;
        assert_eq!(c.recv().await["type"], "pong");
        assert_eq!(c.recv().await["type"], "pong");
        let e = c.recv().await;
        assert_eq!(e["type"], "error", "{engine:?}: {e}");
        assert_eq!(e["code"], "rate_limited", "{engine:?}: {e}");
        assert_eq!(
            waiting(&server, event).await,
            0,
            "{engine:?}: the join was ignored"
        );
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn twenty_bad_messages_get_protocol_violation_then_close_4505() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        for i in 0..20 {
            c.send_raw(text(&format!("garbage {i}"))).await;
        }
        let (messages, close) = until_end(&mut c).await;
        let codes: Vec<&str> = messages
            .iter()
            .map(|m| m["code"].as_str().unwrap())
            .collect();
        let mut expected = vec!["malformed_message"; 20];
        expected.push("protocol_violation");
        assert_eq!(codes, expected, "{engine:?}");
        assert_eq!(close, Some(4505), "{engine:?}");
        assert_eq!(waiting(&server, event).await, 0);
        serves_a_new_buyer(&server, event, engine).await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_socket_that_never_joins_gets_join_timeout_then_close_4009() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut c = server.connect(event).await;
        // A ping is answered but does not count as joining.
        still_open(&mut c).await;
        assert_eq!(next_error(&mut c).await, "join_timeout", "{engine:?}");
        assert_eq!(c.closed().await.code, 4009, "{engine:?}");
        assert_eq!(waiting(&server, event).await, 0);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_buyer_in_line_keeps_getting_updates_and_is_admitted_while_another_client_sends_garbage()
{
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = paused_event(&server).await;
        let mut buyer = server.connect(event).await;
        let joined = buyer.join().await;
        let s = buyer.recv_type("status").await;
        assert_eq!(
            (s["state"].as_str(), s["position"].as_u64()),
            (Some("paused"), Some(1))
        );

        // Garbage of every kind from other sockets, some of them joined.
        let mut noisy = server.connect(event).await;
        for i in 0..20 {
            noisy
                .send_raw(text(&format!("{{\"type\":\"nonsense{i}\"")))
                .await;
        }
        assert_eq!(until_end(&mut noisy).await.1, Some(4505), "{engine:?}");
        let mut binary = server.connect(event).await;
        binary
            .send_raw(Message::Binary(vec![0xff; 64].into()))
            .await;
        assert_eq!(binary.closed().await.code, 4503, "{engine:?}");
        let mut forger = server.connect(event).await;
        let forged = json!({ "type": "join", "credential": "AAAA", "user": "x" });
        assert_eq!(refusal(&mut forger, forged).await.1, 4501);
        let mut thief = server.connect(event).await;
        let msg = json!({ "type": "join", "user": "someone", "sig": "00" });
        assert_eq!(refusal(&mut thief, msg).await.1, 4501);
        let mut joker = server.connect(event).await;
        let joker_joined = joker.join().await;
        for bad in [
            "{",
            r#"{"type":"join"}"#,
            r#"{"type":"join","user":5}"#,
            "[]",
        ] {
            joker.send_raw(text(bad)).await;
            next_error(&mut joker).await;
        }
        assert_eq!(
            waiting(&server, event).await,
            2,
            "{engine:?}: the buyer and the joker"
        );

        // The buyer's updates keep coming: still first, nobody jumped ahead.
        until(&mut buyer, |m| m["type"] == "status" && m["behind"] == 1).await;
        for _ in 0..3 {
            let s = buyer.recv_type("status").await;
            assert_eq!(s["position"], 1, "{engine:?}: {s}");
            assert_eq!(s["behind"], 1, "{engine:?}: {s}");
        }
        server
            .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
            .await;
        let a = admitted(&mut buyer).await;
        let claims = usher_testkit::verify_with_jwks(&server, a["token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], joined["buyer"], "{engine:?}");
        assert_eq!(buyer.closed().await.code, 1000);
        // The joker, still in line behind, is admitted next despite the noise.
        let a = admitted(&mut joker).await;
        let claims = usher_testkit::verify_with_jwks(&server, a["token"].as_str().unwrap()).await;
        assert_eq!(claims["sub"], joker_joined["buyer"], "{engine:?}");
        server.stop().await;
    }
}
