//! One view over the ladder's renditions, video rungs and audio alike, so manifests,
//! the live timeline and the file store address them the same way: by id.

use crate::content::{ContentInfo, SegmentInfo};

/// Video or audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// A video rung.
    Video,
    /// The audio rendition.
    Audio,
}

/// A rendition of the ladder, borrowed from a [`ContentInfo`].
#[derive(Debug, Clone, Copy)]
pub struct RenditionRef<'a> {
    /// Identifier (`v0`, `a0`, …), unique in the ladder.
    pub id: &'a str,
    /// Video or audio.
    pub kind: MediaKind,
    /// Peak bitrate, bits per second.
    pub bandwidth_bps: u64,
    /// Init segment path, relative to the content folder.
    pub init: &'a str,
    /// Media segments in order.
    pub segments: &'a [SegmentInfo],
}

impl RenditionRef<'_> {
    /// End of the last segment, seconds of media time.
    pub fn end_s(&self) -> f64 {
        self.segments.last().map_or(0.0, |s| s.start_s + s.duration_s)
    }

    /// The longest segment, seconds.
    pub fn max_segment_s(&self) -> f64 {
        self.segments.iter().map(|s| s.duration_s).fold(0.0, f64::max)
    }
}

/// Every rendition: video rungs in ladder order, then the audio.
pub fn all(info: &ContentInfo) -> Vec<RenditionRef<'_>> {
    let mut out: Vec<RenditionRef<'_>> = info
        .video
        .iter()
        .map(|v| RenditionRef {
            id: &v.id,
            kind: MediaKind::Video,
            bandwidth_bps: v.bandwidth_bps,
            init: &v.init,
            segments: &v.segments,
        })
        .collect();
    out.push(RenditionRef {
        id: &info.audio.id,
        kind: MediaKind::Audio,
        bandwidth_bps: info.audio.bandwidth_bps,
        init: &info.audio.init,
        segments: &info.audio.segments,
    });
    out
}

/// The rendition called `id`.
pub fn find<'a>(info: &'a ContentInfo, id: &str) -> Option<RenditionRef<'a>> {
    all(info).into_iter().find(|r| r.id == id)
}

/// Length of one loop of the live stream: the longest rendition, so every rendition
/// loops with the same period and audio stays in sync with video.
pub fn loop_s(info: &ContentInfo) -> f64 {
    all(info).iter().map(RenditionRef::end_s).fold(info.duration_s, f64::max)
}
