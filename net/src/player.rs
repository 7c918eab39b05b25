//! The embedding API: [`Player`].

use crate::config::PlayerConfig;
use crate::driver::{Command, Driver, Outcome};
use crate::error::PlayerError;
use crate::event::Event;
use crate::fetch::{self, FetchError, FetchJob, FetchMsg};
use crate::sink::{MediaSink, TimingSink};
use std::sync::Mutex;
use std::time::Duration;
use streamsteer::cmcd::derived_session_id;
use streamsteer::manifest::{Presentation, parse_any};
use streamsteer::session::{FetchKind, FetchRequest, PlayerState, Session, TrackKind};
use streamsteer::uri::Url;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A stream playing over HTTP: the engine's session driven by a tokio task.
///
/// Dropping the player stops playback (the driver task ends at its next turn).
///
/// # Example
///
/// Plays the committed demo ladder from the two-CDN test origin on loopback for a
/// few seconds, following the engine's events, then stops with a QoE report so far.
///
/// ```
/// use streamsteer::session::{PlayerEvent, PlayerState};
/// use streamsteer_net::{Event, Player, PlayerConfig};
/// use streamsteer_origin::{Origin, OriginConfig, content::demo_content};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (dir, _) = demo_content(1)?;
/// let origin = Origin::start(dir, OriginConfig::default()).await?;
///
/// let mut player = Player::load(&origin.hls_url(), PlayerConfig::default()).await?;
/// let mut events = player.events();
/// let mut decisions = 0;
/// while let Ok(event) = events.recv().await {
///     match event {
///         Event::Player { event: PlayerEvent::Decision { segment, bitrate_kbps, .. } } => {
///             println!("segment {segment} at {bitrate_kbps:.0} kbit/s");
///             decisions += 1;
///         }
///         Event::Player { event: PlayerEvent::StateChanged { to: PlayerState::Playing, .. } } => {
///             break;
///         }
///         _ => {}
///     }
/// }
/// player.stop();
/// let outcome = player.wait_until_done().await?;
/// assert!(decisions > 0 && outcome.error.is_none());
/// println!("{} segments, {:.0} kbit/s", outcome.report.segments, outcome.report.avg_bitrate_kbps);
/// origin.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Player {
    commands: mpsc::UnboundedSender<Command>,
    /// Weak, so that the channel closes when the driver task (the only strong
    /// sender) ends: a receiver then gets what was sent and `RecvError::Closed`.
    events: broadcast::WeakSender<Event>,
    first_events: Mutex<Option<broadcast::Receiver<Event>>>,
    task: Option<JoinHandle<Outcome>>,
    presentation: Presentation,
}

/// Builds the shared HTTP client from the configuration.
pub fn build_client(config: &PlayerConfig) -> Result<reqwest::Client, PlayerError> {
    let net = &config.net;
    // Redirects are followed by the fetch code, which checks each target against the
    // engine's URL rules and the host allowlist.
    let mut b = reqwest::Client::builder()
        .user_agent(net.user_agent.clone())
        .pool_max_idle_per_host(net.pool_max_idle_per_host)
        .redirect(reqwest::redirect::Policy::none());
    if net.connect_timeout_s.is_finite() && net.connect_timeout_s > 0.0 {
        b = b.connect_timeout(Duration::from_secs_f64(net.connect_timeout_s));
    }
    if net.http2_prior_knowledge {
        b = b.http2_prior_knowledge();
    }
    b.build().map_err(PlayerError::Client)
}

impl Player {
    /// Loads `url` (an HLS multivariant or media playlist, or a DASH MPD: detected
    /// from the content), then starts playing it into a [`TimingSink`].
    pub async fn load(url: &str, config: PlayerConfig) -> Result<Player, PlayerError> {
        Self::load_with_sink(url, config, TimingSink::default()).await
    }

    /// As [`load`](Self::load), with the caller's sink.
    pub async fn load_with_sink<S: MediaSink>(
        url: &str,
        config: PlayerConfig,
        sink: S,
    ) -> Result<Player, PlayerError> {
        let client = build_client(&config)?;
        Self::load_with_client(url, config, sink, client).await
    }

    /// As [`load_with_sink`](Self::load_with_sink), sharing the caller's HTTP client
    /// (and its connection pool). Build it with `redirect::Policy::none()` (as
    /// [`build_client`] does): the player then checks every redirect itself. A client
    /// that follows redirects on its own still cannot take the player elsewhere — a
    /// response whose final URL breaks the rules is refused — but the request to that
    /// URL will have been made.
    pub async fn load_with_client<S: MediaSink>(
        url: &str,
        config: PlayerConfig,
        sink: S,
        client: reqwest::Client,
    ) -> Result<Player, PlayerError> {
        let origin = Instant::now();
        let (events, first) = broadcast::channel(config.event_capacity.max(16));
        let given = url;
        let url = Url::parse(given)
            .map_err(|source| PlayerError::InvalidUrl { url: given.to_string(), source })?;
        if !config.session.allowed_hosts.allows_url(&url) {
            return Err(PlayerError::HostNotAllowed { url: url.to_string() });
        }
        let mut config = config;
        let cmcd = &mut config.session.cmcd;
        // One session id for the manifest request and every request after it.
        if cmcd.session_id.is_none() {
            cmcd.session_id = Some(derived_session_id(config.jitter_seed, &url));
        }
        let mut req = FetchRequest::document(0, url.clone(), FetchKind::Manifest, None);
        req.cmcd = cmcd.first_request(&req);
        let (cmcd_url, headers) = req.wire(cmcd.mode);
        let job = FetchJob::new(req, cmcd_url, headers, &config);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let fetched = fetch::fetch(&client, &job, Some(&tx)).await;
        drop(tx);
        while let Ok(msg) = rx.try_recv() {
            if let FetchMsg::Timing(t) = msg {
                let _ = events.send(Event::Request(t));
            }
        }
        let fetched = fetched
            .map_err(|f| PlayerError::ManifestFetch { url: url.to_string(), source: f.error })?;
        let text = String::from_utf8(fetched.body.to_vec()).map_err(|_| {
            PlayerError::ManifestFetch { url: url.to_string(), source: FetchError::NotText }
        })?;
        let presentation = parse_any(&text, &fetched.final_url).map_err(|source| {
            PlayerError::ManifestParse { url: fetched.final_url.to_string(), source }
        })?;
        drop(text);
        tracing::info!(url = %fetched.final_url, kind = ?presentation.kind, "manifest loaded");
        let session = Session::new(presentation.clone(), config.session.clone())?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let driver = Driver::new(session, client, config, origin, command_rx, events.clone(), sink);
        let task = tokio::spawn(driver.run());
        Ok(Player {
            commands,
            events: events.downgrade(),
            first_events: Mutex::new(Some(first)),
            task: Some(task),
            presentation,
        })
    }

    /// The presentation as parsed from the manifest (before any media playlist).
    pub fn presentation(&self) -> &Presentation {
        &self.presentation
    }

    /// The event stream. The first call gets every event since the player started
    /// (up to the channel's capacity); later calls get events from now on. The stream
    /// ends (`RecvError::Closed`) once playback has ended, failed or been stopped, so
    /// `while let Ok(event) = events.recv().await` terminates even for a receiver that
    /// fell behind and missed the final events.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        let first = self.first_events.lock().ok().and_then(|mut f| f.take());
        first.unwrap_or_else(|| match self.events.upgrade() {
            Some(sender) => sender.subscribe(),
            // The driver is done: an already closed stream.
            None => broadcast::channel(1).1,
        })
    }

    fn send(&self, c: Command) {
        // A finished driver no longer listens: the command has nothing left to act on.
        let _ = self.commands.send(c);
    }

    /// Start or resume playback (needed when `session.autoplay` is false, or after
    /// [`pause`](Self::pause)).
    pub fn play(&self) {
        self.send(Command::Play);
    }

    /// Pause playback; fetching continues up to the buffer target.
    pub fn pause(&self) {
        self.send(Command::Pause);
    }

    /// Seek to `position_s` seconds of media.
    pub fn seek(&self, position_s: f64) {
        self.send(Command::Seek(position_s));
    }

    /// Pin a rendition of a track (`None`: back to automatic selection).
    pub fn select_track(&self, track: TrackKind, rendition: Option<usize>) {
        self.send(Command::SelectTrack(track, rendition));
    }

    /// Stop playback: in-flight requests are aborted, and
    /// [`wait_until_done`](Self::wait_until_done) returns the report so far.
    pub fn stop(&self) {
        self.send(Command::Stop);
    }

    /// Waits until playback ends, fails or is stopped.
    pub async fn wait_until_done(&mut self) -> Result<Outcome, PlayerError> {
        let task = self.task.take().ok_or(PlayerError::AlreadyTaken)?;
        task.await.map_err(|e| PlayerError::Task(e.to_string()))
    }
}

impl Outcome {
    /// Whether the stream played to its end.
    pub fn ended(&self) -> bool {
        self.state == PlayerState::Ended
    }
}
