//! Building and running the server: what `main` calls and what tests start on port 0.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use dashmap::DashMap;
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::db::OutboxSettings;
use crate::engine::bus::BusMessage;
use crate::events::layout::SeatMapSpec;
use crate::events::{NewEvent, NewPerformance};
use crate::http::ServerState;
use crate::identity::Identity;
use crate::queue::state::QueueState;
use crate::seats::state::SeatMapState;
use crate::shutdown::stopped;
use crate::state::{AppState, every};
use crate::token::TokenIssuer;

/// A built server, bound to its port but not yet serving.
pub struct App {
    listener: TcpListener,
    state: ServerState,
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
        crate::telemetry::health::install_panic_hook();
        let outbox = settings.webhooks_on().then(|| OutboxSettings {
            retry_ms: (settings.webhook_retry_secs as i64).saturating_mul(1000),
        });
        let db = Db::connect(&settings.database_url)
            .await?
            .with_outbox(outbox);
        let engines = crate::engine::connect(&settings).await?;
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
        let listener =
            listen(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        let app = AppState {
            settings: Arc::new(settings),
            db,
            engine: engines.queue,
            seats: engines.seats,
            seat_reads: Arc::default(),
            bus: engines.bus,
            events: Arc::new(DashMap::new()),
            seat_maps: Arc::new(DashMap::new()),
            tokens,
            identity,
            clock,
            shutdown: shutdown_rx,
            metrics: Arc::default(),
            tasks: Arc::default(),
            sockets: crate::shutdown::SocketTracker::default(),
        };
        let state = ServerState {
            queue: QueueState::new(app.clone()),
            seat_map: SeatMapState::new(app.clone()),
            app,
        };
        if state.settings.demo {
            create_demo_event(&state).await?;
        }
        refresh_events(&state).await?;
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

    /// The server's state (tests use it to reach the engine and the database).
    pub fn state(&self) -> &ServerState {
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
        spawn_loops(&state);
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

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Creates the demo events on first start (once, even with several instances starting):
/// a concert of 340 seats on three dates and a 50,000-seat ballpark.
async fn create_demo_event(state: &AppState) -> anyhow::Result<()> {
    if !state.db.claim_once("demo_event_created").await? || !state.db.events().await?.is_empty() {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let demo = NewEvent {
        name: "The Midnight Orchestra — Live".into(),
        kind: "concert".into(),
        venue: "Olympic Hall, Seoul".into(),
        starts_at_ms: Some(now + 30 * DAY),
        starts_at: None,
        sale_opens_at_ms: Some(now),
        sale_opens_at: None,
        admission_rate: 1.0,
        max_active: 100,
        session_secs: 600,
        grace_secs: 60,
        hold_secs: 300,
        seat_map: Some(SeatMapSpec::demo()),
        // Three dates, each with its own seats: the buyer picks one, then seats.
        performances: Some(
            [
                (30 * DAY, "Opening night"),
                (31 * DAY, "Second night"),
                (32 * DAY - 6 * HOUR, "Sunday matinee"),
            ]
            .into_iter()
            .map(|(after, label)| NewPerformance {
                starts_at_ms: Some(now + after),
                starts_at: None,
                label: label.into(),
            })
            .collect(),
        ),
    };
    create_demo(state, &demo, now).await?;
    let stadium = NewEvent {
        name: "usher Stadium — Baseball postseason, game 1".into(),
        kind: "sports".into(),
        venue: "usher Stadium, Seoul".into(),
        starts_at_ms: Some(now + 20 * DAY),
        // A big sale lets buyers in faster, and in greater number, than a small hall.
        admission_rate: 20.0,
        max_active: 2000,
        seat_map: Some(SeatMapSpec::stadium()),
        performances: None,
        ..demo
    };
    // Writing 50,180 seats takes seconds (2.5 s in a debug build on an SQLite file): in
    // the background, so that the server serves the concert at once. The event refresh
    // (every 2 s) gives the stadium to the engine once it is stored. Should the process
    // stop meanwhile, its transaction is dropped and the stadium is simply not there.
    let state = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match create_demo(&state, &stadium, now).await {
            Ok(()) => tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "created the demo stadium (50,180 seats)"
            ),
            Err(e) => tracing::warn!(error = %e, "the demo stadium was not created"),
        }
    });
    Ok(())
}

async fn create_demo(state: &AppState, new: &NewEvent, now: i64) -> anyhow::Result<()> {
    let seats = match &new.seat_map {
        Some(map) => map.expand().map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    };
    let times = new.validate().map_err(anyhow::Error::msg)?;
    state.db.create_event(new, &times, &seats, now).await?;
    tracing::info!(name = %new.name, "created a demo event");
    Ok(())
}

/// Starts every background loop of the instance, each supervised (a loop that fails is
/// restarted and shows in `/healthz` meanwhile): admission and checkpoints, hold expiry,
/// webhook delivery (when configured), the event refresh, and the bus.
fn spawn_loops(state: &ServerState) {
    crate::queue::admission::spawn(&state.queue);
    crate::seats::expiry::spawn(&state.seat_map);
    crate::webhooks::spawn(&state.app);
    let s = state.clone();
    state
        .tasks
        .supervise("event refresh".into(), move || refresh_loop(s.clone()));
    let s = state.clone();
    state
        .tasks
        .supervise("bus".into(), move || bus_loop(s.clone()));
}

/// Loads every event from the database into the cache, and gives the engine the room
/// settings and the seats of any event it does not know yet (a new event, a fresh Redis,
/// a restarted memory engine), with the database's holds and sales. Then looks for the
/// sale's notices (`sale.opened`, sold out, back on sale).
async fn refresh_events(state: &ServerState) -> anyhow::Result<()> {
    for event in state.db.events().await? {
        let id = event.id;
        state
            .engine
            .ensure_configured(id, &event.room_config())
            .await?;
        state.events.insert(id, event.clone());
        crate::seats::expiry::refresh(&state.seat_map, id).await?;
        crate::webhooks::notices::look(&state.app, &event).await;
    }
    Ok(())
}

async fn refresh_loop(state: ServerState) {
    let mut ticks = every(Duration::from_secs(2));
    while state.tick(&mut ticks).await {
        if let Err(e) = refresh_events(&state).await {
            tracing::warn!(error = %e, "refreshing events failed");
        }
    }
}

/// Carries every instance's changes to this instance's rooms and seat maps.
/// When the engine reports a gap (a subscription lost and made again), they resync too.
async fn bus_loop(state: ServerState) {
    let mut bus = state.bus.subscribe();
    let mut gaps = state.bus.gaps();
    let mut shutdown = state.shutdown.clone();
    loop {
        let msg = tokio::select! {
            _ = stopped(&mut shutdown) => return,
            msg = bus.recv() => msg,
            gap = async { gaps.as_mut()?.changed().await.ok() }, if gaps.is_some() => {
                match gap {
                    Some(()) => {
                        tracing::info!("bus subscription restored; resyncing rooms and seat maps");
                        state.queue.hub.resync_all();
                        state.seat_map.hub.resync_all();
                    }
                    None => gaps = None,
                }
                continue;
            }
        };
        match msg {
            Ok(msg) => {
                if let BusMessage::Config { e } = &msg
                    && let Err(err) = state.reload_event(*e).await
                {
                    tracing::warn!(event = e, error = %err, "reloading an event failed");
                }
                state.queue.hub.on_bus(&msg);
                state.seat_map.hub.on_bus(&msg);
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "bus lagged; resyncing rooms and seat maps");
                state.queue.hub.resync_all();
                state.seat_map.hub.resync_all();
            }
            Err(RecvError::Closed) => return,
        }
    }
}
