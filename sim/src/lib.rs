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
//!
//! # Example
//!
//! Two built-in rules on the bundled Pensieve ladder over ten of the bundled HSDPA
//! traces, under the streamsteer model (the real session on a virtual clock):
//!
//! ```
//! use streamsteer_sim::batch::Batch;
//! use streamsteer_sim::summary::Summary;
//! use streamsteer_sim::{ModelKind, SimConfig, defaults};
//!
//! let ladder = defaults::ladder().ladder;
//! let traces = &defaults::traces()?[..10];
//! let rules = ["default".to_string(), "throughput".to_string()];
//! let config = SimConfig::default();
//! let batch =
//!     Batch { ladder: &ladder, traces, rules: &rules, model: ModelKind::Streamsteer, config: &config };
//! let result = batch.run(&|| {})?;
//! assert!(result.failures.is_empty());
//! assert_eq!(result.outcomes.len(), 20);
//! let summary = Summary::from_outcomes(ModelKind::Streamsteer, &result.outcomes);
//! println!("{}", summary.table(&rules));
//! let (ours, theirs) = (&summary.rules["default"], &summary.rules["throughput"]);
//! assert!(ours.qoe_lin.mean > theirs.qoe_lin.mean, "the default wins on HSDPA");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
