//! From merged outcomes to the numbers a reader wants: one list of (metric, value) per
//! scenario, printed as a table and optionally written as JSON, and the verdict.

use std::path::Path;

use serde_json::json;

use crate::stats::{Hist, Outcome};
use crate::worker::Scenario;

/// What the parent measured itself, next to the workers' outcome.
#[derive(Debug, Default)]
pub struct Ctx {
    /// Clients asked for.
    pub clients: usize,
    /// Seconds from the start of the clients to the stop.
    pub duration_s: f64,
    /// Seconds of the measured phase (go to stop).
    pub window_s: f64,
    /// Server RSS (KB) before the clients and after they joined.
    pub rss_kb: Option<(u64, u64)>,
    /// Sockets open when the RSS was read.
    pub open_at_rss: u64,
    /// When admission was resumed (mono µs).
    pub resumed_us: Option<u64>,
    /// Configured admission rate.
    pub admission_rate: f64,
    /// The server's update interval, if told.
    pub expect_interval_ms: Option<u64>,
    /// Requests the broadcast actor made.
    pub actor_ops: usize,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn latency(rows: &mut Vec<(String, f64)>, name: &str, h: &Hist) {
    rows.push((format!("{name}_p50_ms"), ms(h.quantile(0.5))));
    rows.push((format!("{name}_p99_ms"), ms(h.quantile(0.99))));
    rows.push((format!("{name}_max_ms"), ms(h.max)));
}

fn per_s(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// The metrics of one run, in reading order.
pub fn rows(s: Scenario, o: &Outcome, c: &Ctx) -> Vec<(String, f64)> {
    let mut r: Vec<(String, f64)> = Vec::new();
    let put = |r: &mut Vec<(String, f64)>, k: &str, v: f64| r.push((k.into(), v));
    let span = |name: &str| o.spans.get(name).copied();
    match s {
        Scenario::Idle => {
            put(&mut r, "joined", o.count("joined") as f64);
            put(&mut r, "connected_at_end", o.count("open_at_stop") as f64);
            if let Some((before, after)) = c.rss_kb {
                put(&mut r, "connected_at_rss", c.open_at_rss as f64);
                put(&mut r, "server_rss_before_kb", before as f64);
                put(&mut r, "server_rss_after_kb", after as f64);
                let per = after.saturating_sub(before) as f64 / c.open_at_rss.max(1) as f64;
                put(&mut r, "server_rss_per_socket_kb", per);
            }
        }
        Scenario::JoinStorm => {
            put(&mut r, "joined", o.count("joined") as f64);
            let secs = match (span("start"), span("joined")) {
                (Some(a), Some(b)) => b.last.saturating_sub(a.first) as f64 / 1e6,
                _ => 0.0,
            };
            put(&mut r, "storm_s", secs);
            put(&mut r, "joins_per_s", per_s(o.count("joined"), secs));
            latency(&mut r, "join", &o.hist("join"));
        }
        Scenario::Admission => {
            let admitted = o.count("admitted");
            put(&mut r, "joined", o.count("joined") as f64);
            put(&mut r, "admitted", admitted as f64);
            put(&mut r, "not_admitted", not_admitted(o) as f64);
            put(&mut r, "configured_rate_per_s", c.admission_rate);
            let secs = match (c.resumed_us, span("admitted")) {
                (Some(from), Some(a)) => a.last.saturating_sub(from) as f64 / 1e6,
                _ => 0.0,
            };
            put(&mut r, "admission_s", secs);
            put(&mut r, "admitted_per_s", per_s(admitted, secs));
            latency(&mut r, "admit_push", &o.hist("admit"));
            latency(&mut r, "join", &o.hist("join"));
        }
        Scenario::Fanout => {
            let got = o
                .count("status_at_stop")
                .saturating_sub(o.count("status_at_go"));
            let waiting = o.count("open_at_stop");
            let rate = per_s(got, c.window_s);
            put(&mut r, "waiting", waiting as f64);
            put(&mut r, "window_s", c.window_s);
            put(&mut r, "status_per_s", rate);
            put(
                &mut r,
                "status_per_client_per_s",
                rate / waiting.max(1) as f64,
            );
            if let Some(ms) = c.expect_interval_ms {
                let expected = waiting as f64 * 1000.0 / ms.max(1) as f64;
                put(&mut r, "expected_per_s", expected);
                put(&mut r, "delivered_ratio", rate / expected.max(1e-9));
            }
        }
        Scenario::SeatRush => {
            put(&mut r, "buyers_admitted", o.count("admitted") as f64);
            put(&mut r, "window_s", c.window_s);
            put(&mut r, "hold_attempts", o.count("hold_attempts") as f64);
            let holds = per_s(o.count("hold_attempts"), c.window_s);
            put(&mut r, "hold_attempts_per_s", holds);
            put(&mut r, "held", o.count("held") as f64);
            put(&mut r, "seat_taken", o.count("seat_taken") as f64);
            put(&mut r, "released", o.count("released") as f64);
            put(&mut r, "rate_limited", o.count("rate_limited") as f64);
            latency(&mut r, "hold_rtt", &o.hist("hold"));
            put(&mut r, "deltas_received", o.count("deltas") as f64);
            put(&mut r, "resnapshots", o.count("resnapshots") as f64);
            put(&mut r, "double_holds", o.count("double_holds") as f64);
        }
        Scenario::Broadcast => {
            put(&mut r, "viewers_admitted", o.count("admitted") as f64);
            put(&mut r, "actor_requests", c.actor_ops as f64);
            put(&mut r, "deliveries", o.count("deliveries") as f64);
            put(
                &mut r,
                "missed_deliveries",
                o.count("missed_deliveries") as f64,
            );
            put(&mut r, "resnapshots", o.count("resnapshots") as f64);
            latency(&mut r, "delivery", &o.hist("delivery"));
        }
    }
    put(&mut r, "failed_clients", o.count("failed") as f64);
    put(&mut r, "errors", o.count("errors") as f64);
    r
}

fn not_admitted(o: &Outcome) -> u64 {
    o.count("joined").saturating_sub(o.count("admitted"))
}

/// Problems that make the run a failure (exit 2); empty when it went as expected.
pub fn problems(s: Scenario, o: &Outcome, c: &Ctx) -> Vec<String> {
    let mut p = Vec::new();
    let n = c.clients as u64;
    let placed = match s {
        Scenario::SeatRush | Scenario::Broadcast => o.count("admitted"),
        _ => o.count("joined"),
    };
    if placed < n {
        p.push(format!("only {placed} of {n} clients got in place"));
    }
    if o.count("errors") > 0 {
        p.push(format!("{} errors", o.count("errors")));
    }
    if o.count("double_holds") > 0 {
        p.push(format!("{} double holds", o.count("double_holds")));
    }
    if s == Scenario::Admission && not_admitted(o) > 0 {
        p.push(format!("{} buyers not admitted", not_admitted(o)));
    }
    if s == Scenario::Broadcast && (o.count("missed_deliveries") > 0 || c.actor_ops == 0) {
        p.push(format!(
            "{} deliveries missed",
            o.count("missed_deliveries")
        ));
    }
    if s == Scenario::SeatRush && o.count("hold_attempts") == 0 {
        p.push("no hold was attempted".into());
    }
    p
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Prints the table (and error samples) on stdout.
pub fn print(name: &str, c: &Ctx, rows: &[(String, f64)], o: &Outcome) {
    let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(6).max(6);
    println!(
        "{:<12} {:>8} {:>10}  {:<w$} {:>14}",
        "scenario", "clients", "duration_s", "metric", "value"
    );
    for (k, v) in rows {
        println!(
            "{name:<12} {:>8} {:>10.2}  {k:<w$} {:>14}",
            c.clients,
            c.duration_s,
            fmt(*v)
        );
    }
    for (e, n) in o.errors.iter().take(12) {
        println!("error x{n}: {e}");
    }
}

/// Writes the results as JSON.
pub fn write_json(
    path: &Path,
    name: &str,
    c: &Ctx,
    rows: &[(String, f64)],
    o: &Outcome,
    problems: &[String],
) -> anyhow::Result<()> {
    let metrics: serde_json::Map<String, serde_json::Value> =
        rows.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let table: Vec<_> = rows
        .iter()
        .map(|(k, v)| {
            json!({"scenario": name, "clients": c.clients, "duration_s": c.duration_s,
                   "metric": k, "value": v})
        })
        .collect();
    let doc = json!({
        "scenario": name,
        "clients": c.clients,
        "duration_s": c.duration_s,
        "ok": problems.is_empty(),
        "problems": problems,
        "metrics": metrics,
        "rows": table,
        "errors": o.errors,
        "counts": o.counts,
    });
    std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
    Ok(())
}
