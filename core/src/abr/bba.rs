//! BBA: buffer-based adaptation (Huang et al., SIGCOMM'14), as Pensieve's `bb.py` runs it.
//!
//! The rung is a function of the buffer alone. Below the *reservoir* the lowest rung is
//! fetched, so the buffer refills as fast as the link allows; above *reservoir +
//! cushion* the highest; in between the rung index grows linearly with the buffer and is
//! rounded down (rungs are spaced evenly in index, not in bitrate, exactly as Pensieve's
//! baseline does). No throughput estimate is used at all, which is the point of BBA: the
//! buffer integrates the link's behaviour, so the rule needs no predictor to trust.

use super::{AbrConfig, AbrContext, AbrRule, Decision, Reason};
use crate::ladder::Ladder;

/// Buffer-based rule with a linear reservoir/cushion map.
#[derive(Debug, Clone)]
pub struct Bba {
    reservoir_s: f64,
    cushion_s: f64,
}

impl Bba {
    /// A rule with the reservoir and cushion of `config` (Pensieve: 5 s and 10 s).
    pub fn new(config: &AbrConfig, _ladder: &Ladder) -> Self {
        let reservoir_s =
            if config.bba_reservoir_s.is_finite() { config.bba_reservoir_s.max(0.0) } else { 5.0 };
        // A zero cushion would divide by zero; it means "jump straight to the top".
        let cushion_s = if config.bba_cushion_s.is_finite() && config.bba_cushion_s > 0.0 {
            config.bba_cushion_s
        } else {
            f64::MIN_POSITIVE
        };
        Self { reservoir_s, cushion_s }
    }

    /// The rung the map gives for `buffer_s` on a ladder of `rungs` rungs.
    pub fn rung_for_buffer(&self, buffer_s: f64, rungs: usize) -> usize {
        let top = rungs.saturating_sub(1);
        if buffer_s.is_nan() || buffer_s < self.reservoir_s {
            // An unknown buffer is treated as an empty one.
            0
        } else if buffer_s >= self.reservoir_s + self.cushion_s {
            top
        } else {
            // Truncation towards zero, as `int()` in the reference; the argument is ≥ 0.
            let x = top as f64 * (buffer_s - self.reservoir_s) / self.cushion_s;
            (x as usize).min(top)
        }
    }
}

impl AbrRule for Bba {
    fn name(&self) -> &'static str {
        "bba"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let buffer_s = ctx.buffer_level_s;
        let rung = self.rung_for_buffer(buffer_s, ctx.ladder.len());
        let reason = if buffer_s < self.reservoir_s {
            Reason::LowBuffer { buffer_s }
        } else {
            Reason::Buffer { buffer_s }
        };
        Decision::now(rung, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0], 4.0, 48)
            .unwrap()
    }

    fn ctx(ladder: &Ladder, buffer_level_s: f64) -> AbrContext<'_> {
        AbrContext {
            ladder,
            segment_index: 3,
            buffer_level_s,
            buffer_max_s: 60.0,
            last_rendition: Some(1),
            throughput_kbps: Some(1000.0),
            latency_s: None,
            now_s: 10.0,
            playing: true,
        }
    }

    #[test]
    fn pensieve_map() {
        let l = ladder();
        let mut b = Bba::new(&AbrConfig::default(), &l);
        let cases = [
            (0.0, 0),
            (4.999, 0),
            (5.0, 0),
            (6.99, 0),
            (7.0, 1),
            (9.5, 2),
            (11.0, 3),
            (13.0, 4),
            (14.99, 4),
            (15.0, 5),
            (60.0, 5),
        ];
        for (buf, want) in cases {
            assert_eq!(b.choose(&ctx(&l, buf)).rendition, want, "buffer {buf}");
        }
        assert!(matches!(b.choose(&ctx(&l, 1.0)).reason, Reason::LowBuffer { .. }));
        assert!(
            matches!(b.choose(&ctx(&l, 10.0)).reason, Reason::Buffer { buffer_s } if buffer_s == 10.0)
        );
    }

    #[test]
    fn degenerate_inputs() {
        let l = ladder();
        let cfg = AbrConfig { bba_cushion_s: 0.0, ..AbrConfig::default() };
        let mut b = Bba::new(&cfg, &l);
        assert_eq!(b.choose(&ctx(&l, 5.0)).rendition, 5);
        assert_eq!(b.choose(&ctx(&l, f64::NAN)).rendition, 0);
        let one = Ladder::constant_bitrate(vec![500.0], 2.0, 3).unwrap();
        assert_eq!(b.choose(&ctx(&one, 30.0)).rendition, 0);
    }
}
