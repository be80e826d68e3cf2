//! The bus: how every instance hears of every change to an event (an admission step, a
//! departure, a seat held), so that each instance's rooms and seat maps stay live. In one
//! process it is a broadcast channel; on Redis, one pub/sub channel per deployment, with
//! one subscription per process and the fan-out to sockets done in process.
//!
//! Lua scripts publish some of these messages themselves (from inside the atomic step
//! that caused them), through the encoders in `lua/prelude.lua`; a conformance test checks
//! that what they write is what [`BusMessage`] reads.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use usher_protocol::SeatState;

use super::queue::{Admission, EngineResult};
use crate::events::EventId;

/// A message every instance receives about an event (Redis pub/sub or in process).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub enum BusMessage {
    /// Buyers were admitted (and maybe others dropped) by an admission step.
    #[serde(rename = "adm")]
    Admitted {
        /// Event.
        e: EventId,
        /// New head.
        h: u64,
        /// Admissions.
        a: Vec<Admission>,
        /// Dropped queue numbers.
        d: Vec<u64>,
    },
    /// Waiting buyers left the line (explicit leave or revocation).
    #[serde(rename = "dep")]
    Departed {
        /// Event.
        e: EventId,
        /// Their queue numbers.
        d: Vec<u64>,
        /// The buyer who left on purpose (their other tabs close).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        b: Option<String>,
    },
    /// The pre-queue was drawn: pre-queue buyers now have queue numbers.
    #[serde(rename = "open")]
    Opened {
        /// Event.
        e: EventId,
    },
    /// The event or its room settings changed (reload it).
    #[serde(rename = "cfg")]
    Config {
        /// Event.
        e: EventId,
    },
    /// An operator revoked a buyer.
    #[serde(rename = "rev")]
    Revoked {
        /// Event.
        e: EventId,
        /// Buyer id (hex).
        b: String,
    },
    /// Seats changed: (seat, new state).
    #[serde(rename = "seat")]
    Seats {
        /// Event.
        e: EventId,
        /// Changes.
        c: Vec<(u32, SeatState)>,
    },
    /// The event sold out, or seats came back: waiting rooms resync.
    #[serde(rename = "so")]
    SoldOut {
        /// Event.
        e: EventId,
    },
}

impl BusMessage {
    /// The event the message is about.
    pub fn event(&self) -> EventId {
        match self {
            BusMessage::Admitted { e, .. }
            | BusMessage::Departed { e, .. }
            | BusMessage::Opened { e }
            | BusMessage::Config { e }
            | BusMessage::Revoked { e, .. }
            | BusMessage::Seats { e, .. }
            | BusMessage::SoldOut { e } => *e,
        }
    }
}

/// Publishes to and hears from every instance.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes a message to every instance (this one included).
    async fn publish(&self, msg: &BusMessage) -> EngineResult<()>;

    /// Messages from every instance (including this one).
    fn subscribe(&self) -> broadcast::Receiver<BusMessage>;
}
