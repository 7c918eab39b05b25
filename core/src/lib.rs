//! # streamsteer — the sans-IO adaptive-streaming engine
//!
//! This crate is the deterministic core shared by every streamsteer driver (native,
//! mobile, web and the trace-driven simulator). It performs no I/O, reads no clock,
//! spawns nothing and draws no unseeded randomness: callers feed it events (time,
//! fetch progress, manifests) and carry out the actions it returns.
//!
//! Modules, one concern each:
//! - [`manifest`]: one presentation model built from HLS and DASH manifests;
//! - [`ladder`]: the encoding ladder the ABR rules decide over;
//! - [`abr`]: throughput/latency estimators and bitrate rules behind one trait;
//! - [`buffer`]: startup, forward/back targets, stall and resume thresholds;
//! - [`steering`]: HLS and DASH content steering and per-pathway health;
//! - [`session`]: the event-in, action-out state machine tying it all together;
//! - [`qoe`]: the event log and the QoE report;
//! - [`cmcd`]: CTA-5004 client data for requests;
//! - [`http`]: HTTP header values the engine interprets (`Retry-After`);
//! - [`utc_timing`]: the server times DASH `UTCTiming` sources answer with;
//! - [`media`]: fMP4 (CMAF) segment timing, read from the media itself;
//! - [`uri`]: the checked [`Url`](uri::Url) every request is made to, and
//!   [`allowlist`]: which hosts may be requested.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abr;
pub mod allowlist;
pub mod buffer;
pub mod cmcd;
pub mod http;
pub mod ladder;
pub mod manifest;
pub mod media;
pub mod qoe;
pub mod session;
pub mod steering;
pub mod time;
pub mod uri;
pub mod utc_timing;

pub use ladder::{Ladder, LadderError};
