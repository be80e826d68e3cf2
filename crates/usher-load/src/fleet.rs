//! The parent's side of the workers: starts them (tasks in this process, or child
//! processes of this same binary), pumps their reports, prints the progress line, and
//! merges their outcomes.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::stats::Outcome;
use crate::worker::{self, Ctrl, Plan, Report};

/// Every worker of a run, seen from the parent.
pub struct Fleet {
    ctrl: Vec<mpsc::UnboundedSender<Ctrl>>,
    rx: mpsc::UnboundedReceiver<(usize, Report)>,
    latest: Vec<BTreeMap<String, u64>>,
    ready: Vec<bool>,
    finished: Vec<bool>,
    done: Vec<Option<Outcome>>,
    children: Vec<Child>,
    started: Instant,
    next_print: Instant,
    quiet: bool,
    label: &'static str,
}

impl Fleet {
    /// Starts one worker per plan: child processes if `procs`, else tasks here.
    pub fn start(
        plans: Vec<Plan>,
        procs: bool,
        quiet: bool,
        label: &'static str,
    ) -> anyhow::Result<Fleet> {
        let (tx, rx) = mpsc::unbounded_channel();
        let n = plans.len();
        let mut fleet = Fleet {
            ctrl: Vec::new(),
            rx,
            latest: vec![BTreeMap::new(); n],
            ready: vec![false; n],
            finished: vec![false; n],
            done: vec![None; n],
            children: Vec::new(),
            started: Instant::now(),
            next_print: Instant::now() + Duration::from_secs(1),
            quiet,
            label,
        };
        for (i, plan) in plans.into_iter().enumerate() {
            let (ctrl_tx, ctrl_rx) = mpsc::unbounded_channel();
            fleet.ctrl.push(ctrl_tx);
            if procs {
                fleet
                    .children
                    .push(spawn_child(i, &plan, ctrl_rx, tx.clone())?);
            } else {
                spawn_local(i, plan, ctrl_rx, tx.clone());
            }
        }
        Ok(fleet)
    }

    /// Sends `c` to every worker.
    pub fn send(&self, c: Ctrl) {
        for tx in &self.ctrl {
            let _ = tx.send(c.clone());
        }
    }

    /// Every worker has its clients in place.
    pub fn all_ready(&self) -> bool {
        self.ready.iter().all(|r| *r)
    }

    /// Every worker's clients are done (admission: admitted or failed).
    pub fn all_finished(&self) -> bool {
        self.finished.iter().all(|r| *r)
    }

    /// The sum of a counter over the workers' latest progress.
    pub fn total(&self, name: &str) -> u64 {
        self.latest.iter().filter_map(|c| c.get(name)).sum()
    }

    /// Pumps reports until `cond` holds (true) or `deadline` passes (false).
    pub async fn wait(&mut self, deadline: Instant, cond: impl Fn(&Fleet) -> bool) -> bool {
        loop {
            if cond(self) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            let wake = deadline.min(self.next_print);
            if let Ok(got) = tokio::time::timeout_at(wake, self.rx.recv()).await {
                let Some((i, report)) = got else {
                    return cond(self);
                };
                self.handle(i, report);
            }
            if Instant::now() >= self.next_print {
                self.print();
                self.next_print += Duration::from_secs(1);
            }
        }
    }

    /// Pumps reports for `d`.
    pub async fn idle(&mut self, d: Duration) {
        self.wait(Instant::now() + d, |_| false).await;
    }

    fn handle(&mut self, i: usize, report: Report) {
        match report {
            Report::Progress { counts } => self.latest[i] = counts,
            Report::Ready => self.ready[i] = true,
            Report::Finished => self.finished[i] = true,
            Report::Done(outcome) => {
                self.latest[i] = outcome.counts.clone();
                self.done[i] = Some(outcome);
                (self.ready[i], self.finished[i]) = (true, true);
            }
            Report::Exited => {
                if self.done[i].is_none() {
                    self.done[i] = Some(lost("worker process ended without a result"));
                }
                (self.ready[i], self.finished[i]) = (true, true);
            }
        }
    }

    fn print(&self) {
        if self.quiet {
            return;
        }
        let t = self.started.elapsed().as_secs_f64();
        let shown = [
            "opened",
            "open",
            "joined",
            "admitted",
            "status",
            "hold_attempts",
            "deltas",
            "failed",
            "errors",
        ];
        let parts: Vec<String> = shown
            .iter()
            .map(|k| (k, self.total(k)))
            .filter(|(k, v)| *v > 0 || **k == "errors")
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        eprintln!("[{t:6.1}s] {}: {}", self.label, parts.join("  "));
    }

    /// Tells every worker to stop, waits for their results (40 s at most) and merges them.
    pub async fn finish(mut self) -> Outcome {
        self.send(Ctrl::Stop);
        let deadline = Instant::now() + Duration::from_secs(40);
        self.wait(deadline, |f| f.done.iter().all(Option::is_some))
            .await;
        let mut total = Outcome::default();
        for d in &self.done {
            total.merge(
                d.as_ref()
                    .unwrap_or(&lost("worker gave no result within 40 s")),
            );
        }
        for mut child in self.children.drain(..) {
            if tokio::time::timeout(Duration::from_secs(5), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
        total
    }
}

fn lost(why: &str) -> Outcome {
    let mut o = Outcome::default();
    o.counts.insert("errors".into(), 1);
    o.errors.insert(why.into(), 1);
    o
}

fn spawn_local(
    i: usize,
    plan: Plan,
    ctrl: mpsc::UnboundedReceiver<Ctrl>,
    tx: mpsc::UnboundedSender<(usize, Report)>,
) {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    tokio::spawn(worker::run(plan, ctrl, out_tx));
    tokio::spawn(async move {
        while let Some(r) = out_rx.recv().await {
            if tx.send((i, r)).is_err() {
                break;
            }
        }
    });
}

/// Re-executes this binary as `usher-load worker PLAN`: control lines on its stdin,
/// report lines on its stdout.
fn spawn_child(
    i: usize,
    plan: &Plan,
    mut ctrl: mpsc::UnboundedReceiver<Ctrl>,
    tx: mpsc::UnboundedSender<(usize, Report)>,
) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding this executable")?;
    let mut child = Command::new(exe)
        .arg("worker")
        .arg(serde_json::to_string(plan)?)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting a worker process")?;
    let mut stdin = child.stdin.take().context("worker stdin")?;
    let stdout = child.stdout.take().context("worker stdout")?;
    tokio::spawn(async move {
        while let Some(c) = ctrl.recv().await {
            let mut line = serde_json::to_string(&c).expect("control serializes");
            line.push('\n');
            if stdin.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(r) = serde_json::from_str::<Report>(&line) {
                let _ = tx.send((i, r));
            }
        }
        let _ = tx.send((i, Report::Exited));
    });
    Ok(child)
}
