//! Media parsing a player needs before any decoder exists: the timing of fragmented
//! MP4 (CMAF) segments, so a driver can account its buffer from the real media rather
//! than from the manifest's nominal durations.
//!
//! - [`InitSegment::parse`]: the tracks of an init segment (timescale, codec, size or
//!   sample rate, `trex` defaults);
//! - [`Fragment::parse`]: per track, the decode-time span of a media segment, from
//!   `tfdt` and the sample durations of every `trun` (through `tfhd` and `trex`
//!   defaults).
//!
//! Our own box walker, sans-IO and allocation-light: it borrows the bytes it is given.

mod boxes;
mod codec;
mod error;
pub mod fmp4;

pub use error::{Fmp4Error, FourCc};
pub use fmp4::{Fragment, InitSegment, TrackInfo, TrackRun, TrackType};
