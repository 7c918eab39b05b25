//! Dual exponentially-weighted moving average with a time-to-first-byte split.
//!
//! Two EWMAs with different half-lives run side by side over every measured fetch; the
//! throughput estimate is the *lower* of the two and the latency estimate the *higher*
//! (the conservative combination of Sabre's `Ewma`, also used by dash.js). The fast
//! average reacts to drops within a few seconds, the slow one keeps a single lucky
//! fetch from inflating the estimate.
//!
//! The "TTFB split": throughput is measured over the transfer alone (bits ÷ (duration −
//! time to first byte)) and the time to first byte feeds a separate latency average.
//! Rules then predict a fetch as `latency + size / throughput`, which stays right for
//! both small and large segments, where a single blended rate would not.
//!
//! Weighting follows Sabre exactly: a throughput sample weighs as many seconds as its
//! transfer took, a latency sample as many seconds as the media it carried (Sabre
//! counts latency samples with a half-life of `half_life / segment_duration` samples,
//! which is the same thing). Both averages start at zero and are divided by their
//! zero-bias factor `1 − 0.5^(weight / half_life)`, so early estimates are not pulled
//! towards zero.

use super::{Estimator, Sample};
use serde::{Deserialize, Serialize};

/// Configuration of [`DualEwma`]. Defaults are Sabre's (`-hl 3 8`, TTFB split on).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct DualEwmaConfig {
    /// Half-life of the fast average, seconds (default 3).
    pub fast_half_life_s: f64,
    /// Half-life of the slow average, seconds (default 8).
    pub slow_half_life_s: f64,
    /// Measure throughput over the transfer alone, excluding the time to first byte
    /// (default true, Sabre's semantics). When false the whole fetch duration is used,
    /// as players that cannot observe the first byte must.
    pub ttfb_split: bool,
}

impl Default for DualEwmaConfig {
    fn default() -> Self {
        Self { fast_half_life_s: 3.0, slow_half_life_s: 8.0, ttfb_split: true }
    }
}

/// One exponentially-weighted average with its accumulated weight.
#[derive(Debug, Clone, Copy, Default)]
struct Ewma {
    half_life_s: f64,
    value: f64,
    weight: f64,
}

impl Ewma {
    fn new(half_life_s: f64) -> Self {
        Self { half_life_s, value: 0.0, weight: 0.0 }
    }

    fn add(&mut self, weight: f64, x: f64) {
        let alpha = 0.5f64.powf(weight / self.half_life_s);
        self.value = alpha * self.value + (1.0 - alpha) * x;
        self.weight += weight;
    }

    /// The bias-corrected average; `None` before any weight was added.
    fn estimate(&self) -> Option<f64> {
        if self.weight <= 0.0 {
            return None;
        }
        let zero_factor = 1.0 - 0.5f64.powf(self.weight / self.half_life_s);
        if zero_factor > 0.0 { Some(self.value / zero_factor) } else { None }
    }
}

/// Dual EWMA throughput and latency estimator (see the module docs).
#[derive(Debug, Clone)]
pub struct DualEwma {
    config: DualEwmaConfig,
    throughput: [Ewma; 2],
    latency: [Ewma; 2],
}

impl Default for DualEwma {
    fn default() -> Self {
        Self::new(DualEwmaConfig::default())
    }
}

impl DualEwma {
    /// A fresh estimator. Non-positive or non-finite half-lives fall back to the
    /// defaults, so a bad configuration cannot produce NaN estimates.
    pub fn new(config: DualEwmaConfig) -> Self {
        let defaults = DualEwmaConfig::default();
        let valid = |h: f64, d: f64| if h.is_finite() && h > 0.0 { h } else { d };
        let fast = valid(config.fast_half_life_s, defaults.fast_half_life_s);
        let slow = valid(config.slow_half_life_s, defaults.slow_half_life_s);
        let config = DualEwmaConfig { fast_half_life_s: fast, slow_half_life_s: slow, ..config };
        Self {
            config,
            throughput: [Ewma::new(fast), Ewma::new(slow)],
            latency: [Ewma::new(fast), Ewma::new(slow)],
        }
    }

    /// The configuration in force (after validation).
    pub fn config(&self) -> &DualEwmaConfig {
        &self.config
    }
}

impl Estimator for DualEwma {
    /// Adds one fetch. A sample whose transfer took no time carries no throughput
    /// information (its rate is infinite) and only updates the latency average; one
    /// with no media duration only updates the throughput average.
    fn add_sample(&mut self, sample: &Sample) {
        let transfer_s = if self.config.ttfb_split {
            sample.duration_s - sample.ttfb_s
        } else {
            sample.duration_s
        };
        if transfer_s > 0.0 && sample.bits.is_finite() && sample.bits >= 0.0 {
            let kbps = sample.bits / transfer_s / 1000.0;
            for e in &mut self.throughput {
                e.add(transfer_s, kbps);
            }
        }
        if sample.media_s > 0.0 && sample.ttfb_s.is_finite() && sample.ttfb_s >= 0.0 {
            for e in &mut self.latency {
                e.add(sample.media_s, sample.ttfb_s);
            }
        }
    }

    fn throughput_kbps(&self) -> Option<f64> {
        let [a, b] = &self.throughput;
        match (a.estimate(), b.estimate()) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }

    fn latency_s(&self) -> Option<f64> {
        let [a, b] = &self.latency;
        match (a.estimate(), b.estimate()) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(bits: f64, ttfb_s: f64, duration_s: f64) -> Sample {
        Sample { bits, ttfb_s, duration_s, media_s: 3.0 }
    }

    #[test]
    fn empty_has_no_estimate() {
        let e = DualEwma::default();
        assert_eq!(e.throughput_kbps(), None);
        assert_eq!(e.latency_s(), None);
    }

    #[test]
    fn first_sample_is_returned_unbiased() {
        // The zero-bias correction makes a single sample its own estimate.
        let mut e = DualEwma::default();
        e.add_sample(&sample(3_000_000.0, 0.1, 1.1));
        assert!((e.throughput_kbps().unwrap() - 3000.0).abs() < 1e-9);
        assert!((e.latency_s().unwrap() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn throughput_takes_min_latency_takes_max() {
        // Hand-computed: 1 s at 1000 kbps then 1 s at 4000 kbps.
        let mut e = DualEwma::default();
        e.add_sample(&sample(1_000_000.0, 0.05, 1.05));
        e.add_sample(&sample(4_000_000.0, 0.20, 1.20));
        let est = |h: f64| {
            let a = 0.5f64.powf(1.0 / h);
            let v = (a * (1.0 - a) * 1000.0) + (1.0 - a) * 4000.0;
            v / (1.0 - 0.5f64.powf(2.0 / h))
        };
        // After a rise the slow average is the lower one.
        let want = est(3.0).min(est(8.0));
        assert!((e.throughput_kbps().unwrap() - want).abs() < 1e-9);
        assert!((want - est(8.0)).abs() < 1e-12);
        let lat = |h: f64| {
            let a = 0.5f64.powf(3.0 / h);
            (a * (1.0 - a) * 0.05 + (1.0 - a) * 0.20) / (1.0 - 0.5f64.powf(6.0 / h))
        };
        // After a latency rise the fast average is the higher one.
        assert!((e.latency_s().unwrap() - lat(3.0).max(lat(8.0))).abs() < 1e-12);
    }

    #[test]
    fn ttfb_split_excludes_latency_from_throughput() {
        let mut split = DualEwma::default();
        let mut blended =
            DualEwma::new(DualEwmaConfig { ttfb_split: false, ..DualEwmaConfig::default() });
        let s = sample(2_000_000.0, 1.0, 2.0);
        split.add_sample(&s);
        blended.add_sample(&s);
        assert!((split.throughput_kbps().unwrap() - 2000.0).abs() < 1e-9);
        assert!((blended.throughput_kbps().unwrap() - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn zero_transfer_time_updates_latency_only() {
        let mut e = DualEwma::default();
        e.add_sample(&sample(0.0, 0.3, 0.3));
        assert_eq!(e.throughput_kbps(), None);
        assert!((e.latency_s().unwrap() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn bad_half_lives_fall_back_to_defaults() {
        let e = DualEwma::new(DualEwmaConfig {
            fast_half_life_s: 0.0,
            slow_half_life_s: f64::NAN,
            ttfb_split: true,
        });
        assert_eq!(e.config().fast_half_life_s, 3.0);
        assert_eq!(e.config().slow_half_life_s, 8.0);
    }
}
