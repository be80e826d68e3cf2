//! Everything the seat-map socket refuses, each with its `error` code, its words and, when
//! the socket ends, its close code (docs/protocol.md lists them all). A refusal of a
//! request (`hold`, `release`, `book`) means nothing changed, except `OutcomeUnknown`,
//! which says the server cannot tell yet.

use std::borrow::Cow;

use usher_protocol::{CloseCode, ErrorCode};

use super::MAX_SEATS_PER_BUYER;
use crate::engine::seats::SeatRefusal;
use crate::socket::refusal::Refuse;
use crate::token::TokenError;

/// A refusal on the seat-map socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `auth` within 10 seconds.
    AuthTimeout,
    /// This instance is stopping: reconnect.
    ServerShutdown,
    /// A message other than `auth` (or `ping`) before it.
    NotAuthenticated,
    /// `auth` twice.
    AlreadyAuthenticated,
    /// No such event.
    UnknownEvent,
    /// The event has no seat map.
    NoSeatMap,
    /// `auth` named a performance the event does not have.
    UnknownPerformance,
    /// The entry token does not check out.
    Token(TokenError),
    /// The token's subject is not a buyer id.
    BadSubject,
    /// Another live session uses this token.
    SessionInUse,
    /// The buyer's entry session is over (booked, ended, expired, re-admitted).
    SessionOver,
    /// The entry session's time ran out while the socket was open.
    SessionEnded,
    /// An operator revoked this buyer.
    Revoked,
    /// The seat map cannot serve this socket (the engine or the database failed): closes.
    Unavailable,
    /// A request failed on the server side; nothing changed; the socket stays open.
    TryAgain,
    /// Zero seats, or the same seat twice.
    BadSeatList,
    /// More seats in one request than one buyer may have.
    TooManyInRequest,
    /// The engine refused the request; nothing changed.
    Engine(SeatRefusal),
    /// A booking whose database answer was lost: the seats stay the buyer's while a retry
    /// of `book` finds out.
    OutcomeUnknown,
    /// A hold that could neither be recorded nor undone: reconnecting shows what is held.
    HoldUnknown,
    /// The database has a seat of the booking sold already (the engine had missed it).
    SeatSold,
    /// "Best available" found no `count` free seats together (in `grade`, when named)
    /// that leave no single seat alone.
    NoSeatsTogether {
        /// Seats asked for.
        count: u32,
        /// The grade asked for, if any.
        grade: Option<String>,
    },
    /// "Best available" named a grade the map does not have.
    UnknownGrade,
}

impl Refuse for Refusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            Refusal::AuthTimeout => ErrorCode::AuthTimeout,
            Refusal::ServerShutdown => ErrorCode::ServerShutdown,
            Refusal::NotAuthenticated => ErrorCode::NotAuthenticated,
            Refusal::AlreadyAuthenticated => ErrorCode::AlreadyAuthenticated,
            Refusal::UnknownEvent | Refusal::NoSeatMap => ErrorCode::UnknownEvent,
            Refusal::UnknownPerformance => ErrorCode::UnknownPerformance,
            Refusal::Token(TokenError::Invalid) | Refusal::BadSubject => ErrorCode::TokenInvalid,
            Refusal::Token(TokenError::Expired) => ErrorCode::TokenExpired,
            Refusal::Token(TokenError::ForeignEvent) => ErrorCode::ForeignToken,
            Refusal::SessionInUse => ErrorCode::SessionInUse,
            Refusal::SessionOver | Refusal::SessionEnded => ErrorCode::SessionEnded,
            Refusal::Revoked => ErrorCode::Revoked,
            Refusal::Unavailable | Refusal::TryAgain => ErrorCode::Unavailable,
            Refusal::BadSeatList => ErrorCode::BadSeatList,
            Refusal::TooManyInRequest => ErrorCode::TooManySeats,
            Refusal::Engine(r) => match r {
                SeatRefusal::UnknownSeat(_) => ErrorCode::UnknownSeat,
                SeatRefusal::TooManySeats(_) => ErrorCode::TooManySeats,
                SeatRefusal::SeatTaken(_) => ErrorCode::SeatTaken,
                SeatRefusal::NotYourSeat(_) => ErrorCode::NotYourSeat,
                SeatRefusal::NoHold => ErrorCode::NoHold,
                SeatRefusal::HoldExpired => ErrorCode::HoldExpired,
                SeatRefusal::AlreadyBooked => ErrorCode::AlreadyBooked,
                SeatRefusal::NotReady => ErrorCode::Unavailable,
                SeatRefusal::NoBlock => ErrorCode::NoSeatsTogether,
            },
            Refusal::NoSeatsTogether { .. } => ErrorCode::NoSeatsTogether,
            Refusal::UnknownGrade => ErrorCode::UnknownGrade,
            Refusal::OutcomeUnknown | Refusal::HoldUnknown => ErrorCode::OutcomeUnknown,
            Refusal::SeatSold => ErrorCode::SeatTaken,
        }
    }

    fn words(&self) -> Cow<'_, str> {
        match self {
            Refusal::AuthTimeout => "no auth within 10 seconds".into(),
            Refusal::ServerShutdown => "server restarting; reconnect".into(),
            Refusal::NotAuthenticated => "send auth with your entry token first".into(),
            Refusal::AlreadyAuthenticated => "already authenticated".into(),
            Refusal::UnknownEvent => "no such event".into(),
            Refusal::NoSeatMap => "this event has no seat map".into(),
            Refusal::UnknownPerformance => "this event has no such performance".into(),
            Refusal::Token(e) => e.to_string().into(),
            Refusal::BadSubject => "bad token subject".into(),
            Refusal::SessionInUse => {
                "this entry token is in use in another live seat-map session".into()
            }
            Refusal::SessionOver => "your entry session is over".into(),
            Refusal::SessionEnded => "your entry session has ended".into(),
            Refusal::Revoked => "revoked by the organiser".into(),
            Refusal::Unavailable => "the seat map is unavailable; retry".into(),
            Refusal::TryAgain => "the seat map is unavailable; try again".into(),
            Refusal::BadSeatList => "give 1 to 4 different seats".into(),
            Refusal::TooManyInRequest => {
                format!("at most {MAX_SEATS_PER_BUYER} seats per buyer").into()
            }
            Refusal::Engine(r) => r.to_string().into(),
            Refusal::OutcomeUnknown => "we could not confirm whether your booking went through; \
                 send book again to find out"
                .into(),
            Refusal::HoldUnknown => "we could not confirm whether your hold went through; \
                 reconnect to see the seats you hold"
                .into(),
            Refusal::SeatSold => "a seat was already sold".into(),
            Refusal::NoSeatsTogether { count, grade } => {
                let grade = grade
                    .as_deref()
                    .map(|g| format!(" in grade {g}"))
                    .unwrap_or_default();
                format!(
                    "no {count} seats together are free{grade} without leaving a single seat \
                     alone; choose seats on the map, or fewer"
                )
                .into()
            }
            Refusal::UnknownGrade => "this seat map has no such grade".into(),
        }
    }

    fn close_code(&self) -> Option<CloseCode> {
        match self {
            Refusal::AuthTimeout => Some(CloseCode::AuthTimeout),
            Refusal::ServerShutdown => Some(CloseCode::ServerShutdown),
            Refusal::UnknownEvent | Refusal::NoSeatMap | Refusal::UnknownPerformance => {
                Some(CloseCode::UnknownEvent)
            }
            Refusal::Token(TokenError::Invalid) | Refusal::BadSubject => {
                Some(CloseCode::TokenInvalid)
            }
            Refusal::Token(TokenError::Expired) => Some(CloseCode::TokenExpired),
            Refusal::Token(TokenError::ForeignEvent) => Some(CloseCode::ForeignToken),
            Refusal::SessionInUse => Some(CloseCode::SessionInUse),
            Refusal::SessionOver | Refusal::SessionEnded => Some(CloseCode::SessionEnded),
            Refusal::Revoked => Some(CloseCode::Revoked),
            Refusal::Unavailable => Some(CloseCode::Unavailable),
            Refusal::NotAuthenticated
            | Refusal::AlreadyAuthenticated
            | Refusal::TryAgain
            | Refusal::BadSeatList
            | Refusal::TooManyInRequest
            | Refusal::Engine(_)
            | Refusal::OutcomeUnknown
            | Refusal::HoldUnknown
            | Refusal::SeatSold
            | Refusal::NoSeatsTogether { .. }
            | Refusal::UnknownGrade => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_request_keeps_the_socket_open_and_names_the_seat() {
        let r = Refusal::Engine(SeatRefusal::SeatTaken(130));
        assert_eq!(r.close_code(), None);
        assert_eq!(r.error_code(), ErrorCode::SeatTaken);
        assert!(r.words().contains("130"));
        assert_eq!(Refusal::OutcomeUnknown.close_code(), None);
        assert_eq!(Refusal::TryAgain.close_code(), None);
    }

    #[test]
    fn each_token_failure_closes_with_its_own_code_and_none_may_retry_as_is() {
        for (e, close) in [
            (TokenError::Invalid, CloseCode::TokenInvalid),
            (TokenError::Expired, CloseCode::TokenExpired),
            (TokenError::ForeignEvent, CloseCode::ForeignToken),
        ] {
            let r = Refusal::Token(e);
            assert_eq!(r.close_code(), Some(close));
            assert!(!close.may_retry());
        }
        assert_eq!(
            Refusal::SessionInUse.close_code().map(|c| c.may_retry()),
            Some(true)
        );
    }
}
