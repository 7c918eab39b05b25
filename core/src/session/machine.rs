//! The hub of the session: the state every part shares, the event entry point and the
//! drive loop that lets each part act.
//!
//! The parts, one concern each, are `impl Core` blocks in their own files:
//! - `playback`: the playhead, the player state and stalls;
//! - `loading`: the media playlists to load before the plan, and the
//!   plan;
//! - `segment_index`: the DASH on-demand (`sidx`) indexes to load before the plan;
//! - `scheduler`: per-track fetch scheduling, rung decisions,
//!   pathway selection, completions and abandonment;
//! - `failover`: failed fetches, retries and pathway refusal;
//! - `live`: joining the live edge and refreshing the window;
//! - `requests`: which document request is out for what, and the
//!   steering requests;
//! - `recorder`: the event log, the segment records and the QoE
//!   accounting.

use super::SessionError;
use super::action::{Action, ErrorKind, PlayerEvent, PlayerState};
use super::cmcd_keys::CmcdState;
use super::config::SessionConfig;
use super::event::Event;
use super::history::History;
use super::live::LiveRefresh;
use super::live_template::LiveTemplates;
use super::playback::Playback;
use super::recorder::{LogEntry, Recorder};
use super::requests::Requests;
use super::scheduler::Tracks;
use super::wallclock::WallClock;
use crate::Ladder;
use crate::abr::estimator::Estimator;
use crate::abr::{AbrRule, build_rule};
use crate::manifest::Presentation;
use crate::qoe::{QoeReport, SegmentRecord};
use crate::steering::Steering;
use crate::time::{Duration, Instant};
use std::collections::VecDeque;

/// Slack for comparing media times computed along different float paths.
pub(super) const EPS: f64 = 1e-7;

pub(crate) struct Core<'r> {
    pub(super) config: SessionConfig,
    pub(super) presentation: Presentation,
    /// The ABR rule (built with the ladder once the plan is, unless lent).
    pub(super) rule: Option<Box<dyn AbrRule + 'r>>,
    /// The session-wide throughput/latency estimator.
    pub(super) estimator: Box<dyn Estimator>,
    /// The main track's ladder, once the plan is built.
    pub(super) ladder: Option<Ladder>,
    pub(super) steering: Steering,
    /// Whether steering starts before playback (HLS, or DASH `@queryBeforeStart`).
    query_before_start: bool,
    /// Whether the first event was seen, and when.
    pub(super) started: bool,
    pub(super) started_at: Instant,
    /// The session clock: the latest "now" seen.
    pub(super) now: Instant,
    /// The playhead, the player state and stalls.
    pub(super) playback: Playback,
    /// The tracks being played and what each is fetching.
    pub(super) tracks: Tracks,
    /// The pathway the latest segment request went to.
    pub(super) pathway: Option<String>,
    /// Document requests (playlists, refreshes, steering) in flight.
    pub(super) requests: Requests,
    /// Live: when the window is reloaded next.
    pub(super) live: LiveRefresh,
    /// Live DASH templates, expanded by the wall clock.
    pub(super) templates: LiveTemplates,
    /// The wall clock (driver's or server's), as offsets from `now`.
    pub(super) clock: WallClock,
    /// Event log, segment records, QoE accounting.
    pub(super) recorder: Recorder,
    /// Actions not yet drained by the caller.
    pub(super) actions: VecDeque<Action>,
    /// The latest `WakeAt` asked for.
    last_wake: Option<Instant>,
    /// CMCD: the session id and what the next request reports.
    pub(super) cmcd: CmcdState,
}

impl<'r> Core<'r> {
    pub(crate) fn new(
        mut presentation: Presentation,
        config: SessionConfig,
        rule: Option<Box<dyn AbrRule + 'r>>,
        estimator: Box<dyn Estimator>,
        steering: Steering,
        query_before_start: bool,
    ) -> Result<Self, SessionError> {
        if rule.is_none() {
            // Fail early on an unknown name; the real rule needs the ladder, which an
            // HLS presentation only yields once its media playlists are loaded.
            let probe = Ladder::constant_bitrate(vec![1.0], 1.0, 1)
                .map_err(|e| SessionError::Presentation(e.to_string()))?;
            build_rule(&config.abr_rule, &config.abr, &probe)?;
        }
        if presentation.main_track().is_none() {
            return Err(SessionError::Presentation(
                "no video or audio track with renditions".into(),
            ));
        }
        let (history, qoe) = (config.history, config.qoe);
        let cmcd =
            CmcdState { session_id: config.cmcd.session_id_for(&presentation.url), starved: false };
        let templates = LiveTemplates::take(&mut presentation);
        let sources = presentation.live.as_ref().map(|l| l.utc_timing.clone()).unwrap_or_default();
        Ok(Self {
            config,
            presentation,
            rule,
            estimator,
            ladder: None,
            steering,
            query_before_start,
            started: false,
            started_at: Instant::ZERO,
            now: Instant::ZERO,
            playback: Playback::new(),
            tracks: Tracks::default(),
            pathway: None,
            requests: Requests::new(),
            live: LiveRefresh::default(),
            templates,
            clock: WallClock::new(sources),
            recorder: Recorder::new(history, qoe),
            actions: VecDeque::new(),
            last_wake: None,
            cmcd,
        })
    }

    // ----- accessors -------------------------------------------------------------

    pub(crate) fn state(&self) -> PlayerState {
        self.playback.state
    }

    pub(crate) fn position_s(&self) -> f64 {
        self.playback.position_s
    }

    pub(crate) fn log(&self) -> &History<LogEntry> {
        self.recorder.log()
    }

    pub(crate) fn records(&self) -> &History<SegmentRecord> {
        self.recorder.records()
    }

    pub(crate) fn steering(&self) -> &Steering {
        &self.steering
    }

    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(crate) fn qoe_report(&self) -> QoeReport {
        self.recorder.report(self.now, self.started_at, self.playback.stall_started)
    }

    // ----- outputs ---------------------------------------------------------------

    /// Queues an action for the caller.
    /// Queues an action for the caller. A fetch gets its CMCD keys here unless its
    /// maker gave it the keys of a segment already.
    pub(super) fn act(&mut self, mut action: Action) {
        if let Action::Fetch(req) = &mut action
            && req.cmcd.is_none()
        {
            req.cmcd = self.cmcd_keys(req, None).map(Box::new);
        }
        self.actions.push_back(action);
    }

    /// Tells the application (and the event log) something that happened at `at`.
    pub(super) fn emit_at(&mut self, at: Instant, event: PlayerEvent) {
        self.recorder.log_event(at, &event);
        self.actions.push_back(Action::Emit(event));
    }

    pub(super) fn emit(&mut self, event: PlayerEvent) {
        self.emit_at(self.now, event);
    }

    /// Gives up: a fatal error, every request cancelled, the `Failed` state and the
    /// final report.
    pub(super) fn fail(&mut self, kind: ErrorKind, message: String) {
        if matches!(self.playback.state, PlayerState::Failed | PlayerState::Ended) {
            return;
        }
        self.emit(PlayerEvent::Error { kind, message, fatal: true });
        for t in self.tracks.iter_mut() {
            if let Some(job) = t.job.take() {
                self.actions.push_back(Action::Cancel { id: job.id });
            }
            t.deferred = None;
            t.wait_until = None;
        }
        self.close_stall();
        self.set_state(PlayerState::Failed);
        let report = Box::new(self.qoe_report());
        self.emit(PlayerEvent::QoeReport { report });
    }

    // ----- event entry point -----------------------------------------------------

    pub(crate) fn handle(&mut self, now: Instant, event: Event) {
        // Failed is final; once ended, only the user (a seek starts over) is heard. A
        // reply arriving late (a playlist retried, a refresh, steering) must not start
        // requests again or report anything.
        let reply = matches!(
            event,
            Event::FetchStarted { .. }
                | Event::FetchProgress { .. }
                | Event::FetchCompleted { .. }
                | Event::FetchFailed { .. }
                | Event::ManifestLoaded { .. }
                | Event::SegmentIndexLoaded { .. }
                | Event::SteeringLoaded { .. }
                | Event::SteeringFailed { .. }
                | Event::UtcTimingLoaded { .. }
                // Not a reply, but once ended there is nothing for a clock to place.
                | Event::WallClock { .. }
        );
        let state = self.playback.state;
        if state == PlayerState::Failed || (state == PlayerState::Ended && reply) {
            return;
        }
        let now = now.max(self.now);
        self.now = now;
        if let Event::WallClock { unix_s } = event {
            // Before the start: a driver's first event is its clock, which the load
            // the start begins may already need.
            self.on_wall_clock(unix_s);
        }
        if !self.started {
            self.start(now);
        }
        self.advance(now);
        if reply && matches!(self.playback.state, PlayerState::Failed | PlayerState::Ended) {
            // Ended (or failed) just now, as time passed: the reply comes too late.
            return;
        }
        match event {
            Event::Tick | Event::FetchStarted { .. } => {}
            Event::FetchProgress { id, bytes, ttfb } => self.on_progress(id, bytes, ttfb),
            Event::FetchCompleted { id, bytes, ttfb, duration } => {
                self.on_completed(id, bytes, ttfb, duration)
            }
            Event::FetchFailed { id, status, bytes } => self.on_failed(id, status, bytes),
            // A driver that answers every GET alike: the body is the answer.
            Event::ManifestLoaded { id, text, .. } if self.requests.is_utc_timing(id) => {
                self.on_utc_timing(id, &text, None)
            }
            Event::ManifestLoaded { id, text, url } => self.on_manifest(id, &text, &url),
            Event::SegmentIndexLoaded { id, data } => self.on_segment_index(id, &data),
            Event::UtcTimingLoaded { id, body, date } => {
                self.on_utc_timing(id, &body, date.as_deref())
            }
            Event::WallClock { .. } => {}
            Event::SteeringLoaded { id, body } => self.on_steering_loaded(id, &body),
            Event::SteeringFailed { id, status, retry_after } => {
                self.on_steering_failed(id, status, retry_after)
            }
            Event::PlaybackPosition { position_s } => self.on_position(position_s),
            Event::UserSeek { position_s } => self.seek(position_s),
            Event::UserSelectTrack { track, rendition } => {
                if let Some(t) = self.tracks.get_mut(track) {
                    t.pinned = rendition.map(|r| r.min(t.plan.rungs.len().saturating_sub(1)));
                }
            }
            Event::Play => self.play(),
            Event::Pause => self.pause(),
        }
        self.drive();
    }

    // ----- the drive loop --------------------------------------------------------

    /// Lets every part act on the present: steering polls, live refreshes, each
    /// track's next fetch, the playback phase; then asks to be woken at the next time
    /// something is due.
    fn drive(&mut self) {
        // A few passes: issuing one thing can make another due at the same instant.
        for _ in 0..4 {
            if matches!(self.playback.state, PlayerState::Failed | PlayerState::Ended) {
                break;
            }
            let phase = self.playback.state;
            self.poll_steering();
            self.advance_templates();
            if self.live.due(self.now) {
                self.refresh_live();
            }
            for kind in Tracks::ORDER {
                self.schedule(kind);
            }
            self.update_phase();
            // A fetch the buffer target held while buffering waits for the buffer to
            // drain once playing: the tracks must decide again in the new phase (a
            // first segment longer than the room left under the target otherwise
            // waited for nothing, and playback stalled at its end).
            if self.playback.state == phase && self.next_due().is_none_or(|t| t > self.now) {
                break;
            }
        }
        if self.playback.state == PlayerState::Playing
            && self.steering.poll_state() == crate::steering::PollState::Idle
        {
            // DASH without @queryBeforeStart: steering starts once playback has.
            self.steering.start(self.now);
            self.poll_steering();
        }
        let wake = if matches!(self.playback.state, PlayerState::Failed | PlayerState::Ended) {
            None
        } else {
            // The earliest time still to come: something due already but not acted on
            // (a retry of a track waiting at the live edge for a refresh) must not hide
            // what comes later.
            self.due().into_iter().filter(|t| *t > self.now).min()
        };
        if let Some(t) = wake
            && self.last_wake != Some(t)
        {
            self.last_wake = Some(t);
            self.actions.push_back(Action::WakeAt(t));
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.due().into_iter().min()
    }

    /// Every time at which something is due.
    fn due(&self) -> Vec<Instant> {
        let mut due: Vec<Instant> = Vec::new();
        if self.playback.state == PlayerState::Playing && !self.tracks.is_empty() {
            let ahead = self.buffer_level_s();
            let run =
                if self.complete() { ahead } else { ahead - self.config.buffer.stall_threshold_s };
            due.push(self.now + Duration::from_secs_f64(run.max(0.0)).max(Duration(1)));
        }
        for t in self.tracks.iter() {
            due.extend(t.wait_until);
            due.extend(t.deferred.map(|p| p.at));
        }
        if !self.requests.steering_out() {
            due.extend(self.steering.next_wake());
        }
        due.extend(self.live.next_at());
        due.extend(self.next_template_segment());
        due.extend(self.clock.deadline());
        due
    }

    /// The first event: steering may start, and the media playlists to load are
    /// requested (or, with none to load, the plan is built at once).
    fn start(&mut self, now: Instant) {
        self.started = true;
        self.started_at = now;
        self.playback.last_advance = now;
        self.recorder.start(now);
        self.playback.user_paused = !self.config.autoplay;
        if self.query_before_start {
            self.steering.start(now);
        }
        self.load_playlists();
    }
}
