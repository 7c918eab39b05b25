//! Our own model: the real [`Session`] on a virtual clock, with a link per pathway.
//!
//! Each pathway is a link whose bandwidth follows a trace (looping when the session
//! outlives it), with a fixed round-trip time charged as time to first byte on
//! every request, and optional outage windows during which requests fail. Concurrent
//! transfers on one pathway share its bandwidth equally; pathways are independent
//! (separate CDNs). The session's actions are carried out as the caller of a real
//! player would: fetches become transfers, `WakeAt` becomes a timer, steering
//! requests are answered from a script.
//!
//! The presentation is synthesised from the ladder
//! ([`presentation_from_ladder`]): a VOD presentation whose segment sizes are the
//! ladder's; or it is a real one ([`ServedPresentation`], e.g. the test origin's
//! on-demand MPD), whose documents (segment indexes, media playlists) the model
//! answers from the bytes it is given; or, with [`EngineConfig::live`], a live DASH
//! stream addressed by `SegmentTemplate@duration` ([`live_presentation_from_ladder`])
//! played on a virtual wall clock: the virtual origin serves segment `n` only once it
//! exists on the server's clock (404 before), answers `UTCTiming` requests from that
//! clock, and the player's own wall clock may be off by a set error. Deterministic:
//! the same inputs give the same outcome, bit for bit.

use crate::model::{Model, ModelKind, SessionOutcome, SimConfig, SimError};
use crate::trace::Trace;
use std::collections::BTreeMap;
use streamsteer::Ladder;
use streamsteer::abr::estimator::DualEwma;
use streamsteer::abr::{AbrContext, AbrRule, Decision, DownloadReport, FetchProgress};
use streamsteer::manifest::{ByteRange, Presentation, UtcTiming, UtcTimingScheme};
use streamsteer::session::{
    Action, Event, FetchKind, PlayerState, RequestId, Retention, Session, SessionConfig,
    SyntheticLive, SyntheticOptions, TrackKind, live_presentation_from_ladder,
    presentation_from_ladder,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;
use streamsteer::utc_timing::{format_date_time, format_http_date};

/// Forward buffer of the streamsteer model when `SimConfig::buffer_max_s` is unset.
pub const DEFAULT_BUFFER_S: f64 = 30.0;

/// One pathway's link.
#[derive(Debug, Clone, PartialEq)]
pub struct PathwayLink {
    /// Pathway ID.
    pub id: String,
    /// Host name used in the synthesised URLs.
    pub host: String,
    /// Bandwidth over time; `None` uses the session's trace.
    pub trace: Option<Trace>,
    /// Round-trip time charged as time to first byte per request, seconds.
    pub rtt_s: f64,
    /// Share of the trace's bandwidth that carries payload (TCP/IP overhead).
    pub payload_fraction: f64,
    /// `(start_s, end_s)` windows during which the pathway is unreachable.
    pub outages: Vec<(f64, f64)>,
}

impl PathwayLink {
    /// A pathway fed by the session's trace, 80 ms RTT (Pensieve's), 95 % payload.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.into(),
            host: format!("{id}.example"),
            trace: None,
            rtt_s: 0.08,
            payload_fraction: 0.95,
            outages: Vec::new(),
        }
    }
}

/// How the simulated steering server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum SteeringReply {
    /// 200 with this manifest body.
    Body(String),
    /// An HTTP error, with an optional `Retry-After` in seconds.
    Status(u16, Option<f64>),
}

/// A document body the model answers a fetch with: a media playlist or a segment
/// index, by the URL and byte range asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedBody {
    /// The URL requested.
    pub url: Url,
    /// The byte range requested (`None`: the whole resource).
    pub range: Option<ByteRange>,
    /// The bytes answered.
    pub data: Vec<u8>,
}

/// A real presentation for the model to play instead of one synthesised from the
/// ladder: its media fetches carry the sizes its byte ranges say (or the ladder's,
/// without ranges), and the documents it asks for are answered from `bodies`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedPresentation {
    /// The presentation, as parsed from its manifest.
    pub presentation: Presentation,
    /// The documents it needs (HLS media playlists, DASH segment indexes); a fetch
    /// of one not here fails with 404.
    pub bodies: Vec<ServedBody>,
}

impl ServedPresentation {
    fn body(&self, url: &Url, range: Option<ByteRange>) -> Option<&ServedBody> {
        self.bodies.iter().find(|b| b.url == *url && b.range == range)
    }
}

/// The ladder played as a live DASH stream on a virtual wall clock.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveModel {
    /// The server's wall clock when the simulation starts, Unix seconds.
    pub server_clock_at_start_unix_s: f64,
    /// How long the stream has been running when the player starts, seconds (it
    /// ends once the ladder's last segment has been live).
    pub running_for_s: f64,
    /// The player's wall clock minus the server's, seconds.
    pub player_clock_error_s: f64,
    /// Whether the MPD names the virtual origin's clock as `UTCTiming`
    /// (`http-xsdate`); without, the player goes by its own clock.
    pub utc_timing: bool,
    /// `@suggestedPresentationDelay`, seconds.
    pub suggested_presentation_delay_s: Option<f64>,
    /// `@timeShiftBufferDepth`, seconds.
    pub time_shift_buffer_depth_s: Option<f64>,
}

impl Default for LiveModel {
    /// A stream running for a minute, a correct player clock, the origin's clock as
    /// `UTCTiming`, 6 s of suggested delay, a 30 s window.
    fn default() -> Self {
        Self {
            server_clock_at_start_unix_s: 1_800_000_000.0,
            running_for_s: 60.0,
            player_clock_error_s: 0.0,
            utc_timing: true,
            suggested_presentation_delay_s: Some(6.0),
            time_shift_buffer_depth_s: Some(30.0),
        }
    }
}

/// Where the virtual origin's clock is served.
const TIME_URL: &str = "https://time.example/now";

/// The `$Number$` of a synthetic live segment URL (`…/seg-<n>.m4s`).
fn live_number(url: &str) -> Option<u64> {
    url.rsplit("seg-").next()?.strip_suffix(".m4s")?.parse().ok()
}

/// Settings of the streamsteer model beyond [`SimConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Pathways, first = preferred (default: one, `cdn-a`, fed by the trace).
    pub pathways: Vec<PathwayLink>,
    /// Steering server script: the reply in force from each time on (sorted by
    /// time); `None` = the presentation has no steering server.
    pub steering: Option<Vec<(f64, SteeringReply)>>,
    /// A separate audio track at this bitrate, kbit/s.
    pub audio_kbps: Option<f64>,
    /// Init segment size in bytes (0: none).
    pub init_bytes: u64,
    /// Whether the presentation tells the session each segment's size (byte ranges,
    /// as a player of a Sabre or Pensieve ladder knows them). `false` models a
    /// manifest that does not (DASH `SegmentTemplate`, HLS without byte ranges, as
    /// the test origin serves): the session and its rule plan with bitrate ×
    /// duration, as a real player of it would, while the link still carries the
    /// ladder's real sizes. Default `true`.
    pub sizes_in_manifest: bool,
    /// How often a running media fetch reports progress (for abandonment), seconds.
    pub progress_interval_s: f64,
    /// A request to an unreachable pathway fails after this long, seconds.
    pub connect_timeout_s: f64,
    /// Play this presentation instead of one synthesised from the ladder (which
    /// then only bounds the session's length). Default `None`.
    pub presentation: Option<ServedPresentation>,
    /// Session settings (buffer, steering, audio); `SimConfig` overrides its ABR
    /// parameters, QoE weights and, when set, the forward buffer, and the model keeps
    /// every segment record (`history.segment_records` is [`Retention::All`]: the
    /// outcome lists them all).
    pub session: SessionConfig,
    /// Play the ladder as a live stream on a virtual wall clock (default `None`: on
    /// demand). The outcome's metrics then count `too_early_requests` (segments
    /// asked for before they existed, which the origin refused).
    pub live: Option<LiveModel>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            pathways: vec![PathwayLink::new("cdn-a")],
            steering: None,
            audio_kbps: None,
            init_bytes: 0,
            sizes_in_manifest: true,
            progress_interval_s: 0.5,
            connect_timeout_s: 1.0,
            presentation: None,
            session: SessionConfig::default(),
            live: None,
        }
    }
}

/// The `streamsteer` model with its defaults (one pathway fed by the trace).
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineModel;

impl Model for EngineModel {
    fn kind(&self) -> ModelKind {
        ModelKind::Streamsteer
    }

    fn run(
        &self,
        ladder: &Ladder,
        trace: &Trace,
        rule: &mut dyn AbrRule,
        config: &SimConfig,
    ) -> Result<SessionOutcome, SimError> {
        run_engine(ladder, trace, rule, config, &EngineConfig::default())
    }
}

/// The `streamsteer` model with explicit settings: what a content folder or a test
/// needs beyond the defaults (an audio track, init segments, the origin's RTT).
#[derive(Debug, Clone, Default)]
pub struct ConfiguredEngine(pub EngineConfig);

impl Model for ConfiguredEngine {
    fn kind(&self) -> ModelKind {
        ModelKind::Streamsteer
    }

    fn run(
        &self,
        ladder: &Ladder,
        trace: &Trace,
        rule: &mut dyn AbrRule,
        config: &SimConfig,
    ) -> Result<SessionOutcome, SimError> {
        run_engine(ladder, trace, rule, config, &self.0)
    }
}

/// Lends the caller's rule to the session for one run.
struct Lent<'a>(&'a mut dyn AbrRule);

impl AbrRule for Lent<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn choose(&mut self, ctx: &AbrContext<'_>) -> Decision {
        self.0.choose(ctx)
    }
    fn on_download(&mut self, ctx: &AbrContext<'_>, report: &DownloadReport) {
        self.0.on_download(ctx, report)
    }
    fn on_delay(&mut self, delay_s: f64) {
        self.0.on_delay(delay_s)
    }
    fn on_seek(&mut self, segment_index: usize) {
        self.0.on_seek(segment_index)
    }
    fn check_abandon(&mut self, ctx: &AbrContext<'_>, progress: &FetchProgress) -> Option<usize> {
        self.0.check_abandon(ctx, progress)
    }
}

/// Piecewise-constant bandwidth, looping.
#[derive(Debug, Clone)]
struct Link {
    /// `(end_s, kbps)` cumulative.
    steps: Vec<(f64, f64)>,
    total_s: f64,
    rtt_s: f64,
    outages: Vec<(f64, f64)>,
}

impl Link {
    fn new(trace: &Trace, spec: &PathwayLink) -> Result<Self, SimError> {
        let mut t = 0.0;
        let frac = if spec.payload_fraction.is_finite() && spec.payload_fraction > 0.0 {
            spec.payload_fraction
        } else {
            1.0
        };
        let mut steps = Vec::new();
        for p in trace.to_periods(1.0, 0.0) {
            if p.duration_ms > 0.0 && p.duration_ms.is_finite() {
                t += p.duration_ms / 1000.0;
                let kbps = if p.bandwidth_kbps.is_finite() {
                    p.bandwidth_kbps.max(0.0) * frac
                } else {
                    0.0
                };
                steps.push((t, kbps));
            }
        }
        if steps.is_empty() || steps.iter().all(|s| s.1 <= 0.0) {
            return Err(SimError::DeadTrace(trace.name.clone()));
        }
        let rtt_s = if spec.rtt_s.is_finite() { spec.rtt_s.max(0.0) } else { 0.0 };
        Ok(Self { steps, total_s: t, rtt_s, outages: spec.outages.clone() })
    }

    /// Bandwidth at `t` and how long it stays so.
    fn rate_at(&self, t: f64) -> (f64, f64) {
        let cycle = (t / self.total_s).floor();
        let local = t - cycle * self.total_s;
        let i = self.steps.partition_point(|s| s.0 <= local).min(self.steps.len() - 1);
        let (end, kbps) = self.steps[i];
        (kbps, (end - local).max(1e-6))
    }

    fn down_at(&self, t: f64) -> Option<f64> {
        self.outages.iter().find(|(s, e)| *s <= t && t < *e).map(|(_, e)| *e)
    }

    fn next_outage_after(&self, t: f64) -> Option<f64> {
        self.outages
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| *s > t)
            .fold(None, |m, s| Some(m.map_or(s, |x: f64| x.min(s))))
    }
}

#[derive(Debug, Clone)]
struct Transfer {
    id: RequestId,
    pathway: usize,
    issued_s: f64,
    first_byte_s: f64,
    total_bits: f64,
    done_bits: f64,
    media: bool,
    /// A document (playlist, segment index) delivered with its body on completion:
    /// its kind, and the URL and range asked for.
    document: Option<(FetchKind, Url, Option<ByteRange>)>,
    fail_at: Option<f64>,
    /// The HTTP status the failure answers with (`None`: no response).
    fail_status: Option<u16>,
    next_progress_s: f64,
}

/// `ladder` with every segment at its rung's bitrate × duration: what a manifest
/// without byte ranges tells a player.
fn nominal_sizes(ladder: &Ladder) -> Result<Ladder, SimError> {
    let d = ladder.segment_duration_s();
    let row: Vec<f64> = ladder.bitrates_kbps().iter().map(|k| k * 1000.0 * d).collect();
    Ladder::new(ladder.bitrates_kbps().to_vec(), d, vec![row; ladder.segment_count()])
        .map_err(|e| SimError::Unsupported(e.to_string()))
}

/// Consecutive steps without the clock moving after which the model gives up: far more
/// than the events one instant can carry, far fewer than a spin would burn.
const MAX_STILL_STEPS: u32 = 10_000;

/// Runs one session with explicit engine settings (two pathways, steering scripts,
/// outages…).
pub fn run_engine(
    ladder: &Ladder,
    trace: &Trace,
    rule: &mut dyn AbrRule,
    config: &SimConfig,
    engine: &EngineConfig,
) -> Result<SessionOutcome, SimError> {
    let ladder = match config.segments {
        Some(n) => ladder.with_segment_count(n),
        None => ladder.clone(),
    };
    if ladder.segment_count() == 0 {
        return Err(SimError::NoSegments);
    }
    if engine.pathways.is_empty() {
        return Err(SimError::Unsupported(
            "the streamsteer model needs at least one pathway".into(),
        ));
    }
    let links: Vec<Link> = engine
        .pathways
        .iter()
        .map(|p| Link::new(p.trace.as_ref().unwrap_or(trace), p))
        .collect::<Result<_, _>>()?;
    let opts = SyntheticOptions {
        pathways: engine.pathways.iter().map(|p| (p.id.clone(), p.host.clone())).collect(),
        audio_kbps: engine.audio_kbps,
        init_bytes: engine.init_bytes,
        steering_url: engine
            .steering
            .as_ref()
            .map(|_| streamsteer::uri::Url::parse("https://steering.example/steer.json"))
            .transpose()
            .map_err(|e| SimError::Unsupported(e.to_string()))?,
    };
    let presentation = match &engine.presentation {
        Some(served) => served.presentation.clone(),
        None => if let Some(live) = &engine.live {
            let utc_timing = live
                .utc_timing
                .then(|| UtcTiming { scheme: UtcTimingScheme::HttpXsDate, value: TIME_URL.into() });
            let synthetic = SyntheticLive {
                availability_start_unix_s: live.server_clock_at_start_unix_s - live.running_for_s,
                time_shift_buffer_depth_s: live.time_shift_buffer_depth_s,
                suggested_presentation_delay_s: live.suggested_presentation_delay_s,
                utc_timing: utc_timing.into_iter().collect(),
            };
            live_presentation_from_ladder(&ladder, &opts, &synthetic)
        } else if engine.sizes_in_manifest {
            presentation_from_ladder(&ladder, &opts)
        } else {
            presentation_from_ladder(&nominal_sizes(&ladder)?, &opts)
        }
        .map_err(|e| SimError::Unsupported(format!("a pathway host is not usable: {e}")))?,
    };
    // The server's wall clock at virtual time `t`.
    let server_clock = |t: f64| engine.live.as_ref().map(|l| l.server_clock_at_start_unix_s + t);
    let ast = engine.live.as_ref().map(|l| l.server_clock_at_start_unix_s - l.running_for_s);
    let mut too_early = 0u64;
    let mut clock_replies: Vec<(f64, RequestId, f64)> = Vec::new();
    let mut session_config = engine.session.clone();
    session_config.abr = config.abr.clone();
    session_config.qoe = config.qoe;
    // The outcome's per-segment list (and the timelines built from it) needs every
    // record; a simulated session is bounded by its content, so this is opt-in here.
    session_config.history.segment_records = Retention::All;
    session_config.buffer.forward_target_s =
        config.buffer_max_s.unwrap_or(session_config.buffer.forward_target_s);
    let rule_name = rule.name().to_string();
    let mut session = Session::with_parts(
        presentation,
        session_config.clone(),
        Box::new(Lent(rule)),
        Box::new(DualEwma::new(session_config.estimator)),
    )
    .map_err(|e| SimError::Unsupported(e.to_string()))?;

    let content_s = ladder.segment_count() as f64 * ladder.segment_duration_s();
    let limit_s = 20.0 * content_s + 3600.0;
    let mut pending_events: Vec<Event> = vec![Event::Tick];
    if let Some(live) = &engine.live {
        // A driver's first event is its wall clock.
        let unix_s = live.server_clock_at_start_unix_s + live.player_clock_error_s;
        pending_events.insert(0, Event::WallClock { unix_s });
    }
    let pathway_index: BTreeMap<&str, usize> =
        engine.pathways.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
    let progress_dt = engine.progress_interval_s.max(0.01);

    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut transfers: Vec<Transfer> = Vec::new();
    let mut steering_replies: Vec<(f64, RequestId, SteeringReply)> = Vec::new();
    let mut timeline: Vec<(f64, f64)> = Vec::new();
    let mut stalled_steps = 0u32;

    for _ in 0..50_000_000u64 {
        for ev in pending_events.drain(..) {
            session.handle(Instant::from_secs_f64(now), ev);
        }
        while let Some(action) = session.poll_action() {
            match action {
                Action::Fetch(req) => {
                    if req.kind == FetchKind::Steering {
                        let reply = engine
                            .steering
                            .as_ref()
                            .and_then(|s| s.iter().rev().find(|(t, _)| *t <= now).or(s.first()))
                            .map_or(SteeringReply::Status(404, None), |(_, r)| r.clone());
                        steering_replies.push((now + links[0].rtt_s, req.id, reply));
                        continue;
                    }
                    if let (FetchKind::UtcTiming { .. }, Some(_)) = (req.kind, &engine.live) {
                        // The origin reads its clock half a round trip in.
                        let rtt = links[0].rtt_s;
                        let served = server_clock(now + rtt / 2.0).unwrap_or(0.0);
                        clock_replies.push((now + rtt, req.id, served));
                        continue;
                    }
                    let p = req
                        .pathway
                        .as_deref()
                        .and_then(|p| pathway_index.get(p))
                        .copied()
                        .unwrap_or(0);
                    let link = &links[p];
                    let mut bytes =
                        req.expected_bytes.or(req.byte_range.map(|b| b.length)).unwrap_or(0);
                    let document =
                        matches!(req.kind, FetchKind::Manifest | FetchKind::SegmentIndex);
                    if document {
                        let served = engine.presentation.as_ref();
                        let body = served.and_then(|s| s.body(&req.url, req.byte_range));
                        bytes = body.map_or(0, |b| b.data.len() as u64);
                    }
                    let mut fail_status = None;
                    let live_number =
                        live_number(&req.url).filter(|_| req.kind == FetchKind::Media);
                    if let (Some(n), Some(ast), Some(live)) = (live_number, ast, &engine.live) {
                        let seg_s = ladder.segment_duration_s();
                        let arrives = live.server_clock_at_start_unix_s + now + link.rtt_s / 2.0;
                        if arrives < ast + n as f64 * seg_s {
                            too_early += 1;
                            fail_status = Some(404);
                        }
                        if req.track == Some(TrackKind::Video)
                            && let (Some(r), Some(i)) =
                                (req.rendition, usize::try_from(n.saturating_sub(1)).ok())
                        {
                            bytes = (ladder.segment_size_bits(i, r) / 8.0).round() as u64;
                        }
                    }
                    // The session only knows nominal sizes; the wire carries the real ones.
                    if engine.presentation.is_none()
                        && !engine.sizes_in_manifest
                        && engine.live.is_none()
                        && req.kind == FetchKind::Media
                        && req.track == Some(TrackKind::Video)
                        && let (Some(seg), Some(r)) = (req.segment, req.rendition)
                    {
                        bytes = (ladder.segment_size_bits(seg, r) / 8.0).round() as u64;
                    }
                    let fail_at = match link.down_at(now) {
                        Some(_) => Some(now + engine.connect_timeout_s.max(0.0)),
                        None if fail_status.is_some() => Some(now + link.rtt_s),
                        None => link.next_outage_after(now),
                    };
                    transfers.push(Transfer {
                        id: req.id,
                        pathway: p,
                        issued_s: now,
                        first_byte_s: now + link.rtt_s,
                        total_bits: bytes as f64 * 8.0,
                        done_bits: 0.0,
                        media: req.kind == FetchKind::Media,
                        document: document.then(|| (req.kind, req.url.clone(), req.byte_range)),
                        fail_at,
                        fail_status,
                        next_progress_s: now + link.rtt_s + progress_dt,
                    });
                }
                Action::Cancel { id } => transfers.retain(|t| t.id != id),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        match session.state() {
            PlayerState::Ended | PlayerState::Failed => break,
            _ => {}
        }
        if timeline.last().is_none_or(|(t, _)| *t < now) {
            timeline.push((now, session.buffer_level_s()));
        }
        if now > limit_s {
            return Err(SimError::Timeout { trace: trace.name.clone(), limit_s });
        }

        // The next thing that happens.
        let mut next = f64::INFINITY;
        if let Some(w) = wake.filter(|w| *w > now) {
            next = next.min(w);
        }
        for (t, _, _) in &steering_replies {
            next = next.min(*t);
        }
        for (t, _, _) in &clock_replies {
            next = next.min(*t);
        }
        let mut active: Vec<usize> = vec![0; links.len()];
        for t in &transfers {
            if t.first_byte_s <= now && t.fail_at.is_none_or(|f| f > now) {
                active[t.pathway] += 1;
            }
        }
        for tr in &transfers {
            if let Some(f) = tr.fail_at {
                next = next.min(f);
            }
            if tr.first_byte_s > now {
                next = next.min(tr.first_byte_s);
                continue;
            }
            if tr.media {
                next = next.min(tr.next_progress_s);
            }
            let (kbps, stays) = links[tr.pathway].rate_at(now);
            next = next.min(now + stays);
            let share = kbps * 1000.0 / active[tr.pathway].max(1) as f64;
            if share > 0.0 {
                next = next.min(now + (tr.total_bits - tr.done_bits).max(0.0) / share);
            }
        }
        if !next.is_finite() {
            // Nothing in flight and no timer: the session would wait forever.
            return Err(SimError::Timeout { trace: trace.name.clone(), limit_s: now });
        }
        let next = next.max(now);
        let dt = next - now;
        // A session that keeps the clock still is a model defect, not a network
        // condition: fail loudly instead of spinning.
        stalled_steps = if dt > 0.0 { 0 } else { stalled_steps + 1 };
        if stalled_steps > MAX_STILL_STEPS {
            return Err(SimError::Unsupported(format!(
                "trace {}: simulation made no progress at t = {now:.6} s",
                trace.name
            )));
        }
        for tr in transfers.iter_mut() {
            if tr.first_byte_s <= now && tr.fail_at.is_none_or(|f| f > now) {
                let (kbps, _) = links[tr.pathway].rate_at(now);
                let share = kbps * 1000.0 / active[tr.pathway].max(1) as f64;
                tr.done_bits = (tr.done_bits + share * dt).min(tr.total_bits);
                // A remainder that would take less than the clock's resolution at
                // `next` can never be waited for: the transfer is complete.
                if share > 0.0 && next + (tr.total_bits - tr.done_bits) / share <= next {
                    tr.done_bits = tr.total_bits;
                }
            }
        }
        now = next;

        // Deliver what is due, in a fixed order: failures, completions, progress,
        // steering replies, then the timer.
        let mut keep = Vec::with_capacity(transfers.len());
        for tr in transfers.drain(..) {
            if tr.fail_at.is_some_and(|f| f <= now + 1e-9) {
                let bytes = (tr.done_bits / 8.0).floor() as u64;
                let status = tr.fail_status;
                pending_events.push(Event::FetchFailed { id: tr.id, status, bytes });
            } else if tr.first_byte_s <= now
                && tr.done_bits >= tr.total_bits - 1e-6
                && let Some((kind, url, range)) = &tr.document
            {
                let body = engine.presentation.as_ref().and_then(|s| s.body(url, *range));
                pending_events.push(match (*kind, body) {
                    (FetchKind::SegmentIndex, Some(b)) => {
                        Event::SegmentIndexLoaded { id: tr.id, data: b.data.clone() }
                    }
                    (_, Some(b)) => match String::from_utf8(b.data.clone()) {
                        Ok(text) => Event::ManifestLoaded { id: tr.id, text, url: b.url.clone() },
                        Err(_) => Event::FetchFailed { id: tr.id, status: None, bytes: 0 },
                    },
                    (_, None) => Event::FetchFailed { id: tr.id, status: Some(404), bytes: 0 },
                });
            } else if tr.first_byte_s <= now && tr.done_bits >= tr.total_bits - 1e-6 {
                pending_events.push(Event::FetchCompleted {
                    id: tr.id,
                    bytes: (tr.total_bits / 8.0).round() as u64,
                    ttfb: Duration::from_secs_f64(tr.first_byte_s - tr.issued_s),
                    duration: Duration::from_secs_f64(now - tr.issued_s),
                });
            } else {
                keep.push(tr);
            }
        }
        for tr in keep.iter_mut() {
            if tr.media && tr.first_byte_s <= now && tr.next_progress_s <= now + 1e-9 {
                tr.next_progress_s = now + progress_dt;
                pending_events.push(Event::FetchProgress {
                    id: tr.id,
                    bytes: (tr.done_bits / 8.0).floor() as u64,
                    ttfb: Some(Duration::from_secs_f64(tr.first_byte_s - tr.issued_s)),
                });
            }
        }
        transfers = keep;
        let (due, later): (Vec<_>, Vec<_>) =
            steering_replies.drain(..).partition(|(t, _, _)| *t <= now + 1e-9);
        steering_replies = later;
        for (_, id, reply) in due {
            pending_events.push(match reply {
                SteeringReply::Body(body) => Event::SteeringLoaded { id, body },
                SteeringReply::Status(status, retry) => Event::SteeringFailed {
                    id,
                    status: Some(status),
                    retry_after: retry.map(Duration::from_secs_f64),
                },
            });
        }
        let (due, later): (Vec<_>, Vec<_>) =
            clock_replies.drain(..).partition(|(t, _, _)| *t <= now + 1e-9);
        clock_replies = later;
        for (_, id, served) in due {
            let (body, date) = (format_date_time(served), Some(format_http_date(served)));
            pending_events.push(Event::UtcTimingLoaded { id, body, date });
        }
        if wake.is_some_and(|w| w <= now + 1e-9) {
            wake = None;
            pending_events.push(Event::Tick);
        }
        if pending_events.is_empty() {
            // A bandwidth step or a transfer still waiting: nothing to tell the session.
            pending_events.push(Event::Tick);
        }
    }

    if session.state() != PlayerState::Ended {
        let why = session
            .event_log()
            .iter()
            .rev()
            .find_map(|e| match &e.event {
                streamsteer::session::PlayerEvent::Error { message, .. } => Some(message.clone()),
                _ => None,
            })
            .unwrap_or_else(|| format!("session stopped in state {:?}", session.state()));
        return Err(SimError::Unsupported(format!("trace {}: {why}", trace.name)));
    }
    timeline.push((now, session.buffer_level_s()));
    let report = session.qoe_report();
    let mut metrics = BTreeMap::new();
    metrics.insert("session_s".to_string(), now);
    if engine.live.is_some() {
        metrics.insert("too_early_requests".to_string(), too_early as f64);
    }
    Ok(SessionOutcome {
        trace: trace.name.clone(),
        rule: rule_name,
        model: ModelKind::Streamsteer,
        report,
        segments: session.segment_records().to_vec(),
        buffer_timeline: timeline,
        metrics,
    })
}
