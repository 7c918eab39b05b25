//! Throughput shaping: a pathway is one shared link whose rate follows a trace.
//!
//! Every response on the pathway sends its body in small chunks, and each chunk books
//! its transmission time on the link: it starts when the link is free (or now, if the
//! link is idle) and ends once the trace's rate has moved its bytes. Concurrent
//! responses therefore share the rate, as flows on one bottleneck do. An idle link
//! builds up at most [`BURST_S`] of credit (a bottleneck queue's worth): enough to
//! absorb a sender that wakes a little late, so scheduling jitter on a busy machine
//! does not slow the link down, but no more. Time zero is the origin's start; the
//! trace loops.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use streamsteer_sim::trace::Trace;

/// Credit an idle link keeps, seconds of its rate.
pub const BURST_S: f64 = 0.1;

/// A piecewise-constant rate over time that repeats forever.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSchedule {
    /// `(duration_s, bytes_per_s)` stretches, all durations positive.
    steps: Vec<(f64, f64)>,
    /// Sum of the durations.
    loop_s: f64,
    /// Bytes one whole loop moves.
    loop_bytes: f64,
}

/// Why a trace cannot shape a link.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("trace {name:?} cannot shape a link: {why}")]
pub struct ScheduleError {
    /// Trace name.
    pub name: String,
    /// What is wrong with it.
    pub why: String,
}

impl RateSchedule {
    /// A schedule from `(duration_s, bits_per_s)` stretches.
    pub fn from_bits(name: &str, steps: &[(f64, f64)]) -> Result<Self, ScheduleError> {
        let err = |why: &str| ScheduleError { name: name.to_string(), why: why.to_string() };
        let steps: Vec<(f64, f64)> = steps
            .iter()
            .filter(|(d, _)| *d > 0.0)
            .map(|&(d, bps)| (d, (bps / 8.0).max(0.0)))
            .collect();
        if steps.iter().any(|(d, r)| !d.is_finite() || !r.is_finite()) {
            return Err(err("a duration or rate is not finite"));
        }
        let loop_s: f64 = steps.iter().map(|s| s.0).sum();
        let loop_bytes: f64 = steps.iter().map(|(d, r)| d * r).sum();
        if loop_s <= 0.0 {
            return Err(err("zero total duration"));
        }
        if loop_bytes <= 0.0 {
            return Err(err("the rate is zero throughout, nothing could ever be sent"));
        }
        Ok(RateSchedule { steps, loop_s, loop_bytes })
    }

    /// A constant rate.
    pub fn constant(bits_per_s: f64) -> Result<Self, ScheduleError> {
        Self::from_bits("constant", &[(1.0, bits_per_s)])
    }

    /// The schedule a trace describes (its throughput only; the trace's own latency
    /// is not used, the pathway's `latency_ms` is).
    pub fn from_trace(trace: &Trace) -> Result<Self, ScheduleError> {
        let steps: Vec<(f64, f64)> = trace
            .to_periods(1.0, 0.0)
            .iter()
            .map(|p| (p.duration_ms / 1000.0, p.bandwidth_kbps * 1000.0))
            .collect();
        Self::from_bits(&trace.name, &steps)
    }

    /// Mean rate over one loop, bits per second.
    pub fn mean_bps(&self) -> f64 {
        self.loop_bytes * 8.0 / self.loop_s
    }

    /// The rate at `t_s`, bits per second.
    pub fn bps_at(&self, t_s: f64) -> f64 {
        let mut pos = t_s.max(0.0) % self.loop_s;
        for &(d, r) in &self.steps {
            if pos < d {
                return r * 8.0;
            }
            pos -= d;
        }
        self.steps.last().map_or(0.0, |s| s.1 * 8.0)
    }

    /// When sending `bytes` that start at `start_s` finishes.
    pub fn finish_time(&self, start_s: f64, bytes: f64) -> f64 {
        let start_s = start_s.max(0.0);
        let mut left = bytes.max(0.0);
        let whole_loops = (left / self.loop_bytes).floor();
        // Leave the last loop to the walk so that an exact multiple ends where it should.
        let skip = (whole_loops - 1.0).max(0.0);
        left -= skip * self.loop_bytes;
        let mut t = start_s + skip * self.loop_s;
        let loop_start = (t / self.loop_s).floor() * self.loop_s;
        let mut offset = t - loop_start;
        // Find the step holding `offset`, then walk forward (wrapping) until done.
        let mut i = 0;
        while i < self.steps.len() && offset >= self.steps[i].0 {
            offset -= self.steps[i].0;
            i += 1;
        }
        if i == self.steps.len() {
            i = 0;
            offset = 0.0;
        }
        loop {
            let (d, r) = self.steps[i];
            let room = d - offset;
            let can = room * r;
            if can >= left {
                return t + if r > 0.0 { left / r } else { 0.0 };
            }
            left -= can;
            t += room;
            offset = 0.0;
            i = (i + 1) % self.steps.len();
        }
    }
}

/// One pathway's bottleneck link.
#[derive(Debug)]
pub struct Link {
    schedule: RateSchedule,
    /// Seconds since origin start at which everything booked so far is sent.
    busy_until: Mutex<f64>,
    /// The schedule's rate is divided by this (runtime control; 1 = as scheduled),
    /// as `f64` bits.
    slowdown: AtomicU64,
}

impl Link {
    /// A link shaped by `schedule`.
    pub fn new(schedule: RateSchedule) -> Self {
        Link { schedule, busy_until: Mutex::new(0.0), slowdown: AtomicU64::new(1f64.to_bits()) }
    }

    /// Divides the schedule's rate by `factor` from now on (1 restores it). A factor
    /// that is not finite or below 1 is taken as 1.
    pub fn set_slowdown(&self, factor: f64) {
        let f = if factor.is_finite() && factor >= 1.0 { factor } else { 1.0 };
        self.slowdown.store(f.to_bits(), Ordering::Relaxed);
    }

    /// What the schedule's rate is divided by now.
    pub fn slowdown(&self) -> f64 {
        f64::from_bits(self.slowdown.load(Ordering::Relaxed))
    }

    /// Bytes as the schedule sees them: a link `f` times slower moves `f` times fewer.
    fn weighed(&self, bytes: usize) -> f64 {
        bytes as f64 * self.slowdown()
    }

    /// The schedule.
    pub fn schedule(&self) -> &RateSchedule {
        &self.schedule
    }

    /// Books `bytes` at `now_s` and returns when they will have crossed the link.
    pub fn book(&self, now_s: f64, bytes: usize) -> f64 {
        // A poisoned lock only means another task panicked mid-update of a plain f64.
        let mut busy = self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        let start = busy.max(now_s - BURST_S).max(0.0);
        let end = self.schedule.finish_time(start, self.weighed(bytes));
        *busy = end;
        end
    }

    /// Books the first chunk of a response: it starts no earlier than `now_s`. The
    /// credit of [`book`](Self::book) is for a sender that woke late mid-body; a
    /// response that begins on an idle link was not late, and crediting it would
    /// hand it up to [`BURST_S`] of free transfer (the request's latency, or the
    /// player's idle time, counted as link time), which inflates the throughput a
    /// player measures on small segments.
    pub fn book_first(&self, now_s: f64, bytes: usize) -> f64 {
        let mut busy = self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        let start = busy.max(now_s).max(0.0);
        let end = self.schedule.finish_time(start, self.weighed(bytes));
        *busy = end;
        end
    }

    /// A chunk size that keeps pacing smooth: about 50 ms of the current rate,
    /// between 1 KiB and 64 KiB.
    pub fn chunk_bytes(&self, now_s: f64) -> usize {
        let bytes_per_s = self.schedule.bps_at(now_s) / 8.0 / self.slowdown();
        ((bytes_per_s * 0.05) as usize).clamp(1024, 64 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_finish_times() {
        let s = RateSchedule::constant(8_000.0).unwrap(); // 1000 B/s
        assert!((s.finish_time(0.0, 500.0) - 0.5).abs() < 1e-9);
        assert!((s.finish_time(3.25, 2500.0) - 5.75).abs() < 1e-9);
        assert!((s.finish_time(0.0, 1000.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn steps_and_zero_rate_gaps_loop() {
        // 1 s at 1000 B/s, 1 s at nothing, repeating.
        let s = RateSchedule::from_bits("x", &[(1.0, 8000.0), (1.0, 0.0)]).unwrap();
        assert!((s.finish_time(0.5, 1000.0) - 2.5).abs() < 1e-9);
        assert!((s.finish_time(1.2, 100.0) - 2.1).abs() < 1e-9);
        assert!((s.finish_time(0.0, 5000.0) - 9.0).abs() < 1e-9);
        assert!((s.mean_bps() - 4000.0).abs() < 1e-9);
        assert!(RateSchedule::from_bits("z", &[(1.0, 0.0)]).is_err());
    }

    #[test]
    fn link_shares_its_rate() {
        let link = Link::new(RateSchedule::constant(8_000.0).unwrap());
        let a = link.book(0.0, 500);
        let b = link.book(0.0, 500);
        assert!((a - 0.5).abs() < 1e-9 && (b - 1.0).abs() < 1e-9);
        // After idling, only BURST_S of credit.
        assert!((link.book(10.0, 1000) - (11.0 - BURST_S)).abs() < 1e-9);
        // A sender waking 50 ms late loses nothing.
        let next = link.book(11.0 - BURST_S + 0.05, 1000);
        assert!((next - (12.0 - BURST_S)).abs() < 1e-9);
        // A new response on the idle link starts now, with no credit, but still
        // queues behind what is booked.
        assert!((link.book_first(20.0, 1000) - 21.0).abs() < 1e-9);
        assert!((link.book_first(20.5, 500) - 21.5).abs() < 1e-9);
    }

    #[test]
    fn follows_a_cooked_trace() {
        // Pensieve cooked: rate over (t[i-1], t[i]]: 2 Mbit/s for 1 s, then 0.5 for 2 s.
        let trace = Trace::parse("t", "0 1.0\n1 2.0\n3 0.5\n").unwrap();
        let s = RateSchedule::from_trace(&trace).unwrap();
        assert!((s.mean_bps() - trace.mean_kbps() * 1000.0).abs() < 1e-6);
        assert_eq!(s.bps_at(0.5), 2e6);
        assert_eq!(s.bps_at(2.0), 0.5e6);
        assert_eq!(s.bps_at(3.5), 2e6);
        // 250 kB in the first second, then 62.5 kB/s.
        assert!((s.finish_time(0.0, 250_000.0 + 62_500.0) - 2.0).abs() < 1e-9);
    }
}
