//! BOLA and BOLA-E (Spiteri et al., INFOCOM'16 and MMSys'18), with Sabre's semantics.
//!
//! BOLA picks the rung maximising `(V·(υ_q + γp) − buffer) / bitrate_q`, where `υ_q` is
//! the log-utility of the rung. The buffer level therefore maps to a rung through
//! fixed thresholds set by `V` and `γp`.
//!
//! **BOLA** (`enhanced = false`, Sabre's `Bola`): utilities `ln(b/b₀)`, `γp` from
//! [`AbrConfig::bola_gp`], and `V` sized so that the top rung is chosen once the buffer
//! holds `buffer_max − one segment`. Unless [`AbrConfig::bola_basic`], the effective
//! buffer is shrunk near the start and end of the presentation (`max(n/2, 3)` segments,
//! with `n` segments since the start or until the end), so that BOLA does not sit on the
//! lowest rung for the first minute. An upswitch beyond what the throughput estimate
//! sustains is capped ("BOLA-O"): with [`AbrConfig::bola_oscillation_delay`] the rule
//! stays one rung lower and delays the request until the buffer drains to that rung's
//! threshold; otherwise it goes one rung above the sustainable one. Abandonment
//! (not in basic mode) drops a fetch when a lower rung's score beats what is left.
//!
//! **BOLA-E** (`enhanced = true`, Sabre's `BolaEnh`): utilities `ln(b/b₀) + 1`; `γp`
//! and `V` are derived from a buffer of at least `10 s + 2 s × rungs` so that the
//! lowest rung is left at 10 s. A **placeholder** buffer (virtual seconds added to the
//! real level) lets it start at the rung the throughput sustains and absorb waits
//! instead of inflating the real buffer; the **insufficient-buffer rule** caps the rung
//! to what the buffer can carry at the estimate (off with
//! `bolae_insufficient_buffer_rule = false`, Sabre's `-noibr`, which also moves `γp`
//! and `V` back to BOLA's sizing with `γp − 1`). Abandonment accounts for the latency
//! a new request would pay.
//!
//! Driver contract (as Sabre's player): `on_delay` reports waits the rule did *not*
//! ask for (buffer full); the delay of a [`Decision`] is already accounted for. During
//! `on_download` the context's buffer level is the level after the segment was appended.

use super::throughput::{ms, sustainable_rung};
use super::{AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, FetchProgress, Reason};
use crate::ladder::Ladder;

/// BOLA-E: `V·γp`, the buffer level that BOLA-E keeps at the least, ms.
const MIN_BUFFER_MS: f64 = 10_000.0;
/// BOLA-E: extra buffer per rung when sizing `V`, ms.
const MIN_BUFFER_PER_RUNG_MS: f64 = 2_000.0;
/// BOLA-E insufficient-buffer rule: safety factor on the first steady decision.
const IBR_SAFETY_INIT: f64 = 0.9;
/// BOLA-E insufficient-buffer rule: floor of the decaying safety factor.
const IBR_SAFETY_MIN: f64 = 0.5;

/// Log-utilities of `ladder`'s rungs, offset so that rung 0 has utility `base`.
fn utilities_into(out: &mut Vec<f64>, ladder: &Ladder, base: f64) {
    let rates = ladder.bitrates_kbps();
    let offset = base - rates[0].ln();
    out.clear();
    out.extend(rates.iter().map(|b| b.ln() + offset));
}

/// The rung with the best BOLA score at `level_ms` (the first on exact ties).
fn best_rung(rates: &[f64], utilities: &[f64], vp: f64, gp: f64, level_ms: f64) -> usize {
    let mut best = 0;
    let mut best_score = f64::NEG_INFINITY;
    for (q, (&b, &u)) in rates.iter().zip(utilities).enumerate() {
        let score = (vp * (u + gp) - level_ms) / b;
        if q == 0 || score > best_score {
            best = q;
            best_score = score;
        }
    }
    best
}

/// What the rule was built for; a context that differs triggers a re-derivation.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shape {
    rungs: usize,
    segment_s: f64,
    buffer_max_s: f64,
}

impl Shape {
    fn of(ladder: &Ladder, buffer_max_s: f64) -> Self {
        Self { rungs: ladder.len(), segment_s: ladder.segment_duration_s(), buffer_max_s }
    }
}

/// BOLA as in Sabre's `Bola`.
#[derive(Debug, Clone)]
struct Classic {
    gp: f64,
    oscillation_delay: bool,
    basic: bool,
    abandon: bool,
    utilities: Vec<f64>,
    shape: Shape,
    vp: f64,
    last_seek_index: usize,
    last_quality: usize,
}

impl Classic {
    fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        let mut c = Self {
            gp: config.bola_gp,
            oscillation_delay: config.bola_oscillation_delay,
            basic: config.bola_basic,
            abandon: config.abandon,
            utilities: Vec::with_capacity(ladder.len()),
            shape: Shape::of(ladder, config.buffer_max_s),
            vp: 0.0,
            last_seek_index: 0,
            last_quality: 0,
        };
        c.reshape(ladder, config.buffer_max_s);
        c
    }

    fn reshape(&mut self, ladder: &Ladder, buffer_max_s: f64) {
        utilities_into(&mut self.utilities, ladder, 0.0);
        self.shape = Shape::of(ladder, buffer_max_s);
        self.vp = self.vp_for(ms(buffer_max_s));
        self.last_quality = self.last_quality.min(ladder.len() - 1);
    }

    /// `V` (ms per unit of utility) for a buffer of `buffer_ms`.
    fn vp_for(&self, buffer_ms: f64) -> f64 {
        let top = self.utilities.last().copied().unwrap_or(0.0);
        (buffer_ms - ms(self.shape.segment_s)) / (top + self.gp)
    }

    fn sync(&mut self, ctx: &AbrContext<'_>) {
        let want = Shape::of(ctx.ladder, ctx.buffer_max_s);
        if want != self.shape && ctx.buffer_max_s.is_finite() && ctx.buffer_max_s > 0.0 {
            self.reshape(ctx.ladder, ctx.buffer_max_s);
        }
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        self.sync(ctx);
        let Some(tput) = ctx.throughput_kbps else {
            return Decision::now(0, Reason::Startup);
        };
        let ladder = ctx.ladder;
        let rates = ladder.bitrates_kbps();
        let seg = ms(self.shape.segment_s);
        if !self.basic {
            // Near the start (or end) there is no time to fill a large buffer: size V
            // for half the segments played since the start (or left), at least 3.
            let since = ctx.segment_index.saturating_sub(self.last_seek_index);
            // A ladder with no segments listed is open-ended (live).
            let until = match ladder.segment_count() {
                0 => usize::MAX,
                n => n.saturating_sub(ctx.segment_index),
            };
            let horizon = ((since.min(until) as f64) / 2.0).max(3.0) * seg;
            self.vp = self.vp_for(ms(self.shape.buffer_max_s).min(horizon));
        }
        let level = ms(ctx.buffer_level_s);
        let mut quality = best_rung(rates, &self.utilities, self.vp, self.gp, level);
        let mut delay = 0.0;
        let buffer_s = ctx.buffer_level_s;
        let mut reason = Reason::Buffer { buffer_s };
        if quality > self.last_quality {
            let latency = ms(ctx.latency_s.unwrap_or(0.0));
            let sustainable = sustainable_rung(ladder, tput, latency);
            if quality <= sustainable {
                // The buffer's choice is also sustainable: nothing to guard against.
            } else if self.last_quality > sustainable {
                quality = self.last_quality;
                reason = Reason::Hold { buffer_s };
            } else {
                reason = Reason::OscillationGuard { buffer_s, estimate_kbps: tput };
                if self.oscillation_delay {
                    quality = sustainable;
                    // Wait until the buffer drains to where BOLA would pick this rung.
                    let threshold = self.vp * (self.gp + self.utilities[quality]);
                    delay = (level - threshold).max(0.0);
                    if quality == rates.len() - 1 {
                        delay = 0.0;
                    }
                } else {
                    quality = sustainable + 1;
                }
            }
        }
        self.last_quality = quality;
        Decision { rendition: quality, delay_s: delay / 1000.0, reason }
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, p: &FetchProgress) -> Option<usize> {
        if self.basic || !self.abandon {
            return None;
        }
        let rates = ctx.ladder.bitrates_kbps();
        let current = p.rendition.min(rates.len() - 1);
        let remain = p.size_bits - p.downloaded_bits;
        if p.downloaded_bits <= 0.0 || remain <= 0.0 {
            return None;
        }
        let level = ms(ctx.buffer_level_s);
        let mut score = (self.vp * (self.gp + self.utilities[current]) - level) / remain;
        if score < 0.0 {
            return None;
        }
        let mut to = None;
        for q in 0..current {
            let other_size = p.size_bits * rates[q] / rates[current];
            let other_score = (self.vp * (self.gp + self.utilities[q]) - level) / other_size;
            if other_size < remain && other_score > score {
                score = other_score;
                to = Some(q);
            }
        }
        if let Some(q) = to {
            self.last_quality = q;
        }
        to
    }
}

/// Phase of BOLA-E.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No decision taken since the start (or a seek).
    Startup,
    /// Buffer-based decisions.
    Steady,
}

/// BOLA-E as in Sabre's `BolaEnh`.
#[derive(Debug, Clone)]
struct Enhanced {
    config_gp: f64,
    oscillation_delay: bool,
    insufficient_buffer_rule: bool,
    abandon: bool,
    utilities: Vec<f64>,
    shape: Shape,
    gp: f64,
    vp: f64,
    phase: Phase,
    /// Virtual buffer added to the real level, ms.
    placeholder: f64,
    last_quality: usize,
    ibr_safety: f64,
}

impl Enhanced {
    fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        let mut e = Self {
            config_gp: config.bola_gp,
            oscillation_delay: config.bola_oscillation_delay,
            insufficient_buffer_rule: config.bolae_insufficient_buffer_rule,
            abandon: config.abandon,
            utilities: Vec::with_capacity(ladder.len()),
            shape: Shape::of(ladder, config.buffer_max_s),
            gp: 0.0,
            vp: 0.0,
            phase: Phase::Startup,
            placeholder: 0.0,
            last_quality: 0,
            ibr_safety: IBR_SAFETY_INIT,
        };
        e.reshape(ladder, config.buffer_max_s);
        e
    }

    fn reshape(&mut self, ladder: &Ladder, buffer_max_s: f64) {
        utilities_into(&mut self.utilities, ladder, 1.0);
        self.shape = Shape::of(ladder, buffer_max_s);
        let top = self.utilities.last().copied().unwrap_or(1.0);
        if self.insufficient_buffer_rule {
            let buffer = (MIN_BUFFER_MS + MIN_BUFFER_PER_RUNG_MS * ladder.len() as f64)
                .max(ms(buffer_max_s));
            self.gp = (top - 1.0) / (buffer / MIN_BUFFER_MS - 1.0);
            self.vp = MIN_BUFFER_MS / self.gp;
        } else {
            // Matches BOLA's sizing (its utilities are BOLA-E's minus one).
            self.gp = self.config_gp - 1.0;
            self.vp = (ms(buffer_max_s) - ms(ladder.segment_duration_s())) / (top + self.gp);
        }
        self.last_quality = self.last_quality.min(ladder.len() - 1);
    }

    fn sync(&mut self, ctx: &AbrContext<'_>) {
        let want = Shape::of(ctx.ladder, ctx.buffer_max_s);
        if want != self.shape && ctx.buffer_max_s.is_finite() && ctx.buffer_max_s > 0.0 {
            self.reshape(ctx.ladder, ctx.buffer_max_s);
        }
    }

    /// Lowest buffer level at which BOLA prefers `quality` to every lower rung.
    fn min_buffer_for(&self, rates: &[f64], quality: usize) -> f64 {
        let (b, u) = (rates[quality], self.utilities[quality]);
        let mut level: f64 = 0.0;
        for (&bq, &uq) in rates[..quality].iter().zip(&self.utilities) {
            if uq < u {
                level = level.max(self.vp * (self.gp + (b * uq - bq * u) / (b - bq)));
            }
        }
        level
    }

    /// Highest buffer level at which BOLA still picks `quality`.
    fn max_buffer_for(&self, quality: usize) -> f64 {
        self.vp * (self.utilities[quality] + self.gp)
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        self.sync(ctx);
        let Some(tput) = ctx.throughput_kbps else {
            return Decision::now(self.last_quality, Reason::Startup);
        };
        let rates = ctx.ladder.bitrates_kbps();
        let level = ms(ctx.buffer_level_s);
        let buffer_s = ctx.buffer_level_s;
        let latency = ms(ctx.latency_s.unwrap_or(0.0));
        let sustainable = sustainable_rung(ctx.ladder, tput, latency);
        if self.phase == Phase::Startup {
            // Start at what the network sustains, pretending the buffer already holds
            // what BOLA would need to pick it.
            self.phase = Phase::Steady;
            self.ibr_safety = IBR_SAFETY_INIT;
            self.placeholder = (self.min_buffer_for(rates, sustainable) - level).max(0.0);
            return Decision::now(sustainable, Reason::Throughput { estimate_kbps: tput });
        }

        let mut quality =
            best_rung(rates, &self.utilities, self.vp, self.gp, level + self.placeholder);
        let mut reason = Reason::Buffer { buffer_s };
        if quality > self.last_quality && quality > sustainable {
            quality = self.last_quality.max(sustainable);
            if !self.oscillation_delay {
                quality += 1;
            }
            reason = Reason::OscillationGuard { buffer_s, estimate_kbps: tput };
        }

        // Above this rung's band: drain the placeholder first, then wait.
        let mut delay = level + self.placeholder - self.max_buffer_for(quality);
        if delay > 0.0 {
            if delay <= self.placeholder {
                self.placeholder -= delay;
                delay = 0.0;
            } else {
                delay -= self.placeholder;
                self.placeholder = 0.0;
            }
        } else {
            delay = 0.0;
        }
        if quality == rates.len() - 1 {
            delay = 0.0;
        }

        if self.insufficient_buffer_rule {
            let safe_bits = self.ibr_safety * (level - latency) * tput;
            self.ibr_safety = (self.ibr_safety * IBR_SAFETY_INIT).max(IBR_SAFETY_MIN);
            let seg = ms(ctx.ladder.segment_duration_s());
            if let Some(q) = (0..quality).find(|&q| rates[q + 1] * seg > safe_bits) {
                quality = q;
                delay = 0.0;
                let max_placeholder = (self.min_buffer_for(rates, q) - level).max(0.0);
                self.placeholder = max_placeholder.min(self.placeholder);
                reason = Reason::LowBuffer { buffer_s };
            }
        }
        Decision { rendition: quality, delay_s: delay / 1000.0, reason }
    }

    fn on_download(
        &mut self,
        ctx: &AbrContext<'_>,
        report: &DownloadReport,
        abandoned_to: Option<usize>,
    ) {
        let rates = ctx.ladder.bitrates_kbps();
        let quality = report.rendition.min(rates.len() - 1);
        self.last_quality = quality;
        let level = ms(ctx.buffer_level_s);
        if !report.abandoned {
            // Keep the placeholder within the band of the rung just fetched, relative
            // to the level when the fetch started.
            let level_was = level + ms(report.duration_s);
            let max_placeholder = (self.max_buffer_for(quality) - level_was).max(0.0);
            self.placeholder = self.placeholder.min(max_placeholder);
            // Not while rebuffering: an empty buffer must not inflate the placeholder.
            if level > 0.0 {
                let min_placeholder = self.min_buffer_for(rates, quality) - level_was;
                self.placeholder = self.placeholder.max(min_placeholder);
            }
        } else {
            // Something went wrong: fall back to a conservative placeholder.
            let want = match abandoned_to {
                Some(q) if q > 0 && q < rates.len() => self.min_buffer_for(rates, q),
                _ => MIN_BUFFER_MS,
            };
            self.placeholder = self.placeholder.min((want - level).max(0.0));
        }
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, p: &FetchProgress) -> Option<usize> {
        if !self.abandon {
            return None;
        }
        let rates = ctx.ladder.bitrates_kbps();
        let current = p.rendition.min(rates.len() - 1);
        let remain = p.size_bits - p.downloaded_bits;
        if p.downloaded_bits <= 0.0 || remain <= 0.0 {
            return None;
        }
        let ttfb = ms(p.ttfb_s.unwrap_or(0.0));
        let transfer = ms(p.elapsed_s) - ttfb;
        if transfer <= 0.0 {
            return None;
        }
        // A new request pays the latency again: judge the state after it.
        let level = (ms(ctx.buffer_level_s) + self.placeholder - ttfb).max(0.0);
        let rate = p.downloaded_bits / transfer;
        let left = remain - ttfb * rate;
        if left <= 0.0 {
            return None;
        }
        let mut score = (self.vp * (self.gp + self.utilities[current]) - level) / left;
        let mut to = None;
        for q in 0..current {
            let other_size = p.size_bits * rates[q] / rates[current];
            let other_score = (self.vp * (self.gp + self.utilities[q]) - level) / other_size;
            // Only worth it if the new segment is smaller than what is left of this one.
            if other_size < left && other_score > score {
                score = other_score;
                to = Some(q);
            }
        }
        to
    }
}

#[derive(Debug, Clone)]
enum Variant {
    Classic(Classic),
    Enhanced(Enhanced),
}

/// BOLA (`enhanced = false`) or BOLA-E (`enhanced = true`); see the module docs.
#[derive(Debug, Clone)]
pub struct Bola {
    variant: Variant,
    /// Rung the last abandonment went to, for the report that follows it.
    abandoned_to: Option<usize>,
}

impl Bola {
    /// Builds BOLA or BOLA-E for `ladder` with `config`.
    pub fn new(config: &AbrConfig, ladder: &Ladder, enhanced: bool) -> Self {
        let variant = if enhanced {
            Variant::Enhanced(Enhanced::new(config, ladder))
        } else {
            Variant::Classic(Classic::new(config, ladder))
        };
        Self { variant, abandoned_to: None }
    }

    /// Learns from a fetch, knowing which rung an abandonment went to (whichever rule
    /// decided it: DynamicDash forwards its throughput rule's abandonments here).
    pub(crate) fn on_download_abandoned_to(
        &mut self,
        ctx: &AbrContext<'_>,
        report: &DownloadReport,
        abandoned_to: Option<usize>,
    ) {
        if let Variant::Enhanced(e) = &mut self.variant {
            e.on_download(ctx, report, abandoned_to);
        }
    }
}

impl AbrRule for Bola {
    fn name(&self) -> &'static str {
        match self.variant {
            Variant::Classic(_) => "bola",
            Variant::Enhanced(_) => "bolae",
        }
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        self.abandoned_to = None;
        if ctx.ladder.len() == 1 {
            // One rung: nothing to decide, and V would be undefined.
            return Decision::now(0, Reason::Hold { buffer_s: ctx.buffer_level_s });
        }
        match &mut self.variant {
            Variant::Classic(c) => c.choose(ctx),
            Variant::Enhanced(e) => e.choose(ctx),
        }
    }

    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        if ctx.ladder.len() == 1 {
            return;
        }
        let to = if report.abandoned { self.abandoned_to.take() } else { None };
        self.on_download_abandoned_to(ctx, report, to);
    }

    fn on_delay(&mut self, delay_s: f64) {
        if let Variant::Enhanced(e) = &mut self.variant
            && delay_s.is_finite()
        {
            e.placeholder += ms(delay_s);
        }
    }

    fn on_seek(&mut self, segment_index: usize) {
        match &mut self.variant {
            Variant::Classic(c) => c.last_seek_index = segment_index,
            Variant::Enhanced(e) => e.phase = Phase::Startup,
        }
    }

    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        if ctx.ladder.len() == 1 {
            return None;
        }
        let to = match &mut self.variant {
            Variant::Classic(c) => c.check_abandon(ctx, progress),
            Variant::Enhanced(e) => e.check_abandon(ctx, progress),
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

    /// Sabre's example movie ladder, 3 s segments.
    fn ladder() -> Ladder {
        Ladder::constant_bitrate(
            vec![230.0, 331.0, 477.0, 688.0, 991.0, 1427.0, 2056.0, 2962.0, 5027.0, 6000.0],
            3.0,
            199,
        )
        .unwrap()
    }

    fn ctx(l: &Ladder, index: usize, buffer_s: f64, kbps: f64) -> AbrContext<'_> {
        AbrContext {
            ladder: l,
            segment_index: index,
            buffer_level_s: buffer_s,
            buffer_max_s: 25.0,
            last_rendition: None,
            throughput_kbps: Some(kbps),
            latency_s: Some(0.0),
            now_s: 0.0,
            playing: true,
        }
    }

    fn basic() -> AbrConfig {
        AbrConfig { bola_basic: true, ..AbrConfig::default() }
    }

    #[test]
    fn score_matches_hand_computation() {
        // Basic BOLA, 25 s buffer, γp = 5: V = 22 / (ln(6000/230) + 5) = 2.66298…
        // At 16 s of buffer the scores (V(υ+γp) − 16)/b peak at rung 6 (2056 kbps):
        // by hand, rung 5: 0.0015245, rung 6: 0.0015311, rung 7: 0.0013910.
        let l = ladder();
        let rates = l.bitrates_kbps();
        let u: Vec<f64> = rates.iter().map(|b| (b / 230.0).ln()).collect();
        let vp = 22.0 / (u[9] + 5.0);
        assert!((vp - 2.662_975).abs() < 1e-6, "{vp}");
        let score = |q: usize| (vp * (u[q] + 5.0) - 16.0) / rates[q];
        assert!((score(6) - 0.001_531_1).abs() < 1e-7, "{}", score(6));
        assert!(score(6) > score(5) && score(6) > score(7));
        let mut b = Bola::new(&basic(), &l, false);
        let d = b.choose(&ctx(&l, 10, 16.0, 1e9));
        assert_eq!(d.rendition, 6);
        assert_eq!(d.reason, Reason::Buffer { buffer_s: 16.0 });
    }

    #[test]
    fn top_rung_at_full_buffer_and_lowest_when_empty() {
        let l = ladder();
        let mut b = Bola::new(&basic(), &l, false);
        assert_eq!(b.choose(&ctx(&l, 10, 22.0, 1e9)).rendition, 9);
        let mut b = Bola::new(&basic(), &l, false);
        assert_eq!(b.choose(&ctx(&l, 10, 0.0, 1e9)).rendition, 0);
    }

    #[test]
    fn upswitch_is_capped_by_throughput() {
        let l = ladder();
        // Buffer says rung 9, 1000 kbps sustains rung 4 (991 kbps).
        let mut b = Bola::new(&basic(), &l, false);
        let d = b.choose(&ctx(&l, 10, 22.0, 1000.0));
        assert_eq!(d.rendition, 5);
        assert!(matches!(d.reason, Reason::OscillationGuard { .. }));
        // With the oscillation delay: stay at rung 4 and wait for the buffer to drain
        // to rung 4's threshold V(υ₄ + γp).
        let cfg = AbrConfig { bola_oscillation_delay: true, ..basic() };
        let mut b = Bola::new(&cfg, &l, false);
        let d = b.choose(&ctx(&l, 10, 22.0, 1000.0));
        assert_eq!(d.rendition, 4);
        let vp = 22.0 / ((6000.0f64 / 230.0).ln() + 5.0);
        let want = 22.0 - vp * ((991.0f64 / 230.0).ln() + 5.0);
        assert!((d.delay_s - want).abs() < 1e-9, "{} vs {want}", d.delay_s);
    }

    #[test]
    fn startup_horizon_shrinks_v() {
        // Segment 2 of 199: the horizon is 3 segments (9 s), V = 6 / (υ₉ + 5), so 5 s
        // of buffer is already near the top of the ladder.
        let l = ladder();
        let mut b = Bola::new(&AbrConfig::default(), &l, false);
        let early = b.choose(&ctx(&l, 2, 5.0, 1e9)).rendition;
        let mut b = Bola::new(&basic(), &l, false);
        let basic_pick = b.choose(&ctx(&l, 2, 5.0, 1e9)).rendition;
        assert!(early > basic_pick, "{early} vs {basic_pick}");
    }

    #[test]
    fn bolae_starts_at_sustainable_rung_with_placeholder() {
        let l = ladder();
        let mut b = Bola::new(&AbrConfig::default(), &l, true);
        let first = b.choose(&AbrContext { throughput_kbps: None, ..ctx(&l, 0, 0.0, 0.0) });
        assert_eq!(first, Decision::now(0, Reason::Startup));
        // 1500 kbps sustains rung 5 (1427).
        let d = b.choose(&ctx(&l, 1, 3.0, 1500.0));
        assert_eq!(d.rendition, 5);
        let Variant::Enhanced(e) = &b.variant else { panic!("not enhanced") };
        // Buffer sized max(10 + 2·10, 25) = 30 s: γp = (υ₉ − 1)/2, V = 10/γp.
        let top = (6000.0f64 / 230.0).ln() + 1.0;
        assert!((e.gp - (top - 1.0) / 2.0).abs() < 1e-12);
        let min5 = e.min_buffer_for(l.bitrates_kbps(), 5);
        assert!((e.placeholder - (min5 - 3000.0)).abs() < 1e-9);
        // V·γp is the 10 s minimum buffer.
        assert!((e.vp * e.gp - 10_000.0).abs() < 1e-9);
    }

    #[test]
    fn bolae_abandon_lowers_placeholder() {
        let l = ladder();
        let mut b = Bola::new(&AbrConfig::default(), &l, true);
        b.choose(&ctx(&l, 1, 3.0, 1500.0));
        let before = match &b.variant {
            Variant::Enhanced(e) => e.placeholder,
            Variant::Classic(_) => panic!("not enhanced"),
        };
        let c = ctx(&l, 2, 4.0, 1500.0);
        // A top-rung fetch crawling at 100 kbps with 4 s of buffer: abandon.
        let p = FetchProgress {
            segment_index: 2,
            rendition: 9,
            size_bits: 18e6,
            downloaded_bits: 100_000.0,
            elapsed_s: 1.1,
            ttfb_s: Some(0.1),
        };
        let to = b.check_abandon(&c, &p).expect("abandons");
        assert!(to < 9);
        let report = DownloadReport {
            segment_index: 2,
            rendition: 9,
            size_bits: 100_000.0,
            ttfb_s: 0.1,
            duration_s: 1.1,
            buffer_level_s: 2.9,
            abandoned: true,
        };
        b.on_download(&ctx(&l, 2, 2.9, 1500.0), &report);
        let Variant::Enhanced(e) = &b.variant else { panic!("not enhanced") };
        let want = if to > 0 { e.min_buffer_for(l.bitrates_kbps(), to) } else { 10_000.0 };
        assert_eq!(e.placeholder, before.min((want - 2900.0).max(0.0)));
        assert_eq!(e.last_quality, 9);
        // Abandoning to the lowest rung caps the placeholder at the 10 s minimum buffer.
        b.on_download_abandoned_to(&ctx(&l, 2, 2.9, 1500.0), &report, Some(0));
        let Variant::Enhanced(e) = &b.variant else { panic!("not enhanced") };
        assert!(before > 7100.0);
        assert!((e.placeholder - 7100.0).abs() < 1e-9, "{}", e.placeholder);
    }

    #[test]
    fn bolae_waits_absorb_into_placeholder() {
        let l = ladder();
        let mut b = Bola::new(&AbrConfig::default(), &l, true);
        b.choose(&ctx(&l, 1, 3.0, 1500.0));
        let get = |b: &Bola| match &b.variant {
            Variant::Enhanced(e) => e.placeholder,
            Variant::Classic(_) => panic!("not enhanced"),
        };
        let p0 = get(&b);
        b.on_delay(2.5);
        assert!((get(&b) - p0 - 2500.0).abs() < 1e-9);
    }
}
