//! A buyer's WebSocket (either channel), with the waits every test needs.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::WAIT;

/// The WebSocket stream of a [`Client`].
pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A buyer's WebSocket.
pub struct Client {
    /// The socket itself, for tests that read or send frames by hand.
    pub ws: Ws,
}

/// What ended a socket.
#[derive(Debug, PartialEq)]
pub struct Closed {
    /// The close code (1005 when the socket ended without one).
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

impl Client {
    /// Opens a socket at `url` (`ws://…`); panics when it does not open.
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("the socket opens");
        Client { ws }
    }

    /// Sends a JSON message as a text frame.
    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("sending");
    }

    /// Sends any frame.
    pub async fn send_raw(&mut self, m: Message) {
        self.ws.send(m).await.expect("sending");
    }

    /// The next JSON message; panics on timeout or close.
    pub async fn recv(&mut self) -> Value {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("expected a message, got nothing in time");
            match next {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("JSON"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Skips messages until one of type `ty`.
    pub async fn recv_type(&mut self, ty: &str) -> Value {
        let ty = ty.to_owned();
        self.recv_until(move |m| {
            if m["type"] != ty.as_str() && (m["type"] == "error" || m["type"] == "admitted") {
                panic!("expected {ty}, got {m}");
            }
            m["type"] == ty.as_str()
        })
        .await
    }

    /// Skips messages until one satisfies `pred`; panics (showing the last message) when
    /// none does within the hang guard.
    pub async fn recv_until(&mut self, mut pred: impl FnMut(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                let m = self.recv().await;
                if pred(&m) {
                    return m;
                }
                last = m;
            }
        })
        .await;
        match found {
            Ok(m) => m,
            Err(_) => panic!("expected a matching message in time; the last one was {last}"),
        }
    }

    /// Joins with `extra` fields (credential, user, sig); returns the `joined` message.
    pub async fn join_with(&mut self, extra: Value) -> Value {
        let mut msg = json!({ "type": "join" });
        for (k, v) in extra.as_object().expect("an object") {
            msg[k] = v.clone();
        }
        self.send(msg).await;
        self.recv_type("joined").await
    }

    /// Joins as a new buyer; returns the `joined` message.
    pub async fn join(&mut self) -> Value {
        self.join_with(json!({})).await
    }

    /// Waits for the close frame, skipping other messages; returns code and reason.
    pub async fn closed(&mut self) -> Closed {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("expected a close, got nothing in time");
            match next {
                Some(Ok(Message::Close(Some(f)))) => {
                    return Closed {
                        code: f.code.into(),
                        reason: f.reason.to_string(),
                    };
                }
                Some(Ok(Message::Close(None))) | None => {
                    return Closed {
                        code: 1005,
                        reason: String::new(),
                    };
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("expected a close, got error {e}"),
            }
        }
    }

    /// Waits for the next `error` message, returning its code.
    pub async fn error_code(&mut self) -> String {
        let m = self.recv_type("error").await;
        m["code"].as_str().expect("a code").to_owned()
    }
}
