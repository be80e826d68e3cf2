//! The scenario's event, through usher's admin API: create it, pause it, resume it, and
//! read how many seats an existing one has.

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::net::{self, Target};

/// What a new event should look like.
pub struct NewEvent {
    /// Shown in the operator's list.
    pub name: String,
    /// Buyers per second.
    pub rate: f64,
    /// Entry session length.
    pub session_secs: i64,
    /// `rows` x `seats_per_row` seats in one section, or none.
    pub seats: Option<(u32, u32)>,
}

/// Creates the event; returns its id.
pub async fn create(t: &Target, key: &str, e: &NewEvent) -> anyhow::Result<i64> {
    let now = net::wall_ms();
    let mut body = json!({
        "name": e.name,
        "kind": "load test",
        "venue": "usher-load",
        "starts_at_ms": now + 86_400_000,
        "sale_opens_at_ms": now - 1_000,
        "admission_rate": e.rate,
        "max_active": 10_000_000,
        "session_secs": e.session_secs,
        "grace_secs": 60,
        "hold_secs": 3_600,
    });
    if let Some((rows, per_row)) = e.seats {
        body["seat_map"] = json!({
            "prices": {"R": 100},
            "sections": [{"name": "A", "grade": "R", "rows": rows, "seats_per_row": per_row}],
        });
    }
    let (status, v) = net::http(t, "POST", "/api/admin/events", Some(key), Some(&body)).await?;
    if status != 201 {
        bail!("creating the event: HTTP {status} {v}");
    }
    v["id"].as_i64().context("the created event has no id")
}

/// Pauses or resumes admission.
pub async fn set_paused(t: &Target, key: &str, event: i64, paused: bool) -> anyhow::Result<()> {
    let verb = if paused { "pause" } else { "resume" };
    let path = format!("/api/admin/events/{event}/{verb}");
    let (status, v) = net::http(t, "POST", &path, Some(key), None).await?;
    if status != 200 {
        bail!("{verb} event {event}: HTTP {status} {v}");
    }
    Ok(())
}

/// Number of seats of an existing event (public API).
pub async fn seat_count(t: &Target, event: i64) -> anyhow::Result<u32> {
    let (status, v) = net::http(t, "GET", &format!("/api/events/{event}"), None, None).await?;
    if status != 200 {
        bail!("event {event}: HTTP {status} {v}");
    }
    let total = v.pointer("/seats/total").and_then(Value::as_u64);
    Ok(total.with_context(|| format!("event {event} has no seat map"))? as u32)
}

/// Checks that usher answers at all, with a clear message if not.
pub async fn check_up(t: &Target) -> anyhow::Result<()> {
    let (status, _) = net::http(t, "GET", "/healthz", None, None)
        .await
        .with_context(|| format!("no usher answers on {}", t.addr))?;
    if status != 200 {
        bail!("{} answered /healthz with HTTP {status}", t.addr);
    }
    Ok(())
}
