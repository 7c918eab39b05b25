//! The playback model: the playhead (one second of media per second while playing),
//! the player state, stalls and resumption, play, pause and seek.
//!
//! The session models the playhead itself, so that a simulator needs no player; a
//! driver whose sink plays on its own clock corrects it with
//! [`Event::PlaybackPosition`](super::Event::PlaybackPosition).

use super::action::{Action, PlayerEvent, PlayerState};
use super::machine::{Core, EPS};
use super::scheduler::TrackState;
use crate::buffer::PlaybackPhase;
use crate::time::{Duration, Instant};

/// The playhead and the player state.
#[derive(Debug)]
pub(super) struct Playback {
    pub state: PlayerState,
    /// The user paused (or autoplay is off and the user has not pressed play).
    pub user_paused: bool,
    /// The playhead, seconds of media.
    pub position_s: f64,
    /// Up to when the playhead has been moved.
    pub last_advance: Instant,
    /// When the ongoing stall began, if stalled.
    pub stall_started: Option<Instant>,
}

impl Playback {
    pub fn new() -> Self {
        Self {
            state: PlayerState::Loading,
            user_paused: false,
            position_s: 0.0,
            last_advance: Instant::ZERO,
            stall_started: None,
        }
    }
}

impl Core<'_> {
    pub(super) fn set_state_at(&mut self, at: Instant, to: PlayerState) {
        if self.playback.state != to {
            let from = self.playback.state;
            self.playback.state = to;
            self.emit_at(at, PlayerEvent::StateChanged { from, to });
        }
    }

    pub(super) fn set_state(&mut self, to: PlayerState) {
        self.set_state_at(self.now, to);
    }

    /// Every track has been fetched to its end.
    pub(super) fn complete(&self) -> bool {
        !self.tracks.is_empty() && self.tracks.iter().all(TrackState::done)
    }

    /// End of the media playable on every track: a finished track does not hold the
    /// others back.
    pub(super) fn playable_end_s(&self) -> f64 {
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
        (self.playable_end_s() - self.playback.position_s).max(0.0)
    }

    /// Moves the playhead to `now`: to the end (and `Ended`), or into a stall when
    /// the buffer runs dry.
    pub(super) fn advance(&mut self, now: Instant) {
        let dt = now.saturating_since(self.playback.last_advance).as_secs_f64();
        let from = self.playback.last_advance;
        self.playback.last_advance = now;
        if self.playback.state != PlayerState::Playing || dt <= 0.0 {
            return;
        }
        let end = self.playable_end_s();
        if self.complete() {
            let p = &mut self.playback;
            p.position_s = (p.position_s + dt).min(end);
            if p.position_s >= end - EPS {
                let at = from + Duration::from_secs_f64((end - (p.position_s - dt)).max(0.0));
                self.finish(at.min(now));
            }
            return;
        }
        let stall_at = end - self.config.buffer.stall_threshold_s;
        if self.playback.position_s + dt >= stall_at - EPS {
            let run = (stall_at - self.playback.position_s).max(0.0);
            let at = (from + Duration::from_secs_f64(run)).min(now);
            self.playback.position_s = self.playback.position_s.max(stall_at);
            self.playback.stall_started = Some(at);
            self.act(Action::Stall);
            self.cmcd.starved = true;
            self.set_state_at(at, PlayerState::Stalled);
            self.emit_at(at, PlayerEvent::Stalled { position_s: self.playback.position_s });
        } else {
            self.playback.position_s += dt;
        }
    }

    fn finish(&mut self, at: Instant) {
        self.set_state_at(at, PlayerState::Ended);
        let report = Box::new(self.qoe_report());
        self.emit_at(at, PlayerEvent::QoeReport { report });
    }

    /// Ends a stall (if any), accounting its time; returns its length.
    pub(super) fn close_stall(&mut self) -> f64 {
        let Some(s) = self.playback.stall_started.take() else { return 0.0 };
        self.recorder.stall_closed(self.now, s)
    }

    /// Starts or resumes playback when the buffer allows (startup, after a stall), or
    /// ends it once everything has played.
    pub(super) fn update_phase(&mut self) {
        if self.tracks.is_empty() {
            return;
        }
        let ahead = self.buffer_level_s();
        let complete = self.complete();
        let policy = self.config.buffer;
        match self.playback.state {
            PlayerState::Buffering
                if policy.next_phase(PlaybackPhase::Startup, ahead, complete)
                    == PlaybackPhase::Playing =>
            {
                if self.playback.user_paused {
                    self.set_state(PlayerState::Paused);
                } else {
                    self.recorder.startup_done(self.now, self.started_at);
                    self.act(Action::Play);
                    self.set_state(PlayerState::Playing);
                }
            }
            PlayerState::Stalled
                if policy.next_phase(PlaybackPhase::Stalled, ahead, complete)
                    == PlaybackPhase::Playing =>
            {
                let stall_s = self.close_stall();
                self.act(Action::Play);
                self.set_state(PlayerState::Playing);
                self.emit(PlayerEvent::Resumed { stall_s });
            }
            PlayerState::Playing
                if complete && self.playback.position_s >= self.playable_end_s() - EPS =>
            {
                self.finish(self.now);
            }
            _ => {}
        }
    }

    pub(super) fn play(&mut self) {
        self.playback.user_paused = false;
        if self.playback.state == PlayerState::Paused {
            let ahead = self.buffer_level_s();
            if self.complete() || ahead >= self.config.buffer.resume_s {
                self.recorder.startup_done(self.now, self.started_at);
                self.act(Action::Play);
                self.set_state(PlayerState::Playing);
            } else {
                self.set_state(PlayerState::Buffering);
            }
        }
    }

    pub(super) fn pause(&mut self) {
        self.playback.user_paused = true;
        if matches!(self.playback.state, PlayerState::Playing | PlayerState::Stalled) {
            self.close_stall();
            self.act(Action::Pause);
            self.set_state(PlayerState::Paused);
        }
    }

    /// The sink's playhead overrides the model's.
    pub(super) fn on_position(&mut self, position_s: f64) {
        if position_s.is_finite() {
            // Within the presentation, as a seek is: a sink's clock may overrun the
            // end, and the playhead would then come back to it.
            self.playback.position_s = if self.tracks.is_empty() {
                position_s.max(0.0)
            } else {
                self.clamp_to_timeline(position_s)
            };
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

    pub(super) fn seek(&mut self, position_s: f64) {
        if self.tracks.is_empty()
            || !position_s.is_finite()
            || matches!(self.playback.state, PlayerState::Failed)
        {
            return;
        }
        let end = self.tracks.iter().map(TrackState::end_s).fold(0.0, f64::max);
        let target = self.clamp_to_timeline(position_s);
        self.close_stall();
        let mut main_index = 0;
        for t in self.tracks.iter_mut() {
            let idx = t.plan.timeline.index_at(target, EPS);
            if t.is_main() {
                main_index = idx;
            }
            if let Some(job) = t.job.take() {
                self.actions.push_back(Action::Cancel { id: job.id });
            }
            t.restart_at(idx, t.plan.timeline.get(idx).map_or(end, |s| s.0));
        }
        self.playback.position_s = target;
        if let Some(rule) = self.rule.as_mut() {
            rule.on_seek(main_index);
        }
        let to =
            if self.playback.user_paused { PlayerState::Paused } else { PlayerState::Buffering };
        self.set_state(to);
    }
}
