//! A TCP proxy between usher and PostgreSQL that loses a COMMIT's answer on purpose.
//!
//! It forwards bytes both ways. Once armed, the next `COMMIT` (a simple-protocol `Query`
//! message, which is how sqlx ends a transaction) on any connection is either let through
//! with its answer dropped (the database commits, usher sees the connection end), or
//! dropped itself (the database never commits). It can also go down: every connection
//! is cut and new ones are refused, so nothing can be looked up.
//!
//! Any other TCP traffic passes through unchanged, so it also stands between a browser
//! and usher, to cut a buyer's connection while the server carries on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What happens to the next COMMIT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cut {
    /// Nothing: forward everything.
    Off = 0,
    /// The COMMIT reaches the database; its answer is dropped and the connection cut.
    AnswerLost = 1,
    /// As `AnswerLost`, and the proxy then goes down (nothing can be looked up).
    AnswerLostThenDown = 2,
    /// The COMMIT is dropped and the connection cut: the transaction never commits.
    CommitLost = 3,
}

/// A running proxy.
pub struct Proxy {
    /// Where it listens: the `host:port` to put in the database URL.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    armed: AtomicU8,
    down: AtomicBool,
    cuts: AtomicUsize,
    kill: watch::Sender<u64>,
}

impl Proxy {
    /// Listens on a free local port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            armed: AtomicU8::new(Cut::Off as u8),
            down: AtomicBool::new(false),
            cuts: AtomicUsize::new(0),
            kill: watch::channel(0).0,
        });
        let s = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if s.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(serve(client, s.clone()));
            }
        });
        Proxy { addr, shared }
    }

    /// Sets what happens to the next COMMIT.
    pub fn arm(&self, cut: Cut) {
        self.shared.armed.store(cut as u8, Ordering::SeqCst);
    }

    /// How many COMMITs were cut so far.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }

    /// Cuts every connection and refuses new ones: the database cannot be reached.
    pub fn down(&self) {
        go_down(&self.shared);
    }

    /// Accepts connections again after going down.
    pub fn up(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }
}

fn go_down(s: &Shared) {
    s.down.store(true, Ordering::SeqCst);
    s.kill.send_modify(|n| *n += 1);
}

fn is_commit(buf: &[u8]) -> bool {
    buf.windows(6).any(|w| w == b"COMMIT")
}

async fn serve(client: TcpStream, s: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(&s.upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    // Set when this connection's COMMIT went through and its answer must be lost.
    let answer_cut = Arc::new(AtomicU8::new(Cut::Off as u8));
    let mut kill = s.kill.subscribe();
    let up = {
        let (s, answer_cut) = (s.clone(), answer_cut.clone());
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let cut = if is_commit(&buf[..n]) {
                    s.armed.swap(Cut::Off as u8, Ordering::SeqCst)
                } else {
                    Cut::Off as u8
                };
                if cut == Cut::CommitLost as u8 {
                    s.cuts.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                answer_cut.store(cut, Ordering::SeqCst);
                if sw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                if cut != Cut::Off as u8 {
                    // The answer's direction ends this connection.
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    let back = {
        let s = s.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let cut = answer_cut.load(Ordering::SeqCst);
                if cut != Cut::Off as u8 {
                    // The database has answered the COMMIT, so it has committed: the
                    // answer is dropped and the connection cut before usher sees it.
                    s.cuts.fetch_add(1, Ordering::SeqCst);
                    if cut == Cut::AnswerLostThenDown as u8 {
                        go_down(&s);
                    }
                    return;
                }
                if cw.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    };
    tokio::select! {
        _ = up => {}
        _ = back => {}
        _ = kill.changed() => {}
    }
}
