//! The event list and the waiting room in the buyer's language, in a real browser: Korean
//! for a Korean browser, English for an English one, switchable in the header without
//! leaving the line, remembered across a reload; the connection banner in Korean; a socket
//! that stays open but goes silent; and the message files alike in both languages.
//!
//! Without `/usr/bin/chromedriver` and `/usr/bin/chromium`, every test prints a note and
//! passes without running.

mod browserkit;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use browserkit::*;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use usher_testkit::proxy::Proxy;
use usher_testkit::{Server, WAIT};

// ---- helpers ------------------------------------------------------------------------------

/// An event like the ones Korean buyers queue for: one buyer every 100 s, so that nobody
/// in line is let in while a test runs (the first buyer takes the bucket's starting token).
async fn hamilton(server: &Server) -> i64 {
    server
        .create_event(json!({
            "name": "Hamilton", "kind": "musical", "venue": "Blue Square",
            "admission_rate": 0.01, "seat_map": seat_map(),
        }))
        .await
}

/// `n` buyers over sockets, in line (kept open by the returned clients).
async fn socket_buyers(server: &Server, event: i64, n: usize) -> Vec<usher_testkit::Client> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut c = server.connect(event).await;
        c.join().await;
        out.push(c);
    }
    out
}

/// Texts of the page that look like a message key (`t()` shows a missing key as itself):
/// text nodes, labels and the tab title.
async fn untranslated_keys(c: &Client) -> Vec<String> {
    let script = r#"
        const re = /^[a-z]+\.[a-z_.]+$/;
        const out = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
          const v = walk.currentNode.nodeValue.trim();
          if (re.test(v)) out.push(v);
        }
        for (const el of document.querySelectorAll("*")) {
          for (const a of ["aria-label", "title", "placeholder", "alt"]) {
            const v = el.getAttribute(a);
            if (v && re.test(v.trim())) out.push(`${a}=${v}`);
          }
        }
        if (re.test(document.title)) out.push(`title=${document.title}`);
        return out;"#;
    let v = c.execute(script, vec![]).await.expect("reading the page");
    serde_json::from_value(v).expect("a list")
}

/// English words (three letters or more) in the page's visible text, other than `allowed`
/// (names of the event, the product, the language's own name): none is expected on a
/// page shown in Korean.
async fn english_words(c: &Client, allowed: &[&str]) -> Vec<String> {
    let script = r#"
        const out = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
          const node = walk.currentNode;
          const el = node.parentElement;
          if (!el || !el.checkVisibility({ visibilityProperty: true })) continue;
          // The language's own name, and a screen reader's live region (said once when
          // it changed, not redone on a switch).
          if (el.closest("option, #announce")) continue;
          for (const w of node.nodeValue.match(/[A-Za-z]{3,}/g) ?? []) {
            if (!arguments[0].includes(w)) out.push(w);
          }
        }
        return out;"#;
    let v = c
        .execute(script, vec![json!(allowed)])
        .await
        .expect("reading the page");
    serde_json::from_value(v).expect("a list")
}

/// What the page says in Korean may name these in English.
const KO_ALLOWED: &[&str] = &["usher", "Hamilton", "Blue", "Square", "English"];

async fn assert_translated(c: &Client, korean: bool) {
    let keys = untranslated_keys(c).await;
    assert!(keys.is_empty(), "untranslated keys on the page: {keys:?}");
    if korean {
        let words = english_words(c, KO_ALLOWED).await;
        assert!(words.is_empty(), "English on a Korean page: {words:?}");
    }
}

/// Waits until the browser's tab title satisfies `ok`.
async fn wait_title(c: &Client, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = c.title().await.ok();
        if let Some(t) = got.as_deref().filter(|t| ok(t)) {
            return t.to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected the title to be {what}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `script` in the page and returns its answer as text.
async fn js(c: &Client, script: &str) -> String {
    let v = c.execute(script, vec![]).await.expect("a script");
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Picks `lang` in the header's language switcher, as a buyer does.
async fn switch_to(c: &Client, lang: &str) {
    c.find(Locator::Css("#lang"))
        .await
        .expect("the language switcher")
        .select_by_value(lang)
        .await
        .expect("picking a language");
}

/// One of the server's Prometheus figures (summed over its lines).
async fn metric(server: &Server, name: &str) -> u64 {
    let body = reqwest::get(format!("{}/metrics", server.http()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    body.lines()
        .filter_map(|l| l.strip_prefix(name))
        .filter_map(|rest| rest.rsplit(' ').next())
        .filter_map(|v| v.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Joins the server has answered so far: one per socket a page opened and joined on.
async fn joins(server: &Server) -> u64 {
    metric(server, "usher_join_seconds_count").await
}

/// Buyers waiting in the event's line, as the operator's API counts them.
async fn waiting(server: &Server, event: i64) -> u64 {
    let (status, view) = server
        .admin("GET", &format!("/api/admin/events/{event}"), None)
        .await;
    assert_eq!(status, 200, "{view}");
    view["room"]["waiting"].as_u64().expect("a waiting count")
}

/// Waits until the server has answered `n` joins.
async fn wait_joins(server: &Server, n: u64) {
    usher_testkit::eventually(&format!("{n} joins"), || async {
        match joins(server).await {
            got if got == n => Ok(()),
            got => Err(format!("{got} joins")),
        }
    })
    .await;
}

/// An event whose sale opens in an hour: who joins waits in the pre-queue.
async fn opening_later(server: &Server) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    server
        .create_event(json!({
            "name": "Hamilton", "kind": "musical", "venue": "Blue Square",
            "sale_opens_at_ms": now + 3_600_000, "seat_map": seat_map(),
        }))
        .await
}

fn suffix(screen: Screen) -> &'static str {
    match screen {
        Screen::Desktop => "",
        Screen::Phone => "-phone",
    }
}

/// A TCP proxy that can freeze the connections it carries: bytes stop flowing both ways
/// while both TCP connections stay open, as on a link that went silent without closing.
/// Connections made after a freeze flow normally.
struct FreezingProxy {
    addr: SocketAddr,
    flags: Arc<Mutex<Vec<Arc<AtomicBool>>>>,
}

impl FreezingProxy {
    async fn start(upstream: SocketAddr) -> FreezingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let flags: Arc<Mutex<Vec<Arc<AtomicBool>>>> = Arc::default();
        let all = flags.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let frozen = Arc::new(AtomicBool::new(false));
                all.lock().unwrap().push(frozen.clone());
                tokio::spawn(carry(client, upstream, frozen));
            }
        });
        FreezingProxy { addr, flags }
    }

    /// Every connection open now stops carrying bytes (and stays open).
    fn freeze(&self) {
        for f in self.flags.lock().unwrap().iter() {
            f.store(true, Ordering::SeqCst);
        }
    }
}

async fn carry(client: TcpStream, upstream: SocketAddr, frozen: Arc<AtomicBool>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::select! {
        _ = pipe(cr, sw, frozen.clone()) => {}
        _ = pipe(sr, cw, frozen) => {}
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if frozen.load(Ordering::SeqCst) {
            // Held, never delivered; the connection stays open until the test ends.
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

// ---- a Korean browser ---------------------------------------------------------------------

/// A Korean browser sees the event list and the waiting room in Korean, with its figures,
/// the wait as a range and an entry time, and the tab title; a stored language that is
/// garbage falls back to Korean; and when the connection drops the banner says so in
/// Korean, and "Reconnect now" brings the same place back.
async fn a_korean_browser_queues_in_korean(screen: Screen) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = hamilton(&server).await;
    let mut first = server.connect(event).await;
    first.join().await;
    first.recv_type("admitted").await;
    let _ahead = socket_buyers(&server, event, 1).await;
    let proxy = Proxy::start(&server.addr.to_string()).await;
    let base = format!("http://{}", proxy.addr);
    let s = suffix(screen);

    let buyer = driver.browser_in(screen, "ko-KR").await;
    buyer.goto(&format!("{base}/")).await.unwrap();
    wait_for(&buyer, "#events", None, "the event", |v| {
        v.contains("Hamilton")
    })
    .await;
    wait_text(&buyer, "h1", "공연 목록").await;
    wait_text(&buyer, ".event-card .badge", "예매 중").await;
    wait_text(&buyer, ".event-card .kind", "뮤지컬").await;
    assert_eq!(
        js(&buyer, "return document.documentElement.lang").await,
        "ko"
    );
    wait_value(&buyer, "#lang", "ko").await;
    wait_title(&buyer, "Korean", |t| t == "예매 중인 공연 — usher").await;
    assert_translated(&buyer, true).await;
    screenshot(&buyer, &format!("index-ko{s}")).await;

    // Hostile: a stored language that is garbage is ignored for the browser's own.
    js(
        &buyer,
        "localStorage.setItem('usher.lang', 'xx<script>'); return 'ok'",
    )
    .await;
    buyer.refresh().await.unwrap();
    wait_for(&buyer, "#events", None, "the event", |v| {
        v.contains("Hamilton")
    })
    .await;
    wait_text(&buyer, "h1", "공연 목록").await;
    wait_value(&buyer, "#lang", "ko").await;
    assert_eq!(
        js(&buyer, "return document.documentElement.lang").await,
        "ko"
    );

    // The waiting room, in line behind one other buyer.
    click(&buyer, ".event-card").await;
    wait_text(&buyer, "#position", "2번째").await;
    wait_text(&buyer, "#ahead", "1명").await;
    wait_text(&buyer, "#behind", "0명").await;
    wait_text(&buyer, "#state", "접속 대기 중입니다").await;
    // The estimate (the line's measured outflow) as "약 3분 20초", a range such as
    // "약 3~4분" and an entry time of day such as "20시 41분경".
    wait_for(&buyer, "#wait", None, "about so long", |v| {
        v.starts_with("약 ") && (v.ends_with("초") || v.ends_with("분"))
    })
    .await;
    let range = wait_for(&buyer, "#wait-range", None, "a range and a time", |v| {
        v.starts_with("약 ") && v.ends_with("분경 입장 예상")
    })
    .await;
    let (span, time) = range.split_once(" · ").expect("a range, then a time");
    assert!(span.contains('~'), "{range}");
    assert!(time.contains("시 "), "a 24-hour time of day: {range}");
    wait_title(&buyer, "the place in Korean", |t| {
        t == "(2번째) Hamilton — 대기열"
    })
    .await;
    wait_text(&buyer, "#event-kind", "뮤지컬").await;
    wait_for(&buyer, "#keep-open", None, "the promise", |v| {
        v.contains("새로고침") && v.contains("대기 순번은 유지됩니다")
    })
    .await;
    wait_text(&buyer, "#reconnect-now", "지금 다시 연결").await;
    wait_text(&buyer, ".notify-me label", "내 차례가 되면 알림 받기").await;
    assert_translated(&buyer, true).await;
    screenshot(&buyer, &format!("waiting-ko{s}")).await;

    // Paused: said in Korean, the place kept.
    server.pause(event).await;
    wait_text(&buyer, "#state", "입장이 잠시 중단되었습니다").await;
    wait_text(&buyer, "#wait", "일시 중단").await;
    wait_text(&buyer, "#position", "2번째").await;

    // The connection drops: the banner and the figures' age, in Korean.
    proxy.down();
    wait_for(&buyer, "#position", Some("class"), "stale", |v| {
        v.contains("stale")
    })
    .await;
    let words = wait_for(
        &buyer,
        "#connection:not([hidden]) #connection-words",
        None,
        "the banner",
        |v| v.starts_with("연결이 끊어졌습니다."),
    )
    .await;
    assert!(
        words.contains("까지 유지됩니다") && words.ends_with("다시 연결하는 중입니다…"),
        "{words}"
    );
    wait_for(&buyer, "#updated-tick", None, "its age", |v| {
        v.ends_with("초 전 업데이트")
    })
    .await;
    wait_for(&buyer, "#retry-in", None, "the next try", |v| {
        v.ends_with("초 후 다시 연결합니다")
    })
    .await;
    wait_title(&buyer, "the place kept", |t| {
        t == "(2번째) Hamilton — 대기열"
    })
    .await;
    assert_translated(&buyer, true).await;
    screenshot(&buyer, &format!("waiting-ko-stale{s}")).await;

    // Back, at once: the same place, live again.
    proxy.up();
    click(&buyer, "#reconnect-now").await;
    wait_for(&buyer, "#connection", Some("hidden"), "hidden", |_| true).await;
    wait_for(&buyer, "#position", Some("class"), "live", |v| {
        !v.contains("stale")
    })
    .await;
    wait_text(&buyer, "#position", "2번째").await;
    assert_eq!(waiting(&server, event).await, 2);

    // The organiser ends the sale: said in Korean, from the close code.
    let (status, _) = server
        .admin("POST", &format!("/api/admin/events/{event}/end"), None)
        .await;
    assert_eq!(status, 200);
    wait_text(&buyer, "#state", "대기를 계속할 수 없습니다").await;
    wait_for(&buyer, "#notice", None, "the sale's end", |v| {
        v.starts_with("예매가 종료되었습니다.")
    })
    .await;
    wait_title(&buyer, "no place", |t| t == "Hamilton — 대기열").await;
    assert_translated(&buyer, true).await;

    // Before the opening: the pre-queue, in Korean.
    let later = opening_later(&server).await;
    buyer.goto(&format!("{base}/events/{later}")).await.unwrap();
    wait_text(&buyer, "#state", "아직 예매가 시작되지 않았습니다").await;
    wait_text(&buyer, "#pre-line", "1명이 예매 시작을 기다리고 있습니다.").await;
    wait_for(&buyer, "#opens-in", None, "a countdown", |v| {
        v.contains(':')
    })
    .await;
    assert_translated(&buyer, true).await;

    buyer.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_korean_browser_shows_the_events_and_the_waiting_room_in_korean() {
    a_korean_browser_queues_in_korean(Screen::Desktop).await;
}

#[tokio::test]
async fn on_a_phone_a_korean_browser_shows_the_events_and_the_waiting_room_in_korean() {
    a_korean_browser_queues_in_korean(Screen::Phone).await;
}

// ---- an English browser -------------------------------------------------------------------

async fn an_english_browser_queues_in_english(screen: Screen) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = hamilton(&server).await;
    let mut first = server.connect(event).await;
    first.join().await;
    first.recv_type("admitted").await;
    let _ahead = socket_buyers(&server, event, 1).await;
    let s = suffix(screen);

    let buyer = driver.browser_on(screen).await;
    buyer.goto(&format!("{}/", server.http())).await.unwrap();
    wait_for(&buyer, "#events", None, "the event", |v| {
        v.contains("Hamilton")
    })
    .await;
    wait_text(&buyer, "h1", "Events").await;
    wait_text(&buyer, ".event-card .badge", "On sale now").await;
    wait_text(&buyer, ".event-card .kind", "Musical").await;
    wait_value(&buyer, "#lang", "en").await;
    assert_eq!(
        js(&buyer, "return document.documentElement.lang").await,
        "en"
    );
    assert_translated(&buyer, false).await;
    screenshot(&buyer, &format!("index-en{s}")).await;

    click(&buyer, ".event-card").await;
    wait_text(&buyer, "#position", "2").await;
    wait_text(&buyer, "#ahead", "1").await;
    wait_text(&buyer, "#state", "You are in line").await;
    wait_for(&buyer, "#wait", None, "about so long", |v| {
        v.starts_with("about ") && (v.ends_with(" s") || v.ends_with(" min"))
    })
    .await;
    let range = wait_for(&buyer, "#wait-range", None, "a range and a time", |v| {
        v.starts_with("about ") && v.contains('–') && v.contains(" · expected around ")
    })
    .await;
    let time = range.rsplit(' ').next().unwrap_or_default();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "a 24-hour time: {range}"
    );
    wait_title(&buyer, "the place", |t| t == "(#2) Hamilton — waiting room").await;
    wait_text(&buyer, ".notify-me label", "Notify me when it's my turn").await;
    assert_translated(&buyer, false).await;
    screenshot(&buyer, &format!("waiting-en{s}")).await;

    // Before the opening: the pre-queue, one person in it.
    let later = opening_later(&server).await;
    buyer
        .goto(&format!("{}/events/{later}", server.http()))
        .await
        .unwrap();
    wait_text(&buyer, "#state", "The sale has not opened yet").await;
    wait_text(&buyer, "#pre-line", "1 person is waiting for the opening.").await;
    assert_translated(&buyer, false).await;

    buyer.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_english_browser_shows_the_events_and_the_waiting_room_in_english() {
    an_english_browser_queues_in_english(Screen::Desktop).await;
}

#[tokio::test]
async fn on_a_phone_an_english_browser_shows_the_events_and_the_waiting_room_in_english() {
    an_english_browser_queues_in_english(Screen::Phone).await;
}

// ---- switching in line ----------------------------------------------------------------------

/// A buyer third in a paused line switches to Korean: the page is redrawn in place, the
/// socket is not reopened (the server counts no new join and the same line), the choice is
/// remembered across a reload, which keeps the place; twenty quick switches leave the page
/// consistent and still in line.
async fn switching_in_line(screen: Screen) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = hamilton(&server).await;
    server.pause(event).await;
    let _ahead = socket_buyers(&server, event, 2).await;
    let s = suffix(screen);

    let buyer = driver.browser_on(screen).await;
    buyer
        .goto(&format!("{}/events/{event}", server.http()))
        .await
        .unwrap();
    wait_text(&buyer, "#position", "3").await;
    wait_text(&buyer, "#wait", "paused").await;
    wait_title(&buyer, "the place", |t| t == "(#3) Hamilton — waiting room").await;
    wait_joins(&server, 3).await;
    assert_eq!(waiting(&server, event).await, 3);

    switch_to(&buyer, "ko").await;
    wait_text(&buyer, "#position", "3번째").await;
    wait_text(&buyer, "#state", "입장이 잠시 중단되었습니다").await;
    wait_text(&buyer, "#wait", "일시 중단").await;
    wait_title(&buyer, "the place in Korean", |t| {
        t == "(3번째) Hamilton — 대기열"
    })
    .await;
    assert_eq!(
        js(&buyer, "return localStorage.getItem('usher.lang')").await,
        "ko"
    );
    // Long enough for the page's next status (one a second) and for a new socket, had the
    // switch opened one, to have joined.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    wait_text(&buyer, "#position", "3번째").await;
    assert_eq!(joins(&server).await, 3, "the switch opened a new socket");
    assert_eq!(waiting(&server, event).await, 3);
    assert_translated(&buyer, true).await;
    screenshot(&buyer, &format!("waiting-switch{s}")).await;

    // A reload: still Korean, still third (one join more: the reload's own socket).
    buyer.refresh().await.unwrap();
    wait_text(&buyer, "#position", "3번째").await;
    wait_value(&buyer, "#lang", "ko").await;
    assert_eq!(
        js(&buyer, "return document.documentElement.lang").await,
        "ko"
    );
    wait_joins(&server, 4).await;
    assert_eq!(waiting(&server, event).await, 3);

    // Hostile: twenty switches in a row, as fast as a script can make them, ending on
    // Korean.
    js(
        &buyer,
        "const sel = document.querySelector('#lang'); \
         for (let i = 0; i < 20; i++) { \
           sel.value = i % 2 === 0 ? 'en' : 'ko'; \
           sel.dispatchEvent(new Event('change')); \
         } return sel.value;",
    )
    .await;
    wait_value(&buyer, "#lang", "ko").await;
    wait_text(&buyer, "#position", "3번째").await;
    wait_text(&buyer, "#ahead", "2명").await;
    wait_text(&buyer, "#state", "입장이 잠시 중단되었습니다").await;
    wait_text(&buyer, "#wait", "일시 중단").await;
    wait_title(&buyer, "Korean", |t| t == "(3번째) Hamilton — 대기열").await;
    assert_eq!(
        js(&buyer, "return document.documentElement.lang").await,
        "ko"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(joins(&server).await, 4, "the switches opened a new socket");
    assert_eq!(waiting(&server, event).await, 3);
    assert_translated(&buyer, true).await;

    // And back to English, as the tests of tests/browser.rs read it.
    switch_to(&buyer, "en").await;
    wait_text(&buyer, "#position", "3").await;
    wait_text(&buyer, "#wait", "paused").await;
    wait_text(&buyer, "#state", "Admission is paused").await;
    wait_title(&buyer, "English", |t| t == "(#3) Hamilton — waiting room").await;
    assert_translated(&buyer, false).await;

    buyer.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn switching_language_in_line_keeps_the_place_and_the_socket() {
    switching_in_line(Screen::Desktop).await;
}

#[tokio::test]
async fn on_a_phone_switching_language_in_line_keeps_the_place_and_the_socket() {
    switching_in_line(Screen::Phone).await;
}

// ---- a silent socket ----------------------------------------------------------------------

/// The socket stays open but nothing comes through any more: the page greys its figures
/// and says so (within queue.js's STALE_MS, long before its 10 s watchdog gives up the
/// socket), and "Reconnect now" gets the same place back on a new connection.
async fn a_silent_socket(screen: Screen, lang: &str) {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = server().await;
    let event = hamilton(&server).await;
    server.pause(event).await;
    let _ahead = socket_buyers(&server, event, 1).await;
    let proxy = FreezingProxy::start(server.addr).await;
    let korean = lang.starts_with("ko");
    let (place, silent, check) = if korean {
        (
            "2번째",
            "대기열 서버가 몇 초째 응답하지 않아 아래 정보가 최신이 아닐 수 있습니다.",
            "연결을 확인하는 중입니다…",
        )
    } else {
        (
            "2",
            "The waiting room has not answered for a few seconds, so the figures below may be out of date.",
            "Checking the connection…",
        )
    };

    let buyer = driver.browser_in(screen, lang).await;
    buyer
        .goto(&format!("http://{}/events/{event}", proxy.addr))
        .await
        .unwrap();
    wait_text(&buyer, "#position", place).await;
    wait_joins(&server, 2).await;

    proxy.freeze();
    for figure in ["#position", "#ahead", "#wait"] {
        wait_for(&buyer, figure, Some("class"), "stale", |v| {
            v.contains("stale")
        })
        .await;
    }
    let words = wait_for(
        &buyer,
        "#connection:not([hidden]) #connection-words",
        None,
        "the silence said",
        |v| v.starts_with(silent),
    )
    .await;
    assert!(words.ends_with(check), "{words}");
    wait_for(
        &buyer,
        "#updated:not([hidden]) #updated-tick",
        None,
        "its age",
        |v| !v.is_empty(),
    )
    .await;
    // The server still counts the buyer in line: the connection never closed.
    assert_eq!(waiting(&server, event).await, 2);
    assert_translated(&buyer, korean).await;
    screenshot(&buyer, &format!("waiting-silent{}", suffix(screen))).await;

    click(&buyer, "#reconnect-now").await;
    wait_for(&buyer, "#connection", Some("hidden"), "hidden", |_| true).await;
    wait_for(&buyer, "#position", Some("class"), "live", |v| {
        !v.contains("stale")
    })
    .await;
    wait_text(&buyer, "#position", place).await;
    assert!(joins(&server).await >= 3, "a new socket joined");
    assert_eq!(waiting(&server, event).await, 2);
    wait_for(&buyer, "#notice", None, "no lost place", |v| v.is_empty()).await;

    buyer.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_socket_open_but_silent_greys_the_figures_and_reconnect_now_keeps_the_place() {
    a_silent_socket(Screen::Desktop, "en-GB").await;
}

#[tokio::test]
async fn on_a_phone_a_silent_socket_is_said_in_korean_and_reconnect_now_keeps_the_place() {
    a_silent_socket(Screen::Phone, "ko-KR").await;
}

// ---- the message files ----------------------------------------------------------------------

/// Every page's message files (static/js/msg/{page}.{en,ko}.js) have the same keys with
/// the same {placeholders}, read as the browser reads them (a dynamic import).
#[tokio::test]
async fn every_message_has_the_same_keys_and_placeholders_in_both_languages() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static/js/msg");
    let mut pages: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".en.js").map(str::to_owned)
        })
        .collect();
    pages.sort();
    for page in ["common", "index", "queue"] {
        assert!(pages.iter().any(|p| p == page), "no msg/{page}.en.js");
    }
    let server = server().await;
    let c = driver.browser().await;
    c.goto(&format!("{}/", server.http())).await.unwrap();
    // A counted text may come as a family ("key.one", "key.other") in a language with
    // plural forms and as one "key" in another (Korean): compared as families, with the
    // {placeholders} of all their forms together.
    let script = r#"
        const [pages, done] = arguments;
        const holes = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const families = (book) => {
          const out = new Map();
          for (const [key, text] of Object.entries(book)) {
            const family = key.replace(/\.(zero|one|two|few|many|other)$/, "");
            if (!out.has(family)) out.set(family, new Set());
            for (const h of holes(text)) out.get(family).add(h);
          }
          return out;
        };
        const list = (set) => [...set].sort().join(",");
        const problems = [];
        (async () => {
          for (const page of pages) {
            const en = (await import(`/static/js/msg/${page}.en.js`)).default;
            const ko = (await import(`/static/js/msg/${page}.ko.js`)).default;
            const fen = families(en);
            const fko = families(ko);
            for (const [a, b, la, lb] of [[fen, fko, "en", "ko"], [fko, fen, "ko", "en"]]) {
              for (const [family, set] of a) {
                if (!b.has(family)) problems.push(`${page}: ${family} is in ${la}, not in ${lb}`);
                else if (list(set) !== list(b.get(family))) problems.push(`${page}: ${family} has {${list(set)}} in ${la}, {${list(b.get(family))}} in ${lb}`);
                if (!family.startsWith(`${page}.`)) problems.push(`${page}: ${family} is not under "${page}."`);
              }
            }
            for (const [book, la] of [[en, "en"], [ko, "ko"]]) {
              for (const [key, text] of Object.entries(book)) {
                // A piece of a sentence around markup ("…_before", "…_after") may be empty
                // in a language whose word order puts nothing there.
                const piece = /_(before|after)$/.test(key);
                if (typeof text !== "string" || (text.trim() === "" && !piece)) problems.push(`${page}: ${key} is empty in ${la}`);
              }
            }
          }
          done(problems);
        })().catch((e) => done([String(e)]));"#;
    let v = c
        .execute_async(script, vec![json!(pages)])
        .await
        .expect("importing the message files");
    let problems: Vec<String> = serde_json::from_value(v).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    c.close().await.unwrap();
    server.stop().await;
}
