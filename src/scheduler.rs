//! Background work of one instance: the admission step of every event, the event cache,
//! and the bus that carries every instance's changes to this instance's rooms.
//!
//! Every instance runs the admission step: the step is atomic in the engine and its token
//! bucket lives there, so rate and cap hold globally and the death of one instance does
//! not stop admission.

use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::engine::BusMessage;

/// How often every instance frees expired seat holds.
const HOLD_SWEEP: Duration = Duration::from_millis(250);

/// Starts the admission loop, the hold expiry loop, the event refresh loop and the bus loop.
/// Each is supervised: a loop that fails is restarted and shows in `/healthz` meanwhile.
pub fn spawn(state: &AppState) {
    let run = |name: &str, f: fn(AppState) -> Loop| {
        let s = state.clone();
        state.tasks.supervise(name.to_owned(), move || f(s.clone()));
    };
    run("admission", |s| Box::pin(admission_loop(s)));
    run("hold expiry", |s| Box::pin(hold_expiry_loop(s)));
    run("event refresh", |s| Box::pin(refresh_loop(s)));
    run("checkpoint", |s| Box::pin(checkpoint_loop(s)));
    run("bus", |s| Box::pin(bus_loop(s)));
}

type Loop = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Waits for the next tick of `every`; false once the server is shutting down.
async fn next_tick(every: &mut tokio::time::Interval, state: &AppState) -> bool {
    let mut shutdown = state.shutdown.clone();
    tokio::select! {
        _ = crate::app::stopped(&mut shutdown) => false,
        _ = every.tick() => true,
    }
}

fn interval(period: Duration) -> tokio::time::Interval {
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

fn event_ids(state: &AppState) -> Vec<i64> {
    state.events.iter().map(|e| *e.key()).collect()
}

async fn admission_loop(state: AppState) {
    let mut every = interval(Duration::from_millis(state.settings.tick_ms));
    while next_tick(&mut every, &state).await {
        let ids = event_ids(&state);
        let steps = ids.into_iter().map(|id| {
            let state = state.clone();
            async move {
                let now = state.clock.now_ms();
                if let Err(e) = state.engine.tick(id, now, rand::random()).await {
                    tracing::warn!(event = id, error = %e, "admission step failed");
                }
            }
        });
        futures_util::future::join_all(steps).await;
    }
}

/// Frees expired holds of every event with seats. Every instance runs it, so a hold
/// expires on time even when the instance that took it has died.
async fn hold_expiry_loop(state: AppState) {
    let mut every = interval(HOLD_SWEEP);
    while next_tick(&mut every, &state).await {
        for id in event_ids(&state) {
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

/// Loads every event from the database into the cache, gives the engine the room settings
/// and seats of any event it does not know yet (a new event, a fresh Redis, a restarted
/// memory engine: with every unexpired hold and sale of the database, in one step), and
/// brings the engine's sold seats in line with the database.
pub async fn refresh_events(state: &AppState) -> anyhow::Result<()> {
    let events = state.db.events().await?;
    for event in events {
        let id = event.id;
        state
            .engine
            .ensure_configured(id, &event.room_config())
            .await?;
        state.events.insert(id, event);
        if let Some(map) = state.seat_map(id).await {
            crate::seats::restore::ensure_seats(state, id, map.seats.len() as u32).await?;
            reconcile_sold(state, id).await?;
            // Records of holds that ended while their expiry sweep could not reach the
            // database (they would otherwise come back after a store loss).
            if let Err(e) = state
                .db
                .forget_expired_holds(id, state.clock.now_ms())
                .await
            {
                tracing::warn!(event = id, error = %e, "forgetting expired holds failed");
            }
        }
    }
    Ok(())
}

/// Marks sold in the engine every seat the database has sold (the database is the truth:
/// after a restart, a flushed Redis or a lost write, the map still shows them sold).
pub async fn reconcile_sold(state: &AppState, event: i64) -> anyhow::Result<()> {
    if state.db.sold_count(event).await? != state.seats.sold_count(event).await? {
        let sold = state.db.sold_seats_with_buyers(event).await?;
        state.seats.mark_sold(event, &sold).await?;
    }
    Ok(())
}

/// Every second, for every event: restore a store that lost its counters, top up the
/// reserved queue numbers, and checkpoint the counters in the database.
async fn checkpoint_loop(state: AppState) {
    let mut every = interval(Duration::from_secs(1));
    while next_tick(&mut every, &state).await {
        for id in event_ids(&state) {
            if let Err(e) = crate::checkpoint::checkpoint(&state, id).await {
                tracing::warn!(event = id, error = %e, "checkpointing the room failed");
            }
        }
    }
}

async fn refresh_loop(state: AppState) {
    let mut every = interval(Duration::from_secs(2));
    while next_tick(&mut every, &state).await {
        if let Err(e) = refresh_events(&state).await {
            tracing::warn!(error = %e, "refreshing events failed");
        }
    }
}

async fn bus_loop(state: AppState) {
    let mut bus = state.engine.subscribe();
    let mut shutdown = state.shutdown.clone();
    loop {
        let msg = tokio::select! {
            _ = crate::app::stopped(&mut shutdown) => return,
            msg = bus.recv() => msg,
        };
        match msg {
            Ok(msg) => {
                if let BusMessage::Config { e } = &msg
                    && let Err(err) = state.reload_event(*e).await
                {
                    tracing::warn!(event = e, error = %err, "reloading an event failed");
                }
                state.hub.on_bus(&msg);
                state.seat_hub.on_bus(&msg);
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "bus lagged; resyncing rooms and seat maps");
                state.hub.resync_all();
                state.seat_hub.resync_all();
            }
            Err(RecvError::Closed) => return,
        }
    }
}
