//! The waiting room's background loops on every instance: the admission step of every
//! event, and the checkpoint of its counters.
//!
//! Every instance runs the admission step: the step is atomic in the engine and its token
//! bucket lives there, so rate and cap hold globally and the death of one instance does
//! not stop admission.

use std::time::Duration;

use super::checkpoint;
use super::state::QueueState;
use crate::state::{AppState, every};

/// Starts the admission and checkpoint loops, each supervised: a loop that fails is
/// restarted and shows in `/healthz` meanwhile.
pub fn spawn(q: &QueueState) {
    let s = q.clone();
    q.tasks
        .supervise("admission".into(), move || admission_loop(s.app.clone()));
    let s = q.clone();
    q.tasks
        .supervise("checkpoint".into(), move || checkpoint_loop(s.clone()));
}

async fn admission_loop(state: AppState) {
    let mut ticks = every(Duration::from_millis(state.settings.tick_ms));
    while state.tick(&mut ticks).await {
        let steps = state.event_ids().into_iter().map(|id| {
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

/// Every second, for every event: restore a store that lost its counters, top up the
/// reserved queue numbers, checkpoint the counters in the database, and sample the
/// admitted total (the operator page's admissions of the last minute).
async fn checkpoint_loop(state: QueueState) {
    let mut ticks = every(Duration::from_secs(1));
    while state.tick(&mut ticks).await {
        for id in state.event_ids() {
            if let Err(e) = checkpoint::checkpoint(&state, id).await {
                tracing::warn!(event = id, error = %e, "checkpointing the room failed");
            }
        }
    }
}
