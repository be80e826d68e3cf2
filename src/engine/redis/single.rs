//! The bus on one Redis server: one pub/sub channel per deployment (`{prefix}:bus`), one
//! subscription per process, fanned out in process. One server carries every message
//! anyway, so per-event channels would add subscriptions and gain nothing here; on a
//! cluster they do (`super::shard`).

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::broadcast;

use crate::engine::bus::BusMessage;

/// Runs [`subscribe_forever`] and starts it again should it ever panic (the panic is
/// counted and shows in `/healthz`): an instance without its bus would stop hearing about
/// admissions and seat changes made elsewhere.
pub(super) async fn supervise_subscriber(
    client: redis::Client,
    channel: String,
    bus: broadcast::Sender<BusMessage>,
    alive: std::sync::Weak<()>,
) {
    loop {
        let run = subscribe_forever(client.clone(), channel.clone(), bus.clone(), alive.clone());
        match tokio::spawn(run).await {
            Err(e) if e.is_panic() && alive.upgrade().is_some() => {
                tracing::error!("the bus subscriber panicked; starting it again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ => return,
        }
    }
}

/// Keeps one subscription to the bus channel open, reconnecting with backoff; rooms resync
/// from snapshots on their own, so a message missed while reconnecting is not lost state.
async fn subscribe_forever(
    client: redis::Client,
    channel: String,
    bus: broadcast::Sender<BusMessage>,
    alive: std::sync::Weak<()>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(&channel).await {
                    tracing::warn!(error = %e, "subscribing to the bus failed");
                } else {
                    backoff = Duration::from_millis(100);
                    let mut stream = pubsub.on_message();
                    while let Some(msg) = stream.next().await {
                        match serde_json::from_slice::<BusMessage>(msg.get_payload_bytes()) {
                            Ok(m) => {
                                let _ = bus.send(m);
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable bus message"),
                        }
                    }
                }
                tracing::warn!("bus subscription ended; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "bus connection failed; retrying"),
        }
        if alive.upgrade().is_none() {
            return; // the engine was dropped with its app
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
