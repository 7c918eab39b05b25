//! PLACEHOLDER: replaced by the real rule.
use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Placeholder rule.
#[derive(Debug)]
pub struct Dynamic;

impl Dynamic {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder) -> Self {
        Self
    }
}

impl AbrRule for Dynamic {
    fn name(&self) -> &'static str {
        "dynamic"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

/// Placeholder rule.
#[derive(Debug)]
pub struct DynamicDash;

impl DynamicDash {
    /// Placeholder constructor.
    pub fn new(_config: &AbrConfig, _ladder: &Ladder) -> Self {
        Self
    }
}

impl AbrRule for DynamicDash {
    fn name(&self) -> &'static str {
        "dynamicdash"
    }
    fn choose(&mut self, _ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Startup)
    }
}

