//! A steady wait estimate: the line's outflow (buyers admitted per second) measured as it
//! happens and smoothed over about half a minute, counting only the time the line really
//! moves. A pause, a sold-out spell, a spell at the active-buyer cap (nobody gets in until
//! someone finishes) or an empty line teaches the estimate nothing, so the rate after a
//! pause is the rate before it, not a rate dragged down by the seconds nobody moved.
//! Until the line has moved for a few seconds, the configured rate stands in.

/// How fast the smoothed outflow follows a change: the weight of the past halves about
/// every 20 s of moving line.
const TIME_CONSTANT_MS: f64 = 30_000.0;
/// Two samples further apart than this (a stalled sync) teach nothing: the line's state
/// in between is unknown.
const LONGEST_GAP_MS: i64 = 5_000;
/// Moving time before the measured outflow replaces the configured rate.
const WARM_UP_MS: i64 = 5_000;

/// The smoothed outflow of one room, fed with the engine's counters as they arrive.
#[derive(Debug, Clone, Default)]
pub struct Outflow {
    /// The previous sample: time, admitted so far, and whether the line was moving.
    last: Option<(i64, u64, bool)>,
    /// The smoothed outflow (per second), once measured.
    rate: Option<f64>,
    /// How long the line has been seen moving.
    moving_ms: i64,
}

impl Outflow {
    /// Takes one sample: `admitted` is the room's admitted total at `now_ms`; `moving`
    /// says the line can move now (open, not paused or sold out, under the cap, someone
    /// waiting). Only an interval that was moving at both ends counts.
    pub fn observe(&mut self, now_ms: i64, admitted: u64, moving: bool) {
        if let Some((t0, n0, moving0)) = self.last {
            let dt = now_ms - t0;
            if dt <= 0 {
                return; // the same instant again (or a clock step back): nothing learnt
            }
            if moving0 && moving && dt <= LONGEST_GAP_MS && admitted >= n0 {
                let inst = (admitted - n0) as f64 * 1000.0 / dt as f64;
                let alpha = 1.0 - (-(dt as f64) / TIME_CONSTANT_MS).exp();
                self.rate = Some(match self.rate {
                    // Warming up: the mean over the moving time so far.
                    Some(r) if self.moving_ms < WARM_UP_MS => {
                        let w = self.moving_ms as f64 / (self.moving_ms + dt) as f64;
                        r * w + inst * (1.0 - w)
                    }
                    Some(r) => r + alpha * (inst - r),
                    None => inst,
                });
                self.moving_ms += dt;
            }
        }
        self.last = Some((now_ms, admitted, moving));
    }

    /// The configured rate changed: what was measured no longer says anything.
    pub fn reset(&mut self) {
        *self = Outflow::default();
    }

    /// Buyers admitted per second, as measured; `None` until the line has moved for a
    /// few seconds (or when it has never let anyone in).
    pub fn measured(&self) -> Option<f64> {
        self.rate
            .filter(|r| *r > 0.0 && self.moving_ms >= WARM_UP_MS)
    }

    /// The outflow to estimate with: measured, else `configured` (when above 0).
    pub fn rate(&self, configured: f64) -> Option<f64> {
        self.measured().or((configured > 0.0).then_some(configured))
    }
}

/// The expected wait of a buyer with `ahead` people ahead at `rate` a second, seconds.
pub fn wait_secs(ahead: u64, rate: f64) -> u64 {
    ((ahead + 1) as f64 / rate).ceil() as u64
}

/// The range shown around an expected wait: a little sooner to a fair bit later (lines
/// slow down more often than they speed up), and never below a second.
pub fn wait_range(expected_secs: u64) -> (u64, u64) {
    let e = expected_secs as f64;
    let low = (e * 0.85).floor().max(1.0) as u64;
    let high = (e * 1.25).ceil().max(1.0) as u64;
    (low.min(expected_secs.max(1)), high.max(expected_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated line: admissions at about `rate` a second with irregular steps (the
    /// admission loop lets people in in small batches), a pause and a spell at the cap
    /// early on, and the engine's counters sampled every 250 ms as a room syncs.
    struct Sim {
        now: i64,
        admitted: u64,
        credit: f64,
        seed: u64,
    }

    impl Sim {
        fn step(&mut self, dt: i64, rate: f64, moving: bool) {
            self.now += dt;
            if !moving {
                return;
            }
            // A jitter of ±50% around the mean, from a fixed LCG.
            self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let jitter = 0.5 + (self.seed >> 33) as f64 / (1u64 << 31) as f64;
            self.credit += rate * dt as f64 / 1000.0 * jitter;
            let whole = self.credit.floor();
            self.admitted += whole as u64;
            self.credit -= whole;
        }
    }

    #[test]
    fn the_estimate_stays_within_20_percent_of_the_real_wait_once_the_line_has_moved_30_s() {
        const RATE: f64 = 3.0;
        // A buyer who joined with 900 people ahead, at t = 0.
        let position: u64 = 900;
        let moving_at = |t: i64| {
            let paused = (40_000..70_000).contains(&t); // an operator pause
            let full = (100_000..115_000).contains(&t); // the cap is reached
            !(paused || full)
        };
        let mut sim = Sim {
            now: 0,
            admitted: 0,
            credit: 0.0,
            seed: 7,
        };
        // The whole run first, to know when the buyer really gets in.
        let mut history = Vec::new();
        while sim.admitted < position {
            let moving = moving_at(sim.now);
            history.push((sim.now, sim.admitted, moving));
            sim.step(250, RATE, moving);
        }
        let admitted_at = sim.now;

        // Replay it through the estimator, with a configured rate that is wrong (the
        // operator said 5 a second; the line really moves at about 3).
        let mut outflow = Outflow::default();
        let mut moved_ms = 0;
        let mut checked = 0;
        let mut prev: Option<i64> = None;
        for (t, admitted, moving) in history {
            outflow.observe(t, admitted, moving);
            if let Some(p) = prev
                && moving
                && moving_at(p)
            {
                moved_ms += t - p;
            }
            prev = Some(t);
            let ahead = position - admitted - 1;
            // Pauses to come are not predictable: the real wait counts only the time
            // the line will move.
            let real_ms: i64 = (t..admitted_at)
                .step_by(250)
                .filter(|x| moving_at(*x))
                .count() as i64
                * 250;
            if !moving || moved_ms < 30_000 || real_ms < 20_000 {
                continue;
            }
            let est = wait_secs(ahead, outflow.rate(5.0).unwrap()) as f64 * 1000.0;
            let err = (est - real_ms as f64).abs() / real_ms as f64;
            assert!(
                err <= 0.20,
                "at {t} ms: estimated {est} ms, really {real_ms} ms ({:.0}% off)",
                err * 100.0
            );
            checked += 1;
        }
        assert!(checked > 200, "too few checks: {checked}");
    }

    #[test]
    fn a_pause_teaches_nothing_and_the_configured_rate_stands_in_until_measured() {
        let mut o = Outflow::default();
        assert_eq!(o.rate(2.0), Some(2.0));
        assert_eq!(o.rate(0.0), None);
        let mut n = 0;
        for t in (0..=20_000).step_by(500) {
            o.observe(t, n, true);
            n += 2; // 4 a second
        }
        let before = o.measured().unwrap();
        assert!((before - 4.0).abs() < 0.2, "{before}");
        // A minute of pause: nobody moves, and the estimate does not sink.
        for t in (20_500..=80_000).step_by(500) {
            o.observe(t, n, false);
        }
        assert_eq!(o.measured(), Some(before));
        // A stalled sync (10 s without samples) teaches nothing either.
        o.observe(90_000, n + 40, true);
        assert_eq!(o.measured(), Some(before));
        o.reset();
        assert_eq!(o.measured(), None);
    }

    #[test]
    fn the_range_brackets_the_estimate() {
        assert_eq!(wait_range(100), (85, 125));
        assert_eq!(wait_range(1), (1, 2));
        assert_eq!(wait_range(0), (1, 1));
        assert_eq!(wait_secs(9, 2.0), 5);
    }
}
