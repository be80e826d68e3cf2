//! Waiting-room clients: connect to `/ws/events/{id}/queue`, `join`, then stay and count
//! `status` messages, or wait for `admitted`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::sync::watch;
use usher_protocol::ServerMessage;

use crate::net::{self, Frame, Ws, mono_us};
use crate::stats::{C, Counts};
use crate::worker::{Phase, Ramp, Scenario, Shared};

const JOIN: &str = r#"{"type":"join"}"#;
/// How long a client waits for an answer (connect, `joined`, `admitted` of a fast event).
pub const REPLY: Duration = Duration::from_secs(30);

/// One client, start to end; what it measured goes to `sh`. Broadcast viewers return the
/// arrival times of the watched seat's changes.
pub async fn client(sh: Arc<Shared>, g: usize, mut ramp: Ramp) -> Option<Vec<u64>> {
    let result = match sh.plan.scenario {
        Scenario::SeatRush | Scenario::Broadcast => crate::seats::client(&sh, g, &mut ramp).await,
        _ => queue_client(&sh, g, &mut ramp).await.map(|()| None),
    };
    sh.counts.add(C::Finished, 1);
    result.unwrap_or_else(|e| {
        sh.counts.add(C::Failed, 1);
        sh.error(format!("{e:#}"));
        None
    })
}

async fn queue_client(sh: &Shared, g: usize, ramp: &mut Ramp) -> anyhow::Result<()> {
    let (ws, _open) = join(sh, g).await?;
    ramp.settle();
    if sh.plan.scenario == Scenario::Admission {
        wait_admitted(sh, ws).await.map(|_| ())
    } else {
        stay(sh, ws).await
    }
}

/// Counts an open socket for as long as it lives.
pub struct OpenGuard<'a>(&'a Counts);

impl<'a> OpenGuard<'a> {
    /// A socket was opened.
    pub fn new(counts: &'a Counts) -> OpenGuard<'a> {
        counts.add(C::Opened, 1);
        counts.add(C::Open, 1);
        OpenGuard(counts)
    }
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.sub(C::Open, 1);
    }
}

/// Returns once the parent's phase is `want` or later (or the parent is gone).
pub async fn until(phase: &mut watch::Receiver<Phase>, want: Phase) {
    let _ = phase.wait_for(|p| *p >= want).await;
}

/// Connects and joins; records the join latency (TCP connect start to `joined`).
pub async fn join(sh: &Shared, g: usize) -> anyhow::Result<(Ws, OpenGuard<'_>)> {
    let t0 = mono_us();
    sh.mark("start", t0);
    let path = format!("/ws/events/{}/queue", sh.plan.event);
    let mut ws = tokio::time::timeout(REPLY, net::connect(&sh.plan.target, &path, sh.source(g)))
        .await
        .context("connect: timed out")??;
    let open = OpenGuard::new(&sh.counts);
    net::send(&mut ws, JOIN.into()).await?;
    loop {
        match net::next(&mut ws, REPLY)
            .await
            .context("waiting for joined")?
        {
            Frame::Text(t) => match net::msg_type(&t).as_ref() {
                "joined" => {
                    let now = mono_us();
                    sh.record("join", now - t0);
                    sh.mark("joined", now);
                    sh.counts.add(C::Joined, 1);
                    return Ok((ws, open));
                }
                "error" => bail!("join refused: {}", net::error_code(&t)),
                _ => {}
            },
            Frame::Closed(code, why) => bail!("closed {code} before joined: {why}"),
        }
    }
}

/// Stays in line until the parent says stop, counting `status` messages.
async fn stay(sh: &Shared, mut ws: Ws) -> anyhow::Result<()> {
    let mut phase = sh.phase.clone();
    loop {
        let frame = tokio::select! {
            _ = until(&mut phase, Phase::Stop) => {
                net::close(ws).await;
                return Ok(());
            }
            f = net::next_frame(&mut ws) => f.context("while waiting in line")?,
        };
        match frame {
            Frame::Text(t) => match net::msg_type(&t).as_ref() {
                "status" => sh.counts.add(C::Status, 1),
                "admitted" => bail!("admitted although the event should be paused"),
                "error" => sh.error(format!("error while waiting: {}", net::error_code(&t))),
                _ => {}
            },
            Frame::Closed(code, why) => bail!("closed {code} while waiting: {why}"),
        }
    }
}

/// Waits for `admitted` (until the parent says stop); records the push latency and
/// returns the token. `None`: stopped before admission.
pub async fn wait_admitted(sh: &Shared, mut ws: Ws) -> anyhow::Result<Option<String>> {
    let mut phase = sh.phase.clone();
    loop {
        let frame = tokio::select! {
            _ = until(&mut phase, Phase::Stop) => {
                net::close(ws).await;
                return Ok(None);
            }
            f = net::next_frame(&mut ws) => f.context("while waiting for admitted")?,
        };
        let text = match frame {
            Frame::Text(t) => t,
            Frame::Closed(code, why) => bail!("closed {code} before admitted: {why}"),
        };
        match net::msg_type(&text).as_ref() {
            "status" => sh.counts.add(C::Status, 1),
            "admitted" => {
                let (now, now_wall) = (mono_us(), net::wall_ms());
                let msg: ServerMessage = serde_json::from_str(&text).context("bad admitted")?;
                let ServerMessage::Admitted {
                    token,
                    expires_at_ms,
                    ..
                } = msg
                else {
                    bail!("admitted did not parse as admitted");
                };
                // expires_at_ms = admission time + session: the server's clock, which on
                // loopback is ours.
                let admitted_at = expires_at_ms - sh.plan.session_secs * 1000;
                sh.record("admit", (now_wall - admitted_at).max(0) as u64 * 1000);
                sh.mark("admitted", now);
                sh.counts.add(C::Admitted, 1);
                // The server closes with 1000 "admitted"; answer it.
                let _ = net::next(&mut ws, Duration::from_secs(2)).await;
                net::close(ws).await;
                return Ok(Some(token));
            }
            "error" => bail!("error before admitted: {}", net::error_code(&text)),
            _ => {}
        }
    }
}

/// Joins and waits for the entry token (an event that admits at once).
pub async fn admitted_token(sh: &Shared, g: usize) -> anyhow::Result<String> {
    let (ws, _open) = join(sh, g).await?;
    tokio::time::timeout(REPLY, wait_admitted(sh, ws))
        .await
        .context("not admitted within 30 s")??
        .context("stopped before admission")
}
