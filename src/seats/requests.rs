//! What the seat requests do: `hold`, `release` and `book`, each the engine's atomic step
//! plus its record in the database. The socket ([`super::socket`]) only parses and
//! answers.
//!
//! The buyer names seats by their performance's ids; the engine and the database get the
//! event's ids ([`Session::engine_seats`]), and every answer goes back in the
//! performance's ids.
//!
//! An error answer means nothing changed. So when the server cannot tell whether a
//! change happened (a database answer lost on the way back), it does not answer with a
//! plain error: a booking is looked up by its token's `jti` (unique in `bookings`), and
//! only when it is certainly absent is the failure reported; when the lookup is
//! impossible the answer is `outcome_unknown` and the seats stay protected until a retry
//! of `book` finds out.

use std::sync::atomic::Ordering;
use std::time::Duration;

use usher_protocol::SeatServerMessage;

use super::MAX_SEATS_PER_BUYER;
use super::expiry;
use super::refusal::Refusal;
use super::restore;
use super::socket::Session;
use super::state::SeatMapState;
use crate::db::seats::{Booking, BookingError};
use crate::engine::seats::{Block, SeatRefusal};

/// How long a booking may take in the database before its seats can expire again.
const BOOKING_WINDOW_MS: i64 = 30_000;
/// The booking write gives up after this (inside the window above).
const WRITE_TIMEOUT: Duration = Duration::from_secs(20);
/// Finding out whether a write whose answer was lost committed gives up after this.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Recording a hold gives up after this (the hold is then undone).
const RECORD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long after an order's payment deadline the engine still keeps its seats: a
/// confirmation the database accepted just before the deadline must find them.
pub const CONFIRM_MARGIN_MS: i64 = 60_000;
/// How long seats stay protected (being booked) while a booking's outcome is unknown.
const UNKNOWN_WINDOW_MS: i64 = 600_000;

/// An answer to the buyer, or what was refused.
pub(super) type Reply = Result<SeatServerMessage, Refusal>;

/// A server-side failure after which nothing changed.
fn unavailable(e: anyhow::Error) -> Refusal {
    tracing::error!(error = %e, "seat request failed");
    Refusal::TryAgain
}

/// Runs an engine step; when the engine has no seats yet (a fresh or wiped store), puts
/// them back from the database and runs it once more. (A macro: an async closure's
/// future is not provably `Send` here.)
macro_rules! when_ready {
    ($state:expr, $s:expr, $step:expr) => {{
        match $step.await {
            Ok(Err(SeatRefusal::NotReady)) => {
                let inv = $s.map.inventory();
                match restore::ensure_seats($state, $s.event.id, inv).await {
                    Ok(_) => $step.await,
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }};
}

/// `hold`: the engine's hold, then its record in the database. If the record cannot be
/// written the hold is undone, so a hold the buyer is told about survives a store that
/// loses its data.
pub(super) async fn hold(state: &SeatMapState, s: &mut Session, seats: Vec<u32>) -> Reply {
    let (ev, buyer) = (s.event.id, s.buyer);
    let now = state.clock.now_ms();
    // The current setting, not the one this socket opened with: a patched `hold_secs`
    // applies to every hold taken after the change.
    let hold_secs = state
        .events
        .get(&ev)
        .map_or(s.event.hold_secs, |e| e.hold_secs);
    let hold_ms = hold_secs * 1000;
    let started = std::time::Instant::now();
    let engine_seats = s.engine_seats(&seats);
    let held = when_ready!(
        state,
        s,
        state
            .seats
            .hold(ev, buyer, &engine_seats, now, hold_ms, MAX_SEATS_PER_BUYER)
    );
    let result = match held {
        Ok(Ok(exp)) => record(state, s, &engine_seats, exp, now).await,
        Ok(Err(r)) => Err(Refusal::Engine(local_refusal(s, r))),
        Err(e) => Err(unavailable(e)),
    };
    let m = &state.metrics;
    m.hold.observe_ms(started.elapsed().as_secs_f64() * 1000.0);
    let counter = if result.is_ok() {
        &m.holds_granted
    } else {
        &m.holds_refused
    };
    counter.fetch_add(1, Ordering::Relaxed);
    result.map(|exp| {
        s.mine.extend(seats.iter().copied());
        SeatServerMessage::Held {
            seats,
            expires_at_ms: exp,
        }
    })
}

/// An engine refusal with its seat named by the performance's id, as the buyer knows it.
fn local_refusal(s: &Session, r: SeatRefusal) -> SeatRefusal {
    match r {
        SeatRefusal::UnknownSeat(x) => SeatRefusal::UnknownSeat(s.perf.local(x)),
        SeatRefusal::SeatTaken(x) => SeatRefusal::SeatTaken(s.perf.local(x)),
        SeatRefusal::NotYourSeat(x) => SeatRefusal::NotYourSeat(s.perf.local(x)),
        other => other,
    }
}

/// Writes a granted hold to the database; undoes it in the engine when that fails.
async fn record(
    state: &SeatMapState,
    s: &Session,
    seats: &[u32],
    exp: i64,
    now: i64,
) -> Result<i64, Refusal> {
    let (ev, buyer) = (s.event.id, s.buyer.to_string());
    let write = state.db.record_holds(ev, &buyer, &s.jti, seats, exp, now);
    let e = match tokio::time::timeout(RECORD_TIMEOUT, write).await {
        Ok(Ok(())) => return Ok(exp),
        Ok(Err(e)) => e,
        Err(_) => anyhow::anyhow!("recording the hold timed out"),
    };
    tracing::error!(error = %e, "recording a hold failed; undoing it");
    match state.seats.release(ev, s.buyer, seats).await {
        Ok(Ok(())) => Err(unavailable(e)),
        undo => {
            tracing::error!(?undo, "undoing an unrecorded hold failed");
            Err(Refusal::HoldUnknown)
        }
    }
}

/// `best`: the server picks `count` adjacent seats (of `grade`) and holds them like a
/// `hold` (recorded in the database, undone if that fails). The blocks come from the
/// current states; the engine takes the first still free, so a block taken meanwhile is
/// skipped, and one fresh look is made if every proposal was taken.
pub(super) async fn best(
    state: &SeatMapState,
    s: &mut Session,
    count: u32,
    grade: Option<String>,
) -> Reply {
    if count == 0 {
        return Err(Refusal::BadSeatList);
    }
    if count > MAX_SEATS_PER_BUYER {
        return Err(Refusal::TooManyInRequest);
    }
    if let Some(g) = &grade
        && !s.map.prices.contains_key(g)
    {
        return Err(Refusal::UnknownGrade);
    }
    let (ev, buyer) = (s.event.id, s.buyer);
    let hold_secs = state
        .events
        .get(&ev)
        .map_or(s.event.hold_secs, |e| e.hold_secs);
    let none_together = || Refusal::NoSeatsTogether {
        count,
        grade: grade.clone(),
    };
    for _look in 0..2 {
        let now = state.clock.now_ms();
        let states = match state.seat_reads.fresh(state.seats.as_ref(), ev).await {
            Ok(st) => st,
            Err(e) => return Err(unavailable(e)),
        };
        let n = s.map.seats.len() as u32;
        let first = s.perf.first_seat;
        let here = |seat: &u32| *seat >= first && *seat - first < n;
        let taken: std::collections::HashSet<u32> = states
            .held
            .iter()
            .map(|(seat, _, _)| *seat)
            .chain(states.sold.iter().copied())
            .filter(here)
            .map(|seat| seat - first)
            .collect();
        let blocks: Vec<Block> =
            super::best::blocks(&s.map, count as usize, grade.as_deref(), &taken)
                .into_iter()
                .map(|b| Block {
                    seats: s.engine_seats(&b.seats),
                    left: b.left.map(|x| x.map(|x| x + first)),
                    right: b.right.map(|x| x.map(|x| x + first)),
                })
                .collect();
        if blocks.is_empty() {
            return Err(none_together());
        }
        let held = when_ready!(
            state,
            s,
            state.seats.hold_best(
                ev,
                buyer,
                &blocks,
                now,
                hold_secs * 1000,
                MAX_SEATS_PER_BUYER
            )
        );
        match held {
            Ok(Ok((seats, exp))) => {
                let exp = record(state, s, &seats, exp, now).await?;
                let local = s.local_seats(&seats);
                s.mine.extend(local.iter().copied());
                state.metrics.holds_granted.fetch_add(1, Ordering::Relaxed);
                return Ok(SeatServerMessage::Held {
                    seats: local,
                    expires_at_ms: exp,
                });
            }
            Ok(Err(SeatRefusal::NoBlock)) => continue,
            Ok(Err(r)) => return Err(Refusal::Engine(local_refusal(s, r))),
            Err(e) => return Err(unavailable(e)),
        }
    }
    Err(none_together())
}

/// `release`: the engine's release, then the record goes.
pub(super) async fn release(state: &SeatMapState, s: &mut Session, seats: Vec<u32>) -> Reply {
    let (ev, buyer) = (s.event.id, s.buyer);
    let engine_seats = s.engine_seats(&seats);
    match when_ready!(state, s, state.seats.release(ev, buyer, &engine_seats)) {
        Ok(Ok(())) => {
            let buyer_hex = buyer.to_string();
            let forget = state.db.forget_holds(ev, &buyer_hex, &engine_seats);
            if let Err(e) = forget.await {
                // The engine has released: the row only matters after a store loss, and
                // ends with the hold's expiry anyway.
                tracing::warn!(error = %e, "forgetting released holds failed");
            }
            for seat in &seats {
                s.mine.remove(seat);
            }
            Ok(SeatServerMessage::Released { seats })
        }
        Ok(Err(r)) => Err(Refusal::Engine(local_refusal(s, r))),
        Err(e) => Err(unavailable(e)),
    }
}

/// `book`: confirms every seat the buyer holds. The engine protects them from expiry,
/// the database writes the booking in one transaction, then they are sold for every
/// viewer. A booking already made with this token (an earlier answer lost) is answered
/// again as it is.
pub(super) async fn book(state: &SeatMapState, s: &mut Session) -> Reply {
    if !state.settings.checkout_url.is_empty() {
        return checkout(state, s).await;
    }
    let (ev, buyer, perf) = (s.event.id, s.buyer, s.perf);
    let now = state.clock.now_ms();
    let window = BOOKING_WINDOW_MS;
    let begun = when_ready!(
        state,
        s,
        state
            .seats
            .begin_booking(ev, buyer, perf.index, now, window)
    );
    let seats = match begun {
        Ok(Ok(seats)) => seats,
        Ok(Err(
            r @ (SeatRefusal::NoHold | SeatRefusal::AlreadyBooked | SeatRefusal::HoldExpired),
        )) => {
            // Nothing to book in the engine; but this token may have booked already
            // (an answer lost, then the seats marked sold by the reconciliation). If
            // that cannot be checked, "no hold" might hide a booking: ask for a retry.
            return match state.db.booking_by_jti(&s.jti).await {
                Ok(Some(b)) => Ok(confirm(state, s, b, &[]).await),
                Ok(None) => Err(Refusal::Engine(r)),
                Err(e) => Err(unavailable(e)),
            };
        }
        Ok(Err(r)) => return Err(Refusal::Engine(r)),
        Err(e) => return Err(unavailable(e)),
    };
    let priced: Vec<(u32, i64)> = seats
        .iter()
        .map(|seat| (*seat, s.map.price(*seat).unwrap_or(0)))
        .collect();
    let buyer_hex = buyer.to_string();
    let write = state.db.book(ev, perf, &buyer_hex, &s.jti, &priced, now);
    let written = match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(w) => w,
        Err(_) => Err(BookingError::Other(anyhow::anyhow!(
            "the booking write timed out"
        ))),
    };
    match written {
        Ok((id, total)) => {
            state.metrics.bookings.fetch_add(1, Ordering::Relaxed);
            let b = Booking {
                id,
                seats: seats.clone(),
                total,
            };
            Ok(confirm(state, s, b, &seats).await)
        }
        // The token's booking exists: this is a retry of a booking that went through.
        Err(BookingError::AlreadyBooked) => match state.db.booking_by_jti(&s.jti).await {
            Ok(Some(b)) => Ok(confirm(state, s, b, &seats).await),
            Ok(None) => {
                give_back(state, s, &seats).await;
                Err(Refusal::Engine(SeatRefusal::AlreadyBooked))
            }
            Err(e) => Err(unknown(state, s, e).await),
        },
        Err(BookingError::SeatSold) => {
            give_back(state, s, &seats).await;
            expiry::reconcile_sold(state, ev).await.ok();
            Err(Refusal::SeatSold)
        }
        Err(BookingError::Other(e)) => {
            tracing::warn!(error = %e, "a booking write failed; finding out whether it committed");
            let settle = state.db.settled_booking(ev, &buyer_hex, &s.jti, now);
            match tokio::time::timeout(SETTLE_TIMEOUT, settle).await {
                Ok(Ok(Some(b))) => Ok(confirm(state, s, b, &seats).await),
                Ok(Ok(None)) => {
                    give_back(state, s, &seats).await;
                    Err(unavailable(e))
                }
                Ok(Err(why)) => Err(unknown(state, s, why).await),
                Err(_) => Err(unknown(state, s, anyhow::anyhow!("timed out")).await),
            }
        }
    }
}

/// `book` when the ticket site takes payment: the buyer's holds become one order awaiting
/// payment, due by the earliest hold's expiry (the payment deadline keeps running). The
/// engine keeps the seats from expiry until a little after it, so a confirmation the
/// database accepts in time always finds them; the buyer is sent to the payment page.
/// A retried checkout (an answer lost) gets the same order.
async fn checkout(state: &SeatMapState, s: &mut Session) -> Reply {
    let (ev, buyer, perf) = (s.event.id, s.buyer, s.perf);
    let buyer_hex = buyer.to_string();
    let now = state.clock.now_ms();
    let deadline = match state.db.hold_deadline(ev, &buyer_hex).await {
        Ok(Some(d)) => d,
        // No recorded hold: nothing to check out (the engine says which refusal).
        Ok(None) => now + BOOKING_WINDOW_MS,
        Err(e) => return Err(unavailable(e)),
    };
    let window = (deadline - now).max(0) + CONFIRM_MARGIN_MS;
    let begun = when_ready!(
        state,
        s,
        state
            .seats
            .begin_booking(ev, buyer, perf.index, now, window)
    );
    let seats = match begun {
        Ok(Ok(seats)) => seats,
        Ok(Err(r)) => return Err(Refusal::Engine(r)),
        Err(e) => return Err(unavailable(e)),
    };
    let priced: Vec<(u32, i64)> = seats
        .iter()
        .map(|seat| (*seat, s.map.price(*seat).unwrap_or(0)))
        .collect();
    let write = state
        .db
        .checkout(ev, perf, &buyer_hex, &s.jti, &priced, deadline, now);
    let order = match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(order)) => order,
        Ok(Err(e)) => {
            give_back(state, s, &seats).await;
            return Err(unavailable(e));
        }
        Err(_) => {
            give_back(state, s, &seats).await;
            return Err(unavailable(anyhow::anyhow!("making the order timed out")));
        }
    };
    let payment_url = state
        .settings
        .checkout_url
        .replace("{order}", &order.id.to_string())
        .replace("{token}", &state.identity.order_token(order.id));
    Ok(SeatServerMessage::Checkout {
        order: order.id,
        payment_url,
        seats: order.local_seats().map(|(seat, _)| seat).collect(),
        total: order.total,
        expires_at_ms: order.deadline_ms,
    })
}

/// The booking is in the database: its seats turn sold in the engine (which ends the
/// buyer's entry session), seats of the attempt that it does not have go back to held,
/// and the buyer gets `booked`.
async fn confirm(
    state: &SeatMapState,
    s: &mut Session,
    b: Booking,
    begun: &[u32],
) -> SeatServerMessage {
    let rest: Vec<u32> = begun
        .iter()
        .filter(|seat| !b.seats.contains(seat))
        .copied()
        .collect();
    if !rest.is_empty() {
        give_back(state, s, &rest).await;
    }
    if let Err(e) = state
        .seats
        .end_booking(s.event.id, s.buyer, &b.seats, true)
        .await
    {
        // The database is the truth: the sold-seat reconciliation repairs the engine.
        tracing::error!(error = %e, "ending a booking in the engine failed");
    }
    s.mine.clear();
    SeatServerMessage::Booked {
        booking: b.id,
        seats: s.local_seats(&b.seats),
        total: b.total,
    }
}

/// The booking certainly did not happen: the seats go back to being held.
async fn give_back(state: &SeatMapState, s: &Session, seats: &[u32]) {
    if let Err(e) = state
        .seats
        .end_booking(s.event.id, s.buyer, seats, false)
        .await
    {
        tracing::error!(error = %e, "giving held seats back after a failed booking failed");
    }
}

/// Nobody can tell yet whether the booking committed: the seats stay being booked (kept
/// from expiry for a while longer), and a retry of `book` finds out.
async fn unknown(state: &SeatMapState, s: &Session, e: anyhow::Error) -> Refusal {
    tracing::error!(error = %e, "the outcome of a booking is unknown");
    let now = state.clock.now_ms();
    let kept = state
        .seats
        .begin_booking(s.event.id, s.buyer, s.perf.index, now, UNKNOWN_WINDOW_MS)
        .await;
    if !matches!(kept, Ok(Ok(_))) {
        tracing::error!(?kept, "keeping the seats of an unknown booking failed");
    }
    Refusal::OutcomeUnknown
}
