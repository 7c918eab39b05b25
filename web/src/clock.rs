//! The session clock in the browser: `performance.now()`, monotonic and unaffected by
//! changes to the system time, as the engine's `Instant` must be.

use streamsteer::time::Instant;

/// Microseconds since the player was created, from `performance.now()`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin_ms: f64,
}

impl Clock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        Self { origin_ms: performance_ms() }
    }

    /// The session clock.
    pub fn now(&self) -> Instant {
        let us = ((performance_ms() - self.origin_ms) * 1000.0).max(0.0);
        // Saturating float-to-int conversion: a clock cannot run past u64::MAX µs.
        Instant(us as u64)
    }

    /// Seconds since the player was created.
    pub fn now_s(&self) -> f64 {
        ((performance_ms() - self.origin_ms) / 1000.0).max(0.0)
    }
}

/// `performance.now()`, on a page or in a worker (every browser with MSE has it).
fn performance_ms() -> f64 {
    crate::global::now_ms()
}

/// The wall clock, Unix seconds: what live DASH templates use until `UTCTiming`
/// corrects it.
pub(crate) fn unix_now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}
