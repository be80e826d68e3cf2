//! Looking for what the ticket site is told about a sale as a whole: `sale.opened` once
//! its opening time has passed, and `event.sold_out` / `event.back_on_sale` as its seats
//! sell out and come back. Every instance looks, at each event refresh (every 2 s);
//! `crate::db::notices` makes exactly one of them record each notice, with its webhook
//! in the same transaction.

use crate::events::Event;
use crate::state::AppState;

/// One look at `event` (as just read from the database) at the clock's time. Failures
/// are logged: the next refresh looks again.
pub async fn look(state: &AppState, event: &Event) {
    if event.ended() {
        return;
    }
    let now = state.clock.now_ms();
    if event.sale_opens_at_ms <= now
        && let Err(e) = state.db.notice_sale_opened(event.id, now).await
    {
        tracing::warn!(event = event.id, error = %e, "recording sale.opened failed");
    }
    // A seat map (and its performances) is fixed at creation: its size is taken from the
    // cache; every performance counts.
    let Some(map) = state.seat_map(event.id).await else {
        return;
    };
    let seats = i64::from(map.inventory().total());
    if let Err(e) = state.db.notice_availability(event.id, seats, now).await {
        tracing::warn!(event = event.id, error = %e, "recording an availability notice failed");
    }
}
