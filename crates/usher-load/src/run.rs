//! One run, from the parent's side: check the target, set up the event, split the
//! clients over the workers, drive the scenario's phases, and report.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::admin::{self, NewEvent};
use crate::cli::{Command, Common};
use crate::fleet::Fleet;
use crate::net::{Target, mono_us};
use crate::report::{self, Ctx};
use crate::worker::{Ctrl, Phase, Plan, Scenario, Shared};

/// The event the clients use, and what they need to know about it.
struct Setup {
    event: i64,
    seats: u32,
    session_secs: i64,
}

fn scenario(cmd: &Command) -> Scenario {
    match cmd {
        Command::Idle { .. } => Scenario::Idle,
        Command::JoinStorm { .. } => Scenario::JoinStorm,
        Command::Admission { .. } => Scenario::Admission,
        Command::Fanout { .. } => Scenario::Fanout,
        Command::SeatRush { .. } => Scenario::SeatRush,
        Command::Broadcast { .. } | Command::Worker { .. } => Scenario::Broadcast,
    }
}

/// Creates the scenario's event (or checks the given one), paused where it must be.
async fn setup(t: &Target, common: &Common, cmd: &Command, s: Scenario) -> anyhow::Result<Setup> {
    let key = common.admin_key.as_deref().filter(|k| !k.is_empty());
    let seat_scenario = matches!(s, Scenario::SeatRush | Scenario::Broadcast);
    let session_secs = match cmd {
        Command::Admission { session_secs, .. } => *session_secs,
        _ if seat_scenario => 3_600,
        _ => 600,
    };
    let event = match (common.event, key) {
        (Some(id), _) => id,
        (None, Some(key)) => {
            let (rate, seats) = match cmd {
                Command::Admission { admission_rate, .. } => (*admission_rate, None),
                Command::SeatRush {
                    rows,
                    seats_per_row,
                    ..
                } => (100_000.0, Some((*rows, *seats_per_row))),
                Command::Broadcast { .. } => (100_000.0, Some((1, 10))),
                _ => (10.0, None),
            };
            let name = format!("usher-load {} {}", cmd.name(), crate::net::wall_ms());
            let new = NewEvent {
                name,
                rate,
                session_secs,
                seats,
            };
            admin::create(t, key, &new).await?
        }
        (None, None) => bail!("give --admin-key (to create an event) or --event"),
    };
    // Waiting scenarios need a paused room; admission starts paused and is resumed later.
    if let (false, Some(key)) = (seat_scenario, key) {
        admin::set_paused(t, key, event, true).await?;
    }
    let seats = if seat_scenario {
        admin::seat_count(t, event).await?
    } else {
        0
    };
    Ok(Setup {
        event,
        seats,
        session_secs,
    })
}

/// Splits the clients over `procs` workers.
fn plans(t: &Target, common: &Common, cmd: &Command, setup: &Setup, clients: usize) -> Vec<Plan> {
    let procs = common.procs;
    let (rate, msg_rate) = match cmd {
        Command::JoinStorm { rate } => (*rate / procs as f64, 0.0),
        Command::SeatRush { msg_rate, .. } => (0.0, *msg_rate),
        _ => (0.0, 0.0),
    };
    let mut first = 0;
    (0..procs)
        .map(|w| {
            let n = clients / procs + usize::from(w < clients % procs);
            let plan = Plan {
                scenario: scenario(cmd),
                target: t.clone(),
                event: setup.event,
                worker: w,
                workers: procs,
                first_client: first,
                clients: n,
                source_ips: common.source_ips.clone(),
                rate,
                concurrency: common.concurrency,
                session_secs: setup.session_secs,
                seats: setup.seats,
                msg_rate,
                watch_seat: 0,
                life_secs: common.ramp_timeout + common.duration + 60.0,
            };
            first += n;
            plan
        })
        .collect()
}

/// Refuses a run that cannot work on this machine: too many sockets per process or per
/// source address.
fn check_limits(common: &Common, clients: usize, nofile: u64) -> anyhow::Result<()> {
    let per_proc = clients.div_ceil(common.procs) as u64;
    if per_proc + 64 > nofile {
        bail!(
            "{per_proc} clients per process but only {nofile} open files: use --procs {}",
            (clients as u64).div_ceil(nofile.saturating_sub(64).max(1))
        );
    }
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let ports: Vec<u64> = range
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    if let [low, high] = ports[..] {
        let per_ip = (high - low + 1).saturating_sub(500);
        let sources = common.source_ips.len().max(1) as u64;
        if clients as u64 > per_ip * sources {
            bail!(
                "{clients} clients need more than {sources} source address(es) ({per_ip} ports each): \
                 add --source-ips 127.0.0.2,127.0.0.3,…"
            );
        }
    }
    Ok(())
}

fn read_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

/// Runs one scenario; the exit code says whether it went as expected.
pub async fn run(common: Common, cmd: Command, nofile: u64) -> anyhow::Result<ExitCode> {
    let t = Target::parse(&common.target)?;
    t.check_sources(&common.source_ips)?;
    let clients = common.clients.unwrap_or_else(|| cmd.default_clients());
    ensure!(clients > 0, "--clients must be at least 1");
    ensure!(
        (1..=clients).contains(&common.procs),
        "--procs must be 1 to --clients"
    );
    ensure!(common.duration > 0.0, "--duration must be above 0");
    check_limits(&common, clients, nofile)?;
    admin::check_up(&t).await?;
    let s = scenario(&cmd);
    let setup = setup(&t, &common, &cmd, s).await?;
    if s == Scenario::SeatRush {
        ensure!(
            setup.seats as usize >= 4 * common.procs,
            "the seat map needs 4 seats per process"
        );
    }
    let plans = plans(&t, &common, &cmd, &setup, clients);
    let mut ctx = Ctx {
        clients,
        ..Ctx::default()
    };
    let rss_pid = match cmd {
        Command::Idle { server_pid } => server_pid,
        _ => None,
    };
    let rss_before = rss_pid.map(read_rss_kb).transpose()?;
    // The broadcast actor is admitted and on the seat map before the viewers start.
    let (_phase_tx, phase) = watch::channel(Phase::Wait);
    let mut actor_plan = plans[0].clone();
    actor_plan.first_client = clients;
    let actor_sh = Shared::new(actor_plan, phase);
    let mut actor = None;
    if s == Scenario::Broadcast {
        let token = crate::queue::admitted_token(&actor_sh, clients)
            .await
            .context("the actor")?;
        actor = Some(
            crate::seats::open(&actor_sh, clients, &token)
                .await
                .context("the actor")?,
        );
    }
    let started = Instant::now();
    let duration = Duration::from_secs_f64(common.duration);
    let ramp_deadline = started + Duration::from_secs_f64(common.ramp_timeout);
    let mut fleet = Fleet::start(plans, common.procs > 1, common.quiet, cmd.name())?;

    match &cmd {
        Command::JoinStorm { .. } => {
            fleet.wait(started + duration, Fleet::all_ready).await;
        }
        Command::Idle { .. } => {
            fleet.wait(ramp_deadline, Fleet::all_ready).await;
            fleet.idle(Duration::from_secs(2)).await; // let the server settle
            if let (Some(pid), Some(before)) = (rss_pid, rss_before) {
                ctx.rss_kb = Some((before, read_rss_kb(pid)?));
                ctx.open_at_rss = fleet.total("open");
            }
            fleet.idle(duration).await;
        }
        Command::Admission { admission_rate, .. } => {
            ctx.admission_rate = *admission_rate;
            fleet.wait(ramp_deadline, Fleet::all_ready).await;
            if let Some(key) = common.admin_key.as_deref().filter(|k| !k.is_empty()) {
                admin::set_paused(&t, key, setup.event, false).await?;
            }
            ctx.resumed_us = Some(mono_us());
            fleet
                .wait(Instant::now() + duration, Fleet::all_finished)
                .await;
        }
        Command::Fanout { expect_interval_ms } => {
            ctx.expect_interval_ms = *expect_interval_ms;
            fleet.wait(ramp_deadline, Fleet::all_ready).await;
            fleet.send(Ctrl::Go);
            let go = mono_us();
            fleet.idle(duration).await;
            ctx.window_s = (mono_us() - go) as f64 / 1e6;
        }
        Command::SeatRush { .. } => {
            fleet.wait(ramp_deadline, Fleet::all_ready).await;
            fleet.send(Ctrl::Go);
            let go = mono_us();
            fleet.idle(duration).await;
            ctx.window_s = (mono_us() - go) as f64 / 1e6;
        }
        Command::Broadcast { ops, gap_ms } => {
            fleet.wait(ramp_deadline, Fleet::all_ready).await;
            let (mut ws, _open) = actor.take().context("no actor")?;
            let gap = Duration::from_millis(*gap_ms);
            let acting =
                crate::broadcast::act(&actor_sh, &mut ws, *ops, gap, Instant::now() + duration);
            // Pump the workers' reports while the actor works.
            let sent = tokio::select! {
                sent = acting => sent,
                _ = fleet.wait(Instant::now() + duration + Duration::from_secs(60), |_| false) => {
                    bail!("the actor did not finish")
                }
            };
            let sent = sent.unwrap_or_else(|e| {
                actor_sh.error(format!("actor: {e:#}"));
                Vec::new()
            });
            ctx.actor_ops = sent.len();
            fleet.idle(Duration::from_secs(1)).await; // the last deliveries
            fleet.send(Ctrl::Ops { sent_us: sent });
            crate::net::close(ws).await;
        }
        Command::Worker { .. } => unreachable!("workers do not run scenarios"),
    }
    let stopping = Instant::now();
    let mut outcome = fleet.finish().await;
    let actor_outcome = actor_sh.outcome();
    for (k, v) in actor_outcome.errors {
        *outcome.errors.entry(k).or_default() += v;
        *outcome.counts.entry("errors".into()).or_default() += 1;
    }
    ctx.duration_s = (stopping - started).as_secs_f64();
    let rows = report::rows(s, &outcome, &ctx);
    let problems = report::problems(s, &outcome, &ctx);
    report::print(cmd.name(), &ctx, &rows, &outcome);
    if let Some(path) = &common.json {
        report::write_json(path, cmd.name(), &ctx, &rows, &outcome, &problems)?;
    }
    if problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("usher-load: {}: {}", cmd.name(), problems.join("; "));
        Ok(ExitCode::from(2))
    }
}
