//! Retry delays (exponential backoff with seeded jitter) and the `Retry-After` header
//! (parsed by the engine's [`streamsteer::http::parse_retry_after`]).

use crate::config::RetryPolicy;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// SplitMix64: a tiny, well-mixed generator. Seeded per request (see
/// [`Backoff::for_request`]) so that each request's delays are reproducible whatever
/// order concurrent requests happen to fail in.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The delays of one request's retries.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    rng: SplitMix,
}

impl Backoff {
    /// The backoff of request `id` under `seed`.
    pub(crate) fn for_request(policy: &RetryPolicy, seed: u64, id: u64) -> Self {
        let mut mix = SplitMix::new(seed ^ id.wrapping_mul(0xd6e8_feb8_6659_fd93));
        let rng = SplitMix::new(mix.next_u64());
        Self { policy: policy.clone(), rng }
    }

    /// Whether another attempt is allowed after `attempt` (from 1) failed.
    pub(crate) fn may_retry(&self, attempt: u32) -> bool {
        attempt < self.policy.max_attempts.max(1)
    }

    /// The delay before the attempt after `attempt` (from 1), never below
    /// `at_least` (a `Retry-After`) unless that exceeds the cap.
    pub(crate) fn delay(&mut self, attempt: u32, at_least: Option<Duration>) -> Duration {
        let p = &self.policy;
        let base = finite_or_zero(p.base_delay_s);
        let cap = finite_or_zero(p.max_delay_s).max(base);
        let exp = base * 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        let jitter = finite_or_zero(p.jitter).min(1.0);
        let factor = 1.0 + jitter * (2.0 * self.rng.next_f64() - 1.0);
        let mut s = (exp.min(cap) * factor).max(0.0);
        if let Some(min) = at_least {
            s = s.max(min.as_secs_f64().min(cap));
        }
        Duration::from_secs_f64(s)
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// A `Retry-After` header value read against the wall clock `now` (see
/// [`streamsteer::http::parse_retry_after`]; a clock before 1970 counts as 1970).
pub(crate) fn read_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let now_s = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    streamsteer::http::parse_retry_after(value, now_s).map(|d| Duration::from_micros(d.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_within_the_jitter() {
        let p = RetryPolicy { max_attempts: 10, base_delay_s: 0.5, max_delay_s: 4.0, jitter: 0.5 };
        let mut b = Backoff::for_request(&p, 1, 7);
        for (attempt, nominal) in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)] {
            let d = b.delay(attempt, None).as_secs_f64();
            assert!(d >= nominal * 0.5 - 1e-9 && d <= nominal * 1.5 + 1e-9, "{attempt}: {d}");
        }
        assert!(b.may_retry(9));
        assert!(!b.may_retry(10));
    }

    #[test]
    fn same_seed_and_request_give_the_same_delays() {
        let p = RetryPolicy::new(5, 1.0, 8.0);
        let a: Vec<_> = {
            let mut b = Backoff::for_request(&p, 42, 3);
            (1..5).map(|n| b.delay(n, None)).collect()
        };
        let mut b = Backoff::for_request(&p, 42, 3);
        let again: Vec<_> = (1..5).map(|n| b.delay(n, None)).collect();
        assert_eq!(a, again);
        let mut other = Backoff::for_request(&p, 42, 4);
        let differ: Vec<_> = (1..5).map(|n| other.delay(n, None)).collect();
        assert_ne!(a, differ);
    }

    #[test]
    fn retry_after_is_a_floor_below_the_cap() {
        let p = RetryPolicy { max_attempts: 3, base_delay_s: 0.1, max_delay_s: 4.0, jitter: 0.0 };
        let mut b = Backoff::for_request(&p, 0, 0);
        assert_eq!(b.delay(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(b.delay(1, Some(Duration::from_secs(60))), Duration::from_secs(4));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_against_the_wall_clock() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37
        assert_eq!(read_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(
            read_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(read_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(read_retry_after("soon", now), None);
        // Overflowed before the parser moved to the engine; now capped or refused.
        let cap = read_retry_after("18446744073709551615", now);
        assert_eq!(cap, Some(Duration::from_secs(streamsteer::http::MAX_HTTP_DATE_UNIX_S)));
        assert_eq!(read_retry_after("Sun, 06 Nov 999999999999 08:49:37 GMT", now), None);
        // A clock before the epoch counts as the epoch.
        let before = UNIX_EPOCH - Duration::from_secs(10);
        assert_eq!(
            read_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", before),
            Some(Duration::from_secs(10))
        );
    }
}
