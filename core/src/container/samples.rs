//! The samples of a fragmented MP4 media segment: for every `trun` entry, its decode
//! and composition time, duration, sync flag and the byte range of its data, which
//! [`Sample::data`] lends out of the segment without copying.
//!
//! Placement follows ISO 14496-12 §8.8: a `trun` data offset is relative to the
//! `tfhd` base data offset when one is given, else to the `moof` start (always with
//! `default-base-is-moof`, and for the first `traf` of a `moof` without it), else to
//! the end of the previous `traf`'s data; a `trun` without a data offset continues
//! where the previous one of its `traf` ended. Every sample must lie inside one `mdat`.

use std::ops::Range;

use super::boxes::{Boxes, Mp4Box, Reader};
use super::error::{Fmp4Error, FourCc};
use super::fmp4::{
    InitSegment, TFHD_BASE_DATA_OFFSET, TFHD_DEFAULT_SAMPLE_DURATION, TFHD_DEFAULT_SAMPLE_FLAGS,
    TFHD_DEFAULT_SAMPLE_SIZE, TFHD_SAMPLE_DESCRIPTION_INDEX, TRUN_DATA_OFFSET,
    TRUN_FIRST_SAMPLE_FLAGS, TRUN_SAMPLE_CTO, TRUN_SAMPLE_DURATION, TRUN_SAMPLE_FLAGS,
    TRUN_SAMPLE_SIZE,
};

/// `tfhd` flag: data offsets count from the `moof` start.
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

/// The `sample_flags` word of ISO 14496-12 §8.8.3.1 (from `trun`, `tfhd` or `trex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SampleFlags(pub u32);

impl SampleFlags {
    /// `is_leading` (0 unknown, 1 leading with a dependency before the preceding
    /// I-picture, 2 not leading, 3 leading without such a dependency).
    pub fn is_leading(self) -> u8 {
        ((self.0 >> 26) & 0x3) as u8
    }

    /// `sample_depends_on` (0 unknown, 1 depends on others: not an I-picture,
    /// 2 depends on none: an I-picture).
    pub fn depends_on(self) -> u8 {
        ((self.0 >> 24) & 0x3) as u8
    }

    /// `sample_is_depended_on` (0 unknown, 1 others depend on it, 2 disposable).
    pub fn is_depended_on(self) -> u8 {
        ((self.0 >> 22) & 0x3) as u8
    }

    /// `sample_has_redundancy` (0 unknown, 1 redundant coding, 2 none).
    pub fn has_redundancy(self) -> u8 {
        ((self.0 >> 20) & 0x3) as u8
    }

    /// `sample_is_non_sync_sample`.
    pub fn is_non_sync(self) -> bool {
        self.0 & 0x1_0000 != 0
    }

    /// `sample_degradation_priority`.
    pub fn degradation_priority(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// Whether decoding can start at this sample: it depends on no other sample, or
    /// it is not marked non-sync and not marked as depending on others.
    pub fn is_sync(self) -> bool {
        self.depends_on() == 2 || (!self.is_non_sync() && self.depends_on() != 1)
    }
}

/// One sample (an access unit: a coded picture, an AAC frame…) of a media segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The track (`tfhd` track ID).
    pub track_id: u32,
    /// Ticks per second of the track.
    pub timescale: u32,
    /// Decode time, ticks.
    pub decode_time: u64,
    /// Composition (presentation) time before the edit list, ticks: decode time plus
    /// the `trun` composition offset (signed in version 1). Subtract the track's
    /// [`edit_media_time`](super::TrackInfo::edit_media_time) for the presentation
    /// timeline.
    pub composition_time: i64,
    /// Duration, ticks.
    pub duration: u32,
    /// The effective sample flags.
    pub flags: SampleFlags,
    /// Where the sample's bytes start in the segment buffer.
    pub offset: usize,
    /// Bytes of sample data.
    pub size: u32,
}

impl Sample {
    /// The sample's byte range in the buffer [`demux`] was given; always inside one
    /// of its `mdat` boxes.
    pub fn range(&self) -> Range<usize> {
        // Saturating only matters for a hand-made Sample: demux's fit inside the buffer.
        self.offset..self.offset.saturating_add(self.size as usize)
    }

    /// The sample's bytes, borrowed from `media` (the buffer given to [`demux`]);
    /// `None` if `media` is shorter than that buffer was.
    pub fn data<'a>(&self, media: &'a [u8]) -> Option<&'a [u8]> {
        media.get(self.range())
    }

    /// Whether decoding can start here (see [`SampleFlags::is_sync`]).
    pub fn is_sync(&self) -> bool {
        self.flags.is_sync()
    }

    /// Composition offset, ticks (composition time − decode time).
    pub fn composition_offset(&self) -> i64 {
        // Exact for demux's samples, whose decode time fits in i64; saturating for
        // hand-made ones.
        self.composition_time.saturating_sub(i64::try_from(self.decode_time).unwrap_or(i64::MAX))
    }

    /// Decode time, seconds.
    pub fn decode_time_s(&self) -> f64 {
        self.decode_time as f64 / f64::from(self.timescale)
    }

    /// Composition time, seconds.
    pub fn composition_time_s(&self) -> f64 {
        self.composition_time as f64 / f64::from(self.timescale)
    }

    /// Duration, seconds.
    pub fn duration_s(&self) -> f64 {
        f64::from(self.duration) / f64::from(self.timescale)
    }
}

/// Every sample of the `moof`s in `media`, in file order (so each track's samples are
/// in decode order), with timing resolved through `tfdt`, the `tfhd` defaults and the
/// init segment's `trex` defaults.
///
/// A `tfhd` base data offset counts from the start of `media`, which should therefore
/// be the whole segment as delivered. Errors: those of
/// [`Fragment::parse`](super::Fragment::parse) (box errors, no `moof`, a `traf` of an
/// undeclared track), and [`Fmp4Error::SampleOutOfBounds`] for data outside every
/// `mdat`.
pub fn demux(media: &[u8], init: &InitSegment) -> Result<Vec<Sample>, Fmp4Error> {
    let mut moofs = Vec::new();
    let mut mdats: Vec<Range<u64>> = Vec::new();
    for b in Boxes::new(media, 0) {
        let b = b?;
        match &b.kind.0 {
            b"moof" => moofs.push(b),
            b"mdat" => mdats.push(b.body_offset..b.body_offset + b.body.len() as u64),
            _ => tracing::trace!(box_type = %b.kind, offset = b.offset, "demux: skipping box"),
        }
    }
    if moofs.is_empty() {
        return Err(Fmp4Error::MissingBox {
            box_type: FourCc(*b"moof"),
            parent: FourCc(*b"file"),
            offset: 0,
        });
    }
    let mut demuxer = Demuxer { init, mdats, media_len: media.len(), tracks: Vec::new() };
    let mut samples = Vec::new();
    for moof in &moofs {
        demuxer.moof(moof, &mut samples)?;
    }
    Ok(samples)
}

/// Where a track stands between `traf`s of one segment.
struct TrackState {
    track_id: u32,
    next_decode_time: u64,
    samples: u64,
}

struct Demuxer<'i> {
    init: &'i InitSegment,
    /// Body ranges of the segment's `mdat` boxes.
    mdats: Vec<Range<u64>>,
    media_len: usize,
    tracks: Vec<TrackState>,
}

/// The `tfhd` fields, with absent defaults filled from `trex`.
struct TrackFragmentHeader {
    track_id: u32,
    flags: u32,
    base_data_offset: Option<u64>,
    default_duration: u32,
    default_size: u32,
    default_flags: u32,
}

impl Demuxer<'_> {
    fn moof(&mut self, moof: &Mp4Box<'_>, out: &mut Vec<Sample>) -> Result<(), Fmp4Error> {
        // Where an implicit base data offset points: the moof for its first traf, then
        // the end of the data of the traf before.
        let mut implicit_base = i128::from(moof.offset);
        for traf in moof.children() {
            let traf = traf?;
            if traf.kind != *b"traf" {
                continue;
            }
            let tfhd = self.tfhd(&traf.child(b"tfhd")?)?;
            let track =
                self.init.track(tfhd.track_id).ok_or(Fmp4Error::UnknownTrack(tfhd.track_id))?;
            let timescale = track.timescale;
            let base = match tfhd.base_data_offset {
                Some(offset) => i128::from(offset),
                None if tfhd.flags & TFHD_DEFAULT_BASE_IS_MOOF != 0 => i128::from(moof.offset),
                None => implicit_base,
            };
            let tfdt = match traf.find_child(b"tfdt")? {
                Some(tfdt) => {
                    let mut r = tfdt.reader();
                    let (version, _) = r.full_box()?;
                    Some(r.u32_or_u64(version)?)
                }
                None => None,
            };
            let index = match self.tracks.iter().position(|t| t.track_id == tfhd.track_id) {
                Some(i) => i,
                None => {
                    self.tracks.push(TrackState {
                        track_id: tfhd.track_id,
                        next_decode_time: 0,
                        samples: 0,
                    });
                    self.tracks.len() - 1
                }
            };
            let mut decode_time = match tfdt {
                Some(t) => t,
                // Without tfdt a traf continues its track; the first one cannot.
                None if self.tracks[index].samples > 0 => self.tracks[index].next_decode_time,
                None => {
                    return Err(Fmp4Error::MissingBox {
                        box_type: FourCc(*b"tfdt"),
                        parent: traf.kind,
                        offset: traf.offset,
                    });
                }
            };
            let mut data_pos = base;
            for trun in traf.children() {
                let trun = trun?;
                if trun.kind != *b"trun" {
                    continue;
                }
                let ctx = RunContext { tfhd: &tfhd, timescale, base };
                (data_pos, decode_time) =
                    self.trun(&trun, &ctx, data_pos, decode_time, index, out)?;
            }
            self.tracks[index].next_decode_time = decode_time;
            implicit_base = data_pos;
        }
        Ok(())
    }

    fn tfhd(&self, tfhd: &Mp4Box<'_>) -> Result<TrackFragmentHeader, Fmp4Error> {
        let mut r = tfhd.reader();
        let (_, flags) = r.full_box()?;
        let track_id = r.u32()?;
        let track = self.init.track(track_id).ok_or(Fmp4Error::UnknownTrack(track_id))?;
        let base_data_offset =
            if flags & TFHD_BASE_DATA_OFFSET != 0 { Some(r.u64()?) } else { None };
        if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
            r.skip(4)?;
        }
        let mut field = |bit: u32, default: u32| -> Result<u32, Fmp4Error> {
            if flags & bit != 0 { r.u32() } else { Ok(default) }
        };
        let default_duration = field(TFHD_DEFAULT_SAMPLE_DURATION, track.default_sample_duration)?;
        let default_size = field(TFHD_DEFAULT_SAMPLE_SIZE, track.default_sample_size)?;
        let default_flags = field(TFHD_DEFAULT_SAMPLE_FLAGS, track.default_sample_flags)?;
        Ok(TrackFragmentHeader {
            track_id,
            flags,
            base_data_offset,
            default_duration,
            default_size,
            default_flags,
        })
    }

    /// Appends the samples of one `trun`; returns where its data ended and the decode
    /// time after its last sample.
    fn trun(
        &mut self,
        trun: &Mp4Box<'_>,
        ctx: &RunContext<'_>,
        data_pos: i128,
        mut decode_time: u64,
        track_index: usize,
        out: &mut Vec<Sample>,
    ) -> Result<(i128, u64), Fmp4Error> {
        let tfhd = ctx.tfhd;
        let mut r = trun.reader();
        let (version, flags) = r.full_box()?;
        let sample_count = r.u32()?;
        let mut pos = if flags & TRUN_DATA_OFFSET != 0 {
            ctx.base + i128::from(r.u32()? as i32)
        } else {
            data_pos
        };
        let first_flags = if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 { Some(r.u32()?) } else { None };
        let has = |bit: u32| flags & bit != 0;
        let per_sample =
            [TRUN_SAMPLE_DURATION, TRUN_SAMPLE_SIZE, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_CTO]
                .iter()
                .filter(|&&bit| has(bit))
                .count()
                * 4;
        // The claimed count is checked against the bytes that back it, and, since each
        // sample is pushed to `out`, against the segment length when it costs no bytes
        // here, before it drives a loop.
        let needed = u64::from(sample_count) * per_sample as u64;
        if needed > r.remaining() as u64 {
            return Err(Fmp4Error::Truncated {
                box_type: trun.kind,
                offset: r.offset(),
                needed,
                available: r.remaining() as u64,
            });
        }
        if out.len() as u64 + u64::from(sample_count) > self.media_len as u64 {
            return Err(trun.bad(format!(
                "{sample_count} samples claimed, more than the {} bytes of the segment",
                self.media_len
            )));
        }
        let mut entries = r.sub(needed as usize)?;
        for i in 0..sample_count {
            let duration = field(&mut entries, has(TRUN_SAMPLE_DURATION), tfhd.default_duration)?;
            let size = field(&mut entries, has(TRUN_SAMPLE_SIZE), tfhd.default_size)?;
            let sample_flags = match (has(TRUN_SAMPLE_FLAGS), first_flags) {
                (true, _) => entries.u32()?,
                (false, Some(first)) if i == 0 => first,
                (false, _) => tfhd.default_flags,
            };
            let cto = if has(TRUN_SAMPLE_CTO) {
                let raw = entries.u32()?;
                // Version 0 offsets are unsigned; version 1 allows negative ones.
                if version == 0 { i64::from(raw) } else { i64::from(raw as i32) }
            } else {
                0
            };
            let end = pos + i128::from(size);
            let offset = self.placed(pos, end).ok_or(Fmp4Error::SampleOutOfBounds {
                track_id: tfhd.track_id,
                sample: self.tracks[track_index].samples,
                start: pos,
                end,
            })?;
            let composition_time = i64::try_from(decode_time)
                .ok()
                .and_then(|t| t.checked_add(cto))
                .ok_or_else(|| trun.bad("composition time overflows 64 bits"))?;
            out.push(Sample {
                track_id: tfhd.track_id,
                timescale: ctx.timescale,
                decode_time,
                composition_time,
                duration,
                flags: SampleFlags(sample_flags),
                offset,
                size,
            });
            self.tracks[track_index].samples += 1;
            decode_time = decode_time
                .checked_add(u64::from(duration))
                .ok_or_else(|| trun.bad("decode time overflows 64 bits"))?;
            pos = end;
        }
        Ok((pos, decode_time))
    }

    /// `start` as a buffer offset when `start..end` lies inside one `mdat` body.
    fn placed(&self, start: i128, end: i128) -> Option<usize> {
        self.mdats
            .iter()
            .any(|m| i128::from(m.start) <= start && end <= i128::from(m.end))
            .then(|| usize::try_from(start).ok())
            .flatten()
    }
}

/// A per-sample `trun` field when present, else its default.
fn field(r: &mut Reader<'_>, present: bool, default: u32) -> Result<u32, Fmp4Error> {
    if present { r.u32() } else { Ok(default) }
}

/// What every `trun` of a `traf` shares.
struct RunContext<'a> {
    tfhd: &'a TrackFragmentHeader,
    timescale: u32,
    /// The base data offset `trun` data offsets count from.
    base: i128,
}
