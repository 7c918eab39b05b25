//! Video decoding behind one trait, [`VideoDecoder`], so that software decoders here
//! (AV1 with rav1d, H.264 with libavcodec) and platform decoders (MediaCodec,
//! VideoToolbox, WebCodecs, through the bindings) are interchangeable.

use crate::colour::{ColourSpace, Matrix, Range};
use crate::frame::VideoFrame;
use streamsteer::container::TrackInfo;
use thiserror::Error;

pub mod av1;
#[cfg(feature = "ffmpeg")]
pub mod libavcodec;
pub mod registry;

pub use av1::{Av1Decoder, Av1DecoderFactory, Av1Settings};
#[cfg(feature = "ffmpeg")]
pub use libavcodec::{LibavDecoder, LibavDecoderFactory, LibavSettings};
pub use registry::Decoders;

/// One compressed access unit (an fMP4 sample) to decode.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// The sample's bytes: length-prefixed NAL units for H.264, OBUs for AV1.
    pub data: &'a [u8],
    /// Presentation time, microseconds; carried through reordering to the frame.
    pub pts_us: i64,
    /// Decode time, microseconds.
    pub dts_us: i64,
    /// Duration, microseconds.
    pub duration_us: i64,
    /// A sync sample (decoding can start here).
    pub keyframe: bool,
}

/// Why a decoder failed.
#[derive(Debug, Error)]
pub enum DecodeError {
    /// No decoder here handles the codec.
    #[error("no video decoder for codec {0}")]
    Unsupported(String),
    /// The decoder configuration (avcC, av1C) is unusable.
    #[error("bad decoder configuration: {0}")]
    Config(String),
    /// The bitstream is corrupt or truncated.
    #[error("corrupt video data: {0}")]
    Corrupt(String),
    /// The decoder failed for a reason of its own.
    #[error("{backend}: {message}")]
    Backend {
        /// Which decoder.
        backend: &'static str,
        /// What it said.
        message: String,
    },
}

/// A video decoder: packets in decode order, frames out in presentation order.
///
/// The protocol is send/receive, as in libavcodec and dav1d: after each
/// [`send`](Self::send), call [`receive`](Self::receive) until it returns `Ok(None)`.
/// At the end of a stream (or before a rendition switch) call [`flush`](Self::flush)
/// and receive the frames still held for reordering.
pub trait VideoDecoder: Send {
    /// A short name for logs and reports ("rav1d", "libavcodec h264").
    fn name(&self) -> &str;

    /// Queue one packet.
    fn send(&mut self, packet: &Packet<'_>) -> Result<(), DecodeError>;

    /// The next decoded frame, if one is ready.
    fn receive(&mut self) -> Result<Option<VideoFrame>, DecodeError>;

    /// Signal the end of the stream, so that `receive` drains every held frame.
    fn flush(&mut self) -> Result<(), DecodeError>;

    /// Drop every queued packet and held frame (a seek); the next packet must be a
    /// keyframe.
    fn reset(&mut self);
}

/// Opens decoders for tracks: one per backend, so that the bindings can add platform
/// decoders in front of the software ones.
pub trait VideoDecoderFactory: Send + Sync {
    /// Whether this backend decodes the track's codec.
    fn supports(&self, track: &TrackInfo) -> bool;

    /// A decoder for the track.
    fn open(&self, track: &TrackInfo) -> Result<Box<dyn VideoDecoder>, DecodeError>;
}

/// The colour space of a decoded frame: for the matrix and the range each, what the
/// bitstream says where it says it, else the container's `colr`, else the guess from
/// the picture height.
pub(crate) fn resolve_colour(
    matrix: Option<Matrix>,
    range: Option<Range>,
    container: Option<ColourSpace>,
    height: u32,
) -> ColourSpace {
    let fallback = container.unwrap_or_else(|| ColourSpace::for_height(height));
    ColourSpace {
        matrix: matrix.unwrap_or(fallback.matrix),
        range: range.unwrap_or(fallback.range),
    }
}
