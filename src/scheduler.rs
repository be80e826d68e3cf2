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

/// Starts the admission loop, the event refresh loop and the bus loop.
pub fn spawn(state: &AppState) {
    tokio::spawn(admission_loop(state.clone()));
    tokio::spawn(refresh_loop(state.clone()));
    tokio::spawn(bus_loop(state.clone()));
}

async fn admission_loop(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_millis(state.settings.tick_ms));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = crate::app::stopped(&mut shutdown) => return,
            _ = every.tick() => {}
        }
        let ids: Vec<i64> = state.events.iter().map(|e| *e.key()).collect();
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

/// Loads every event from the database into the cache, and gives the engine the room
/// settings of any event it does not know yet (a new event, or a fresh Redis).
pub async fn refresh_events(state: &AppState) -> anyhow::Result<()> {
    let events = state.db.events().await?;
    for event in events {
        state
            .engine
            .ensure_configured(event.id, &event.room_config())
            .await?;
        state.events.insert(event.id, event);
    }
    Ok(())
}

async fn refresh_loop(state: AppState) {
    let mut every = tokio::time::interval(Duration::from_secs(2));
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = crate::app::stopped(&mut shutdown) => return,
            _ = every.tick() => {}
        }
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
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "bus lagged; resyncing rooms");
                state.hub.resync_all();
            }
            Err(RecvError::Closed) => return,
        }
    }
}
