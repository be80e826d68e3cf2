//! What every part of the server shares: settings, the database, the engine's handles,
//! the event cache, signing keys, the clock, and the instance's telemetry. A cheap `Clone`
//! over `Arc`s. The waiting room (`crate::queue::QueueState`) and the seat map
//! (`crate::seats::SeatState`) each add their own parts on top; `crate::app` wires them.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::db::seats::SeatMap;
use crate::engine::bus::Bus;
use crate::engine::queue::QueueEngine;
use crate::engine::seats::SeatEngine;
use crate::events::{Event, EventId};
use crate::identity::Identity;
use crate::shutdown::SocketTracker;
use crate::telemetry::health::Tasks;
use crate::telemetry::metrics::Metrics;
use crate::token::TokenIssuer;

/// The shared state of one instance.
#[derive(Clone)]
pub struct AppState {
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// The database.
    pub db: Db,
    /// The queue engine.
    pub engine: Arc<dyn QueueEngine>,
    /// The same engine's seat operations.
    pub seats: Arc<dyn SeatEngine>,
    /// Reads of every seat's state, shared by those who ask at once.
    pub seat_reads: Arc<crate::engine::reads::StateReads>,
    /// The same engine's bus between instances.
    pub bus: Arc<dyn Bus>,
    /// Events, cached from the database.
    pub events: Arc<DashMap<EventId, Event>>,
    /// Seat maps, cached from the database (they never change).
    pub seat_maps: Arc<DashMap<EventId, Option<Arc<SeatMap>>>>,
    /// Entry token signer.
    pub tokens: Arc<TokenIssuer>,
    /// Credentials and site user ids.
    pub identity: Arc<Identity>,
    /// Time source.
    pub clock: Clock,
    /// Turns true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// This instance's metrics.
    pub metrics: Arc<Metrics>,
    /// Supervised background tasks (rooms, loops), for `/healthz`.
    pub tasks: Arc<Tasks>,
    /// Upgraded sockets still open: a stop waits for them (axum does not).
    pub sockets: SocketTracker,
}

impl AppState {
    /// An event by its id as given in a URL: from the cache, else the database.
    pub async fn event(&self, id: &str) -> Option<Event> {
        let id: EventId = id.parse().ok()?;
        if let Some(e) = self.events.get(&id) {
            return Some(e.clone());
        }
        let event = self.db.event(id).await.ok()??;
        self.events.insert(id, event.clone());
        Some(event)
    }

    /// The seat map of an event, if it has one.
    pub async fn seat_map(&self, event: EventId) -> Option<Arc<SeatMap>> {
        if let Some(m) = self.seat_maps.get(&event) {
            return m.clone();
        }
        let map = self.db.seat_map(event).await.ok()?.map(Arc::new);
        self.seat_maps.insert(event, map.clone());
        map
    }

    /// Reloads one event from the database into the cache.
    pub async fn reload_event(&self, id: EventId) -> anyhow::Result<Option<Event>> {
        let event = self.db.event(id).await?;
        match &event {
            Some(e) => {
                self.events.insert(id, e.clone());
            }
            None => {
                self.events.remove(&id);
            }
        }
        Ok(event)
    }

    /// The ids of every cached event.
    pub fn event_ids(&self) -> Vec<EventId> {
        self.events.iter().map(|e| *e.key()).collect()
    }

    /// Resolves once the server is shutting down.
    pub async fn stopped(&self) {
        let mut shutdown = self.shutdown.clone();
        crate::shutdown::stopped(&mut shutdown).await;
    }
}

/// A ticker for a background loop: a late tick is taken late, never twice in a row.
pub fn every(period: std::time::Duration) -> tokio::time::Interval {
    let mut every = tokio::time::interval(period);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every
}

impl AppState {
    /// Waits for the next tick of `every`; false once the server is shutting down.
    pub async fn tick(&self, every: &mut tokio::time::Interval) -> bool {
        tokio::select! {
            _ = self.stopped() => false,
            _ = every.tick() => true,
        }
    }
}
