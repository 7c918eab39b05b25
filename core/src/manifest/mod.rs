//! PLACEHOLDER presentation model, replaced by the real one.
use crate::ladder::{Ladder, LadderError};

/// Placeholder presentation.
#[derive(Debug, Clone)]
pub struct Presentation;

/// Placeholder error.
#[derive(Debug, thiserror::Error)]
#[error("manifest parsing not implemented")]
pub struct ManifestError;

impl Presentation {
    /// Placeholder.
    pub fn to_ladder(&self) -> Result<Ladder, LadderError> {
        Err(LadderError::Empty)
    }
}

/// Placeholder.
pub fn parse_any(_text: &str, _url: &str) -> Result<Presentation, ManifestError> {
    Err(ManifestError)
}
