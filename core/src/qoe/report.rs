//! The QoE report and how it is computed from a segment log.

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

/// Pensieve's HD reward for a bitrate: its map {300→1, 750→2, 1200→3, 1850→12,
/// 2850→15, 4300→20}, applied to any ladder by the highest threshold reached.
fn hd_reward(kbps: f64) -> f64 {
    const MAP: [(f64, f64); 6] =
        [(300.0, 1.0), (750.0, 2.0), (1200.0, 3.0), (1850.0, 12.0), (2850.0, 15.0), (4300.0, 20.0)];
    MAP.iter().rev().find(|(t, _)| kbps >= *t).map_or(MAP[0].1, |(_, r)| *r)
}

impl QoeReport {
    /// Computes the report from the per-segment log.
    ///
    /// `startup_delay_s` is the first segment's stall; stalls inside later segments
    /// count as rebuffering.
    pub fn from_segments(
        records: &[SegmentRecord],
        startup_delay_s: f64,
        weights: QoeWeights,
    ) -> Self {
        let mut report =
            QoeReport { segments: records.len(), startup_delay_s, ..Default::default() };
        let min_rate = records
            .iter()
            .map(|r| r.bitrate_kbps)
            .fold(f64::INFINITY, f64::min)
            .max(f64::MIN_POSITIVE);
        let (mut lin, mut log, mut hd, mut rate) = (0.0, 0.0, 0.0, 0.0);
        let mut switch_sum = 0.0;
        for (i, r) in records.iter().enumerate() {
            let usage = report.pathways.entry(r.pathway.clone()).or_default();
            // Sizes come from the driver's byte counts: saturate, never wrap.
            usage.bytes = usage.bytes.saturating_add((r.size_bits / 8.0).round() as u64);
            usage.seconds += r.download_s;
            usage.segments += 1;
            if i == 0 {
                continue;
            }
            let prev = records[i - 1].bitrate_kbps;
            let cur = r.bitrate_kbps;
            if r.rebuffer_s > 0.0 {
                report.rebuffer_count += 1;
                report.rebuffer_s += r.rebuffer_s;
            }
            if records[i - 1].rendition != r.rendition {
                report.switch_count += 1;
            }
            switch_sum += (cur - prev).abs();
            rate += cur;
            lin += cur / 1000.0 - weights.lin_rebuffer * r.rebuffer_s - (cur - prev).abs() / 1000.0;
            let (q, qp) = ((cur / min_rate).ln(), (prev / min_rate).ln());
            log += q - weights.log_rebuffer * r.rebuffer_s - (q - qp).abs();
            let (h, hp) = (hd_reward(cur), hd_reward(prev));
            hd += h - weights.hd_rebuffer * r.rebuffer_s - (h - hp).abs();
        }
        let n = records.len().saturating_sub(1);
        if n > 0 {
            let n = n as f64;
            report.avg_bitrate_kbps = rate / n;
            report.switch_magnitude_kbps = switch_sum / n;
            report.qoe_lin = lin / n;
            report.qoe_log = log / n;
            report.qoe_hd = hd / n;
        } else if let Some(first) = records.first() {
            report.avg_bitrate_kbps = first.bitrate_kbps;
        }
        report
    }
}

#[cfg(test)]
mod tests {
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
