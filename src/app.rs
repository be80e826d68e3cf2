//! Building and running the server: what `main` calls and what tests start on port 0.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use dashmap::DashMap;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{EngineKind, Settings};
use crate::db::Db;
use crate::engine::seats::SeatEngine;
use crate::engine::{QueueEngine, memory::MemoryEngine, redis::RedisEngine};
use crate::events::{Event, EventId, NewEvent};
use crate::identity::Identity;
use crate::room::Hub;
use crate::seats::hub::SeatHub;
use crate::seats::layout::SeatMapSpec;
use crate::seats::store::SeatMap;
use crate::token::TokenIssuer;

/// Everything a request handler needs: a cheap clone over `Arc`s.
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
    /// Seat maps, cached from the database (they never change).
    pub seat_maps: Arc<DashMap<EventId, Option<Arc<SeatMap>>>>,
    /// Seat layouts as served over HTTP, serialized and gzipped once per event.
    pub seat_layouts: Arc<DashMap<EventId, Arc<crate::seats::compact::PublishedLayout>>>,
    /// This instance's seat-map viewers.
    pub seat_hub: Arc<SeatHub>,
    /// This instance's rooms.
    pub hub: Arc<Hub>,
    /// Entry token signer.
    pub tokens: Arc<TokenIssuer>,
    /// Credentials and site user ids.
    pub identity: Arc<Identity>,
    /// Time source.
    pub clock: Clock,
    /// Events, cached from the database.
    pub events: Arc<DashMap<EventId, Event>>,
    /// Joins per client address.
    pub join_limiter: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Turns true when the server shuts down.
    pub shutdown: watch::Receiver<bool>,
    /// This instance's metrics.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Supervised background tasks (rooms, scheduler loops), for `/healthz`.
    pub tasks: Arc<crate::health::Tasks>,
    /// Queue-number reservations in flight (see [`crate::checkpoint`]).
    pub reservations: Arc<crate::checkpoint::Reservations>,
    /// Upgraded sockets still open: a stop waits for them (axum does not).
    pub sockets: crate::shutdown::SocketTracker,
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
}

/// Resolves once the shutdown flag turns true (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// A built server, bound to its port but not yet serving.
pub struct App {
    listener: TcpListener,
    state: AppState,
    shutdown: watch::Sender<bool>,
}

/// Stops a running [`App`]: it stops accepting, lets in-flight requests finish and closes
/// every socket with code 4000 (reconnect, place kept), within `shutdown_timeout_ms`.
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    /// Starts the shutdown.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl App {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        App::build_with_clock(settings, Clock::system()).await
    }

    /// Builds with the given clock (tests move a manual clock).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<App> {
        settings.validate()?;
        crate::health::install_panic_hook();
        let db = Db::connect(&settings.database_url).await?;
        let lease = crate::engine::presence_lease_ms(settings.heartbeat_ms);
        // One engine object serves both the queue and the seats.
        let (engine, seats): (Arc<dyn QueueEngine>, Arc<dyn SeatEngine>) =
            match settings.engine_kind()? {
                EngineKind::Memory => {
                    let e = Arc::new(MemoryEngine::default().with_lease(lease));
                    (e.clone(), e)
                }
                EngineKind::Redis => {
                    let url = &settings.redis_url;
                    let e = RedisEngine::connect(url, &settings.redis_prefix).await?;
                    let e = Arc::new(e.with_lease(lease));
                    (e.clone(), e)
                }
            };
        let seed_hex = if settings.signing_key.is_empty() {
            db.shared_secret("signing_key_seed", || {
                hex::encode(rand::random::<[u8; 32]>())
            })
            .await?
        } else {
            settings.signing_key.clone()
        };
        let seed: [u8; 32] = hex::decode(&seed_hex)
            .ok()
            .and_then(|b| b.try_into().ok())
            .context("the stored signing key seed is not 32 bytes of hex")?;
        let tokens = Arc::new(TokenIssuer::new(seed, &settings.token_issuer)?);
        let server_secret = db
            .shared_secret("credential_key", || hex::encode(rand::random::<[u8; 32]>()))
            .await?;
        let site_secret =
            (!settings.site_secret.is_empty()).then(|| settings.site_secret.as_bytes().to_vec());
        let identity = Arc::new(Identity::new(server_secret.into_bytes(), site_secret));
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let tasks = Arc::new(crate::health::Tasks::default());
        let hub = Hub::new(
            engine.clone(),
            clock.clone(),
            Duration::from_millis(settings.update_interval_ms),
            Duration::from_millis(settings.heartbeat_ms),
            shutdown_rx.clone(),
            tasks.clone(),
        );
        let rate = NonZeroU32::new(settings.join_rate_per_ip).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(settings.join_burst_per_ip).unwrap_or(NonZeroU32::MIN);
        let join_limiter = Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        ));
        let listener =
            listen(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        let state = AppState {
            settings: Arc::new(settings),
            db,
            engine,
            seats,
            seat_maps: Arc::new(DashMap::new()),
            seat_layouts: Arc::new(DashMap::new()),
            seat_hub: SeatHub::new(),
            hub,
            tokens,
            identity,
            clock,
            events: Arc::new(DashMap::new()),
            join_limiter,
            shutdown: shutdown_rx,
            metrics: Arc::default(),
            tasks,
            reservations: Arc::default(),
            sockets: crate::shutdown::SocketTracker::default(),
        };
        if state.settings.demo {
            create_demo_event(&state).await?;
        }
        crate::scheduler::refresh_events(&state).await?;
        Ok(App {
            listener,
            state,
            shutdown: shutdown_tx,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (tests use it to reach the engine and the database).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A handle that stops the server.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves until the shutdown handle fires, then stops gracefully: no new connections,
    /// in-flight requests finish, every socket closes with 4000 (seat sessions give their
    /// claims back). Returns once all of that is done, or when `shutdown_timeout_ms` has
    /// passed since the stop began, whichever is first.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let App {
            listener,
            state,
            shutdown,
        } = self;
        crate::scheduler::spawn(&state);
        let router = crate::http::router(state.clone());
        let mut stop = state.shutdown.clone();
        // No Nagle: every message is small and must go out at once (with Nagle, a reply
        // waits for the client's delayed ACK, about 40 ms).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .into_future();
        tokio::pin!(serve);
        // Keep the sender alive while serving so the receivers do not see it dropped.
        let _keep = shutdown;
        let mut stop = state.shutdown.clone();
        // `serve` ends only after the stop began (or on an I/O error): either way the
        // sockets are drained below; `early` keeps a finished `serve` from being polled
        // again.
        let early = tokio::select! {
            _ = stopped(&mut stop) => None,
            served = &mut serve => Some(served.context("serving")?),
        };
        let bound = Duration::from_millis(state.settings.shutdown_timeout_ms);
        tracing::info!(
            sockets = state.sockets.open(),
            bound_ms = bound.as_millis() as u64,
            "stopping: closing sockets, finishing requests"
        );
        // axum's graceful shutdown covers plain requests only; upgraded sockets are
        // tracked apart (see `shutdown`). Both share one bound.
        let drain = async {
            let served = match early {
                Some(()) => Ok(()),
                None => serve.await,
            };
            state.sockets.drained().await;
            served
        };
        match tokio::time::timeout(bound, drain).await {
            Ok(served) => served.context("serving")?,
            Err(_) => tracing::warn!(
                sockets = state.sockets.open(),
                "stop bound passed with sockets still open; stopping anyway"
            ),
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Binds with a deep accept backlog: 100,000 buyers arrive in the same second, and the
/// default backlog (128) drops connection bursts into one-second SYN retries.
fn listen(addr: &str) -> anyhow::Result<TcpListener> {
    let addr: SocketAddr = addr.parse()?;
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(4096)?)
}

/// Creates the demo event on first start (once, even with several instances starting).
async fn create_demo_event(state: &AppState) -> anyhow::Result<()> {
    if !state.db.claim_once("demo_event_created").await? || !state.db.events().await?.is_empty() {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let demo = NewEvent {
        name: "The Midnight Orchestra — Live".into(),
        kind: "concert".into(),
        venue: "Olympic Hall, Seoul".into(),
        starts_at_ms: now + 30 * 24 * 3600 * 1000,
        sale_opens_at_ms: Some(now),
        admission_rate: 1.0,
        max_active: 100,
        session_secs: 600,
        grace_secs: 60,
        hold_secs: 300,
        seat_map: Some(SeatMapSpec::demo()),
    };
    let seats = SeatMapSpec::demo().expand().map_err(anyhow::Error::msg)?;
    state.db.create_event(&demo, &seats, now).await?;
    tracing::info!("created the demo event");
    Ok(())
}
