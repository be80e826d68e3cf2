//! `/readyz` as an orchestrator's probe sees it: it answers (never hangs) whatever state
//! Redis is in, says which part is down, and reports what Redis keeps on disk. Each test
//! runs a Redis of its own on a free port, so it can stop, freeze and reconfigure it.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Engine, Server, WAIT, World};
use serde_json::Value;

/// A redis-server of this test; killed (and thawed first, if frozen) when dropped.
struct OwnRedis {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl OwnRedis {
    fn start(extra: &[&str]) -> OwnRedis {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("an address").port()
        };
        let dir = TempDir::new();
        let port_s = port.to_string();
        let mut args = vec![
            "--port",
            &port_s,
            "--bind",
            "127.0.0.1",
            "--dir",
            dir.path(),
        ];
        args.extend_from_slice(extra);
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server never listened"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OwnRedis {
            child,
            url: format!("redis://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        assert_eq!(rc, 0, "signalling redis-server");
    }

    fn kill(&mut self) {
        self.child.kill().expect("killing redis-server");
        self.child.wait().expect("reaping redis-server");
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        // SAFETY: as in `signal`; a frozen process must be thawed to die cleanly.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGCONT) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory for Redis's files, removed afterwards.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let p = std::env::temp_dir().join(format!("usher-redis-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&p).expect("a temp dir");
        TempDir(p)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start_on(redis: &OwnRedis) -> Server {
    let world = World::new(Engine::Redis).await;
    let url = redis.url.clone();
    world.start_with(|s| s.redis_url = url).await
}

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
    let mut redis = OwnRedis::start(&["--save", "", "--appendonly", "no"]);
    let server = start_on(&redis).await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 200, "{body}");
    redis.kill();
    let (status, body) = readyz(&server).await;
    assert_engine_down(status, &body, "redis stopped");
    server.stop().await;
}

#[tokio::test]
async fn readyz_answers_while_redis_is_frozen_and_recovers_when_it_thaws() {
    let redis = OwnRedis::start(&["--save", "", "--appendonly", "no"]);
    let server = start_on(&redis).await;
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
    let redis = OwnRedis::start(&["--save", "", "--appendonly", "no"]);
    let server = start_on(&redis).await;
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
        let redis = OwnRedis::start(args);
        let server = start_on(&redis).await;
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
    let redis = OwnRedis::start(&["--rename-command", "CONFIG", ""]);
    let server = start_on(&redis).await;
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
