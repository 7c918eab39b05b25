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
use streamsteer_origin::content::{ContentInfo, demo_content};
use streamsteer_origin::faults::{Fault, FaultKind};
use streamsteer_origin::{Origin, OriginConfig, TraceSource};
use streamsteer_sim::trace::Trace;

/// The committed 20 s demo ladder is played six times over: two minutes, long enough
/// to see the preferred CDN come back after its outage while media is still fetched.
const DEMO_LOOPS: usize = 6;

/// Mean link rates of the two pathways: the edge at 1.4 times the middle rung (with
/// audio), the cloud CDN at that rung. A 3G trace scaled so swings both above and
/// below it, and the ABR rule follows; with the demo ladder that is about 870 and 620
/// kbit/s against rungs of 150–1,000 kbit/s.
fn link_kbps(info: &ContentInfo) -> [f64; 2] {
    let middle = info.video.get(info.video.len() / 2).map_or(1_000, |v| v.average_bandwidth_bps);
    let kbps = (middle + info.audio.bandwidth_bps) as f64 / 1000.0;
    [1.4 * kbps, kbps]
}

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
    /// Content folder (default: the committed demo ladder, 144p–480p AV1 + AAC, looped
    /// to two minutes; made from the repository in a second, no encoder needed).
    #[arg(long, value_name = "DIR")]
    pub content: Option<PathBuf>,
    /// Where to write report.svg, qoe.json, events.jsonl and requests.jsonl.
    #[arg(long, value_name = "DIR", default_value = "streamsteer-demo")]
    pub out: PathBuf,
    /// No live status line.
    #[arg(long)]
    pub quiet: bool,
}

/// Two bundled HSDPA traces (Norway, 3G), scaled to `mean_kbps` each (the edge
/// pathway first): around the middle of the ladder, so that the ABR rule visibly moves
/// between rungs as the link rises and falls. Returns (name, periods) per pathway.
fn pathway_traces(mean_kbps: [f64; 2]) -> Result<[(String, TraceSource); 2], String> {
    let traces = streamsteer_sim::defaults::traces().map_err(|e| e.to_string())?;
    let mut by_mean: Vec<&Trace> = traces.iter().collect();
    by_mean.sort_by(|a, b| b.mean_kbps().total_cmp(&a.mean_kbps()));
    let pick = |i: usize, target_kbps: f64| -> Result<(String, TraceSource), String> {
        let t = by_mean.get(i).ok_or("the bundled trace set is empty")?;
        let scale = target_kbps / t.mean_kbps().max(1.0);
        let periods = t
            .to_periods(1.0, 0.0)
            .into_iter()
            .map(|mut p| {
                p.bandwidth_kbps *= scale;
                p
            })
            .collect();
        Ok((format!("{} ×{scale:.2}", t.name), TraceSource::Periods(periods)))
    };
    Ok([pick(0, mean_kbps[0])?, pick(4, mean_kbps[1])?])
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
        None => demo_content(DEMO_LOOPS).map_err(|e| e.to_string())?.0,
    };
    let info = ContentInfo::load(&content).map_err(|e| e.to_string())?;
    let mean_kbps = link_kbps(&info);
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let [(edge_trace, edge), (cloud_trace, cloud)] = pathway_traces(mean_kbps)?;
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
        let mut session = SessionConfig::default();
        session.abr_rule = args.abr.clone();
        // A failed pathway is retried after 8 s instead of the default 120 s, so that
        // the demo shows the return to the preferred CDN once its outage is over.
        session.steering.penalty_s = 8.0;
        let mut player_config = PlayerConfig::default();
        player_config.session = session;
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
