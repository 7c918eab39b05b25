//! AAC-LC decode of raw AAC frames (one fMP4 sample each) with symphonia.
//!
//! The frames come from our own demuxer ([`streamsteer::container::demux`]) and the
//! configuration from the init segment's `esds` ([`AacConfig`]), so symphonia's
//! container readers are not used: only its AAC decoder, fed the AudioSpecificConfig
//! as extra data.
//!
//! Symphonia 0.6 decodes AAC-LC, mono or stereo, 1024-sample frames. HE-AAC
//! (explicit SBR, object type 5), HE-AAC v2 (PS, 29), other object types, more than two
//! channels, and channel layouts given by a program config element are refused as
//! [`AudioError::Unsupported`]. A stream that signals SBR only implicitly (object type
//! 2 with SBR data inside fill elements) decodes its AAC-LC core at the core rate.

use std::fmt;

use streamsteer::container::{AacConfig, DecoderConfig, TrackInfo};
use symphonia::core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration, Timestamp};
use symphonia::default::codecs::AacDecoder as SymphoniaAac;

use super::error::AudioError;
use super::output::AudioFormat;

/// PCM frames (samples per channel) in one AAC-LC frame.
pub const AAC_FRAME_SAMPLES: usize = 1024;

/// `audioObjectType` of AAC-LC (ISO 14496-3 table 1.1).
const AOT_AAC_LC: u8 = 2;

/// Decodes raw AAC-LC frames to interleaved `f32` PCM.
///
/// Each frame gives [`AAC_FRAME_SAMPLES`] frames of PCM. The first frame after
/// [`new`](Self::new) or [`reset`](Self::reset) is the decoder's start-up (the MDCT
/// overlap with silence): encoders put one priming frame there, which the track's edit
/// list (`TrackInfo::edit_media_time`) tells the player to skip. The decoder does not
/// trim it; the caller maps frames to media time.
pub struct AacDecoder {
    inner: SymphoniaAac,
    /// What `inner` was made from, to make it anew on `reset`.
    params: AudioCodecParameters,
    format: AudioFormat,
    /// Reused for every frame so that steady-state decode does not allocate.
    pcm: Vec<f32>,
}

impl fmt::Debug for AacDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AacDecoder").field("format", &self.format).finish_non_exhaustive()
    }
}

impl AacDecoder {
    /// A decoder for an fMP4 audio track; [`AudioError::NotAac`] when its sample
    /// entry carries no AAC configuration.
    pub fn from_track(track: &TrackInfo) -> Result<Self, AudioError> {
        match &track.config {
            DecoderConfig::Aac(config) => Self::new(config),
            _ => {
                Err(AudioError::NotAac { track_id: track.track_id, codec: track.codec.as_string() })
            }
        }
    }

    /// A decoder for an `esds` AudioSpecificConfig.
    pub fn new(config: &AacConfig) -> Result<Self, AudioError> {
        check_config(config)?;
        let mut params = AudioCodecParameters::new();
        params.for_codec(CODEC_ID_AAC).with_extra_data(config.audio_specific_config.clone().into());
        if let Some(rate) = config.sample_rate {
            params.with_sample_rate(rate);
        }
        let inner = SymphoniaAac::try_new(&params, &AudioDecoderOptions::default())
            .map_err(config_error)?;
        let out = inner.codec_params();
        let sample_rate = out.sample_rate.unwrap_or(0);
        let channels = out.channels.as_ref().map_or(0, |c| c.count());
        let channels = u16::try_from(channels).unwrap_or(0);
        if sample_rate == 0 || channels == 0 {
            return Err(AudioError::BadConfig(format!(
                "no sample rate or channel count in the AudioSpecificConfig ({sample_rate} Hz, {channels} channels)"
            )));
        }
        let format = AudioFormat { sample_rate, channels };
        tracing::debug!(?format, "AAC-LC decoder ready");
        Ok(Self {
            inner,
            params,
            format,
            pcm: Vec::with_capacity(AAC_FRAME_SAMPLES * channels as usize),
        })
    }

    /// Decodes one raw AAC frame (an fMP4 sample's bytes) and returns its PCM,
    /// interleaved, [`AAC_FRAME_SAMPLES`] × [`channels`](Self::channels) samples. The
    /// slice lives in the decoder and is overwritten by the next call.
    ///
    /// A corrupt or truncated frame gives [`AudioError::Corrupt`] and leaves the
    /// decoder usable.
    pub fn decode(&mut self, frame: &[u8]) -> Result<&[f32], AudioError> {
        if frame.is_empty() {
            return Err(AudioError::EmptyFrame);
        }
        let packet =
            PacketRef::new(0, Timestamp::ZERO, Duration::new(AAC_FRAME_SAMPLES as u64), frame);
        match self.inner.decode_ref(&packet) {
            Ok(buf) => {
                buf.copy_to_vec_interleaved(&mut self.pcm);
                Ok(&self.pcm)
            }
            Err(e) => {
                tracing::debug!(error = %e, bytes = frame.len(), "AAC frame not decoded");
                Err(frame_error(e))
            }
        }
    }

    /// Forgets the inter-frame state: call it after a seek or a discontinuity, before
    /// the next frame. The decoder then gives exactly what a new one would.
    pub fn reset(&mut self) {
        // Symphonia's own reset clears the MDCT overlap but not the noise generator of
        // perceptual noise substitution, so the same frames would decode differently
        // after a seek than from a fresh start; a new decoder is exact, and cheap at
        // seek frequency.
        match SymphoniaAac::try_new(&self.params, &AudioDecoderOptions::default()) {
            Ok(inner) => self.inner = inner,
            Err(e) => {
                // The same parameters made the first one; keep going with the old.
                tracing::warn!(error = %e, "AAC decoder not remade on reset");
                self.inner.reset();
            }
        }
    }

    /// The PCM format [`decode`](Self::decode) produces.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// Output sample rate, Hz.
    pub fn sample_rate(&self) -> u32 {
        self.format.sample_rate
    }

    /// Output channels (1 or 2).
    pub fn channels(&self) -> u16 {
        self.format.channels
    }
}

/// Refuses what symphonia cannot decode with a reason a user can act on, before
/// symphonia gives its terse one.
fn check_config(config: &AacConfig) -> Result<(), AudioError> {
    if config.audio_specific_config.len() < 2 {
        return Err(AudioError::BadConfig(format!(
            "the AudioSpecificConfig is {} bytes, at least 2 are needed",
            config.audio_specific_config.len()
        )));
    }
    match config.audio_object_type {
        AOT_AAC_LC => {}
        5 => {
            return Err(AudioError::Unsupported(
                "HE-AAC (SBR, audio object type 5): symphonia 0.6 decodes AAC-LC only".into(),
            ));
        }
        29 => {
            return Err(AudioError::Unsupported(
                "HE-AAC v2 (parametric stereo, audio object type 29): symphonia 0.6 decodes AAC-LC only"
                    .into(),
            ));
        }
        other => {
            return Err(AudioError::Unsupported(format!(
                "audio object type {other}: only AAC-LC (2) is supported"
            )));
        }
    }
    match config.channel_config {
        0 => Err(AudioError::Unsupported(
            "channel configuration 0 (layout in a program config element)".into(),
        )),
        1 | 2 => Ok(()),
        n => Err(AudioError::Unsupported(format!(
            "channel configuration {n}: symphonia 0.6 decodes mono and stereo only"
        ))),
    }
}

fn config_error(e: SymphoniaError) -> AudioError {
    match e {
        SymphoniaError::Unsupported(what) => AudioError::Unsupported(what.to_string()),
        other => AudioError::BadConfig(other.to_string()),
    }
}

fn frame_error(e: SymphoniaError) -> AudioError {
    AudioError::Corrupt(e.to_string())
}
