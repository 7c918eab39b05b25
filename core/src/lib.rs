//! # streamsteer — the sans-IO adaptive-streaming engine
//!
//! This crate is the deterministic core shared by every streamsteer driver (native,
//! mobile, web and the trace-driven simulator). It performs no I/O, reads no clock,
//! spawns nothing and draws no unseeded randomness: callers feed it events (time,
//! fetch progress, manifests) and carry out the actions it returns.
//!
//! The types a driver needs are re-exported here: [`Session`] with its
//! [`SessionConfig`], the [`Event`]s it takes and the [`Action`]s it returns
//! ([`FetchRequest`], [`PlayerEvent`]), [`Presentation`] and its parser, the
//! [`QoeReport`], and the engine's [`Instant`] and [`Url`]. See [`Session`] for a
//! complete example.
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
//! - [`container`]: the fMP4 (CMAF) container — init segments, fragments, samples —
//!   read in pure Rust (decoding is the `streamsteer-media` crate's);
//! - [`uri`]: the checked [`Url`] every request is made to, and
//!   [`allowlist`]: which hosts may be requested.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod abr;
pub mod allowlist;
pub mod buffer;
pub mod cmcd;
pub mod container;
pub mod http;
pub mod ladder;
pub mod manifest;
pub mod qoe;
pub mod session;
pub mod steering;
pub mod time;
pub mod uri;
pub mod utc_timing;

pub use ladder::{Ladder, LadderError};

// What an embedder needs to drive a session, at the crate root.
pub use abr::{AbrConfig, AbrRule, build_rule};
pub use cmcd::{CmcdConfig, CmcdMode};
pub use manifest::{ManifestError, Presentation, parse_any};
pub use qoe::QoeReport;
pub use session::{
    Action, ErrorKind, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, Session,
    SessionConfig, SessionError,
};
pub use time::{Duration, Instant};
pub use uri::Url;
