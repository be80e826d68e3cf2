//! Several performances of one event (a musical on three dates): one waiting room, and
//! for each performance its own seats, its own sold-out state, its own orders, and the
//! 4-seat limit per buyer per performance. The seat-map socket opens one performance
//! (`auth` names it) and speaks that performance's seat ids. Every engine, and PostgreSQL
//! with Redis when they are set.

use serde_json::{Value, json};
use usher_testkit::{Client, Engine, SeatView, Server, World, engines, seat_map};

/// Three performances of a 2 x 5 map (10 seats each; row 1 VIP).
async fn three_dates(server: &Server) -> i64 {
    let day = 86_400_000;
    let now = server.state.clock.now_ms();
    server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000,
            "seat_map": seat_map(2, 5),
            "performances": [
                { "starts_at_ms": now + 30 * day, "label": "Opening night" },
                { "starts_at": "2031-01-02T19:30:00+09:00", "label": "Second night" },
                { "starts_at_ms": now + 32 * day },
            ],
        }))
        .await
}

async fn event_view(server: &Server, event: i64) -> Value {
    let res = reqwest::get(format!("{}/api/events/{event}", server.http()))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

async fn hold(c: &mut Client, seats: Value) -> Value {
    c.ask(json!({ "type": "hold", "seats": seats })).await
}

#[tokio::test]
async fn each_performance_has_its_own_seats_and_viewers_see_only_theirs() {
    for engine in engines() {
        let server = World::new(engine).await.start().await;
        let event = three_dates(&server).await;
        let view = event_view(&server, event).await;
        let perfs = view["performances"].as_array().unwrap();
        assert_eq!(perfs.len(), 3, "{view}");
        assert_eq!(perfs[1]["label"], "Second night");
        assert_eq!(perfs[1]["starts_at"], "2031-01-02T10:30:00.000Z");
        assert_eq!(view["seats"]["total"], 30, "{view}");
        let tokens = server.admitted_tokens(event, 3).await;
        let (mut first_viewer, snap0) = server.seats_of(event, 0, &tokens[2]).await;
        let mut first_view = SeatView::from_snapshot(&snap0);
        assert_eq!(snap0["seat_count"], 10);

        // Seat 3 of the first performance and seat 3 of the second are two seats.
        let (mut a, _) = server.seats_of(event, 0, &tokens[0]).await;
        assert_eq!(hold(&mut a, json!([3])).await["type"], "held");
        let (mut b, snap1) = server.seats_of(event, 1, &tokens[1]).await;
        assert_eq!(
            SeatView::from_snapshot(&snap1).with("held"),
            Vec::<u64>::new()
        );
        let held = hold(&mut b, json!([3, 4])).await;
        assert_eq!(held["type"], "held", "{engine:?}: {held}");
        assert_eq!(held["seats"], json!([3, 4]));
        // The first performance's viewer sees its own hold, not the second's.
        first_viewer
            .watch_until(&mut first_view, |v| v.with("held") == vec![3])
            .await;
        // A seat id past the map is unknown: it does not reach another performance.
        let far = hold(&mut b, json!([10])).await;
        assert_eq!(far["code"], "unknown_seat", "{far}");

        // The public counts may lag a second (they are read at most once a second).
        wait_for(&server, event, |view| {
            let held: Vec<i64> = view["performances"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p["seats"]["held"].as_i64())
                        .collect()
                })
                .unwrap_or_default();
            held == vec![1, 2, 0]
        })
        .await;
        server.stop().await;
    }
}

#[tokio::test]
async fn the_four_seat_limit_is_per_buyer_per_performance_and_a_booking_is_one_performance() {
    for engine in engines() {
        let server = World::new(engine).await.start().await;
        let event = three_dates(&server).await;
        let buyer = usher::identity::BuyerId::random();
        let token = server.admit(event, &[buyer]).await.remove(0);
        let (mut c, _) = server.seats_of(event, 0, &token).await;
        assert_eq!(hold(&mut c, json!([0, 1, 2, 3])).await["type"], "held");
        let fifth = hold(&mut c, json!([4])).await;
        assert_eq!(fifth["code"], "too_many_seats", "{engine:?}: {fifth}");
        // The same buyer opens the second performance (one socket at a time per token).
        drop(c);
        let (mut c, snap) = open_again(&server, event, 1, &token).await;
        assert_eq!(
            snap["mine"],
            json!([]),
            "the first performance's holds are not here"
        );
        assert_eq!(hold(&mut c, json!([5, 6, 7, 8])).await["type"], "held");
        let booked = c.ask(json!({ "type": "book" })).await;
        assert_eq!(booked["type"], "booked", "{engine:?}: {booked}");
        assert_eq!(
            booked["seats"],
            json!([5, 6, 7, 8]),
            "only this performance's holds"
        );
        // The first performance's holds are still the buyer's.
        wait_for(&server, event, |view| {
            view["performances"][0]["seats"]["held"] == 4
                && view["performances"][1]["seats"]["sold"] == 4
        })
        .await;

        // Let in again later: 4 bought in the second performance leave none there, and
        // 4 more in the third.
        let token = server.admit(event, &[buyer]).await.remove(0);
        let (mut c, snap) = server.seats_of(event, 1, &token).await;
        assert_eq!(
            snap["bought"], 4,
            "{engine:?}: the snapshot says what was bought here: {snap}"
        );
        let more = hold(&mut c, json!([0])).await;
        assert_eq!(more["code"], "too_many_seats", "{engine:?}: {more}");
        drop(c);
        let (mut c, snap) = open_again(&server, event, 2, &token).await;
        assert_eq!(
            snap["bought"], 0,
            "{engine:?}: nothing bought there: {snap}"
        );
        let third = hold(&mut c, json!([0, 1, 2, 3])).await;
        assert_eq!(third["type"], "held", "{engine:?}: {third}");

        // The orders API tells the performances apart.
        let (_, list) = server
            .admin(
                "GET",
                &format!("/api/admin/orders?event={event}&performance=1"),
                None,
            )
            .await;
        let orders = list["orders"].as_array().unwrap();
        assert_eq!(orders.len(), 1, "{list}");
        assert_eq!(orders[0]["performance"], 1);
        let ids: Vec<i64> = orders[0]["seats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![5, 6, 7, 8], "the performance's own seat ids");
        let (_, none) = server
            .admin(
                "GET",
                &format!("/api/admin/orders?event={event}&performance=0"),
                None,
            )
            .await;
        assert_eq!(none["orders"], json!([]), "{none}");
        server.stop().await;
    }
}

/// Opens the seat map again with a token whose previous socket just closed (the server
/// gives the claim back when it sees the close).
async fn open_again(server: &Server, event: i64, performance: u32, token: &str) -> (Client, Value) {
    let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
    loop {
        let mut c = Client::connect(&server.seats_url(event)).await;
        c.send(json!({ "type": "auth", "token": token, "performance": performance }))
            .await;
        let first = c.recv().await;
        if first["type"] == "snapshot" {
            assert_eq!(first["performance"], performance);
            return (c, first);
        }
        assert_eq!(first["code"], "session_in_use", "{first}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the claim never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_room_is_sold_out_only_when_every_performance_is() {
    for engine in engines() {
        let server = World::new(engine).await.start().await;
        let now = server.state.clock.now_ms();
        let event = server
            .create_event(json!({
                "admission_rate": 100000.0, "max_active": 100000,
                "seat_map": seat_map(1, 2),
                "performances": [
                    { "starts_at_ms": now + 86_400_000 },
                    { "starts_at_ms": now + 2 * 86_400_000 },
                ],
            }))
            .await;
        let tokens = server.admitted_tokens(event, 2).await;
        for (i, token) in tokens.iter().enumerate() {
            let (mut c, _) = server.seats_of(event, i as u32, token).await;
            assert_eq!(hold(&mut c, json!([0, 1])).await["type"], "held");
            assert_eq!(c.ask(json!({ "type": "book" })).await["type"], "booked");
            let all_sold = i == 1;
            wait_for(&server, event, |v| {
                v["performances"][i]["sold_out"] == true && v["room"]["sold_out"] == all_sold
            })
            .await;
        }
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 4);
        server.stop().await;
    }
}

async fn wait_for(server: &Server, event: i64, ok: impl Fn(&Value) -> bool) {
    usher_testkit::eventually("the event view", || async {
        let view = event_view(server, event).await;
        if ok(&view) {
            Ok(())
        } else {
            Err(view.to_string())
        }
    })
    .await
}

#[tokio::test]
async fn a_performance_that_does_not_exist_and_bad_performances_are_refused_clearly() {
    let server = World::new(Engine::Memory).await.start().await;
    let event = three_dates(&server).await;
    let token = server.admitted_tokens(event, 1).await.remove(0);
    for bad in [json!(3), json!(4_000_000_000u64)] {
        let mut c = Client::connect(&server.seats_url(event)).await;
        c.send(json!({ "type": "auth", "token": token, "performance": bad }))
            .await;
        let answer = c.recv().await;
        assert_eq!(answer["code"], "unknown_performance", "{bad}: {answer}");
        assert_eq!(c.closed().await.code, 4500, "{bad}");
    }
    for bad in [json!(-1), json!("1"), json!(1.5), json!(1u64 << 40)] {
        let mut c = Client::connect(&server.seats_url(event)).await;
        c.send(json!({ "type": "auth", "token": token, "performance": bad }))
            .await;
        let answer = c.recv().await;
        assert_eq!(answer["code"], "malformed_message", "{bad}: {answer}");
    }
    // The socket still works for that token afterwards.
    let (mut c, _) = server.seats_of(event, 2, &token).await;
    assert_eq!(hold(&mut c, json!([9])).await["type"], "held");

    let now = server.state.clock.now_ms();
    let at = |d: i64| json!({ "starts_at_ms": now + d * 86_400_000 });
    let cases = [
        (json!({ "performances": [at(1)] }), "need a seat_map"),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": [] }),
            "1 to 50",
        ),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": (1..=51).map(at).collect::<Vec<_>>() }),
            "1 to 50",
        ),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": [at(1), at(1)] }),
            "same time",
        ),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": [{ "label": "x" }] }),
            "performances[0]: starts_at_ms",
        ),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": [{ "starts_at": "soon" }] }),
            "performances[0]",
        ),
        (
            json!({ "seat_map": seat_map(1, 2), "performances": [{ "starts_at_ms": now, "room": 1 }] }),
            "unknown field",
        ),
        (
            json!({ "seat_map": seat_map(1000, 100), "performances": (1..=6).map(at).collect::<Vec<_>>() }),
            "at most 500000",
        ),
    ];
    let before = server.admin("GET", "/api/admin/events", None).await.1;
    for (fields, words) in cases {
        let mut body = json!({ "name": "Bad", "starts_at_ms": now + 86_400_000 });
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = server.admin("POST", "/api/admin/events", Some(body)).await;
        assert_eq!(status, 400, "{fields}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{fields}: {answer}");
    }
    let after = server.admin("GET", "/api/admin/events", None).await.1;
    assert_eq!(
        before.as_array().map(Vec::len),
        after.as_array().map(Vec::len)
    );
    server.stop().await;
}

#[tokio::test]
async fn holds_and_sales_of_each_performance_come_back_after_a_wiped_store() {
    if !engines().contains(&Engine::Redis) {
        eprintln!("REDIS_URL is not set: skipping");
        return;
    }
    let own = usher_testkit::RedisServer::start().await;
    let world = World::new(Engine::Redis).await;
    let url = own.url();
    let server = world.start_with(move |s| s.redis_url = url).await;
    let event = three_dates(&server).await;
    let buyer_a = usher::identity::BuyerId::random();
    let tokens = server
        .admit(event, &[buyer_a, usher::identity::BuyerId::random()])
        .await;
    let (mut a, _) = server.seats_of(event, 1, &tokens[0]).await;
    assert_eq!(hold(&mut a, json!([2, 3])).await["type"], "held");
    assert_eq!(a.ask(json!({ "type": "book" })).await["type"], "booked");
    let (mut b, _) = server.seats_of(event, 2, &tokens[1]).await;
    assert_eq!(hold(&mut b, json!([2, 7])).await["type"], "held");
    drop(b);
    own.flushall().await;
    // Buyer A, let in again after the wipe, is still told of the 2 seats bought.
    let again = server.admit(event, &[buyer_a]).await.remove(0);
    let (_, snap) = server.seats_of(event, 1, &again).await;
    assert_eq!(snap["bought"], 2, "after the wipe: {snap}");
    // Whatever asks first puts the database's holds and sales back, each in its own
    // performance: the second shows 2 and 3 sold, the third 2 and 7 held, the first
    // nothing.
    wait_for(&server, event, |view| {
        let counts: Vec<(i64, i64)> = view["performances"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        let s = &p["seats"];
                        (
                            s["held"].as_i64().unwrap_or(-1),
                            s["sold"].as_i64().unwrap_or(-1),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        counts == vec![(0, 0), (0, 2), (2, 0)]
    })
    .await;
    let (mut viewer, snap) = open_again(&server, event, 2, &tokens[1]).await;
    let view = SeatView::from_snapshot(&snap);
    assert_eq!(view.with("held"), vec![2, 7]);
    assert_eq!(snap["mine"], json!([2, 7]), "the buyer still holds them");
    let booked = viewer.ask(json!({ "type": "book" })).await;
    assert_eq!(booked["type"], "booked", "{booked}");
    assert_eq!(booked["seats"], json!([2, 7]));
    server.stop().await;
}
