//! The codes both channels share: `error` message codes and WebSocket close codes. One
//! list each, so a code means the same thing on the waiting-room and the seat-map socket,
//! and docs/protocol.md is checked against these lists (tests/protocol_contract.rs).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines [`ErrorCode`] with its wire names and the list of every code, so the list
/// cannot miss a variant.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, )*) => {
        /// The `code` of an `error` message: stable and machine-readable. The socket stays
        /// open unless a close follows (the codes "sent before close N").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in the order of this file.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as sent on the wire (`snake_case`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $wire, )*
                }
            }

            /// The code for a wire name.
            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s {
                    $( $wire => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

error_codes! {
    /// Not JSON, or not a known message shape.
    MalformedMessage = "malformed_message",
    /// A JSON object with an unknown `type`.
    UnknownType = "unknown_type",
    /// Too many messages: this one was ignored. Also sent before close 4008 (too many
    /// joins from one address).
    RateLimited = "rate_limited",
    /// A server-side failure (the engine or the database); nothing changed; try again.
    Unavailable = "unavailable",
    /// Sent before close 4500: no such event (or, on the seat map, no seat map).
    UnknownEvent = "unknown_event",
    /// Sent before close 4502: an operator revoked this buyer.
    Revoked = "revoked",
    /// Sent before close 4503.
    BinaryFrame = "binary_frame",
    /// Sent before close 4504.
    MessageTooBig = "message_too_big",
    /// Sent before close 4505.
    ProtocolViolation = "protocol_violation",
    /// Sent before close 4000.
    ServerShutdown = "server_shutdown",
    /// Waiting room: a message other than `join` (or `ping`) before joining.
    NotJoined = "not_joined",
    /// Waiting room: `join` twice on one socket.
    AlreadyJoined = "already_joined",
    /// Waiting room: a credential and a signed user id of different buyers, or a credential
    /// and a user id without its signature.
    AmbiguousIdentity = "ambiguous_identity",
    /// Waiting room, sent before close 4501: the credential or signed user id is invalid,
    /// or belongs to another event.
    BadCredential = "bad_credential",
    /// Waiting room, sent before close 4009.
    JoinTimeout = "join_timeout",
    /// Waiting room, sent before close 4014: the place was dropped while the socket was open.
    PlaceLost = "place_lost",
    /// Waiting room, sent before close 4506: the organiser ended the sale (or deleted the
    /// event) for good; nobody more is let in.
    SaleEnded = "sale_ended",
    /// Seat map, sent before close 4500: `auth` named a performance the event does not have.
    UnknownPerformance = "unknown_performance",
    /// Seat map: a seat id that is not in this event's map.
    UnknownSeat = "unknown_seat",
    /// Seat map: `best` found no free seats together (that leave no single seat alone).
    NoSeatsTogether = "no_seats_together",
    /// Seat map: `best` named a grade the map does not have.
    UnknownGrade = "unknown_grade",
    /// Seat map: zero seats, or the same seat twice.
    BadSeatList = "bad_seat_list",
    /// Seat map: more than the per-buyer limit, in one request or across requests.
    TooManySeats = "too_many_seats",
    /// Seat map: a requested seat is already held (by anyone, you included) or sold.
    SeatTaken = "seat_taken",
    /// Seat map: releasing a seat you do not hold.
    NotYourSeat = "not_your_seat",
    /// Seat map: booking with no hold.
    NoHold = "no_hold",
    /// Seat map: your hold expired before the booking went through.
    HoldExpired = "hold_expired",
    /// Seat map: nothing is held and this buyer has already bought (with another token).
    AlreadyBooked = "already_booked",
    /// Seat map: a message before `auth`.
    NotAuthenticated = "not_authenticated",
    /// Seat map: `auth` twice on one socket.
    AlreadyAuthenticated = "already_authenticated",
    /// Seat map: the server could not confirm whether the request went through (a database
    /// answer was lost). For `book`: the seats stay yours while it finds out; send `book`
    /// again.
    OutcomeUnknown = "outcome_unknown",
    /// Seat map, sent before close 4510: forged or malformed token.
    TokenInvalid = "token_invalid",
    /// Seat map, sent before close 4511.
    TokenExpired = "token_expired",
    /// Seat map, sent before close 4512: a token of another event.
    ForeignToken = "foreign_token",
    /// Seat map, sent before close 4513: the session ended (booked, finished or expired).
    SessionEnded = "session_ended",
    /// Seat map, sent before close 4409: another live seat-map session uses this token.
    SessionInUse = "session_in_use",
    /// Seat map, sent before close 4010.
    AuthTimeout = "auth_timeout",
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ErrorCode, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ErrorCode::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code {s:?}")))
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Defines [`CloseCode`] with the list of every code.
macro_rules! close_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )*) => {
        /// WebSocket close codes. 4000–4499: the client may reconnect (with backoff);
        /// 4500–4999: it should not, without changing something.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum CloseCode {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl CloseCode {
            /// Every code, in the order of this file.
            pub const ALL: &'static [CloseCode] = &[$(CloseCode::$variant,)*];

            /// The close code for a number.
            pub fn from_code(code: u16) -> Option<CloseCode> {
                match code {
                    $( $code => Some(CloseCode::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

close_codes! {
    /// The socket's work is done: the buyer was admitted (token sent), left, or booked.
    Done = 1000,
    /// This server instance is shutting down: reconnect, the place is kept.
    ServerShutdown = 4000,
    /// The client did not read its messages for 10 seconds: reconnect, the place is kept.
    /// Best effort: a client that reads nothing may never see it.
    SlowClient = 4001,
    /// Waiting room: too many joins from this address: back off and retry. (Too many
    /// messages is the `rate_limited` error without a close; 20 bad messages close 4505.)
    RateLimited = 4008,
    /// Waiting room: no `join` within 10 seconds of opening the socket.
    JoinTimeout = 4009,
    /// Seat map: no `auth` within 10 seconds.
    AuthTimeout = 4010,
    /// The engine or the database is unavailable: retry with backoff.
    Unavailable = 4013,
    /// Waiting room: the buyer's place was dropped while the socket was open: join again
    /// for a new one.
    PlaceLost = 4014,
    /// Seat map: another live session uses this token; retry once it has closed.
    SessionInUse = 4409,
    /// No such event (or, on the seat map, no seat map).
    UnknownEvent = 4500,
    /// Waiting room: the credential or signed user id is invalid, belongs to another event,
    /// or the two name different buyers (`ambiguous_identity`).
    BadCredential = 4501,
    /// An operator revoked this buyer.
    Revoked = 4502,
    /// Binary frames are not part of the protocol.
    BinaryFrame = 4503,
    /// A frame larger than the server accepts.
    MessageTooBig = 4504,
    /// Too many malformed messages.
    ProtocolViolation = 4505,
    /// Waiting room: the sale has ended for good: do not retry.
    SaleEnded = 4506,
    /// Seat map: the token is forged or malformed.
    TokenInvalid = 4510,
    /// Seat map: the token has expired: queue again.
    TokenExpired = 4511,
    /// Seat map: the token is for another event.
    ForeignToken = 4512,
    /// Seat map: the entry session is over (booked, ended, expired, or replaced by a newer
    /// admission).
    SessionEnded = 4513,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// True when the client may reconnect as it is (4000–4499); false when it should not
    /// without changing something (4500–4999) or when the work is done (1000).
    pub fn may_retry(self) -> bool {
        (4000..4500).contains(&self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_round_trips_through_its_wire_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        assert!(serde_json::from_str::<ErrorCode>("\"no_such_code\"").is_err());
    }

    #[test]
    fn close_codes_are_distinct_and_in_the_documented_ranges() {
        let mut seen = std::collections::BTreeSet::new();
        for c in CloseCode::ALL {
            assert!(seen.insert(c.code()), "{c:?} repeats a code");
            assert_eq!(CloseCode::from_code(c.code()), Some(*c));
            assert!(
                c.code() == 1000 || (4000..5000).contains(&c.code()),
                "{c:?}"
            );
        }
    }
}
