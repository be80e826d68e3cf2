//! A worker runs one share of the clients: in this process, or in a child process that
//! talks to the parent in JSON lines (plan as an argument, control on stdin, reports on
//! stdout). It ramps its clients up, says when they are in place, starts and stops them
//! on the parent's word, and reports what it measured.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};

use crate::net::mono_us;
pub use crate::plan::{Ctrl, Plan, Report, Scenario};
use crate::stats::{C, Counts, Hist, Outcome, Span};

/// Where the parent is in the run, as clients see it (in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Ramping up.
    Wait,
    /// Measured phase.
    Go,
    /// Stop now.
    Stop,
}

/// State shared by a worker's clients.
pub struct Shared {
    /// The plan.
    pub plan: Plan,
    /// Counters.
    pub counts: Counts,
    // std Mutexes: held for a few instructions, never across an await.
    hists: Mutex<BTreeMap<&'static str, Hist>>,
    spans: Mutex<BTreeMap<&'static str, Span>>,
    errors: Mutex<BTreeMap<String, u64>>,
    extra: Mutex<BTreeMap<String, u64>>,
    /// Seat-rush: who holds each seat, as the buyers were told.
    pub holders: Mutex<HashMap<u32, usize>>,
    /// The parent's phase.
    pub phase: watch::Receiver<Phase>,
}

impl Shared {
    /// Shared state for `plan`'s clients, following `phase`.
    pub fn new(plan: Plan, phase: watch::Receiver<Phase>) -> Arc<Shared> {
        Arc::new(Shared {
            plan,
            counts: Counts::default(),
            hists: Mutex::default(),
            spans: Mutex::default(),
            errors: Mutex::default(),
            extra: Mutex::default(),
            holders: Mutex::default(),
            phase,
        })
    }

    /// Records a latency sample (µs).
    pub fn record(&self, hist: &'static str, us: u64) {
        self.hists
            .lock()
            .unwrap()
            .entry(hist)
            .or_default()
            .record(us);
    }

    /// Notes that `what` happened at `t` (mono µs).
    pub fn mark(&self, what: &'static str, t: u64) {
        let s = Span { first: t, last: t };
        self.spans
            .lock()
            .unwrap()
            .entry(what)
            .and_modify(|m| m.merge(s))
            .or_insert(s);
    }

    /// Counts an error; its message (without numbers that differ between clients) is kept.
    pub fn error(&self, what: impl std::fmt::Display) {
        self.counts.add(C::Errors, 1);
        let mut text: String = what.to_string().chars().take(160).collect();
        if let Some(i) = text.find(" (seat ") {
            text.truncate(i);
        }
        *self.errors.lock().unwrap().entry(text).or_default() += 1;
    }

    /// The source address of global client `g`.
    pub fn source(&self, g: usize) -> Option<IpAddr> {
        let ips = &self.plan.source_ips;
        (!ips.is_empty()).then(|| ips[g % ips.len()])
    }

    /// Whether the parent said stop.
    pub fn stopping(&self) -> bool {
        *self.phase.borrow() == Phase::Stop
    }

    fn counts_extra(&self, name: &str, v: u64) {
        self.extra.lock().unwrap().insert(name.into(), v);
    }

    /// Everything measured so far.
    pub fn outcome(&self) -> Outcome {
        Outcome {
            counts: self.counts.snapshot(),
            hists: (self.hists.lock().unwrap().iter())
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            spans: (self.spans.lock().unwrap().iter())
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            errors: self.errors.lock().unwrap().clone(),
        }
    }
}

/// A client's ramp-up slot: counted as settled (in place or failed) exactly once.
pub struct Ramp {
    sh: Arc<Shared>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Ramp {
    /// The client is in place: the next one may start.
    pub fn settle(&mut self) {
        if self.permit.take().is_some() {
            self.sh.counts.add(C::Settled, 1);
        }
    }
}

impl Drop for Ramp {
    fn drop(&mut self) {
        self.settle();
    }
}

/// Runs a worker until the parent says stop (or the plan's life ends); reports on `out`.
pub async fn run(
    plan: Plan,
    mut ctrl: mpsc::UnboundedReceiver<Ctrl>,
    out: mpsc::UnboundedSender<Report>,
) {
    let (phase_tx, phase) = watch::channel(Phase::Wait);
    let life = Duration::from_secs_f64(plan.life_secs);
    let sh = Shared::new(plan, phase);
    let spawner = tokio::spawn(spawn_clients(sh.clone()));
    let watcher = tokio::spawn(watch_progress(sh.clone(), out.clone()));
    let mut sent_us = Vec::new();
    let deadline = tokio::time::sleep(life);
    tokio::pin!(deadline);
    loop {
        let msg = tokio::select! {
            m = ctrl.recv() => m.unwrap_or(Ctrl::Stop),
            _ = &mut deadline => Ctrl::Stop,
        };
        match msg {
            Ctrl::Go => {
                sh.mark("go", mono_us());
                let status = sh.counts.get(C::Status);
                sh.counts_extra("status_at_go", status);
                let _ = phase_tx.send(Phase::Go);
            }
            Ctrl::Ops { sent_us: s } => sent_us = s,
            Ctrl::Stop => break,
        }
    }
    sh.mark("stop", mono_us());
    sh.counts_extra("status_at_stop", sh.counts.get(C::Status));
    sh.counts_extra("open_at_stop", sh.counts.get(C::Open));
    let _ = phase_tx.send(Phase::Stop);
    watcher.abort();
    let arrivals = match tokio::time::timeout(Duration::from_secs(20), spawner).await {
        Ok(Ok(a)) => a,
        _ => {
            sh.error("clients did not stop within 20 s");
            Vec::new()
        }
    };
    let mut outcome = sh.outcome();
    outcome.counts.extend(sh.extra.lock().unwrap().clone());
    crate::broadcast::score_broadcast(&mut outcome, &arrivals, &sent_us);
    let _ = out.send(Report::Done(outcome));
}

/// Starts every client (paced and bounded), then waits for all of them; returns the
/// broadcast viewers' arrival times.
async fn spawn_clients(sh: Arc<Shared>) -> Vec<Vec<u64>> {
    let ramp = Arc::new(Semaphore::new(sh.plan.concurrency.max(1)));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(sh.plan.clients);
    for i in 0..sh.plan.clients {
        if sh.plan.rate > 0.0 {
            tokio::time::sleep_until(start + Duration::from_secs_f64(i as f64 / sh.plan.rate))
                .await;
        }
        let Ok(permit) = ramp.clone().acquire_owned().await else {
            break;
        };
        if sh.stopping() {
            break;
        }
        let ramp = Ramp {
            sh: sh.clone(),
            permit: Some(permit),
        };
        let g = sh.plan.first_client + i;
        tasks.push(tokio::spawn(crate::queue::client(sh.clone(), g, ramp)));
    }
    let mut arrivals = Vec::new();
    for t in tasks {
        if let Ok(Some(a)) = t.await {
            arrivals.push(a);
        }
    }
    arrivals
}

/// Sends progress every second, and Ready / Finished once.
async fn watch_progress(sh: Arc<Shared>, out: mpsc::UnboundedSender<Report>) {
    let n = sh.plan.clients as u64;
    let (mut ready, mut finished) = (false, false);
    let mut every = tokio::time::interval(Duration::from_millis(50));
    let mut ticks = 0u64;
    loop {
        every.tick().await;
        ticks += 1;
        if !ready && sh.counts.get(C::Settled) >= n {
            ready = true;
            let _ = out.send(Report::Ready);
        }
        if !finished && sh.counts.get(C::Finished) >= n {
            finished = true;
            let _ = out.send(Report::Finished);
        }
        if ticks.is_multiple_of(20) {
            let counts = sh.counts.snapshot();
            let _ = out.send(Report::Progress { counts });
        }
    }
}

/// The child process: plan from the argument, control from stdin, reports to stdout.
pub async fn child_main(plan: &str) -> anyhow::Result<()> {
    let plan: Plan = serde_json::from_str(plan)?;
    let (ctrl_tx, ctrl_rx) = mpsc::unbounded_channel();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(c) = serde_json::from_str::<Ctrl>(&line) {
                let _ = ctrl_tx.send(c);
            }
        }
        let _ = ctrl_tx.send(Ctrl::Stop); // the parent is gone
    });
    let worker = tokio::spawn(run(plan, ctrl_rx, out_tx));
    let mut stdout = tokio::io::stdout();
    while let Some(report) = out_rx.recv().await {
        let mut line = serde_json::to_string(&report)?;
        line.push('\n');
        stdout.write_all(line.as_bytes()).await?;
        stdout.flush().await?;
        if matches!(report, Report::Done(_)) {
            break;
        }
    }
    worker.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_done_report_survives_the_pipe() {
        let mut outcome = Outcome::default();
        let mut h = Hist::default();
        h.record(12_345);
        outcome.hists.insert("join".into(), h);
        let line = serde_json::to_string(&Report::Done(outcome)).unwrap();
        let back: Report = serde_json::from_str(&line).unwrap();
        let Report::Done(o) = back else {
            panic!("expected Done, got {back:?}");
        };
        assert_eq!(o.hist("join").n, 1);
    }
}
