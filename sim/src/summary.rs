//! Aggregating sessions per rule: the comparison a QoE engineer reads first.

use crate::model::{ModelKind, SessionOutcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Mean, median and 10th percentile of a metric over sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (linear interpolation between order statistics).
    pub median: f64,
    /// 10th percentile (linear interpolation, as numpy's default).
    pub p10: f64,
}

impl Stats {
    /// Statistics of `values` (all zero when empty).
    pub fn of(values: &[f64]) -> Stats {
        if values.is_empty() {
            return Stats::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Stats {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            median: percentile(&sorted, 50.0),
            p10: percentile(&sorted, 10.0),
        }
    }
}

/// The `q`-th percentile of sorted values, interpolating linearly.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let pos = (q / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

/// Distributions of the secondary metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distributions {
    /// Average bitrate per session, kbit/s.
    pub avg_bitrate_kbps: Stats,
    /// Rebuffer seconds per session.
    pub rebuffer_s: Stats,
    /// Switches per session.
    pub switches: Stats,
    /// Startup delay per session, seconds.
    pub startup_delay_s: Stats,
}

/// One rule's aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    /// Sessions aggregated.
    pub sessions: usize,
    /// Mean per-segment QoE_lin per session, aggregated.
    pub qoe_lin: Stats,
    /// Mean over sessions of the average bitrate, kbit/s.
    pub avg_bitrate_kbps: f64,
    /// Mean over sessions of the rebuffer seconds.
    pub rebuffer_s: f64,
    /// Mean over sessions of the switch count.
    pub switches: f64,
    /// Mean, median and p10 of the metrics above.
    pub distribution: Distributions,
}

/// The summary of a batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Model the sessions ran under.
    pub model: Option<ModelKind>,
    /// Per rule, by name.
    pub rules: BTreeMap<String, RuleSummary>,
}

impl Summary {
    /// Aggregates outcomes per rule.
    pub fn from_outcomes(model: ModelKind, outcomes: &[SessionOutcome]) -> Summary {
        let mut by_rule: BTreeMap<&str, Vec<&SessionOutcome>> = BTreeMap::new();
        for o in outcomes {
            by_rule.entry(&o.rule).or_default().push(o);
        }
        let rules = by_rule
            .into_iter()
            .map(|(name, list)| {
                let col = |f: &dyn Fn(&SessionOutcome) -> f64| {
                    list.iter().map(|o| f(o)).collect::<Vec<f64>>()
                };
                let qoe = col(&|o| o.report.qoe_lin);
                let rate = col(&|o| o.report.avg_bitrate_kbps);
                let rebuf = col(&|o| o.report.rebuffer_s);
                let sw = col(&|o| o.report.switch_count as f64);
                let start = col(&|o| o.report.startup_delay_s);
                let distribution = Distributions {
                    avg_bitrate_kbps: Stats::of(&rate),
                    rebuffer_s: Stats::of(&rebuf),
                    switches: Stats::of(&sw),
                    startup_delay_s: Stats::of(&start),
                };
                let summary = RuleSummary {
                    sessions: list.len(),
                    qoe_lin: Stats::of(&qoe),
                    avg_bitrate_kbps: distribution.avg_bitrate_kbps.mean,
                    rebuffer_s: distribution.rebuffer_s.mean,
                    switches: distribution.switches.mean,
                    distribution,
                };
                (name.to_string(), summary)
            })
            .collect();
        Summary { model: Some(model), rules }
    }

    /// A fixed-width comparison table, rules in the order given (unknown names skipped).
    pub fn table(&self, order: &[String]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<12} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9}",
            "rule",
            "sessions",
            "QoE mean",
            "QoE med",
            "QoE p10",
            "kbps",
            "rebuf s",
            "switches",
            "startup"
        );
        for name in order {
            let Some(r) = self.rules.get(name) else { continue };
            let _ = writeln!(
                s,
                "{:<12} {:>8} {:>9.3} {:>9.3} {:>9.3} {:>10.0} {:>10.2} {:>9.1} {:>9.2}",
                name,
                r.sessions,
                r.qoe_lin.mean,
                r.qoe_lin.median,
                r.qoe_lin.p10,
                r.avg_bitrate_kbps,
                r.rebuffer_s,
                r.switches,
                r.distribution.startup_delay_s.mean
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        // numpy.percentile(range(1, 11), 10) == 1.9, median 5.5
        let s = Stats::of(&v);
        assert!((s.p10 - 1.9).abs() < 1e-12);
        assert!((s.median - 5.5).abs() < 1e-12);
        assert!((s.mean - 5.5).abs() < 1e-12);
        assert_eq!(Stats::of(&[]), Stats::default());
    }
}
