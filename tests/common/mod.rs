//! Test helpers: start real usher servers on port 0 against real Redis / PostgreSQL /
//! SQLite, and talk to them over real WebSockets and HTTP.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use usher::clock::Clock;
use usher::http::ServerState;
use usher::{App, Settings, ShutdownHandle};

/// The admin key every test server uses.
pub const ADMIN_KEY: &str = "test-admin-key";
/// The site secret every test server uses.
pub const SITE_SECRET: &str = "test-site-secret";
/// How long a test waits for an expected message before failing (a hang guard only).
pub const WAIT: Duration = Duration::from_secs(15);

/// Which engine a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Memory,
    Redis,
}

/// The Redis URL of the test environment; `None` skips the Redis variants.
pub fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
}

/// Engines to run a conformance case against: memory always, Redis when configured.
pub fn engines() -> Vec<Engine> {
    let mut v = vec![Engine::Memory];
    if redis_url().is_some() {
        v.push(Engine::Redis);
    } else {
        eprintln!("REDIS_URL is not set: skipping the Redis engine");
    }
    v
}

fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// One isolated world: its own Redis key prefix and its own database. Several servers
/// started from one `World` share both, like instances behind a load balancer.
pub struct World {
    pub engine: Engine,
    pub prefix: String,
    pub database_url: String,
    pub clock: Clock,
}

impl World {
    /// A world with the system clock.
    pub async fn new(engine: Engine) -> World {
        World::with_clock(engine, Clock::system()).await
    }

    /// A world whose servers all use `clock`. With the Redis engine the database is
    /// PostgreSQL when `POSTGRES_URL` is set (a fresh database per world), else SQLite.
    pub async fn with_clock(engine: Engine, clock: Clock) -> World {
        let id = unique();
        let database_url = match (engine, std::env::var("POSTGRES_URL").ok()) {
            (Engine::Redis, Some(admin)) if !admin.is_empty() => fresh_postgres(&admin, &id).await,
            _ => {
                let path = std::env::temp_dir().join(format!("usher-test-{id}.db"));
                format!("sqlite://{}?mode=rwc", path.display())
            }
        };
        World {
            engine,
            prefix: format!("t{id}"),
            database_url,
            clock,
        }
    }

    /// Settings of a server in this world.
    pub fn settings(&self) -> Settings {
        Settings {
            bind: "127.0.0.1:0".into(),
            engine: match self.engine {
                Engine::Memory => "memory".into(),
                Engine::Redis => "redis".into(),
            },
            redis_url: redis_url().unwrap_or_default(),
            redis_prefix: self.prefix.clone(),
            database_url: self.database_url.clone(),
            admin_key: ADMIN_KEY.into(),
            site_secret: SITE_SECRET.into(),
            demo: false,
            update_interval_ms: 200,
            tick_ms: 20,
            heartbeat_ms: 200,
            join_rate_per_ip: 10_000,
            join_burst_per_ip: 10_000,
            ..Settings::default()
        }
    }

    /// Starts a server in this world.
    pub async fn start(&self) -> Server {
        self.start_with(|_| {}).await
    }

    /// Starts a server with changed settings.
    pub async fn start_with(&self, change: impl FnOnce(&mut Settings)) -> Server {
        let mut settings = self.settings();
        change(&mut settings);
        let app = App::build_with_clock(settings, self.clock.clone())
            .await
            .expect("the server builds");
        let addr = app.local_addr();
        let state = app.state().clone();
        let stop = app.shutdown_handle();
        let task = tokio::spawn(app.run_until_stopped());
        Server {
            addr,
            state,
            stop,
            task,
        }
    }
}

/// Creates an empty PostgreSQL database next to `admin_url` and returns its URL.
pub async fn fresh_postgres(admin_url: &str, id: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("PostgreSQL at POSTGRES_URL answers");
    let name = format!("usher_t_{id}");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("creating a test database");
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(admin_url);
    format!("{base}/{name}")
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub state: ServerState,
    stop: ShutdownHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// `http://addr`.
    pub fn http(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The queue socket URL of an event.
    pub fn queue_url(&self, event: i64) -> String {
        format!("ws://{}/ws/events/{event}/queue", self.addr)
    }

    /// Stops the server (sockets get close 4000) and waits for it to end.
    pub async fn stop(self) {
        self.stop.shutdown();
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }

    /// Creates an event through the admin API; `fields` override the defaults.
    pub async fn create_event(&self, fields: Value) -> i64 {
        let mut body = json!({
            "name": "Test Concert",
            "kind": "concert",
            "venue": "Test Hall",
            "starts_at_ms": self.state.clock.now_ms() + 86_400_000,
        });
        for (k, v) in fields.as_object().expect("an object") {
            body[k] = v.clone();
        }
        let res = self.admin("POST", "/api/admin/events", Some(body)).await;
        assert_eq!(res.0, 201, "creating an event: {}", res.1);
        res.1["id"].as_i64().expect("an id")
    }

    /// Calls the admin API; returns status and JSON body.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let client = reqwest::Client::new();
        let url = format!("{}{}", self.http(), path);
        let mut req = client
            .request(method.parse().expect("a method"), url)
            .bearer_auth(ADMIN_KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the admin API answers");
        let status = res.status().as_u16();
        let value = res.json::<Value>().await.unwrap_or(Value::Null);
        (status, value)
    }

    /// Pauses admission of an event through the admin API.
    pub async fn pause(&self, event: i64) {
        let (status, body) = self
            .admin("POST", &format!("/api/admin/events/{event}/pause"), None)
            .await;
        assert_eq!(status, 200, "pausing: {body}");
    }

    /// Resumes admission of an event through the admin API.
    pub async fn resume(&self, event: i64) {
        let (status, body) = self
            .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
            .await;
        assert_eq!(status, 200, "resuming: {body}");
    }

    /// Opens a waiting-room socket.
    pub async fn connect(&self, event: i64) -> Client {
        Client::connect(&self.queue_url(event)).await
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A buyer's WebSocket.
pub struct Client {
    pub ws: Ws,
}

/// What ended a socket.
#[derive(Debug, PartialEq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Client { ws }
    }

    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("sending");
    }

    pub async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.expect("sending");
    }

    /// The next JSON message; panics on timeout or close.
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("expected a message, got nothing in time");
            match next {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Skips messages until one of type `ty`.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        let ty = ty.to_owned();
        self.recv_until(move |m| {
            if m["type"] != ty.as_str() && (m["type"] == "error" || m["type"] == "admitted") {
                panic!("expected {ty}, got {m}");
            }
            m["type"] == ty.as_str()
        })
        .await
    }

    /// Skips messages until one satisfies `pred`; panics (showing the last message) when
    /// none does within the hang guard.
    pub async fn recv_until(&mut self, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let m = self.recv().await;
                if pred(&m) {
                    return m;
                }
                last = m;
            }
        })
        .await;
        match found {
            Ok(m) => m,
            Err(_) => panic!("expected a matching message in time; the last one was {last}"),
        }
    }

    /// Joins with `extra` fields (credential, user, sig); returns the `joined` message.
    pub async fn join_with(&mut self, extra: Value) -> Value {
        let mut msg = json!({ "type": "join" });
        for (k, v) in extra.as_object().expect("an object") {
            msg[k] = v.clone();
        }
        self.send(msg).await;
        self.recv_type("joined").await
    }

    pub async fn join(&mut self) -> Value {
        self.join_with(json!({})).await
    }

    /// Waits for the close frame, skipping other messages; returns code and reason.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("expected a close, got nothing in time");
            match next {
                Some(Ok(Message::Close(Some(f)))) => {
                    return Closed {
                        code: f.code.into(),
                        reason: f.reason.to_string(),
                    };
                }
                Some(Ok(Message::Close(None))) | None => {
                    return Closed {
                        code: 1005,
                        reason: String::new(),
                    };
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("expected a close, got error {e}"),
            }
        }
    }

    /// Waits for the next `error` message, returning its code.
    pub async fn error_code(&mut self) -> String {
        let m = self.recv_type("error").await;
        m["code"].as_str().expect("a code").to_owned()
    }
}

/// Fetches the JWKS and verifies an entry token with it, independently of usher's code.
pub async fn verify_with_jwks(server: &Server, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(format!("{}/.well-known/jwks.json", server.http()))
            .await
            .expect("JWKS answers")
            .json()
            .await
            .expect("JWKS is JSON");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");
    let kid = header.kid.expect("a kid");
    let jwk = jwks.find(&kid).expect("the kid is in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).expect("an Ed25519 key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_issuer(&["usher"]);
    v.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .expect("the token verifies against the JWKS")
        .claims
}

/// A small seat map: `rows` x `per_row` seats in one section, grade R (and VIP prices).
pub fn seat_map(rows: u32, per_row: u32) -> Value {
    json!({
        "prices": { "VIP": 165000, "R": 143000 },
        "sections": [{ "name": "A", "grade": "R", "rows": rows, "seats_per_row": per_row,
                       "grade_rules": [{ "rows": "1", "grade": "VIP" }] }]
    })
}

impl Server {
    /// Lets `n` new buyers in through the engine (no waiting-room sockets) and returns
    /// their entry tokens, as the waiting room would have sent them.
    pub async fn admitted_tokens(&self, event: i64, n: usize) -> Vec<String> {
        let buyers: Vec<usher::identity::BuyerId> =
            (0..n).map(|_| usher::identity::BuyerId::random()).collect();
        self.admit(event, &buyers).await
    }

    /// Lets these buyers in through the engine (again, if they were in before) and
    /// returns their entry tokens.
    pub async fn admit(&self, event: i64, buyers: &[usher::identity::BuyerId]) -> Vec<String> {
        use usher::engine::Place;
        let state = &self.state;
        for b in buyers {
            usher::queue::checkpoint::join(&state.queue, event, *b, None)
                .await
                .expect("join");
        }
        let session_ms = state.events.get(&event).expect("event").session_secs * 1000;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            state
                .engine
                .tick(event, state.clock.now_ms(), rand::random())
                .await
                .expect("tick");
            let places = state
                .engine
                .places(event, buyers, state.clock.now_ms())
                .await
                .expect("places");
            let tokens: Vec<String> = places
                .iter()
                .filter_map(|p| match p {
                    Some(Place::Admitted(a)) => {
                        Some(state.tokens.issue(event, a, session_ms).expect("a token"))
                    }
                    _ => None,
                })
                .collect();
            if tokens.len() == buyers.len() {
                return tokens;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "admitting {} buyers took too long",
                buyers.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The buyer an entry token stands for.
    pub fn buyer_of(&self, event: i64, token: &str) -> usher::identity::BuyerId {
        let s = &self.state;
        let claims = s
            .tokens
            .verify(token, event, s.clock.now_ms())
            .expect("a valid token");
        usher::identity::BuyerId::parse(&claims.sub).expect("a buyer id")
    }

    /// Opens the seat map with a token; returns the socket and the snapshot.
    pub async fn seats(&self, event: i64, token: &str) -> (Client, Value) {
        let mut c = Client::connect(&format!("ws://{}/ws/events/{event}/seats", self.addr)).await;
        c.send(json!({ "type": "auth", "token": token })).await;
        let snap = c.recv().await;
        assert_eq!(snap["type"], "snapshot", "{snap}");
        (c, snap)
    }
}

/// A viewer's picture of the seat map: seat -> "free" | "held" | "sold".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeatView(pub std::collections::BTreeMap<u64, String>);

impl SeatView {
    /// Decodes a snapshot's `states` as docs/protocol.md describes it (independently of
    /// the server's code): base64, then 2 bits per seat, least significant first.
    pub fn from_snapshot(snap: &Value) -> SeatView {
        let count = snap["seat_count"].as_u64().expect("seat_count") as usize;
        let codes = decode_states(snap["states"].as_str().expect("states"), count);
        let mut v = SeatView::default();
        for (id, code) in codes.into_iter().enumerate() {
            let state = match code {
                0 => "free",
                1 => "held",
                2 => "sold",
                other => panic!("seat {id} has state code {other}"),
            };
            v.0.insert(id as u64, state.into());
        }
        v
    }

    /// Applies a `seats` delta, or a fresh `snapshot` (sent to a viewer that fell
    /// behind); other messages are ignored.
    pub fn apply(&mut self, msg: &Value) {
        if msg["type"] == "snapshot" {
            *self = SeatView::from_snapshot(msg);
        }
        if msg["type"] == "seats" {
            for c in msg["changes"].as_array().unwrap() {
                self.0.insert(
                    c["seat"].as_u64().unwrap(),
                    c["state"].as_str().unwrap().into(),
                );
            }
        }
    }

    pub fn with(&self, state: &str) -> Vec<u64> {
        self.0
            .iter()
            .filter(|(_, s)| *s == state)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// Seat state codes from a snapshot's `states`: one per seat, `count` of them.
pub fn decode_states(text: &str, count: usize) -> Vec<u8> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("states are standard base64");
    assert_eq!(bytes.len(), count.div_ceil(4), "4 seats per byte");
    (0..count)
        .map(|i| (bytes[i / 4] >> ((i % 4) * 2)) & 0b11)
        .collect()
}

/// One seat of a layout, as a page would draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSeat {
    pub section: String,
    pub row: String,
    pub number: u64,
    pub grade: String,
}

/// Expands a seat layout (`GET /api/events/{id}/seats/layout`) as docs/protocol.md
/// describes it: seat id -> place, checking the ids run 0, 1, 2, … without gaps.
pub fn expand_layout(layout: &Value) -> Vec<LayoutSeat> {
    let mut seats = Vec::new();
    for section in layout["sections"].as_array().expect("sections") {
        let name = section["name"].as_str().expect("a section name");
        for row in section["rows"].as_array().expect("rows") {
            let numbers: Vec<u64> = match (row.get("count"), row.get("numbers")) {
                (Some(c), None) => (1..=c.as_u64().expect("a count")).collect(),
                (None, Some(n)) => n
                    .as_array()
                    .expect("numbers")
                    .iter()
                    .map(|n| n.as_u64().expect("a number"))
                    .collect(),
                other => panic!("a row has count or numbers, not {other:?}"),
            };
            assert_eq!(
                row["first"].as_u64(),
                Some(seats.len() as u64),
                "ids follow on"
            );
            for number in numbers {
                seats.push(LayoutSeat {
                    section: name.into(),
                    row: row["label"].as_str().expect("a label").into(),
                    number,
                    grade: row["grade"].as_str().expect("a grade").into(),
                });
            }
        }
    }
    assert_eq!(layout["seat_count"].as_u64(), Some(seats.len() as u64));
    seats
}

impl Client {
    /// Applies deltas to `view` until `done(view)` holds; panics after the hang guard.
    pub async fn watch_until(
        &mut self,
        view: &mut SeatView,
        mut done: impl FnMut(&SeatView) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(view) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let next = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| {
                    let busy: Vec<_> = view
                        .0
                        .iter()
                        .filter(|(_, s)| *s != "free")
                        .take(40)
                        .collect();
                    panic!("the seat view never reached the expected state; not free: {busy:?}")
                });
            match next {
                Some(Ok(Message::Text(t))) => view.apply(&serde_json::from_str(&t).unwrap()),
                Some(Ok(_)) => {}
                other => panic!("viewer socket ended: {other:?}"),
            }
        }
    }
}
