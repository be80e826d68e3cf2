//! "Best available" on the seat-map socket: the buyer asks for N seats (of a grade) and
//! the server holds N adjacent seats of one row nearest the stage, leaving no single seat
//! alone; every viewer sees them held. A rush of buyers asking at once never shares a
//! seat. Bad requests are refused with their own codes and change nothing. Every engine.

use serde_json::{Value, json};
use usher_testkit::{SeatView, Server, World, engines, seat_map};

/// Two rows of `per_row` (row 1 VIP).
async fn event(server: &Server, per_row: u32) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000,
            "seat_map": seat_map(2, per_row),
        }))
        .await
}

fn seats_of(answer: &Value) -> Vec<u64> {
    answer["seats"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_server_picks_adjacent_seats_nearest_the_stage_and_every_viewer_sees_them() {
    for engine in engines() {
        let server = World::new(engine).await.start().await;
        // Rows of 5: row 1 VIP (ids 0-4), row 2 R (ids 5-9).
        let event = event(&server, 5).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let (mut c, _) = server.seats(event, &tokens[0]).await;
        let held = c
            .ask(json!({ "type": "best", "count": 2, "grade": "VIP" }))
            .await;
        assert_eq!(held["type"], "held", "{engine:?}: {held}");
        // Row 1's middle pairs would leave seat 0 or 4 alone: its end pair is chosen.
        assert_eq!(seats_of(&held), vec![0, 1], "{engine:?}");
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![0, 1])
            .await;
        // Without a grade: the front row's 2-4 cannot give a pair without leaving a seat
        // alone, so the next row's end pair.
        let more = c.ask(json!({ "type": "best", "count": 2 })).await;
        assert_eq!(seats_of(&more), vec![5, 6], "{engine:?}: {more}");
        // The buyer's limit counts: 4 held, 1 more is too many.
        let over = c.ask(json!({ "type": "best", "count": 1 })).await;
        assert_eq!(over["code"], "too_many_seats", "{engine:?}: {over}");
        server.stop().await;
    }
}

#[tokio::test]
async fn bad_requests_are_refused_with_their_own_codes_and_change_nothing() {
    let server = World::new(usher_testkit::Engine::Memory)
        .await
        .start()
        .await;
    let event = event(&server, 5).await;
    let token = server.admitted_tokens(event, 1).await.remove(0);
    let (mut c, _) = server.seats(event, &token).await;
    for (msg, code) in [
        (json!({ "type": "best", "count": 0 }), "bad_seat_list"),
        (json!({ "type": "best", "count": 5 }), "too_many_seats"),
        (
            json!({ "type": "best", "count": 2, "grade": "Nope" }),
            "unknown_grade",
        ),
        (json!({ "type": "best", "count": "2" }), "malformed_message"),
        (json!({ "type": "best", "count": -1 }), "malformed_message"),
        (json!({ "type": "best" }), "malformed_message"),
        (
            json!({ "type": "best", "count": 2, "seats": [1] }),
            "malformed_message",
        ),
        (
            json!({ "type": "best", "count": 4294967296u64 }),
            "malformed_message",
        ),
    ] {
        let answer = c.ask(msg.clone()).await;
        assert_eq!(answer["code"], code, "{msg}: {answer}");
    }
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert!(states.held.is_empty(), "nothing held: {:?}", states.held);
    // Still served afterwards.
    let held = c.ask(json!({ "type": "best", "count": 1 })).await;
    assert_eq!(held["type"], "held", "{held}");
    server.stop().await;
}

#[tokio::test]
async fn a_rush_of_buyers_never_shares_a_seat_nor_leaves_one_alone() {
    for engine in engines() {
        let server = World::new(engine).await.start().await;
        // Rows of 6 (ids 0-5 and 6-11): three pairs each, nobody left alone.
        let event = event(&server, 6).await;
        let tokens = server.admitted_tokens(event, 8).await;
        let mut sockets = Vec::new();
        for t in &tokens {
            sockets.push(server.seats(event, t).await.0);
        }
        let asks = sockets
            .iter_mut()
            .map(|c| async move { c.ask(json!({ "type": "best", "count": 2 })).await });
        let answers = futures_util::future::join_all(asks).await;
        let mut got: Vec<u64> = Vec::new();
        let mut refused = 0;
        for a in &answers {
            match a["type"].as_str() {
                Some("held") => {
                    let s = seats_of(a);
                    assert_eq!(s.len(), 2, "{a}");
                    assert_eq!(s[1], s[0] + 1, "adjacent: {a}");
                    assert_eq!(s[0] / 6, s[1] / 6, "one row: {a}");
                    got.extend(s);
                }
                _ => {
                    assert_eq!(a["code"], "no_seats_together", "{engine:?}: {a}");
                    let words = a["message"].as_str().unwrap_or_default();
                    assert!(words.contains("no 2 seats together"), "{words}");
                    refused += 1;
                }
            }
        }
        let mut unique = got.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            unique.len(),
            got.len(),
            "{engine:?}: a seat given twice: {got:?}"
        );
        // Six pairs fit; the last two buyers are told there are none.
        assert_eq!(got.len(), 12, "{engine:?}: {answers:?}");
        assert_eq!(refused, 2, "{engine:?}");
        // No free seat is alone between taken seats or a row's end.
        for row in [0u64, 6] {
            for seat in row..row + 6 {
                if got.contains(&seat) {
                    continue;
                }
                let taken = |s: Option<u64>| s.is_none_or(|s| got.contains(&s));
                let left = (seat > row).then(|| seat - 1);
                let right = (seat < row + 5).then(|| seat + 1);
                assert!(
                    !(taken(left) && taken(right)),
                    "{engine:?}: seat {seat} alone: {got:?}"
                );
            }
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn best_available_after_a_wiped_store_skips_the_seats_the_database_holds() {
    if !engines().contains(&usher_testkit::Engine::Redis) {
        eprintln!("REDIS_URL is not set: skipping");
        return;
    }
    let own = usher_testkit::RedisServer::start().await;
    let url = own.url();
    let server = World::new(usher_testkit::Engine::Redis)
        .await
        .start_with(move |s| s.redis_url = url)
        .await;
    // Rows of 6: ids 0-5 (VIP) and 6-11.
    let event = event(&server, 6).await;
    let tokens = server.admitted_tokens(event, 2).await;
    let (mut a, _) = server.seats(event, &tokens[0]).await;
    let first = a
        .ask(json!({ "type": "best", "count": 2, "grade": "VIP" }))
        .await;
    assert_eq!(seats_of(&first), vec![2, 3], "{first}");
    // Redis loses everything; the database still has a's hold.
    own.flushall().await;
    let (mut b, _) = server.seats(event, &tokens[1]).await;
    let second = b
        .ask(json!({ "type": "best", "count": 2, "grade": "VIP" }))
        .await;
    assert_eq!(second["type"], "held", "{second}");
    let got = seats_of(&second);
    assert!(
        !got.contains(&2) && !got.contains(&3),
        "a's seats given again: {second}"
    );
    let states = server.state.seats.seat_states(event).await.unwrap();
    let mut held: Vec<u32> = states.held.iter().map(|h| h.0).collect();
    held.sort_unstable();
    assert_eq!(held.len(), 4, "{held:?}");
    assert!(
        held.contains(&2) && held.contains(&3),
        "a's hold came back: {held:?}"
    );
    server.stop().await;
}
