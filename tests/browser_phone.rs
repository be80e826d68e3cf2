//! The seat page on a phone and in two languages, in a real browser: the action bar fixed
//! to the bottom of a 360x740 screen (selection, total, hold clock, buttons), the answers
//! to the buyer's actions shown in it, a booking that reads as a success, the page in
//! Korean and English with a switch that keeps the hold, and a burst of taps that sends
//! one request. Each test saves a screenshot to docs/screenshots/.
//!
//! Without chromedriver and Chromium the browser tests print a note and pass (see
//! tests/browserkit); the message-file test runs everywhere.

mod browserkit;

use std::collections::{BTreeMap, BTreeSet};

use browserkit::*;
use fantoccini::Client;
use serde_json::{Value, json};
use usher_testkit::Server;

/// Whether `css` is shown, whole, inside the window as it is scrolled now, and not under
/// something else (the bar over the page, say): what the buyer sees without scrolling.
async fn in_view(c: &Client, css: &str) -> bool {
    let v = c
        .execute(
            "const e = document.querySelector(arguments[0]); \
             if (!e || !e.checkVisibility()) return false; \
             const r = e.getBoundingClientRect(); \
             if (r.height <= 0 || r.top < -1 || r.bottom > innerHeight + 1) return false; \
             if (r.left < -1 || r.right > innerWidth + 1) return false; \
             const top = document.elementFromPoint(r.left + r.width / 2, Math.max(r.top, 0) + Math.min(r.height / 2, 10)); \
             return !!top && (e === top || e.contains(top));",
            vec![json!(css)],
        )
        .await
        .expect("measuring an element");
    v == json!(true)
}

/// Waits until `css` is in view (see `in_view`).
async fn wait_in_view(c: &Client, css: &str) {
    usher_testkit::eventually(&format!("{css} in view"), || async {
        if in_view(c, css).await {
            Ok(())
        } else {
            Err(format!("{css} off screen or covered"))
        }
    })
    .await;
}

/// The text the buyer can see now: every shown text inside the window, one per line.
async fn visible_text(c: &Client) -> String {
    let v = c
        .execute(
            "const out = []; \
             const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); \
             while (w.nextNode()) { \
               const n = w.currentNode; const p = n.parentElement; \
               if (!n.textContent.trim() || !p || !p.checkVisibility({ visibilityProperty: true })) continue; \
               if (p.closest('.visually-hidden, title')) continue; \
               const r = document.createRange(); r.selectNodeContents(n); \
               if ([...r.getClientRects()].some((b) => b.width > 0 && b.bottom > 0 && b.top < innerHeight)) \
                 out.push(n.textContent.trim()); \
             } \
             return out.join('\\n');",
            vec![],
        )
        .await
        .expect("reading the visible text");
    v.as_str().unwrap_or_default().to_owned()
}

/// Texts of the page (shown or not, attributes for screen readers included) that are
/// message keys: what `t()` gives for a key no message file has.
async fn untranslated(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "const re = /^[a-z]+\\.[a-z_.]+$/; const bad = []; \
             const w = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT); \
             while (w.nextNode()) { const s = w.currentNode.textContent.trim(); if (re.test(s)) bad.push(s); } \
             for (const e of document.querySelectorAll('[aria-label], [title], [data-label]')) { \
               for (const a of ['aria-label', 'title', 'data-label']) { \
                 const s = (e.getAttribute(a) || '').trim(); if (re.test(s)) bad.push(s); } } \
             if (re.test(document.title)) bad.push(document.title); \
             return bad;",
            vec![],
        )
        .await
        .expect("reading the texts");
    serde_json::from_value(v).expect("a list")
}

/// Seats held on the event's first date, as the server counts them.
async fn held_on_server(server: &Server, event: i64) -> u64 {
    let view = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await
        .1;
    view["performances"][0]["seats"]["held"]
        .as_u64()
        .unwrap_or_else(|| panic!("a held count in {view}"))
}

/// Taps seat `id` as a buyer would: scrolled to the middle of the screen first, since at
/// the bottom of a phone's screen it would be under the bar (WebDriver refuses to click
/// an element that something else covers).
async fn tap_seat(c: &Client, id: u32) {
    c.execute(
        "document.querySelector(`[data-seat=\"${arguments[0]}\"]`).scrollIntoView({ block: 'center' });",
        vec![json!(id)],
    )
    .await
    .expect("scrolling to the seat");
    click_seat(c, id).await;
}

/// A buyer let in through the waiting room, on the seat map in a browser on `screen`
/// whose language is `lang`.
async fn buyer(driver: &Driver, server: &Server, event: i64, screen: Screen, lang: &str) -> Client {
    let c = driver.browser_in(screen, lang).await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&c, &format!("/events/{event}/seats")).await;
    wait_seat(&c, 0, "free").await;
    c
}

/// Picks, holds four seats, meets two refusals, books: on `screen`, each answer seen where
/// the buyer looks, the confirmation alone at the end. Screenshots `{shot}-bar` (holding,
/// with a refusal) and `{shot}-booked`.
async fn pick_hold_refuse_book(screen: Screen, shot: &str) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = buyer(&driver, &server, event, screen, "en-GB").await;
    let _other = socket_buyer_holds(&server, event, &[22]).await;
    wait_seat(&a, 22, "held").await;

    // Two seats picked: the bar says so, with the total, and Hold is on screen.
    tap_seat(&a, 0).await;
    tap_seat(&a, 1).await;
    wait_text(&a, "#bar-count", "2 seats selected").await;
    wait_text(&a, "#bar-total", "₩330,000").await;
    wait_text(&a, "#hold", "Hold 2").await;
    assert!(in_view(&a, "#hold").await, "Hold is off screen");
    let not_at_bottom = a
        .execute(
            "return scrollY + innerHeight < document.documentElement.scrollHeight - 200;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        not_at_bottom,
        json!(true),
        "the page was scrolled to its end"
    );

    // Held: the clock and the answer in view.
    click(&a, "#hold").await;
    wait_seat(&a, 0, "mine").await;
    wait_seat(&a, 1, "mine").await;
    // The clock: in the bar on a phone, in the side panel's Time on a desktop.
    let clock = match screen {
        Screen::Phone => "#bar-clock",
        Screen::Desktop => "#countdown",
    };
    wait_for(&a, clock, None, "a hold clock", |v| {
        v.contains(':') && (v.starts_with("Hold ends in ") || v.ends_with(" left"))
    })
    .await;
    assert!(in_view(&a, clock).await, "the clock is off screen");
    wait_for(&a, "#info", None, "the held line", |v| {
        v.starts_with("Held:")
    })
    .await;
    assert!(in_view(&a, "#info").await, "the held line is off screen");
    wait_text(&a, "#bar-count", "2 seats held").await;

    // A seat someone else holds: the refusal is where the buyer looks.
    tap_seat(&a, 22).await;
    wait_for(&a, "#message", None, "a refusal", |v| {
        v.contains("held by someone else")
    })
    .await;
    assert!(in_view(&a, "#message").await, "the refusal is off screen");

    // Four held, a fifth tapped: refused, in view.
    tap_seat(&a, 2).await;
    tap_seat(&a, 3).await;
    wait_text(&a, "#bar-count", "2 seats held, 2 seats selected").await;
    click(&a, "#hold").await;
    wait_seat(&a, 3, "mine").await;
    wait_text(&a, "#bar-count", "4 seats held").await;
    wait_text(&a, "#bar-total", "₩660,000").await;
    tap_seat(&a, 5).await;
    wait_for(&a, "#message", None, "the limit", |v| {
        v.starts_with("You can have up to 4 seats")
    })
    .await;
    assert!(in_view(&a, "#message").await, "the limit is off screen");
    assert!(in_view(&a, "#book").await, "Book is off screen");
    if let Screen::Phone = screen {
        on_the_phone_bar(&a).await;
    }
    screenshot(&a, &format!("{shot}-bar")).await;

    // The bar never covers the end of the page: scrolled to the end, the map's last seat
    // and the last panel are above the bar.
    let clear = a
        .execute(
            "scrollTo(0, document.documentElement.scrollHeight); \
             const bar = document.getElementById('bar').getBoundingClientRect(); \
             const fixed = getComputedStyle(document.getElementById('bar')).position === 'fixed'; \
             const last = document.querySelector('[data-seat=\"55\"]').getBoundingClientRect(); \
             const end = document.getElementById('workspace').getBoundingClientRect(); \
             return !fixed || (last.bottom <= bar.top && end.bottom <= bar.top);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(clear, json!(true), "the bar covers the end of the page");

    // Booked: the confirmation is what the buyer sees, with the focus; nothing stale.
    click(&a, "#book").await;
    wait_text(&a, "#booking-id", "#1").await;
    wait_in_view(&a, "#booked").await;
    assert_eq!(focused_id(&a).await, "booked");
    wait_for(&a, "#bar-count", None, "the booking in the bar", |v| {
        v == "Booked #1: ₩660,000"
    })
    .await;
    for gone in ["#hold", "#book", "#release", "#to-best"] {
        assert_eq!(
            read(&a, gone, Some("hidden")).await.as_deref(),
            Some(""),
            "{gone} still shown"
        );
    }
    let seen = visible_text(&a).await;
    assert!(seen.contains("Booking confirmed"), "{seen}");
    // No "Selected: 2", "You hold no seats" nor dead buttons ("Hold", "Book 4") beside it.
    let stale = [
        "Selected",
        "You hold",
        "No seats held",
        "Hold",
        "Book ",
        "Release",
    ];
    let lines: Vec<&str> = seen
        .lines()
        .filter(|l| *l == "Book" || stale.iter().any(|s| l.starts_with(s)))
        .collect();
    assert!(lines.is_empty(), "stale words shown: {lines:?}");
    wait_for(&a, "#selection-summary", None, "the booking", |v| {
        v.starts_with("Booked: ")
    })
    .await;
    wait_text(&a, "#countdown", "Booked").await;
    assert!(untranslated(&a).await.is_empty());
    screenshot(&a, &format!("{shot}-booked")).await;

    a.close().await.unwrap();
    server.stop().await;
}

/// The phone's bar, holding four seats: fingers fit its buttons, a tap on the summary
/// names the seats, and "Best seats" brings the best-available form.
async fn on_the_phone_bar(a: &Client) {
    let small = a
        .execute(
            "return [...document.querySelectorAll('#bar button')] \
               .filter((b) => b.checkVisibility()) \
               .map((b) => [b.id, b.getBoundingClientRect()]) \
               .filter(([, r]) => r.width < 44 || r.height < 44).map(([id]) => id);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(small, json!([]), "touch targets under 44 px");
    click(a, "#bar-summary").await;
    wait_for(a, "#bar-names", None, "the seats named", |v| {
        v.contains("Floor · row 1 · seat 1") && v.contains("Floor · row 1 · seat 4")
    })
    .await;
    assert!(in_view(a, "#bar-names").await, "the names are off screen");
    click(a, "#bar-summary").await;
    wait_for(a, "#bar-names", Some("hidden"), "closed", |v| v.is_empty()).await;

    click(a, "#to-best").await;
    assert_eq!(focused_id(a).await, "best-count");
    wait_in_view(a, "#best-form").await;
}

#[tokio::test]
async fn on_a_phone_the_bar_holds_the_buttons_the_answers_and_the_booking() {
    pick_hold_refuse_book(Screen::Phone, "seats-phone").await;
}

#[tokio::test]
async fn on_a_desktop_the_answers_show_beside_the_buttons_and_the_booking_reads_as_done() {
    pick_hold_refuse_book(Screen::Desktop, "seats-desktop").await;
}

#[tokio::test]
async fn the_seat_page_speaks_korean_and_switches_to_english_keeping_the_hold() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = buyer(&driver, &server, event, Screen::Phone, "ko-KR").await;
    wait_value(&a, "#lang", "ko").await;
    wait_text(&a, "#map-title", "좌석 배치도").await;
    wait_text(&a, "#hold", "선점").await;
    wait_text(&a, "#book", "예매하기").await;
    wait_text(&a, "#bar-count", "배치도에서 좌석을 고르세요").await;
    wait_for(&a, "#legend-grades", None, "prices in won", |v| {
        v.contains("165,000원")
    })
    .await;
    let label = read(&a, "[data-seat=\"0\"]", Some("aria-label"))
        .await
        .expect("a seat label");
    assert!(
        label.starts_with("Floor구역 1열 1번, VIP석, 165,000원"),
        "{label}"
    );

    tap_seat(&a, 0).await;
    tap_seat(&a, 1).await;
    wait_text(&a, "#bar-count", "2석 선택").await;
    wait_text(&a, "#bar-total", "330,000원").await;
    click(&a, "#hold").await;
    wait_seat(&a, 1, "mine").await;
    wait_for(&a, "#info", None, "the held line", |v| {
        v.starts_with("선점:")
    })
    .await;
    wait_for(&a, "#bar-clock", None, "the clock", |v| {
        v.starts_with("선점 ")
    })
    .await;
    assert_eq!(untranslated(&a).await, Vec::<String>::new());
    screenshot(&a, "seats-phone-ko").await;

    // The switch: no reload (a mark set now survives), no new socket, the hold kept.
    a.execute(
        "window.usherMark = 1; window.usherSockets = 0; const W = WebSocket; \
         window.WebSocket = class extends W { constructor(...a) { super(...a); window.usherSockets += 1; } };",
        vec![],
    )
    .await
    .unwrap();
    set_value(&a, "#lang", "en").await;
    wait_text(&a, "#map-title", "Seat map").await;
    wait_text(&a, "#bar-count", "2 seats held").await;
    wait_text(&a, "#bar-total", "₩330,000").await;
    wait_for(&a, "#info", None, "the held line", |v| {
        v.starts_with("Held:")
    })
    .await;
    wait_for(
        &a,
        "[data-seat=\"0\"]",
        Some("aria-label"),
        "relabelled",
        |v| v.starts_with("Section Floor, row 1, seat 1, grade VIP, ₩165,000, held by you"),
    )
    .await;
    wait_text(&a, "#book", "Book 2").await;
    assert_eq!(untranslated(&a).await, Vec::<String>::new());

    set_value(&a, "#lang", "ko").await;
    wait_text(&a, "#bar-count", "2석 선점").await;
    wait_text(&a, "#book", "2석 예매").await;
    wait_for(&a, "#mine-summary", None, "the hold", |v| {
        v.starts_with("2석을 선점했습니다")
    })
    .await;
    for seat in [0, 1] {
        wait_seat(&a, seat, "mine").await;
    }
    let kept = a
        .execute(
            "return [window.usherMark ?? null, window.usherSockets ?? null];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, json!([1, 0]), "the page reloaded or reconnected");
    assert_eq!(held_on_server(&server, event).await, 2);

    // Booked in Korean: the confirmation in Korean, prices in won.
    click(&a, "#book").await;
    wait_text(&a, "#booked-title", "예매가 완료되었습니다").await;
    wait_text(&a, "#booked-total", "330,000원").await;
    wait_for(&a, "#booked-seats", None, "Korean seat names", |v| {
        v.contains("Floor구역 1열 1번")
    })
    .await;
    assert_eq!(untranslated(&a).await, Vec::<String>::new());

    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_switch_of_language_relabels_every_seat_of_a_large_map_in_slices() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    // 20,000 seats: built in the background after the first paint, relabelled in slices.
    let n = 20_000;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": hall_map() }))
        .await;
    let a = buyer(&driver, &server, event, Screen::Phone, "en-GB").await;
    let count = "return document.querySelectorAll('#seatmap g.seat').length;";
    usher_testkit::eventually("every seat built", || async {
        let built = a.execute(count, vec![]).await.unwrap();
        if built == json!(n) {
            Ok(())
        } else {
            Err(format!("{built} built"))
        }
    })
    .await;
    tap_seat(&a, 0).await;
    click(&a, "#hold").await;
    wait_seat(&a, 0, "mine").await;

    set_value(&a, "#lang", "ko").await;
    wait_for(&a, "#seatmap .stage-label", None, "무대", |v| v == "무대").await;
    wait_for(&a, "#seatmap .section-label", None, "Korean", |v| {
        v == "Hall구역"
    })
    .await;
    let took = wait_for(&a, "#seatmap", Some("data-relabel-ms"), "relabelled", |v| {
        !v.is_empty()
    })
    .await;
    eprintln!("relabelled {n} seats in {took} ms (slices of 8 ms)");
    let english = a
        .execute(
            "return [...document.querySelectorAll('#seatmap g.seat')] \
               .filter((g) => !g.dataset.label.startsWith('Hall구역') \
                 || !g.firstElementChild.textContent.startsWith('Hall구역')).length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(english, json!(0), "seats still labelled in English");
    wait_for(
        &a,
        "[data-seat=\"0\"]",
        Some("aria-label"),
        "mine, in Korean",
        |v| v == "Hall구역 1열 1번, R석, 1,000원, 내가 선점한 좌석",
    )
    .await;
    let last = format!("[data-seat=\"{}\"]", n - 1);
    wait_for(&a, &last, Some("aria-label"), "Korean", |v| {
        v.starts_with("Hall구역 400열 50번")
    })
    .await;
    wait_text(&a, "#bar-count", "1석 선점").await;

    a.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_burst_of_taps_on_hold_and_book_sends_one_request_each() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "hold_secs": 50, "seat_map": seat_map() }))
        .await;
    let a = buyer(&driver, &server, event, Screen::Phone, "en-GB").await;
    // Every request the page sends is counted, and a hold or book waits in the page until
    // the test lets it go (usherFlush): taps keep coming while it is on its way.
    a.execute(
        "window.usherSent = {}; window.usherHeld = []; const send = WebSocket.prototype.send; \
         window.usherFlush = () => { for (const f of window.usherHeld.splice(0)) f(); }; \
         WebSocket.prototype.send = function (data) { \
           const m = JSON.parse(data); \
           window.usherSent[m.type] = (window.usherSent[m.type] || 0) + 1; \
           if (m.type === 'hold' || m.type === 'book') { window.usherHeld.push(() => send.call(this, data)); return; } \
           return send.call(this, data); };",
        vec![],
    )
    .await
    .unwrap();
    tap_seat(&a, 0).await;
    tap_seat(&a, 1).await;
    wait_text(&a, "#hold", "Hold 2").await;

    // A double tap in one go, then taps on Hold and a seat while the hold is on its way.
    a.execute(
        "const b = document.getElementById('hold'); \
         for (let i = 0; i < 5; i++) { b.click(); b.dispatchEvent(new MouseEvent('click', { bubbles: true })); }",
        vec![],
    )
    .await
    .unwrap();
    click(&a, "#hold").await;
    tap_seat(&a, 2).await;
    click(&a, "#hold").await;
    // Meanwhile the bar shows the picks and waits: no button to press twice.
    wait_text(&a, "#bar-count", "3 seats selected").await;
    assert_eq!(
        read(&a, "#hold", Some("disabled")).await.as_deref(),
        Some("")
    );
    a.execute("window.usherFlush();", vec![]).await.unwrap();
    wait_seat(&a, 1, "mine").await;
    wait_seat(&a, 0, "mine").await;
    // A hold of 50 seconds is in its last minute: the clock warns.
    wait_for(&a, "#bar-clock", Some("class"), "a warning", |v| {
        v.contains("warn")
    })
    .await;
    // The seat tapped meanwhile is still picked, to hold next.
    wait_text(&a, "#bar-count", "2 seats held, 1 seat selected").await;
    wait_text(&a, "#hold", "Hold 1").await;
    usher_testkit::eventually("Hold enabled again", || async {
        match read(&a, "#hold", Some("disabled")).await {
            None => Ok(()),
            Some(v) => Err(format!("disabled={v:?}")),
        }
    })
    .await;
    assert_eq!(read(&a, "#message", None).await.as_deref(), Some(""));
    let sent = a.execute("return window.usherSent;", vec![]).await.unwrap();
    assert_eq!(sent["hold"], json!(1), "{sent}");
    assert_eq!(held_on_server(&server, event).await, 2);

    // Book tapped three times: one booking, no refusal, the bar shows it.
    a.execute(
        "const b = document.getElementById('book'); b.click(); b.click(); b.click();",
        vec![],
    )
    .await
    .unwrap();
    click(&a, "#book").await;
    a.execute("window.usherFlush();", vec![]).await.unwrap();
    wait_text(&a, "#booking-id", "#1").await;
    wait_text(&a, "#bar-count", "Booked #1: ₩330,000").await;
    let sent: Value = a.execute("return window.usherSent;", vec![]).await.unwrap();
    assert_eq!(sent["book"], json!(1), "{sent}");
    assert_eq!(read(&a, "#message", None).await.as_deref(), Some(""));
    wait_seat(&a, 0, "sold").await;
    screenshot(&a, "seats-phone-burst").await;

    a.close().await.unwrap();
    server.stop().await;
}

/// `"key": "text",` lines of a message file: key → the {placeholders} of its text.
fn message_keys(file: &str) -> BTreeMap<String, BTreeSet<String>> {
    let path = format!("{}/static/js/msg/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix('"') else {
            continue;
        };
        let (key, value) = rest.split_once("\": ").expect("a \"key\": \"text\" line");
        let mut holders = BTreeSet::new();
        let mut tail = value;
        while let Some(open) = tail.find('{') {
            let close = tail[open..].find('}').expect("a closed placeholder") + open;
            holders.insert(tail[open + 1..close].to_owned());
            tail = &tail[close + 1..];
        }
        assert!(
            out.insert(key.to_owned(), holders).is_none(),
            "{file}: {key} twice"
        );
    }
    out
}

#[test]
fn every_seat_page_message_has_both_languages_with_the_same_placeholders() {
    let en = message_keys("seats.en.js");
    let ko = message_keys("seats.ko.js");
    assert!(en.len() > 100, "{} keys read", en.len());
    let only_en: Vec<&String> = en.keys().filter(|k| !ko.contains_key(*k)).collect();
    let only_ko: Vec<&String> = ko.keys().filter(|k| !en.contains_key(*k)).collect();
    assert!(only_en.is_empty(), "missing in Korean: {only_en:?}");
    assert!(only_ko.is_empty(), "missing in English: {only_ko:?}");
    for (key, holders) in &en {
        assert_eq!(holders, &ko[key], "{key}: other placeholders in Korean");
        assert!(
            key.starts_with("seats.")
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
            "{key}: keys look like seats.part.word"
        );
    }
}

/// Best available on a phone: one tap on the bar's "Best seats" brings the form into
/// view, the answer shows in the bar, and the seats it picked are scrolled into view as
/// the buyer's.
#[tokio::test]
async fn on_a_phone_best_available_is_reached_from_the_bar_and_its_seats_are_shown() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 10, "seat_map": seat_map() }))
        .await;
    let a = buyer(&driver, &server, event, Screen::Phone, "en-GB").await;
    wait_in_view(&a, "#to-best").await;
    click(&a, "#to-best").await;
    wait_in_view(&a, "#best-form").await;
    a.execute(
        "document.getElementById('best-count').value = '2'; \
         document.getElementById('best-grade').value = 'R';",
        vec![],
    )
    .await
    .unwrap();
    click(&a, "#best").await;
    // Section A's first row (ids 20-31): its middle pair.
    wait_seat(&a, 25, "mine").await;
    wait_seat(&a, 26, "mine").await;
    assert_eq!(held_on_server(&server, event).await, 2);
    // The answer is in the bar, where the buyer looks, with the hold's clock.
    wait_in_view(&a, "#bar").await;
    wait_for(&a, "#bar", None, "the hold in the bar", |v| {
        v.contains("2 seats held") && v.contains("Hold ends in")
    })
    .await;
    let shown = a
        .execute(
            "const r = document.querySelector('[data-seat=\"25\"]').getBoundingClientRect(); \
             const bar = document.getElementById('bar').getBoundingClientRect(); \
             return r.top >= 0 && r.bottom <= bar.top;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shown,
        json!(true),
        "the seats best available held are off screen"
    );
    screenshot(&a, "seats-phone-best").await;
    a.close().await.unwrap();
    server.stop().await;
}

/// "Notify me" on a phone: the notification is shown through a service worker, since
/// Chrome on Android throws on `new Notification` and most buyers wait on a phone. The
/// buyer allowed notifications; when the turn comes the worker holds the notification.
#[tokio::test]
async fn on_a_phone_the_turn_is_notified_through_a_service_worker() {
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
    let c = driver.browser_notifying(Screen::Phone).await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_text(&c, "#position", "1").await;
    click(&c, "#notify").await;
    wait_for(&c, "#notify-note", None, "allowed", |v| {
        v.starts_with("You will get a notification")
    })
    .await;
    let active = "return navigator.serviceWorker.getRegistration('/static/js/') \
                  .then((r) => !!(r && r.active));";
    usher_testkit::eventually("the notification worker active", || async {
        let v = c.execute(active, vec![]).await.map_err(|e| e.to_string())?;
        if v == json!(true) {
            Ok(())
        } else {
            Err(format!("{v}"))
        }
    })
    .await;
    let (status, _) = server
        .admin("POST", &format!("/api/admin/events/{event}/resume"), None)
        .await;
    assert_eq!(status, 200);
    wait_path(&c, &format!("/events/{event}/seats")).await;
    // The worker's notification, read from the seat page (same origin, same worker).
    let shown = "return navigator.serviceWorker.getRegistration('/static/js/') \
                 .then((r) => r.getNotifications({ tag: 'usher-turn' })) \
                 .then((list) => list.map((n) => n.title));";
    let titles = usher_testkit::eventually("the turn notified", || async {
        let v = c.execute(shown, vec![]).await.map_err(|e| e.to_string())?;
        match v.as_array() {
            Some(list) if !list.is_empty() => Ok(v.clone()),
            _ => Err(format!("{v}")),
        }
    })
    .await;
    assert_eq!(titles.as_array().map(Vec::len), Some(1), "{titles}");
    c.close().await.unwrap();
    server.stop().await;
}
