//! Events (a concert, a musical, a game) and the settings of their waiting rooms.

pub mod layout;

use serde::{Deserialize, Serialize};

/// Database id of an event. Also the only event-specific part of its Redis keys.
pub type EventId = i64;

/// An event and its waiting room, as stored in the database.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct Event {
    /// Database id.
    pub id: EventId,
    /// "The Midnight Orchestra".
    pub name: String,
    /// concert, musical, sports, …
    pub kind: String,
    /// Where it takes place.
    pub venue: String,
    /// When the event starts (ms since the epoch).
    pub starts_at_ms: i64,
    /// When the sale opens (ms since the epoch); buyers before it join the pre-queue.
    pub sale_opens_at_ms: i64,
    /// Buyers admitted per second (fractions allowed).
    pub admission_rate: f64,
    /// Most buyers admitted and not yet done at once.
    pub max_active: i64,
    /// How long an entry token (an admitted buyer's session) lasts, in seconds.
    pub session_secs: i64,
    /// How long a disconnected buyer keeps their place, in seconds.
    pub grace_secs: i64,
    /// Admission paused by an operator (1) or running (0).
    pub paused: i64,
    /// How long a seat hold lasts before it expires (the payment deadline), seconds.
    pub hold_secs: i64,
}

impl Event {
    /// The public part of the event, as buyers see it.
    pub fn info(&self) -> usher_protocol::EventInfo {
        usher_protocol::EventInfo {
            id: self.id,
            name: self.name.clone(),
            kind: self.kind.clone(),
            venue: self.venue.clone(),
            starts_at_ms: self.starts_at_ms,
            sale_opens_at_ms: self.sale_opens_at_ms,
        }
    }

    /// The part of the event the queue engine needs.
    pub fn room_config(&self) -> RoomConfig {
        RoomConfig {
            rate: self.admission_rate,
            max_active: self.max_active,
            session_ms: self.session_secs * 1000,
            grace_ms: self.grace_secs * 1000,
            opens_at_ms: self.sale_opens_at_ms,
            paused: self.paused != 0,
        }
    }
}

/// What the admission scheduler and the queue need to know about an event.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RoomConfig {
    /// Buyers admitted per second.
    pub rate: f64,
    /// Most active buyers at once.
    pub max_active: i64,
    /// Entry session length.
    pub session_ms: i64,
    /// Grace period of a disconnected buyer.
    pub grace_ms: i64,
    /// Sale opening time.
    pub opens_at_ms: i64,
    /// Admission paused.
    pub paused: bool,
}

/// A new event, as the admin API accepts it. Times are RFC 3339 strings or epoch ms.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Name shown to buyers.
    pub name: String,
    /// concert, musical, sports, …
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Venue shown to buyers.
    #[serde(default)]
    pub venue: String,
    /// Event start (ms since the epoch).
    pub starts_at_ms: i64,
    /// Sale opening (ms since the epoch); default: now.
    #[serde(default)]
    pub sale_opens_at_ms: Option<i64>,
    /// Buyers per second; default 10.
    #[serde(default = "default_rate")]
    pub admission_rate: f64,
    /// Active buyers cap; default 500.
    #[serde(default = "default_max_active")]
    pub max_active: i64,
    /// Entry session length in seconds; default 600.
    #[serde(default = "default_session")]
    pub session_secs: i64,
    /// Grace period in seconds; default 60.
    #[serde(default = "default_grace")]
    pub grace_secs: i64,
    /// Seat hold (payment deadline) in seconds; default 300.
    #[serde(default = "default_hold")]
    pub hold_secs: i64,
    /// The seat map, from a compact layout.
    #[serde(default)]
    pub seat_map: Option<layout::SeatMapSpec>,
}

fn default_kind() -> String {
    "concert".into()
}
fn default_rate() -> f64 {
    10.0
}
fn default_max_active() -> i64 {
    500
}
fn default_session() -> i64 {
    600
}
fn default_grace() -> i64 {
    60
}
fn default_hold() -> i64 {
    300
}

/// A change to a running sale: any field left out stays as it is.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    /// New admission rate.
    pub admission_rate: Option<f64>,
    /// New active buyers cap.
    pub max_active: Option<i64>,
}

/// Checks the waiting-room numbers shared by creation and patches; names the bad field.
pub fn validate_room(rate: f64, max_active: i64) -> Result<(), String> {
    if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
        return Err("admission_rate must be a number above 0 and at most 100000".into());
    }
    if !(1..=10_000_000).contains(&max_active) {
        return Err("max_active must be between 1 and 10000000".into());
    }
    Ok(())
}

impl NewEvent {
    /// Checks every field; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err("name must be 1 to 200 characters".into());
        }
        if self.kind.len() > 50 || self.venue.len() > 200 {
            return Err("kind (50) or venue (200) is too long".into());
        }
        validate_room(self.admission_rate, self.max_active)?;
        if !(1..=86_400).contains(&self.session_secs) {
            return Err("session_secs must be between 1 and 86400".into());
        }
        if !(0..=86_400).contains(&self.grace_secs) {
            return Err("grace_secs must be between 0 and 86400".into());
        }
        if !(1..=86_400).contains(&self.hold_secs) {
            return Err("hold_secs must be between 1 and 86400".into());
        }
        if self.starts_at_ms <= 0 || self.sale_opens_at_ms.is_some_and(|t| t <= 0) {
            return Err("starts_at_ms and sale_opens_at_ms are milliseconds since 1970".into());
        }
        Ok(())
    }
}
