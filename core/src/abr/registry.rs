//! Building rules by name, with one serde configuration for all of them.

use super::{AbrRule, lowest::Lowest, scenario_mpc::ScenarioMpc};
#[cfg(feature = "all-rules")]
use super::{
    bba::Bba, bola::Bola, dynamic::Dynamic, dynamic::DynamicDash, mpc::RobustMpc,
    throughput::ThroughputRule,
};
use crate::ladder::Ladder;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The adaptive rules [`build_rule`] accepts, in the order the CLI compares them.
///
/// Only `default` in a build without the `all-rules` feature (the browser's), whose
/// [`build_rule`] answers [`AbrError::UnknownRule`] for the others.
#[cfg(feature = "all-rules")]
pub const RULE_NAMES: &[&str] =
    &["default", "throughput", "bola", "bolae", "dynamic", "dynamicdash", "bba", "robustmpc"];

/// The adaptive rules [`build_rule`] accepts: the default alone, as this build leaves
/// out the feature `all-rules` (throughput, BOLA, Dynamic, BBA, RobustMPC).
#[cfg(not(feature = "all-rules"))]
pub const RULE_NAMES: &[&str] = &["default"];

/// Baselines [`build_rule`] also accepts, compared only when asked for by name:
/// `lowest` plays rung 0 throughout ([`Lowest`]).
pub const BASELINE_NAMES: &[&str] = &["lowest"];

/// Errors building a rule.
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum AbrError {
    /// No rule has that name.
    #[error("unknown ABR rule {name:?} (known: {known})")]
    UnknownRule {
        /// The name asked for.
        name: String,
        /// The accepted names, comma-separated.
        known: String,
    },
}

/// Parameters of every rule. Defaults are those of the reference implementations
/// (Sabre for throughput/BOLA/Dynamic, Pensieve for BBA/RobustMPC) unless noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct AbrConfig {
    /// Forward buffer capacity in seconds (Sabre `-b`; default 25).
    pub buffer_max_s: f64,
    /// BOLA's rebuffer-avoidance weight `gp` (default 5, Sabre's).
    pub bola_gp: f64,
    /// BOLA: delay downloads instead of oscillating (Sabre `-ao`; default false).
    pub bola_oscillation_delay: bool,
    /// BOLA: basic variant without the startup buffer ramp (Sabre `-ab`; default false).
    pub bola_basic: bool,
    /// BOLA-E: apply the insufficient-buffer rule (Sabre's `-noibr` turns it off; default true).
    pub bolae_insufficient_buffer_rule: bool,
    /// Throughput rule: fraction of the estimate considered usable (default 0.9).
    pub throughput_safety: f64,
    /// Abandon a slow fetch for a lower rung (default true, Sabre's default).
    pub abandon: bool,
    /// BBA reservoir in seconds (default 5, Pensieve's `bb.py`).
    pub bba_reservoir_s: f64,
    /// BBA cushion in seconds (default 10, Pensieve's `bb.py`).
    pub bba_cushion_s: f64,
    /// RobustMPC look-ahead in segments (default 5).
    pub mpc_horizon: usize,
    /// RobustMPC rebuffer penalty per second (default 4.3).
    pub mpc_rebuffer_penalty: f64,
    /// RobustMPC smoothness penalty per Mbit/s of change (default 1).
    pub mpc_smooth_penalty: f64,
}

impl Default for AbrConfig {
    fn default() -> Self {
        Self {
            buffer_max_s: 25.0,
            bola_gp: 5.0,
            bola_oscillation_delay: false,
            bola_basic: false,
            bolae_insufficient_buffer_rule: true,
            throughput_safety: 0.9,
            abandon: true,
            bba_reservoir_s: 5.0,
            bba_cushion_s: 10.0,
            mpc_horizon: 5,
            mpc_rebuffer_penalty: 4.3,
            mpc_smooth_penalty: 1.0,
        }
    }
}

/// Builds the rule called `name` (case-insensitive; `-`/`_` ignored) for `ladder`.
pub fn build_rule(
    name: &str,
    config: &AbrConfig,
    ladder: &Ladder,
) -> Result<Box<dyn AbrRule>, AbrError> {
    // ASCII case folding: every accepted name is ASCII, and the one non-ASCII letter
    // that full Unicode lowercasing maps to ASCII (KELVIN SIGN to `k`) is in none of
    // them, so both accept the same names; this one keeps Unicode's case tables out
    // of the browser build.
    let key: String =
        name.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
    Ok(match key.as_str() {
        "default" | "streamsteer" | "scenariompc" => Box::new(ScenarioMpc::new(config, ladder)),
        #[cfg(feature = "all-rules")]
        "throughput" => Box::new(ThroughputRule::new(config, ladder)),
        #[cfg(feature = "all-rules")]
        "bola" => Box::new(Bola::new(config, ladder, false)),
        #[cfg(feature = "all-rules")]
        "bolae" => Box::new(Bola::new(config, ladder, true)),
        #[cfg(feature = "all-rules")]
        "dynamic" => Box::new(Dynamic::new(config, ladder)),
        #[cfg(feature = "all-rules")]
        "dynamicdash" => Box::new(DynamicDash::new(config, ladder)),
        #[cfg(feature = "all-rules")]
        "bba" | "bb" => Box::new(Bba::new(config, ladder)),
        #[cfg(feature = "all-rules")]
        "robustmpc" | "mpc" => Box::new(RobustMpc::new(config, ladder)),
        "lowest" => Box::new(Lowest),
        _ => {
            return Err(AbrError::UnknownRule {
                name: name.to_string(),
                known: RULE_NAMES
                    .iter()
                    .chain(BASELINE_NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![300.0, 750.0, 1500.0, 3000.0], 4.0, 10).unwrap()
    }

    #[test]
    fn every_listed_name_builds_under_its_own_name() {
        for name in RULE_NAMES.iter().chain(BASELINE_NAMES) {
            let rule = build_rule(name, &AbrConfig::default(), &ladder()).expect(name);
            assert!(!rule.name().is_empty(), "{name}");
        }
    }

    #[test]
    fn names_are_matched_ignoring_ascii_case_dashes_and_underscores() {
        for name in ["Default", "SCENARIO-MPC", "stream_steer", "LOWEST"] {
            assert!(build_rule(name, &AbrConfig::default(), &ladder()).is_ok(), "{name}");
        }
        // Full Unicode lowercasing would not accept more: its one non-ASCII letter
        // mapped to ASCII, KELVIN SIGN (to `k`), is in no name.
        assert!(RULE_NAMES.iter().chain(BASELINE_NAMES).all(|n| !n.contains('k')));
        assert!(build_rule("DEFAULT\u{130}", &AbrConfig::default(), &ladder()).is_err());
    }

    #[test]
    fn an_unknown_name_lists_what_this_build_has() {
        let Err(AbrError::UnknownRule { name, known }) =
            build_rule("nonesuch", &AbrConfig::default(), &ladder())
        else {
            panic!("built a rule called nonesuch");
        };
        assert_eq!(name, "nonesuch");
        let expected: Vec<&str> = RULE_NAMES.iter().chain(BASELINE_NAMES).copied().collect();
        assert_eq!(known, expected.join(", "));
    }

    #[cfg(not(feature = "all-rules"))]
    #[test]
    fn rules_left_out_of_the_build_are_unknown() {
        for name in ["throughput", "bola", "bolae", "dynamic", "dynamicdash", "bba", "robustmpc"] {
            let err = build_rule(name, &AbrConfig::default(), &ladder()).err();
            assert!(
                matches!(&err, Some(AbrError::UnknownRule { known, .. }) if known == "default, lowest"),
                "{name}: {err:?}"
            );
        }
    }
}
