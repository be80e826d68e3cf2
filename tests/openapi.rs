//! The OpenAPI description (`docs/openapi.json`) stays in step with the router: every
//! route of `http::router` is described, with each of its methods, and nothing else is.
//! The WebSocket routes (`/ws/…`) are described in docs/protocol.md instead, and the
//! pages (`http::pages::routes`, or `route_service`s from `static_dir`) are not read. The server serves the same bytes.

use std::collections::BTreeSet;

use serde_json::Value;
use usher_testkit::{Engine, World};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(method, path)` of every `.route(path, method(handler).method(handler)…)` in the
/// router's source, without the sockets.
fn router_routes() -> BTreeSet<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs");
    let source = std::fs::read_to_string(path).expect("src/http/mod.rs is readable");
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    for call in code.split(".route(").skip(1) {
        // The call runs to the next route or to `with_state`.
        let call = call.split(".with_state(").next().unwrap_or(call);
        let path = call
            .trim_start()
            .strip_prefix('"')
            .and_then(|rest| rest.split('"').next())
            .expect("a route's path is a string literal");
        if path.starts_with("/ws/") {
            continue;
        }
        let mut methods = 0;
        for (i, _) in call.match_indices('(') {
            let before = &call[..i];
            let word_start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            let word = &before[word_start..];
            if METHODS.contains(&word) {
                out.insert((word.to_owned(), path.to_owned()));
                methods += 1;
            }
        }
        assert!(methods > 0, "no method read for the route {path}");
    }
    assert!(out.len() > 10, "the router's routes were read: {out:?}");
    out
}

/// `(method, path)` of every operation of the description.
fn described_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for method in item.as_object().expect("a path item").keys() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()));
            }
        }
    }
    out
}

fn description() -> Value {
    serde_json::from_str(usher::http::openapi::OPENAPI_JSON).expect("docs/openapi.json is JSON")
}

#[test]
fn every_route_of_the_router_is_described_and_nothing_else() {
    let routes = router_routes();
    let described = described_routes(&description());
    let missing: Vec<_> = routes.difference(&described).collect();
    let extra: Vec<_> = described.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes of http::router missing from docs/openapi.json: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "operations in docs/openapi.json that http::router does not have: {extra:?}"
    );
}

#[test]
fn every_admin_operation_needs_the_admin_key_and_no_public_one_does() {
    let doc = description();
    for (method, path) in described_routes(&doc) {
        let op = &doc["paths"][&path][&method];
        let admin = op["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("adminKey").is_some()));
        assert_eq!(
            admin,
            path.starts_with("/api/admin/"),
            "{method} {path}: the admin key is needed exactly on /api/admin/"
        );
        if admin {
            for code in ["401", "503"] {
                assert!(
                    op["responses"].get(code).is_some(),
                    "{method} {path} lists {code}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_description_is_served_without_a_key() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    let res = reqwest::get(format!("{}/api/openapi.json", server.http()))
        .await
        .expect("the server answers");
    assert_eq!(res.status().as_u16(), 200);
    let served: Value = res.json().await.expect("JSON");
    assert_eq!(served, description());
}
