//! The default rule (draft under evaluation).

use super::estimator::{Estimator, HarmonicMean, Sample};
use super::{AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, Reason};
use crate::ladder::Ladder;
use serde::{Deserialize, Serialize};

/// Most scenarios a decision weighs.
pub const MAX_SCENARIOS: usize = 8;
/// Longest horizon.
pub const MAX_HORIZON: usize = 8;
/// Most prediction ratios remembered.
pub const MAX_RATIOS: usize = 64;

/// Tunable parameters of [`DefaultRule`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DefaultParams {
    /// Segments planned ahead.
    pub horizon: usize,
    /// Throughput scenarios weighed per decision.
    pub scenarios: usize,
    /// Samples in the harmonic-mean base estimate.
    pub harmonic_window: usize,
    /// Prediction ratios remembered.
    pub ratio_window: usize,
    /// Spread (σ of ln ratio) of the prior ratios the window starts with.
    pub prior_sigma: f64,
    /// Shift of the scenario quantile levels (0 = centred bins; < 0 more cautious).
    pub quantile_shift: f64,
    /// Count TTFB inside throughput (as Pensieve) rather than as a separate latency.
    pub ttfb_in_throughput: bool,
    /// Terminal penalty: expected rebuffering of this many extra lowest-rung segments
    /// after the horizon (0 = none).
    pub tail_segments: usize,
    /// Scale of the above.
    pub tail_weight: f64,
    /// Prefer the lower first rung on (near-)ties.
    pub prefer_low_on_ties: bool,
    /// Multiplier of the switching penalty inside the plan.
    pub smooth_scale: f64,
}

impl Default for DefaultParams {
    fn default() -> Self {
        Self {
            horizon: 5,
            scenarios: 5,
            harmonic_window: 5,
            ratio_window: 20,
            prior_sigma: 0.35,
            quantile_shift: 0.0,
            ttfb_in_throughput: false,
            tail_segments: 0,
            tail_weight: 1.0,
            prefer_low_on_ties: true,
            smooth_scale: 1.0,
        }
    }
}

/// The default rule.
#[derive(Debug, Clone)]
pub struct DefaultRule {
    p: DefaultParams,
    rebuffer_penalty: f64,
    smooth_penalty: f64,
    estimator: HarmonicMean,
    /// ln(measured / predicted) ring, prefilled with prior values.
    ratios: [f64; MAX_RATIOS],
    ratio_pos: usize,
    last_base_kbps: Option<f64>,
    rates: Vec<f64>,
    best_tail: Vec<f64>,
    download_s: Vec<f64>,
}

/// Inverse standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
fn norm_inv(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    const A: [f64; 6] = [-39.696_830_286_653_76, 220.946_098_424_520_5, -275.928_510_446_968_7, 138.357_751_867_269, -30.664_798_066_147_16, 2.506_628_277_459_239];
    const B: [f64; 5] = [-54.476_098_798_224_06, 161.585_836_858_040_9, -155.698_979_859_886_6, 66.801_311_887_719_72, -13.280_681_552_885_72];
    const C: [f64; 6] = [-0.007_784_894_002_430_293, -0.322_396_458_041_136_4, -2.400_758_277_161_838, -2.549_732_539_343_734, 4.374_664_141_464_968, 2.938_163_982_698_783];
    const D: [f64; 4] = [0.007_784_695_709_041_462, 0.322_467_129_070_039_8, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -norm_inv(1.0 - p)
    }
}

impl DefaultRule {
    /// The rule with default parameters.
    pub fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        Self::with_params(config, ladder, DefaultParams::default())
    }

    /// The rule with explicit parameters.
    pub fn with_params(config: &AbrConfig, ladder: &Ladder, p: DefaultParams) -> Self {
        let mut p = p;
        p.horizon = p.horizon.clamp(1, MAX_HORIZON);
        p.scenarios = p.scenarios.clamp(1, MAX_SCENARIOS);
        p.ratio_window = p.ratio_window.clamp(1, MAX_RATIOS);
        let mut ratios = [0.0; MAX_RATIOS];
        let m = p.ratio_window;
        // Prior ratios, placed so that real samples (written from slot 0 on) replace
        // the central ones first and the prior's spread survives until data replaces it.
        let mut order: [usize; MAX_RATIOS] = [0; MAX_RATIOS];
        for (i, o) in order.iter_mut().enumerate().take(m) {
            *o = i;
        }
        let centre = (m as f64 - 1.0) / 2.0;
        order[..m].sort_by(|a, b| (*a as f64 - centre).abs().total_cmp(&(*b as f64 - centre).abs()));
        for (slot, &q) in order.iter().enumerate().take(m) {
            ratios[slot] = p.prior_sigma * norm_inv((q as f64 + 0.5) / m as f64);
        }
        let mut s = Self {
            p,
            rebuffer_penalty: config.mpc_rebuffer_penalty,
            smooth_penalty: config.mpc_smooth_penalty * p.smooth_scale,
            estimator: HarmonicMean::new(p.harmonic_window).counting_ttfb(p.ttfb_in_throughput),
            ratios,
            ratio_pos: 0,
            last_base_kbps: None,
            rates: Vec::new(),
            best_tail: Vec::new(),
            download_s: Vec::new(),
        };
        s.rebuild(ladder.bitrates_kbps());
        s
    }

    fn rebuild(&mut self, rates: &[f64]) {
        let n = rates.len();
        let h = self.p.horizon;
        self.rates = rates.to_vec();
        self.download_s = vec![0.0; MAX_SCENARIOS * h * n];
        self.best_tail = vec![0.0; (h + 1) * n];
        for m in 1..=h {
            for q in 0..n {
                let mut best = f64::NEG_INFINITY;
                for r in 0..n {
                    let step = rates[r] / 1000.0 - self.smooth_penalty * (rates[r] - rates[q]).abs() / 1000.0
                        + self.best_tail[(m - 1) * n + r];
                    best = best.max(step);
                }
                self.best_tail[m * n + q] = best;
            }
        }
    }
}

struct Search<'a> {
    n: usize,
    h: usize,
    k: usize,
    rates: &'a [f64],
    dt: &'a [f64],
    best_tail: &'a [f64],
    seg: f64,
    mu: f64,
    lambda: f64,
    tail_segments: usize,
    tail_weight: f64,
    threshold: f64,
    best_value: f64,
    best_first: usize,
}

const EPS: f64 = 1e-9;

impl Search<'_> {
    #[inline]
    fn dt(&self, k: usize, p: usize, r: usize) -> f64 {
        self.dt[(k * self.h + p) * self.n + r]
    }

    /// Expected rebuffer (weighted mean over scenarios) of the rest from depth at rung 0,
    /// plus the terminal tail.
    fn min_tail(&self, depth: usize, bufs: &[f64; MAX_SCENARIOS]) -> f64 {
        let mut total = 0.0;
        for k in 0..self.k {
            let mut b = bufs[k];
            let mut reb = 0.0;
            for p in depth..self.h {
                let d = self.dt(k, p, 0);
                if b < d {
                    reb += d - b;
                    b = self.seg;
                } else {
                    b = b - d + self.seg;
                }
            }
            total += reb;
        }
        total / self.k as f64
    }

    /// Value of continuing `tail_segments` more segments at rung `r` after the horizon:
    /// their (weighted) bitrate reward minus the expected rebuffering they cause.
    fn terminal(&self, bufs: &[f64; MAX_SCENARIOS], r: usize) -> f64 {
        if self.tail_segments == 0 {
            return 0.0;
        }
        let mut total = 0.0;
        for k in 0..self.k {
            let mut b = bufs[k];
            let mut reb = 0.0;
            let d = self.dt(k, self.h - 1, r);
            for _ in 0..self.tail_segments {
                if b < d {
                    reb += d - b;
                    b = self.seg;
                } else {
                    b = b - d + self.seg;
                }
            }
            total += reb;
        }
        self.tail_weight * (self.tail_segments as f64 * self.rates[r] / 1000.0 - self.mu * total / self.k as f64)
    }

    /// An upper bound of [`Self::terminal`] over every rung.
    fn terminal_bound(&self) -> f64 {
        self.tail_weight * self.tail_segments as f64 * self.rates[self.n - 1] / 1000.0
    }

    fn constant_plan(&self, r: usize, last: Option<usize>, buffer: f64) -> f64 {
        let mut bufs = [buffer; MAX_SCENARIOS];
        let mut reb = 0.0;
        let mut bsum = 0.0;
        let mut ssum = 0.0;
        let mut prev = last.unwrap_or(r);
        for p in 0..self.h {
            for (k, b) in bufs.iter_mut().enumerate().take(self.k) {
                let d = self.dt(k, p, r);
                if *b < d {
                    reb += d - *b;
                    *b = self.seg;
                } else {
                    *b = *b - d + self.seg;
                }
            }
            bsum += self.rates[r];
            ssum += (self.rates[r] - self.rates[prev]).abs();
            prev = r;
        }
        bsum / 1000.0 - self.lambda * ssum / 1000.0 - self.mu * reb / self.k as f64 + self.terminal(&bufs, r)
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs(&mut self, depth: usize, last: Option<usize>, bufs: &[f64; MAX_SCENARIOS], reb: f64, bsum: f64, ssum: f64, first: usize, low_first: bool) {
        let n = self.n;
        let rem = self.h - depth - 1;
        for i in 0..n {
            let r = if low_first { i } else { n - 1 - i };
            let mut nb = [0.0; MAX_SCENARIOS];
            let mut nreb = reb;
            for k in 0..self.k {
                let d = self.dt(k, depth, r);
                let b = bufs[k];
                if b < d {
                    nreb += d - b;
                    nb[k] = self.seg;
                } else {
                    nb[k] = b - d + self.seg;
                }
            }
            let nbs = bsum + self.rates[r];
            let nss = ssum + (self.rates[r] - self.rates[last.unwrap_or(r)]).abs();
            let f = if depth == 0 { r } else { first };
            if rem == 0 {
                let v = nbs / 1000.0 - self.lambda * nss / 1000.0 - self.mu * nreb / self.k as f64 + self.terminal(&nb, r);
                if v > self.best_value + EPS {
                    self.best_value = v;
                    self.best_first = f;
                    self.threshold = self.threshold.max(v);
                }
                continue;
            }
            let ub = nbs / 1000.0 - self.lambda * nss / 1000.0 - self.mu * (nreb / self.k as f64 + self.min_tail(depth + 1, &nb))
                + self.best_tail[rem * n + r]
                + self.terminal_bound();
            if ub + EPS < self.threshold {
                continue;
            }
            self.dfs(depth + 1, Some(r), &nb, nreb, nbs, nss, f, low_first);
        }
    }
}

impl AbrRule for DefaultRule {
    fn name(&self) -> &'static str {
        "default"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let ladder = ctx.ladder;
        if ladder.bitrates_kbps() != self.rates.as_slice() {
            self.rebuild(ladder.bitrates_kbps());
        }
        let base = match self.estimator.throughput_kbps() {
            Some(b) => b,
            None => match ctx.throughput_kbps {
                Some(t) if t.is_finite() && t > 0.0 => t,
                _ => return Decision::now(0, Reason::Startup),
            },
        };
        let latency = if self.p.ttfb_in_throughput { 0.0 } else { self.estimator.latency_s().or(ctx.latency_s).unwrap_or(0.0) };
        // Scenario multipliers: quantiles of the ratio window.
        let m = self.p.ratio_window;
        let mut sorted = [0.0; MAX_RATIOS];
        sorted[..m].copy_from_slice(&self.ratios[..m]);
        sorted[..m].sort_by(f64::total_cmp);
        let k = self.p.scenarios;
        let mut mult = [1.0; MAX_SCENARIOS];
        for (j, mm) in mult.iter_mut().enumerate().take(k) {
            let level = ((j as f64 + 0.5) / k as f64 + self.p.quantile_shift).clamp(0.0, 1.0);
            let idx = ((level * m as f64) as usize).min(m - 1);
            *mm = sorted[idx].exp();
        }
        let n = self.rates.len();
        let remaining = ladder.segment_count().saturating_sub(ctx.segment_index);
        let h = if remaining == 0 { self.p.horizon } else { self.p.horizon.min(remaining) };
        let hh = self.p.horizon;
        for (j, mm) in mult.iter().enumerate().take(k) {
            let bw = base * mm * 1000.0;
            for p in 0..h {
                for r in 0..n {
                    self.download_s[(j * h + p) * n + r] = latency + ladder.segment_size_bits(ctx.segment_index + p, r) / bw;
                }
            }
        }
        let _ = hh;
        let tail_segments = if remaining > h { self.p.tail_segments.min(remaining - h) } else { 0 };
        let mut s = Search {
            n,
            h,
            k,
            rates: &self.rates,
            dt: &self.download_s,
            best_tail: &self.best_tail,
            seg: ladder.segment_duration_s(),
            mu: self.rebuffer_penalty,
            lambda: self.smooth_penalty,
            tail_segments,
            tail_weight: self.p.tail_weight,
            threshold: f64::NEG_INFINITY,
            best_value: f64::NEG_INFINITY,
            best_first: 0,
        };
        let last = ctx.last_rendition.map(|q| q.min(n - 1));
        let buffer = ctx.buffer_level_s.max(0.0);
        for r in 0..n {
            let v = s.constant_plan(r, last, buffer);
            s.threshold = s.threshold.max(v);
        }
        s.threshold -= 1e-6;
        let bufs = [buffer; MAX_SCENARIOS];
        s.dfs(0, last, &bufs, 0.0, 0.0, 0.0, 0, self.p.prefer_low_on_ties);
        Decision::now(s.best_first, Reason::Predictive { predicted_kbps: base, objective: s.best_value })
    }

    fn on_download(&mut self, _ctx: &AbrContext<'_>, report: &DownloadReport) {
        let sample = Sample { bits: report.size_bits, ttfb_s: report.ttfb_s, duration_s: report.duration_s, media_s: 0.0 };
        let measured = self.estimator.sample_kbps(&sample);
        if !(measured.is_finite() && measured > 0.0) {
            return;
        }
        if let Some(prev) = self.last_base_kbps {
            let m = self.p.ratio_window;
            self.ratios[self.ratio_pos % m] = (measured / prev).ln();
            self.ratio_pos = (self.ratio_pos + 1) % m;
        }
        self.estimator.add_sample(&sample);
        self.last_base_kbps = self.estimator.throughput_kbps();
    }
}
