//! The queue half of an engine: places in line, presence, the atomic admission step,
//! and the counters that survive a store loss. [`QueueEngine`] is the contract; the
//! conformance suite (tests/conformance/queue.rs) runs it against every engine.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

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
    /// Who (32 hex digits on the bus).
    pub buyer: BuyerId,
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
    /// True when the buyer already had this place (a refresh, a second tab, a reconnect,
    /// or a number brought back after the store lost it).
    pub resumed: bool,
    /// Buyers in the pre-queue right after this join (0 once the line is open).
    pub pre: u64,
}

/// Why the engine could not answer a join yet; the caller fixes it and asks again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefusal {
    /// The engine has no settings for the event (a new event, or a store that lost its
    /// data): configure it from the database first.
    #[error("the engine has no settings for this event")]
    Unconfigured,
    /// Every queue number reserved in the database is taken (or the store lost its
    /// counters): reserve more first, so a number is never handed out twice.
    #[error("no queue number reserved")]
    OutOfNumbers,
}

/// One buyer connected to (or just gone from) this instance, as the heartbeat reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    /// Who.
    pub buyer: BuyerId,
    /// Their queue number as this instance knows it (None in the pre-queue). When the
    /// store has lost the buyer, the place is put back from it.
    pub seq: Option<u64>,
}

/// The counters that let an engine that lost its data carry on without handing out a
/// queue number twice: checkpointed in the database, and given back with [`QueueEngine::reserve`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Last queue number handed out.
    pub seq: u64,
    /// Queue numbers up to this one may be handed out (0: nothing reserved, or lost).
    pub seq_limit: u64,
    /// Highest queue number admitted or passed over.
    pub head: u64,
    /// Buyers admitted since the sale opened.
    pub admitted_total: u64,
    /// The pre-queue has been drawn.
    pub opened: bool,
    /// Per-event salt of entry token ids, so that a buyer admitted again after a store
    /// loss gets the same `jti`.
    pub salt: u32,
    /// Buyers in the pre-queue (each needs a number at the draw).
    pub pre: u64,
    /// In a checkpoint: the last number seen handed out when it was saved. Numbers above
    /// it, up to `seq`, may never have been handed out: after a restore they are not
    /// counted as people ahead.
    pub issued: u64,
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
    /// Changes when the engine restored its counters after losing its data (0: the
    /// engine has no counters for the event right now).
    #[serde(skip)]
    pub epoch: u64,
    /// Queue numbers `(lo, hi]` reserved before a store loss and maybe never handed out:
    /// positions do not count them as people ahead. Reported only once the restore has
    /// settled (one presence lease), so that positions come down, never up.
    #[serde(skip)]
    pub gap: (u64, u64),
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
    /// The sale has ended for good (admission stays paused).
    pub ended: bool,
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

/// Engine failures (Redis unreachable, a script error). Clients see a generic message.
pub type EngineResult<T> = anyhow::Result<T>;

/// The waiting-room state of every event, and the atomic admission decision.
#[async_trait]
pub trait QueueEngine: Send + Sync + 'static {
    /// Stores the room settings of an event (rate, cap, pause, times).
    async fn configure(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()>;

    /// Stores the settings only if the engine has none for this event yet (a fresh Redis).
    async fn ensure_configured(&self, event: EventId, cfg: &RoomConfig) -> EngineResult<()>;

    /// Gives `buyer` a place, or returns the place they already have. `claim` is the queue
    /// number the buyer's signed credential carries: used only when the engine has no
    /// state for the buyer at all (it lost its data), to put them back at their number.
    /// Fails with a [`JoinRefusal`] (downcast the error) when the caller must configure
    /// the event or reserve numbers first.
    async fn join(
        &self,
        event: EventId,
        buyer: BuyerId,
        claim: Option<u64>,
        now_ms: i64,
        seed: u64,
    ) -> EngineResult<Joined>;

    /// Marks buyers present. `connected`: their sockets are open here, so they keep their
    /// place for the grace period plus the presence lease (renewed by every heartbeat);
    /// otherwise the grace period starts now. A buyer the engine lost is put back at the
    /// number given.
    async fn touch(
        &self,
        event: EventId,
        buyers: &[Presence],
        now_ms: i64,
        connected: bool,
    ) -> EngineResult<()>;

    /// The counters to checkpoint (None: the engine has no settings for the event).
    async fn counters(&self, event: EventId) -> EngineResult<Option<Counters>>;

    /// Raises the queue-number limit to `limit`. When the engine has lost its counters (or
    /// never had them), it first takes them from `restore` (the database's checkpoint,
    /// whose `seq` is the highest number that may have been handed out) and starts a new
    /// epoch. Returns true when it restored.
    async fn reserve(&self, event: EventId, limit: u64, restore: &Counters) -> EngineResult<bool>;

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

    /// True when the engine's backing store answers.
    async fn ping(&self) -> bool;

    /// What the backing store keeps on disk (read at start); `None`: not applicable.
    fn persistence(&self) -> Option<super::persistence::Persistence> {
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

/// The `jti` of the entry token of queue number `seq` in `event`. Queue numbers are never
/// handed out twice (they are reserved in the database), and the per-event salt is kept
/// there too: a buyer admitted again after the store lost its data gets the same `jti`,
/// so it is still one admission (one seat-map session, one booking).
pub fn jti_for(event: EventId, seq: u64, salt: u32) -> String {
    format!("{event}-{seq}-{salt:08x}")
}

/// How long a connected buyer's presence lasts beyond the grace period without a
/// heartbeat: three heartbeats, so one missed heartbeat never drops anyone.
pub fn presence_lease_ms(heartbeat_ms: u64) -> i64 {
    (heartbeat_ms as i64).saturating_mul(3)
}

/// A gap this long between two admission steps means no instance could reach the store
/// (an outage, or every instance down): nobody is dropped until the connected buyers'
/// heartbeats have had a lease to come in.
pub const OUTAGE_GAP_MS: i64 = 3_000;
