//! # A custom ABR rule, judged by the simulator
//!
//! Bitrate rules sit behind one trait, `streamsteer::abr::AbrRule`: before each segment
//! the engine shows the rule a read-only context (buffer level, the throughput and
//! latency estimates, the ladder, the previous rung) and gets back a decision with its
//! reason; after each fetch it reports how the download went. A rule written in your
//! own crate plugs into the very session the native, web and mobile players run, and
//! `streamsteer-sim` plays that session over recorded network traces on a virtual
//! clock, hundreds of sessions a second: the way to know whether a rule is any good
//! before it ships.
//!
//! This example writes a small rule (`cautious`, below), runs it and some built-in
//! rules over the real throughput traces in `../shared/traces` (3G HSDPA and FCC
//! broadband; set `STREAMSTEER_SHARED` to use another folder, or pass trace folders as
//! arguments), and prints a comparison table per trace set. Without the shared folder it
//! says so and uses the simulator's bundled HSDPA traces.
//!
//! ```sh
//! cargo run -p streamsteer-examples --example custom_abr
//! cargo run -p streamsteer-examples --example custom_abr -- ../shared/traces/mahimahi
//! ```
//!
//! Takes a few seconds. Exits non-zero if the custom rule did not complete a session on
//! every trace.

use std::collections::VecDeque;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use streamsteer::Ladder;
use streamsteer::abr::{AbrContext, AbrRule, Decision, DownloadReport, Reason, highest_rung_below};
use streamsteer_sim::batch::Batch;
use streamsteer_sim::engine::EngineModel;
use streamsteer_sim::model::{Model, ModelKind, SessionOutcome, SimConfig};
use streamsteer_sim::summary::Summary;
use streamsteer_sim::trace::Trace;

/// The built-in rules to compare against (`streamsteer::abr::RULE_NAMES` lists all).
const BUILT_IN: [&str; 4] = ["default", "robustmpc", "bola", "throughput"];

/// The trace sets of `../shared/traces` this example runs: 3G (Norway HSDPA, 80
/// traces) and broadband (FCC, 500), the pair the README's results table uses.
const TRACE_SETS: [&str; 2] = ["hsdpa", "fcc"];

type BoxError = Box<dyn Error + Send + Sync>;

// ---------------------------------------------------------------------------------
// The rule. Everything an app developer writes is in this section.
// ---------------------------------------------------------------------------------

/// A throughput rule that trusts its estimate more as the buffer fills, and climbs one
/// rung at a time.
///
/// - Estimate: the harmonic mean of the last five downloads' transfer rates (one
///   fast outlier cannot lift a harmonic mean much; a slow one drags it down at once,
///   which is the error worth making). Before any download, the session's estimate.
/// - Safety: use 75 % of the estimate with an empty buffer, rising to all of it with
///   a full one: a full buffer can absorb a wrong guess, an empty one cannot.
/// - Climb one rung per segment, so one lucky download does not jump the ladder; drop
///   as far as needed at once, since a stall costs more than a dip in quality.
/// - Below 4 s of buffer (one segment of the ladder below), never climb.
///
/// Run the example to see where that lands: ahead of the plain throughput rule and of
/// BOLA, behind the engine's `default` planner, which rebuffers more but buys it back
/// in bitrate. A table like this one is how a rule earns its place.
struct Cautious {
    /// Recent transfer rates, kbit/s; its capacity is reserved up front so the
    /// decision path never allocates (rules run inside the engine's hot loop).
    recent_kbps: VecDeque<f64>,
}

impl Cautious {
    const WINDOW: usize = 5;
    const LOW_BUFFER_S: f64 = 4.0;

    fn new() -> Self {
        Self { recent_kbps: VecDeque::with_capacity(Self::WINDOW) }
    }

    fn estimate_kbps(&self, ctx: &AbrContext<'_>) -> Option<f64> {
        if self.recent_kbps.is_empty() {
            return ctx.throughput_kbps;
        }
        let inverse_sum: f64 = self.recent_kbps.iter().map(|k| 1.0 / k).sum();
        Some(self.recent_kbps.len() as f64 / inverse_sum)
    }
}

impl AbrRule for Cautious {
    fn name(&self) -> &str {
        "cautious"
    }

    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        let Some(estimate_kbps) = self.estimate_kbps(ctx) else {
            // Nothing measured yet: the lowest rung starts fastest.
            return Decision::now(0, Reason::Startup);
        };
        let fill = if ctx.buffer_max_s > 0.0 {
            (ctx.buffer_level_s / ctx.buffer_max_s).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let safety = 0.75 + 0.25 * fill;
        let sustainable = highest_rung_below(ctx.ladder, estimate_kbps * safety);
        let Some(last) = ctx.last_rendition else {
            return Decision::now(sustainable, Reason::Throughput { estimate_kbps });
        };
        if sustainable <= last {
            return Decision::now(sustainable, Reason::Throughput { estimate_kbps });
        }
        if ctx.buffer_level_s < Self::LOW_BUFFER_S {
            return Decision::now(last, Reason::LowBuffer { buffer_s: ctx.buffer_level_s });
        }
        Decision::now(last + 1, Reason::Throughput { estimate_kbps })
    }

    fn on_download(&mut self, _ctx: &AbrContext<'_>, report: &DownloadReport) {
        // An abandoned fetch says the link was slow, but its rate covers a part of a
        // segment only; the engine's own estimator weighs those. Keep whole downloads.
        let kbps = report.transfer_kbps();
        if report.abandoned || !kbps.is_finite() || kbps <= 0.0 {
            return;
        }
        if self.recent_kbps.len() == Self::WINDOW {
            self.recent_kbps.pop_front();
        }
        self.recent_kbps.push_back(kbps);
    }
}

// ---------------------------------------------------------------------------------
// Running it in the simulator.
// ---------------------------------------------------------------------------------

/// Errors are printed as sentences rather than `Debug` dumps, with a failing status.
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), BoxError> {
    // The ladder: Pensieve's EnvivioDash3 (6 rungs, 300 to 4300 kbit/s, 48 × 4 s), the
    // one most published ABR results use. `streamsteer_sim::ladder_io::load_ladder`
    // reads others (Sabre JSON, Pensieve folders, HLS/DASH manifests).
    let ladder = streamsteer_sim::defaults::ladder().ladder;
    let sets = trace_sets()?;

    // The `streamsteer` model plays the engine's real session state machine over a
    // link model; `ModelKind::Pensieve` and `ModelKind::Sabre` reproduce those
    // simulators' player models instead.
    let model = ModelKind::Streamsteer;
    let config = SimConfig::default();
    let mut rules: Vec<String> = vec!["cautious".into()];
    rules.extend(BUILT_IN.iter().map(|s| s.to_string()));

    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    for (set, traces) in &sets {
        // Built-in rules by name: `Batch` runs every (rule, trace) pair on all cores.
        let built_in: Vec<String> = BUILT_IN.iter().map(|s| s.to_string()).collect();
        let batch = Batch { ladder: &ladder, traces, rules: &built_in, model, config: &config };
        let result = batch.run(&|| {})?;
        for f in &result.failures {
            eprintln!("warning: {} on {}: {}", f.rule, f.trace, f.error);
        }
        let mut outcomes = result.outcomes;

        // Our rule: a fresh instance per session (a rule keeps state between
        // segments, never between sessions), played by the same model.
        let ours = run_custom(&ladder, traces, model, &config, &mut failures);
        let wins = head_to_head(&ours, &outcomes, "default");
        let played = ours.len();
        outcomes.extend(ours);

        let summary = Summary::from_outcomes(model, &outcomes);
        println!(
            "\n{set}: {} traces, ladder {} rungs × {} segments, model {model}, buffer {} s",
            traces.len(),
            ladder.len(),
            ladder.segment_count(),
            config.buffer_s(model)
        );
        print!("{}", summary.table(&rules));
        println!(
            "cautious beats default on QoE_lin in {wins} of {played} sessions \
             (QoE_lin per segment: bitrate in Mbit/s − 4.3 × rebuffer s − |Δbitrate|)"
        );
        if played != traces.len() {
            failures.push(format!("{set}: cautious played {played} of {} traces", traces.len()));
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n").into());
    }
    let sessions: usize = sets.iter().map(|(_, traces)| traces.len() * rules.len()).sum();
    println!(
        "\n{sessions} sessions ({} rules over {} trace set{}) in {:.1} s",
        rules.len(),
        sets.len(),
        if sets.len() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One session of the custom rule per trace, in trace order.
fn run_custom(
    ladder: &Ladder,
    traces: &[Trace],
    model: ModelKind,
    config: &SimConfig,
    failures: &mut Vec<String>,
) -> Vec<SessionOutcome> {
    // The model's own buffer size, mirrored into the rule parameters, as Batch does.
    let config = config.resolved_for(model);
    let mut outcomes = Vec::with_capacity(traces.len());
    for trace in traces {
        let mut rule = Cautious::new();
        match EngineModel.run(ladder, trace, &mut rule, &config) {
            Ok(outcome) => outcomes.push(outcome),
            Err(e) => failures.push(format!("cautious on {}: {e}", trace.name)),
        }
    }
    outcomes
}

/// On how many traces `ours` scored a higher QoE_lin than the built-in rule `other`.
fn head_to_head(ours: &[SessionOutcome], built_in: &[SessionOutcome], other: &str) -> usize {
    ours.iter()
        .filter(|o| {
            built_in
                .iter()
                .find(|b| b.rule == other && b.trace == o.trace)
                .is_some_and(|b| o.report.qoe_lin > b.report.qoe_lin)
        })
        .count()
}

/// The trace sets to run: the folders given on the command line, else those of
/// [`TRACE_SETS`] found in the shared data folder, else the simulator's bundled set.
fn trace_sets() -> Result<Vec<(String, Vec<Trace>)>, BoxError> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if !args.is_empty() {
        let mut sets = Vec::new();
        for path in args {
            let traces = Trace::load_path(&path)?;
            sets.push((path.display().to_string(), traces));
        }
        return Ok(sets);
    }
    let shared = shared_dir();
    let mut sets = Vec::new();
    for name in TRACE_SETS {
        let dir = shared.join("traces").join(name);
        if !dir.is_dir() {
            continue;
        }
        let dir = dir.canonicalize().unwrap_or(dir);
        let traces = Trace::load_path(&dir)?;
        sets.push((format!("{name} ({})", dir.display()), traces));
    }
    if sets.is_empty() {
        println!(
            "no trace sets under {} (set STREAMSTEER_SHARED to the shared data folder); \
             using the simulator's bundled HSDPA traces",
            shared.display()
        );
        sets.push(("hsdpa (bundled)".into(), streamsteer_sim::defaults::traces()?));
    }
    Ok(sets)
}

/// The shared data folder: `$STREAMSTEER_SHARED`, else `shared/` beside the checkout,
/// as the test suite and the CLI's documentation expect it.
fn shared_dir() -> PathBuf {
    match std::env::var_os("STREAMSTEER_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..").join("shared"),
    }
}
