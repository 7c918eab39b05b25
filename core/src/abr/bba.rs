//! PLACEHOLDER: replaced by the real rule.
use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Placeholder rule.
#[derive(Debug)]
pub struct Bba;

impl Bba {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder) -> Self {
        Self
    }
}

impl AbrRule for Bba {
    fn name(&self) -> &'static str {
        "bba"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

