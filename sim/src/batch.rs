//! Running many sessions (rules × traces) over all cores.

use crate::model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
use crate::trace::Trace;
use rayon::prelude::*;
use streamsteer::Ladder;
use streamsteer::abr::{AbrError, build_rule};

/// One session that failed, and why.
#[derive(Debug)]
pub struct SessionFailure {
    /// Trace name.
    pub trace: String,
    /// Rule name.
    pub rule: String,
    /// The error.
    pub error: SimError,
}

/// The result of a batch: outcomes in (rule, trace) order, and failures.
#[derive(Debug, Default)]
pub struct BatchResult {
    /// Successful sessions, ordered by rule (as given) then trace (as given).
    pub outcomes: Vec<SessionOutcome>,
    /// Sessions that could not run.
    pub failures: Vec<SessionFailure>,
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a> {
    /// The ladder to play.
    pub ladder: &'a Ladder,
    /// Traces, one session per trace and rule.
    pub traces: &'a [Trace],
    /// Rule names (as `build_rule` accepts).
    pub rules: &'a [String],
    /// Model to run.
    pub model: ModelKind,
    /// Shared settings.
    pub config: &'a SimConfig,
}

impl Batch<'_> {
    /// Checks every rule name before any session runs.
    pub fn validate(&self) -> Result<(), AbrError> {
        for rule in self.rules {
            build_rule(rule, &self.config.abr, self.ladder)?;
        }
        Ok(())
    }

    /// Runs every (rule, trace) session in parallel; `on_done` is called once per
    /// finished session (from worker threads) for progress reporting.
    ///
    /// Results are deterministic: each session is independent and the output order
    /// is fixed, whatever the scheduling.
    pub fn run(&self, on_done: &(dyn Fn() + Sync)) -> Result<BatchResult, AbrError> {
        self.run_model(self.model.model(), on_done)
    }

    /// As [`run`](Self::run), with an explicit model implementation (e.g. a
    /// [`ConfiguredEngine`](crate::engine::ConfiguredEngine)) instead of
    /// `self.model`'s default one; the buffer is resolved for `model.kind()`.
    pub fn run_model(
        &self,
        model: &dyn Model,
        on_done: &(dyn Fn() + Sync),
    ) -> Result<BatchResult, AbrError> {
        self.validate()?;
        let config = self.config.resolved_for(model.kind());
        let jobs: Vec<(usize, usize)> = (0..self.rules.len())
            .flat_map(|r| (0..self.traces.len()).map(move |t| (r, t)))
            .collect();
        let results: Vec<Result<SessionOutcome, SessionFailure>> = jobs
            .par_iter()
            .map(|&(r, t)| {
                let rule_name = &self.rules[r];
                let trace = &self.traces[t];
                let fail = |error| SessionFailure {
                    trace: trace.name.clone(),
                    rule: rule_name.clone(),
                    error,
                };
                let result = match build_rule(rule_name, &config.abr, self.ladder) {
                    Ok(mut rule) => model
                        .run(self.ladder, trace, rule.as_mut(), &config)
                        .map(|mut o| {
                            o.rule = rule_name.clone();
                            o
                        })
                        .map_err(fail),
                    Err(e) => Err(fail(SimError::Unsupported(e.to_string()))),
                };
                on_done();
                result
            })
            .collect();
        let mut out = BatchResult::default();
        for r in results {
            match r {
                Ok(o) => out.outcomes.push(o),
                Err(f) => out.failures.push(f),
            }
        }
        Ok(out)
    }
}
