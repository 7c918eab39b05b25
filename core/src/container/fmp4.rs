//! Timing of fragmented MP4 (CMAF) media: the tracks an init segment declares, and the
//! decode-time span each track covers in a media segment (`moof`/`tfdt`/`trun`).
//!
//! Only what timing needs is read; sample data, sample tables of non-fragmented files
//! and encryption details are skipped. Every count read from the input is bounded by
//! the bytes that back it before it drives a loop, and every sum is checked, so hostile
//! input yields an [`Fmp4Error`], never a panic, overflow or large allocation.

use super::boxes::{Boxes, Mp4Box};
use super::codec::codec_string;
use super::config::{Colour, DecoderConfig, colour, decoder_config};
use super::error::{Fmp4Error, FourCc};

/// What a track carries, from its `hdlr` handler type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackType {
    /// `vide`.
    Video,
    /// `soun`.
    Audio,
    /// Anything else (subtitles, metadata, hints…).
    Other,
}

impl From<crate::session::TrackKind> for TrackType {
    /// The track type that carries a session track's media.
    fn from(kind: crate::session::TrackKind) -> Self {
        match kind {
            crate::session::TrackKind::Video => TrackType::Video,
            crate::session::TrackKind::Audio => TrackType::Audio,
        }
    }
}

/// One track of an init segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// `tkhd` track ID, which media segments' `tfhd` refer to.
    pub track_id: u32,
    /// Ticks per second of the media timeline (`mdhd`); never 0.
    pub timescale: u32,
    /// Video, audio or other.
    pub kind: TrackType,
    /// The raw `hdlr` handler type (`vide`, `soun`, `subt`…).
    pub handler: FourCc,
    /// The sample entry type (`avc1`, `hvc1`, `av01`, `mp4a`…); for encrypted
    /// entries (`encv`/`enca`) the original format from `sinf/frma`.
    pub codec: FourCc,
    /// RFC 6381 codec string (`avc1.64001f`, `av01.0.08M.08`, `mp4a.40.2`) when the
    /// configuration box allows one.
    pub codecs: Option<String>,
    /// Coded width in pixels (video; 0 otherwise).
    pub width: u32,
    /// Coded height in pixels (video; 0 otherwise).
    pub height: u32,
    /// Sample rate in Hz (audio; 0 otherwise).
    pub sample_rate: u32,
    /// Channel count (audio; 0 otherwise).
    pub channels: u32,
    /// `mdhd` duration in ticks (0 in a typical fragmented init segment).
    pub duration_ticks: u64,
    /// Media time where presentation starts, from the first non-empty `elst` entry,
    /// in ticks (0 without an edit list). Presentation time = decode time +
    /// composition offset − this.
    pub edit_media_time: i64,
    /// `trex` default sample duration, ticks (0 without `mvex`).
    pub default_sample_duration: u32,
    /// `trex` default sample size, bytes.
    pub default_sample_size: u32,
    /// `trex` default sample flags.
    pub default_sample_flags: u32,
    /// What a decoder needs before the first sample (`avcC`, `av1C`, `esds`);
    /// `Unknown` for other codecs and for tracks that are neither video nor audio.
    pub config: DecoderConfig,
    /// The visual sample entry's `colr` box, when it has one.
    pub colour: Option<Colour>,
}

impl TrackInfo {
    /// The RFC 6381 codec string, or the sample entry's four-character code.
    pub fn codecs_or_fourcc(&self) -> String {
        self.codecs.clone().unwrap_or_else(|| self.codec.as_string())
    }
}

/// The tracks declared by an init segment (`ftyp` + `moov`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitSegment {
    /// Tracks in `trak` order.
    pub tracks: Vec<TrackInfo>,
}

impl InitSegment {
    /// Parses the first `moov` in `data`; boxes after it are not looked at, so a whole
    /// file (init followed by fragments) parses too.
    pub fn parse(data: &[u8]) -> Result<InitSegment, Fmp4Error> {
        for b in Boxes::new(data, 0) {
            let b = b?;
            if b.kind == *b"moov" {
                return parse_moov(&b);
            }
            tracing::trace!(box_type = %b.kind, offset = b.offset, "init segment: skipping box");
        }
        Err(Fmp4Error::MissingBox {
            box_type: FourCc(*b"moov"),
            parent: FourCc(*b"file"),
            offset: 0,
        })
    }

    /// The track with `track_id`.
    pub fn track(&self, track_id: u32) -> Option<&TrackInfo> {
        self.tracks.iter().find(|t| t.track_id == track_id)
    }

    /// The first track of `kind`.
    pub fn first_of(&self, kind: TrackType) -> Option<&TrackInfo> {
        self.tracks.iter().find(|t| t.kind == kind)
    }
}

/// The decode-time span one track covers in a media segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackRun {
    /// The track (`tfhd` track ID).
    pub track_id: u32,
    /// Decode time of the first sample, ticks: the first `moof`'s `tfdt` for this track.
    pub base_decode_time: u64,
    /// Sum of the sample durations of every `trun` of this track, ticks.
    pub duration_ticks: u64,
    /// Number of samples in the segment for this track.
    pub sample_count: u32,
    /// Ticks per second (the track's `mdhd` timescale).
    pub timescale: u32,
}

impl TrackRun {
    /// Decode time of the first sample, seconds.
    pub fn start_s(&self) -> f64 {
        ticks_to_s(self.base_decode_time, self.timescale)
    }

    /// Total sample duration, seconds.
    pub fn duration_s(&self) -> f64 {
        ticks_to_s(self.duration_ticks, self.timescale)
    }

    /// Decode time just after the last sample, seconds.
    pub fn end_s(&self) -> f64 {
        self.start_s() + self.duration_s()
    }
}

/// Seconds for `ticks` at `timescale`; 0 for a zero timescale (which
/// [`InitSegment::parse`] never yields) rather than infinity.
fn ticks_to_s(ticks: u64, timescale: u32) -> f64 {
    if timescale == 0 { 0.0 } else { ticks as f64 / f64::from(timescale) }
}

/// The timing of one media segment: every `moof` in it, summed per track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// One entry per track, in order of first appearance.
    pub tracks: Vec<TrackRun>,
}

impl Fragment {
    /// Parses the `moof` boxes of a media segment (`styp`, `sidx`, `emsg`, `prft`,
    /// `mdat` and unknown boxes are skipped), resolving default sample durations
    /// through `tfhd` and then the init segment's `trex`.
    pub fn parse(data: &[u8], init: &InitSegment) -> Result<Fragment, Fmp4Error> {
        let mut tracks: Vec<TrackRun> = Vec::new();
        let mut saw_moof = false;
        for b in Boxes::new(data, 0) {
            let b = b?;
            if b.kind == *b"moof" {
                saw_moof = true;
                parse_moof(&b, init, &mut tracks)?;
            } else {
                tracing::trace!(box_type = %b.kind, offset = b.offset, "media segment: skipping box");
            }
        }
        if !saw_moof {
            return Err(Fmp4Error::MissingBox {
                box_type: FourCc(*b"moof"),
                parent: FourCc(*b"file"),
                offset: 0,
            });
        }
        Ok(Fragment { tracks })
    }

    /// The run of track `track_id`.
    pub fn track(&self, track_id: u32) -> Option<&TrackRun> {
        self.tracks.iter().find(|t| t.track_id == track_id)
    }

    /// Earliest start over all tracks, seconds (`None` without tracks).
    pub fn start_s(&self) -> Option<f64> {
        self.tracks.iter().map(TrackRun::start_s).reduce(f64::min)
    }

    /// Latest end over all tracks, seconds (`None` without tracks).
    pub fn end_s(&self) -> Option<f64> {
        self.tracks.iter().map(TrackRun::end_s).reduce(f64::max)
    }
}

fn parse_moov(moov: &Mp4Box<'_>) -> Result<InitSegment, Fmp4Error> {
    parse_mvhd(&moov.child(b"mvhd")?)?;
    let mut tracks: Vec<TrackInfo> = Vec::new();
    let mut mvex = None;
    for child in moov.children() {
        let child = child?;
        match &child.kind.0 {
            b"trak" => {
                let track = parse_trak(&child)?;
                if tracks.iter().any(|t| t.track_id == track.track_id) {
                    return Err(child.bad(format!("track ID {} declared twice", track.track_id)));
                }
                tracks.push(track);
            }
            b"mvex" => mvex = Some(child),
            _ => {}
        }
    }
    if tracks.is_empty() {
        return Err(Fmp4Error::MissingBox {
            box_type: FourCc(*b"trak"),
            parent: moov.kind,
            offset: moov.offset,
        });
    }
    if let Some(mvex) = mvex {
        for trex in mvex.children() {
            let trex = trex?;
            if trex.kind == *b"trex" {
                apply_trex(&trex, &mut tracks)?;
            }
        }
    }
    Ok(InitSegment { tracks })
}

fn parse_mvhd(mvhd: &Mp4Box<'_>) -> Result<(), Fmp4Error> {
    let mut r = mvhd.reader();
    let (version, _) = r.full_box()?;
    r.u32_or_u64(version)?; // creation time
    r.u32_or_u64(version)?; // modification time
    let timescale = r.u32()?;
    r.u32_or_u64(version)?; // duration
    if timescale == 0 {
        return Err(mvhd.bad("movie timescale is 0"));
    }
    Ok(())
}

fn apply_trex(trex: &Mp4Box<'_>, tracks: &mut [TrackInfo]) -> Result<(), Fmp4Error> {
    let mut r = trex.reader();
    r.full_box()?;
    let track_id = r.u32()?;
    let _sample_description_index = r.u32()?;
    let duration = r.u32()?;
    let size = r.u32()?;
    let flags = r.u32()?;
    match tracks.iter_mut().find(|t| t.track_id == track_id) {
        Some(t) => {
            t.default_sample_duration = duration;
            t.default_sample_size = size;
            t.default_sample_flags = flags;
        }
        None => tracing::debug!(track_id, "trex for a track without trak; ignored"),
    }
    Ok(())
}

fn parse_trak(trak: &Mp4Box<'_>) -> Result<TrackInfo, Fmp4Error> {
    let tkhd = trak.child(b"tkhd")?;
    let mut r = tkhd.reader();
    let (version, _) = r.full_box()?;
    r.u32_or_u64(version)?; // creation time
    r.u32_or_u64(version)?; // modification time
    let track_id = r.u32()?;
    r.skip(4)?; // reserved
    r.u32_or_u64(version)?; // duration
    r.skip(8 + 2 + 2 + 2 + 2 + 36)?; // reserved, layer, alternate group, volume, reserved, matrix
    let tkhd_width = r.u32()? >> 16;
    let tkhd_height = r.u32()? >> 16;
    if track_id == 0 {
        return Err(tkhd.bad("track ID 0 is reserved"));
    }

    let edit_media_time = match trak.find_child(b"edts")? {
        Some(edts) => match edts.find_child(b"elst")? {
            Some(elst) => first_media_time(&elst)?,
            None => 0,
        },
        None => 0,
    };

    let mdia = trak.child(b"mdia")?;
    let mdhd = mdia.child(b"mdhd")?;
    let mut r = mdhd.reader();
    let (version, _) = r.full_box()?;
    r.u32_or_u64(version)?; // creation time
    r.u32_or_u64(version)?; // modification time
    let timescale = r.u32()?;
    let duration_ticks = r.u32_or_u64(version)?;
    if timescale == 0 {
        return Err(mdhd.bad(format!("track {track_id} has timescale 0")));
    }

    let hdlr = mdia.child(b"hdlr")?;
    let mut r = hdlr.reader();
    r.full_box()?;
    r.skip(4)?; // pre_defined
    let handler = FourCc(r.array4()?);
    let kind = match &handler.0 {
        b"vide" => TrackType::Video,
        b"soun" => TrackType::Audio,
        _ => TrackType::Other,
    };

    let stsd = mdia.child(b"minf")?.child(b"stbl")?.child(b"stsd")?;
    let entry = match stsd.children_after(8)?.next() {
        Some(entry) => entry?,
        None => return Err(stsd.bad("no sample entry")),
    };
    let mut track = TrackInfo {
        track_id,
        timescale,
        kind,
        handler,
        codec: entry.kind,
        codecs: None,
        width: 0,
        height: 0,
        sample_rate: 0,
        channels: 0,
        duration_ticks,
        edit_media_time,
        default_sample_duration: 0,
        default_sample_size: 0,
        default_sample_flags: 0,
        config: DecoderConfig::Unknown { fourcc: entry.kind },
        colour: None,
    };
    let children = match kind {
        TrackType::Video => {
            let mut r = entry.reader();
            // SampleEntry (reserved, data_reference_index), pre_defined, reserved, pre_defined.
            r.skip(6 + 2 + 2 + 2 + 12)?;
            track.width = u32::from(r.u16()?);
            track.height = u32::from(r.u16()?);
            if track.width == 0 || track.height == 0 {
                (track.width, track.height) = (tkhd_width, tkhd_height);
            }
            Some(entry.children_after(78)?)
        }
        TrackType::Audio => {
            let mut r = entry.reader();
            r.skip(6 + 2)?;
            // QuickTime sound descriptions reuse the first reserved field as a version.
            let qt_version = r.u16()?;
            r.skip(2 + 4)?; // revision, vendor
            track.channels = u32::from(r.u16()?);
            r.skip(2 + 2 + 2)?; // sample size, pre_defined, reserved
            track.sample_rate = r.u32()? >> 16;
            let fields_len = match qt_version {
                0 => 28,
                1 => 28 + 16,
                2 => {
                    r.skip(4)?; // sizeOfStructOnly
                    let rate = f64::from_bits(r.u64()?);
                    // `as` saturates and maps NaN to 0, which suits a hostile value.
                    track.sample_rate = rate as u32;
                    track.channels = r.u32()?;
                    28 + 36
                }
                v => return Err(entry.bad(format!("unsupported sound sample entry version {v}"))),
            };
            if track.sample_rate == 0 {
                track.sample_rate = timescale;
            }
            Some(entry.children_after(fields_len)?)
        }
        TrackType::Other => None,
    };
    if let Some(children) = children {
        if (entry.kind == *b"encv" || entry.kind == *b"enca")
            && let Some(original) = original_format(children.clone())?
        {
            track.codec = original;
        }
        track.codecs = codec_string(&Mp4Box { kind: track.codec, ..entry }, children.clone())?;
        track.config = decoder_config(track.codec, children.clone())?;
        if kind == TrackType::Video {
            track.colour = colour(children)?;
        }
    }
    Ok(track)
}

/// The media time of the first edit that is not an empty edit (`media_time` −1).
fn first_media_time(elst: &Mp4Box<'_>) -> Result<i64, Fmp4Error> {
    let mut r = elst.reader();
    let (version, _) = r.full_box()?;
    let entry_count = r.u32()?;
    for _ in 0..entry_count {
        // Each read is bounds-checked, so a huge claimed count ends at the data's end.
        let media_time = if version == 1 {
            r.skip(8)?;
            r.u64()? as i64
        } else {
            r.skip(4)?;
            i64::from(r.u32()? as i32)
        };
        r.skip(4)?; // media rate
        if media_time != -1 {
            return Ok(media_time);
        }
    }
    Ok(0)
}

/// `sinf/frma` original format of an encrypted sample entry.
fn original_format(children: Boxes<'_>) -> Result<Option<FourCc>, Fmp4Error> {
    for child in children {
        let child = child?;
        if child.kind == *b"sinf"
            && let Some(frma) = child.find_child(b"frma")?
        {
            return Ok(Some(FourCc(frma.reader().array4()?)));
        }
    }
    Ok(None)
}

pub(super) const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
pub(super) const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
pub(super) const TFHD_DEFAULT_SAMPLE_DURATION: u32 = 0x08;
pub(super) const TFHD_DEFAULT_SAMPLE_SIZE: u32 = 0x10;
pub(super) const TFHD_DEFAULT_SAMPLE_FLAGS: u32 = 0x20;

pub(super) const TRUN_DATA_OFFSET: u32 = 0x01;
pub(super) const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x04;
pub(super) const TRUN_SAMPLE_DURATION: u32 = 0x100;
pub(super) const TRUN_SAMPLE_SIZE: u32 = 0x200;
pub(super) const TRUN_SAMPLE_FLAGS: u32 = 0x400;
pub(super) const TRUN_SAMPLE_CTO: u32 = 0x800;

fn parse_moof(
    moof: &Mp4Box<'_>,
    init: &InitSegment,
    runs: &mut Vec<TrackRun>,
) -> Result<(), Fmp4Error> {
    for traf in moof.children() {
        let traf = traf?;
        if traf.kind != *b"traf" {
            continue;
        }
        let tfhd = traf.child(b"tfhd")?;
        let mut r = tfhd.reader();
        let (_, flags) = r.full_box()?;
        let track_id = r.u32()?;
        let track = init.track(track_id).ok_or(Fmp4Error::UnknownTrack(track_id))?;
        if flags & TFHD_BASE_DATA_OFFSET != 0 {
            r.skip(8)?;
        }
        if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
            r.skip(4)?;
        }
        let default_duration = if flags & TFHD_DEFAULT_SAMPLE_DURATION != 0 {
            r.u32()?
        } else {
            track.default_sample_duration
        };
        if flags & TFHD_DEFAULT_SAMPLE_SIZE != 0 {
            r.skip(4)?;
        }
        if flags & TFHD_DEFAULT_SAMPLE_FLAGS != 0 {
            r.skip(4)?;
        }

        let tfdt = match traf.find_child(b"tfdt")? {
            Some(tfdt) => {
                let mut r = tfdt.reader();
                let (version, _) = r.full_box()?;
                Some(r.u32_or_u64(version)?)
            }
            None => None,
        };
        let index = match runs.iter().position(|run| run.track_id == track_id) {
            Some(i) => i,
            None => {
                // Without tfdt the first fragment of a track has no place on the timeline.
                let base_decode_time = tfdt.ok_or(Fmp4Error::MissingBox {
                    box_type: FourCc(*b"tfdt"),
                    parent: traf.kind,
                    offset: traf.offset,
                })?;
                runs.push(TrackRun {
                    track_id,
                    base_decode_time,
                    duration_ticks: 0,
                    sample_count: 0,
                    timescale: track.timescale,
                });
                runs.len() - 1
            }
        };
        for trun in traf.children() {
            let trun = trun?;
            if trun.kind != *b"trun" {
                continue;
            }
            let (samples, ticks) = sum_trun(&trun, default_duration)?;
            let run = &mut runs[index];
            run.sample_count = run
                .sample_count
                .checked_add(samples)
                .ok_or_else(|| trun.bad("sample count overflows 32 bits"))?;
            run.duration_ticks = run
                .duration_ticks
                .checked_add(ticks)
                .ok_or_else(|| trun.bad("total duration overflows 64 bits"))?;
        }
    }
    Ok(())
}

/// Sample count and total duration (ticks) of one `trun`.
fn sum_trun(trun: &Mp4Box<'_>, default_duration: u32) -> Result<(u32, u64), Fmp4Error> {
    let mut r = trun.reader();
    let (_, flags) = r.full_box()?;
    let sample_count = r.u32()?;
    if flags & TRUN_DATA_OFFSET != 0 {
        r.skip(4)?;
    }
    if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 {
        r.skip(4)?;
    }
    let per_sample = [TRUN_SAMPLE_DURATION, TRUN_SAMPLE_SIZE, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_CTO]
        .iter()
        .filter(|&&bit| flags & bit != 0)
        .count()
        * 4;
    // Check the claimed count against the bytes present before looping over it.
    let needed = u64::from(sample_count) * per_sample as u64;
    if needed > r.remaining() as u64 {
        return Err(Fmp4Error::Truncated {
            box_type: trun.kind,
            offset: r.offset(),
            needed,
            available: r.remaining() as u64,
        });
    }
    if flags & TRUN_SAMPLE_DURATION == 0 {
        // u32 × u32 always fits in u64.
        return Ok((sample_count, u64::from(sample_count) * u64::from(default_duration)));
    }
    let mut total: u64 = 0;
    for _ in 0..sample_count {
        let duration = r.u32()?;
        r.skip(per_sample - 4)?;
        // At most 2^32 − 1 values below 2^32 each: the sum stays below 2^64.
        total += u64::from(duration);
    }
    Ok((sample_count, total))
}
