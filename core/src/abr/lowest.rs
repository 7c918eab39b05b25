//! The lowest rung, always: the baseline an adaptive rule must beat.
//!
//! A player that never leaves the bottom of the ladder stalls only where the link
//! cannot carry even that rung; an adaptive rule that stalls where this one does not,
//! or scores below it, has lost more to its risks than it gained in quality. The
//! simulator's tests hold the default rule to it on the slowest traces.

use super::{AbrContext, AbrRule, Decision, Reason};

/// Always rung 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lowest;

impl AbrRule for Lowest {
    fn name(&self) -> &str {
        "lowest"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        Decision::now(0, Reason::Hold { buffer_s: ctx.buffer_level_s })
    }
}
