//! Putting back what the engine lost. The engine (Redis, or the memory engine of a
//! restarted process) can lose every hold and admission; the database keeps each hold
//! (`holds`), each sale, and the signed entry token proves each admission. A store with no
//! seats for an event refuses every seat request with "not ready" until
//! [`ensure_seats`] has given it the database's holds and sales in one atomic step, so no
//! one can take a held seat in the gap.

use crate::engine::seats::{AdmissionProof, Inventory, SeatRestore, SessionClaim};
use crate::events::EventId;
use crate::identity::BuyerId;
use crate::state::AppState;

/// Makes sure the engine has the event's seats (`inv`). When it has none (a new event,
/// a fresh or wiped store), it gets them with every unexpired hold and every sale the
/// database has. Returns true when this call restored them.
pub async fn ensure_seats(
    state: &AppState,
    event: EventId,
    inv: Inventory,
) -> anyhow::Result<bool> {
    if state.seats.seats_ready(event).await? {
        return Ok(false);
    }
    let now = state.clock.now_ms();
    let restore = SeatRestore {
        holds: state.db.live_holds(event, now).await?,
        sold: state.db.sold_seats_with_buyers(event).await?,
    };
    let done = state.seats.restore_seats(event, inv, &restore, now).await?;
    if done {
        tracing::info!(
            event,
            holds = restore.holds.len(),
            sold = restore.sold.len(),
            "gave the engine the seats, holds and sales of the database"
        );
    }
    Ok(done)
}

/// The queue number in a `jti` (`"{event}-{seq}-{salt}"`), 0 if it has none.
pub fn seq_of(jti: &str) -> u64 {
    jti.split('-')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Claims the seat-map session of a verified entry token, repairing what a lost engine
/// state would otherwise refuse: seats not there yet are restored first, and a buyer the
/// engine knows nothing about is admitted again on the strength of the token (which
/// this server signed), unless the token has already been used for a booking.
pub async fn claim(
    state: &AppState,
    event: EventId,
    inv: Inventory,
    buyer: BuyerId,
    sid: &str,
    proof: AdmissionProof<'_>,
    stale_ms: i64,
) -> anyhow::Result<SessionClaim> {
    let seats = &state.seats;
    let jti = proof.jti;
    let now = state.clock.now_ms();
    let mut claimed = seats
        .claim_session(event, buyer, jti, sid, now, stale_ms, None)
        .await?;
    if claimed == SessionClaim::NotReady {
        ensure_seats(state, event, inv).await?;
        claimed = seats
            .claim_session(event, buyer, jti, sid, now, stale_ms, None)
            .await?;
    }
    if claimed == SessionClaim::Unknown {
        if state.db.booking_by_jti(jti).await?.is_some() {
            return Ok(SessionClaim::Ended);
        }
        tracing::info!(event, jti, "admission restored from its entry token");
        claimed = seats
            .claim_session(event, buyer, jti, sid, now, stale_ms, Some(proof))
            .await?;
    }
    Ok(claimed)
}
