//! The waiting-room channel: JSON text frames on `GET /ws/events/{id}/queue`, one message
//! each.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// A message from the buyer's page.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Take a place (or resume one). At most one of `credential` or `user` + `sig`.
    Join {
        /// The resume credential from an earlier `joined`.
        #[serde(default)]
        credential: Option<String>,
        /// The ticket site's user id…
        #[serde(default)]
        user: Option<String>,
        /// …and its HMAC-SHA256 (hex) over `"{event}:{user}"` with the site secret.
        #[serde(default)]
        sig: Option<String>,
    },
    /// Give up the place. (Struct variants, so that unknown fields are refused too.)
    Leave {},
    /// Keepalive; answered with `pong`.
    Ping {},
}

/// Public description of an event, as buyers see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EventInfo {
    /// Event id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// concert, musical, sports, …
    pub kind: String,
    /// Venue.
    pub venue: String,
    /// Event start (ms since the epoch).
    pub starts_at_ms: i64,
    /// Sale opening (ms since the epoch).
    pub sale_opens_at_ms: i64,
}

/// The room as one buyer sees it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RoomState {
    /// Before the sale: in the pre-queue, order drawn at opening.
    PreQueue,
    /// Admission running.
    Open,
    /// Admission paused by the operator.
    Paused,
    /// Nothing left to sell.
    SoldOut,
    /// The line is briefly unavailable (the queue store does not answer). The buyer keeps
    /// their place; `position` is the last one known.
    Unavailable,
    /// The organiser ended the sale for good: nobody more is let in. `message` says so in
    /// words, and the socket closes with 4506 right after.
    Ended,
}

/// A message to the buyer's page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `join`: who the buyer is and how to come back.
    Joined {
        /// The event.
        event: EventInfo,
        /// The buyer's id in usher.
        buyer: String,
        /// Keep it: joining again with it returns the same place.
        credential: String,
        /// True when this was an existing place (refresh, second tab, reconnect).
        resumed: bool,
        /// How long the place is kept after the buyer's last socket closes (the event's
        /// grace period), so that a page can say honestly while disconnected whether the
        /// place can still be held. Absent from servers that predate it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grace_secs: Option<u64>,
    },
    /// Where the buyer stands; sent on every change and at least every update interval.
    Status {
        /// The room's state.
        state: RoomState,
        /// 1-based place in line (None in the pre-queue).
        position: Option<u64>,
        /// People ahead still waiting.
        ahead: Option<u64>,
        /// People behind.
        behind: Option<u64>,
        /// Expected wait in seconds, from the measured admission rate (None when unknown
        /// or paused).
        expected_wait_secs: Option<u64>,
        /// The range around `expected_wait_secs` to show ([sooner, later] seconds);
        /// present when it is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_wait_range_secs: Option<[u64; 2]>,
        /// When the buyer can expect to get in (ms since the epoch, server clock); present
        /// when `expected_wait_secs` is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_entry_at_ms: Option<i64>,
        /// Measured admission rate, buyers per second.
        admission_rate: f64,
        /// Buyers in the pre-queue (pre-queue only).
        pre_queue: Option<u64>,
        /// Milliseconds until the sale opens (pre-queue only).
        opens_in_ms: Option<i64>,
        /// Server time (ms since the epoch), for countdowns.
        server_time_ms: i64,
        /// What the state means for the buyer, in words (only when unavailable).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A new credential: replaces the one from `joined` (it now carries the buyer's queue
    /// number, e.g. after the pre-queue draw). Keep the latest.
    Credential {
        /// Keep it: joining again with it returns the same place.
        credential: String,
    },
    /// Let in: the entry token for the seat map, and when it expires.
    Admitted {
        /// Entry token (JWT, EdDSA; verify with /.well-known/jwks.json).
        token: String,
        /// Expiry (ms since the epoch).
        expires_at_ms: i64,
        /// Where to go with it.
        seat_map_url: String,
    },
    /// Answer to `ping`.
    Pong {
        /// Server time (ms since the epoch).
        server_time_ms: i64,
    },
    /// Something was wrong with the last message; nothing changed.
    Error {
        /// Stable machine-readable code.
        code: ErrorCode,
        /// What happened, in words.
        message: String,
    },
}

impl ClientMessage {
    /// Every client message `type`.
    pub const TYPES: &'static [&'static str] = &["join", "leave", "ping"];

    /// This message's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Join { .. } => "join",
            ClientMessage::Leave {} => "leave",
            ClientMessage::Ping {} => "ping",
        }
    }
}

impl ServerMessage {
    /// Every server message `type`.
    pub const TYPES: &'static [&'static str] = &[
        "joined",
        "status",
        "credential",
        "admitted",
        "pong",
        "error",
    ];

    /// This message's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Joined { .. } => "joined",
            ServerMessage::Status { .. } => "status",
            ServerMessage::Credential { .. } => "credential",
            ServerMessage::Admitted { .. } => "admitted",
            ServerMessage::Pong { .. } => "pong",
            ServerMessage::Error { .. } => "error",
        }
    }
}
