//! The throughput rule (Sabre's `ThroughputRule`, the dash.js throughput rule).
//!
//! Picks the highest rung that downloads within one segment duration at a safety-scaled
//! throughput estimate, counting the latency estimate as dead time:
//! `latency + duration × bitrate / (safety × throughput) ≤ duration`.
//!
//! Two refinements, both Sabre's:
//! - the **insufficient-buffer rule** caps the rung so that one segment fits in what
//!   the buffer (minus latency) can carry at the estimate, with a safety factor that
//!   starts at 0.9 and decays by ×0.9 per decision to 0.5. Sabre's `-noibr` turns it off
//!   ([`AbrConfig::bolae_insufficient_buffer_rule`], which Sabre applies to this rule
//!   as well as to BOLA-E);
//! - **abandonment**: after a 0.5 s grace period, a fetch projected to take more than
//!   1.8 segment durations is dropped for the rung its own measured rate sustains,
//!   provided that rung is lower and its segment smaller than what is still to come.

use super::{AbrConfig, AbrContext, AbrRule, Decision, FetchProgress, Reason};
use crate::ladder::Ladder;

/// Safety factor of the insufficient-buffer rule on the first decision.
const IBR_SAFETY_INIT: f64 = 0.9;
/// Floor the insufficient-buffer safety factor decays to.
const IBR_SAFETY_MIN: f64 = 0.5;
/// A fetch projected to take longer than this many segment durations is abandoned.
const ABANDON_MULTIPLIER: f64 = 1.8;
/// No abandonment decision before a fetch has run this long, ms.
const ABANDON_GRACE_MS: f64 = 500.0;

/// Seconds → milliseconds. The rules compute in milliseconds, Sabre's unit, with
/// Sabre's operation order: BOLA-E deliberately puts its virtual buffer level exactly
/// on a rung threshold (after startup and abandonment), where the rounding of the
/// arithmetic breaks the tie, so only the same arithmetic gives the same decisions.
#[inline]
pub(crate) fn ms(seconds: f64) -> f64 {
    seconds * 1000.0
}

/// The highest rung whose segment, at `kbps`, arrives within one segment duration
/// after `latency_ms` of dead time (rung 0 if none does).
///
/// Sabre's `quality_from_throughput`: the test walks up from rung 0 and stops at the
/// first rung that does not fit.
pub(crate) fn sustainable_rung(ladder: &Ladder, kbps: f64, latency_ms: f64) -> usize {
    let p = ms(ladder.segment_duration_s());
    let rates = ladder.bitrates_kbps();
    let mut q = 0;
    while q + 1 < rates.len() && latency_ms + p * rates[q + 1] / kbps <= p {
        q += 1;
    }
    q
}

/// The throughput rule (see the module docs).
#[derive(Debug, Clone)]
pub struct ThroughputRule {
    safety: f64,
    insufficient_buffer_rule: bool,
    abandon: bool,
    /// Current safety factor of the insufficient-buffer rule.
    ibr_safety: f64,
}

impl ThroughputRule {
    /// A rule with `config`'s safety factor, insufficient-buffer and abandonment
    /// settings. The ladder is taken from each decision's context.
    pub fn new(config: &AbrConfig, _ladder: &Ladder) -> Self {
        let safety = if config.throughput_safety.is_finite() && config.throughput_safety > 0.0 {
            config.throughput_safety
        } else {
            AbrConfig::default().throughput_safety
        };
        Self {
            safety,
            insufficient_buffer_rule: config.bolae_insufficient_buffer_rule,
            abandon: config.abandon,
            ibr_safety: IBR_SAFETY_INIT,
        }
    }
}

impl AbrRule for ThroughputRule {
    fn name(&self) -> &'static str {
        "throughput"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let Some(tput) = ctx.throughput_kbps else {
            return Decision::now(0, Reason::Startup);
        };
        let latency = ms(ctx.latency_s.unwrap_or(0.0));
        let estimate = tput * self.safety;
        let mut rung = sustainable_rung(ctx.ladder, estimate, latency);
        let mut reason = Reason::Throughput { estimate_kbps: estimate };
        if self.insufficient_buffer_rule {
            // What the buffer can carry (bits) before it runs dry, at the raw estimate.
            let safe_bits = self.ibr_safety * (ms(ctx.buffer_level_s) - latency) * tput;
            self.ibr_safety = (self.ibr_safety * IBR_SAFETY_INIT).max(IBR_SAFETY_MIN);
            let rates = ctx.ladder.bitrates_kbps();
            let seg = ms(ctx.ladder.segment_duration_s());
            if let Some(r) = (0..rung).find(|&r| rates[r + 1] * seg > safe_bits) {
                rung = r;
                reason = Reason::LowBuffer { buffer_s: ctx.buffer_level_s };
            }
        }
        Decision::now(rung, reason)
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        if !self.abandon {
            return None;
        }
        let ttfb = ms(progress.ttfb_s?);
        let elapsed = ms(progress.elapsed_s);
        let transfer = elapsed - ttfb;
        if elapsed < ABANDON_GRACE_MS || transfer <= 0.0 {
            return None;
        }
        let rates = ctx.ladder.bitrates_kbps();
        let current = progress.rendition.min(rates.len() - 1);
        // bits/ms = kbit/s
        let measured_kbps = progress.downloaded_bits / transfer;
        let left_bits = progress.size_bits - progress.downloaded_bits;
        let time_left = left_bits / measured_kbps;
        if elapsed + time_left <= ABANDON_MULTIPLIER * ms(ctx.ladder.segment_duration_s()) {
            return None;
        }
        let latency = ms(ctx.latency_s.unwrap_or(0.0));
        let rung = sustainable_rung(ctx.ladder, measured_kbps * self.safety, latency);
        let new_size = progress.size_bits * rates[rung] / rates[current];
        (rung < current && new_size < left_bits).then_some(rung)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0], 4.0, 48)
            .unwrap()
    }

    fn ctx(l: &Ladder, buffer_s: f64, kbps: Option<f64>, latency_s: f64) -> AbrContext<'_> {
        AbrContext {
            ladder: l,
            segment_index: 1,
            buffer_level_s: buffer_s,
            buffer_max_s: 25.0,
            last_rendition: Some(0),
            throughput_kbps: kbps,
            latency_s: Some(latency_s),
            now_s: 0.0,
            playing: true,
        }
    }

    #[test]
    fn sustainable_rung_counts_latency_as_dead_time() {
        let l = ladder();
        // 2000 kbps, no latency: 1850 fits (3.7 s ≤ 4 s), 2850 does not.
        assert_eq!(sustainable_rung(&l, 2000.0, 0.0), 3);
        // 0.4 s of latency: 0.4 + 3.7 > 4, so 1850 no longer fits; 1200 does (2.8 s).
        assert_eq!(sustainable_rung(&l, 2000.0, 400.0), 2);
        assert_eq!(sustainable_rung(&l, 10.0, 0.0), 0);
    }

    #[test]
    fn first_decision_without_estimate_is_startup() {
        let l = ladder();
        let mut r = ThroughputRule::new(&AbrConfig::default(), &l);
        let d = r.choose(&ctx(&l, 0.0, None, 0.0));
        assert_eq!(d, Decision::now(0, Reason::Startup));
    }

    #[test]
    fn safety_factor_and_insufficient_buffer_rule() {
        let l = ladder();
        let mut r = ThroughputRule::new(&AbrConfig::default(), &l);
        // 3000 kbps × 0.9 = 2700: 2850 kbps does not fit, 1850 does.
        // Buffer 20 s: safe = 0.9 × 20 × 3000 = 54000 kbit, no cap.
        let d = r.choose(&ctx(&l, 20.0, Some(3000.0), 0.0));
        assert_eq!(d.rendition, 3);
        assert_eq!(d.reason, Reason::Throughput { estimate_kbps: 2700.0 });
        // Buffer 2 s: safe = 0.81 × 2 × 3000 = 4860 kbit; 1200 × 4 = 4800 fits,
        // 1850 × 4 = 7400 does not.
        let d = r.choose(&ctx(&l, 2.0, Some(3000.0), 0.0));
        assert_eq!(d.rendition, 2);
        assert_eq!(d.reason, Reason::LowBuffer { buffer_s: 2.0 });
    }

    #[test]
    fn insufficient_buffer_rule_can_be_disabled() {
        let l = ladder();
        let cfg = AbrConfig { bolae_insufficient_buffer_rule: false, ..AbrConfig::default() };
        let mut r = ThroughputRule::new(&cfg, &l);
        assert_eq!(r.choose(&ctx(&l, 0.5, Some(3000.0), 0.0)).rendition, 3);
    }

    #[test]
    fn abandons_slow_fetch_after_grace() {
        let l = ladder();
        let mut r = ThroughputRule::new(&AbrConfig::default(), &l);
        let c = ctx(&l, 10.0, Some(5000.0), 0.1);
        let size = l.segment_size_bits(0, 5); // 17.2 Mbit
        // 1 s in, 0.9 s of transfer carried 900 kbit: 1000 kbps, 16.3 s left.
        let p = FetchProgress {
            segment_index: 1,
            rendition: 5,
            size_bits: size,
            downloaded_bits: 900_000.0,
            elapsed_s: 1.0,
            ttfb_s: Some(0.1),
        };
        // 900 kbps sustains 750 (0.1 + 3.33 ≤ 4) but not 1200.
        assert_eq!(r.check_abandon(&c, &p), Some(1));
        // Within the grace period nothing happens.
        assert_eq!(r.check_abandon(&c, &FetchProgress { elapsed_s: 0.4, ..p }), None);
        // A fetch that will finish in time is kept.
        let fast = FetchProgress { downloaded_bits: 15_000_000.0, ..p };
        assert_eq!(r.check_abandon(&c, &fast), None);
    }
}
