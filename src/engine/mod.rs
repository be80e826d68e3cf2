//! Queue engines: where the waiting-room state lives and where admission is decided.
//!
//! [`QueueEngine`] is the whole contract; `memory` keeps it in one process, `redis` in
//! Redis with Lua scripts so that several usher instances behave as one. The same
//! conformance suite (tests/engine_conformance.rs) runs against both.

pub mod memory;
pub mod redis;
pub mod seats;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::events::{EventId, RoomConfig};
use crate::identity::BuyerId;

/// A buyer's place in an event's waiting room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Joined before the sale opened: in the pre-queue, order drawn at opening.
    Pre,
    /// In line with queue number `seq` (1 = first in line ever).
    Waiting {
        /// Queue number.
        seq: u64,
    },
    /// Let in: holds an entry session until `exp_ms`.
    Admitted(Admission),
    /// Banned from this event by an operator.
    Revoked,
}

/// One admission decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Admission {
    /// Who.
    pub buyer: String,
    /// Their queue number.
    pub seq: u64,
    /// Unique id of the entry token.
    pub jti: String,
    /// When the entry session ends (ms since the epoch).
    pub exp_ms: i64,
}

/// Answer to a join.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// Where the buyer stands now.
    pub place: Place,
    /// True when the buyer already had this place (a refresh, a second tab, a reconnect).
    pub resumed: bool,
}

/// Counters of one event's room, read in one round trip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomSnapshot {
    /// The pre-queue has been drawn and the line is open.
    pub opened: bool,
    /// Highest queue number admitted or passed over.
    pub head: u64,
    /// Buyers waiting in line.
    pub waiting: u64,
    /// Buyers in the pre-queue.
    pub pre: u64,
    /// Admitted buyers whose session has not ended.
    pub active: u64,
    /// Buyers admitted since the sale opened.
    pub admitted_total: u64,
    /// Changes whenever a waiting buyer leaves the line without being admitted.
    pub departed_version: u64,
    /// Admission paused.
    pub paused: bool,
    /// No seat left: admission stopped.
    pub sold_out: bool,
    /// Configured rate (buyers per second).
    pub rate: f64,
    /// Configured cap.
    pub max_active: u64,
    /// Sale opening time.
    pub opens_at_ms: i64,
}

/// What one admission step did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Buyers let in, in queue order.
    pub admitted: Vec<Admission>,
    /// Queue numbers of waiting buyers dropped after their grace period.
    pub dropped: Vec<u64>,
    /// Admitted buyers whose session expired.
    pub expired: u64,
}

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
    /// Seats changed: (seat, 'f' free | 'h' held | 's' sold).
    #[serde(rename = "seat")]
    Seats {
        /// Event.
        e: EventId,
        /// Changes.
        c: Vec<(u32, char)>,
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

/// Engine failures (Redis unreachable, a script error). Clients see a generic message.
pub type EngineResult<T> = anyhow::Result<T>;

/// The waiting-room state of every event, and the atomic admission decision.
#[async_trait]
pub trait QueueEngine: Send + Sync + 'static {
    /// Stores the room settings of an event (rate, cap, pause, times).
    async fn configure(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()>;

    /// Stores the settings only if the engine has none for this event yet (a fresh Redis).
    async fn ensure_configured(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()>;

    /// Gives `buyer` a place, or returns the place they already have.
    async fn join(
        &self,
        event: EventId,
        buyer: BuyerId,
        now_ms: i64,
        seed: u64,
    ) -> EngineResult<Joined>;

    /// Marks connected buyers present (their grace period restarts).
    async fn touch(&self, event: EventId, buyers: &[BuyerId], now_ms: i64) -> EngineResult<()>;

    /// The buyer gave up their place: they leave the line at once.
    async fn leave(&self, event: EventId, buyer: BuyerId) -> EngineResult<()>;

    /// One admission step: draws the pre-queue once the sale opens, drops buyers gone past
    /// their grace period, ends expired sessions, and admits at the configured rate while
    /// under the cap. Atomic, so any number of instances may call it.
    async fn tick(&self, event: EventId, now_ms: i64, seed: u64) -> EngineResult<TickReport>;

    /// The room's counters.
    async fn snapshot(&self, event: EventId, now_ms: i64) -> EngineResult<RoomSnapshot>;

    /// Queue numbers above `head` of buyers who left the line, ascending.
    async fn departed_above(&self, event: EventId, head: u64) -> EngineResult<Vec<u64>>;

    /// Current places of several buyers (None: no place).
    async fn places(
        &self,
        event: EventId,
        buyers: &[BuyerId],
        now_ms: i64,
    ) -> EngineResult<Vec<Option<Place>>>;

    /// Bans a buyer from the event and frees their place or slot. False if unknown.
    async fn revoke(&self, event: EventId, buyer: BuyerId) -> EngineResult<bool>;

    /// Ends an admitted buyer's session (done buying): frees their active slot.
    async fn finish(&self, event: EventId, buyer: BuyerId) -> EngineResult<()>;

    /// Publishes a message to every instance.
    async fn publish(&self, msg: &BusMessage) -> EngineResult<()>;

    /// Messages from every instance (including this one).
    fn subscribe(&self) -> broadcast::Receiver<BusMessage>;

    /// True when the engine's backing store answers.
    async fn ping(&self) -> bool;

    /// What the backing store keeps on disk (read at start); `None`: not applicable.
    fn persistence(&self) -> Option<self::redis::persistence::Persistence> {
        None
    }
}

/// Token-bucket burst: at most this many seconds' worth of admissions in one step, so
/// admission is smooth (small batches), never a second's worth at once.
pub const BURST_SECONDS: f64 = 0.2;

/// The largest number of buyers one admission step lets in.
pub const MAX_BATCH: u64 = 1000;

/// How many stale entries one step clears at most (keeps each step short).
pub const SWEEP_LIMIT: u64 = 500;

/// The `jti` of the entry token of queue number `seq` in `event`; the salt from the step's
/// random seed keeps ids unique even if the queue numbers start over.
pub fn jti_for(event: EventId, seq: u64, seed: u64) -> String {
    let salt = (seed.wrapping_add(seq.wrapping_mul(2_654_435_761))) % 4_294_967_296;
    format!("{event}-{seq}-{salt:08x}")
}
