//! PLACEHOLDER model, replaced by the real one.
use crate::model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
use crate::trace::Trace;
use streamsteer::Ladder;
use streamsteer::abr::AbrRule;

/// Placeholder.
#[derive(Debug, Clone, Copy, Default)]
pub struct SabreModel;

impl Model for SabreModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Sabre
    }
    fn run(&self, _l: &Ladder, _t: &Trace, _r: &mut dyn AbrRule, _c: &SimConfig) -> Result<SessionOutcome, SimError> {
        Err(SimError::Unsupported("not yet".into()))
    }
}
