//! Orders awaiting payment (`checkout_url` set): a buyer's `book` becomes an order and a
//! trip to the payment page; the ticket site confirms it server to server, or it is
//! cancelled, or it expires at its deadline and the seats come back for every viewer.
//! Every engine, and PostgreSQL with Redis when they are set.

use serde_json::{Value, json};
use usher_testkit::{Engine, SeatView, Server, World, engines, seat_map};

const CHECKOUT: &str = "https://tickets.example/pay?order={order}&t={token}";

async fn start(engine: Engine) -> Server {
    let world = World::new(engine).await;
    world.start_with(|s| s.checkout_url = CHECKOUT.into()).await
}

async fn seat_event(server: &Server, hold_secs: i64) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0, "max_active": 100000, "hold_secs": hold_secs,
            "seat_map": seat_map(2, 5),
        }))
        .await
}

/// A buyer holds `seats` and checks out; returns the `checkout` answer.
async fn checkout(server: &Server, event: i64, token: &str, seats: Value) -> Value {
    let (mut c, _) = server.seats(event, token).await;
    let held = c.ask(json!({ "type": "hold", "seats": seats })).await;
    assert_eq!(held["type"], "held", "{held}");
    let answer = c.ask(json!({ "type": "book" })).await;
    assert_eq!(answer["type"], "checkout", "{answer}");
    answer
}

async fn confirm(server: &Server, order: &Value, payment_ref: &str) -> (u16, Value) {
    let path = format!("/api/admin/orders/{order}/confirm");
    server
        .admin("POST", &path, Some(json!({ "payment_ref": payment_ref })))
        .await
}

#[tokio::test]
async fn a_checkout_sends_the_buyer_to_pay_and_a_confirmation_sells_the_seats_once() {
    for engine in engines() {
        let server = start(engine).await;
        let event = seat_event(&server, 300).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let out = checkout(&server, event, &tokens[0], json!([3, 4])).await;
        let order = out["order"].clone();
        assert_eq!(out["seats"], json!([3, 4]), "{engine:?}");
        assert_eq!(out["total"], 2 * 165000);
        let url = out["payment_url"].as_str().unwrap();
        assert!(url.starts_with(&format!("https://tickets.example/pay?order={order}&t=")));
        // Awaiting payment: still held for everyone else, not sold.
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![3, 4])
            .await;
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 0);
        // The payment page reads the order with its token; a wrong token is refused.
        let token = url.rsplit("t=").next().unwrap();
        let page = reqwest::get(format!(
            "{}/api/orders/{order}?token={token}",
            server.http()
        ))
        .await
        .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let read: Value = page.json().await.unwrap();
        assert_eq!(read["status"], "pending_payment");
        let forged = reqwest::get(format!("{}/api/orders/{order}?token=00", server.http()))
            .await
            .unwrap();
        assert_eq!(forged.status().as_u16(), 401);

        let (status, paid) = confirm(&server, &order, "pay_123").await;
        assert_eq!(status, 200, "{engine:?}: {paid}");
        assert_eq!(paid["status"], "paid");
        assert!(paid["booking"].is_i64());
        viewer
            .watch_until(&mut view, |v| v.with("sold") == vec![3, 4])
            .await;
        // Confirming again (a retry) answers the same; another reference is refused.
        let (status, again) = confirm(&server, &order, "pay_123").await;
        assert_eq!((status, &again["booking"]), (200, &paid["booking"]));
        let (status, other) = confirm(&server, &order, "pay_999").await;
        assert_eq!(
            (status, other["error"].as_str()),
            (409, Some("order_paid_otherwise"))
        );
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 2);
        server.stop().await;
    }
}

#[tokio::test]
async fn an_unpaid_order_expires_at_its_deadline_and_its_seats_come_back_for_every_viewer() {
    for engine in engines() {
        let server = start(engine).await;
        let event = seat_event(&server, 1).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let out = checkout(&server, event, &tokens[0], json!([1, 2])).await;
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![1, 2])
            .await;
        // The hold's second runs out: the order expires and the seats are free again.
        viewer
            .watch_until(&mut view, |v| v.with("held").is_empty())
            .await;
        let (status, late) = confirm(&server, &out["order"], "pay_late").await;
        assert_eq!(status, 409, "{engine:?}: {late}");
        assert_eq!(late["error"], "order_expired");
        let (_, read) = server
            .admin("GET", &format!("/api/admin/orders/{}", out["order"]), None)
            .await;
        assert_eq!(read["status"], "expired");
        assert_eq!(server.state.db.sold_count(event).await.unwrap(), 0);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_cancelled_order_frees_its_seats_at_once_and_cannot_be_paid() {
    for engine in engines() {
        let server = start(engine).await;
        let event = seat_event(&server, 300).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let out = checkout(&server, event, &tokens[0], json!([5])).await;
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![5])
            .await;
        let path = format!("/api/admin/orders/{}/cancel", out["order"]);
        let (status, cancelled) = server.admin("POST", &path, None).await;
        assert_eq!(status, 200, "{engine:?}: {cancelled}");
        assert_eq!(cancelled["status"], "cancelled");
        viewer
            .watch_until(&mut view, |v| v.with("held").is_empty())
            .await;
        let (status, again) = server.admin("POST", &path, None).await;
        assert_eq!((status, again["status"].as_str()), (200, Some("cancelled")));
        let (status, paid) = confirm(&server, &out["order"], "pay_1").await;
        assert_eq!(
            (status, paid["error"].as_str()),
            (409, Some("order_cancelled"))
        );
        // The seat is on sale again: the viewer holds it.
        let r = viewer.ask(json!({ "type": "hold", "seats": [5] })).await;
        assert_eq!(r["type"], "held", "{engine:?}: {r}");
        server.stop().await;
    }
}

#[tokio::test]
async fn bad_confirmations_are_refused_and_change_nothing() {
    let server = start(Engine::Memory).await;
    let event = seat_event(&server, 300).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let out = checkout(&server, event, &tokens[0], json!([0])).await;
    let order = out["order"].clone();
    for bad in ["999999", "x", "-1", "99999999999999999999"] {
        let (status, body) = server
            .admin(
                "POST",
                &format!("/api/admin/orders/{bad}/confirm"),
                Some(json!({ "payment_ref": "p" })),
            )
            .await;
        assert_eq!(status, 404, "{bad}: {body}");
    }
    let path = format!("/api/admin/orders/{order}/confirm");
    for body in [
        json!({}),
        json!({ "payment_ref": "" }),
        json!({ "payment_ref": "x".repeat(201) }),
        json!({ "payment_ref": 7 }),
        json!({ "payment_ref": "p", "extra": true }),
    ] {
        let (status, answer) = server.admin("POST", &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let url = format!("{}{}", server.http(), path);
    let no_key = reqwest::Client::new()
        .post(&url)
        .json(&json!({ "payment_ref": "p" }))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status().as_u16(), 401);
    let (_, read) = server
        .admin("GET", &format!("/api/admin/orders/{order}"), None)
        .await;
    assert_eq!(read["status"], "pending_payment");
    assert_eq!(server.state.db.sold_count(event).await.unwrap(), 0);
    server.stop().await;
}

#[tokio::test]
async fn every_sale_is_an_order_listed_filtered_and_paged_and_paid_ones_export_as_csv() {
    for engine in engines() {
        // No checkout URL: `book` sells at once, and each sale is a paid order.
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = seat_event(&server, 300).await;
        let tokens = server.admitted_tokens(event, 3).await;
        let mut bookings = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let (mut c, _) = server.seats(event, token).await;
            let seat = i as u32 * 2;
            let held = c
                .ask(json!({ "type": "hold", "seats": [seat, seat + 1] }))
                .await;
            assert_eq!(held["type"], "held", "{held}");
            let booked = c.ask(json!({ "type": "book" })).await;
            assert_eq!(booked["type"], "booked", "{booked}");
            bookings.push(booked);
        }
        let (status, _) = server
            .admin(
                "POST",
                &format!("/api/admin/bookings/{}/refund", bookings[1]["booking"]),
                None,
            )
            .await;
        assert_eq!(status, 200);

        let list = |q: String| {
            let server = &server;
            async move {
                server
                    .admin("GET", &format!("/api/admin/orders?{q}"), None)
                    .await
            }
        };
        let (status, all) = list(format!("event={event}")).await;
        assert_eq!(status, 200, "{engine:?}: {all}");
        let statuses: Vec<&str> = all["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, vec!["paid", "refunded", "paid"], "{engine:?}");
        let (_, paid) = list(format!("event={event}&status=paid")).await;
        assert_eq!(paid["orders"].as_array().unwrap().len(), 2);
        let buyer = all["orders"][0]["buyer"].as_str().unwrap().to_owned();
        let (_, mine) = list(format!("buyer={buyer}")).await;
        assert_eq!(mine["orders"].as_array().unwrap().len(), 1);
        assert_eq!(mine["orders"][0]["booking"], bookings[0]["booking"]);
        // Pages of one: three pages, then an empty one.
        let mut after = 0;
        let mut seen = 0;
        loop {
            let (_, page) = list(format!("event={event}&limit=1&after={after}")).await;
            let orders = page["orders"].as_array().unwrap();
            if orders.is_empty() {
                assert!(page["next_after"].is_null());
                break;
            }
            seen += 1;
            after = page["next_after"].as_i64().unwrap();
        }
        assert_eq!(seen, 3, "{engine:?}");
        for bad in [
            "status=lost",
            "limit=0",
            "limit=501",
            "buyer=xyz",
            "event=abc",
            "colour=red",
        ] {
            let (status, body) = list(bad.to_owned()).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }

        let url = format!("{}/api/admin/events/{event}/orders.csv", server.http());
        let csv = reqwest::Client::new()
            .get(&url)
            .bearer_auth(usher_testkit::ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status().as_u16(), 200);
        let text = csv.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "order,booking,buyer,performance,seat,section,row,number,price,paid_at"
        );
        // Two paid orders of two seats each; the refunded one is not there.
        assert_eq!(lines.len(), 5, "{engine:?}: {text}");
        assert!(lines[1].contains(",0,0,A,1,1,165000,"), "{}", lines[1]);
        let booked_in_csv: std::collections::BTreeSet<String> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(1).unwrap().to_owned())
            .collect();
        let want: std::collections::BTreeSet<String> = [&bookings[0], &bookings[2]]
            .iter()
            .map(|b| b["booking"].to_string())
            .collect();
        assert_eq!(booked_in_csv, want, "{engine:?}: {text}");
        let no_key = reqwest::get(&url).await.unwrap();
        assert_eq!(no_key.status().as_u16(), 401);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_payment_deadline_is_extended_once_and_the_seats_wait_that_much_longer() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world
            .start_with(|s| {
                s.checkout_url = CHECKOUT.into();
                s.checkout_extend_secs = 30;
            })
            .await;
        let event = seat_event(&server, 2).await;
        let tokens = server.admitted_tokens(event, 2).await;
        let (mut viewer, snap) = server.seats(event, &tokens[1]).await;
        let mut view = SeatView::from_snapshot(&snap);
        let out = checkout(&server, event, &tokens[0], json!([6, 7])).await;
        let order = out["order"].clone();
        let url = out["payment_url"].as_str().unwrap();
        let token = url.rsplit("t=").next().unwrap().to_owned();
        let extend = |token: String| {
            let url = format!("{}/api/orders/{order}/extend?token={token}", server.http());
            async move {
                let r = reqwest::Client::new().post(url).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            }
        };
        let (status, forged) = extend("00".into()).await;
        assert_eq!(status, 401, "{forged}");
        let (status, extended) = extend(token.clone()).await;
        assert_eq!(status, 200, "{engine:?}: {extended}");
        assert_eq!(extended["extended"], true);
        assert_eq!(
            extended["deadline_ms"].as_i64().unwrap(),
            out["expires_at_ms"].as_i64().unwrap() + 30_000
        );
        let (status, again) = extend(token).await;
        assert_eq!(
            (status, again["error"].as_str()),
            (409, Some("order_extended_already"))
        );
        // Past the first deadline (the 2-second hold): still held, and payable.
        let first_deadline = out["expires_at_ms"].as_i64().unwrap();
        while server.state.clock.now_ms() <= first_deadline + 1_000 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        viewer
            .watch_until(&mut view, |v| v.with("held") == vec![6, 7])
            .await;
        let (status, paid) = confirm(&server, &order, "pay_after_extension").await;
        assert_eq!(status, 200, "{engine:?}: {paid}");
        assert_eq!(paid["status"], "paid");
        viewer
            .watch_until(&mut view, |v| v.with("sold") == vec![6, 7])
            .await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_ticket_site_user_s_orders_are_found_by_their_site_user_id() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    let event = seat_event(&server, 300).await;
    // The site's user "kim-42" joined with a signed user id: their buyer id is derived.
    let buyer = server.state.identity.user_buyer(event, "kim-42");
    let token = server.admit(event, &[buyer]).await.remove(0);
    let (mut c, _) = server.seats(event, &token).await;
    let held = c.ask(json!({ "type": "hold", "seats": [8] })).await;
    assert_eq!(held["type"], "held", "{held}");
    let booked = c.ask(json!({ "type": "book" })).await;
    assert_eq!(booked["type"], "booked", "{booked}");
    // Someone else's order, to be left out.
    let other = server.admitted_tokens(event, 1).await.remove(0);
    let (mut o, _) = server.seats(event, &other).await;
    assert_eq!(
        o.ask(json!({ "type": "hold", "seats": [9] })).await["type"],
        "held"
    );
    assert_eq!(o.ask(json!({ "type": "book" })).await["type"], "booked");

    let (status, mine) = server
        .admin(
            "GET",
            &format!("/api/admin/orders?event={event}&user=kim-42"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    let orders = mine["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{mine}");
    assert_eq!(orders[0]["booking"], booked["booking"]);
    assert_eq!(orders[0]["buyer"], buyer.to_string().as_str());
    let (_, nobody) = server
        .admin(
            "GET",
            &format!("/api/admin/orders?event={event}&user=lee-7"),
            None,
        )
        .await;
    assert!(nobody["orders"].as_array().unwrap().is_empty());
    for bad in [
        "user=kim-42".to_owned(),
        format!("event={event}&user=kim-42&buyer={buyer}"),
        format!("event={event}&user="),
    ] {
        let (status, body) = server
            .admin("GET", &format!("/api/admin/orders?{bad}"), None)
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    server.stop().await;
}

#[tokio::test]
async fn an_order_awaiting_payment_survives_a_wiped_store_and_can_still_be_paid() {
    if !engines().contains(&Engine::Redis) {
        eprintln!("REDIS_URL is not set: skipping");
        return;
    }
    let own = usher_testkit::RedisServer::start().await;
    let world = World::new(Engine::Redis).await;
    let url = own.url();
    let server = world
        .start_with(move |s| {
            s.redis_url = url;
            s.checkout_url = CHECKOUT.into();
        })
        .await;
    let event = seat_event(&server, 300).await;
    let tokens = server.admitted_tokens(event, 1).await;
    let out = checkout(&server, event, &tokens[0], json!([2, 3])).await;
    // Redis loses everything while the buyer is on the payment page.
    own.flushall().await;
    let (status, paid) = confirm(&server, &out["order"], "pay_after_wipe").await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "paid");
    // The store gets the seats back from the database and shows them sold.
    let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
    loop {
        let ready = server.state.seats.seats_ready(event).await.unwrap_or(false);
        let sold = server
            .state
            .seats
            .seat_states(event)
            .await
            .map(|s| {
                let mut v = s.sold;
                v.sort_unstable();
                v
            })
            .unwrap_or_default();
        if ready && sold == vec![2, 3] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the paid seats never showed sold after the wipe: {sold:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(server.state.db.sold_count(event).await.unwrap(), 2);
    server.stop().await;
}
