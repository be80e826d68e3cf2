//! The admin API (bearer key), the public event API and the health routes, against every
//! engine: authentication, validation that names the bad field and changes nothing, and
//! every change showing up in the room's counters.

use serde_json::{Value, json};

use usher_testkit::{ADMIN_KEY, Server, World, engines};

/// One HTTP call: `key` is sent as a bearer token, `body` as raw JSON text.
async fn call(
    server: &Server,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let url = format!("{}{}", server.http(), path);
    let mut req = client.request(method.parse().expect("a method"), url);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_owned());
    }
    let res = req.send().await.expect("the server answers");
    let status = res.status().as_u16();
    let text = res.text().await.expect("a body");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// A public GET.
async fn get(server: &Server, path: &str) -> (u16, Value) {
    call(server, "GET", path, None, None).await
}

/// Checks the error body shape: exactly `{"error": code, "message": "…"}`.
fn assert_error(body: &Value, code: &str) {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("a JSON object: {body}"));
    assert_eq!(object.len(), 2, "only error and message: {body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
}

/// Every admin route (those of one event for `event`), with a body where it takes one.
fn admin_routes(event: &str) -> Vec<(&'static str, String, Option<&'static str>)> {
    let new = r#"{"name":"Sneaky","starts_at_ms":1}"#;
    vec![
        ("GET", "/api/admin/events".into(), None),
        ("POST", "/api/admin/events".into(), Some(new)),
        ("GET", format!("/api/admin/events/{event}"), None),
        (
            "PATCH",
            format!("/api/admin/events/{event}"),
            Some(r#"{"max_active":1}"#),
        ),
        ("POST", format!("/api/admin/events/{event}/pause"), None),
        ("POST", format!("/api/admin/events/{event}/resume"), None),
        (
            "POST",
            format!("/api/admin/events/{event}/revoke"),
            Some(r#"{"buyer":"00000000000000000000000000000000"}"#),
        ),
    ]
}

/// The events the admin API lists.
async fn events(server: &Server) -> Vec<Value> {
    let (status, body) = server.admin("GET", "/api/admin/events", None).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().expect("a list").clone()
}

#[tokio::test]
async fn admin_routes_without_a_key_or_with_a_wrong_key_are_unauthorized_and_change_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({ "max_active": 50 })).await;
        let wrong_keys = [
            None,
            Some("wrong-key"),
            Some(""),
            Some(&ADMIN_KEY[..ADMIN_KEY.len() - 1]),
            Some("test-admin-key-and-more"),
        ];
        for key in wrong_keys {
            for (method, path, body) in admin_routes(&event.to_string()) {
                let (status, res) = call(&server, method, &path, key, body).await;
                assert_eq!(
                    status, 401,
                    "{engine:?}: {method} {path} with {key:?}: {res}"
                );
                assert_error(&res, "unauthorized");
            }
        }
        // Another scheme than Bearer is not the key either.
        let res = reqwest::Client::new()
            .get(format!("{}/api/admin/events", server.http()))
            .header("authorization", format!("Basic {ADMIN_KEY}"))
            .send()
            .await
            .expect("the server answers");
        assert_eq!(res.status().as_u16(), 401, "{engine:?}");

        let all = events(&server).await;
        assert_eq!(all.len(), 1, "{engine:?}: nothing was created: {all:?}");
        let (_, view) = server
            .admin("GET", &format!("/api/admin/events/{event}"), None)
            .await;
        assert_eq!(view["max_active"], 50, "{engine:?}: not patched: {view}");
        assert_eq!(
            view["room"]["paused"], false,
            "{engine:?}: not paused: {view}"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn the_admin_api_is_disabled_when_no_admin_key_is_set() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start_with(|s| s.admin_key = String::new()).await;
        for key in [None, Some(""), Some(ADMIN_KEY)] {
            for (method, path, body) in admin_routes("1") {
                let (status, res) = call(&server, method, &path, key, body).await;
                assert_eq!(
                    status, 503,
                    "{engine:?}: {method} {path} with {key:?}: {res}"
                );
                assert_error(&res, "admin_disabled");
            }
        }
        let (status, list) = get(&server, "/api/events").await;
        assert_eq!(status, 200, "{engine:?}: the public API still works");
        assert_eq!(list, json!([]), "{engine:?}: nothing was created");
        server.stop().await;
    }
}

#[tokio::test]
async fn creating_an_event_with_a_bad_field_is_refused_naming_the_field_and_creates_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let cases = [
            (
                r#"{"name":"X","starts_at_ms":1,"admission_rate":0}"#,
                "admission_rate",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"admission_rate":-2.5}"#,
                "admission_rate",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"admission_rate":1000000}"#,
                "admission_rate",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"max_active":0}"#,
                "max_active",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"max_active":-5}"#,
                "max_active",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"max_active":1.5}"#,
                "max_active",
            ),
            (r#"{"starts_at_ms":1}"#, "name"),
            (r#"{"name":"   ","starts_at_ms":1}"#, "name"),
            (r#"{"name":"X"}"#, "starts_at_ms"),
            (
                r#"{"name":"X","starts_at_ms":"2030-01-01T20:00:00Z"}"#,
                "starts_at_ms",
            ),
            (r#"{"name":"X","starts_at_ms":1,"colour":"red"}"#, "colour"),
            (
                r#"{"name":"X","starts_at_ms":1,"session_secs":0}"#,
                "session_secs",
            ),
            (
                r#"{"name":"X","starts_at_ms":1,"grace_secs":-1}"#,
                "grace_secs",
            ),
            (r#"{"name":"X","starts_at_ms":1,"paused":1}"#, "paused"),
            (r#"{"name":"X","starts_at_ms":1,"id":7}"#, "id"),
            (r#"{"name":"X","starts_at_ms":1"#, "JSON"),
            ("not json", "JSON"),
            ("[]", "NewEvent"),
        ];
        for (body, field) in cases {
            let (status, res) = call(
                &server,
                "POST",
                "/api/admin/events",
                Some(ADMIN_KEY),
                Some(body),
            )
            .await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            assert_error(&res, "bad_request");
            let message = res["message"].as_str().unwrap();
            if field != "NewEvent" {
                assert!(message.contains(field), "{engine:?}: {body}: {message}");
            }
        }
        // Without the JSON content type.
        let res = reqwest::Client::new()
            .post(format!("{}/api/admin/events", server.http()))
            .bearer_auth(ADMIN_KEY)
            .body(r#"{"name":"X","starts_at_ms":1}"#)
            .send()
            .await
            .expect("the server answers");
        assert_eq!(res.status().as_u16(), 400, "{engine:?}");

        assert_eq!(events(&server).await, Vec::<Value>::new(), "{engine:?}");
        let (_, public) = get(&server, "/api/events").await;
        assert_eq!(public, json!([]), "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_created_event_is_listed_for_admins_and_shown_to_the_public_without_admin_fields() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let before = server.state.clock.now_ms();
        let body = json!({
            "name": "The Midnight Orchestra",
            "venue": "Olympic Hall",
            "starts_at_ms": before + 86_400_000,
        });
        let (status, created) = server.admin("POST", "/api/admin/events", Some(body)).await;
        assert_eq!(status, 201, "{engine:?}: {created}");
        let id = created["id"].as_i64().expect("an id");
        // The defaults.
        assert_eq!(created["kind"], "concert", "{created}");
        assert_eq!(created["admission_rate"], 10.0, "{created}");
        assert_eq!(created["max_active"], 500, "{created}");
        assert_eq!(created["session_secs"], 600, "{created}");
        assert_eq!(created["grace_secs"], 60, "{created}");
        assert_eq!(created["paused"], 0, "{created}");
        let opens = created["sale_opens_at_ms"].as_i64().unwrap();
        assert!(
            opens >= before && opens <= server.state.clock.now_ms(),
            "the sale opens now by default: {created}"
        );
        assert_eq!(created["room"]["rate"], 10.0, "{engine:?}: {created}");
        assert_eq!(created["room"]["max_active"], 500, "{engine:?}: {created}");
        assert_eq!(created["room"]["waiting"], 0, "{created}");

        let (status, read) = server
            .admin("GET", &format!("/api/admin/events/{id}"), None)
            .await;
        assert_eq!(status, 200, "{read}");
        for field in [
            "id",
            "name",
            "kind",
            "venue",
            "starts_at_ms",
            "sale_opens_at_ms",
            "admission_rate",
            "max_active",
            "session_secs",
            "grace_secs",
            "paused",
        ] {
            assert_eq!(read[field], created[field], "{engine:?}: {field}");
        }
        let all = events(&server).await;
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0]["id"], id);
        assert_eq!(all[0]["name"], "The Midnight Orchestra");
        assert!(all[0]["room"].is_object(), "{all:?}");

        let public_fields = [
            "id",
            "name",
            "kind",
            "venue",
            "starts_at_ms",
            "sale_opens_at_ms",
        ];
        let admin_fields = [
            "admission_rate",
            "max_active",
            "session_secs",
            "grace_secs",
            "paused",
        ];
        let (status, public) = get(&server, &format!("/api/events/{id}")).await;
        assert_eq!(status, 200, "{engine:?}: {public}");
        for field in public_fields {
            assert_eq!(public[field], created[field], "{engine:?}: {field}");
        }
        for field in admin_fields {
            assert!(
                public.get(field).is_none(),
                "{engine:?}: {field} is public: {public}"
            );
        }
        assert_eq!(public["room"]["waiting"], 0, "{engine:?}: {public}");

        let (status, list) = get(&server, "/api/events").await;
        assert_eq!(status, 200, "{list}");
        let list = list.as_array().expect("a list");
        assert_eq!(list.len(), 1, "{list:?}");
        let listed = list[0].as_object().unwrap();
        let mut keys: Vec<&str> = listed.keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = public_fields.to_vec();
        expected.sort_unstable();
        assert_eq!(
            keys, expected,
            "{engine:?}: the public list shows only public fields"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn patching_the_rate_and_the_cap_shows_in_the_room() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "admission_rate": 3.0, "max_active": 40 }))
            .await;
        let path = format!("/api/admin/events/{event}");
        let (status, patched) = server
            .admin(
                "PATCH",
                &path,
                Some(json!({ "admission_rate": 2.5, "max_active": 7 })),
            )
            .await;
        assert_eq!(status, 200, "{engine:?}: {patched}");
        assert_eq!(patched["admission_rate"], 2.5, "{patched}");
        assert_eq!(patched["max_active"], 7, "{patched}");
        assert_eq!(patched["room"]["rate"], 2.5, "{engine:?}: {patched}");
        assert_eq!(patched["room"]["max_active"], 7, "{engine:?}: {patched}");

        // One field at a time: the other stays.
        let (status, patched) = server
            .admin("PATCH", &path, Some(json!({ "max_active": 9 })))
            .await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["room"]["rate"], 2.5, "{engine:?}: {patched}");
        assert_eq!(patched["room"]["max_active"], 9, "{engine:?}: {patched}");
        let (status, patched) = server
            .admin("PATCH", &path, Some(json!({ "admission_rate": 0.5 })))
            .await;
        assert_eq!(status, 200, "{patched}");
        assert_eq!(patched["room"]["rate"], 0.5, "{engine:?}: {patched}");
        assert_eq!(patched["room"]["max_active"], 9, "{engine:?}: {patched}");

        let (_, read) = server.admin("GET", &path, None).await;
        assert_eq!(read["admission_rate"], 0.5, "{engine:?}: {read}");
        assert_eq!(read["max_active"], 9, "{read}");
        assert_eq!(read["room"]["rate"], 0.5, "{engine:?}: {read}");
        assert_eq!(read["room"]["max_active"], 9, "{engine:?}: {read}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_bad_patch_is_refused_naming_the_field_and_changes_nothing() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "admission_rate": 3.0, "max_active": 40 }))
            .await;
        let path = format!("/api/admin/events/{event}");
        for (body, field) in [
            (r#"{"admission_rate":0}"#, "admission_rate"),
            (r#"{"admission_rate":-1}"#, "admission_rate"),
            (r#"{"max_active":0}"#, "max_active"),
            (r#"{"admission_rate":5,"max_active":0}"#, "max_active"),
            (r#"{"admission_rate":"fast"}"#, "admission_rate"),
            (r#"{"session_secs":0}"#, "session_secs"),
            (r#"{"name":"  "}"#, "name"),
            (r#"{"colour":"red"}"#, "colour"),
            (r#"{"max_active":"#, "JSON"),
        ] {
            let (status, res) = call(&server, "PATCH", &path, Some(ADMIN_KEY), Some(body)).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            assert_error(&res, "bad_request");
            let message = res["message"].as_str().unwrap();
            assert!(message.contains(field), "{engine:?}: {body}: {message}");
        }
        let (_, read) = server.admin("GET", &path, None).await;
        assert_eq!(read["admission_rate"], 3.0, "{engine:?}: {read}");
        assert_eq!(read["max_active"], 40, "{read}");
        assert_eq!(read["name"], "Test Concert", "{read}");
        assert_eq!(read["room"]["rate"], 3.0, "{engine:?}: {read}");
        assert_eq!(read["room"]["max_active"], 40, "{engine:?}: {read}");
        server.stop().await;
    }
}

#[tokio::test]
async fn pausing_and_resuming_shows_in_the_room() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        let path = format!("/api/admin/events/{event}");
        let (_, read) = server.admin("GET", &path, None).await;
        assert_eq!(read["room"]["paused"], false, "{engine:?}: {read}");

        for _ in 0..2 {
            // Pausing twice is the same as pausing once.
            let (status, paused) = server.admin("POST", &format!("{path}/pause"), None).await;
            assert_eq!(status, 200, "{engine:?}: {paused}");
            assert_eq!(paused["paused"], 1, "{paused}");
            assert_eq!(paused["room"]["paused"], true, "{engine:?}: {paused}");
        }
        let (_, read) = server.admin("GET", &path, None).await;
        assert_eq!(read["room"]["paused"], true, "{engine:?}: {read}");
        let (_, public) = get(&server, &format!("/api/events/{event}")).await;
        assert_eq!(public["room"]["paused"], true, "{engine:?}: {public}");

        let (status, resumed) = server.admin("POST", &format!("{path}/resume"), None).await;
        assert_eq!(status, 200, "{engine:?}: {resumed}");
        assert_eq!(resumed["paused"], 0, "{resumed}");
        assert_eq!(resumed["room"]["paused"], false, "{engine:?}: {resumed}");
        let (_, read) = server.admin("GET", &path, None).await;
        assert_eq!(read["room"]["paused"], false, "{engine:?}: {read}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_unknown_event_is_not_found_on_every_route() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        for missing in [
            (event + 1).to_string(),
            "999999".into(),
            "abc".into(),
            "-1".into(),
        ] {
            for (method, path, body) in admin_routes(&missing) {
                if path == "/api/admin/events" {
                    continue; // the collection, not an event
                }
                let (status, res) = call(&server, method, &path, Some(ADMIN_KEY), body).await;
                assert_eq!(status, 404, "{engine:?}: {method} {path}: {res}");
                assert_error(&res, "not_found");
            }
            let (status, res) = get(&server, &format!("/api/events/{missing}")).await;
            assert_eq!(status, 404, "{engine:?}: {res}");
            assert_error(&res, "not_found");
            let end = format!("/api/events/{missing}/session/end");
            let (status, res) = call(&server, "POST", &end, Some("a-token"), None).await;
            assert_eq!(status, 404, "{engine:?}: {res}");
        }
        assert_eq!(
            events(&server).await.len(),
            1,
            "{engine:?}: nothing was created"
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn revoking_needs_exactly_one_of_a_hex_buyer_id_or_a_user() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        let path = format!("/api/admin/events/{event}/revoke");
        for body in [
            r#"{"buyer":"not-hex"}"#,
            r#"{"buyer":"zz"}"#,
            r#"{"buyer":"0123"}"#,
            r#"{"buyer":"000000000000000000000000000000000000"}"#,
            r#"{"buyer":""}"#,
            r#"{"buyer":42}"#,
            r#"{"buyer":"00000000000000000000000000000000","user":"u"}"#,
            r#"{}"#,
            r#"{"buyer_id":"00000000000000000000000000000000"}"#,
            r#"{"buyer":"#,
        ] {
            let (status, res) = call(&server, "POST", &path, Some(ADMIN_KEY), Some(body)).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            assert_error(&res, "bad_request");
        }
        let (_, res) = call(
            &server,
            "POST",
            &path,
            Some(ADMIN_KEY),
            Some(r#"{"buyer":"xyz"}"#),
        )
        .await;
        assert!(res["message"].as_str().unwrap().contains("buyer"), "{res}");

        // A well-formed id nobody used: accepted, and reported as unknown.
        let unknown = "0123456789abcdef0123456789abcdef";
        let (status, res) = server
            .admin("POST", &path, Some(json!({ "buyer": unknown })))
            .await;
        assert_eq!(status, 200, "{engine:?}: {res}");
        assert_eq!(
            res,
            json!({ "buyer": unknown, "known": false, "revoked": true }),
            "{engine:?}"
        );
        let (_, read) = server
            .admin("GET", &format!("/api/admin/events/{event}"), None)
            .await;
        assert_eq!(read["room"]["waiting"], 0, "{engine:?}: {read}");
        server.stop().await;
    }
}

#[tokio::test]
async fn health_and_readiness_report_ok() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let (status, body) = get(&server, "/healthz").await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["status"], "ok", "{engine:?}: {body}");
        assert_eq!(body["tasks_down"], json!([]), "{engine:?}: {body}");
        let (status, body) = get(&server, "/readyz").await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["ready"], true, "{engine:?}: {body}");
        assert_eq!(body["database"], true, "{engine:?}: {body}");
        assert_eq!(body["engine"], true, "{engine:?}: {body}");
        assert!(body.get("down").is_none(), "{engine:?}: {body}");
        let (status, jwks) = get(&server, "/.well-known/jwks.json").await;
        assert_eq!(status, 200, "{engine:?}: {jwks}");
        let key = &jwks["keys"][0];
        assert_eq!(
            (
                key["kty"].as_str(),
                key["crv"].as_str(),
                key["alg"].as_str()
            ),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA")),
            "{jwks}"
        );
        server.stop().await;
    }
}
