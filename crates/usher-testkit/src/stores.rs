//! The stores behind a server: the Redis and PostgreSQL of the test environment
//! (`REDIS_URL`, `POSTGRES_URL`), and a `redis-server` of a test's own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::server::{Server, World};
use crate::{Engine, WAIT, free_port, unique};

/// The Redis URL of the test environment; `None` skips the Redis variants.
pub fn redis_url() -> Option<String> {
    std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty())
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

/// The arguments of a `redis-server` that keeps nothing on disk: killed and started
/// again, it comes back empty.
pub const NO_PERSISTENCE: &[&str] = &["--save", "", "--appendonly", "no"];

/// A `redis-server` of one test (never the shared one at `REDIS_URL`): its own free port
/// and its own directory, so the test can wipe, kill, freeze, thaw and restart it without
/// touching anyone else's data. Thawed, killed and its directory removed on drop.
pub struct RedisServer {
    port: u16,
    args: Vec<String>,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one with no persistence ([`NO_PERSISTENCE`]) and waits until it answers
    /// PING; panics when `redis-server` is not on PATH.
    pub async fn start() -> RedisServer {
        RedisServer::start_with(NO_PERSISTENCE).await
    }

    /// As [`RedisServer::start`], but `None` when `redis-server` is not installed (the
    /// caller skips its case).
    pub async fn try_start() -> Option<RedisServer> {
        RedisServer::try_start_with(NO_PERSISTENCE).await
    }

    /// Starts one with these `redis-server` arguments (besides port, bind and dir) and
    /// waits until it answers PING; panics when `redis-server` is not on PATH.
    pub async fn start_with(args: &[&str]) -> RedisServer {
        RedisServer::try_start_with(args)
            .await
            .expect("redis-server must be on PATH for this test")
    }

    /// As [`RedisServer::start_with`], but `None` when `redis-server` is not installed.
    pub async fn try_start_with(args: &[&str]) -> Option<RedisServer> {
        let dir = std::env::temp_dir().join(format!("usher-test-redis-{}", unique()));
        std::fs::create_dir_all(&dir).expect("a directory for redis-server");
        let mut redis = RedisServer {
            port: free_port(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            dir,
            child: None,
        };
        // On failure the drop removes the directory again.
        redis.child = Some(redis.spawn().ok()?);
        redis.wait_ready().await;
        Some(redis)
    }

    fn spawn(&self) -> std::io::Result<Child> {
        Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if self.ping().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected redis-server on port {} to answer PING, got nothing in time",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Whether it answers PING within two seconds.
    pub async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else {
            return false;
        };
        let answer = tokio::time::timeout(Duration::from_secs(2), async {
            let mut c = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING").query_async::<String>(&mut c).await.ok()
        })
        .await;
        matches!(answer, Ok(Some(_)))
    }

    /// Starts a usher server on this Redis, in a world of its own (Redis engine).
    pub async fn start_usher(&self) -> Server {
        let world = World::new(Engine::Redis).await;
        let url = self.url();
        world.start_with(move |s| s.redis_url = url).await
    }

    /// Loses every key, as a Redis restarted without persistence would.
    pub async fn flushall(&self) {
        let client = redis::Client::open(self.url()).expect("a Redis URL");
        let mut c = client
            .get_multiplexed_async_connection()
            .await
            .expect("redis-server answers");
        let _: () = redis::cmd("FLUSHALL")
            .query_async(&mut c)
            .await
            .expect("FLUSHALL");
    }

    /// Sends `sig` to the process; panics when it is not running.
    pub fn signal(&self, sig: libc::c_int) {
        let pid = self.child.as_ref().expect("redis-server is running").id();
        // SAFETY: kill(2) on a child this struct spawned and has not reaped yet.
        let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
        assert_eq!(rc, 0, "signalling redis-server {pid}");
    }

    /// SIGSTOP: connections stay open, nothing answers.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT.
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    /// SIGKILL (after a SIGCONT, should it be frozen), and reaps the process; without
    /// persistence the data is gone. Does nothing when it is not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on a child this struct spawned and has not reaped yet.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGCONT) };
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again (after [`RedisServer::kill`]) on the same port with the
    /// same arguments, and waits until it answers PING.
    pub async fn respawn(&mut self) {
        self.child = Some(self.spawn().expect("redis-server starts again"));
        self.wait_ready().await;
    }

    /// Kills the process (SIGKILL) and starts a new one on the same port: with no
    /// persistence, an empty one.
    pub async fn restart_empty(&mut self) {
        self.kill();
        self.respawn().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
