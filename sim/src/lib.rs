//! # streamsteer-sim — the trace-driven simulator
//!
//! Runs the streamsteer engine's ABR rules (and, with the `streamsteer` model, the whole
//! session state machine) against recorded networks on a virtual clock. Three network
//! and player models:
//!
//! - [`pensieve`]: Pensieve's `fixed_env` semantics, for comparison with the RL-ABR
//!   literature;
//! - [`sabre`]: Sabre's network and player model (MMSys'18);
//! - [`engine`]: our own richer model (per-pathway traces, RTT, outages) driving the
//!   real [`streamsteer::session::Session`].
//!
//! Inputs come from [`trace`] (Pensieve cooked, Mahimahi, Sabre JSON) and
//! [`ladder_io`] (Sabre movie JSON, Pensieve `video_size_N` folders, HLS/DASH
//! manifests). [`batch`] runs many sessions over all cores and [`summary`] aggregates
//! them per rule.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod batch;
pub mod defaults;
pub mod engine;
pub mod ladder_io;
pub mod model;
pub mod pensieve;
pub mod plot;
pub mod sabre;
pub mod summary;
pub mod trace;

pub use model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
