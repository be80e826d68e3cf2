//! Holds that run out, and the engine kept in line with the database: every instance
//! frees expired holds (so a hold expires on time even when the instance that took it
//! has died), and brings the engine's seats back to what the database records after a
//! restart, a flushed Redis or a lost write.

use std::time::Duration;

use super::restore;
use super::state::SeatMapState;
use crate::db::orders::Order;
use crate::events::EventId;
use crate::identity::BuyerId;
use crate::state::{AppState, every};

/// How often every instance frees expired seat holds.
const HOLD_SWEEP: Duration = Duration::from_millis(250);

/// Starts the hold expiry loop, supervised: if it fails it is restarted and shows in
/// `/healthz` meanwhile.
pub fn spawn(state: &SeatMapState) {
    let s = state.clone();
    state
        .tasks
        .supervise("hold expiry".into(), move || hold_expiry_loop(s.clone()));
}

/// Frees expired holds of every event with seats.
async fn hold_expiry_loop(state: SeatMapState) {
    let mut ticks = every(HOLD_SWEEP);
    while state.tick(&mut ticks).await {
        expire_orders(&state).await;
        for id in state.event_ids() {
            if state.seat_map(id).await.is_none() {
                continue;
            }
            let now = state.clock.now_ms();
            match state.seats.expire_holds(id, now).await {
                // Their records go too (a seat held again since has a later expiry).
                Ok(freed) if !freed.is_empty() => {
                    if let Err(e) = state.db.forget_expired_holds(id, now).await {
                        tracing::warn!(event = id, error = %e, "forgetting expired holds failed");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(event = id, error = %e, "expiring holds failed"),
            }
        }
    }
}

/// Gives the engine the seats of an event it does not have yet (a new event, a fresh
/// Redis, a restarted memory engine: with every unexpired hold and sale of the database,
/// in one step), and brings the engine's sold seats in line with the database.
pub async fn refresh(state: &SeatMapState, id: EventId) -> anyhow::Result<()> {
    let Some(map) = state.seat_map(id).await else {
        return Ok(());
    };
    restore::ensure_seats(state, id, map.inventory()).await?;
    reconcile_sold(state, id).await?;
    // Records of holds that ended while their expiry sweep could not reach the database
    // (they would otherwise come back after a store loss).
    if let Err(e) = state
        .db
        .forget_expired_holds(id, state.clock.now_ms())
        .await
    {
        tracing::warn!(event = id, error = %e, "forgetting expired holds failed");
    }
    Ok(())
}

/// Marks sold in the engine every seat the database has sold (the database is the truth:
/// after a restart, a flushed Redis or a lost write, the map still shows them sold).
///
/// And the other way: a seat the engine has sold that the database no longer has (a
/// refund whose engine step failed) goes back on sale. The engine is read before the
/// database: a booking commits in the database before the engine marks its seats, so a
/// seat sold in the engine is always in a later read of the database, unless refunded.
pub async fn reconcile_sold(state: &SeatMapState, event: EventId) -> anyhow::Result<()> {
    let engine_count = state.seats.sold_count(event).await?;
    let db_count = state.db.sold_count(event).await?;
    if db_count != engine_count {
        let sold = state.db.sold_seats_with_buyers(event).await?;
        state.seats.mark_sold(event, &sold).await?;
    }
    if engine_count > db_count {
        let in_engine = state.seats.seat_states(event).await?.sold;
        let in_db: std::collections::HashSet<u32> = state
            .db
            .sold_seats_with_buyers(event)
            .await?
            .into_iter()
            .map(|(seat, _)| seat)
            .collect();
        let refunded: Vec<(u32, String)> = in_engine
            .into_iter()
            .filter(|seat| !in_db.contains(seat))
            .map(|seat| (seat, String::new()))
            .collect();
        if !refunded.is_empty() {
            state.seats.unsell(event, &refunded).await?;
        }
    }
    Ok(())
}

/// Orders not paid by their deadline expire (`order.expired`), and their seats go back on
/// sale for every viewer. The engine would free them a little later on its own.
async fn expire_orders(state: &SeatMapState) {
    match state.db.expire_due_orders(state.clock.now_ms()).await {
        Ok(expired) => {
            for order in expired {
                give_back_order(state, &order).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "expiring orders failed"),
    }
}

/// Puts the seats of an order that will not be paid (cancelled, expired) back on sale in
/// the engine: its booking ends, then its holds are released, live for every viewer.
pub async fn give_back_order(state: &AppState, order: &Order) {
    let Some(buyer) = BuyerId::parse(&order.buyer) else {
        return;
    };
    let seats: Vec<u32> = order.seats.iter().map(|(seat, _)| *seat).collect();
    if let Err(e) = state
        .seats
        .end_booking(order.event, buyer, &seats, false)
        .await
    {
        tracing::warn!(order = order.id, error = %e, "ending an order's booking failed");
    }
    // A hold whose own time ran out meanwhile goes with the next expiry sweep instead.
    if let Err(e) = state.seats.release(order.event, buyer, &seats).await {
        tracing::warn!(order = order.id, error = %e, "releasing an order's seats failed");
    }
}
