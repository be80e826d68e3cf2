//! What a worker measures and how workers' results merge: counters, latency histograms
//! (mergeable across processes, unlike a list of percentiles), time spans and error
//! samples.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Counters every worker keeps (a few are gauges).
#[derive(Debug, Clone, Copy)]
pub enum C {
    /// Sockets opened.
    Opened,
    /// Sockets open now (gauge).
    Open,
    /// `joined` received.
    Joined,
    /// Clients in place or failed before (ramp-up done for them).
    Settled,
    /// Clients that failed.
    Failed,
    /// Clients whose work is over (admission: admitted or failed).
    Finished,
    /// `admitted` received.
    Admitted,
    /// `status` received.
    Status,
    /// Errors of any kind (failed clients included).
    Errors,
    /// Seat holds sent.
    HoldAttempts,
    /// `held` received.
    Held,
    /// Holds refused with `seat_taken`.
    Taken,
    /// `released` received.
    Released,
    /// `rate_limited` received.
    RateLimited,
    /// A seat held by two buyers at once, as the buyers were told.
    DoubleHolds,
    /// `seats` deltas received.
    Deltas,
    /// Seat-map snapshots after the first (a viewer fell behind).
    Resnapshots,
}

const NAMES: [&str; 17] = [
    "opened",
    "open",
    "joined",
    "settled",
    "failed",
    "finished",
    "admitted",
    "status",
    "errors",
    "hold_attempts",
    "held",
    "seat_taken",
    "released",
    "rate_limited",
    "double_holds",
    "deltas",
    "resnapshots",
];

/// Atomic counters, shared by a worker's clients.
#[derive(Default)]
pub struct Counts([AtomicU64; NAMES.len()]);

impl Counts {
    /// Adds `n`.
    pub fn add(&self, c: C, n: u64) {
        self.0[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` (gauges).
    pub fn sub(&self, c: C, n: u64) {
        self.0[c as usize].fetch_sub(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self, c: C) -> u64 {
        self.0[c as usize].load(Ordering::Relaxed)
    }

    /// Every counter by name.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        NAMES
            .iter()
            .zip(&self.0)
            .map(|(n, v)| (n.to_string(), v.load(Ordering::Relaxed)))
            .collect()
    }
}

/// A latency histogram in microseconds: exact below 256 µs, then 128 buckets per power
/// of two (under 0.8 % error). Sparse, so it is small on the wire.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hist {
    buckets: BTreeMap<u32, u64>,
    /// Samples.
    pub n: u64,
    /// Largest sample.
    pub max: u64,
}

fn bucket(v: u64) -> u32 {
    if v < 256 {
        return v as u32;
    }
    let e = 63 - v.leading_zeros();
    256 + (e - 8) * 128 + ((v >> (e - 7)) & 127) as u32
}

fn bucket_mid(b: u32) -> u64 {
    if b < 256 {
        return b as u64;
    }
    let (e, sub) = ((b - 256) / 128 + 8, (b - 256) % 128);
    let low = (128 + sub as u64) << (e - 7);
    low + (1 << (e - 7)) / 2
}

impl Hist {
    /// Records one sample.
    pub fn record(&mut self, us: u64) {
        *self.buckets.entry(bucket(us)).or_default() += 1;
        self.n += 1;
        self.max = self.max.max(us);
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &Hist) {
        for (b, c) in &other.buckets {
            *self.buckets.entry(*b).or_default() += c;
        }
        self.n += other.n;
        self.max = self.max.max(other.max);
    }

    /// The `q` quantile (0..=1), in microseconds; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        let rank = ((q * self.n as f64).ceil() as u64).clamp(1, self.n.max(1));
        let mut seen = 0;
        for (b, c) in &self.buckets {
            seen += c;
            if seen >= rank {
                return bucket_mid(*b).min(self.max);
            }
        }
        0
    }
}

/// First and last time (mono µs) something happened.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Span {
    /// Earliest.
    pub first: u64,
    /// Latest.
    pub last: u64,
}

impl Span {
    /// Widens to include `other`.
    pub fn merge(&mut self, other: Span) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// Everything one worker measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Counters (and snapshots of them, e.g. `status_at_go`).
    pub counts: BTreeMap<String, u64>,
    /// Latency histograms.
    pub hists: BTreeMap<String, Hist>,
    /// When things happened.
    pub spans: BTreeMap<String, Span>,
    /// Error messages and how often each happened.
    pub errors: BTreeMap<String, u64>,
}

impl Outcome {
    /// Adds another worker's outcome.
    pub fn merge(&mut self, other: &Outcome) {
        for (k, v) in &other.counts {
            *self.counts.entry(k.clone()).or_default() += v;
        }
        for (k, h) in &other.hists {
            self.hists.entry(k.clone()).or_default().merge(h);
        }
        for (k, s) in &other.spans {
            self.spans
                .entry(k.clone())
                .and_modify(|m| m.merge(*s))
                .or_insert(*s);
        }
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
    }

    /// A counter, 0 if absent.
    pub fn count(&self, name: &str) -> u64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// A histogram, empty if absent.
    pub fn hist(&self, name: &str) -> Hist {
        self.hists.get(name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_one_percent() {
        let mut h = Hist::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 50_000.0), (0.99, 99_000.0), (1.0, 100_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.01, "q{q}: {got} vs {want}");
        }
        assert_eq!(h.max, 100_000);
    }

    #[test]
    fn merged_histograms_count_every_sample() {
        let (mut a, mut b) = (Hist::default(), Hist::default());
        a.record(10);
        b.record(1_000_000);
        a.merge(&b);
        assert_eq!(a.n, 2);
        assert_eq!(a.quantile(1.0), 1_000_000);
        assert_eq!(a.quantile(0.5), 10);
    }
}
