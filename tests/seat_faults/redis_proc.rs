//! A redis-server of the test's own, on a free port, that the test can wipe, kill and
//! start again empty (never the shared one at 6379).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running redis-server owned by the test; killed when dropped.
pub struct OwnRedis {
    pub port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    /// Starts one on a free port; `None` when `redis-server` is not installed.
    pub async fn start() -> Option<OwnRedis> {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
            l.local_addr().ok()?.port()
        };
        let mut r = OwnRedis { port, child: None };
        r.child = Some(r.spawn()?);
        r.wait_ready().await;
        Some(r)
    }

    fn spawn(&self) -> Option<Child> {
        Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn conn(&self) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())?
            .get_multiplexed_async_connection()
            .await
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + crate::common::WAIT;
        loop {
            if let Ok(mut c) = self.conn().await
                && redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .is_ok()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server on port {} never answered",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Loses every key, as a Redis restarted without persistence would.
    pub async fn flushall(&self) {
        let mut c = self.conn().await.expect("own redis answers");
        let _: () = redis::cmd("FLUSHALL").query_async(&mut c).await.unwrap();
    }

    /// Kills the process (SIGKILL) and starts a new, empty one on the same port.
    pub async fn restart_empty(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.child = Some(self.spawn().expect("redis-server starts again"));
        self.wait_ready().await;
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
