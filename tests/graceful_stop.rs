//! Stopping the way orchestrators stop usher: the real binary as a child process, sent
//! SIGTERM (docker stop, compose, Kubernetes) or SIGINT (ctrl-c). Every socket must hear
//! close 4000 with a reason, the process must exit 0, and a seat-map token must open at
//! once on another instance (its claim given back, not left to lapse).

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use usher_testkit::{Client, Closed, Engine, WAIT, World, engines};

/// A usher process of this test.
struct Instance {
    child: Child,
    addr: String,
}

impl Instance {
    /// Starts the binary on a free port in `world` (its Redis prefix and database).
    async fn start(world: &World) -> Instance {
        let port = usher_testkit::free_port();
        let s = world.settings();
        let workdir = std::env::temp_dir();
        let child = Command::new(env!("CARGO_BIN_EXE_usher"))
            .current_dir(&workdir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("USHER_BIND", format!("127.0.0.1:{port}"))
            .env("USHER_ENGINE", &s.engine)
            .env("USHER_REDIS_URL", &s.redis_url)
            .env("USHER_REDIS_PREFIX", &s.redis_prefix)
            .env("USHER_DATABASE_URL", &s.database_url)
            .env("USHER_ADMIN_KEY", usher_testkit::ADMIN_KEY)
            .env("USHER_DEMO", "false")
            .env("USHER_TICK_MS", "20")
            .env("USHER_HEARTBEAT_MS", "200")
            .env("USHER_UPDATE_INTERVAL_MS", "200")
            .env("USHER_JOIN_RATE_PER_IP", "10000")
            .env("USHER_JOIN_BURST_PER_IP", "10000")
            .env(
                "USHER_STATIC_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
            )
            .stdout(Stdio::null())
            .spawn()
            .expect("the usher binary starts");
        let inst = Instance {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        inst.wait_until_serving().await;
        inst
    }

    async fn wait_until_serving(&self) {
        let url = format!("http://{}/healthz", self.addr);
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Ok(r) = reqwest::get(&url).await
                && r.status() == 200
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "usher never served at {}",
                self.addr
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "signalling the child");
    }

    /// Waits for the process to exit (hang guard: `WAIT`).
    async fn exited(&mut self) -> ExitStatus {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the child") {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "usher did not exit after the stop signal"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut req = reqwest::Client::new()
            .request(
                method.parse().expect("a method"),
                format!("http://{}{path}", self.addr),
            )
            .bearer_auth(usher_testkit::ADMIN_KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the admin API answers");
        assert!(
            res.status().is_success(),
            "{method} {path}: {}",
            res.status()
        );
        res.json().await.expect("JSON")
    }

    async fn queue(&self, event: i64) -> Client {
        Client::connect(&format!("ws://{}/ws/events/{event}/queue", self.addr)).await
    }

    async fn seats(&self, event: i64, token: &str) -> (Client, Value) {
        let url = format!("ws://{}/ws/events/{event}/seats", self.addr);
        let mut c = Client::connect(&url).await;
        c.send(json!({ "type": "auth", "token": token })).await;
        let first = c.recv().await;
        (c, first)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A failed test must not leave a server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything one stop is checked on: sockets of both channels in every phase.
async fn stop_closes_every_socket_and_gives_the_claim_back(engine: Engine, sig: libc::c_int) {
    let world = World::new(engine).await;
    let mut a = Instance::start(&world).await;
    let now = now_ms();
    let event = a
        .admin(
            "POST",
            "/api/admin/events",
            Some(json!({
                "name": "Stop test", "starts_at_ms": now + 86_400_000,
                "admission_rate": 200.0, "max_active": 1000,
                "seat_map": usher_testkit::seat_map(2, 5),
            })),
        )
        .await["id"]
        .as_i64()
        .expect("an id");
    // A buyer is let in and takes the seat map, holding a seat.
    let mut buyer = a.queue(event).await;
    buyer.join().await;
    let token = buyer.recv_type("admitted").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (mut seats, snap) = a.seats(event, &token).await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    seats.send(json!({ "type": "hold", "seats": [0] })).await;
    assert_eq!(seats.recv_type("held").await["seats"], json!([0]));
    // Buyers still in line (admission paused), and a socket that has not joined yet.
    a.admin("POST", &format!("/api/admin/events/{event}/pause"), None)
        .await;
    let mut waiting = Vec::new();
    for _ in 0..3 {
        let mut c = a.queue(event).await;
        c.join().await;
        c.recv_type("status").await;
        waiting.push(c);
    }
    let mut unjoined = a.queue(event).await;
    // The socket is open (the server answers it) before the stop.
    unjoined.send(json!({ "type": "ping" })).await;
    unjoined.recv_type("pong").await;

    a.signal(sig);

    let mut all: Vec<(&str, &mut Client)> =
        vec![("seat map", &mut seats), ("unjoined", &mut unjoined)];
    for c in waiting.iter_mut() {
        all.push(("waiting", c));
    }
    for (what, c) in all {
        let Closed { code, reason } = c.closed().await;
        assert_eq!(code, 4000, "{engine:?} {what}: {reason}");
        assert!(
            !reason.is_empty(),
            "{engine:?} {what}: the close has a reason"
        );
    }
    let status = a.exited().await;
    assert!(status.success(), "{engine:?}: usher exited with {status}");

    if engine == Engine::Redis {
        // Another instance on the same Redis and database: the token opens at once, the
        // held seat still this buyer's.
        let b = Instance::start(&world).await;
        let (mut again, snap) = b.seats(event, &token).await;
        assert_eq!(snap["type"], "snapshot", "{snap}");
        assert_eq!(snap["mine"], json!([0]), "{snap}");
        again.ws.close(None).await.ok();
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

#[tokio::test]
async fn sigterm_closes_every_socket_with_4000_and_frees_the_seat_session_at_once() {
    for engine in engines() {
        stop_closes_every_socket_and_gives_the_claim_back(engine, libc::SIGTERM).await;
    }
}

#[tokio::test]
async fn sigint_stops_the_same_way() {
    for engine in engines() {
        stop_closes_every_socket_and_gives_the_claim_back(engine, libc::SIGINT).await;
    }
}

/// The in-process handle behaves like the signal: `run_until_stopped` returns only after
/// the sockets are closed.
#[tokio::test]
async fn the_shutdown_handle_returns_after_the_sockets_are_closed() {
    let world = World::new(Engine::Memory).await;
    let app = usher::App::build(world.settings()).await.expect("builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let stop = app.shutdown_handle();
    let task = tokio::spawn(app.run_until_stopped());
    let mut c = Client::connect(&format!("ws://{addr}/ws/events/1/queue")).await;
    c.send(json!({ "type": "ping" })).await;
    c.recv_type("pong").await;
    assert_eq!(state.sockets.open(), 1);
    stop.shutdown();
    // The client does not answer the close: the stop still ends, within its bound.
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the stop ends")
        .expect("no panic")
        .expect("no error");
    assert_eq!(state.sockets.open(), 0);
    let Closed { code, .. } = c.closed().await;
    assert_eq!(code, 4000);
}

/// A stop bound shorter than a stuck client's close still ends the stop at the bound.
#[tokio::test]
async fn a_client_that_never_reads_does_not_hold_the_stop_past_its_bound() {
    let world = World::new(Engine::Memory).await;
    let mut settings = world.settings();
    settings.shutdown_timeout_ms = 200;
    let app = usher::App::build(settings).await.expect("builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let stop = app.shutdown_handle();
    let task = tokio::spawn(app.run_until_stopped());
    let mut c = Client::connect(&format!("ws://{addr}/ws/events/1/queue")).await;
    c.send(json!({ "type": "ping" })).await;
    c.recv_type("pong").await;
    stop.shutdown();
    // The client reads nothing, so the server waits (a second) for its close answer;
    // `run_until_stopped` still returns, with the socket not yet drained.
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the stop ends")
        .expect("no panic")
        .expect("no error");
    assert_eq!(
        state.sockets.open(),
        1,
        "returned at the bound, not after the drain"
    );
    drop(c);
}

/// A client that closes gets the server's close frame back: a clean close, not 1006.
#[tokio::test]
async fn a_client_that_closes_gets_the_close_answered() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "seat_map": usher_testkit::seat_map(1, 4) }))
            .await;
        let token = server.admitted_tokens(event, 1).await.remove(0);
        let (seats, _) = server.seats(event, &token).await;
        let mut joined = server.connect(event).await;
        joined.join().await;
        let unjoined = server.connect(event).await;
        for (what, mut c) in [
            ("seat map", seats),
            ("queue", joined),
            ("unjoined", unjoined),
        ] {
            c.ws.send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            })))
            .await
            .expect("sending the close");
            // Skip what the server sent before it read the close; then its close answer.
            let answer = loop {
                match tokio::time::timeout(WAIT, c.ws.next()).await {
                    Ok(Some(Ok(Message::Close(f)))) => break f,
                    Ok(Some(Ok(_))) => continue,
                    other => panic!("{engine:?} {what}: expected the close answer, got {other:?}"),
                }
            };
            let code = answer.map(|f| u16::from(f.code));
            assert_eq!(code, Some(1000), "{engine:?} {what}: the close is echoed");
            // And then the connection ends cleanly.
            let end = tokio::time::timeout(WAIT, c.ws.next()).await;
            assert!(
                matches!(end, Ok(None)),
                "{engine:?} {what}: expected a clean end, got {end:?}"
            );
        }
        server.stop().await;
    }
}
