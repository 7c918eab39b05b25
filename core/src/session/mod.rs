//! The session: the sans-IO state machine that plays one presentation.
//!
//! The caller feeds [`Event`]s with its clock's "now" into [`Session::handle`] and
//! drains [`Action`]s with [`Session::poll_action`] (the quinn-proto pattern): fetch
//! this, cancel that, append these bytes, play, stall, wake me at *t*. The session
//! reads no clock and does no I/O, so the same code runs in the native player, the
//! browser, the mobile bindings and the simulator, and a recorded event log replays
//! bit for bit.
//!
//! What it does per track (video, plus audio when the presentation has a separate
//! audio track): keep the forward buffer at the [`BufferPolicy`](crate::buffer::BufferPolicy)
//! target; pick the video rung with the configured [`AbrRule`] (the audio rung by a
//! fixed policy); pick the pathway with [`Steering`] (priority, penalties, cost
//! preference); abandon a slow fetch when the rule says so; on a failed fetch
//! penalise the pathway and fetch the same segment from the next one. It models the
//! playhead itself (one second of media per second while playing), so a simulator
//! needs no player, and a real driver may correct it with
//! [`Event::PlaybackPosition`].
//!
//! ## The driver's side, request by request
//!
//! Each [`Action::Fetch`] names what it fetches ([`FetchRequest::kind`]); the driver
//! requests exactly [`FetchRequest::url`] (with [`FetchRequest::byte_range`] as a
//! `Range` header, and the CMCD keys by [`FetchRequest::wire`]), may report
//! [`Event::FetchStarted`] and [`Event::FetchProgress`] while it runs, and answers
//! once with:
//!
//! | [`FetchKind`] | success | failure |
//! |---|---|---|
//! | `Manifest` (media playlist, MPD refresh) | [`Event::ManifestLoaded`] with the text and the final URL | [`Event::FetchFailed`] |
//! | `SegmentIndex` (DASH `sidx` range) | [`Event::SegmentIndexLoaded`] with the bytes | [`Event::FetchFailed`] |
//! | `Init`, `Media` | [`Event::FetchCompleted`], holding the body by request id | [`Event::FetchFailed`] |
//! | `Steering` | [`Event::SteeringLoaded`] with the body | [`Event::SteeringFailed`] with the status and `Retry-After` |
//! | `UtcTiming` (a `HEAD` when [`FetchKind::is_head`]) | [`Event::UtcTimingLoaded`] with the body and the `Date` header | [`Event::FetchFailed`] |
//!
//! The body of a `FetchCompleted` is for the [`Action::Append`] naming its request,
//! which comes, if at all, among the actions drained right after that event (never
//! for a late or abandoned fetch): a driver drops a body not appended then. After
//! [`Action::Cancel`] nothing more is reported for that request; a late answer is
//! ignored anyway.
//!
//! A media append carries its [`MediaTiming`]: where the segment goes on the
//! presentation timeline, and whether its media timestamps start a new timeline (each
//! later period of a multi-period MPD, each HLS `EXT-X-DISCONTINUITY`, or a seek
//! across one). A sink that places media by its own timestamps (a decoder, an MSE
//! `SourceBuffer`) maps such a segment's first timestamp to `start_s` and keeps that
//! offset until the next new timeline; a new period may also bring a new init
//! segment (another codec), appended first.
//!
//! ## Live DASH by the wall clock
//!
//! A dynamic MPD addressed by `SegmentTemplate@duration` and `$Number$` lists no
//! segments: which exist depends on the wall clock (`availabilityStartTime`, the
//! segment duration, `timeShiftBufferDepth`). The session still reads no clock:
//! - the driver sends its UTC wall clock as [`Event::WallClock`] (Unix seconds, read
//!   at the instant passed beside it), as its first event; the session keeps it as an
//!   offset from the monotonic `now`;
//! - the MPD's `UTCTiming` sources are the server's clock, which wins: the session
//!   asks for each in turn with a [`FetchKind::UtcTiming`] fetch (a `HEAD` for
//!   `http-head`, see [`FetchKind::is_head`]) and the driver answers with
//!   [`Event::UtcTimingLoaded`] (the body, and the `Date` header) or
//!   [`Event::FetchFailed`]; the answer is corrected by half the round trip. `direct`
//!   needs no fetch. A source that fails or answers nonsense is reported
//!   ([`PlayerEvent::ClockSyncFailed`], a typed [`UtcTimingError`](crate::utc_timing::UtcTimingError))
//!   and the next is tried, then the driver's clock; [`PlayerEvent::ClockSynced`] says
//!   which clock is used and how far the driver's was off;
//! - once a clock is known the session lists the segments available, joins
//!   `@suggestedPresentationDelay` (else [`SessionConfig::live_delay_segments`]
//!   segments) behind the live edge, and adds each new segment when the clock says it
//!   exists (asking to be woken then), never before; `@minimumUpdatePeriod` reloads
//!   still apply. With neither clock after 10 s the session fails.
//!
//! Every decision goes into the QoE event log ([`Session::event_log`]) and the final
//! [`QoeReport`] ([`Session::qoe_report`]). The log and the per-segment records keep
//! the newest entries only ([`SessionConfig::history`]) while the report is
//! accumulated as segments arrive, so that a session of any length (a 24-hour live
//! stream) runs in flat memory.

mod action;
mod body_limits;
mod cmcd_keys;
mod config;
mod event;
mod failover;
mod history;
mod live;
mod live_template;
mod loading;
mod machine;
#[cfg(feature = "dash-lite")]
mod mpd_reload;
mod plan;
mod playback;
mod recorder;
mod requests;
mod scheduler;
mod segment_index;
mod synthetic;
mod timeline;
mod wallclock;

pub use action::{
    Action, ClockSource, DecisionReason, ErrorKind, FetchKind, FetchRequest, MediaTiming,
    PlayerEvent, PlayerState,
};
pub use body_limits::BodyLimits;
pub use config::SessionConfig;
pub use event::{Event, RequestId, TrackKind};
pub use history::{DEFAULT_EVENT_LOG, DEFAULT_SEGMENT_RECORDS, History, HistoryConfig, Retention};
pub use recorder::LogEntry;
pub use synthetic::{
    SyntheticLive, SyntheticOptions, live_presentation_from_ladder, presentation_from_ladder,
};

use crate::abr::estimator::{DualEwma, Estimator};
use crate::abr::{AbrError, AbrRule};
use crate::buffer::BufferPolicyError;
use crate::manifest::{ManifestKind, Presentation};
use crate::qoe::QoeReport;
use crate::steering::{Protocol, Steering};
use machine::Core;
use thiserror::Error;

/// Why a session could not be created.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The ABR rule name is unknown.
    #[error(transparent)]
    Abr(#[from] AbrError),
    /// The buffer policy is unusable.
    #[error(transparent)]
    Buffer(#[from] BufferPolicyError),
    /// The presentation cannot be played (no playable track, unsupported index…).
    #[error("cannot play this presentation: {0}")]
    Presentation(String),
}

impl SessionError {
    /// What kind of failure this is: an unknown rule or an unusable configuration is
    /// [`ErrorKind::Unsupported`], a presentation with nothing to play
    /// [`ErrorKind::Manifest`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Abr(_) | Self::Buffer(_) => ErrorKind::Unsupported,
            Self::Presentation(_) => ErrorKind::Manifest,
        }
    }
}

/// One playback session (see the module docs).
///
/// # Example
///
/// A whole session driven by hand over a simulated 2 Mbit/s link, one request at a
/// time: what a driver does with real sockets, a timer and a media sink.
///
/// ```
/// use streamsteer::Ladder;
/// use streamsteer::session::{
///     Action, Event, PlayerState, Session, SessionConfig, SyntheticOptions,
///     presentation_from_ladder,
/// };
/// use streamsteer::time::{Duration, Instant};
///
/// // A 40 s presentation (10 segments of 4 s) at three bitrates, on one CDN.
/// let ladder = Ladder::constant_bitrate(vec![400.0, 1200.0, 3000.0], 4.0, 10)?;
/// let presentation = presentation_from_ladder(&ladder, &SyntheticOptions::default())?;
/// let mut session = Session::new(presentation, SessionConfig::default())?;
///
/// let link_kbps = 2000.0;
/// let mut now = Instant::ZERO;
/// let mut queue = Vec::new();
/// let mut wake = None;
/// session.handle(now, Event::Tick);
/// while !matches!(session.state(), PlayerState::Ended | PlayerState::Failed) {
///     while let Some(action) = session.poll_action() {
///         match action {
///             Action::Fetch(request) => queue.push(request),
///             Action::Cancel { id } => queue.retain(|r| r.id != id),
///             Action::WakeAt(t) => wake = Some(t),
///             // Append, Play, Stall, Emit: a media sink and the application's.
///             _ => {}
///         }
///     }
///     if queue.is_empty() {
///         // Nothing to fetch: sleep until the session's timer (the buffer is full).
///         now = wake.take().expect("an idle session asks to be woken");
///         session.handle(now, Event::Tick);
///         continue;
///     }
///     // Transfer the oldest request: 50 ms to the first byte, then the link's rate.
///     let request = queue.remove(0);
///     let bytes = request.expected_bytes.unwrap_or(100_000);
///     let ttfb = Duration::from_secs_f64(0.05);
///     let duration = ttfb + Duration::from_secs_f64(bytes as f64 * 8.0 / (link_kbps * 1000.0));
///     now = now + duration;
///     session.handle(now, Event::FetchCompleted { id: request.id, bytes, ttfb, duration });
/// }
/// let report = session.qoe_report();
/// assert_eq!(session.state(), PlayerState::Ended);
/// assert_eq!(report.segments, 10);
/// // The link carries the middle rung, not the top one.
/// assert!(report.avg_bitrate_kbps > 400.0 && report.avg_bitrate_kbps < 2000.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session<'r> {
    core: Core<'r>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("state", &self.core.state()).finish_non_exhaustive()
    }
}

impl Session<'static> {
    /// A session over `presentation` with the ABR rule named in `config`.
    pub fn new(presentation: Presentation, config: SessionConfig) -> Result<Self, SessionError> {
        Self::build(presentation, config, None, None)
    }
}

impl<'r> Session<'r> {
    /// A session with a caller-provided rule and estimator (the simulator lends its
    /// rule; tests plug in stubs).
    pub fn with_parts(
        presentation: Presentation,
        config: SessionConfig,
        rule: Box<dyn AbrRule + 'r>,
        estimator: Box<dyn Estimator>,
    ) -> Result<Self, SessionError> {
        Self::build(presentation, config, Some(rule), Some(estimator))
    }

    fn build(
        presentation: Presentation,
        mut config: SessionConfig,
        rule: Option<Box<dyn AbrRule + 'r>>,
        estimator: Option<Box<dyn Estimator>>,
    ) -> Result<Self, SessionError> {
        config.buffer.validate()?;
        config.abr.buffer_max_s = config.buffer.forward_target_s;
        let protocol = match presentation.kind {
            ManifestKind::Hls => Protocol::Hls,
            ManifestKind::Dash => Protocol::Dash,
        };
        let pathways: Vec<String> = presentation.pathways.iter().map(|p| p.id.clone()).collect();
        let steering_info = presentation.steering.clone();
        let initial = steering_info.as_ref().and_then(|s| s.default_pathways.first().cloned());
        let steering = Steering::new(
            protocol,
            config.steering.clone(),
            &pathways,
            initial.as_deref(),
            steering_info.as_ref().map(|s| s.server_url.clone()),
        )
        .with_allowed_hosts(config.allowed_hosts.clone());
        let query_before_start = protocol == Protocol::Hls
            || steering_info.as_ref().is_some_and(|s| s.query_before_start);
        let estimator = estimator.unwrap_or_else(|| Box::new(DualEwma::new(config.estimator)));
        let core = Core::new(presentation, config, rule, estimator, steering, query_before_start)?;
        Ok(Self { core })
    }

    /// Feeds one event that happened at `now` (times earlier than the latest seen
    /// are treated as the latest: the session's clock never goes back).
    pub fn handle(&mut self, now: crate::time::Instant, event: Event) {
        self.core.handle(now, event);
    }

    /// The next action to carry out, in order; `None` when there is nothing to do
    /// until the next event.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.core.poll_action()
    }

    /// The player state.
    pub fn state(&self) -> PlayerState {
        self.core.state()
    }

    /// Seconds of playable media ahead of the playhead (all tracks).
    pub fn buffer_level_s(&self) -> f64 {
        self.core.buffer_level_s()
    }

    /// The playhead, seconds of media.
    pub fn position_s(&self) -> f64 {
        self.core.position_s()
    }

    /// Every track has been fetched to its end and handed to the driver in `Append`
    /// actions (VOD, or a live stream that ended). A driver whose media pipeline takes
    /// an end-of-stream signal (MSE's `endOfStream`) gives it now: `Ended` comes only
    /// once the playhead gets there, and a pipeline without the signal waits at the
    /// end of its buffer instead of ending.
    pub fn fetched_to_end(&self) -> bool {
        self.core.complete()
    }

    /// The QoE event log: every decision, pathway change, stall and error, oldest
    /// first; only the newest entries under [`HistoryConfig::event_log`]
    /// ([`History::dropped`] says how many went).
    pub fn event_log(&self) -> &History<LogEntry> {
        self.core.log()
    }

    /// The per-segment log of the video track, oldest first; only the newest records
    /// under [`HistoryConfig::segment_records`] ([`History::total`] counts them all).
    pub fn segment_records(&self) -> &History<crate::qoe::SegmentRecord> {
        self.core.records()
    }

    /// The QoE report so far (final once the state is `Ended`), over every segment
    /// played, whatever the records keep.
    pub fn qoe_report(&self) -> QoeReport {
        self.core.qoe_report()
    }

    /// The steering state (priority, pathway health).
    pub fn steering(&self) -> &Steering {
        self.core.steering()
    }
}
