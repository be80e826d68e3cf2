//! Joins batched per event: the joins an instance receives while one call of the join
//! script is on its way are sent together in the next call, up to [`MAX_BATCH`] buyers.
//!
//! Most of a join's cost in Redis is per call, not per buyer: running a script at all,
//! its twelve keys and the prelude, one read of the event's counters, and the network
//! round (BENCHMARKS.md, "Redis CPU per operation": about 45 µs a call, 6.5 µs a buyer).
//! One call for many buyers pays it once. A lone join goes out at once. While joins keep
//! coming (the last call carried more than one), the next call waits [`LINGER`] first,
//! so a storm goes out in calls of at least (joins per second on this instance) x
//! [`LINGER`], and the batches grow further with the time Redis takes to answer, which
//! is when the saving matters. The script decides the buyers one after the other in
//! arrival order, as separate calls would.
//!
//! The call runs in a task of its own, not in the caller's future: a caller that stops
//! waiting (its socket closed) never leaves a batch half sent or the event's queue stuck.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::scripts::Scripts;
use crate::engine::queue::{Admission, EngineResult, JoinRefusal, Joined, Place};
use crate::events::EventId;
use crate::identity::BuyerId;

/// Most buyers in one call of the join script: the call blocks Redis for its length
/// (about a millisecond for this many).
pub(super) const MAX_BATCH: usize = 256;

/// How long the next call waits for more joins while a storm goes on: a join's answer
/// comes at most this much later, far inside a join's latency budget (50 ms at p99).
pub(super) const LINGER: std::time::Duration = std::time::Duration::from_millis(2);

/// The joins waiting to be sent, per event.
#[derive(Default)]
pub(super) struct JoinBatches {
    // parking_lot: held for a push or a take, never across an await.
    pending: Mutex<HashMap<EventId, Pending>>,
}

#[derive(Default)]
struct Pending {
    /// A task is sending this event's joins; it takes the queued ones when its call ends.
    flushing: bool,
    queue: Vec<Request>,
}

/// One join, waiting for its answer.
pub(super) struct Request {
    pub(super) buyer: BuyerId,
    pub(super) claim: u64,
    pub(super) now_ms: i64,
    pub(super) seed: u64,
    pub(super) reply: oneshot::Sender<EngineResult<Joined>>,
}

/// What a call of the join script needs, owned by the task that sends it.
pub(super) struct Runner {
    pub(super) conn: super::conn::Conn,
    pub(super) scripts: Arc<Scripts>,
    pub(super) keys: [String; 13],
    pub(super) event: EventId,
    /// `PUBLISH` on one server, `SPUBLISH` on a cluster (the prelude's ARGV[2]).
    pub(super) publish: &'static str,
    pub(super) lease_ms: i64,
}

impl JoinBatches {
    /// Queues a join. True when no task is sending this event's joins: the caller starts
    /// one ([`flush`]).
    pub(super) fn push(&self, event: EventId, req: Request) -> bool {
        let mut pending = self.pending.lock();
        let p = pending.entry(event).or_default();
        p.queue.push(req);
        !std::mem::replace(&mut p.flushing, true)
    }

    /// The next batch of the event, oldest first; empty (and the event no longer
    /// flushing) when none is left.
    fn take(&self, event: EventId) -> Vec<Request> {
        let mut pending = self.pending.lock();
        let Some(p) = pending.get_mut(&event) else {
            return Vec::new();
        };
        if p.queue.is_empty() {
            pending.remove(&event);
            return Vec::new();
        }
        let n = p.queue.len().min(MAX_BATCH);
        p.queue.drain(..n).collect()
    }

    /// Gives up the event's queued joins (their callers get an error).
    fn abandon(&self, event: EventId) {
        self.pending.lock().remove(&event);
    }
}

/// Sends the event's queued joins, a batch per call, until none is left.
pub(super) async fn flush(batches: Arc<JoinBatches>, runner: Runner) {
    // Should this task end early (a panic, the runtime stopping), the queued joins are
    // answered with an error and the next join starts a new task.
    struct Abandon<'a>(&'a JoinBatches, EventId, bool);
    impl Drop for Abandon<'_> {
        fn drop(&mut self) {
            if !self.2 {
                self.0.abandon(self.1);
            }
        }
    }
    let mut guard = Abandon(&batches, runner.event, false);
    let mut last = 0;
    loop {
        if last > 1 {
            tokio::time::sleep(LINGER).await;
        }
        let batch = batches.take(runner.event);
        last = batch.len();
        if batch.is_empty() {
            guard.2 = true;
            return;
        }
        let batch_len = batch.len();
        match runner.call(&batch).await {
            Ok(answers) if answers.len() == batch.len() => {
                for (req, a) in batch.into_iter().zip(&answers) {
                    let _ = req.reply.send(joined(a, req.buyer));
                }
            }
            Ok(answers) => {
                for req in batch {
                    let _ = req.reply.send(Err(anyhow::anyhow!(
                        "the join script returned {} answers for {} buyers",
                        answers.len(),
                        batch_len
                    )));
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                for req in batch {
                    let _ = req.reply.send(Err(anyhow::anyhow!("{msg}")));
                }
            }
        }
    }
}

impl Runner {
    async fn call(&self, batch: &[Request]) -> redis::RedisResult<Vec<String>> {
        let mut inv = self.scripts.join.prepare_invoke();
        for k in &self.keys {
            inv.key(k);
        }
        // One `now` for the call: the latest, so no buyer's presence ends earlier than
        // their own call would have kept it.
        let now = batch.iter().map(|r| r.now_ms).max().unwrap_or(0);
        let seed = batch.first().map(|r| r.seed).unwrap_or(0);
        inv.arg(self.event)
            .arg(self.publish)
            .arg(now)
            .arg(seed % (1 << 40))
            .arg(self.lease_ms);
        for r in batch {
            inv.arg(r.buyer.to_string()).arg(r.claim);
        }
        let mut conn = self.conn.clone();
        inv.invoke_async(&mut conn).await
    }
}

/// One buyer's answer: kind, seq, jti, exp, resumed, pre-queue size, joined by spaces.
fn joined(answer: &str, buyer: BuyerId) -> EngineResult<Joined> {
    let f: Vec<&str> = answer.split(' ').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or("");
    let seq = field(1).parse().unwrap_or(0);
    let place = match field(0) {
        "R" => Place::Revoked,
        "P" => Place::Pre,
        "W" => Place::Waiting { seq },
        "A" => Place::Admitted(Admission {
            buyer,
            seq,
            jti: field(2).to_owned(),
            exp_ms: field(3).parse().unwrap_or(0),
        }),
        "U" => return Err(JoinRefusal::Unconfigured.into()),
        "L" => return Err(JoinRefusal::OutOfNumbers.into()),
        other => anyhow::bail!("join script returned {other:?}"),
    };
    Ok(Joined {
        place,
        resumed: field(4) == "1",
        pre: field(5).parse().unwrap_or(0),
    })
}
