//! How large a response body a driver reads, per request kind.

use super::action::{FetchKind, FetchRequest};
use crate::manifest::ByteRange;
use serde::{Deserialize, Serialize};

/// Largest response bodies, per request kind. A driver fails a request whose body
/// passes its limit (or whose `Content-Length` announces one) as soon as it sees it,
/// and does not retry it: a hostile or broken server cannot make the player read
/// without end. The native and the browser drivers share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BodyLimits {
    /// Manifests and media playlists, bytes (default 32 MiB: a 24-hour VOD playlist
    /// of 1 s segments is about 5 MiB).
    pub manifest_bytes: u64,
    /// Steering manifests, bytes (default 64 KiB, the engine's own limit).
    pub steering_bytes: u64,
    /// Initialization segments without a byte range, bytes (default 16 MiB).
    pub init_bytes: u64,
    /// A media segment whose size the manifest suggests (bitrate × duration) may be
    /// this many times larger (default 4)…
    pub media_factor: f64,
    /// …plus this many bytes (default 1 MiB), since a bitrate is an average or a peak.
    pub media_slack_bytes: u64,
    /// Any media segment, and one of unknown size, bytes (default 256 MiB).
    pub media_bytes: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            manifest_bytes: 32 * 1024 * 1024,
            steering_bytes: crate::steering::MAX_MANIFEST_BYTES as u64,
            init_bytes: 16 * 1024 * 1024,
            media_factor: 4.0,
            media_slack_bytes: 1024 * 1024,
            media_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Largest `UTCTiming` answer read, bytes.
const UTC_TIMING_BYTES: u64 = 4096;

impl BodyLimits {
    /// The largest body accepted for `req` when it is not a byte range (a range
    /// bounds itself: the driver reads no more than it asked for).
    pub fn for_request(&self, req: &FetchRequest) -> u64 {
        match req.kind {
            FetchKind::Manifest => self.manifest_bytes,
            FetchKind::Steering => self.steering_bytes,
            // A segment index is a byte range, which bounds itself; a server that
            // ignores ranges is read no further than an init segment.
            FetchKind::Init | FetchKind::SegmentIndex => self.init_bytes,
            // A date-time is some thirty bytes; anything much longer is not one.
            FetchKind::UtcTiming { .. } => UTC_TIMING_BYTES,
            FetchKind::Media => match req.expected_bytes {
                Some(e) => {
                    let factor =
                        if self.media_factor.is_finite() { self.media_factor } else { 1.0 };
                    let scaled = (e as f64 * factor.max(1.0)).min(u64::MAX as f64) as u64;
                    scaled.max(e.saturating_add(self.media_slack_bytes)).min(self.media_bytes)
                }
                None => self.media_bytes,
            },
        }
    }

    /// How far a driver reads the body of a byte-range request: the range's
    /// `length` when the server honours it (206), the range's end when it ignores it
    /// and sends the resource from its start (200). Never past `media_bytes`,
    /// whatever offset and length the manifest gave: a hostile manifest's range must
    /// not make the player read without bound either.
    pub fn for_range(&self, range: ByteRange, honoured: bool) -> u64 {
        let end = if honoured { range.length } else { range.offset.saturating_add(range.length) };
        end.min(self.media_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_read_to_its_end_and_never_past_the_media_limit() {
        let limits = BodyLimits::default();
        let r = ByteRange { offset: 1000, length: 500 };
        assert_eq!(limits.for_range(r, true), 500);
        assert_eq!(limits.for_range(r, false), 1500);
        let hostile = ByteRange { offset: u64::MAX - 10, length: u64::MAX };
        assert_eq!(limits.for_range(hostile, true), limits.media_bytes);
        assert_eq!(limits.for_range(hostile, false), limits.media_bytes);
    }
}
