//! Audio: AAC decode ([`AacDecoder`], symphonia) and the audio output
//! ([`AudioOutput`]), which is the pipeline's master clock: it reports how many
//! frames have been heard, and A/V sync presents video against that count.
//!
//! PCM everywhere is interleaved `f32` in `[-1, 1]`; a *frame* is one sample per
//! channel. [`NullOutput`] plays against a [`Clock`](crate::Clock) with no device
//! (tests, headless runs); `CpalOutput` (feature `cpal`) plays on the default sound
//! device.

mod aac;
#[cfg(feature = "cpal")]
mod cpal;
mod error;
mod null;
mod output;

#[cfg(feature = "cpal")]
pub use self::cpal::CpalOutput;
pub use aac::{AAC_FRAME_SAMPLES, AacDecoder};
pub use error::AudioError;
pub use null::NullOutput;
pub use output::{AudioFormat, AudioOutput, AudioOutputConfig};
