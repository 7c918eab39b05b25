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

/// `performance.now()` where there is one, else `Date.now()` (coarser, and it follows
/// the system clock, but every browser that has MSE has `performance`).
fn performance_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}

/// The wall clock, Unix seconds: what live DASH templates use until `UTCTiming`
/// corrects it.
pub(crate) fn unix_now_s() -> f64 {
    js_sys::Date::now() / 1000.0
}
