//! Buffer policy: when to fetch, when playback may start or resume, when it stalls.
//!
//! The policy is pure arithmetic over buffer levels (seconds of media ahead of the
//! playhead); the session owns the levels and asks the policy what to do. Defaults
//! follow the peer players surveyed in `reference/players.md`:
//!
//! | setting | default | why |
//! | --- | --- | --- |
//! | `startup_s` | 2 s | Media3 starts at 1 s; one more second absorbs a slow second segment |
//! | `forward_target_s` | 30 s | hls.js `maxBufferLength`; the simulator's streamsteer model default |
//! | `back_buffer_s` | 30 s | Shaka `bufferBehind`; enough to seek back without refetching |
//! | `stall_threshold_s` | 0 s | a stall is declared when the playable buffer is exhausted |
//! | `resume_s` | 2 s | Media3 `bufferForPlaybackAfterRebufferMs` |
//! | `one_buffer` | true | audio and video fetched in step on a shared link (see the field) |

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a buffer policy is not usable.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum BufferPolicyError {
    /// A threshold is negative or not finite.
    #[error("buffer policy: {name} = {value} must be a finite, non-negative number of seconds")]
    NotFinite {
        /// Field name.
        name: &'static str,
        /// The offending value.
        value: f64,
    },
    /// The forward target must be positive, or the session would never fetch.
    #[error("buffer policy: forward_target_s must be positive")]
    ZeroTarget,
    /// A start or resume threshold above the forward target would never be reached.
    #[error("buffer policy: {name} = {value} s exceeds forward_target_s = {target} s")]
    AboveTarget {
        /// Field name.
        name: &'static str,
        /// The offending threshold.
        value: f64,
        /// The forward target.
        target: f64,
    },
    /// The stall threshold must lie below the resume threshold, or playback would
    /// stall again the instant it resumed.
    #[error("buffer policy: stall_threshold_s = {stall} s must be below resume_s = {resume} s")]
    StallAboveResume {
        /// Stall threshold.
        stall: f64,
        /// Resume threshold.
        resume: f64,
    },
}

/// Buffer thresholds, in seconds of media (serde; every field defaults, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BufferPolicy {
    /// Playable buffer needed before the first frame is shown.
    pub startup_s: f64,
    /// Forward buffer goal: no new segment is requested if it would take the buffer
    /// above this level.
    pub forward_target_s: f64,
    /// Media kept behind the playhead; older media may be evicted.
    pub back_buffer_s: f64,
    /// Playback stalls when the playable buffer falls to this level or below.
    pub stall_threshold_s: f64,
    /// Playable buffer needed to resume after a stall (or a seek).
    pub resume_s: f64,
    /// Audio and video fill one buffer (default true): audio starts segment `n` only
    /// once video has started segment `n`, and video runs at most one segment ahead of
    /// audio, so that on a slow shared link the small track does not take the
    /// bandwidth the other needs (audio segments 1-9 arriving while video had 1-3
    /// made a player stall on a 0.6 Mbit/s cellular link). `false` lets each track
    /// fill its own buffer independently.
    pub one_buffer: bool,
}

impl Default for BufferPolicy {
    fn default() -> Self {
        Self {
            startup_s: 2.0,
            forward_target_s: 30.0,
            back_buffer_s: 30.0,
            stall_threshold_s: 0.0,
            resume_s: 2.0,
            one_buffer: true,
        }
    }
}

/// Where playback stands with respect to the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaybackPhase {
    /// Waiting for the startup threshold (nothing shown yet).
    Startup,
    /// Playing.
    Playing,
    /// Stalled mid-stream, waiting for the resume threshold.
    Stalled,
}

impl BufferPolicy {
    /// Checks every threshold, so that a session never runs with a policy that
    /// could not start or would oscillate between stall and resume.
    pub fn validate(&self) -> Result<(), BufferPolicyError> {
        for (name, value) in [
            ("startup_s", self.startup_s),
            ("forward_target_s", self.forward_target_s),
            ("back_buffer_s", self.back_buffer_s),
            ("stall_threshold_s", self.stall_threshold_s),
            ("resume_s", self.resume_s),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(BufferPolicyError::NotFinite { name, value });
            }
        }
        if self.forward_target_s <= 0.0 {
            return Err(BufferPolicyError::ZeroTarget);
        }
        for (name, value) in [("startup_s", self.startup_s), ("resume_s", self.resume_s)] {
            if value > self.forward_target_s {
                return Err(BufferPolicyError::AboveTarget {
                    name,
                    value,
                    target: self.forward_target_s,
                });
            }
        }
        if self.stall_threshold_s >= self.resume_s && self.resume_s > 0.0 {
            return Err(BufferPolicyError::StallAboveResume {
                stall: self.stall_threshold_s,
                resume: self.resume_s,
            });
        }
        Ok(())
    }

    /// Seconds to wait before requesting a segment of `segment_s` seconds when
    /// `ahead_s` seconds are buffered: zero when appending it keeps the buffer within
    /// the forward target.
    ///
    /// A target shorter than one segment still lets one segment in once the buffer
    /// is empty, so a tiny target slows the session down but never starves it.
    pub fn fetch_delay_s(&self, ahead_s: f64, segment_s: f64) -> f64 {
        let ahead = ahead_s.max(0.0);
        let seg = if segment_s.is_finite() { segment_s.max(0.0) } else { 0.0 };
        let room = self.forward_target_s.max(seg);
        (ahead + seg - room).max(0.0)
    }

    /// Whether a segment of `segment_s` seconds may be requested now.
    pub fn should_fetch(&self, ahead_s: f64, segment_s: f64) -> bool {
        self.fetch_delay_s(ahead_s, segment_s) <= 0.0
    }

    /// The phase that follows `phase` given `ahead_s` seconds of playable buffer;
    /// `complete` is true when the rest of the presentation is buffered (the end of a
    /// VOD stream), which lets playback start or resume below the thresholds and
    /// never counts running dry as a stall.
    pub fn next_phase(&self, phase: PlaybackPhase, ahead_s: f64, complete: bool) -> PlaybackPhase {
        match phase {
            PlaybackPhase::Startup => {
                if complete || ahead_s >= self.startup_s {
                    PlaybackPhase::Playing
                } else {
                    PlaybackPhase::Startup
                }
            }
            PlaybackPhase::Stalled => {
                if complete || ahead_s >= self.resume_s {
                    PlaybackPhase::Playing
                } else {
                    PlaybackPhase::Stalled
                }
            }
            PlaybackPhase::Playing => {
                if !complete && ahead_s <= self.stall_threshold_s {
                    PlaybackPhase::Stalled
                } else {
                    PlaybackPhase::Playing
                }
            }
        }
    }

    /// The media time before which buffered media may be evicted, given the playhead
    /// `position_s`; `None` while nothing lies beyond the back-buffer target.
    pub fn evict_before_s(&self, position_s: f64, buffered_start_s: f64) -> Option<f64> {
        let keep_from = position_s - self.back_buffer_s;
        (keep_from > buffered_start_s).then_some(keep_from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let p = BufferPolicy::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!((p.startup_s, p.forward_target_s, p.resume_s), (2.0, 30.0, 2.0));
    }

    #[test]
    fn serde_fills_missing_fields_with_defaults() {
        let p: BufferPolicy = serde_json::from_str(r#"{"forward_target_s": 60}"#).unwrap();
        assert_eq!(p.forward_target_s, 60.0);
        assert_eq!(p.startup_s, BufferPolicy::default().startup_s);
    }

    #[test]
    fn rejects_unusable_policies() {
        let bad = BufferPolicy { startup_s: f64::NAN, ..Default::default() };
        assert!(matches!(
            bad.validate(),
            Err(BufferPolicyError::NotFinite { name: "startup_s", .. })
        ));
        let bad = BufferPolicy { forward_target_s: 0.0, ..Default::default() };
        assert_eq!(bad.validate(), Err(BufferPolicyError::ZeroTarget));
        let bad = BufferPolicy { resume_s: 40.0, ..Default::default() };
        assert!(matches!(
            bad.validate(),
            Err(BufferPolicyError::AboveTarget { name: "resume_s", .. })
        ));
        let bad = BufferPolicy { stall_threshold_s: 3.0, ..Default::default() };
        assert!(matches!(bad.validate(), Err(BufferPolicyError::StallAboveResume { .. })));
    }

    #[test]
    fn fetches_only_while_the_segment_fits_under_the_target() {
        let p = BufferPolicy { forward_target_s: 30.0, ..Default::default() };
        assert!(p.should_fetch(26.0, 4.0));
        assert!(!p.should_fetch(26.5, 4.0));
        assert!((p.fetch_delay_s(29.0, 4.0) - 3.0).abs() < 1e-12);
        // A target below one segment still admits a segment into an empty buffer.
        let tiny = BufferPolicy { forward_target_s: 1.0, startup_s: 0.5, resume_s: 0.5, ..p };
        assert!(tiny.should_fetch(0.0, 4.0));
        assert!(!tiny.should_fetch(0.5, 4.0));
    }

    #[test]
    fn startup_stall_and_resume_follow_the_thresholds() {
        let p = BufferPolicy::default();
        use PlaybackPhase::*;
        assert_eq!(p.next_phase(Startup, 1.9, false), Startup);
        assert_eq!(p.next_phase(Startup, 2.0, false), Playing);
        assert_eq!(
            p.next_phase(Startup, 0.5, true),
            Playing,
            "a short stream starts when complete"
        );
        assert_eq!(p.next_phase(Playing, 0.1, false), Playing);
        assert_eq!(p.next_phase(Playing, 0.0, false), Stalled);
        assert_eq!(p.next_phase(Playing, 0.0, true), Playing, "running dry at the end is no stall");
        assert_eq!(p.next_phase(Stalled, 1.0, false), Stalled);
        assert_eq!(p.next_phase(Stalled, 2.0, false), Playing);
    }

    #[test]
    fn evicts_only_beyond_the_back_buffer() {
        let p = BufferPolicy { back_buffer_s: 30.0, ..Default::default() };
        assert_eq!(p.evict_before_s(20.0, 0.0), None);
        assert_eq!(p.evict_before_s(45.0, 0.0), Some(15.0));
        assert_eq!(p.evict_before_s(45.0, 20.0), None);
    }
}
