//! The waiting-room socket: `GET /ws/events/{id}/queue`. Bytes in and out live here; the
//! queue logic lives in the engine and the room.

pub mod conn;

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use crate::metrics::Channel;
use conn::{Conn, Incoming};

use crate::app::AppState;
use crate::engine::{Admission, Place};
use crate::events::Event;
use crate::identity::{BuyerId, IdentityError};
use crate::room::View;
use usher_protocol::{ClientMessage, CloseCode, ErrorCode, RoomState, ServerMessage};

/// How long a socket may stay open without sending `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Upgrades with small buffers: an idle waiting socket must stay cheap.
pub async fn queue_socket(
    ws: WebSocketUpgrade,
    Path(event): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let ip = client_ip(&state, peer.ip(), &headers);
    let open = state.sockets.track(); // a stop waits for this socket (crate::shutdown)
    conn::configure(ws, &state).on_upgrade(move |socket| async move {
        let _open = open;
        let mut conn = Conn::new(socket, &state, Channel::Queue, &["join", "leave", "ping"]);
        run(&mut conn, &state, &event, ip).await;
    })
}

fn client_ip(state: &AppState, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if state.settings.trust_forwarded_for {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer
}

async fn run(conn: &mut Conn, state: &AppState, event_param: &str, ip: IpAddr) {
    let mut shutdown = state.shutdown.clone();
    let deadline = tokio::time::sleep(JOIN_TIMEOUT);
    tokio::pin!(deadline);
    // Phase 1: wait for `join`.
    let (credential, user, sig, joined_at) = loop {
        let frame = tokio::select! {
            f = conn.socket.recv() => f,
            _ = &mut deadline => {
                conn.close(CloseCode::JoinTimeout, ErrorCode::JoinTimeout, "no join within 10 seconds").await;
                return;
            }
            _ = shutdown.changed() => {
                conn.close(CloseCode::ServerShutdown, ErrorCode::ServerShutdown, "server restarting; reconnect").await;
                return;
            }
        };
        match conn.read::<ClientMessage>(frame).await {
            Incoming::Message(ClientMessage::Join {
                credential,
                user,
                sig,
            }) => break (credential, user, sig, std::time::Instant::now()),
            Incoming::Message(ClientMessage::Ping {}) => {
                let now = conn.clock.now_ms();
                conn.send(&ServerMessage::Pong {
                    server_time_ms: now,
                })
                .await;
            }
            Incoming::Message(ClientMessage::Leave {}) => {
                conn.error(ErrorCode::NotJoined, "send join first").await;
            }
            Incoming::Skip => {}
            Incoming::Closed | Incoming::Abort => return,
        }
    };
    let Some(event) = state.event(event_param).await else {
        conn.close(
            CloseCode::UnknownEvent,
            ErrorCode::UnknownEvent,
            "no such event",
        )
        .await;
        return;
    };
    if state.join_limiter.check_key(&ip).is_err() {
        conn.close(
            CloseCode::RateLimited,
            ErrorCode::RateLimited,
            "too many joins from this address; retry shortly",
        )
        .await;
        return;
    }
    let (buyer, claim) = match identify(state, event.id, credential, user, sig) {
        Ok(b) => b,
        Err((code, message)) => {
            conn.close(CloseCode::BadCredential, code, &message).await;
            return;
        }
    };
    let joined = match crate::checkpoint::join(state, event.id, buyer, claim).await {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(event = event.id, error = %e, "join failed");
            conn.close(
                CloseCode::Unavailable,
                ErrorCode::Unavailable,
                "the waiting room is unavailable; retry shortly",
            )
            .await;
            return;
        }
    };
    if joined.place == Place::Revoked {
        conn.close(
            CloseCode::Revoked,
            ErrorCode::Revoked,
            "revoked by the organiser",
        )
        .await;
        return;
    }
    let seq = match joined.place {
        Place::Waiting { seq } => Some(seq),
        _ => claim,
    };
    let hello = ServerMessage::Joined {
        event: event.info(),
        buyer: buyer.to_string(),
        credential: state.identity.credential(event.id, buyer, seq),
        resumed: joined.resumed,
    };
    let sent = conn.send(&hello).await;
    state
        .metrics
        .join
        .observe_ms(joined_at.elapsed().as_secs_f64() * 1000.0);
    if !sent {
        return;
    }
    match joined.place {
        Place::Revoked => {
            conn.close(
                CloseCode::Revoked,
                ErrorCode::Revoked,
                "revoked by the organiser",
            )
            .await;
        }
        Place::Admitted(mut a) => {
            a.buyer = buyer.to_string();
            admit(conn, state, &event, &a).await;
        }
        place @ (Place::Pre | Place::Waiting { .. }) => {
            wait(conn, state, &event, buyer, &place, joined.pre, seq).await;
        }
    }
}

/// Phase 2: in line; pushes every view change until admitted or gone.
async fn wait(
    conn: &mut Conn,
    state: &AppState,
    event: &Event,
    buyer: BuyerId,
    place: &Place,
    pre: u64,
    mut credited: Option<u64>,
) {
    let room = state.hub.room(event.id);
    let mut att = room.attach(buyer, place, pre, &state.hub);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            changed = att.rx.changed() => {
                if changed.is_err() { return; }
                let view = att.rx.borrow_and_update().clone();
                match view {
                    View::Pending => {}
                    View::Admitted(a) => {
                        drop(att);
                        let decided = a.exp_ms - event.session_secs * 1000;
                        let late = (state.clock.now_ms() - decided) as f64;
                        state.metrics.admission_push.observe_ms(late);
                        admit(conn, state, event, &a).await;
                        return;
                    }
                    View::Revoked => {
                        conn.close(CloseCode::Revoked, ErrorCode::Revoked, "revoked by the organiser").await;
                        return;
                    }
                    View::Gone => {
                        conn.close_only(CloseCode::Done, "no longer in line").await;
                        return;
                    }
                    View::Lost => {
                        let why = "your place in line was lost; join again for a new place";
                        conn.close(CloseCode::PlaceLost, ErrorCode::PlaceLost, why).await;
                        return;
                    }
                    View::Waiting { seq, .. } if credited != Some(seq) => {
                        // The buyer has a number now (the pre-queue was drawn): hand over
                        // a credential that carries it.
                        credited = Some(seq);
                        let credential = state.identity.credential(event.id, buyer, Some(seq));
                        let msg = status(&view, conn.clock.now_ms());
                        if !conn.send(&ServerMessage::Credential { credential }).await
                            || !conn.send(&msg).await
                        {
                            return;
                        }
                    }
                    view => {
                        let msg = status(&view, conn.clock.now_ms());
                        if !conn.send(&msg).await {
                            return;
                        }
                    }
                }
            }
            frame = conn.socket.recv() => match conn.read::<ClientMessage>(frame).await {
                Incoming::Message(ClientMessage::Ping {}) => {
                    let now = conn.clock.now_ms();
                    conn.send(&ServerMessage::Pong { server_time_ms: now }).await;
                }
                Incoming::Message(ClientMessage::Join { .. }) => {
                    conn.error(ErrorCode::AlreadyJoined, "already joined on this socket").await;
                }
                Incoming::Message(ClientMessage::Leave {}) => {
                    drop(att);
                    if let Err(e) = state.engine.leave(event.id, buyer).await {
                        tracing::error!(event = event.id, error = %e, "leave failed");
                    }
                    conn.close_only(CloseCode::Done, "left the line").await;
                    return;
                }
                Incoming::Skip => {}
                Incoming::Closed | Incoming::Abort => return,
            },
            _ = shutdown.changed() => {
                conn.close(CloseCode::ServerShutdown, ErrorCode::ServerShutdown, "server restarting; reconnect to keep your place").await;
                return;
            }
        }
    }
}

async fn admit(conn: &mut Conn, state: &AppState, event: &Event, a: &Admission) {
    match state.tokens.issue(event.id, a, event.session_secs * 1000) {
        Ok(token) => {
            let msg = ServerMessage::Admitted {
                token,
                expires_at_ms: a.exp_ms,
                seat_map_url: format!("/events/{}/seats", event.id),
            };
            if conn.send(&msg).await {
                conn.close_only(CloseCode::Done, "admitted").await;
            }
        }
        Err(e) => {
            tracing::error!(event = event.id, error = %e, "signing a token failed");
            conn.close(
                CloseCode::Unavailable,
                ErrorCode::Unavailable,
                "could not issue the entry token; reconnect",
            )
            .await;
        }
    }
}

/// Who is joining, and the queue number their credential carries.
fn identify(
    state: &AppState,
    event: i64,
    credential: Option<String>,
    user: Option<String>,
    sig: Option<String>,
) -> Result<(BuyerId, Option<u64>), (ErrorCode, String)> {
    let refused = |e: IdentityError| (ErrorCode::BadCredential, e.to_string());
    match (credential, user, sig) {
        // A site user's own credential (from an earlier `joined`) may come along: it
        // carries their queue number, which brings them back to it after a store loss.
        (Some(c), Some(u), Some(s)) => {
            let site = state.identity.site_user(event, &u, &s).map_err(refused)?;
            match state.identity.check_credential(event, &c) {
                Ok((buyer, seq)) if buyer == site => Ok((buyer, seq)),
                _ => Err((
                    ErrorCode::AmbiguousIdentity,
                    "the credential belongs to another buyer than the signed user id".into(),
                )),
            }
        }
        (Some(_), Some(_), _) => Err((
            ErrorCode::AmbiguousIdentity,
            "send either a credential or a signed user id, not both".into(),
        )),
        (Some(c), None, _) => state.identity.check_credential(event, &c).map_err(refused),
        (None, Some(u), Some(s)) => state
            .identity
            .site_user(event, &u, &s)
            .map(|b| (b, None))
            .map_err(refused),
        (None, Some(_), None) => Err((ErrorCode::BadCredential, "a user id needs its sig".into())),
        (None, None, _) => Ok((BuyerId::random(), None)),
    }
}

/// The `status` message of a view (pre-queue, waiting or unavailable).
fn status(view: &View, now_ms: i64) -> ServerMessage {
    let (mut state, mut position, mut ahead, mut behind) = (RoomState::Open, None, None, None);
    let (mut expected_wait_secs, mut admission_rate) = (None, 0.0);
    let (mut pre_queue, mut opens_in_ms, mut message) = (None, None, None);
    match view {
        View::Pre {
            pre_queue: n,
            opens_at_ms,
        } => {
            state = RoomState::PreQueue;
            pre_queue = Some(*n);
            opens_in_ms = Some((opens_at_ms - now_ms).max(0));
        }
        View::Waiting {
            ahead: a,
            behind: b,
            wait_secs,
            rate,
            paused,
            sold_out,
            ..
        } => {
            state = if *sold_out {
                RoomState::SoldOut
            } else if *paused {
                RoomState::Paused
            } else {
                RoomState::Open
            };
            (position, ahead, behind) = (Some(a + 1), Some(*a), Some(*b));
            expected_wait_secs = *wait_secs;
            admission_rate = (rate * 1000.0).round() / 1000.0;
        }
        View::Unavailable { ahead: a } => {
            state = RoomState::Unavailable;
            (position, ahead) = (a.map(|a| a + 1), *a);
            message = Some(
                "The line is briefly unavailable. You keep your place; stay on this page.".into(),
            );
        }
        // Never sent as a status (the socket loop handles these first).
        View::Pending | View::Admitted(_) | View::Revoked | View::Gone | View::Lost => {}
    }
    ServerMessage::Status {
        state,
        position,
        ahead,
        behind,
        expected_wait_secs,
        admission_rate,
        pre_queue,
        opens_in_ms,
        server_time_ms: now_ms,
        message,
    }
}
