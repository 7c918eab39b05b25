//! Cost preference: stay on the cheapest pathway while it delivers, overflow when
//! staying would cost quality of experience.
//!
//! Pathways arrive in priority order (the steering server's, or the presentation's),
//! penalised ones already removed; the first is the preferred, cheapest one (an Open
//! Connect-like edge), later ones cost more (a CloudFront-like overflow CDN).
//!
//! With `need` the bitrate of the rung being played and `est(p)` a pathway's fresh
//! throughput estimate (see [`PathwayHealth::throughput_kbps`](super::PathwayHealth::throughput_kbps)):
//!
//! 1. **Preferred**: if `est(P0)` is unknown (never measured, or older than
//!    `estimate_max_age_s`) or `est(P0) ≥ need × headroom`, use P0. An unknown estimate
//!    is optimistic on purpose: it is how the session re-probes P0 after overflowing.
//! 2. **Overflow**: otherwise staying means a down-switch or a stall, so take the first
//!    later pathway whose estimate is unknown (a probe) or `≥ need × headroom`.
//! 3. **Best effort**: if none sustains `need`, take the fastest pathway if it beats
//!    P0 by the factor `1 + min_gain`; else stay on P0 (moving would pay more for
//!    little).
//!
//! Ties go to the earlier (cheaper) pathway. With `enabled = false` the first pathway
//! is always chosen, i.e. pure steering-priority order.
//!
//! What `need` is, is the [`OverflowPolicy`]. Under `Cost` (the default) it is the
//! lowest rung: the steering server's first pathway is kept while it can carry the
//! ladder at all, and the ABR rule adapts to what it delivers (every byte an overflow
//! CDN carries is paid for). A CDN that suddenly starves a fetch is not slow but
//! failing: the session abandons the fetch and penalises the pathway (see the
//! session's scheduler), and it is probed again as a failed one is. Under `Quality`
//! `need` is the rung being played, so the session overflows rather than step down.
//! Either way a pathway left for being slow is measured again only once its estimate
//! has aged out (`estimate_max_age_s`): the hysteresis that keeps the session from
//! flapping between CDNs.

use serde::{Deserialize, Serialize};

/// When the session leaves the steering server's first pathway for a later one that
/// is faster (a failing or starving pathway is left whatever the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowPolicy {
    /// Only when it cannot carry the lowest rung (with `headroom`): the ABR rule adapts
    /// to it instead. What a service running its own edge wants.
    #[default]
    Cost,
    /// When it cannot carry the rung being played (with `headroom`): quality first,
    /// paid for in overflow traffic.
    Quality,
}

/// Parameters of the cost preference (serde; defaults documented per field).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CostPreference {
    /// Apply the preference (default true); false = strict priority order.
    pub enabled: bool,
    /// What a later pathway is taken for (default [`OverflowPolicy::Cost`]).
    pub policy: OverflowPolicy,
    /// Margin over the rung (see [`OverflowPolicy`]) a pathway must deliver to count
    /// as sufficient (default 1.2: the throughput rules' usual 0.8–0.9 safety plus
    /// slack).
    pub headroom: f64,
    /// Relative gain needed to move off the preferred pathway when nothing is
    /// sufficient (default 0.25).
    pub min_gain: f64,
    /// Estimates older than this are treated as unknown, seconds (default 60).
    pub estimate_max_age_s: f64,
}

impl Default for CostPreference {
    fn default() -> Self {
        Self {
            enabled: true,
            policy: OverflowPolicy::Cost,
            headroom: 1.2,
            min_gain: 0.25,
            estimate_max_age_s: 60.0,
        }
    }
}

/// Why a pathway was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostReason {
    /// The first pathway in priority order delivers enough (or is unmeasured).
    Preferred,
    /// The preferred pathway falls short; a later one delivers enough or is being probed.
    Overflow,
    /// Nothing delivers enough; the fastest pathway beats the preferred one clearly.
    BestEffort,
    /// Nothing delivers enough and nothing clearly beats the preferred pathway.
    PreferredDegraded,
}

impl CostPreference {
    /// The bitrate a pathway must carry under the policy, of the rung played
    /// (`rung_kbps`) and the ladder's lowest (`lowest_kbps`), kbit/s.
    pub fn need_kbps(&self, rung_kbps: f64, lowest_kbps: f64) -> f64 {
        match self.policy {
            OverflowPolicy::Cost => lowest_kbps.min(rung_kbps),
            OverflowPolicy::Quality => rung_kbps,
        }
    }

    /// Chooses among `estimates` (priority order, `None` = unknown) for a rung of
    /// `need_kbps`. Returns the index chosen and why; `None` if the list is empty.
    pub fn choose(&self, estimates: &[Option<f64>], need_kbps: f64) -> Option<(usize, CostReason)> {
        let first = *estimates.first()?;
        if !self.enabled {
            return Some((0, CostReason::Preferred));
        }
        let target = need_kbps.max(0.0) * self.headroom.max(0.0);
        let sufficient = |e: Option<f64>| e.is_none_or(|k| k >= target);
        if sufficient(first) {
            return Some((0, CostReason::Preferred));
        }
        if let Some(i) = estimates.iter().skip(1).position(|e| sufficient(*e)) {
            return Some((i + 1, CostReason::Overflow));
        }
        let p0 = first.unwrap_or(0.0);
        let mut best = 0;
        for (i, e) in estimates.iter().enumerate().skip(1) {
            if e.unwrap_or(0.0) > estimates[best].unwrap_or(0.0) {
                best = i;
            }
        }
        if best > 0 && estimates[best].unwrap_or(0.0) >= p0 * (1.0 + self.min_gain) {
            Some((best, CostReason::BestEffort))
        } else {
            Some((0, CostReason::PreferredDegraded))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: CostPreference = CostPreference {
        enabled: true,
        policy: OverflowPolicy::Quality,
        headroom: 1.2,
        min_gain: 0.25,
        estimate_max_age_s: 60.0,
    };

    #[test]
    fn the_policy_says_what_a_pathway_must_carry() {
        let cost = CostPreference::default();
        assert_eq!(cost.policy, OverflowPolicy::Cost);
        assert_eq!(cost.need_kbps(4000.0, 300.0), 300.0);
        assert_eq!(C.need_kbps(4000.0, 300.0), 4000.0);
        // An edge measuring 3.6 Mbit/s (a link it shares with audio) under a 4.3 Mbit/s
        // rung: kept under `Cost`, left under `Quality`.
        let estimates = [Some(3600.0), Some(9000.0)];
        assert_eq!(
            cost.choose(&estimates, cost.need_kbps(4300.0, 300.0)),
            Some((0, CostReason::Preferred))
        );
        assert_eq!(
            C.choose(&estimates, C.need_kbps(4300.0, 300.0)),
            Some((1, CostReason::Overflow))
        );
        // One that cannot carry the lowest rung is left under both.
        let dead = [Some(200.0), Some(9000.0)];
        assert_eq!(
            cost.choose(&dead, cost.need_kbps(4300.0, 300.0)),
            Some((1, CostReason::Overflow))
        );
    }

    #[test]
    fn stays_on_preferred_while_it_delivers() {
        assert_eq!(
            C.choose(&[Some(5000.0), Some(50_000.0)], 4000.0),
            Some((0, CostReason::Preferred))
        );
        assert_eq!(C.choose(&[None, Some(50_000.0)], 4000.0), Some((0, CostReason::Preferred)));
        assert_eq!(C.choose(&[], 4000.0), None);
    }

    #[test]
    fn overflows_when_preferred_cannot_sustain_the_rung() {
        // 4000 kbps rung needs 4800 with headroom; the edge gives 4500.
        assert_eq!(
            C.choose(&[Some(4500.0), Some(9000.0)], 4000.0),
            Some((1, CostReason::Overflow))
        );
        // An unmeasured overflow pathway is probed.
        assert_eq!(C.choose(&[Some(4500.0), None], 4000.0), Some((1, CostReason::Overflow)));
        // The first sufficient one in priority order wins, not the fastest.
        assert_eq!(
            C.choose(&[Some(1000.0), Some(6000.0), Some(60_000.0)], 4000.0),
            Some((1, CostReason::Overflow))
        );
    }

    #[test]
    fn best_effort_needs_a_clear_gain() {
        assert_eq!(
            C.choose(&[Some(1000.0), Some(1200.0)], 4000.0),
            Some((0, CostReason::PreferredDegraded))
        );
        assert_eq!(
            C.choose(&[Some(1000.0), Some(1250.0)], 4000.0),
            Some((1, CostReason::BestEffort))
        );
        assert_eq!(
            C.choose(&[Some(1000.0), Some(2000.0), Some(3000.0)], 4000.0),
            Some((2, CostReason::BestEffort))
        );
    }

    #[test]
    fn disabled_means_strict_priority() {
        let c = CostPreference { enabled: false, ..C };
        assert_eq!(c.choose(&[Some(1.0), Some(1e6)], 4000.0), Some((0, CostReason::Preferred)));
    }
}
