//! Pensieve's `fixed_env` network and player model (Mao et al., SIGCOMM'17).
//!
//! This reproduces `test/fixed_env.py` of hongzimao/pensieve (commit `1120bb1`), the
//! environment its BB, RobustMPC and Pensieve agents are evaluated in, so that numbers
//! from this model compare with the RL-ABR literature. Semantics, all deliberate:
//!
//! - **Trace stepping.** The trace is Pensieve "cooked" samples `(t[i], bw[i])`; sample
//!   `i` holds over `(t[i−1], t[i]]`. The session starts at sample 1 with the clock at
//!   `t[0]`. A download walks sample by sample, each carrying
//!   `bw × duration × 0.95` bytes (the 0.95 packet-payload fraction), and finishes inside
//!   the sample where the remaining bytes fit. Past the last sample the trace wraps to
//!   sample 1 with the clock at **0** (not `t[0]`), as the reference does.
//! - **RTT.** 80 ms are added to every download's delay *without* consuming trace time.
//! - **Buffer.** Rebuffering is the delay beyond the buffer; the buffer then drains by
//!   the delay (floored at 0) and gains one segment. Above the cap (60 s unless
//!   [`SimConfig::buffer_max_s`] says otherwise) the player sleeps a whole number of
//!   500 ms steps until back under the cap; sleeping advances the trace but downloads
//!   nothing. No noise: `fixed_env` has none (only the training `env.py` does).
//! - **Session.** 48 segments (or [`SimConfig::segments`]; fewer if the ladder is
//!   shorter); the first at rung 1 whatever the rule (Pensieve's `DEFAULT_QUALITY`), the
//!   rule deciding every later one with the buffer *after* the previous download and
//!   any sleep.
//! - **What the controller is told about sizes.** Pensieve's `mpc.py` looks segment sizes
//!   up one position ahead of the segment actually requested (its table index is
//!   "segments played + 1 + position"). Every rule here sees the ladder through that
//!   same shifted view ([`ladder_view`]), so RobustMPC decides exactly as the reference
//!   and all rules get the same information; the downloads themselves use the true
//!   sizes.
//!
//! The QoE report follows Pensieve's convention: means over segments 2…N, the first
//! segment's stall being the start-up delay. The `metrics` map carries the columns of
//! `shared/golden/pensieve-env-1120bb1`.

use crate::model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
use crate::trace::Trace;
use std::collections::BTreeMap;
use streamsteer::Ladder;
use streamsteer::abr::estimator::{Estimator, HarmonicMean, Sample};
use streamsteer::abr::{AbrContext, AbrRule, DownloadReport, Reason};
use streamsteer::qoe::{QoeReport, SegmentRecord};

/// Fraction of the link rate that carries payload (`PACKET_PAYLOAD_PORTION`).
pub const PAYLOAD_FRACTION: f64 = 0.95;
/// Round-trip time added to every download, milliseconds (`LINK_RTT`).
pub const LINK_RTT_MS: f64 = 80.0;
/// Granularity of the sleeps that bring the buffer back under its cap, ms.
pub const DRAIN_SLEEP_MS: f64 = 500.0;
/// Buffer cap when the configuration sets none, seconds (`BUFFER_THRESH`).
pub const DEFAULT_BUFFER_S: f64 = 60.0;
/// Segments per session when the configuration sets none (`TOTAL_VIDEO_CHUNCK`).
pub const DEFAULT_SEGMENTS: usize = 48;
/// Rung of the first segment (`DEFAULT_QUALITY`).
pub const DEFAULT_QUALITY: usize = 1;
/// Name of the single pathway in the QoE report.
pub const PATHWAY: &str = "pensieve";

/// Pensieve's `fixed_env` model.
#[derive(Debug, Clone, Copy, Default)]
pub struct PensieveModel;

/// The link: cooked samples and the replay position.
struct Link<'a> {
    name: &'a str,
    time_s: &'a [f64],
    mbps: &'a [f64],
    ptr: usize,
    last_time_s: f64,
    /// Bound on the seconds any one download or sleep may take.
    limit_s: f64,
}

impl<'a> Link<'a> {
    fn new(
        name: &'a str,
        time_s: &'a [f64],
        mbps: &'a [f64],
        limit_s: f64,
    ) -> Result<Self, SimError> {
        if time_s.len() < 2 || time_s.len() != mbps.len() {
            return Err(SimError::DeadTrace(name.to_string()));
        }
        if time_s.iter().chain(mbps).any(|v| !v.is_finite()) || mbps.iter().any(|&b| b < 0.0) {
            return Err(SimError::Unsupported(format!(
                "trace {name}: non-finite time or negative/non-finite throughput"
            )));
        }
        // Something must be delivered and time must pass in every replay cycle, or the
        // reference loops forever. After a wrap the first sample spans (0, t[1]].
        let cycle_bytes: f64 = (1..time_s.len())
            .map(|i| {
                let start = if i == 1 { time_s[0].min(0.0) } else { time_s[i - 1] };
                mbps[i] * (time_s[i] - start).max(0.0)
            })
            .sum();
        // Finite and non-negative inputs make the sum finite and ≥ 0.
        if cycle_bytes <= 0.0 {
            return Err(SimError::DeadTrace(name.to_string()));
        }
        Ok(Self { name, time_s, mbps, ptr: 1, last_time_s: time_s[0], limit_s })
    }

    fn advance_sample(&mut self) {
        self.last_time_s = self.time_s[self.ptr];
        self.ptr += 1;
        if self.ptr >= self.mbps.len() {
            self.ptr = 1;
            self.last_time_s = 0.0;
        }
    }

    fn timeout(&self) -> SimError {
        SimError::Timeout { trace: self.name.to_string(), limit_s: self.limit_s }
    }

    /// Seconds to move `size_bytes` (without the RTT), advancing the replay position.
    fn download(&mut self, size_bytes: f64) -> Result<f64, SimError> {
        let mut delay_s = 0.0;
        let mut sent = 0.0;
        loop {
            let throughput = self.mbps[self.ptr] * 1_000_000.0 / 8.0;
            let duration = self.time_s[self.ptr] - self.last_time_s;
            let payload = throughput * duration * PAYLOAD_FRACTION;
            if sent + payload > size_bytes {
                let fractional = (size_bytes - sent) / throughput / PAYLOAD_FRACTION;
                delay_s += fractional;
                self.last_time_s += fractional;
                return Ok(delay_s);
            }
            sent += payload;
            delay_s += duration;
            self.advance_sample();
            if delay_s > self.limit_s {
                return Err(self.timeout());
            }
        }
    }

    /// Lets `sleep_ms` of trace time pass without downloading.
    fn sleep(&mut self, mut sleep_ms: f64) -> Result<(), SimError> {
        let mut slept_s = 0.0;
        loop {
            let duration = self.time_s[self.ptr] - self.last_time_s;
            if duration > sleep_ms / 1000.0 {
                self.last_time_s += sleep_ms / 1000.0;
                return Ok(());
            }
            sleep_ms -= duration * 1000.0;
            slept_s += duration.max(0.0);
            self.advance_sample();
            if slept_s > self.limit_s {
                return Err(self.timeout());
            }
        }
    }
}

/// The ladder as Pensieve's MPC sees it for a session of `segments` segments:
/// position `i` carries the sizes of segment `i + 1` (the one after the segment really
/// requested), the last position those of the segment past the session when the
/// ladder has one (Pensieve's 49th) and otherwise its own.
pub fn ladder_view(ladder: &Ladder, segments: usize) -> Result<Ladder, SimError> {
    let count = ladder.segment_count();
    if count == 0 || segments == 0 {
        return Err(SimError::NoSegments);
    }
    let rungs = ladder.len();
    let sizes = (0..segments)
        .map(|i| {
            let j = if i + 1 < segments || count > segments { i + 1 } else { i };
            (0..rungs).map(|r| ladder.segment_size_bits(j % count, r)).collect()
        })
        .collect();
    Ladder::new(ladder.bitrates_kbps().to_vec(), ladder.segment_duration_s(), sizes)
        .map_err(|e| SimError::Unsupported(format!("ladder view: {e}")))
}

impl Model for PensieveModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Pensieve
    }

    fn run(
        &self,
        ladder: &Ladder,
        trace: &Trace,
        rule: &mut dyn AbrRule,
        config: &SimConfig,
    ) -> Result<SessionOutcome, SimError> {
        let count = ladder.segment_count();
        if count == 0 {
            return Err(SimError::NoSegments);
        }
        let segments = config.segments.unwrap_or(DEFAULT_SEGMENTS.min(count));
        if segments == 0 {
            return Err(SimError::NoSegments);
        }
        let view = ladder_view(ladder, segments)?;
        let buffer_max_s = config.buffer_max_s.unwrap_or(DEFAULT_BUFFER_S);
        if !(buffer_max_s.is_finite() && buffer_max_s > 0.0) {
            return Err(SimError::Unsupported(format!(
                "buffer cap {buffer_max_s} s is not positive"
            )));
        }
        let segment_s = ladder.segment_duration_s();
        let chunk_ms = segment_s * 1000.0;
        let cap_ms = buffer_max_s * 1000.0;
        let (time_s, mbps) = trace.to_cooked();
        let limit_s = 1e5 + 100.0 * segments as f64 * segment_s;
        let mut link = Link::new(&trace.name, &time_s, &mbps, limit_s)?;

        let rungs = ladder.len();
        let mut estimator = HarmonicMean::new(5);
        let mut buffer_ms = 0.0_f64;
        let mut clock_s = 0.0_f64;
        let mut records: Vec<SegmentRecord> = Vec::with_capacity(segments);
        let mut timeline: Vec<(f64, f64)> = Vec::with_capacity(3 * segments + 1);
        timeline.push((0.0, 0.0));
        let mut decision_rung = DEFAULT_QUALITY.min(rungs - 1);
        let mut reason = Reason::Startup;
        let mut pending_delay_s = 0.0_f64;

        for k in 0..segments {
            let rung = decision_rung.min(rungs - 1);
            // A decision may ask to wait first: the buffer drains (stalling once empty,
            // counted against this segment) while trace time passes.
            let mut stall_ms = 0.0;
            if pending_delay_s > 0.0 {
                let wait_ms = pending_delay_s * 1000.0;
                stall_ms = (wait_ms - buffer_ms).max(0.0);
                buffer_ms = (buffer_ms - wait_ms).max(0.0);
                link.sleep(wait_ms)?;
                clock_s += pending_delay_s;
                rule.on_delay(pending_delay_s);
                timeline.push((clock_s, buffer_ms / 1000.0));
            }
            let request_s = clock_s;
            let size_bits = ladder.segment_size_bits(k % count, rung);
            let delay_ms = link.download(size_bits / 8.0)? * 1000.0 + LINK_RTT_MS;
            let rebuffer_ms = (delay_ms - buffer_ms).max(0.0) + stall_ms;
            let buffer_before_append_ms = (buffer_ms - delay_ms).max(0.0);
            buffer_ms = buffer_before_append_ms + chunk_ms;
            clock_s += delay_ms / 1000.0;
            timeline.push((clock_s, buffer_before_append_ms / 1000.0));
            timeline.push((clock_s, buffer_ms / 1000.0));
            let buffer_after_append_s = buffer_ms / 1000.0;

            let mut sleep_ms = 0.0;
            if buffer_ms > cap_ms {
                sleep_ms = ((buffer_ms - cap_ms) / DRAIN_SLEEP_MS).ceil() * DRAIN_SLEEP_MS;
                buffer_ms -= sleep_ms;
                link.sleep(sleep_ms)?;
                clock_s += sleep_ms / 1000.0;
                timeline.push((clock_s, buffer_ms / 1000.0));
            }

            records.push(SegmentRecord {
                index: k,
                rendition: rung,
                bitrate_kbps: ladder.bitrates_kbps()[rung],
                size_bits,
                request_s,
                download_s: delay_ms / 1000.0,
                rebuffer_s: rebuffer_ms / 1000.0,
                buffer_after_s: buffer_after_append_s,
                pathway: PATHWAY.to_string(),
                reason,
            });

            let report = DownloadReport {
                segment_index: k,
                rendition: rung,
                size_bits,
                ttfb_s: LINK_RTT_MS / 1000.0,
                duration_s: delay_ms / 1000.0,
                buffer_level_s: buffer_before_append_ms / 1000.0,
                abandoned: false,
            };
            estimator.add_sample(&Sample {
                bits: size_bits,
                ttfb_s: report.ttfb_s,
                duration_s: report.duration_s,
                media_s: segment_s,
            });
            let ctx = AbrContext {
                ladder: &view,
                segment_index: k + 1,
                buffer_level_s: buffer_ms / 1000.0,
                buffer_max_s,
                last_rendition: Some(rung),
                throughput_kbps: estimator.throughput_kbps(),
                latency_s: estimator.latency_s(),
                now_s: clock_s,
                playing: true,
            };
            rule.on_download(&AbrContext { segment_index: k, ..ctx }, &report);
            if sleep_ms > 0.0 {
                rule.on_delay(sleep_ms / 1000.0);
            }
            if k + 1 < segments {
                let d = rule.choose(&ctx);
                decision_rung = d.rendition;
                reason = d.reason;
                pending_delay_s =
                    if d.delay_s.is_finite() { d.delay_s.clamp(0.0, buffer_max_s) } else { 0.0 };
            }
        }

        let startup_delay_s = records.first().map_or(0.0, |r| r.rebuffer_s);
        let report = QoeReport::from_segments(&records, startup_delay_s, config.qoe);
        let metrics = golden_metrics(&records, &report, config.qoe.lin_rebuffer);
        Ok(SessionOutcome {
            trace: trace.name.clone(),
            rule: rule.name().to_string(),
            model: ModelKind::Pensieve,
            report,
            segments: records,
            buffer_timeline: timeline,
            metrics,
        })
    }
}

/// The per-session columns of `shared/golden/pensieve-env-1120bb1`, by their names there.
fn golden_metrics(
    records: &[SegmentRecord],
    report: &QoeReport,
    rebuffer_penalty: f64,
) -> BTreeMap<String, f64> {
    let qoe_sum: f64 = records
        .windows(2)
        .map(|w| {
            w[1].bitrate_kbps / 1000.0
                - rebuffer_penalty * w[1].rebuffer_s
                - (w[1].bitrate_kbps - w[0].bitrate_kbps).abs() / 1000.0
        })
        .sum();
    let mut m = BTreeMap::new();
    m.insert("qoe_lin_mean_chunks_2_48".to_string(), report.qoe_lin);
    m.insert("qoe_lin_sum_chunks_2_48".to_string(), qoe_sum);
    m.insert("avg_bitrate_kbps_2_48".to_string(), report.avg_bitrate_kbps);
    m.insert("rebuffer_s_2_48".to_string(), report.rebuffer_s);
    m.insert("mean_abs_switch_kbps_2_48".to_string(), report.switch_magnitude_kbps);
    m.insert("first_chunk_rebuffer_s".to_string(), report.startup_delay_s);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceData;
    use streamsteer::abr::{AbrConfig, build_rule};

    fn cooked(name: &str, time_s: Vec<f64>, mbps: Vec<f64>) -> Trace {
        Trace { name: name.into(), data: TraceData::Cooked { time_s, mbps } }
    }

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0], 4.0, 49)
            .unwrap()
    }

    #[test]
    fn constant_link_arithmetic() {
        // 8 Mbit/s for ever: 0.95 MB/s of payload.
        let t = cooked("c", (0..400).map(f64::from).collect(), vec![8.0; 400]);
        let mut rule = build_rule("bba", &AbrConfig::default(), &ladder()).unwrap();
        let out = PensieveModel.run(&ladder(), &t, rule.as_mut(), &SimConfig::default()).unwrap();
        assert_eq!(out.segments.len(), 48);
        let first = &out.segments[0];
        assert_eq!(first.rendition, 1);
        let want = 750.0 * 4000.0 / 8.0 / 950_000.0 + 0.08;
        assert!((first.download_s - want).abs() < 1e-9, "{} vs {want}", first.download_s);
        assert!((out.report.startup_delay_s - want).abs() < 1e-9);
        // A fast link fills the buffer to the cap and BBA sits on the top rung.
        assert_eq!(out.segments.last().unwrap().rendition, 5);
        assert!(out.buffer_timeline.iter().all(|&(_, b)| (0.0..=64.0 + 1e-9).contains(&b)));
        assert!(out.buffer_timeline.windows(2).all(|w| w[1].0 >= w[0].0));
        assert_eq!(out.metrics.len(), 6);
        assert_eq!(out.report.rebuffer_s, 0.0);
    }

    #[test]
    fn wraps_around_short_traces() {
        // A 3-second trace must be replayed many times for 48 segments.
        let t = cooked("short", vec![0.0, 1.0, 2.0, 3.0], vec![1.0, 1.0, 3.0, 2.0]);
        let mut rule = build_rule("robustmpc", &AbrConfig::default(), &ladder()).unwrap();
        let cfg = SimConfig { segments: Some(10), ..SimConfig::default() };
        let out = PensieveModel.run(&ladder(), &t, rule.as_mut(), &cfg).unwrap();
        assert_eq!(out.segments.len(), 10);
        assert!(out.segments.iter().all(|s| s.download_s > 0.08));
    }

    #[test]
    fn dead_traces_are_errors_not_hangs() {
        let t = cooked("dead", vec![0.0, 1.0, 2.0], vec![5.0, 0.0, 0.0]);
        let mut rule = build_rule("bba", &AbrConfig::default(), &ladder()).unwrap();
        let e = PensieveModel.run(&ladder(), &t, rule.as_mut(), &SimConfig::default()).unwrap_err();
        assert!(matches!(e, SimError::DeadTrace(ref n) if n == "dead"), "{e}");
        // Alive but absurdly slow: bounded by the time limit.
        let t = cooked("slow", vec![0.0, 1.0], vec![1e-9, 1e-9]);
        let e = PensieveModel.run(&ladder(), &t, rule.as_mut(), &SimConfig::default()).unwrap_err();
        assert!(matches!(e, SimError::Timeout { .. }), "{e}");
        let empty = Ladder::constant_bitrate(vec![300.0], 4.0, 0).unwrap();
        let t = cooked("ok", vec![0.0, 1.0], vec![1.0, 1.0]);
        assert!(matches!(
            PensieveModel.run(&empty, &t, rule.as_mut(), &SimConfig::default()),
            Err(SimError::NoSegments)
        ));
    }

    #[test]
    fn view_shifts_sizes_by_one() {
        let l = Ladder::new(vec![100.0], 1.0, vec![vec![1.0], vec![2.0], vec![3.0]]).unwrap();
        let v = ladder_view(&l, 2).unwrap();
        assert_eq!((v.segment_size_bits(0, 0), v.segment_size_bits(1, 0)), (2.0, 3.0));
        let v = ladder_view(&l, 3).unwrap();
        assert_eq!(v.segment_size_bits(2, 0), 3.0);
    }
}
