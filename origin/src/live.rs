//! The VOD ladder served as a live stream.
//!
//! Media sequence numbers advance with the wall clock: segment `N` of a rendition is
//! file `N % segment_count` played in loop `N / segment_count`, so it starts at
//! `loop × L + start_s` where `L` is the length of one loop (the longest rendition,
//! shared by all so audio stays in sync). Its `tfdt` is shifted by `loop × L` when
//! served (see [`crate::boxes`]), so timestamps only increase, as in a real live
//! stream. A segment exists once it has ended on the live clock; the playlists and the
//! MPD list the last `window_segments` of them.

use crate::boxes::{self, BoxError};
use crate::config::LiveConfig;
use crate::content::ContentInfo;
use crate::renditions::{self, RenditionRef};

/// One segment of the live stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LiveSegment {
    /// Media sequence number (HLS) / `$Number$` (DASH).
    pub number: u64,
    /// Which file of the VOD rendition it is.
    pub file_index: usize,
    /// Which loop of the content it belongs to.
    pub loop_index: u64,
    /// Start, seconds since the live epoch.
    pub start_s: f64,
    /// Duration, seconds.
    pub duration_s: f64,
}

/// The live stream's clock and window.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveTimeline {
    /// Unix time (s, whole milliseconds) at which media time 0 was live: the DASH
    /// `availabilityStartTime`.
    pub epoch_unix_s: f64,
    /// Length of one loop of the content, seconds.
    pub loop_s: f64,
    /// Segments listed in playlists.
    pub window_segments: usize,
    /// Nominal segment duration, seconds.
    pub segment_duration_s: f64,
}

impl LiveTimeline {
    /// The timeline of a stream whose origin started at `start_unix_s`.
    pub fn new(info: &ContentInfo, config: &LiveConfig, start_unix_s: f64) -> Self {
        let preroll = config.preroll_segments as f64 * info.segment_duration_s;
        // Whole milliseconds: the MPD writes the epoch with millisecond precision, and
        // server and client must agree on it exactly.
        let epoch_unix_s = ((start_unix_s - preroll) * 1000.0).floor() / 1000.0;
        LiveTimeline {
            epoch_unix_s,
            loop_s: renditions::loop_s(info),
            window_segments: config.window_segments.max(1),
            segment_duration_s: info.segment_duration_s,
        }
    }

    /// Seconds of live time at Unix time `now_unix_s`.
    pub fn live_s(&self, now_unix_s: f64) -> f64 {
        now_unix_s - self.epoch_unix_s
    }

    /// Segment `number` of `rendition`.
    pub fn segment(&self, rendition: &RenditionRef<'_>, number: u64) -> Option<LiveSegment> {
        let count = rendition.segments.len() as u64;
        if count == 0 {
            return None;
        }
        let loop_index = number / count;
        let file_index = (number % count) as usize;
        let seg = rendition.segments.get(file_index)?;
        Some(LiveSegment {
            number,
            file_index,
            loop_index,
            start_s: loop_index as f64 * self.loop_s + seg.start_s,
            duration_s: seg.duration_s,
        })
    }

    /// The newest segment of `rendition` that has ended at `live_s`.
    pub fn last_available(&self, rendition: &RenditionRef<'_>, live_s: f64) -> Option<u64> {
        let count = rendition.segments.len() as u64;
        if count == 0 || live_s <= 0.0 || !live_s.is_finite() {
            return None;
        }
        let current = (live_s / self.loop_s).floor().max(0.0) as u64;
        for loop_index in (current.saturating_sub(1)..=current).rev() {
            for (i, seg) in rendition.segments.iter().enumerate().rev() {
                let end = loop_index as f64 * self.loop_s + seg.start_s + seg.duration_s;
                if end <= live_s + 1e-9 {
                    return Some(loop_index * count + i as u64);
                }
            }
        }
        None
    }

    /// True once segment `number` of `rendition` has ended at `live_s`.
    pub fn is_available(&self, rendition: &RenditionRef<'_>, number: u64, live_s: f64) -> bool {
        self.last_available(rendition, live_s).is_some_and(|last| number <= last)
    }

    /// The window of `rendition` at `live_s`: up to `window_segments` segments ending
    /// with the newest available one.
    pub fn window(&self, rendition: &RenditionRef<'_>, live_s: f64) -> Vec<LiveSegment> {
        let Some(last) = self.last_available(rendition, live_s) else { return Vec::new() };
        let first = (last + 1).saturating_sub(self.window_segments as u64);
        (first..=last).filter_map(|n| self.segment(rendition, n)).collect()
    }

    /// DASH `timeShiftBufferDepth`: the window plus one segment of slack, so every
    /// segment listed is still inside the buffer when a client reads the MPD a little
    /// later.
    pub fn time_shift_buffer_s(&self) -> f64 {
        (self.window_segments + 1) as f64 * self.segment_duration_s
    }

    /// The bytes of a live segment: the VOD file with its decode times moved forward
    /// by the loop offset.
    pub fn rewrite(
        &self,
        file: &[u8],
        segment: &LiveSegment,
        timescale: u32,
    ) -> Result<Vec<u8>, BoxError> {
        let mut bytes = file.to_vec();
        if segment.loop_index > 0 {
            boxes::shift_decode_times(
                &mut bytes,
                segment.loop_index as f64 * self.loop_s,
                timescale,
            )?;
        }
        Ok(bytes)
    }
}
