//! The seat half of an engine: holds, releases, expiry, bookings in progress, and the
//! one-live-session-per-token rule. Like the queue, atomic per event (Lua on Redis).

use async_trait::async_trait;

use super::queue::EngineResult;
use crate::events::EventId;
use crate::identity::BuyerId;

/// An event's seats as the engine keeps them: every performance has its own copy of the
/// layout's `seats`, one after the other, so performance `p`'s seat `i` is engine seat
/// `p * seats + i`. Holds, sales and the per-buyer limit are per performance; the room is
/// sold out only when every performance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory {
    /// Seats of one performance (the layout's seats).
    pub seats: u32,
    /// How many performances (at least 1).
    pub performances: u32,
}

impl Inventory {
    /// One performance of `seats` seats.
    pub fn single(seats: u32) -> Inventory {
        Inventory {
            seats,
            performances: 1,
        }
    }

    /// Engine seats in all: `seats` per performance.
    pub fn total(&self) -> u32 {
        self.seats.saturating_mul(self.performances.max(1))
    }

    /// The performance an engine seat belongs to.
    pub fn performance_of(&self, seat: u32) -> u32 {
        seat / self.seats.max(1)
    }

    /// The engine seat of a performance's seat (None: outside the inventory).
    pub fn engine_seat(&self, performance: u32, seat: u32) -> Option<u32> {
        if seat >= self.seats || performance >= self.performances.max(1) {
            return None;
        }
        Some(performance * self.seats + seat)
    }

    /// Performance `p` and where its seats start.
    pub fn performance(&self, p: u32) -> crate::events::PerformanceRef {
        crate::events::PerformanceRef {
            index: p,
            first_seat: p.saturating_mul(self.seats),
        }
    }

    /// The performance's own id of an engine seat.
    pub fn local(&self, seat: u32) -> u32 {
        seat % self.seats.max(1)
    }
}

/// Why a hold, release or booking was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatRefusal {
    /// A seat id outside the event's map.
    #[error("seat {0} is not in this event's map")]
    UnknownSeat(u32),
    /// More than the per-buyer limit.
    #[error("at most {0} seats per buyer for one performance, across your holds and bookings")]
    TooManySeats(u32),
    /// Held by someone else, or sold.
    #[error("seat {0} is already held or sold")]
    SeatTaken(u32),
    /// Not held by this buyer.
    #[error("you do not hold seat {0}")]
    NotYourSeat(u32),
    /// Nothing held.
    #[error("you hold no seats to book")]
    NoHold,
    /// A hold ran out before the booking.
    #[error("your hold expired before the booking")]
    HoldExpired,
    /// Already booked.
    #[error("you have already booked your seats")]
    AlreadyBooked,
    /// "Best available" found no block of free seats together (that leaves no seat alone).
    #[error("no seats together are free there")]
    NoBlock,
    /// The engine has no seats for the event (a fresh or wiped store): they must be
    /// restored from the database first ([`SeatEngine::restore_seats`]).
    #[error("the seat map is being restored; try again")]
    NotReady,
}

/// A block of adjacent seats of one row that "best available" may hold, with the two
/// seats on each side of it in the row (None past the row's end), so that holding it can
/// be refused when it would leave a single free seat alone between it and a taken seat or
/// the row's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The seats, adjacent, in row order (engine ids).
    pub seats: Vec<u32>,
    /// The nearest seat on the left, then the one after it.
    pub left: [Option<u32>; 2],
    /// The nearest seat on the right, then the one after it.
    pub right: [Option<u32>; 2],
}

/// A hold as the database records it, to put back into an engine that lost it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredHold {
    /// Seat id.
    pub seat: u32,
    /// Holder (buyer id, hex).
    pub buyer: String,
    /// When the hold ends (ms since the epoch).
    pub expires_at_ms: i64,
}

/// What a fresh engine is given back for one event: the database's holds and sales.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatRestore {
    /// Unexpired holds.
    pub holds: Vec<RestoredHold>,
    /// Sold seats with their buyers.
    pub sold: Vec<(u32, String)>,
}

/// Seats held or sold, for a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatStates {
    /// (seat, holder, expiry ms) of every held seat (including bookings in progress).
    pub held: Vec<(u32, String, i64)>,
    /// Sold seats.
    pub sold: Vec<u32>,
}

/// Whether a token may open a seat-map session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionClaim {
    /// Yes: this session now owns the token.
    Granted,
    /// Another live session owns it.
    InUse,
    /// The buyer's entry session is over (booked, ended, expired, or another admission).
    Ended,
    /// Revoked by an operator.
    Revoked,
    /// The engine has no state at all for the buyer (a fresh or wiped store). The caller
    /// may prove the admission another way (the signed token) and claim again with
    /// `restore`.
    Unknown,
    /// The engine has no seats for the event yet (see [`SeatRefusal::NotReady`]).
    NotReady,
}

/// An admission to put back into an engine that lost it, as the entry token proves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionProof<'a> {
    /// Queue number (from the token's `jti`; 0 when it does not carry one).
    pub seq: u64,
    /// The token's id.
    pub jti: &'a str,
    /// The end of the entry session (the token's `exp`, in ms).
    pub exp_ms: i64,
}

/// Seat operations of an engine.
#[async_trait]
pub trait SeatEngine: Send + Sync + 'static {
    /// Makes sure the engine knows the event's seats (ids `0..inv.total()`).
    async fn init_seats(&self, event: EventId, inv: Inventory) -> EngineResult<()> {
        self.restore_seats(event, inv, &SeatRestore::default(), 0)
            .await
            .map(|_| ())
    }

    /// True when the engine has the event's seats (false: a fresh or wiped store).
    async fn seats_ready(&self, event: EventId) -> EngineResult<bool>;

    /// Gives an engine that has no seats for the event its seats (`inv`) with the
    /// database's holds (those still running at `now_ms`) and sold seats, in one atomic
    /// step, so no hold can slip in between. Does nothing when the engine already has
    /// them; returns true when it restored.
    async fn restore_seats(
        &self,
        event: EventId,
        inv: Inventory,
        restore: &SeatRestore,
        now_ms: i64,
    ) -> EngineResult<bool>;

    /// Holds all `seats` for `buyer` or none; returns the hold's expiry. The seats must
    /// be of one performance; `max` is the buyer's limit in that performance, held and
    /// bought together.
    async fn hold(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
        now_ms: i64,
        hold_ms: i64,
        max: u32,
    ) -> EngineResult<Result<i64, SeatRefusal>>;

    /// "Best available": holds the first of `blocks` (in order of preference, all of one
    /// performance and the same size) whose seats are all free and that leaves no single
    /// free seat alone beside it, in one atomic step; returns the seats and the hold's
    /// expiry. `Ok(Err(SeatRefusal::NoBlock))` when none qualifies; the limit as in
    /// [`SeatEngine::hold`].
    #[allow(clippy::too_many_arguments)]
    async fn hold_best(
        &self,
        event: EventId,
        buyer: BuyerId,
        blocks: &[Block],
        now_ms: i64,
        hold_ms: i64,
        max: u32,
    ) -> EngineResult<Result<(Vec<u32>, i64), SeatRefusal>>;

    /// Releases seats the buyer holds (all of them or none).
    async fn release(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
    ) -> EngineResult<Result<(), SeatRefusal>>;

    /// Frees every hold that expired by `now_ms`; returns the seats freed.
    async fn expire_holds(&self, event: EventId, now_ms: i64) -> EngineResult<Vec<u32>>;

    /// Starts a booking: checks every hold of the buyer in `performance` is still valid
    /// and protects the seats from expiry for `window_ms` while the database writes.
    /// Returns the seats. A booking of this buyer already in progress (its outcome
    /// unknown) is entered again, its window renewed.
    async fn begin_booking(
        &self,
        event: EventId,
        buyer: BuyerId,
        performance: u32,
        now_ms: i64,
        window_ms: i64,
    ) -> EngineResult<Result<Vec<u32>, SeatRefusal>>;

    /// Ends a booking: `sold` marks the seats sold (seats already sold count once) and
    /// ends the buyer's entry session; otherwise the seats go back to being held.
    async fn end_booking(
        &self,
        event: EventId,
        buyer: BuyerId,
        seats: &[u32],
        sold: bool,
    ) -> EngineResult<()>;

    /// Marks seats sold that the database says are sold, with their buyers (after a
    /// restart, a flushed Redis or a lost write): the seats show sold again and each
    /// buyer's purchases count toward the per-buyer limit. Returns how many changed.
    async fn mark_sold(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize>;

    /// Frees sold seats the database no longer has sold (a refund), with their buyers:
    /// each goes back on sale for every viewer and back to its buyer's limit. A seat that
    /// is not sold (free, or held or bought by someone since) is left alone. Returns how
    /// many changed.
    async fn unsell(&self, event: EventId, sold: &[(u32, String)]) -> EngineResult<usize>;

    /// How many seats the engine has as sold.
    async fn sold_count(&self, event: EventId) -> EngineResult<u64>;

    /// How many seats of `performance` the engine has as sold to `buyer`: what counts
    /// against the buyer's limit besides their holds.
    async fn bought(&self, event: EventId, buyer: BuyerId, performance: u32) -> EngineResult<u32>;

    /// Every held and sold seat.
    async fn seat_states(&self, event: EventId) -> EngineResult<SeatStates>;

    /// Claims the seat-map session of token `jti` for session `sid`, after checking the
    /// buyer's entry session is still on. A claim older than `stale_ms` is taken over.
    /// With `restore`, a buyer the engine knows nothing about is admitted again first
    /// (counting toward the cap); a buyer it knows (revoked, ended, re-admitted) is not.
    #[allow(clippy::too_many_arguments)]
    async fn claim_session(
        &self,
        event: EventId,
        buyer: BuyerId,
        jti: &str,
        sid: &str,
        now_ms: i64,
        stale_ms: i64,
        restore: Option<AdmissionProof<'_>>,
    ) -> EngineResult<SessionClaim>;

    /// Gives the session claim back (the socket closed).
    async fn release_session(&self, event: EventId, jti: &str, sid: &str) -> EngineResult<()>;
}
