//! `streamsteer simulate`.

use indicatif::{ProgressBar, ProgressStyle};
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use streamsteer::abr::RULE_NAMES;
use streamsteer_origin::sim_model::{LinkModel, SimContent, is_content};
use streamsteer_sim::batch::Batch;
use streamsteer_sim::defaults;
use streamsteer_sim::engine::{ConfiguredEngine, EngineConfig, LiveModel, PathwayLink};
use streamsteer_sim::ladder_io::{LoadedLadder, load_ladder};
use streamsteer_sim::model::{ModelKind, SimConfig};
use streamsteer_sim::plot;
use streamsteer_sim::summary::Summary;
use streamsteer_sim::trace::Trace;

/// Arguments of `streamsteer simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ladder: a Sabre movie JSON, a folder of Pensieve `video_size_N` files, an
    /// HLS/DASH manifest, or a content folder made for the origin (or its
    /// `content.json`: real segment sizes, and with the streamsteer model its audio
    /// rendition and init segments too). Default: the built-in Pensieve
    /// (EnvivioDash3) ladder.
    #[arg(long)]
    ladder: Option<PathBuf>,
    /// Streamsteer model with a content folder: play it as the origin serves it on
    /// demand (`/vod/ondemand.mpd`: SegmentBase + sidx, every segment a byte range of
    /// one file per rendition) instead of the synthesised presentation.
    #[arg(long)]
    on_demand: bool,
    /// Streamsteer model with a content folder: play it as the origin's two-period VOD
    /// (`/vod/periods.mpd`: the content twice, timestamps restarting in the second
    /// period, whose ladder lacks the top rung).
    #[arg(long, conflicts_with = "on_demand")]
    periods: bool,
    /// Streamsteer model: time to first byte of every request, ms (default 80). To
    /// replay `streamsteer serve`, give the pathway's `latency_ms`.
    #[arg(long)]
    rtt_ms: Option<f64>,
    /// Streamsteer model: share of the trace's rate that carries payload (default
    /// 0.95). The origin paces bodies at the trace's rate: give 1 to replay it.
    #[arg(long)]
    payload_fraction: Option<f64>,
    /// Streamsteer model: play the ladder as a live DASH stream
    /// (`SegmentTemplate@duration`, `UTCTiming`) on a virtual wall clock, joined a
    /// minute after it began, instead of on demand.
    #[arg(long)]
    live: bool,
    /// With `--live`: the player's wall clock minus the server's, seconds (default 0);
    /// `UTCTiming` corrects it (see the `too_early_requests` metric).
    #[arg(long, requires = "live")]
    live_clock_error_s: Option<f64>,
    /// Trace files or folders (Pensieve cooked, Mahimahi, Sabre JSON; detected).
    /// Default: the built-in 80 Norway HSDPA traces.
    #[arg(long, num_args = 1..)]
    traces: Vec<PathBuf>,
    /// ABR rules to compare, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    abr: Vec<String>,
    /// Network/player model: pensieve, sabre or streamsteer.
    #[arg(long, default_value = "streamsteer")]
    model: ModelKind,
    /// Forward buffer capacity in seconds (default: the model's own).
    #[arg(long)]
    buffer: Option<f64>,
    /// Segments per session (default: the whole ladder; Pensieve model: 48).
    #[arg(long)]
    segments: Option<usize>,
    /// Write sessions.jsonl, summary.json and SVG plots into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the summary as JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// Print one JSON line per session on stdout (before the summary).
    #[arg(long)]
    jsonl: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let content = match &args.ladder {
        Some(p) if is_content(p) => Some(SimContent::load(p).map_err(|e| e.to_string())?),
        _ => None,
    };
    let LoadedLadder { name: ladder_name, ladder } = match (&args.ladder, &content) {
        (Some(p), Some(c)) => LoadedLadder {
            name: c
                .dir
                .file_name()
                .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()),
            ladder: c.ladder.clone(),
        },
        (Some(p), None) => load_ladder(p).map_err(|e| e.to_string())?,
        (None, _) => defaults::ladder(),
    };
    let engine = engine_model(&args, content.as_ref())?;
    let mut traces = Vec::new();
    for p in &args.traces {
        traces.extend(Trace::load_path(p).map_err(|e| e.to_string())?);
    }
    let trace_set = if args.traces.is_empty() {
        traces = defaults::traces().map_err(|e| e.to_string())?;
        "hsdpa (built-in)".to_string()
    } else {
        args.traces.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    };
    let rules: Vec<String> = if args.abr.is_empty() {
        RULE_NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        args.abr.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    if let Some(b) = args.buffer
        && !(b.is_finite() && b > 0.0)
    {
        return Err(format!("--buffer must be a positive number of seconds, got {b}"));
    }
    let mut config = SimConfig::default();
    config.buffer_max_s = args.buffer;
    config.segments = args.segments;
    let batch = Batch {
        ladder: &ladder,
        traces: &traces,
        rules: &rules,
        model: args.model,
        config: &config,
    };
    batch.validate().map_err(|e| e.to_string())?;

    let total = (rules.len() * traces.len()) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} simulating [{bar:30}] {pos}/{len} sessions ({eta})",
        )
        .map_err(|e| e.to_string())?
        .progress_chars("=> "),
    );
    if total < 200 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = std::time::Instant::now();
    let result = match &engine {
        Some(model) => batch.run_model(model, &|| bar.inc(1)),
        None => batch.run(&|| bar.inc(1)),
    }
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();

    for f in &result.failures {
        eprintln!("warning: {} / {}: {}", f.rule, f.trace, f.error);
    }
    let summary = Summary::from_outcomes(args.model, &result.outcomes);
    let mut stdout = std::io::stdout().lock();
    if args.jsonl {
        for o in &result.outcomes {
            let line = serde_json::to_string(o).map_err(|e| e.to_string())?;
            writeln!(stdout, "{line}").map_err(|e| e.to_string())?;
        }
    }
    if args.json {
        let s = serde_json::to_string(&summary).map_err(|e| e.to_string())?;
        writeln!(stdout, "{s}").map_err(|e| e.to_string())?;
    } else {
        writeln!(
            stdout,
            "model {} · ladder {} ({} rungs, {} segments) · traces {} ({}) · buffer {} s\n",
            args.model,
            ladder_name,
            ladder.len(),
            args.segments.unwrap_or(ladder.segment_count()),
            trace_set,
            traces.len(),
            config.buffer_s(args.model)
        )
        .map_err(|e| e.to_string())?;
        write!(stdout, "{}", summary.table(&rules)).map_err(|e| e.to_string())?;
        writeln!(
            stdout,
            "\n{} sessions in {:.2} s ({:.0} sessions/s){}",
            result.outcomes.len(),
            elapsed,
            result.outcomes.len() as f64 / elapsed.max(1e-9),
            if result.failures.is_empty() {
                String::new()
            } else {
                format!(", {} failed", result.failures.len())
            }
        )
        .map_err(|e| e.to_string())?;
    }
    if let Some(dir) = &args.out {
        write_outputs(dir, &rules, &summary, &result.outcomes)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        if !args.json {
            writeln!(stdout, "wrote {}", dir.display()).map_err(|e| e.to_string())?;
        }
    }
    if result.outcomes.is_empty() {
        return Err("no session completed".into());
    }
    Ok(())
}

/// The streamsteer model's settings when the defaults do not do: a content folder's
/// audio and init segments, or an explicit link. `None`: the model's defaults.
fn engine_model(
    args: &Args,
    content: Option<&SimContent>,
) -> Result<Option<ConfiguredEngine>, String> {
    let link_given = args.rtt_ms.is_some() || args.payload_fraction.is_some();
    if args.model != ModelKind::Streamsteer {
        if args.on_demand || args.periods {
            return Err("--on-demand and --periods apply to the streamsteer model only".into());
        }
        if link_given || args.live {
            return Err(
                "--rtt-ms, --payload-fraction and --live apply to the streamsteer model only"
                    .into(),
            );
        }
        return Ok(None);
    }
    let live = match args.live_clock_error_s {
        Some(e) if !e.is_finite() => {
            return Err(format!("--live-clock-error-s must be a number of seconds, got {e}"));
        }
        e => args
            .live
            .then(|| LiveModel { player_clock_error_s: e.unwrap_or(0.0), ..LiveModel::default() }),
    };
    if let Some(ms) = args.rtt_ms
        && !(ms.is_finite() && ms >= 0.0)
    {
        return Err(format!("--rtt-ms must be a non-negative number of ms, got {ms}"));
    }
    if let Some(f) = args.payload_fraction
        && !(f.is_finite() && f > 0.0 && f <= 1.0)
    {
        return Err(format!("--payload-fraction must be in (0, 1], got {f}"));
    }
    if (args.on_demand || args.periods) && content.is_none() {
        return Err("--on-demand and --periods need a content folder as --ladder".into());
    }
    if content.is_none() && !link_given && live.is_none() {
        return Ok(None);
    }
    let defaults = PathwayLink::new("origin");
    let link = LinkModel {
        rtt_s: args.rtt_ms.map_or(defaults.rtt_s, |ms| ms / 1000.0),
        payload_fraction: args.payload_fraction.unwrap_or(defaults.payload_fraction),
    };
    let mut config = match content {
        Some(c) if args.on_demand => c.on_demand_engine_config(link).map_err(|e| e.to_string())?,
        Some(c) if args.periods => c.periods_engine_config(link).map_err(|e| e.to_string())?,
        Some(c) => c.engine_config(link),
        None => {
            let mut config = EngineConfig::default();
            for p in &mut config.pathways {
                p.rtt_s = link.rtt_s;
                p.payload_fraction = link.payload_fraction;
            }
            config
        }
    };
    config.live = live;
    Ok(Some(ConfiguredEngine(config)))
}

fn write_outputs(
    dir: &std::path::Path,
    rules: &[String],
    summary: &Summary,
    outcomes: &[streamsteer_sim::SessionOutcome],
) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut lines = String::new();
    for o in outcomes {
        lines.push_str(&serde_json::to_string(o).map_err(std::io::Error::other)?);
        lines.push('\n');
    }
    fs::write(dir.join("sessions.jsonl"), lines)?;
    fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(summary).map_err(std::io::Error::other)?,
    )?;
    fs::write(dir.join("qoe_cdf.svg"), plot::qoe_cdf_svg("QoE_lin CDF per rule", rules, outcomes))?;
    // One timeline per trace would flood the folder; plot the first few traces with
    // every rule on the same axes, which is what a comparison needs.
    let mut traces: Vec<&str> = Vec::new();
    for o in outcomes {
        if !traces.contains(&o.trace.as_str()) {
            traces.push(&o.trace);
        }
    }
    for (i, trace) in traces.iter().take(3).enumerate() {
        let sessions: Vec<_> = outcomes.iter().filter(|o| o.trace == *trace).collect();
        fs::write(dir.join(format!("timeline_{i}.svg")), plot::timeline_svg(trace, &sessions))?;
    }
    Ok(())
}
