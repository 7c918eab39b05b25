//! The media pipeline of streamsteer's native player: fMP4 samples (demuxed by
//! [`streamsteer::container`]) are decoded — AAC through symphonia, video behind the
//! [`video::VideoDecoder`] trait (AV1 with rav1d, H.264 with libavcodec) — rendered with
//! wgpu, and presented against the audio clock.
//!
//! Every stage is a trait or a small type with one job, so that platform decoders and
//! outputs (MediaCodec, VideoToolbox, WebCodecs) plug in through the bindings later.
#![warn(missing_docs)]

pub mod audio;
pub mod clock;
pub mod colour;
pub mod frame;
pub mod pipeline;
pub mod render;
pub mod sink;
pub mod sync;
pub mod video;

#[cfg(feature = "cpal")]
pub use audio::CpalOutput;
pub use audio::{AacDecoder, AudioError, AudioFormat, AudioOutput, AudioOutputConfig, NullOutput};
pub use clock::{Clock, ManualClock, SystemClock};
pub use colour::{ColourSpace, Matrix, Range};
pub use frame::{PixelFormat, Plane, VideoFrame};
pub use pipeline::{Chunk, Pipeline, PipelineConfig, PipelineError, RenderMode};
pub use render::{RenderConfig, RenderError, Renderer, RgbaImage};
pub use sink::DecodingSink;
pub use sync::{MasterClock, Presenter, PresenterConfig};
