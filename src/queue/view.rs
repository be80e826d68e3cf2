//! What a waiting buyer sees, as pure functions: how many people are ahead of a queue
//! number, the view of one buyer (a position never goes up while they stay in line),
//! which changes are worth pushing at once, and the `status` message of a view. The room
//! (`super::room`) calls these for every local buyer; no I/O here.

use std::collections::BTreeSet;

use usher_protocol::{RoomState, ServerMessage};

use crate::engine::queue::{Admission, RoomSnapshot};

/// What a buyer's sockets should show.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// Not computed yet.
    Pending,
    /// In the pre-queue.
    Pre {
        /// Buyers in the pre-queue.
        pre_queue: u64,
        /// Sale opening.
        opens_at_ms: i64,
    },
    /// In line.
    Waiting {
        /// Queue number (the credential carries it).
        seq: u64,
        /// People ahead still waiting.
        ahead: u64,
        /// People behind.
        behind: u64,
        /// Expected wait, seconds.
        wait_secs: Option<u64>,
        /// Admission rate used for the estimate.
        rate: f64,
        /// Admission paused.
        paused: bool,
        /// Sold out.
        sold_out: bool,
    },
    /// Let in.
    Admitted(Admission),
    /// The queue store does not answer: the buyer keeps their place (last known `ahead`).
    Unavailable {
        /// People ahead when last known (None in the pre-queue).
        ahead: Option<u64>,
    },
    /// Revoked by an operator.
    Revoked,
    /// No longer in line (left in another tab).
    Gone,
    /// The place was dropped while this socket was open (the instance could not reach the
    /// store for longer than the presence lease): the buyer must join again.
    Lost,
    /// The organiser ended the sale for good: a last `status` (state `ended`, in words),
    /// then the socket closes with 4506.
    Ended,
}

/// A pre-queue buyer's view.
pub fn pre_view(snap: &RoomSnapshot) -> View {
    View::Pre {
        pre_queue: snap.pre,
        opens_at_ms: snap.opens_at_ms,
    }
}

/// People still waiting ahead of queue number `seq`: the numbers between the head and
/// `seq`, less those who left and those in `gap` (numbers `(lo, hi]` reserved before a
/// store loss and maybe never handed out). Safe for any inputs: a number the head has
/// already passed (a buyer admitted between the engine's join and the room's attach) has
/// nobody ahead.
pub fn ahead_of(seq: u64, head: u64, departed: &BTreeSet<u64>, gap: (u64, u64)) -> u64 {
    if seq <= head.saturating_add(1) {
        return 0;
    }
    let passed = departed
        .range(head + 1..seq)
        .filter(|d| !in_gap(**d, gap))
        .count() as u64;
    (seq - head - 1)
        .saturating_sub(passed)
        .saturating_sub(skipped(head, seq, gap))
}

fn in_gap(n: u64, (lo, hi): (u64, u64)) -> bool {
    lo < n && n <= hi
}

/// How many numbers strictly between `head` and `seq` fall in the gap.
fn skipped(head: u64, seq: u64, (lo, hi): (u64, u64)) -> u64 {
    let from = head.max(lo); // exclusive
    let to = seq.saturating_sub(1).min(hi); // inclusive
    to.saturating_sub(from)
}

/// [`ahead_of`] for ascending queue numbers in one pass over the departed set: the room's
/// periodic update costs O(local buyers + departed), not a range count per buyer.
pub struct AheadCounter<'a> {
    head: u64,
    gap: (u64, u64),
    departed: std::iter::Peekable<std::collections::btree_set::Range<'a, u64>>,
    passed: u64,
}

impl<'a> AheadCounter<'a> {
    /// A counter for a room whose head is `head` (and skipped numbers `gap`).
    pub fn new(head: u64, departed: &'a BTreeSet<u64>, gap: (u64, u64)) -> AheadCounter<'a> {
        AheadCounter {
            head,
            gap,
            departed: departed.range(head.saturating_add(1)..).peekable(),
            passed: 0,
        }
    }

    /// People ahead of `seq`; call with ascending numbers.
    pub fn ahead(&mut self, seq: u64) -> u64 {
        while let Some(d) = self.departed.next_if(|d| **d < seq) {
            if !in_gap(*d, self.gap) {
                self.passed += 1;
            }
        }
        seq.saturating_sub(self.head.saturating_add(1))
            .saturating_sub(self.passed)
            .saturating_sub(skipped(self.head, seq, self.gap))
    }
}

/// A waiting buyer's view; the position never goes up while they stay in line
/// (`best_ahead` is the lowest `ahead` shown so far, and is lowered here).
pub fn waiting_view(
    snap: &RoomSnapshot,
    rate: Option<f64>,
    best_ahead: &mut u64,
    seq: u64,
    ahead: u64,
) -> View {
    *best_ahead = (*best_ahead).min(ahead);
    let ahead = *best_ahead;
    View::Waiting {
        seq,
        ahead,
        behind: snap.waiting.saturating_sub(ahead + 1),
        wait_secs: rate.map(|r| super::estimate::wait_secs(ahead, r)),
        rate: rate.unwrap_or(0.0),
        paused: snap.paused,
        sold_out: snap.sold_out,
    }
}

/// True when a change matters enough to push at once. `behind` changes with every join
/// anywhere in the room; it rides along with the periodic update instead.
pub fn worth_pushing(old: &View, new: &View) -> bool {
    let strip = |v: &View| match v {
        View::Waiting {
            seq,
            behind: _,
            ahead,
            wait_secs,
            rate,
            paused,
            sold_out,
        } => Some((*seq, *ahead, *wait_secs, rate.to_bits(), *paused, *sold_out)),
        _ => None,
    };
    match (strip(old), strip(new)) {
        (Some(a), Some(b)) => a != b,
        _ => old != new,
    }
}

/// What a waiting buyer reads when the sale ends.
pub const ENDED_WORDS: &str = "The sale has ended: the organiser closed it, and nobody more will be let in from the \
     line. Thank you for waiting.";

/// The `status` message of a view (pre-queue, waiting, unavailable or ended).
pub fn status(view: &View, now_ms: i64) -> ServerMessage {
    let (mut state, mut position, mut ahead, mut behind) = (RoomState::Open, None, None, None);
    let (mut expected_wait_secs, mut admission_rate) = (None, 0.0);
    let (mut pre_queue, mut opens_in_ms, mut message) = (None, None, None);
    match view {
        View::Pre {
            pre_queue: n,
            opens_at_ms,
        } => {
            state = RoomState::PreQueue;
            pre_queue = Some(*n);
            opens_in_ms = Some((opens_at_ms - now_ms).max(0));
        }
        View::Waiting {
            ahead: a,
            behind: b,
            wait_secs,
            rate,
            paused,
            sold_out,
            ..
        } => {
            state = if *sold_out {
                RoomState::SoldOut
            } else if *paused {
                RoomState::Paused
            } else {
                RoomState::Open
            };
            (position, ahead, behind) = (Some(a + 1), Some(*a), Some(*b));
            expected_wait_secs = *wait_secs;
            admission_rate = (rate * 1000.0).round() / 1000.0;
        }
        View::Unavailable { ahead: a } => {
            state = RoomState::Unavailable;
            (position, ahead) = (a.map(|a| a + 1), *a);
            message = Some(
                "The line is briefly unavailable. You keep your place; stay on this page.".into(),
            );
        }
        View::Ended => {
            state = RoomState::Ended;
            message = Some(ENDED_WORDS.into());
        }
        // Never sent as a status (the socket loop handles these first).
        View::Pending | View::Admitted(_) | View::Revoked | View::Gone | View::Lost => {}
    }
    ServerMessage::Status {
        state,
        position,
        ahead,
        behind,
        expected_wait_secs,
        expected_wait_range_secs: expected_wait_secs.map(|w| {
            let (low, high) = super::estimate::wait_range(w);
            [low, high]
        }),
        expected_entry_at_ms: expected_wait_secs
            .map(|w| now_ms.saturating_add(i64::try_from(w).unwrap_or(i64::MAX / 2) * 1000)),
        admission_rate,
        pre_queue,
        opens_in_ms,
        server_time_ms: now_ms,
        message,
    }
}

#[cfg(test)]
mod tests {
    //! Property tests of the position logic with random interleavings of joins, leaves,
    //! drops and admissions (a seeded generator: a failure prints its seed).

    use std::collections::BTreeMap;

    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The queue as the engine keeps it: who waits, the head, the numbers that left.
    #[derive(Default)]
    struct Line {
        seq: u64,
        head: u64,
        waiting: BTreeSet<u64>,
        departed: BTreeSet<u64>,
        /// Numbers skipped once (reserved before a store loss, never handed out).
        gap: (u64, u64),
    }

    impl Line {
        fn step(&mut self, rng: &mut StdRng) {
            match rng.random_range(0..10) {
                // Once per run: the store lost its data and numbering resumes above the
                // reserved block (one gap at a time, as the engine keeps it).
                4 if self.gap == (0, 0) && rng.random_range(0..20) == 0 => {
                    let skip = rng.random_range(1..300);
                    self.gap = (self.seq, self.seq + skip);
                    self.seq += skip;
                }
                0..=4 => {
                    self.seq += 1;
                    self.waiting.insert(self.seq);
                }
                5..=6 => {
                    // Someone leaves (or is dropped) from anywhere in the line.
                    if let Some(&s) = self.pick(rng) {
                        self.waiting.remove(&s);
                        self.departed.insert(s);
                    }
                }
                _ => {
                    // An admission step lets in the first few; the head moves to the last
                    // one let in, and departed numbers at or below it are forgotten.
                    for _ in 0..rng.random_range(1..4) {
                        let Some(first) = self.waiting.pop_first() else {
                            break;
                        };
                        self.head = first;
                    }
                    self.departed = self.departed.split_off(&(self.head + 1));
                }
            }
        }

        fn pick(&self, rng: &mut StdRng) -> Option<&u64> {
            if self.waiting.is_empty() {
                return None;
            }
            self.waiting
                .iter()
                .nth(rng.random_range(0..self.waiting.len()))
        }

        /// The truth: waiting buyers with a smaller number.
        fn truly_ahead(&self, seq: u64) -> u64 {
            self.waiting.range(..seq).count() as u64
        }
    }

    #[test]
    fn the_position_of_every_waiting_buyer_is_the_number_of_buyers_truly_ahead() {
        for seed in 0..200u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut line = Line::default();
            for _ in 0..300 {
                line.step(&mut rng);
                let mut counter = AheadCounter::new(line.head, &line.departed, line.gap);
                for &seq in &line.waiting {
                    let truth = line.truly_ahead(seq);
                    assert_eq!(
                        counter.ahead(seq),
                        truth,
                        "seed {seed}: one pass, seq {seq}"
                    );
                    assert_eq!(
                        ahead_of(seq, line.head, &line.departed, line.gap),
                        truth,
                        "seed {seed}: one buyer, seq {seq}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_number_the_head_has_passed_has_nobody_ahead_and_never_panics() {
        let mut rng = StdRng::seed_from_u64(42);
        for _ in 0..10_000 {
            let head = rng.random_range(0..1_000u64);
            let departed: BTreeSet<u64> = (0..rng.random_range(0..20))
                .map(|_| rng.random_range(0..1_200))
                .collect();
            // A buyer admitted between the engine's join and the room's attach: any
            // number at or below the head, including 0 and u64::MAX neighbours.
            let seq = rng.random_range(0..=head + 1);
            let gap = (rng.random_range(0..1_200), rng.random_range(0..1_200));
            assert_eq!(
                ahead_of(seq, head, &departed, gap),
                0,
                "seq {seq} head {head}"
            );
            let _ = ahead_of(u64::MAX, head, &departed, gap);
            let _ = ahead_of(seq, u64::MAX, &departed, (0, u64::MAX));
            let mut counter = AheadCounter::new(u64::MAX, &departed, gap);
            let _ = counter.ahead(seq);
            let mut counter = AheadCounter::new(head, &departed, (u64::MAX, 0));
            let _ = counter.ahead(u64::MAX);
        }
    }

    #[test]
    fn a_shown_position_never_goes_up_whatever_the_interleaving() {
        for seed in 0..100u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mut line = Line::default();
            // What each buyer was last shown, as the room keeps it (best_ahead).
            let mut shown: BTreeMap<u64, u64> = BTreeMap::new();
            for _ in 0..300 {
                line.step(&mut rng);
                shown.retain(|seq, _| line.waiting.contains(seq));
                let mut counter = AheadCounter::new(line.head, &line.departed, line.gap);
                for &seq in &line.waiting {
                    let ahead = counter.ahead(seq);
                    let best = shown.entry(seq).or_insert(u64::MAX);
                    assert!(ahead <= *best, "seed {seed}: seq {seq} went up to {ahead}");
                    *best = (*best).min(ahead);
                }
            }
        }
    }

    #[test]
    fn a_waiting_view_becomes_a_status_with_position_ahead_plus_one() {
        let view = View::Waiting {
            seq: 17,
            ahead: 4,
            behind: 9,
            wait_secs: Some(3),
            rate: 1.23456,
            paused: false,
            sold_out: false,
        };
        let ServerMessage::Status {
            state,
            position,
            ahead,
            behind,
            expected_wait_secs,
            admission_rate,
            message,
            ..
        } = status(&view, 1_000)
        else {
            panic!("expected a status");
        };
        assert_eq!(state, RoomState::Open);
        assert_eq!((position, ahead, behind), (Some(5), Some(4), Some(9)));
        assert_eq!(expected_wait_secs, Some(3));
        assert_eq!(admission_rate, 1.235, "the rate is rounded to 3 decimals");
        assert_eq!(message, None);
    }

    #[test]
    fn sold_out_wins_over_paused_and_unavailable_says_so_in_words() {
        let waiting = |paused, sold_out| View::Waiting {
            seq: 1,
            ahead: 0,
            behind: 0,
            wait_secs: None,
            rate: 0.0,
            paused,
            sold_out,
        };
        let state_of = |v: &View| match status(v, 0) {
            ServerMessage::Status { state, .. } => state,
            other => panic!("expected a status, got {other:?}"),
        };
        assert_eq!(state_of(&waiting(true, true)), RoomState::SoldOut);
        assert_eq!(state_of(&waiting(true, false)), RoomState::Paused);
        let ServerMessage::Status {
            state,
            position,
            message,
            ..
        } = status(&View::Unavailable { ahead: Some(2) }, 0)
        else {
            panic!("expected a status");
        };
        assert_eq!((state, position), (RoomState::Unavailable, Some(3)));
        assert!(message.is_some_and(|m| m.contains("keep your place")));
    }

    #[test]
    fn an_ended_sale_says_so_in_words() {
        let ServerMessage::Status {
            state,
            position,
            message,
            ..
        } = status(&View::Ended, 0)
        else {
            panic!("expected a status");
        };
        assert_eq!((state, position), (RoomState::Ended, None));
        assert!(message.is_some_and(|m| m.starts_with("The sale has ended")));
    }

    #[test]
    fn the_pre_queue_countdown_never_goes_negative() {
        let view = View::Pre {
            pre_queue: 12,
            opens_at_ms: 5_000,
        };
        let ServerMessage::Status {
            state,
            pre_queue,
            opens_in_ms,
            position,
            ..
        } = status(&view, 9_000)
        else {
            panic!("expected a status");
        };
        assert_eq!(state, RoomState::PreQueue);
        assert_eq!(
            (pre_queue, opens_in_ms, position),
            (Some(12), Some(0), None)
        );
    }

    #[test]
    fn only_a_change_a_buyer_would_notice_is_pushed_at_once() {
        let view = |ahead, behind| View::Waiting {
            seq: 9,
            ahead,
            behind,
            wait_secs: Some(ahead),
            rate: 1.0,
            paused: false,
            sold_out: false,
        };
        assert!(
            !worth_pushing(&view(3, 10), &view(3, 11)),
            "behind rides along"
        );
        assert!(worth_pushing(&view(3, 10), &view(2, 10)));
        assert!(worth_pushing(&view(3, 10), &View::Lost));
    }

    #[test]
    fn a_shown_position_never_goes_up_in_a_waiting_view() {
        let snap = RoomSnapshot {
            waiting: 10,
            ..RoomSnapshot::default()
        };
        let mut best = u64::MAX;
        let ahead_shown = |v: View| match v {
            View::Waiting { ahead, .. } => ahead,
            other => panic!("expected waiting, got {other:?}"),
        };
        assert_eq!(ahead_shown(waiting_view(&snap, None, &mut best, 5, 4)), 4);
        assert_eq!(ahead_shown(waiting_view(&snap, None, &mut best, 5, 6)), 4);
        assert_eq!(
            ahead_shown(waiting_view(&snap, Some(2.0), &mut best, 5, 1)),
            1
        );
    }
}
