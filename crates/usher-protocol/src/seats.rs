//! The seat-map channel: JSON text frames on `GET /ws/events/{id}/seats`.

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// A message from the seat-map page.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeatClientMessage {
    /// First message: the entry token from the waiting room.
    Auth {
        /// The JWT from `admitted`.
        token: String,
        /// The performance to open: its `index` in the event's `performances` (default
        /// 0, the first). Another performance is another socket.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        performance: Option<u32>,
    },
    /// Hold 1 to 4 seats, all or nothing.
    Hold {
        /// Seat ids from the snapshot.
        seats: Vec<u32>,
    },
    /// Give held seats back.
    Release {
        /// Seat ids the buyer holds.
        seats: Vec<u32>,
    },
    /// "Best available": the server picks `count` adjacent free seats in one row, nearest
    /// the stage, of `grade` if given, leaving no single seat alone, and holds them.
    Best {
        /// 1 to 4 seats.
        count: u32,
        /// Only this grade (as the layout's prices name it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<String>,
    },
    /// Confirm (pay for) every seat the buyer holds.
    Book {},
    /// Keepalive; answered with `pong`.
    Ping {},
}

/// A seat as drawn on the map.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeatInfo {
    /// Seat id within the event.
    pub id: u32,
    /// Section name.
    pub section: String,
    /// Row label.
    pub row: String,
    /// Seat number in the row.
    pub number: u32,
    /// Grade (VIP, R, S, A, …).
    pub grade: String,
}

/// A seat's state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SeatState {
    /// Can be held.
    Free,
    /// Held by someone (maybe you: see `mine`).
    Held,
    /// Sold.
    Sold,
}

/// One seat's change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeatChange {
    /// Seat id.
    pub seat: u32,
    /// New state.
    pub state: SeatState,
}

/// A message to the seat-map page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeatServerMessage {
    /// After `auth` (and again if this socket fell behind): every seat's state, compactly.
    /// The layout (sections, rows, numbers, grades) comes once over HTTP from `layout_url`.
    Snapshot {
        /// Event id.
        event: i64,
        /// The performance this socket shows (its index); seat ids are this performance's.
        #[serde(default)]
        performance: u32,
        /// Where the layout is: `/api/events/{id}/seats/layout?v={version}`.
        layout_url: String,
        /// The layout's ETag, to check a cached copy.
        layout_etag: String,
        /// How many seats; ids run from 0 to `seat_count - 1`.
        seat_count: u32,
        /// Every seat's state, 2 bits per seat, base64 ([`crate::states`]).
        states: String,
        /// Your holds (held in `states` too).
        mine: Vec<u32>,
        /// When your holds expire (ms since the epoch), if you hold any.
        hold_expires_at_ms: Option<i64>,
        /// When your entry session ends (ms since the epoch).
        session_expires_at_ms: i64,
        /// Most seats one buyer may hold or buy.
        max_seats: u32,
        /// Seats of this performance you have bought already (in any earlier session):
        /// they count against `max_seats` with your holds.
        #[serde(default)]
        bought: u32,
        /// How long a hold lasts, seconds.
        hold_secs: i64,
        /// Server time (ms since the epoch).
        server_time_ms: i64,
    },
    /// Changes made by anyone, as they happen.
    Seats {
        /// The changed seats.
        changes: Vec<SeatChange>,
    },
    /// Your hold succeeded.
    Held {
        /// The seats now yours.
        seats: Vec<u32>,
        /// When these seats' hold expires (ms since the epoch).
        expires_at_ms: i64,
    },
    /// Your release succeeded.
    Released {
        /// The seats given back.
        seats: Vec<u32>,
    },
    /// Your holds expired before you booked.
    Expired {
        /// The seats that went back.
        seats: Vec<u32>,
    },
    /// Your booking is confirmed; the session ends.
    Booked {
        /// Booking id.
        booking: i64,
        /// Seats bought.
        seats: Vec<u32>,
        /// Total price (minor units).
        total: i64,
    },
    /// Your `book` made an order awaiting payment (when the ticket site takes payment):
    /// go to `payment_url` and pay before `expires_at_ms`; the seats stay yours until then.
    Checkout {
        /// Order id.
        order: i64,
        /// The ticket site's payment page for this order.
        payment_url: String,
        /// The seats of the order.
        seats: Vec<u32>,
        /// Total price (minor units).
        total: i64,
        /// Payment must be confirmed before this (ms since the epoch), else the order
        /// expires and the seats go back on sale.
        expires_at_ms: i64,
    },
    /// Answer to `ping`.
    Pong {
        /// Server time (ms since the epoch).
        server_time_ms: i64,
    },
    /// The last request was refused; nothing changed.
    Error {
        /// Stable code.
        code: ErrorCode,
        /// What happened, in words.
        message: String,
    },
}

impl SeatClientMessage {
    /// Every client message `type`.
    pub const TYPES: &'static [&'static str] = &["auth", "hold", "release", "best", "book", "ping"];

    /// This message's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            SeatClientMessage::Auth { .. } => "auth",
            SeatClientMessage::Hold { .. } => "hold",
            SeatClientMessage::Release { .. } => "release",
            SeatClientMessage::Best { .. } => "best",
            SeatClientMessage::Book {} => "book",
            SeatClientMessage::Ping {} => "ping",
        }
    }
}

impl SeatServerMessage {
    /// Every server message `type`.
    pub const TYPES: &'static [&'static str] = &[
        "snapshot", "seats", "held", "released", "expired", "booked", "checkout", "pong", "error",
    ];

    /// This message's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            SeatServerMessage::Snapshot { .. } => "snapshot",
            SeatServerMessage::Seats { .. } => "seats",
            SeatServerMessage::Held { .. } => "held",
            SeatServerMessage::Released { .. } => "released",
            SeatServerMessage::Expired { .. } => "expired",
            SeatServerMessage::Booked { .. } => "booked",
            SeatServerMessage::Checkout { .. } => "checkout",
            SeatServerMessage::Pong { .. } => "pong",
            SeatServerMessage::Error { .. } => "error",
        }
    }
}
