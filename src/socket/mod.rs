//! One WebSocket connection, for either channel: JSON text frames in and out, limits, and
//! the answers to bad input. Each answer that refuses something implements [`Refuse`]: an
//! `error` message, then a documented close code when the socket cannot go on. The
//! channels' logic (`crate::queue::socket`, `crate::seats::socket`) never touches a frame.

pub mod refusal;

use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use futures_util::SinkExt;
use governor::{Quota, RateLimiter};
use serde::Serialize;
use serde::de::DeserializeOwned;
use usher_protocol::{CloseCode, ErrorCode};

use crate::clock::Clock;
use crate::state::AppState;
use crate::telemetry::metrics::{Channel, SocketGuard};
use refusal::{FrameRefusal, Refuse, classify_bad};

/// How long one send may take before the client counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Malformed messages tolerated on one socket before it is closed.
const MAX_BAD_MESSAGES: u32 = 20;

/// Applies the small buffers every usher socket uses: an idle socket must stay cheap
/// (client messages are a few hundred bytes; the read buffer grows only for a larger one).
/// Frames up to 16x `max_message_bytes` are read whole and refused with close 4504;
/// larger ones break the connection at the protocol layer.
pub fn configure(ws: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    let hard_max = state.settings.max_message_bytes * 16;
    ws.read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(hard_max)
        .max_frame_size(hard_max)
}

/// The largest seat-map snapshot is about 34 KB (100,000 seats at 2 bits, base64, plus a
/// few fields: `crate::seats::compact`). A frame larger than the write buffer's maximum
/// cannot be sent at all, so the seat socket allows 4x that; the maximum is a bound, not
/// an allocation, so an idle seat socket costs what a waiting-room socket does.
pub const SEAT_MAX_WRITE_BUFFER: usize = 128 * 1024;

/// [`configure`], with a write buffer that takes the largest seat snapshot.
pub fn configure_seats(ws: WebSocketUpgrade, state: &AppState) -> WebSocketUpgrade {
    configure(ws, state).max_write_buffer_size(SEAT_MAX_WRITE_BUFFER)
}

/// What one incoming frame turned out to be.
pub enum Incoming<M> {
    /// A well-formed protocol message.
    Message(M),
    /// The client closed.
    Closed,
    /// Handled (an error was sent, or a control frame); keep going.
    Skip,
    /// The socket must end (already closed with a code).
    Abort,
}

/// A connection with its limits.
pub struct Conn {
    /// The socket.
    pub socket: WebSocket,
    /// Server time, for `pong` and countdowns.
    pub clock: Clock,
    limiter: governor::DefaultDirectRateLimiter,
    bad_messages: u32,
    max_message_bytes: usize,
    known_types: &'static [&'static str],
    _open: SocketGuard,
}

impl Conn {
    /// Wraps an upgraded socket; `known_types` are the channel's client message types.
    pub fn new(
        socket: WebSocket,
        state: &AppState,
        channel: Channel,
        known_types: &'static [&'static str],
    ) -> Conn {
        let per_sec =
            NonZeroU32::new(state.settings.messages_per_socket).unwrap_or(NonZeroU32::MIN);
        let burst = per_sec.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Conn {
            socket,
            clock: state.clock.clone(),
            limiter: RateLimiter::direct(Quota::per_second(per_sec).allow_burst(burst)),
            bad_messages: 0,
            max_message_bytes: state.settings.max_message_bytes,
            known_types,
            _open: state.metrics.socket(channel),
        }
    }

    /// Sends a message; false when the client is gone or too slow.
    pub async fn send<T: Serialize>(&mut self, msg: &T) -> bool {
        match serde_json::to_string(msg) {
            Ok(text) => self.send_text(text.into()).await,
            Err(e) => {
                tracing::error!(error = %e, "a server message did not serialize");
                false
            }
        }
    }

    /// Sends an already serialized message (a fan-out shares one copy). A failure is
    /// logged: a client that went away is routine (debug), anything else (a message too
    /// big for the socket's buffers, a client too slow to read) is a warning.
    pub async fn send_text(&mut self, text: Utf8Bytes) -> bool {
        let bytes = text.len();
        let sent = tokio::time::timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text))).await;
        match sent {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                let inner = e.into_inner();
                let gone = inner
                    .downcast_ref::<tokio_tungstenite::tungstenite::Error>()
                    .is_some_and(|t| {
                        use tokio_tungstenite::tungstenite::Error as E;
                        matches!(t, E::ConnectionClosed | E::AlreadyClosed)
                            || matches!(t, E::Io(io) if matches!(
                                io.kind(),
                                std::io::ErrorKind::BrokenPipe
                                    | std::io::ErrorKind::ConnectionReset
                            ))
                    });
                if gone {
                    tracing::debug!(bytes, error = %inner, "send to a closed socket");
                } else {
                    tracing::warn!(bytes, error = %inner, "a WebSocket send failed; dropping the socket");
                }
                false
            }
            Err(_) => {
                tracing::warn!(
                    bytes,
                    "a WebSocket client did not read for 10 s; dropping it"
                );
                // Best effort: a client that reads nothing may never see it.
                let frame = CloseFrame {
                    code: CloseCode::SlowClient.code(),
                    reason: Utf8Bytes::from_static("too slow to read; reconnect"),
                };
                let close = self.socket.send(Message::Close(Some(frame)));
                let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
                false
            }
        }
    }

    /// Sends `{"type":"error","code":…,"message":…}` (`type` first, like every message).
    pub async fn error(&mut self, code: ErrorCode, message: &str) -> bool {
        #[derive(Serialize)]
        struct Error<'a> {
            r#type: &'static str,
            code: ErrorCode,
            message: &'a str,
        }
        let msg = Error {
            r#type: "error",
            code,
            message,
        };
        self.send(&msg).await
    }

    /// Tells the client what was refused: an `error` message, then the close when the
    /// refusal ends the socket. False when the socket must end (closed or gone).
    pub async fn refuse(&mut self, refusal: &impl Refuse) -> bool {
        let words = refusal.words();
        let sent = self.error(refusal.error_code(), &words).await;
        match refusal.close_code() {
            Some(close) => {
                self.close_only(close, &words).await;
                false
            }
            None => sent,
        }
    }

    /// Closes with a code and reason, then waits (a second at most) for the client's close:
    /// dropping a socket with unread input makes the kernel reset it, losing the frame.
    pub async fn close_only(&mut self, close: CloseCode, reason: &str) {
        let frame = CloseFrame {
            code: close.code(),
            reason: Utf8Bytes::from(close_reason(reason)),
        };
        let sent = self.socket.send(Message::Close(Some(frame)));
        let _ = tokio::time::timeout(SEND_TIMEOUT, sent).await;
        let drain = async { while let Some(Ok(_)) = self.socket.recv().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
    }

    /// Completes a close the client started. The library queues the answering close frame
    /// when it reads the client's, but writes it only on the next read, write or flush:
    /// a task that returned at once dropped it, and the client saw 1006 instead of a
    /// clean close. Flushing sends it (the flush then reports the closed connection).
    async fn answer_close(&mut self) {
        let _ = tokio::time::timeout(SEND_TIMEOUT, self.socket.flush()).await;
    }

    /// Reads one frame and turns it into a protocol message, answering bad input.
    pub async fn read<M: DeserializeOwned>(
        &mut self,
        frame: Option<Result<Message, axum::Error>>,
    ) -> Incoming<M> {
        let text = match frame {
            None => return Incoming::Closed,
            Some(Ok(Message::Close(_))) => {
                self.answer_close().await;
                return Incoming::Closed;
            }
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Binary(_))) => {
                self.refuse(&FrameRefusal::Binary).await;
                return Incoming::Abort;
            }
            Some(Ok(_)) => return Incoming::Skip, // ping / pong: answered by the library
            Some(Err(_)) => return Incoming::Abort,
        };
        if text.len() > self.max_message_bytes {
            self.refuse(&FrameRefusal::TooBig).await;
            return Incoming::Abort;
        }
        if self.limiter.check().is_err() {
            self.refuse(&FrameRefusal::RateLimited).await;
            return self.strike().await;
        }
        match serde_json::from_str::<M>(&text) {
            Ok(msg) => Incoming::Message(msg),
            Err(_) => {
                self.refuse(&classify_bad(&text, self.known_types)).await;
                self.strike().await
            }
        }
    }

    async fn strike<M>(&mut self) -> Incoming<M> {
        self.bad_messages += 1;
        if self.bad_messages >= MAX_BAD_MESSAGES {
            self.refuse(&FrameRefusal::TooManyBad).await;
            return Incoming::Abort;
        }
        Incoming::Skip
    }
}

/// A close frame's reason: at most 123 bytes (RFC 6455, 5.5), cut at a character boundary.
fn close_reason(words: &str) -> String {
    let mut end = 0;
    for (i, c) in words.char_indices() {
        if i + c.len_utf8() > 123 {
            break;
        }
        end = i + c.len_utf8();
    }
    words[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::close_reason;

    #[test]
    fn a_close_reason_fits_the_frame_whatever_the_words() {
        assert_eq!(close_reason("too slow"), "too slow");
        let long = "x".repeat(500);
        assert_eq!(close_reason(&long).len(), 123);
        // Three-byte characters: never cut in the middle of one.
        let korean = "대기열".repeat(100);
        let cut = close_reason(&korean);
        assert!(cut.len() <= 123 && korean.starts_with(&cut));
        assert_eq!(cut.chars().count(), 41);
    }
}
