//! A seeded random walk through both channels against a real server: 40 clients, 60 steps
//! each, of valid and invalid messages, forged credentials and tokens, odd frames, and
//! connect-join-hang-up churn. Whatever they send, nothing in the server may panic, every
//! close code must be a documented one, and a normal buyer must still get through.
//!
//! The seed is printed; rerun one with `USHER_FUZZ_SEED=<seed>`. The walk is bounded in
//! steps, not time. Interleaving across clients is up to the scheduler, so a seed fixes
//! what each client sends, not the exact order the server sees it in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use usher_testkit::{Engine, Server, WAIT, World, engines};

const CLIENTS: usize = 40;
const STEPS: usize = 60;
const DEFAULT_SEED: u64 = 0x05e1_a7ed_2026;
/// Seats in the map; the walk holds only the first half, so the check at the end always
/// finds a free seat and admission never stops for a sell-out.
const SEATS: u32 = 100;
const FUZZ_SEATS: u32 = SEATS / 2;
/// Whether a close code is one the protocol has (tests/protocol_contract.rs checks that
/// docs/protocol.md lists exactly these).
fn documented_close(code: u16) -> bool {
    usher_protocol::CloseCode::from_code(code).is_some()
}

/// Panics anywhere in this process: server tasks included (tokio catches those, so they
/// would go unnoticed otherwise).
static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

fn seed() -> u64 {
    match std::env::var("USHER_FUZZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.expect("USHER_FUZZ_SEED is a number (decimal or 0x hex)")
        }
        Err(_) => DEFAULT_SEED,
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the clients learn from the server and share: real credentials and tokens to reuse
/// (and forge from), and every close code the server sent.
#[derive(Default)]
struct Shared {
    // std Mutex: held for a push or a pick, never across an await.
    credentials: Mutex<Vec<String>>,
    tokens: Mutex<Vec<String>>,
    closes: Mutex<Vec<(u16, String)>>,
    /// What the server answered, by message type (and error code): shows how deep the walk
    /// got (holds granted, bookings made), printed at the end.
    seen: Mutex<std::collections::BTreeMap<String, usize>>,
}

impl Shared {
    fn pick(list: &Mutex<Vec<String>>, rng: &mut StdRng) -> Option<String> {
        let l = list.lock().expect("no test panics while held");
        (!l.is_empty()).then(|| l[rng.random_range(0..l.len())].clone())
    }
}

struct Target {
    addr: std::net::SocketAddr,
    event: i64,
    max_bytes: usize,
}

/// One open socket: the client writes; a reader task takes in everything the server sends.
struct Conn {
    sink: SplitSink<Ws, Message>,
    reader: tokio::task::JoinHandle<()>,
}

impl Conn {
    async fn open(url: &str, shared: &Arc<Shared>) -> Conn {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("the server refused a connection to {url}: {e}"));
        let (sink, mut stream) = ws.split();
        let shared = shared.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                match msg {
                    Message::Text(t) => {
                        let Ok(v) = serde_json::from_str::<Value>(&t) else {
                            continue;
                        };
                        let kind = match (v["type"].as_str(), v["code"].as_str()) {
                            (Some(t), Some(code)) => format!("{t}:{code}"),
                            (Some(t), None) => t.to_owned(),
                            _ => "?".to_owned(),
                        };
                        *shared
                            .seen
                            .lock()
                            .expect("not poisoned")
                            .entry(kind)
                            .or_default() += 1;
                        let (list, field) = match v["type"].as_str() {
                            Some("joined") => (&shared.credentials, "credential"),
                            Some("admitted") => (&shared.tokens, "token"),
                            _ => continue,
                        };
                        if let Some(s) = v[field].as_str() {
                            list.lock().expect("not poisoned").push(s.to_owned());
                        }
                    }
                    Message::Close(Some(f)) => {
                        let mut closes = shared.closes.lock().expect("not poisoned");
                        closes.push((f.code.into(), f.reason.to_string()));
                    }
                    _ => {}
                }
            }
        });
        Conn { sink, reader }
    }

    /// False when the socket is gone.
    async fn send(&mut self, m: Message) -> bool {
        self.sink.send(m).await.is_ok()
    }

    /// Drops the connection without a close frame.
    fn hang_up(self) {
        self.reader.abort();
    }

    /// Closes politely; the reader stays to take the server's answer.
    async fn close(mut self) {
        let _ = self.sink.send(Message::Close(None)).await;
    }
}

fn site_sig(event: i64, user: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(usher_testkit::SITE_SECRET.as_bytes())
        .expect("any key length");
    mac.update(format!("{event}:{user}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A real string with one character changed, or made up.
fn forge(real: Option<String>, rng: &mut StdRng) -> String {
    match real {
        Some(mut s) if !s.is_empty() && rng.random_bool(0.6) => {
            let i = rng.random_range(0..s.len());
            if s.is_char_boundary(i) && s.is_char_boundary(i + 1) {
                let c = if &s[i..=i] == "A" { "B" } else { "A" };
                s.replace_range(i..=i, c);
            }
            if rng.random_bool(0.2) {
                let mut n = rng.random_range(0..=s.len());
                while !s.is_char_boundary(n) {
                    n -= 1;
                }
                s.truncate(n);
            }
            s
        }
        _ => random_text(rng, 0..120),
    }
}

fn random_text(rng: &mut StdRng, len: std::ops::Range<usize>) -> String {
    const ODD: &[char] = &[
        '"', '\\', '{', '}', '\0', 'é', '🎫', '\u{202e}', '\n', '.', '-',
    ];
    let n = rng.random_range(len);
    (0..n)
        .map(|_| {
            if rng.random_bool(0.2) {
                ODD[rng.random_range(0..ODD.len())]
            } else {
                rng.random_range(b' '..=b'~') as char
            }
        })
        .collect()
}

/// Any JSON value, nested up to `depth`.
fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random::<i64>()),
        3 => json!(rng.random::<f64>() * 1e30),
        4 => json!(random_text(rng, 0..20)),
        5 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut o = serde_json::Map::new();
            for _ in 0..rng.random_range(0..4) {
                o.insert(random_text(rng, 0..8), random_json(rng, depth - 1));
            }
            Value::Object(o)
        }
    }
}

/// Not a message: broken JSON, odd values, deep nesting, unknown types.
fn garbage(rng: &mut StdRng) -> String {
    match rng.random_range(0..7) {
        0 => random_text(rng, 0..200),
        1 => random_json(rng, 4).to_string(),
        2 => {
            let depth = rng.random_range(100..400);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth))
        }
        3 => json!({ "type": random_text(rng, 0..30) }).to_string(),
        4 => json!({ "type": random_json(rng, 1) }).to_string(),
        5 => {
            let mut s = json!({ "type": "join" }).to_string();
            s.truncate(rng.random_range(0..s.len()));
            s
        }
        _ => String::new(),
    }
}

fn queue_message(rng: &mut StdRng, shared: &Shared, t: &Target) -> String {
    let real = Shared::pick(&shared.credentials, rng);
    let user = format!("user-{}", rng.random_range(0..30));
    let v = match rng.random_range(0..14) {
        0 | 1 => json!({ "type": "join" }),
        2 => json!({ "type": "join", "credential": real }),
        3 => json!({ "type": "join", "credential": forge(real, rng) }),
        4 => json!({ "type": "join", "user": user, "sig": site_sig(t.event, &user) }),
        5 => {
            json!({ "type": "join", "user": user, "sig": forge(Some(site_sig(t.event, &user)), rng) })
        }
        6 => json!({ "type": "join", "user": user }),
        7 => json!({ "type": "join", "credential": real, "user": user, "sig": "00" }),
        8 => json!({ "type": "join", "credential": random_json(rng, 2) }),
        9 => json!({ "type": "join", random_text(rng, 1..10): random_json(rng, 1) }),
        10 => json!({ "type": "leave" }),
        11 => json!({ "type": "ping" }),
        12 => {
            let ty = if rng.random_bool(0.5) {
                "ping"
            } else {
                "leave"
            };
            json!({ "type": ty, "x": 1 })
        }
        _ => return garbage(rng),
    };
    v.to_string()
}

fn seat_list(rng: &mut StdRng) -> Value {
    let n = match rng.random_range(0..10) {
        0 => 0,
        1 => rng.random_range(5..60),
        _ => rng.random_range(1..5),
    };
    let mut seats: Vec<Value> = (0..n)
        .map(|_| match rng.random_range(0..12) {
            0 => json!(-1),
            1 => json!(u32::MAX),
            2 => json!(u64::MAX),
            3 => json!(1e20),
            4 => json!(2.5),
            5 => json!("3"),
            6 => json!(SEATS + rng.random_range(0..1000)),
            _ => json!(rng.random_range(0..FUZZ_SEATS)),
        })
        .collect();
    if !seats.is_empty() && rng.random_bool(0.15) {
        seats.push(seats[0].clone()); // a duplicate
    }
    if rng.random_bool(0.05) {
        return random_json(rng, 1); // not a list at all
    }
    Value::Array(seats)
}

fn seat_message(rng: &mut StdRng, shared: &Shared) -> String {
    let token = Shared::pick(&shared.tokens, rng);
    let v = match rng.random_range(0..12) {
        0 | 1 => json!({ "type": "auth", "token": token }),
        2 => json!({ "type": "auth", "token": forge(token, rng) }),
        3 => json!({ "type": "auth", "token": random_json(rng, 1) }),
        4..=6 => json!({ "type": "hold", "seats": seat_list(rng) }),
        7 | 8 => json!({ "type": "release", "seats": seat_list(rng) }),
        9 => json!({ "type": "book" }),
        10 => json!({ "type": "ping" }),
        _ => return garbage(rng),
    };
    v.to_string()
}

/// A frame that is not a plain message: binary, too big, far too big, control frames.
fn odd_frame(rng: &mut StdRng, t: &Target) -> Message {
    match rng.random_range(0..5) {
        0 => Message::Binary(random_text(rng, 0..64).into_bytes().into()),
        1 => {
            let n = rng.random_range(t.max_bytes + 1..=t.max_bytes * 16);
            Message::Text("x".repeat(n).into())
        }
        2 => Message::Text("y".repeat(t.max_bytes * 16 + 1024).into()),
        3 => Message::Ping(random_text(rng, 0..100).into_bytes().into()),
        _ => Message::Pong(Vec::new().into()),
    }
}

async fn walk(i: usize, seed: u64, t: Arc<Target>, shared: Arc<Shared>) {
    let mut rng = StdRng::seed_from_u64(seed ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let queue_url = format!("ws://{}/ws/events/{}/queue", t.addr, t.event);
    let seats_url = format!("ws://{}/ws/events/{}/seats", t.addr, t.event);
    let mut queue: Option<Conn> = None;
    let mut seats: Option<Conn> = None;
    for _ in 0..STEPS {
        let roll = rng.random_range(0..100);
        let (slot, url) = if roll < 45 || (80..90).contains(&roll) {
            (&mut queue, &queue_url)
        } else {
            (&mut seats, &seats_url)
        };
        if roll >= 90 {
            // Churn on a fresh connection: open, maybe join, then leave, close or hang up.
            let mut c = Conn::open(&queue_url, &shared).await;
            if rng.random_bool(0.7) {
                c.send(Message::Text(json!({ "type": "join" }).to_string().into()))
                    .await;
            }
            match rng.random_range(0..3) {
                0 => {
                    c.send(Message::Text(json!({ "type": "leave" }).to_string().into()))
                        .await;
                    c.hang_up();
                }
                1 => c.close().await,
                _ => c.hang_up(),
            }
            continue;
        }
        if slot.is_none() {
            *slot = Some(Conn::open(url, &shared).await);
        }
        let Some(conn) = slot.as_mut() else {
            continue;
        };
        let msg = match roll {
            0..45 => Message::Text(queue_message(&mut rng, &shared, &t).into()),
            45..80 => Message::Text(seat_message(&mut rng, &shared).into()),
            80..85 => odd_frame(&mut rng, &t),
            _ => {
                // End this socket, politely or not; the next step opens a fresh one.
                if let Some(c) = slot.take() {
                    if rng.random_bool(0.5) {
                        c.close().await;
                    } else {
                        c.hang_up();
                    }
                }
                continue;
            }
        };
        if !conn.send(msg).await {
            *slot = None; // the server closed it; the next step reconnects
        }
    }
    for c in [queue, seats].into_iter().flatten() {
        c.close().await;
    }
}

/// A buyer who does everything right, after the walk: join, admitted, seat map, hold,
/// book, booked.
async fn a_normal_buyer_gets_through(server: &Server, event: i64, seed: u64) {
    let mut c = server.connect(event).await;
    c.join().await;
    let admitted = c.recv_type("admitted").await;
    let token = admitted["token"].as_str().expect("a token");
    let (mut s, snap) = server.seats(event, token).await;
    let free_seats = usher_testkit::SeatView::from_snapshot(&snap).with("free");
    let free = (FUZZ_SEATS..SEATS)
        .find(|id| free_seats.contains(&(*id as u64)))
        .unwrap_or_else(|| panic!("seed {seed}: no free seat left in {snap}"));
    s.send(json!({ "type": "hold", "seats": [free] })).await;
    assert_eq!(
        s.recv_type("held").await["seats"],
        json!([free]),
        "seed {seed}"
    );
    s.send(json!({ "type": "book" })).await;
    let booked = s.recv_type("booked").await;
    assert_eq!(booked["seats"], json!([free]), "seed {seed}");
}

async fn status(url: String) -> u16 {
    let res = tokio::time::timeout(WAIT, reqwest::get(url))
        .await
        .expect("answers in time")
        .expect("answers");
    res.status().as_u16()
}

async fn fuzz(engine: Engine, seed: u64) {
    let world = World::new(engine).await;
    let server = world.start().await;
    let event = server
        .create_event(json!({
            "admission_rate": 1000.0, "max_active": 1_000_000,
            "seat_map": usher_testkit::seat_map(SEATS / 10, 10),
        }))
        .await;
    let shared = Arc::new(Shared::default());
    let first_tokens = server.admitted_tokens(event, 8).await;
    shared
        .tokens
        .lock()
        .expect("not poisoned")
        .extend(first_tokens);
    let target = Arc::new(Target {
        addr: server.addr,
        event,
        max_bytes: server.state.settings.max_message_bytes,
    });
    let walks: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(walk(i, seed, target.clone(), shared.clone())))
        .collect();
    for w in walks {
        let ended = tokio::time::timeout(WAIT * 4, w).await;
        assert!(
            matches!(ended, Ok(Ok(()))),
            "{engine:?} seed {seed}: a client's walk failed: {ended:?}"
        );
    }
    let panics = PANICS.load(Ordering::SeqCst);
    assert_eq!(
        panics, 0,
        "{engine:?} seed {seed}: the server panicked {panics} time(s) (see the output above); \
         rerun with USHER_FUZZ_SEED={seed}"
    );
    let closes = shared.closes.lock().expect("not poisoned").clone();
    for (code, reason) in &closes {
        assert!(
            documented_close(*code),
            "{engine:?} seed {seed}: undocumented close {code} ({reason})"
        );
    }
    a_normal_buyer_gets_through(&server, event, seed).await;
    assert_eq!(status(format!("{}/healthz", server.http())).await, 200);
    assert_eq!(status(format!("{}/readyz", server.http())).await, 200);
    eprintln!(
        "{engine:?} seed {seed}: {CLIENTS} clients x {STEPS} steps, {} closes seen, {} credentials, {} tokens; answers: {:?}",
        closes.len(),
        shared.credentials.lock().expect("not poisoned").len(),
        shared.tokens.lock().expect("not poisoned").len(),
        shared.seen.lock().expect("not poisoned"),
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_clients_cannot_panic_the_server_or_stop_a_real_buyer() {
    count_panics();
    let seed = seed();
    eprintln!("protocol fuzz seed: {seed} (set USHER_FUZZ_SEED to rerun it)");
    for engine in engines() {
        fuzz(engine, seed).await;
    }
}
