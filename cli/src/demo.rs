//! `streamsteer demo`: the whole player on loopback. Makes (or reuses) the default
//! CMAF ladder, serves it as two CDN pathways shaped by real network traces with an
//! outage of the preferred one mid-session, plays it with the default ABR rule and
//! content steering, shows a live status line, and ends with the QoE report and an
//! SVG report of bitrate, buffer and pathway over time.

use crate::demo_report::{Sample, report_svg};
use crate::status::status_line;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use streamsteer::session::{PlayerEvent, PlayerState, SessionConfig};
use streamsteer_media::render::RenderConfig;
use streamsteer_media::video::Decoders;
use streamsteer_media::{DecodingSink, Pipeline, PipelineConfig, RenderMode, SystemClock};
use streamsteer_net::{Event, Player, PlayerConfig};
use streamsteer_origin::content::{ContentSpec, default_content_dir, ensure_content};
use streamsteer_origin::faults::{Fault, FaultKind};
use streamsteer_origin::{Origin, OriginConfig, TraceSource};
use streamsteer_sim::trace::Trace;

/// Arguments of `streamsteer demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest to play: `hls` or `dash`.
    #[arg(long, default_value = "hls")]
    pub protocol: String,
    /// ABR rule.
    #[arg(long, default_value = "default")]
    pub abr: String,
    /// When the preferred pathway (`openconnect`) goes down, seconds after start.
    #[arg(long, default_value_t = 20.0)]
    pub outage_at: f64,
    /// How long it stays down, seconds.
    #[arg(long, default_value_t = 12.0)]
    pub outage_for: f64,
    /// Content folder (default: the default ladder, made with ffmpeg on first use).
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,
    /// Where to write report.svg, qoe.json, events.jsonl and requests.jsonl.
    #[arg(long, value_name = "DIR", default_value = "streamsteer-demo")]
    pub out: PathBuf,
    /// No live status line.
    #[arg(long)]
    pub quiet: bool,
}

/// Two bundled HSDPA traces (Norway, 3G), scaled to the ladder: the edge pathway gets
/// the faster one. Returns (name, periods) per pathway.
fn pathway_traces() -> Result<[(String, TraceSource); 2], String> {
    let traces = streamsteer_sim::defaults::traces().map_err(|e| e.to_string())?;
    let mut by_mean: Vec<&Trace> = traces.iter().collect();
    by_mean.sort_by(|a, b| b.mean_kbps().total_cmp(&a.mean_kbps()));
    let pick = |i: usize, scale: f64| -> Result<(String, TraceSource), String> {
        let t = by_mean.get(i).ok_or("the bundled trace set is empty")?;
        let periods = t
            .to_periods(1.0, 0.0)
            .into_iter()
            .map(|mut p| {
                p.bandwidth_kbps *= scale;
                p
            })
            .collect();
        Ok((format!("{} ×{scale}", t.name), TraceSource::Periods(periods)))
    };
    Ok([pick(0, 2.0)?, pick(4, 1.5)?])
}

/// The demo's media end: real decoding, drawn offscreen with wgpu, a picture every two
/// seconds written to `frames`. A machine without a usable GPU adapter (not even
/// lavapipe) still decodes and times every frame, without drawing.
fn decoding_sink(frames: &std::path::Path) -> Result<DecodingSink, String> {
    let _ = std::fs::remove_dir_all(frames);
    let config = PipelineConfig {
        renderer: RenderConfig::with_size(1280, 720),
        dump_dir: Some(frames.to_path_buf()),
        dump_every: 60,
        ..PipelineConfig::default()
    };
    let clock = Arc::new(SystemClock::new());
    let pipeline = match Pipeline::new(config.clone(), Decoders::default(), clock.clone()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("no rendering ({e}); decoding only");
            let config = PipelineConfig { render: RenderMode::None, dump_dir: None, ..config };
            Pipeline::new(config, Decoders::default(), clock).map_err(|e| e.to_string())?
        }
    };
    Ok(DecodingSink::new(pipeline, Decoders::default()))
}

/// Runs the demo.
pub fn run(args: Args) -> Result<(), String> {
    if !matches!(args.protocol.as_str(), "hls" | "dash") {
        return Err(format!("--protocol {:?}: expected hls or dash", args.protocol));
    }
    let content = match &args.content {
        Some(dir) => dir.clone(),
        None => {
            let dir = default_content_dir();
            ensure_content(&dir, &ContentSpec::default(), &mut |m| eprintln!("content: {m}"))
                .map_err(|e| e.to_string())?;
            dir
        }
    };
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let [(edge_trace, edge), (cloud_trace, cloud)] = pathway_traces()?;
    let mut config = OriginConfig::default();
    config.steering.ttl_s = 5;
    config.log.file = Some(args.out.join("requests.jsonl"));
    let _ = std::fs::remove_file(args.out.join("requests.jsonl"));
    if let Some(p) = config.pathway_mut("openconnect") {
        p.trace = Some(edge);
        p.latency_ms = 20.0;
        p.faults = vec![
            Fault::always(FaultKind::Outage)
                .during(args.outage_at, Some(args.outage_at + args.outage_for)),
        ];
    }
    if let Some(p) = config.pathway_mut("cloudfront") {
        p.trace = Some(cloud);
        p.latency_ms = 60.0;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let origin = Origin::start(content, config).await.map_err(|e| e.to_string())?;
        let url = if args.protocol == "dash" { origin.dash_url() } else { origin.hls_url() };
        eprintln!("origin: openconnect {edge_trace}, 20 ms; cloudfront {cloud_trace}, 60 ms");
        eprintln!(
            "        openconnect down from {:.0} s to {:.0} s; steering TTL 5 s",
            args.outage_at,
            args.outage_at + args.outage_for
        );
        eprintln!("playing {url} with ABR {:?}", args.abr);
        let mut session = SessionConfig { abr_rule: args.abr.clone(), ..SessionConfig::default() };
        // A failed pathway is retried after 8 s instead of the default 120 s, so that
        // the demo shows the return to the preferred CDN once its outage is over.
        session.steering.penalty_s = 8.0;
        let player_config = PlayerConfig { session, ..PlayerConfig::default() };
        let sink = decoding_sink(&args.out.join("frames"))?;
        let mut player =
            Player::load_with_sink(&url, player_config, sink).await.map_err(|e| e.to_string())?;
        let mut events = player.events();
        let mut samples: Vec<Sample> = Vec::new();
        let mut log = String::new();
        let quiet = args.quiet;
        let collect = async {
            while let Ok(event) = events.recv().await {
                if let Ok(line) = serde_json::to_string(&event) {
                    log.push_str(&line);
                    log.push('\n');
                }
                match event {
                    Event::Status(s) => {
                        if !quiet {
                            eprint!("\r{}", status_line(&s));
                            let _ = std::io::stderr().flush();
                        }
                        samples.push(Sample {
                            time_s: s.time_s,
                            bitrate_kbps: s.bitrate_kbps,
                            buffer_s: s.buffer_s,
                            pathway: s.pathway,
                        });
                    }
                    Event::Player { event: PlayerEvent::PathwayChanged { from, to, reason } }
                        if !quiet =>
                    {
                        let from = from.map_or(String::new(), |f| format!("{f} -> "));
                        eprintln!("\npathway {from}{to} ({reason:?})");
                    }
                    Event::Player { event: PlayerEvent::Stalled { position_s } } if !quiet => {
                        eprintln!("\nstalled at {position_s:.1} s");
                    }
                    Event::Player {
                        event: PlayerEvent::StateChanged { to: PlayerState::Ended | PlayerState::Failed, .. },
                    }
                    | Event::Stopped => break,
                    _ => {}
                }
            }
        };
        collect.await;
        let outcome = player.wait_until_done().await.map_err(|e| e.to_string())?;
        eprintln!();
        let report = serde_json::to_string_pretty(&outcome.report).map_err(|e| e.to_string())?;
        println!("{report}");
        std::fs::write(args.out.join("qoe.json"), &report).map_err(|e| e.to_string())?;
        std::fs::write(args.out.join("events.jsonl"), log).map_err(|e| e.to_string())?;
        let names = origin.pathway_names();
        std::fs::write(args.out.join("report.svg"), report_svg(&samples, &names))
            .map_err(|e| e.to_string())?;
        eprintln!(
            "wrote {0}/report.svg, {0}/qoe.json, {0}/events.jsonl, {0}/requests.jsonl",
            args.out.display()
        );
        if let Some(p) = &outcome.report.playback {
            eprintln!(
                "video: {} frames shown, {} dropped, decode {:.1} ms/frame, A/V drift p99 {:.1} ms; \
                 {} pictures in {}/frames",
                p.frames_presented,
                p.frames_dropped,
                p.decode_ms_mean,
                p.av_drift_ms_p99,
                p.frames_dumped,
                args.out.display()
            );
        }
        origin.shutdown().await;
        match outcome.error {
            Some(e) if !outcome.ended() => Err(format!("playback failed: {e}")),
            _ => Ok(()),
        }
    })
}
