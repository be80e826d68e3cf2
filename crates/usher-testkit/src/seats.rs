//! The seat map as a page sees it: small maps to create, snapshots and deltas decoded as
//! docs/protocol.md describes them (independently of the server's code), and layouts.

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::WAIT;
use crate::client::Client;
use crate::server::Server;

/// A small seat map: `rows` x `per_row` seats in one section, grade R (and VIP prices).
pub fn seat_map(rows: u32, per_row: u32) -> Value {
    json!({
        "prices": { "VIP": 165000, "R": 143000 },
        "sections": [{ "name": "A", "grade": "R", "rows": rows, "seats_per_row": per_row,
                       "grade_rules": [{ "rows": "1", "grade": "VIP" }] }]
    })
}

impl Server {
    /// Opens the seat map with a token; returns the socket and the snapshot.
    pub async fn seats(&self, event: i64, token: &str) -> (Client, Value) {
        let mut c = Client::connect(&self.seats_url(event)).await;
        c.send(json!({ "type": "auth", "token": token })).await;
        let snap = c.recv().await;
        assert_eq!(snap["type"], "snapshot", "{snap}");
        (c, snap)
    }

    /// Like [`Server::seats`], for one performance of the event (by its index).
    pub async fn seats_of(&self, event: i64, performance: u32, token: &str) -> (Client, Value) {
        let mut c = Client::connect(&self.seats_url(event)).await;
        let auth = json!({ "type": "auth", "token": token, "performance": performance });
        c.send(auth).await;
        let snap = c.recv().await;
        assert_eq!(snap["type"], "snapshot", "{snap}");
        assert_eq!(snap["performance"], performance, "{snap}");
        (c, snap)
    }
}

/// A viewer's picture of the seat map: seat -> "free" | "held" | "sold".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeatView(pub std::collections::BTreeMap<u64, String>);

impl SeatView {
    /// Decodes a snapshot's `states` as docs/protocol.md describes it (independently of
    /// the server's code): base64, then 2 bits per seat, least significant first.
    pub fn from_snapshot(snap: &Value) -> SeatView {
        let count = snap["seat_count"].as_u64().expect("seat_count") as usize;
        let codes = decode_states(snap["states"].as_str().expect("states"), count);
        let mut v = SeatView::default();
        for (id, code) in codes.into_iter().enumerate() {
            let state = match code {
                0 => "free",
                1 => "held",
                2 => "sold",
                other => panic!("seat {id} has state code {other}"),
            };
            v.0.insert(id as u64, state.into());
        }
        v
    }

    /// Applies a `seats` delta, or a fresh `snapshot` (sent to a viewer that fell
    /// behind); other messages are ignored.
    pub fn apply(&mut self, msg: &Value) {
        if msg["type"] == "snapshot" {
            *self = SeatView::from_snapshot(msg);
        }
        if msg["type"] == "seats" {
            for c in msg["changes"].as_array().unwrap() {
                self.0.insert(
                    c["seat"].as_u64().unwrap(),
                    c["state"].as_str().unwrap().into(),
                );
            }
        }
    }

    /// The seats in `state`, in id order.
    pub fn with(&self, state: &str) -> Vec<u64> {
        self.0
            .iter()
            .filter(|(_, s)| *s == state)
            .map(|(k, _)| *k)
            .collect()
    }
}

/// Seat state codes from a snapshot's `states`: one per seat, `count` of them.
pub fn decode_states(text: &str, count: usize) -> Vec<u8> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("states are standard base64");
    assert_eq!(bytes.len(), count.div_ceil(4), "4 seats per byte");
    (0..count)
        .map(|i| (bytes[i / 4] >> ((i % 4) * 2)) & 0b11)
        .collect()
}

/// One seat of a layout, as a page would draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayoutSeat {
    /// The section's name.
    pub section: String,
    /// The row's label.
    pub row: String,
    /// The seat's number in its row.
    pub number: u64,
    /// The seat's grade.
    pub grade: String,
}

/// Expands a seat layout (`GET /api/events/{id}/seats/layout`) as docs/protocol.md
/// describes it: seat id -> place, checking the ids run 0, 1, 2, … without gaps.
pub fn expand_layout(layout: &Value) -> Vec<LayoutSeat> {
    let mut seats = Vec::new();
    for section in layout["sections"].as_array().expect("sections") {
        let name = section["name"].as_str().expect("a section name");
        for row in section["rows"].as_array().expect("rows") {
            let numbers: Vec<u64> = match (row.get("count"), row.get("numbers")) {
                (Some(c), None) => (1..=c.as_u64().expect("a count")).collect(),
                (None, Some(n)) => n
                    .as_array()
                    .expect("numbers")
                    .iter()
                    .map(|n| n.as_u64().expect("a number"))
                    .collect(),
                other => panic!("a row has count or numbers, not {other:?}"),
            };
            assert_eq!(
                row["first"].as_u64(),
                Some(seats.len() as u64),
                "ids follow on"
            );
            for number in numbers {
                seats.push(LayoutSeat {
                    section: name.into(),
                    row: row["label"].as_str().expect("a label").into(),
                    number,
                    grade: row["grade"].as_str().expect("a grade").into(),
                });
            }
        }
    }
    assert_eq!(layout["seat_count"].as_u64(), Some(seats.len() as u64));
    seats
}

impl Client {
    /// Sends a seat-map request and reads until its answer (skipping the live `seats`
    /// deltas).
    pub async fn ask(&mut self, msg: Value) -> Value {
        self.send(msg).await;
        self.recv_until(|m| m["type"] != "seats").await
    }

    /// Applies deltas to `view` until `done(view)` holds; panics after the hang guard.
    pub async fn watch_until(
        &mut self,
        view: &mut SeatView,
        mut done: impl FnMut(&SeatView) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(view) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let next = tokio::time::timeout(left, self.ws.next())
                .await
                .unwrap_or_else(|_| {
                    let busy: Vec<_> = view
                        .0
                        .iter()
                        .filter(|(_, s)| *s != "free")
                        .take(40)
                        .collect();
                    panic!("the seat view never reached the expected state; not free: {busy:?}")
                });
            match next {
                Some(Ok(Message::Text(t))) => view.apply(&serde_json::from_str(&t).unwrap()),
                Some(Ok(_)) => {}
                other => panic!("viewer socket ended: {other:?}"),
            }
        }
    }
}
