//! Refunds: the operator refunds a booking and its seats come back on sale, live for
//! every viewer; a second refund changes nothing (the seats may be someone else's by
//! then); a store wiped after a refund restores the seats as free. Every engine, and
//! PostgreSQL with Redis when they are set.

use serde_json::{Value, json};
use usher_testkit::{Engine, SeatView, Server, World, engines, seat_map};

async fn seat_event(server: &Server, rows: u32, per_row: u32) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000,
            "seat_map": seat_map(rows, per_row),
        }))
        .await
}

/// A buyer holds and books `seats`; returns the `booked` answer.
async fn book(server: &Server, event: i64, token: &str, seats: Value) -> Value {
    let (mut c, _) = server.seats(event, token).await;
    let held = c.ask(json!({ "type": "hold", "seats": seats })).await;
    assert_eq!(held["type"], "held", "{held}");
    let booked = c.ask(json!({ "type": "book" })).await;
    assert_eq!(booked["type"], "booked", "{booked}");
    booked
}

async fn refund(server: &Server, booking: &Value) -> (u16, Value) {
    let path = format!("/api/admin/bookings/{booking}/refund");
    server.admin("POST", &path, None).await
}

#[tokio::test]
async fn a_refund_puts_the_seats_back_on_sale_live_for_every_viewer() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 2, 5).await;
        let tokens = server.admitted_tokens(event, 3).await;
        let booked = book(&server, event, &tokens[0], json!([3, 4])).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        assert_eq!(view.with("sold"), vec![3, 4], "{engine:?}");

        let (status, body) = refund(&server, &booked["booking"]).await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["seats"], json!([3, 4]));
        assert_eq!(body["total"], booked["total"]);
        assert_eq!(body["already_refunded"], false);
        viewer
            .watch_until(&mut view, |v| v.with("sold").is_empty())
            .await;

        // On sale again: another buyer holds one of them.
        let (mut other, _) = server.seats(event, &tokens[2]).await;
        let r = other.ask(json!({ "type": "hold", "seats": [3] })).await;
        assert_eq!(r["type"], "held", "{engine:?}: {r}");
        // The database agrees: nothing sold for this event.
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 0);
        server.stop().await;
    }
}

#[tokio::test]
async fn refunding_twice_frees_nothing_the_second_time_even_once_the_seat_is_sold_again() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 1, 4).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let first = book(&server, event, &tokens[0], json!([0])).await;
        let (status, _) = refund(&server, &first["booking"]).await;
        assert_eq!(status, 200);
        // Someone else buys the seat that came back.
        let second = book(&server, event, &tokens[1], json!([0])).await;
        assert_ne!(second["booking"], first["booking"]);
        // A retried refund of the first booking: the same refund, nothing freed.
        let (status, body) = refund(&server, &first["booking"]).await;
        assert_eq!(status, 200, "{engine:?}: {body}");
        assert_eq!(body["already_refunded"], true);
        assert_eq!(body["seats"], json!([0]));
        let states = server.state.seats.seat_states(event).await.unwrap();
        assert_eq!(states.sold, vec![0], "{engine:?}: the new sale stands");
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 1);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_refund_of_nothing_or_without_the_key_is_refused_and_changes_nothing() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    let event = seat_event(&server, 1, 4).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let booked = book(&server, event, &tokens[0], json!([1, 2])).await;
    for bad in ["999999", "0", "-1", "abc", "1e3", "9999999999999999999999"] {
        let (status, body) = server
            .admin("POST", &format!("/api/admin/bookings/{bad}/refund"), None)
            .await;
        assert_eq!(status, 404, "{bad}: {body}");
        assert_eq!(body["error"], "not_found");
    }
    let url = format!(
        "{}/api/admin/bookings/{}/refund",
        server.http(),
        booked["booking"]
    );
    let no_key = reqwest::Client::new().post(&url).send().await.unwrap();
    assert_eq!(no_key.status().as_u16(), 401);
    assert_eq!(server.state.db.sold_count(event).await.unwrap(), 2);
    let states = server.state.seats.seat_states(event).await.unwrap();
    let mut sold = states.sold;
    sold.sort_unstable();
    assert_eq!(sold, vec![1, 2]);
    server.stop().await;
}

#[tokio::test]
async fn after_a_refund_a_wiped_store_restores_the_seats_as_free() {
    if !engines().contains(&Engine::Redis) {
        eprintln!("REDIS_URL is not set: skipping");
        return;
    }
    let own = usher_testkit::RedisServer::start().await;
    let server = own.start_usher().await;
    let event = seat_event(&server, 1, 4).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let booked = book(&server, event, &tokens[0], json!([0, 1])).await;
    let (status, _) = refund(&server, &booked["booking"]).await;
    assert_eq!(status, 200);
    own.flushall().await;
    // The next event refresh (every 2 s) gives the wiped store the database's seats.
    let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
    loop {
        if server.state.seats.seats_ready(event).await.unwrap_or(false) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the seats never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert!(
        states.sold.is_empty(),
        "refunded seats are free: {states:?}"
    );
    server.stop().await;
}
