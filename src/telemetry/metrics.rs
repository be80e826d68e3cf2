//! Prometheus metrics at `/metrics`: this instance's sockets and latencies, and every
//! event's queue and seat counters (read from the engine when scraped, so every instance
//! reports the same global numbers for them).
//!
//! Hand-rolled on atomics instead of a global recorder: tests run several servers in one
//! process, and each needs its own numbers.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

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

    /// Writes the histogram in Prometheus text.
    pub fn render(&self, out: &mut String, name: &str, help: &str) {
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
    /// Each event's admitted total, sampled every second: the operator page's
    /// "admitted in the last minute".
    pub admitted: super::admitted::Admitted,
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

/// Writes the `# HELP` and `# TYPE` lines of a metric family.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}
