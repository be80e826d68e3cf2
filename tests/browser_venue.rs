//! A big venue on the seat page, in a real browser (headless Chromium, see browser.rs): the
//! overview of its sections with their seats left, live; a section zoomed with seats big
//! enough to tap, the map's keys inside it and the way back; best available in another
//! section; and, ignored, the measurement of the 50,000-seat ballpark on a phone
//! (BENCHMARKS.md).

mod browserkit;

use std::time::Duration;

use browserkit::*;
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::{Value, json};
use usher::events::layout::SeatMapSpec;
use usher_testkit::{Server, WAIT};

/// The demo ballpark (50,180 seats in 40 placed sections) as an event of `server`.
async fn stadium(server: &Server) -> i64 {
    let spec = serde_json::to_value(SeatMapSpec::stadium()).expect("the map as JSON");
    server
        .create_event(json!({
            "name": "usher Stadium — Baseball postseason, game 1",
            "admission_rate": 1000, "max_active": 1000, "session_secs": 3600,
            "seat_map": spec,
        }))
        .await
}

/// Seats per section name, in map order, from the layout the page reads too.
async fn sizes(server: &Server, event: i64) -> Vec<(String, u64)> {
    let layout: Value = reqwest::get(format!("{}/api/events/{event}/seats/layout", server.http()))
        .await
        .expect("the layout")
        .json()
        .await
        .expect("JSON");
    layout["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| {
            let seats = s["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["count"].as_u64().unwrap_or(0))
                .sum();
            (s["name"].as_str().expect("a name").to_owned(), seats)
        })
        .collect()
}

/// Free seats as the operator's view counts them (read afresh: the public view's counts may
/// lag a second).
async fn api_free(server: &Server, event: i64) -> u64 {
    let (_, ev) = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await;
    ev["seats"]["free"].as_u64().expect("a count")
}

/// The overview's blocks as shown: (name, seats left, accessible name).
async fn blocks(c: &Client) -> Vec<(String, u64, String)> {
    let v = c
        .execute(
            "return [...document.querySelectorAll('#venue .venue-block')].map((b) => \
             [b.dataset.name, Number(b.dataset.left), b.getAttribute('aria-label')]);",
            vec![],
        )
        .await
        .expect("the blocks");
    v.as_array()
        .expect("a list")
        .iter()
        .map(|b| {
            (
                b[0].as_str().unwrap_or("").to_owned(),
                b[1].as_u64().unwrap_or(u64::MAX),
                b[2].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Waits until the block of section `name` says `left` seats left.
async fn wait_left(c: &Client, name: &str, left: u64) {
    let css = format!("#venue .venue-block[data-name=\"{name}\"]");
    wait_for(c, &css, Some("data-left"), &format!("{left} left"), |v| {
        v == left.to_string()
    })
    .await;
}

/// Waits until the overview shows `expected` (name → seats left) for every section, in
/// order, and checks the accessible names say the same.
async fn wait_overview(c: &Client, expected: &[(String, u64)]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let shown = blocks(c).await;
        let pairs: Vec<(String, u64)> = shown.iter().map(|(n, l, _)| (n.clone(), *l)).collect();
        if pairs == expected {
            for (name, left, label) in &shown {
                let want = if *left == 0 {
                    format!("Section {name}, sold out")
                } else {
                    format!("Section {name}, {} seats left", group(*left))
                };
                assert_eq!(label, &want);
            }
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the overview shows {pairs:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 1250 → "1,250".
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Opens the event's waiting room in a new browser on `screen`; waits for the overview.
async fn buyer_on_venue(driver: &Driver, server: &Server, event: i64, screen: Screen) -> Client {
    let c = driver.browser_on(screen).await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&c, &format!("/events/{event}/seats")).await;
    wait_for(
        &c,
        "#venue .venue-block",
        Some("data-left"),
        "counted",
        |v| !v.is_empty(),
    )
    .await;
    c
}

/// The section name of the focused block, if a block has the focus.
async fn focused_block(c: &Client) -> Option<String> {
    c.execute(
        "return document.activeElement?.dataset?.name ?? null;",
        vec![],
    )
    .await
    .ok()?
    .as_str()
    .map(str::to_owned)
}

#[tokio::test]
async fn a_phone_buyer_picks_a_section_of_the_ballpark_holds_a_seat_and_sees_others_live() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = stadium(&server).await;
    let sizes = sizes(&server, event).await;
    assert_eq!(sizes.len(), 40);
    assert_eq!(sizes.iter().map(|s| s.1).sum::<u64>(), 50_180);
    // Before the page opens, someone holds two seats of 101 (ids 0-799) and one of 102.
    let mut other = socket_buyer_holds(&server, event, &[0, 1, 800]).await;

    let c = buyer_on_venue(&driver, &server, event, Screen::Phone).await;

    // Every section, with its seats left; their sum is what the API counts free.
    let mut expected = sizes.clone();
    expected[0].1 -= 2;
    expected[1].1 -= 1;
    wait_overview(&c, &expected).await;
    let free = api_free(&server, event).await;
    assert_eq!(free, expected.iter().map(|s| s.1).sum::<u64>());
    wait_text(
        &c,
        "[data-testid=venue-total]",
        &format!("{} seats left in all", group(free)),
    )
    .await;
    // Drawn like the ballpark, and nothing wider than the phone.
    let fits = c
        .execute(
            "const plan = document.querySelector('.venue-plan').getBoundingClientRect(); \
             const small = [...document.querySelectorAll('.venue-block')].map((b) => b.getBoundingClientRect()) \
               .filter((r) => r.width < 24 || r.height < 24).length; \
             return [document.documentElement.scrollWidth <= window.innerWidth, plan.width <= 360, small, \
                     document.querySelectorAll('#seatmap [data-seat]').length];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        json!([true, true, 0, 0]),
        "fits, blocks of 24 px at least, no seat drawn yet"
    );
    screenshot_of(&c, "#seatmap-panel", "venue-overview-phone").await;

    // Section 102 (ids 800-1599, 20 rows of 40, rows 1-6 VIP): its seats, big enough to
    // tap, the held one shown.
    click(&c, "#venue .venue-block[data-name=\"102\"]").await;
    wait_text(&c, "#zoom-title", "Section 102").await;
    wait_seat(&c, 800, "held").await;
    wait_text(&c, "#zoom-left", "799 seats left: VIP 239 · R 560").await;
    let zoomed = c
        .execute(
            "const seats = document.querySelectorAll('#seatmap [data-seat]'); \
             const ids = [...seats].map((g) => Number(g.dataset.seat)); \
             const r = document.querySelector('[data-seat=\"801\"] rect').getBoundingClientRect(); \
             const sc = document.querySelector('.map-scroll'); \
             const rail = document.querySelector('.row-rail'); \
             return [seats.length, Math.min(...ids), Math.max(...ids), r.width >= 24, \
                     sc.scrollWidth > sc.clientWidth, !rail.hidden && rail.children.length, \
                     document.documentElement.scrollWidth <= window.innerWidth, \
                     document.querySelector('.map-frame').classList.contains('cut-right')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        zoomed,
        json!([800, 800, 1599, true, true, 20, true, true]),
        "the section alone, seats of 24 px or more, rows scrolling sideways with labels kept"
    );
    // The row's far end is reachable: scrolled there, the labels are still in view.
    c.execute(
        "const sc = document.querySelector('.map-scroll'); sc.scrollLeft = sc.scrollWidth;",
        vec![],
    )
    .await
    .unwrap();
    let end = c
        .execute(
            "const sc = document.querySelector('.map-scroll').getBoundingClientRect(); \
             const last = document.querySelector('[data-seat=\"839\"] rect').getBoundingClientRect(); \
             const label = document.querySelector('.row-rail span').getBoundingClientRect(); \
             return [last.right <= sc.right + 1 && last.left >= sc.left, label.left >= sc.left - 1];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        end,
        json!([true, true]),
        "the last seat of row 1 and the row label in view"
    );
    wait_for(&c, ".map-frame", Some("class"), "cut on the left", |v| {
        v.contains("cut-left") && !v.contains("cut-right")
    })
    .await;
    c.execute(
        "document.querySelector('.map-scroll').scrollLeft = 0;",
        vec![],
    )
    .await
    .unwrap();

    click_seat(&c, 801).await;
    click(&c, "#hold").await;
    wait_seat(&c, 801, "mine").await;
    wait_text(&c, "#zoom-left", "798 seats left: VIP 238 · R 560").await;
    screenshot_of(&c, "#seatmap-panel", "venue-zoom-phone").await;

    // Back to all sections: 102 counts the seat this buyer holds.
    click(&c, "#zoom-back").await;
    wait_left(&c, "102", 798).await;
    assert_eq!(
        focused_block(&c).await.as_deref(),
        Some("102"),
        "the focus is back on the section's block"
    );
    assert_eq!(
        read(&c, "#zoom-bar", Some("hidden")).await.as_deref(),
        Some("")
    );
    // Another buyer's hold and release show at once.
    let mut third = socket_buyer_holds(&server, event, &[2100]).await;
    wait_left(&c, "103", 799).await;
    other
        .send(json!({ "type": "release", "seats": [0, 1] }))
        .await;
    other.recv_type("released").await;
    wait_left(&c, "101", 800).await;
    third.send(json!({ "type": "book" })).await;
    third.recv_type("booked").await;
    wait_left(&c, "103", 799).await;
    let free = api_free(&server, event).await;
    assert_eq!(free, 50_180 - 1 - 1 - 1, "800 held, 801 mine, 2100 sold");
    wait_text(
        &c,
        "[data-testid=venue-total]",
        &format!("{} seats left in all", group(free)),
    )
    .await;

    c.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn on_a_desktop_the_ballpark_opens_on_its_sections_and_the_keys_work_inside_one() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = stadium(&server).await;
    let sizes = sizes(&server, event).await;
    let c = buyer_on_venue(&driver, &server, event, Screen::Desktop).await;
    wait_overview(&c, &sizes).await;
    // Wide blocks say their seats per grade too.
    let grades = read(
        &c,
        "#venue .venue-block[data-name=\"101\"] .vb-grades",
        None,
    )
    .await;
    assert_eq!(grades.as_deref(), Some("VIP 240 · R 560"));
    screenshot(&c, "venue-overview").await;

    // Section 205 (ids 15400-16649, 25 rows of 50) from the keyboard: Enter on its block
    // puts the focus on its first seat, the map's one Tab stop.
    c.execute(
        "document.querySelector('#venue .venue-block[data-name=\"205\"]').focus();",
        vec![],
    )
    .await
    .unwrap();
    press(&c, Key::Enter).await;
    wait_text(&c, "#zoom-title", "Section 205").await;
    assert_eq!(focused_id(&c).await, "seat:15400");
    for (key, want) in [
        (Key::Right, "seat:15401"),
        (Key::Down, "seat:15451"), // row 2, the same seat number
        (Key::End, "seat:15499"),
        (Key::Home, "seat:15450"),
    ] {
        press(&c, key).await;
        assert_eq!(focused_id(&c).await, want);
    }
    press(&c, Key::Enter).await;
    wait_for(
        &c,
        "[data-seat=\"15450\"]",
        Some("data-selected"),
        "selected",
        |v| v == "true",
    )
    .await;
    let stops = c
        .execute(
            "return document.querySelectorAll('#seatmap [tabindex=\"0\"]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(stops, json!(1));
    // The next Tab leaves the map for Hold; Shift+Tab comes back to the same seat.
    press(&c, Key::Tab).await;
    assert_eq!(focused_id(&c).await, "hold");
    let hold = c.active_element().await.unwrap();
    hold.send_keys(&format!(
        "{}{}",
        char::from(Key::Shift),
        char::from(Key::Tab)
    ))
    .await
    .unwrap();
    assert_eq!(focused_id(&c).await, "seat:15450");
    // Escape: back to all sections, on the block of the section left.
    press(&c, Key::Escape).await;
    wait_for(&c, "#zoom-bar", Some("hidden"), "hidden", |v| v.is_empty()).await;
    assert_eq!(focused_block(&c).await.as_deref(), Some("205"));
    // The pick survives: zoomed again, the seat is still picked.
    press(&c, Key::Enter).await;
    wait_for(
        &c,
        "[data-seat=\"15450\"]",
        Some("data-selected"),
        "still selected",
        |v| v == "true",
    )
    .await;

    c.close().await.unwrap();
    server.stop().await;
}

/// Seven sections without areas (the page lays them out): Floor (VIP), A-E (R) of 20
/// seats each, and Box (S), ids 120-121.
fn seven_sections() -> Value {
    let mut sections =
        vec![json!({ "name": "Floor", "grade": "VIP", "rows": 2, "seats_per_row": 10 })];
    for name in ["A", "B", "C", "D", "E"] {
        sections.push(json!({ "name": name, "grade": "R", "rows": 2, "seats_per_row": 10 }));
    }
    sections.push(json!({ "name": "Box", "grade": "S", "rows": 1, "seats_per_row": 2 }));
    json!({ "prices": { "VIP": 165000, "R": 143000, "S": 99000 }, "sections": sections })
}

/// A small venue of many sections: laid out by the page under the stage, nearest first; a
/// sold-out section greyed and said so; best available in another section shown.
async fn auto_layout_case(driver: &Driver, screen: Screen, lang: &str, shot: &str) {
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 100, "seat_map": seven_sections() }))
        .await;
    // Someone holds both seats of Box.
    let _other = socket_buyer_holds(&server, event, &[120, 121]).await;
    let c = driver.browser_in(screen, lang).await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&c, &format!("/events/{event}/seats")).await;
    wait_left(&c, "Box", 0).await;
    let (box_label, sold_out, floor_label) = if lang.starts_with("ko") {
        ("Box구역, 매진", "매진", "Floor구역, 잔여석 20석")
    } else {
        (
            "Section Box, sold out",
            "Sold out",
            "Section Floor, 20 seats left",
        )
    };
    let css = "#venue .venue-block[data-name=\"Box\"]";
    assert_eq!(
        read(&c, css, Some("aria-label")).await.as_deref(),
        Some(box_label)
    );
    assert_eq!(
        read(&c, &format!("{css} .vb-left"), None).await.as_deref(),
        Some(sold_out)
    );
    assert!(
        read(&c, css, Some("class"))
            .await
            .unwrap_or_default()
            .contains("sold-out")
    );
    let floor = "#venue .venue-block[data-name=\"Floor\"]";
    assert_eq!(
        read(&c, floor, Some("aria-label")).await.as_deref(),
        Some(floor_label)
    );
    // Under the stage, in map order: Floor first, Box last, no block above the stage.
    let order = c
        .execute(
            "const stage = document.querySelector('.venue-stage').getBoundingClientRect(); \
             const b = [...document.querySelectorAll('.venue-block')].map((x) => x.getBoundingClientRect()); \
             return [b.every((r) => r.top >= stage.bottom), b[0].top <= b[6].top, \
                     document.documentElement.scrollWidth <= window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(order, json!([true, true, true]));
    screenshot_of(&c, "#seatmap-panel", shot).await;

    // Best available VIP: held in Floor, which the page shows.
    set_value(&c, "#best-count", "2").await;
    set_value(&c, "#best-grade", "VIP").await;
    // Above the phone's action bar, as a buyer would scroll to it.
    c.execute(
        "document.getElementById('best').scrollIntoView({ block: 'center' });",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "#best").await;
    wait_for(&c, "#zoom-bar", Some("data-section"), "Floor", |v| v == "0").await;
    let mine = c
        .execute(
            "return document.querySelectorAll('#seatmap [data-state=\"mine\"]').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(mine, json!(2));
    wait_left(&c, "Floor", 18).await;
    c.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_venue_without_areas_is_laid_out_by_the_page_on_a_phone_and_a_desktop() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    auto_layout_case(&driver, Screen::Phone, "ko-KR", "venue-auto-phone-ko").await;
    auto_layout_case(&driver, Screen::Desktop, "en-GB", "venue-auto").await;
}

/// Counts animation frames while `move(p)` (p from 0 to 1 over `ms`) scrolls the page:
/// returns frames per second and the longest frame in ms.
const FRAMES: &str = "const [what, ms, done] = arguments; \
    const sc = document.querySelector('.map-scroll'); \
    const maxX = sc.scrollWidth - sc.clientWidth; \
    const maxY = document.documentElement.scrollHeight - window.innerHeight; \
    const move = (p) => { \
      const there = p < 0.5 ? p * 2 : 2 - p * 2; \
      if (what === 'pan') sc.scrollLeft = maxX * there; \
      window.scrollTo(0, maxY * there); \
    }; \
    const t0 = performance.now(); let last = t0; let frames = 0; let longest = 0; \
    const step = (now) => { \
      frames += 1; longest = Math.max(longest, now - last); last = now; \
      move(Math.min(1, (now - t0) / ms)); \
      if (now - t0 < ms) requestAnimationFrame(step); \
      else done([frames / ((now - t0) / 1000), longest, maxX, maxY]); \
    }; \
    requestAnimationFrame(step);";

/// Presses section `name`'s block and returns the ms from the press to the end of the
/// first frame that shows its seats.
const ZOOM: &str = "const [name, done] = arguments; \
    const t0 = performance.now(); \
    document.querySelector(`#venue .venue-block[data-name=\"${name}\"]`).click(); \
    requestAnimationFrame(() => setTimeout(() => done([performance.now() - t0, \
      document.querySelectorAll('#seatmap [data-seat]').length]), 0));";

/// The 50,180-seat ballpark on a 360x740 phone (BENCHMARKS.md, "50,000-seat venue on a
/// phone"): first paint of the overview, first paint of a zoomed section, and the frame
/// rate while a zoomed section is panned and while the overview scrolls with another buyer
/// holding and releasing seats. A measurement, not a test: run with
/// `cargo test --release --test browser_venue measure -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn measure_the_ballpark_on_a_phone() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = stadium(&server).await;
    let mut tokens = server.admitted_tokens(event, 2).await;
    let c = driver.browser_on(Screen::Phone).await;
    let page = format!("{}/events/{event}/seats", server.http());
    c.goto(&page).await.unwrap();
    let pass = json!({ "token": tokens.remove(0) }).to_string();
    c.execute(
        "sessionStorage.setItem(arguments[0], arguments[1]);",
        vec![json!(format!("usher.token.{event}")), json!(pass)],
    )
    .await
    .unwrap();
    println!("| 50,180 seats, 40 sections, 360x740 phone | ms |");
    println!("|---|---|");
    for run in ["layout not cached", "layout cached"] {
        c.goto(&page).await.unwrap();
        let deadline = tokio::time::Instant::now() + WAIT;
        let painted = loop {
            let v = c
                .execute("return window.usherMapPaintedAt ?? null;", vec![])
                .await
                .unwrap_or(Value::Null);
            if let Some(ms) = v.as_f64() {
                break ms;
            }
            assert!(tokio::time::Instant::now() < deadline, "never drawn");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let ready = c
            .execute(
                "return performance.getEntriesByName('usher-layout-ready')[0]?.startTime ?? null;",
                vec![],
            )
            .await
            .unwrap();
        let blocks = c
            .execute(
                "return document.querySelectorAll('#venue .venue-block[data-left]').length;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(blocks, json!(40));
        println!(
            "| first paint of the overview, {run} (since navigation; layout fetched and expanded at {:.0}) | {painted:.0} |",
            ready.as_f64().unwrap_or(f64::NAN)
        );
    }
    for (name, what) in [
        ("113", "800 seats"),
        ("201", "1,250 seats"),
        ("301", "1,920 seats"),
    ] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let v = c.execute_async(ZOOM, vec![json!(name)]).await.unwrap();
            times.push(v[0].as_f64().unwrap_or(f64::NAN));
            assert!(v[1].as_u64().unwrap_or(0) >= 800, "{v}");
            click(&c, "#zoom-back").await;
            wait_for(&c, "#zoom-bar", Some("hidden"), "hidden", |v| v.is_empty()).await;
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| first paint of section {name} zoomed ({what}; median of 3: press to the end of the frame) | {:.0} |",
            times[1]
        );
    }
    // Panning the largest section: sideways to the row's end and back, down and up.
    c.execute_async(ZOOM, vec![json!("301")]).await.unwrap();
    let pan = c
        .execute_async(FRAMES, vec![json!("pan"), json!(4000)])
        .await
        .unwrap();
    println!(
        "| panning section 301 for 4 s ({:.0} px sideways, {:.0} px down, and back): frames per second, longest frame | {:.0} fps, {:.0} ms |",
        pan[2].as_f64().unwrap_or(0.0),
        pan[3].as_f64().unwrap_or(0.0),
        pan[0].as_f64().unwrap_or(0.0),
        pan[1].as_f64().unwrap_or(0.0)
    );
    click(&c, "#zoom-back").await;
    wait_for(&c, "#zoom-bar", Some("hidden"), "hidden", |v| v.is_empty()).await;

    // Scrolling the overview while another buyer holds and releases seats across sections.
    let (mut other, _) = server.seats_of(event, 0, &tokens.remove(0)).await;
    let churn = tokio::spawn(async move {
        let mut changes = 0;
        let end = tokio::time::Instant::now() + Duration::from_secs(4);
        let mut k = 0u32;
        while tokio::time::Instant::now() < end {
            let seats = [
                k % 10_400,
                10_400 + (k * 7) % 22_500,
                32_900 + (k * 13) % 17_280,
            ];
            let held = other.ask(json!({ "type": "hold", "seats": seats })).await;
            if held["type"] == "held" {
                other
                    .ask(json!({ "type": "release", "seats": seats }))
                    .await;
                changes += 6;
            }
            k += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        changes
    });
    let scroll = c
        .execute_async(FRAMES, vec![json!("scroll"), json!(4000)])
        .await
        .unwrap();
    let changes = churn.await.unwrap();
    println!(
        "| scrolling the overview for 4 s ({:.0} px down and back) while {changes} seat changes arrive: frames per second, longest frame | {:.0} fps, {:.0} ms |",
        scroll[3].as_f64().unwrap_or(0.0),
        scroll[0].as_f64().unwrap_or(0.0),
        scroll[1].as_f64().unwrap_or(0.0)
    );
    c.close().await.unwrap();
    server.stop().await;
}

/// Odd areas the admin API accepts (overlapping, a 1 x 1 box, a sliver at the edge) still
/// give an overview where every section is a block to press, on a phone and a desktop.
#[tokio::test]
async fn odd_areas_still_give_a_block_to_press_for_every_section() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = server
        .create_event(json!({ "admission_rate": 100, "seat_map": {
            "prices": { "R": 1000 },
            "sections": [
                { "name": "Big", "grade": "R", "rows": 30, "seats_per_row": 40,
                  "area": { "x": 0, "y": 0, "w": 1000, "h": 1000 } },
                { "name": "Tiny", "grade": "R", "rows": 1, "seats_per_row": 2,
                  "area": { "x": 500, "y": 500, "w": 1, "h": 1 } },
                { "name": "Sliver", "grade": "R", "rows": 1, "seats_per_row": 2,
                  "area": { "x": 999, "y": 0, "w": 1, "h": 1000 } }
            ] } }))
        .await;
    for screen in [Screen::Phone, Screen::Desktop] {
        let c = buyer_on_venue(&driver, &server, event, screen).await;
        let shown = c
            .execute(
                "return [...document.querySelectorAll('#venue .venue-block')].map((b) => { \
                   const r = b.getBoundingClientRect(); \
                   return [b.dataset.name, r.width >= 12 && r.height >= 12]; }) \
                   .concat([[document.documentElement.scrollWidth <= window.innerWidth]]);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            shown,
            json!([["Big", true], ["Tiny", true], ["Sliver", true], [true]])
        );
        let shot = match screen {
            Screen::Phone => "venue-odd-areas-phone",
            Screen::Desktop => "venue-odd-areas",
        };
        screenshot_of(&c, "#seatmap-panel", shot).await;
        // Tiny lies on Big: the keyboard reaches it all the same, and so does a click.
        c.execute(
            "document.querySelector('#venue .venue-block[data-name=\"Tiny\"]').focus();",
            vec![],
        )
        .await
        .unwrap();
        press(&c, Key::Enter).await;
        wait_text(&c, "#zoom-title", "Section Tiny").await;
        assert_eq!(focused_id(&c).await, "seat:1200");
        press(&c, Key::Escape).await;
        wait_for(&c, "#zoom-bar", Some("hidden"), "hidden", |v| v.is_empty()).await;
        click(&c, "#venue .venue-block[data-name=\"Sliver\"]").await;
        wait_text(&c, "#zoom-title", "Section Sliver").await;
        wait_seat(&c, 1203, "free").await;
        c.close().await.unwrap();
    }
    server.stop().await;
}
