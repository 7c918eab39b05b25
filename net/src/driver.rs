//! The driver: one task owns the [`Session`] and runs the events-in, actions-out loop
//! on tokio time and real sockets, as `streamsteer_sim`'s engine does on a virtual
//! clock.
//!
//! Each `Fetch` becomes a request task on the shared client; its start, progress,
//! completion or failure come back as session events. `Cancel` aborts the task, and
//! whatever it had already queued is dropped (the id is no longer in flight), so a
//! cancelled fetch produces nothing more. Bodies of completed segments wait in a map
//! only until the session's `Append` hands them to the sink, so memory stays flat in
//! long sessions. `WakeAt` is one timer, replaced by each new one.

use crate::config::PlayerConfig;
use crate::error::FatalError;
use crate::event::{Event, MediaError, Status};
use crate::fetch::{self, FetchJob, FetchMsg};
use crate::sink::MediaSink;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration as StdDuration;
use streamsteer::qoe::QoeReport;
use streamsteer::session::{
    Action, Event as SessionEvent, FetchKind, FetchRequest, PlayerEvent, PlayerState, RequestId,
    Session, TrackKind,
};
use streamsteer::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant as TokioInstant;

/// What the application asks of a running player.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Command {
    Play,
    Pause,
    Seek(f64),
    SelectTrack(TrackKind, Option<usize>),
    Stop,
}

/// How a playback ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The QoE report (final when the state is `Ended` or `Failed`; so far when stopped).
    pub report: QoeReport,
    /// The player state at the end: `Ended`, `Failed`, or whatever it was when stopped.
    pub state: PlayerState,
    /// True when [`Player::stop`](crate::Player::stop) (or dropping the player) ended it.
    pub stopped: bool,
    /// The fatal error, when the session failed.
    pub error: Option<FatalError>,
}

struct InFlight {
    handle: JoinHandle<()>,
    req: FetchRequest,
}

pub(crate) struct Driver<S: MediaSink> {
    pub session: Session<'static>,
    pub client: reqwest::Client,
    pub config: PlayerConfig,
    pub origin: TokioInstant,
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub events: broadcast::Sender<Event>,
    pub sink: S,
    /// Bitrate of each video rung the session chose, kbit/s (for status reports).
    rung_kbps: HashMap<usize, f64>,
    inflight: HashMap<RequestId, InFlight>,
    bodies: HashMap<RequestId, Bytes>,
    fetch_tx: mpsc::UnboundedSender<FetchMsg>,
    fetch_rx: mpsc::UnboundedReceiver<FetchMsg>,
    wake: Option<TokioInstant>,
    playing: Option<(usize, Option<f64>)>,
    last_kbps: Option<f64>,
    error: Option<FatalError>,
}

fn secs(s: f64) -> Option<StdDuration> {
    (s.is_finite() && s > 0.0).then(|| StdDuration::from_secs_f64(s))
}

impl<S: MediaSink> Driver<S> {
    pub(crate) fn new(
        session: Session<'static>,
        client: reqwest::Client,
        config: PlayerConfig,
        origin: TokioInstant,
        commands: mpsc::UnboundedReceiver<Command>,
        events: broadcast::Sender<Event>,
        sink: S,
    ) -> Self {
        let (fetch_tx, fetch_rx) = mpsc::unbounded_channel();
        Self {
            session,
            client,
            config,
            origin,
            commands,
            events,
            sink,
            rung_kbps: HashMap::new(),
            inflight: HashMap::new(),
            bodies: HashMap::new(),
            fetch_tx,
            fetch_rx,
            wake: None,
            playing: None,
            last_kbps: None,
            error: None,
        }
    }

    /// The session clock: microseconds since the player started.
    fn now(&self) -> Instant {
        let us = TokioInstant::now().saturating_duration_since(self.origin).as_micros();
        Instant(u64::try_from(us).unwrap_or(u64::MAX))
    }

    fn publish(&self, event: Event) {
        // No receiver is not an error: the application may not listen.
        let _ = self.events.send(event);
    }

    fn finished(&self) -> bool {
        matches!(self.session.state(), PlayerState::Ended | PlayerState::Failed)
    }

    pub(crate) async fn run(mut self) -> Outcome {
        // The device's clock, which live DASH templates use unless a UTCTiming source
        // of the MPD corrects it.
        self.handle(SessionEvent::WallClock { unix_s: unix_now_s() });
        self.handle(SessionEvent::Tick);
        let mut status = secs(self.config.status_interval_s).map(tokio::time::interval);
        let mut position = tokio::time::interval(
            secs(self.config.position_interval_s).unwrap_or(StdDuration::from_millis(250)),
        );
        let mut stopped = false;
        while !self.finished() {
            let wake = self.wake;
            tokio::select! {
                biased;
                cmd = self.commands.recv() => match cmd {
                    None | Some(Command::Stop) => {
                        stopped = true;
                        break;
                    }
                    Some(c) => self.command(c),
                },
                Some(msg) = self.fetch_rx.recv() => self.on_fetch(msg),
                () = sleep_until_opt(wake), if wake.is_some() => {
                    self.wake = None;
                    self.handle(SessionEvent::Tick);
                }
                _ = tick_opt(&mut status), if status.is_some() => self.emit_status(),
                _ = position.tick() => self.correct_position(),
            }
        }
        for (_, f) in self.inflight.drain() {
            f.handle.abort();
        }
        self.bodies.clear();
        if status.is_some() {
            self.emit_status();
        }
        if stopped {
            self.publish(Event::Stopped);
        }
        let mut report = self.session.qoe_report();
        report.playback = self.sink.playback_stats();
        Outcome { report, state: self.session.state(), stopped, error: self.error.take() }
    }

    fn command(&mut self, c: Command) {
        match c {
            Command::Play => self.handle(SessionEvent::Play),
            Command::Pause => self.handle(SessionEvent::Pause),
            Command::Seek(position_s) => {
                self.handle(SessionEvent::UserSeek { position_s });
                let now = TokioInstant::now();
                self.sink.seek(now, self.session.position_s());
            }
            Command::SelectTrack(track, rendition) => {
                self.handle(SessionEvent::UserSelectTrack { track, rendition })
            }
            Command::Stop => {}
        }
    }

    /// Feeds one event to the session and carries out what it asks.
    fn handle(&mut self, event: SessionEvent) {
        let now = self.now();
        self.session.handle(now, event);
        while let Some(action) = self.session.poll_action() {
            self.act(action);
        }
    }

    fn act(&mut self, action: Action) {
        let now = TokioInstant::now();
        match action {
            Action::Fetch(req) => self.start_fetch(req),
            Action::Cancel { id } => {
                if let Some(f) = self.inflight.remove(&id) {
                    tracing::debug!(id, url = %f.req.url, "cancelled");
                    f.handle.abort();
                }
                self.bodies.remove(&id);
            }
            Action::Append { track, init, request, segment, rendition, timing, .. } => {
                let Some(body) = self.bodies.remove(&request) else {
                    tracing::warn!(request, "append of a body that is not held");
                    return;
                };
                let result = if init {
                    self.sink.append_init(now, track, rendition, &body)
                } else {
                    self.sink.append_media(now, track, rendition, segment, timing, &body)
                };
                match result {
                    Ok(()) => {
                        if !init && track == TrackKind::Video {
                            self.playing =
                                Some((rendition, self.rung_kbps.get(&rendition).copied()));
                        }
                    }
                    Err(e) => self.publish(Event::Media(MediaError {
                        track,
                        rendition,
                        segment,
                        request,
                        message: e.to_string(),
                    })),
                }
            }
            Action::Play => self.sink.play(now),
            Action::Pause => self.sink.pause(now),
            Action::Stall => {
                self.sink.stall(now);
            }
            Action::Emit(event) => self.on_player_event(event),
            Action::WakeAt(t) => {
                // A wake beyond what the platform's clock can express is a wake never.
                self.wake = self.origin.checked_add(StdDuration::from_micros(t.0));
            }
            other => tracing::warn!(?other, "an action this driver does not handle"),
        }
    }

    fn on_player_event(&mut self, event: PlayerEvent) {
        match &event {
            PlayerEvent::Decision { track: TrackKind::Video, rendition, bitrate_kbps, .. } => {
                self.rung_kbps.insert(*rendition, *bitrate_kbps);
            }
            PlayerEvent::StateChanged { from: PlayerState::Loading, to }
                if *to != PlayerState::Failed =>
            {
                // The timeline is known: the sink's playhead starts where the session's does.
                self.sink.seek(TokioInstant::now(), self.session.position_s());
            }
            PlayerEvent::Error { kind, message, fatal: true } => {
                self.error = Some(FatalError { kind: *kind, message: message.clone() });
            }
            _ => {}
        }
        self.publish(Event::Player { event });
    }

    fn start_fetch(&mut self, req: FetchRequest) {
        let (url, headers) = req.wire(self.config.session.cmcd.mode);
        let job = FetchJob::new(req.clone(), url, headers, &self.config);
        tracing::debug!(id = req.id, kind = ?req.kind, url = %job.url, "fetch");
        let handle = tokio::spawn(fetch::run(self.client.clone(), job, self.fetch_tx.clone()));
        self.inflight.insert(req.id, InFlight { handle, req });
    }

    fn on_fetch(&mut self, msg: FetchMsg) {
        match msg {
            FetchMsg::Started { id } => {
                if self.inflight.contains_key(&id) {
                    self.handle(SessionEvent::FetchStarted { id });
                }
            }
            FetchMsg::Progress { id, bytes, ttfb } => {
                if self.inflight.contains_key(&id) {
                    let ttfb = Some(Duration::from_secs_f64(ttfb.as_secs_f64()));
                    self.handle(SessionEvent::FetchProgress { id, bytes, ttfb });
                }
            }
            FetchMsg::Timing(t) => {
                if self.inflight.contains_key(&t.id) {
                    self.publish(Event::Request(t));
                }
            }
            FetchMsg::Done { id, outcome } => {
                let Some(f) = self.inflight.remove(&id) else { return };
                self.on_done(f.req, outcome);
            }
        }
    }

    fn on_done(&mut self, req: FetchRequest, outcome: Result<fetch::Fetched, fetch::Failed>) {
        let id = req.id;
        match (req.kind, outcome) {
            (FetchKind::Steering, Ok(f)) => {
                let body = String::from_utf8_lossy(&f.body).into_owned();
                self.handle(SessionEvent::SteeringLoaded { id, body });
            }
            (FetchKind::Steering, Err(e)) => {
                let retry_after = e.retry_after.map(|d| Duration::from_secs_f64(d.as_secs_f64()));
                self.handle(SessionEvent::SteeringFailed { id, status: e.status, retry_after });
            }
            (FetchKind::Manifest, Ok(f)) => match String::from_utf8(f.body.to_vec()) {
                Ok(text) => {
                    self.handle(SessionEvent::ManifestLoaded { id, text, url: f.final_url });
                }
                Err(_) => {
                    let bytes = f.body.len() as u64;
                    self.handle(SessionEvent::FetchFailed { id, status: None, bytes });
                }
            },
            (FetchKind::SegmentIndex, Ok(f)) => {
                self.handle(SessionEvent::SegmentIndexLoaded { id, data: f.body.to_vec() });
            }
            (FetchKind::Init | FetchKind::Media, Ok(f)) => {
                let init = req.kind == FetchKind::Init;
                let bytes = f.body.len() as u64;
                let track = req.track.unwrap_or(TrackKind::Video);
                let rendition = req.rendition.unwrap_or(0);
                if let Err(e) = self.sink.check(track, init, rendition, &f.body) {
                    tracing::warn!(id, url = %req.url, error = %e, "unusable segment");
                    self.publish(Event::Media(MediaError {
                        track,
                        rendition,
                        segment: req.segment,
                        request: id,
                        message: e.to_string(),
                    }));
                    self.handle(SessionEvent::FetchFailed { id, status: None, bytes });
                    return;
                }
                if !init && f.duration > StdDuration::ZERO {
                    self.last_kbps = Some(bytes as f64 * 8.0 / 1000.0 / f.duration.as_secs_f64());
                }
                self.bodies.insert(id, f.body);
                self.handle(SessionEvent::FetchCompleted {
                    id,
                    bytes,
                    ttfb: Duration::from_secs_f64(f.ttfb.as_secs_f64()),
                    duration: Duration::from_secs_f64(f.duration.as_secs_f64()),
                });
                // An Append consumes the body at once; one the session did not want
                // (a late or abandoned fetch) must not linger.
                self.bodies.remove(&id);
            }
            (FetchKind::UtcTiming { .. }, Ok(f)) => {
                let body = String::from_utf8_lossy(&f.body).into_owned();
                self.handle(SessionEvent::UtcTimingLoaded { id, body, date: f.date });
            }
            (
                FetchKind::Manifest
                | FetchKind::SegmentIndex
                | FetchKind::Init
                | FetchKind::Media
                | FetchKind::UtcTiming { .. },
                Err(e),
            ) => {
                tracing::debug!(id, url = %req.url, error = %e.error, "fetch failed");
                self.handle(SessionEvent::FetchFailed { id, status: e.status, bytes: e.bytes });
            }
            // A kind of request newer than this driver: the session hears it failed
            // rather than waiting for it forever.
            (kind, _) => {
                tracing::warn!(id, ?kind, "a request of a kind this driver does not handle");
                self.handle(SessionEvent::FetchFailed { id, status: None, bytes: 0 });
            }
        }
    }

    fn correct_position(&mut self) {
        if self.session.state() != PlayerState::Playing {
            return;
        }
        if let Some(position_s) = self.sink.position_s(TokioInstant::now()) {
            self.handle(SessionEvent::PlaybackPosition { position_s });
        }
    }

    fn emit_status(&mut self) {
        let now = self.now();
        let steering = self.session.steering();
        let pathway = steering.current().to_string();
        let status = Status {
            time_s: now.as_secs_f64(),
            position_s: self.session.position_s(),
            buffer_s: self.session.buffer_level_s(),
            rendition: self.playing.map(|p| p.0),
            bitrate_kbps: self.playing.and_then(|p| p.1),
            throughput_kbps: steering.throughput_kbps(&pathway, now).or(self.last_kbps),
            pathway,
            state: self.session.state(),
        };
        self.publish(Event::Status(status));
    }
}

/// The system clock as Unix seconds (0 if it reads before 1970).
fn unix_now_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

async fn sleep_until_opt(at: Option<TokioInstant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn tick_opt(i: &mut Option<tokio::time::Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
