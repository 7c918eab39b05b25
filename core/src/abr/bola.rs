//! PLACEHOLDER: replaced by the real rule.
use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Placeholder rule.
#[derive(Debug)]
pub struct Bola;

impl Bola {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder, _enhanced: bool) -> Self {
        Self
    }
}

impl AbrRule for Bola {
    fn name(&self) -> &'static str {
        "bola"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

