//! The ordered list of video decoder backends a player opens tracks with.

use streamsteer::container::TrackInfo;

use super::av1::Av1DecoderFactory;
use super::{DecodeError, VideoDecoder, VideoDecoderFactory};

/// Video decoder backends in order of preference: [`open`](Self::open) uses the first
/// that supports a track.
///
/// [`Decoders::default`] holds the software backends compiled in: rav1d for AV1, then
/// (with the `ffmpeg` feature) libavcodec for H.264 and VP9.
/// The bindings put platform decoders in front with [`push_front`](Self::push_front).
pub struct Decoders {
    factories: Vec<Box<dyn VideoDecoderFactory>>,
}

impl Default for Decoders {
    fn default() -> Self {
        let mut decoders = Self::empty();
        decoders.push_back(Box::new(Av1DecoderFactory::default()));
        #[cfg(feature = "ffmpeg")]
        decoders.push_back(Box::new(super::libavcodec::LibavDecoderFactory::default()));
        decoders
    }
}

impl std::fmt::Debug for Decoders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoders").field("backends", &self.factories.len()).finish()
    }
}

impl Decoders {
    /// No backends at all.
    pub fn empty() -> Self {
        Self { factories: Vec::new() }
    }

    /// Puts `factory` first, ahead of every backend already there.
    pub fn push_front(&mut self, factory: Box<dyn VideoDecoderFactory>) {
        self.factories.insert(0, factory);
    }

    /// Puts `factory` last, as a fallback.
    pub fn push_back(&mut self, factory: Box<dyn VideoDecoderFactory>) {
        self.factories.push(factory);
    }

    /// Number of backends.
    pub fn len(&self) -> usize {
        self.factories.len()
    }

    /// Whether there are no backends.
    pub fn is_empty(&self) -> bool {
        self.factories.is_empty()
    }

    /// Whether some backend supports `track`.
    pub fn supports(&self, track: &TrackInfo) -> bool {
        self.factories.iter().any(|f| f.supports(track))
    }

    /// A decoder for `track` from the first backend that supports it. A backend
    /// that supports the track but fails to open it does not hand over to the next:
    /// its error is more telling than "unsupported".
    ///
    /// Errors: [`DecodeError::Unsupported`] naming the codec (and the crate feature
    /// that would add it) when no backend supports it; the backend's error otherwise.
    pub fn open(&self, track: &TrackInfo) -> Result<Box<dyn VideoDecoder>, DecodeError> {
        match self.factories.iter().find(|f| f.supports(track)) {
            Some(factory) => {
                let decoder = factory.open(track)?;
                tracing::debug!(
                    track = track.track_id,
                    codec = %track.codecs_or_fourcc(),
                    decoder = decoder.name(),
                    "video decoder opened"
                );
                Ok(decoder)
            }
            None => Err(DecodeError::Unsupported(unsupported_reason(track))),
        }
    }
}

/// What to say when no backend takes `track`.
fn unsupported_reason(track: &TrackInfo) -> String {
    let codec = track.codecs_or_fourcc();
    let libav_codec = matches!(&track.codec.0, b"avc1" | b"avc3" | b"vp09");
    if libav_codec && !cfg!(feature = "ffmpeg") {
        format!("{codec} (build streamsteer-media with the `ffmpeg` feature to decode it)")
    } else {
        codec
    }
}
