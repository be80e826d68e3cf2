//! Measurements for BENCHMARKS.md ("Seat map at venue scale"), not a test: sizes and times
//! of the seat snapshot (the old one-object-per-seat format, computed, and the compact
//! one) and of the layout, for 1,000 / 20,000 / 100,000 seats. Run:
//!
//! `cargo test --release --test seat_map_bench -- --ignored --nocapture`

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use usher::db::seats::SeatMap;
use usher::seats::compact::{CompactLayout, PublishedLayout};
use usher_protocol::SeatServerMessage;
use usher_testkit::{Engine, World};

/// `sections` grandstands of `rows` x `per_row` seats.
fn venue(sections: u32, rows: u32, per_row: u32) -> Value {
    let list: Vec<Value> = (0..sections)
        .map(|i| {
            json!({ "name": format!("Stand {i}"), "grade": "R", "rows": rows,
                    "seats_per_row": per_row, "grade_rules": [{ "rows": "1-5", "grade": "VIP" }] })
        })
        .collect();
    json!({ "prices": { "VIP": 165000, "R": 143000 }, "sections": list })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// The snapshot as it was before: every seat as an object, and held / sold id lists.
fn old_snapshot(map: &SeatMap, sold: &[u32]) -> String {
    json!({
        "type": "snapshot", "event": 1, "seats": map.seats, "prices": map.prices,
        "held": [], "sold": sold, "mine": [], "hold_expires_at_ms": null,
        "session_expires_at_ms": 1795267364000i64, "max_seats": 4, "hold_secs": 300,
        "server_time_ms": 1795266765253i64,
    })
    .to_string()
}

fn new_snapshot(map: &SeatMap, layout: &PublishedLayout, sold: &[u32]) -> String {
    let msg = SeatServerMessage::Snapshot {
        event: 1,
        performance: 0,
        layout_url: format!("/api/events/1/seats/layout?v={}", layout.version()),
        layout_etag: layout.etag.clone(),
        seat_count: map.seats.len() as u32,
        states: usher_protocol::states::encode(map.seats.len(), [], sold.iter().copied()),
        mine: vec![],
        hold_expires_at_ms: None,
        session_expires_at_ms: 1795267364000,
        max_seats: 4,
        bought: 0,
        hold_secs: 300,
        server_time_ms: 1795266765253,
    };
    serde_json::to_string(&msg).unwrap()
}

fn timed(runs: usize, mut f: impl FnMut() -> usize) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = std::hint::black_box(f());
        times.push(t.elapsed());
    }
    (size, median(times))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn measure_seat_map_sizes_and_times() {
    let world = World::new(Engine::Memory).await;
    let server = world.start().await;
    println!(
        "| seats | old snapshot, none sold / all sold | old build+serialize | new snapshot, any states | new build+serialize | first snapshot (loopback: connect, auth, snapshot received) | layout JSON | layout gzip | layout build+gzip (once) | layout GET gzip (loopback) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (n, spec) in [
        (1_000, venue(1, 20, 50)),
        (20_000, venue(4, 100, 50)),
        (100_000, venue(5, 400, 50)),
    ] {
        let event = server
            .create_event(json!({ "admission_rate": 100000.0, "max_active": 100000,
                                  "session_secs": 3600, "seat_map": spec }))
            .await;
        let map = server.state.seat_map(event).await.unwrap();
        assert_eq!(map.seats.len(), n);
        let all: Vec<u32> = (0..n as u32).collect();

        let old_none = old_snapshot(&map, &[]).len();
        let (old_all, old_time) = timed(11, || old_snapshot(&map, &all).len());
        let (layout_time, layout) = {
            let t = Instant::now();
            let l = PublishedLayout::new(&CompactLayout::build(event, &map)).unwrap();
            (t.elapsed(), l)
        };
        let (new_size, new_time) = timed(11, || new_snapshot(&map, &layout, &all).len());
        assert_eq!(new_snapshot(&map, &layout, &[]).len(), new_size);

        // A buyer's first snapshot: auth sent → snapshot text received, over loopback.
        let tokens = server.admitted_tokens(event, 11).await;
        let mut receive = Vec::new();
        for token in &tokens {
            let t = Instant::now();
            let (c, snap) = server.seats(event, token).await;
            receive.push(t.elapsed());
            assert_eq!(snap["seat_count"], n);
            drop(c);
        }
        let url = format!("{}/api/events/{event}/seats/layout", server.http());
        let client = reqwest::Client::new();
        let mut fetch = Vec::new();
        for _ in 0..11 {
            let t = Instant::now();
            let body = client
                .get(&url)
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            fetch.push(t.elapsed());
            assert_eq!(body.len(), layout.gzip.len());
        }
        println!(
            "| {n} | {old_none} / {old_all} B | {} | {new_size} B | {} | {} | {} B | {} B | {} | {} |",
            ms(old_time),
            ms(new_time),
            ms(median(receive)),
            layout.json.len(),
            layout.gzip.len(),
            ms(layout_time),
            ms(median(fetch)),
        );
    }
    server.stop().await;
}
