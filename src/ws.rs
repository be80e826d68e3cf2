//! The waiting-room socket: `GET /ws/events/{id}/queue`. Bytes in and out live here; the
//! queue logic lives in the engine and the room.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use governor::{Quota, RateLimiter};

use crate::app::AppState;
use crate::engine::{Admission, Place};
use crate::events::Event;
use crate::identity::{BuyerId, IdentityError};
use crate::protocol::{ClientMessage, CloseCode, ErrorCode, EventInfo, RoomState, ServerMessage};
use crate::room::View;

/// How long a socket may stay open without sending `join`.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one send may take before the client counts as too slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Malformed messages tolerated on one socket before it is closed.
const MAX_BAD_MESSAGES: u32 = 20;

/// Upgrades with small buffers: an idle waiting socket must stay cheap.
pub async fn queue_socket(
    ws: WebSocketUpgrade,
    Path(event): Path<String>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let ip = client_ip(&state, peer.ip(), &headers);
    // Frames up to 16x the limit are read whole and refused with close 4504; larger ones
    // break the connection at the protocol layer (no close frame can follow them).
    let hard_max = state.settings.max_message_bytes * 16;
    ws.read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(hard_max)
        .max_frame_size(hard_max)
        .on_upgrade(move |socket| async move {
            let mut conn = Conn::new(socket, &state);
            conn.run(&state, &event, ip).await;
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

/// What one incoming frame turned out to be.
enum Incoming {
    Message(ClientMessage),
    Closed,
    /// Handled (an error was sent, or a control frame); keep going.
    Skip,
    /// The socket must close (already closed with a code).
    Abort,
}

struct Conn {
    socket: WebSocket,
    limiter: governor::DefaultDirectRateLimiter,
    bad_messages: u32,
    server_time: crate::clock::Clock,
    max_message_bytes: usize,
}

impl Conn {
    fn new(socket: WebSocket, state: &AppState) -> Conn {
        let per_sec =
            NonZeroU32::new(state.settings.messages_per_socket).unwrap_or(NonZeroU32::MIN);
        let burst = per_sec.saturating_mul(NonZeroU32::new(2).expect("2 > 0"));
        Conn {
            socket,
            limiter: RateLimiter::direct(Quota::per_second(per_sec).allow_burst(burst)),
            bad_messages: 0,
            server_time: state.clock.clone(),
            max_message_bytes: state.settings.max_message_bytes,
        }
    }

    async fn send(&mut self, msg: &ServerMessage) -> bool {
        let text = serde_json::to_string(msg).expect("server messages serialize");
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text.into()))).await,
            Ok(Ok(()))
        )
    }

    async fn error(&mut self, code: ErrorCode, message: &str) -> bool {
        self.send(&ServerMessage::Error {
            code,
            message: message.to_owned(),
        })
        .await
    }

    /// Sends an `error` with the reason, then closes with `close`.
    async fn close(&mut self, close: CloseCode, code: ErrorCode, message: &str) {
        self.error(code, message).await;
        self.close_only(close, message).await;
    }

    async fn close_only(&mut self, close: CloseCode, reason: &str) {
        let frame = CloseFrame {
            code: close.code(),
            reason: Utf8Bytes::from(reason.chars().take(100).collect::<String>()),
        };
        let _ =
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Close(Some(frame)))).await;
    }

    /// Reads one frame and turns it into a protocol message, answering bad input.
    async fn read(&mut self, frame: Option<Result<Message, axum::Error>>) -> Incoming {
        let text = match frame {
            None | Some(Ok(Message::Close(_))) => return Incoming::Closed,
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(_))) => {
                self.close(
                    CloseCode::BinaryFrame,
                    ErrorCode::BinaryFrame,
                    "binary frames are not supported; send JSON text",
                )
                .await;
                return Incoming::Abort;
            }
            Some(Ok(_)) => return Incoming::Skip, // ping / pong: answered by the library
            Some(Err(e)) => {
                let too_big =
                    e.to_string().contains("too long") || e.to_string().contains("too big");
                if too_big {
                    self.close(
                        CloseCode::MessageTooBig,
                        ErrorCode::MessageTooBig,
                        "message too big",
                    )
                    .await;
                }
                return Incoming::Abort;
            }
        };
        if text.len() > self.max_message_bytes {
            self.close(
                CloseCode::MessageTooBig,
                ErrorCode::MessageTooBig,
                "message too big",
            )
            .await;
            return Incoming::Abort;
        }
        if self.limiter.check().is_err() {
            self.error(
                ErrorCode::RateLimited,
                "too many messages; this one was ignored",
            )
            .await;
            return self.strike().await;
        }
        match serde_json::from_str::<ClientMessage>(&text) {
            Ok(msg) => Incoming::Message(msg),
            Err(_) => {
                let (code, message) = classify_bad(&text);
                self.error(code, &message).await;
                self.strike().await
            }
        }
    }

    async fn strike(&mut self) -> Incoming {
        self.bad_messages += 1;
        if self.bad_messages >= MAX_BAD_MESSAGES {
            self.close(
                CloseCode::ProtocolViolation,
                ErrorCode::ProtocolViolation,
                "too many bad messages",
            )
            .await;
            return Incoming::Abort;
        }
        Incoming::Skip
    }

    async fn run(&mut self, state: &AppState, event_param: &str, ip: IpAddr) {
        let mut shutdown = state.shutdown.clone();
        let deadline = tokio::time::sleep(JOIN_TIMEOUT);
        tokio::pin!(deadline);
        // Phase 1: wait for `join`.
        let (credential, user, sig) = loop {
            let frame = tokio::select! {
                f = self.socket.recv() => f,
                _ = &mut deadline => {
                    self.close(CloseCode::JoinTimeout, ErrorCode::JoinTimeout, "no join within 10 seconds").await;
                    return;
                }
                _ = shutdown.changed() => {
                    self.close(CloseCode::ServerShutdown, ErrorCode::ServerShutdown, "server restarting; reconnect").await;
                    return;
                }
            };
            match self.read(frame).await {
                Incoming::Message(ClientMessage::Join {
                    credential,
                    user,
                    sig,
                }) => break (credential, user, sig),
                Incoming::Message(ClientMessage::Ping {}) => {
                    let now = self.server_time.now_ms();
                    self.send(&ServerMessage::Pong {
                        server_time_ms: now,
                    })
                    .await;
                }
                Incoming::Message(ClientMessage::Leave {}) => {
                    self.error(ErrorCode::NotJoined, "send join first").await;
                }
                Incoming::Skip => {}
                Incoming::Closed | Incoming::Abort => return,
            }
        };
        let Some(event) = state.event(event_param).await else {
            self.close(
                CloseCode::UnknownEvent,
                ErrorCode::UnknownEvent,
                "no such event",
            )
            .await;
            return;
        };
        if state.join_limiter.check_key(&ip).is_err() {
            self.close(
                CloseCode::RateLimited,
                ErrorCode::RateLimited,
                "too many joins from this address; retry shortly",
            )
            .await;
            return;
        }
        let buyer = match identify(state, event.id, credential, user, sig) {
            Ok(b) => b,
            Err((code, message)) => {
                self.close(CloseCode::BadCredential, code, &message).await;
                return;
            }
        };
        let joined = match state
            .engine
            .join(event.id, buyer, state.clock.now_ms(), rand::random())
            .await
        {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(event = event.id, error = %e, "join failed");
                self.close(
                    CloseCode::Unavailable,
                    ErrorCode::Unavailable,
                    "the waiting room is unavailable; retry shortly",
                )
                .await;
                return;
            }
        };
        if joined.place == Place::Revoked {
            self.close(
                CloseCode::Revoked,
                ErrorCode::Revoked,
                "revoked by the organiser",
            )
            .await;
            return;
        }
        let hello = ServerMessage::Joined {
            event: EventInfo::from(&event),
            buyer: buyer.to_string(),
            credential: state.identity.credential(event.id, buyer),
            resumed: joined.resumed,
        };
        if !self.send(&hello).await {
            return;
        }
        match joined.place {
            Place::Revoked => {
                self.close(
                    CloseCode::Revoked,
                    ErrorCode::Revoked,
                    "revoked by the organiser",
                )
                .await;
            }
            Place::Admitted(mut a) => {
                a.buyer = buyer.to_string();
                self.admit(state, &event, &a).await;
            }
            place @ (Place::Pre | Place::Waiting { .. }) => {
                self.wait(state, &event, buyer, &place).await;
            }
        }
    }

    /// Phase 2: in line; pushes every view change until admitted or gone.
    async fn wait(&mut self, state: &AppState, event: &Event, buyer: BuyerId, place: &Place) {
        let room = state.hub.room(event.id);
        let mut att = room.attach(buyer, place, &state.hub);
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
                            self.admit(state, event, &a).await;
                            return;
                        }
                        View::Revoked => {
                            self.close(CloseCode::Revoked, ErrorCode::Revoked, "revoked by the organiser").await;
                            return;
                        }
                        View::Gone => {
                            self.close_only(CloseCode::Done, "no longer in line").await;
                            return;
                        }
                        view => {
                            let msg = status(&view, self.server_time.now_ms());
                            if !self.send(&msg).await {
                                return;
                            }
                        }
                    }
                }
                frame = self.socket.recv() => match self.read(frame).await {
                    Incoming::Message(ClientMessage::Ping {}) => {
                        let now = self.server_time.now_ms();
                        self.send(&ServerMessage::Pong { server_time_ms: now }).await;
                    }
                    Incoming::Message(ClientMessage::Join { .. }) => {
                        self.error(ErrorCode::AlreadyJoined, "already joined on this socket").await;
                    }
                    Incoming::Message(ClientMessage::Leave {}) => {
                        drop(att);
                        if let Err(e) = state.engine.leave(event.id, buyer).await {
                            tracing::error!(event = event.id, error = %e, "leave failed");
                        }
                        self.close_only(CloseCode::Done, "left the line").await;
                        return;
                    }
                    Incoming::Skip => {}
                    Incoming::Closed | Incoming::Abort => return,
                },
                _ = shutdown.changed() => {
                    self.close(CloseCode::ServerShutdown, ErrorCode::ServerShutdown, "server restarting; reconnect to keep your place").await;
                    return;
                }
            }
        }
    }

    async fn admit(&mut self, state: &AppState, event: &Event, a: &Admission) {
        match state.tokens.issue(event.id, a, event.session_secs * 1000) {
            Ok(token) => {
                let msg = ServerMessage::Admitted {
                    token,
                    expires_at_ms: a.exp_ms,
                    seat_map_url: format!("/events/{}/seats", event.id),
                };
                if self.send(&msg).await {
                    self.close_only(CloseCode::Done, "admitted").await;
                }
            }
            Err(e) => {
                tracing::error!(event = event.id, error = %e, "signing a token failed");
                self.close(
                    CloseCode::Unavailable,
                    ErrorCode::Unavailable,
                    "could not issue the entry token; reconnect",
                )
                .await;
            }
        }
    }
}

fn identify(
    state: &AppState,
    event: i64,
    credential: Option<String>,
    user: Option<String>,
    sig: Option<String>,
) -> Result<BuyerId, (ErrorCode, String)> {
    let refused = |e: IdentityError| (ErrorCode::BadCredential, e.to_string());
    match (credential, user, sig) {
        (Some(_), Some(_), _) => Err((
            ErrorCode::AmbiguousIdentity,
            "send either a credential or a signed user id, not both".into(),
        )),
        (Some(c), None, _) => state.identity.check_credential(event, &c).map_err(refused),
        (None, Some(u), Some(s)) => state.identity.site_user(event, &u, &s).map_err(refused),
        (None, Some(_), None) => Err((ErrorCode::BadCredential, "a user id needs its sig".into())),
        (None, None, _) => Ok(BuyerId::random()),
    }
}

/// Tells apart JSON that is not a message at all from a message of an unknown type.
fn classify_bad(text: &str) -> (ErrorCode, String) {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(o)) => match o.get("type").and_then(|t| t.as_str()) {
            Some(t) if !["join", "leave", "ping"].contains(&t) => (
                ErrorCode::UnknownType,
                format!(
                    "unknown message type {:?}; expected join, leave or ping",
                    t.chars().take(40).collect::<String>()
                ),
            ),
            Some(_) => (
                ErrorCode::MalformedMessage,
                "the message has missing or unknown fields".into(),
            ),
            None => (
                ErrorCode::MalformedMessage,
                "the message needs a string field \"type\"".into(),
            ),
        },
        Ok(_) => (
            ErrorCode::MalformedMessage,
            "a message is a JSON object".into(),
        ),
        Err(_) => (
            ErrorCode::MalformedMessage,
            "the message is not valid JSON".into(),
        ),
    }
}

/// The `status` message of a view.
fn status(view: &View, now_ms: i64) -> ServerMessage {
    match view {
        View::Pre {
            pre_queue,
            opens_at_ms,
        } => ServerMessage::Status {
            state: RoomState::PreQueue,
            position: None,
            ahead: None,
            behind: None,
            expected_wait_secs: None,
            admission_rate: 0.0,
            pre_queue: Some(*pre_queue),
            opens_in_ms: Some((opens_at_ms - now_ms).max(0)),
            server_time_ms: now_ms,
        },
        View::Waiting {
            ahead,
            behind,
            wait_secs,
            rate,
            paused,
            sold_out,
        } => ServerMessage::Status {
            state: if *sold_out {
                RoomState::SoldOut
            } else if *paused {
                RoomState::Paused
            } else {
                RoomState::Open
            },
            position: Some(ahead + 1),
            ahead: Some(*ahead),
            behind: Some(*behind),
            expected_wait_secs: *wait_secs,
            admission_rate: (rate * 1000.0).round() / 1000.0,
            pre_queue: None,
            opens_in_ms: None,
            server_time_ms: now_ms,
        },
        _ => unreachable!("status is only sent for pre-queue and waiting views"),
    }
}
