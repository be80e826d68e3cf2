//! Events (a concert, a musical, a game) and the settings of their waiting rooms.

pub mod layout;
pub mod text;
pub mod times;

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
    /// When an operator ended the sale for good (ms since the epoch); 0 while it runs.
    pub ended_at_ms: i64,
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
            // An ended sale admits nobody: the engine sees it paused as well, so the
            // admission step needs no rule of its own.
            paused: self.paused != 0 || self.ended(),
            ended: self.ended(),
        }
    }

    /// The sale was ended by an operator (for good).
    pub fn ended(&self) -> bool {
        self.ended_at_ms != 0
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
    /// The sale has ended for good: waiting buyers are told and sent away, and an engine
    /// never forgets it once told (a late, stale configure cannot reopen the sale).
    #[serde(default)]
    pub ended: bool,
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
    /// Event start (ms since the epoch); this or `starts_at`.
    #[serde(default)]
    pub starts_at_ms: Option<i64>,
    /// Event start (RFC 3339); this or `starts_at_ms`.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// Sale opening (ms since the epoch); default: now.
    #[serde(default)]
    pub sale_opens_at_ms: Option<i64>,
    /// Sale opening (RFC 3339); default: now.
    #[serde(default)]
    pub sale_opens_at: Option<String>,
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
    /// The performances (dates), each with its own copy of the seat map; default: one,
    /// at the event's start. Needs a seat map.
    #[serde(default)]
    pub performances: Option<Vec<NewPerformance>>,
}

/// Most performances of one event.
pub const MAX_PERFORMANCES: usize = 50;
/// Most seats of one event across its performances (seats per performance times
/// performances): what one engine keeps and one snapshot covers.
pub const MAX_INVENTORY: u64 = 500_000;

/// Which performance something (an order, a booking) is for, and where that
/// performance's seats start among the event's engine seats: its seat `i` is engine seat
/// `first_seat + i` ([`crate::engine::seats::Inventory`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PerformanceRef {
    /// The performance's index.
    pub index: u32,
    /// Its first engine seat.
    pub first_seat: u32,
}

impl PerformanceRef {
    /// The performance's own id of one of its engine seats.
    pub fn local(&self, seat: u32) -> u32 {
        seat.saturating_sub(self.first_seat)
    }
}

/// A performance of a new event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerformance {
    /// Start (ms since the epoch); this or `starts_at`.
    #[serde(default)]
    pub starts_at_ms: Option<i64>,
    /// Start (RFC 3339); this or `starts_at_ms`.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// A short name shown to buyers ("Matinee"); may be empty.
    #[serde(default)]
    pub label: String,
}

/// One performance (date and time) of an event, with its own seats, sold-out state and
/// orders. `index` counts from 0 in the order the event was created with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Performance {
    /// Its number within the event, from 0.
    pub index: u32,
    /// When it starts (ms since the epoch).
    pub starts_at_ms: i64,
    /// Its short name; may be empty.
    pub label: String,
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

/// A change to an event: any field left out stays as it is. [`Event::patched`] holds the
/// rule of each field. Fields that never change (`id`, `seat_map`) and the flags that have
/// their own routes (`paused`, `ended_at_ms`) are read only to be refused by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventPatch {
    /// New name (1 to 200 characters).
    pub name: Option<String>,
    /// New kind (at most 50 characters).
    pub kind: Option<String>,
    /// New venue (at most 200 characters).
    pub venue: Option<String>,
    /// New start (ms since the epoch), any time.
    pub starts_at_ms: Option<i64>,
    /// New start (RFC 3339), any time.
    pub starts_at: Option<String>,
    /// New sale opening (ms): only while the current one is in the future, and to a
    /// future time.
    pub sale_opens_at_ms: Option<i64>,
    /// New sale opening (RFC 3339), same rule.
    pub sale_opens_at: Option<String>,
    /// New admission rate.
    pub admission_rate: Option<f64>,
    /// New active buyers cap.
    pub max_active: Option<i64>,
    /// New hold length (new holds only).
    pub hold_secs: Option<i64>,
    /// New entry session length (new admissions only).
    pub session_secs: Option<i64>,
    /// New grace period (buyers who disconnect from now on).
    pub grace_secs: Option<i64>,
    /// Refused: an event's id never changes.
    #[serde(skip_serializing)]
    pub id: Option<serde::de::IgnoredAny>,
    /// Refused: the seat map is fixed when the event is created.
    #[serde(skip_serializing)]
    pub seat_map: Option<serde::de::IgnoredAny>,
    /// Refused: pause and resume have their own routes.
    #[serde(skip_serializing)]
    pub paused: Option<serde::de::IgnoredAny>,
    /// Refused: ending a sale has its own route.
    #[serde(skip_serializing)]
    pub ended_at_ms: Option<serde::de::IgnoredAny>,
}

/// The times of a new event, checked: the start, the opening if given, and the
/// performances' starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTimes {
    /// Event start (ms).
    pub starts_at_ms: i64,
    /// Sale opening (ms); None: now.
    pub sale_opens_at_ms: Option<i64>,
    /// The performances, checked (at least one).
    pub performances: Vec<Performance>,
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

fn check_name(name: &str) -> Result<(), String> {
    text::check_text("name", name)?;
    if name.trim().is_empty() || name.len() > 200 {
        return Err("name must be 1 to 200 characters (not only spaces)".into());
    }
    Ok(())
}

fn check_kind_venue(kind: &str, venue: &str) -> Result<(), String> {
    text::check_text("kind", kind)?;
    text::check_text("venue", venue)?;
    if kind.len() > 50 {
        return Err("kind must be at most 50 characters".into());
    }
    if venue.len() > 200 {
        return Err("venue must be at most 200 characters".into());
    }
    Ok(())
}

fn check_durations(session_secs: i64, grace_secs: i64, hold_secs: i64) -> Result<(), String> {
    if !(1..=86_400).contains(&session_secs) {
        return Err("session_secs must be between 1 and 86400".into());
    }
    if !(0..=86_400).contains(&grace_secs) {
        return Err("grace_secs must be between 0 and 86400".into());
    }
    if !(1..=86_400).contains(&hold_secs) {
        return Err("hold_secs must be between 1 and 86400".into());
    }
    Ok(())
}

impl NewEvent {
    /// Checks every field and returns the times; the error names the field.
    pub fn validate(&self) -> Result<EventTimes, String> {
        check_name(&self.name)?;
        check_kind_venue(&self.kind, &self.venue)?;
        validate_room(self.admission_rate, self.max_active)?;
        check_durations(self.session_secs, self.grace_secs, self.hold_secs)?;
        let starts = times::pick(
            "starts_at_ms",
            self.starts_at_ms,
            "starts_at",
            self.starts_at.as_deref(),
        )?
        .ok_or("starts_at_ms (ms since 1970) or starts_at (RFC 3339) is required")?;
        let opens = times::pick(
            "sale_opens_at_ms",
            self.sale_opens_at_ms,
            "sale_opens_at",
            self.sale_opens_at.as_deref(),
        )?;
        let performances = self.checked_performances(starts)?;
        Ok(EventTimes {
            starts_at_ms: starts,
            sale_opens_at_ms: opens,
            performances,
        })
    }

    /// The performances as given (or one at `starts`), checked.
    fn checked_performances(&self, starts: i64) -> Result<Vec<Performance>, String> {
        let Some(given) = &self.performances else {
            return Ok(vec![Performance {
                index: 0,
                starts_at_ms: starts,
                label: String::new(),
            }]);
        };
        if self.seat_map.is_none() {
            return Err("performances need a seat_map: each performance has its own seats".into());
        }
        if given.is_empty() || given.len() > MAX_PERFORMANCES {
            return Err(format!(
                "performances must list 1 to {MAX_PERFORMANCES} performances"
            ));
        }
        let mut out = Vec::with_capacity(given.len());
        for (i, p) in given.iter().enumerate() {
            let field = format!("performances[{i}]");
            text::check_text(&format!("{field}.label"), &p.label)?;
            if p.label.len() > 100 {
                return Err(format!("{field}.label must be at most 100 characters"));
            }
            let at = times::pick(
                "starts_at_ms",
                p.starts_at_ms,
                "starts_at",
                p.starts_at.as_deref(),
            )
            .map_err(|e| format!("{field}: {e}"))?
            .ok_or(format!(
                "{field}: starts_at_ms (ms since 1970) or starts_at (RFC 3339) is required"
            ))?;
            if out.iter().any(|q: &Performance| q.starts_at_ms == at) {
                return Err(format!("{field}: two performances start at the same time"));
            }
            out.push(Performance {
                index: i as u32,
                starts_at_ms: at,
                label: p.label.clone(),
            });
        }
        Ok(out)
    }
}

impl Event {
    /// This event with a patch applied, or why the patch is refused (the words name the
    /// field and its rule). Pure: `now_ms` decides whether the sale has opened.
    ///
    /// Rules: `name`, `kind`, `venue` as on creation; `starts_at` any time; the sale
    /// opening only while the current one is still in the future, and only to a future
    /// time (moving the opening of a sale that has opened would reorder a drawn
    /// pre-queue); `admission_rate`, `max_active`, `hold_secs`, `session_secs`,
    /// `grace_secs` as on creation (the durations apply to holds, sessions and grace
    /// periods that start after the change).
    pub fn patched(&self, p: &EventPatch, now_ms: i64) -> Result<Event, String> {
        if p.id.is_some() {
            return Err("id cannot change".into());
        }
        if p.seat_map.is_some() {
            return Err("seat_map cannot change: it is fixed when the event is created".into());
        }
        if p.paused.is_some() {
            return Err("paused cannot be patched: POST /pause or /resume".into());
        }
        if p.ended_at_ms.is_some() {
            return Err("ended_at_ms cannot be patched: POST /end ends the sale".into());
        }
        let mut e = self.clone();
        if let Some(name) = &p.name {
            check_name(name)?;
            e.name = name.clone();
        }
        e.kind = p.kind.clone().unwrap_or(e.kind);
        e.venue = p.venue.clone().unwrap_or(e.venue);
        check_kind_venue(&e.kind, &e.venue)?;
        let starts = times::pick(
            "starts_at_ms",
            p.starts_at_ms,
            "starts_at",
            p.starts_at.as_deref(),
        )?;
        e.starts_at_ms = starts.unwrap_or(e.starts_at_ms);
        let opens = times::pick(
            "sale_opens_at_ms",
            p.sale_opens_at_ms,
            "sale_opens_at",
            p.sale_opens_at.as_deref(),
        )?;
        if let Some(opens) = opens.filter(|o| *o != self.sale_opens_at_ms) {
            if self.sale_opens_at_ms <= now_ms {
                return Err(format!(
                    "sale_opens_at cannot change: the sale opened at {} (moving it would \
                     reorder the drawn pre-queue)",
                    times::format(self.sale_opens_at_ms)
                ));
            }
            if opens <= now_ms {
                return Err(format!(
                    "sale_opens_at must be in the future (now is {}): the sale has not \
                     opened yet, so it cannot open in the past",
                    times::format(now_ms)
                ));
            }
            e.sale_opens_at_ms = opens;
        }
        e.admission_rate = p.admission_rate.unwrap_or(e.admission_rate);
        e.max_active = p.max_active.unwrap_or(e.max_active);
        validate_room(e.admission_rate, e.max_active)?;
        e.session_secs = p.session_secs.unwrap_or(e.session_secs);
        e.grace_secs = p.grace_secs.unwrap_or(e.grace_secs);
        e.hold_secs = p.hold_secs.unwrap_or(e.hold_secs);
        check_durations(e.session_secs, e.grace_secs, e.hold_secs)?;
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_900_000_000_000;

    fn event(opens: i64) -> Event {
        Event {
            id: 1,
            name: "A".into(),
            kind: "concert".into(),
            venue: "Hall".into(),
            starts_at_ms: NOW + 86_400_000,
            sale_opens_at_ms: opens,
            admission_rate: 10.0,
            max_active: 500,
            session_secs: 600,
            grace_secs: 60,
            paused: 0,
            hold_secs: 300,
            ended_at_ms: 0,
        }
    }

    fn patch(json: &str) -> EventPatch {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn each_field_changes_by_its_rule() {
        let e = event(NOW + 60_000);
        let p = patch(
            r#"{"name":"B","kind":"musical","venue":"Arena","starts_at":"2030-05-01T20:00:00Z",
                "sale_opens_at_ms":1900000120000,"admission_rate":2.5,"max_active":7,
                "hold_secs":30,"session_secs":40,"grace_secs":0}"#,
        );
        let got = e.patched(&p, NOW).unwrap();
        assert_eq!((got.name.as_str(), got.kind.as_str()), ("B", "musical"));
        assert_eq!(got.venue, "Arena");
        assert_eq!(got.starts_at_ms, 1_903_896_000_000);
        assert_eq!(got.sale_opens_at_ms, NOW + 120_000);
        assert_eq!((got.admission_rate, got.max_active), (2.5, 7));
        assert_eq!(
            (got.hold_secs, got.session_secs, got.grace_secs),
            (30, 40, 0)
        );
        assert_eq!(e.patched(&patch("{}"), NOW).unwrap(), e, "an empty patch");
    }

    #[test]
    fn the_opening_moves_only_from_the_future_to_the_future() {
        let future = event(NOW + 60_000);
        let opened = event(NOW - 60_000);
        let later = patch(r#"{"sale_opens_at_ms":1900000600000}"#);
        assert!(future.patched(&later, NOW).is_ok());
        let e = opened.patched(&later, NOW).unwrap_err();
        assert!(e.contains("sale_opens_at cannot change"), "{e}");
        let past = patch(r#"{"sale_opens_at_ms":1899999999000}"#);
        let e = future.patched(&past, NOW).unwrap_err();
        assert!(e.contains("sale_opens_at must be in the future"), "{e}");
        // The same time again is no move, even once opened.
        let same = patch(&format!(r#"{{"sale_opens_at_ms":{}}}"#, NOW - 60_000));
        assert!(opened.patched(&same, NOW).is_ok());
        // The starting time may move anywhere, even after the opening.
        let start = patch(r#"{"starts_at_ms":5}"#);
        assert_eq!(opened.patched(&start, NOW).unwrap().starts_at_ms, 5);
    }

    #[test]
    fn fixed_fields_and_bad_values_are_refused_by_name() {
        let e = event(NOW + 60_000);
        for (json, field) in [
            (r#"{"id":2}"#, "id"),
            (r#"{"seat_map":{}}"#, "seat_map"),
            (r#"{"paused":1}"#, "paused"),
            (r#"{"ended_at_ms":1}"#, "ended_at_ms"),
            (r#"{"name":" "}"#, "name"),
            (r#"{"kind":"a"}"#, ""),
            (r#"{"admission_rate":0}"#, "admission_rate"),
            (r#"{"max_active":0}"#, "max_active"),
            (r#"{"hold_secs":0}"#, "hold_secs"),
            (r#"{"session_secs":86401}"#, "session_secs"),
            (r#"{"grace_secs":-1}"#, "grace_secs"),
            (r#"{"starts_at_ms":0}"#, "starts_at_ms"),
            (r#"{"starts_at":"soon"}"#, "starts_at"),
            (
                r#"{"sale_opens_at_ms":1900000120000,"sale_opens_at":"2030-05-01T20:00:00Z"}"#,
                "disagree",
            ),
        ] {
            let got = e.patched(&patch(json), NOW);
            if field.is_empty() {
                assert!(got.is_ok(), "{json}");
                continue;
            }
            let err = got.unwrap_err();
            assert!(err.contains(field), "{json}: {err}");
        }
        let long = format!(r#"{{"venue":"{}"}}"#, "v".repeat(201));
        assert!(e.patched(&patch(&long), NOW).unwrap_err().contains("venue"));
    }
}
