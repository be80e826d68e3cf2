//! What an operator watches: Prometheus counters and latency histograms of this instance
//! ([`metrics`]; `/metrics` renders them with the per-event numbers), and panics and
//! supervised background tasks that are down ([`health`], for `/healthz`), and each
//! event's admissions in the last minute for the operator page ([`admitted`]).

pub mod admitted;
pub mod health;
pub mod metrics;
