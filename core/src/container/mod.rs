//! The fMP4 (CMAF) container: what a player reads before any decoder exists: the timing of fragmented
//! MP4 (CMAF) segments, so a driver can account its buffer from the real media rather
//! than from the manifest's nominal durations.
//!
//! - [`InitSegment::parse`]: the tracks of an init segment (timescale, codec, size or
//!   sample rate, `trex` defaults);
//! - [`Fragment::parse`]: per track, the decode-time span of a media segment, from
//!   `tfdt` and the sample durations of every `trun` (through `tfhd` and `trex`
//!   defaults);
//! - [`demux`]: every sample of a media segment (decode and composition time, sync
//!   flag, byte range in its `mdat`), borrowing the sample bytes from the segment;
//! - [`SegmentIndexBox::parse`]: the `sidx` of a DASH on-demand resource, and where
//!   each subsegment lies ([`SegmentIndexBox::subsegments`]);
//! - [`TrackInfo::config`]: the decoder configuration (`avcC`, `av1C`, `esds`) and
//!   [`TrackInfo::colour`] the `colr` colour description.
//!
//! Our own box walker, sans-IO and allocation-light: it borrows the bytes it is given.

mod boxes;
mod codec;
mod config;
mod error;
pub mod fmp4;
mod samples;
mod sidx;

pub use config::{AacConfig, Av1Config, AvcConfig, Colour, DecoderConfig, NclxColour};
pub use error::{Fmp4Error, FourCc};
pub use fmp4::{Fragment, InitSegment, TrackInfo, TrackRun, TrackType};
pub use samples::{Sample, SampleFlags, demux};
pub use sidx::{ReferenceType, SegmentIndexBox, SidxError, SidxReference, Subsegment};
