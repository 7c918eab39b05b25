//! # The native player: `streamsteer_net::Player`
//!
//! What most apps embed: `Player::load` fetches the manifest (HLS or DASH, detected
//! from the content), runs the engine's session on tokio with a shared reqwest
//! connection pool, and streams typed events — state changes, rendition and pathway
//! changes, stalls, errors, per-request timing, a periodic status — until it hands
//! back the QoE report.
//!
//! The example starts the test origin in-process on loopback with one CDN (see
//! `two_cdn_steering` for two), serving the 20 s demo ladder committed in
//! `origin/assets/demo` (no ffmpeg needed) over a link held at 900 kbit/s, so the ABR
//! rule has something to do: it starts low and climbs to the rung the link sustains.
//!
//! ```sh
//! cargo run -p streamsteer-examples --example native_player          # DASH
//! cargo run -p streamsteer-examples --example native_player -- hls
//! ```
//!
//! Takes about 20 s (the content plays in real time). Exits non-zero when playback did
//! not reach the end or played no media.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;
use streamsteer::session::{PlayerEvent, PlayerState};
use streamsteer_net::{Event, Player, PlayerConfig};
use streamsteer_origin::content::demo_asset_dir;
use streamsteer_origin::{Origin, OriginConfig, PathwayConfig, TraceSource};
use tokio::sync::broadcast::error::RecvError;

/// The link the CDN is held at, kbit/s: above the 550 kbit/s rung plus audio, below
/// the top rung, so the rule settles in the middle of the ladder.
const LINK_KBPS: f64 = 900.0;

/// Gives up if playback has not ended by then (the content is 20 s long), so that CI
/// never hangs on this example.
const RUN_LIMIT: Duration = Duration::from_secs(90);

type BoxError = Box<dyn Error + Send + Sync>;

/// Errors are printed as sentences rather than `Debug` dumps, with a failing status.
#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), BoxError> {
    let protocol = std::env::args().nth(1).unwrap_or_else(|| "dash".into());
    if !matches!(protocol.as_str(), "hls" | "dash") {
        return Err(format!("unknown protocol {protocol:?}: expected hls or dash").into());
    }
    let mut cdn = PathwayConfig::named("cdn");
    cdn.trace = Some(TraceSource::ConstantKbps(LINK_KBPS));
    let origin_config = OriginConfig { pathways: vec![cdn], ..OriginConfig::default() };
    let origin = Origin::start(demo_asset_dir(), origin_config).await?;
    let url = if protocol == "dash" { origin.dash_url() } else { origin.hls_url() };

    // Every field of PlayerConfig (and of the engine's SessionConfig inside it) has a
    // documented default; start from it and set what differs.
    let mut player = Player::load(&url, PlayerConfig::default()).await?;
    println!("playing {url} ({:?})", player.presentation().kind);

    // Subscribe before awaiting anything else: the first receiver gets every event
    // since the player started, later ones only what comes after they subscribe.
    let mut events = player.events();
    let watch = async {
        loop {
            match events.recv().await {
                // The player keeps its event channel open for as long as it lives, so
                // the end of playback is an event to look for, not a closed channel.
                Ok(event) => {
                    if print_event(&event) {
                        break;
                    }
                }
                // A slow consumer misses events rather than slowing the player down.
                Err(RecvError::Lagged(n)) => println!("(missed {n} events)"),
                Err(RecvError::Closed) => break,
            }
        }
    };
    if tokio::time::timeout(RUN_LIMIT, watch).await.is_err() {
        player.stop();
        return Err(format!("playback had not ended after {RUN_LIMIT:?}").into());
    }

    let outcome = player.wait_until_done().await?;
    println!("\nQoE report:\n{}", serde_json::to_string_pretty(&outcome.report)?);
    if let Some(error) = &outcome.error {
        return Err(format!("playback failed: {error}").into());
    }
    if !outcome.ended() {
        return Err(format!("playback stopped in state {:?}", outcome.state).into());
    }
    if outcome.report.segments == 0 {
        return Err("no media segment was played".into());
    }
    println!(
        "\nplayed {} segments at {:.0} kbit/s on average, {} switches, {:.2} s rebuffering",
        outcome.report.segments,
        outcome.report.avg_bitrate_kbps,
        outcome.report.switch_count,
        outcome.report.rebuffer_s
    );
    Ok(())
}

/// Prints what an app would show or log; true once playback is over.
fn print_event(event: &Event) -> bool {
    match event {
        Event::Status(s) => println!(
            "{:5.1} s  {:?}  position {:5.1} s  buffer {:4.1} s  {}  on {}  link {}",
            s.time_s,
            s.state,
            s.position_s,
            s.buffer_s,
            s.bitrate_kbps.map_or("-".into(), |b| format!("{b:.0} kbit/s")),
            s.pathway,
            s.throughput_kbps.map_or("-".into(), |t| format!("{t:.0} kbit/s")),
        ),
        Event::Player { event } => match event {
            PlayerEvent::StateChanged { from, to } => {
                println!("state {from:?} -> {to:?}");
                return matches!(to, PlayerState::Ended | PlayerState::Failed);
            }
            PlayerEvent::RenditionChanged { track, from, to } => {
                println!("{track:?} rung {from} -> {to}");
            }
            PlayerEvent::PathwayChanged { from, to, .. } => {
                println!("pathway {} -> {to}", from.as_deref().unwrap_or("(none)"));
            }
            PlayerEvent::Stalled { position_s } => println!("stalled at {position_s:.1} s"),
            PlayerEvent::Resumed { stall_s } => println!("resumed after {stall_s:.1} s"),
            PlayerEvent::Error { message, fatal, .. } => {
                println!("{} error: {message}", if *fatal { "fatal" } else { "recovered" });
            }
            // Per-segment decisions, steering updates and the final report event are
            // there too; this console skips them (the report comes with the outcome).
            _ => {}
        },
        // One line per HTTP attempt; only failures are worth a console line here.
        Event::Request(r) if r.error.is_some() => println!(
            "request #{} {:?} on {}: {}",
            r.id,
            r.kind,
            r.pathway.as_deref().unwrap_or("-"),
            r.error.as_deref().unwrap_or_default()
        ),
        Event::Media(m) => println!("unusable segment: {}", m.message),
        Event::Stopped => return true,
        _ => {}
    }
    false
}
