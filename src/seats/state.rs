//! What the seat map adds to the shared state: this instance's viewers of each event and
//! the published layouts.

use std::ops::Deref;
use std::sync::Arc;

use super::compact::Layouts;
use super::fanout::SeatHub;
use crate::state::AppState;

/// The seat map's state: a cheap clone. Derefs to the shared [`AppState`].
#[derive(Clone)]
pub struct SeatMapState {
    /// The shared state.
    pub app: AppState,
    /// This instance's seat-map viewers.
    pub hub: Arc<SeatHub>,
    /// Seat layouts as served over HTTP, serialized and gzipped once per event.
    pub layouts: Arc<Layouts>,
}

impl Deref for SeatMapState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

impl SeatMapState {
    /// The seat map of an instance, over the shared state.
    pub fn new(app: AppState) -> SeatMapState {
        SeatMapState {
            app,
            hub: SeatHub::new(),
            layouts: Arc::default(),
        }
    }
}
