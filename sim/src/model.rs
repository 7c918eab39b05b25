//! The interface every network/player model implements.

use crate::trace::Trace;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use streamsteer::Ladder;
use streamsteer::abr::{AbrConfig, AbrRule};
use streamsteer::qoe::{QoeReport, QoeWeights, SegmentRecord};
use thiserror::Error;

/// Errors running a simulated session.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SimError {
    /// The ladder has no segments to play.
    #[error("ladder has no segments")]
    NoSegments,
    /// The trace cannot carry any data (zero bandwidth throughout).
    #[error("trace {0} has no bandwidth: a session would never finish")]
    DeadTrace(String),
    /// The session did not finish within the model's bound on simulated time.
    #[error("trace {trace}: session exceeded {limit_s} s of simulated time")]
    Timeout {
        /// Trace name.
        trace: String,
        /// Bound that was hit.
        limit_s: f64,
    },
    /// Something the model needs is not available in this configuration.
    #[error("{0}")]
    Unsupported(String),
}

/// Which model to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Pensieve's `fixed_env`.
    Pensieve,
    /// Sabre's network and player model.
    Sabre,
    /// Our own model, driving the real session state machine.
    Streamsteer,
}

impl ModelKind {
    /// Every model, in CLI order.
    pub const ALL: [ModelKind; 3] = [ModelKind::Pensieve, ModelKind::Sabre, ModelKind::Streamsteer];

    /// The model's name as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Pensieve => "pensieve",
            ModelKind::Sabre => "sabre",
            ModelKind::Streamsteer => "streamsteer",
        }
    }

    /// The forward buffer capacity the model uses when none is configured, seconds
    /// (Pensieve's 60 s cap, Sabre's `-b 25` default, our player's 30 s).
    pub fn default_buffer_s(self) -> f64 {
        match self {
            ModelKind::Pensieve => 60.0,
            ModelKind::Sabre => 25.0,
            ModelKind::Streamsteer => 30.0,
        }
    }

    /// The model's implementation.
    pub fn model(self) -> &'static dyn Model {
        match self {
            ModelKind::Pensieve => &crate::pensieve::PensieveModel,
            ModelKind::Sabre => &crate::sabre::SabreModel,
            ModelKind::Streamsteer => &crate::engine::EngineModel,
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ModelKind::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown model {s:?} (known: pensieve, sabre, streamsteer)"))
    }
}

/// Settings shared by all models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct SimConfig {
    /// Forward buffer capacity in seconds; `None` uses the model's own default
    /// (Pensieve 60 s, Sabre 25 s, streamsteer 30 s).
    pub buffer_max_s: Option<f64>,
    /// Segments to play; `None` plays the whole ladder (Pensieve: its 48 chunks).
    pub segments: Option<usize>,
    /// Rule parameters.
    pub abr: AbrConfig,
    /// QoE weights.
    pub qoe: QoeWeights,
}

impl SimConfig {
    /// The buffer capacity in force under `model`, seconds.
    pub fn buffer_s(&self, model: ModelKind) -> f64 {
        self.buffer_max_s.unwrap_or_else(|| model.default_buffer_s())
    }

    /// This configuration with the buffer resolved for `model` and mirrored into the
    /// rule parameters, so that rules sized by the buffer (BOLA) see the model's.
    pub fn resolved_for(&self, model: ModelKind) -> SimConfig {
        let buffer = self.buffer_s(model);
        let mut c = self.clone();
        c.buffer_max_s = Some(buffer);
        c.abr.buffer_max_s = buffer;
        c
    }
}

/// What one simulated session produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionOutcome {
    /// Trace name.
    pub trace: String,
    /// Rule name.
    pub rule: String,
    /// Model that ran it.
    pub model: ModelKind,
    /// The QoE report.
    pub report: QoeReport,
    /// Per-segment log (for plots and audits).
    pub segments: Vec<SegmentRecord>,
    /// Buffer level over time `(t_s, buffer_s)`, for plots.
    pub buffer_timeline: Vec<(f64, f64)>,
    /// Model-specific metrics (e.g. Sabre's own printed totals), by name.
    pub metrics: BTreeMap<String, f64>,
}

/// A network and player model.
pub trait Model: Sync {
    /// Which model this is.
    fn kind(&self) -> ModelKind;

    /// Plays `ladder` over `trace` with `rule`, returning the session's outcome.
    fn run(
        &self,
        ladder: &Ladder,
        trace: &Trace,
        rule: &mut dyn AbrRule,
        config: &SimConfig,
    ) -> Result<SessionOutcome, SimError>;
}
