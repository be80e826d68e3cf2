//! The broadcast scenario: viewers timestamp each change of one seat, and one actor
//! holds and releases that seat; delivery latency is the difference, on the machine's
//! shared monotonic clock.

use std::time::Duration;

use anyhow::{Context, bail};
use tokio::time::Instant;
use usher_protocol::{SeatClientMessage, SeatServerMessage};

use crate::net::{self, Frame, Ws, mono_us};
use crate::queue::until;
use crate::seats::{passive, request};
use crate::stats::{C, Outcome};
use crate::worker::{Phase, Shared};

/// Watches the seat-map until the stop; returns when each change of the watched seat came.
pub async fn view(sh: &Shared, mut ws: Ws) -> anyhow::Result<Vec<u64>> {
    let mut phase = sh.phase.clone();
    let mut arrivals = Vec::new();
    loop {
        let frame = tokio::select! {
            _ = until(&mut phase, Phase::Stop) => {
                net::close(ws).await;
                return Ok(arrivals);
            }
            f = net::next_frame(&mut ws) => f.context("while viewing")?,
        };
        let now = mono_us();
        match frame {
            Frame::Text(t) if net::msg_type(&t) == "seats" => {
                sh.counts.add(C::Deltas, 1);
                if let Ok(SeatServerMessage::Seats { changes }) = serde_json::from_str(&t)
                    && changes.iter().any(|c| c.seat == sh.plan.watch_seat)
                {
                    arrivals.push(now);
                }
            }
            Frame::Text(t) => passive(sh, usize::MAX, &t),
            Frame::Closed(code, why) => bail!("seat channel closed {code} while viewing: {why}"),
        }
    }
}

/// The broadcast actor: holds and releases the watched seat `ops` times, `gap` apart;
/// returns the send time (mono µs) of each request the server granted.
pub async fn act(
    sh: &Shared,
    ws: &mut Ws,
    ops: usize,
    gap: Duration,
    deadline: Instant,
) -> anyhow::Result<Vec<u64>> {
    let seats = vec![sh.plan.watch_seat];
    let mut sent = Vec::with_capacity(2 * ops);
    for i in 0..2 * ops {
        if Instant::now() + gap >= deadline {
            break;
        }
        tokio::time::sleep(gap).await;
        let msg = if i % 2 == 0 {
            SeatClientMessage::Hold {
                seats: seats.clone(),
            }
        } else {
            SeatClientMessage::Release {
                seats: seats.clone(),
            }
        };
        let t = mono_us();
        let reply = request(sh, usize::MAX, ws, &msg).await?;
        match net::msg_type(&reply).as_ref() {
            "held" | "released" => sent.push(t),
            _ => bail!(
                "the actor's request was refused: {}",
                net::error_code(&reply)
            ),
        }
    }
    Ok(sent)
}

/// Turns viewers' arrival times and the actor's send times into delivery latencies.
pub fn score_broadcast(out: &mut Outcome, arrivals: &[Vec<u64>], sent_us: &[u64]) {
    if sent_us.is_empty() {
        return;
    }
    let mut hist = out.hist("delivery");
    let (mut missed, mut extra) = (0, 0);
    for a in arrivals {
        for (i, sent) in sent_us.iter().enumerate() {
            match a.get(i) {
                Some(at) => hist.record(at.saturating_sub(*sent)),
                None => missed += 1,
            }
        }
        extra += a.len().saturating_sub(sent_us.len()) as u64;
    }
    out.counts.insert("deliveries".into(), hist.n);
    out.counts.insert("missed_deliveries".into(), missed);
    out.counts.insert("extra_deliveries".into(), extra);
    out.hists.insert("delivery".into(), hist);
}
