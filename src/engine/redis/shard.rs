//! The bus on a Redis Cluster: sharded pub/sub. Each event has its own channel,
//! `{prefix}:{e<id>}:bus`, hash-tagged like the event's keys, so the scripts `SPUBLISH` to
//! it from inside their atomic step on the event's own node, and only that shard (its
//! primary and replicas) carries the message. Plain `PUBLISH` on a cluster is copied to
//! every node: adding shards would add no pub/sub capacity.
//!
//! An instance listens only to the events it serves: a room or a seat map of the event
//! calls [`Listener::listen`] before its first read, and the subscription is confirmed
//! before that returns, so nothing falls between the subscription and the snapshot.
//!
//! One cluster connection per process carries every subscription (RESP3 push messages,
//! one connection per node). The redis crate tracks them and subscribes again after a
//! reconnect or a slot map refresh; on top of that, whatever may have lost a subscription
//! (a node's connection dropped, the server unsubscribed us because the slot moved, a
//! failover) asks the repair task to subscribe every wanted channel again, through the
//! current slot map, until it succeeds. Each such gap is counted ([`Bus::gaps`]): the
//! instance's rooms and seat maps then resync from the engine.
//!
//! [`Bus::gaps`]: crate::engine::bus::Bus::gaps

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context;
use parking_lot::Mutex;
use redis::cluster_async::ClusterConnection;
use redis::{ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::{OnceCell, broadcast, mpsc, watch};

use super::conn::{RESPONSE_TIMEOUT, cluster_builder};
use crate::engine::bus::BusMessage;
use crate::events::EventId;

/// The sharded bus channel of an event: in the event's slot.
pub(super) fn channel(prefix: &str, event: EventId) -> String {
    format!("{prefix}:{{e{event}}}:bus")
}

/// What the listener, its push reader and its repair task share.
struct Shared {
    prefix: String,
    /// Every event this instance listens to; each cell is set once its first
    /// subscription was tried (concurrent callers wait for it).
    wanted: Mutex<HashMap<EventId, Arc<OnceCell<()>>>>,
    /// Wakes the repair task.
    repair: tokio::sync::Notify,
    /// Counts the gaps: times messages may have been missed.
    gaps: watch::Sender<u64>,
}

impl Shared {
    fn gap(&self) {
        self.gaps.send_modify(|n| *n += 1);
    }
}

/// The process's sharded subscriptions.
pub(super) struct Listener {
    conn: ClusterConnection,
    shared: Arc<Shared>,
}

impl Listener {
    /// Connects (RESP3, for push messages) and starts the push reader and the repair task;
    /// both end when the listener is dropped.
    pub(super) async fn start(
        seeds: &[String],
        prefix: &str,
        bus: broadcast::Sender<BusMessage>,
    ) -> anyhow::Result<Arc<Listener>> {
        let (tx, rx) = mpsc::unbounded_channel::<PushInfo>();
        let client = cluster_builder(seeds)
            .use_protocol(ProtocolVersion::RESP3)
            .push_sender(tx)
            .build()
            .context("parsing redis_cluster_urls")?;
        let conn = client
            .get_async_connection()
            .await
            .context("connecting to the Redis Cluster for the bus")?;
        let shared = Arc::new(Shared {
            prefix: prefix.to_owned(),
            wanted: Mutex::new(HashMap::new()),
            repair: tokio::sync::Notify::new(),
            gaps: watch::channel(0).0,
        });
        let listener = Arc::new(Listener {
            conn,
            shared: shared.clone(),
        });
        tokio::spawn(read_pushes(rx, bus, shared.clone()));
        tokio::spawn(repair(Arc::downgrade(&listener), shared));
        Ok(listener)
    }

    /// Gaps so far (see the module doc).
    pub(super) fn gaps(&self) -> watch::Receiver<u64> {
        self.shared.gaps.subscribe()
    }

    /// Listens to `event` from now on. Returns once the subscription is confirmed, or once
    /// it failed (the repair task then keeps trying, and counts a gap when it succeeds).
    pub(super) async fn listen(&self, event: EventId) {
        let cell = self.shared.wanted.lock().entry(event).or_default().clone();
        cell.get_or_init(|| async {
            if let Err(e) = self.subscribe(event).await {
                tracing::warn!(event, error = %e, "subscribing to the event's bus channel failed");
                self.shared.repair.notify_one();
            }
        })
        .await;
    }

    async fn subscribe(&self, event: EventId) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let ch = channel(&self.shared.prefix, event);
        tokio::time::timeout(RESPONSE_TIMEOUT, conn.ssubscribe(&ch))
            .await
            .context("no answer in time")??;
        Ok(())
    }

    /// Subscribes every wanted channel again (through the current slot map).
    async fn resubscribe_all(&self) -> bool {
        let events: Vec<EventId> = self.shared.wanted.lock().keys().copied().collect();
        let tries = events.iter().map(|e| self.subscribe(*e));
        let results = futures_util::future::join_all(tries).await;
        let failed = results.iter().filter(|r| r.is_err()).count();
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            tracing::warn!(failed, error = %e, "subscribing again to the bus failed; retrying");
        }
        failed == 0
    }
}

/// Carries sharded messages to the in-process bus, and watches for lost subscriptions.
/// A panic while handling one push is caught (and counted by the panic hook): the reader
/// goes on with the next, and counts a gap, since that message is lost.
async fn read_pushes(
    mut rx: mpsc::UnboundedReceiver<PushInfo>,
    bus: broadcast::Sender<BusMessage>,
    shared: Arc<Shared>,
) {
    // Channels confirmed at least once: a further confirmation is a resubscription, so
    // messages may have been missed in between.
    let mut confirmed: HashSet<Vec<u8>> = HashSet::new();
    while let Some(push) = rx.recv().await {
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            on_push(push, &bus, &shared, &mut confirmed)
        }));
        if handled.is_err() {
            tracing::error!("handling a bus push panicked; going on");
            shared.gap();
        }
    }
}

fn on_push(
    push: PushInfo,
    bus: &broadcast::Sender<BusMessage>,
    shared: &Shared,
    confirmed: &mut HashSet<Vec<u8>>,
) {
    match push.kind {
        PushKind::SMessage | PushKind::Message => {
            let Some(Value::BulkString(payload)) = push.data.get(1) else {
                return;
            };
            match serde_json::from_slice::<BusMessage>(payload) {
                Ok(m) => {
                    let _ = bus.send(m);
                }
                Err(e) => tracing::warn!(error = %e, "unreadable bus message"),
            }
        }
        PushKind::SSubscribe => {
            if let Some(Value::BulkString(ch)) = push.data.first()
                && !confirmed.insert(ch.clone())
            {
                shared.gap();
            }
        }
        // We never unsubscribe: the server dropped us (the slot moved away).
        PushKind::SUnsubscribe => {
            tracing::info!("a bus subscription was dropped by the cluster; subscribing again");
            shared.gap();
            shared.repair.notify_one();
        }
        PushKind::Disconnection => {
            tracing::warn!("a bus connection to a cluster node was lost");
            shared.gap();
            shared.repair.notify_one();
        }
        _ => {}
    }
}

/// Subscribes every wanted channel again whenever something may have lost one, with
/// backoff until it succeeds; ends once the listener is gone.
async fn repair(listener: Weak<Listener>, shared: Arc<Shared>) {
    loop {
        // Look now and then whether the engine was dropped.
        let woken = tokio::time::timeout(Duration::from_secs(2), shared.repair.notified()).await;
        if listener.strong_count() == 0 {
            return;
        }
        if woken.is_err() {
            continue;
        }
        let mut backoff = Duration::from_millis(100);
        loop {
            // Let the crate's own reconnection and slot refresh go first.
            tokio::time::sleep(backoff).await;
            let Some(l) = listener.upgrade() else {
                return;
            };
            if l.resubscribe_all().await {
                shared.gap();
                break;
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}
