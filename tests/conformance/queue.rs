//! Conformance of the queue half of every engine (memory always, Redis when REDIS_URL is
//! set): queue numbers and their order, the pre-queue draw, admission rate and cap,
//! grace periods and presence leases, revocation, the bus, and a store that lost its data.
//! Manual times: no sleeps, no timing assumptions.

use std::sync::Arc;
use std::time::Duration;

use crate::{Engine, fresh};
use usher::engine::{BusMessage, Counters, JoinRefusal, Place, Presence, QueueEngine, jti_for};
use usher::events::RoomConfig;
use usher::identity::BuyerId;

const T0: i64 = 1_800_000_000_000;
const EV: i64 = 1;

/// How long a case waits for a bus message before failing (a hang guard only).
const WAIT: Duration = Duration::from_secs(15);

/// An engine whose connected buyers keep their place only for the grace period (no
/// presence lease), so the grace rules show alone; `leased` tests the lease.
async fn engine(kind: Engine) -> Arc<dyn QueueEngine> {
    leased(kind, 0).await
}

async fn leased(kind: Engine, lease_ms: i64) -> Arc<dyn QueueEngine> {
    fresh(kind, Some(lease_ms)).await.0
}

fn cfg(rate: f64, max_active: i64) -> RoomConfig {
    RoomConfig {
        rate,
        max_active,
        session_ms: 60_000,
        grace_ms: 10_000,
        opens_at_ms: T0,
        paused: false,
        ended: false,
    }
}

async fn setup(kind: Engine, cfg: RoomConfig) -> Arc<dyn QueueEngine> {
    let e = engine(kind).await;
    e.configure(EV, &cfg).await.unwrap();
    // As the database would: numbers reserved, a token-id salt.
    let fresh = Counters {
        salt: 7,
        ..Counters::default()
    };
    e.reserve(EV, 1_000_000, &fresh).await.unwrap();
    e
}

/// Marks buyers present as a connected room's heartbeat would.
async fn touch(e: &Arc<dyn QueueEngine>, buyers: &[BuyerId], now: i64) {
    let present: Vec<Presence> = buyers
        .iter()
        .map(|b| Presence {
            buyer: *b,
            seq: None,
        })
        .collect();
    e.touch(EV, &present, now, true).await.unwrap();
}

async fn join_n(e: &Arc<dyn QueueEngine>, n: usize, now: i64) -> Vec<BuyerId> {
    let mut v = Vec::new();
    for _ in 0..n {
        let b = BuyerId::random();
        e.join(EV, b, None, now, rand::random()).await.unwrap();
        v.push(b);
    }
    v
}

fn seq_of(p: &Option<Place>) -> u64 {
    match p {
        Some(Place::Waiting { seq }) => *seq,
        other => panic!("expected a waiting place, got {other:?}"),
    }
}

async fn buyers_after_opening_get_queue_numbers_in_join_order_and_are_admitted_in_that_order(
    kind: Engine,
) {
    let e = setup(kind, cfg(1000.0, 1000)).await;
    let buyers = join_n(&e, 5, T0).await;
    let places = e.places(EV, &buyers, T0).await.unwrap();
    let seqs: Vec<u64> = places.iter().map(seq_of).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5], "{kind:?}");
    let report = e.tick(EV, T0, 7).await.unwrap();
    let order: Vec<String> = report
        .admitted
        .iter()
        .map(|a| a.buyer.to_string())
        .collect();
    let expected: Vec<String> = buyers.iter().map(|b| b.to_string()).collect();
    assert_eq!(order, expected, "{kind:?}");
}

async fn pre_queue_buyers_are_shuffled_at_opening_and_all_come_before_later_buyers(kind: Engine) {
    let e = setup(kind, cfg(1.0, 10)).await;
    let early = join_n(&e, 30, T0 - 5_000).await;
    for p in e.places(EV, &early, T0 - 5_000).await.unwrap() {
        assert_eq!(p, Some(Place::Pre), "{kind:?}");
    }
    let snap = e.snapshot(EV, T0 - 5_000).await.unwrap();
    assert_eq!((snap.opened, snap.pre), (false, 30));
    // Opening happens at the first join or admission step after the opening time.
    let late = join_n(&e, 5, T0 + 1).await;
    let early_seqs: Vec<u64> = e
        .places(EV, &early, T0 + 1)
        .await
        .unwrap()
        .iter()
        .map(seq_of)
        .collect();
    let late_seqs: Vec<u64> = e
        .places(EV, &late, T0 + 1)
        .await
        .unwrap()
        .iter()
        .map(seq_of)
        .collect();
    let mut sorted = early_seqs.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (1..=30).collect::<Vec<_>>(),
        "{kind:?}: every pre-queue buyer got a number"
    );
    assert_ne!(
        early_seqs, sorted,
        "{kind:?}: join order was kept (odds 1 in 30!)"
    );
    assert_eq!(late_seqs, vec![31, 32, 33, 34, 35], "{kind:?}");
}

/// Many joins at once, as a busy instance sends them (the Redis engine batches them into
/// one script call): every buyer one number, no number twice, the line without gaps; a
/// buyer joining twice at once (two tabs) one place, and only one of the two answers new.
async fn joins_at_once_each_get_one_place_and_no_number_twice(kind: Engine) {
    let e = setup(kind, cfg(1.0, 10)).await;
    // Before the opening: every buyer in the pre-queue, the counts 1..=n.
    let early: Vec<BuyerId> = (0..40).map(|_| BuyerId::random()).collect();
    let joins = early
        .iter()
        .map(|b| e.join(EV, *b, None, T0 - 1_000, rand::random()));
    let mut pre: Vec<u64> = futures_util::future::join_all(joins)
        .await
        .into_iter()
        .map(|j| {
            let j = j.unwrap();
            assert_eq!((j.place, j.resumed), (Place::Pre, false), "{kind:?}");
            j.pre
        })
        .collect();
    pre.sort();
    assert_eq!(pre, (1..=40).collect::<Vec<_>>(), "{kind:?}");
    // After it: the pre-queue drawn first, then the others, each once; the twin joins.
    let late: Vec<BuyerId> = (0..200).map(|_| BuyerId::random()).collect();
    let mut all: Vec<BuyerId> = late.clone();
    all.push(late[7]);
    all.push(early[3]);
    let joins = all
        .iter()
        .map(|b| e.join(EV, *b, None, T0 + 1, rand::random()));
    let answers: Vec<_> = futures_util::future::join_all(joins)
        .await
        .into_iter()
        .map(|j| j.unwrap())
        .collect();
    let twins: Vec<_> = answers
        .iter()
        .zip(&all)
        .filter(|(_, b)| **b == late[7])
        .map(|(j, _)| j.clone())
        .collect();
    assert_eq!(
        twins[0].place, twins[1].place,
        "{kind:?}: one place for two tabs"
    );
    assert_eq!(
        twins.iter().filter(|j| !j.resumed).count(),
        1,
        "{kind:?}: one of the two joins is the new place"
    );
    let back = &answers[answers.len() - 1];
    assert!(back.resumed, "{kind:?}: a pre-queue buyer resumes");
    let mut seqs: Vec<u64> = e
        .places(EV, &late, T0 + 1)
        .await
        .unwrap()
        .iter()
        .map(seq_of)
        .collect();
    seqs.sort();
    assert_eq!(seqs, (41..=240).collect::<Vec<_>>(), "{kind:?}");
    let snap = e.snapshot(EV, T0 + 1).await.unwrap();
    assert_eq!((snap.waiting, snap.pre), (240, 0), "{kind:?}");
}

async fn joining_again_returns_the_same_place(kind: Engine) {
    let e = setup(kind, cfg(1.0, 10)).await;
    let buyers = join_n(&e, 3, T0).await;
    let again = e.join(EV, buyers[1], None, T0 + 10, 1).await.unwrap();
    assert!(again.resumed, "{kind:?}");
    assert_eq!(again.place, Place::Waiting { seq: 2 });
    assert_eq!(e.snapshot(EV, T0).await.unwrap().waiting, 3);
}

async fn admission_follows_the_configured_rate_in_small_batches(kind: Engine) {
    let e = setup(kind, cfg(10.0, 10_000)).await;
    join_n(&e, 200, T0).await;
    let mut total = 0u64;
    let mut largest = 0usize;
    for step in 0..=100 {
        let now = T0 + step * 50; // 5 seconds in 50 ms steps
        let r = e.tick(EV, now, step as u64).await.unwrap();
        largest = largest.max(r.admitted.len());
        total += r.admitted.len() as u64;
        let allowed = 2 + (10 * (now - T0) / 1000) as u64; // burst 0.2 s worth + rate
        assert!(
            total <= allowed,
            "{kind:?}: {total} admitted by {now}, allowed {allowed}"
        );
    }
    assert!(
        total >= 50,
        "{kind:?}: only {total} admitted in 5 s at 10/s"
    );
    assert!(largest <= 2, "{kind:?}: a batch of {largest} is not smooth");
    assert_eq!(e.snapshot(EV, T0).await.unwrap().admitted_total, total);
}

async fn the_cap_on_active_buyers_holds_and_a_finished_session_frees_a_slot(kind: Engine) {
    let e = setup(kind, cfg(100.0, 3)).await;
    let buyers = join_n(&e, 6, T0).await;
    let mut now = T0;
    let mut admitted = 0;
    for _ in 0..10 {
        now += 100;
        admitted += e.tick(EV, now, 1).await.unwrap().admitted.len();
    }
    assert_eq!(admitted, 3, "{kind:?}");
    assert_eq!(e.snapshot(EV, now).await.unwrap().active, 3);
    e.finish(EV, buyers[0]).await.unwrap();
    now += 100;
    let r = e.tick(EV, now, 2).await.unwrap();
    assert_eq!(r.admitted.len(), 1, "{kind:?}");
    assert_eq!(r.admitted[0].buyer, buyers[3]);
}

async fn an_expired_entry_session_frees_its_slot(kind: Engine) {
    let mut c = cfg(100.0, 1);
    c.session_ms = 1_000;
    let e = setup(kind, c).await;
    let buyers = join_n(&e, 2, T0).await;
    let first = e.tick(EV, T0, 1).await.unwrap();
    assert_eq!(first.admitted.len(), 1);
    touch(&e, &buyers[1..], T0 + 900).await;
    assert!(
        e.tick(EV, T0 + 900, 2).await.unwrap().admitted.is_empty(),
        "{kind:?}: cap is full"
    );
    let later = e.tick(EV, T0 + 1_001, 3).await.unwrap();
    assert_eq!(later.expired, 1, "{kind:?}");
    assert_eq!(later.admitted.len(), 1, "{kind:?}");
    assert_eq!(later.admitted[0].buyer, buyers[1]);
    // The expired buyer no longer holds a session; joining again queues them anew.
    assert_eq!(
        e.places(EV, &buyers[..1], T0 + 1_001).await.unwrap(),
        vec![None]
    );
}

async fn a_buyer_gone_past_the_grace_period_is_skipped_and_returns_at_the_back(kind: Engine) {
    let mut c = cfg(100.0, 100);
    c.paused = true;
    let e = setup(kind, c).await;
    let buyers = join_n(&e, 3, T0).await;
    // Buyers 1 and 2 stay connected; buyer 0 went away at T0.
    touch(&e, &buyers[1..], T0 + 9_000).await;
    let r = e.tick(EV, T0 + 10_001, 1).await.unwrap();
    assert_eq!(r.dropped, vec![1], "{kind:?}");
    assert_eq!(e.departed_above(EV, 0).await.unwrap(), vec![1]);
    c.paused = false;
    e.configure(EV, &c).await.unwrap();
    let r = e.tick(EV, T0 + 10_002, 2).await.unwrap();
    let order: Vec<String> = r.admitted.iter().map(|a| a.buyer.to_string()).collect();
    assert_eq!(
        order,
        vec![buyers[1].to_string(), buyers[2].to_string()],
        "{kind:?}"
    );
    let back = e.join(EV, buyers[0], None, T0 + 10_003, 3).await.unwrap();
    assert!(!back.resumed);
    assert_eq!(back.place, Place::Waiting { seq: 4 }, "{kind:?}");
}

async fn a_waiting_buyer_who_is_not_yet_at_the_front_is_dropped_after_grace_too(kind: Engine) {
    let mut c = cfg(1.0, 100);
    c.paused = true;
    let e = setup(kind, c).await;
    let buyers = join_n(&e, 3, T0).await;
    touch(&e, &[buyers[0], buyers[2]], T0 + 9_000).await;
    let r = e.tick(EV, T0 + 10_001, 1).await.unwrap();
    assert_eq!(r.dropped, vec![2], "{kind:?}");
    let snap = e.snapshot(EV, T0 + 10_001).await.unwrap();
    assert_eq!(snap.waiting, 2);
}

async fn revoking_a_buyer_frees_the_place_and_bars_rejoining(kind: Engine) {
    let e = setup(kind, cfg(1.0, 10)).await;
    let buyers = join_n(&e, 3, T0).await;
    assert!(e.revoke(EV, buyers[1]).await.unwrap(), "{kind:?}");
    assert_eq!(e.departed_above(EV, 0).await.unwrap(), vec![2]);
    let again = e.join(EV, buyers[1], None, T0 + 1, 1).await.unwrap();
    assert_eq!(again.place, Place::Revoked, "{kind:?}");
    assert!(
        !e.revoke(EV, BuyerId::random()).await.unwrap(),
        "unknown buyer"
    );
}

async fn leaving_takes_the_buyer_out_of_line(kind: Engine) {
    let e = setup(kind, cfg(1.0, 10)).await;
    let buyers = join_n(&e, 2, T0).await;
    e.leave(EV, buyers[0]).await.unwrap();
    assert_eq!(
        e.places(EV, &buyers[..1], T0).await.unwrap(),
        vec![None],
        "{kind:?}"
    );
    assert_eq!(e.snapshot(EV, T0).await.unwrap().waiting, 1);
}

async fn a_paused_room_admits_nobody(kind: Engine) {
    let mut c = cfg(100.0, 100);
    c.paused = true;
    let e = setup(kind, c).await;
    join_n(&e, 3, T0).await;
    for i in 1..10 {
        let r = e.tick(EV, T0 + i * 100, 1).await.unwrap();
        assert!(r.admitted.is_empty(), "{kind:?}");
    }
    assert!(e.snapshot(EV, T0).await.unwrap().paused);
}

async fn admissions_are_announced_on_the_bus(kind: Engine) {
    let engines = crate::fresh_engines(kind, Some(0)).await;
    let (e, b) = (engines.queue, engines.bus);
    e.configure(EV, &cfg(100.0, 100)).await.unwrap();
    let numbers = Counters {
        salt: 7,
        ..Counters::default()
    };
    e.reserve(EV, 1_000_000, &numbers).await.unwrap();
    let mut bus = b.subscribe();
    // An instance on a cluster hears only the events it listens to; the Redis
    // subscription is asynchronous: make sure it is listening first.
    b.listen(EV).await;
    let probe = BusMessage::Config { e: EV };
    loop {
        b.publish(&probe).await.unwrap();
        match tokio::time::timeout(Duration::from_millis(200), bus.recv()).await {
            Ok(Ok(m)) if m == probe => break,
            _ => continue,
        }
    }
    let buyers = join_n(&e, 2, T0).await;
    let r = e.tick(EV, T0, 1).await.unwrap();
    assert_eq!(r.admitted.len(), 2);
    let msg = tokio::time::timeout(WAIT, async {
        loop {
            if let m @ BusMessage::Admitted { .. } = bus.recv().await.unwrap() {
                return m;
            }
        }
    })
    .await
    .expect("an admission message");
    let BusMessage::Admitted { h, a, .. } = msg else {
        unreachable!()
    };
    assert_eq!(h, 2, "{kind:?}");
    assert_eq!(a[0].buyer, buyers[0]);
    assert_eq!(a, r.admitted);
}

async fn a_connected_buyer_is_never_dropped_even_with_a_zero_grace_period(kind: Engine) {
    let e = leased(kind, 15_000).await;
    let mut c = cfg(1.0, 100);
    c.grace_ms = 0;
    c.paused = true;
    e.configure(EV, &c).await.unwrap();
    e.reserve(EV, 1_000, &Counters::default()).await.unwrap();
    let buyers = join_n(&e, 2, T0).await;
    // Buyer 0 stays connected (a heartbeat every 5 s); buyer 1 closes at T0 + 1 s.
    e.touch(
        EV,
        &[Presence {
            buyer: buyers[1],
            seq: Some(2),
        }],
        T0 + 1_000,
        false,
    )
    .await
    .unwrap();
    let mut dropped = Vec::new();
    for s in 1..=60 {
        let now = T0 + s * 1_000;
        if s % 5 == 0 {
            touch(&e, &buyers[..1], now).await;
        }
        dropped.extend(e.tick(EV, now, 1).await.unwrap().dropped);
    }
    assert_eq!(dropped, vec![2], "{kind:?}: only the buyer who left");
    let places = e.places(EV, &buyers[..1], T0 + 60_000).await.unwrap();
    assert_eq!(places, vec![Some(Place::Waiting { seq: 1 })], "{kind:?}");
}

async fn after_a_gap_in_admission_steps_nobody_is_dropped_until_heartbeats_had_a_lease(
    kind: Engine,
) {
    let e = leased(kind, 15_000).await;
    let mut c = cfg(1.0, 100);
    c.grace_ms = 1_000;
    c.paused = true;
    e.configure(EV, &c).await.unwrap();
    e.reserve(EV, 1_000, &Counters::default()).await.unwrap();
    let buyers = join_n(&e, 2, T0).await;
    e.tick(EV, T0, 1).await.unwrap();
    // No instance reached the store for 20 s (an outage): both buyers' presence ran
    // out meanwhile, but neither could have been heard.
    let after = e.tick(EV, T0 + 20_000, 2).await.unwrap();
    assert!(after.dropped.is_empty(), "{kind:?}: {after:?}");
    // Steps run every second again. Buyer 0's room comes back and renews; buyer 1
    // never does, and is dropped once the lease has passed.
    touch(&e, &buyers[..1], T0 + 21_000).await;
    let mut dropped = Vec::new();
    for s in 21..=36 {
        dropped.extend(e.tick(EV, T0 + s * 1_000, 3).await.unwrap().dropped);
        if s < 35 {
            assert!(dropped.is_empty(), "{kind:?}: dropped at {s} s");
        }
    }
    assert_eq!(dropped, vec![2], "{kind:?}");
}

async fn an_engine_asks_for_settings_and_numbers_before_it_hands_out_a_place(kind: Engine) {
    let e = engine(kind).await;
    let b = BuyerId::random();
    let err = e.join(EV, b, None, T0, 1).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<JoinRefusal>(),
        Some(&JoinRefusal::Unconfigured),
        "{kind:?}"
    );
    e.configure(EV, &cfg(1.0, 10)).await.unwrap();
    let err = e.join(EV, b, None, T0, 1).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<JoinRefusal>(),
        Some(&JoinRefusal::OutOfNumbers),
        "{kind:?}"
    );
    e.reserve(EV, 2, &Counters::default()).await.unwrap();
    join_n(&e, 2, T0).await;
    let err = e.join(EV, b, None, T0, 1).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<JoinRefusal>(),
        Some(&JoinRefusal::OutOfNumbers),
        "{kind:?}: the third number was not reserved"
    );
}

async fn an_engine_that_lost_its_data_puts_buyers_back_at_their_numbers_and_never_reuses_one(
    kind: Engine,
) {
    let before = setup(kind, cfg(1.0, 10)).await;
    let buyers = join_n(&before, 4, T0).await;
    let first = before.tick(EV, T0, 1).await.unwrap();
    assert_eq!(first.admitted.len(), 1, "{kind:?}");
    let c = before.counters(EV).await.unwrap().expect("counters");
    assert_eq!((c.seq, c.head, c.salt), (4, 1, 7), "{kind:?}");

    // The store starts over, empty (a new engine: a fresh Redis prefix or process).
    let e = engine(kind).await;
    e.configure(EV, &cfg(1.0, 10)).await.unwrap();
    // The database's checkpoint: numbers up to 1,000,000 were reserved.
    let checkpoint = Counters {
        seq: 1_000_000,
        seq_limit: 1_000_000,
        head: 1,
        admitted_total: 1,
        opened: true,
        salt: 7,
        pre: 0,
        issued: 4,
    };
    assert!(e.reserve(EV, 1_000_256, &checkpoint).await.unwrap());
    assert!(
        !e.reserve(EV, 1_000_512, &checkpoint).await.unwrap(),
        "once"
    );
    // Buyer 3 reloads with a credential carrying number 3; buyer 2 is still connected
    // and their room's heartbeat puts them back at 2; then a newcomer.
    let back = e.join(EV, buyers[2], Some(3), T0 + 10, 1).await.unwrap();
    assert_eq!(
        (back.place.clone(), back.resumed),
        (Place::Waiting { seq: 3 }, true)
    );
    let present = [Presence {
        buyer: buyers[1],
        seq: Some(2),
    }];
    e.touch(EV, &present, T0 + 10, true).await.unwrap();
    let newcomer = BuyerId::random();
    let new = e.join(EV, newcomer, None, T0 + 10, 1).await.unwrap();
    assert_eq!(new.place, Place::Waiting { seq: 1_000_001 }, "{kind:?}");
    // A claim counts only when the store lost the buyer: the newcomer cannot jump.
    let again = e.join(EV, newcomer, Some(1), T0 + 11, 1).await.unwrap();
    assert_eq!(again.place, Place::Waiting { seq: 1_000_001 }, "{kind:?}");
    // Admission goes in number order; the same number gives the same token id.
    let mut c = cfg(1000.0, 10);
    c.opens_at_ms = T0;
    e.configure(EV, &c).await.unwrap();
    let r = e.tick(EV, T0 + 20, 2).await.unwrap();
    let order: Vec<(String, String)> = r
        .admitted
        .iter()
        .map(|a| (a.buyer.to_string(), a.jti.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            (buyers[1].to_string(), jti_for(EV, 2, 7)),
            (buyers[2].to_string(), jti_for(EV, 3, 7)),
            (newcomer.to_string(), jti_for(EV, 1_000_001, 7)),
        ],
        "{kind:?}"
    );
    assert_eq!(first.admitted[0].jti, jti_for(EV, 1, 7), "{kind:?}");
}

async fn after_a_restore_admission_waits_one_lease_for_connected_buyers_to_come_back(kind: Engine) {
    let e = leased(kind, 15_000).await;
    e.configure(EV, &cfg(1000.0, 100)).await.unwrap();
    let checkpoint = Counters {
        seq: 500,
        seq_limit: 500,
        head: 10,
        opened: true,
        salt: 7,
        ..Counters::default()
    };
    assert!(e.reserve(EV, 1_000, &checkpoint).await.unwrap());
    let newcomer = BuyerId::random();
    e.join(EV, newcomer, None, T0, 1).await.unwrap();
    assert!(
        e.tick(EV, T0, 1).await.unwrap().admitted.is_empty(),
        "{kind:?}"
    );
    // A connected buyer's room puts them back within the lease, ahead of the newcomer.
    let back = BuyerId::random();
    let present = [Presence {
        buyer: back,
        seq: Some(42),
    }];
    e.touch(EV, &present, T0 + 5_000, true).await.unwrap();
    let mut admitted = Vec::new();
    for s in 1..=16 {
        let r = e.tick(EV, T0 + s * 1_000, 2).await.unwrap();
        if s < 15 {
            assert!(r.admitted.is_empty(), "{kind:?}: admitted at {s} s");
        }
        admitted.extend(r.admitted.into_iter().map(|a| a.buyer));
    }
    assert_eq!(admitted, vec![back, newcomer], "{kind:?}");
    // A brand-new event (nothing reserved before) does not wait.
    let fresh = leased(kind, 15_000).await;
    fresh.configure(EV, &cfg(1000.0, 100)).await.unwrap();
    fresh
        .reserve(EV, 1_000, &Counters::default())
        .await
        .unwrap();
    fresh
        .join(EV, BuyerId::random(), None, T0, 1)
        .await
        .unwrap();
    let r = fresh.tick(EV, T0, 1).await.unwrap();
    assert_eq!(r.admitted.len(), 1, "{kind:?}");
}

engine_test!(
    buyers_after_opening_get_queue_numbers_in_join_order_and_are_admitted_in_that_order,
    pre_queue_buyers_are_shuffled_at_opening_and_all_come_before_later_buyers,
    joining_again_returns_the_same_place,
    joins_at_once_each_get_one_place_and_no_number_twice,
    admission_follows_the_configured_rate_in_small_batches,
    the_cap_on_active_buyers_holds_and_a_finished_session_frees_a_slot,
    an_expired_entry_session_frees_its_slot,
    a_buyer_gone_past_the_grace_period_is_skipped_and_returns_at_the_back,
    a_waiting_buyer_who_is_not_yet_at_the_front_is_dropped_after_grace_too,
    revoking_a_buyer_frees_the_place_and_bars_rejoining,
    leaving_takes_the_buyer_out_of_line,
    a_paused_room_admits_nobody,
    admissions_are_announced_on_the_bus,
    a_connected_buyer_is_never_dropped_even_with_a_zero_grace_period,
    after_a_gap_in_admission_steps_nobody_is_dropped_until_heartbeats_had_a_lease,
    an_engine_asks_for_settings_and_numbers_before_it_hands_out_a_place,
    an_engine_that_lost_its_data_puts_buyers_back_at_their_numbers_and_never_reuses_one,
    after_a_restore_admission_waits_one_lease_for_connected_buyers_to_come_back,
);
