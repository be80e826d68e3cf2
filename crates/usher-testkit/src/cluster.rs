//! A Redis Cluster of a test's own: three primaries (and a replica each, if asked), every
//! node a `redis-server --cluster-enabled yes` on free ports in its own directory, joined
//! with `redis-cli --cluster create`. Killed and removed on drop.
//!
//! [`RedisCluster::shared`] is one three-primary cluster per test binary, for suites that
//! only need *a* cluster (each test then uses its own key prefix); its nodes die with the
//! test process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::{WAIT, free_port, unique};

/// One node of a test cluster.
struct Node {
    port: u16,
    /// The process, when this value owns it (the shared cluster's copy does not).
    child: Option<Child>,
    /// False once killed.
    alive: bool,
}

/// A Redis Cluster on 127.0.0.1 (see the module doc).
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
}

/// How long a node may be unreachable before the others count it as failed (and promote
/// its replica): short, so a failover test does not wait for the default 15 s.
const NODE_TIMEOUT_MS: &str = "1000";

impl RedisCluster {
    /// Three primaries and no replicas; `None` when `redis-server` or `redis-cli` is not
    /// installed (the caller skips its case).
    pub async fn try_start() -> Option<RedisCluster> {
        RedisCluster::try_start_with(false).await
    }

    /// Three primaries, each with one replica (six nodes); `None` without `redis-server`.
    pub async fn try_start_with_replicas() -> Option<RedisCluster> {
        RedisCluster::try_start_with(true).await
    }

    async fn try_start_with(replicas: bool) -> Option<RedisCluster> {
        let tools = ["redis-server", "redis-cli"];
        if tools
            .iter()
            .any(|t| Command::new(t).arg("--version").output().is_err())
        {
            eprintln!("redis-server / redis-cli not installed: skipping the cluster case");
            return None;
        }
        remove_stale_dirs();
        let dir = std::env::temp_dir().join(format!(
            "usher-test-cluster-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        let n = if replicas { 6 } else { 3 };
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            dir,
        };
        for _ in 0..n {
            let node = cluster.start_node().await;
            cluster.nodes.push(node);
        }
        cluster.create(replicas).await;
        Some(cluster)
    }

    /// Starts one node on free ports; tries other ports when it does not come up (a port
    /// that was free a moment ago may have been taken meanwhile).
    async fn start_node(&self) -> Node {
        for _ in 0..5 {
            let port = free_port();
            let mut child = self.spawn(port);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while tokio::time::Instant::now() < deadline {
                if ping(port).await {
                    return Node {
                        port,
                        child: Some(child),
                        alive: true,
                    };
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("expected a cluster node to start, got none in five tries");
    }

    /// The cluster every test of this binary may share (three primaries, started on first
    /// use); `None` without `redis-server`. Its nodes are started from a thread that lives
    /// as long as the process and die with it (`PR_SET_PDEATHSIG`).
    pub fn shared() -> Option<&'static RedisCluster> {
        static SHARED: OnceLock<Option<RedisCluster>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let (tx, rx) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    let cluster = rt.block_on(RedisCluster::try_start());
                    let urls = cluster.as_ref().map(RedisCluster::forget);
                    let _ = tx.send(urls);
                    // The nodes' parent-death signal fires when this thread ends: never.
                    loop {
                        std::thread::park();
                    }
                });
                rx.recv().expect("the cluster thread answers")
            })
            .as_ref()
    }

    /// A copy that owns nothing (for [`RedisCluster::shared`]: the nodes outlive it).
    fn forget(&self) -> RedisCluster {
        RedisCluster {
            nodes: self
                .nodes
                .iter()
                .map(|n| Node {
                    port: n.port,
                    child: None,
                    alive: true,
                })
                .collect(),
            dir: self.dir.clone(),
        }
    }

    fn spawn(&self, port: u16) -> Child {
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("a node directory");
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--cluster-port", &free_port().to_string()])
            .args(["--cluster-enabled", "yes"])
            .args(["--cluster-config-file", "nodes.conf"])
            .args(["--cluster-node-timeout", NODE_TIMEOUT_MS])
            .args(["--logfile", "redis.log"])
            // A replica's first sync starts at once (the default waits 5 s for others),
            // and CLUSTER SLOTS lists it once its offset moved: ping it every second
            // rather than every ten.
            .args(["--repl-diskless-sync-delay", "0"])
            .args(["--repl-ping-replica-period", "1"])
            .arg("--dir")
            .arg(&dir)
            .args(crate::stores::NO_PERSISTENCE)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl(2) only, between fork and exec: the node dies with its parent
        // thread, so a test process that ends (or is killed) leaves no node behind.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.spawn().expect("redis-server starts")
    }

    async fn create(&self, replicas: bool) {
        let mut cmd = tokio::process::Command::new("redis-cli");
        cmd.arg("--cluster").arg("create");
        for n in &self.nodes {
            cmd.arg(format!("127.0.0.1:{}", n.port));
        }
        if replicas {
            cmd.args(["--cluster-replicas", "1"]);
        }
        let out = cmd
            .arg("--cluster-yes")
            .stdin(Stdio::null())
            .output()
            .await
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "expected redis-cli --cluster create to succeed, got {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for n in &self.nodes {
            wait_until(
                || async { cluster_ok(n.port).await },
                "every node to report cluster_state:ok",
            )
            .await;
        }
        if replicas {
            wait_until(
                || async { self.replicas_in_sync().await },
                "every primary to have a replica in sync",
            )
            .await;
        }
    }

    /// Whether every slot range lists a replica, and every replica's link is up.
    async fn replicas_in_sync(&self) -> bool {
        let mut c = self.any_node().await;
        let Ok(slots) = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async::<Vec<Vec<redis::Value>>>(&mut c)
            .await
        else {
            return false;
        };
        if slots.iter().any(|range| range.len() < 4) {
            return false;
        }
        for n in &self.nodes {
            let mut c = connect(n.port).await;
            let info: String = redis::cmd("INFO")
                .arg("replication")
                .query_async(&mut c)
                .await
                .unwrap_or_default();
            if info.contains("role:slave") && !info.contains("master_link_status:up") {
                return false;
            }
        }
        true
    }

    /// `redis://127.0.0.1:port` of every live node, comma-separated (`redis_cluster_urls`).
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .filter(|n| n.alive)
            .map(|n| format!("redis://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ports of every node.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// The hash slot of a key (`CLUSTER KEYSLOT`).
    pub async fn keyslot(&self, key: &str) -> u16 {
        let mut c = self.any_node().await;
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut c)
            .await
            .expect("CLUSTER KEYSLOT")
    }

    /// The port of the primary serving `slot`, and of its replicas, as the cluster says
    /// now (`CLUSTER SLOTS`, asked of a live node).
    pub async fn owners(&self, slot: u16) -> (u16, Vec<u16>) {
        let mut c = self.any_node().await;
        let slots: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut c)
            .await
            .expect("CLUSTER SLOTS");
        for range in slots {
            let redis::Value::Array(parts) = range else {
                continue;
            };
            let num = |v: &redis::Value| match v {
                redis::Value::Int(i) => *i,
                _ => -1,
            };
            let port = |v: &redis::Value| match v {
                redis::Value::Array(node) => node.get(1).map(num).unwrap_or(-1) as u16,
                _ => 0,
            };
            let (lo, hi) = (num(&parts[0]), num(&parts[1]));
            if (lo..=hi).contains(&i64::from(slot)) {
                let primary = port(&parts[2]);
                return (primary, parts[3..].iter().map(port).collect());
            }
        }
        panic!("expected slot {slot} to be served, got no owner");
    }

    /// The primary serving an event's keys (its hash tag `{e<id>}`).
    pub async fn primary_of_event(&self, event: i64) -> u16 {
        let slot = self.keyslot(&format!("{{e{event}}}")).await;
        self.owners(slot).await.0
    }

    /// Promotes `replica` in place of its primary (`CLUSTER FAILOVER`: the primary stops
    /// taking writes, the replica catches up, then takes over; nothing is lost), and waits
    /// until every live node sees `replica` serving `slot`.
    pub async fn failover(&self, replica: u16, slot: u16) {
        let mut c = connect(replica).await;
        let _: () = redis::cmd("CLUSTER")
            .arg("FAILOVER")
            .query_async(&mut c)
            .await
            .expect("CLUSTER FAILOVER");
        wait_until(
            || async { self.owners(slot).await.0 == replica },
            "the replica to serve the slot",
        )
        .await;
    }

    /// SIGKILLs one node (no persistence: its data is gone).
    pub fn kill(&mut self, port: u16) {
        if let Some(n) = self.nodes.iter_mut().find(|n| n.port == port) {
            n.alive = false;
            if let Some(mut child) = n.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    async fn any_node(&self) -> redis::aio::MultiplexedConnection {
        for n in self.nodes.iter().filter(|n| n.alive) {
            if ping(n.port).await {
                return connect(n.port).await;
            }
        }
        panic!("expected a live cluster node, got none");
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        let owned = self.nodes.iter().any(|n| n.child.is_some());
        for n in &mut self.nodes {
            if let Some(mut child) = n.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if owned && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes the directories of test clusters whose process is gone (the shared cluster's
/// directory outlives its process: nothing runs at a test binary's exit).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("usher-test-cluster-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        // SAFETY: kill(2) with signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

async fn connect(port: u16) -> redis::aio::MultiplexedConnection {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("a URL");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("the node answers")
}

async fn ping(port: u16) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
        return false;
    };
    let answer = tokio::time::timeout(Duration::from_secs(2), async {
        let mut c = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING").query_async::<String>(&mut c).await.ok()
    })
    .await;
    matches!(answer, Ok(Some(_)))
}

async fn cluster_ok(port: u16) -> bool {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
        return false;
    };
    let answer = tokio::time::timeout(Duration::from_secs(2), async {
        let mut c = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("CLUSTER")
            .arg("INFO")
            .query_async::<String>(&mut c)
            .await
            .ok()
    })
    .await;
    matches!(answer, Ok(Some(info)) if info.contains("cluster_state:ok"))
}

/// Polls `cond` until it holds; panics after [`WAIT`] (a hang guard only).
async fn wait_until<F, Fut>(cond: F, what: &str)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if cond().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {what}, got nothing in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
