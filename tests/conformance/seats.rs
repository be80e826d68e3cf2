//! Conformance of the seat half of every engine (memory always, Redis when REDIS_URL is
//! set) for what a store that lost its data relies on: seat requests wait for the
//! restore, the restore puts holds and sales back once, a booking whose outcome is unknown
//! can be entered again, and an admission can be restored from its token. Manual times:
//! no sleeps.

mod common;

use std::sync::Arc;

use common::{Engine, engines};
use usher::engine::seats::{
    AdmissionProof, RestoredHold, SeatEngine, SeatRefusal, SeatRestore, SessionClaim,
};
use usher::engine::{Place, QueueEngine, memory::MemoryEngine, redis::RedisEngine};
use usher::events::RoomConfig;
use usher::identity::BuyerId;

const T0: i64 = 1_800_000_000_000;
const EV: i64 = 1;
const HOLD: i64 = 300_000;

async fn engine(kind: Engine) -> (Arc<dyn QueueEngine>, Arc<dyn SeatEngine>) {
    match kind {
        Engine::Memory => {
            let e = Arc::new(MemoryEngine::default());
            (e.clone(), e)
        }
        Engine::Redis => {
            let prefix = format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            let e = Arc::new(
                RedisEngine::connect(&common::redis_url().unwrap(), &prefix)
                    .await
                    .expect("Redis answers"),
            );
            (e.clone(), e)
        }
    }
}

fn held_seats(states: &usher::engine::seats::SeatStates) -> Vec<(u32, String, i64)> {
    states.held.clone()
}

#[tokio::test]
async fn an_engine_without_seats_refuses_seat_requests_and_changes_nothing() {
    for kind in engines() {
        let (_, seats) = engine(kind).await;
        let b = BuyerId::random();
        assert!(!seats.seats_ready(EV).await.unwrap());
        let r = seats.hold(EV, b, &[0, 1], T0, HOLD, 4).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::NotReady), "{kind:?}");
        let r = seats.release(EV, b, &[0]).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::NotReady), "{kind:?}");
        let r = seats.begin_booking(EV, b, T0, 30_000).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::NotReady), "{kind:?}");
        let c = seats
            .claim_session(EV, b, "1-1-0", "sid", T0, 15_000, None)
            .await
            .unwrap();
        assert_eq!(c, SessionClaim::NotReady, "{kind:?}");
        let states = seats.seat_states(EV).await.unwrap();
        assert!(states.held.is_empty() && states.sold.is_empty(), "{kind:?}");
        assert!(!seats.seats_ready(EV).await.unwrap(), "{kind:?}");
    }
}

#[tokio::test]
async fn a_restore_puts_back_running_holds_and_sales_once() {
    for kind in engines() {
        let (queue, seats) = engine(kind).await;
        let (holder, late, buyer, other) = (
            BuyerId::random(),
            BuyerId::random(),
            BuyerId::random(),
            BuyerId::random(),
        );
        let hold = |seat, by: BuyerId, exp| RestoredHold {
            seat,
            buyer: by.to_string(),
            expires_at_ms: exp,
        };
        let restore = SeatRestore {
            holds: vec![
                hold(0, holder, T0 + 1000),
                hold(1, holder, T0 + 2000),
                hold(2, late, T0),         // ran out: not restored
                hold(99, late, T0 + 1000), // not in the map
                hold(5, other, T0 + 1000), // sold since: the sale wins
            ],
            sold: vec![
                (5, buyer.to_string()),
                (6, buyer.to_string()),
                (7, buyer.to_string()),
            ],
        };
        assert!(seats.restore_seats(EV, 10, &restore, T0).await.unwrap());
        let states = seats.seat_states(EV).await.unwrap();
        assert_eq!(
            held_seats(&states),
            vec![
                (0, holder.to_string(), T0 + 1000),
                (1, holder.to_string(), T0 + 2000)
            ],
            "{kind:?}: the same holder and expiry"
        );
        assert_eq!(states.sold, vec![5, 6, 7], "{kind:?}");
        assert_eq!(seats.sold_count(EV).await.unwrap(), 3, "{kind:?}");

        // A second restore (another instance, a later refresh) changes nothing.
        let again = SeatRestore {
            holds: vec![hold(3, other, T0 + 1000)],
            sold: vec![],
        };
        assert!(!seats.restore_seats(EV, 10, &again, T0).await.unwrap());
        assert_eq!(seats.seat_states(EV).await.unwrap(), states, "{kind:?}");

        // The restored holds are the holder's; the sales count toward the limit.
        let r = seats.hold(EV, other, &[1, 2], T0, HOLD, 4).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::SeatTaken(1)), "{kind:?}");
        let r = seats.hold(EV, buyer, &[2, 3], T0, HOLD, 4).await.unwrap();
        assert_eq!(
            r,
            Err(SeatRefusal::TooManySeats(4)),
            "{kind:?}: 3 bought + 2"
        );
        let r = seats.begin_booking(EV, holder, T0, 30_000).await.unwrap();
        assert_eq!(
            r.map(|mut s| {
                s.sort_unstable();
                s
            }),
            Ok(vec![0, 1]),
            "{kind:?}"
        );

        // Free seats are counted right: holding the last three sells the event out.
        seats
            .hold(EV, other, &[2, 3, 4], T0, HOLD, 4)
            .await
            .unwrap()
            .unwrap();
        let r = seats.hold(EV, late, &[8, 9], T0, HOLD, 4).await.unwrap();
        assert!(r.is_ok(), "{kind:?}");
        let snap = queue.snapshot(EV, T0).await.unwrap();
        assert!(snap.sold_out, "{kind:?}: every seat held or sold");
    }
}

#[tokio::test]
async fn a_booking_in_progress_is_entered_again_by_its_buyer_only() {
    for kind in engines() {
        let (_, seats) = engine(kind).await;
        seats.init_seats(EV, 10).await.unwrap();
        let (b, other) = (BuyerId::random(), BuyerId::random());
        seats
            .hold(EV, b, &[2, 3], T0, 1000, 4)
            .await
            .unwrap()
            .unwrap();
        let begun = seats.begin_booking(EV, b, T0, 30_000).await.unwrap();
        assert_eq!(begun.as_deref().map(<[u32]>::len), Ok(2), "{kind:?}");
        // Past the hold's own expiry, but inside the booking window: entered again.
        let again = seats
            .begin_booking(EV, b, T0 + 5000, 600_000)
            .await
            .unwrap();
        assert_eq!(again.as_deref().map(<[u32]>::len), Ok(2), "{kind:?}");
        // The renewed window keeps the seats from the expiry sweep.
        let freed = seats.expire_holds(EV, T0 + 60_000).await.unwrap();
        assert!(freed.is_empty(), "{kind:?}: {freed:?}");
        let r = seats.begin_booking(EV, other, T0, 30_000).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}");
        let r = seats.hold(EV, other, &[3], T0, HOLD, 4).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::SeatTaken(3)), "{kind:?}");
    }
}

#[tokio::test]
async fn ending_a_booking_twice_sells_each_seat_once() {
    for kind in engines() {
        let (_, seats) = engine(kind).await;
        seats.init_seats(EV, 10).await.unwrap();
        let b = BuyerId::random();
        seats
            .hold(EV, b, &[0, 1], T0, HOLD, 4)
            .await
            .unwrap()
            .unwrap();
        let list = seats
            .begin_booking(EV, b, T0, 30_000)
            .await
            .unwrap()
            .unwrap();
        seats.end_booking(EV, b, &list, true).await.unwrap();
        seats.end_booking(EV, b, &list, true).await.unwrap();
        assert_eq!(seats.sold_count(EV).await.unwrap(), 2, "{kind:?}");
        // Two seats bought, so two more may be held, not zero.
        let r = seats.hold(EV, b, &[5, 6], T0, HOLD, 4).await.unwrap();
        assert!(r.is_ok(), "{kind:?}: {r:?}");
    }
}

#[tokio::test]
async fn an_admission_is_restored_from_its_token_only_for_a_buyer_the_engine_lost() {
    for kind in engines() {
        let (queue, seats) = engine(kind).await;
        seats.init_seats(EV, 10).await.unwrap();
        let cfg = RoomConfig {
            rate: 1000.0,
            max_active: 100,
            session_ms: 60_000,
            grace_ms: 10_000,
            opens_at_ms: T0,
            paused: false,
        };
        queue.configure(EV, &cfg).await.unwrap();
        let proof = |jti| AdmissionProof {
            seq: 7,
            jti,
            exp_ms: T0 + 60_000,
        };
        let claim = |b, jti, restore| {
            let seats = seats.clone();
            async move {
                seats
                    .claim_session(EV, b, jti, "sid", T0, 15_000, restore)
                    .await
                    .unwrap()
            }
        };

        // Unknown to the engine: unknown without proof, admitted again with it.
        let lost = BuyerId::random();
        assert_eq!(claim(lost, "1-7-aa", None).await, SessionClaim::Unknown);
        let granted = claim(lost, "1-7-aa", Some(proof("1-7-aa"))).await;
        assert_eq!(granted, SessionClaim::Granted, "{kind:?}");
        let place = queue.places(EV, &[lost], T0).await.unwrap().remove(0);
        match place {
            Some(Place::Admitted(a)) => {
                assert_eq!(
                    (a.seq, a.jti.as_str(), a.exp_ms),
                    (7, "1-7-aa", T0 + 60_000)
                )
            }
            other => panic!("{kind:?}: expected admitted, got {other:?}"),
        }
        let snap = queue.snapshot(EV, T0).await.unwrap();
        assert_eq!(snap.active, 1, "{kind:?}: counts toward the cap");

        // An expired proof restores nothing.
        let stale = BuyerId::random();
        let p = AdmissionProof {
            exp_ms: T0,
            ..proof("1-8-bb")
        };
        assert_eq!(claim(stale, "1-8-bb", Some(p)).await, SessionClaim::Ended);

        // A revoked buyer stays revoked whatever the token says.
        let banned = BuyerId::random();
        queue.revoke(EV, banned).await.unwrap();
        let r = claim(banned, "1-9-cc", Some(proof("1-9-cc"))).await;
        assert_eq!(r, SessionClaim::Revoked, "{kind:?}");

        // A buyer the engine knows with another token (admitted again since): the
        // other token's session is over, whatever it proves.
        let back = BuyerId::random();
        let r = claim(back, "1-2-new", Some(proof("1-2-new"))).await;
        assert_eq!(r, SessionClaim::Granted, "{kind:?}");
        let r = claim(back, "1-1-old", Some(proof("1-1-old"))).await;
        assert_eq!(r, SessionClaim::Ended, "{kind:?}");
    }
}
