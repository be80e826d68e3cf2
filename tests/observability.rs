//! /metrics, /healthz and /readyz as an operator's monitoring sees them.

use std::time::Duration;

use serde_json::json;
use usher_testkit::{RedisServer, World, engines};

async fn text(url: String) -> (u16, String) {
    let res = reqwest::get(url).await.expect("the server answers");
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_count_sockets_queue_length_and_join_latency() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server.create_event(json!({})).await;
        server.pause(event).await;
        let mut a = server.connect(event).await;
        a.join().await;
        let mut b = server.connect(event).await;
        b.join().await;
        let (status, body) = text(format!("{}/metrics", server.http())).await;
        assert_eq!(status, 200);
        assert!(
            body.contains("usher_open_sockets{channel=\"queue\"} 2"),
            "{engine:?}:\n{body}"
        );
        assert!(
            body.contains(&format!("usher_queue_length{{event=\"{event}\"}} 2")),
            "{body}"
        );
        assert!(body.contains("usher_join_seconds_count 2"), "{body}");
        assert!(body.contains("# TYPE usher_admission_push_seconds histogram"));
        drop(a);
        drop(b);
        server.stop().await;
    }
}

#[tokio::test]
async fn readiness_turns_false_while_redis_is_unreachable() {
    if usher_testkit::redis_url().is_none()
        || std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("no Redis here: skipping");
        return;
    }
    // A Redis of this test's own, so that it can be stopped.
    let mut redis = RedisServer::start().await;
    let server = redis.start_usher().await;
    let (status, body) = text(format!("{}/readyz", server.http())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(text(format!("{}/healthz", server.http())).await.0, 200);
    redis.kill();
    let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
    loop {
        let (status, body) = text(format!("{}/readyz", server.http())).await;
        if status == 503 {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["engine"], false);
            assert_eq!(v["database"], true);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readiness never turned false"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Liveness is unaffected: the process still serves.
    assert_eq!(text(format!("{}/healthz", server.http())).await.0, 200);
    server.stop().await;
}
