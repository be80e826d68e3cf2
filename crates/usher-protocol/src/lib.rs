//! usher's wire protocol: the serde types of its two WebSocket channels and the codes they
//! share. The server, the load generator (usher-load) and the tests all build on this
//! crate, and docs/protocol.md is checked against it (tests/protocol_contract.rs).
//!
//! - [`queue`]: the waiting room, `GET /ws/events/{id}/queue`.
//! - [`seats`]: the seat map, `GET /ws/events/{id}/seats`, and [`states`], the compact
//!   encoding of every seat's state in its snapshot.
//! - [`codes`]: the `error` codes and the close codes of both channels.

pub mod codes;
pub mod queue;
pub mod seats;
pub mod states;

pub use codes::{CloseCode, ErrorCode};
pub use queue::{ClientMessage, EventInfo, RoomState, ServerMessage};
pub use seats::{SeatChange, SeatClientMessage, SeatInfo, SeatServerMessage, SeatState};

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `type` listed is one the message enum reads (client) or writes (server).
    #[test]
    fn the_type_lists_match_the_messages() {
        for t in ClientMessage::TYPES {
            let m: ClientMessage = serde_json::from_str(&format!(r#"{{"type":"{t}"}}"#))
                .unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(m.kind(), *t);
        }
        for t in SeatClientMessage::TYPES {
            let json = match *t {
                "auth" => r#"{"type":"auth","token":"x"}"#.to_string(),
                "hold" | "release" => format!(r#"{{"type":"{t}","seats":[1]}}"#),
                "best" => r#"{"type":"best","count":2}"#.to_string(),
                _ => format!(r#"{{"type":"{t}"}}"#),
            };
            let m: SeatClientMessage =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_eq!(m.kind(), *t);
        }
        let error = ServerMessage::Error {
            code: ErrorCode::Unavailable,
            message: "x".into(),
        };
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["type"], error.kind());
        assert!(ServerMessage::TYPES.contains(&error.kind()));
        let pong = SeatServerMessage::Pong { server_time_ms: 1 };
        let json = serde_json::to_value(&pong).unwrap();
        assert_eq!(json["type"], pong.kind());
        assert!(SeatServerMessage::TYPES.contains(&pong.kind()));
    }
}
