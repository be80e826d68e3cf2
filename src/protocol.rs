//! The waiting-room WebSocket protocol: JSON text frames, one message each.
//! docs/protocol.md documents every message, error and close code listed here.

use serde::{Deserialize, Serialize};

use crate::events::Event;

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

impl From<&Event> for EventInfo {
    fn from(e: &Event) -> Self {
        EventInfo {
            id: e.id,
            name: e.name.clone(),
            kind: e.kind.clone(),
            venue: e.venue.clone(),
            starts_at_ms: e.starts_at_ms,
            sale_opens_at_ms: e.sale_opens_at_ms,
        }
    }
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

/// Error codes of `error` messages (the socket stays open).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a known message shape.
    MalformedMessage,
    /// A JSON object with an unknown `type`.
    UnknownType,
    /// A message other than `join` before joining.
    NotJoined,
    /// `join` twice on one socket.
    AlreadyJoined,
    /// Too many messages: this one was ignored.
    RateLimited,
    /// Both a credential and a signed user id were given.
    AmbiguousIdentity,
    /// A server-side failure (the engine or the database); try again.
    Unavailable,
    /// Sent before close 4500.
    UnknownEvent,
    /// Sent before close 4501.
    BadCredential,
    /// Sent before close 4502.
    Revoked,
    /// Sent before close 4503.
    BinaryFrame,
    /// Sent before close 4504.
    MessageTooBig,
    /// Sent before close 4505.
    ProtocolViolation,
    /// Sent before close 4009.
    JoinTimeout,
    /// Sent before close 4000.
    ServerShutdown,
    /// Sent before close 4014: the place was dropped while the socket was open.
    PlaceLost,
}

/// WebSocket close codes. 4000–4499: the client may reconnect (with backoff);
/// 4500–4999: it should not, without changing something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    /// The buyer was admitted (token sent) or left: the socket's work is done.
    Done = 1000,
    /// This server instance is shutting down: reconnect, the place is kept.
    ServerShutdown = 4000,
    /// The client did not read its messages fast enough.
    SlowClient = 4001,
    /// Too many joins from this address, or too many messages: back off and retry.
    RateLimited = 4008,
    /// No `join` within 10 seconds of opening the socket.
    JoinTimeout = 4009,
    /// The engine or the database is unavailable.
    Unavailable = 4013,
    /// The buyer's place was dropped while the socket was open: join again for a new one.
    PlaceLost = 4014,
    /// No such event.
    UnknownEvent = 4500,
    /// The credential or signed user id is invalid, or belongs to another event.
    BadCredential = 4501,
    /// An operator revoked this buyer.
    Revoked = 4502,
    /// Binary frames are not part of the protocol.
    BinaryFrame = 4503,
    /// A frame larger than the server accepts.
    MessageTooBig = 4504,
    /// Too many malformed messages.
    ProtocolViolation = 4505,
    /// Seat map: no `auth` within 10 seconds.
    AuthTimeout = 4010,
    /// Seat map: another live session uses this token; retry once it has closed.
    SessionInUse = 4409,
    /// Seat map: the token is forged or malformed.
    TokenInvalid = 4510,
    /// Seat map: the token has expired: queue again.
    TokenExpired = 4511,
    /// Seat map: the token is for another event.
    ForeignToken = 4512,
    /// Seat map: the entry session is over (booked, ended or expired).
    SessionEnded = 4513,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }
}
