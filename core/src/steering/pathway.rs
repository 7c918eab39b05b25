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

    /// Records a failed media fetch; penalises the pathway for `penalty` once
    /// `threshold` consecutive failures are reached. Returns true if it is now penalised.
    pub fn record_failure(&mut self, now: Instant, threshold: u32, penalty: Duration) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        self.total_failures = self.total_failures.saturating_add(1);
        if self.consecutive_failures >= threshold.max(1) {
            self.penalized_until = Some(now + penalty);
            self.consecutive_failures = 0;
        }
        self.is_penalized(now)
    }

    /// Records a successful fetch of `bits` in `seconds` (TTFB included: a pathway's
    /// latency is part of what it delivers), keeping the last `window` samples.
    pub fn record_success(&mut self, now: Instant, bits: f64, seconds: f64, window: usize) {
        self.consecutive_failures = 0;
        if bits.is_finite() && seconds.is_finite() && bits > 0.0 && seconds > 0.0 {
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
        assert!(!h.record_failure(t0, 2, pen));
        assert!(h.record_failure(t0, 2, pen));
        assert!(h.is_penalized(Instant::from_secs_f64(129.9)));
        assert!(!h.is_penalized(Instant::from_secs_f64(130.0)));
        assert_eq!(h.total_failures, 2);
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
