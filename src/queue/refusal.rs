//! Everything the waiting-room socket refuses, each with its `error` code, its words and,
//! when the socket ends, its close code (docs/protocol.md lists them all).

use std::borrow::Cow;

use usher_protocol::{CloseCode, ErrorCode};

use crate::identity::IdentityError;
use crate::socket::refusal::Refuse;

/// A refusal on the waiting-room socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No `join` within 10 seconds of opening the socket.
    JoinTimeout,
    /// This instance is stopping; `in_line`: the buyer has a place to come back to.
    ServerShutdown {
        /// The buyer joined already.
        in_line: bool,
    },
    /// A message other than `join` before joining.
    NotJoined,
    /// `join` twice on one socket.
    AlreadyJoined,
    /// No such event.
    UnknownEvent,
    /// Too many joins from this address.
    TooManyJoins,
    /// A credential or signed user id that does not check out.
    BadCredential(IdentityError),
    /// A user id without its `sig`.
    MissingSig,
    /// A credential and a user id without its signature.
    BothIdentities,
    /// A credential and a signed user id of different buyers.
    CredentialOfAnother,
    /// The engine or the database failed.
    Unavailable,
    /// The entry token could not be signed.
    TokenFailed,
    /// An operator revoked this buyer.
    Revoked,
    /// The place was dropped while the socket was open.
    PlaceLost,
    /// The organiser ended the sale (or deleted the event): nobody more is let in.
    SaleEnded,
}

impl Refuse for Refusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            Refusal::JoinTimeout => ErrorCode::JoinTimeout,
            Refusal::ServerShutdown { .. } => ErrorCode::ServerShutdown,
            Refusal::NotJoined => ErrorCode::NotJoined,
            Refusal::AlreadyJoined => ErrorCode::AlreadyJoined,
            Refusal::UnknownEvent => ErrorCode::UnknownEvent,
            Refusal::TooManyJoins => ErrorCode::RateLimited,
            Refusal::BadCredential(_) | Refusal::MissingSig => ErrorCode::BadCredential,
            Refusal::BothIdentities | Refusal::CredentialOfAnother => ErrorCode::AmbiguousIdentity,
            Refusal::Unavailable | Refusal::TokenFailed => ErrorCode::Unavailable,
            Refusal::Revoked => ErrorCode::Revoked,
            Refusal::PlaceLost => ErrorCode::PlaceLost,
            Refusal::SaleEnded => ErrorCode::SaleEnded,
        }
    }

    fn words(&self) -> Cow<'_, str> {
        match self {
            Refusal::JoinTimeout => "no join within 10 seconds".into(),
            Refusal::ServerShutdown { in_line: false } => "server restarting; reconnect".into(),
            Refusal::ServerShutdown { in_line: true } => {
                "server restarting; reconnect to keep your place".into()
            }
            Refusal::NotJoined => "send join first".into(),
            Refusal::AlreadyJoined => "already joined on this socket".into(),
            Refusal::UnknownEvent => "no such event".into(),
            Refusal::TooManyJoins => "too many joins from this address; retry shortly".into(),
            Refusal::BadCredential(e) => e.to_string().into(),
            Refusal::MissingSig => "a user id needs its sig".into(),
            Refusal::BothIdentities => {
                "send either a credential or a signed user id, not both".into()
            }
            Refusal::CredentialOfAnother => {
                "the credential belongs to another buyer than the signed user id".into()
            }
            Refusal::Unavailable => "the waiting room is unavailable; retry shortly".into(),
            Refusal::TokenFailed => "could not issue the entry token; reconnect".into(),
            Refusal::Revoked => "revoked by the organiser".into(),
            Refusal::PlaceLost => "your place in line was lost; join again for a new place".into(),
            Refusal::SaleEnded => "the sale has ended; nobody more will be let in".into(),
        }
    }

    fn close_code(&self) -> Option<CloseCode> {
        match self {
            Refusal::JoinTimeout => Some(CloseCode::JoinTimeout),
            Refusal::ServerShutdown { .. } => Some(CloseCode::ServerShutdown),
            Refusal::NotJoined | Refusal::AlreadyJoined => None,
            Refusal::UnknownEvent => Some(CloseCode::UnknownEvent),
            Refusal::TooManyJoins => Some(CloseCode::RateLimited),
            Refusal::BadCredential(_)
            | Refusal::MissingSig
            | Refusal::BothIdentities
            | Refusal::CredentialOfAnother => Some(CloseCode::BadCredential),
            Refusal::Unavailable | Refusal::TokenFailed => Some(CloseCode::Unavailable),
            Refusal::Revoked => Some(CloseCode::Revoked),
            Refusal::PlaceLost => Some(CloseCode::PlaceLost),
            Refusal::SaleEnded => Some(CloseCode::SaleEnded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buyer_may_retry_after_every_refusal_but_a_bad_identity_an_unknown_event_a_ban_or_an_ended_sale()
     {
        let all = [
            Refusal::JoinTimeout,
            Refusal::ServerShutdown { in_line: true },
            Refusal::UnknownEvent,
            Refusal::TooManyJoins,
            Refusal::BadCredential(IdentityError::BadCredential),
            Refusal::MissingSig,
            Refusal::BothIdentities,
            Refusal::CredentialOfAnother,
            Refusal::Unavailable,
            Refusal::TokenFailed,
            Refusal::Revoked,
            Refusal::PlaceLost,
            Refusal::SaleEnded,
        ];
        for r in &all {
            let close = r.close_code().expect("each of these ends the socket");
            let final_ = matches!(
                r,
                Refusal::UnknownEvent
                    | Refusal::BadCredential(_)
                    | Refusal::MissingSig
                    | Refusal::BothIdentities
                    | Refusal::CredentialOfAnother
                    | Refusal::Revoked
                    | Refusal::SaleEnded
            );
            assert_eq!(close.may_retry(), !final_, "{r:?}");
            assert!(!r.words().is_empty());
        }
        assert_eq!(Refusal::NotJoined.close_code(), None);
        assert_eq!(Refusal::AlreadyJoined.close_code(), None);
    }
}
