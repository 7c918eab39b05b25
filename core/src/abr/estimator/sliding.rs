//! Sliding-window percentile (placeholder until implemented).
use super::{Estimator, Sample};
use serde::{Deserialize, Serialize};

/// Configuration of [`SlidingPercentile`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct SlidingWindowConfig {}

/// Sliding-window percentile estimator.
#[derive(Debug, Clone, Default)]
pub struct SlidingPercentile {}

impl Estimator for SlidingPercentile {
    fn add_sample(&mut self, _sample: &Sample) {}
    fn throughput_kbps(&self) -> Option<f64> {
        None
    }
    fn latency_s(&self) -> Option<f64> {
        None
    }
}
