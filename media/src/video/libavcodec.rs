//! H.264 and VP9 with FFmpeg's libavcodec, through `ffmpeg-next`.
//!
//! fMP4 samples are length-prefixed NAL units; libavcodec parses them directly once
//! it has the sample entry's configuration record (`avcC`) as extradata. Packets carry
//! microsecond timestamps, and the packet time base says so, so that libavcodec's
//! best-effort timestamp of each reordered frame is already in microseconds.

use std::collections::VecDeque;

use ff::codec::{self, Id};
use ff::format::Pixel;
use ff::{Rational, color, decoder, frame};
use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};
use streamsteer::container::{DecoderConfig, TrackInfo};

use super::{DecodeError, Packet, VideoDecoder, VideoDecoderFactory, resolve_colour};
use crate::colour::{ColourSpace, Range};
use crate::frame::{PixelFormat, Plane, VideoFrame};

/// Settings of libavcodec decoders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LibavSettings {
    /// Decoding threads (frame threading); 0 (the default) lets libavcodec use one
    /// per logical CPU. Each thread adds a frame of delay.
    pub threads: u32,
}

/// The sample entries this backend decodes, with the libavcodec codec for each.
const CODECS: &[([u8; 4], Id)] = &[
    (*b"avc1", Id::H264),
    (*b"avc3", Id::H264),
    (*b"vp09", Id::VP9),
    // No HEVC yet: its samples need the hvcC record as extradata, which the fMP4
    // parser does not keep. No AV1: FFmpeg decodes it through libdav1d, and rav1d (linked into the same
    // binary for the `av01` backend) exports the same `dav1d_*` symbols, which the
    // dynamic linker binds libavcodec's calls to; rav1d's ABI is not that of the
    // system's libdav1d, so the "fallback" would be undefined behaviour.
];

/// Opens [`LibavDecoder`]s for H.264 and VP9 tracks (those whose decoder this FFmpeg
/// build has).
#[derive(Debug, Clone, Default)]
pub struct LibavDecoderFactory {
    settings: LibavSettings,
    /// Sample entries left to other backends (see [`Self::without`]).
    excluded: Vec<[u8; 4]>,
}

impl LibavDecoderFactory {
    /// A factory whose decoders use `settings`.
    pub fn new(settings: LibavSettings) -> Self {
        Self { settings, excluded: Vec::new() }
    }

    /// This factory without the sample entry `fourcc` (say `vp09`, to leave VP9 to a
    /// backend pushed after this one).
    pub fn without(mut self, fourcc: [u8; 4]) -> Self {
        self.excluded.push(fourcc);
        self
    }

    fn codec_for(&self, track: &TrackInfo) -> Option<Id> {
        if self.excluded.contains(&track.codec.0) {
            return None;
        }
        CODECS.iter().find(|(fourcc, _)| track.codec == *fourcc).map(|&(_, id)| id)
    }
}

impl VideoDecoderFactory for LibavDecoderFactory {
    fn supports(&self, track: &TrackInfo) -> bool {
        self.codec_for(track).is_some_and(|id| decoder::find(id).is_some())
    }

    fn open(&self, track: &TrackInfo) -> Result<Box<dyn VideoDecoder>, DecodeError> {
        let id = self
            .codec_for(track)
            .ok_or_else(|| DecodeError::Unsupported(track.codecs_or_fourcc()))?;
        Ok(Box::new(LibavDecoder::open(track, id, self.settings)?))
    }
}

/// A libavcodec video decoder.
pub struct LibavDecoder {
    decoder: decoder::Video,
    name: String,
    container_colour: Option<ColourSpace>,
    /// Frames taken out while libavcodec refused input until its output was read.
    ready: VecDeque<VideoFrame>,
    /// The end of stream was signalled; libavcodec wants a flush before new input.
    eof_sent: bool,
    /// Scratch frame reused for every receive.
    scratch: frame::Video,
}

impl std::fmt::Debug for LibavDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibavDecoder")
            .field("name", &self.name)
            .field("ready", &self.ready.len())
            .field("eof_sent", &self.eof_sent)
            .finish_non_exhaustive()
    }
}

impl LibavDecoder {
    /// A decoder for `track` with default settings; its codec must be one of
    /// [`LibavDecoderFactory`]'s.
    pub fn new(track: &TrackInfo) -> Result<Self, DecodeError> {
        LibavDecoderFactory::default()
            .codec_for(track)
            .ok_or_else(|| DecodeError::Unsupported(track.codecs_or_fourcc()))
            .and_then(|id| Self::open(track, id, LibavSettings::default()))
    }

    fn open(track: &TrackInfo, id: Id, settings: LibavSettings) -> Result<Self, DecodeError> {
        let codec = decoder::find(id).ok_or_else(|| {
            DecodeError::Unsupported(format!(
                "{} (this FFmpeg build has no {id:?} decoder)",
                track.codecs_or_fourcc()
            ))
        })?;
        let name = format!("libavcodec {}", codec.name());
        let mut context = codec::Context::new_with_codec(codec);
        match (&track.config, id) {
            (DecoderConfig::Avc(avc), _) => set_extradata(&mut context, &avc.record)?,
            (DecoderConfig::Av1(av1), _) => set_extradata(&mut context, &av1.record)?,
            (_, Id::H264) => {
                return Err(DecodeError::Config(format!(
                    "track {} ({}) has no avcC record",
                    track.track_id,
                    track.codecs_or_fourcc()
                )));
            }
            // VP9 frames describe themselves.
            _ => {}
        }
        context.set_threading(codec::threading::Config {
            kind: codec::threading::Type::Frame,
            count: settings.threads as usize,
            ..Default::default()
        });
        let mut opener = context.decoder();
        opener.set_packet_time_base(Rational::new(1, 1_000_000));
        let decoder = opener.open_as(codec).and_then(|opened| opened.video()).map_err(|e| {
            DecodeError::Config(format!("{name} refused {}: {e}", track.codecs_or_fourcc()))
        })?;
        tracing::debug!(track = track.track_id, decoder = %name, ?settings, "libavcodec decoder opened");
        Ok(Self {
            decoder,
            name,
            container_colour: ColourSpace::from_container(track.colour.as_ref()),
            ready: VecDeque::new(),
            eof_sent: false,
            scratch: frame::Video::empty(),
        })
    }

    fn next_frame(&mut self) -> Result<Option<VideoFrame>, DecodeError> {
        match self.decoder.receive_frame(&mut self.scratch) {
            Ok(()) => self.to_frame().map(Some),
            Err(ff::Error::Eof) => Ok(None),
            Err(ff::Error::Other { errno }) if errno == ff::error::EAGAIN => Ok(None),
            Err(e) => Err(self.error(e)),
        }
    }

    fn error(&self, e: ff::Error) -> DecodeError {
        match e {
            ff::Error::InvalidData => DecodeError::Corrupt(format!("{}: {e}", self.name)),
            ff::Error::PatchWelcome => DecodeError::Unsupported(format!("{}: {e}", self.name)),
            e => DecodeError::Backend {
                backend: "libavcodec",
                message: format!("{}: {e}", self.name),
            },
        }
    }

    fn to_frame(&self) -> Result<VideoFrame, DecodeError> {
        let f = &self.scratch;
        let (format, bit_depth, full_range_format) = match f.format() {
            Pixel::YUV420P => (PixelFormat::I420, 8, false),
            Pixel::YUVJ420P => (PixelFormat::I420, 8, true),
            Pixel::YUV420P10LE => (PixelFormat::I420, 10, false),
            Pixel::YUV420P12LE => (PixelFormat::I420, 12, false),
            Pixel::NV12 => (PixelFormat::Nv12, 8, false),
            other => {
                return Err(DecodeError::Unsupported(format!(
                    "{} produced {other:?} frames (I420 and NV12 are rendered)",
                    self.name
                )));
            }
        };
        let (width, height) = (f.width(), f.height());
        if width == 0 || height == 0 || f.planes() < format.planes() {
            return Err(DecodeError::Corrupt(format!(
                "{} returned a {width}x{height} frame with {} planes",
                self.name,
                f.planes()
            )));
        }
        let bps = if bit_depth > 8 { 2 } else { 1 };
        let chroma = (width.div_ceil(2), height.div_ceil(2));
        let mut planes = Vec::with_capacity(format.planes());
        for index in 0..format.planes() {
            let (w, h) = if index == 0 { (width, height) } else { chroma };
            let samples_per_row = if format == PixelFormat::Nv12 && index > 0 { 2 } else { 1 };
            let row_bytes = w as usize * samples_per_row * bps;
            planes.push(
                copy_plane(f.data(index), f.stride(index), row_bytes, h as usize).ok_or_else(
                    || {
                        DecodeError::Corrupt(format!(
                            "{}: plane {index} is smaller than the frame",
                            self.name
                        ))
                    },
                )?,
            );
        }
        let matrix = ff::ffi::AVColorSpace::from(f.color_space()) as u16;
        let range = match f.color_range() {
            color::Range::JPEG => Some(Range::Full),
            color::Range::MPEG => Some(Range::Limited),
            color::Range::Unspecified if full_range_format => Some(Range::Full),
            color::Range::Unspecified => None,
        };
        let matrix = ColourSpace::from_h273(matrix, false).map(|c| c.matrix);
        let colour = resolve_colour(matrix, range, self.container_colour, height);
        let aspect = f.aspect_ratio();
        let sample_aspect =
            match (u32::try_from(aspect.numerator()), u32::try_from(aspect.denominator())) {
                (Ok(n), Ok(d)) if n > 0 && d > 0 => (n, d),
                _ => (1, 1),
            };
        Ok(VideoFrame {
            width,
            height,
            format,
            bit_depth,
            planes,
            colour,
            pts_us: f.timestamp().or_else(|| f.pts()).unwrap_or(i64::MIN),
            sample_aspect,
        })
    }
}

impl VideoDecoder for LibavDecoder {
    fn name(&self) -> &str {
        &self.name
    }

    fn send(&mut self, packet: &Packet<'_>) -> Result<(), DecodeError> {
        if packet.data.is_empty() {
            return Err(DecodeError::Corrupt(format!("{}: empty sample", self.name)));
        }
        if self.eof_sent {
            // Sending after a drain starts a new stream (libavcodec needs a flush).
            self.decoder.flush();
            self.eof_sent = false;
        }
        let mut av_packet = ff::Packet::copy(packet.data);
        av_packet.set_pts(Some(packet.pts_us));
        av_packet.set_dts(Some(packet.dts_us));
        av_packet.set_duration(packet.duration_us);
        if packet.keyframe {
            av_packet.set_flags(ff::packet::Flags::KEY);
        }
        // libavcodec refuses input only while output waits; each round drains one
        // frame, and its queue is a few frames deep.
        for _ in 0..64 {
            match self.decoder.send_packet(&av_packet) {
                Ok(()) => return Ok(()),
                Err(ff::Error::Other { errno }) if errno == ff::error::EAGAIN => {
                    match self.next_frame()? {
                        Some(frame) => self.ready.push_back(frame),
                        None => break,
                    }
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        Err(DecodeError::Backend {
            backend: "libavcodec",
            message: format!("{}: decoder refuses input and has no output", self.name),
        })
    }

    fn receive(&mut self) -> Result<Option<VideoFrame>, DecodeError> {
        if let Some(frame) = self.ready.pop_front() {
            return Ok(Some(frame));
        }
        self.next_frame()
    }

    fn flush(&mut self) -> Result<(), DecodeError> {
        if self.eof_sent {
            return Ok(());
        }
        self.eof_sent = true;
        match self.decoder.send_eof() {
            Ok(()) | Err(ff::Error::Eof) => Ok(()),
            Err(e) => Err(self.error(e)),
        }
    }

    fn reset(&mut self) {
        self.decoder.flush();
        self.ready.clear();
        self.eof_sent = false;
    }
}

/// `rows` rows of `row_bytes` from `data` (rows `stride` apart), packed.
fn copy_plane(data: &[u8], stride: usize, row_bytes: usize, rows: usize) -> Option<Plane> {
    if stride < row_bytes {
        return None;
    }
    let mut out = Vec::with_capacity(row_bytes * rows);
    for row in 0..rows {
        let start = row.checked_mul(stride)?;
        out.extend_from_slice(data.get(start..start.checked_add(row_bytes)?)?);
    }
    Some(Plane { data: out, stride: row_bytes })
}

/// Gives the codec context a copy of `record` as extradata, padded as libavcodec
/// requires; the context frees it.
fn set_extradata(context: &mut codec::Context, record: &[u8]) -> Result<(), DecodeError> {
    if record.is_empty() {
        return Ok(());
    }
    let size = i32::try_from(record.len())
        .map_err(|_| DecodeError::Config(format!("{}-byte configuration record", record.len())))?;
    let padding = ff::ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
    // SAFETY: av_mallocz returns null or a zeroed buffer of the requested size.
    let buffer = unsafe { ff::ffi::av_mallocz(record.len() + padding) }.cast::<u8>();
    if buffer.is_null() {
        return Err(DecodeError::Backend {
            backend: "libavcodec",
            message: "out of memory for extradata".into(),
        });
    }
    // SAFETY: `buffer` holds record.len() + padding bytes and is fresh, so it does
    // not overlap `record`. The context was just allocated and not opened, its
    // extradata is unset, and avcodec_free_context (Context's drop) frees the buffer
    // with av_free, matching av_mallocz.
    unsafe {
        std::ptr::copy_nonoverlapping(record.as_ptr(), buffer, record.len());
        let raw = context.as_mut_ptr();
        (*raw).extradata = buffer;
        (*raw).extradata_size = size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_copy_drops_padding_and_rejects_short_planes() {
        let data: Vec<u8> = (0..12).collect();
        let plane = copy_plane(&data, 4, 3, 3).unwrap();
        assert_eq!(plane.data, vec![0, 1, 2, 4, 5, 6, 8, 9, 10]);
        assert_eq!(plane.stride, 3);
        assert!(copy_plane(&data, 4, 3, 4).is_none());
        assert!(copy_plane(&data, 2, 3, 1).is_none());
    }
}
