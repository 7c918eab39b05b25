//! Adaptive bitrate: estimators and rules behind one trait.
//!
//! Every rule implements [`AbrRule`]. A driver (the session, or one of the simulator's
//! compatibility models) shows the rule a read-only [`AbrContext`] before each segment
//! and gets back a [`Decision`]: which rung to fetch, how long to wait first, and why.
//! After every fetch the driver reports a [`DownloadReport`]; while a fetch runs it may
//! ask [`AbrRule::check_abandon`] whether to give it up for a lower rung.
//!
//! Rules are deterministic state machines: same context and reports in, same decisions
//! out. They never allocate on the decision path.
//!
//! The default rule (`"default"`) is [`scenario_mpc::ScenarioMpc`]: model-predictive
//! control that plans against a distribution of throughput scenarios.

#[cfg(feature = "all-rules")]
pub mod bba;
#[cfg(feature = "all-rules")]
pub mod bola;
#[cfg(feature = "all-rules")]
pub mod dynamic;
pub mod estimator;
pub mod lowest;
#[cfg(feature = "all-rules")]
pub mod mpc;
mod registry;
pub mod scenario_mpc;
#[cfg(feature = "all-rules")]
pub mod throughput;

pub use registry::{AbrConfig, AbrError, BASELINE_NAMES, RULE_NAMES, build_rule};

use crate::ladder::Ladder;
use serde::{Deserialize, Serialize};

/// What a rule sees when it decides.
#[derive(Debug, Clone, Copy)]
pub struct AbrContext<'a> {
    /// The ladder being played.
    pub ladder: &'a Ladder,
    /// Index of the segment about to be requested (0-based).
    pub segment_index: usize,
    /// Seconds of media buffered ahead of the playhead.
    pub buffer_level_s: f64,
    /// The forward buffer target (maximum) in seconds.
    pub buffer_max_s: f64,
    /// Rung of the previously fetched segment; `None` before the first fetch.
    pub last_rendition: Option<usize>,
    /// The driver's throughput estimate in kbit/s, if it has one yet.
    pub throughput_kbps: Option<f64>,
    /// The driver's latency (time-to-first-byte) estimate in seconds, if any.
    pub latency_s: Option<f64>,
    /// Time on the session clock, seconds.
    pub now_s: f64,
    /// True once playback has started (false during startup buffering).
    pub playing: bool,
}

/// The outcome of one decision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Rung to fetch (index into the ladder, ascending bitrate).
    pub rendition: usize,
    /// Seconds to wait before issuing the request (BOLA may hold off to let the
    /// buffer drain rather than oscillate).
    pub delay_s: f64,
    /// Why the rule chose this rung.
    pub reason: Reason,
}

impl Decision {
    /// A decision to fetch `rendition` now, for `reason`.
    pub fn now(rendition: usize, reason: Reason) -> Self {
        Self { rendition, delay_s: 0.0, reason }
    }
}

/// Why a rule decided as it did; carried into logs and the QoE event log.
///
/// The numbers are what the rule looked at, so a decision can be audited after the
/// fact without re-running the session.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// First segment: no measurement yet, the rule's startup rung.
    Startup,
    /// The highest rung the (safety-scaled) throughput estimate sustains.
    Throughput {
        /// Estimate used, kbit/s.
        estimate_kbps: f64,
    },
    /// A buffer-based choice (BOLA's utility score, BBA's reservoir/cushion map).
    Buffer {
        /// Buffer level the choice was made at, seconds.
        buffer_s: f64,
    },
    /// BOLA capped an upswitch at what throughput sustains, to avoid oscillation.
    OscillationGuard {
        /// Buffer level, seconds.
        buffer_s: f64,
        /// Estimate used, kbit/s.
        estimate_kbps: f64,
    },
    /// Model-predictive control: the first step of the best plan over the horizon.
    Predictive {
        /// Predicted throughput used over the horizon, kbit/s.
        predicted_kbps: f64,
        /// Objective value of the chosen plan.
        objective: f64,
    },
    /// The buffer is too low for anything but a safe rung.
    LowBuffer {
        /// Buffer level, seconds.
        buffer_s: f64,
    },
    /// Kept the previous rung (hysteresis or not enough evidence to move).
    Hold {
        /// Buffer level, seconds.
        buffer_s: f64,
    },
    /// A fetch in progress was abandoned for a lower rung.
    Abandon {
        /// Estimate used, kbit/s.
        estimate_kbps: f64,
    },
}

/// A completed (or abandoned) segment fetch, as the driver measured it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DownloadReport {
    /// Segment index.
    pub segment_index: usize,
    /// Rung fetched.
    pub rendition: usize,
    /// Bits received.
    pub size_bits: f64,
    /// Time to first byte, seconds.
    pub ttfb_s: f64,
    /// Whole fetch duration including the time to first byte, seconds.
    pub duration_s: f64,
    /// Buffer level when the fetch completed, before the segment is added, seconds.
    pub buffer_level_s: f64,
    /// Whether the fetch was abandoned before completing.
    pub abandoned: bool,
}

impl DownloadReport {
    /// Throughput over the transfer (excluding the time to first byte), kbit/s.
    pub fn transfer_kbps(&self) -> f64 {
        let t = self.duration_s - self.ttfb_s;
        if t > 0.0 { self.size_bits / t / 1000.0 } else { f64::INFINITY }
    }
}

/// A fetch in flight, as seen when the driver asks whether to abandon it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FetchProgress {
    /// Segment index.
    pub segment_index: usize,
    /// Rung being fetched.
    pub rendition: usize,
    /// Total size of the segment, bits.
    pub size_bits: f64,
    /// Bits received so far.
    pub downloaded_bits: f64,
    /// Time since the request was issued, seconds.
    pub elapsed_s: f64,
    /// Time to first byte, seconds (if the first byte has arrived).
    pub ttfb_s: Option<f64>,
}

/// A bitrate-adaptation rule.
pub trait AbrRule: Send {
    /// Short, stable name (as accepted by `--abr`).
    fn name(&self) -> &str;

    /// Chooses the rung for the segment described by `ctx`.
    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision;

    /// Learns from a finished (or abandoned) fetch. The context's buffer level is the
    /// level after the segment was appended.
    fn on_download(&mut self, _ctx: &AbrContext<'_>, _report: &DownloadReport) {}

    /// Learns that the driver slept `delay_s` seconds because the buffer was full.
    ///
    /// Only waits the rule did not ask for: the delay a rule returns in its
    /// [`Decision`] is already known to it, and reporting it again would count it
    /// twice (BOLA-E's placeholder buffer would grow by it twice).
    fn on_delay(&mut self, _delay_s: f64) {}

    /// Learns that the user sought to `segment_index`.
    fn on_seek(&mut self, _segment_index: usize) {}

    /// While a fetch runs: `Some(rung)` to abandon it and refetch at `rung`.
    fn check_abandon(&mut self, _ctx: &AbrContext<'_>, _progress: &FetchProgress) -> Option<usize> {
        None
    }
}

/// The highest rung whose nominal bitrate fits in `kbps` (rung 0 if none does).
pub fn highest_rung_below(ladder: &Ladder, kbps: f64) -> usize {
    let rates = ladder.bitrates_kbps();
    rates.iter().rposition(|&b| b <= kbps).unwrap_or(0)
}
