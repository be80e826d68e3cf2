//! The bus: how every instance hears of every change to an event (an admission step, a
//! departure, a seat held), so that each instance's rooms and seat maps stay live. In one
//! process it is a broadcast channel; on one Redis server, one pub/sub channel per
//! deployment with one subscription per process; on a Redis Cluster, one sharded channel
//! per event, each instance listening to the events it serves ([`Bus::listen`]). The
//! fan-out to sockets is always done in process.
//!
//! Lua scripts publish some of these messages themselves (from inside the atomic step
//! that caused them), through the encoders in `lua/prelude.lua`; a conformance test checks
//! that what they write is what [`BusMessage`] reads.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};
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

    /// Messages from every instance (including this one), about the events this instance
    /// listens to (on most engines, every event).
    fn subscribe(&self) -> broadcast::Receiver<BusMessage>;

    /// Makes sure this instance hears `event`'s messages from now on: a room or a seat map
    /// calls it before its first read of the event. Returns once listening, or once that
    /// failed (the engine then keeps trying and reports a gap when it succeeds). Engines
    /// whose one subscription hears every event do nothing.
    async fn listen(&self, _event: EventId) {}

    /// A counter that moves whenever messages may have been missed (a subscription was
    /// lost and made again): everything this instance shows must resync from the engine.
    /// `None` when the engine reports no gaps this way.
    fn gaps(&self) -> Option<watch::Receiver<u64>> {
        None
    }
}
