//! Per-track fetch scheduling: when each track fetches its next segment, at which rung
//! (the ABR rule for the main track, a fixed policy for audio, the user's pin), from
//! which pathway, what a completed fetch changes, and the abandonment of a slow one.

use super::action::{
    Action, DecisionReason, ErrorKind, FetchKind, FetchRequest, MediaTiming, PlayerEvent,
    PlayerState,
};
use super::cmcd_keys::ObjectKeys;
use super::event::{RequestId, TrackKind};
use super::machine::{Core, EPS};
use super::plan::TrackPlan;
use crate::Ladder;
use crate::abr::estimator::Sample;
use crate::abr::{AbrContext, DownloadReport, FetchProgress, Reason};
use crate::qoe::SegmentRecord;
use crate::steering::StableId;
use crate::time::{Duration, Instant};

/// Ends this close count as level in one buffer (and a track level with another's
/// committed end waits for it): audio and video segment boundaries differ by up to a
/// frame (an AAC frame lasts 21 ms at 48 kHz), and whether audio's boundary falls a
/// frame before or after video's must not change the schedule. Never more than a
/// quarter of video's lead (see `runs_ahead`), or both tracks could wait on each other.
const ONE_BUFFER_SLACK_S: f64 = 0.1;

/// A segment (or init segment) request in flight for a track.
#[derive(Debug, Clone)]
pub(super) struct Job {
    pub id: RequestId,
    pub segment: usize,
    pub rung: usize,
    pub pathway: String,
    pub init: bool,
    pub reason: DecisionReason,
    pub issued_at: Instant,
}

/// A decided fetch held until `at`: the rule asked for a delay, or a failed fetch
/// backs off with no other pathway to go to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deferred {
    pub rung: usize,
    pub reason: DecisionReason,
    pub at: Instant,
}

/// One track being played: its plan and where its fetching stands.
#[derive(Debug)]
pub(super) struct TrackState {
    pub plan: TrackPlan,
    /// Plan index of the next segment to fetch.
    pub next_segment: usize,
    /// End of the media appended, seconds.
    pub buffered_end_s: f64,
    /// The request in flight.
    pub job: Option<Job>,
    /// A decided fetch waiting for its time.
    pub deferred: Option<Deferred>,
    /// Held back by the buffer target until then (playing only).
    pub wait_until: Option<Instant>,
    /// Key of the init segment appended last.
    pub loaded_init: Option<String>,
    /// Rung of the segment appended last.
    pub last_rung: Option<usize>,
    /// Media timeline of the segment appended last (see [`MediaTiming`]).
    pub appended_timeline: Option<u64>,
    /// Rung pinned by the user.
    pub pinned: Option<usize>,
    /// Failed attempts at the next segment.
    pub attempts: u32,
    /// When the next segment was first requested (over its attempts).
    pub seg_first_request: Option<Instant>,
    /// Bits received for the next segment over its attempts.
    pub seg_bits: f64,
    /// The next segment was moved off a pathway that starved it.
    pub seg_starved: bool,
}

impl TrackState {
    fn new(plan: TrackPlan) -> Self {
        let start = plan.timeline.first().map_or(0.0, |t| t.0);
        Self {
            plan,
            next_segment: 0,
            buffered_end_s: start,
            job: None,
            deferred: None,
            wait_until: None,
            loaded_init: None,
            last_rung: None,
            appended_timeline: None,
            pinned: None,
            attempts: 0,
            seg_first_request: None,
            seg_bits: 0.0,
            seg_starved: false,
        }
    }

    /// The main track: the one the ABR rule adapts (video, or audio in an audio-only
    /// presentation), whose segments the QoE report counts.
    pub fn is_main(&self) -> bool {
        self.plan.kind == TrackKind::Video
    }

    /// Fetched to the end (VOD, or a live stream that ended).
    pub fn done(&self) -> bool {
        !self.plan.open && self.next_segment >= self.plan.timeline.len()
    }

    /// Fetching, or due to fetch at a known time (a deferred decision, or a wait for
    /// the buffer to drain while playing).
    pub fn progressing(&self) -> bool {
        self.job.is_some() || self.deferred.is_some() || self.wait_until.is_some()
    }

    /// End of the media appended or being fetched: the buffered end, or the end
    /// of the segment in flight.
    pub fn committed_end_s(&self) -> f64 {
        let fetching = self.job.as_ref().and_then(|j| self.plan.timeline.get(j.segment));
        fetching.map_or(self.buffered_end_s, |(s, d)| self.buffered_end_s.max(s + d))
    }

    /// Live, at the newest segment listed: waiting for a playlist refresh.
    pub fn at_live_edge(&self) -> bool {
        self.plan.open && self.next_segment >= self.plan.timeline.len()
    }

    /// End of the media the track lists, seconds.
    pub fn end_s(&self) -> f64 {
        self.plan.timeline.last().map_or(0.0, |(s, d)| s + d)
    }

    /// Where segment `i` goes on the presentation timeline, and whether its media
    /// timestamps follow those appended last.
    pub fn media_timing(&self, i: usize) -> MediaTiming {
        let (start_s, duration_s) = self.plan.timeline.get(i).copied().unwrap_or_default();
        let media_timeline = self.plan.media_timeline(i);
        MediaTiming {
            start_s,
            duration_s,
            media_timeline,
            new_timeline: self.appended_timeline.unwrap_or(0) != media_timeline,
        }
    }

    /// Starts over at plan index `next` (a seek): nothing deferred or waited for, no
    /// attempt counted.
    pub fn restart_at(&mut self, next: usize, buffered_end_s: f64) {
        self.deferred = None;
        self.wait_until = None;
        self.attempts = 0;
        self.seg_first_request = None;
        self.seg_bits = 0.0;
        self.seg_starved = false;
        self.next_segment = next;
        self.buffered_end_s = buffered_end_s;
    }
}

/// The tracks being played, by kind: the main track (video, or the audio of an
/// audio-only presentation; [`TrackKind::Video`]) and an optional separate audio
/// track ([`TrackKind::Audio`]). Empty until the plan is built.
#[derive(Debug, Default)]
pub(super) struct Tracks {
    main: Option<TrackState>,
    audio: Option<TrackState>,
}

impl Tracks {
    /// The order in which tracks are scheduled: the main track first.
    pub const ORDER: [TrackKind; 2] = [TrackKind::Video, TrackKind::Audio];

    /// The tracks of `plans`.
    pub fn from_plans(plans: Vec<TrackPlan>) -> Self {
        let mut tracks = Self::default();
        for plan in plans {
            let slot = match plan.kind {
                TrackKind::Video => &mut tracks.main,
                TrackKind::Audio => &mut tracks.audio,
            };
            *slot = Some(TrackState::new(plan));
        }
        tracks
    }

    /// No plan yet.
    pub fn is_empty(&self) -> bool {
        self.main.is_none() && self.audio.is_none()
    }

    /// The main track.
    pub fn main(&self) -> Option<&TrackState> {
        self.main.as_ref()
    }

    pub fn get(&self, kind: TrackKind) -> Option<&TrackState> {
        match kind {
            TrackKind::Video => self.main.as_ref(),
            TrackKind::Audio => self.audio.as_ref(),
        }
    }

    pub fn get_mut(&mut self, kind: TrackKind) -> Option<&mut TrackState> {
        match kind {
            TrackKind::Video => self.main.as_mut(),
            TrackKind::Audio => self.audio.as_mut(),
        }
    }

    /// The tracks in [`ORDER`](Self::ORDER).
    pub fn iter(&self) -> impl Iterator<Item = &TrackState> {
        self.main.iter().chain(&self.audio)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut TrackState> {
        self.main.iter_mut().chain(&mut self.audio)
    }

    /// The track whose request `id` is in flight.
    pub fn with_job(&self, id: RequestId) -> Option<TrackKind> {
        self.iter().find(|t| t.job.as_ref().is_some_and(|j| j.id == id)).map(|t| t.plan.kind)
    }
}

/// What every ABR context is built from besides the ladder and the track.
#[derive(Debug, Clone, Copy)]
pub(super) struct View {
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

impl Core<'_> {
    fn view(&self) -> View {
        View {
            position_s: self.playback.position_s,
            buffer_max_s: self.config.buffer.forward_target_s,
            throughput_kbps: self.throughput_kbps(),
            latency_s: self.estimator.latency_s(),
            now: self.now,
            playing: self.playback.state == PlayerState::Playing,
        }
    }

    fn throughput_kbps(&self) -> Option<f64> {
        self.estimator
            .throughput_kbps()
            .or_else(|| self.steering.throughput_kbps(self.steering.current(), self.now))
    }

    /// Whether track `kind` is ahead of another track that still has segments to
    /// fetch: the tracks fill one buffer, so that on a shared link a small track
    /// (audio) does not take the bandwidth the other (video) needs to start or to keep
    /// playing, and playback, which needs both, is not held by the one behind.
    ///
    /// A track compares its buffered end with what the other has committed to (its
    /// buffered end, or the end of the segment it is fetching): audio starts segment
    /// `n` once video has started segment `n`, so the two fetch side by side rather
    /// than wait on each other; video may be one segment ahead of that. A track that
    /// is neither fetching nor due to fetch holds nobody back.
    fn runs_ahead(&self, kind: TrackKind) -> bool {
        let Some(t) = self.tracks.get(kind) else { return false };
        let Some(main) = self.tracks.main() else { return false };
        // Video's lead, and a slack that stays below half of it: were both tracks idle
        // and each ahead of the other, audio's end plus the slack would reach video's
        // and video's plus the slack would pass audio's plus the lead, so twice the
        // slack would exceed the lead. With no lead (a zero-length segment) video's
        // test is strict and audio's not, which cannot both hold either.
        let lead_s = main.plan.timeline.get(main.next_segment).map_or(0.0, |s| s.1.max(0.0));
        let slack_s = ONE_BUFFER_SLACK_S.min(lead_s / 4.0);
        self.tracks.iter().filter(|o| o.plan.kind != kind && !o.done()).any(|o| {
            // Only a track that is fetching, or has a time to fetch at, is waited for: one
            // at its live edge waits for a refresh, one whose buffer reached the startup
            // level while buffering waits for nothing, and waiting on it would wait for
            // ever.
            if o.at_live_edge() || !o.progressing() {
                return false;
            }
            let end = t.buffered_end_s + slack_s;
            if t.is_main() {
                end > o.committed_end_s() + lead_s
            } else {
                end >= o.committed_end_s()
            }
        })
    }

    /// Fetches the next segment of track `kind` if it is due: a deferred decision
    /// whose time has come, or a new decision once the buffer target allows.
    pub(super) fn schedule(&mut self, kind: TrackKind) {
        // A track scheduled before this one may have failed the session.
        if matches!(self.playback.state, PlayerState::Failed | PlayerState::Ended) {
            return;
        }
        let Some(t) = self.tracks.get(kind) else { return };
        if t.job.is_some() || t.done() || t.at_live_edge() {
            return;
        }
        self.rejoin_live_window(kind);
        if self.config.buffer.one_buffer && self.runs_ahead(kind) {
            // Waits for the other track: its next append schedules this one again.
            return;
        }
        let Some(t) = self.tracks.get_mut(kind) else { return };
        if let Some(p) = t.deferred {
            if p.at > self.now {
                return;
            }
            t.deferred = None;
            self.issue(kind, p.rung, p.reason, false);
            return;
        }
        let seg_s = t.plan.timeline.get(t.next_segment).map_or(0.0, |s| s.1);
        let ahead = (t.buffered_end_s - self.playback.position_s).max(0.0);
        let mut delay = self.config.buffer.fetch_delay_s(ahead, seg_s);
        // Buffering or stalled, the buffer does not drain, so a fetch held by the target
        // would be held for ever: below the threshold that lets playback (re)start, the
        // track fetches regardless (overshooting the target by less than a segment, as
        // the target may not be a whole number of segments).
        let threshold = match self.playback.state {
            PlayerState::Buffering => self.config.buffer.startup_s,
            PlayerState::Stalled => self.config.buffer.resume_s,
            _ => 0.0,
        };
        if ahead + EPS < threshold {
            delay = 0.0;
        }
        // Below a microsecond the clock cannot express the wait: fetch now.
        if delay >= 1e-6 {
            if self.playback.state == PlayerState::Playing {
                let first = t.wait_until.is_none();
                t.wait_until = Some(self.now + Duration::from_secs_f64(delay).max(Duration(1)));
                if first
                    && kind == TrackKind::Video
                    && let Some(rule) = self.rule.as_mut()
                {
                    rule.on_delay(delay);
                }
            } else {
                // The buffer does not drain while not playing: nothing to wait for.
                t.wait_until = None;
            }
            return;
        }
        t.wait_until = None;
        let Some((rung, reason, delay_s)) = self.decide(kind) else { return };
        let Some(t) = self.tracks.get(kind) else { return };
        let seg = t.next_segment;
        let bitrate_kbps = t.plan.declared_kbps(rung).unwrap_or(0.0);
        let last_rung = t.last_rung;
        self.emit(PlayerEvent::Decision {
            track: kind,
            segment: seg,
            rendition: rung,
            bitrate_kbps,
            reason,
        });
        if let Some(from) = last_rung.filter(|r| *r != rung) {
            self.emit(PlayerEvent::RenditionChanged { track: kind, from, to: rung });
        }
        if delay_s >= 1e-6 {
            if let Some(rule) = self.rule.as_mut() {
                rule.on_delay(delay_s);
            }
            let at = self.now + Duration::from_secs_f64(delay_s).max(Duration(1));
            if let Some(t) = self.tracks.get_mut(kind) {
                t.deferred = Some(Deferred { rung, reason, at });
            }
            return;
        }
        self.issue(kind, rung, reason, false);
    }

    /// The rung of track `kind`'s next segment, why, and how long the rule wants to
    /// wait before fetching it.
    fn decide(&mut self, kind: TrackKind) -> Option<(usize, DecisionReason, f64)> {
        let t = self.tracks.get(kind)?;
        let top = t.plan.rungs.len().saturating_sub(1);
        if let Some(p) = t.pinned {
            return Some((p.min(top), DecisionReason::User, 0.0));
        }
        if kind == TrackKind::Audio {
            let rung = match self.config.audio_max_kbps {
                Some(cap) => t.plan.rungs.iter().rposition(|r| r.bitrate_kbps <= cap).unwrap_or(0),
                None => 0,
            };
            return Some((rung, DecisionReason::AudioPolicy, 0.0));
        }
        let view = self.view();
        let t = self.tracks.get(kind)?;
        let (Some(ladder), Some(rule)) = (self.ladder.as_ref(), self.rule.as_mut()) else {
            return Some((0, DecisionReason::Abr { reason: Reason::Startup }, 0.0));
        };
        let ctx = abr_ctx(ladder, t, view);
        let d = rule.choose(&ctx);
        let delay = if d.delay_s.is_finite() { d.delay_s.max(0.0) } else { 0.0 };
        Some((d.rendition.min(top), DecisionReason::Abr { reason: d.reason }, delay))
    }

    /// Issues the request for track `kind`'s next segment at `rung` (the init segment
    /// first when the rung's differs from the one appended), on the pathway steering
    /// selects.
    pub(super) fn issue(
        &mut self,
        kind: TrackKind,
        rung: usize,
        reason: DecisionReason,
        media_only: bool,
    ) {
        let Some(main) = self.tracks.main() else { return };
        let need = main.last_rung.max((kind == TrackKind::Video).then_some(rung));
        // What the pathway must sustain: the rung's mean rate when known, not its peak.
        let mean = |r: &super::plan::Rung| r.average_kbps.unwrap_or(r.bitrate_kbps);
        let rung_kbps = need.and_then(|r| main.plan.rungs.get(r)).map_or(0.0, mean);
        let lowest_kbps = main.plan.rungs.first().map_or(0.0, mean);
        // Audio comes from where video does while that pathway is usable: the tracks
        // share one CDN (a split draws on two links and bills two CDNs).
        let follow = self.pathway.clone().filter(|p| {
            kind == TrackKind::Audio
                && self.tracks.main().is_some_and(|m| m.job.is_some() || m.last_rung.is_some())
                && !self.steering.health(p).is_some_and(|h| h.is_penalized(self.now))
        });
        let pathway = match follow {
            Some(p) => p,
            None => {
                let sel = self.steering.select(self.now, rung_kbps, lowest_kbps);
                if self.pathway.as_deref() != Some(sel.pathway.as_str()) {
                    let from = self.pathway.replace(sel.pathway.clone());
                    self.emit(PlayerEvent::PathwayChanged {
                        from,
                        to: sel.pathway.clone(),
                        reason: sel.reason,
                    });
                }
                sel.pathway
            }
        };
        let Some(t) = self.tracks.get(kind) else { return };
        let seg = t.next_segment;
        let init_key = t.plan.init_key(&self.presentation, rung, seg);
        let init = !media_only && init_key.is_some() && init_key != t.loaded_init;
        let root = self.steering.root_pathway(&pathway).to_string();
        let target = match t.plan.target(&self.presentation, rung, seg, &root, init) {
            Some(Ok(target)) => target,
            Some(Err(e)) => return self.refuse(kind, rung, reason, pathway, init, e.to_string()),
            None => {
                let message = format!("segment {seg} of rung {rung} has no URL");
                return self.fail(ErrorKind::Manifest, message);
            }
        };
        let url = match self.steering.rewrite_uri(&pathway, &target.url, StableId::None) {
            Ok(u) => u,
            Err(e) => return self.refuse(kind, rung, reason, pathway, init, e.to_string()),
        };
        if !self.config.allowed_hosts.allows_url(&url) {
            let why = format!("{url} is not on an allowed host");
            return self.refuse(kind, rung, reason, pathway, init, why);
        }
        let Some(t) = self.tracks.get(kind) else { return };
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
        let deadline = (self.playback.state == PlayerState::Playing).then(|| {
            let ahead = (t.buffered_end_s - self.playback.position_s).max(0.0);
            self.now + Duration::from_secs_f64(ahead)
        });
        let object = self.config.cmcd.enabled().then(|| ObjectKeys {
            bitrate_kbps: t.plan.declared_kbps(rung),
            top_kbps: t.plan.declared_kbps(t.plan.rungs.len().saturating_sub(1)),
            duration_s: t.plan.timeline.get(seg).map(|(_, d)| *d),
            buffer_s: Some((t.buffered_end_s - self.playback.position_s).max(0.0)),
            next: match t.plan.target(&self.presentation, rung, seg + 1, &root, false) {
                Some(Ok(next)) if !init => self
                    .steering
                    .rewrite_uri(&pathway, &next.url, StableId::None)
                    .ok()
                    .map(|u| (u, next.byte_range)),
                _ => None,
            },
        });
        let id = self.requests.alloc_id();
        let mut req = FetchRequest {
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
            cmcd: None,
        };
        if object.is_some() {
            req.cmcd = self.cmcd_keys(&req, object).map(Box::new);
        }
        self.act(Action::Fetch(req));
        self.start_job(
            kind,
            Job { id, segment: seg, rung, pathway, init, reason, issued_at: self.now },
        );
    }

    /// Records `job` as track `kind`'s request in flight.
    pub(super) fn start_job(&mut self, kind: TrackKind, job: Job) {
        if let Some(t) = self.tracks.get_mut(kind) {
            t.seg_first_request.get_or_insert(self.now);
            t.job = Some(job);
        }
    }

    /// An init or media segment arrived whole: append it, feed the estimators and the
    /// rule, and account it.
    pub(super) fn on_completed(
        &mut self,
        id: RequestId,
        bytes: u64,
        ttfb: Duration,
        duration: Duration,
    ) {
        let Some(kind) = self.tracks.with_job(id) else {
            if self.requests.is_utc_timing(id) {
                // Its answer is the body or the Date header, which this event lacks.
                return self.on_failed(id, None, bytes);
            }
            if self.requests.is_playlist(id) {
                // A playlist must come back as ManifestLoaded, with its text.
                let message = format!("request {id}: a media playlist completed without its text");
                self.fail(ErrorKind::Manifest, message);
            } else if self.requests.is_index(id) {
                // A segment index must come back as SegmentIndexLoaded, with its bytes.
                let message = format!("request {id}: a segment index completed without its bytes");
                self.fail(ErrorKind::Manifest, message);
            }
            return;
        };
        let Some(job) = self.tracks.get_mut(kind).and_then(|t| t.job.take()) else { return };
        let bits = bytes as f64 * 8.0;
        let secs = duration.as_secs_f64();
        let main = kind == TrackKind::Video;
        // Init and audio segments are too small to measure a pathway by (TTFB
        // dominates, and one overlapping a video fetch shares its link): they only
        // count as a sign of life.
        let sample_bits = if job.init || !main { 0.0 } else { bits };
        self.steering.on_media_success(self.now, &job.pathway, sample_bits, secs);
        self.recorder.account(&job.pathway, bytes, secs, !job.init && main);
        let Some(t) = self.tracks.get_mut(kind) else { return };
        t.seg_bits += bits;
        if job.init {
            t.loaded_init = t.plan.init_key(&self.presentation, job.rung, job.segment);
            self.act(Action::Append {
                track: kind,
                init: true,
                request: id,
                segment: None,
                rendition: job.rung,
                timing: None,
            });
            self.issue(kind, job.rung, job.reason, true);
            return;
        }
        let seg_s = t.plan.timeline.get(job.segment).map_or(0.0, |s| s.1);
        self.estimator.add_sample(&Sample {
            bits,
            ttfb_s: ttfb.as_secs_f64(),
            duration_s: secs,
            media_s: seg_s,
        });
        let before = (t.buffered_end_s - self.playback.position_s).max(0.0);
        let timing = t.media_timing(job.segment);
        t.appended_timeline = Some(timing.media_timeline);
        self.act(Action::Append {
            track: kind,
            init: false,
            request: id,
            segment: Some(job.segment),
            rendition: job.rung,
            timing: Some(timing),
        });
        let Some(t) = self.tracks.get_mut(kind) else { return };
        let (start, dur) =
            t.plan.timeline.get(job.segment).copied().unwrap_or((t.buffered_end_s, 0.0));
        t.buffered_end_s = start + dur;
        t.next_segment = job.segment + 1;
        t.attempts = 0;
        let first_request = t.seg_first_request.take().unwrap_or(job.issued_at);
        let seg_bits = std::mem::take(&mut t.seg_bits);
        t.seg_starved = false;
        if !main {
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
        if let (Some(ladder), Some(rule), Some(t)) =
            (self.ladder.as_ref(), self.rule.as_mut(), self.tracks.get(kind))
        {
            let ctx = abr_ctx(ladder, t, view);
            rule.on_download(&ctx, &report);
        }
        let Some(t) = self.tracks.get_mut(kind) else { return };
        t.last_rung = Some(job.rung);
        // Rebuffering since the previous main segment is charged to this one.
        let rebuffer = self.recorder.charge_rebuffer(self.now, self.playback.stall_started);
        let bitrate_kbps = t.plan.rungs.get(job.rung).map_or(0.0, |r| r.bitrate_kbps);
        let reason = match job.reason {
            DecisionReason::Abr { reason } => reason,
            _ => Reason::Hold { buffer_s: before },
        };
        let record = SegmentRecord {
            index: job.segment,
            rendition: job.rung,
            bitrate_kbps,
            size_bits: seg_bits,
            request_s: first_request.as_secs_f64(),
            download_s: self.now.saturating_since(first_request).as_secs_f64(),
            rebuffer_s: rebuffer,
            buffer_after_s: (t.buffered_end_s - self.playback.position_s).max(0.0),
            pathway: job.pathway,
            reason,
        };
        // Every record's bitrate is a rung's (or 0 for a missing one): with them as
        // QoE_log's candidate minima the report is exact.
        let rungs = self.tracks.main().map(|t| t.plan.rungs.iter().map(|r| r.bitrate_kbps));
        self.recorder.record(rungs.into_iter().flatten(), record);
    }

    /// Progress of a main-track fetch: a starving pathway is left, else the rule may
    /// abandon it for a lower rung.
    pub(super) fn on_progress(&mut self, id: RequestId, bytes: u64, ttfb: Option<Duration>) {
        if self.tracks.with_job(id) != Some(TrackKind::Video) {
            return;
        }
        if self.leave_if_starved(bytes, ttfb) {
            return;
        }
        let Some(main) = self.tracks.main() else { return };
        if main.pinned.is_some() {
            return;
        }
        let Some(job) = main.job.clone() else { return };
        if job.init {
            return;
        }
        let view = self.view();
        let tput = view.throughput_kbps;
        let (Some(ladder), Some(rule), Some(t)) =
            (self.ladder.as_ref(), self.rule.as_mut(), self.tracks.main())
        else {
            return;
        };
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
        let Some(t) = self.tracks.get_mut(TrackKind::Video) else { return };
        t.job = None;
        t.seg_bits += progress.downloaded_bits;
        let bitrate_kbps = t.plan.declared_kbps(to).unwrap_or(0.0);
        self.act(Action::Cancel { id });
        self.recorder.account(&job.pathway, bytes, elapsed, false);
        self.emit(PlayerEvent::Abandoned { segment: job.segment, from: job.rung, to });
        let estimate_kbps = tput.unwrap_or(0.0);
        let reason = DecisionReason::Abr { reason: Reason::Abandon { estimate_kbps } };
        self.emit(PlayerEvent::Decision {
            track: TrackKind::Video,
            segment: job.segment,
            rendition: to,
            bitrate_kbps,
            reason,
        });
        self.issue(TrackKind::Video, to, reason, false);
    }
}

/// A fetch is starved when it delivers below this share of its pathway's recent
/// throughput: a CDN failing, not a link that is slow for every CDN (abandoning for
/// another pathway would not help there, and the ABR rule handles it).
const STARVED_SHARE: f64 = 0.3;
/// Seconds of a fetch's body (after its first byte) before its rate is judged: TCP's
/// slow start, a first chunk's burst and a late progress report say little before.
const STARVED_AFTER_S: f64 = 1.0;
/// A starved fetch is left when it would take this many times longer than its
/// segment lasts (a CDN slowed tenfold takes ten).
const STARVED_SLOWER: f64 = 1.5;
/// A starved fetch is left when its projected end comes within this margin of the
/// buffer running out, seconds (or it is far slower than playback).
const STARVED_MARGIN_S: f64 = 1.0;

impl Core<'_> {
    /// The main track's media fetch in flight, `bytes` in: when its pathway starves
    /// it (far below its own recent throughput, too slowly to keep up with playback or
    /// to arrive before the buffer runs out) and another pathway is usable, the fetch
    /// is cancelled, the pathway penalised as on a failure, and the segment fetched
    /// from the next one. Returns whether it was.
    fn leave_if_starved(&mut self, bytes: u64, ttfb: Option<Duration>) -> bool {
        let Some(t) = self.tracks.main() else { return false };
        let Some(job) = t.job.clone().filter(|j| !j.init) else { return false };
        // Starved again on the pathway it was moved to: every CDN is slow, so the
        // client's own link is (moving on would bounce between them at a rung that
        // no longer fits); the rule's abandonment judges it.
        if t.seg_starved {
            return false;
        }
        let elapsed = self.now.saturating_since(job.issued_at).as_secs_f64();
        // Judged on the body's rate, over long enough a stretch of it that a busy
        // machine's late progress report does not look like a starving CDN (no first
        // byte at all is the TTFB timeout's to judge).
        let Some(ttfb) = ttfb.map(Duration::as_secs_f64).filter(|_| bytes > 0) else {
            return false;
        };
        let receiving = elapsed - ttfb;
        if receiving < STARVED_AFTER_S {
            return false;
        }
        // What the pathway delivered lately; unmeasured (a probe after its estimate
        // aged out), what the best other pathway delivers: leaving for it helps then.
        let expected = self.steering.throughput_kbps(&job.pathway, self.now).or_else(|| {
            let others = self.steering.priority().iter().filter(|p| **p != job.pathway);
            others.filter_map(|p| self.steering.throughput_kbps(p, self.now)).reduce(f64::max)
        });
        let Some(expected_kbps) = expected else { return false };
        let rate_kbps = bytes as f64 * 8.0 / receiving / 1000.0;
        if rate_kbps >= expected_kbps * STARVED_SHARE {
            return false;
        }
        let size_bits = t
            .plan
            .rungs
            .get(job.rung)
            .map_or(0.0, |r| t.plan.size_bits(&self.presentation, r, job.segment));
        let left_s = (size_bits - bytes as f64 * 8.0).max(0.0) / (rate_kbps * 1000.0).max(1.0);
        let ahead = (t.buffered_end_s - self.playback.position_s).max(0.0);
        let playing = self.playback.state == PlayerState::Playing;
        let segment_s = t.plan.timeline.get(job.segment).map_or(0.0, |s| s.1);
        // Kept if it keeps roughly up with playback and lands before the buffer runs
        // out (buffering, at start-up or in a stall, every second of it is waited for).
        let keeps_up = elapsed + left_s <= STARVED_SLOWER * segment_s;
        if playing && keeps_up && left_s + STARVED_MARGIN_S < ahead {
            return false;
        }
        let others = self.steering.priority().iter().any(|p| {
            *p != job.pathway && !self.steering.health(p).is_some_and(|h| h.is_penalized(self.now))
        });
        if !others {
            return false;
        }
        tracing::debug!(
            pathway = job.pathway,
            segment = job.segment,
            rate_kbps,
            expected_kbps,
            "starved"
        );
        self.act(Action::Cancel { id: job.id });
        self.recorder.account(&job.pathway, bytes, elapsed, false);
        if let Some(t) = self.tracks.get_mut(TrackKind::Video) {
            t.job = None;
            t.seg_bits += bytes as f64 * 8.0;
            t.seg_starved = true;
        }
        self.steering.on_media_failure(self.now, &job.pathway);
        self.emit(PlayerEvent::PathwayStarved {
            pathway: job.pathway.clone(),
            segment: job.segment,
            rate_kbps,
            expected_kbps,
        });
        self.issue(TrackKind::Video, job.rung, job.reason, false);
        true
    }
}
