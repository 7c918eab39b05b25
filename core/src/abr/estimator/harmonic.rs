//! Harmonic mean of the last few throughput samples (MPC's and Pensieve's predictor).
//!
//! The harmonic mean is the right average for throughput when the question is "how
//! long will the next download take": download time is size ÷ throughput, and the
//! mean of `1/x` is what adds up over equal-sized downloads. It is also robust to a
//! single outlier high sample, which an arithmetic mean is not (Yin et al., SIGCOMM'15).

use super::{Estimator, Sample};
use std::collections::VecDeque;

/// Harmonic mean of the last `window` samples.
///
/// Samples whose throughput is not finite and positive (zero-length transfers, empty
/// segments) are ignored: they carry no information about the link and would make the
/// mean zero or undefined.
#[derive(Debug, Clone)]
pub struct HarmonicMean {
    window: usize,
    include_ttfb: bool,
    /// Throughput samples, oldest first, kbit/s.
    throughput: VecDeque<f64>,
    /// Time-to-first-byte samples matching `throughput`, seconds.
    ttfb: VecDeque<f64>,
}

impl Default for HarmonicMean {
    /// Five samples, the window of RobustMPC and Pensieve.
    fn default() -> Self {
        Self::new(5)
    }
}

impl HarmonicMean {
    /// An estimator over the last `window` samples (at least one), measuring
    /// throughput over the transfer alone (TTFB excluded).
    pub fn new(window: usize) -> Self {
        let window = window.max(1);
        Self {
            window,
            include_ttfb: false,
            throughput: VecDeque::with_capacity(window),
            ttfb: VecDeque::with_capacity(window),
        }
    }

    /// Measures each sample as bits over the *whole* fetch time, time to first byte
    /// included, as Pensieve's and MPC's reference code do (size ÷ download delay).
    pub fn counting_ttfb(mut self, include: bool) -> Self {
        self.include_ttfb = include;
        self
    }

    /// The window length in samples.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Number of samples currently held.
    pub fn len(&self) -> usize {
        self.throughput.len()
    }

    /// True before any usable sample.
    pub fn is_empty(&self) -> bool {
        self.throughput.is_empty()
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.throughput.clear();
        self.ttfb.clear();
    }

    /// The throughput a sample contributes, kbit/s, under this estimator's convention.
    pub fn sample_kbps(&self, sample: &Sample) -> f64 {
        if self.include_ttfb {
            if sample.duration_s > 0.0 {
                sample.bits / sample.duration_s / 1000.0
            } else {
                f64::INFINITY
            }
        } else {
            sample.transfer_kbps()
        }
    }

    /// Adds a throughput measurement directly, kbit/s, with its TTFB in seconds.
    ///
    /// Values that are not finite and positive are ignored.
    pub fn push_kbps(&mut self, kbps: f64, ttfb_s: f64) {
        if !(kbps.is_finite() && kbps > 0.0) {
            return;
        }
        if self.throughput.len() == self.window {
            self.throughput.pop_front();
            self.ttfb.pop_front();
        }
        self.throughput.push_back(kbps);
        self.ttfb.push_back(if ttfb_s.is_finite() && ttfb_s >= 0.0 { ttfb_s } else { 0.0 });
    }
}

impl Estimator for HarmonicMean {
    fn add_sample(&mut self, sample: &Sample) {
        let kbps = self.sample_kbps(sample);
        self.push_kbps(kbps, sample.ttfb_s);
    }

    fn throughput_kbps(&self) -> Option<f64> {
        if self.throughput.is_empty() {
            return None;
        }
        // Oldest to newest, reciprocal sum then reciprocal of its mean: the same
        // order of operations as the reference code, so results agree to the bit.
        let mut inv_sum = 0.0;
        for &x in &self.throughput {
            inv_sum += 1.0 / x;
        }
        Some(1.0 / (inv_sum / self.throughput.len() as f64))
    }

    fn latency_s(&self) -> Option<f64> {
        if self.ttfb.is_empty() {
            return None;
        }
        Some(self.ttfb.iter().sum::<f64>() / self.ttfb.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kbps: f64, ttfb_s: f64) -> Sample {
        // A one-second transfer after `ttfb_s` of waiting.
        Sample { bits: kbps * 1000.0, ttfb_s, duration_s: 1.0 + ttfb_s, media_s: 4.0 }
    }

    #[test]
    fn empty_has_no_estimate() {
        let h = HarmonicMean::default();
        assert_eq!(h.throughput_kbps(), None);
        assert_eq!(h.latency_s(), None);
        assert!(h.is_empty());
    }

    #[test]
    fn harmonic_mean_of_window() {
        let mut h = HarmonicMean::new(3);
        for k in [1000.0, 4000.0, 1000.0, 2000.0] {
            h.add_sample(&sample(k, 0.1));
        }
        // The first sample fell out of the window: 3 / (1/4000 + 1/1000 + 1/2000).
        let expect = 3.0 / (1.0 / 4000.0 + 1.0 / 1000.0 + 1.0 / 2000.0);
        let got = h.throughput_kbps().unwrap();
        assert!((got - expect).abs() < 1e-9, "{got} vs {expect}");
        assert!((h.latency_s().unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(h.len(), 3);
    }

    #[test]
    fn low_samples_dominate() {
        let mut h = HarmonicMean::new(5);
        for k in [10_000.0, 10_000.0, 10_000.0, 10_000.0, 500.0] {
            h.add_sample(&sample(k, 0.0));
        }
        let arith = (4.0 * 10_000.0 + 500.0) / 5.0;
        let got = h.throughput_kbps().unwrap();
        assert!(got < arith / 3.0, "harmonic {got} should sit near the low sample");
    }

    #[test]
    fn ttfb_convention() {
        let s = sample(1000.0, 1.0); // 1000 kbit in 2 s, 1 s of it waiting
        let mut transfer = HarmonicMean::new(5);
        transfer.add_sample(&s);
        let mut whole = HarmonicMean::new(5).counting_ttfb(true);
        whole.add_sample(&s);
        assert!((transfer.throughput_kbps().unwrap() - 1000.0).abs() < 1e-9);
        assert!((whole.throughput_kbps().unwrap() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn ignores_unusable_samples() {
        let mut h = HarmonicMean::new(5);
        h.add_sample(&Sample { bits: 0.0, ttfb_s: 0.0, duration_s: 1.0, media_s: 4.0 });
        h.add_sample(&Sample { bits: 1e6, ttfb_s: 0.5, duration_s: 0.5, media_s: 4.0 });
        h.push_kbps(f64::NAN, 0.0);
        assert!(h.is_empty());
        h.push_kbps(800.0, f64::NAN);
        assert_eq!(h.throughput_kbps(), Some(800.0));
        assert_eq!(h.latency_s(), Some(0.0));
        h.clear();
        assert!(h.is_empty());
    }
}
