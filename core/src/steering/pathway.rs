//! Per-pathway health (failures, penalties) and throughput.

use crate::time::{Duration, Instant};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// What the engine knows about one pathway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathwayHealth {
    /// Media failures since the last success.
    pub consecutive_failures: u32,
    /// Media failures over the session.
    pub total_failures: u64,
    /// Excluded from selection until this instant.
    pub penalized_until: Option<Instant>,
    /// Penalties in a row with no success between: each lasts twice the one before.
    #[serde(default)]
    pub penalties_in_a_row: u32,
    /// Recent fetches `(bits, seconds including TTFB)`, newest last.
    samples: VecDeque<(f64, f64)>,
    /// When the newest sample was taken.
    last_sample_at: Option<Instant>,
}

impl PathwayHealth {
    /// Whether the pathway is penalised at `now`.
    pub fn is_penalized(&self, now: Instant) -> bool {
        self.penalized_until.is_some_and(|t| now < t)
    }

    /// Records a failed media fetch; penalises the pathway once `threshold`
    /// consecutive failures are reached: for `first` the first time, twice as long at
    /// each penalty after with no success between, never longer than `longest`. When
    /// a penalty ends the pathway is tried again (the next fetch is the probe), so a
    /// pathway that recovered is back within `longest`. Returns true if it is now
    /// penalised.
    pub fn record_failure(
        &mut self,
        now: Instant,
        threshold: u32,
        first: Duration,
        longest: Duration,
    ) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.total_failures = self.total_failures.saturating_add(1);
        if self.is_penalized(now) {
            // Requests that were already out when the penalty began (audio beside
            // video) fail with it: one outage, one penalty.
            self.consecutive_failures = 0;
            return true;
        }
        if self.consecutive_failures >= threshold.max(1) {
            let doubled = (first.as_secs_f64() * 2f64.powi(self.penalties_in_a_row.min(30) as i32))
                .min(longest.as_secs_f64())
                .max(0.0);
            self.penalized_until = Some(now + Duration::from_secs_f64(doubled));
            self.penalties_in_a_row = self.penalties_in_a_row.saturating_add(1);
            self.consecutive_failures = 0;
        }
        self.is_penalized(now)
    }

    /// Records a successful fetch of `bits` in `seconds` (TTFB included: a pathway's
    /// latency is part of what it delivers), keeping the last `window` samples.
    ///
    /// A success with no bits measured (`bits` 0: an init or audio segment, a sign of
    /// life) ends a run of failures but not the doubling of penalties: a pathway
    /// that starves video may still deliver small objects.
    pub fn record_success(&mut self, now: Instant, bits: f64, seconds: f64, window: usize) {
        self.consecutive_failures = 0;
        if bits.is_finite() && seconds.is_finite() && bits > 0.0 && seconds > 0.0 {
            self.penalties_in_a_row = 0;
            self.samples.push_back((bits, seconds));
            while self.samples.len() > window.max(1) {
                self.samples.pop_front();
            }
            self.last_sample_at = Some(now);
        }
    }

    /// Throughput over the recent samples (total bits / total time), kbit/s; `None`
    /// without samples or when the newest is older than `max_age`.
    pub fn throughput_kbps(&self, now: Instant, max_age: Duration) -> Option<f64> {
        let at = self.last_sample_at?;
        if now.saturating_since(at) > max_age {
            return None;
        }
        let (bits, secs) =
            self.samples.iter().fold((0.0, 0.0), |(b, s), (sb, ss)| (b + sb, s + ss));
        (secs > 0.0).then(|| bits / secs / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalty_after_threshold_then_expiry() {
        let mut h = PathwayHealth::default();
        let t0 = Instant::from_secs_f64(10.0);
        let pen = Duration::from_secs_f64(120.0);
        assert!(!h.record_failure(t0, 2, pen, pen));
        assert!(h.record_failure(t0, 2, pen, pen));
        assert!(h.is_penalized(Instant::from_secs_f64(129.9)));
        assert!(!h.is_penalized(Instant::from_secs_f64(130.0)));
        assert_eq!(h.total_failures, 2);
    }

    #[test]
    fn penalties_double_up_to_the_longest_and_a_success_resets_them() {
        let mut h = PathwayHealth::default();
        let (first, longest) = (Duration::from_secs_f64(2.0), Duration::from_secs_f64(10.0));
        let mut at = 0.0;
        let mut lengths = Vec::new();
        for _ in 0..5 {
            assert!(h.record_failure(Instant::from_secs_f64(at), 1, first, longest));
            let until = h.penalized_until.unwrap().as_secs_f64();
            lengths.push(until - at);
            at = until; // the probe when the penalty ends fails again
        }
        assert_eq!(lengths, vec![2.0, 4.0, 8.0, 10.0, 10.0]);
        h.record_success(Instant::from_secs_f64(at), 1e6, 1.0, 4);
        assert!(h.record_failure(Instant::from_secs_f64(at), 1, first, longest));
        assert_eq!(h.penalized_until, Some(Instant::from_secs_f64(at + 2.0)));
        // A failure while penalised (a request that was already out) changes nothing.
        assert!(h.record_failure(Instant::from_secs_f64(at + 1.0), 1, first, longest));
        assert_eq!(h.penalized_until, Some(Instant::from_secs_f64(at + 2.0)));
        assert_eq!(h.penalties_in_a_row, 1);
    }

    #[test]
    fn throughput_is_windowed_and_ages_out() {
        let mut h = PathwayHealth::default();
        let t = Instant::from_secs_f64(1.0);
        h.record_success(t, 8_000_000.0, 4.0, 2); // 2000 kbps
        h.record_success(t, 4_000_000.0, 1.0, 2); // 4000 kbps
        h.record_success(t, 2_000_000.0, 1.0, 2); // window keeps the last two
        let max_age = Duration::from_secs_f64(60.0);
        assert!((h.throughput_kbps(t, max_age).unwrap() - 3000.0).abs() < 1e-9);
        assert_eq!(h.throughput_kbps(Instant::from_secs_f64(62.0), max_age), None);
        h.record_success(t, 0.0, 0.0, 2);
        assert_eq!(h.samples.len(), 2, "empty samples are not recorded");
    }
}
