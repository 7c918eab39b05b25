//! PLACEHOLDER: replaced by the real rule.
use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Placeholder rule.
#[derive(Debug)]
pub struct RobustMpc;

impl RobustMpc {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder) -> Self {
        Self
    }
}

impl AbrRule for RobustMpc {
    fn name(&self) -> &'static str {
        "robustmpc"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

