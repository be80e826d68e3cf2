//! Seat-map clients: get admitted, open `/ws/events/{id}/seats` and `auth`, then rush
//! (hold random seats, release them, again) or watch one seat that the broadcast actor
//! holds and releases.

use std::time::Duration;

use anyhow::{Context, bail};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use usher_protocol::{SeatClientMessage, SeatServerMessage};

use crate::net::{self, Frame, Ws, mono_us};
use crate::queue::{self, OpenGuard, REPLY, until};
use crate::stats::C;
use crate::worker::{Phase, Ramp, Scenario, Shared};

/// A seat-scenario client; viewers return when the watched seat's changes arrived.
pub async fn client(sh: &Shared, g: usize, ramp: &mut Ramp) -> anyhow::Result<Option<Vec<u64>>> {
    let token = queue::admitted_token(sh, g).await?;
    let (ws, _open) = open(sh, g, &token).await?;
    ramp.settle();
    match sh.plan.scenario {
        Scenario::Broadcast => crate::broadcast::view(sh, ws).await.map(Some),
        _ => rush(sh, g, ws).await.map(|()| None),
    }
}

fn json(msg: &SeatClientMessage) -> String {
    serde_json::to_string(msg).expect("client messages serialize")
}

/// Opens the seat channel with an entry token and waits for the snapshot.
pub async fn open<'a>(
    sh: &'a Shared,
    g: usize,
    token: &str,
) -> anyhow::Result<(Ws, OpenGuard<'a>)> {
    let path = format!("/ws/events/{}/seats", sh.plan.event);
    let mut ws = tokio::time::timeout(REPLY, net::connect(&sh.plan.target, &path, sh.source(g)))
        .await
        .context("seat connect: timed out")??;
    let open = OpenGuard::new(&sh.counts);
    let auth = SeatClientMessage::Auth {
        token: token.into(),
        performance: None,
    };
    net::send(&mut ws, json(&auth)).await?;
    loop {
        match net::next(&mut ws, REPLY)
            .await
            .context("waiting for snapshot")?
        {
            Frame::Text(t) => match net::msg_type(&t).as_ref() {
                "snapshot" => {
                    check_snapshot(sh, &t)?;
                    return Ok((ws, open));
                }
                "error" => bail!("auth refused: {}", net::error_code(&t)),
                _ => {}
            },
            Frame::Closed(code, why) => bail!("seat channel closed {code} before snapshot: {why}"),
        }
    }
}

/// Checks a snapshot against the plan: it decodes (2-bit states, docs/protocol.md) and
/// the event has at least the seats the clients will pick from.
fn check_snapshot(sh: &Shared, text: &str) -> anyhow::Result<()> {
    let Ok(SeatServerMessage::Snapshot {
        seat_count, states, ..
    }) = serde_json::from_str(text)
    else {
        bail!("a snapshot that does not parse");
    };
    if usher_protocol::states::decode(&states, seat_count as usize).is_none() {
        bail!("a snapshot whose states do not decode to {seat_count} seats");
    }
    if seat_count < sh.plan.seats {
        bail!(
            "the event has {seat_count} seats, the plan picks from {}",
            sh.plan.seats
        );
    }
    Ok(())
}

/// Spaces one socket's messages to stay under the server's per-socket limit.
pub struct Pacer {
    every: Option<Duration>,
    next: Instant,
}

impl Pacer {
    /// At most `per_sec` messages a second (0: no limit).
    pub fn new(per_sec: f64) -> Pacer {
        Pacer {
            every: (per_sec > 0.0).then(|| Duration::from_secs_f64(1.0 / per_sec)),
            next: Instant::now(),
        }
    }

    /// Waits for the next slot (no credit is saved up while idle: no bursts).
    pub async fn wait(&mut self) {
        if let Some(every) = self.every {
            tokio::time::sleep_until(self.next).await;
            self.next = self.next.max(Instant::now()) + every;
        }
    }
}

/// Handles a message that is not an answer: deltas, resnapshots, expiries.
pub fn passive(sh: &Shared, g: usize, text: &str) {
    match net::msg_type(text).as_ref() {
        "seats" => sh.counts.add(C::Deltas, 1),
        "snapshot" => sh.counts.add(C::Resnapshots, 1),
        "expired" => {
            if let Ok(SeatServerMessage::Expired { seats }) = serde_json::from_str(text) {
                forget(sh, g, &seats);
            }
        }
        "error" => sh.error(format!("seat error: {}", net::error_code(text))),
        _ => {}
    }
}

/// Sends a request and returns its answer, handling whatever arrives before it.
pub async fn request(
    sh: &Shared,
    g: usize,
    ws: &mut Ws,
    msg: &SeatClientMessage,
) -> anyhow::Result<String> {
    net::send(ws, json(msg)).await?;
    loop {
        match net::next(ws, REPLY)
            .await
            .context("waiting for a seat answer")?
        {
            Frame::Text(t) => match net::msg_type(&t).as_ref() {
                "held" | "released" | "error" | "pong" => return Ok(t.to_string()),
                _ => passive(sh, g, &t),
            },
            Frame::Closed(code, why) => bail!("seat channel closed {code}: {why}"),
        }
    }
}

/// Records that `g` was told it holds `seats`; another current holder is a double hold.
fn take(sh: &Shared, g: usize, seats: &[u32]) {
    let mut doubles = Vec::new();
    {
        let mut holders = sh.holders.lock().unwrap();
        for seat in seats {
            if let Some(other) = holders.insert(*seat, g)
                && other != g
            {
                doubles.push((*seat, other));
            }
        }
    }
    for (seat, other) in doubles {
        sh.counts.add(C::DoubleHolds, 1);
        sh.error(format!("double hold (seat {seat}: buyers {other} and {g})"));
    }
}

/// Forgets `g`'s holds of `seats` (before sending the release: never after the server
/// may have given them to someone else).
fn forget(sh: &Shared, g: usize, seats: &[u32]) {
    let mut holders = sh.holders.lock().unwrap();
    for seat in seats {
        if holders.get(seat) == Some(&g) {
            holders.remove(seat);
        }
    }
}

async fn rush(sh: &Shared, g: usize, mut ws: Ws) -> anyhow::Result<()> {
    let mut phase = sh.phase.clone();
    // Until the start, keep reading so the server's sends to this socket never block.
    loop {
        tokio::select! {
            _ = until(&mut phase, Phase::Go) => break,
            f = net::next_frame(&mut ws) => match f? {
                Frame::Text(t) => passive(sh, g, &t),
                Frame::Closed(code, why) => bail!("seat channel closed {code}: {why}"),
            },
        }
    }
    // At the stop, a request still in flight is abandoned: the run is over.
    let result = tokio::select! {
        r = rush_loop(sh, g, &mut ws) => r,
        _ = until(&mut phase, Phase::Stop) => Ok(()),
    };
    net::close(ws).await;
    result
}

async fn rush_loop(sh: &Shared, g: usize, ws: &mut Ws) -> anyhow::Result<()> {
    let p = &sh.plan;
    // This worker's seats only, so its holder map sees every holder of them.
    let mine: Vec<u32> = (0..p.seats)
        .filter(|s| *s as usize % p.workers == p.worker)
        .collect();
    anyhow::ensure!(mine.len() >= 4, "too few seats for this many processes");
    let mut rng = SmallRng::seed_from_u64(g as u64 ^ mono_us());
    let mut pacer = Pacer::new(p.msg_rate);
    loop {
        let k = rng.random_range(1..=4);
        let seats: Vec<u32> = rand::seq::index::sample(&mut rng, mine.len(), k)
            .iter()
            .map(|i| mine[i])
            .collect();
        pacer.wait().await;
        let t0 = mono_us();
        sh.counts.add(C::HoldAttempts, 1);
        let hold = SeatClientMessage::Hold {
            seats: seats.clone(),
        };
        let reply = request(sh, g, ws, &hold).await?;
        sh.record("hold", mono_us() - t0);
        if net::msg_type(&reply) == "held" {
            sh.counts.add(C::Held, 1);
            take(sh, g, &seats);
            release(sh, g, ws, &seats, &mut pacer).await?;
            continue;
        }
        match net::error_code(&reply).as_str() {
            "seat_taken" => sh.counts.add(C::Taken, 1),
            "rate_limited" => {
                sh.counts.add(C::RateLimited, 1);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            code => sh.error(format!("hold refused: {code}")),
        }
    }
}

async fn release(
    sh: &Shared,
    g: usize,
    ws: &mut Ws,
    seats: &[u32],
    pacer: &mut Pacer,
) -> anyhow::Result<()> {
    forget(sh, g, seats);
    let msg = SeatClientMessage::Release {
        seats: seats.to_vec(),
    };
    for _ in 0..5 {
        pacer.wait().await;
        let reply = request(sh, g, ws, &msg).await?;
        if net::msg_type(&reply) == "released" {
            sh.counts.add(C::Released, 1);
            return Ok(());
        }
        match net::error_code(&reply).as_str() {
            "rate_limited" => {
                sh.counts.add(C::RateLimited, 1);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            code => {
                sh.error(format!("release refused: {code}"));
                return Ok(());
            }
        }
    }
    bail!("release rate limited five times")
}
