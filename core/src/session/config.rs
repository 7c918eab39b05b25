//! Session settings.

use super::history::HistoryConfig;
use crate::abr::AbrConfig;
use crate::abr::estimator::DualEwmaConfig;
use crate::allowlist::HostAllowlist;
use crate::buffer::BufferPolicy;
use crate::cmcd::CmcdConfig;
use crate::qoe::QoeWeights;
use crate::steering::SteeringConfig;
use serde::{Deserialize, Serialize};

/// Everything a session can be tuned by (serde; every field defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SessionConfig {
    /// ABR rule name, as accepted by [`build_rule`](crate::abr::build_rule) (default `"default"`).
    pub abr_rule: String,
    /// Rule parameters. `buffer_max_s` is overridden by `buffer.forward_target_s`
    /// so that the rule and the session agree on the buffer size.
    pub abr: AbrConfig,
    /// The session-wide throughput/latency estimator's settings.
    pub estimator: DualEwmaConfig,
    /// Buffer thresholds.
    pub buffer: BufferPolicy,
    /// Content steering, pathway health and cost preference.
    pub steering: SteeringConfig,
    /// Hosts the session may request from — manifests, segments, steering servers,
    /// pathway clones — and drivers may follow redirects to (default: any). A URL
    /// on another host is never requested: a segment's counts as a failure of its
    /// pathway (the session fails over), a steering response naming one is refused
    /// whole.
    pub allowed_hosts: HostAllowlist,
    /// Audio: play the highest rendition at or below this bitrate (kbit/s), else the
    /// lowest; `None` (default) plays the lowest. Audio is a small share of the
    /// bytes, so a fixed rendition avoids audible switches for little cost.
    pub audio_max_kbps: Option<f64>,
    /// Start playing as soon as the startup threshold is reached (default true);
    /// false waits for [`Event::Play`](super::Event::Play).
    pub autoplay: bool,
    /// Attempts per segment (over all pathways) before the session fails (default 8).
    pub max_attempts_per_segment: u32,
    /// First retry delay when no other pathway is available, seconds; doubles per
    /// attempt (default 1).
    pub retry_base_s: f64,
    /// Cap on the retry delay, seconds (default 8).
    pub retry_max_s: f64,
    /// QoE weights for the report.
    pub qoe: QoeWeights,
    /// Live: start this many segments behind the newest one listed (default 3, the
    /// HLS specification's "three target durations from the end").
    pub live_delay_segments: usize,
    /// How much of the event log and of the segment records to keep (default: the
    /// last 10 000 of each, so that a long live session runs in flat memory; the QoE
    /// report counts every segment whatever is kept).
    pub history: HistoryConfig,
    /// Common Media Client Data on requests (default off): the session computes the
    /// keys of each request ([`FetchRequest::cmcd`](super::FetchRequest::cmcd)).
    pub cmcd: CmcdConfig,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            abr_rule: "default".into(),
            abr: AbrConfig::default(),
            estimator: DualEwmaConfig::default(),
            buffer: BufferPolicy::default(),
            steering: SteeringConfig::default(),
            allowed_hosts: HostAllowlist::any(),
            audio_max_kbps: None,
            autoplay: true,
            max_attempts_per_segment: 8,
            retry_base_s: 1.0,
            retry_max_s: 8.0,
            qoe: QoeWeights::default(),
            live_delay_segments: 3,
            history: HistoryConfig::default(),
            cmcd: CmcdConfig::default(),
        }
    }
}
