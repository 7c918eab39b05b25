//! The QoE report and how it is computed from a segment log.

use super::QoeAccumulator;
use crate::abr::Reason;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One fetched segment, as the session (or a simulator model) played it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Segment index.
    pub index: usize,
    /// Rung fetched.
    pub rendition: usize,
    /// Nominal bitrate of that rung, kbit/s.
    pub bitrate_kbps: f64,
    /// Bits transferred for this segment (including abandoned attempts).
    pub size_bits: f64,
    /// When the request was issued, seconds on the session clock.
    pub request_s: f64,
    /// Fetch duration including time to first byte, seconds.
    pub download_s: f64,
    /// Rebuffering incurred while this segment was being fetched, seconds.
    pub rebuffer_s: f64,
    /// Buffer level after the segment was appended, seconds.
    pub buffer_after_s: f64,
    /// Pathway (CDN) the segment came from.
    pub pathway: String,
    /// Why the ABR rule chose this rung.
    pub reason: Reason,
}

/// Bytes and transfer time carried by one pathway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathwayUsage {
    /// Payload bytes delivered.
    pub bytes: u64,
    /// Seconds spent transferring.
    pub seconds: f64,
    /// Segments delivered.
    pub segments: usize,
}

/// Penalty weights of the QoE formulas; defaults are the papers' constants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct QoeWeights {
    /// Rebuffer penalty of QoE_lin per second (4.3: the top bitrate in Mbit/s).
    pub lin_rebuffer: f64,
    /// Rebuffer penalty of QoE_log per second (2.66).
    pub log_rebuffer: f64,
    /// Rebuffer penalty of QoE_HD per second (8).
    pub hd_rebuffer: f64,
}

impl Default for QoeWeights {
    fn default() -> Self {
        Self { lin_rebuffer: 4.3, log_rebuffer: 2.66, hd_rebuffer: 8.0 }
    }
}

/// The QoE report of one session (serde; the same schema from simulator and player).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QoeReport {
    /// Segments played.
    pub segments: usize,
    /// Time from the first request to the start of playback, seconds.
    pub startup_delay_s: f64,
    /// Stalls after startup.
    pub rebuffer_count: usize,
    /// Total stall time after startup, seconds.
    pub rebuffer_s: f64,
    /// Mean nominal bitrate over segments 2…N, kbit/s.
    pub avg_bitrate_kbps: f64,
    /// Number of rung changes.
    pub switch_count: usize,
    /// Mean absolute bitrate change per transition, kbit/s.
    pub switch_magnitude_kbps: f64,
    /// Mean per-segment QoE_lin over segments 2…N.
    pub qoe_lin: f64,
    /// Mean per-segment QoE_log over segments 2…N.
    pub qoe_log: f64,
    /// Mean per-segment QoE_HD over segments 2…N.
    pub qoe_hd: f64,
    /// Bytes and time per pathway.
    pub pathways: BTreeMap<String, PathwayUsage>,
    /// Decode and presentation figures, when the player decoded the media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback: Option<super::PlaybackStats>,
}

impl QoeReport {
    /// Computes the report from the per-segment log (through a [`QoeAccumulator`],
    /// the one definition of the metrics, given the list's lowest bitrate as QoE_log's
    /// `R_min`).
    ///
    /// `startup_delay_s` is the first segment's stall; stalls inside later segments
    /// count as rebuffering.
    pub fn from_segments(
        records: &[SegmentRecord],
        startup_delay_s: f64,
        weights: QoeWeights,
    ) -> Self {
        let mut acc = QoeAccumulator::new(weights);
        acc.add_log_bases(records.iter().map(|r| r.bitrate_kbps).reduce(f64::min));
        for r in records {
            acc.push(r);
        }
        acc.report(startup_delay_s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::accumulator::hd_reward;
    use super::*;

    fn rec(index: usize, rendition: usize, kbps: f64, rebuffer_s: f64) -> SegmentRecord {
        SegmentRecord {
            index,
            rendition,
            bitrate_kbps: kbps,
            size_bits: kbps * 4000.0,
            request_s: index as f64 * 4.0,
            download_s: 1.0,
            rebuffer_s,
            buffer_after_s: 4.0,
            pathway: "a".into(),
            reason: Reason::Startup,
        }
    }

    #[test]
    fn qoe_lin_matches_pensieve_definition() {
        // 750 -> 1200 (0.5 s stall) -> 1200
        let r = QoeReport::from_segments(
            &[rec(0, 1, 750.0, 2.0), rec(1, 2, 1200.0, 0.5), rec(2, 2, 1200.0, 0.0)],
            2.0,
            QoeWeights::default(),
        );
        let expect = ((1.2 - 4.3 * 0.5 - 0.45) + 1.2) / 2.0;
        assert!((r.qoe_lin - expect).abs() < 1e-12, "{} vs {expect}", r.qoe_lin);
        assert_eq!(r.rebuffer_count, 1);
        assert_eq!(r.switch_count, 1);
        assert!((r.avg_bitrate_kbps - 1200.0).abs() < 1e-12);
        assert_eq!(r.pathways["a"].segments, 3);
    }

    #[test]
    fn hd_reward_uses_thresholds() {
        assert_eq!(hd_reward(100.0), 1.0);
        assert_eq!(hd_reward(1850.0), 12.0);
        assert_eq!(hd_reward(9000.0), 20.0);
    }

    #[test]
    fn huge_segment_sizes_saturate_the_pathway_bytes() {
        // Found by the session fuzz target: byte counts near u64::MAX from a driver
        // overflowed the per-pathway sum (a panic in debug builds, a wrap in release).
        let mut a = rec(0, 0, 300.0, 0.0);
        a.size_bits = 1e20;
        let mut b = rec(1, 0, 300.0, 0.0);
        b.size_bits = u64::MAX as f64 * 8.0;
        let r = QoeReport::from_segments(&[a, b], 0.0, QoeWeights::default());
        let usage = r.pathways.get("a").cloned().unwrap_or_default();
        assert_eq!(usage.bytes, u64::MAX);
        assert_eq!(usage.segments, 2);
    }
}
