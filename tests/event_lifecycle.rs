//! The life of an event through the admin API, against every engine: each patchable field
//! by its rule (a refusal names the field and changes nothing), times as epoch ms or
//! RFC 3339, moving a future opening (waiting pages see it), ending a sale (waiting buyers
//! told, joins refused on every instance, nobody admitted, admitted buyers may finish),
//! deleting an event that sold nothing, hostile bodies, and an end racing a patch.

use std::time::Duration;

use serde_json::{Value, json};

use usher_testkit::{ADMIN_KEY, Engine, Server, World, engines, seat_map};

/// One admin call with a raw body (so malformed JSON can be sent too).
async fn raw(server: &Server, method: &str, path: &str, body: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .request(
            method.parse().expect("a method"),
            format!("{}{path}", server.http()),
        )
        .bearer_auth(ADMIN_KEY)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The admin view without its live counters: what a refused change must leave alone.
async fn stored(server: &Server, event: i64) -> Value {
    let (status, mut view) = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await;
    assert_eq!(status, 200, "{view}");
    let object = view.as_object_mut().expect("an object");
    object.remove("room");
    object.remove("seats");
    // A live figure of the room, not something stored.
    object.remove("admitted_last_minute");
    view
}

fn path(event: i64) -> String {
    format!("/api/admin/events/{event}")
}

async fn patch(server: &Server, event: i64, body: Value) -> (u16, Value) {
    server.admin("PATCH", &path(event), Some(body)).await
}

async fn end(server: &Server, event: i64) -> (u16, Value) {
    server
        .admin("POST", &format!("/api/admin/events/{event}/end"), None)
        .await
}

/// 2030-05-01T20:00:00Z.
const MAY_1_2030: i64 = 1_903_896_000_000;

#[tokio::test]
async fn every_patchable_field_changes_by_its_rule_and_shows_in_the_view_and_the_room() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let opens = server.state.clock.now_ms() + 3_600_000;
        let event = server
            .create_event(json!({ "sale_opens_at_ms": opens }))
            .await;
        let new_opening = opens + 600_000;
        let (status, view) = patch(
            &server,
            event,
            json!({
                "name": "Renamed", "kind": "musical", "venue": "Arena",
                "starts_at": "2030-05-01T22:00:00+02:00",
                "sale_opens_at_ms": new_opening,
                "admission_rate": 2.5, "max_active": 7,
                "hold_secs": 30, "session_secs": 40, "grace_secs": 0,
            }),
        )
        .await;
        assert_eq!(status, 200, "{engine:?}: {view}");
        let read = stored(&server, event).await;
        for (field, want) in [
            ("name", json!("Renamed")),
            ("kind", json!("musical")),
            ("venue", json!("Arena")),
            ("starts_at_ms", json!(MAY_1_2030)),
            ("starts_at", json!("2030-05-01T20:00:00.000Z")),
            ("sale_opens_at_ms", json!(new_opening)),
            ("admission_rate", json!(2.5)),
            ("max_active", json!(7)),
            ("hold_secs", json!(30)),
            ("session_secs", json!(40)),
            ("grace_secs", json!(0)),
            ("ended", json!(false)),
        ] {
            assert_eq!(read[field], want, "{engine:?}: {field}: {read}");
        }
        assert_eq!(
            view["room"]["opens_at_ms"], new_opening,
            "{engine:?}: {view}"
        );
        assert_eq!(view["room"]["rate"], 2.5, "{engine:?}: {view}");
        assert_eq!(view["room"]["max_active"], 7, "{engine:?}: {view}");
        // The start may move anywhere, even before the opening; an empty patch is no change.
        let (status, _) = patch(&server, event, json!({ "starts_at_ms": 1 })).await;
        assert_eq!(status, 200, "{engine:?}");
        let before = stored(&server, event).await;
        let (status, _) = patch(&server, event, json!({})).await;
        assert_eq!(status, 200, "{engine:?}");
        assert_eq!(stored(&server, event).await, before, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn times_are_accepted_as_rfc3339_or_ms_and_returned_in_both_forms() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let (status, created) = raw(
            &server,
            "POST",
            "/api/admin/events",
            r#"{"name":"X","starts_at":"2030-05-01T22:00:00.250+02:00",
                "sale_opens_at":"2030-04-01T10:00:00Z","sale_opens_at_ms":1901268000000}"#,
        )
        .await;
        assert_eq!(status, 201, "{engine:?}: {created}");
        assert_eq!(created["starts_at_ms"], MAY_1_2030 + 250, "{created}");
        assert_eq!(
            created["starts_at"], "2030-05-01T20:00:00.250Z",
            "{created}"
        );
        assert_eq!(
            created["sale_opens_at_ms"], 1_901_268_000_000_i64,
            "{created}"
        );
        assert_eq!(
            created["sale_opens_at"], "2030-04-01T10:00:00.000Z",
            "{created}"
        );
        for (body, words) in [
            (
                r#"{"name":"Y","starts_at_ms":1903896000000,"starts_at":"2030-05-01T20:00:01Z"}"#,
                "starts_at_ms and starts_at disagree",
            ),
            (
                r#"{"name":"Y","starts_at":"2030-05-01T20:00:00"}"#,
                "starts_at must be an RFC 3339 time",
            ),
            (
                r#"{"name":"Y","starts_at_ms":1,"sale_opens_at":"0001-01-01T00:00:00Z"}"#,
                "sale_opens_at must be after 1970",
            ),
            (
                r#"{"name":"Y","starts_at_ms":253402300800000}"#,
                "starts_at_ms must be after 1970",
            ),
            (r#"{"name":"Y","starts_at_ms":-1}"#, "starts_at_ms"),
            (r#"{"name":"Y","starts_at":1903896000000}"#, "starts_at"),
            (
                r#"{"name":"Y"}"#,
                "starts_at_ms (ms since 1970) or starts_at",
            ),
        ] {
            let (status, res) = raw(&server, "POST", "/api/admin/events", body).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            assert_eq!(res["error"], "bad_request", "{res}");
            let message = res["message"].as_str().expect("words");
            assert!(message.contains(words), "{engine:?}: {body}: {message}");
        }
        let (_, all) = server.admin("GET", "/api/admin/events", None).await;
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{engine:?}: {all}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_refused_patch_names_the_field_and_its_rule_and_changes_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let now = server.state.clock.now_ms();
        let future = server
            .create_event(json!({ "sale_opens_at_ms": now + 3_600_000 }))
            .await;
        let opened = server.create_event(json!({})).await;
        let huge = "x".repeat(100_000);
        let far = now + 7_200_000;
        let cases: Vec<(i64, String, &str)> = vec![
            (future, r#"{"id":9}"#.into(), "id cannot change"),
            (
                future,
                r#"{"seat_map":{"prices":{}}}"#.into(),
                "seat_map cannot change",
            ),
            (future, r#"{"paused":1}"#.into(), "paused"),
            (future, r#"{"ended_at_ms":5}"#.into(), "ended_at_ms"),
            (
                future,
                r#"{"colour":"red"}"#.into(),
                "unknown field `colour`",
            ),
            (future, r#"{"name":""}"#.into(), "name must be 1 to 200"),
            (
                future,
                format!(r#"{{"name":"{huge}"}}"#),
                "name must be 1 to 200",
            ),
            (
                future,
                format!(r#"{{"venue":"{huge}"}}"#),
                "venue must be at most 200",
            ),
            (
                future,
                format!(r#"{{"kind":"{huge}"}}"#),
                "kind must be at most 50",
            ),
            (future, r#"{"name":5}"#.into(), "name"),
            (future, r#"{"starts_at_ms":"soon"}"#.into(), "starts_at_ms"),
            (future, r#"{"starts_at_ms":1.5}"#.into(), "starts_at_ms"),
            (
                future,
                r#"{"starts_at":"yesterday"}"#.into(),
                "starts_at must be an RFC 3339",
            ),
            (
                future,
                format!(r#"{{"starts_at":"{huge}"}}"#),
                "starts_at must be an RFC 3339",
            ),
            (
                future,
                r#"{"starts_at":"1960-01-01T00:00:00Z"}"#.into(),
                "starts_at must be after 1970",
            ),
            (
                future,
                r#"{"starts_at_ms":99999999999999999}"#.into(),
                "starts_at_ms must be after 1970",
            ),
            (
                future,
                r#"{"starts_at_ms":99999999999999999999}"#.into(),
                "starts_at_ms",
            ),
            (
                future,
                r#"{"sale_opens_at_ms":1}"#.into(),
                "sale_opens_at must be in the future",
            ),
            (
                future,
                format!(r#"{{"sale_opens_at_ms":{far},"sale_opens_at":"2030-05-01T20:00:00Z"}}"#),
                "sale_opens_at_ms and sale_opens_at disagree",
            ),
            (
                opened,
                format!(r#"{{"sale_opens_at_ms":{far}}}"#),
                "sale_opens_at cannot change",
            ),
            (
                opened,
                r#"{"sale_opens_at":"2099-01-01T00:00:00Z"}"#.into(),
                "sale_opens_at cannot change",
            ),
            (
                future,
                r#"{"admission_rate":"fast"}"#.into(),
                "admission_rate",
            ),
            (
                future,
                r#"{"admission_rate":0}"#.into(),
                "admission_rate must be",
            ),
            (future, r#"{"max_active":0}"#.into(), "max_active must be"),
            (
                future,
                r#"{"hold_secs":0}"#.into(),
                "hold_secs must be between 1 and 86400",
            ),
            (future, r#"{"hold_secs":1.5}"#.into(), "hold_secs"),
            (
                future,
                r#"{"session_secs":86401}"#.into(),
                "session_secs must be between",
            ),
            (
                future,
                r#"{"grace_secs":-1}"#.into(),
                "grace_secs must be between 0",
            ),
            // One bad field spoils the whole patch: the good one does not land either.
            (
                future,
                r#"{"name":"Good","hold_secs":0}"#.into(),
                "hold_secs",
            ),
            (future, r#"{"name":"Good""#.into(), "JSON"),
            (future, "[]".into(), "EventPatch"),
        ];
        let before_future = stored(&server, future).await;
        let before_opened = stored(&server, opened).await;
        for (event, body, words) in &cases {
            let (status, res) = raw(&server, "PATCH", &path(*event), body).await;
            let shown: String = body.chars().take(80).collect();
            assert_eq!(status, 400, "{engine:?}: {shown}: {res}");
            assert_eq!(res["error"], "bad_request", "{res}");
            let message = res["message"].as_str().expect("words");
            assert!(message.contains(words), "{engine:?}: {shown}: {message}");
            assert!(message.len() < 1_000, "the words do not echo a huge value");
        }
        assert_eq!(stored(&server, future).await, before_future, "{engine:?}");
        assert_eq!(stored(&server, opened).await, before_opened, "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn moving_a_future_opening_changes_a_waiting_pre_queue_buyers_countdown() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let now = server.state.clock.now_ms();
        let event = server
            .create_event(json!({ "sale_opens_at_ms": now + 60_000 }))
            .await;
        let mut buyer = server.connect(event).await;
        buyer.join().await;
        let first = buyer.recv_until(|m| m["state"] == "pre_queue").await;
        let left = first["opens_in_ms"].as_i64().expect("a countdown");
        assert!(left <= 60_000 && left > 50_000, "{engine:?}: {first}");
        // An hour later, in ms.
        let later = now + 3_600_000;
        let (status, view) = patch(&server, event, json!({ "sale_opens_at_ms": later })).await;
        assert_eq!(status, 200, "{engine:?}: {view}");
        let moved = buyer
            .recv_until(|m| m["opens_in_ms"].as_i64().is_some_and(|ms| ms > 3_000_000))
            .await;
        assert_eq!(moved["state"], "pre_queue", "{engine:?}: {moved}");
        // Back to two minutes from now, as RFC 3339: the countdown comes down again.
        let soon = now + 120_000;
        let text = usher::events::times::format(soon);
        let (status, view) = patch(&server, event, json!({ "sale_opens_at": text })).await;
        assert_eq!(status, 200, "{engine:?}: {view}");
        assert_eq!(view["sale_opens_at_ms"], soon, "{engine:?}: {view}");
        let back = buyer
            .recv_until(|m| m["opens_in_ms"].as_i64().is_some_and(|ms| ms <= 120_000))
            .await;
        assert_eq!(back["state"], "pre_queue", "{engine:?}: {back}");
        assert_eq!(view["room"]["opens_at_ms"], soon, "{engine:?}: {view}");
        server.stop().await;
    }
}

/// A buyer waiting in line sees the end in words, then `sale_ended` and close 4506.
async fn sees_the_end(buyer: &mut usher_testkit::Client, engine: Engine) {
    let status = buyer.recv_until(|m| m["state"] == "ended").await;
    assert_eq!(status["type"], "status", "{engine:?}: {status}");
    let words = status["message"].as_str().expect("words");
    assert!(
        words.starts_with("The sale has ended"),
        "{engine:?}: {words}"
    );
    assert!(status["position"].is_null(), "{status}");
    assert_eq!(buyer.error_code().await, "sale_ended", "{engine:?}");
    assert_eq!(buyer.closed().await.code, 4506, "{engine:?}");
}

/// A new buyer's join is refused with `sale_ended` and close 4506, with no `joined`.
async fn join_is_refused(server: &Server, event: i64, engine: Engine) {
    let mut late = server.connect(event).await;
    late.send(json!({ "type": "join" })).await;
    let first = late.recv().await;
    assert_eq!(
        first["type"], "error",
        "{engine:?}: no joined first: {first}"
    );
    assert_eq!(first["code"], "sale_ended", "{engine:?}: {first}");
    assert_eq!(late.closed().await.code, 4506, "{engine:?}");
}

#[tokio::test]
async fn ending_a_sale_tells_waiting_buyers_refuses_joins_and_admits_nobody_more() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let now = server.state.clock.now_ms();
        // One admitted buyer fills the cap: the next one waits in an open line, and would
        // be let in as soon as the first one's session ends, were the sale not ended.
        let event = server
            .create_event(json!({ "seat_map": seat_map(2, 5), "max_active": 1 }))
            .await;
        let tokens = server.admitted_tokens(event, 1).await;
        let mut waiting = server.connect(event).await;
        waiting.join().await;
        waiting
            .recv_until(|m| m["state"] == "open" && m["position"] == 1)
            .await;
        let pre_event = server
            .create_event(json!({ "sale_opens_at_ms": now + 3_600_000 }))
            .await;
        let mut early = server.connect(pre_event).await;
        early.join().await;
        early.recv_until(|m| m["state"] == "pre_queue").await;

        let (status, ended) = end(&server, event).await;
        assert_eq!(status, 200, "{engine:?}: {ended}");
        assert_eq!(ended["ended"], true, "{ended}");
        assert!(
            ended["ended_at_ms"].as_i64().is_some_and(|t| t >= now),
            "{ended}"
        );
        assert_eq!(ended["room"]["ended"], true, "{engine:?}: {ended}");
        assert_eq!(ended["room"]["paused"], true, "{engine:?}: {ended}");
        sees_the_end(&mut waiting, engine).await;
        join_is_refused(&server, event, engine).await;

        let (status, _) = end(&server, pre_event).await;
        assert_eq!(status, 200);
        sees_the_end(&mut early, engine).await;

        // Ending twice is the same as once: the first time stays.
        let (status, again) = end(&server, event).await;
        assert_eq!(status, 200, "{engine:?}: {again}");
        assert_eq!(again["ended_at_ms"], ended["ended_at_ms"], "{engine:?}");
        // It cannot be resumed or patched; nobody is admitted while time passes.
        let (status, res) = server
            .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
            .await;
        assert_eq!(
            (status, res["error"].as_str()),
            (409, Some("conflict")),
            "{res}"
        );
        let (status, res) = patch(&server, event, json!({ "admission_rate": 50.0 })).await;
        assert_eq!(
            (status, res["error"].as_str()),
            (409, Some("conflict")),
            "{res}"
        );
        // A buyer admitted before the end finishes what they hold; the booking ends
        // their session and frees the only slot, yet nobody more is let in.
        let (mut buyer, _) = server.seats(event, &tokens[0]).await;
        let held = buyer.ask(json!({ "type": "hold", "seats": [1] })).await;
        assert_eq!(held["type"], "held", "{engine:?}: {held}");
        let booked = buyer.ask(json!({ "type": "book" })).await;
        assert_eq!(booked["type"], "booked", "{engine:?}: {booked}");
        assert_eq!(ended["room"]["admitted_total"], 1, "{engine:?}: {ended}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, read) = server.admin("GET", &path(event), None).await;
        assert_eq!(
            read["room"]["active"], 0,
            "{engine:?}: the slot is free: {read}"
        );
        assert_eq!(read["room"]["admitted_total"], 1, "{engine:?}: {read}");
        assert_eq!(read["room"]["paused"], true, "{engine:?}: {read}");
        assert_eq!(
            read["admission_rate"], 10.0,
            "{engine:?}: not patched: {read}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn an_ended_sale_is_ended_on_every_instance_sharing_the_stores() {
    if !engines().contains(&Engine::Redis) {
        return;
    }
    let engine = Engine::Redis;
    let world = World::new(engine).await;
    let a = world.start().await;
    let b = world.start().await;
    let event = a.create_event(json!({})).await;
    a.pause(event).await;
    let mut on_b = b.connect(event).await;
    on_b.join().await;
    on_b.recv_until(|m| m["state"] == "paused").await;
    let (status, res) = end(&a, event).await;
    assert_eq!(status, 200, "{res}");
    sees_the_end(&mut on_b, engine).await;
    join_is_refused(&b, event, engine).await;
    join_is_refused(&a, event, engine).await;
    // The other instance cannot reopen it either.
    let (status, _) = b
        .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
        .await;
    assert_eq!(status, 409);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, read) = b.admin("GET", &path(event), None).await;
    assert_eq!(read["room"]["admitted_total"], 0, "{read}");
    assert_eq!(read["ended"], true, "{read}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn deleting_is_refused_once_a_booking_exists_and_accepted_before() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        // Sold nothing (a hold is not a sale): deleted, and its waiting buyer is told.
        let unsold = server
            .create_event(json!({ "seat_map": seat_map(2, 5) }))
            .await;
        let tokens = server.admitted_tokens(unsold, 1).await;
        let (mut holder, _) = server.seats(unsold, &tokens[0]).await;
        let held = holder.ask(json!({ "type": "hold", "seats": [2] })).await;
        assert_eq!(held["type"], "held", "{engine:?}: {held}");
        server.pause(unsold).await;
        let mut waiting = server.connect(unsold).await;
        waiting.join().await;
        waiting.recv_until(|m| m["state"] == "paused").await;
        let (status, body) = server.admin("DELETE", &path(unsold), None).await;
        assert_eq!(status, 204, "{engine:?}: {body}");
        sees_the_end(&mut waiting, engine).await;
        let (status, _) = server.admin("GET", &path(unsold), None).await;
        assert_eq!(status, 404, "{engine:?}");
        let (status, _) = server.admin("DELETE", &path(unsold), None).await;
        assert_eq!(status, 404, "{engine:?}: deleting twice");
        let mut late = server.connect(unsold).await;
        late.send(json!({ "type": "join" })).await;
        assert_eq!(late.error_code().await, "unknown_event", "{engine:?}");

        // Sold one seat: refused, and nothing changes.
        let sold = server
            .create_event(json!({ "seat_map": seat_map(2, 5) }))
            .await;
        let tokens = server.admitted_tokens(sold, 1).await;
        let (mut buyer, _) = server.seats(sold, &tokens[0]).await;
        buyer.ask(json!({ "type": "hold", "seats": [1] })).await;
        let booked = buyer.ask(json!({ "type": "book" })).await;
        assert_eq!(booked["type"], "booked", "{engine:?}: {booked}");
        let before = stored(&server, sold).await;
        let (status, res) = server.admin("DELETE", &path(sold), None).await;
        assert_eq!(status, 409, "{engine:?}: {res}");
        assert_eq!(res["error"], "conflict", "{res}");
        assert!(
            res["message"]
                .as_str()
                .is_some_and(|m| m.contains("bookings")),
            "{res}"
        );
        assert_eq!(stored(&server, sold).await, before, "{engine:?}");
        let (_, view) = server.admin("GET", &path(sold), None).await;
        assert_eq!(view["seats"]["sold"], 1, "{engine:?}: {view}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_end_racing_a_patch_leaves_an_ended_consistent_event() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        for round in 0..8 {
            let event = server.create_event(json!({ "admission_rate": 3.0 })).await;
            let patched = patch(
                &server,
                event,
                json!({ "name": "Patched", "admission_rate": 7.0 }),
            );
            let ended = end(&server, event);
            let ((p_status, p_body), (e_status, e_body)) = tokio::join!(patched, ended);
            assert_eq!(e_status, 200, "{engine:?} round {round}: {e_body}");
            assert!(
                p_status == 200 || p_status == 409,
                "{engine:?} round {round}: {p_status} {p_body}"
            );
            let read = stored(&server, event).await;
            assert_eq!(read["ended"], true, "{engine:?} round {round}: {read}");
            // The patch landed whole or not at all.
            let landed = read["name"] == "Patched";
            assert_eq!(landed, read["admission_rate"] == 7.0, "{read}");
            assert_eq!(
                landed,
                p_status == 200,
                "{engine:?} round {round}: {p_body} {read}"
            );
            // Whatever the order, the engine and the cache know the sale has ended.
            let snap = server
                .state
                .engine
                .snapshot(event, server.state.clock.now_ms())
                .await
                .expect("a snapshot");
            assert!(
                snap.ended && snap.paused,
                "{engine:?} round {round}: {snap:?}"
            );
            join_is_refused(&server, event, engine).await;
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_patched_hold_length_applies_to_the_next_hold_even_on_an_open_seat_map() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "seat_map": seat_map(2, 5), "hold_secs": 300 }))
            .await;
        let tokens = server.admitted_tokens(event, 1).await;
        let (mut buyer, _) = server.seats(event, &tokens[0]).await;
        let first = buyer.ask(json!({ "type": "hold", "seats": [1] })).await;
        assert_eq!(first["type"], "held", "{engine:?}: {first}");
        let (status, view) = patch(&server, event, json!({ "hold_secs": 30 })).await;
        assert_eq!(status, 200, "{engine:?}: {view}");
        let second = buyer.ask(json!({ "type": "hold", "seats": [2] })).await;
        assert_eq!(second["type"], "held", "{engine:?}: {second}");
        let now = server.state.clock.now_ms();
        let (a, b) = (
            first["expires_at_ms"].as_i64().expect("a deadline"),
            second["expires_at_ms"].as_i64().expect("a deadline"),
        );
        assert!(
            a - now > 250_000,
            "{engine:?}: the first hold keeps 300 s: {first}"
        );
        assert!(
            b - now <= 30_000,
            "{engine:?}: the next hold gets 30 s: {second}"
        );
        server.stop().await;
    }
}
