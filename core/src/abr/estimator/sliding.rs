//! Sliding-window weighted percentile (the Media3/ExoPlayer bandwidth meter's statistic).
//!
//! Each fetch adds its throughput with a weight (by default √bytes, as Media3 does, so
//! that large segments count more without letting one huge fetch drown the rest). The
//! window holds at most `max_weight` of total weight: when a new sample pushes it over,
//! the oldest samples are dropped, the last one partially (its weight trimmed), so the
//! window slides smoothly. The estimate is the weighted percentile of what remains: the
//! median by default, robust to a few outliers in either direction; a low percentile
//! gives a conservative estimate.
//!
//! Latency (time to first byte) is tracked the same way with equal weights over the
//! last [`SlidingWindowConfig::latency_samples`] fetches.

use super::{Estimator, Sample};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How much each throughput sample weighs in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SampleWeight {
    /// √bytes transferred (Media3's `DefaultBandwidthMeter`).
    #[default]
    SqrtBytes,
    /// Seconds spent transferring: the time-weighted percentile of the link rate.
    TransferSeconds,
    /// Every fetch counts once.
    Uniform,
}

/// Configuration of [`SlidingPercentile`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlidingWindowConfig {
    /// Total weight the window holds (Media3: 2000 with √bytes weights).
    pub max_weight: f64,
    /// Percentile reported, in `[0, 1]` (0.5: the weighted median).
    pub percentile: f64,
    /// How samples are weighted.
    pub weight: SampleWeight,
    /// Hard cap on the number of samples kept, whatever their weight.
    pub max_samples: usize,
    /// No estimate until this many bits were transferred in total, unless
    /// `min_transfer_s` was reached first (Media3: 512 KiB).
    pub min_bits: f64,
    /// No estimate until this many seconds were spent transferring in total, unless
    /// `min_bits` was reached first (Media3: 2 s).
    pub min_transfer_s: f64,
    /// Fetches over which the latency (TTFB) median is taken.
    pub latency_samples: usize,
}

impl Default for SlidingWindowConfig {
    fn default() -> Self {
        Self {
            max_weight: 2000.0,
            percentile: 0.5,
            weight: SampleWeight::SqrtBytes,
            max_samples: 64,
            min_bits: 512.0 * 1024.0 * 8.0,
            min_transfer_s: 2.0,
            latency_samples: 20,
        }
    }
}

/// A window of `(value, weight)` samples kept both in arrival order and sorted by
/// value, so that a percentile query is one pass with no allocation.
#[derive(Debug, Clone, Default)]
struct WeightedWindow {
    /// `(id, value, weight)`, oldest first.
    arrival: VecDeque<(u64, f64, f64)>,
    /// `(value, id, weight)`, ascending value (ties by id).
    sorted: Vec<(f64, u64, f64)>,
    total_weight: f64,
    next_id: u64,
}

impl WeightedWindow {
    fn with_capacity(n: usize) -> Self {
        Self {
            arrival: VecDeque::with_capacity(n + 1),
            sorted: Vec::with_capacity(n + 1),
            ..Self::default()
        }
    }

    fn sorted_pos(&self, value: f64, id: u64) -> usize {
        self.sorted.partition_point(|&(v, i, _)| v < value || (v == value && i < id))
    }

    fn push(&mut self, value: f64, weight: f64, max_weight: f64, max_samples: usize) {
        let id = self.next_id;
        self.next_id += 1;
        self.arrival.push_back((id, value, weight));
        let pos = self.sorted_pos(value, id);
        self.sorted.insert(pos, (value, id, weight));
        self.total_weight += weight;
        while self.arrival.len() > max_samples.max(1) {
            self.pop_oldest();
        }
        // Slide by weight: drop whole old samples, then trim the oldest survivor.
        while self.total_weight > max_weight && self.arrival.len() > 1 {
            let excess = self.total_weight - max_weight;
            let Some(&(oid, ov, ow)) = self.arrival.front() else { break };
            if ow <= excess {
                self.pop_oldest();
            } else {
                let trimmed = ow - excess;
                if let Some(front) = self.arrival.front_mut() {
                    front.2 = trimmed;
                }
                let p = self.sorted_pos(ov, oid);
                if let Some(s) = self.sorted.get_mut(p) {
                    s.2 = trimmed;
                }
                self.total_weight = max_weight;
            }
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((id, value, weight)) = self.arrival.pop_front() {
            let p = self.sorted_pos(value, id);
            if p < self.sorted.len() && self.sorted[p].1 == id {
                self.sorted.remove(p);
            }
            self.total_weight -= weight;
            if self.arrival.is_empty() {
                self.total_weight = 0.0;
            }
        }
    }

    fn percentile(&self, q: f64) -> Option<f64> {
        let last = self.sorted.last()?.0;
        let target = q.clamp(0.0, 1.0) * self.total_weight;
        let mut acc = 0.0;
        for &(v, _, w) in &self.sorted {
            acc += w;
            if acc >= target {
                return Some(v);
            }
        }
        Some(last)
    }

    fn clear(&mut self) {
        self.arrival.clear();
        self.sorted.clear();
        self.total_weight = 0.0;
    }
}

/// Sliding-window weighted percentile of throughput (and median of latency).
#[derive(Debug, Clone)]
pub struct SlidingPercentile {
    config: SlidingWindowConfig,
    throughput: WeightedWindow,
    latency: WeightedWindow,
    bits_seen: f64,
    transfer_s_seen: f64,
}

impl Default for SlidingPercentile {
    fn default() -> Self {
        Self::new(SlidingWindowConfig::default())
    }
}

impl SlidingPercentile {
    /// An empty estimator.
    pub fn new(config: SlidingWindowConfig) -> Self {
        Self {
            throughput: WeightedWindow::with_capacity(config.max_samples),
            latency: WeightedWindow::with_capacity(config.latency_samples),
            config,
            bits_seen: 0.0,
            transfer_s_seen: 0.0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SlidingWindowConfig {
        &self.config
    }

    /// Samples currently in the throughput window.
    pub fn len(&self) -> usize {
        self.throughput.arrival.len()
    }

    /// True while the throughput window is empty.
    pub fn is_empty(&self) -> bool {
        self.throughput.arrival.is_empty()
    }

    /// The weighted `q`-percentile (`q` in `[0, 1]`) of the window, ignoring the
    /// warm-up thresholds; `None` when empty.
    pub fn percentile_kbps(&self, q: f64) -> Option<f64> {
        self.throughput.percentile(q)
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.throughput.clear();
        self.latency.clear();
        self.bits_seen = 0.0;
        self.transfer_s_seen = 0.0;
    }

    fn weight_of(&self, sample: &Sample) -> f64 {
        match self.config.weight {
            SampleWeight::SqrtBytes => (sample.bits / 8.0).max(0.0).sqrt(),
            SampleWeight::TransferSeconds => (sample.duration_s - sample.ttfb_s).max(0.0),
            SampleWeight::Uniform => 1.0,
        }
    }
}

impl Estimator for SlidingPercentile {
    fn add_sample(&mut self, sample: &Sample) {
        if sample.ttfb_s.is_finite() && sample.ttfb_s >= 0.0 {
            self.latency.push(sample.ttfb_s, 1.0, f64::INFINITY, self.config.latency_samples);
        }
        let kbps = sample.transfer_kbps();
        let weight = self.weight_of(sample);
        if !(kbps.is_finite() && kbps > 0.0 && weight.is_finite() && weight > 0.0) {
            return;
        }
        self.bits_seen += sample.bits;
        self.transfer_s_seen += sample.duration_s - sample.ttfb_s;
        let (max_weight, max_samples) = (self.config.max_weight, self.config.max_samples);
        self.throughput.push(kbps, weight, max_weight, max_samples);
    }

    fn throughput_kbps(&self) -> Option<f64> {
        let warmed = self.bits_seen >= self.config.min_bits
            || self.transfer_s_seen >= self.config.min_transfer_s;
        if !warmed {
            return None;
        }
        self.throughput.percentile(self.config.percentile)
    }

    fn latency_s(&self) -> Option<f64> {
        self.latency.percentile(0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kbps: f64, seconds: f64) -> Sample {
        Sample {
            bits: kbps * 1000.0 * seconds,
            ttfb_s: 0.05,
            duration_s: seconds + 0.05,
            media_s: 4.0,
        }
    }

    fn uniform(percentile: f64) -> SlidingPercentile {
        SlidingPercentile::new(SlidingWindowConfig {
            weight: SampleWeight::Uniform,
            max_weight: 5.0,
            percentile,
            min_bits: 0.0,
            min_transfer_s: 0.0,
            ..Default::default()
        })
    }

    #[test]
    fn median_of_uniform_window() {
        let mut e = uniform(0.5);
        for k in [900.0, 100.0, 500.0, 300.0, 700.0] {
            e.add_sample(&sample(k, 1.0));
        }
        assert_eq!(e.throughput_kbps(), Some(500.0));
        assert_eq!(e.percentile_kbps(0.0), Some(100.0));
        assert_eq!(e.percentile_kbps(1.0), Some(900.0));
        assert!((e.latency_s().unwrap() - 0.05).abs() < 1e-12);
    }

    #[test]
    fn window_slides_by_weight() {
        let mut e = uniform(0.5);
        for k in [100.0, 100.0, 100.0, 100.0, 100.0] {
            e.add_sample(&sample(k, 1.0));
        }
        for k in [5000.0, 5000.0, 5000.0] {
            e.add_sample(&sample(k, 1.0));
        }
        // Window of 5: two old 100s and three new 5000s.
        assert_eq!(e.len(), 5);
        assert_eq!(e.throughput_kbps(), Some(5000.0));
        assert_eq!(e.percentile_kbps(0.2), Some(100.0));
    }

    #[test]
    fn oldest_sample_is_trimmed_not_dropped() {
        let mut e = SlidingPercentile::new(SlidingWindowConfig {
            weight: SampleWeight::TransferSeconds,
            max_weight: 3.0,
            percentile: 0.5,
            min_bits: 0.0,
            min_transfer_s: 0.0,
            ..Default::default()
        });
        e.add_sample(&sample(100.0, 2.0));
        e.add_sample(&sample(1000.0, 2.0));
        // Total 4 s > 3 s: the 100 kbit/s sample keeps 1 s of weight.
        assert_eq!(e.len(), 2);
        let near = |v: Option<f64>, want: f64| v.is_some_and(|v| (v - want).abs() < 1e-9);
        assert!(near(e.percentile_kbps(0.3), 100.0));
        assert!(near(e.percentile_kbps(0.5), 1000.0));
    }

    #[test]
    fn sqrt_bytes_weights_large_fetches_more() {
        let mut e = SlidingPercentile::new(SlidingWindowConfig {
            min_bits: 0.0,
            min_transfer_s: 0.0,
            ..Default::default()
        });
        e.add_sample(&sample(200.0, 0.1)); // 20 kbit: weight ≈ 50
        e.add_sample(&sample(4000.0, 4.0)); // 16 Mbit: weight ≈ 1414
        assert_eq!(e.throughput_kbps(), Some(4000.0));
    }

    #[test]
    fn warm_up_thresholds() {
        let mut e = SlidingPercentile::default();
        e.add_sample(&sample(1000.0, 0.5)); // 0.5 Mbit, 0.5 s: below both thresholds
        assert_eq!(e.throughput_kbps(), None);
        assert_eq!(e.percentile_kbps(0.5), Some(1000.0));
        e.add_sample(&sample(1000.0, 4.0)); // 4.5 Mbit total: past 512 KiB
        assert_eq!(e.throughput_kbps(), Some(1000.0));
        e.clear();
        assert!(e.is_empty());
        assert_eq!(e.latency_s(), None);
    }

    #[test]
    fn ignores_unusable_samples() {
        let mut e = uniform(0.5);
        e.add_sample(&Sample { bits: 0.0, ttfb_s: 0.1, duration_s: 1.0, media_s: 4.0 });
        e.add_sample(&Sample { bits: 1e6, ttfb_s: 1.0, duration_s: 1.0, media_s: 4.0 });
        assert!(e.is_empty());
        assert_eq!(e.throughput_kbps(), None);
        assert!(e.latency_s().is_some());
    }
}
