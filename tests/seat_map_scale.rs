//! A real venue's seat map: 100,000 seats open over the socket (states 2 bits a seat) and
//! the layout over HTTP (ETag, 304, gzip); many viewers at once, and one that never reads,
//! on every engine.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use usher_testkit::{SeatView, World, engines, expand_layout};

/// 100,000 seats: a floor, four grandstands and a balcony of odd rows (even numbers).
fn stadium() -> Value {
    let stand = |name: &str| {
        json!({ "name": name, "grade": "R", "rows": 400, "seats_per_row": 60,
                "grade_rules": [{ "rows": "301-400", "grade": "S" }] })
    };
    let balcony_rows: Vec<Value> = (1..=30)
        .map(|r| json!({ "row": format!("BL{r}"), "seats": (1..=100).map(|n| n * 2).collect::<Vec<u32>>() }))
        .collect();
    json!({
        "prices": { "VIP": 165000, "R": 143000, "S": 121000, "A": 99000 },
        "sections": [
            { "name": "Floor", "grade": "VIP", "rows": 20, "seats_per_row": 50 },
            stand("North"), stand("East"), stand("South"), stand("West"),
            { "name": "Balcony", "grade": "A", "row_list": balcony_rows }
        ]
    })
}

async fn stadium_event(server: &usher_testkit::Server) -> i64 {
    server
        .create_event(json!({
            "admission_rate": 100000.0,
            "max_active": 100000,
            "session_secs": 3600,
            "seat_map": stadium(),
        }))
        .await
}

/// GET with extra headers; returns the response (the body unread).
async fn get(url: &str, headers: &[(&str, &[u8])]) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    for (k, v) in headers {
        let value = reqwest::header::HeaderValue::from_bytes(v).expect("a header value");
        req = req.header(*k, value);
    }
    req.send().await.expect("the server answers")
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII").to_owned())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(bytes), &mut out)
        .expect("valid gzip");
    out
}

#[tokio::test]
async fn a_hundred_thousand_seat_map_opens_with_its_states_and_layout() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = stadium_event(&server).await;
        let tokens = server.admitted_tokens(event, 3).await;

        // One buyer books the first and the last seat, another holds one in the middle.
        let (mut booker, _) = server.seats(event, &tokens[0]).await;
        booker
            .send(json!({ "type": "hold", "seats": [0, 99_999] }))
            .await;
        assert_eq!(booker.recv_type("held").await["seats"], json!([0, 99_999]));
        booker.send(json!({ "type": "book" })).await;
        assert_eq!(booker.recv_type("booked").await["total"], 165000 + 99000);
        let (mut holder, _) = server.seats(event, &tokens[1]).await;
        holder
            .send(json!({ "type": "hold", "seats": [54_321] }))
            .await;
        holder.recv_type("held").await;

        let (_viewer, snap) = server.seats(event, &tokens[2]).await;
        assert_eq!(snap["seat_count"], 100_000, "{engine:?}");
        let view = SeatView::from_snapshot(&snap);
        assert_eq!(view.0.len(), 100_000);
        assert_eq!(view.with("sold"), vec![0, 99_999], "{engine:?}");
        assert_eq!(view.with("held"), vec![54_321], "{engine:?}");
        assert_eq!(snap["mine"], json!([]));
        assert!(
            snap.to_string().len() < 40_000,
            "a snapshot is bounded by the seat count"
        );

        // The layout, from the URL the snapshot names, with the ETag it names.
        let url = format!("{}{}", server.http(), snap["layout_url"].as_str().unwrap());
        let res = get(&url, &[]).await;
        assert_eq!(res.status(), 200, "{engine:?}");
        assert_eq!(
            header(&res, "etag").as_deref(),
            snap["layout_etag"].as_str()
        );
        let layout: Value = res.json().await.unwrap();
        assert_eq!(layout["event"], event);
        assert_eq!(layout["prices"]["VIP"], 165000);
        let seats = expand_layout(&layout);
        assert_eq!(seats.len(), 100_000, "{engine:?}");
        let place = |id: usize| {
            let s = &seats[id];
            (
                s.section.as_str(),
                s.row.as_str(),
                s.number,
                s.grade.as_str(),
            )
        };
        assert_eq!(place(0), ("Floor", "1", 1, "VIP"));
        assert_eq!(place(999), ("Floor", "20", 50, "VIP"));
        assert_eq!(place(1000), ("North", "1", 1, "R"));
        // East starts at 25,000; its row 301 (grade S) at 25,000 + 300 * 60.
        assert_eq!(place(43_000), ("East", "301", 1, "S"));
        assert_eq!(place(54_321), ("South", "89", 42, "R"));
        assert_eq!(place(97_000), ("Balcony", "BL1", 2, "A"));
        assert_eq!(place(99_999), ("Balcony", "BL30", 200, "A"));
        server.stop().await;
    }
}

#[tokio::test]
async fn the_layout_is_cacheable_compressed_and_refuses_unknown_events() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = server
            .create_event(json!({ "seat_map": usher_testkit::seat_map(3, 4) }))
            .await;
        let no_map = server.create_event(json!({})).await;
        let url = format!("{}/api/events/{event}/seats/layout", server.http());

        let res = get(&url, &[]).await;
        assert_eq!(res.status(), 200);
        let etag = header(&res, "etag").expect("an ETag");
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong");
        let cache = header(&res, "cache-control").unwrap();
        assert!(cache.contains("max-age=") && cache.contains("public"));
        assert_eq!(header(&res, "content-encoding"), None);
        let raw = res.bytes().await.unwrap();
        let layout: Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(expand_layout(&layout).len(), 12);

        // A cached copy is confirmed with 304 and no body, however the ETag is listed.
        let weak = format!("W/{etag}");
        let listed = format!("\"nope\", {etag}");
        for inm in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
            let res = get(&url, &[("if-none-match", inm.as_bytes())]).await;
            assert_eq!(res.status(), 304, "{engine:?}: If-None-Match {inm}");
            assert_eq!(header(&res, "etag").as_deref(), Some(etag.as_str()));
            assert!(res.bytes().await.unwrap().is_empty());
        }
        // Anything else, malformed included, gets the whole layout, unchanged.
        let long = "\"x\",".repeat(1000);
        let odd: [&[u8]; 6] = [
            b"\"stale\"",
            b"garbage",
            b"\"",
            b",,,",
            &[0xff, 0xfe, b'"'],
            long.as_bytes(),
        ];
        for inm in odd {
            let res = get(&url, &[("if-none-match", inm)]).await;
            assert_eq!(res.status(), 200, "{engine:?}: If-None-Match {inm:?}");
            assert_eq!(res.bytes().await.unwrap(), raw);
        }

        // gzip when asked for, and the same bytes inside; not when refused with q=0.
        let res = get(&url, &[("accept-encoding", b"gzip, deflate, br")]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "content-encoding").as_deref(), Some("gzip"));
        assert_eq!(header(&res, "etag").as_deref(), Some(etag.as_str()));
        assert_eq!(gunzip(&res.bytes().await.unwrap()), raw);
        let res = get(&url, &[("accept-encoding", b"gzip;q=0, identity")]).await;
        assert_eq!(header(&res, "content-encoding"), None);
        assert_eq!(res.bytes().await.unwrap(), raw);

        // Unknown events, events without a map, and ids that are not ids: the API's 404.
        for path in [
            format!("/api/events/{}/seats/layout", event + 1000),
            format!("/api/events/{no_map}/seats/layout"),
            "/api/events/nope/seats/layout".to_owned(),
        ] {
            let res = get(&format!("{}{path}", server.http()), &[]).await;
            assert_eq!(res.status(), 404, "{engine:?}: {path}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"], "not_found", "{body}");
            assert!(body["message"].is_string());
        }
        server.stop().await;
    }
}

/// A seat socket whose client never reads: a tiny receive buffer, nothing read after
/// the auth is sent.
async fn stuck_viewer(
    server: &usher_testkit::Server,
    event: i64,
    token: &str,
) -> usher_testkit::Client {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(server.addr).await.unwrap();
    let url = server.seats_url(event);
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let mut c = usher_testkit::Client { ws };
    c.send(json!({ "type": "auth", "token": token })).await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_viewers_at_once_and_one_that_never_reads_do_not_harm_the_others() {
    for engine in engines() {
        let world = World::new(engine).await;
        let server = world.start().await;
        let event = stadium_event(&server).await;
        let viewers = 20;
        let tokens = server.admitted_tokens(event, viewers + 1).await;

        // Every viewer opens the 100,000-seat map at the same moment.
        let opened: Vec<_> = tokens[..viewers]
            .iter()
            .map(|t| {
                let (addr, t) = (server.addr, t.clone());
                tokio::spawn(async move {
                    let url = format!("ws://{addr}/ws/events/{event}/seats");
                    let mut c = usher_testkit::Client::connect(&url).await;
                    c.send(json!({ "type": "auth", "token": t })).await;
                    let snap = c.recv_type("snapshot").await;
                    (c, SeatView::from_snapshot(&snap))
                })
            })
            .collect();
        let mut readers = Vec::new();
        for o in opened {
            let (c, view) = o.await.unwrap();
            assert_eq!(view.0.len(), 100_000, "{engine:?}");
            readers.push((c, view));
        }
        // Two of them stay and keep reading; the others leave.
        readers.truncate(2);
        let open = |s: &usher_testkit::Server| s.state.metrics.seat_sockets.load(Ordering::Relaxed);
        let stuck = stuck_viewer(&server, event, &tokens[viewers]).await;
        let deadline = tokio::time::Instant::now() + usher_testkit::WAIT;
        while open(&server) != 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "two readers and the stuck one"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut watching = Vec::new();
        for (mut c, mut view) in readers {
            let mut stop = stop_rx.clone();
            watching.push(tokio::spawn(async move {
                loop {
                    tokio::select! {
                        m = c.ws.next() => match m {
                            Some(Ok(Message::Text(t))) => view.apply(&serde_json::from_str(&t).unwrap()),
                            Some(Ok(_)) => {}
                            other => panic!("a reading viewer lost its socket: {other:?}"),
                        },
                        _ = stop.changed() => return (c, view),
                    }
                }
            }));
        }
        // Four buyers hold and release seats, thousands of changes a second.
        let mut churn = Vec::new();
        for t in 0..4u32 {
            let state = server.state.clone();
            let mut stop = stop_rx.clone();
            churn.push(tokio::spawn(async move {
                let buyer = usher::identity::BuyerId::random();
                let mut i: u32 = 0;
                while !*stop.borrow_and_update() {
                    let base = (t * 25_000 + (i * 4) % 25_000) % 100_000;
                    let seats: Vec<u32> = (base..base + 4).collect();
                    let now = state.clock.now_ms();
                    let held = state
                        .seats
                        .hold(event, buyer, &seats, now, 600_000, 4)
                        .await;
                    assert!(matches!(held, Ok(Ok(_))), "{held:?}");
                    let released = state.seats.release(event, buyer, &seats).await;
                    assert!(matches!(released, Ok(Ok(()))), "{released:?}");
                    i = i.wrapping_add(1);
                    // Paced (a few thousand changes a second in all): faster than this,
                    // a debug build's engine bus itself falls behind.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }));
        }

        // The stuck viewer's socket is dropped by the server (its sends time out), while
        // the readers go on. A hang guard only: the send timeout is 10 seconds.
        let started = std::time::Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while open(&server) > 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{engine:?}: the viewer that never reads was never dropped"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stop_tx.send(true).unwrap();
        for c in churn {
            c.await.unwrap();
        }
        eprintln!(
            "{engine:?}: the stuck viewer was dropped after {:?}",
            started.elapsed()
        );

        // Every reader, and a fresh snapshot, agree with the engine.
        let states = server.state.seats.seat_states(event).await.unwrap();
        let held: Vec<u64> = states.held.iter().map(|(s, _, _)| u64::from(*s)).collect();
        assert!(held.is_empty(), "every hold was released");
        let mut kept = Vec::new();
        for w in watching {
            let (mut c, mut view) = w.await.unwrap();
            c.watch_until(&mut view, |v| {
                v.with("held").is_empty() && v.0.len() == 100_000
            })
            .await;
            kept.push(c);
        }
        assert_eq!(open(&server), 2, "{engine:?}: the readers are still open");
        // The stuck client finds its socket ended once it reads its backlog.
        let mut stuck = stuck;
        let ended = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match stuck.ws.next().await {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(ended.is_ok(), "{engine:?}: the stuck socket ends");
        server.stop().await;
    }
}

/// `GET /api/events/{id}` is public and carries seat counts, which are read from every
/// held and sold seat: a stranger looping on it must not make Redis send the whole map
/// each time. 300 requests, 30 at a time, cost at most one full read per second of the
/// run (plus the one a snapshot-free start makes), not one each.
#[tokio::test]
async fn a_client_looping_on_the_public_event_view_costs_redis_one_read_a_second() {
    let Some(own) = usher_testkit::RedisServer::try_start().await else {
        eprintln!("no redis-server here: skipping");
        return;
    };
    let world = World::new(usher_testkit::Engine::Redis).await;
    let url = own.url();
    let server = world.start_with(move |s| s.redis_url = url).await;
    let event = server
        .create_event(json!({ "admission_rate": 1000.0, "seat_map": stadium() }))
        .await;
    let tokens = server.admitted_tokens(event, 1).await;
    let (mut c, _) = server.seats_of(event, 0, &tokens[0]).await;
    let held = c.ask(json!({ "type": "hold", "seats": [7, 8] })).await;
    assert_eq!(held["type"], "held", "{held}");

    let page = format!("{}/api/events/{event}", server.http());
    // The public counts may lag a second behind the hold.
    usher_testkit::eventually("the hold in the public counts", || async {
        let v: Value = reqwest::get(&page).await.unwrap().json().await.unwrap();
        if v["seats"]["held"] == 2 {
            Ok(())
        } else {
            Err(v["seats"].to_string())
        }
    })
    .await;

    let client = redis::Client::open(own.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let reads = |info: String| -> u64 {
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_hgetall:calls="))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let before: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let http = reqwest::Client::new();
    let answers: Vec<Value> = futures_util::stream::iter(0..300)
        .map(|_| {
            let (http, page) = (http.clone(), page.clone());
            async move {
                let res = http.get(&page).send().await.unwrap();
                assert_eq!(res.status().as_u16(), 200);
                res.json::<Value>().await.unwrap()
            }
        })
        .buffer_unordered(30)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();
    let after: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut conn)
        .await
        .unwrap();
    // Every answer has the counts (the two seats held), however they were read.
    assert!(
        answers.iter().all(|v| v["seats"]["held"] == 2),
        "{:?}",
        answers.first()
    );
    let full_reads = reads(after) - reads(before);
    assert!(
        full_reads as f64 <= secs.ceil() + 2.0,
        "{full_reads} full reads of the seat states for 300 requests in {secs:.1} s"
    );
    server.stop().await;
}
