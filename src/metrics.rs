//! Prometheus metrics at `/metrics`: this instance's sockets and latencies, and every
//! event's queue and seat counters (read from the engine when scraped, so every instance
//! reports the same global numbers for them).
//!
//! Hand-rolled on atomics instead of a global recorder: tests run several servers in one
//! process, and each needs its own numbers.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::app::AppState;

/// Latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// A latency histogram.
#[derive(Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    sum_us: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// Records one observation in milliseconds (floating point).
    pub fn observe_ms(&self, ms: f64) {
        let secs = ms.max(0.0) / 1000.0;
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_us
            .fetch_add((ms.max(0.0) * 1000.0) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (b, c) in BUCKETS.iter().zip(&self.counts) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
    }
}

/// This instance's counters.
#[derive(Default)]
pub struct Metrics {
    /// Open waiting-room sockets.
    pub queue_sockets: AtomicI64,
    /// Open seat-map sockets.
    pub seat_sockets: AtomicI64,
    /// `join` to `joined`.
    pub join: Histogram,
    /// Admission decision to `admitted` sent.
    pub admission_push: Histogram,
    /// Hold request to answer.
    pub hold: Histogram,
    /// Holds granted by this instance.
    pub holds_granted: AtomicU64,
    /// Holds refused by this instance.
    pub holds_refused: AtomicU64,
    /// Bookings written by this instance.
    pub bookings: AtomicU64,
    /// Times this instance found the queue store had lost an event's counters and
    /// restored them from the database.
    pub restores: AtomicU64,
}

/// Which channel a socket belongs to, for the open-sockets gauge.
#[derive(Clone, Copy)]
pub enum Channel {
    /// `/ws/events/{id}/queue`.
    Queue,
    /// `/ws/events/{id}/seats`.
    Seats,
}

impl Metrics {
    fn gauge(&self, channel: Channel) -> &AtomicI64 {
        match channel {
            Channel::Queue => &self.queue_sockets,
            Channel::Seats => &self.seat_sockets,
        }
    }

    /// Counts an open socket until the guard drops.
    pub fn socket(self: &std::sync::Arc<Self>, channel: Channel) -> SocketGuard {
        self.gauge(channel).fetch_add(1, Ordering::Relaxed);
        SocketGuard {
            metrics: self.clone(),
            channel,
        }
    }
}

/// Decrements the open-sockets gauge on drop.
pub struct SocketGuard {
    metrics: std::sync::Arc<Metrics>,
    channel: Channel,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.metrics
            .gauge(self.channel)
            .fetch_sub(1, Ordering::Relaxed);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The Prometheus text of this instance.
pub async fn render(state: &AppState) -> String {
    let m = &state.metrics;
    let mut out = String::new();
    family(
        &mut out,
        "usher_open_sockets",
        "gauge",
        "Open WebSocket connections on this instance.",
    );
    let q = m.queue_sockets.load(Ordering::Relaxed);
    let s = m.seat_sockets.load(Ordering::Relaxed);
    let _ = writeln!(out, "usher_open_sockets{{channel=\"queue\"}} {q}");
    let _ = writeln!(out, "usher_open_sockets{{channel=\"seats\"}} {s}");
    for (name, help, v) in [
        (
            "usher_holds_granted_total",
            "Seat holds granted by this instance.",
            &m.holds_granted,
        ),
        (
            "usher_holds_refused_total",
            "Seat holds refused by this instance.",
            &m.holds_refused,
        ),
        (
            "usher_bookings_written_total",
            "Bookings written by this instance.",
            &m.bookings,
        ),
        (
            "usher_store_restores_total",
            "Times the queue store had lost an event's counters and they were restored.",
            &m.restores,
        ),
        (
            "usher_panics_total",
            "Panics anywhere in this process (each is a bug).",
            &crate::health::PANICS,
        ),
    ] {
        family(&mut out, name, "counter", help);
        let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
    }
    family(
        &mut out,
        "usher_task_restarts_total",
        "counter",
        "Background tasks (rooms, scheduler loops) that failed and were restarted.",
    );
    let _ = writeln!(out, "usher_task_restarts_total {}", state.tasks.restarts());
    m.join
        .render(&mut out, "usher_join_seconds", "Time from join to joined.");
    m.admission_push.render(
        &mut out,
        "usher_admission_push_seconds",
        "Time from the admission decision to the admitted message sent.",
    );
    m.hold.render(
        &mut out,
        "usher_hold_seconds",
        "Time to answer a hold request.",
    );

    let mut events: Vec<i64> = state.events.iter().map(|e| *e.key()).collect();
    events.sort_unstable();
    let now = state.clock.now_ms();
    let mut rows: Vec<(&str, &str, String)> = Vec::new();
    for id in events {
        let Ok(snap) = state.engine.snapshot(id, now).await else {
            continue;
        };
        rows.push((
            "usher_queue_length",
            "gauge",
            format!("{{event=\"{id}\"}} {}", snap.waiting + snap.pre),
        ));
        rows.push((
            "usher_admitted_total",
            "counter",
            format!("{{event=\"{id}\"}} {}", snap.admitted_total),
        ));
        rows.push((
            "usher_active_buyers",
            "gauge",
            format!("{{event=\"{id}\"}} {}", snap.active),
        ));
        if state.seat_map(id).await.is_some()
            && let Ok(seats) = state.seats.seat_states(id).await
        {
            rows.push((
                "usher_seats_held",
                "gauge",
                format!("{{event=\"{id}\"}} {}", seats.held.len()),
            ));
            rows.push((
                "usher_seats_sold",
                "gauge",
                format!("{{event=\"{id}\"}} {}", seats.sold.len()),
            ));
        }
    }
    rows.sort_by_key(|(name, _, _)| *name);
    let mut last = "";
    for (name, kind, sample) in rows {
        if name != last {
            family(
                &mut out,
                name,
                kind,
                "Per event, from the engine (the same on every instance).",
            );
            last = name;
        }
        let _ = writeln!(out, "{name}{sample}");
    }
    out
}
