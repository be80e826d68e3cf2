//! `/readyz` as an orchestrator's probe sees it: it answers (never hangs) whatever state
//! Redis is in, says which part is down, and reports what Redis keeps on disk. Each test
//! runs a Redis of its own on a free port, so it can stop, freeze and reconfigure it.

use std::time::Duration;

use serde_json::Value;
use usher_testkit::{Engine, RedisServer, Server, WAIT, World};

/// GET /readyz; the client timeout is a hang guard, not a claim about speed.
async fn readyz(server: &Server) -> (u16, Value) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    let res = client
        .get(format!("{}/readyz", server.http()))
        .send()
        .await
        .expect("/readyz answers");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON body"))
}

fn assert_engine_down(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["ready"], false, "{what}: {body}");
    assert_eq!(body["engine"], false, "{what}: {body}");
    assert_eq!(body["database"], true, "{what}: {body}");
    assert_eq!(
        body["down"],
        serde_json::json!(["engine"]),
        "{what}: {body}"
    );
}

#[tokio::test]
async fn readyz_says_the_engine_is_down_when_redis_is_stopped() {
    let mut redis = RedisServer::start_with(&["--save", "", "--appendonly", "no"]).await;
    let server = redis.start_usher().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}");
    redis.kill();
    let (status, body) = readyz(&server).await;
    assert_engine_down(status, &body, "redis stopped");
    server.stop().await;
}

#[tokio::test]
async fn readyz_answers_while_redis_is_frozen_and_recovers_when_it_thaws() {
    let redis = RedisServer::start_with(&["--save", "", "--appendonly", "no"]).await;
    let server = redis.start_usher().await;
    assert_eq!(readyz(&server).await.0, 200);
    redis.signal(libc::SIGSTOP);
    // Twice: a probe abandoned at its timeout must not wedge the next one.
    for _ in 0..2 {
        let (status, body) = readyz(&server).await;
        assert_engine_down(status, &body, "redis frozen");
    }
    redis.signal(libc::SIGCONT);
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (status, body) = readyz(&server).await;
        if status == 200 {
            assert_eq!(body["ready"], true, "{body}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready again after the thaw: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn readyz_warns_when_redis_keeps_nothing_on_disk_but_stays_ready() {
    let redis = RedisServer::start_with(&["--save", "", "--appendonly", "no"]).await;
    let server = redis.start_usher().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["redis_persistence"], "none", "{body}");
    let warning = body["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("appendonly"), "{body}");
    server.stop().await;
}

#[tokio::test]
async fn readyz_reports_aof_and_snapshots_without_a_warning() {
    for (args, label) in [
        (
            &["--appendonly", "yes", "--appendfsync", "everysec"][..],
            "aof-everysec",
        ),
        (
            &["--appendonly", "yes", "--appendfsync", "always"][..],
            "aof-always",
        ),
        (&["--appendonly", "no", "--save", "3600 1"][..], "rdb"),
    ] {
        let redis = RedisServer::start_with(args).await;
        let server = redis.start_usher().await;
        let (status, body) = readyz(&server).await;
        assert_eq!(status, 200, "{label}: {body}");
        assert_eq!(body["redis_persistence"], label, "{body}");
        assert!(body.get("warnings").is_none(), "{label}: {body}");
        server.stop().await;
    }
}

#[tokio::test]
async fn readyz_says_unknown_when_config_is_disabled() {
    // Managed Redis often renames or disables CONFIG.
    let redis = RedisServer::start_with(&["--rename-command", "CONFIG", ""]).await;
    let server = redis.start_usher().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["redis_persistence"], "unknown", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn the_memory_engine_reports_no_redis_persistence() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("redis_persistence").is_none(), "{body}");
    server.stop().await;
}
