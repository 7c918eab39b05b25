//! Figures the worker threads keep, read by the sink for the QoE report. Timings go
//! into fixed-size histograms, so that memory stays flat over hours of playback.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use streamsteer::qoe::PlaybackStats;

/// Width of a histogram bucket, microseconds: percentiles are exact to this.
const BUCKET_US: u64 = 100;
/// Buckets (up to one second); longer values count in the last one, `max` stays exact.
const BUCKETS: usize = 10_000;

/// The most underrun positions a report lists
/// ([`PlaybackStats::audio_underrun_at_s`]), so that it stays small however often a
/// session starves; `audio_underruns` still counts every one.
pub const MAX_UNDERRUN_POSITIONS: usize = 100;

/// Distribution of non-negative durations in microseconds.
#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    n: u64,
    sum: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self { counts: vec![0; BUCKETS], n: 0, sum: 0, max: 0 }
    }
}

impl Histogram {
    fn add(&mut self, us: u64, times: u64) {
        let b = usize::try_from(us / BUCKET_US).unwrap_or(usize::MAX).min(BUCKETS - 1);
        self.counts[b] += times;
        self.n += times;
        self.sum = self.sum.saturating_add(us.saturating_mul(times));
        self.max = self.max.max(us);
    }

    fn mean_ms(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum as f64 / self.n as f64 / 1000.0 }
    }

    fn max_ms(&self) -> f64 {
        self.max as f64 / 1000.0
    }

    /// The `q` quantile (nearest rank), as its bucket's upper edge, capped at the max.
    fn quantile_ms(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((self.n as f64 * q).ceil() as u64).clamp(1, self.n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                if i == BUCKETS - 1 {
                    return self.max_ms();
                }
                let edge = (i as u64 + 1) * BUCKET_US;
                return edge.min(self.max) as f64 / 1000.0;
            }
        }
        self.max_ms()
    }
}

#[derive(Debug, Default)]
struct Inner {
    stats: PlaybackStats,
    decode: Histogram,
    render: Histogram,
    drift: Histogram,
}

/// Shared, thread-safe playback figures.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle {
    inner: Arc<Mutex<Inner>>,
}

impl StatsHandle {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Counters only: a panicked writer leaves them usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut PlaybackStats)) {
        f(&mut self.lock().stats);
    }

    pub(crate) fn decoded(&self, frames: u64, decode_us: u64) {
        let mut g = self.lock();
        g.stats.frames_decoded += frames;
        // Per frame: a packet's decode time is shared by the frames it produced.
        if let Some(per) = decode_us.checked_div(frames) {
            g.decode.add(per, frames);
        }
    }

    pub(crate) fn rendered(&self, render_us: u64) {
        self.lock().render.add(render_us, 1);
    }

    /// `count` audio underruns; `position_s`: the media time at which the output ran
    /// dry, if known.
    pub(crate) fn audio_underruns(&self, count: u64, position_s: Option<f64>) {
        let mut g = self.lock();
        g.stats.audio_underruns += count;
        if let Some(p) = position_s
            && g.stats.audio_underrun_at_s.len() < MAX_UNDERRUN_POSITIONS
        {
            g.stats.audio_underrun_at_s.push(p);
        }
    }

    /// Audio clock minus frame time when a frame was ready on screen, microseconds.
    pub(crate) fn drift(&self, drift_us: i64) {
        self.lock().drift.add(drift_us.unsigned_abs(), 1);
    }

    /// The figures now, with the means and percentiles computed.
    pub fn snapshot(&self) -> PlaybackStats {
        let g = self.lock();
        let mut s = g.stats.clone();
        s.decode_ms_mean = g.decode.mean_ms();
        s.decode_ms_p95 = g.decode.quantile_ms(0.95);
        s.render_ms_mean = g.render.mean_ms();
        s.av_drift_ms_max = g.drift.max_ms();
        s.av_drift_ms_mean = g.drift.mean_ms();
        s.av_drift_ms_p99 = g.drift.quantile_ms(0.99);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_exact_to_a_bucket() {
        let mut h = Histogram::default();
        for us in 1..=1000u64 {
            h.add(us * 10, 1); // 10 µs … 10 ms
        }
        assert_eq!(h.n, 1000);
        assert!((h.mean_ms() - 5.005).abs() < 1e-9);
        assert_eq!(h.max_ms(), 10.0);
        // The 950th value is 9.5 ms: its bucket's upper edge is 9.6 ms.
        assert!((h.quantile_ms(0.95) - 9.6).abs() < 1e-9, "{}", h.quantile_ms(0.95));
        h.add(5_000_000, 1); // 5 s: beyond the last bucket, max still exact
        assert_eq!(h.max_ms(), 5000.0);
        assert_eq!(h.quantile_ms(1.0), 5000.0);
    }

    #[test]
    fn underrun_positions_are_bounded_and_the_count_is_not() {
        let stats = StatsHandle::default();
        for i in 0..150 {
            stats.audio_underruns(1, Some(f64::from(i)));
        }
        stats.audio_underruns(2, None);
        let s = stats.snapshot();
        assert_eq!(s.audio_underruns, 152);
        assert_eq!(s.audio_underrun_at_s.len(), MAX_UNDERRUN_POSITIONS);
        assert_eq!(s.audio_underrun_at_s[..3], [0.0, 1.0, 2.0], "the first ones are kept");
    }
}
