//! What keeps a place in line when the queue store loses its data (Redis restarted
//! empty, the memory engine restarted).
//!
//! - Queue numbers are reserved in the database before the engine hands them out, so a
//!   store that starts over never gives a number twice: it restores its counters from the
//!   checkpoint (the highest number that may have been handed out, the head, the admitted
//!   total, the token-id salt) the first time it is asked for more.
//! - Each buyer's credential carries their number, signed; a buyer the store lost comes
//!   back with it at their number, ahead of everyone who joined after. Connected buyers
//!   are put back by the next heartbeat of their room (see `super::room`).
//! - Every instance checkpoints every event's counters every second and tops up the
//!   reservation before it runs out, so joins rarely wait for the database.

use anyhow::Context;

use super::reservations::{MAX_BLOCK, MIN_BLOCK};
use super::state::QueueState;
use crate::engine::queue::{Counters, JoinRefusal, Joined};
use crate::events::EventId;
use crate::identity::BuyerId;

/// Joins through the engine, configuring the event or reserving numbers when the engine
/// asks for it (a new event, or a store that lost its data), then asking again.
pub async fn join(
    state: &QueueState,
    event: EventId,
    buyer: BuyerId,
    claim: Option<u64>,
) -> anyhow::Result<Joined> {
    let mut tries = 0;
    loop {
        let now = state.clock.now_ms();
        let err = match state
            .engine
            .join(event, buyer, claim, now, rand::random())
            .await
        {
            Ok(joined) => return Ok(joined),
            Err(e) => e,
        };
        tries += 1;
        match err.downcast_ref::<JoinRefusal>() {
            Some(_) if tries > 3 => return Err(err),
            Some(JoinRefusal::Unconfigured) => configure(state, event).await?,
            Some(JoinRefusal::OutOfNumbers) => {
                // Joins outran the reservation: reserve twice as much next time, so a
                // burst waits for the database a few times, not once every block.
                let block = state.reservations.block(event);
                state.reservations.set_block(event, block * 2);
                reserve(state, event, block).await?
            }
            None => return Err(err),
        }
    }
}

/// Gives the engine the event's settings if it has none (a fresh store).
async fn configure(state: &QueueState, event: EventId) -> anyhow::Result<()> {
    let e = state
        .reload_event(event)
        .await?
        .context("the event is gone")?;
    state
        .engine
        .ensure_configured(event, &e.room_config())
        .await
}

/// Reserves at least `block` more queue numbers in the database, then gives them to the
/// engine (which restores its counters from the checkpoint first if it lost them).
pub async fn reserve(state: &QueueState, event: EventId, block: u64) -> anyhow::Result<()> {
    let lock = state.reservations.locks.entry(event).or_default().clone();
    let _one = lock.lock().await;
    let now = state.clock.now_ms();
    let counters = state.engine.counters(event).await?;
    if let Some(c) = &counters
        && c.seq_limit > 0
        && c.seq_limit >= c.seq + c.pre + block / 2
    {
        return Ok(()); // another join reserved while this one waited
    }
    let restore = state.db.checkpoint(event, now).await?;
    let (seq, pre) = counters.map_or((0, 0), |c| (c.seq, c.pre));
    let limit = state
        .db
        .reserve_numbers(event, seq + pre, block.max(pre))
        .await?;
    // A first reservation (a new event) also "restores" zeros; only a line that existed
    // before is a loss worth a warning.
    if state.engine.reserve(event, limit, &restore).await? && restore.seq > 0 {
        tracing::warn!(
            event,
            from = restore.seq,
            "the queue store had lost this event's counters; restored them from the database"
        );
        state
            .metrics
            .restores
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Revocations live in the database too: the store gets them back.
        for b in state.db.revoked(event).await? {
            if let Some(buyer) = BuyerId::parse(&b) {
                state.engine.revoke(event, buyer).await?;
            }
        }
        // This instance's connected buyers go back first, so that the place of whoever
        // joins next counts them (other instances do the same on the bus message).
        state.hub.store_restored(event).await;
    }
    Ok(())
}

/// One pass of the checkpoint loop for one event: configure a store that lost the event,
/// restore or top up the reservation, save the counters, and sample the admitted total
/// for the operator page's admissions of the last minute.
pub async fn checkpoint(state: &QueueState, event: EventId) -> anyhow::Result<()> {
    let Some(c) = state.engine.counters(event).await? else {
        configure(state, event).await?;
        return reserve(state, event, MIN_BLOCK).await;
    };
    state
        .metrics
        .admitted
        .observe(event, state.clock.now_ms(), c.admitted_total);
    // Size the block from the last second's joins: three seconds' worth.
    let joined = {
        let mut last = state.reservations.last_seq.lock();
        let prev = last.insert(event, c.seq).unwrap_or(c.seq);
        c.seq.saturating_sub(prev)
    };
    let block = (joined * 3).clamp(MIN_BLOCK, MAX_BLOCK);
    let block = block.max(state.reservations.block(event) / 2);
    state.reservations.set_block(event, block);
    if c.seq_limit == 0 || c.seq_limit < c.seq + c.pre + block / 2 {
        reserve(state, event, block).await?;
    }
    if c.seq_limit > 0 {
        save(state, event, &c).await?;
    }
    Ok(())
}

async fn save(state: &QueueState, event: EventId, c: &Counters) -> anyhow::Result<()> {
    state
        .db
        .save_checkpoint(event, c, state.clock.now_ms())
        .await
}
