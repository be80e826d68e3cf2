//! What the browser tests share (tests/browser*.rs): a chromedriver with headless
//! Chromium on a desktop or phone-sized window, in English or Korean, and helpers that read,
//! wait for, click and screenshot the pages. Each browser test file has `mod browserkit;`.
//!
//! Without `/usr/bin/chromedriver` and `/usr/bin/chromium` (Debian's `chromium-driver` and
//! `chromium`), `Driver::start` prints a note and returns `None`, and the tests pass without
//! running.
#![allow(dead_code)] // each test file uses some of these

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use usher_testkit::{ADMIN_KEY, Engine, Server, WAIT, World};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process on a free port; killed (with its browsers) when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    /// Starts chromedriver, or returns `None` (after a note) on a machine without it.
    pub async fn start() -> Option<Driver> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            eprintln!(
                "note: {CHROMEDRIVER} or {CHROMIUM} is missing, so the browser tests do not \
                 run here (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = usher_testkit::free_port();
        let child = {
            use std::os::unix::process::CommandExt;
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so that dropping the driver also ends the browsers.
                .process_group(0)
                .spawn()
                .expect("chromedriver starts")
        };
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        let deadline = tokio::time::Instant::now() + WAIT;
        while reqwest::get(&status).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not answer on {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(driver)
    }

    /// A new browser window with its own profile (its own localStorage and
    /// sessionStorage): one buyer, on a desktop-sized window.
    pub async fn browser(&self) -> Client {
        self.browser_on(Screen::Desktop).await
    }

    /// A new browser window on `screen`.
    pub async fn browser_on(&self, screen: Screen) -> Client {
        self.browser_in(screen, "en-GB").await
    }

    /// A new browser window on `screen` whose language (navigator.languages and
    /// Accept-Language) is `lang`, e.g. "ko-KR".
    pub async fn browser_in(&self, screen: Screen, lang: &str) -> Client {
        self.open(screen, lang, false).await
    }

    /// A new browser window on `screen` where the buyer has allowed notifications.
    pub async fn browser_notifying(&self, screen: Screen) -> Client {
        self.open(screen, "en-GB", true).await
    }

    async fn open(&self, screen: Screen, lang: &str, notifications: bool) -> Client {
        let lang_arg = format!("--lang={lang}");
        let mut args = vec![
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ];
        args.push(&lang_arg);
        let mut options = json!({
            "binary": CHROMIUM,
            "prefs": {
                "intl.accept_languages": lang,
                // 1 allows, 2 blocks; absent, the browser would ask.
                "profile.default_content_setting_values.notifications": if notifications { 1 } else { 2 },
            },
        });
        match screen {
            Screen::Desktop => args.push("--window-size=1280,900"),
            // Chromium's own phone emulation: a 360x740 CSS-pixel viewport at 3 device
            // pixels per CSS pixel, touch, and the page's <meta name=viewport> honoured.
            // The processor is this machine's, not throttled.
            Screen::Phone => {
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 360, "height": 740, "pixelRatio": 3.0, "touch": true, "mobile": true },
                });
            }
        }
        options["args"] = json!(args);
        let caps = match json!({ "goog:chromeOptions": options }) {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a browser")
    }
}

/// The window a browser opens with.
#[derive(Clone, Copy, Debug)]
pub enum Screen {
    /// 1280x900.
    Desktop,
    /// A phone: 360x740 CSS pixels.
    Phone,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole process group: chromedriver and the browsers it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server in a fresh world (memory engine) serving the pages built into it.
pub async fn server() -> Server {
    World::new(Engine::Memory).await.start().await
}

/// A large map of one section: 20,000 seats in 400 rows of 50 (one section, so the page
/// draws the seats themselves rather than an overview of sections).
pub fn hall_map() -> Value {
    json!({ "prices": { "R": 1000 }, "sections": [
        { "name": "Hall", "rows": 400, "seats_per_row": 50, "grade": "R" }
    ] })
}

/// A seat map of two sections: Floor (VIP, seats 0-19) and A (R, seats 20-55).
pub fn seat_map() -> Value {
    json!({
        "prices": { "VIP": 165000, "R": 143000 },
        "sections": [
            { "name": "Floor", "rows": 2, "seats_per_row": 10, "grade": "VIP" },
            { "name": "A", "rows": 3, "seats_per_row": 12, "grade": "R" }
        ]
    })
}

/// The text (or with `attr`, an attribute) of the first element matching `css`, if any.
/// Read in the page, so that a page in the middle of navigating reads as "nothing yet".
pub async fn read(c: &Client, css: &str, attr: Option<&str>) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); \
                  if (!e) return null; \
                  return arguments[1] ? e.getAttribute(arguments[1]) : e.textContent.trim();";
    let v = c
        .execute(script, vec![json!(css), json!(attr)])
        .await
        .ok()?;
    v.as_str().map(str::to_owned)
}

/// Waits until `css`'s text (or `attr`) satisfies `ok`; returns it. Panics, showing the
/// last value read, when it does not happen within the hang guard.
pub async fn wait_for(
    c: &Client,
    css: &str,
    attr: Option<&str>,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = read(c, css, attr).await;
        if let Some(v) = got.as_deref().filter(|v| ok(v)) {
            return v.to_owned();
        }
        if tokio::time::Instant::now() > deadline {
            let url = c.current_url().await.map(|u| u.to_string());
            panic!("expected {css} to be {what}, got {got:?} (page {url:?})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `css`'s text is exactly `want`.
pub async fn wait_text(c: &Client, css: &str, want: &str) {
    wait_for(c, css, None, &format!("{want:?}"), |v| v == want).await;
}

/// Waits until seat `id` shows `state` (free, held, mine or sold) in this browser.
pub async fn wait_seat(c: &Client, id: u32, state: &str) {
    let css = format!("[data-seat=\"{id}\"]");
    wait_for(c, &css, Some("data-state"), state, |v| v == state).await;
}

/// Waits until the browser is on a page whose path ends with `suffix`.
pub async fn wait_path(c: &Client, suffix: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = c.current_url().await.expect("a URL");
        if url.path().ends_with(suffix) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected a page ending in {suffix}, still on {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {css}: {e}"));
}

pub async fn click_seat(c: &Client, id: u32) {
    click(c, &format!("[data-seat=\"{id}\"]")).await;
}

/// Types `text` into the input `css`, replacing what it held.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let input = c.find(Locator::Css(css)).await.expect("the input");
    input.clear().await.expect("clearing");
    input.send_keys(text).await.expect("typing");
}

/// Sets the value of the input `css` as a page script would, with its `input` event: for
/// a `datetime-local`, whose typed form depends on the browser's locale.
pub async fn set_value(c: &Client, css: &str, value: &str) {
    let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                  e.dispatchEvent(new Event('input', { bubbles: true })); \
                  e.dispatchEvent(new Event('change', { bubbles: true })); return e.value;";
    let set = c
        .execute(script, vec![json!(css), json!(value)])
        .await
        .unwrap_or_else(|e| panic!("setting {css}: {e}"));
    assert_eq!(set, json!(value), "{css} refused {value:?}");
}

/// Waits until the input or select `css` holds `want` (its value, not its attribute).
pub async fn wait_value(c: &Client, css: &str, want: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = c
            .execute(
                "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
                vec![json!(css)],
            )
            .await
            .ok();
        if got.as_ref().and_then(Value::as_str) == Some(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {css} to hold {want:?}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves the top of the page to docs/screenshots/{name}.png.
pub async fn screenshot(c: &Client, name: &str) {
    c.execute(
        "window.scrollTo(0, 0); document.activeElement?.blur();",
        vec![],
    )
    .await
    .expect("scrolling up");
    let png = c.screenshot().await.expect("a screenshot");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots");
    std::fs::create_dir_all(dir).expect("the screenshot folder");
    std::fs::write(format!("{dir}/{name}.png"), png).expect("saving the screenshot");
}

/// Saves the element `css` (scrolled into view) to docs/screenshots/{name}.png.
pub async fn screenshot_of(c: &Client, css: &str, name: &str) {
    c.execute(
        "document.activeElement?.blur(); document.querySelector(arguments[0]).scrollIntoView();",
        vec![json!(css)],
    )
    .await
    .expect("scrolling to the element");
    let png = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .screenshot()
        .await
        .expect("a screenshot");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screenshots");
    std::fs::create_dir_all(dir).expect("the screenshot folder");
    std::fs::write(format!("{dir}/{name}.png"), png).expect("saving the screenshot");
}

/// The operator page in a new browser, the admin key given and `event` (named
/// "Hamilton") picked.
pub async fn operator_on(driver: &Driver, server: &Server, event: i64) -> Client {
    let operator = driver.browser().await;
    operator
        .goto(&format!("{}/operator", server.http()))
        .await
        .unwrap();
    type_into(&operator, "#admin-key", ADMIN_KEY).await;
    click(&operator, "#key-apply").await;
    wait_for(&operator, "#event-select", None, "filled", |v| {
        v.contains("Hamilton")
    })
    .await;
    operator
        .find(Locator::Css("#event-select"))
        .await
        .unwrap()
        .select_by_value(&event.to_string())
        .await
        .unwrap();
    operator
}

/// Waits until the date picker shows performance `index` as the one on screen.
pub async fn wait_date_shown(c: &Client, index: u32) {
    let css = format!("[data-performance=\"{index}\"]");
    wait_for(c, &css, Some("aria-pressed"), "pressed", |v| v == "true").await;
}

/// A buyer outside the browser: joins the line over a socket, waits for the entry token,
/// opens the seat map with it and holds `seats`. The returned socket keeps the session.
pub async fn socket_buyer_holds(
    server: &Server,
    event: i64,
    seats: &[u32],
) -> usher_testkit::Client {
    let mut queue = server.connect(event).await;
    queue.join().await;
    let token = queue.recv_type("admitted").await["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let url = server.seats_url(event);
    let mut seat_socket = usher_testkit::Client::connect(&url).await;
    seat_socket
        .send(json!({ "type": "auth", "token": token }))
        .await;
    seat_socket.recv_type("snapshot").await;
    seat_socket
        .send(json!({ "type": "hold", "seats": seats }))
        .await;
    seat_socket.recv_type("held").await;
    seat_socket
}

/// What has the focus: `seat:{id}` for a seat of the map, else the element's id (or its
/// tag name when it has none).
pub async fn focused_id(c: &Client) -> String {
    let v = c
        .execute(
            "const e = document.activeElement; if (!e) return 'none'; \
             if (e.dataset && e.dataset.seat !== undefined) return 'seat:' + e.dataset.seat; \
             return e.id || e.tagName.toLowerCase();",
            vec![],
        )
        .await
        .expect("reading the focus");
    v.as_str().unwrap_or("none").to_owned()
}

/// Presses `key` on whatever has the focus.
pub async fn press(c: &Client, key: Key) {
    let focused = c.active_element().await.expect("a focused element");
    focused.send_keys(&key).await.expect("a key press");
}

/// A buyer's browser on the seat map of `event`, let in through the waiting room.
pub async fn buyer_on_seats(driver: &Driver, server: &Server, event: i64) -> Client {
    let c = driver.browser().await;
    c.goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_path(&c, &format!("/events/{event}/seats")).await;
    wait_seat(&c, 0, "free").await;
    c
}
