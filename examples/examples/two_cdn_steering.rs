//! # Two CDNs, content steering and a failover
//!
//! The same stream is served by two CDN pathways: `openconnect`, preferred, and
//! `cloudfront`. The manifest names a content-steering server (HLS
//! `EXT-X-CONTENT-STEERING`, DASH `ContentSteering`) that the player polls for the
//! pathway priority. Mid-stream the preferred CDN goes down. Two mechanisms keep
//! playback going, and this example shows both:
//!
//! - **failover, in the player**: the first request that fails on `openconnect` is
//!   re-made on `cloudfront` at once, and `openconnect` is penalised for a while; no
//!   steering round trip is needed;
//! - **steering, on the server**: the steering service (driven by hand here, as an
//!   operator's health checks would drive it) puts `cloudfront` first a little later,
//!   and `openconnect` first again once it is back; the player follows at its next
//!   poll, which is what brings it back to the preferred CDN.
//!
//! The test origin runs in-process on loopback and serves the 20 s demo ladder
//! committed in `origin/assets/demo` (no ffmpeg needed); `openconnect` is taken down
//! with the origin's runtime fault control (`OriginHandle::set_outage`: open
//! connections reset, new ones refused) from 5 s to 10 s into playback.
//!
//! ```sh
//! cargo run -p streamsteer-examples --example two_cdn_steering          # HLS
//! cargo run -p streamsteer-examples --example two_cdn_steering -- dash
//! ```
//!
//! Takes about 20 s (the content plays in real time). Exits non-zero unless media came
//! from `cloudfront` during the outage, playback came back to `openconnect` after it,
//! and the stream played to its end.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;
use streamsteer::session::{FetchKind, PlayerEvent, PlayerState};
use streamsteer_net::{Event, Player, PlayerConfig};
use streamsteer_origin::content::demo_asset_dir;
use streamsteer_origin::{Origin, OriginConfig, OriginHandle, TraceSource};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

const PREFERRED: &str = "openconnect";
const BACKUP: &str = "cloudfront";

/// What happens when, seconds after playback starts.
const SCRIPT: [(f64, Step); 3] =
    [(5.0, Step::GoDown), (7.0, Step::SteeringReacts), (10.0, Step::ComeBack)];

/// Gives up if playback has not ended by then, so that CI never hangs on this example.
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
    let protocol = std::env::args().nth(1).unwrap_or_else(|| "hls".into());
    if !matches!(protocol.as_str(), "hls" | "dash") {
        return Err(format!("unknown protocol {protocol:?}: expected hls or dash").into());
    }

    // The origin's defaults are exactly this setup: `openconnect` then `cloudfront`,
    // and a steering server listing them in that order.
    let mut origin_config = OriginConfig::default();
    for pathway in &mut origin_config.pathways {
        // Above the top rung: this example is about CDNs, not about bitrate.
        pathway.trace = Some(TraceSource::ConstantKbps(3000.0));
    }
    // A steering manifest is valid for TTL seconds; 1 s makes the player follow the
    // server's changes within a second (the HLS spec suggests 300 s in production).
    origin_config.steering.ttl_s = 1;
    let origin = Origin::start(demo_asset_dir(), origin_config).await?;
    let url = if protocol == "dash" { origin.dash_url() } else { origin.hls_url() };

    let mut config = PlayerConfig::default();
    // How long a CDN that failed is left alone. The default, 120 s, is right for a
    // real outage; here the whole clip is 20 s long.
    config.session.steering.penalty_s = 3.0;
    // A 20 s clip would be fetched whole in its first seconds with the default 30 s
    // buffer, and the outage would hit nothing. Keeping 4 s ahead makes the player
    // fetch all along, as it does in the middle of a long stream.
    config.session.buffer.forward_target_s = 4.0;

    let mut player = Player::load(&url, config).await?;
    let started = Instant::now();
    println!("playing {url}");
    println!("pathways: {:?}, steering at {}", origin.pathway_names(), origin.steering_url());

    let mut events = player.events();
    let mut seen = Seen::default();
    let mut script = SCRIPT.iter().peekable();
    let watch = async {
        loop {
            // The next scripted step, if any is left.
            let next = script.peek().map(|(at_s, _)| started + Duration::from_secs_f64(*at_s));
            tokio::select! {
                received = events.recv() => match received {
                    Ok(event) => {
                        if seen.record(started.elapsed().as_secs_f64(), &event) {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(n)) => println!("(missed {n} events)"),
                    Err(RecvError::Closed) => break,
                },
                () = sleep_until(next), if next.is_some() => {
                    if let Some((_, step)) = script.next() {
                        seen.phase = step.run(&origin, started.elapsed().as_secs_f64())?;
                    }
                }
            }
        }
        Ok::<_, BoxError>(())
    };
    match tokio::time::timeout(RUN_LIMIT, watch).await {
        Ok(result) => result?,
        Err(_) => {
            player.stop();
            return Err(format!("playback had not ended after {RUN_LIMIT:?}").into());
        }
    }

    let outcome = player.wait_until_done().await?;
    println!("\nbytes per pathway:");
    for (pathway, usage) in &outcome.report.pathways {
        println!("  {pathway:12} {:>9} bytes in {:>3} segments", usage.bytes, usage.segments);
    }
    println!(
        "{} segments, {:.2} s rebuffering, state {:?}",
        outcome.report.segments, outcome.report.rebuffer_s, outcome.state
    );

    // What this example exists to show; anything missing is a failure CI should see.
    let mut missing = Vec::new();
    if !outcome.ended() {
        missing.push(format!("playback ended in {:?}", outcome.state));
    }
    if !seen.failed_over {
        missing.push(format!("no switch to {BACKUP} during the outage"));
    }
    if seen.media_from_backup == 0 {
        missing.push(format!("no media segment from {BACKUP} during the outage"));
    }
    if !seen.returned {
        missing.push(format!("no return to {PREFERRED} after the outage"));
    }
    if seen.media_from_preferred_after == 0 {
        missing.push(format!("no media segment from {PREFERRED} after the outage"));
    }
    if !missing.is_empty() {
        return Err(missing.join("; ").into());
    }
    println!(
        "failover shown: {} media segments (video and audio) from {BACKUP} during the \
         outage, {} from {PREFERRED} after it",
        seen.media_from_backup, seen.media_from_preferred_after
    );
    Ok(())
}

/// One step of the outage script.
#[derive(Debug, Clone, Copy)]
enum Step {
    GoDown,
    SteeringReacts,
    ComeBack,
}

/// Where the outage stands, to judge what the player does.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Phase {
    #[default]
    Before,
    During,
    After,
}

impl Step {
    fn run(self, origin: &OriginHandle, t: f64) -> Result<Phase, BoxError> {
        match self {
            Step::GoDown => {
                println!("{t:5.1} s  !! {PREFERRED} goes down");
                origin.set_outage(PREFERRED, true)?;
                Ok(Phase::During)
            }
            Step::SteeringReacts => {
                // What the operator's steering service does once its health checks see
                // the outage. Without it, the player would try `openconnect` again each
                // time its penalty ran out, and fail over again.
                println!("{t:5.1} s  !! the steering service puts {BACKUP} first");
                origin.set_priority(vec![BACKUP.into(), PREFERRED.into()]);
                Ok(Phase::During)
            }
            Step::ComeBack => {
                println!("{t:5.1} s  !! {PREFERRED} is back, and first again in steering");
                origin.set_outage(PREFERRED, false)?;
                // Back to the configured schedule: openconnect first.
                origin.clear_priority();
                Ok(Phase::After)
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What the player showed, for the final verdict.
#[derive(Debug, Default)]
struct Seen {
    phase: Phase,
    /// The steering priority last printed (polls that change nothing are not).
    priority: Vec<String>,
    failed_over: bool,
    media_from_backup: usize,
    returned: bool,
    media_from_preferred_after: usize,
}

impl Seen {
    /// Prints the events that tell the story; true once playback is over.
    fn record(&mut self, t: f64, event: &Event) -> bool {
        match event {
            Event::Player { event } => match event {
                PlayerEvent::PathwayChanged { from, to, reason } => {
                    println!(
                        "{t:5.1} s  pathway {} -> {to} ({reason:?})",
                        from.as_deref().unwrap_or("(none)")
                    );
                    match self.phase {
                        Phase::During if to == BACKUP => self.failed_over = true,
                        Phase::After if to == PREFERRED => self.returned = true,
                        _ => {}
                    }
                }
                PlayerEvent::FetchFailed { pathway, status, penalized } => println!(
                    "{t:5.1} s  fetch failed on {pathway} (status {status:?}){}",
                    if *penalized { ", pathway penalised" } else { "" }
                ),
                PlayerEvent::SteeringUpdated { priority } if *priority != self.priority => {
                    println!("{t:5.1} s  steering server says {priority:?}");
                    self.priority.clone_from(priority);
                }
                PlayerEvent::SteeringError { message } => {
                    println!("{t:5.1} s  steering error: {message}");
                }
                PlayerEvent::Stalled { position_s } => {
                    println!("{t:5.1} s  stalled at {position_s:.1} s");
                }
                PlayerEvent::StateChanged { to, .. } => {
                    println!("{t:5.1} s  state {to:?}");
                    return matches!(to, PlayerState::Ended | PlayerState::Failed);
                }
                _ => {}
            },
            // Count where media actually came from, not where it was asked for.
            Event::Request(r) if r.kind == FetchKind::Media && r.error.is_none() => {
                let pathway = r.pathway.as_deref().unwrap_or("-");
                println!("{t:5.1} s    media from {pathway}: {} bytes", r.bytes);
                match self.phase {
                    Phase::During if pathway == BACKUP => self.media_from_backup += 1,
                    Phase::After if pathway == PREFERRED => self.media_from_preferred_after += 1,
                    _ => {}
                }
            }
            Event::Stopped => return true,
            _ => {}
        }
        false
    }
}
