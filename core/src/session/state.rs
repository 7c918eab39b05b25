//! The session's internals: playback model, per-track fetch scheduling, failover,
//! abandonment and QoE accounting.

use super::SessionError;
use super::action::{Action, DecisionReason, FetchKind, FetchRequest, PlayerEvent, PlayerState};
use super::config::SessionConfig;
use super::event::{Event, RequestId, TrackKind};
use super::history::History;
use super::plan::{self, TrackPlan};
use crate::Ladder;
use crate::abr::estimator::{Estimator, Sample};
use crate::abr::{AbrContext, AbrRule, DownloadReport, FetchProgress, Reason, build_rule};
use crate::buffer::PlaybackPhase;
use crate::manifest::Presentation;
#[cfg(feature = "dash")]
use crate::manifest::SegmentIndex;
use crate::qoe::{PathwayUsage, QoeAccumulator, QoeReport, SegmentRecord};
use crate::steering::{StableId, Steering};
use crate::time::{Duration, Instant};
use crate::uri::Url;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Slack for comparing media times computed along different float paths.
const EPS: f64 = 1e-7;

/// One entry of the QoE event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When, seconds on the session clock.
    pub t_s: f64,
    /// What.
    pub event: PlayerEvent,
}

#[derive(Debug, Clone)]
struct Job {
    id: RequestId,
    segment: usize,
    rung: usize,
    pathway: String,
    init: bool,
    reason: DecisionReason,
    issued_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    rung: usize,
    reason: DecisionReason,
    at: Instant,
}

#[derive(Debug)]
struct TrackState {
    plan: TrackPlan,
    next_segment: usize,
    buffered_end_s: f64,
    job: Option<Job>,
    pending: Option<Pending>,
    wait_until: Option<Instant>,
    loaded_init: Option<String>,
    last_rung: Option<usize>,
    pinned: Option<usize>,
    attempts: u32,
    seg_first_request: Option<Instant>,
    seg_bits: f64,
}

impl TrackState {
    fn new(plan: TrackPlan) -> Self {
        let start = plan.timeline.first().map_or(0.0, |t| t.0);
        Self {
            plan,
            next_segment: 0,
            buffered_end_s: start,
            job: None,
            pending: None,
            wait_until: None,
            loaded_init: None,
            last_rung: None,
            pinned: None,
            attempts: 0,
            seg_first_request: None,
            seg_bits: 0.0,
        }
    }

    fn done(&self) -> bool {
        !self.plan.open && self.next_segment >= self.plan.timeline.len()
    }

    /// Live, at the newest segment listed: waiting for a playlist refresh.
    fn at_live_edge(&self) -> bool {
        self.plan.open && self.next_segment >= self.plan.timeline.len()
    }

    fn end_s(&self) -> f64 {
        self.plan.timeline.last().map_or(0.0, |(s, d)| s + d)
    }
}

pub(crate) struct Core<'r> {
    config: SessionConfig,
    presentation: Presentation,
    rule: Option<Box<dyn AbrRule + 'r>>,
    estimator: Box<dyn Estimator>,
    steering: Steering,
    query_before_start: bool,
    ladder: Option<Ladder>,
    tracks: Vec<TrackState>,
    pending_playlists: BTreeMap<RequestId, (String, Url, u32)>,
    actions: VecDeque<Action>,
    started: bool,
    started_at: Instant,
    now: Instant,
    last_advance: Instant,
    next_id: RequestId,
    state: PlayerState,
    user_paused: bool,
    position_s: f64,
    steering_request: Option<RequestId>,
    stall_started: Option<Instant>,
    rebuffer_mark: Instant,
    pending_rebuffer_s: f64,
    rebuffer_count: usize,
    rebuffer_s: f64,
    startup_delay_s: Option<f64>,
    records: History<SegmentRecord>,
    /// The QoE report over every segment, whatever `records` keeps.
    qoe: QoeAccumulator,
    usage: BTreeMap<String, PathwayUsage>,
    log: History<LogEntry>,
    last_wake: Option<Instant>,
    current_pathway: Option<String>,
    /// Live: when to reload the playlists (or the MPD) next.
    live_refresh_at: Option<Instant>,
}

/// Rendition id under which a live MPD reload is tracked among the playlist requests.
const MPD_REFRESH: &str = "#mpd";
/// Attempt number marking a live refresh: not retried (the next refresh is the retry).
const REFRESH: u32 = 0;

/// What every ABR context is built from besides the ladder and the track.
#[derive(Debug, Clone, Copy)]
struct View {
    position_s: f64,
    buffer_max_s: f64,
    throughput_kbps: Option<f64>,
    latency_s: Option<f64>,
    now: Instant,
    playing: bool,
}

fn abr_ctx<'a>(ladder: &'a Ladder, t: &TrackState, v: View) -> AbrContext<'a> {
    AbrContext {
        ladder,
        segment_index: t.next_segment,
        buffer_level_s: (t.buffered_end_s - v.position_s).max(0.0),
        buffer_max_s: v.buffer_max_s,
        last_rendition: t.last_rung,
        throughput_kbps: v.throughput_kbps,
        latency_s: v.latency_s,
        now_s: v.now.as_secs_f64(),
        playing: v.playing,
    }
}

impl<'r> Core<'r> {
    pub(crate) fn new(
        presentation: Presentation,
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
        Ok(Self {
            config,
            presentation,
            rule,
            estimator,
            steering,
            query_before_start,
            ladder: None,
            tracks: Vec::new(),
            pending_playlists: BTreeMap::new(),
            actions: VecDeque::new(),
            started: false,
            started_at: Instant::ZERO,
            now: Instant::ZERO,
            last_advance: Instant::ZERO,
            next_id: 1,
            state: PlayerState::Loading,
            user_paused: false,
            position_s: 0.0,
            steering_request: None,
            stall_started: None,
            rebuffer_mark: Instant::ZERO,
            pending_rebuffer_s: 0.0,
            rebuffer_count: 0,
            rebuffer_s: 0.0,
            startup_delay_s: None,
            records: History::new(history.segment_records),
            qoe: QoeAccumulator::new(qoe),
            usage: BTreeMap::new(),
            log: History::new(history.event_log),
            last_wake: None,
            current_pathway: None,
            live_refresh_at: None,
        })
    }

    // ----- accessors -------------------------------------------------------------

    pub(crate) fn state(&self) -> PlayerState {
        self.state
    }

    pub(crate) fn position_s(&self) -> f64 {
        self.position_s
    }

    pub(crate) fn log(&self) -> &History<LogEntry> {
        &self.log
    }

    pub(crate) fn records(&self) -> &History<SegmentRecord> {
        &self.records
    }

    pub(crate) fn steering(&self) -> &Steering {
        &self.steering
    }

    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    fn complete(&self) -> bool {
        !self.tracks.is_empty() && self.tracks.iter().all(TrackState::done)
    }

    /// End of the media playable on every track: a finished track does not hold the
    /// others back.
    fn playable_end_s(&self) -> f64 {
        let open = self
            .tracks
            .iter()
            .filter(|t| !t.done())
            .map(|t| t.buffered_end_s)
            .fold(f64::INFINITY, f64::min);
        if open.is_finite() {
            open
        } else {
            self.tracks.iter().map(|t| t.buffered_end_s).fold(0.0, f64::max)
        }
    }

    pub(crate) fn buffer_level_s(&self) -> f64 {
        if self.tracks.is_empty() {
            return 0.0;
        }
        (self.playable_end_s() - self.position_s).max(0.0)
    }

    pub(crate) fn qoe_report(&self) -> QoeReport {
        let startup = self
            .startup_delay_s
            .unwrap_or_else(|| self.now.saturating_since(self.started_at).as_secs_f64());
        let mut report = self.qoe.report(startup);
        let ongoing =
            self.stall_started.map_or(0.0, |s| self.now.saturating_since(s).as_secs_f64());
        report.rebuffer_count = self.rebuffer_count + usize::from(self.stall_started.is_some());
        report.rebuffer_s = self.rebuffer_s + ongoing;
        report.pathways = self.usage.clone();
        report
    }

    // ----- outputs ---------------------------------------------------------------

    fn emit_at(&mut self, at: Instant, event: PlayerEvent) {
        self.log.push(LogEntry { t_s: at.as_secs_f64(), event: event.clone() });
        self.actions.push_back(Action::Emit(event));
    }

    fn emit(&mut self, event: PlayerEvent) {
        self.emit_at(self.now, event);
    }

    /// Accounts a played video segment in the QoE report and keeps its record.
    fn record(&mut self, record: SegmentRecord) {
        if self.qoe.segments() == 0 {
            // Every record's bitrate is a rung's (or 0 for a missing one): with them
            // as QoE_log's candidate minima the report is exact.
            let rungs = self.tracks.first().map(|t| t.plan.rungs.iter().map(|r| r.bitrate_kbps));
            self.qoe.add_log_bases(rungs.into_iter().flatten().chain([0.0]));
        }
        self.qoe.push(&record);
        self.records.push(record);
    }

    fn set_state_at(&mut self, at: Instant, to: PlayerState) {
        if self.state != to {
            let from = self.state;
            self.state = to;
            self.emit_at(at, PlayerEvent::StateChanged { from, to });
        }
    }

    fn set_state(&mut self, to: PlayerState) {
        self.set_state_at(self.now, to);
    }

    fn alloc_id(&mut self) -> RequestId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn fail(&mut self, message: String) {
        if matches!(self.state, PlayerState::Failed | PlayerState::Ended) {
            return;
        }
        self.emit(PlayerEvent::Error { message, fatal: true });
        for i in 0..self.tracks.len() {
            if let Some(job) = self.tracks[i].job.take() {
                self.actions.push_back(Action::Cancel { id: job.id });
            }
            self.tracks[i].pending = None;
            self.tracks[i].wait_until = None;
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
                | Event::SteeringLoaded { .. }
                | Event::SteeringFailed { .. }
        );
        if self.state == PlayerState::Failed || (self.state == PlayerState::Ended && reply) {
            return;
        }
        let now = now.max(self.now);
        self.now = now;
        if !self.started {
            self.start(now);
        }
        self.advance(now);
        if reply && matches!(self.state, PlayerState::Failed | PlayerState::Ended) {
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
            Event::ManifestLoaded { id, text, url } => self.on_manifest(id, &text, &url),
            Event::SteeringLoaded { id, body } => {
                if self.steering_request == Some(id) {
                    self.steering_request = None;
                    match self.steering.on_loaded(now, &body) {
                        Ok(up) => self.emit(PlayerEvent::SteeringUpdated { priority: up.priority }),
                        Err(e) => self.emit(PlayerEvent::SteeringError { message: e.to_string() }),
                    }
                }
            }
            Event::SteeringFailed { id, status, retry_after } => {
                if self.steering_request == Some(id) {
                    self.steering_request = None;
                    self.steering.on_failed(now, status, retry_after);
                    let message = format!("steering request failed (status {status:?})");
                    self.emit(PlayerEvent::SteeringError { message });
                }
            }
            Event::PlaybackPosition { position_s } => {
                if position_s.is_finite() {
                    // Within the presentation, as a seek is: a sink's clock may overrun
                    // the end, and the playhead would then come back to it.
                    self.position_s = if self.tracks.is_empty() {
                        position_s.max(0.0)
                    } else {
                        self.clamp_to_timeline(position_s)
                    };
                }
            }
            Event::UserSeek { position_s } => self.seek(position_s),
            Event::UserSelectTrack { track, rendition } => {
                if let Some(t) = self.tracks.iter_mut().find(|t| t.plan.kind == track) {
                    t.pinned = rendition.map(|r| r.min(t.plan.rungs.len().saturating_sub(1)));
                }
            }
            Event::Play => self.play(),
            Event::Pause => self.pause(),
        }
        self.drive();
    }

    fn start(&mut self, now: Instant) {
        self.started = true;
        self.started_at = now;
        self.last_advance = now;
        self.rebuffer_mark = now;
        self.user_paused = !self.config.autoplay;
        if self.query_before_start {
            self.steering.start(now);
        }
        let playlists = plan::unresolved(&self.presentation, true);
        if playlists.is_empty() {
            self.build_plan();
            return;
        }
        for (rid, url) in playlists {
            self.request_playlist(rid, url, 1);
        }
    }

    fn request_playlist(&mut self, rid: String, url: Url, attempt: u32) {
        let id = self.alloc_id();
        if !self.config.allowed_hosts.allows_url(&url) {
            self.emit(PlayerEvent::Error {
                message: format!("media playlist of {rid}: {url} is not on an allowed host"),
                fatal: false,
            });
            // No retry can help: this counts as the last attempt (a live refresh stays
            // a refresh, whose failure leaves the window playable).
            let last = if attempt == REFRESH {
                REFRESH
            } else {
                self.config.max_attempts_per_segment.max(attempt)
            };
            self.pending_playlists.insert(id, (rid, url, last));
            return self.on_failed(id, None, 0);
        }
        // An HLS rendition of one pathway (steering) is fetched from that pathway.
        let own = self.presentation.rendition(&rid).and_then(|r| r.pathway_id.clone());
        let pathway = Some(own.unwrap_or_else(|| self.steering.current().to_string()));
        let fetch = FetchRequest::document(id, url.clone(), FetchKind::Manifest, pathway);
        self.actions.push_back(Action::Fetch(fetch));
        self.pending_playlists.insert(id, (rid, url, attempt));
    }

    fn on_manifest(&mut self, id: RequestId, text: &str, url: &Url) {
        let Some((rid, _, attempt)) = self.pending_playlists.remove(&id) else { return };
        if attempt == REFRESH {
            return self.on_refresh(&rid, text, url);
        }
        if let Err(e) = self.apply_playlist(&rid, text, url) {
            self.fail(format!("media playlist of {rid}: {e}"));
            return;
        }
        if self.pending_playlists.is_empty() && self.tracks.is_empty() {
            self.build_plan();
        }
    }

    /// Applies a live refresh (a media playlist, or the MPD) and extends the plans.
    fn on_refresh(&mut self, rid: &str, text: &str, url: &Url) {
        let applied = if rid == MPD_REFRESH {
            self.apply_mpd(text, url)
        } else {
            self.apply_playlist(rid, text, url)
        };
        if let Err(e) = applied {
            // The window is still playable; the next refresh may bring a good copy.
            self.emit(PlayerEvent::Error {
                message: format!("live refresh of {rid}: {e}"),
                fatal: false,
            });
        }
        let mut added = 0;
        for t in &mut self.tracks {
            added += t.plan.extend_live(&self.presentation);
            // What the window slid past and the track no longer needs (it is neither
            // next nor in flight) will not be fetched again: forget it, so that the
            // plan does not grow with the length of a live session.
            if let Some(first) = t.plan.first_available(&self.presentation) {
                let job = t.job.as_ref().map_or(usize::MAX, |j| j.segment);
                t.plan.timeline.trim_before(first.min(t.next_segment).min(job));
            }
        }
        if !self.refresh_pending() {
            self.schedule_refresh(added > 0);
        }
    }

    /// Whether a live refresh request is still out.
    fn refresh_pending(&self) -> bool {
        self.pending_playlists.values().any(|p| p.2 == REFRESH)
    }

    /// Merges an HLS media playlist into the presentation.
    fn apply_playlist(&mut self, rid: &str, text: &str, url: &Url) -> Result<(), String> {
        #[cfg(feature = "hls")]
        {
            self.presentation
                .apply_media_playlist(rid, text, url)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "hls"))]
        {
            let _ = (rid, text, url);
            Err("media playlists need the `hls` feature".into())
        }
    }

    /// Replaces every rendition's segment list with that of a reloaded MPD.
    fn apply_mpd(&mut self, text: &str, url: &Url) -> Result<(), String> {
        #[cfg(feature = "dash")]
        {
            let fresh =
                crate::manifest::parse_dash_at(text, url, None).map_err(|e| e.to_string())?;
            let live = fresh.is_live();
            // Moved, not copied: a reload must not hold two copies of every list.
            for r in fresh.periods.into_iter().flat_map(|p| p.tracks).flat_map(|t| t.renditions) {
                if let SegmentIndex::Segments(_) = r.index
                    && let Some(mine) = self.presentation.rendition_mut(&r.id)
                {
                    mine.index = r.index;
                }
            }
            if !live {
                // The MPD became static: the presentation ended.
                for r in self.presentation.periods.iter_mut().flat_map(|p| p.tracks.iter_mut()) {
                    for x in &mut r.renditions {
                        if let SegmentIndex::Segments(l) = &mut x.index {
                            l.ended = true;
                        }
                    }
                }
            }
            Ok(())
        }
        #[cfg(not(feature = "dash"))]
        {
            let _ = (text, url);
            Err("MPDs need the `dash` feature".into())
        }
    }

    /// The interval between live refreshes: the target duration (HLS) or the MPD's
    /// minimum update period, halved when the last refresh brought nothing new (the
    /// HLS specification's rule for an unchanged playlist).
    fn schedule_refresh(&mut self, changed: bool) {
        if !self.tracks.iter().any(|t| t.plan.open) {
            self.live_refresh_at = None;
            return;
        }
        let live = self.presentation.live.clone().unwrap_or_default();
        let seg = self.ladder.as_ref().map_or(2.0, Ladder::segment_duration_s);
        let base = live
            .minimum_update_period_s
            .filter(|_| self.presentation.kind == crate::manifest::ManifestKind::Dash)
            .or(live.target_duration_s)
            .unwrap_or(seg)
            .clamp(0.1, 60.0);
        let every = if changed { base } else { base / 2.0 };
        self.live_refresh_at = Some(self.now + Duration::from_secs_f64(every));
    }

    /// Reloads the playlists of every track's rungs on the current pathway (or the MPD).
    fn refresh_live(&mut self) {
        self.live_refresh_at = None;
        let targets: Vec<(String, Url)> =
            if self.presentation.kind == crate::manifest::ManifestKind::Dash {
                vec![(MPD_REFRESH.to_string(), self.presentation.url.clone())]
            } else {
                let root = self.steering.root_pathway(self.steering.current()).to_string();
                let mut all: Vec<(String, Url)> = Vec::new();
                for t in self.tracks.iter().filter(|t| t.plan.open) {
                    for target in t.plan.refresh_targets(&self.presentation, &root) {
                        if !all.contains(&target) {
                            all.push(target);
                        }
                    }
                }
                all
            };
        for (rid, url) in targets {
            self.request_playlist(rid, url, REFRESH);
        }
    }

    fn build_plan(&mut self) {
        let plans = match plan::build(&self.presentation, true) {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        let Some(video) = plans.first() else { return self.fail("nothing to play".into()) };
        let ladder = match video.ladder(&self.presentation) {
            Ok(l) => l,
            Err(e) => return self.fail(format!("ladder: {e}")),
        };
        if self.rule.is_none() {
            match build_rule(&self.config.abr_rule, &self.config.abr, &ladder) {
                Ok(r) => self.rule = Some(r),
                Err(e) => return self.fail(e.to_string()),
            }
        }
        self.ladder = Some(ladder);
        self.tracks = plans.into_iter().map(TrackState::new).collect();
        self.position_s = self.tracks[0].plan.timeline.first().map_or(0.0, |t| t.0);
        if self.tracks[0].plan.open {
            self.join_live_edge();
            self.schedule_refresh(true);
        }
        self.set_state(PlayerState::Buffering);
    }

    /// Moves every track to `live_delay_segments` behind the newest video segment.
    fn join_live_edge(&mut self) {
        let video = &self.tracks[0].plan.timeline;
        let idx = video.len().saturating_sub(self.config.live_delay_segments.max(1));
        let Some(&(start, _)) = video.get(idx) else { return };
        for t in &mut self.tracks {
            let i = t.plan.timeline.index_at(start, EPS);
            t.next_segment = i;
            t.buffered_end_s = t.plan.timeline.get(i).map_or(start, |s| s.0);
        }
        self.position_s = start;
    }

    // ----- playback model --------------------------------------------------------

    fn advance(&mut self, now: Instant) {
        let dt = now.saturating_since(self.last_advance).as_secs_f64();
        let from = self.last_advance;
        self.last_advance = now;
        if self.state != PlayerState::Playing || dt <= 0.0 {
            return;
        }
        let end = self.playable_end_s();
        if self.complete() {
            self.position_s = (self.position_s + dt).min(end);
            if self.position_s >= end - EPS {
                let at = from + Duration::from_secs_f64((end - (self.position_s - dt)).max(0.0));
                self.finish(at.min(now));
            }
            return;
        }
        let stall_at = end - self.config.buffer.stall_threshold_s;
        if self.position_s + dt >= stall_at - EPS {
            let run = (stall_at - self.position_s).max(0.0);
            let at = (from + Duration::from_secs_f64(run)).min(now);
            self.position_s = self.position_s.max(stall_at);
            self.stall_started = Some(at);
            self.actions.push_back(Action::Stall);
            self.set_state_at(at, PlayerState::Stalled);
            self.emit_at(at, PlayerEvent::Stalled { position_s: self.position_s });
        } else {
            self.position_s += dt;
        }
    }

    fn finish(&mut self, at: Instant) {
        self.set_state_at(at, PlayerState::Ended);
        let report = Box::new(self.qoe_report());
        self.emit_at(at, PlayerEvent::QoeReport { report });
    }

    /// Ends a stall (if any), accounting its time; returns its length.
    fn close_stall(&mut self) -> f64 {
        let Some(s) = self.stall_started.take() else { return 0.0 };
        let stall = self.now.saturating_since(s).as_secs_f64();
        self.pending_rebuffer_s +=
            self.now.saturating_since(s.max(self.rebuffer_mark)).as_secs_f64();
        self.rebuffer_mark = self.now;
        self.rebuffer_count += 1;
        self.rebuffer_s += stall;
        stall
    }

    fn update_phase(&mut self) {
        if self.tracks.is_empty() {
            return;
        }
        let ahead = self.buffer_level_s();
        let complete = self.complete();
        let policy = self.config.buffer;
        match self.state {
            PlayerState::Buffering
                if policy.next_phase(PlaybackPhase::Startup, ahead, complete)
                    == PlaybackPhase::Playing =>
            {
                if self.user_paused {
                    self.set_state(PlayerState::Paused);
                } else {
                    if self.startup_delay_s.is_none() {
                        self.startup_delay_s =
                            Some(self.now.saturating_since(self.started_at).as_secs_f64());
                    }
                    self.actions.push_back(Action::Play);
                    self.set_state(PlayerState::Playing);
                }
            }
            PlayerState::Stalled
                if policy.next_phase(PlaybackPhase::Stalled, ahead, complete)
                    == PlaybackPhase::Playing =>
            {
                let stall_s = self.close_stall();
                self.actions.push_back(Action::Play);
                self.set_state(PlayerState::Playing);
                self.emit(PlayerEvent::Resumed { stall_s });
            }
            PlayerState::Playing if complete && self.position_s >= self.playable_end_s() - EPS => {
                self.finish(self.now);
            }
            _ => {}
        }
    }

    fn play(&mut self) {
        self.user_paused = false;
        if self.state == PlayerState::Paused {
            let ahead = self.buffer_level_s();
            if self.complete() || ahead >= self.config.buffer.resume_s {
                if self.startup_delay_s.is_none() {
                    self.startup_delay_s =
                        Some(self.now.saturating_since(self.started_at).as_secs_f64());
                }
                self.actions.push_back(Action::Play);
                self.set_state(PlayerState::Playing);
            } else {
                self.set_state(PlayerState::Buffering);
            }
        }
    }

    fn pause(&mut self) {
        self.user_paused = true;
        if matches!(self.state, PlayerState::Playing | PlayerState::Stalled) {
            self.close_stall();
            self.actions.push_back(Action::Pause);
            self.set_state(PlayerState::Paused);
        }
    }

    /// `position_s` within the media the tracks list: not before the latest first segment
    /// (before it, the gap would count as buffered), not after the end.
    fn clamp_to_timeline(&self, position_s: f64) -> f64 {
        let end = self.tracks.iter().map(TrackState::end_s).fold(0.0, f64::max);
        let start = self
            .tracks
            .iter()
            .filter_map(|t| t.plan.timeline.first().map(|s| s.0))
            .fold(0.0, f64::max)
            .min(end);
        position_s.clamp(start, end)
    }

    fn seek(&mut self, position_s: f64) {
        if self.tracks.is_empty()
            || !position_s.is_finite()
            || matches!(self.state, PlayerState::Failed)
        {
            return;
        }
        let end = self.tracks.iter().map(TrackState::end_s).fold(0.0, f64::max);
        let target = self.clamp_to_timeline(position_s);
        self.close_stall();
        let mut video_index = 0;
        for i in 0..self.tracks.len() {
            let t = &mut self.tracks[i];
            let idx = t.plan.timeline.index_at(target, EPS);
            if i == 0 {
                video_index = idx;
            }
            if let Some(job) = t.job.take() {
                self.actions.push_back(Action::Cancel { id: job.id });
            }
            t.pending = None;
            t.wait_until = None;
            t.attempts = 0;
            t.seg_first_request = None;
            t.seg_bits = 0.0;
            t.next_segment = idx;
            t.buffered_end_s = t.plan.timeline.get(idx).map_or(end, |s| s.0);
        }
        self.position_s = target;
        if let Some(rule) = self.rule.as_mut() {
            rule.on_seek(video_index);
        }
        self.set_state(if self.user_paused { PlayerState::Paused } else { PlayerState::Buffering });
    }

    // ----- scheduling ------------------------------------------------------------

    fn drive(&mut self) {
        // A few passes: issuing one thing can make another due at the same instant.
        for _ in 0..4 {
            if matches!(self.state, PlayerState::Failed | PlayerState::Ended) {
                break;
            }
            self.poll_steering();
            if self.live_refresh_at.is_some_and(|t| t <= self.now) {
                self.refresh_live();
            }
            for i in 0..self.tracks.len() {
                self.schedule(i);
            }
            self.update_phase();
            if self.next_due().is_none_or(|t| t > self.now) {
                break;
            }
        }
        if self.state == PlayerState::Playing
            && self.steering.poll_state() == crate::steering::PollState::Idle
        {
            // DASH without @queryBeforeStart: steering starts once playback has.
            self.steering.start(self.now);
            self.poll_steering();
        }
        let wake = if matches!(self.state, PlayerState::Failed | PlayerState::Ended) {
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
        if self.state == PlayerState::Playing && !self.tracks.is_empty() {
            let ahead = self.buffer_level_s();
            let run =
                if self.complete() { ahead } else { ahead - self.config.buffer.stall_threshold_s };
            due.push(self.now + Duration::from_secs_f64(run.max(0.0)).max(Duration(1)));
        }
        for t in &self.tracks {
            due.extend(t.wait_until);
            due.extend(t.pending.map(|p| p.at));
        }
        if self.steering_request.is_none() {
            due.extend(self.steering.next_wake());
        }
        due.extend(self.live_refresh_at);
        due
    }

    fn poll_steering(&mut self) {
        if self.steering_request.is_some() {
            return;
        }
        let fallback = self.estimator.throughput_kbps().map(|k| k * 1000.0);
        if let Some(req) = self.steering.poll(self.now, fallback) {
            if !self.config.allowed_hosts.allows_url(&req.url) {
                // The manifest's steering server is not an allowed host: steering
                // stops for this session, as after 410 Gone; playback goes on.
                self.steering.on_failed(self.now, Some(410), None);
                let message = format!("steering server {} is not on an allowed host", req.url);
                self.emit(PlayerEvent::SteeringError { message });
                return;
            }
            let id = self.alloc_id();
            self.steering_request = Some(id);
            let fetch = FetchRequest::document(id, req.url, FetchKind::Steering, None);
            self.actions.push_back(Action::Fetch(fetch));
        }
    }

    fn view(&self) -> View {
        View {
            position_s: self.position_s,
            buffer_max_s: self.config.buffer.forward_target_s,
            throughput_kbps: self.throughput_kbps(),
            latency_s: self.estimator.latency_s(),
            now: self.now,
            playing: self.state == PlayerState::Playing,
        }
    }

    fn throughput_kbps(&self) -> Option<f64> {
        self.estimator
            .throughput_kbps()
            .or_else(|| self.steering.throughput_kbps(self.steering.current(), self.now))
    }

    fn schedule(&mut self, i: usize) {
        // A track scheduled before this one may have failed the session.
        if matches!(self.state, PlayerState::Failed | PlayerState::Ended) {
            return;
        }
        if self.tracks[i].job.is_some() || self.tracks[i].done() || self.tracks[i].at_live_edge() {
            return;
        }
        if self.tracks[i].plan.open
            && let Some(first) = self.tracks[i].plan.first_available(&self.presentation)
            && self.tracks[i].next_segment < first
        {
            // The window slid past the next segment (a long stall or pause): rejoin it.
            let skipped = first - self.tracks[i].next_segment;
            self.emit(PlayerEvent::Error {
                message: format!("fell behind the live window: skipping {skipped} segment(s)"),
                fatal: false,
            });
            let t = &mut self.tracks[i];
            t.next_segment = first;
            t.buffered_end_s = t.plan.timeline.get(first).map_or(t.buffered_end_s, |s| s.0);
            t.pending = None;
            if i == 0 {
                self.position_s = self.position_s.max(self.tracks[0].buffered_end_s);
            }
        }
        if let Some(p) = self.tracks[i].pending {
            if p.at > self.now {
                return;
            }
            self.tracks[i].pending = None;
            self.issue(i, p.rung, p.reason, false);
            return;
        }
        let t = &self.tracks[i];
        let seg_s = t.plan.timeline.get(t.next_segment).map_or(0.0, |s| s.1);
        let ahead = (t.buffered_end_s - self.position_s).max(0.0);
        let mut delay = self.config.buffer.fetch_delay_s(ahead, seg_s);
        // Buffering or stalled, the buffer does not drain, so a fetch held by the target
        // would be held for ever: below the threshold that lets playback (re)start, the
        // track fetches regardless (overshooting the target by less than a segment, as
        // the target may not be a whole number of segments).
        let threshold = match self.state {
            PlayerState::Buffering => self.config.buffer.startup_s,
            PlayerState::Stalled => self.config.buffer.resume_s,
            _ => 0.0,
        };
        if ahead + EPS < threshold {
            delay = 0.0;
        }
        // Below a microsecond the clock cannot express the wait: fetch now.
        if delay >= 1e-6 {
            if self.state == PlayerState::Playing {
                let first = t.wait_until.is_none();
                self.tracks[i].wait_until =
                    Some(self.now + Duration::from_secs_f64(delay).max(Duration(1)));
                if first
                    && i == 0
                    && let Some(rule) = self.rule.as_mut()
                {
                    rule.on_delay(delay);
                }
            } else {
                // The buffer does not drain while not playing: nothing to wait for.
                self.tracks[i].wait_until = None;
            }
            return;
        }
        self.tracks[i].wait_until = None;
        let (rung, reason, delay_s) = self.decide(i);
        let seg = self.tracks[i].next_segment;
        let kind = self.tracks[i].plan.kind;
        let bitrate_kbps = self.tracks[i].plan.rungs.get(rung).map_or(0.0, |r| r.bitrate_kbps);
        self.emit(PlayerEvent::Decision {
            track: kind,
            segment: seg,
            rendition: rung,
            bitrate_kbps,
            reason,
        });
        if let Some(from) = self.tracks[i].last_rung.filter(|r| *r != rung) {
            self.emit(PlayerEvent::RenditionChanged { track: kind, from, to: rung });
        }
        if delay_s >= 1e-6 {
            if let Some(rule) = self.rule.as_mut() {
                rule.on_delay(delay_s);
            }
            let at = self.now + Duration::from_secs_f64(delay_s).max(Duration(1));
            self.tracks[i].pending = Some(Pending { rung, reason, at });
            return;
        }
        self.issue(i, rung, reason, false);
    }

    fn decide(&mut self, i: usize) -> (usize, DecisionReason, f64) {
        let t = &self.tracks[i];
        let top = t.plan.rungs.len().saturating_sub(1);
        if let Some(p) = t.pinned {
            return (p.min(top), DecisionReason::User, 0.0);
        }
        if t.plan.kind == TrackKind::Audio {
            let rung = match self.config.audio_max_kbps {
                Some(cap) => t.plan.rungs.iter().rposition(|r| r.bitrate_kbps <= cap).unwrap_or(0),
                None => 0,
            };
            return (rung, DecisionReason::AudioPolicy, 0.0);
        }
        let view = self.view();
        let t = &self.tracks[i];
        let (Some(ladder), Some(rule)) = (self.ladder.as_ref(), self.rule.as_mut()) else {
            return (0, DecisionReason::Abr { reason: Reason::Startup }, 0.0);
        };
        let ctx = abr_ctx(ladder, t, view);
        let d = rule.choose(&ctx);
        let delay = if d.delay_s.is_finite() { d.delay_s.max(0.0) } else { 0.0 };
        (d.rendition.min(top), DecisionReason::Abr { reason: d.reason }, delay)
    }

    /// Issues the request for track `i`'s next segment at `rung` (the init segment
    /// first when the rung's differs from the one appended).
    fn issue(&mut self, i: usize, rung: usize, reason: DecisionReason, media_only: bool) {
        let seg = self.tracks[i].next_segment;
        let need = self.tracks[0].last_rung.max(if i == 0 { Some(rung) } else { None });
        // What the pathway must sustain: the rung's mean rate when known, not its peak.
        let need_kbps = need
            .and_then(|r| self.tracks[0].plan.rungs.get(r))
            .map_or(0.0, |r| r.average_kbps.unwrap_or(r.bitrate_kbps));
        let sel = self.steering.select(self.now, need_kbps);
        if self.current_pathway.as_deref() != Some(sel.pathway.as_str()) {
            let from = self.current_pathway.replace(sel.pathway.clone());
            self.emit(PlayerEvent::PathwayChanged {
                from,
                to: sel.pathway.clone(),
                reason: sel.reason,
            });
        }
        let pathway = sel.pathway;
        let t = &self.tracks[i];
        let init_key = t.plan.init_key(&self.presentation, rung, seg);
        let init = !media_only && init_key.is_some() && init_key != t.loaded_init;
        let root = self.steering.root_pathway(&pathway).to_string();
        let target = match t.plan.target(&self.presentation, rung, seg, &root, init) {
            Some(Ok(target)) => target,
            Some(Err(e)) => return self.refuse(i, rung, reason, pathway, init, e.to_string()),
            None => return self.fail(format!("segment {seg} of rung {rung} has no URL")),
        };
        let url = match self.steering.rewrite_uri(&pathway, &target.url, StableId::None) {
            Ok(u) => u,
            Err(e) => return self.refuse(i, rung, reason, pathway, init, e.to_string()),
        };
        if !self.config.allowed_hosts.allows_url(&url) {
            let why = format!("{url} is not on an allowed host");
            return self.refuse(i, rung, reason, pathway, init, why);
        }
        let t = &self.tracks[i];
        let expected_bytes = if init {
            target.byte_range.map(|b| b.length)
        } else {
            target.byte_range.map(|b| b.length).or_else(|| {
                t.plan
                    .rungs
                    .get(rung)
                    .map(|r| (t.plan.size_bits(&self.presentation, r, seg) / 8.0).round() as u64)
            })
        };
        let deadline = (self.state == PlayerState::Playing).then(|| {
            self.now + Duration::from_secs_f64((t.buffered_end_s - self.position_s).max(0.0))
        });
        let kind = t.plan.kind;
        let id = self.alloc_id();
        self.actions.push_back(Action::Fetch(FetchRequest {
            id,
            url,
            byte_range: target.byte_range,
            pathway: Some(pathway.clone()),
            kind: if init { FetchKind::Init } else { FetchKind::Media },
            track: Some(kind),
            segment: (!init).then_some(seg),
            rendition: Some(rung),
            expected_bytes,
            deadline,
        }));
        let t = &mut self.tracks[i];
        t.seg_first_request.get_or_insert(self.now);
        t.job = Some(Job { id, segment: seg, rung, pathway, init, reason, issued_at: self.now });
    }

    /// A request the session will not make, its URL being refused: it counts as a
    /// failure of `pathway` without touching the network, so the usual failover (or
    /// backoff, and in the end a fatal error) follows.
    fn refuse(
        &mut self,
        i: usize,
        rung: usize,
        reason: DecisionReason,
        pathway: String,
        init: bool,
        why: String,
    ) {
        let segment = self.tracks[i].next_segment;
        self.emit(PlayerEvent::Error {
            message: format!("segment {segment} on pathway {pathway}: {why}"),
            fatal: false,
        });
        let id = self.alloc_id();
        let t = &mut self.tracks[i];
        t.seg_first_request.get_or_insert(self.now);
        t.job = Some(Job { id, segment, rung, pathway, init, reason, issued_at: self.now });
        self.on_failed(id, None, 0);
    }

    fn job_track(&self, id: RequestId) -> Option<usize> {
        self.tracks.iter().position(|t| t.job.as_ref().is_some_and(|j| j.id == id))
    }

    fn account(&mut self, pathway: &str, bytes: u64, seconds: f64, segment: bool) {
        let u = self.usage.entry(pathway.to_string()).or_default();
        u.bytes = u.bytes.saturating_add(bytes);
        u.seconds += seconds;
        if segment {
            u.segments += 1;
        }
    }

    fn on_completed(&mut self, id: RequestId, bytes: u64, ttfb: Duration, duration: Duration) {
        let Some(i) = self.job_track(id) else {
            if self.pending_playlists.contains_key(&id) {
                // A playlist must come back as ManifestLoaded, with its text.
                self.fail(format!("request {id}: a media playlist completed without its text"));
            }
            return;
        };
        let Some(job) = self.tracks[i].job.take() else { return };
        let bits = bytes as f64 * 8.0;
        let secs = duration.as_secs_f64();
        let kind = self.tracks[i].plan.kind;
        // Init and audio segments are too small to measure a pathway by (TTFB
        // dominates, and one overlapping a video fetch shares its link): they only
        // count as a sign of life.
        let sample_bits = if job.init || kind != TrackKind::Video { 0.0 } else { bits };
        self.steering.on_media_success(self.now, &job.pathway, sample_bits, secs);
        self.account(&job.pathway, bytes, secs, !job.init && kind == TrackKind::Video);
        self.tracks[i].seg_bits += bits;
        if job.init {
            let key = self.tracks[i].plan.init_key(&self.presentation, job.rung, job.segment);
            self.tracks[i].loaded_init = key;
            self.actions.push_back(Action::Append {
                track: kind,
                init: true,
                request: id,
                segment: None,
                rendition: job.rung,
            });
            self.issue(i, job.rung, job.reason, true);
            return;
        }
        let seg_s = self.tracks[i].plan.timeline.get(job.segment).map_or(0.0, |s| s.1);
        self.estimator.add_sample(&Sample {
            bits,
            ttfb_s: ttfb.as_secs_f64(),
            duration_s: secs,
            media_s: seg_s,
        });
        let before = (self.tracks[i].buffered_end_s - self.position_s).max(0.0);
        self.actions.push_back(Action::Append {
            track: kind,
            init: false,
            request: id,
            segment: Some(job.segment),
            rendition: job.rung,
        });
        let t = &mut self.tracks[i];
        let (start, dur) =
            t.plan.timeline.get(job.segment).copied().unwrap_or((t.buffered_end_s, 0.0));
        t.buffered_end_s = start + dur;
        t.next_segment = job.segment + 1;
        t.attempts = 0;
        let first_request = t.seg_first_request.take().unwrap_or(job.issued_at);
        let seg_bits = std::mem::take(&mut t.seg_bits);
        if kind != TrackKind::Video {
            t.last_rung = Some(job.rung);
            return;
        }
        let report = DownloadReport {
            segment_index: job.segment,
            rendition: job.rung,
            size_bits: bits,
            ttfb_s: ttfb.as_secs_f64(),
            duration_s: secs,
            buffer_level_s: before,
            abandoned: false,
        };
        let view = self.view();
        if let (Some(ladder), Some(rule)) = (self.ladder.as_ref(), self.rule.as_mut()) {
            let ctx = abr_ctx(ladder, &self.tracks[i], view);
            rule.on_download(&ctx, &report);
        }
        self.tracks[i].last_rung = Some(job.rung);
        // Rebuffering since the previous video segment is charged to this one.
        let mut rebuffer = std::mem::take(&mut self.pending_rebuffer_s);
        if let Some(s) = self.stall_started {
            rebuffer += self.now.saturating_since(s.max(self.rebuffer_mark)).as_secs_f64();
        }
        self.rebuffer_mark = self.now;
        let bitrate_kbps = self.tracks[i].plan.rungs.get(job.rung).map_or(0.0, |r| r.bitrate_kbps);
        let reason = match job.reason {
            DecisionReason::Abr { reason } => reason,
            _ => Reason::Hold { buffer_s: before },
        };
        self.record(SegmentRecord {
            index: job.segment,
            rendition: job.rung,
            bitrate_kbps,
            size_bits: seg_bits,
            request_s: first_request.as_secs_f64(),
            download_s: self.now.saturating_since(first_request).as_secs_f64(),
            rebuffer_s: rebuffer,
            buffer_after_s: (self.tracks[i].buffered_end_s - self.position_s).max(0.0),
            pathway: job.pathway,
            reason,
        });
    }

    fn on_failed(&mut self, id: RequestId, status: Option<u16>, bytes: u64) {
        if self.steering_request == Some(id) {
            self.steering_request = None;
            self.steering.on_failed(self.now, status, None);
            self.emit(PlayerEvent::SteeringError {
                message: format!("steering request failed (status {status:?})"),
            });
            return;
        }
        if let Some((rid, url, attempt)) = self.pending_playlists.remove(&id) {
            if attempt == REFRESH {
                // The window already listed still plays; the next refresh is the retry.
                self.emit(PlayerEvent::Error {
                    message: format!("live refresh of {rid} failed (status {status:?})"),
                    fatal: false,
                });
                if !self.refresh_pending() {
                    self.schedule_refresh(false);
                }
                return;
            }
            if attempt >= self.config.max_attempts_per_segment {
                if let Some(pathway) = self.other_copy_of(&rid) {
                    // HLS steering gives every pathway its own copy of each playlist:
                    // one pathway's failing copy is not fatal while another pathway's
                    // has loaded or may still load. The pathway is penalised so that
                    // segments come from the others.
                    self.steering.on_media_failure(self.now, &pathway);
                    self.emit(PlayerEvent::Error {
                        message: format!(
                            "media playlist of {rid} on pathway {pathway} failed {attempt} times (last status {status:?}); using the other pathways' copies"
                        ),
                        fatal: false,
                    });
                    if self.pending_playlists.is_empty() && self.tracks.is_empty() {
                        self.build_plan();
                    }
                    return;
                }
                return self.fail(format!(
                    "media playlist of {rid} failed {attempt} times (last status {status:?})"
                ));
            }
            return self.request_playlist(rid, url, attempt + 1);
        }
        let Some(i) = self.job_track(id) else { return };
        let Some(job) = self.tracks[i].job.take() else { return };
        let secs = self.now.saturating_since(job.issued_at).as_secs_f64();
        self.account(&job.pathway, bytes, secs, false);
        self.tracks[i].seg_bits += bytes as f64 * 8.0;
        let penalized = self.steering.on_media_failure(self.now, &job.pathway);
        self.emit(PlayerEvent::FetchFailed { pathway: job.pathway.clone(), status, penalized });
        self.tracks[i].attempts += 1;
        let attempts = self.tracks[i].attempts;
        if attempts >= self.config.max_attempts_per_segment {
            return self.fail(format!(
                "segment {} failed {attempts} times (last on pathway {}, status {status:?})",
                job.segment, job.pathway
            ));
        }
        // Fail over at once if another pathway is usable; otherwise back off.
        let usable = self.steering.priority().iter().any(|p| {
            *p != job.pathway && !self.steering.health(p).is_some_and(|h| h.is_penalized(self.now))
        });
        if usable {
            self.issue(i, job.rung, job.reason, false);
        } else {
            let backoff = (self.config.retry_base_s
                * 2f64.powi(attempts.saturating_sub(1).min(30) as i32))
            .min(self.config.retry_max_s)
            .max(0.0);
            let at = self.now + Duration::from_secs_f64(backoff).max(Duration(1));
            self.tracks[i].pending = Some(Pending { rung: job.rung, reason: job.reason, at });
        }
    }

    /// The pathway of rendition `rid` when another pathway has a copy of it (same
    /// stable ID) whose playlist has loaded or is still being fetched; `None` otherwise.
    fn other_copy_of(&self, rid: &str) -> Option<String> {
        let r = self.presentation.renditions().find(|r| r.id == rid)?;
        let (pathway, stable) = (r.pathway_id.as_ref()?, r.stable_id.as_ref()?);
        let pending = |id: &str| self.pending_playlists.values().any(|p| p.0 == id);
        self.presentation
            .renditions()
            .any(|o| {
                o.stable_id.as_ref() == Some(stable)
                    && o.pathway_id.as_ref().is_some_and(|p| p != pathway)
                    && (o.segments().is_some_and(|s| !s.is_empty()) || pending(&o.id))
            })
            .then(|| pathway.clone())
    }

    fn on_progress(&mut self, id: RequestId, bytes: u64, ttfb: Option<Duration>) {
        let Some(i) = self.job_track(id) else { return };
        if i != 0 || self.tracks[0].pinned.is_some() {
            return;
        }
        let Some(job) = self.tracks[0].job.clone() else { return };
        if job.init {
            return;
        }
        let view = self.view();
        let tput = view.throughput_kbps;
        let (Some(ladder), Some(rule)) = (self.ladder.as_ref(), self.rule.as_mut()) else { return };
        let t = &self.tracks[0];
        let Some(r) = t.plan.rungs.get(job.rung) else { return };
        let elapsed = self.now.saturating_since(job.issued_at).as_secs_f64();
        let progress = FetchProgress {
            segment_index: job.segment,
            rendition: job.rung,
            size_bits: t.plan.size_bits(&self.presentation, r, job.segment),
            downloaded_bits: bytes as f64 * 8.0,
            elapsed_s: elapsed,
            ttfb_s: ttfb.map(Duration::as_secs_f64),
        };
        let ctx = abr_ctx(ladder, t, view);
        let Some(to) = rule.check_abandon(&ctx, &progress).filter(|to| *to < job.rung) else {
            return;
        };
        let report = DownloadReport {
            segment_index: job.segment,
            rendition: job.rung,
            size_bits: progress.downloaded_bits,
            ttfb_s: progress.ttfb_s.unwrap_or(0.0),
            duration_s: elapsed,
            buffer_level_s: ctx.buffer_level_s,
            abandoned: true,
        };
        rule.on_download(&ctx, &report);
        self.tracks[0].job = None;
        self.actions.push_back(Action::Cancel { id });
        self.account(&job.pathway, bytes, elapsed, false);
        self.tracks[0].seg_bits += progress.downloaded_bits;
        self.emit(PlayerEvent::Abandoned { segment: job.segment, from: job.rung, to });
        let estimate_kbps = tput.unwrap_or(0.0);
        let reason = DecisionReason::Abr { reason: Reason::Abandon { estimate_kbps } };
        let bitrate_kbps = self.tracks[0].plan.rungs.get(to).map_or(0.0, |r| r.bitrate_kbps);
        self.emit(PlayerEvent::Decision {
            track: TrackKind::Video,
            segment: job.segment,
            rendition: to,
            bitrate_kbps,
            reason,
        });
        self.issue(0, to, reason, false);
    }
}
