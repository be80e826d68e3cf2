//! What an engine tells every instance: each change a step makes is published as the one
//! `BusMessage` the instances read. On Redis the Lua scripts write these messages
//! themselves (the encoders in `lua/prelude.lua`), so this is what ties their JSON to the
//! Rust type: a message the subscriber cannot read would never arrive here.

use std::time::Duration;

use usher::engine::seats::Inventory;
use usher::engine::{Bus, BusMessage, Counters, Engines, Place};
use usher::events::RoomConfig;
use usher::identity::BuyerId;
use usher_protocol::SeatState;

use crate::{Engine, fresh_engines};

const T0: i64 = 1_800_000_000_000;
const EV: i64 = 7;
const WAIT: Duration = Duration::from_secs(10);

/// A subscription that is surely listening to `EV` (the Redis one starts asynchronously;
/// on a cluster, an instance hears only the events it listens to).
async fn listening(bus: &dyn Bus) -> tokio::sync::broadcast::Receiver<BusMessage> {
    let mut rx = bus.subscribe();
    bus.listen(EV).await;
    bus.listen(-1).await;
    let probe = BusMessage::Config { e: -1 };
    loop {
        bus.publish(&probe).await.unwrap();
        match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            Ok(Ok(m)) if m == probe => return rx,
            _ => continue,
        }
    }
}

/// Waits until every expected message has arrived (in any order, others ignored).
async fn expect_all(rx: &mut tokio::sync::broadcast::Receiver<BusMessage>, want: &[BusMessage]) {
    let mut missing: Vec<&BusMessage> = want.iter().collect();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while !missing.is_empty() {
            let m = rx.recv().await.expect("the bus is open");
            missing.retain(|w| **w != m);
            seen.push(m);
        }
    })
    .await;
    assert!(found.is_ok(), "never arrived: {missing:?}; seen: {seen:?}");
}

async fn every_change_is_published_as_the_message_every_instance_reads(kind: Engine) {
    let Engines { queue, seats, bus } = fresh_engines(kind, Some(0)).await;
    let mut rx = listening(bus.as_ref()).await;
    let cfg = RoomConfig {
        rate: 100.0,
        max_active: 100,
        session_ms: 60_000,
        grace_ms: 10_000,
        opens_at_ms: T0,
        paused: false,
        ended: false,
    };
    queue.configure(EV, &cfg).await.unwrap();
    // A store that had lost its counters takes them back: every instance reloads.
    let lost = Counters {
        seq: 10,
        salt: 3,
        issued: 10,
        ..Counters::default()
    };
    assert!(queue.reserve(EV, 1_000, &lost).await.unwrap());
    expect_all(&mut rx, &[BusMessage::Config { e: EV }]).await;

    // The pre-queue is drawn at the opening, then its buyer is let in.
    let early = BuyerId::random();
    queue.join(EV, early, None, T0 - 1_000, 1).await.unwrap();
    let step = queue.tick(EV, T0 + 1_000, 1).await.unwrap();
    assert_eq!(step.admitted.len(), 1, "{kind:?}");
    let head = step.admitted[0].seq;
    expect_all(
        &mut rx,
        &[
            BusMessage::Opened { e: EV },
            BusMessage::Admitted {
                e: EV,
                h: head,
                a: step.admitted.clone(),
                d: vec![],
            },
        ],
    )
    .await;

    // One buyer leaves on purpose (named, so their other tabs close); one is revoked.
    let (leaver, banned) = (BuyerId::random(), BuyerId::random());
    let seq_of = |p: Place| match p {
        Place::Waiting { seq } => seq,
        other => panic!("expected a place in line, got {other:?}"),
    };
    let l = seq_of(
        queue
            .join(EV, leaver, None, T0 + 2_000, 1)
            .await
            .unwrap()
            .place,
    );
    let b = seq_of(
        queue
            .join(EV, banned, None, T0 + 2_000, 1)
            .await
            .unwrap()
            .place,
    );
    queue.leave(EV, leaver).await.unwrap();
    assert!(queue.revoke(EV, banned).await.unwrap());
    expect_all(
        &mut rx,
        &[
            BusMessage::Departed {
                e: EV,
                d: vec![l],
                b: Some(leaver.to_string()),
            },
            BusMessage::Departed {
                e: EV,
                d: vec![b],
                b: None,
            },
            BusMessage::Revoked {
                e: EV,
                b: banned.to_string(),
            },
        ],
    )
    .await;

    // Seats: the last two held sell the event out; released, it is back on sale.
    seats.init_seats(EV, Inventory::single(2)).await.unwrap();
    let holder = BuyerId::random();
    let held = seats
        .hold(EV, holder, &[0, 1], T0, 60_000, 4)
        .await
        .unwrap();
    assert!(held.is_ok(), "{kind:?}: {held:?}");
    expect_all(
        &mut rx,
        &[
            BusMessage::Seats {
                e: EV,
                c: vec![(0, SeatState::Held), (1, SeatState::Held)],
            },
            BusMessage::SoldOut { e: EV },
        ],
    )
    .await;
    seats.release(EV, holder, &[0, 1]).await.unwrap().unwrap();
    expect_all(
        &mut rx,
        &[
            BusMessage::Seats {
                e: EV,
                c: vec![(0, SeatState::Free), (1, SeatState::Free)],
            },
            BusMessage::SoldOut { e: EV },
        ],
    )
    .await;
}

engine_test!(every_change_is_published_as_the_message_every_instance_reads);
