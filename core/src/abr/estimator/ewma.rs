//! Dual exponentially-weighted moving average (placeholder until implemented).
use super::{Estimator, Sample};
use serde::{Deserialize, Serialize};

/// Configuration of [`DualEwma`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct DualEwmaConfig {}

/// Dual EWMA estimator.
#[derive(Debug, Clone, Default)]
pub struct DualEwma {}

impl Estimator for DualEwma {
    fn add_sample(&mut self, _sample: &Sample) {}
    fn throughput_kbps(&self) -> Option<f64> {
        None
    }
    fn latency_s(&self) -> Option<f64> {
        None
    }
}
