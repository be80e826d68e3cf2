//! The seat-map socket: `GET /ws/events/{id}/seats`. Requires a valid entry token for the
//! event; one live session per token; a snapshot, then every change as a small delta.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use usher_protocol::{CloseCode, SeatClientMessage, SeatServerMessage, SeatState};

use super::MAX_SEATS_PER_BUYER;
use super::refusal::Refusal;
use super::state::SeatMapState;
use super::{requests, restore};
use crate::db::seats::SeatMap;
use crate::engine::seats::{AdmissionProof, SessionClaim};
use crate::events::{Event, PerformanceRef};
use crate::identity::BuyerId;
use crate::socket::{self, Conn, Incoming};
use crate::telemetry::metrics::Channel;

const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a live session renews its claim on the token (and rechecks it is still on).
const CLAIM_EVERY: Duration = Duration::from_secs(5);
/// A claim not renewed for this long belongs to a dead socket and may be taken over.
const CLAIM_STALE_MS: i64 = 15_000;

/// Upgrades with the waiting room's small buffers, but room to send the largest snapshot.
pub async fn seat_socket(
    ws: WebSocketUpgrade,
    Path(event): Path<String>,
    State(state): State<SeatMapState>,
) -> Response {
    let open = state.sockets.track(); // a stop waits for this socket (crate::shutdown)
    socket::configure_seats(ws, &state).on_upgrade(move |socket| async move {
        let _open = open;
        let mut conn = Conn::new(socket, &state, Channel::Seats, SeatClientMessage::TYPES);
        run(&mut conn, &state, &event).await;
    })
}

/// A granted seat-map session, of one performance.
pub(super) struct Session {
    pub(super) event: Event,
    pub(super) map: Arc<SeatMap>,
    /// The performance shown; the socket speaks its own seat ids, the engine and the
    /// database the event's (`perf.first_seat + id`).
    pub(super) perf: PerformanceRef,
    pub(super) buyer: BuyerId,
    pub(super) jti: String,
    sid: String,
    session_exp_ms: i64,
    /// Seats this buyer holds in this performance, as far as this socket knows (the
    /// performance's ids).
    pub(super) mine: BTreeSet<u32>,
}

impl Session {
    /// The engine ids of some of this performance's seats.
    pub(super) fn engine_seats(&self, seats: &[u32]) -> Vec<u32> {
        seats.iter().map(|s| self.perf.first_seat + s).collect()
    }

    /// This performance's ids of some of its engine seats.
    pub(super) fn local_seats(&self, seats: &[u32]) -> Vec<u32> {
        seats.iter().map(|s| self.perf.local(*s)).collect()
    }
}

async fn run(conn: &mut Conn, state: &SeatMapState, event_param: &str) {
    let Some((token, performance)) = wait_for_auth(conn, state).await else {
        return;
    };
    let Some(event) = state.event(event_param).await else {
        conn.refuse(&Refusal::UnknownEvent).await;
        return;
    };
    let Some(map) = state.seat_map(event.id).await else {
        conn.refuse(&Refusal::NoSeatMap).await;
        return;
    };
    let inv = map.inventory();
    if performance.unwrap_or(0) >= inv.performances {
        conn.refuse(&Refusal::UnknownPerformance).await;
        return;
    }
    let perf = inv.performance(performance.unwrap_or(0));
    let claims = match state.tokens.verify(&token, event.id, state.clock.now_ms()) {
        Ok(c) => c,
        Err(e) => {
            conn.refuse(&Refusal::Token(e)).await;
            return;
        }
    };
    let Some(buyer) = BuyerId::parse(&claims.sub) else {
        conn.refuse(&Refusal::BadSubject).await;
        return;
    };
    let mut session = Session {
        event,
        map,
        perf,
        buyer,
        jti: claims.jti,
        sid: hex::encode(rand::random::<[u8; 12]>()),
        session_exp_ms: claims.exp * 1000,
        mine: BTreeSet::new(),
    };
    if claim(conn, state, &session).await {
        serve(conn, state, &mut session).await;
    }
    let _ = state
        .seats
        .release_session(session.event.id, &session.jti, &session.sid)
        .await;
}

async fn wait_for_auth(conn: &mut Conn, state: &SeatMapState) -> Option<(String, Option<u32>)> {
    let mut shutdown = state.shutdown.clone();
    let deadline = tokio::time::sleep(AUTH_TIMEOUT);
    tokio::pin!(deadline);
    loop {
        let frame = tokio::select! {
            f = conn.socket.recv() => f,
            _ = &mut deadline => {
                conn.refuse(&Refusal::AuthTimeout).await;
                return None;
            }
            _ = crate::shutdown::stopped(&mut shutdown) => {
                conn.refuse(&Refusal::ServerShutdown).await;
                return None;
            }
        };
        match conn.read::<SeatClientMessage>(frame).await {
            Incoming::Message(SeatClientMessage::Auth { token, performance }) => {
                return Some((token, performance));
            }
            Incoming::Message(SeatClientMessage::Ping {}) => {
                let now = conn.clock.now_ms();
                conn.send(&SeatServerMessage::Pong {
                    server_time_ms: now,
                })
                .await;
            }
            Incoming::Message(_) => {
                conn.refuse(&Refusal::NotAuthenticated).await;
            }
            Incoming::Skip => {}
            Incoming::Closed | Incoming::Abort => return None,
        }
    }
}

/// Claims (or renews the claim on) the token's one live session; closes when refused.
/// An engine that lost its state gets the seats and the admission back first.
async fn claim(conn: &mut Conn, state: &SeatMapState, s: &Session) -> bool {
    let proof = AdmissionProof {
        seq: restore::seq_of(&s.jti),
        jti: &s.jti,
        exp_ms: s.session_exp_ms,
    };
    let claimed = restore::claim(
        state,
        s.event.id,
        s.map.inventory(),
        s.buyer,
        &s.sid,
        proof,
        CLAIM_STALE_MS,
    )
    .await;
    let refusal = match claimed {
        Ok(SessionClaim::Granted) => return true,
        Ok(SessionClaim::InUse) => Refusal::SessionInUse,
        Ok(SessionClaim::Ended) => Refusal::SessionOver,
        Ok(SessionClaim::Revoked) => Refusal::Revoked,
        Ok(SessionClaim::Unknown | SessionClaim::NotReady) => Refusal::Unavailable,
        Err(e) => {
            tracing::error!(error = %e, "claiming a seat-map session failed");
            Refusal::Unavailable
        }
    };
    conn.refuse(&refusal).await;
    false
}

/// The snapshot: states 2 bits a seat (about 33 KB for 100,000 seats, whatever is held
/// or sold) and where the layout is, so it always fits the socket's write buffer.
async fn snapshot(state: &SeatMapState, s: &mut Session) -> anyhow::Result<SeatServerMessage> {
    let states = state
        .seat_reads
        .fresh(state.seats.as_ref(), s.event.id)
        .await?;
    let bought = state
        .seats
        .bought(s.event.id, s.buyer, s.perf.index)
        .await?;
    let layout = state.layouts.published(s.event.id, s.map.clone()).await?;
    let me = s.buyer.to_string();
    let count = s.map.seats.len();
    // This performance's seats, in its own ids.
    let (first, perf) = (s.perf.first_seat, s.perf);
    let here = move |seat: &u32| *seat >= first && perf.local(*seat) < count as u32;
    let held: Vec<(u32, &str, i64)> = states
        .held
        .iter()
        .filter(|(seat, _, _)| here(seat))
        .map(|(seat, by, exp)| (perf.local(*seat), by.as_str(), *exp))
        .collect();
    let sold = states
        .sold
        .iter()
        .filter(|s| here(s))
        .map(|s| perf.local(*s));
    let mine: Vec<(u32, i64)> = held
        .iter()
        .filter(|(_, by, _)| *by == me)
        .map(|(seat, _, exp)| (*seat, *exp))
        .collect();
    s.mine = mine.iter().map(|(seat, _)| *seat).collect();
    Ok(SeatServerMessage::Snapshot {
        event: s.event.id,
        performance: s.perf.index,
        layout_url: format!(
            "/api/events/{}/seats/layout?v={}",
            s.event.id,
            layout.version()
        ),
        layout_etag: layout.etag.clone(),
        seat_count: count as u32,
        states: usher_protocol::states::encode(count, held.iter().map(|(seat, _, _)| *seat), sold),
        mine: s.mine.iter().copied().collect(),
        hold_expires_at_ms: mine.iter().map(|(_, exp)| *exp).min(),
        session_expires_at_ms: s.session_exp_ms,
        max_seats: MAX_SEATS_PER_BUYER,
        bought,
        hold_secs: s.event.hold_secs,
        server_time_ms: state.clock.now_ms(),
    })
}

async fn serve(conn: &mut Conn, state: &SeatMapState, s: &mut Session) {
    // Subscribe before reading the states, so no change falls between the two (and, on
    // an engine that hears only the events it is asked for, listen to this one first).
    state.bus.listen(s.event.id).await;
    let mut changes = state
        .hub
        .subscribe(s.event.id, s.perf.first_seat, s.map.seats.len() as u32);
    match snapshot(state, s).await {
        Ok(snap) => {
            if !conn.send(&snap).await {
                return;
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "seat snapshot failed");
            conn.refuse(&Refusal::Unavailable).await;
            return;
        }
    }
    let mut renew =
        tokio::time::interval_at(tokio::time::Instant::now() + CLAIM_EVERY, CLAIM_EVERY);
    let left = (s.session_exp_ms - state.clock.now_ms()).max(0) as u64;
    let session_end = tokio::time::sleep(Duration::from_millis(left));
    tokio::pin!(session_end);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            frame = conn.socket.recv() => match conn.read::<SeatClientMessage>(frame).await {
                Incoming::Message(msg) => {
                    if !handle(conn, state, s, msg).await {
                        return;
                    }
                }
                Incoming::Skip => {}
                Incoming::Closed | Incoming::Abort => return,
            },
            delta = changes.recv() => match delta {
                Ok(delta) if delta.resync => {
                    if !resnapshot(conn, state, s).await {
                        return;
                    }
                }
                Ok(delta) => {
                    if !conn.send_text(delta.text.clone()).await {
                        return;
                    }
                    let expired: Vec<u32> = delta
                        .changes
                        .iter()
                        .filter(|(seat, st)| *st == SeatState::Free && s.mine.remove(seat))
                        .map(|(seat, _)| *seat)
                        .collect();
                    if !expired.is_empty() {
                        conn.send(&SeatServerMessage::Expired { seats: expired }).await;
                    }
                }
                // Fell behind: a fresh compact snapshot replaces the missed deltas.
                Err(RecvError::Lagged(_)) => {
                    if !resnapshot(conn, state, s).await {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            _ = renew.tick() => {
                if !claim(conn, state, s).await {
                    return;
                }
            }
            _ = &mut session_end => {
                conn.refuse(&Refusal::SessionEnded).await;
                return;
            }
            _ = crate::shutdown::stopped(&mut shutdown) => {
                // Give the claim back before the client hears 4000 and reconnects.
                let _ = state.seats.release_session(s.event.id, &s.jti, &s.sid).await;
                conn.refuse(&Refusal::ServerShutdown).await;
                return;
            }
        }
    }
}

/// Sends a fresh snapshot after missed changes; false when the socket must end (a viewer
/// that cannot take even that within the send timeout is dropped).
async fn resnapshot(conn: &mut Conn, state: &SeatMapState, s: &mut Session) -> bool {
    match snapshot(state, s).await {
        Ok(snap) => conn.send(&snap).await,
        Err(e) => {
            tracing::error!(error = %e, "seat snapshot failed");
            conn.refuse(&Refusal::Unavailable).await;
            false
        }
    }
}

/// Checks a seat list: 1 to 4 distinct seats of this map.
fn check_list(map: &SeatMap, seats: &[u32]) -> Result<(), Refusal> {
    let distinct: BTreeSet<_> = seats.iter().collect();
    if seats.is_empty() || distinct.len() != seats.len() {
        return Err(Refusal::BadSeatList);
    }
    if seats.len() > MAX_SEATS_PER_BUYER as usize {
        return Err(Refusal::TooManyInRequest);
    }
    if let Some(bad) = seats.iter().find(|s| **s as usize >= map.seats.len()) {
        return Err(Refusal::Engine(
            crate::engine::seats::SeatRefusal::UnknownSeat(*bad),
        ));
    }
    Ok(())
}

/// Answers one request; false when the socket must end.
async fn handle(
    conn: &mut Conn,
    state: &SeatMapState,
    s: &mut Session,
    msg: SeatClientMessage,
) -> bool {
    let now = state.clock.now_ms();
    let reply = match msg {
        SeatClientMessage::Ping {} => Ok(SeatServerMessage::Pong {
            server_time_ms: now,
        }),
        SeatClientMessage::Auth { .. } => Err(Refusal::AlreadyAuthenticated),
        SeatClientMessage::Hold { seats } => match check_list(&s.map, &seats) {
            Err(e) => Err(e),
            Ok(()) => requests::hold(state, s, seats).await,
        },
        SeatClientMessage::Release { seats } => match check_list(&s.map, &seats) {
            Err(e) => Err(e),
            Ok(()) => requests::release(state, s, seats).await,
        },
        SeatClientMessage::Best { count, grade } => requests::best(state, s, count, grade).await,
        SeatClientMessage::Book {} => match requests::book(state, s).await {
            Ok(answer) => {
                // Booked, or sent to pay: either way this socket's work is done.
                let reason = match answer {
                    SeatServerMessage::Checkout { .. } => "checkout",
                    _ => "booked",
                };
                conn.send(&answer).await;
                conn.close_only(CloseCode::Done, reason).await;
                return false;
            }
            Err(e) => Err(e),
        },
    };
    match reply {
        Ok(m) => conn.send(&m).await,
        Err(refusal) => conn.refuse(&refusal).await,
    }
}
