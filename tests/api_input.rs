//! HTTP input that once got past validation or was answered off the description, found
//! while describing the API in OpenAPI and fuzzing it (`scripts/ci-schemathesis.sh`):
//! against every engine (and so PostgreSQL too, when CI gives it), bad admin input is a
//! 400 that names the field and changes nothing, and a bad `{id}` is the documented JSON
//! 404 on every route.

use serde_json::{Value, json};

use usher_testkit::{ADMIN_KEY, Server, World, engines};

async fn call(server: &Server, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let res = reqwest::Client::new()
        .request(
            method.parse().expect("a method"),
            format!("{}{path}", server.http()),
        )
        .bearer_auth(ADMIN_KEY)
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON body"))
}

fn with_map(map: Value) -> Value {
    json!({"name": "Map", "starts_at_ms": 1_900_000_000_000_i64, "seat_map": map})
}

fn grid(rows: u64, per_row: u64) -> Value {
    with_map(json!({"prices": {"R": 1}, "sections": [
        {"name": "A", "grade": "R", "rows": rows, "seats_per_row": per_row}]}))
}

#[tokio::test]
async fn a_nul_character_in_any_stored_text_is_refused_naming_the_field() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = json!({"name": "Fine", "starts_at_ms": 1_900_000_000_000_i64});
        let (status, created) = call(&server, "POST", "/api/admin/events", &event).await;
        assert_eq!(status, 201, "{engine:?}: {created}");
        let cases = [
            (json!({"name": "a\u{0}b", "starts_at_ms": 1}), "name"),
            (
                json!({"name": "X", "kind": "\u{0}", "starts_at_ms": 1}),
                "kind",
            ),
            (
                json!({"name": "X", "venue": "v\u{0}", "starts_at_ms": 1}),
                "venue",
            ),
            (
                with_map(json!({"prices": {"R\u{0}": 1}, "sections": [
                    {"name": "A", "grade": "R\u{0}", "rows": 1, "seats_per_row": 1}]})),
                "grade",
            ),
            (
                with_map(json!({"prices": {"R": 1}, "sections": [
                    {"name": "A\u{0}", "grade": "R", "rows": 1, "seats_per_row": 1}]})),
                "name",
            ),
            (
                with_map(json!({"prices": {"R": 1}, "sections": [
                    {"name": "A", "grade": "R", "row_list": [{"row": "\u{0}", "seats": 1}]}]})),
                "row",
            ),
        ];
        for (body, field) in cases {
            let (status, res) = call(&server, "POST", "/api/admin/events", &body).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            let message = res["message"].as_str().expect("a message");
            assert!(
                message.contains(field) && message.contains("NUL"),
                "{engine:?}: {message}"
            );
        }
        let path = format!("/api/admin/events/{}", created["id"]);
        for patch in [json!({"venue": "\u{0}"}), json!({"name": "x\u{0}"})] {
            let (status, res) = call(&server, "PATCH", &path, &patch).await;
            assert_eq!(status, 400, "{engine:?}: {patch}: {res}");
        }
        let (_, list) = call(&server, "GET", "/api/admin/events", &json!(null)).await;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{engine:?}: {list}");
        assert_eq!(list[0]["name"], "Fine");
        assert_eq!(list[0]["venue"], "");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_seat_map_too_big_or_with_no_seats_is_refused_without_expanding_it() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let huge_row = with_map(json!({"prices": {"R": 1}, "sections": [
            {"name": "A", "grade": "R", "row_list": [{"row": "1", "seats": u32::MAX}]}]}));
        let cases = [
            // 4 billion empty rows: this held a worker for a minute.
            (grid(u32::MAX.into(), 0), "at least 1"),
            (grid(0, 5), "at least 1"),
            (grid(u32::MAX.into(), u32::MAX.into()), "at most 100000"),
            // 4 billion seat numbers: this was collected (16 GB) before being counted.
            (huge_row, "at most 100000"),
            (
                with_map(json!({"prices": {"R": 1}, "sections": [
                    {"name": "A", "grade": "R", "row_list": [{"row": "1", "seats": []}]}]})),
                "no seats",
            ),
        ];
        for (body, words) in cases {
            let (status, res) = call(&server, "POST", "/api/admin/events", &body).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            let message = res["message"].as_str().expect("a message");
            assert!(message.contains(words), "{engine:?}: {message}");
        }
        let (_, list) = call(&server, "GET", "/api/admin/events", &json!(null)).await;
        assert_eq!(list, json!([]), "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn a_bad_section_area_is_refused_naming_the_section_and_a_good_one_is_served() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let map = |area: Value| {
            with_map(json!({"prices": {"R": 1}, "sections": [
                {"name": "Floor", "grade": "R", "rows": 1, "seats_per_row": 2,
                 "area": {"x": 0, "y": 100, "w": 500, "h": 100}},
                {"name": "Gallery 2", "grade": "R", "rows": 1, "seats_per_row": 2, "area": area}],
                "stage": {"x": 250, "y": 0, "w": 500, "h": 80}}))
        };
        let cases = [
            (json!({"x": -5, "y": 0, "w": 10, "h": 10}), "area.x"),
            (json!({"x": 0, "y": 0, "w": 10, "h": "10"}), "area.h"),
            (json!({"x": 0, "y": 0, "w": 10.5, "h": 10}), "area.w"),
            (json!({"x": 0, "y": 0, "w": null, "h": 10}), "area.w"),
            (json!({"x": 0, "y": 0, "w": 0, "h": 10}), "at least 1"),
            (
                json!({"x": 995, "y": 0, "w": 10, "h": 10}),
                "past the 1000 x 1000",
            ),
            (json!({"x": 0, "y": 1e300, "w": 10, "h": 10}), "area.y"),
            (
                json!({"x": 0, "y": 0, "w": 10, "h": 10, "d": 1}),
                "unknown field",
            ),
            (json!("left"), "must be an object"),
        ];
        for (area, words) in cases {
            let body = map(area);
            let (status, res) = call(&server, "POST", "/api/admin/events", &body).await;
            assert_eq!(status, 400, "{engine:?}: {body}: {res}");
            let message = res["message"].as_str().expect("a message");
            assert!(
                message.contains("section \"Gallery 2\"") && message.contains(words),
                "{engine:?}: {message}"
            );
        }
        let (_, list) = call(&server, "GET", "/api/admin/events", &json!(null)).await;
        assert_eq!(list, json!([]), "{engine:?}");

        // A good plan is stored and served with the layout (overlapping boxes are allowed).
        let (status, created) = call(
            &server,
            "POST",
            "/api/admin/events",
            &map(json!({"x": 400, "y": 150, "w": 600, "h": 850})),
        )
        .await;
        assert_eq!(status, 201, "{engine:?}: {created}");
        // Served by an instance started after the creation (nothing of it cached): the
        // plan comes from the database.
        server.stop().await;
        let server = world.start().await;
        let layout: Value = reqwest::get(format!(
            "{}/api/events/{}/seats/layout",
            server.http(),
            created["id"]
        ))
        .await
        .expect("the layout")
        .json()
        .await
        .expect("JSON");
        assert_eq!(
            layout["stage"],
            json!({"x": 250, "y": 0, "w": 500, "h": 80})
        );
        assert_eq!(layout["sections"][0]["area"]["y"], 100, "{engine:?}");
        assert_eq!(
            layout["sections"][1]["area"],
            json!({"x": 400, "y": 150, "w": 600, "h": 850}),
            "{engine:?}"
        );
        // Removing the event (nothing sold) removes its plan too.
        let res = reqwest::Client::new()
            .delete(format!(
                "{}/api/admin/events/{}",
                server.http(),
                created["id"]
            ))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .expect("the server answers");
        assert!(res.status().is_success(), "{engine:?}: {res:?}");
        let (_, list) = call(&server, "GET", "/api/admin/events", &json!(null)).await;
        assert_eq!(list, json!([]), "{engine:?}");
        server.stop().await;
    }
}

#[tokio::test]
async fn an_id_that_is_not_utf8_is_the_documented_json_404_on_every_route() {
    let world = World::new(usher_testkit::Engine::Memory).await;
    let server = world.start().await;
    let routes = [
        ("GET", "/api/events/%FF"),
        ("GET", "/api/events/%FF/seats/layout"),
        ("POST", "/api/events/%FF/session/end"),
        ("GET", "/api/admin/events/%FF"),
        ("PATCH", "/api/admin/events/%FF"),
        ("DELETE", "/api/admin/events/%FF"),
        ("POST", "/api/admin/events/%FF/end"),
        ("POST", "/api/admin/events/%FF/pause"),
        ("POST", "/api/admin/events/%FF/resume"),
        ("POST", "/api/admin/events/%FF/revoke"),
        ("POST", "/api/admin/webhooks/%FF/retry"),
    ];
    for (method, path) in routes {
        // Axum's own answer was a plain-text 400 ("Invalid URL: Invalid UTF-8 in `id`").
        let (status, res) = call(&server, method, path, &json!({})).await;
        assert_eq!(status, 404, "{method} {path}: {res}");
        assert_eq!(res["error"], "not_found", "{method} {path}: {res}");
    }
    server.stop().await;
}
