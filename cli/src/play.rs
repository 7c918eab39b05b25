//! `streamsteer play URL`: plays an HLS or DASH stream with real decoding — AAC to a
//! clocked null output (the master clock), video decoded and drawn with wgpu
//! offscreen — and reports QoE with the playback figures (frames shown and dropped,
//! decode time, A/V drift). `--dump-frames DIR` writes rendered pictures as PNGs.

use crate::status::status_line;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use streamsteer::session::{PlayerEvent, PlayerState, SessionConfig};
use streamsteer_media::render::RenderConfig;
use streamsteer_media::video::Decoders;
use streamsteer_media::{DecodingSink, Pipeline, PipelineConfig, RenderMode, SystemClock};
use streamsteer_net::{Event, Player, PlayerConfig};

/// Where pictures go.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Render {
    /// Draw into an offscreen texture with wgpu (lavapipe works).
    Offscreen,
    /// Decode and time frames, draw nothing.
    None,
}

/// Arguments of `streamsteer play`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// HLS multivariant/media playlist or DASH MPD URL.
    pub url: String,
    /// Where pictures go.
    #[arg(long, value_enum, default_value = "offscreen")]
    pub render: Render,
    /// Write rendered frames as PNGs into this folder.
    #[arg(long, value_name = "DIR")]
    pub dump_frames: Option<PathBuf>,
    /// Dump every Nth shown frame.
    #[arg(long, default_value_t = 30)]
    pub dump_every: u64,
    /// Output width in pixels (the picture keeps its aspect ratio inside).
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    /// Output height in pixels.
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    /// ABR rule.
    #[arg(long, default_value = "default")]
    pub abr: String,
    /// Stop after this many seconds (default: play to the end).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Also write the QoE report (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// No live status line.
    #[arg(long)]
    pub quiet: bool,
    /// Draw into a window on screen (X11) instead of `--render`; closing it stops.
    #[cfg(feature = "window")]
    #[arg(long)]
    pub window: bool,
}

/// Runs `streamsteer play`.
pub fn run(args: Args) -> Result<(), String> {
    #[cfg(feature = "window")]
    if args.window {
        return crate::window::run(args);
    }
    let pipeline =
        Pipeline::new(pipeline_config(&args), Decoders::default(), Arc::new(SystemClock::new()))
            .map_err(|e| e.to_string())?;
    play(args, pipeline, std::future::pending())
}

/// The pipeline settings the arguments ask for.
pub(crate) fn pipeline_config(args: &Args) -> PipelineConfig {
    PipelineConfig {
        render: match args.render {
            Render::Offscreen => RenderMode::Offscreen,
            Render::None => RenderMode::None,
        },
        renderer: RenderConfig::with_size(args.width.max(16), args.height.max(16)),
        dump_dir: args.dump_frames.clone(),
        dump_every: args.dump_every.max(1),
        ..PipelineConfig::default()
    }
}

/// Plays `args.url` through `pipeline` until the end, `--duration`, or `close`
/// resolving (a window closed), then prints the report.
pub(crate) fn play(
    args: Args,
    pipeline: Pipeline,
    close: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    let sink = DecodingSink::new(pipeline, Decoders::default());
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let mut session = SessionConfig::default();
        session.abr_rule = args.abr.clone();
        let mut player_config = PlayerConfig::default();
        player_config.session = session;
        let mut player = Player::load_with_sink(&args.url, player_config, sink)
            .await
            .map_err(|e| e.to_string())?;
        let mut events = player.events();
        let quiet = args.quiet;
        let watch = async {
            while let Ok(event) = events.recv().await {
                match event {
                    Event::Status(s) if !quiet => {
                        eprint!("\r{}", status_line(&s));
                        let _ = std::io::stderr().flush();
                    }
                    Event::Player {
                        event:
                            PlayerEvent::StateChanged {
                                to: PlayerState::Ended | PlayerState::Failed,
                                ..
                            },
                    }
                    | Event::Stopped => break,
                    _ => {}
                }
            }
        };
        let watched = async {
            match args.duration {
                Some(s) => {
                    tokio::time::timeout(Duration::from_secs_f64(s.max(0.0)), watch).await.is_err()
                }
                None => {
                    watch.await;
                    false
                }
            }
        };
        let cut_short = tokio::select! {
            timed_out = watched => timed_out,
            () = close => true,
        };
        if cut_short {
            player.stop();
        }
        let outcome = player.wait_until_done().await.map_err(|e| e.to_string())?;
        if !quiet {
            eprintln!();
        }
        let report = serde_json::to_string_pretty(&outcome.report).map_err(|e| e.to_string())?;
        println!("{report}");
        if let Some(path) = &args.report {
            std::fs::write(path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        if let (Some(dir), Some(p)) = (&args.dump_frames, &outcome.report.playback) {
            eprintln!("wrote {} frames to {}", p.frames_dumped, dir.display());
        }
        match outcome.error {
            Some(e) if !outcome.ended() && !outcome.stopped => Err(format!("playback failed: {e}")),
            _ => Ok(()),
        }
    })
}
