//! Measurements for BENCHMARKS.md ("Redis CPU per operation") and docs/scaling.md, not a
//! test: how much of Redis's own CPU one engine operation costs. It starts a private
//! `redis-server` (never the shared one), drives the Redis engine directly (no sockets, no
//! database), and reads `INFO cpu` (`used_cpu_sys` + `used_cpu_user`) before and after each
//! phase, so the figure is Redis's CPU alone, whatever else runs on the machine. `INFO
//! commandstats` (reset before each phase) splits it into the scripts' own time and the
//! commands they call. Run:
//!
//! `cargo test --test redis_cpu_bench -- --ignored --nocapture`
//!
//! `BENCH_N` (default 20,000) sets how many buyers and holds each phase has;
//! `BENCH_CONCURRENCY` (default 64) how many calls are in flight at once on the engine's
//! one multiplexed connection, as a busy instance has; `BENCH_RATES` (default
//! `5000,20000,16667/23`) the paced join phases: joins per second reaching one instance,
//! or `R/K`, R a second spread over K instances (K engines on the one Redis).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use usher::engine::seats::{Inventory, SeatEngine, SessionClaim};
use usher::engine::{
    Admission, Counters, Engines, Place, Presence, QueueEngine, redis::RedisEngine,
};
use usher::events::RoomConfig;
use usher::identity::BuyerId;
use usher_testkit::RedisServer;

const T0: i64 = 1_800_000_000_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `used_cpu_sys + used_cpu_user` of the server, in microseconds, and its command stats.
struct Stats {
    cpu_us: f64,
    commands: BTreeMap<String, (u64, u64)>,
}

async fn info(conn: &mut MultiplexedConnection) -> Stats {
    let cpu: String = redis::cmd("INFO")
        .arg("cpu")
        .query_async(conn)
        .await
        .expect("INFO cpu");
    let field = |name: &str| -> f64 {
        cpu.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
            .unwrap_or_else(|| panic!("expected {name} in INFO cpu, got {cpu}"))
    };
    let cpu_us = (field("used_cpu_sys") + field("used_cpu_user")) * 1e6;
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .expect("INFO commandstats");
    let mut commands = BTreeMap::new();
    for line in stats.lines() {
        let Some((name, rest)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let mut calls = 0;
        let mut usec = 0;
        for kv in rest.split(',') {
            match kv.split_once('=') {
                Some(("calls", v)) => calls = v.parse().unwrap_or(0),
                Some(("usec", v)) => usec = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        commands.insert(name.to_owned(), (calls, usec));
    }
    Stats { cpu_us, commands }
}

async fn used_memory(conn: &mut MultiplexedConnection) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(conn)
        .await
        .expect("INFO memory");
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("expected used_memory in INFO memory, got {info}"))
}

async fn reset(conn: &mut MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(conn)
        .await
        .expect("CONFIG RESETSTAT");
}

/// Runs `phase`, then prints Redis's CPU per operation (`ops` operations) and where the
/// scripts' time went. Returns the CPU per operation in microseconds.
async fn measure<T, F: std::future::Future<Output = T>>(
    conn: &mut MultiplexedConnection,
    label: &str,
    ops: usize,
    phase: F,
) -> f64 {
    reset(conn).await;
    let before = info(conn).await;
    let started = std::time::Instant::now();
    phase.await;
    let wall = started.elapsed();
    let after = info(conn).await;
    // The two INFO calls and RESETSTAT are themselves a few tens of microseconds: noise
    // next to thousands of operations.
    let cpu = after.cpu_us - before.cpu_us;
    let per_op = cpu / ops as f64;
    let (scripts, script_us) = after
        .commands
        .iter()
        .filter(|(n, _)| matches!(n.as_str(), "evalsha" | "eval"))
        .fold((0, 0), |(c, u), (_, (calls, usec))| (c + calls, u + usec));
    println!(
        "{label:<34} {ops:>7} ops  Redis CPU {:>8.1} ms  = {per_op:>6.2} µs/op  \
         (scripts: {scripts} calls, {:.2} µs/op inside; wall {:.2} s)",
        cpu / 1000.0,
        script_us as f64 / ops as f64,
        wall.as_secs_f64(),
    );
    let mut inner: Vec<_> = after
        .commands
        .iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "evalsha" | "eval" | "info" | "config|resetstat" | "script|load" | "ping"
            )
        })
        .collect();
    inner.sort_by_key(|(_, (_, usec))| std::cmp::Reverse(*usec));
    let parts: Vec<String> = inner
        .iter()
        .take(8)
        .map(|(n, (calls, usec))| {
            format!(
                "{n} {:.2}/op {:.2} µs/op",
                *calls as f64 / ops as f64,
                *usec as f64 / ops as f64
            )
        })
        .collect();
    println!("{:<34} inside: {}", "", parts.join(", "));
    per_op
}

fn room(paused: bool, rate: f64) -> RoomConfig {
    RoomConfig {
        rate,
        max_active: 100_000_000,
        session_ms: 600_000,
        grace_ms: 60_000,
        opens_at_ms: T0 - 1,
        paused,
        ended: false,
    }
}

async fn configured(q: &Arc<dyn QueueEngine>, event: i64, cfg: &RoomConfig) {
    q.configure(event, cfg).await.expect("configure");
    let fresh = Counters {
        salt: 7,
        ..Counters::default()
    };
    q.reserve(event, 100_000_000, &fresh)
        .await
        .expect("reserve");
}

async fn join_all(q: &Arc<dyn QueueEngine>, event: i64, buyers: &[BuyerId], conc: usize) {
    futures_util::stream::iter(buyers.iter().copied())
        .map(|b| {
            let q = q.clone();
            async move {
                q.join(event, b, None, T0, rand::random())
                    .await
                    .expect("join");
            }
        })
        .buffer_unordered(conc)
        .collect::<Vec<()>>()
        .await;
}

/// Starts one join every 1/rate seconds (in 1 ms steps), each in its own task, and waits
/// for all of them.
async fn join_paced(q: &Arc<dyn QueueEngine>, event: i64, buyers: &[BuyerId], rate: f64) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(1));
    let mut started = Vec::with_capacity(buyers.len());
    let per_ms = (rate / 1000.0).max(0.001);
    let mut due = 0.0;
    let mut next = 0;
    while next < buyers.len() {
        tick.tick().await;
        due += per_ms;
        while (next as f64) < due && next < buyers.len() {
            let q = q.clone();
            let b = buyers[next];
            started.push(tokio::spawn(async move {
                q.join(event, b, None, T0, rand::random())
                    .await
                    .expect("join");
            }));
            next += 1;
        }
    }
    for h in started {
        h.await.expect("a join task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for BENCHMARKS.md; run with --ignored --nocapture"]
async fn redis_cpu_per_operation() {
    let n = env_usize("BENCH_N", 20_000);
    let conc = env_usize("BENCH_CONCURRENCY", 64);
    let server = RedisServer::start().await;
    let engine = RedisEngine::connect(&server.url(), "bench")
        .await
        .expect("the private redis-server answers");
    let Engines {
        queue: q, seats, ..
    } = Engines::of(engine);
    let client = redis::Client::open(server.url()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("a connection for INFO");
    println!(
        "Redis CPU per operation: {n} buyers per phase, {conc} calls in flight, one subscriber \
         on the bus"
    );

    // Joins: one event, open, paused (nothing admitted meanwhile). A first join loads the
    // script and draws the (empty) pre-queue.
    let ev = 1;
    configured(&q, ev, &room(true, 2000.0)).await;
    join_all(&q, ev, &[BuyerId::random()], 1).await;
    let buyers: Vec<BuyerId> = (0..n).map(|_| BuyerId::random()).collect();
    let mem0 = used_memory(&mut conn).await;
    measure(
        &mut conn,
        "join (new buyer)",
        n,
        join_all(&q, ev, &buyers, conc),
    )
    .await;
    let mem1 = used_memory(&mut conn).await;
    println!(
        "{:<34} {:.0} bytes of Redis memory per waiting buyer (used_memory)",
        "",
        (mem1 - mem0) / n as f64
    );
    // Joins arriving at a steady rate, as a storm reaches the instances (not a fixed
    // number in flight): the batches are what the rate and the engine's linger make them.
    // `R/K`: R joins a second spread over K instances (K engines, each R/K a second), as
    // one Redis sees a sale spread over a fleet.
    let rates = std::env::var("BENCH_RATES").unwrap_or_else(|_| "5000,20000,16667/23".into());
    for (i, spec) in rates.split(',').enumerate() {
        let (rate, fleet) = match spec.trim().split_once('/') {
            Some((r, k)) => (r.parse().unwrap_or(1000), k.parse().unwrap_or(1)),
            None => (spec.trim().parse().unwrap_or(1000), 1usize),
        };
        // Each rate on an event of its own, so the line of `ev` stays n buyers long.
        let pev = 10 + i as i64;
        configured(&q, pev, &room(true, 2000.0)).await;
        join_all(&q, pev, &[BuyerId::random()], 1).await;
        let mut engines = vec![q.clone()];
        for _ in 1..fleet {
            let e = RedisEngine::connect(&server.url(), "bench")
                .await
                .expect("another instance's engine");
            engines.push(Engines::of(e).queue);
        }
        let paced: Vec<BuyerId> = (0..n).map(|_| BuyerId::random()).collect();
        let per = rate as f64 / fleet as f64;
        let label = if fleet > 1 {
            format!("join (new buyer), {rate}/s on {fleet}")
        } else {
            format!("join (new buyer), {rate}/s arriving")
        };
        let shares: Vec<Vec<BuyerId>> = (0..fleet)
            .map(|k| paced.iter().skip(k).step_by(fleet).copied().collect())
            .collect();
        let all = engines
            .iter()
            .zip(&shares)
            .map(|(e, share)| join_paced(e, pev, share, per));
        measure(&mut conn, &label, n, futures_util::future::join_all(all)).await;
    }
    measure(
        &mut conn,
        "join (resume, same buyers)",
        n,
        join_all(&q, ev, &buyers, conc),
    )
    .await;

    // Heartbeats: every waiting buyer's presence renewed, as a room's heartbeat does it
    // (the engine sends 1,000 buyers per script call).
    let present: Vec<Presence> = buyers
        .iter()
        .map(|b| Presence {
            buyer: *b,
            seq: None,
        })
        .collect();
    let rounds = 5;
    measure(
        &mut conn,
        "heartbeat touch (per buyer)",
        n * rounds,
        async {
            for r in 0..rounds {
                q.touch(ev, &present, T0 + r as i64 * 5_000, true)
                    .await
                    .expect("touch");
            }
        },
    )
    .await;

    // Admission: the same line, unpaused at 2,000/s, one step every 100 ms (tick_ms) as
    // one instance runs it: about 200 admitted per step.
    q.configure(ev, &room(false, 2000.0))
        .await
        .expect("configure");
    let steps = n / 200 + 5;
    let mut admitted = 0;
    let mut now = T0 + 30_000;
    let admit = async {
        for _ in 0..steps {
            now += 100;
            admitted += q
                .tick(ev, now, rand::random())
                .await
                .expect("tick")
                .admitted
                .len();
        }
    };
    reset(&mut conn).await;
    let before = info(&mut conn).await;
    admit.await;
    let after = info(&mut conn).await;
    let cpu = after.cpu_us - before.cpu_us;
    println!(
        "{:<34} {admitted:>7} ops  Redis CPU {:>8.1} ms  = {:>6.2} µs/op  ({steps} steps of \
         about {} admitted, {:.1} µs per step)",
        "admission (per admitted buyer)",
        cpu / 1000.0,
        cpu / admitted.max(1) as f64,
        admitted / steps,
        cpu / steps as f64,
    );
    assert!(admitted > 0, "expected buyers admitted, got none");

    // An admission step with nothing to do: every instance runs one per event every
    // tick_ms, whether or not anyone waits.
    let idle_steps = 2_000;
    let mut now = now + 60_000;
    measure(&mut conn, "admission step, empty line", idle_steps, async {
        for _ in 0..idle_steps {
            now += 100;
            q.tick(ev, now, rand::random()).await.expect("tick");
        }
    })
    .await;

    // A room's periodic sync on one instance (every update_interval_ms): the counters.
    let syncs = 2_000;
    measure(&mut conn, "room sync (snapshot read)", syncs, async {
        for _ in 0..syncs {
            q.snapshot(ev, now).await.expect("snapshot");
        }
    })
    .await;

    // A seat-map session's renewal (every 5 s per open seat map, and once at `auth`):
    // each admitted buyer of the line claims its token's session.
    seats
        .init_seats(ev, Inventory::single(100))
        .await
        .expect("init seats");
    let admissions: Vec<Admission> = q
        .places(ev, &buyers, now)
        .await
        .expect("places")
        .into_iter()
        .filter_map(|p| match p {
            Some(Place::Admitted(a)) => Some(a),
            _ => None,
        })
        .collect();
    assert!(!admissions.is_empty(), "expected admitted buyers, got none");
    let claim = |a: Admission| {
        let seats = seats.clone();
        async move {
            let r = seats
                .claim_session(ev, a.buyer, &a.jti, "s1", now, 15_000, None)
                .await
                .expect("claim");
            assert_eq!(
                r,
                SessionClaim::Granted,
                "expected the session of {}",
                a.jti
            );
        }
    };
    claim(admissions[0].clone()).await; // loads the script
    measure(
        &mut conn,
        "seat session claim / renewal",
        admissions.len(),
        futures_util::stream::iter(admissions.clone())
            .map(claim)
            .buffer_unordered(conc)
            .collect::<Vec<()>>(),
    )
    .await;

    // Holds: 2 seats each, every buyer a different pair, on one map of 2n seats.
    let sev = 2;
    configured(&q, sev, &room(false, 2000.0)).await;
    seats
        .init_seats(sev, Inventory::single((2 * n + 4) as u32))
        .await
        .expect("init seats");
    let holders: Vec<BuyerId> = (0..=n).map(|_| BuyerId::random()).collect();
    let hold = |seats: Arc<dyn SeatEngine>, i: usize| {
        let buyer = holders[i];
        async move {
            let pair = [2 * i as u32, 2 * i as u32 + 1];
            let r = seats
                .hold(sev, buyer, &pair, T0, 300_000, 4)
                .await
                .expect("hold");
            assert!(r.is_ok(), "expected the hold of {pair:?}, got {r:?}");
        }
    };
    hold(seats.clone(), n).await; // loads the script
    measure(
        &mut conn,
        "hold (2 seats)",
        n,
        futures_util::stream::iter(0..n)
            .map(|i| hold(seats.clone(), i))
            .buffer_unordered(conc)
            .collect::<Vec<()>>(),
    )
    .await;

    // Half the holders release their seats, the other half book them (the engine's two
    // steps of a booking, around the database's write). One of each first loads the
    // scripts.
    let half = n / 2;
    let warm = [2 * n as u32, 2 * n as u32 + 1];
    let r = seats
        .release(sev, holders[n], &warm)
        .await
        .expect("release");
    assert!(r.is_ok(), "expected the release of {warm:?}, got {r:?}");
    let booker = BuyerId::random();
    let last = [warm[1] + 1, warm[1] + 2];
    let r = seats.hold(sev, booker, &last, T0, 300_000, 4).await;
    assert!(
        matches!(r, Ok(Ok(_))),
        "expected the hold of {last:?}, got {r:?}"
    );
    let r = seats
        .begin_booking(sev, booker, 0, T0 + 1_000, 30_000)
        .await;
    assert!(
        matches!(r, Ok(Ok(_))),
        "expected a booking of {last:?}, got {r:?}"
    );
    let r = seats.end_booking(sev, booker, &last, true).await;
    assert!(r.is_ok(), "expected the booking's end, got {r:?}");
    measure(
        &mut conn,
        "release (2 seats)",
        half,
        futures_util::stream::iter(0..half)
            .map(|i| {
                let seats = seats.clone();
                let buyer = holders[i];
                async move {
                    let pair = [2 * i as u32, 2 * i as u32 + 1];
                    let r = seats.release(sev, buyer, &pair).await.expect("release");
                    assert!(r.is_ok(), "expected the release of {pair:?}, got {r:?}");
                }
            })
            .buffer_unordered(conc)
            .collect::<Vec<()>>(),
    )
    .await;
    measure(
        &mut conn,
        "book (begin + end, 2 seats)",
        n - half,
        futures_util::stream::iter(half..n)
            .map(|i| {
                let seats = seats.clone();
                let buyer = holders[i];
                async move {
                    let got = seats
                        .begin_booking(sev, buyer, 0, T0 + 1_000, 30_000)
                        .await
                        .expect("begin booking");
                    let got = got.unwrap_or_else(|r| panic!("expected a booking, got {r:?}"));
                    seats
                        .end_booking(sev, buyer, &got, true)
                        .await
                        .expect("end booking");
                }
            })
            .buffer_unordered(conc)
            .collect::<Vec<()>>(),
    )
    .await;

    let used: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut conn)
        .await
        .expect("INFO memory");
    if let Some(line) = used.lines().find(|l| l.starts_with("used_memory_human")) {
        println!("{line} after {n} waiting buyers and {n} holds");
    }
}
