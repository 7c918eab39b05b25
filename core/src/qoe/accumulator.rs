//! The QoE report computed as segments arrive, in memory independent of their number.

use super::report::{PathwayUsage, QoeReport, QoeWeights, SegmentRecord};
use std::collections::BTreeMap;

/// Pensieve's HD reward for a bitrate: its map {300→1, 750→2, 1200→3, 1850→12,
/// 2850→15, 4300→20}, applied to any ladder by the highest threshold reached.
pub(super) fn hd_reward(kbps: f64) -> f64 {
    const MAP: [(f64, f64); 6] =
        [(300.0, 1.0), (750.0, 2.0), (1200.0, 3.0), (1850.0, 12.0), (2850.0, 15.0), (4300.0, 20.0)];
    MAP.iter().rev().find(|(t, _)| kbps >= *t).map_or(MAP[0].1, |(_, r)| *r)
}

/// The running QoE_log sum for one candidate `R_min`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogSum {
    /// The `R_min` the sum is taken over (already clamped to a positive value).
    base: f64,
    /// Σ over segments 2…N of `q(R_n) − w·T_n − |q(R_n) − q(R_{n−1})|`.
    sum: f64,
}

/// Builds a [`QoeReport`] one [`SegmentRecord`] at a time, without keeping them.
///
/// This is the one definition of the report: [`QoeReport::from_segments`] feeds its
/// records through an accumulator, and a session feeds each segment as it is played,
/// so that its report counts every segment while it keeps only the latest records.
///
/// Every sum is taken in segment order with the same per-segment expressions, so the
/// report is the same, bit for bit, as one computed over the whole list. The one
/// term that depends on the whole list is QoE_log's `R_min` (the lowest bitrate of any
/// segment): the accumulator keeps one running sum per candidate `R_min` given to
/// [`add_log_bases`](Self::add_log_bases) (a session gives its ladder's bitrates,
/// which every segment's bitrate is one of) and drops those above the lowest bitrate
/// seen. A new lowest bitrate that is not a candidate rebases the running sum
/// (`Σ ln(R/R'_min) = Σ ln(R/R_min) + k·ln(R_min/R'_min)` over the `k` terms so far),
/// exact in real arithmetic and equal to rounding error in floating point (within
/// 1e-12 relative in the tests). Memory: one entry per pathway and per candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct QoeAccumulator {
    weights: QoeWeights,
    segments: usize,
    /// The previous segment's `(rendition, bitrate_kbps)`.
    prev: Option<(usize, f64)>,
    first_bitrate_kbps: f64,
    /// Lowest bitrate seen, clamped to a positive value (infinite before any).
    min_rate: f64,
    log: Vec<LogSum>,
    rebuffer_count: usize,
    rebuffer_s: f64,
    switch_count: usize,
    switch_sum: f64,
    rate: f64,
    lin: f64,
    hd: f64,
    pathways: BTreeMap<String, PathwayUsage>,
}

/// `R_min` as the report uses it: positive, so that `ln(R/R_min)` is defined.
fn clamp_base(kbps: f64) -> f64 {
    kbps.max(f64::MIN_POSITIVE)
}

impl QoeAccumulator {
    /// An empty accumulator scoring with `weights`.
    pub fn new(weights: QoeWeights) -> Self {
        Self {
            weights,
            segments: 0,
            prev: None,
            first_bitrate_kbps: 0.0,
            min_rate: f64::INFINITY,
            log: vec![LogSum { base: f64::INFINITY, sum: 0.0 }],
            rebuffer_count: 0,
            rebuffer_s: 0.0,
            switch_count: 0,
            switch_sum: 0.0,
            rate: 0.0,
            lin: 0.0,
            hd: 0.0,
            pathways: BTreeMap::new(),
        }
    }

    /// Adds candidate values of QoE_log's `R_min` (kbit/s): when the lowest bitrate of
    /// the segments turns out to be one of them, QoE_log is exactly what a pass over
    /// the whole list gives. Only effective before the second segment (the first one
    /// adds no QoE_log term); candidates above the lowest bitrate already seen, and
    /// NaNs, are ignored.
    pub fn add_log_bases(&mut self, bases: impl IntoIterator<Item = f64>) {
        if self.segments > 1 {
            return;
        }
        for b in bases.into_iter().filter(|b| !b.is_nan()).map(clamp_base) {
            if b <= self.min_rate && !self.log.iter().any(|l| l.base == b) {
                self.log.push(LogSum { base: b, sum: 0.0 });
            }
        }
    }

    /// Segments added so far.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// Adds the next segment (in playback order).
    pub fn push(&mut self, r: &SegmentRecord) {
        self.segments += 1;
        match self.pathways.get_mut(r.pathway.as_str()) {
            Some(u) => add_usage(u, r),
            None => add_usage(self.pathways.entry(r.pathway.clone()).or_default(), r),
        }
        let cur = r.bitrate_kbps;
        let terms = self.segments.saturating_sub(2) as f64;
        let c = clamp_base(cur);
        // NaN is skipped, as `f64::min` skips it in a pass over the list.
        if !cur.is_nan() && c < self.min_rate {
            if !self.log.iter().any(|l| l.base == c) {
                // Not a candidate: rebase the sum of the old minimum.
                let old = self.log.iter().find(|l| l.base == self.min_rate).copied();
                let sum = old.map_or(0.0, |o| {
                    if terms > 0.0 { o.sum + terms * (o.base / c).ln() } else { o.sum }
                });
                self.log.push(LogSum { base: c, sum });
            }
            self.min_rate = c;
            self.log.retain(|l| l.base <= c);
        }
        let Some((prev_rendition, prev)) = self.prev.replace((r.rendition, cur)) else {
            self.first_bitrate_kbps = cur;
            return;
        };
        let w = self.weights;
        if r.rebuffer_s > 0.0 {
            self.rebuffer_count += 1;
            self.rebuffer_s += r.rebuffer_s;
        }
        if prev_rendition != r.rendition {
            self.switch_count += 1;
        }
        self.switch_sum += (cur - prev).abs();
        self.rate += cur;
        self.lin += cur / 1000.0 - w.lin_rebuffer * r.rebuffer_s - (cur - prev).abs() / 1000.0;
        for l in &mut self.log {
            let (q, qp) = ((cur / l.base).ln(), (prev / l.base).ln());
            l.sum += q - w.log_rebuffer * r.rebuffer_s - (q - qp).abs();
        }
        let (h, hp) = (hd_reward(cur), hd_reward(prev));
        self.hd += h - w.hd_rebuffer * r.rebuffer_s - (h - hp).abs();
    }

    /// The report over the segments added so far. Rebuffering and pathway usage are
    /// those of the segments' records (a session overrides them with its own
    /// accounting of stalls and of every transfer).
    pub fn report(&self, startup_delay_s: f64) -> QoeReport {
        let mut report = QoeReport {
            segments: self.segments,
            startup_delay_s,
            rebuffer_count: self.rebuffer_count,
            rebuffer_s: self.rebuffer_s,
            switch_count: self.switch_count,
            pathways: self.pathways.clone(),
            ..Default::default()
        };
        let n = self.segments.saturating_sub(1);
        if n > 0 {
            let n = n as f64;
            let log = self.log.iter().find(|l| l.base == self.min_rate).map_or(0.0, |l| l.sum);
            report.avg_bitrate_kbps = self.rate / n;
            report.switch_magnitude_kbps = self.switch_sum / n;
            report.qoe_lin = self.lin / n;
            report.qoe_log = log / n;
            report.qoe_hd = self.hd / n;
        } else if self.segments == 1 {
            report.avg_bitrate_kbps = self.first_bitrate_kbps;
        }
        report
    }
}

fn add_usage(u: &mut PathwayUsage, r: &SegmentRecord) {
    // Sizes come from the driver's byte counts: saturate, never wrap.
    u.bytes = u.bytes.saturating_add((r.size_bits / 8.0).round() as u64);
    u.seconds += r.download_s;
    u.segments += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abr::Reason;
    use proptest::prelude::*;

    /// The report as it was computed before the accumulator (two passes over the
    /// whole list), kept verbatim as the reference the accumulator must reproduce.
    fn two_pass(records: &[SegmentRecord], startup_delay_s: f64, weights: QoeWeights) -> QoeReport {
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

    /// Field-by-field bit equality (NaN equal to NaN).
    fn assert_same(a: &QoeReport, b: &QoeReport) {
        let bits = |r: &QoeReport| {
            [
                r.startup_delay_s,
                r.rebuffer_s,
                r.avg_bitrate_kbps,
                r.switch_magnitude_kbps,
                r.qoe_lin,
                r.qoe_log,
                r.qoe_hd,
            ]
            .map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() })
        };
        assert_eq!(bits(a), bits(b), "\n{a:?}\nvs\n{b:?}");
        assert_eq!(
            (a.segments, a.rebuffer_count, a.switch_count),
            (b.segments, b.rebuffer_count, b.switch_count)
        );
        assert_eq!(a.pathways.len(), b.pathways.len());
        for (k, u) in &a.pathways {
            let v = &b.pathways[k];
            assert_eq!(
                (u.bytes, u.segments, u.seconds.to_bits()),
                (v.bytes, v.segments, v.seconds.to_bits())
            );
        }
    }

    const LADDER: [f64; 5] = [300.0, 750.0, 1200.0, 1850.0, 4300.0];

    fn records(spec: &[(usize, f64, f64, bool)]) -> Vec<SegmentRecord> {
        spec.iter()
            .enumerate()
            .map(|(i, &(rung, rebuffer_s, download_s, alt))| SegmentRecord {
                index: i,
                rendition: rung,
                bitrate_kbps: LADDER[rung],
                size_bits: LADDER[rung] * 1000.0 * 4.0 * 1.1,
                request_s: i as f64 * 4.0,
                download_s,
                rebuffer_s,
                buffer_after_s: 10.0,
                pathway: if alt { "b".into() } else { "a".into() },
                reason: Reason::Startup,
            })
            .collect()
    }

    fn segment_spec() -> impl Strategy<Value = Vec<(usize, f64, f64, bool)>> {
        let stall = prop_oneof![3 => Just(0.0), 1 => 0.0..5.0f64];
        proptest::collection::vec((0..LADDER.len(), stall, 0.01..8.0f64, any::<bool>()), 0..60)
    }

    proptest! {
        /// `from_segments` (now through the accumulator) equals the old two-pass
        /// computation bit for bit.
        #[test]
        fn from_segments_is_the_old_computation(spec in segment_spec(), startup in 0.0..5.0f64) {
            let recs = records(&spec);
            let w = QoeWeights::default();
            assert_same(&QoeReport::from_segments(&recs, startup, w), &two_pass(&recs, startup, w));
        }

        /// Fed one segment at a time with the ladder as candidates (as a session
        /// does), the accumulator needs no second pass and still matches bit for bit,
        /// also when the lowest rung first appears late.
        #[test]
        fn streaming_with_ladder_bases_is_exact(spec in segment_spec()) {
            let recs = records(&spec);
            let w = QoeWeights { lin_rebuffer: 3.0, log_rebuffer: 1.5, hd_rebuffer: 6.0 };
            let mut acc = QoeAccumulator::new(w);
            acc.add_log_bases(LADDER.iter().rev().copied());
            for (i, r) in recs.iter().enumerate() {
                acc.push(r);
                prop_assert_eq!(acc.segments(), i + 1);
            }
            assert_same(&acc.report(1.0), &two_pass(&recs, 1.0, w));
        }

        /// Without candidates a new minimum is rebased: the same to 1e-12.
        #[test]
        fn streaming_without_bases_rebases_within_1e12(spec in segment_spec()) {
            let recs = records(&spec);
            let w = QoeWeights::default();
            let mut acc = QoeAccumulator::new(w);
            for r in &recs {
                acc.push(r);
            }
            let (a, b) = (acc.report(0.0), two_pass(&recs, 0.0, w));
            let tolerance = 1e-12 * b.qoe_log.abs().max(1.0);
            prop_assert!((a.qoe_log - b.qoe_log).abs() <= tolerance, "{} vs {}", a.qoe_log, b.qoe_log);
            assert_same(&QoeReport { qoe_log: b.qoe_log, ..a }, &b);
        }
    }

    #[test]
    fn a_late_new_minimum_rebases_the_log_sum() {
        // 1200, 1200, 750 (not a candidate): ln terms must be re-based on 750.
        let recs = records(&[(2, 0.0, 1.0, false), (2, 0.0, 1.0, false), (1, 0.5, 1.0, false)]);
        let mut acc = QoeAccumulator::new(QoeWeights::default());
        acc.add_log_bases([1200.0]);
        recs.iter().for_each(|r| acc.push(r));
        let q = (1200.0f64 / 750.0).ln();
        let expect = (q + (0.0 - 2.66 * 0.5 - q)) / 2.0;
        assert!((acc.report(0.0).qoe_log - expect).abs() < 1e-12);
        // A candidate added after the second segment would have missed a term.
        let mut late = QoeAccumulator::new(QoeWeights::default());
        late.push(&recs[0]);
        late.push(&recs[1]);
        late.add_log_bases([1.0]);
        assert_eq!(late.log.len(), 1);
    }

    #[test]
    fn nan_and_zero_bitrates_match_the_old_computation() {
        let mut recs = records(&[(2, 0.0, 1.0, false), (1, 0.0, 1.0, true), (3, 1.0, 1.0, false)]);
        recs[1].bitrate_kbps = f64::NAN;
        let w = QoeWeights::default();
        assert_same(&QoeReport::from_segments(&recs, 0.0, w), &two_pass(&recs, 0.0, w));
        recs[1].bitrate_kbps = 0.0;
        assert_same(&QoeReport::from_segments(&recs, 0.0, w), &two_pass(&recs, 0.0, w));
        assert_same(&QoeReport::from_segments(&[], 0.0, w), &two_pass(&[], 0.0, w));
        assert_same(&QoeReport::from_segments(&recs[..1], 0.0, w), &two_pass(&recs[..1], 0.0, w));
    }
}
