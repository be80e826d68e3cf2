//! Worlds and the usher servers started in them (in-process, on port 0).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use usher::clock::Clock;
use usher::http::ServerState;
use usher::{App, Settings, ShutdownHandle};

use crate::client::Client;
use crate::stores::{fresh_postgres, redis_url};
use crate::{ADMIN_KEY, Engine, SITE_SECRET, WAIT, unique};

/// One isolated world: its own Redis key prefix and its own database. Several servers
/// started from one `World` share both, like instances behind a load balancer.
pub struct World {
    /// The engine its servers run.
    pub engine: Engine,
    /// The Redis key prefix of its servers.
    pub prefix: String,
    /// The database URL of its servers.
    pub database_url: String,
    /// The clock of its servers.
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
            (Engine::Redis | Engine::Cluster, Some(admin)) if !admin.is_empty() => {
                fresh_postgres(&admin, &id).await
            }
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
        let cluster = match self.engine {
            Engine::Cluster => crate::RedisCluster::shared().map(|c| c.urls()),
            _ => None,
        };
        Settings {
            bind: "127.0.0.1:0".into(),
            engine: match self.engine {
                Engine::Memory => "memory".into(),
                Engine::Redis | Engine::Cluster => "redis".into(),
            },
            redis_url: match cluster {
                Some(_) => String::new(),
                None => redis_url().unwrap_or_default(),
            },
            redis_cluster_urls: cluster.unwrap_or_default(),
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

/// A running server.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, for looking behind the API (engine, database, tokens, clock).
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

    /// The seat-map socket URL of an event.
    pub fn seats_url(&self, event: i64) -> String {
        format!("ws://{}/ws/events/{event}/seats", self.addr)
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
}
