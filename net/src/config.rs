//! Player settings: one serde struct, every field defaulted and documented.

use serde::{Deserialize, Serialize};
use streamsteer::session::{FetchKind, SessionConfig};

/// Everything a [`Player`](crate::Player) can be tuned by. Every field has a default,
/// so `{}` (JSON) or `PlayerConfig::default()` is a working configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PlayerConfig {
    /// The engine's settings: ABR rule, buffer, steering, QoE weights (default
    /// [`SessionConfig::default`]).
    pub session: SessionConfig,
    /// HTTP: timeouts and retries per request kind, HTTP/2, user agent.
    pub net: NetConfig,
    /// Seed of the retry jitter, so that a run's retry delays can be reproduced
    /// (default `0x5eed`).
    pub jitter_seed: u64,
    /// Seconds between two [`Event::Status`](crate::Event::Status) reports; 0 turns them
    /// off (default 1).
    pub status_interval_s: f64,
    /// Seconds between two corrections of the session's playhead model by the sink's
    /// playback clock while playing (default 0.25).
    pub position_interval_s: f64,
    /// Capacity of the event channel; a receiver that falls further behind misses
    /// the oldest events (default 4096).
    pub event_capacity: usize,
}

impl Default for PlayerConfig {
    fn default() -> Self {
        Self {
            session: SessionConfig::default(),
            net: NetConfig::default(),
            jitter_seed: 0x5eed,
            status_interval_s: 1.0,
            position_interval_s: 0.25,
            event_capacity: 4096,
        }
    }
}

/// HTTP settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NetConfig {
    /// Manifests and media playlists (default: TTFB 10 s, idle 10 s, total 20 s,
    /// 3 attempts from 0.5 s to 4 s). The session re-requests a failed playlist at
    /// once, without delay, so the backoff lives here.
    pub manifest: RequestPolicy,
    /// Initialization segments and DASH segment indexes (default: TTFB 5 s, idle
    /// 5 s, total 20 s, 1 attempt; see `media` for why no retry).
    pub init: RequestPolicy,
    /// Media segments (default: TTFB 5 s, idle 5 s, total 60 s, 1 attempt). The
    /// session counts attempts per segment, penalises the failing pathway and asks
    /// for the same segment on the next pathway at once (or backs off itself when
    /// there is none). A retry here, on the same URL, would hide the failure from
    /// the session for the length of the retry, delaying the failover that keeps
    /// the buffer from running dry, and would compound the two backoffs.
    pub media: RequestPolicy,
    /// Steering manifests (default: TTFB 10 s, idle 10 s, total 20 s, 2 attempts
    /// from 1 s). 410 and 429 are never retried here: the steering controller must
    /// see them (410 stops polling, 429 waits `Retry-After`); other failures make it
    /// wait a whole TTL, so one quick retry of a transient error is worth it.
    pub steering: RequestPolicy,
    /// DASH `UTCTiming` requests, the server's clock (default: TTFB 5 s, idle 5 s,
    /// total 10 s, one attempt). Not retried here: the session corrects the answer by
    /// half the round trip it saw, which a retry's backoff would inflate, and on a
    /// failure it moves to the MPD's next source or the device clock.
    pub utc_timing: RequestPolicy,
    /// Connection timeout, seconds (default 5). One value for all kinds: it belongs
    /// to the shared connection pool, which is what lets manifests, segments and
    /// steering reuse each other's connections.
    pub connect_timeout_s: f64,
    /// Speak HTTP/2 without negotiation (h2c prior knowledge) on `http://` URLs
    /// (default false: HTTP/1.1, or HTTP/2 when TLS ALPN offers it).
    pub http2_prior_knowledge: bool,
    /// `User-Agent` header (default `streamsteer/<version>`).
    pub user_agent: String,
    /// A running media fetch reports progress to the session (for abandonment and
    /// throughput) at most once per this many bytes… (default 65536)
    pub progress_bytes: u64,
    /// …or once per this many seconds, whichever comes first (default 0.1).
    pub progress_interval_s: f64,
    /// Idle connections kept per host (default 8).
    pub pool_max_idle_per_host: usize,
    /// Redirects followed per request (default 5). Each target is parsed by the
    /// engine's URL rules from the raw `Location` header and must be on a host
    /// `session.allowed_hosts` admits; `https` never redirects to `http`.
    pub max_redirects: u32,
    /// Largest bodies accepted per request kind, enforced while streaming.
    pub limits: BodyLimits,
}

pub use streamsteer::session::BodyLimits;

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            manifest: RequestPolicy::new(10.0, 10.0, 20.0, RetryPolicy::new(3, 0.5, 4.0)),
            init: RequestPolicy::new(5.0, 5.0, 20.0, RetryPolicy::new(1, 0.5, 4.0)),
            media: RequestPolicy::new(5.0, 5.0, 60.0, RetryPolicy::new(1, 0.5, 4.0)),
            steering: RequestPolicy::new(10.0, 10.0, 20.0, RetryPolicy::new(2, 1.0, 8.0)),
            utc_timing: RequestPolicy::new(5.0, 5.0, 10.0, RetryPolicy::new(1, 0.5, 4.0)),
            connect_timeout_s: 5.0,
            http2_prior_knowledge: false,
            user_agent: format!("streamsteer/{}", env!("CARGO_PKG_VERSION")),
            progress_bytes: 64 * 1024,
            progress_interval_s: 0.1,
            pool_max_idle_per_host: 8,
            max_redirects: 5,
            limits: BodyLimits::default(),
        }
    }
}

impl NetConfig {
    /// The policy of a request kind.
    pub fn policy(&self, kind: FetchKind) -> &RequestPolicy {
        match kind {
            FetchKind::Manifest => &self.manifest,
            // A segment index is fetched like an init segment: a small range that
            // must arrive before anything plays.
            FetchKind::Init | FetchKind::SegmentIndex => &self.init,
            FetchKind::Media => &self.media,
            FetchKind::Steering => &self.steering,
            FetchKind::UtcTiming { .. } => &self.utc_timing,
            _ => &self.manifest,
        }
    }
}

/// Timeouts and retries of one request kind. Timeouts are seconds; 0 or a negative
/// value disables that timeout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RequestPolicy {
    /// Longest wait from sending the request to the response headers (connection
    /// set-up included).
    pub ttfb_timeout_s: f64,
    /// Longest gap between two pieces of the body: catches a server that stops
    /// sending mid-body long before `total_timeout_s` would.
    pub idle_timeout_s: f64,
    /// Longest whole request, first byte to last.
    pub total_timeout_s: f64,
    /// Retries of a failed attempt.
    pub retry: RetryPolicy,
}

impl RequestPolicy {
    /// A policy with these timeouts and retries.
    pub fn new(ttfb_s: f64, idle_s: f64, total_s: f64, retry: RetryPolicy) -> Self {
        Self { ttfb_timeout_s: ttfb_s, idle_timeout_s: idle_s, total_timeout_s: total_s, retry }
    }
}

impl Default for RequestPolicy {
    /// The media policy's values.
    fn default() -> Self {
        NetConfig::default().media
    }
}

/// Exponential backoff with jitter: attempt `n` (from 1) waits
/// `min(max_delay_s, base_delay_s × 2^(n−1)) × (1 ± jitter)` before attempt `n + 1`.
/// Retried: connection errors, timeouts, truncated bodies, 5xx, 408 and 429 (the
/// latter waiting at least its `Retry-After`); other statuses are final.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry; default 1).
    pub max_attempts: u32,
    /// Delay after the first failure, seconds (default 0.5).
    pub base_delay_s: f64,
    /// Cap on the delay, seconds (default 4).
    pub max_delay_s: f64,
    /// Relative jitter: the delay is scaled by a seeded uniform factor in
    /// `[1 − jitter, 1 + jitter]` (default 0.5), so that players that failed together
    /// do not retry together.
    pub jitter: f64,
}

impl RetryPolicy {
    /// A policy with the default jitter.
    pub fn new(max_attempts: u32, base_delay_s: f64, max_delay_s: f64) -> Self {
        Self { max_attempts, base_delay_s, max_delay_s, jitter: 0.5 }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(1, 0.5, 4.0)
    }
}
