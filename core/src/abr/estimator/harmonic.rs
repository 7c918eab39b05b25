//! Harmonic mean of recent samples (placeholder until implemented).
use super::{Estimator, Sample};

/// Harmonic-mean estimator.
#[derive(Debug, Clone, Default)]
pub struct HarmonicMean {}

impl Estimator for HarmonicMean {
    fn add_sample(&mut self, _sample: &Sample) {}
    fn throughput_kbps(&self) -> Option<f64> {
        None
    }
    fn latency_s(&self) -> Option<f64> {
        None
    }
}
