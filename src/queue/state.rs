//! What the waiting room adds to the shared state: this instance's rooms, its queue-number
//! reservations, and the per-address join limiter.

use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use governor::DefaultKeyedRateLimiter;

use super::hub::Hub;
use super::reservations::Reservations;
use crate::state::AppState;

/// The waiting room's state: a cheap clone. Derefs to the shared [`AppState`].
#[derive(Clone)]
pub struct QueueState {
    /// The shared state.
    pub app: AppState,
    /// This instance's rooms.
    pub hub: Arc<Hub>,
    /// Queue-number reservations in flight (see `super::checkpoint`).
    pub reservations: Arc<Reservations>,
    /// Joins per client address.
    pub join_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Deref for QueueState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl QueueState {
    /// The waiting room of an instance, over the shared state: no rooms yet (each starts
    /// with its first buyer).
    pub fn new(app: AppState) -> QueueState {
        use std::num::NonZeroU32;
        use std::time::Duration;

        use governor::{Quota, RateLimiter};

        let s = &app.settings;
        let hub = Hub::new(
            app.engine.clone(),
            app.bus.clone(),
            app.clock.clone(),
            Duration::from_millis(s.update_interval_ms),
            Duration::from_millis(s.heartbeat_ms),
            app.shutdown.clone(),
            app.tasks.clone(),
        );
        let rate = NonZeroU32::new(s.join_rate_per_ip).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(s.join_burst_per_ip).unwrap_or(NonZeroU32::MIN);
        let join_limiter = Arc::new(RateLimiter::keyed(
            Quota::per_second(rate).allow_burst(burst),
        ));
        QueueState {
            app,
            hub,
            reservations: Arc::default(),
            join_limiter,
        }
    }
}
