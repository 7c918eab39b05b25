//! streamsteer's default rule: scenario MPC (expected-QoE model-predictive control).
//!
//! # What it does
//!
//! Like RobustMPC, the rule plans the next five segments by an exact search over rung
//! plans, scoring each plan by the QoE it would earn (bitrate, rebuffering and switching,
//! with QoE_lin's weights from [`AbrConfig`]), and fetches the first rung of the best
//! plan. It differs in how it treats the future it cannot know, and in what it does at
//! the plan's edges:
//!
//! 1. **A distribution, not a number.** RobustMPC plans against one throughput, the
//!    harmonic mean shrunk by the worst recent error: after one bad prediction it plans
//!    as if the worst case were certain for the next five decisions, and after a calm
//!    spell as if nothing could go wrong. Here every fetch records how wrong the estimate
//!    was, as the ratio `measured / predicted`; the last 20 ratios, fading with a
//!    half-life of five fetches and pooled with four prior ratios (a log-normal spread,
//!    σ = 0.35, so that the first decisions are careful without data), form an empirical
//!    error distribution. A plan is scored by its *expected* QoE over four scenarios drawn
//!    from it (the harmonic-mean estimate times one ratio each). Expected rebuffering is
//!    what the QoE metric averages, so a risky plan is weighed by how likely the danger
//!    is rather than all or nothing; and because old ratios fade, one collapse makes the
//!    rule careful for a while instead of for the whole window.
//! 2. **Caution in the tail.** The scenarios sit at quantile levels 0.075, 0.325, 0.575
//!    and 0.825 (bin centres moved down by 0.05): slightly pessimistic, because a stall
//!    costs several times what a rung is worth, and because each scenario keeps its ratio
//!    for the whole horizon, as real collapses do.
//! 3. **Buffer left at the end of the plan has value.** A five-segment plan otherwise has
//!    no reason to keep buffer after its last segment, drains it, and pays later in
//!    switches and stalls. A soft penalty `μ·w·max(0, T − B_end)² / 2T` on the buffer at
//!    the horizon (per scenario; `w` = 0.1, `T` = 16 s or half the buffer capacity if
//!    smaller) keeps a safety stock against outages longer than the horizon. It is
//!    dropped when the plan reaches the last segment: leftover buffer is then worth
//!    nothing, so the rule spends it.
//! 4. **Stalls priced like the top rung.** QoE_lin's 4.3 per second of rebuffering is
//!    "one second of the top rung" of the 4.3 Mbit/s ladder it was defined on. The
//!    planner uses the larger of the configured penalty and the ladder's top bitrate in
//!    Mbit/s, so on a 35 Mbit/s 4K ladder it does not trade a stall for a rung (on the
//!    Pensieve ladder this changes nothing).
//! 5. **Latency apart from throughput.** Throughput is measured over the transfer alone
//!    and each planned download costs `TTFB + size / throughput`, so short segments and
//!    high-latency links are planned right.
//! 6. **Ties go down.** Of plans scoring the same (e.g. a final up-switch whose bitrate
//!    gain only repays its switching cost), the lower first rung wins: same value, less
//!    risk.
//!
//! # Why it should generalise
//!
//! Nothing is fitted to a trace set: the scenarios come from the session's own
//! prediction errors, everything scales with the ladder (bitrates, segment sizes and
//! durations are read from it), the buffer capacity and the configured QoE weights, and
//! the few constants are round numbers. They were chosen on the even-indexed FCC traces
//! under the Pensieve model and checked on the odd-indexed ones, on the HSDPA traces, and
//! under the Sabre model with the Big Buck Bunny ladders, 3G/4G/FCC traces and 10/25 s
//! buffers.
//!
//! # Speed
//!
//! The search is RobustMPC's branch and bound (see [`super::mpc`]) extended to
//! scenarios. A partial plan is dropped when an upper bound on any completion cannot
//! reach the best plan known: first the best bitrate-minus-switching any tail can earn
//! (precomputed per ladder), then that less the stalls and terminal penalty of the
//! all-lowest completion (which has the highest buffers and the least stalls of any),
//! then a per-position bound using those highest buffers. The best plan known starts as
//! the best of the constant-rung plans and of the previous decision's plan moved on by
//! one segment. Nothing is allocated per decision.

use super::estimator::{Estimator, HarmonicMean, Sample};
use super::{AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, Reason};
use crate::ladder::Ladder;
use serde::{Deserialize, Serialize};

/// Most scenarios a decision may weigh.
pub const MAX_SCENARIOS: usize = 8;
/// Longest horizon accepted.
pub const MAX_HORIZON: usize = 8;
/// Most prediction ratios remembered (and most prior pseudo-ratios).
pub const MAX_RATIOS: usize = 64;

/// Parameters of [`DefaultRule`]; the defaults are the rule as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DefaultParams {
    /// Segments planned ahead (1…[`MAX_HORIZON`]).
    pub horizon: usize,
    /// Throughput scenarios weighed per decision (1…[`MAX_SCENARIOS`]).
    pub scenarios: usize,
    /// Samples in the harmonic-mean base estimate.
    pub harmonic_window: usize,
    /// Prediction ratios remembered (1…[`MAX_RATIOS`]).
    pub ratio_window: usize,
    /// Spread (σ of the natural log) of the prior pseudo-ratios.
    pub prior_sigma: f64,
    /// Prior pseudo-ratios pooled with the observed ones (0…[`MAX_RATIOS`]).
    pub prior_count: usize,
    /// How far the scenario quantile levels are moved down from the bin centres
    /// (0 = unbiased; larger = more pessimistic).
    pub caution: f64,
    /// Weight `w` of the terminal buffer penalty (0 turns it off).
    pub safety_weight: f64,
    /// Buffer `T` below which the terminal penalty applies, seconds.
    pub safety_target_s: f64,
    /// Age (in fetches) at which an observed ratio weighs half (0: no fading).
    pub half_life: f64,
    /// Plan with a rebuffer penalty of at least the top rung's bitrate in Mbit/s per
    /// second (QoE_lin's own rationale for 4.3 on a 4.3 Mbit/s ladder).
    pub penalty_at_least_top: bool,
}

impl Default for DefaultParams {
    fn default() -> Self {
        Self {
            horizon: 5,
            scenarios: 4,
            harmonic_window: 5,
            ratio_window: 20,
            prior_sigma: 0.35,
            prior_count: 4,
            caution: 0.05,
            safety_weight: 0.1,
            safety_target_s: 16.0,
            half_life: 5.0,
            penalty_at_least_top: true,
        }
    }
}

/// The default rule: expected-QoE model-predictive control over throughput scenarios.
#[derive(Debug, Clone)]
pub struct DefaultRule {
    p: DefaultParams,
    rebuffer_penalty: f64,
    smooth_penalty: f64,
    estimator: HarmonicMean,
    /// ln(measured / predicted) ring of observed ratios.
    ratios: [f64; MAX_RATIOS],
    ratio_pos: usize,
    ratio_count: usize,
    /// Prior pseudo-ratios (ln), fixed.
    prior: [f64; MAX_RATIOS],
    /// The estimate after the latest sample: what the next sample is judged against.
    last_estimate_kbps: Option<f64>,
    /// The last decision's plan (rungs), to seed the next search.
    last_plan: [usize; MAX_HORIZON],
    last_plan_len: usize,
    rates: Vec<f64>,
    /// `best_tail[m * n + q]`: best Σ (R − λ|ΔR|)/1000 over `m` segments after rung `q`.
    best_tail: Vec<f64>,
    /// `download_s[(k * h + p) * n + r]` for the current decision.
    download_s: Vec<f64>,
    /// `download_sum[p * n + r]`: the above summed over scenarios.
    download_sum: Vec<f64>,
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative
/// error below 1.2e-9), for the prior's quantiles.
fn norm_inv(p: f64) -> f64 {
    const A: [f64; 6] = [
        -39.696_830_286_653_76,
        220.946_098_424_520_5,
        -275.928_510_446_968_7,
        138.357_751_867_269,
        -30.664_798_066_147_16,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -54.476_098_798_224_06,
        161.585_836_858_040_9,
        -155.698_979_859_886_6,
        66.801_311_887_719_72,
        -13.280_681_552_885_72,
    ];
    const C: [f64; 6] = [
        -0.007_784_894_002_430_293,
        -0.322_396_458_041_136_4,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        0.007_784_695_709_041_462,
        0.322_467_129_070_039_8,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = 0.02425;
    if p < tail {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - tail {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -norm_inv(1.0 - p)
    }
}

impl DefaultRule {
    /// The rule as shipped, with the QoE weights of `config` (`mpc_rebuffer_penalty`,
    /// `mpc_smooth_penalty`).
    pub fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        Self::with_params(config, ladder, DefaultParams::default())
    }

    /// The rule with explicit parameters (out-of-range values are clamped).
    pub fn with_params(config: &AbrConfig, ladder: &Ladder, params: DefaultParams) -> Self {
        let d = DefaultParams::default();
        let finite_or =
            |v: f64, fallback: f64| if v.is_finite() && v >= 0.0 { v } else { fallback };
        let p = DefaultParams {
            horizon: params.horizon.clamp(1, MAX_HORIZON),
            scenarios: params.scenarios.clamp(1, MAX_SCENARIOS),
            harmonic_window: params.harmonic_window.max(1),
            ratio_window: params.ratio_window.clamp(1, MAX_RATIOS),
            prior_sigma: finite_or(params.prior_sigma, d.prior_sigma),
            prior_count: params.prior_count.min(MAX_RATIOS),
            caution: finite_or(params.caution, d.caution).min(1.0),
            safety_weight: finite_or(params.safety_weight, d.safety_weight),
            safety_target_s: finite_or(params.safety_target_s, d.safety_target_s),
            half_life: finite_or(params.half_life, d.half_life),
            penalty_at_least_top: params.penalty_at_least_top,
        };
        let mut prior = [0.0; MAX_RATIOS];
        for (i, r) in prior.iter_mut().take(p.prior_count).enumerate() {
            *r = p.prior_sigma * norm_inv((i as f64 + 0.5) / p.prior_count as f64);
        }
        let mut rule = Self {
            p,
            rebuffer_penalty: finite_or(config.mpc_rebuffer_penalty, 4.3),
            smooth_penalty: finite_or(config.mpc_smooth_penalty, 1.0),
            estimator: HarmonicMean::new(p.harmonic_window),
            ratios: [0.0; MAX_RATIOS],
            ratio_pos: 0,
            ratio_count: 0,
            prior,
            last_estimate_kbps: None,
            last_plan: [0; MAX_HORIZON],
            last_plan_len: 0,
            rates: Vec::new(),
            best_tail: Vec::new(),
            download_s: Vec::new(),
            download_sum: Vec::new(),
        };
        rule.rebuild(ladder.bitrates_kbps());
        rule
    }

    /// The parameters in force.
    pub fn params(&self) -> &DefaultParams {
        &self.p
    }

    fn rebuild(&mut self, rates: &[f64]) {
        let n = rates.len();
        let h = self.p.horizon;
        self.rates = rates.to_vec();
        self.download_s = vec![0.0; MAX_SCENARIOS * h * n];
        self.download_sum = vec![0.0; h * n];
        self.best_tail = vec![0.0; (h + 1) * n];
        for m in 1..=h {
            for q in 0..n {
                let mut best = f64::NEG_INFINITY;
                for r in 0..n {
                    let step = rates[r] / 1000.0
                        - self.smooth_penalty * (rates[r] - rates[q]).abs() / 1000.0
                        + self.best_tail[(m - 1) * n + r];
                    best = best.max(step);
                }
                self.best_tail[m * n + q] = best;
            }
        }
    }

    /// Fills `mult` with the scenario multipliers; returns how many.
    fn scenarios(&self, mult: &mut [f64; MAX_SCENARIOS]) -> usize {
        // (ln ratio, weight): observed ratios fade with age, the prior weighs one each.
        let mut pool = [(0.0, 0.0); 2 * MAX_RATIOS];
        let (nr, pc, m) = (self.ratio_count, self.p.prior_count, self.p.ratio_window);
        let fade = if self.p.half_life > 0.0 { 0.5f64.powf(1.0 / self.p.half_life) } else { 1.0 };
        let mut w = 1.0;
        for (age, entry) in pool.iter_mut().enumerate().take(nr) {
            let slot = (self.ratio_pos + m - 1 - age) % m;
            *entry = (self.ratios[slot], w);
            w *= fade;
        }
        for (entry, &prior) in pool[nr..].iter_mut().zip(&self.prior[..pc]) {
            *entry = (prior, 1.0);
        }
        let total_n = nr + pc;
        let k = self.p.scenarios;
        if total_n == 0 {
            mult[..k].fill(1.0);
            return k;
        }
        let pool = &mut pool[..total_n];
        pool.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = pool.iter().map(|p| p.1).sum();
        for (j, x) in mult.iter_mut().enumerate().take(k) {
            let level = ((j as f64 + 0.5) / k as f64 - self.p.caution).clamp(0.0, 1.0);
            let target = level * total;
            let mut acc = 0.0;
            let mut value = pool[total_n - 1].0;
            for &(v, wt) in pool.iter() {
                acc += wt;
                if acc > target {
                    value = v;
                    break;
                }
            }
            *x = value.exp();
        }
        k
    }
}

/// One decision's search.
struct Search<'a> {
    n: usize,
    h: usize,
    k: usize,
    rates: &'a [f64],
    dt: &'a [f64],
    /// `dsum[p * n + r]`: download time summed over scenarios.
    dsum: &'a [f64],
    best_tail: &'a [f64],
    seg: f64,
    mu: f64,
    lambda: f64,
    /// `μ·w / 2T`, or 0 when the plan reaches the end of the presentation.
    safety_coef: f64,
    safety_target: f64,
    threshold: f64,
    best_value: f64,
    best_first: usize,
    plan: [usize; MAX_HORIZON],
    best_plan: [usize; MAX_HORIZON],
}

/// Slack for rounding in the bound: far above the rounding error of a few dozen
/// additions, far below any real difference between plans.
const EPS: f64 = 1e-9;

type Buffers = [f64; MAX_SCENARIOS];

impl Search<'_> {
    #[inline]
    fn dt(&self, k: usize, p: usize, r: usize) -> f64 {
        self.dt[(k * self.h + p) * self.n + r]
    }

    /// Advances every scenario's buffer by one download at rung `r`, position `p`;
    /// returns the rebuffering summed over scenarios.
    #[inline]
    fn step(&self, bufs: &mut Buffers, p: usize, r: usize) -> f64 {
        let mut reb = 0.0;
        for (k, b) in bufs.iter_mut().enumerate().take(self.k) {
            let d = self.dt(k, p, r);
            if *b < d {
                reb += d - *b;
                *b = self.seg;
            } else {
                *b = *b - d + self.seg;
            }
        }
        reb
    }

    /// Upper bounds on the value of any completion of a plan from position `from` on,
    /// after rung `last`, with buffers `bufs`; `None` as soon as one falls below `floor`
    /// (the caller prunes), else the tighter one.
    ///
    /// Along the all-lowest-rung completion every buffer is as high as any completion
    /// can make it (a buffer after a download only grows with the buffer before and
    /// shrinks with the download time), and its stalls and terminal penalty are the
    /// least any completion can have. So (a) the best bitrate-minus-switching any tail
    /// can earn, less those least stalls and penalty, bounds the tail; and (b) so does
    /// the sum over positions of the best `R − μ·stall` at that position with the buffer
    /// at that highest level (switching ignored; the stalls summed over scenarios
    /// bounded below by the stall of the summed download times), less the penalty.
    #[inline]
    fn tail_bound(&self, from: usize, last: usize, bufs: &Buffers, floor: f64) -> Option<f64> {
        let n = self.n;
        let scale = self.mu / self.k as f64;
        let mut b = *bufs;
        let mut reb = 0.0;
        for p in from..self.h {
            reb += self.step(&mut b, p, 0);
        }
        let terminal = self.terminal_penalty(&b);
        let a = self.best_tail[(self.h - from) * n + last] - scale * reb - terminal;
        if a < floor {
            return None;
        }
        let mut b = *bufs;
        let mut per_position = -terminal;
        for p in from..self.h {
            let total_buffer: f64 = b.iter().take(self.k).sum();
            let mut best = f64::NEG_INFINITY;
            for r in 0..n {
                let stall = (self.dsum[p * n + r] - total_buffer).max(0.0);
                best = best.max(self.rates[r] / 1000.0 - scale * stall);
            }
            per_position += best;
            if p + 1 < self.h {
                self.step(&mut b, p, 0);
            }
        }
        (per_position >= floor).then_some(a.min(per_position))
    }

    #[inline]
    fn terminal_penalty(&self, bufs: &Buffers) -> f64 {
        if self.safety_coef == 0.0 {
            return 0.0;
        }
        let mut s = 0.0;
        for b in bufs.iter().take(self.k) {
            let short = (self.safety_target - b).max(0.0);
            s += short * short;
        }
        self.safety_coef * s / self.k as f64
    }

    #[inline]
    fn value(&self, bsum: f64, ssum: f64, reb_sum: f64, bufs: &Buffers) -> f64 {
        bsum / 1000.0
            - self.lambda * ssum / 1000.0
            - self.mu * reb_sum / self.k as f64
            - self.terminal_penalty(bufs)
    }

    /// Value of a whole plan (used to seed the bound).
    fn plan_value(&self, plan: &[usize], last: Option<usize>, buffer: f64) -> f64 {
        let mut bufs = [buffer; MAX_SCENARIOS];
        let (mut reb, mut bsum, mut ssum) = (0.0, 0.0, 0.0);
        let mut prev = last.unwrap_or(plan[0]);
        for (p, &r) in plan.iter().enumerate() {
            reb += self.step(&mut bufs, p, r);
            bsum += self.rates[r];
            ssum += (self.rates[r] - self.rates[prev]).abs();
            prev = r;
        }
        self.value(bsum, ssum, reb, &bufs)
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs(
        &mut self,
        depth: usize,
        last: Option<usize>,
        bufs: &Buffers,
        reb: f64,
        bsum: f64,
        ssum: f64,
    ) {
        let n = self.n;
        let rem = self.h - depth - 1;
        // Ascending rungs: among equal values the lower first rung is found first and kept.
        for r in 0..n {
            let mut nb = *bufs;
            let nreb = reb + self.step(&mut nb, depth, r);
            let nbs = bsum + self.rates[r];
            let nss = ssum + (self.rates[r] - self.rates[last.unwrap_or(r)]).abs();
            self.plan[depth] = r;
            if rem == 0 {
                let v = self.value(nbs, nss, nreb, &nb);
                if v > self.best_value + EPS {
                    self.best_value = v;
                    self.best_first = self.plan[0];
                    self.best_plan = self.plan;
                    self.threshold = self.threshold.max(v);
                }
                continue;
            }
            let partial =
                nbs / 1000.0 - self.lambda * nss / 1000.0 - self.mu * nreb / self.k as f64;
            // A free bound first (no future stalls), the simulated one only if needed.
            let floor = self.threshold - EPS - partial;
            if self.best_tail[rem * n + r] < floor
                || self.tail_bound(depth + 1, r, &nb, floor).is_none()
            {
                continue;
            }
            self.dfs(depth + 1, Some(r), &nb, nreb, nbs, nss);
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
            // Another ladder than the one the rule was built for: rare, so allocating
            // here is acceptable.
            self.rebuild(ladder.bitrates_kbps());
        }
        let base = match self.estimator.throughput_kbps() {
            Some(b) => b,
            None => match ctx.throughput_kbps {
                Some(t) if t.is_finite() && t > 0.0 => t,
                _ => return Decision::now(0, Reason::Startup),
            },
        };
        let latency = self
            .estimator
            .latency_s()
            .or(ctx.latency_s)
            .filter(|l| l.is_finite())
            .unwrap_or(0.0)
            .max(0.0);
        let mut mult = [1.0; MAX_SCENARIOS];
        let k = self.scenarios(&mut mult);
        let n = self.rates.len();
        let remaining = ladder.segment_count().saturating_sub(ctx.segment_index);
        let h = if remaining == 0 { self.p.horizon } else { self.p.horizon.min(remaining) };
        for (j, m) in mult.iter().enumerate().take(k) {
            let bps = base * m * 1000.0;
            for p in 0..h {
                for r in 0..n {
                    self.download_s[(j * h + p) * n + r] =
                        latency + ladder.segment_size_bits(ctx.segment_index + p, r) / bps;
                }
            }
        }
        for p in 0..h {
            for r in 0..n {
                self.download_sum[p * n + r] =
                    (0..k).map(|j| self.download_s[(j * h + p) * n + r]).sum();
            }
        }
        let mu = if self.p.penalty_at_least_top {
            self.rebuffer_penalty.max(self.rates.last().copied().unwrap_or(0.0) / 1000.0)
        } else {
            self.rebuffer_penalty
        };
        let reaches_end = remaining != 0 && remaining <= h;
        // The safety stock can be at most half of what the player may buffer.
        let cap = if ctx.buffer_max_s.is_finite() && ctx.buffer_max_s > 0.0 {
            ctx.buffer_max_s
        } else {
            f64::INFINITY
        };
        let target = self.p.safety_target_s.min(0.5 * cap);
        let safety_coef = if reaches_end || target <= 0.0 {
            0.0
        } else {
            mu * self.p.safety_weight / (2.0 * target)
        };
        let mut s = Search {
            n,
            h,
            k,
            rates: &self.rates,
            dt: &self.download_s,
            dsum: &self.download_sum,
            best_tail: &self.best_tail,
            seg: ladder.segment_duration_s(),
            mu,
            lambda: self.smooth_penalty,
            safety_coef,
            safety_target: target,
            threshold: f64::NEG_INFINITY,
            best_value: f64::NEG_INFINITY,
            best_first: 0,
            plan: [0; MAX_HORIZON],
            best_plan: [0; MAX_HORIZON],
        };
        let last = ctx.last_rendition.map(|q| q.min(n - 1));
        let buffer = if ctx.buffer_level_s.is_finite() { ctx.buffer_level_s.max(0.0) } else { 0.0 };
        // Seed the bound: constant plans, and the previous plan moved on by one segment.
        let mut seed = [0usize; MAX_HORIZON];
        for r in 0..n {
            seed[..h].fill(r);
            let v = s.plan_value(&seed[..h], last, buffer);
            s.threshold = s.threshold.max(v);
        }
        if self.last_plan_len > 1 {
            let carried = self.last_plan_len - 1;
            for (p, slot) in seed.iter_mut().enumerate().take(h) {
                *slot = self.last_plan[(p + 1).min(carried)].min(n - 1);
            }
            let v = s.plan_value(&seed[..h], last, buffer);
            s.threshold = s.threshold.max(v);
        }
        let bufs = [buffer; MAX_SCENARIOS];
        s.dfs(0, last, &bufs, 0.0, 0.0, 0.0);
        self.last_plan = s.best_plan;
        self.last_plan_len = h;
        Decision::now(
            s.best_first,
            Reason::Predictive { predicted_kbps: base, objective: s.best_value },
        )
    }

    fn on_download(&mut self, _ctx: &AbrContext<'_>, report: &DownloadReport) {
        let sample = Sample {
            bits: report.size_bits,
            ttfb_s: report.ttfb_s,
            duration_s: report.duration_s,
            media_s: 0.0,
        };
        let measured = self.estimator.sample_kbps(&sample);
        if !(measured.is_finite() && measured > 0.0) {
            return;
        }
        if let Some(prev) = self.last_estimate_kbps {
            let m = self.p.ratio_window;
            self.ratios[self.ratio_pos] = (measured / prev).ln();
            self.ratio_pos = (self.ratio_pos + 1) % m;
            self.ratio_count = (self.ratio_count + 1).min(m);
        }
        self.estimator.add_sample(&sample);
        self.last_estimate_kbps = self.estimator.throughput_kbps();
    }

    fn on_seek(&mut self, _segment_index: usize) {
        // The network did not change, but the plan did: do not seed from it.
        self.last_plan_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pensieve_like(segments: usize, jitter: u64) -> Ladder {
        let rates = vec![300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0];
        let mut x = jitter;
        let sizes = (0..segments)
            .map(|_| {
                rates
                    .iter()
                    .map(|r| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let f = 0.7 + 0.6 * ((x >> 11) as f64 / (1u64 << 53) as f64);
                        (r * 4000.0 * f).round()
                    })
                    .collect()
            })
            .collect();
        Ladder::new(rates, 4.0, sizes).unwrap()
    }

    fn ctx(ladder: &Ladder, k: usize, buffer: f64, last: Option<usize>) -> AbrContext<'_> {
        AbrContext {
            ladder,
            segment_index: k,
            buffer_level_s: buffer,
            buffer_max_s: 60.0,
            last_rendition: last,
            throughput_kbps: None,
            latency_s: None,
            now_s: 0.0,
            playing: true,
        }
    }

    fn feed(rule: &mut DefaultRule, ladder: &Ladder, kbps: &[f64]) {
        for (k, &t) in kbps.iter().enumerate() {
            let bits = ladder.segment_size_bits(k, 1);
            let report = DownloadReport {
                segment_index: k,
                rendition: 1,
                size_bits: bits,
                ttfb_s: 0.08,
                duration_s: 0.08 + bits / (t * 1000.0),
                buffer_level_s: 8.0,
                abandoned: false,
            };
            rule.on_download(&ctx(ladder, k, 8.0, Some(1)), &report);
        }
    }

    /// Every plan in ascending order with the search's own replacement rule: what the
    /// branch and bound must reproduce.
    fn brute_force(s: &Search<'_>, last: Option<usize>, buffer: f64) -> (usize, f64) {
        let (n, h) = (s.n, s.h);
        let (mut best, mut first) = (f64::NEG_INFINITY, 0);
        for code in 0..n.pow(h as u32) {
            let mut plan = [0usize; MAX_HORIZON];
            let mut c = code;
            for p in (0..h).rev() {
                plan[p] = c % n;
                c /= n;
            }
            let v = s.plan_value(&plan[..h], last, buffer);
            if v > best + EPS {
                best = v;
                first = plan[0];
            }
        }
        (first, best)
    }

    #[test]
    fn branch_and_bound_finds_the_exhaustive_optimum() {
        let ladder = pensieve_like(30, 3);
        let mut x = 11u64;
        let mut rnd = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let rates = ladder.bitrates_kbps().to_vec();
        let mut rule = DefaultRule::new(&AbrConfig::default(), &ladder);
        for case in 0..400 {
            let (n, h, k) = (rates.len(), 1 + case % 5, 1 + case % 4);
            let first_segment = (rnd() * 20.0) as usize;
            let base = 200.0 + rnd() * 5000.0;
            for j in 0..k {
                let bps = base * (0.3 + 1.2 * rnd()) * 1000.0;
                for p in 0..h {
                    for r in 0..n {
                        rule.download_s[(j * h + p) * n + r] =
                            0.05 + ladder.segment_size_bits(first_segment + p, r) / bps;
                    }
                }
            }
            for p in 0..h {
                for r in 0..n {
                    rule.download_sum[p * n + r] =
                        (0..k).map(|j| rule.download_s[(j * h + p) * n + r]).sum();
                }
            }
            let mut s = Search {
                n,
                h,
                k,
                rates: &rule.rates,
                dt: &rule.download_s,
                dsum: &rule.download_sum,
                best_tail: &rule.best_tail,
                seg: 4.0,
                mu: 4.3,
                lambda: 1.0,
                safety_coef: if case % 3 == 0 { 0.0 } else { 4.3 * 0.1 / 32.0 },
                safety_target: 16.0,
                threshold: f64::NEG_INFINITY,
                best_value: f64::NEG_INFINITY,
                best_first: 0,
                plan: [0; MAX_HORIZON],
                best_plan: [0; MAX_HORIZON],
            };
            let last = if case % 7 == 0 { None } else { Some((rnd() * 6.0) as usize) };
            let buffer = if case % 5 == 0 { 0.0 } else { rnd() * 40.0 };
            let (want_first, want_value) = brute_force(&s, last, buffer);
            s.dfs(0, last, &[buffer; MAX_SCENARIOS], 0.0, 0.0, 0.0);
            assert_eq!(s.best_first, want_first, "case {case}");
            assert!(
                (s.best_value - want_value).abs() < 1e-9,
                "case {case}: {} vs {want_value}",
                s.best_value
            );
        }
    }

    #[test]
    fn no_estimate_means_startup_at_the_lowest_rung() {
        let ladder = pensieve_like(48, 1);
        let mut rule = DefaultRule::new(&AbrConfig::default(), &ladder);
        let d = rule.choose(&ctx(&ladder, 0, 0.0, None));
        assert_eq!(d, Decision::now(0, Reason::Startup));
        // A driver estimate is used when the rule has none of its own.
        let mut c = ctx(&ladder, 0, 0.0, None);
        c.throughput_kbps = Some(50_000.0);
        assert!(rule.choose(&c).rendition > 0);
    }

    #[test]
    fn follows_the_link() {
        let ladder = pensieve_like(48, 2);
        let mut fast = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut fast, &ladder, &[9000.0; 10]);
        let d = fast.choose(&ctx(&ladder, 10, 30.0, Some(5)));
        assert_eq!(d.rendition, 5);
        assert!(
            matches!(d.reason, Reason::Predictive { predicted_kbps, .. } if (predicted_kbps - 9000.0).abs() < 1.0)
        );

        let mut slow = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut slow, &ladder, &[400.0; 10]);
        assert_eq!(slow.choose(&ctx(&ladder, 10, 2.0, Some(0))).rendition, 0);

        // A middling link and buffer: something in between, and never above what the
        // link can carry without draining the buffer into a stall.
        let mut mid = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut mid, &ladder, &[2000.0; 10]);
        let r = mid.choose(&ctx(&ladder, 10, 10.0, Some(2))).rendition;
        assert!((2..=4).contains(&r), "rung {r}");
    }

    #[test]
    fn a_collapse_makes_it_careful_then_fades() {
        let ladder = pensieve_like(60, 4);
        let mut rule = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut rule, &ladder, &[3000.0; 8]);
        let calm = rule.choose(&ctx(&ladder, 8, 12.0, Some(3))).rendition;
        let mut shaken = rule.clone();
        feed(
            &mut shaken,
            &ladder,
            &[3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 3000.0, 300.0, 3000.0],
        );
        let careful = shaken.choose(&ctx(&ladder, 10, 12.0, Some(3))).rendition;
        assert!(careful < calm, "after a collapse {careful} should be below {calm}");
        feed(&mut shaken, &ladder, &[3000.0; 30]);
        let later = shaken.choose(&ctx(&ladder, 40, 12.0, Some(3))).rendition;
        // Once it fades (and more calm samples outweigh the prior) it is back to at
        // least the earlier rung.
        assert!(later >= calm, "the collapse should fade: {later} vs {calm}");
    }

    #[test]
    fn spends_the_buffer_at_the_end_but_never_for_nothing() {
        let ladder = pensieve_like(48, 5);
        let mut rule = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut rule, &ladder, &[1500.0; 10]);
        let mid_video = rule.choose(&ctx(&ladder, 20, 30.0, Some(2))).rendition;
        let near_end = rule.choose(&ctx(&ladder, 45, 30.0, Some(2))).rendition;
        assert!(near_end >= mid_video, "{near_end} vs {mid_video}");
        // The very last segment: an up-switch earns exactly its switching cost back,
        // so it is not worth any risk.
        assert_eq!(rule.choose(&ctx(&ladder, 47, 30.0, Some(2))).rendition, 2);
    }

    #[test]
    fn priced_stalls_follow_the_ladder_top() {
        let ladder =
            Ladder::constant_bitrate(vec![1000.0, 5000.0, 16000.0, 35000.0], 3.0, 100).unwrap();
        let mut rule = DefaultRule::new(&AbrConfig::default(), &ladder);
        feed(&mut rule, &ladder, &[20000.0; 6]);
        let r = rule.choose(&ctx(&ladder, 6, 6.0, Some(2))).rendition;
        assert!(r <= 2, "a 35 Mbit/s rung over a 20 Mbit/s link with 6 s of buffer: {r}");
    }

    #[test]
    fn prior_quantiles_are_symmetric() {
        assert!(norm_inv(0.5).abs() < 1e-9);
        assert!((norm_inv(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((norm_inv(0.01) + norm_inv(0.99)).abs() < 1e-9);
    }

    #[test]
    fn out_of_range_parameters_are_clamped() {
        let ladder = pensieve_like(10, 6);
        let p = DefaultParams {
            horizon: 99,
            scenarios: 0,
            ratio_window: 1000,
            prior_sigma: f64::NAN,
            ..Default::default()
        };
        let rule = DefaultRule::with_params(&AbrConfig::default(), &ladder, p);
        assert_eq!(rule.params().horizon, MAX_HORIZON);
        assert_eq!(rule.params().scenarios, 1);
        assert_eq!(rule.params().ratio_window, MAX_RATIOS);
        assert_eq!(rule.params().prior_sigma, DefaultParams::default().prior_sigma);
    }
}
