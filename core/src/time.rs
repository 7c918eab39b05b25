//! Time on the caller's clock.
//!
//! The engine never reads a clock: every event carries the caller's notion of "now".
//! Integer microseconds keep arithmetic exact and replays bit-identical across
//! platforms, which floating-point seconds would not guarantee for long sessions.

use serde::{Deserialize, Serialize};
use std::ops::{Add, Sub};

/// A point on the caller's monotonic clock, in microseconds since an arbitrary origin.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Instant(pub u64);

/// A span of time in microseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Duration(pub u64);

impl Instant {
    /// The clock's origin.
    pub const ZERO: Instant = Instant(0);

    /// Builds an instant from seconds (negative and non-finite values clamp to zero).
    pub fn from_secs_f64(s: f64) -> Self {
        Instant(secs_to_micros(s))
    }

    /// Seconds since the origin.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);

    /// Builds a duration from seconds (negative and non-finite values clamp to zero).
    pub fn from_secs_f64(s: f64) -> Self {
        Duration(secs_to_micros(s))
    }

    /// Builds a duration from whole milliseconds.
    pub const fn from_millis(ms: u64) -> Self {
        Duration(ms.saturating_mul(1000))
    }

    /// The span in seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

fn secs_to_micros(s: f64) -> u64 {
    if s.is_finite() && s > 0.0 {
        let us = (s * 1e6).round();
        if us >= u64::MAX as f64 { u64::MAX } else { us as u64 }
    } else {
        0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs.0))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_since(rhs)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, rhs: Duration) -> Duration {
        Duration(self.0.saturating_add(rhs.0))
    }
}
