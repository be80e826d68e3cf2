//! Webhooks end to end: a booking's `order.paid` reaches a real HTTP receiver (an axum
//! server of the test's own), signed, retried with the same event id when the receiver
//! fails, hangs or streams junk, and taken over by another instance when the one sending
//! it stops mid-delivery. On SQLite always, and on PostgreSQL when `POSTGRES_URL` is set.
//! Time that decides retries is a manual clock, moved by the tests.
//!
//! Every event also sends notices about its sale as a whole (`sale.opened` as soon as it
//! is created open, …), so each test looks at the kind it is about: the receiver's plan
//! applies to one kind and answers every other 200, and rows and requests are counted by
//! kind.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;
use usher::Settings;
use usher::clock::Clock;
use usher::db::outbox::WebhookEvent;
use usher_testkit::{Engine, Server, WAIT, World, fresh_postgres, seat_map, unique};

const SECRET: &str = "whsec_test";
/// The kind most tests are about.
const PAID: &str = "order.paid";
/// Far enough to make any retry due (the longest backoff is an hour, plus jitter).
const PAST_ANY_BACKOFF_MS: i64 = 2 * 3_600_000;

// ---------------------------------------------------------------- the receiver

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Ok,
    Fail,
    /// A 500 whose body is 16 MB: the sender must read only the start of it.
    HugeFail,
    /// Never answers.
    Hang,
    /// Answers 200 once `release` is notified.
    HoldThenOk,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Seen {
    /// The body's `type`.
    kind: String,
    event_id: String,
    signature: String,
    content_type: String,
    body: String,
}

#[derive(Default)]
struct Inner {
    seen: std::sync::Mutex<Vec<Seen>>,
    /// The kind the plan is for; every other kind is answered 200.
    planned: String,
    plan: std::sync::Mutex<VecDeque<Answer>>,
    release: Notify,
}

/// An HTTP receiver on port 0 that records every request and answers requests of one
/// kind by its plan (then 200 once the plan is used up), and every other kind 200.
#[derive(Clone)]
struct Receiver {
    url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// A receiver that answers every request 200.
    async fn start() -> Receiver {
        Receiver::planned(PAID, &[]).await
    }

    /// A receiver that answers requests of `kind` by `plan`.
    async fn planned(kind: &str, plan: &[Answer]) -> Receiver {
        let inner = Arc::new(Inner {
            planned: kind.to_owned(),
            plan: std::sync::Mutex::new(plan.iter().copied().collect()),
            ..Inner::default()
        });
        let app = axum::Router::new()
            .route("/hooks", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    /// The requests for events of `kind`, in the order they came.
    fn seen(&self, kind: &str) -> Vec<Seen> {
        let seen = self.inner.seen.lock().unwrap();
        seen.iter().filter(|s| s.kind == kind).cloned().collect()
    }

    async fn wait_for_requests(&self, kind: &str, n: usize) -> Vec<Seen> {
        wait_until(&format!("{n} {kind} requests at the receiver"), || async {
            let seen = self.seen(kind);
            (seen.len() >= n).then_some(seen)
        })
        .await
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Vec<u8>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let kind = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|b| b["type"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let planned = kind == inner.planned;
    inner.seen.lock().unwrap().push(Seen {
        kind,
        event_id: header("usher-event-id"),
        signature: header("usher-signature"),
        content_type: header("content-type"),
        body,
    });
    let answer = match planned {
        true => inner.plan.lock().unwrap().pop_front().unwrap_or(Answer::Ok),
        false => Answer::Ok,
    };
    match answer {
        Answer::Ok => (StatusCode::OK, b"thanks".to_vec()),
        Answer::Fail => (StatusCode::INTERNAL_SERVER_ERROR, b"try later".to_vec()),
        Answer::HugeFail => (StatusCode::INTERNAL_SERVER_ERROR, vec![b'x'; 16 << 20]),
        Answer::Hang => std::future::pending().await,
        Answer::HoldThenOk => {
            inner.release.notified().await;
            (StatusCode::OK, b"late".to_vec())
        }
    }
}

// ---------------------------------------------------------------- worlds and helpers

/// The databases to run against: SQLite always, PostgreSQL when `POSTGRES_URL` is set.
fn databases() -> Vec<Option<String>> {
    let mut v = vec![None];
    match std::env::var("POSTGRES_URL") {
        Ok(url) if !url.is_empty() => v.push(Some(url)),
        _ => eprintln!("POSTGRES_URL is not set: skipping PostgreSQL"),
    }
    v
}

/// A world on the given database (memory engine: delivery needs only the database).
async fn world(postgres: &Option<String>, clock: Clock) -> World {
    let id = unique();
    let database_url = match postgres {
        Some(admin) => fresh_postgres(admin, &id).await,
        None => {
            let path = std::env::temp_dir().join(format!("usher-test-{id}.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    World {
        engine: Engine::Memory,
        prefix: format!("t{id}"),
        database_url,
        clock,
    }
}

fn webhooks_to(receiver: &Receiver) -> impl FnOnce(&mut Settings) {
    let url = receiver.url.clone();
    move |s: &mut Settings| {
        s.webhook_url = url;
        s.webhook_secret = SECRET.into();
        s.webhook_poll_ms = 20;
    }
}

fn manual_clock() -> Clock {
    Clock::manual(1_800_000_000_000)
}

/// Polls `check` until it gives a value (fails after [`WAIT`], a hang guard only).
async fn wait_until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited too long for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The outbox rows of the server's database of one kind.
async fn rows_of(server: &Server, kind: &str) -> Vec<WebhookEvent> {
    let rows = server.state.db.webhooks(None, 0, 100).await.unwrap();
    rows.into_iter().filter(|r| r.kind == kind).collect()
}

/// The only outbox row of `kind` of the server's database.
async fn only_row(server: &Server, kind: &str) -> WebhookEvent {
    let rows = rows_of(server, kind).await;
    assert_eq!(rows.len(), 1, "one {kind} outbox row: {rows:?}");
    rows.into_iter().next().unwrap()
}

/// Waits until attempt `n` of the only `order.paid` row has failed and is recorded as such.
async fn wait_for_failed_attempt(server: &Server, n: i64) -> WebhookEvent {
    wait_until(&format!("attempt {n} recorded as failed"), || async {
        let row = only_row(server, PAID).await;
        let now = server.state.clock.now_ms();
        (row.attempts == n && row.next_attempt_at_ms > now && row.last_error.is_some())
            .then_some(row)
    })
    .await
}

/// Waits until the only row of `kind` is delivered.
async fn wait_for_delivery(server: &Server, kind: &str) -> WebhookEvent {
    wait_until(&format!("the {kind} delivery recorded"), || async {
        let row = only_row(server, kind).await;
        row.delivered_at_ms.is_some().then_some(row)
    })
    .await
}

/// What one booking looked like from the outside.
struct Booked {
    event: i64,
    buyer: String,
    answer: Value,
}

/// Creates an event with seats, lets one buyer in, holds seats 1 and 2 (row 1: VIP) and
/// books them.
async fn book_two_seats(server: &Server) -> Booked {
    let event = server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000, "seat_map": seat_map(2, 5),
            "sale_opens_at_ms": server.state.clock.now_ms(),
        }))
        .await;
    let token = server.admitted_tokens(event, 1).await.remove(0);
    let buyer = server.buyer_of(event, &token).to_string();
    let (mut c, _) = server.seats(event, &token).await;
    let held = c.ask(json!({ "type": "hold", "seats": [1, 2] })).await;
    assert_eq!(held["type"], "held", "{held}");
    let answer = c.ask(json!({ "type": "book" })).await;
    assert_eq!(answer["type"], "booked", "{answer}");
    Booked {
        event,
        buyer,
        answer,
    }
}

/// Checks the signature as a receiver would, with nothing of usher's code.
fn signature_verifies(seen: &Seen, secret: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in seen.signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", seen.body).as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

// ---------------------------------------------------------------- the tests

#[tokio::test]
async fn a_booking_delivers_one_signed_order_paid_that_matches_it() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let world = world(&db, Clock::system()).await;
        let server = world.start_with(webhooks_to(&receiver)).await;
        let booked = book_two_seats(&server).await;
        let row = wait_for_delivery(&server, PAID).await;
        // A few more polls: nothing else is sent.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = receiver.seen(PAID);
        assert_eq!(seen.len(), 1, "{db:?}: exactly one delivery");
        let hit = &seen[0];
        assert!(signature_verifies(hit, SECRET), "{db:?}: {hit:?}");
        assert!(!signature_verifies(hit, "another secret"));
        assert_eq!(hit.content_type, "application/json");
        let body: Value = serde_json::from_str(&hit.body).unwrap();
        assert_eq!(body["id"], hit.event_id.as_str());
        assert_eq!(body["id"], row.event_uid.as_str());
        assert!(hit.event_id.starts_with("evt_") && hit.event_id.len() == 36);
        assert_eq!(body["type"], "order.paid");
        let data = &body["data"];
        assert_eq!(data["booking_id"], booked.answer["booking"]);
        assert_eq!(data["event_id"], booked.event);
        assert_eq!(data["buyer_id"], booked.buyer.as_str());
        assert_eq!(data["total"], booked.answer["total"]);
        assert_eq!(data["total"], 2 * 165000);
        assert_eq!(
            data["seats"],
            json!([
                { "id": 1, "section": "A", "row": "1", "number": 2, "price": 165000 },
                { "id": 2, "section": "A", "row": "1", "number": 3, "price": 165000 },
            ]),
            "{db:?}"
        );
        let created_ms = data["created_at_ms"].as_i64().unwrap();
        assert_eq!(body["created"], created_ms / 1000);
        assert_eq!(
            data["created_at"],
            usher::clock::rfc3339(created_ms).as_str()
        );
        assert_eq!(row.attempts, 1);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_event_again_until_it_answers_2xx() {
    for db in databases() {
        let receiver = Receiver::planned(PAID, &[Answer::Fail, Answer::Fail]).await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let server = world.start_with(webhooks_to(&receiver)).await;
        book_two_seats(&server).await;
        for attempt in 1..=2 {
            let row = wait_for_failed_attempt(&server, attempt).await;
            assert_eq!(row.last_error.as_deref(), Some("HTTP 500: try later"));
            assert!(row.delivered_at_ms.is_none() && !row.gave_up);
            // Not due yet: nothing more arrives until the clock passes the backoff.
            assert_eq!(receiver.seen(PAID).len(), attempt as usize);
            clock.advance(PAST_ANY_BACKOFF_MS);
        }
        let row = wait_for_delivery(&server, PAID).await;
        assert_eq!(row.attempts, 3, "{db:?}: delivered on the third attempt");
        let seen = receiver.seen(PAID);
        assert_eq!(seen.len(), 3);
        assert!(seen.iter().all(|s| s.event_id == row.event_uid));
        assert!(
            seen.iter().all(|s| s.body == seen[0].body),
            "same body each time"
        );
        assert!(seen.iter().all(|s| signature_verifies(s, SECRET)));
        server.stop().await;
    }
}

#[tokio::test]
async fn a_hanging_or_flooding_receiver_does_not_stop_the_server_and_is_retried() {
    for db in databases() {
        let receiver = Receiver::planned(PAID, &[Answer::HugeFail, Answer::Hang]).await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let server = world
            .start_with(|s| {
                webhooks_to(&receiver)(s);
                s.webhook_timeout_ms = 1500;
            })
            .await;
        let booked = book_two_seats(&server).await;

        // A 16 MB error answer: only its start is kept.
        let row = wait_for_failed_attempt(&server, 1).await;
        let error = row.last_error.unwrap();
        assert!(error.starts_with("HTTP 500: xxx"), "{error:.40}");
        assert!(error.len() <= 2100, "{db:?}: kept {} bytes", error.len());
        clock.advance(PAST_ANY_BACKOFF_MS);

        // The receiver holds the second attempt open: buyers are still served.
        receiver.wait_for_requests(PAID, 2).await;
        for _ in 0..3 {
            let mut c = server.connect(booked.event).await;
            let joined = c.join().await;
            assert_eq!(joined["type"], "joined", "{db:?}: {joined}");
        }
        let row = wait_for_failed_attempt(&server, 2).await;
        assert_eq!(row.last_error.as_deref(), Some("timed out"), "{db:?}");
        clock.advance(PAST_ANY_BACKOFF_MS);

        let row = wait_for_delivery(&server, PAID).await;
        assert_eq!(row.attempts, 3);
        assert!(
            receiver
                .seen(PAID)
                .iter()
                .all(|s| s.event_id == row.event_uid)
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn an_instance_stopped_mid_delivery_leaves_the_event_to_another() {
    for db in databases() {
        let receiver = Receiver::planned(PAID, &[Answer::HoldThenOk]).await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let a = world.start_with(webhooks_to(&receiver)).await;
        book_two_seats(&a).await;
        // A's attempt is at the receiver, unanswered, when A goes away.
        receiver.wait_for_requests(PAID, 1).await;
        let b = world.start_with(webhooks_to(&receiver)).await;
        a.stop().await;
        let row = only_row(&b, PAID).await;
        assert!(row.delivered_at_ms.is_none(), "{db:?}: not delivered by A");
        assert_eq!(row.attempts, 1);
        // B cannot take it while A's lease runs...
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            receiver.seen(PAID).len(),
            1,
            "{db:?}: no second sender meanwhile"
        );
        // ...and takes it once the lease has run out (timeout + 30 s).
        clock.advance(5000 + 30_000 + 1);
        let row = wait_for_delivery(&b, PAID).await;
        assert_eq!(row.attempts, 2, "{db:?}");
        let seen = receiver.seen(PAID);
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|s| s.event_id == row.event_uid));
        assert!(seen.iter().all(|s| signature_verifies(s, SECRET)));
        receiver.inner.release.notify_waiters();
        b.stop().await;
    }
}

#[tokio::test]
async fn a_delivery_that_gave_up_is_listed_and_can_be_queued_again() {
    for db in databases() {
        let receiver = Receiver::planned(PAID, &[Answer::Fail; 3]).await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let server = world
            .start_with(|s| {
                webhooks_to(&receiver)(s);
                // Retried for 10 s: the first backoff (5 s) fits, the second does not.
                s.webhook_retry_secs = 10;
            })
            .await;
        book_two_seats(&server).await;
        // The sale's own notice is delivered at once: it is neither pending nor failed.
        let opened = wait_for_delivery(&server, "sale.opened").await;
        wait_for_failed_attempt(&server, 1).await;
        clock.advance(8000);
        let row = wait_until("giving up", || async {
            let row = only_row(&server, PAID).await;
            row.gave_up.then_some(row)
        })
        .await;
        assert_eq!(row.attempts, 2, "{db:?}");

        let (status, page) = server
            .admin("GET", "/api/admin/webhooks?status=failed", None)
            .await;
        assert_eq!(status, 200, "{page}");
        let listed = &page["webhooks"][0];
        assert_eq!(listed["event_uid"], row.event_uid.as_str());
        assert_eq!(listed["status"], "failed");
        assert_eq!(listed["attempts"], 2);
        assert_eq!(listed["last_error"], "HTTP 500: try later");
        assert_eq!(listed["next_attempt_at_ms"], Value::Null);
        let (_, pending) = server
            .admin("GET", "/api/admin/webhooks?status=pending", None)
            .await;
        assert_eq!(pending["webhooks"], json!([]));
        let (status, _) = server
            .admin("GET", "/api/admin/webhooks?status=lost", None)
            .await;
        assert_eq!(status, 400);

        let path = format!("/api/admin/webhooks/{}/retry", row.id);
        let (status, again) = server.admin("POST", &path, None).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["status"], "pending");
        // The receiver fails once more, then takes it.
        wait_for_failed_attempt(&server, 1).await;
        clock.advance(9000);
        let row = wait_for_delivery(&server, PAID).await;
        assert_eq!(receiver.seen(PAID).len(), 4);
        assert!(
            receiver
                .seen(PAID)
                .iter()
                .all(|s| s.event_id == row.event_uid)
        );
        let (status, _) = server.admin("POST", &path, None).await;
        assert_eq!(
            status, 409,
            "{db:?}: only a delivery that gave up is retried"
        );
        // Delivered, one per page: `sale.opened` (the older row), then `order.paid`.
        let (status, page) = server
            .admin("GET", "/api/admin/webhooks?status=delivered&limit=1", None)
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["webhooks"][0]["status"], "delivered");
        assert_eq!(page["webhooks"][0]["type"], "sale.opened");
        assert_eq!(page["next_after"], opened.id);
        let (status, page) = server
            .admin(
                "GET",
                &format!(
                    "/api/admin/webhooks?status=delivered&limit=1&after={}",
                    opened.id
                ),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["webhooks"][0]["status"], "delivered");
        assert_eq!(page["webhooks"][0]["event_uid"], row.event_uid.as_str());
        assert_eq!(page["next_after"], row.id);
        let (_, rest) = server
            .admin(
                "GET",
                &format!("/api/admin/webhooks?after={}", row.id),
                None,
            )
            .await;
        assert_eq!(rest["webhooks"], json!([]));
        assert_eq!(rest["next_after"], Value::Null);
        server.stop().await;
    }
}

/// Every outbox row of the server's database.
async fn rows(server: &Server) -> Vec<WebhookEvent> {
    server.state.db.webhooks(None, 0, 100).await.unwrap()
}

#[tokio::test]
async fn ending_a_sale_tells_the_site_once_however_often_it_is_ended() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let world = world(&db, Clock::system()).await;
        let server = world.start_with(webhooks_to(&receiver)).await;
        let event = server
            .create_event(json!({ "sale_opens_at_ms": server.state.clock.now_ms() }))
            .await;
        let path = format!("/api/admin/events/{event}/end");
        let (first, _) = server.admin("POST", &path, None).await;
        let (again, _) = server.admin("POST", &path, None).await;
        assert_eq!((first, again), (200, 200), "{db:?}");
        let row = wait_for_delivery(&server, "sale.ended").await;
        assert_eq!(row.kind, "sale.ended", "{db:?}");
        let seen = receiver.seen("sale.ended");
        assert_eq!(seen.len(), 1, "{db:?}: one delivery");
        assert!(signature_verifies(&seen[0], SECRET));
        let body: Value = serde_json::from_str(&seen[0].body).unwrap();
        assert_eq!(body["type"], "sale.ended");
        assert_eq!(body["data"]["event_id"], event);
        let ended = body["data"]["ended_at_ms"].as_i64().unwrap();
        assert_eq!(
            body["data"]["ended_at"],
            usher::clock::rfc3339(ended).as_str()
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn selling_the_last_seat_tells_the_site_once_that_the_event_is_sold_out() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let world = world(&db, Clock::system()).await;
        // Two instances on one database: each one's refresh loop looks for sold-out
        // events, and exactly one of them may tell.
        let a = world.start_with(webhooks_to(&receiver)).await;
        let b = world.start_with(webhooks_to(&receiver)).await;
        let event = a
            .create_event(json!({
                "admission_rate": 100000.0, "max_active": 100000, "seat_map": seat_map(1, 2),
                "sale_opens_at_ms": a.state.clock.now_ms(),
            }))
            .await;
        let token = a.admitted_tokens(event, 1).await.remove(0);
        let (mut c, _) = a.seats(event, &token).await;
        let held = c.ask(json!({ "type": "hold", "seats": [0, 1] })).await;
        assert_eq!(held["type"], "held", "{held}");
        let booked = c.ask(json!({ "type": "book" })).await;
        assert_eq!(booked["type"], "booked", "{booked}");
        let sold_out = wait_until("event.sold_out delivered", || async {
            rows(&a)
                .await
                .into_iter()
                .find(|r| r.kind == "event.sold_out" && r.delivered_at_ms.is_some())
        })
        .await;
        // Both refresh loops have run again since (every 2 s): still one notice.
        let checked = a.state.clock.now_ms() + 4_500;
        wait_until("two more refresh rounds", || async {
            (a.state.clock.now_ms() > checked).then_some(())
        })
        .await;
        let all = rows(&a).await;
        let kinds: Vec<&str> = all.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "event.sold_out").count(),
            1,
            "{db:?}: {kinds:?}"
        );
        assert!(kinds.contains(&"order.paid"), "{db:?}: {kinds:?}");
        let data: Value = serde_json::from_str(&sold_out.payload).unwrap();
        assert_eq!(data["event_id"], event);
        assert_eq!(data["seats_sold"], 2);
        a.stop().await;
        b.stop().await;
    }
}

#[tokio::test]
async fn a_refund_tells_the_site_once_with_the_seats_given_back() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let world = world(&db, Clock::system()).await;
        let server = world.start_with(webhooks_to(&receiver)).await;
        let booked = book_two_seats(&server).await;
        let path = format!("/api/admin/bookings/{}/refund", booked.answer["booking"]);
        let (first, _) = server.admin("POST", &path, None).await;
        let (again, body) = server.admin("POST", &path, None).await;
        assert_eq!((first, again), (200, 200), "{db:?}: {body}");
        let refunded = wait_until("order.refunded delivered", || async {
            rows(&server)
                .await
                .into_iter()
                .find(|r| r.kind == "order.refunded" && r.delivered_at_ms.is_some())
        })
        .await;
        let kinds: Vec<String> = rows(&server).await.into_iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "order.refunded").count(),
            1,
            "{db:?}: {kinds:?}"
        );
        let data: Value = serde_json::from_str(&refunded.payload).unwrap();
        assert_eq!(data["booking_id"], booked.answer["booking"]);
        assert_eq!(data["buyer_id"], booked.buyer.as_str());
        assert_eq!(data["total"], booked.answer["total"]);
        assert_eq!(
            data["seats"],
            json!([{ "id": 1, "price": 165000 }, { "id": 2, "price": 165000 }])
        );
        server.stop().await;
    }
}

#[tokio::test]
async fn without_a_webhook_url_nothing_is_written_to_the_outbox() {
    let world = world(&None, Clock::system()).await;
    let server = world.start().await;
    book_two_seats(&server).await;
    assert!(
        server
            .state
            .db
            .webhooks(None, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    server.stop().await;
}

// ---------------------------------------------------------------- notices of a sale

/// One look for notices by each server at once, as their event refreshes do (so a test
/// knows a look happened after it moved the clock, without waiting for a refresh round).
async fn look_everywhere(servers: &[&Server], event: i64) {
    let looks = servers.iter().map(|s| async move {
        let e = s.state.db.event(event).await.unwrap().expect("the event");
        usher::webhooks::notices::look(&s.state.app, &e).await;
    });
    join_all(looks).await;
}

/// The event's outbox rows of `kind`.
async fn rows_about(server: &Server, event: i64, kind: &str) -> Vec<WebhookEvent> {
    let rows = rows_of(server, kind).await;
    rows.into_iter().filter(|r| r.event_id == event).collect()
}

/// Waits until the event has `n` rows of `kind`, all delivered, and returns them.
async fn wait_for_delivered(
    server: &Server,
    event: i64,
    kind: &str,
    n: usize,
) -> Vec<WebhookEvent> {
    wait_until(&format!("{n} {kind} delivered"), || async {
        let rows = rows_about(server, event, kind).await;
        (rows.len() == n && rows.iter().all(|r| r.delivered_at_ms.is_some())).then_some(rows)
    })
    .await
}

fn data_of(row: &WebhookEvent) -> Value {
    serde_json::from_str(&row.payload).unwrap()
}

#[tokio::test]
async fn a_sale_opening_is_told_once_by_one_of_two_instances_and_not_again_after_a_restart() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let a = world.start_with(webhooks_to(&receiver)).await;
        let b = world.start_with(webhooks_to(&receiver)).await;
        let opens = clock.now_ms() + 60_000;
        let event = a
            .create_event(json!({ "name": "Later Concert", "sale_opens_at_ms": opens }))
            .await;
        look_everywhere(&[&a, &b], event).await;
        assert!(
            rows_about(&a, event, "sale.opened").await.is_empty(),
            "{db:?}: not yet"
        );

        // Created open: told by the creation itself, before any refresh.
        let at_once = a
            .create_event(json!({ "sale_opens_at_ms": clock.now_ms() }))
            .await;
        assert_eq!(
            rows_about(&a, at_once, "sale.opened").await.len(),
            1,
            "{db:?}"
        );

        clock.advance(60_000);
        // Both instances' refresh loops find it; one of them records it.
        let row = wait_for_delivered(&b, event, "sale.opened", 1)
            .await
            .remove(0);
        look_everywhere(&[&a, &b], event).await;
        let data = data_of(&row);
        assert_eq!(data["event_id"], event);
        assert_eq!(data["name"], "Later Concert");
        assert_eq!(data["opened_at_ms"], opens);
        assert_eq!(data["opened_at"], usher::clock::rfc3339(opens).as_str());

        // A restarted instance looks again at start: the notice stays told.
        a.stop().await;
        let a = world.start_with(webhooks_to(&receiver)).await;
        look_everywhere(&[&a, &b], event).await;
        assert_eq!(
            rows_about(&a, event, "sale.opened").await.len(),
            1,
            "{db:?}"
        );
        let told: Vec<Seen> = receiver
            .seen("sale.opened")
            .into_iter()
            .filter(|s| s.event_id == row.event_uid)
            .collect();
        assert_eq!(told.len(), 1, "{db:?}: delivered once");
        assert!(signature_verifies(&told[0], SECRET));
        a.stop().await;
        b.stop().await;
    }
}

#[tokio::test]
async fn moving_the_opening_later_moves_the_sale_opened_notice_with_it() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        let a = world.start_with(webhooks_to(&receiver)).await;
        let b = world.start_with(webhooks_to(&receiver)).await;
        let first = clock.now_ms() + 60_000;
        let event = a.create_event(json!({ "sale_opens_at_ms": first })).await;
        let stale = b.state.db.event(event).await.unwrap().unwrap();
        let later = first + 60_000;
        let (status, body) = a
            .admin(
                "PATCH",
                &format!("/api/admin/events/{event}"),
                Some(json!({ "sale_opens_at_ms": later })),
            )
            .await;
        assert_eq!(status, 200, "{db:?}: {body}");

        // Past the old opening, before the new one: nothing, even from a look with the
        // event as it was before the move (the database's opening decides).
        clock.advance(90_000);
        look_everywhere(&[&a, &b], event).await;
        usher::webhooks::notices::look(&b.state.app, &stale).await;
        assert!(
            rows_about(&a, event, "sale.opened").await.is_empty(),
            "{db:?}: not at the old time"
        );

        clock.advance(30_000);
        let row = wait_for_delivered(&a, event, "sale.opened", 1)
            .await
            .remove(0);
        look_everywhere(&[&a, &b], event).await;
        assert_eq!(
            rows_about(&a, event, "sale.opened").await.len(),
            1,
            "{db:?}"
        );
        assert_eq!(data_of(&row)["opened_at_ms"], later, "{db:?}");
        assert_eq!(
            row.created_at_ms,
            clock.now_ms(),
            "{db:?}: told when it opened"
        );
        a.stop().await;
        b.stop().await;
    }
}

/// Admits a new buyer, holds both seats of the two-seat event and books them; the
/// booking's id.
async fn buy_both_seats(server: &Server, event: i64) -> i64 {
    let s = &server.state;
    // The admission step's token bucket fills with (manual) time: a second of it.
    s.clock.advance(1_000);
    // Each instance of this world has its own memory engine. One that first meets the
    // event after another has sold through it finds a line in the database's checkpoint,
    // restores it like a store that lost its data, and admits nobody for one presence
    // lease of engine time (`MemoryEngine::reserve`, then `tick`). Whether that restore
    // has already happened (the checkpoint loop, every second of real time) or happens
    // at this join is a race; the manual clock would never end a pause that starts now.
    // So: join (any restore is done by then), take one step at this time (the pause, if
    // any, starts now), and move the clock past the lease.
    let buyer = usher::identity::BuyerId::random();
    usher::queue::checkpoint::join(&s.queue, event, buyer, None)
        .await
        .expect("join");
    s.engine
        .tick(event, s.clock.now_ms(), rand::random())
        .await
        .expect("tick");
    s.clock
        .advance(usher::engine::presence_lease_ms(s.settings.heartbeat_ms) + 1);
    let token = server.admit(event, &[buyer]).await.remove(0);
    let (mut c, _) = server.seats(event, &token).await;
    let held = c.ask(json!({ "type": "hold", "seats": [0, 1] })).await;
    assert_eq!(held["type"], "held", "{held}");
    let booked = c.ask(json!({ "type": "book" })).await;
    assert_eq!(booked["type"], "booked", "{booked}");
    booked["booking"].as_i64().expect("a booking id")
}

#[tokio::test]
async fn selling_out_a_refund_and_selling_out_again_are_each_told_once() {
    for db in databases() {
        let receiver = Receiver::start().await;
        let clock = manual_clock();
        let world = world(&db, clock.clone()).await;
        // Two instances: both refresh loops watch the event.
        let a = world.start_with(webhooks_to(&receiver)).await;
        let b = world.start_with(webhooks_to(&receiver)).await;
        let event = a
            .create_event(json!({
                "name": "Small Hall", "admission_rate": 100000.0, "max_active": 100000,
                "seat_map": seat_map(1, 2), "sale_opens_at_ms": clock.now_ms(),
            }))
            .await;

        let first = buy_both_seats(&a, event).await;
        let sold_out = wait_for_delivered(&a, event, "event.sold_out", 1).await;
        let data = data_of(&sold_out[0]);
        assert_eq!(
            (data["episode"].clone(), data["seats_sold"].clone()),
            (json!(1), json!(2))
        );
        assert_eq!(data["name"], "Small Hall");

        // A refund frees both seats: back on sale, once.
        let (status, body) = b
            .admin("POST", &format!("/api/admin/bookings/{first}/refund"), None)
            .await;
        assert_eq!(status, 200, "{db:?}: {body}");
        let back = wait_for_delivered(&b, event, "event.back_on_sale", 1).await;
        let data = data_of(&back[0]);
        assert_eq!(data["event_id"], event);
        assert_eq!(data["episode"], 1);
        assert_eq!(data["seats_free"], 2);
        assert_eq!(data["seats_sold"], 0);
        assert_eq!(data["back_on_sale_at_ms"], back[0].created_at_ms);
        look_everywhere(&[&a, &b], event).await;
        assert_eq!(rows_about(&a, event, "event.back_on_sale").await.len(), 1);
        assert_eq!(rows_about(&a, event, "event.sold_out").await.len(), 1);

        // Sold again, through the other instance: sold out a second time.
        buy_both_seats(&b, event).await;
        let sold_out = wait_for_delivered(&a, event, "event.sold_out", 2).await;
        assert_eq!(data_of(&sold_out[1])["episode"], 2, "{db:?}");
        look_everywhere(&[&a, &b], event).await;

        // The whole history, in the order it happened, each transition once.
        let all = a.state.db.webhooks(None, 0, 100).await.unwrap();
        let history: Vec<(String, Value)> = all
            .iter()
            .filter(|r| r.event_id == event && r.kind.starts_with("event."))
            .map(|r| (r.kind.clone(), data_of(r)["episode"].clone()))
            .collect();
        let want = [
            ("event.sold_out", 1),
            ("event.back_on_sale", 1),
            ("event.sold_out", 2),
        ];
        let want: Vec<(String, Value)> = want
            .iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect();
        assert_eq!(history, want, "{db:?}");
        for (kind, n) in [("event.sold_out", 2), ("event.back_on_sale", 1)] {
            let seen = receiver.seen(kind);
            let ours: Vec<&Seen> = seen
                .iter()
                .filter(|s| {
                    serde_json::from_str::<Value>(&s.body).unwrap()["data"]["event_id"] == event
                })
                .collect();
            assert_eq!(ours.len(), n, "{db:?}: {kind} delivered {n} times");
            assert!(ours.iter().all(|s| signature_verifies(s, SECRET)));
        }
        a.stop().await;
        b.stop().await;
    }
}
