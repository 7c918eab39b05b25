//! A demuxed segment on its way to a decoder thread.

use std::sync::Arc;
use streamsteer::container::{InitSegment, Sample, TrackInfo, TrackType};

/// One track's samples of one media segment, with what decoding them needs.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The rendition's init segment (shared: every chunk of a rendition points to the
    /// same one, so a decoder is reopened only when it changes).
    pub init: Arc<InitSegment>,
    /// The track within `init` the samples belong to.
    pub track_id: u32,
    /// The whole media segment (samples point into it).
    pub data: Arc<[u8]>,
    /// The track's samples, in decode order.
    pub samples: Vec<Sample>,
    /// Added to presentation times to place them on the player's timeline (live
    /// rebasing), microseconds.
    pub offset_us: i64,
    /// Where the segment ends on the player's timeline as the manifest says,
    /// microseconds, if known. Audio segments may end a little short of it (a
    /// segment's last AAC frame, the end of a track shorter than the video's): the
    /// audio thread plays such a hole as silence rather than let the output run dry
    /// where the engine believes audio is buffered.
    pub end_us: Option<i64>,
    pub(crate) epoch: u64,
}

impl Chunk {
    /// A chunk of `samples` (of track `track_id`) from `data`.
    pub fn new(
        init: Arc<InitSegment>,
        track_id: u32,
        data: Arc<[u8]>,
        samples: Vec<Sample>,
        offset_us: i64,
    ) -> Self {
        Self { init, track_id, data, samples, offset_us, end_us: None, epoch: 0 }
    }

    /// The chunk with its segment's declared end (see [`end_us`](Self::end_us)).
    pub fn with_end_us(mut self, end_us: Option<i64>) -> Self {
        self.end_us = end_us;
        self
    }

    pub(crate) fn with_epoch(mut self, epoch: u64) -> Self {
        self.epoch = epoch;
        self
    }

    /// The track's description.
    pub fn track(&self) -> Option<&TrackInfo> {
        self.init.track(self.track_id)
    }

    pub(crate) fn is_audio(&self) -> bool {
        self.track().is_some_and(|t| t.kind == TrackType::Audio)
    }

    /// Presentation time of `sample` on the player's timeline, microseconds: the
    /// composition time less the edit list's start (encoder delay, B-frame offset),
    /// plus the chunk's offset.
    pub fn pts_us(&self, sample: &Sample) -> i64 {
        let edit = self.track().map_or(0, |t| t.edit_media_time);
        ticks_to_us(sample.composition_time.saturating_sub(edit), sample.timescale)
            .saturating_add(self.offset_us)
    }

    /// Where the samples end on the player's timeline (the latest presentation time
    /// plus duration), microseconds; `None` without samples.
    pub fn samples_end_us(&self) -> Option<i64> {
        self.samples
            .iter()
            .map(|s| self.pts_us(s).saturating_add(ticks_to_us(i64::from(s.duration), s.timescale)))
            .max()
    }

    /// Decode time of `sample`, microseconds on the player's timeline.
    pub fn dts_us(&self, sample: &Sample) -> i64 {
        let edit = self.track().map_or(0, |t| t.edit_media_time);
        let dts = i64::try_from(sample.decode_time).unwrap_or(i64::MAX);
        ticks_to_us(dts.saturating_sub(edit), sample.timescale).saturating_add(self.offset_us)
    }
}

/// `ticks / timescale` seconds in microseconds, exact in 128-bit arithmetic.
pub(crate) fn ticks_to_us(ticks: i64, timescale: u32) -> i64 {
    if timescale == 0 {
        return 0;
    }
    let us = i128::from(ticks) * 1_000_000 / i128::from(timescale);
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}
