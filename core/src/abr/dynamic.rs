//! Dynamic (Sabre MMSys'18) and DynamicDash (the dash.js `DYNAMIC` strategy): switch
//! between the throughput rule at low buffer and BOLA at high buffer.
//!
//! - [`Dynamic`] runs BOLA and the throughput rule side by side on every decision (both
//!   keep their state current) and uses BOLA once the buffer exceeds 10 s and BOLA asks
//!   for at least the throughput rule's rung; it falls back to the throughput rule when
//!   the buffer drops below 10 s and BOLA asks for less. Abandonment is always the
//!   throughput rule's (as in Sabre).
//! - [`DynamicDash`] uses BOLA-E above 10 s of buffer and the throughput rule below 5 s
//!   (hysteresis between); only the active rule decides and judges abandonment, both
//!   learn from every fetch and wait.

use super::bola::Bola;
use super::throughput::ThroughputRule;
use super::{AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, FetchProgress, Reason};
use crate::ladder::Ladder;

/// Dynamic: buffer level around which it switches, seconds.
const DYNAMIC_THRESHOLD_S: f64 = 10.0;
/// DynamicDash: below this buffer level the throughput rule takes over, seconds.
const DASH_LOW_S: f64 = 5.0;
/// DynamicDash: above this buffer level BOLA-E takes over, seconds.
const DASH_HIGH_S: f64 = 10.0;

/// Sabre's `Dynamic` rule (see the module docs).
#[derive(Debug, Clone)]
pub struct Dynamic {
    bola: Bola,
    throughput: ThroughputRule,
    using_bola: bool,
}

impl Dynamic {
    /// Builds the rule and its BOLA and throughput components from `config`.
    pub fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        Self {
            bola: Bola::new(config, ladder, false),
            throughput: ThroughputRule::new(config, ladder),
            using_bola: false,
        }
    }

    /// Whether BOLA currently decides (false: the throughput rule).
    pub fn using_bola(&self) -> bool {
        self.using_bola
    }
}

impl AbrRule for Dynamic {
    fn name(&self) -> &'static str {
        "dynamic"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        if ctx.throughput_kbps.is_none() {
            // Before any measurement: the throughput rule's first rung, no switching.
            return Decision::now(0, Reason::Startup);
        }
        let level = ctx.buffer_level_s;
        let b = self.bola.choose(ctx);
        let t = self.throughput.choose(ctx);
        if self.using_bola {
            if level < DYNAMIC_THRESHOLD_S && b.rendition < t.rendition {
                self.using_bola = false;
            }
        } else if level > DYNAMIC_THRESHOLD_S && b.rendition >= t.rendition {
            self.using_bola = true;
        }
        if self.using_bola { b } else { t }
    }

    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        self.bola.on_download(ctx, report);
        self.throughput.on_download(ctx, report);
    }

    fn on_delay(&mut self, delay_s: f64) {
        self.bola.on_delay(delay_s);
        self.throughput.on_delay(delay_s);
    }

    fn on_seek(&mut self, segment_index: usize) {
        self.bola.on_seek(segment_index);
        self.throughput.on_seek(segment_index);
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        self.throughput.check_abandon(ctx, progress)
    }
}

/// The dash.js `DYNAMIC` strategy as modelled by Sabre's `DynamicDash`.
#[derive(Debug, Clone)]
pub struct DynamicDash {
    bola: Bola,
    throughput: ThroughputRule,
    using_bola: bool,
    /// Rung the last abandonment went to (whichever rule decided it).
    abandoned_to: Option<usize>,
}

impl DynamicDash {
    /// Builds the rule and its BOLA-E and throughput components from `config`.
    pub fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        Self {
            bola: Bola::new(config, ladder, true),
            throughput: ThroughputRule::new(config, ladder),
            using_bola: false,
            abandoned_to: None,
        }
    }

    /// Whether BOLA-E currently decides (false: the throughput rule).
    pub fn using_bola(&self) -> bool {
        self.using_bola
    }
}

impl AbrRule for DynamicDash {
    fn name(&self) -> &'static str {
        "dynamicdash"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        self.abandoned_to = None;
        if ctx.throughput_kbps.is_none() {
            return Decision::now(0, Reason::Startup);
        }
        let level = ctx.buffer_level_s;
        if self.using_bola && level < DASH_LOW_S {
            self.using_bola = false;
        } else if !self.using_bola && level > DASH_HIGH_S {
            self.using_bola = true;
        }
        if self.using_bola { self.bola.choose(ctx) } else { self.throughput.choose(ctx) }
    }

    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        // BOLA-E adjusts its placeholder to the rung an abandonment went to, even when
        // the throughput rule decided the abandonment.
        let to = if report.abandoned { self.abandoned_to.take() } else { None };
        self.bola.on_download_abandoned_to(ctx, report, to);
        self.throughput.on_download(ctx, report);
    }

    fn on_delay(&mut self, delay_s: f64) {
        self.bola.on_delay(delay_s);
        self.throughput.on_delay(delay_s);
    }

    fn on_seek(&mut self, segment_index: usize) {
        self.bola.on_seek(segment_index);
        self.throughput.on_seek(segment_index);
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        let to = if self.using_bola {
            self.bola.check_abandon(ctx, progress)
        } else {
            self.throughput.check_abandon(ctx, progress)
        };
        if to.is_some() {
            self.abandoned_to = to;
        }
        to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder() -> Ladder {
        Ladder::constant_bitrate(vec![300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0], 4.0, 48)
            .unwrap()
    }

    fn ctx(l: &Ladder, buffer_s: f64, kbps: f64) -> AbrContext<'_> {
        AbrContext {
            ladder: l,
            segment_index: 20,
            buffer_level_s: buffer_s,
            buffer_max_s: 25.0,
            last_rendition: Some(0),
            throughput_kbps: Some(kbps),
            latency_s: Some(0.05),
            now_s: 0.0,
            playing: true,
        }
    }

    #[test]
    fn dynamic_switches_with_hysteresis() {
        let l = ladder();
        let mut d = Dynamic::new(&AbrConfig::default(), &l);
        let first = d.choose(&AbrContext { throughput_kbps: None, ..ctx(&l, 0.0, 0.0) });
        assert_eq!(first, Decision::now(0, Reason::Startup));
        assert!(!d.using_bola());
        // Low buffer: throughput rule.
        let dec = d.choose(&ctx(&l, 4.0, 3000.0));
        assert!(!d.using_bola());
        assert!(matches!(dec.reason, Reason::Throughput { .. } | Reason::LowBuffer { .. }));
        // 21 s of buffer: BOLA wants the top rung, at least the throughput rule's.
        d.choose(&ctx(&l, 21.0, 3000.0));
        assert!(d.using_bola());
        // Between thresholds nothing changes; below 10 s with BOLA lower, back.
        d.choose(&ctx(&l, 12.0, 3000.0));
        assert!(d.using_bola());
        d.choose(&ctx(&l, 2.0, 100_000.0));
        assert!(!d.using_bola());
    }

    #[test]
    fn dynamicdash_thresholds() {
        let l = ladder();
        let mut d = DynamicDash::new(&AbrConfig::default(), &l);
        d.choose(&ctx(&l, 8.0, 3000.0));
        assert!(!d.using_bola(), "8 s is below the 10 s switch-up threshold");
        d.choose(&ctx(&l, 10.5, 3000.0));
        assert!(d.using_bola());
        d.choose(&ctx(&l, 6.0, 3000.0));
        assert!(d.using_bola(), "6 s is above the 5 s switch-down threshold");
        let dec = d.choose(&ctx(&l, 4.0, 3000.0));
        assert!(!d.using_bola());
        assert!(matches!(dec.reason, Reason::Throughput { .. } | Reason::LowBuffer { .. }));
    }
}
