//! Order confirmation under faults and races. The ticket site confirms payment with
//! `POST /api/admin/orders/{id}/confirm`; whatever happens around it, a confirmed payment
//! is never lost, no seat is sold twice, and an answer the server cannot be sure of is
//! never a refusal that claims nothing changed:
//!
//! - the database link is cut mid-confirm (PostgreSQL through the testkit's `Proxy`);
//! - many confirmations of one order at two instances at once;
//! - a confirmation at the very deadline, racing the expiry (a manual clock);
//! - a confirmation racing a cancellation;
//! - the instance that made the order is stopped before the payment comes in;
//! - hostile confirmations (huge or malformed references, odd ids, replays).
//!
//! SQLite always, PostgreSQL when `POSTGRES_URL` is set; the memory engine always, Redis
//! when `REDIS_URL` is set (two instances need Redis).

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use usher::Settings;
use usher::clock::Clock;
use usher_testkit::proxy::{Cut, Proxy};
use usher_testkit::{
    Engine, SeatView, Server, WAIT, World, engines, fresh_postgres, seat_map, unique,
};

const CHECKOUT: &str = "https://tickets.example/pay?order={order}&t={token}";

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

/// A world of this engine on this database (`None`: a SQLite file of its own).
async fn world(engine: Engine, postgres: &Option<String>, clock: Clock) -> World {
    let id = unique();
    let database_url = match postgres {
        Some(admin) => fresh_postgres(admin, &id).await,
        None => {
            let path = std::env::temp_dir().join(format!("usher-test-{id}.db"));
            format!("sqlite://{}?mode=rwc", path.display())
        }
    };
    World {
        engine,
        prefix: format!("t{id}"),
        database_url,
        clock,
    }
}

/// Orders await payment, and webhooks are on (nobody listens: every `order.*` row stays
/// in the outbox, pending, where the test counts it).
fn sale(s: &mut Settings) {
    s.checkout_url = CHECKOUT.into();
    s.webhook_url = "http://127.0.0.1:9/hooks".into();
    s.webhook_secret = "test-webhook-secret".into();
    s.webhook_poll_ms = 60_000;
}

async fn seat_event(server: &Server, rows: u32, hold_secs: i64) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000, "hold_secs": hold_secs,
            "seat_map": seat_map(rows, 10),
            "sale_opens_at_ms": server.state.clock.now_ms(),
        }))
        .await
}

/// A buyer holds `seats` and checks out; returns the order id.
async fn checkout(server: &Server, event: i64, token: &str, seats: &[u32]) -> i64 {
    let (mut c, _) = server.seats(event, token).await;
    let held = c.ask(json!({ "type": "hold", "seats": seats })).await;
    assert_eq!(held["type"], "held", "{held}");
    let answer = c.ask(json!({ "type": "book" })).await;
    assert_eq!(answer["type"], "checkout", "{answer}");
    answer["order"].as_i64().expect("an order id")
}

async fn confirm(server: &Server, order: i64, payment_ref: &str) -> (u16, Value) {
    let path = format!("/api/admin/orders/{order}/confirm");
    server
        .admin("POST", &path, Some(json!({ "payment_ref": payment_ref })))
        .await
}

async fn cancel(server: &Server, order: i64) -> (u16, Value) {
    let path = format!("/api/admin/orders/{order}/cancel");
    server.admin("POST", &path, None).await
}

async fn read_order(server: &Server, order: i64) -> Value {
    let (status, body) = server
        .admin("GET", &format!("/api/admin/orders/{order}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn count_bookings(server: &Server, event: i64) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE event_id = $1")
        .bind(event)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    n
}

/// Every outbox row: (type, data).
async fn outbox(server: &Server) -> Vec<(String, Value)> {
    let rows = server.state.db.webhooks(None, 0, 500).await.unwrap();
    rows.into_iter()
        .map(|w| (w.kind, serde_json::from_str(&w.payload).unwrap()))
        .collect()
}

/// The outbox rows of type `kind` about this order (`order.paid` names its booking).
async fn rows_about(server: &Server, kind: &str, order: &Value) -> usize {
    outbox(server)
        .await
        .iter()
        .filter(|(k, data)| {
            k == kind
                && match kind {
                    "order.paid" => data["booking_id"] == order["booking"],
                    _ => data["order_id"] == order["id"],
                }
        })
        .count()
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

/// The engine's sold seats (sorted) and the seats it holds (bookings in progress too).
async fn engine_seats(server: &Server, event: i64) -> (Vec<u32>, Vec<u32>) {
    let states = server.state.seats.seat_states(event).await.unwrap();
    let mut sold = states.sold;
    sold.sort_unstable();
    let mut held: Vec<u32> = states.held.iter().map(|(s, _, _)| *s).collect();
    held.sort_unstable();
    (sold, held)
}

/// Waits until the engine shows exactly `sold` sold (the engine is told after the
/// database, so it may lag a moment).
async fn wait_engine_sold(server: &Server, event: i64, sold: &[u32]) {
    let want = sold.to_vec();
    wait_until(&format!("the engine to show {want:?} sold"), || async {
        let (now_sold, _) = engine_seats(server, event).await;
        (now_sold == want).then_some(())
    })
    .await;
}

/// Waits until the engine shows exactly `sold` sold and holds nothing (every order
/// decided: paid, or its seats back on sale).
async fn wait_engine_settled(server: &Server, event: i64, sold: &[u32], what: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (now_sold, held) = engine_seats(server, event).await;
        if now_sold == sold && held.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the engine never agreed with the database ({sold:?} sold): \
             sold {now_sold:?}, held {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The order is paid exactly once: one booking of its seats, sold in the database and
/// in the engine, and one `order.paid` in the outbox.
async fn assert_paid_once(server: &Server, event: i64, order: i64, seats: &[u32]) -> Value {
    let read = read_order(server, order).await;
    assert_eq!(read["status"], "paid", "{read}");
    assert!(read["booking"].is_i64(), "{read}");
    assert_eq!(count_bookings(server, event).await, 1, "one booking");
    assert_eq!(server.state.db.sold_seats(event).await.unwrap(), seats);
    assert_eq!(rows_about(server, "order.paid", &read).await, 1, "{read}");
    wait_engine_sold(server, event, seats).await;
    read
}

// ---------------------------------------------------------------- the database link cut

/// A world whose database is a fresh PostgreSQL database reached through the proxy.
async fn proxied_world() -> Option<(World, Proxy)> {
    let admin = std::env::var("POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let Some(admin) = admin else {
        eprintln!("POSTGRES_URL is not set: skipping the cut-link cases");
        return None;
    };
    let id = unique();
    let url = fresh_postgres(&admin, &id).await;
    // postgres://user@host:port/db: the proxy stands in for host:port.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (auth_host, db) = rest.split_once('/').unwrap();
    let (auth, host) = match auth_host.rsplit_once('@') {
        Some((a, h)) => (format!("{a}@"), h),
        None => (String::new(), auth_host),
    };
    let proxy = Proxy::start(host).await;
    let world = World {
        engine: Engine::Memory,
        prefix: format!("t{id}"),
        database_url: format!("{scheme}://{auth}{}/{db}", proxy.addr),
        clock: Clock::system(),
    };
    Some((world, proxy))
}

/// An answer to a confirmation whose database link was cut: paid, or "cannot tell yet"
/// (never a refusal that claims nothing changed, never a 500).
fn assert_paid_or_unknown(status: u16, body: &Value) {
    match status {
        200 => assert_eq!(body["status"], "paid", "{body}"),
        503 => assert_eq!(body["error"], "outcome_unknown", "{body}"),
        _ => panic!("expected 200 paid or 503 outcome_unknown, got {status}: {body}"),
    }
}

/// Checks out seats 3 and 4, cuts the database link as `fault` says while confirming,
/// then brings it back: the answer is paid or unknown, and a retry pays it once.
async fn confirm_through_a_cut(fault: impl FnOnce(&Proxy)) -> Option<(u16, Value, usize)> {
    let (world, proxy) = proxied_world().await?;
    let server = world.start_with(sale).await;
    let event = seat_event(&server, 2, 300).await;
    let token = server.admitted_tokens(event, 1).await.remove(0);
    let order = checkout(&server, event, &token, &[3, 4]).await;

    fault(&proxy);
    let (status, first) = confirm(&server, order, "pay_cut").await;
    let cuts = proxy.cuts();
    assert_paid_or_unknown(status, &first);

    proxy.up();
    let (again, paid) = confirm(&server, order, "pay_cut").await;
    assert_eq!(again, 200, "a retry with the same reference pays: {paid}");
    assert_eq!(paid["status"], "paid", "{paid}");
    if status == 200 {
        assert_eq!(paid["booking"], first["booking"], "the same booking");
    }
    let read = assert_paid_once(&server, event, order, &[3, 4]).await;
    assert_eq!(read["booking"], paid["booking"]);
    assert_eq!(read["payment_ref"], "pay_cut");
    // The admin API lists the one `order.paid` too.
    let (_, hooks) = server.admin("GET", "/api/admin/webhooks", None).await;
    let paid_rows = hooks["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["type"] == "order.paid" && w["event_id"] == event)
        .count();
    assert_eq!(paid_rows, 1, "{hooks}");
    // Another reference is still refused, and sells nothing more.
    let (refused, other) = confirm(&server, order, "pay_other").await;
    assert_eq!(
        (refused, other["error"].as_str()),
        (409, Some("order_paid_otherwise"))
    );
    assert_eq!(count_bookings(&server, event).await, 1);
    server.stop().await;
    Some((status, first, cuts))
}

#[tokio::test]
async fn a_confirm_whose_commit_answer_is_lost_is_paid_once() {
    // The database commits; the answer never reaches usher.
    let Some((status, first, cuts)) = confirm_through_a_cut(|p| p.arm(Cut::AnswerLost)).await
    else {
        return;
    };
    assert_eq!(cuts, 1, "the COMMIT's answer was lost");
    // The database is still there: the server finds out at once that it was paid.
    assert_eq!(status, 200, "the ticket site is told the truth: {first}");
}

#[tokio::test]
async fn a_confirm_that_cannot_be_checked_is_unknown_and_a_retry_pays_it_once() {
    // The database commits, the answer is lost, and then the database is unreachable.
    let Some((status, first, cuts)) =
        confirm_through_a_cut(|p| p.arm(Cut::AnswerLostThenDown)).await
    else {
        return;
    };
    assert_eq!(cuts, 1);
    assert_eq!(status, 503, "the outcome cannot be known: {first}");
}

#[tokio::test]
async fn a_confirm_whose_commit_is_lost_is_never_refused_and_a_retry_pays_it() {
    // The COMMIT never reaches the database: nothing was paid, the order still awaits.
    if let Some((_, _, cuts)) = confirm_through_a_cut(|p| p.arm(Cut::CommitLost)).await {
        assert_eq!(cuts, 1, "the COMMIT was lost");
    }
}

#[tokio::test]
async fn a_confirm_while_the_database_is_unreachable_is_unknown_and_a_retry_pays_it() {
    confirm_through_a_cut(|p| p.down()).await;
}

// ---------------------------------------------------------------- concurrent confirms

#[tokio::test]
async fn many_confirms_of_one_order_at_two_instances_pay_it_once() {
    for engine in engines() {
        for db in databases() {
            let world = world(engine, &db, Clock::system()).await;
            // Two instances share the Redis engine; the memory engine is one instance's.
            let mut servers = vec![world.start_with(sale).await];
            if engine == Engine::Redis {
                servers.push(world.start_with(sale).await);
            }
            let a = &servers[0];
            let event = seat_event(a, 2, 300).await;
            let tokens = a.admitted_tokens(event, 2).await;
            let what = format!(
                "{engine:?}, {}",
                if db.is_some() { "PostgreSQL" } else { "SQLite" }
            );

            // The same reference, many times at once, at every instance: all paid, once.
            let order = checkout(a, event, &tokens[0], &[0, 1]).await;
            let answers = join_all((0..16).map(|i| {
                let server = &servers[i % servers.len()];
                confirm(server, order, "pay_same")
            }))
            .await;
            let booking = answers[0].1["booking"].clone();
            for (status, body) in &answers {
                assert_eq!(*status, 200, "{what}: {body}");
                assert_eq!(body["status"], "paid", "{what}: {body}");
                assert_eq!(body["booking"], booking, "{what}: one booking");
            }
            assert_paid_once(a, event, order, &[0, 1]).await;

            // Different references at once: exactly one wins, the others are refused.
            let order = checkout(a, event, &tokens[1], &[5, 6]).await;
            let answers = join_all((0..16).map(|i| {
                let server = &servers[i % servers.len()];
                let payment_ref = format!("pay_{i}");
                async move { (confirm(server, order, &payment_ref).await, payment_ref) }
            }))
            .await;
            let winners: Vec<&String> = answers
                .iter()
                .filter(|((status, _), _)| *status == 200)
                .map(|(_, r)| r)
                .collect();
            assert_eq!(winners.len(), 1, "{what}: one winner: {answers:?}");
            for ((status, body), _) in &answers {
                if *status != 200 {
                    assert_eq!(
                        (*status, body["error"].as_str()),
                        (409, Some("order_paid_otherwise")),
                        "{what}: {body}"
                    );
                }
            }
            let read = read_order(a, order).await;
            assert_eq!(read["status"], "paid", "{what}");
            assert_eq!(read["payment_ref"], winners[0].as_str(), "{what}");
            assert_eq!(count_bookings(a, event).await, 2, "{what}");
            assert_eq!(a.state.db.sold_seats(event).await.unwrap(), [0, 1, 5, 6]);
            assert_eq!(rows_about(a, "order.paid", &read).await, 1, "{what}");
            for server in &servers {
                wait_engine_sold(server, event, &[0, 1, 5, 6]).await;
            }
            for server in servers {
                server.stop().await;
            }
        }
    }
}

// ---------------------------------------------------------------- confirm racing expiry

#[tokio::test]
async fn a_confirm_at_the_deadline_is_paid_or_expired_never_both() {
    const BUYERS: usize = 8;
    for engine in engines() {
        for db in databases() {
            let clock = Clock::manual(1_800_000_000_000);
            let world = world(engine, &db, clock.clone()).await;
            let mut servers = vec![world.start_with(sale).await];
            if engine == Engine::Redis {
                servers.push(world.start_with(sale).await);
            }
            let a = &servers[0];
            let what = format!(
                "{engine:?}, {}",
                if db.is_some() { "PostgreSQL" } else { "SQLite" }
            );
            let event = seat_event(a, 4, 60).await;
            let mut paid_seats: Vec<u32> = Vec::new();
            for round in 0..4u32 {
                // Eight buyers check out one seat each, all due at the same deadline.
                let tokens = a.admitted_tokens(event, BUYERS).await;
                let mut orders = Vec::new();
                for (i, token) in tokens.iter().enumerate() {
                    let seat = round * BUYERS as u32 + i as u32;
                    orders.push((checkout(a, event, token, &[seat]).await, seat));
                }
                let deadline = read_order(a, orders[0].0).await["deadline_ms"]
                    .as_i64()
                    .unwrap();
                clock.advance(deadline - 1 - clock.now_ms());
                // The payments come in a millisecond before the deadline, while another
                // instance, whose clock is a millisecond ahead, expires the due orders.
                let confirms = join_all(orders.iter().enumerate().map(|(i, (order, _))| {
                    confirm(&servers[i % servers.len()], *order, "pay_edge")
                }));
                let expiry = async {
                    let mut expired = Vec::new();
                    let hang_guard = tokio::time::Instant::now() + WAIT;
                    loop {
                        // An error (a busy SQLite) is tried again, as the sweep would.
                        let due = a.state.db.expire_due_orders(deadline).await;
                        expired.extend(due.unwrap_or_default());
                        let mut pending = 0;
                        for (order, _) in &orders {
                            let o = a.state.db.order(*order).await;
                            let decided =
                                matches!(&o, Ok(Some(o)) if o.status.name() != "pending_payment");
                            pending += usize::from(!decided);
                        }
                        if pending == 0 {
                            break;
                        }
                        assert!(
                            tokio::time::Instant::now() < hang_guard,
                            "{what}: {pending} orders never decided"
                        );
                        tokio::task::yield_now().await;
                    }
                    for order in expired {
                        usher::seats::expiry::give_back_order(&a.state, &order).await;
                    }
                };
                let (answers, ()) = tokio::join!(confirms, expiry);
                clock.advance(1_000);
                for ((order, seat), (status, body)) in orders.iter().zip(&answers) {
                    let read = wait_until("the order to settle", || async {
                        let read = read_order(a, *order).await;
                        (read["status"] != "pending_payment").then_some(read)
                    })
                    .await;
                    let sold = a.state.db.sold_seats(event).await.unwrap();
                    match read["status"].as_str() {
                        Some("paid") => {
                            assert_eq!(*status, 200, "{what}: paid, yet {body}");
                            assert_eq!(body["status"], "paid", "{what}: {body}");
                            assert!(sold.contains(seat), "{what}: paid, not sold");
                            assert_eq!(rows_about(a, "order.paid", &read).await, 1);
                            assert_eq!(rows_about(a, "order.expired", &read).await, 0);
                            paid_seats.push(*seat);
                        }
                        Some("expired") => {
                            assert_eq!(
                                (*status, body["error"].as_str()),
                                (409, Some("order_expired")),
                                "{what}: expired, yet {body}"
                            );
                            assert!(!sold.contains(seat), "{what}: expired and sold");
                            assert!(read["booking"].is_null(), "{what}: {read}");
                            assert_eq!(rows_about(a, "order.expired", &read).await, 1);
                        }
                        other => panic!("{what}: paid or expired, not {other:?}: {read}"),
                    }
                }
                paid_seats.sort_unstable();
                assert_eq!(
                    a.state.db.sold_seats(event).await.unwrap(),
                    paid_seats,
                    "{what}"
                );
                assert_eq!(count_bookings(a, event).await, paid_seats.len() as i64);
                // The engine agrees: the paid seats sold, the expired ones on sale again.
                for server in &servers {
                    wait_engine_settled(server, event, &paid_seats, &what).await;
                }
            }
            for server in servers {
                server.stop().await;
            }
        }
    }
}

// ---------------------------------------------------------------- confirm racing cancel

#[tokio::test]
async fn a_confirm_racing_a_cancel_ends_one_way_only() {
    for db in databases() {
        let world = world(Engine::Memory, &db, Clock::system()).await;
        let server = world.start_with(sale).await;
        let what = if db.is_some() { "PostgreSQL" } else { "SQLite" };
        let event = seat_event(&server, 2, 300).await;
        let tokens = server.admitted_tokens(event, 8).await;
        let mut orders = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            orders.push((checkout(&server, event, token, &[i as u32]).await, i as u32));
        }
        let races = orders.iter().map(|(order, _)| {
            let server = &server;
            async move { tokio::join!(confirm(server, *order, "pay_race"), cancel(server, *order)) }
        });
        let answers = join_all(races).await;
        let mut paid_seats = Vec::new();
        for ((order, seat), ((paid, pbody), (cancelled, cbody))) in orders.iter().zip(&answers) {
            let read = read_order(&server, *order).await;
            match read["status"].as_str() {
                Some("paid") => {
                    assert_eq!(*paid, 200, "{what}: {pbody}");
                    assert_eq!(
                        (*cancelled, cbody["error"].as_str()),
                        (409, Some("order_paid")),
                        "{what}: paid, yet the cancel answered {cbody}"
                    );
                    paid_seats.push(*seat);
                }
                Some("cancelled") => {
                    assert_eq!(*cancelled, 200, "{what}: {cbody}");
                    assert_eq!(cbody["status"], "cancelled", "{what}: {cbody}");
                    assert_eq!(
                        (*paid, pbody["error"].as_str()),
                        (409, Some("order_cancelled")),
                        "{what}: cancelled, yet the confirm answered {pbody}"
                    );
                    assert!(read["booking"].is_null(), "{what}: {read}");
                }
                other => panic!("{what}: paid or cancelled, not {other:?}"),
            }
        }
        assert_eq!(server.state.db.sold_seats(event).await.unwrap(), paid_seats);
        assert_eq!(
            count_bookings(&server, event).await,
            paid_seats.len() as i64
        );
        wait_engine_settled(&server, event, &paid_seats, what).await;
        server.stop().await;
    }
}

// ---------------------------------------------------------------- an instance goes away

#[tokio::test]
async fn an_order_made_on_a_stopped_instance_is_confirmed_on_another() {
    if !engines().contains(&Engine::Redis) {
        eprintln!("REDIS_URL is not set: skipping (two instances need Redis)");
        return;
    }
    for db in databases() {
        let world = world(Engine::Redis, &db, Clock::system()).await;
        let a = world.start_with(sale).await;
        let b = world.start_with(sale).await;
        let event = seat_event(&a, 2, 300).await;
        let tokens = a.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = b.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let order = checkout(&a, event, &tokens[0], &[2, 3]).await;
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![2, 3])
            .await;
        // The instance that made the order goes away while the buyer pays.
        a.stop().await;
        let (status, paid) = confirm(&b, order, "pay_elsewhere").await;
        assert_eq!(status, 200, "{paid}");
        assert_eq!(paid["status"], "paid");
        viewer
            .watch_until(&mut view, |v| v.with("sold") == vec![2, 3])
            .await;
        assert_paid_once(&b, event, order, &[2, 3]).await;
        b.stop().await;
    }
}

// ---------------------------------------------------------------- hostile confirmations

#[tokio::test]
async fn hostile_confirmations_are_refused_cleanly_and_change_nothing() {
    for db in databases() {
        let world = world(Engine::Memory, &db, Clock::system()).await;
        let server = world.start_with(sale).await;
        let event = seat_event(&server, 2, 300).await;
        let tokens = server.admitted_tokens(event, 3).await;
        let order = checkout(&server, event, &tokens[0], &[0]).await;
        let path = format!("{}/api/admin/orders/{order}/confirm", server.http());
        let http = reqwest::Client::new();
        let post = |body: Vec<u8>, content_type: &'static str| {
            let req = http
                .post(&path)
                .bearer_auth(usher_testkit::ADMIN_KEY)
                .header("content-type", content_type)
                .body(body);
            async move {
                let res = req.send().await.unwrap();
                res.status().as_u16()
            }
        };
        // Huge, empty, binary, nested, truncated, wrongly typed: refused, never a 5xx.
        let huge = serde_json::to_vec(&json!({ "payment_ref": "p".repeat(1 << 20) })).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (huge, "application/json"),
            (vec![b'{'; 100_000], "application/json"),
            (
                b"{\"payment_ref\": \"a\\u0000b\"}".to_vec(),
                "application/json",
            ),
            (b"{\"payment_ref\": \"x\"".to_vec(), "application/json"),
            (b"{\"payment_ref\": null}".to_vec(), "application/json"),
            (b"{\"payment_ref\": [\"x\"]}".to_vec(), "application/json"),
            (b"[]".to_vec(), "application/json"),
            (vec![0xff, 0xfe, 0x00], "application/json"),
            (
                b"payment_ref=x".to_vec(),
                "application/x-www-form-urlencoded",
            ),
            (
                b"{\"payment_ref\": \"\\ud800\"}".to_vec(),
                "application/json",
            ),
        ];
        for (body, content_type) in cases {
            let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
            let status = post(body, content_type).await;
            assert!(
                (400..500).contains(&status),
                "{shown:?} ({content_type}): expected a 4xx, got {status}"
            );
        }
        // Ids that name no order.
        for bad in [
            "0",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "1e3",
            "%20",
            "1%00",
        ] {
            let (status, body) = server
                .admin(
                    "POST",
                    &format!("/api/admin/orders/{bad}/confirm"),
                    Some(json!({ "payment_ref": "p" })),
                )
                .await;
            assert_eq!(status, 404, "{bad}: {body}");
        }
        let read = read_order(&server, order).await;
        assert_eq!(read["status"], "pending_payment", "nothing changed: {read}");
        assert_eq!(count_bookings(&server, event).await, 0);

        // The longest reference allowed, in characters that are not ASCII, pays; its
        // replay answers the same, byte for byte the same reference.
        let long = "é€😀".repeat(66) + "xx";
        assert_eq!(long.chars().count(), 200);
        let (status, paid) = confirm(&server, order, &long).await;
        assert_eq!(status, 200, "{paid}");
        assert_eq!(paid["payment_ref"], long.as_str());
        let (status, again) = confirm(&server, order, &long).await;
        assert_eq!((status, &again["booking"]), (200, &paid["booking"]));
        let (status, other) = confirm(&server, order, &long[..long.len() - 1]).await;
        assert_eq!(
            (status, other["error"].as_str()),
            (409, Some("order_paid_otherwise"))
        );
        let (status, body) = cancel(&server, order).await;
        assert_eq!((status, body["error"].as_str()), (409, Some("order_paid")));

        // A replay after a cancellation is refused and sells nothing.
        let second = checkout(&server, event, &tokens[1], &[1]).await;
        assert_eq!(cancel(&server, second).await.0, 200);
        for _ in 0..2 {
            let (status, body) = confirm(&server, second, "pay_late").await;
            assert_eq!(
                (status, body["error"].as_str()),
                (409, Some("order_cancelled"))
            );
        }
        // A replay after a refund is refused and sells nothing again.
        let refund = format!("/api/admin/bookings/{}/refund", paid["booking"]);
        assert_eq!(server.admin("POST", &refund, None).await.0, 200);
        let (status, body) = confirm(&server, order, &long).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("order_refunded"))
        );
        assert!(server.state.db.sold_seats(event).await.unwrap().is_empty());
        assert_eq!(
            count_bookings(&server, event).await,
            1,
            "only the first one"
        );
        wait_engine_sold(&server, event, &[]).await;
        server.stop().await;
    }
}
