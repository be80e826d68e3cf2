//! Seats under faults: a database that loses a COMMIT's answer, a Redis that loses its
//! data (flushed, or killed and started again empty), a memory engine that restarts.
//! What a buyer was told stays true: a hold is still theirs, a booking is booked, and an
//! entry token issued before the fault still opens the seat map.
//!
//! The PostgreSQL cases run when `POSTGRES_URL` is set; the Redis cases start their own
//! `redis-server` on a free port (never the shared one).

use std::time::Duration;

use serde_json::{Value, json};
use usher::clock::Clock;
use usher_testkit::proxy::{Cut, Proxy};
use usher_testkit::{Client, Engine, RedisServer, SeatView, Server, World};

async fn seat_event(server: &Server) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0,
            "max_active": 100000,
            "seat_map": usher_testkit::seat_map(2, 5),
        }))
        .await
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .iter()
        .map(|s| s.as_u64().unwrap())
        .collect()
}

async fn count_bookings(server: &Server, event: i64) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM bookings WHERE event_id = $1")
        .bind(event)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    n
}

// ---------------------------------------------------------------------------------------
// A booking whose COMMIT answer is lost (PostgreSQL through a proxy that cuts it).

/// A world whose database is a fresh PostgreSQL database reached through the proxy.
async fn proxied_world() -> Option<(World, Proxy)> {
    let admin = std::env::var("POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let Some(admin) = admin else {
        eprintln!("POSTGRES_URL is not set: skipping the lost-COMMIT cases");
        return None;
    };
    let id = usher_testkit::unique();
    let url = usher_testkit::fresh_postgres(&admin, &id).await;
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

#[tokio::test]
async fn a_booking_whose_commit_answer_is_lost_is_still_booked() {
    let Some((world, proxy)) = proxied_world().await else {
        return;
    };
    let server = world.start().await;
    let event = seat_event(&server).await;
    let tokens = server.admitted_tokens(event, 2).await;
    let (mut buyer, _) = server.seats(event, &tokens[0]).await;
    let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
    let mut view = SeatView::from_snapshot(&snap);
    let r = buyer.ask(json!({ "type": "hold", "seats": [0, 1] })).await;
    assert_eq!(r["type"], "held", "{r}");

    // The database commits the booking; the answer never reaches usher.
    proxy.arm(Cut::AnswerLost);
    let r = buyer.ask(json!({ "type": "book" })).await;
    assert_eq!(proxy.cuts(), 1, "the COMMIT's answer was lost");
    assert_eq!(r["type"], "booked", "the buyer is told the truth: {r}");
    assert_eq!(ids(&r["seats"]), vec![0, 1]);
    assert_eq!(r["total"], 2 * 165000);
    assert_eq!(buyer.closed().await.code, 1000);

    assert_eq!(
        count_bookings(&server, event).await,
        1,
        "exactly one booking"
    );
    assert_eq!(server.state.db.sold_seats(event).await.unwrap(), vec![0, 1]);
    viewer
        .watch_until(&mut view, |v| v.with("sold") == vec![0, 1])
        .await;
    server.stop().await;
}

#[tokio::test]
async fn a_booking_that_cannot_be_checked_is_unknown_and_a_retry_finds_it() {
    let Some((world, proxy)) = proxied_world().await else {
        return;
    };
    let server = world.start().await;
    let event = seat_event(&server).await;
    let tokens = server.admitted_tokens(event, 2).await;
    let (mut buyer, _) = server.seats(event, &tokens[0]).await;
    let (mut racer, _) = server.seats(event, &tokens[1]).await;
    let r = buyer.ask(json!({ "type": "hold", "seats": [3, 4] })).await;
    assert_eq!(r["type"], "held", "{r}");

    // The database commits, the answer is lost, and then the database cannot be reached.
    proxy.arm(Cut::AnswerLostThenDown);
    let r = buyer.ask(json!({ "type": "book" })).await;
    assert_eq!(proxy.cuts(), 1);
    assert_eq!(
        r["code"], "outcome_unknown",
        "not a failure that changed nothing: {r}"
    );

    // The seats stay the buyer's: nobody else can take them meanwhile.
    let states = server.state.seats.seat_states(event).await.unwrap();
    let held: Vec<u32> = states.held.iter().map(|(s, _, _)| *s).collect();
    assert_eq!(held, vec![3, 4], "still protected");
    let r = racer.ask(json!({ "type": "hold", "seats": [3] })).await;
    assert_eq!(r["code"], "seat_taken", "{r}");

    // The database is back: the buyer asks again and gets the booking that was made.
    proxy.up();
    let r = buyer.ask(json!({ "type": "book" })).await;
    assert_eq!(r["type"], "booked", "{r}");
    assert_eq!(ids(&r["seats"]), vec![3, 4]);
    assert_eq!(r["total"], 2 * 165000);
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM bookings WHERE event_id = $1")
        .bind(event)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(r["booking"], id, "the same booking, not a second one");
    assert_eq!(count_bookings(&server, event).await, 1);
    assert_eq!(server.state.db.sold_seats(event).await.unwrap(), vec![3, 4]);
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert_eq!(states.sold, vec![3, 4], "sold for every viewer");
    server.stop().await;
}

#[tokio::test]
async fn a_booking_whose_commit_is_lost_is_refused_and_the_hold_stays() {
    let Some((world, proxy)) = proxied_world().await else {
        return;
    };
    let server = world.start().await;
    let event = seat_event(&server).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let (mut buyer, _) = server.seats(event, &tokens[0]).await;
    let r = buyer.ask(json!({ "type": "hold", "seats": [7] })).await;
    assert_eq!(r["type"], "held", "{r}");

    // The COMMIT never reaches the database: the booking certainly did not happen.
    proxy.arm(Cut::CommitLost);
    let r = buyer.ask(json!({ "type": "book" })).await;
    assert_eq!(proxy.cuts(), 1);
    assert_eq!(r["code"], "unavailable", "{r}");
    assert_eq!(count_bookings(&server, event).await, 0, "nothing changed");
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert_eq!(states.held.len(), 1, "the seat is held again");
    assert!(states.sold.is_empty());

    let r = buyer.ask(json!({ "type": "book" })).await;
    assert_eq!(r["type"], "booked", "a retry books: {r}");
    assert_eq!(count_bookings(&server, event).await, 1);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// Holds and tokens survive the loss of the engine's data.

/// Who is where before the loss. Tokens are all issued before it.
struct Sale {
    event: i64,
    /// Holds 0 and 1, and reloads the page after the loss.
    holder: String,
    /// Holds 2 and 3, with its socket open through the loss (Redis cases).
    keeper: String,
    /// Booked seat 4 before the loss.
    booked: String,
    /// Try to grab the held seats.
    racers: Vec<String>,
    /// Only watches.
    viewer: String,
}

async fn before_the_loss(server: &Server) -> (Sale, Client) {
    let event = seat_event(server).await;
    let mut t = server.admitted_tokens(event, 6).await.into_iter();
    let mut next = || t.next().unwrap();
    let sale = Sale {
        event,
        holder: next(),
        keeper: next(),
        booked: next(),
        racers: vec![next(), next()],
        viewer: next(),
    };
    let (mut holder, _) = server.seats(event, &sale.holder).await;
    let r = holder.ask(json!({ "type": "hold", "seats": [0, 1] })).await;
    assert_eq!(r["type"], "held", "{r}");
    holder.ws.close(None).await.unwrap();
    let (mut keeper, _) = server.seats(event, &sale.keeper).await;
    let r = keeper.ask(json!({ "type": "hold", "seats": [2, 3] })).await;
    assert_eq!(r["type"], "held", "{r}");
    let (mut booked, _) = server.seats(event, &sale.booked).await;
    booked.ask(json!({ "type": "hold", "seats": [4] })).await;
    let r = booked.ask(json!({ "type": "book" })).await;
    assert_eq!(r["type"], "booked", "{r}");
    (sale, keeper)
}

/// A hold request that retries while the engine is unreachable (which changes nothing).
async fn try_hold(c: &mut Client, seats: Value) -> Value {
    loop {
        let r = c
            .ask(json!({ "type": "hold", "seats": seats.clone() }))
            .await;
        if r["code"] != "unavailable" {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Racers already connected try to take the held seats right after the loss, while
/// the holder reloads: every attempt is refused.
async fn race_for_held_seats(server: &Server, sale: &Sale, mut racers: Vec<Client>) -> Value {
    let mut r1 = racers.remove(0);
    let mut r2 = racers.remove(0);
    let (a, b, snap) = tokio::join!(
        async { try_hold(&mut r1, json!([0])).await },
        async { try_hold(&mut r2, json!([3])).await },
        async { server.seats(sale.event, &sale.holder).await.1 }
    );
    assert_eq!(
        a["code"], "seat_taken",
        "a held seat cannot be grabbed: {a}"
    );
    assert_eq!(
        b["code"], "seat_taken",
        "a held seat cannot be grabbed: {b}"
    );
    snap
}

/// After the loss: the holds are intact, the holders book, every seat is sold once.
/// `bus_intact`: the engine's bus stayed connected through the loss, so a viewer's
/// live deltas are complete (a restarted Redis drops the subscription for a moment, and
/// what was published meanwhile is lost; a new snapshot is then the check).
async fn after_the_loss(
    server: &Server,
    sale: &Sale,
    holder_snap: Value,
    keeper: Option<Client>,
    bus_intact: bool,
) {
    let event = sale.event;
    assert_eq!(ids(&holder_snap["mine"]), vec![0, 1], "{holder_snap}");
    let view = SeatView::from_snapshot(&holder_snap);
    assert_eq!(view.with("held"), vec![0, 1, 2, 3], "{holder_snap}");
    assert_eq!(view.with("sold"), vec![4], "{holder_snap}");

    // A token issued before the loss opens the seat map and sees the same.
    let (mut viewer, snap) = server.seats(event, &sale.viewer).await;
    let mut view = SeatView::from_snapshot(&snap);
    assert_eq!(view.with("held"), vec![0, 1, 2, 3]);
    assert_eq!(view.with("sold"), vec![4]);

    // A token that booked before the loss does not get a new session.
    let url = server.seats_url(event);
    let mut done = Client::connect(&url).await;
    done.send(json!({ "type": "auth", "token": sale.booked }))
        .await;
    assert_eq!(done.error_code().await, "session_ended");
    assert_eq!(done.closed().await.code, 4513);

    // The holders book what they held.
    let (mut holder, _) = server.seats(event, &sale.holder).await;
    let r = holder.ask(json!({ "type": "book" })).await;
    assert_eq!(r["type"], "booked", "{r}");
    assert_eq!(ids(&r["seats"]), vec![0, 1]);
    let mut keeper = match keeper {
        Some(k) => k,
        None => server.seats(event, &sale.keeper).await.0,
    };
    let r = keeper.ask(json!({ "type": "book" })).await;
    assert_eq!(r["type"], "booked", "{r}");
    assert_eq!(ids(&r["seats"]), vec![2, 3]);

    // Every seat sold once, to the buyer who held it.
    assert_eq!(
        server.state.db.sold_seats(event).await.unwrap(),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!(count_bookings(server, event).await, 3);
    let late = server.admitted_tokens(event, 1).await.remove(0);
    let (_, snap) = server.seats(event, &late).await;
    let fresh = SeatView::from_snapshot(&snap);
    assert_eq!(fresh.with("sold"), vec![0, 1, 2, 3, 4], "{snap}");
    assert!(fresh.with("held").is_empty(), "{snap}");
    if bus_intact {
        viewer
            .watch_until(&mut view, |v| {
                v.with("sold") == vec![0, 1, 2, 3, 4] && v.with("held").is_empty()
            })
            .await;
    }
}

/// Waits until the server's Redis connection answers again after a restart.
async fn engine_answers(server: &Server) {
    let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
    while !server.state.engine.ping().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Redis never came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn holds_and_tokens_survive_a_flushed_redis() {
    let Some(redis) = RedisServer::try_start().await else {
        eprintln!("redis-server is not installed: skipping");
        return;
    };
    let server = redis.start_usher().await;
    let (sale, keeper) = before_the_loss(&server).await;
    let mut racers = Vec::new();
    for t in &sale.racers {
        racers.push(server.seats(sale.event, t).await.0);
    }
    redis.flushall().await;
    let snap = race_for_held_seats(&server, &sale, racers).await;
    after_the_loss(&server, &sale, snap, Some(keeper), true).await;
    server.stop().await;
}

#[tokio::test]
async fn holds_and_tokens_survive_a_redis_restarted_empty() {
    let Some(mut redis) = RedisServer::try_start().await else {
        eprintln!("redis-server is not installed: skipping");
        return;
    };
    let server = redis.start_usher().await;
    let (sale, keeper) = before_the_loss(&server).await;
    let mut racers = Vec::new();
    for t in &sale.racers {
        racers.push(server.seats(sale.event, t).await.0);
    }
    redis.restart_empty().await;
    engine_answers(&server).await;
    let snap = race_for_held_seats(&server, &sale, racers).await;
    after_the_loss(&server, &sale, snap, Some(keeper), false).await;
    server.stop().await;
}

#[tokio::test]
async fn holds_and_tokens_survive_a_restart_of_the_memory_engine() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    let (sale, keeper) = before_the_loss(&server).await;
    drop(keeper);
    server.stop().await;

    // A new process on the same SQLite file: the engine starts empty.
    let again = world.start().await;
    let mut racers = Vec::new();
    for t in &sale.racers {
        racers.push(again.seats(sale.event, t).await.0);
    }
    let snap = race_for_held_seats(&again, &sale, racers).await;
    after_the_loss(&again, &sale, snap, None, true).await;
    again.stop().await;
}

#[tokio::test]
async fn a_hold_the_database_cannot_record_is_undone_and_refused() {
    let Some((world, proxy)) = proxied_world().await else {
        return;
    };
    let server = world.start().await;
    let event = seat_event(&server).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let (mut buyer, _) = server.seats(event, &tokens[0]).await;

    proxy.down();
    let r = buyer.ask(json!({ "type": "hold", "seats": [5, 6] })).await;
    assert_eq!(r["code"], "unavailable", "{r}");
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert!(states.held.is_empty(), "nothing changed: {states:?}");

    proxy.up();
    let r = buyer.ask(json!({ "type": "hold", "seats": [5, 6] })).await;
    assert_eq!(r["type"], "held", "{r}");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM holds WHERE event_id = $1")
        .bind(event)
        .fetch_one(server.state.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 2, "the hold is recorded");
    server.stop().await;
}
