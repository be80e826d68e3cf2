//! Conformance of the seat half of every engine (memory always, Redis when REDIS_URL is
//! set): holds are all or nothing, at most `max` seats per buyer (held and bought), seat
//! ids outside the map, releases of one's own seats only, expiry at a given time, the
//! booking steps (begin, sold, failed, entered again, replayed), sales marked from the
//! database, the one-session-per-token rule, and many buyers racing for the same seats.
//! Then what a store that lost its data relies on: seat requests wait for the restore, the
//! restore puts holds and sales back once, a booking whose outcome is unknown can be
//! entered again, and an admission can be restored from its token. Manual times: no sleeps.

use std::sync::Arc;

use crate::{Engine, fresh};
use usher::engine::seats::{
    AdmissionProof, Block, Inventory, RestoredHold, SeatEngine, SeatRefusal, SeatRestore,
    SeatStates, SessionClaim,
};
use usher::engine::{Counters, Place, QueueEngine};
use usher::events::RoomConfig;
use usher::identity::BuyerId;

const T0: i64 = 1_800_000_000_000;
const EV: i64 = 1;
const HOLD: i64 = 300_000;

async fn engine(kind: Engine) -> (Arc<dyn QueueEngine>, Arc<dyn SeatEngine>) {
    fresh(kind, None).await
}

fn held_seats(states: &SeatStates) -> Vec<(u32, String, i64)> {
    states.held.clone()
}

/// A buyer id as the seat states show it.
fn id(b: BuyerId) -> String {
    b.to_string()
}

/// Sorted, so that engines that answer in another order compare equal.
fn sorted(mut seats: Vec<u32>) -> Vec<u32> {
    seats.sort_unstable();
    seats
}

/// An engine with the event's 10 seats.
async fn with_seats(kind: Engine) -> (Arc<dyn QueueEngine>, Arc<dyn SeatEngine>) {
    let (queue, seats) = engine(kind).await;
    seats.init_seats(EV, Inventory::single(10)).await.unwrap();
    (queue, seats)
}

/// Lets `n` new buyers in at `T0` (a room with numbers reserved, joined, one admission
/// step) and returns each with their token id; their entry sessions end at `T0 + 60 s`.
async fn admit(queue: &Arc<dyn QueueEngine>, n: usize) -> Vec<(BuyerId, String)> {
    let cfg = RoomConfig {
        rate: 1000.0,
        max_active: 100,
        session_ms: 60_000,
        grace_ms: 10_000,
        opens_at_ms: T0,
        paused: false,
        ended: false,
    };
    queue.configure(EV, &cfg).await.unwrap();
    let fresh = Counters {
        salt: 7,
        ..Counters::default()
    };
    queue.reserve(EV, 1_000, &fresh).await.unwrap();
    let buyers: Vec<BuyerId> = (0..n).map(|_| BuyerId::random()).collect();
    for b in &buyers {
        queue.join(EV, *b, None, T0, rand::random()).await.unwrap();
    }
    let report = queue.tick(EV, T0, 1).await.unwrap();
    assert_eq!(report.admitted.len(), n, "everyone admitted at once");
    buyers
        .into_iter()
        .zip(report.admitted)
        .map(|(b, a)| {
            assert_eq!(a.buyer, b);
            assert_eq!(a.exp_ms, T0 + 60_000);
            (b, a.jti)
        })
        .collect()
}

async fn a_hold_is_all_or_nothing(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, b) = (BuyerId::random(), BuyerId::random());
    let exp = seats.hold(EV, a, &[3], T0, HOLD, 4).await.unwrap();
    assert_eq!(exp, Ok(T0 + HOLD), "{kind:?}: the hold's expiry");
    assert_eq!(seats.mark_sold(EV, &[(5, id(a))]).await.unwrap(), 1);
    let before = seats.seat_states(EV).await.unwrap();
    assert_eq!(before.held, vec![(3, id(a), T0 + HOLD)], "{kind:?}");
    assert_eq!(before.sold, vec![5], "{kind:?}");

    // One seat held by someone else refuses the whole list, wherever it stands in it.
    let r = seats.hold(EV, b, &[1, 2, 3], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(3)), "{kind:?}");
    let r = seats.hold(EV, b, &[3, 4], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(3)), "{kind:?}");
    // So does a sold one.
    let r = seats.hold(EV, b, &[6, 5], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(5)), "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), before, "{kind:?}");

    // The refused holds counted for nothing: the free seats are all still there, and
    // the buyer's limit is whole.
    let r = seats
        .hold(EV, b, &[1, 2, 4, 6], T0 + 10, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Ok(T0 + 10 + HOLD), "{kind:?}");
    let after = seats.seat_states(EV).await.unwrap();
    let e = T0 + 10 + HOLD;
    assert_eq!(
        after.held,
        vec![
            (1, id(b), e),
            (2, id(b), e),
            (3, id(a), T0 + HOLD),
            (4, id(b), e),
            (6, id(b), e)
        ],
        "{kind:?}"
    );
}

async fn a_buyer_holds_at_most_max_seats_counting_every_hold_and_every_seat_bought(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (b, other) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, b, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    // Across holds: 2 held + 3 asked is over 4, and nothing of it is held.
    let r = seats.hold(EV, b, &[2, 3, 4], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
    assert_eq!(
        seats.seat_states(EV).await.unwrap().held.len(),
        2,
        "{kind:?}"
    );
    // Exactly the limit is fine.
    seats
        .hold(EV, b, &[2, 3], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let r = seats.hold(EV, b, &[4], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");

    // Bought seats count as much as held ones.
    let list = seats
        .begin_booking(EV, b, 0, T0, 30_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sorted(list.clone()), vec![0, 1, 2, 3], "{kind:?}");
    seats.end_booking(EV, b, &list, true).await.unwrap();
    let r = seats.hold(EV, b, &[4], T0, HOLD, 4).await.unwrap();
    assert_eq!(
        r,
        Err(SeatRefusal::TooManySeats(4)),
        "{kind:?}: 4 bought + 1"
    );
    // The limit is the caller's: with a higher one the same buyer may hold the rest.
    let r = seats.hold(EV, b, &[4, 5], T0, HOLD, 6).await.unwrap();
    assert!(r.is_ok(), "{kind:?}: {r:?}");
    let r = seats.hold(EV, b, &[6], T0, HOLD, 6).await.unwrap();
    assert_eq!(
        r,
        Err(SeatRefusal::TooManySeats(6)),
        "{kind:?}: 4 bought + 2 held + 1"
    );

    // The limit is checked before the seats: a taken seat over the limit is TooManySeats.
    seats
        .hold(EV, other, &[7], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let r = seats.hold(EV, b, &[7], T0, HOLD, 6).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(6)), "{kind:?}");
}

async fn a_seat_outside_the_map_is_unknown_and_refuses_the_whole_hold(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let b = BuyerId::random();
    for (list, bad) in [
        (vec![10], 10),
        (vec![0, 9, 10], 10),
        (vec![u32::MAX, 1], u32::MAX),
    ] {
        let r = seats.hold(EV, b, &list, T0, HOLD, 4).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::UnknownSeat(bad)), "{kind:?}: {list:?}");
    }
    // Checked before the limit.
    let r = seats
        .hold(EV, b, &[0, 1, 2, 3, 4, 11], T0, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::UnknownSeat(11)), "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), SeatStates::default());
    // The last seat of the map is in it.
    let r = seats.hold(EV, b, &[9], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
}

async fn holding_a_seat_you_already_hold_is_refused_as_taken_and_does_not_renew_the_hold(
    kind: Engine,
) {
    let (_, seats) = with_seats(kind).await;
    let b = BuyerId::random();
    seats.hold(EV, b, &[2], T0, HOLD, 4).await.unwrap().unwrap();
    let r = seats.hold(EV, b, &[2], T0 + 1_000, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(2)), "{kind:?}");
    let r = seats
        .hold(EV, b, &[3, 2], T0 + 1_000, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(2)), "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(
        states.held,
        vec![(2, id(b), T0 + HOLD)],
        "{kind:?}: not renewed"
    );
    // It ends at the first hold's expiry.
    let freed = seats.expire_holds(EV, T0 + HOLD).await.unwrap();
    assert_eq!(freed, vec![2], "{kind:?}");
}

async fn a_buyer_releases_only_their_own_held_seats_and_all_or_nothing(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, b, c) = (BuyerId::random(), BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, a, &[0, 1], T0, HOLD, 2)
        .await
        .unwrap()
        .unwrap();
    seats.hold(EV, b, &[2], T0, HOLD, 4).await.unwrap().unwrap();
    seats.hold(EV, c, &[8], T0, HOLD, 4).await.unwrap().unwrap();
    seats.mark_sold(EV, &[(9, id(a))]).await.unwrap();
    let c_list = seats
        .begin_booking(EV, c, 0, T0, 30_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c_list, vec![8], "{kind:?}");
    let before = seats.seat_states(EV).await.unwrap();

    // Another's seat, a free seat, a sold seat (even one's own), a booking in progress
    // (even one's own): each refuses the whole release.
    for (who, list, bad) in [
        (a, vec![0, 2], 2),
        (a, vec![5, 0], 5),
        (a, vec![1, 9], 9),
        (a, vec![8], 8),
        (c, vec![8], 8),
    ] {
        let r = seats.release(EV, who, &list).await.unwrap();
        assert_eq!(r, Err(SeatRefusal::NotYourSeat(bad)), "{kind:?}: {list:?}");
    }
    assert_eq!(seats.seat_states(EV).await.unwrap(), before, "{kind:?}");

    // One's own held seats go back, free for anyone.
    seats.release(EV, a, &[0]).await.unwrap().unwrap();
    let r = seats.hold(EV, b, &[0], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}: free again");
    let r = seats.release(EV, a, &[0]).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NotYourSeat(0)), "{kind:?}: now b's");
    // Released seats no longer count toward the buyer's limit: with 1 held and 1 bought
    // of 2, one more only after a release.
    let r = seats.hold(EV, a, &[3], T0, HOLD, 2).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(2)), "{kind:?}");
    seats.release(EV, a, &[1]).await.unwrap().unwrap();
    let r = seats.hold(EV, a, &[3], T0, HOLD, 2).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    let held: Vec<(u32, String)> = states.held.into_iter().map(|(s, by, _)| (s, by)).collect();
    assert_eq!(
        held,
        vec![(0, id(b)), (2, id(b)), (3, id(a)), (8, id(c))],
        "{kind:?}"
    );
}

async fn expired_holds_come_back_at_their_expiry_and_not_before(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, b, c) = (BuyerId::random(), BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, a, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    seats
        .hold(EV, b, &[5], T0 + 1_000, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let before = seats.seat_states(EV).await.unwrap();

    assert!(seats.expire_holds(EV, T0).await.unwrap().is_empty());
    let early = seats.expire_holds(EV, T0 + HOLD - 1).await.unwrap();
    assert!(early.is_empty(), "{kind:?}: {early:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), before, "{kind:?}");
    let r = seats
        .hold(EV, c, &[0], T0 + HOLD - 1, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(0)), "{kind:?}: still held");

    // At the expiry itself the seats come back, and are returned.
    let freed = seats.expire_holds(EV, T0 + HOLD).await.unwrap();
    assert_eq!(sorted(freed), vec![0, 1], "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(states.held, vec![(5, id(b), T0 + 1_000 + HOLD)], "{kind:?}");
    // Long after, the rest; each seat is returned once.
    let freed = seats.expire_holds(EV, T0 + 10 * HOLD).await.unwrap();
    assert_eq!(freed, vec![5], "{kind:?}");
    assert!(
        seats
            .expire_holds(EV, T0 + 10 * HOLD)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(seats.seat_states(EV).await.unwrap(), SeatStates::default());

    // Free for others, and no longer the expired holder's: nothing to book, the whole
    // limit to hold again.
    let r = seats.hold(EV, c, &[0], T0 + HOLD, HOLD, 4).await.unwrap();
    assert!(r.is_ok(), "{kind:?}: {r:?}");
    let r = seats
        .begin_booking(EV, a, 0, T0 + HOLD, 30_000)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}");
    let r = seats
        .hold(EV, a, &[1, 2, 3, 4], T0 + HOLD, HOLD, 4)
        .await
        .unwrap();
    assert!(r.is_ok(), "{kind:?}: {r:?}");
}

async fn a_booking_needs_a_hold_that_has_not_run_out(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, b) = (BuyerId::random(), BuyerId::random());
    let r = seats.begin_booking(EV, a, 0, T0, 30_000).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}: nothing held");

    seats.hold(EV, a, &[0], T0, HOLD, 4).await.unwrap().unwrap();
    seats
        .hold(EV, a, &[1], T0 + 10_000, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    seats.hold(EV, b, &[2], T0, HOLD, 4).await.unwrap().unwrap();
    let before = seats.seat_states(EV).await.unwrap();
    // One hold run out (at its expiry exactly), not yet swept: the whole booking is
    // refused, and nothing changes (seat 0 is not kept from the sweep).
    let r = seats
        .begin_booking(EV, a, 0, T0 + HOLD, 30_000)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::HoldExpired), "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), before, "{kind:?}");
    let freed = seats.expire_holds(EV, T0 + HOLD).await.unwrap();
    assert_eq!(sorted(freed), vec![0, 2], "{kind:?}");
    // Swept: what is left is booked.
    let r = seats
        .begin_booking(EV, a, 0, T0 + HOLD, 30_000)
        .await
        .unwrap();
    assert_eq!(r, Ok(vec![1]), "{kind:?}");
    // A hold swept entirely: nothing held any more.
    let r = seats
        .begin_booking(EV, b, 0, T0 + HOLD, 30_000)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}");
}

async fn a_booking_keeps_its_seats_from_expiry_for_its_window_only(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, other) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, a, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let begin = T0 + HOLD - 10_000;
    let list = seats.begin_booking(EV, a, 0, begin, 30_000).await.unwrap();
    assert_eq!(list.map(sorted), Ok(vec![0, 1]), "{kind:?}");
    // The seats still show the hold's own expiry.
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(
        states.held,
        vec![(0, id(a), T0 + HOLD), (1, id(a), T0 + HOLD)],
        "{kind:?}"
    );
    // Past the hold's expiry but inside the window: kept, and still not anyone else's.
    assert!(seats.expire_holds(EV, T0 + HOLD).await.unwrap().is_empty());
    assert!(
        seats
            .expire_holds(EV, begin + 29_999)
            .await
            .unwrap()
            .is_empty()
    );
    let r = seats
        .hold(EV, other, &[1], begin + 29_999, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(1)), "{kind:?}");
    // A booking that never ended (its instance died) is freed at the window's end.
    let freed = seats.expire_holds(EV, begin + 30_000).await.unwrap();
    assert_eq!(sorted(freed), vec![0, 1], "{kind:?}");
    let r = seats
        .begin_booking(EV, a, 0, begin + 30_000, 30_000)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}");
}

async fn a_sale_marks_the_seats_sold_and_ends_the_buyers_entry_session(kind: Engine) {
    let (queue, seats) = with_seats(kind).await;
    let admitted = admit(&queue, 2).await;
    let (b, jti) = admitted[0].clone();
    let (other, other_jti) = admitted[1].clone();
    let claim = |who, jti: String, sid, now| {
        let seats = seats.clone();
        async move {
            seats
                .claim_session(EV, who, &jti, sid, now, 15_000, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim(b, jti.clone(), "s1", T0).await, SessionClaim::Granted);
    assert_eq!(queue.snapshot(EV, T0).await.unwrap().active, 2, "{kind:?}");

    seats
        .hold(EV, b, &[3, 4], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    seats
        .hold(EV, other, &[5], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let list = seats
        .begin_booking(EV, b, 0, T0 + 1_000, 30_000)
        .await
        .unwrap();
    let list = list.unwrap();
    assert_eq!(sorted(list.clone()), vec![3, 4], "{kind:?}");
    seats.end_booking(EV, b, &list, true).await.unwrap();

    assert_eq!(seats.sold_count(EV).await.unwrap(), 2, "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(states.sold, vec![3, 4], "{kind:?}");
    assert_eq!(states.held, vec![(5, id(other), T0 + HOLD)], "{kind:?}");
    // Sold seats never expire and cannot be held or released.
    let freed = seats.expire_holds(EV, T0 + 10 * HOLD).await.unwrap();
    assert_eq!(freed, vec![5], "{kind:?}: only the other buyer's hold");
    let r = seats.hold(EV, other, &[4], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(4)), "{kind:?}");
    let r = seats.release(EV, b, &[3]).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NotYourSeat(3)), "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap().sold, vec![3, 4]);

    // The buyer's entry session is over: the slot is free and the seat map is closed to
    // the token, even to the socket that had it; the other buyer's is untouched.
    assert_eq!(queue.snapshot(EV, T0).await.unwrap().active, 1, "{kind:?}");
    let r = claim(b, jti.clone(), "s1", T0 + 2_000).await;
    assert_eq!(r, SessionClaim::Ended, "{kind:?}");
    let r = claim(other, other_jti, "s2", T0 + 2_000).await;
    assert_eq!(r, SessionClaim::Granted, "{kind:?}");
}

async fn a_failed_booking_puts_the_seats_back_on_hold_until_the_holds_own_expiry(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, other) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, a, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let before = seats.seat_states(EV).await.unwrap();
    let list = seats
        .begin_booking(EV, a, 0, T0 + 1_000, 600_000)
        .await
        .unwrap();
    let list = list.unwrap();
    seats.end_booking(EV, a, &list, false).await.unwrap();
    assert_eq!(seats.seat_states(EV).await.unwrap(), before, "{kind:?}");
    assert_eq!(seats.sold_count(EV).await.unwrap(), 0, "{kind:?}");
    // Held again: releasable, not takeable, and booked again with a new try.
    let r = seats
        .hold(EV, other, &[0], T0 + 2_000, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(0)), "{kind:?}");
    let again = seats
        .begin_booking(EV, a, 0, T0 + 2_000, 30_000)
        .await
        .unwrap();
    assert_eq!(again.map(sorted), Ok(vec![0, 1]), "{kind:?}");
    seats.end_booking(EV, a, &list, false).await.unwrap();
    seats.release(EV, a, &[1]).await.unwrap().unwrap();
    // The long window of the failed booking no longer protects them: they end with the
    // hold.
    let freed = seats.expire_holds(EV, T0 + HOLD).await.unwrap();
    assert_eq!(freed, vec![0], "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), SeatStates::default());
}

async fn a_booking_replayed_after_its_sale_is_already_booked(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (a, b) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, a, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let list = seats
        .begin_booking(EV, a, 0, T0, 30_000)
        .await
        .unwrap()
        .unwrap();
    seats.end_booking(EV, a, &list, true).await.unwrap();
    let r = seats.begin_booking(EV, a, 0, T0 + 1, 30_000).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::AlreadyBooked), "{kind:?}");
    // The same for a buyer whose sale the engine learnt from the database.
    seats.mark_sold(EV, &[(7, id(b))]).await.unwrap();
    let r = seats.begin_booking(EV, b, 0, T0 + 1, 30_000).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::AlreadyBooked), "{kind:?}");
    assert_eq!(seats.sold_count(EV).await.unwrap(), 3, "{kind:?}");
}

async fn marking_seats_sold_is_idempotent_and_counts_toward_the_buyers_limit(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (holder, buyer) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, holder, &[0, 4], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    // The database wins over a hold: seat 0 is sold, and no longer the holder's.
    let sold = [(0, id(buyer)), (1, id(buyer)), (2, id(buyer))];
    assert_eq!(seats.mark_sold(EV, &sold).await.unwrap(), 3, "{kind:?}");
    assert_eq!(seats.mark_sold(EV, &sold).await.unwrap(), 0, "{kind:?}");
    assert_eq!(seats.mark_sold(EV, &[]).await.unwrap(), 0, "{kind:?}");
    let more = [(2, id(buyer)), (6, id(holder))];
    assert_eq!(seats.mark_sold(EV, &more).await.unwrap(), 1, "{kind:?}");
    assert_eq!(seats.sold_count(EV).await.unwrap(), 4, "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(states.sold, vec![0, 1, 2, 6], "{kind:?}");
    assert_eq!(states.held, vec![(4, id(holder), T0 + HOLD)], "{kind:?}");

    // 3 bought: one more seat, not two.
    let r = seats.hold(EV, buyer, &[7, 8], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
    seats
        .hold(EV, buyer, &[7], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    // The holder: 1 held (4) + 1 bought (6); the lost seat 0 no longer counts.
    let r = seats.hold(EV, holder, &[8, 9], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    let r = seats.hold(EV, holder, &[3], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
    // A sale the engine made itself is not counted twice.
    let list = seats
        .begin_booking(EV, buyer, 0, T0, 30_000)
        .await
        .unwrap()
        .unwrap();
    seats.end_booking(EV, buyer, &list, true).await.unwrap();
    assert_eq!(seats.mark_sold(EV, &[(7, id(buyer))]).await.unwrap(), 0);
    assert_eq!(seats.sold_count(EV).await.unwrap(), 5, "{kind:?}");
}

async fn a_refund_frees_only_seats_sold_to_that_buyer_and_gives_back_the_limit(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    let (buyer, other) = (BuyerId::random(), BuyerId::random());
    let sold = [
        (0, id(buyer)),
        (1, id(buyer)),
        (2, id(buyer)),
        (3, id(other)),
    ];
    assert_eq!(seats.mark_sold(EV, &sold).await.unwrap(), 4, "{kind:?}");
    // 3 bought: one more seat, not two.
    let r = seats.hold(EV, buyer, &[5, 6], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
    // Seat 3 is someone else's, seat 4 was never sold: both stay as they are.
    let refund = [
        (0, id(buyer)),
        (1, id(buyer)),
        (3, id(buyer)),
        (4, id(buyer)),
    ];
    assert_eq!(seats.unsell(EV, &refund).await.unwrap(), 2, "{kind:?}");
    assert_eq!(
        seats.unsell(EV, &refund).await.unwrap(),
        0,
        "again: {kind:?}"
    );
    assert_eq!(seats.sold_count(EV).await.unwrap(), 2, "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    let mut sold_now = states.sold.clone();
    sold_now.sort_unstable();
    assert_eq!(sold_now, vec![2, 3], "{kind:?}");
    // The refunded buyer has 1 bought now: three more fit.
    let r = seats
        .hold(EV, buyer, &[5, 6, 7], T0, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    // A seat refunded is on sale again for anyone.
    let r = seats.hold(EV, other, &[0], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    // Without a named buyer (the reconciliation), any sold seat is freed.
    assert_eq!(seats.unsell(EV, &[(3, String::new())]).await.unwrap(), 1);
    assert_eq!(seats.sold_count(EV).await.unwrap(), 1, "{kind:?}");
}

async fn a_refund_that_frees_the_last_seats_puts_the_event_back_on_sale(kind: Engine) {
    let (_, seats) = engine(kind).await;
    seats.init_seats(EV, Inventory::single(2)).await.unwrap();
    let buyer = BuyerId::random();
    let sold = [(0, id(buyer)), (1, id(buyer))];
    assert_eq!(seats.mark_sold(EV, &sold).await.unwrap(), 2, "{kind:?}");
    let r = seats
        .hold(EV, BuyerId::random(), &[0], T0, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(0)), "{kind:?}");
    assert_eq!(seats.unsell(EV, &sold).await.unwrap(), 2, "{kind:?}");
    let r = seats
        .hold(EV, BuyerId::random(), &[0, 1], T0, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
}

/// Three performances of a 4-seat map: engine seats 0-3, 4-7 and 8-11.
const THREE: Inventory = Inventory {
    seats: 4,
    performances: 3,
};

async fn performances_have_their_own_seats_limits_and_bookings(kind: Engine) {
    let (queue, seats) = engine(kind).await;
    seats.init_seats(EV, THREE).await.unwrap();
    let admitted = admit(&queue, 2).await;
    let (a, b) = (admitted[0].0, admitted[1].0);
    // The same place in two performances is two seats.
    assert_eq!(
        seats.hold(EV, a, &[1], T0, HOLD, 4).await.unwrap(),
        Ok(T0 + HOLD)
    );
    assert_eq!(
        seats.hold(EV, b, &[5], T0, HOLD, 4).await.unwrap(),
        Ok(T0 + HOLD)
    );
    // One hold is of one performance: a list across two is refused whole.
    let r = seats.hold(EV, b, &[6, 9], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::UnknownSeat(9)), "{kind:?}");
    // The limit is per performance: a holds 1 in the first, then 4 in the second.
    let r = seats
        .hold(EV, a, &[8, 9, 10, 11], T0, HOLD, 4)
        .await
        .unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    let r = seats.hold(EV, a, &[0, 2, 3], T0, HOLD, 4).await.unwrap();
    assert_eq!(
        r,
        Ok(T0 + HOLD),
        "{kind:?}: 4 in the first, with the 1 held"
    );
    let r = seats.hold(EV, b, &[4, 6, 7], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok(T0 + HOLD), "{kind:?}");
    // A booking takes the holds of its performance only.
    let r = seats.begin_booking(EV, a, 2, T0, 30_000).await.unwrap();
    assert_eq!(r.map(sorted), Ok(vec![8, 9, 10, 11]), "{kind:?}");
    seats
        .end_booking(EV, a, &[8, 9, 10, 11], true)
        .await
        .unwrap();
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(sorted(states.sold), vec![8, 9, 10, 11], "{kind:?}");
    let held: Vec<u32> = sorted(states.held.iter().map(|h| h.0).collect());
    assert_eq!(
        held,
        vec![0, 1, 2, 3, 4, 5, 6, 7],
        "{kind:?}: the first performance's holds stay"
    );
    // The seats bought count in their performance only.
    let r = seats.begin_booking(EV, a, 2, T0, 30_000).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::AlreadyBooked), "{kind:?}");
    let r = seats.begin_booking(EV, b, 1, T0, 30_000).await.unwrap();
    assert_eq!(r.map(sorted), Ok(vec![4, 5, 6, 7]), "{kind:?}");
    // A refund gives the seats back to their performance's limit.
    let sold: Vec<(u32, String)> = [8, 9].iter().map(|s| (*s, id(a))).collect();
    assert_eq!(seats.unsell(EV, &sold).await.unwrap(), 2, "{kind:?}");
    assert_eq!(seats.sold_count(EV).await.unwrap(), 2, "{kind:?}");
}

async fn the_room_is_sold_out_only_when_every_performance_is(kind: Engine) {
    let (queue, seats) = engine(kind).await;
    let two = Inventory {
        seats: 2,
        performances: 2,
    };
    seats.init_seats(EV, two).await.unwrap();
    let buyer = BuyerId::random();
    seats
        .mark_sold(EV, &[(0, id(buyer)), (1, id(buyer))])
        .await
        .unwrap();
    let snap = queue.snapshot(EV, T0).await.unwrap();
    assert!(!snap.sold_out, "{kind:?}: the second performance has seats");
    seats
        .mark_sold(EV, &[(2, id(buyer)), (3, id(buyer))])
        .await
        .unwrap();
    assert!(queue.snapshot(EV, T0).await.unwrap().sold_out, "{kind:?}");
    // A seat outside every performance is unknown.
    let r = seats.hold(EV, buyer, &[4], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::UnknownSeat(4)), "{kind:?}");
    // A restore keeps the performances: the limit and the sold-out state come back.
    let (_, fresh_seats) = engine(kind).await;
    let restore = SeatRestore {
        holds: vec![],
        sold: (0..4).map(|s| (s, id(buyer))).collect(),
    };
    assert!(
        fresh_seats
            .restore_seats(EV, two, &restore, T0)
            .await
            .unwrap()
    );
    let unsold: Vec<(u32, String)> = vec![(3, id(buyer))];
    assert_eq!(fresh_seats.unsell(EV, &unsold).await.unwrap(), 1);
    let r = fresh_seats
        .hold(EV, buyer, &[3], T0, HOLD, 2)
        .await
        .unwrap();
    assert_eq!(
        r,
        Ok(T0 + HOLD),
        "{kind:?}: 1 bought + 1 held in the second, limit 2"
    );
    let r = fresh_seats
        .begin_booking(EV, buyer, 0, T0, 1000)
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::AlreadyBooked), "{kind:?}");
}

fn block(seats: &[u32], left: [Option<u32>; 2], right: [Option<u32>; 2]) -> Block {
    Block {
        seats: seats.to_vec(),
        left,
        right,
    }
}

async fn best_available_holds_the_first_free_block_that_leaves_no_seat_alone(kind: Engine) {
    // One row of the event's 10 seats: 0 … 9.
    let (_, seats) = with_seats(kind).await;
    let (a, b) = (BuyerId::random(), BuyerId::random());
    assert_eq!(
        seats.hold(EV, b, &[5], T0, HOLD, 4).await.unwrap(),
        Ok(T0 + HOLD)
    );
    let blocks = [
        // First a block over seat 5, which b holds.
        block(&[5, 6], [Some(4), Some(3)], [Some(7), Some(8)]),
        // 1-2 leaves seat 0 alone at the row's end.
        block(&[1, 2], [Some(0), None], [Some(3), Some(4)]),
        // 3-4: seat 2 free with 1 free beyond it, seat 5 taken: nobody is left alone.
        block(&[3, 4], [Some(2), Some(1)], [Some(5), Some(6)]),
    ];
    let r = seats.hold_best(EV, a, &blocks, T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Ok((vec![3, 4], T0 + HOLD)), "{kind:?}");
    let held = held_seats(&seats.seat_states(EV).await.unwrap());
    let mine: Vec<u32> = held.iter().filter(|h| h.1 == id(a)).map(|h| h.0).collect();
    assert_eq!(sorted(mine), vec![3, 4], "{kind:?}");
    // Nothing qualifies: refused, nothing held.
    let r = seats
        .hold_best(
            EV,
            a,
            &[block(&[4, 5], [None, None], [None, None])],
            T0,
            HOLD,
            4,
        )
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::NoBlock), "{kind:?}");
    // The limit counts as for a hold: a holds 2, so 3 more are too many.
    let r = seats
        .hold_best(
            EV,
            a,
            &[block(&[7, 8, 9], [Some(6), Some(5)], [None, None])],
            T0,
            HOLD,
            4,
        )
        .await
        .unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
    assert_eq!(
        seats.seat_states(EV).await.unwrap().held.len(),
        3,
        "{kind:?}"
    );
}

async fn buyers_asking_for_best_available_at_once_never_share_a_seat(kind: Engine) {
    let (_, seats) = with_seats(kind).await;
    // Every buyer proposes the same five pairs, in the same order.
    let blocks: Vec<Block> = (0..5)
        .map(|i| block(&[2 * i, 2 * i + 1], [None, None], [None, None]))
        .collect();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (seats, blocks) = (seats.clone(), blocks.clone());
            tokio::spawn(async move {
                seats
                    .hold_best(EV, BuyerId::random(), &blocks, T0, HOLD, 4)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut got = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok((s, _)) => got.extend(s),
            Err(SeatRefusal::NoBlock) => refused += 1,
            Err(e) => panic!("{kind:?}: {e}"),
        }
    }
    assert_eq!(
        sorted(got),
        (0..10).collect::<Vec<u32>>(),
        "{kind:?}: each seat once"
    );
    assert_eq!(refused, 3, "{kind:?}");
}

async fn marking_seats_sold_before_the_engine_has_seats_changes_nothing(kind: Engine) {
    let (_, seats) = engine(kind).await;
    let b = BuyerId::random();
    let n = seats
        .mark_sold(EV, &[(0, id(b)), (1, id(b))])
        .await
        .unwrap();
    assert_eq!(n, 0, "{kind:?}");
    assert_eq!(seats.sold_count(EV).await.unwrap(), 0, "{kind:?}");
    assert_eq!(seats.seat_states(EV).await.unwrap(), SeatStates::default());
    assert!(!seats.seats_ready(EV).await.unwrap(), "{kind:?}");
    // The restore then counts every seat right: 2 sold, 8 free.
    let restore = SeatRestore {
        holds: vec![],
        sold: vec![(0, id(b)), (1, id(b))],
    };
    assert!(
        seats
            .restore_seats(EV, Inventory::single(10), &restore, T0)
            .await
            .unwrap()
    );
    let other = BuyerId::random();
    let r = seats
        .hold(EV, other, &[2, 3, 4, 5], T0, HOLD, 4)
        .await
        .unwrap();
    assert!(r.is_ok(), "{kind:?}: {r:?}");
    let r = seats.hold(EV, b, &[6, 7], T0, HOLD, 4).await.unwrap();
    assert!(r.is_ok(), "{kind:?}: {r:?}");
    let r = seats.hold(EV, b, &[8], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::TooManySeats(4)), "{kind:?}");
}

async fn a_token_has_one_seat_map_session_at_a_time_and_a_stale_one_is_taken_over(kind: Engine) {
    let (queue, seats) = with_seats(kind).await;
    let (b, jti) = admit(&queue, 1).await.remove(0);
    const STALE: i64 = 15_000;
    let claim = |sid, now| {
        let (seats, jti) = (seats.clone(), jti.clone());
        async move {
            seats
                .claim_session(EV, b, &jti, sid, now, STALE, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim("one", T0).await, SessionClaim::Granted, "{kind:?}");
    assert_eq!(claim("two", T0 + 1).await, SessionClaim::InUse, "{kind:?}");
    // The owner claims again (its heartbeat): still its, and fresh again.
    assert_eq!(claim("one", T0 + 10_000).await, SessionClaim::Granted);
    let r = claim("two", T0 + 10_000 + STALE - 1).await;
    assert_eq!(r, SessionClaim::InUse, "{kind:?}");
    // A claim not renewed for `stale_ms` is taken over.
    let r = claim("two", T0 + 10_000 + STALE).await;
    assert_eq!(r, SessionClaim::Granted, "{kind:?}");
    let r = claim("one", T0 + 10_000 + STALE).await;
    assert_eq!(r, SessionClaim::InUse, "{kind:?}");
    // Only the owner gives it back; then anyone may claim at once.
    let now = T0 + 30_000;
    seats.release_session(EV, &jti, "one").await.unwrap();
    assert_eq!(claim("one", now).await, SessionClaim::InUse, "{kind:?}");
    seats.release_session(EV, &jti, "two").await.unwrap();
    assert_eq!(claim("one", now).await, SessionClaim::Granted, "{kind:?}");
    // Another token of the same buyer is not theirs; at the session's end, nothing is.
    let r = seats
        .claim_session(EV, b, "1-99-zz", "three", now, STALE, None)
        .await
        .unwrap();
    assert_eq!(r, SessionClaim::Ended, "{kind:?}");
    let r = claim("one", T0 + 60_000).await;
    assert_eq!(r, SessionClaim::Ended, "{kind:?}: the entry session ended");
}

async fn revoked_waiting_and_unknown_buyers_get_no_seat_map_session(kind: Engine) {
    let (queue, seats) = with_seats(kind).await;
    let admitted = admit(&queue, 1).await;
    let (banned, jti) = admitted[0].clone();
    let claim = |b, jti: String, now| {
        let seats = seats.clone();
        async move {
            seats
                .claim_session(EV, b, &jti, "sid", now, 15_000, None)
                .await
                .unwrap()
        }
    };
    assert_eq!(claim(banned, jti.clone(), T0).await, SessionClaim::Granted);
    // A revoked buyer's holds go back at once; a booking in progress finishes on its own.
    seats
        .hold(EV, banned, &[0], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let list = seats
        .begin_booking(EV, banned, 0, T0, 30_000)
        .await
        .unwrap();
    assert_eq!(list, Ok(vec![0]), "{kind:?}");
    seats
        .hold(EV, banned, &[1, 2], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    assert!(queue.revoke(EV, banned).await.unwrap(), "{kind:?}");
    let r = claim(banned, jti.clone(), T0 + 1).await;
    assert_eq!(r, SessionClaim::Revoked, "{kind:?}");
    let states = seats.seat_states(EV).await.unwrap();
    assert_eq!(states.held, vec![(0, id(banned), T0 + HOLD)], "{kind:?}");

    // Never seen by the engine: unknown (the caller may prove the admission).
    let stranger = BuyerId::random();
    let r = claim(stranger, jti.clone(), T0 + 1).await;
    assert_eq!(r, SessionClaim::Unknown, "{kind:?}");
    // Still waiting in line: not admitted, so no session.
    let waiting = BuyerId::random();
    queue.join(EV, waiting, None, T0, 1).await.unwrap();
    let place = queue.places(EV, &[waiting], T0).await.unwrap().remove(0);
    assert!(matches!(place, Some(Place::Waiting { .. })), "{kind:?}");
    let r = claim(waiting, "1-2-ab".into(), T0 + 1).await;
    assert_eq!(r, SessionClaim::Ended, "{kind:?}");
}

async fn concurrent_holds_on_the_same_seats_give_each_seat_to_exactly_one_buyer(kind: Engine) {
    const NSEATS: u32 = 20;
    let (queue, seats) = engine(kind).await;
    seats
        .init_seats(EV, Inventory::single(NSEATS))
        .await
        .unwrap();
    // 50 buyers, each after 3 seats; every seat is wanted by 7 or 8 of them.
    let tasks: Vec<_> = (0..50u32)
        .map(|i| {
            let seats = seats.clone();
            let want = vec![i % NSEATS, (i + 1) % NSEATS, (i + 7) % NSEATS];
            tokio::spawn(async move {
                let b = BuyerId::random();
                let r = seats.hold(EV, b, &want, T0, HOLD, 4).await.unwrap();
                (b, want, r)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }

    let states = seats.seat_states(EV).await.unwrap();
    let mut owner: std::collections::HashMap<u32, String> = Default::default();
    for (seat, by, exp) in &states.held {
        assert!(
            *seat < NSEATS && *exp == T0 + HOLD,
            "{kind:?}: {seat} {exp}"
        );
        assert!(
            owner.insert(*seat, by.clone()).is_none(),
            "{kind:?}: {seat} twice"
        );
    }
    let mut granted = 0;
    for (b, want, r) in &results {
        match r {
            Ok(exp) => {
                assert_eq!(*exp, T0 + HOLD);
                granted += 1;
                for s in want {
                    assert_eq!(owner.get(s), Some(&id(*b)), "{kind:?}: seat {s}");
                }
            }
            Err(SeatRefusal::SeatTaken(s)) => {
                assert!(want.contains(s), "{kind:?}: {s} not asked for");
                // Taken by a winner, and nothing of this buyer's is held.
                assert!(owner.get(s).is_some_and(|o| *o != id(*b)), "{kind:?}");
                assert!(!owner.values().any(|o| *o == id(*b)), "{kind:?}");
            }
            Err(other) => panic!("{kind:?}: {other:?}"),
        }
    }
    // Every held seat is a winner's whole hold; nothing else is held.
    assert_eq!(owner.len(), granted * 3, "{kind:?}");
    assert!(granted >= 1, "{kind:?}");
    assert!(
        granted < results.len(),
        "{kind:?}: no buyer was refused, no race"
    );
    // The free count agrees: sold out exactly when every seat is held.
    let snap = queue.snapshot(EV, T0).await.unwrap();
    assert_eq!(snap.sold_out, owner.len() == NSEATS as usize, "{kind:?}");
    let freed = seats.expire_holds(EV, T0 + HOLD).await.unwrap();
    assert_eq!(freed.len(), owner.len(), "{kind:?}");
    let snap = queue.snapshot(EV, T0).await.unwrap();
    assert!(!snap.sold_out, "{kind:?}");
}

async fn an_engine_without_seats_refuses_seat_requests_and_changes_nothing(kind: Engine) {
    let (_, seats) = engine(kind).await;
    let b = BuyerId::random();
    assert!(!seats.seats_ready(EV).await.unwrap());
    let r = seats.hold(EV, b, &[0, 1], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NotReady), "{kind:?}");
    let r = seats.release(EV, b, &[0]).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NotReady), "{kind:?}");
    let r = seats.begin_booking(EV, b, 0, T0, 30_000).await.unwrap();
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

async fn a_restore_puts_back_running_holds_and_sales_once(kind: Engine) {
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
    assert!(
        seats
            .restore_seats(EV, Inventory::single(10), &restore, T0)
            .await
            .unwrap()
    );
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
    assert!(
        !seats
            .restore_seats(EV, Inventory::single(10), &again, T0)
            .await
            .unwrap()
    );
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
    let r = seats
        .begin_booking(EV, holder, 0, T0, 30_000)
        .await
        .unwrap();
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

async fn a_booking_in_progress_is_entered_again_by_its_buyer_only(kind: Engine) {
    let (_, seats) = engine(kind).await;
    seats.init_seats(EV, Inventory::single(10)).await.unwrap();
    let (b, other) = (BuyerId::random(), BuyerId::random());
    seats
        .hold(EV, b, &[2, 3], T0, 1000, 4)
        .await
        .unwrap()
        .unwrap();
    let begun = seats.begin_booking(EV, b, 0, T0, 30_000).await.unwrap();
    assert_eq!(begun.as_deref().map(<[u32]>::len), Ok(2), "{kind:?}");
    // Past the hold's own expiry, but inside the booking window: entered again.
    let again = seats
        .begin_booking(EV, b, 0, T0 + 5000, 600_000)
        .await
        .unwrap();
    assert_eq!(again.as_deref().map(<[u32]>::len), Ok(2), "{kind:?}");
    // The renewed window keeps the seats from the expiry sweep.
    let freed = seats.expire_holds(EV, T0 + 60_000).await.unwrap();
    assert!(freed.is_empty(), "{kind:?}: {freed:?}");
    let r = seats.begin_booking(EV, other, 0, T0, 30_000).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::NoHold), "{kind:?}");
    let r = seats.hold(EV, other, &[3], T0, HOLD, 4).await.unwrap();
    assert_eq!(r, Err(SeatRefusal::SeatTaken(3)), "{kind:?}");
}

async fn ending_a_booking_twice_sells_each_seat_once(kind: Engine) {
    let (_, seats) = engine(kind).await;
    seats.init_seats(EV, Inventory::single(10)).await.unwrap();
    let b = BuyerId::random();
    seats
        .hold(EV, b, &[0, 1], T0, HOLD, 4)
        .await
        .unwrap()
        .unwrap();
    let list = seats
        .begin_booking(EV, b, 0, T0, 30_000)
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

async fn an_admission_is_restored_from_its_token_only_for_a_buyer_the_engine_lost(kind: Engine) {
    let (queue, seats) = engine(kind).await;
    seats.init_seats(EV, Inventory::single(10)).await.unwrap();
    let cfg = RoomConfig {
        rate: 1000.0,
        max_active: 100,
        session_ms: 60_000,
        grace_ms: 10_000,
        opens_at_ms: T0,
        paused: false,
        ended: false,
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

engine_test!(
    a_hold_is_all_or_nothing,
    a_buyer_holds_at_most_max_seats_counting_every_hold_and_every_seat_bought,
    a_seat_outside_the_map_is_unknown_and_refuses_the_whole_hold,
    a_buyer_releases_only_their_own_held_seats_and_all_or_nothing,
    expired_holds_come_back_at_their_expiry_and_not_before,
    a_booking_needs_a_hold_that_has_not_run_out,
    a_booking_keeps_its_seats_from_expiry_for_its_window_only,
    a_sale_marks_the_seats_sold_and_ends_the_buyers_entry_session,
    a_failed_booking_puts_the_seats_back_on_hold_until_the_holds_own_expiry,
    a_booking_replayed_after_its_sale_is_already_booked,
    marking_seats_sold_is_idempotent_and_counts_toward_the_buyers_limit,
    marking_seats_sold_before_the_engine_has_seats_changes_nothing,
    a_refund_frees_only_seats_sold_to_that_buyer_and_gives_back_the_limit,
    a_refund_that_frees_the_last_seats_puts_the_event_back_on_sale,
    a_token_has_one_seat_map_session_at_a_time_and_a_stale_one_is_taken_over,
    revoked_waiting_and_unknown_buyers_get_no_seat_map_session,
    concurrent_holds_on_the_same_seats_give_each_seat_to_exactly_one_buyer,
    an_engine_without_seats_refuses_seat_requests_and_changes_nothing,
    a_restore_puts_back_running_holds_and_sales_once,
    a_booking_in_progress_is_entered_again_by_its_buyer_only,
    ending_a_booking_twice_sells_each_seat_once,
    an_admission_is_restored_from_its_token_only_for_a_buyer_the_engine_lost,
    holding_a_seat_you_already_hold_is_refused_as_taken_and_does_not_renew_the_hold,
    performances_have_their_own_seats_limits_and_bookings,
    the_room_is_sold_out_only_when_every_performance_is,
    best_available_holds_the_first_free_block_that_leaves_no_seat_alone,
    buyers_asking_for_best_available_at_once_never_share_a_seat,
);
