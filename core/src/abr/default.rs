//! PLACEHOLDER: replaced by the real rule.
use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Placeholder rule.
#[derive(Debug)]
pub struct DefaultRule;

impl DefaultRule {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder) -> Self {
        Self
    }
}

impl AbrRule for DefaultRule {
    fn name(&self) -> &'static str {
        "default"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

