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
//! The search is an exact branch and bound over rung plans, for a compile-time number of
//! scenarios (so the per-scenario loops unroll), with every table it needs (download
//! times per position, rung and scenario, and the quickest per position) filled once per
//! decision and nothing allocated. At each node one bound serves all children. Along
//! the completion that always fetches the quickest rung every buffer is as high as any
//! completion can make it (a buffer after a download only grows with the buffer before
//! and shrinks with the download time; the quickest rung need not be the lowest, as
//! segment sizes of real VBR ladders are not always monotone), so each (position, rung)
//! stalls at least as much as it would from those buffers. The terminal penalty, convex
//! in the shortfall `T − B_end` with `B_end` linear in the plan's download times and
//! stalls, is bounded below by its tangent at the best plan known, which makes it a
//! per-(position, rung) cost too. A backward recursion over rungs, switching counted
//! exactly (two linear passes over the sorted rates per position), then bounds the
//! tail for every previous rung at once; each child corrects it for its own buffers
//! (the tangent is linear in them). The recursion keeps only a running maximum on its
//! dependency chains (of `g + C` upwards and `g − C` downwards, `C = λR/1000`), which
//! bounds the per-node cost: a decision visits about 20 nodes on average and 70 in the
//! worst percent. Children are visited best bound first (sorting (bound, rung) pairs,
//! not the children), so the threshold rises early and the rest are cut. The previous
//! decision's plan moved on by one segment seeds the threshold (the constant plans
//! when there is none). Ties between plans worth the same (within rounding) go to the
//! lowest in rung order whatever order they are found in, so the result is that of an
//! exhaustive scan in ascending order (a unit test checks this against enumeration);
//! a subtree that could only tie and comes after the best plan in rung order is
//! skipped, which changes nothing but the time.
//!
//! The search is also *anytime*: it stops after [`ScenarioMpcParams::node_budget`] nodes
//! (48) and takes the best plan found so far (the carried or a constant plan at
//! worst). Most decisions need far fewer (about 20 on average, at 70–80 ns a node);
//! the budget binds in the slowest few percent, mostly the first decision whose plan
//! reaches the end of a video (the terminal penalty drops and many plans nearly tie),
//! where the best plan has usually been found and the rest of the search would only
//! prove it. It bounds a decision's worst case (about 110 nodes, 8 µs, without it) and
//! puts the 99th percentile at about 4.2 µs. The price, on the 580 FCC and HSDPA
//! sessions: 1.8 % of decisions differ from the exact search, and mean QoE_lin moves by
//! −0.5 % (HSDPA) and −0.3 % (FCC) under the Pensieve model, +0.2 % under the Sabre
//! and streamsteer models. With a budget of 0 the search is exact.

use super::estimator::{Estimator, HarmonicMean, Sample};
use super::{AbrConfig, AbrContext, AbrRule, Decision, DownloadReport, FetchProgress, Reason};
use crate::ladder::Ladder;
use serde::{Deserialize, Serialize};

/// Most scenarios a decision may weigh.
pub const MAX_SCENARIOS: usize = 8;
/// Longest horizon accepted.
pub const MAX_HORIZON: usize = 8;
/// Most prediction ratios remembered (and most prior pseudo-ratios).
pub const MAX_RATIOS: usize = 64;
/// [`ScenarioMpcParams::node_budget`] as shipped.
pub const DEFAULT_NODE_BUDGET: usize = 48;

/// Parameters of [`ScenarioMpc`]; the defaults are the rule as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScenarioMpcParams {
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
    /// Most search nodes per decision (0: no limit). The search visits the most
    /// promising plans first, so the best plan is almost always found within a few
    /// dozen nodes and the rest only prove it; the limit bounds a decision's worst case
    /// (see "Speed" in the module docs).
    pub node_budget: usize,
}

impl Default for ScenarioMpcParams {
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
            node_budget: DEFAULT_NODE_BUDGET,
        }
    }
}

/// The default rule: expected-QoE model-predictive control over throughput scenarios.
#[derive(Debug, Clone)]
pub struct ScenarioMpc {
    p: ScenarioMpcParams,
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
    /// `rates / 1000`.
    rate_m: Vec<f64>,
    /// `λ·R_q / 1000`: switching between rungs costs the difference.
    switch_at: Vec<f64>,
    /// `download_s[p * n + r][k]` for the current decision.
    download_s: Vec<Lanes>,
    /// `download_min[p][k]`: the shortest of the above over rungs.
    download_min: Vec<Lanes>,
    /// Per-fetch weight decay of observed ratios (`0.5^(1/half_life)`, or 1).
    fade: f64,
    /// The bound's scratch.
    scratch: Vec<f64>,
    /// The search's visiting order, `MAX_HORIZON × n` (bound, rung).
    order: Vec<(f64, usize)>,
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

impl ScenarioMpc {
    /// The rule as shipped, with the QoE weights of `config` (`mpc_rebuffer_penalty`,
    /// `mpc_smooth_penalty`).
    pub fn new(config: &AbrConfig, ladder: &Ladder) -> Self {
        Self::with_params(config, ladder, ScenarioMpcParams::default())
    }

    /// The rule with explicit parameters (out-of-range values are clamped).
    pub fn with_params(config: &AbrConfig, ladder: &Ladder, params: ScenarioMpcParams) -> Self {
        let d = ScenarioMpcParams::default();
        let finite_or =
            |v: f64, fallback: f64| if v.is_finite() && v >= 0.0 { v } else { fallback };
        let p = ScenarioMpcParams {
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
            node_budget: params.node_budget,
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
            rate_m: Vec::new(),
            switch_at: Vec::new(),
            download_s: Vec::new(),
            download_min: Vec::new(),
            fade: if p.half_life > 0.0 { 0.5f64.powf(1.0 / p.half_life) } else { 1.0 },
            scratch: Vec::new(),
            order: Vec::new(),
        };
        rule.rebuild(ladder.bitrates_kbps());
        rule
    }

    /// The parameters in force.
    pub fn params(&self) -> &ScenarioMpcParams {
        &self.p
    }

    fn rebuild(&mut self, rates: &[f64]) {
        let n = rates.len();
        let h = self.p.horizon;
        self.rates = rates.to_vec();
        self.rate_m = rates.iter().map(|r| r / 1000.0).collect();
        self.switch_at = rates.iter().map(|r| self.smooth_penalty * r / 1000.0).collect();
        self.download_s = vec![[0.0; MAX_SCENARIOS]; h * n];
        self.download_min = vec![[0.0; MAX_SCENARIOS]; h];
        self.scratch = vec![0.0; (MAX_HORIZON + 1) * n];
        self.order = vec![(0.0, 0); MAX_HORIZON * n];
    }

    /// Fills `mult` with the scenario multipliers; returns how many.
    /// The objective's price of a second of rebuffering (per 1000 kbit/s of quality),
    /// at least the top rung's bitrate when the parameters ask for it.
    fn rebuffer_mu(&self) -> f64 {
        if self.p.penalty_at_least_top {
            self.rebuffer_penalty.max(self.rates.last().copied().unwrap_or(0.0) / 1000.0)
        } else {
            self.rebuffer_penalty
        }
    }

    fn scenarios(&self, mult: &mut [f64; MAX_SCENARIOS]) -> usize {
        // (ln ratio, weight): observed ratios fade with age, the prior weighs one each.
        let mut pool = [(0.0, 0.0); 2 * MAX_RATIOS];
        let (nr, pc, m) = (self.ratio_count, self.p.prior_count, self.p.ratio_window);
        let fade = self.fade;
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

/// Fills `dt[p * n + r][k]`, the time to download rung `r` at position `p` (segment
/// `first + p`) in scenario `k` (`latency + size / bps[k]`), and `dmin[p][k]`, the
/// shortest over rungs; `n` is the ladder's length. Scenarios innermost, so that the
/// divisions vectorise.
#[allow(clippy::needless_range_loop)]
///
/// With `DYN`, only the first `k` of the `K` lanes are filled (`k` ≤ `K`); without it,
/// `k` is ignored and all `K` are (see [`Search`]).
#[allow(clippy::too_many_arguments)]
fn fill_downloads<const K: usize, const DYN: bool>(
    dt: &mut [Lanes],
    dmin: &mut [Lanes],
    ladder: &Ladder,
    first: usize,
    h: usize,
    latency: f64,
    bps: &Lanes,
    k: usize,
) {
    let n = ladder.len();
    let lanes = if DYN { k } else { K };
    for (p, quick) in dmin.iter_mut().enumerate().take(h) {
        let mut quickest = [f64::INFINITY; K];
        for (r, row) in dt[p * n..(p + 1) * n].iter_mut().enumerate() {
            let size = ladder.segment_size_bits(first + p, r);
            for k in 0..lanes {
                let d = latency + size / bps[k];
                row[k] = d;
                quickest[k] = quickest[k].min(d);
            }
        }
        quick[..K].copy_from_slice(&quickest);
    }
}

/// One decision's search, for `K` scenarios (a compile-time constant so that the
/// per-scenario loops unroll and vectorise).
///
/// With `DYN` (the `compact-abr` build), `K` is only the lanes' capacity and the
/// search covers the first `k` scenarios, counted at run time: one instance of the
/// search instead of one per scenario count, the same arithmetic in the same order
/// (so the same decisions, bit for bit; tested), with loops that no longer unroll.
struct Search<'a, const K: usize, const DYN: bool = false> {
    /// The scenarios searched when `DYN` (otherwise `K`, which it equals).
    k: usize,
    n: usize,
    h: usize,
    rates: &'a [f64],
    /// `rates / 1000`, for the bounds.
    rate_m: &'a [f64],
    /// `switch_at[q] = λ·R_q / 1000`, for the bounds.
    switch_at: &'a [f64],
    /// `dt[p * n + r][k]`: download time of rung `r` at position `p` in scenario `k`.
    dt: &'a [Lanes],
    /// `dmin[p][k]`: the shortest download time at position `p` in scenario `k`.
    dmin: &'a [Lanes],
    /// Scratch for the bound's recursion: a row of `n` per depth, and one more.
    scratch: &'a mut [f64],
    /// `order[depth * n ..]`: the surviving children of the node at `depth` as
    /// (bound, rung), best first. A child's buffers are computed again when it is
    /// visited: most are cut before, and storing them costs more than that.
    order: &'a mut [(f64, usize)],
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
    /// Each scenario's terminal shortfall `T − B_end` under the best plan known.
    x0: Lanes,
    /// Nodes the search may still visit.
    nodes_left: usize,
}

/// Slack for rounding in the bound: far above the rounding error of a few dozen
/// additions, far below any real difference between plans.
const EPS: f64 = 1e-9;
/// Seconds of a fetch's body before its rate is trusted for abandoning it: no sooner
/// than the session judges whether the pathway starves it (a CDN failing is left for
/// another CDN at the same rung, before the rung is given up).
const ABANDON_AFTER_S: f64 = 1.0;
/// ... and no sooner than this share of the buffer level has passed in the fetch.
const ABANDON_AFTER_BUFFER_SHARE: f64 = 0.25;

/// One value per scenario.
type Lanes = [f64; MAX_SCENARIOS];

/// `a.max(b)` for the bound, without `f64::max`'s NaN handling (which puts a compare
/// and three mask operations on the bound recursion's dependency chain).
#[inline(always)]
fn fmax(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

// Lanes are indexed in step across several arrays, up to the constant `K`: index loops
// say that more plainly than zipped iterators, and unroll just as well.
#[allow(clippy::needless_range_loop)]
impl<const K: usize, const DYN: bool> Search<'_, K, DYN> {
    /// The number of scenarios searched: `K`, or `k` when `DYN`.
    #[inline(always)]
    fn lanes(&self) -> usize {
        if DYN { self.k } else { K }
    }

    /// Advances every scenario's buffer by one download taking `d`; returns the
    /// rebuffering summed over scenarios.
    #[inline(always)]
    fn advance(&self, bufs: &mut Lanes, d: &Lanes) -> f64 {
        let mut reb = 0.0;
        for k in 0..self.lanes() {
            // Branch-free, and bit for bit `if b < d { stall d − b, buffer = seg }`.
            reb += (d[k] - bufs[k]).max(0.0);
            bufs[k] = (bufs[k] - d[k]).max(0.0) + self.seg;
        }
        reb
    }

    /// [`Self::advance`] for rung `r` at position `p`.
    #[inline(always)]
    fn step(&self, bufs: &mut Lanes, p: usize, r: usize) -> f64 {
        self.advance(bufs, &self.dt[p * self.n + r])
    }

    /// Fills `out[q]` with an upper bound on what positions `from..h` can add to a plan
    /// whose rung at `from − 1` is `q` and whose buffers before `from` are at most `bufs`.
    ///
    /// A buffer after a download only grows with the buffer before and shrinks with the
    /// download time, so along the completion that always fetches the quickest rung
    /// every buffer is as high as any completion can make it: `hb[p]`. Then at position
    /// `p` rung `r` stalls at least `Σₖ max(0, dt − hb[p])`, and the terminal penalty is
    /// at least that of the final `hb`. The bound is the best rung path under those
    /// least stalls, with switching counted exactly: a backward recursion whose
    /// `max_r g(r) − λ|R_r − R_q|` step takes two linear passes over the sorted rates.
    #[inline]
    fn tail_bounds(&mut self, from: usize, bufs: &Lanes, out_at: usize) -> [f64; K] {
        let (n, h, lanes) = (self.n, self.h, self.lanes());
        let scale = self.mu / lanes as f64;
        let mut hb = [[0.0; K]; MAX_HORIZON];
        let mut b = *bufs;
        for p in from..h {
            hb[p].copy_from_slice(&b[..K]);
            self.advance(&mut b, &self.dmin[p]);
        }
        // Terminal penalty: c·x₊² per scenario, x = T − B_end the shortfall, bounded below
        // by its tangent at x₀ (convexity). Writing B_end = b + Σ(seg − d) + S (a stall S
        // refills what it did not drain), the tangent is linear in the download times and
        // the stalls, so it adds a per-(position, rung) cost: the plan's stalls weigh
        // (μ − 2c·x₀)/K (≥ 0: a stall still costs more than the buffer it leaves) and its
        // download times 2c·x₀/K. x₀ is the incumbent plan's shortfall, which makes the
        // bound tight near the plans that are hard to prune, and at least the quickest
        // completion's, below which no plan's shortfall goes.
        let mut coef_s = [scale; K];
        let mut coef_d = [0.0; K];
        let mut constant = 0.0;
        let c = self.safety_coef;
        if c > 0.0 {
            let t = self.safety_target;
            let x_max = t.min(self.mu / (2.0 * c));
            let drained = t - (h - from) as f64 * self.seg;
            for k in 0..lanes {
                let x = self.x0[k].max(t - b[k]).clamp(0.0, x_max);
                coef_d[k] = 2.0 * c * x / lanes as f64;
                coef_s[k] = scale - coef_d[k];
                constant += c * x * x / lanes as f64 - coef_d[k] * (drained - bufs[k]);
            }
        }
        let (head, tmp) = self.scratch.split_at_mut(MAX_HORIZON * n);
        let v = &mut head[out_at * n..(out_at + 1) * n];
        let g = &mut tmp[..n];
        v.fill(constant);
        let dt = &self.dt[..h * n];
        let (rate_m, at) = (&self.rate_m[..n], &self.switch_at[..n]);
        for p in (from..h).rev() {
            let hp = &hb[p];
            // v[q] = max_r g[r] − |C_r − C_q| with C = λR/1000: the best r ≤ q is the
            // running max of g + C (less C_q), computed on the way up with g; the best
            // r ≥ q that of g − C on the way down. Only a max is on each dependency
            // chain, and a plain compare stands in for `f64::max` (whose NaN handling
            // adds four operations to it; the running maxima start at −∞ and only take
            // finite values or −∞). The bound's rounding differs from a plan's value by
            // far less than `EPS`.
            let mut up = f64::NEG_INFINITY;
            for q in 0..n {
                let d = &dt[p * n + q];
                let mut cost = 0.0;
                for k in 0..lanes {
                    cost += coef_s[k] * fmax(d[k] - hp[k], 0.0) + coef_d[k] * d[k];
                }
                let gq = rate_m[q] - cost + v[q];
                g[q] = gq;
                up = fmax(up, gq + at[q]);
                v[q] = up - at[q];
            }
            let mut down = f64::NEG_INFINITY;
            for q in (0..n).rev() {
                down = fmax(down, g[q] - at[q]);
                v[q] = fmax(v[q], down + at[q]);
            }
        }
        coef_d
    }

    #[inline]
    fn terminal_penalty(&self, bufs: &Lanes) -> f64 {
        if self.safety_coef == 0.0 {
            return 0.0;
        }
        let mut s = 0.0;
        for b in bufs.iter().take(self.lanes()) {
            let short = (self.safety_target - b).max(0.0);
            s += short * short;
        }
        self.safety_coef * s / self.lanes() as f64
    }

    #[inline]
    fn value(&self, bsum: f64, ssum: f64, reb_sum: f64, bufs: &Lanes) -> f64 {
        bsum / 1000.0
            - self.lambda * ssum / 1000.0
            - self.mu * reb_sum / self.lanes() as f64
            - self.terminal_penalty(bufs)
    }

    /// Value of a whole plan and its final buffers.
    fn plan_outcome(&self, plan: &[usize], last: Option<usize>, buffer: f64) -> (f64, Lanes) {
        let mut bufs = [buffer; MAX_SCENARIOS];
        let (mut reb, mut bsum, mut ssum) = (0.0, 0.0, 0.0);
        let mut prev = last.unwrap_or(plan[0]);
        for (p, &r) in plan.iter().enumerate() {
            reb += self.step(&mut bufs, p, r);
            bsum += self.rates[r];
            ssum += (self.rates[r] - self.rates[prev]).abs();
            prev = r;
        }
        (self.value(bsum, ssum, reb, &bufs), bufs)
    }

    fn set_incumbent(&mut self, final_buffers: &Lanes) {
        for k in 0..self.lanes() {
            self.x0[k] = self.safety_target - final_buffers[k];
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn dfs(
        &mut self,
        depth: usize,
        last: Option<usize>,
        bufs: &Lanes,
        reb: f64,
        bsum: f64,
        ssum: f64,
    ) {
        let n = self.n;
        if self.nodes_left == 0 {
            return;
        }
        self.nodes_left -= 1;
        let rem = self.h - depth - 1;
        let mut hb = *bufs;
        let mut coef_d = [0.0; K];
        if rem > 0 {
            // One bound for every child: their buffers are at most those after the
            // quickest download here.
            self.advance(&mut hb, &self.dmin[depth]);
            coef_d = self.tail_bounds(depth + 1, &hb, depth);
        }
        if rem == 0 {
            for r in 0..n {
                let mut nb = *bufs;
                let nreb = reb + self.step(&mut nb, depth, r);
                let nbs = bsum + self.rates[r];
                let nss = ssum + (self.rates[r] - self.rates[last.unwrap_or(r)]).abs();
                self.plan[depth] = r;
                let v = self.value(nbs, nss, nreb, &nb);
                // Of plans worth the same (within rounding), the lowest in rung order
                // wins whatever order they are found in: same value, less risk.
                if v > self.best_value + EPS
                    || (v >= self.best_value - EPS
                        && self.plan[..=depth] < self.best_plan[..=depth])
                {
                    self.best_value = v;
                    self.best_first = self.plan[0];
                    self.best_plan = self.plan;
                    self.threshold = self.threshold.max(v);
                    self.set_incumbent(&nb);
                }
            }
            return;
        }
        let base = depth * n;
        let scale = self.mu / self.lanes() as f64;
        let mut m = 0;
        for r in 0..n {
            let mut nb = *bufs;
            let nreb = reb + self.step(&mut nb, depth, r);
            let partial = (bsum + self.rates[r]) * 1e-3
                - self.lambda
                    * 1e-3
                    * (ssum + (self.rates[r] - self.rates[last.unwrap_or(r)]).abs())
                - scale * nreb;
            // The bound's terminal term is linear in the buffer the tail starts from:
            // correct it for this child's own (lower) buffers.
            let mut drained = 0.0;
            for k in 0..self.lanes() {
                drained += coef_d[k] * (hb[k] - nb[k]);
            }
            // Every child's bound first, without branches, so that they pipeline; the
            // row of tail bounds is not needed after.
            self.scratch[base + r] = partial + self.scratch[base + r] - drained;
        }
        let cut = self.threshold - EPS;
        for r in 0..n {
            let bound = self.scratch[base + r];
            if bound < cut {
                continue;
            }
            // Insert in descending bound order (ties keep ascending rungs).
            let mut i = m;
            while i > 0 && self.order[base + i - 1].0 < bound {
                self.order[base + i] = self.order[base + i - 1];
                i -= 1;
            }
            self.order[base + i] = (bound, r);
            m += 1;
        }
        // Most promising first, so that the threshold rises early and prunes the rest.
        for i in 0..m {
            let (bound, r) = self.order[base + i];
            if bound < self.threshold - EPS {
                break;
            }
            // A plan can only replace the best known by being worth more (beyond
            // rounding) or by tying and coming first in rung order. Below the best
            // value plus rounding and after the best plan in rung order, none in this
            // subtree can do either (and as none is taken, the best stays the same
            // while it would be searched): plans tying at the end of a video are many.
            if bound <= self.best_value + EPS
                && (&self.plan[..depth], r) > (&self.best_plan[..depth], self.best_plan[depth])
            {
                continue;
            }
            let mut nb = *bufs;
            let nreb = reb + self.step(&mut nb, depth, r);
            self.plan[depth] = r;
            let nbs = bsum + self.rates[r];
            let nss = ssum + (self.rates[r] - self.rates[last.unwrap_or(r)]).abs();
            self.dfs(depth + 1, Some(r), &nb, nreb, nbs, nss);
        }
    }

    /// True when no plan can stall in any scenario: even the slowest download at every
    /// position finds enough buffer, along the path that drains the buffer most (a
    /// buffer only grows with the one before, so every other plan has more).
    fn never_stalls(&self, buffer: f64) -> bool {
        let n = self.n;
        for k in 0..self.lanes() {
            let mut b = buffer;
            for p in 0..self.h {
                let slowest = self.dt[p * n..(p + 1) * n].iter().fold(0.0, |m: f64, d| m.max(d[k]));
                if slowest > b {
                    return false;
                }
                b = b - slowest + self.seg;
            }
        }
        true
    }

    /// The search when plans differ only in bitrate and switching (no stall can
    /// happen and the terminal penalty is off, as at the end of a video with a full
    /// buffer). The value is then a sum over consecutive rung pairs, so a backward
    /// recursion over (position, previous rung) is exact in `h·n²` steps. This is
    /// where the branch and bound was slowest: with nothing at risk, many ramp-up plans
    /// tie (an up-switch at the last position repays exactly its switching cost) and
    /// none can be cut. Walking forward, the lowest rung within rounding of the best
    /// continuation is taken, which is the plan the exhaustive ascending scan keeps.
    fn switching_only(self, last: Option<usize>) -> (usize, f64, [usize; MAX_HORIZON]) {
        let (n, h) = (self.n, self.h);
        let (rate_m, at) = (self.rate_m, self.switch_at);
        // v[p * n + q]: the best value of positions p..h after rung q at p − 1.
        let v = &mut self.scratch[..(h + 1) * n];
        v[h * n..].fill(0.0);
        for p in (0..h).rev() {
            let (now, next) = v.split_at_mut((p + 1) * n);
            for q in 0..n {
                let mut best = f64::NEG_INFINITY;
                for r in 0..n {
                    best = fmax(best, rate_m[r] - (at[r] - at[q]).abs() + next[r]);
                }
                now[p * n + q] = best;
            }
        }
        let mut plan = [0; MAX_HORIZON];
        let mut prev = last;
        let mut value = 0.0;
        for p in 0..h {
            let gain = |r: usize| {
                let switch = prev.map_or(0.0, |q| (at[r] - at[q]).abs());
                rate_m[r] - switch + v[(p + 1) * n + r]
            };
            let best = (0..n).map(gain).fold(f64::NEG_INFINITY, fmax);
            let r = (0..n).find(|&r| gain(r) >= best - EPS).unwrap_or(0);
            if p == 0 {
                value = best;
            }
            plan[p] = r;
            prev = Some(r);
        }
        (plan[0], value, plan)
    }

    /// Takes `plan` as the best known if it is worth more than the best so far: it sets
    /// the threshold, the terminal penalty's tangent point, and the answer should the
    /// node budget run out. (As the best known, it also settles ties the way the
    /// exhaustive scan would: a plan worth the same replaces it only if earlier in
    /// rung order.)
    fn seed(&mut self, plan: &[usize], last: Option<usize>, buffer: f64) {
        let (v, b) = self.plan_outcome(plan, last, buffer);
        if v > self.threshold {
            self.threshold = v;
            self.set_incumbent(&b);
            self.best_value = v;
            self.best_first = plan[0];
            self.best_plan[..plan.len()].copy_from_slice(plan);
        }
    }

    /// Seeds the bound with `carried` (or, without one, the constant plans), then
    /// searches; returns the first rung, the best value and the best plan.
    fn run(
        mut self,
        last: Option<usize>,
        buffer: f64,
        carried: Option<&[usize]>,
    ) -> (usize, f64, [usize; MAX_HORIZON]) {
        let h = self.h;
        if self.safety_coef == 0.0 && self.never_stalls(buffer) {
            return self.switching_only(last);
        }
        if let Some(plan) = carried {
            self.seed(&plan[..h], last, buffer);
        }
        if carried.is_none() {
            // Without a previous plan, the constant plans give a threshold to start from.
            for r in 0..self.n {
                self.seed(&[r; MAX_HORIZON][..h], last, buffer);
            }
        }
        self.dfs(0, last, &[buffer; MAX_SCENARIOS], 0.0, 0.0, 0.0);
        (self.best_first, self.best_value, self.best_plan)
    }
}

impl AbrRule for ScenarioMpc {
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
        let mut bps = [0.0; MAX_SCENARIOS];
        for (b, m) in bps.iter_mut().zip(&mult).take(k) {
            *b = base * m * 1000.0;
        }
        let mu = self.rebuffer_mu();
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
        let last = ctx.last_rendition.map(|q| q.min(n - 1));
        let buffer = if ctx.buffer_level_s.is_finite() { ctx.buffer_level_s.max(0.0) } else { 0.0 };
        // Seed the bound with the previous plan moved on by one segment.
        let mut carried = [0usize; MAX_HORIZON];
        let has_carried = self.last_plan_len > 1;
        if has_carried {
            let kept = self.last_plan_len - 1;
            for (p, slot) in carried.iter_mut().enumerate().take(h) {
                *slot = self.last_plan[(p + 1).min(kept)].min(n - 1);
            }
        }
        let carried = has_carried.then_some(&carried[..]);
        macro_rules! search {
            ($lanes:literal, $dyn:literal) => {{
                fill_downloads::<$lanes, $dyn>(
                    &mut self.download_s,
                    &mut self.download_min,
                    ladder,
                    ctx.segment_index,
                    h,
                    latency,
                    &bps,
                    k,
                );
                Search::<$lanes, $dyn> {
                    k,
                    n,
                    h,
                    rates: &self.rates,
                    rate_m: &self.rate_m,
                    switch_at: &self.switch_at,
                    dt: &self.download_s,
                    dmin: &self.download_min,
                    scratch: &mut self.scratch,
                    order: &mut self.order,
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
                    x0: [0.0; MAX_SCENARIOS],
                    nodes_left: match self.p.node_budget {
                        0 => usize::MAX,
                        b => b,
                    },
                }
                .run(last, buffer, carried)
            }};
        }
        // One search for every scenario count in a `compact-abr` build; otherwise one
        // instance per count, with loops unrolled to it.
        let (first, objective, plan) = if cfg!(feature = "compact-abr") {
            search!(8, true)
        } else {
            match k {
                1 => search!(1, false),
                2 => search!(2, false),
                3 => search!(3, false),
                4 => search!(4, false),
                5 => search!(5, false),
                6 => search!(6, false),
                7 => search!(7, false),
                _ => search!(8, false),
            }
        };
        self.last_plan = plan;
        self.last_plan_len = h;
        Decision::now(first, Reason::Predictive { predicted_kbps: base, objective })
    }
    fn on_download(&mut self, _ctx: &AbrContext<'_>, report: &DownloadReport) {
        let sample = Sample::from(report);
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

    /// The plan assumed a throughput the link no longer gives (it collapsed during
    /// the fetch): when the rest of this segment, at the rate it is arriving, would
    /// land after the buffer runs out, or leave too little buffer for the next segment
    /// even at the lowest rung at that rate, it is given up for the lower rung that
    /// scores best in the rule's own objective (quality, minus the switch from the
    /// previous segment, minus the rebuffering of this segment and the next one at
    /// that rate), if that beats keeping it. A dip that costs a little rebuffering
    /// keeps the rung; a collapse that would stall for seconds does not.
    fn check_abandon(&mut self, ctx: &AbrContext<'_>, p: &FetchProgress) -> Option<usize> {
        if !ctx.playing || p.rendition == 0 {
            return None;
        }
        let transfer = p.elapsed_s - p.ttfb_s?;
        let buffer = ctx.buffer_level_s;
        // A second of a mobile link can carry next to nothing and the next one plenty:
        // the rate is judged over a stretch that grows with the buffer at stake.
        let judged_after = ABANDON_AFTER_S.max(buffer * ABANDON_AFTER_BUFFER_SHARE);
        if transfer < judged_after || !(p.downloaded_bits > 0.0 && p.size_bits > 0.0) {
            return None;
        }
        let rate_bps = p.downloaded_bits / transfer;
        let left_s = (p.size_bits - p.downloaded_bits).max(0.0) / rate_bps;
        let ladder = ctx.ladder;
        let rates = ladder.bitrates_kbps();
        let current = p.rendition.min(rates.len() - 1);
        let latency = ctx.latency_s.filter(|l| l.is_finite()).unwrap_or(0.0).max(0.0);
        // The ladder's sizes, scaled to what this segment really weighs.
        let scale = p.size_bits / ladder.segment_size_bits(p.segment_index, current).max(1.0);
        let seg_s = ladder.segment_duration_s();
        // The next segment, at the lowest rung and this rate, whichever way this goes.
        let next_s = if p.segment_index + 1 < ladder.segment_count() {
            latency + ladder.segment_size_bits(p.segment_index + 1, 0) * scale / rate_bps
        } else {
            0.0
        };
        // Stall of this fetch landing after `fetch_s`, plus the next one's.
        let stalls = |fetch_s: f64| {
            let first = (fetch_s - buffer).max(0.0);
            let after = (buffer - fetch_s).max(0.0) + seg_s;
            first + (next_s - after).max(0.0)
        };
        if stalls(left_s) <= 0.0 {
            return None;
        }
        let mu = self.rebuffer_mu();
        let prev = rates[ctx.last_rendition.unwrap_or(current).min(rates.len() - 1)] / 1000.0;
        let score = |r: usize, stall_s: f64| {
            let q = rates[r] / 1000.0;
            q - (q - prev).abs() - mu * stall_s.max(0.0)
        };
        let keep = score(current, stalls(left_s));
        let (best, best_score) = (0..current)
            .map(|r| {
                let fetch_s =
                    latency + ladder.segment_size_bits(p.segment_index, r) * scale / rate_bps;
                (r, score(r, stalls(fetch_s)))
            })
            .fold((current, keep), |b, c| if c.1 > b.1 { c } else { b });
        (best < current && best_score > keep).then_some(best)
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

    fn feed(rule: &mut ScenarioMpc, ladder: &Ladder, kbps: &[f64]) {
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

    /// Every plan in ascending order, keeping a later one only if it is worth more
    /// (beyond rounding): what the branch and bound must reproduce.
    fn brute_force<const K: usize>(
        s: &Search<'_, K>,
        last: Option<usize>,
        buffer: f64,
    ) -> (usize, f64) {
        let (n, h) = (s.n, s.h);
        let (mut best, mut first) = (f64::NEG_INFINITY, 0);
        for code in 0..n.pow(h as u32) {
            let mut plan = [0usize; MAX_HORIZON];
            let mut c = code;
            for p in (0..h).rev() {
                plan[p] = c % n;
                c /= n;
            }
            let v = s.plan_outcome(&plan[..h], last, buffer).0;
            if v > best + EPS {
                best = v;
                first = plan[0];
            }
        }
        (first, best)
    }

    /// One random decision, searched and enumerated with `K` scenarios.
    #[allow(clippy::needless_range_loop)]
    fn exhaustive_case<const K: usize>(
        rule: &mut ScenarioMpc,
        case: usize,
        rnd: &mut dyn FnMut() -> f64,
    ) {
        let n = rule.rates.len();
        let h = 1 + case % 5;
        // Sizes per (position, rung) around the nominal rate, spread enough that a
        // higher rung is sometimes smaller than a lower one (as in real VBR ladders).
        let mut sizes = [[0.0; 16]; MAX_HORIZON];
        for row in sizes.iter_mut().take(h) {
            for (r, size) in row.iter_mut().enumerate().take(n) {
                *size = rule.rates[r] * 4000.0 * (0.4 + 1.2 * rnd());
            }
        }
        // Now and then a link so fast that nothing stalls: many plans then tie exactly
        // (an up-switch repays its switching cost), which the tie rule must settle.
        let base = if case.is_multiple_of(11) { 1e6 } else { 200.0 + rnd() * 5000.0 };
        for j in 0..K {
            let bps = base * (0.3 + 1.2 * rnd()) * 1000.0;
            for p in 0..h {
                let mut quickest = f64::INFINITY;
                for r in 0..n {
                    let d = 0.05 + sizes[p][r] / bps;
                    rule.download_s[p * n + r][j] = d;
                    quickest = quickest.min(d);
                }
                rule.download_min[p][j] = quickest;
            }
        }
        // The search as a `compact-abr` build runs it: all lanes' capacity, `K` used.
        macro_rules! search {
            ($lanes:expr, $dyn:literal) => {
                Search::<{ $lanes }, $dyn> {
                    k: K,
                    n,
                    h,
                    rates: &rule.rates,
                    rate_m: &rule.rate_m,
                    switch_at: &rule.switch_at,
                    dt: &rule.download_s,
                    dmin: &rule.download_min,
                    scratch: &mut rule.scratch,
                    order: &mut rule.order,
                    seg: 4.0,
                    mu: 4.3,
                    lambda: 1.0,
                    safety_coef: if case.is_multiple_of(3) { 0.0 } else { 4.3 * 0.1 / 32.0 },
                    safety_target: 16.0,
                    threshold: f64::NEG_INFINITY,
                    best_value: f64::NEG_INFINITY,
                    best_first: 0,
                    plan: [0; MAX_HORIZON],
                    best_plan: [0; MAX_HORIZON],
                    x0: [0.0; MAX_SCENARIOS],
                    nodes_left: usize::MAX,
                }
            };
        }
        let s = search!(K, false);
        let last = if case.is_multiple_of(7) { None } else { Some((rnd() * n as f64) as usize) };
        let buffer = if case.is_multiple_of(5) { 0.0 } else { rnd() * 40.0 };
        let carried = [(rnd() * n as f64) as usize; MAX_HORIZON];
        let (want_first, want_value) = brute_force(&s, last, buffer);
        let carried = case.is_multiple_of(2).then_some(&carried[..]);
        let (first, value, plan) = s.run(last, buffer, carried);
        assert_eq!(first, want_first, "case {case}");
        assert!((value - want_value).abs() < 1e-9, "case {case}: {value} vs {want_value}");
        // The run-time lane count decides the same, bit for bit.
        let (dyn_first, dyn_value, dyn_plan) =
            search!(MAX_SCENARIOS, true).run(last, buffer, carried);
        assert_eq!(
            (dyn_first, dyn_value.to_bits(), dyn_plan),
            (first, value.to_bits(), plan),
            "case {case}"
        );
    }

    #[test]
    fn branch_and_bound_finds_the_exhaustive_optimum() {
        let ladder = pensieve_like(30, 3);
        let mut x = 11u64;
        let mut rnd = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &ladder);
        for case in 0..600 {
            match case % 4 {
                0 => exhaustive_case::<1>(&mut rule, case, &mut rnd),
                1 => exhaustive_case::<2>(&mut rule, case, &mut rnd),
                2 => exhaustive_case::<4>(&mut rule, case, &mut rnd),
                _ => exhaustive_case::<8>(&mut rule, case, &mut rnd),
            }
        }
    }

    #[test]
    fn no_estimate_means_startup_at_the_lowest_rung() {
        let ladder = pensieve_like(48, 1);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &ladder);
        let d = rule.choose(&ctx(&ladder, 0, 0.0, None));
        assert_eq!(d, Decision::now(0, Reason::Startup));
        // A driver estimate is used when the rule has none of its own.
        let mut c = ctx(&ladder, 0, 0.0, None);
        c.throughput_kbps = Some(50_000.0);
        assert!(rule.choose(&c).rendition > 0);
    }

    #[test]
    fn the_node_budget_bounds_the_search_and_never_beats_the_exact_one() {
        let ladder = pensieve_like(48, 4);
        let objective = |d: Decision| match d.reason {
            Reason::Predictive { objective, .. } => objective,
            other => panic!("{other:?}"),
        };
        let kbps = [1800.0, 900.0, 2600.0, 700.0, 3100.0, 1500.0, 2200.0, 600.0];
        let mut worse_with_one_node = 0;
        for budget in [1, 2, 8, 48] {
            let params = ScenarioMpcParams { node_budget: budget, ..ScenarioMpcParams::default() };
            let mut cut = ScenarioMpc::with_params(&AbrConfig::default(), &ladder, params);
            let exact_params = ScenarioMpcParams { node_budget: 0, ..ScenarioMpcParams::default() };
            let mut exact = ScenarioMpc::with_params(&AbrConfig::default(), &ladder, exact_params);
            feed(&mut cut, &ladder, &kbps);
            feed(&mut exact, &ladder, &kbps);
            for (k, buffer) in [(8, 3.0), (20, 12.0), (40, 25.0), (43, 18.0)] {
                let c = ctx(&ladder, k, buffer, Some(2));
                let (dc, de) = (cut.choose(&c), exact.choose(&c));
                assert!(dc.rendition < ladder.len());
                // The cut search returns a plan it evaluated: worth at most the best.
                let (oc, oe) = (objective(dc), objective(de));
                assert!(oc.is_finite() && oc <= oe + 1e-9, "budget {budget}: {oc} > {oe}");
                if budget == 1 && oc < oe - 1e-9 {
                    worse_with_one_node += 1;
                }
                if budget >= 48 {
                    // Plenty for these: the same answer.
                    assert_eq!(dc.rendition, de.rendition, "budget {budget} at {k}");
                }
            }
        }
        // One node is not enough to find the best plan everywhere: the budget binds.
        assert!(worse_with_one_node > 0);
    }

    #[test]
    fn follows_the_link() {
        let ladder = pensieve_like(48, 2);
        let mut fast = ScenarioMpc::new(&AbrConfig::default(), &ladder);
        feed(&mut fast, &ladder, &[9000.0; 10]);
        let d = fast.choose(&ctx(&ladder, 10, 30.0, Some(5)));
        assert_eq!(d.rendition, 5);
        assert!(
            matches!(d.reason, Reason::Predictive { predicted_kbps, .. } if (predicted_kbps - 9000.0).abs() < 1.0)
        );

        let mut slow = ScenarioMpc::new(&AbrConfig::default(), &ladder);
        feed(&mut slow, &ladder, &[400.0; 10]);
        assert_eq!(slow.choose(&ctx(&ladder, 10, 2.0, Some(0))).rendition, 0);

        // A middling link and buffer: something in between, and never above what the
        // link can carry without draining the buffer into a stall.
        let mut mid = ScenarioMpc::new(&AbrConfig::default(), &ladder);
        feed(&mut mid, &ladder, &[2000.0; 10]);
        let r = mid.choose(&ctx(&ladder, 10, 10.0, Some(2))).rendition;
        assert!((2..=4).contains(&r), "rung {r}");
    }

    #[test]
    fn a_collapse_makes_it_careful_then_fades() {
        let ladder = pensieve_like(60, 4);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &ladder);
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
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &ladder);
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
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &ladder);
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
        let p = ScenarioMpcParams {
            horizon: 99,
            scenarios: 0,
            ratio_window: 1000,
            prior_sigma: f64::NAN,
            ..Default::default()
        };
        let rule = ScenarioMpc::with_params(&AbrConfig::default(), &ladder, p);
        assert_eq!(rule.params().horizon, MAX_HORIZON);
        assert_eq!(rule.params().scenarios, 1);
        assert_eq!(rule.params().ratio_window, MAX_RATIOS);
        assert_eq!(rule.params().prior_sigma, ScenarioMpcParams::default().prior_sigma);
    }

    fn progress(ladder: &Ladder, rung: usize, share: f64, transfer_s: f64) -> FetchProgress {
        let size_bits = ladder.segment_size_bits(10, rung);
        FetchProgress {
            segment_index: 10,
            rendition: rung,
            size_bits,
            downloaded_bits: size_bits * share,
            elapsed_s: 0.08 + transfer_s,
            ttfb_s: Some(0.08),
        }
    }

    #[test]
    fn a_fetch_that_would_stall_for_seconds_is_given_up_for_a_rung_that_lands_in_time() {
        let l = pensieve_like(48, 7);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &l);
        // The top rung (~17 Mbit) at ~700 kbit/s: ~23 s left with 8 s of buffer.
        let to = rule.check_abandon(&ctx(&l, 10, 8.0, Some(5)), &progress(&l, 5, 0.085, 2.0));
        let to = to.expect("abandoned");
        // The lower rung's whole segment lands before the buffer runs out at that rate.
        let fetch_s = l.segment_size_bits(10, to) / (0.085 * l.segment_size_bits(10, 5) / 2.0);
        assert!(fetch_s < 8.0, "rung {to} takes {fetch_s:.1} s");
        assert!(to < 5);
    }

    #[test]
    fn a_fetch_is_kept_while_it_lands_in_time_or_too_early_to_judge() {
        let l = pensieve_like(48, 7);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &l);
        // Half-way after 2 s: lands with 6 s of buffer to spare.
        assert_eq!(
            rule.check_abandon(&ctx(&l, 10, 8.0, Some(5)), &progress(&l, 5, 0.5, 2.0)),
            None
        );
        // Next to nothing after 1 s, but 24 s of buffer: a second of a mobile link says
        // little; judged after a quarter of the buffer.
        let early = progress(&l, 5, 0.001, 1.0);
        assert_eq!(rule.check_abandon(&ctx(&l, 10, 24.0, Some(5)), &early), None);
        let late = progress(&l, 5, 0.006, 6.5);
        assert!(rule.check_abandon(&ctx(&l, 10, 24.0, Some(5)), &late).is_some());
        // Not while buffering (start-up, a stall): the rule's choice stands.
        let buffering = AbrContext { playing: false, ..ctx(&l, 10, 1.0, Some(5)) };
        assert_eq!(rule.check_abandon(&buffering, &progress(&l, 5, 0.01, 3.0)), None);
        // The lowest rung has nothing below it.
        assert_eq!(
            rule.check_abandon(&ctx(&l, 10, 1.0, Some(0)), &progress(&l, 0, 0.01, 3.0)),
            None
        );
    }

    #[test]
    fn a_fetch_that_lands_in_time_but_leaves_too_little_for_the_next_is_given_up() {
        let l = pensieve_like(48, 7);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &l);
        // Rung 2 at ~210 kbit/s, 25 % in: it lands just before the buffer runs out,
        // and the next segment, even at the lowest rung, then takes longer than the
        // buffer left (a link that collapsed mid-segment).
        let p = progress(&l, 2, 0.25, 5.76);
        let rate = p.downloaded_bits / 5.76;
        let left_s = (p.size_bits - p.downloaded_bits) / rate;
        let buffer = left_s + 0.1;
        let next_s = l.segment_size_bits(11, 0) / rate;
        assert!(next_s > buffer - left_s + l.segment_duration_s() + 0.3, "{next_s}");
        let to = rule.check_abandon(&ctx(&l, 10, buffer, Some(2)), &p);
        assert!(to.is_some_and(|r| r < 2), "{to:?}");
        // With the buffer to carry the next segment too, it is kept.
        let roomy = buffer + next_s;
        assert_eq!(rule.check_abandon(&ctx(&l, 10, roomy, Some(2)), &p), None);
    }

    #[test]
    fn a_short_stall_is_cheaper_than_a_drop_of_several_rungs() {
        let l = pensieve_like(48, 7);
        let mut rule = ScenarioMpc::new(&AbrConfig::default(), &l);
        // 90 % in after 4 s: the rest lands ~0.4 s after an (almost empty) buffer runs
        // out; any lower rung would start over and take far longer.
        assert_eq!(
            rule.check_abandon(&ctx(&l, 10, 1.1, Some(5)), &progress(&l, 5, 0.9, 4.0)),
            None
        );
    }
}
