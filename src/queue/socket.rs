//! The waiting-room socket: `GET /ws/events/{id}/queue`. It reads `join`, hands the buyer
//! to their room and pushes every view the room computes; frames live in `crate::socket`,
//! the queue logic in the engine and the room.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use usher_protocol::{ClientMessage, CloseCode, ServerMessage};

use super::checkpoint;
use super::refusal::Refusal;
use super::state::QueueState;
use super::view::{View, status};
use crate::engine::queue::{Admission, Place};
use crate::events::Event;
use crate::identity::BuyerId;
use crate::socket::{self, Conn, Incoming};
use crate::telemetry::metrics::Channel;

/// How long a socket may stay open without sending `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Upgrades with small buffers: an idle waiting socket must stay cheap.
pub async fn queue_socket(
    ws: WebSocketUpgrade,
    Path(event): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    State(state): State<QueueState>,
) -> Response {
    let ip = client_ip(&state, peer.ip(), &headers);
    let open = state.sockets.track(); // a stop waits for this socket (crate::shutdown)
    socket::configure(ws, &state).on_upgrade(move |socket| async move {
        let _open = open;
        let mut conn = Conn::new(socket, &state, Channel::Queue, ClientMessage::TYPES);
        run(&mut conn, &state, &event, ip).await;
    })
}

fn client_ip(state: &QueueState, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
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

async fn run(conn: &mut Conn, state: &QueueState, event_param: &str, ip: IpAddr) {
    let mut shutdown = state.shutdown.clone();
    let deadline = tokio::time::sleep(JOIN_TIMEOUT);
    tokio::pin!(deadline);
    // Phase 1: wait for `join`.
    let (credential, user, sig, joined_at) = loop {
        let frame = tokio::select! {
            f = conn.socket.recv() => f,
            _ = &mut deadline => {
                conn.refuse(&Refusal::JoinTimeout).await;
                return;
            }
            _ = shutdown.changed() => {
                conn.refuse(&Refusal::ServerShutdown { in_line: false }).await;
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
                conn.refuse(&Refusal::NotJoined).await;
            }
            Incoming::Skip => {}
            Incoming::Closed | Incoming::Abort => return,
        }
    };
    let Some(event) = state.event(event_param).await else {
        conn.refuse(&Refusal::UnknownEvent).await;
        return;
    };
    if event.ended() {
        conn.refuse(&Refusal::SaleEnded).await;
        return;
    }
    if state.join_limiter.check_key(&ip).is_err() {
        conn.refuse(&Refusal::TooManyJoins).await;
        return;
    }
    let (buyer, claim) = match identify(state, event.id, credential, user, sig) {
        Ok(b) => b,
        Err(refused) => {
            conn.refuse(&refused).await;
            return;
        }
    };
    let joined = match checkpoint::join(state, event.id, buyer, claim).await {
        Ok(j) => j,
        Err(e) => {
            tracing::error!(event = event.id, error = %e, "join failed");
            conn.refuse(&Refusal::Unavailable).await;
            return;
        }
    };
    if joined.place == Place::Revoked {
        conn.refuse(&Refusal::Revoked).await;
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
        grace_secs: u64::try_from(event.grace_secs).ok(),
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
            conn.refuse(&Refusal::Revoked).await;
        }
        Place::Admitted(a) => {
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
    state: &QueueState,
    event: &Event,
    buyer: BuyerId,
    place: &Place,
    pre: u64,
    mut credited: Option<u64>,
) {
    let room = state.hub.room(event.id);
    let mut att = room.attach(buyer, place, pre, state.hub.context());
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
                        conn.refuse(&Refusal::Revoked).await;
                        return;
                    }
                    View::Gone => {
                        conn.close_only(CloseCode::Done, "no longer in line").await;
                        return;
                    }
                    View::Lost => {
                        conn.refuse(&Refusal::PlaceLost).await;
                        return;
                    }
                    View::Ended => {
                        // The words first, as a status the page shows; then the refusal
                        // and its close.
                        let msg = status(&view, conn.clock.now_ms());
                        if conn.send(&msg).await {
                            conn.refuse(&Refusal::SaleEnded).await;
                        }
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
                    conn.refuse(&Refusal::AlreadyJoined).await;
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
                conn.refuse(&Refusal::ServerShutdown { in_line: true }).await;
                return;
            }
        }
    }
}

async fn admit(conn: &mut Conn, state: &QueueState, event: &Event, a: &Admission) {
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
            conn.refuse(&Refusal::TokenFailed).await;
        }
    }
}

/// Who is joining, and the queue number their credential carries.
fn identify(
    state: &QueueState,
    event: i64,
    credential: Option<String>,
    user: Option<String>,
    sig: Option<String>,
) -> Result<(BuyerId, Option<u64>), Refusal> {
    match (credential, user, sig) {
        // A site user's own credential (from an earlier `joined`) may come along: it
        // carries their queue number, which brings them back to it after a store loss.
        (Some(c), Some(u), Some(s)) => {
            let site = state
                .identity
                .site_user(event, &u, &s)
                .map_err(Refusal::BadCredential)?;
            match state.identity.check_credential(event, &c) {
                Ok((buyer, seq)) if buyer == site => Ok((buyer, seq)),
                _ => Err(Refusal::CredentialOfAnother),
            }
        }
        (Some(_), Some(_), None) => Err(Refusal::BothIdentities),
        (Some(c), None, _) => state
            .identity
            .check_credential(event, &c)
            .map_err(Refusal::BadCredential),
        (None, Some(u), Some(s)) => state
            .identity
            .site_user(event, &u, &s)
            .map(|b| (b, None))
            .map_err(Refusal::BadCredential),
        (None, Some(_), None) => Err(Refusal::MissingSig),
        (None, None, _) => Ok((BuyerId::random(), None)),
    }
}
