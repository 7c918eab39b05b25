//! Bandwidth and latency estimators.
//!
//! An estimator turns measured fetches into a throughput (kbit/s) and a latency
//! (time-to-first-byte, s) estimate. Drivers own one and pass its estimates to rules
//! through [`AbrContext`](super::AbrContext); rules that need their own view (e.g.
//! RobustMPC's prediction error) keep a private one fed from `on_download`.

mod ewma;
mod harmonic;
mod sliding;

pub use ewma::{DualEwma, DualEwmaConfig};
pub use harmonic::HarmonicMean;
pub use sliding::{SampleWeight, SlidingPercentile, SlidingWindowConfig};

/// One measured fetch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Bits transferred.
    pub bits: f64,
    /// Time to first byte, seconds.
    pub ttfb_s: f64,
    /// Whole fetch time including the time to first byte, seconds.
    pub duration_s: f64,
    /// Seconds of media the fetch carried (weights some estimators).
    pub media_s: f64,
}

impl From<&crate::abr::DownloadReport> for Sample {
    /// The fetch a rule was told about; its media duration is not part of a report.
    fn from(report: &crate::abr::DownloadReport) -> Self {
        Sample {
            bits: report.size_bits,
            ttfb_s: report.ttfb_s,
            duration_s: report.duration_s,
            media_s: 0.0,
        }
    }
}

impl Sample {
    /// Throughput over the transfer alone (TTFB excluded), kbit/s.
    pub fn transfer_kbps(&self) -> f64 {
        let t = self.duration_s - self.ttfb_s;
        if t > 0.0 { self.bits / t / 1000.0 } else { f64::INFINITY }
    }
}

/// A throughput/latency estimator.
pub trait Estimator: Send {
    /// Adds one measured fetch.
    fn add_sample(&mut self, sample: &Sample);
    /// Current throughput estimate, kbit/s; `None` before any sample.
    fn throughput_kbps(&self) -> Option<f64>;
    /// Current latency estimate, seconds; `None` before any sample.
    fn latency_s(&self) -> Option<f64>;
}
