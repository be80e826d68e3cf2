//! End-to-end tests in a real browser: headless Chromium, driven through chromedriver
//! (WebDriver), uses the pages in `static/` against a real usher server, as buyers and an
//! operator would. Each test saves a screenshot of the page it ends on to
//! `docs/screenshots/` (the README shows them).
//!
//! Without `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian's `chromium-driver` and
//! `chromium`), every test prints a note and passes without running.

mod browserkit;

use std::time::Duration;

use browserkit::*;
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::{Value, json};
use usher_testkit::{ADMIN_KEY, Server, WAIT};

#[tokio::test]
async fn buyers_wait_are_admitted_and_see_each_others_holds_and_bookings_live() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let (status, _) = server
        .admin("POST", &format!("/api/admin/events/{event}/pause"), None)
        .await;
    assert_eq!(status, 200);

    // Two buyers wait in line while admission is paused: first A, then B.
    let a = driver.browser().await;
    let b = driver.browser().await;
    a.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_text(&a, "#position", "1").await;
    b.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_text(&b, "#position", "2").await;
    wait_text(&b, "#ahead", "1").await;
    wait_text(&a, "#behind", "1").await;
    wait_for(&a, "#state", Some("data-state"), "paused", |v| {
        v == "paused"
    })
    .await;
    wait_text(&a, "#wait", "paused").await;

    // Admission resumes: both are let in and land on the seat map on their own.
    server
        .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
        .await;
    for c in [&a, &b] {
        wait_path(c, &format!("/events/{event}/seats")).await;
        wait_seat(c, 0, "free").await;
    }

    // A picks seat 3 with the mouse, moves to seat 4 with the arrow key and picks it with
    // Enter, then holds both.
    click_seat(&a, 3).await;
    for key in [Key::Right, Key::Enter] {
        let focused = a.active_element().await.expect("a focused seat");
        focused.send_keys(&key).await.expect("a key press");
    }
    wait_for(
        &a,
        "[data-seat=\"4\"]",
        Some("data-selected"),
        "selected",
        |v| v == "true",
    )
    .await;
    click(&a, "#hold").await;
    for seat in [3, 4] {
        wait_seat(&a, seat, "mine").await;
        wait_seat(&b, seat, "held").await;
    }
    wait_for(&a, "#countdown", None, "a hold countdown", |v| {
        v.ends_with("left")
    })
    .await;

    // B cannot take A's seat, and is told why.
    click_seat(&b, 3).await;
    wait_for(&b, "#message", None, "an explanation", |v| {
        v.contains("held by someone else")
    })
    .await;

    // A third buyer, outside the browsers, holds two seats: both browsers see them held.
    let _third = socket_buyer_holds(&server, event, &[22, 23]).await;
    for c in [&a, &b] {
        wait_seat(c, 22, "held").await;
        wait_seat(c, 23, "held").await;
    }

    // B holds two seats of its own.
    click_seat(&b, 8).await;
    click_seat(&b, 9).await;
    click(&b, "#hold").await;
    wait_seat(&b, 9, "mine").await;
    wait_seat(&a, 9, "held").await;

    // B gives one back: free again in both browsers.
    click_seat(&b, 9).await;
    click(&b, "#release").await;
    wait_seat(&b, 9, "free").await;
    wait_seat(&a, 9, "free").await;
    wait_seat(&b, 8, "mine").await;

    // A books: A's seats are sold, in A's browser and in B's.
    click(&a, "#book").await;
    wait_text(&a, "#booking-id", "#1").await;
    wait_for(&a, "#booked-total", None, "the total", |v| {
        v.contains("330,000")
    })
    .await;
    for seat in [3, 4] {
        wait_seat(&a, seat, "sold").await;
        wait_seat(&b, seat, "sold").await;
    }

    // B's view, with every state on it (and seat 12 picked), for the README.
    click_seat(&b, 12).await;
    wait_for(
        &b,
        "[data-seat=\"12\"]",
        Some("data-selected"),
        "selected",
        |v| v == "true",
    )
    .await;
    screenshot(&b, "seat-map").await;

    a.close().await.unwrap();
    b.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_hold_that_expires_turns_free_again_in_every_browser() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "hold_secs": 2, "seat_map": seat_map() }))
        .await;

    let a = driver.browser().await;
    let b = driver.browser().await;
    for c in [&a, &b] {
        c.goto(&format!("{}/events/{event}", server.http()))
            .await
            .unwrap();
        wait_path(c, &format!("/events/{event}/seats")).await;
        wait_seat(c, 0, "free").await;
    }

    click_seat(&a, 0).await;
    click(&a, "#hold").await;
    wait_seat(&a, 0, "mine").await;
    wait_seat(&b, 0, "held").await;

    // Two seconds later the hold is over: free for everyone, and A is told.
    wait_seat(&a, 0, "free").await;
    wait_seat(&b, 0, "free").await;
    wait_for(&a, "#message", None, "an expiry notice", |v| {
        v.contains("expired")
    })
    .await;
    wait_text(&a, "#countdown", "No seats held").await;
    // The green "Held… book within" line went with the hold.
    wait_text(&a, "#info", "").await;

    a.close().await.unwrap();
    b.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_large_map_builds_its_far_seats_later_in_their_current_state() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    // 20,000 seats in 400 rows of 50: far more than the page builds before its first paint.
    let n = 20_000;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": hall_map() }))
        .await;
    // Before the page opens, someone holds the last two seats (they come in the snapshot).
    let mut third = socket_buyer_holds(&server, event, &[n - 1, n - 2]).await;

    let c = driver.browser().await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&c, &format!("/events/{event}/seats")).await;
    wait_seat(&c, 0, "free").await;
    let at_paint = wait_for(
        &c,
        "#seatmap",
        Some("data-seats-at-paint"),
        "painted",
        |v| !v.is_empty(),
    )
    .await;
    let at_paint: u32 = at_paint.parse().expect("a count");
    assert!(
        at_paint < n / 2,
        "the first paint built {at_paint} of {n} seats"
    );

    // After the page opened, one of them is released (a delta, maybe before that seat is
    // built). Scrolled down to them, they show what the model says.
    third
        .send(json!({ "type": "release", "seats": [n - 2] }))
        .await;
    third.recv_type("released").await;
    c.execute("window.scrollTo(0, document.body.scrollHeight);", vec![])
        .await
        .unwrap();
    wait_seat(&c, n - 1, "held").await;
    wait_seat(&c, n - 2, "free").await;
    click_seat(&c, n - 2).await;
    click(&c, "#hold").await;
    wait_seat(&c, n - 2, "mine").await;

    // The arrow keys move row by row through the whole map, Tab seat by seat.
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    click_seat(&c, 0).await;
    for _ in 0..5 {
        let focused = c.active_element().await.expect("a focused seat");
        focused.send_keys(&Key::Down).await.expect("a key press");
    }
    let focused = c
        .execute(
            "return document.activeElement.dataset.seat ?? null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focused, json!("250"));
    // The map is one Tab stop: Tab leaves it for the Hold button beside it (seat 0, clicked,
    // is picked).
    let focused = c.active_element().await.expect("a focused seat");
    focused.send_keys(&Key::Tab).await.expect("a key press");
    assert_eq!(focused_id(&c).await, "hold");

    c.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_operator_changes_the_rate_and_the_expected_wait_follows() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    // One buyer every 100 s. The first buyer takes the bucket's one starting token, so
    // nobody else is let in while the test runs.
    let event = server
        .create_event(json!({
            "name": "Hamilton", "kind": "musical", "venue": "Blue Square",
            "admission_rate": 0.01, "seat_map": seat_map(),
        }))
        .await;
    let mut first = server.connect(event).await;
    first.join().await;
    first.recv_type("admitted").await;
    let mut ahead = Vec::new();
    for _ in 0..3 {
        let mut c = server.connect(event).await;
        c.join().await;
        ahead.push(c);
    }

    let buyer = driver.browser().await;
    buyer
        .goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_text(&buyer, "#position", "4").await;
    let mut behind = Vec::new();
    for _ in 0..2 {
        let mut c = server.connect(event).await;
        c.join().await;
        behind.push(c);
    }
    wait_text(&buyer, "#behind", "2").await;

    let operator = operator_on(&driver, &server, event).await;
    wait_text(&operator, "#waiting", "6").await;
    wait_text(&operator, "#active", "1").await;
    wait_text(&operator, "#seats-free", "56").await;
    wait_text(&operator, "#seats-sold", "0").await;

    // Paused (the page asks first): the buyer keeps the place and is told there is no
    // estimate.
    click(&operator, "#pause").await;
    click(&operator, "#pause-confirm").await;
    wait_for(&buyer, "#state", Some("data-state"), "paused", |v| {
        v == "paused"
    })
    .await;
    wait_text(&buyer, "#wait", "paused").await;
    wait_text(&operator, "#paused-state", "Paused").await;

    // A new rate, then resume: the estimate is the place over the new rate.
    type_into(&operator, "#rate-input", "0.02").await;
    click(&operator, "#rate-apply").await;
    wait_text(&operator, "#rate", "0.02").await;
    click(&operator, "#resume").await;
    wait_for(&buyer, "#state", Some("data-state"), "open", |v| {
        v == "open"
    })
    .await;
    // Someone ahead gives up: one place forward, and the progress bar moves.
    ahead.remove(0).send(json!({ "type": "leave" })).await;
    wait_text(&buyer, "#position", "3").await;
    wait_text(&buyer, "#ahead", "2").await;
    wait_for(&buyer, "#progress", Some("data-progress"), "a third", |v| {
        v == "0.333"
    })
    .await;
    wait_text(&buyer, "#wait", "about 2 min 30 s").await; // 3 / 0.02 per second

    type_into(&operator, "#rate-input", "0.04").await;
    click(&operator, "#rate-apply").await;
    wait_text(&buyer, "#wait", "about 1 min 15 s").await; // 3 / 0.04 per second
    wait_text(&operator, "#waiting", "5").await;
    // The first buyer is the only one let in: counted in the last minute while it is.
    wait_for(&operator, "#admitted-per-min", None, "0 or 1", |v| {
        v == "1" || v == "0"
    })
    .await;

    screenshot(&buyer, "waiting-room").await;
    screenshot(&operator, "operator").await;

    buyer.close().await.unwrap();
    operator.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_operator_refunds_a_paid_order_and_its_seats_are_on_sale_again() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({
            "name": "Hamilton", "kind": "musical", "venue": "Blue Square",
            "admission_rate": 10, "seat_map": seat_map(),
        }))
        .await;
    // A buyer outside the browser buys two VIP seats (no payment page: a paid order).
    let mut buyer = socket_buyer_holds(&server, event, &[3, 4]).await;
    buyer.send(json!({ "type": "book" })).await;
    let booked = buyer.recv_type("booked").await;
    let (status, page) = server
        .admin("GET", &format!("/api/admin/orders?event={event}"), None)
        .await;
    assert_eq!(status, 200, "{page}");
    let order = &page["orders"][0];
    assert_eq!(order["status"], "paid", "{page}");
    assert_eq!(order["booking"], booked["booking"], "{page}");
    let row = format!("#orders-body tr[data-order=\"{}\"]", order["id"]);

    let operator = operator_on(&driver, &server, event).await;
    wait_text(&operator, "#seats-sold", "2").await;

    // The paid order is in the table, with its total in won.
    wait_text(&operator, &format!("{row} .status"), "paid").await;
    wait_text(&operator, &format!("{row} .seats"), "3, 4").await;
    wait_text(&operator, &format!("{row} td:nth-child(6)"), "₩330,000").await;
    // Its one performance, by its date (the event has no label for it).
    wait_for(&operator, &format!("{row} .perf"), None, "a date", |v| {
        !v.is_empty() && !v.starts_with("Date ")
    })
    .await;
    wait_text(&operator, "#orders-result", "1 order shown.").await;

    // Refund, confirmed with a second click on the same button.
    let button = format!("{row} .action button");
    wait_text(&operator, &button, "Refund").await;
    click(&operator, &button).await;
    wait_text(&operator, &button, "Really refund").await;
    click(&operator, &button).await;
    wait_text(&operator, &format!("{row} .status"), "refunded").await;
    wait_for(
        &operator,
        &format!("{row} .note"),
        None,
        "the refund",
        |v| v.contains("on sale again"),
    )
    .await;
    assert_eq!(read(&operator, &button, None).await, None, "no action left");
    let states = server.state.seats.seat_states(event).await.unwrap();
    assert!(
        states.sold.is_empty(),
        "sold after the refund: {:?}",
        states.sold
    );
    assert!(
        states.held.is_empty(),
        "held after the refund: {:?}",
        states.held
    );
    wait_text(&operator, "#seats-sold", "0").await;
    screenshot_of(&operator, "#orders", "operator-orders").await;
    // The CSV comes with the key, as a download.
    click(&operator, "#orders-csv").await;
    wait_for(&operator, "#orders-result", None, "downloaded", |v| {
        v.starts_with(&format!("Downloaded event-{event}-orders.csv"))
    })
    .await;

    // It has sold, so it cannot be deleted: the operator is told why, next to the button.
    click(&operator, "#delete").await;
    wait_text(&operator, "#delete", "Really delete it").await;
    click(&operator, "#delete").await;
    wait_for(&operator, "#end-result", None, "the 409's words", |v| {
        v.contains("cannot be deleted (end the sale instead)")
    })
    .await;
    // Ending the sale, confirmed: the page shows it ended.
    click(&operator, "#end").await;
    wait_text(&operator, "#end", "Really end the sale").await;
    click(&operator, "#end").await;
    wait_text(&operator, "#paused-state", "Sale ended").await;
    wait_for(&operator, "#end", Some("disabled"), "disabled", |_| true).await;
    let (_, view) = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await;
    assert_eq!(view["ended"], true, "{view}");

    operator.close().await.unwrap();
    server.stop().await;
}

/// Opens /operator in `c` and gives it the admin key.
async fn operator_signs_in(c: &Client, server: &Server) {
    c.goto(&format!("{}/operator", server.http()))
        .await
        .unwrap();
    type_into(c, "#admin-key", ADMIN_KEY).await;
    click(c, "#key-apply").await;
}

/// The events the admin API lists.
async fn admin_events(server: &Server) -> Vec<Value> {
    let (status, list) = server.admin("GET", "/api/admin/events", None).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().expect("a list").clone()
}

#[tokio::test]
async fn the_operator_creates_an_event_with_performances_and_a_seat_map_and_edits_it() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let c = driver.browser().await;
    operator_signs_in(&c, &server).await;
    wait_text(&c, "#event-select", "No events yet: create one below").await;

    // The event, two dates and one section of 4 rows of 10 seats in grade R.
    type_into(&c, "#new-name", "Hamlet in the Park").await;
    type_into(&c, "#new-kind", "theatre").await;
    type_into(&c, "#new-venue", "Open Air Stage").await;
    type_into(&c, "#new-rate", "2").await;
    let perf = |n: u32, what: &str| format!("#perf-rows li:nth-child({n}) .{what}");
    set_value(&c, &perf(1, "perf-at"), "2030-05-01T19:30").await;
    type_into(&c, &perf(1, "perf-label"), "Opening night").await;
    // The only performance cannot be removed: an event has at least one.
    wait_for(&c, &perf(1, "remove"), Some("disabled"), "disabled", |_| {
        true
    })
    .await;
    click(&c, "#add-perf").await;
    set_value(&c, &perf(2, "perf-at"), "2030-05-02T14:00").await;
    type_into(&c, &perf(2, "perf-label"), "Matinee").await;
    let section = |what: &str| format!("#section-rows li:nth-child(1) .{what}");
    type_into(&c, &section("sec-name"), "Stalls").await;
    type_into(&c, &section("sec-grade"), "R").await;
    type_into(&c, &section("sec-rows"), "4").await;
    type_into(&c, &section("sec-seats"), "10").await;
    // A price input for the grade the section uses, labelled with it.
    wait_text(&c, "#price-rows label", "Price of grade R (won)").await;
    type_into(&c, "#price-rows .price", "120000").await;
    wait_text(
        &c,
        "#create-summary",
        "2 performances × 40 seats = 80 seats to sell (R ₩120,000).",
    )
    .await;

    click(&c, "#create-submit").await;
    wait_for(&c, "#create-result", None, "created", |v| {
        v.starts_with("Created event #")
    })
    .await;
    // The whole form, in a window tall enough to hold it.
    c.set_window_size(1280, 2000).await.unwrap();
    screenshot_of(&c, "#create", "operator-create").await;
    c.set_window_size(1280, 900).await.unwrap();
    // The new event is the one the page shows.
    wait_text(&c, "#event-title", "Hamlet in the Park").await;
    let events = admin_events(&server).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let id = events[0]["id"].as_i64().expect("an id");
    wait_value(&c, "#event-select", &id.to_string()).await;

    // What the server made of it: two dates at the browser's local times, 40 seats each,
    // grade R at 120,000 won.
    let (_, view) = server
        .admin("GET", &format!("/api/admin/events/{id}"), None)
        .await;
    let local_ms = |at: &str| {
        let at = at.to_owned();
        let c = &c;
        async move {
            c.execute("return new Date(arguments[0]).getTime();", vec![json!(at)])
                .await
                .unwrap()
                .as_i64()
                .expect("ms")
        }
    };
    let first = local_ms("2030-05-01T19:30").await;
    let second = local_ms("2030-05-02T14:00").await;
    assert_eq!(view["kind"], "theatre", "{view}");
    assert_eq!(view["venue"], "Open Air Stage", "{view}");
    assert_eq!(view["admission_rate"], 2.0, "{view}");
    assert_eq!(view["max_active"], 500, "{view}");
    assert_eq!(view["hold_secs"], 300, "{view}");
    assert_eq!(view["starts_at_ms"], first, "{view}");
    let perfs = view["performances"].as_array().expect("performances");
    assert_eq!(perfs.len(), 2, "{view}");
    assert_eq!(perfs[0]["starts_at_ms"], first, "{view}");
    assert_eq!(perfs[0]["label"], "Opening night", "{view}");
    assert_eq!(perfs[1]["starts_at_ms"], second, "{view}");
    assert_eq!(perfs[1]["label"], "Matinee", "{view}");
    assert_eq!(perfs[1]["seats"]["total"], 40, "{view}");
    assert_eq!(view["seats"]["total"], 80, "{view}");
    // The sale opened when the form was filled in ("now"), so buyers may come at once.
    assert!(
        view["sale_opens_at_ms"].as_i64().expect("ms") <= server.state.clock.now_ms(),
        "{view}"
    );
    let layout: Value = reqwest::get(format!("{}/api/events/{id}/seats/layout", server.http()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(layout["seat_count"], 40, "{layout}");
    assert_eq!(layout["prices"], json!({ "R": 120000 }), "{layout}");
    assert_eq!(layout["sections"][0]["name"], "Stalls", "{layout}");
    assert_eq!(layout["sections"][0]["rows"][3]["count"], 10, "{layout}");

    // The details form holds the event; a new name and hold are saved, and only they.
    wait_value(&c, "#edit-name", "Hamlet in the Park").await;
    wait_value(&c, "#edit-hold", "300").await;
    wait_for(
        &c,
        "#edit-perfs li:nth-child(2)",
        None,
        "the matinee",
        |v| v.starts_with("Matinee · "),
    )
    .await;
    type_into(&c, "#edit-name", "Hamlet in the Park (extra dates)").await;
    type_into(&c, "#edit-hold", "240").await;
    click(&c, "#edit-submit").await;
    wait_text(&c, "#edit-result", "Saved: name, seat hold (seconds).").await;
    wait_text(&c, "#event-title", "Hamlet in the Park (extra dates)").await;
    let (_, view) = server
        .admin("GET", &format!("/api/admin/events/{id}"), None)
        .await;
    assert_eq!(view["name"], "Hamlet in the Park (extra dates)", "{view}");
    assert_eq!(view["hold_secs"], 240, "{view}");
    assert_eq!(view["starts_at_ms"], first, "unchanged: {view}");
    // A refused change is told in the server's words, and changes nothing.
    type_into(&c, "#edit-grace", "90000").await;
    click(&c, "#edit-submit").await;
    wait_text(
        &c,
        "#edit-result",
        "Not changed: grace_secs must be between 0 and 86400",
    )
    .await;
    let (_, view) = server
        .admin("GET", &format!("/api/admin/events/{id}"), None)
        .await;
    assert_eq!(view["grace_secs"], 60, "{view}");

    // A section of no seats: the server's words next to the form, and no second event.
    type_into(&c, &section("sec-seats"), "0").await;
    wait_text(
        &c,
        "#create-summary",
        "2 performances × 0 seats = 0 seats to sell (R ₩120,000).",
    )
    .await;
    click(&c, "#create-submit").await;
    wait_text(
        &c,
        "#create-result",
        "Not created: section \"Stalls\": rows and seats_per_row must be at least 1",
    )
    .await;
    // Two performances at the same time: refused by name.
    type_into(&c, &section("sec-seats"), "10").await;
    set_value(&c, &perf(2, "perf-at"), "2030-05-01T19:30").await;
    click(&c, "#create-submit").await;
    wait_text(
        &c,
        "#create-result",
        "Not created: performances[1]: two performances start at the same time",
    )
    .await;
    assert_eq!(admin_events(&server).await.len(), 1, "nothing more created");
    wait_text(&c, "#event-title", "Hamlet in the Park (extra dates)").await;

    // Revoking a buyer: a malformed id is refused in words; a good one asks twice.
    type_into(&c, "#revoke-id", "not-an-id").await;
    click(&c, "#revoke").await;
    wait_text(&c, "#revoke", "Really revoke").await;
    click(&c, "#revoke").await;
    wait_text(
        &c,
        "#revoke-result",
        "Not revoked: buyer must be 32 hex digits",
    )
    .await;
    let buyer = "0123456789abcdef0123456789abcdef";
    type_into(&c, "#revoke-id", buyer).await;
    click(&c, "#revoke").await;
    click(&c, "#revoke").await;
    wait_text(
        &c,
        "#revoke-result",
        &format!("Buyer {buyer} was never seen in this sale, and is barred from it all the same."),
    )
    .await;
    c.close().await.unwrap();

    // On a phone the whole page fits its 360 px: no sideways scrolling.
    let phone = driver.browser_on(Screen::Phone).await;
    operator_signs_in(&phone, &server).await;
    wait_text(&phone, "#event-title", "Hamlet in the Park (extra dates)").await;
    let fits = phone
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fits, json!(true), "the operator page is wider than a phone");
    phone.close().await.unwrap();
    server.stop().await;
}

/// Time to the first drawn seat map (BENCHMARKS.md, "Time to first paint in a browser"):
/// from navigation start to the page's `usherMapPaintedAt` mark (the first frame after the
/// map was drawn), with an empty cache and then with the layout cached, on a desktop window
/// and on a phone-sized one. A measurement, not a test: run with
/// `cargo test --release --test browser measure -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn measure_time_to_first_seat_map_paint() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    println!(
        "| screen | seats | first paint, layout not cached (ms since navigation: layout ready, map drawn; seats built) | first paint, layout cached |"
    );
    println!("|---|---|---|---|");
    for screen in [Screen::Desktop, Screen::Phone] {
        // One section each: a map of several big sections opens on their overview instead
        // (measured in tests/browser_venue.rs).
        for (n, sections, rows) in [
            (1_000, 1, 20),
            (20_000, 1, 400),
            (50_000, 1, 1_000),
            (100_000, 1, 2_000),
        ] {
            let times = measure_one(&driver, &server, screen, n, sections, rows).await;
            println!("| {screen:?} | {n} | {} | {} |", times[0], times[1]);
        }
    }
}

/// Opens a map of `sections` × `rows` × 50 seats twice in one browser; returns the two
/// timings in words.
async fn measure_one(
    driver: &Driver,
    server: &Server,
    screen: Screen,
    n: u64,
    sections: usize,
    rows: usize,
) -> Vec<String> {
    let list: Vec<Value> = (0..sections)
        .map(|i| json!({ "name": format!("Stand {i}"), "grade": "R", "rows": rows, "seats_per_row": 50 }))
        .collect();
    let event = server
        .create_event(json!({ "admission_rate": 100000.0, "max_active": 100000,
            "session_secs": 3600, "seat_map": { "prices": { "R": 1000 }, "sections": list } }))
        .await;
    let token = server.admitted_tokens(event, 1).await.remove(0);
    let c = driver.browser_on(screen).await;
    let page = format!("{}/events/{event}/seats", server.http());
    c.goto(&page).await.unwrap();
    let pass = json!({ "token": token }).to_string();
    c.execute(
        "sessionStorage.setItem(arguments[0], arguments[1]);",
        vec![json!(format!("usher.token.{event}")), json!(pass)],
    )
    .await
    .unwrap();
    let mut times = Vec::new();
    for _ in 0..2 {
        c.goto(&page).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        let painted = loop {
            let v = c
                .execute("return window.usherMapPaintedAt ?? null;", vec![])
                .await
                .unwrap_or(Value::Null);
            if let Some(ms) = v.as_f64() {
                break ms;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} seats never drew"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Where the time went: layout fetched and expanded, map drawn (the script's work),
        // then the frame painted; and how many seats the page had built by then.
        let phases = c
            .execute(
                "const t = (n) => performance.getEntriesByName(n).map((e) => e.startTime)[0]; \
                 return [t('usher-layout-ready'), t('usher-map-drawn'), window.usherSeatsAtPaint ?? null];",
                vec![],
            )
            .await
            .unwrap();
        let at = |i: usize| phases[i].as_f64().map_or("–".into(), |v| format!("{v:.0}"));
        let built = phases[2].as_u64().unwrap_or(0);
        assert!(built > 0 && built <= n, "{built} of {n} seats built");
        times.push(format!("{painted:.0} ms ({}, {}; {built})", at(0), at(1)));
    }
    c.close().await.unwrap();
    times
}

#[tokio::test]
async fn a_buyer_picks_a_date_and_each_date_shows_its_own_seats() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let now = server.state.clock.now_ms();
    let day = 86_400_000;
    let event = server
        .create_event(json!({
            "admission_rate": 10, "seat_map": seat_map(),
            "performances": [
                { "starts_at_ms": now + 30 * day, "label": "Friday" },
                { "starts_at_ms": now + 31 * day, "label": "Saturday" },
            ],
        }))
        .await;
    // Someone else holds seat 5 of Saturday (performance 1) only.
    let token = server.admitted_tokens(event, 1).await.remove(0);
    let (mut other, _) = server.seats_of(event, 1, &token).await;
    let held = other.ask(json!({ "type": "hold", "seats": [5] })).await;
    assert_eq!(held["type"], "held", "{held}");

    let a = driver.browser().await;
    a.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&a, &format!("/events/{event}/seats")).await;
    // Friday first: seat 5 is free there.
    wait_date_shown(&a, 0).await;
    wait_seat(&a, 5, "free").await;
    // Saturday: seat 5 is held there.
    click(&a, "[data-performance=\"1\"]").await;
    wait_date_shown(&a, 1).await;
    wait_seat(&a, 5, "held").await;
    // A holds seat 6 on Saturday; back on Friday, seat 6 is free and holdable.
    click_seat(&a, 6).await;
    click(&a, "#hold").await;
    wait_seat(&a, 6, "mine").await;
    click(&a, "[data-performance=\"0\"]").await;
    wait_date_shown(&a, 0).await;
    wait_seat(&a, 6, "free").await;
    wait_seat(&a, 5, "free").await;
    let view = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await
        .1;
    assert_eq!(view["performances"][0]["seats"]["held"], 0, "{view}");
    assert_eq!(view["performances"][1]["seats"]["held"], 2, "{view}");
    screenshot_of(&a, "#performances", "seats-performances").await;
    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_buyer_asks_for_the_best_two_seats_and_holds_them_in_one_click() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = driver.browser().await;
    a.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&a, &format!("/events/{event}/seats")).await;
    wait_seat(&a, 0, "free").await;
    // Floor (VIP) rows of 10 are first: the middle pair of its first row.
    a.execute(
        "document.getElementById('best-count').value = '2'; \
         document.getElementById('best-grade').value = 'VIP';",
        vec![],
    )
    .await
    .unwrap();
    click(&a, "#best").await;
    wait_seat(&a, 4, "mine").await;
    wait_seat(&a, 5, "mine").await;
    wait_for(&a, "#mine-summary", None, "two seats held", |v| {
        v.starts_with("You hold 2 seats")
    })
    .await;
    // Two more of grade R: section A's first row (ids 20-31), its middle pair.
    a.execute(
        "document.getElementById('best-count').value = '2'; \
         document.getElementById('best-grade').value = 'R';",
        vec![],
    )
    .await
    .unwrap();
    click(&a, "#best").await;
    wait_seat(&a, 25, "mine").await;
    wait_seat(&a, 26, "mine").await;
    // Four held: the button waits until a seat is given back.
    wait_for(&a, "#best", Some("disabled"), "disabled", |_| true).await;
    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn the_seat_map_is_one_tab_stop_and_the_focus_lands_on_each_actions_result() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = buyer_on_seats(&driver, &server, event).await;

    // Seat 3 picked with the mouse, so that Hold is a Tab stop.
    click_seat(&a, 3).await;
    // From the first skip link, Tab crosses the whole map in one stop to reach Hold.
    a.execute("document.getElementById('skip-map').focus();", vec![])
        .await
        .unwrap();
    let mut path = Vec::new();
    while path.last().map(String::as_str) != Some("hold") {
        assert!(path.len() < 12, "Tab did not reach Hold: {path:?}");
        press(&a, Key::Tab).await;
        path.push(focused_id(&a).await);
    }
    let seats: Vec<&String> = path.iter().filter(|p| p.starts_with("seat:")).collect();
    assert_eq!(
        seats,
        ["seat:3"],
        "one stop in the map, on the seat last used: {path:?}"
    );
    let stops = a
        .execute(
            "return document.querySelectorAll('#seatmap [tabindex=\"0\"]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stops, json!(1));

    // Back into the map, then the arrow keys, Home and End move; Enter picks.
    a.execute(
        "document.querySelector('[data-seat=\"3\"]').focus();",
        vec![],
    )
    .await
    .unwrap();
    for (key, want) in [
        (Key::Right, "seat:4"),
        (Key::Down, "seat:14"), // row 2 of Floor, the same seat number
        (Key::Home, "seat:10"),
        (Key::End, "seat:19"),
    ] {
        press(&a, key).await;
        assert_eq!(focused_id(&a).await, want);
    }
    press(&a, Key::Enter).await;
    wait_for(
        &a,
        "[data-seat=\"19\"]",
        Some("data-selected"),
        "selected",
        |v| v == "true",
    )
    .await;
    assert_eq!(
        read(&a, "[data-seat=\"19\"]", Some("tabindex"))
            .await
            .as_deref(),
        Some("0")
    );
    // The next Tab leaves the map.
    press(&a, Key::Tab).await;
    assert_eq!(focused_id(&a).await, "hold");

    // The skip link to "Your seats" lands on that panel, the Hold button next.
    a.execute("document.getElementById('skip-seats').focus();", vec![])
        .await
        .unwrap();
    press(&a, Key::Enter).await;
    assert_eq!(focused_id(&a).await, "choice-panel");
    press(&a, Key::Tab).await;
    assert_eq!(focused_id(&a).await, "hold");

    // Hold: the focus is on Book.
    press(&a, Key::Enter).await;
    wait_seat(&a, 3, "mine").await;
    wait_seat(&a, 19, "mine").await;
    wait_for(&a, "#book", None, "Book 2", |v| v == "Book 2").await;
    assert_eq!(focused_id(&a).await, "book");

    // Release with nothing picked asks first: both seats stay held.
    click(&a, "#release").await;
    wait_text(&a, "#release", "Release all 2?").await;
    wait_for(&a, "#info", None, "a question", |v| {
        v.contains("Pick the seats")
    })
    .await;
    wait_seat(&a, 3, "mine").await;
    wait_seat(&a, 19, "mine").await;
    // Picking one of them releases only that one; the focus goes to the panel.
    click_seat(&a, 19).await;
    wait_text(&a, "#release", "Release 1").await;
    click(&a, "#release").await;
    wait_seat(&a, 19, "free").await;
    wait_seat(&a, 3, "mine").await;
    assert_eq!(focused_id(&a).await, "choice-panel");
    // A second click on "Release all 1?" gives back the rest.
    click(&a, "#release").await;
    wait_text(&a, "#release", "Release all 1?").await;
    click(&a, "#release").await;
    wait_seat(&a, 3, "free").await;

    // Hold again and book: the focus is on the booking confirmation.
    click_seat(&a, 3).await;
    click_seat(&a, 4).await;
    click(&a, "#hold").await;
    wait_seat(&a, 4, "mine").await;
    click(&a, "#book").await;
    wait_text(&a, "#booking-id", "#1").await;
    assert_eq!(focused_id(&a).await, "booked");

    // Back through the waiting room, the page counts the two seats bought.
    a.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&a, &format!("/events/{event}/seats")).await;
    wait_for(&a, "#limit", None, "two more seats", |v| {
        v.starts_with("up to 2 more seats")
    })
    .await;

    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_refused_hold_names_the_seat_by_section_row_and_number() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = buyer_on_seats(&driver, &server, event).await;
    let _other = socket_buyer_holds(&server, event, &[22]).await;
    wait_seat(&a, 22, "held").await;
    // The page asks for seat 23; on the wire the request names 22 (as a page with a stale
    // view would), so the server refuses with "seat 22 is already held or sold".
    a.execute(
        "const send = WebSocket.prototype.send; \
         WebSocket.prototype.send = function (data) { \
           const m = JSON.parse(data); \
           if (m.type === 'hold') m.seats = [22]; \
           return send.call(this, JSON.stringify(m)); };",
        vec![],
    )
    .await
    .unwrap();
    click_seat(&a, 23).await;
    click(&a, "#hold").await;
    let label = read(&a, "[data-seat=\"22\"]", Some("data-label"))
        .await
        .expect("seat 22's label");
    let name = label.split(", grade").next().expect("a name").to_owned();
    assert!(name.starts_with("Section A, row "), "{name}");
    let words = wait_for(&a, "#message", None, "a refusal", |v| !v.is_empty()).await;
    assert!(words.contains(&name), "{words:?} should name {name:?}");
    assert!(
        !words.contains("seat 22"),
        "{words:?} shows the internal id"
    );

    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_buyer_is_warned_in_words_before_the_hold_ends() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "hold_secs": 17, "seat_map": seat_map() }))
        .await;
    let a = buyer_on_seats(&driver, &server, event).await;
    click_seat(&a, 0).await;
    click(&a, "#hold").await;
    wait_seat(&a, 0, "mine").await;
    wait_for(&a, "#info", None, "the green held line", |v| {
        v.starts_with("Held:")
    })
    .await;
    // 17 s: the one-minute mark is already past, the 15-second one comes after 2 s.
    wait_for(&a, "#info", None, "a warning", |v| {
        v.starts_with("Your hold ends in 15 seconds")
    })
    .await;
    a.close().await.unwrap();
    server.stop().await;
}

/// The waiting page of a buyer in line behind two others, reached through a proxy that
/// can cut the buyer's connection while the server and the others carry on. On the
/// event's one-second grace period the place is lost soon after the cut.
async fn the_waiting_page_is_honest_about_its_connection(screen: Screen, shot: &str) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    // One buyer every 100 s: the first takes the bucket's one starting token, so nobody
    // else is let in while the test runs.
    let event = server
        .create_event(json!({
            "name": "Hamilton", "kind": "musical", "venue": "Blue Square",
            "admission_rate": 0.01, "grace_secs": 1, "seat_map": seat_map(),
        }))
        .await;
    let mut first = server.connect(event).await;
    first.join().await;
    first.recv_type("admitted").await;
    let mut others = Vec::new();
    for _ in 0..2 {
        let mut c = server.connect(event).await;
        c.join().await;
        others.push(c);
    }
    let proxy = usher_testkit::proxy::Proxy::start(&server.addr.to_string()).await;

    let buyer = driver.browser_on(screen).await;
    buyer
        .goto(&format!("http://{}/events/{event}", proxy.addr))
        .await
        .unwrap();
    wait_text(&buyer, "#position", "3").await;
    // (a) The place is in the tab title.
    wait_title(&buyer, "(#3) Hamilton — waiting room").await;
    assert_eq!(
        read(&buyer, "#position", Some("class")).await.as_deref(),
        Some("big-number")
    );
    // "Notify me when it's my turn" asks the browser, and says what the buyer will get.
    click(&buyer, "#notify").await;
    wait_for(&buyer, "#notify-note", None, "the answer in words", |v| {
        v.starts_with("You will get a notification") || v.starts_with("Notifications are blocked")
    })
    .await;

    // (b) The connection drops: the figures go grey with their age, the banner says so
    // at once and offers to reconnect now.
    proxy.down();
    for figure in ["#position", "#ahead", "#wait"] {
        wait_for(&buyer, figure, Some("class"), "stale", |v| {
            v.contains("stale")
        })
        .await;
    }
    wait_for(&buyer, "#updated-tick", None, "its age", |v| {
        v.starts_with("Updated ") && v.ends_with(" s ago")
    })
    .await;
    wait_for(
        &buyer,
        "#connection:not([hidden]) #connection-words",
        None,
        "shown",
        |v| v.starts_with("Connection lost."),
    )
    .await;
    wait_text(
        &buyer,
        "#connection:not([hidden]) #reconnect-now",
        "Reconnect now",
    )
    .await;
    wait_title(&buyer, "(#3) Hamilton — waiting room").await;
    screenshot(&buyer, shot).await;

    // (c) Away longer than the grace period: the server drops the place, and the page
    // stops promising it.
    wait_waiting(&server, event, 2).await;
    wait_for(&buyer, "#connection-words", None, "no promise", |v| {
        v.contains(
            "You have been away longer than the 1 s a place is kept, so your place may be gone.",
        )
    })
    .await;
    let mut later = server.connect(event).await;
    later.join().await;
    // Reconnect now, with the next automatic try still seconds away.
    wait_for(&buyer, "#retry-in", None, "a later try", |v| {
        v.strip_prefix("Next try in ")
            .and_then(|v| v.strip_suffix(" s"))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| n >= 3)
    })
    .await;
    proxy.up();
    click(&buyer, "#reconnect-now").await;
    wait_text(
        &buyer,
        "#notice",
        "You were away too long and lost your place; you are now number 4 in line.",
    )
    .await;
    wait_text(&buyer, "#position", "4").await;
    wait_for(&buyer, "#position", Some("class"), "live", |v| {
        !v.contains("stale")
    })
    .await;
    wait_for(&buyer, "#connection", Some("hidden"), "hidden", |_| true).await;
    wait_title(&buyer, "(#4) Hamilton — waiting room").await;

    buyer.close().await.unwrap();
    drop(others);
    drop(later);
    server.stop().await;
}

/// Waits until the browser's tab title is `want`.
async fn wait_title(c: &Client, want: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = c.title().await.ok();
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected the title {want:?}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the event's room counts `n` waiting buyers.
async fn wait_waiting(server: &Server, event: i64, n: u64) {
    let url = format!("{}/api/events/{event}", server.http());
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let view: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if view["room"]["waiting"].as_u64() == Some(n) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {n} waiting, got {}",
            view["room"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_waiting_page_greys_stale_figures_and_says_when_the_place_is_lost() {
    the_waiting_page_is_honest_about_its_connection(Screen::Desktop, "waiting-stale").await;
}

#[tokio::test]
async fn on_a_phone_the_waiting_page_greys_stale_figures_and_says_when_the_place_is_lost() {
    the_waiting_page_is_honest_about_its_connection(Screen::Phone, "waiting-phone").await;
}
