//! Buyers admitted in the last minute, per event, for the operator page: a count measured
//! over a window, never a rate extrapolated from a few admissions in a few seconds (3
//! admissions in 9 s are "3", not "20 a minute").
//!
//! Every instance samples every event's admitted total once a second (the checkpoint
//! loop), so whichever instance answers the admin API has the same figure.
//!
//! The rule, at time `now`, with the window starting at `now - 60 s`:
//! - the sale opened inside the window: every buyer admitted since the opening (the
//!   admitted total), over the time since the opening;
//! - else: the admitted total now minus the total of the oldest sample taken inside the
//!   window, over the time since that sample (a minute, less the sampling step; shorter
//!   only while this instance has watched the event for less than a minute);
//! - no sample inside the window (the loop stalled): no figure.
//!
//! So the figure never covers more than 60 s, and at a rate of `r` buyers a second with a
//! token bucket of `b` it is never above `60 r + b`.

use std::collections::VecDeque;

use dashmap::DashMap;
use serde::Serialize;

/// How far back the figure looks.
pub const WINDOW_MS: i64 = 60_000;
/// Samples kept per event at most, whatever the sampling pace (once a second: about 60).
const MOST_SAMPLES: usize = 600;

/// Buyers admitted over a window of at most a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recent {
    /// Buyers admitted in the window.
    pub admitted: u64,
    /// How long the window is, in whole seconds (60, or less while the sale or this
    /// instance's watch of it is younger than a minute).
    pub over_secs: u64,
}

/// One event's samples of its admitted total: `(ms, total)`, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Window {
    samples: VecDeque<(i64, u64)>,
}

impl Window {
    /// Takes a sample of the admitted total at `now_ms`, and forgets those that left the
    /// window.
    pub fn observe(&mut self, now_ms: i64, total: u64) {
        if let Some(&(t, n)) = self.samples.back()
            && (now_ms < t || total < n)
        {
            // A clock step back, or a store that lost its data and restored a lower
            // total: the old samples no longer compare with the new ones.
            self.samples.clear();
        }
        self.samples.push_back((now_ms, total));
        while let Some(&(t, _)) = self.samples.front()
            && (t < now_ms - WINDOW_MS || self.samples.len() > MOST_SAMPLES)
        {
            self.samples.pop_front();
        }
    }

    /// The admissions of the last minute at `now_ms`, when the total is `total` and the
    /// sale opened at `opened_at_ms` (None: not yet). See the module doc for the rule.
    pub fn recent(&self, now_ms: i64, total: u64, opened_at_ms: Option<i64>) -> Option<Recent> {
        let start = now_ms - WINDOW_MS;
        let (from_ms, from_total) = match opened_at_ms {
            None => return Some(Recent::default()),
            Some(at) if at >= start && at <= now_ms => (at, 0),
            Some(_) => *self.samples.iter().find(|(t, _)| *t >= start)?,
        };
        Some(Recent {
            admitted: total.saturating_sub(from_total),
            over_secs: (now_ms - from_ms).clamp(0, WINDOW_MS) as u64 / 1000,
        })
    }
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            admitted: 0,
            over_secs: (WINDOW_MS / 1000) as u64,
        }
    }
}

/// Every event's window on this instance.
#[derive(Debug, Default)]
pub struct Admitted {
    events: DashMap<i64, Window>,
}

impl Admitted {
    /// Samples event `event`'s admitted total.
    pub fn observe(&self, event: i64, now_ms: i64, total: u64) {
        self.events.entry(event).or_default().observe(now_ms, total);
    }

    /// Event `event`'s admissions in the last minute (see [`Window::recent`]).
    pub fn recent(
        &self,
        event: i64,
        now_ms: i64,
        total: u64,
        opened_at_ms: Option<i64>,
    ) -> Option<Recent> {
        match self.events.get(&event) {
            Some(w) => w.recent(now_ms, total, opened_at_ms),
            None => Window::default().recent(now_ms, total, opened_at_ms),
        }
    }

    /// Forgets a deleted event.
    pub fn forget(&self, event: i64) {
        self.events.remove(&event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    /// A sale open for an hour, sampled every second by a manual clock, `per_sec(t)`
    /// admissions in second `t`; returns the clock and the window at the end.
    fn sampled(secs: i64, per_sec: impl Fn(i64) -> u64) -> (Clock, Window, u64) {
        let clock = Clock::manual(10_000_000);
        let mut w = Window::default();
        let mut total = 0;
        for s in 0..secs {
            total += per_sec(s);
            w.observe(clock.now_ms(), total);
            clock.advance(1000);
        }
        (clock, w, total)
    }

    const LONG_AGO: Option<i64> = Some(0);

    #[test]
    fn a_steady_rate_of_twelve_a_minute_reads_twelve() {
        // One admission every 5 s, for ten minutes.
        let (clock, w, total) = sampled(600, |s| u64::from(s % 5 == 0));
        let r = w.recent(clock.now_ms(), total, LONG_AGO).unwrap();
        assert_eq!(r.over_secs, 60);
        assert!((11..=12).contains(&r.admitted), "{r:?}");
    }

    #[test]
    fn three_admissions_in_a_few_seconds_are_three_not_an_extrapolated_rate() {
        // The sale opened 9 s ago; three buyers were let in since (the reported 19.8).
        let clock = Clock::manual(5_000_000);
        let opened = clock.now_ms();
        let mut w = Window::default();
        for total in [1, 1, 1, 1, 1, 2, 2, 2, 2, 3] {
            w.observe(clock.now_ms(), total);
            clock.advance(1000);
        }
        let r = w.recent(clock.now_ms(), 3, Some(opened)).unwrap();
        assert_eq!(
            r,
            Recent {
                admitted: 3,
                over_secs: 10
            }
        );
    }

    #[test]
    fn an_instance_that_started_mid_sale_counts_from_its_first_sample() {
        let clock = Clock::manual(5_000_000);
        let mut w = Window::default();
        for total in [500, 501, 502, 503] {
            w.observe(clock.now_ms(), total);
            clock.advance(1000);
        }
        let r = w.recent(clock.now_ms(), 504, LONG_AGO).unwrap();
        assert_eq!(
            r,
            Recent {
                admitted: 4,
                over_secs: 4
            }
        );
    }

    #[test]
    fn a_pause_brings_the_figure_down_to_nothing_within_a_minute() {
        // 2 a second for a minute, then nobody for a minute.
        let (clock, w, total) = sampled(120, |s| if s < 60 { 2 } else { 0 });
        let r = w.recent(clock.now_ms(), total, LONG_AGO).unwrap();
        assert_eq!(r.admitted, 0, "{r:?}");
    }

    #[test]
    fn a_stalled_sampler_gives_no_figure_rather_than_an_old_one() {
        let (clock, w, total) = sampled(30, |_| 1);
        clock.advance(2 * WINDOW_MS);
        assert_eq!(w.recent(clock.now_ms(), total, LONG_AGO), None);
    }

    #[test]
    fn a_total_that_went_down_starts_the_window_over() {
        let clock = Clock::manual(5_000_000);
        let mut w = Window::default();
        w.observe(clock.now_ms(), 100);
        clock.advance(1000);
        w.observe(clock.now_ms(), 40); // restored from an older checkpoint
        clock.advance(1000);
        let r = w.recent(clock.now_ms(), 42, LONG_AGO).unwrap();
        assert_eq!(r.admitted, 2);
    }

    #[test]
    fn before_the_opening_nobody_was_admitted() {
        let w = Window::default();
        assert_eq!(w.recent(1_000, 0, None), Some(Recent::default()));
    }

    #[test]
    fn the_figure_never_exceeds_a_minute_of_the_rate_plus_the_bucket() {
        // Bursts of 0, 3, 6 and 0 a second: 2.25 a second on average, 6 at once at most.
        // Whatever the moment, the figure is at most 60 × 2.25 + 6.
        let clock = Clock::manual(5_000_000);
        let mut w = Window::default();
        let mut total = 0;
        for s in 0..300_usize {
            total += [0, 3, 6, 0][s % 4];
            w.observe(clock.now_ms(), total);
            let r = w.recent(clock.now_ms(), total, LONG_AGO).unwrap();
            assert!(r.admitted <= 141, "at {s} s: {r:?}");
            clock.advance(1000);
        }
    }
}
