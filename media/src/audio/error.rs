//! The audio stage's errors.

use thiserror::Error;

/// What can go wrong decoding AAC or opening an audio output.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AudioError {
    /// The track handed to the AAC decoder is not AAC.
    #[error("track {track_id} is not AAC audio (sample entry {codec})")]
    NotAac {
        /// The track's id.
        track_id: u32,
        /// Its sample entry four-character code.
        codec: String,
    },
    /// A valid AAC configuration that the decoder cannot play (HE-AAC, more than two
    /// channels, a program config element…).
    #[error("unsupported AAC configuration: {0}")]
    Unsupported(String),
    /// The AudioSpecificConfig is missing or malformed.
    #[error("invalid AAC configuration: {0}")]
    BadConfig(String),
    /// A zero-length frame (an AAC raw data block is never empty).
    #[error("empty AAC frame")]
    EmptyFrame,
    /// The frame could not be decoded: truncated, corrupt, or not AAC at all. The
    /// decoder stays usable; the next good frame decodes (its first output may carry a
    /// short glitch from the lost overlap).
    #[error("corrupt AAC frame: {0}")]
    Corrupt(String),
    /// There is no audio output device (no sound card, no audio server).
    #[error("no audio output device")]
    NoDevice,
    /// The audio device refused the stream or failed.
    #[error("audio device error: {0}")]
    Device(String),
}
