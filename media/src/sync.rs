//! Audio/video synchronisation: the audio output is the master clock
//! ([`MasterClock`]), and the [`Presenter`] shows each video frame when the master
//! reaches its presentation time, dropping (and counting) frames that come too late.

use crate::clock::Clock;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Debug, Clone, Copy, Default)]
struct MasterState {
    /// Media time at `at_us`, microseconds.
    media_us: i64,
    /// When `media_us` was read, on the pipeline's [`Clock`].
    at_us: u64,
    /// Whether media time advances with the clock.
    running: bool,
    /// Media time never passes this (the end of the audio handed to the output), so
    /// that an underrun freezes the clock rather than letting video run ahead.
    limit_us: i64,
    /// Whether anything set the clock yet.
    known: bool,
}

/// The playback clock every stage reads: media time in microseconds, anchored by the
/// master (the audio output, which knows what has been heard) and extrapolated on a
/// [`Clock`] between its updates, so that readers on other threads see a smooth time.
pub struct MasterClock {
    clock: Arc<dyn Clock>,
    state: Mutex<MasterState>,
}

impl std::fmt::Debug for MasterClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterClock").field("state", &*self.lock()).finish()
    }
}

impl MasterClock {
    /// A clock that is not yet anchored.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock, state: Mutex::new(MasterState::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, MasterState> {
        // The state is plain data written whole: a panic elsewhere cannot leave it torn.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Anchor: media time is `media_us` now, advancing while `running`, up to `limit_us`.
    pub fn set(&self, media_us: i64, running: bool, limit_us: i64) {
        let at_us = self.clock.now_us();
        *self.lock() = MasterState { media_us, at_us, running, limit_us, known: true };
    }

    /// Forget the anchor (a seek): readers see `None` until the next [`set`](Self::set).
    pub fn clear(&self) {
        *self.lock() = MasterState::default();
    }

    /// Media time now, microseconds; `None` before the first anchor.
    pub fn media_us(&self) -> Option<i64> {
        let s = *self.lock();
        if !s.known {
            return None;
        }
        if !s.running {
            return Some(s.media_us);
        }
        let elapsed =
            i64::try_from(self.clock.now_us().saturating_sub(s.at_us)).unwrap_or(i64::MAX);
        Some(s.media_us.saturating_add(elapsed).min(s.limit_us.max(s.media_us)))
    }

    /// Whether the clock advances.
    pub fn is_running(&self) -> bool {
        let s = *self.lock();
        s.known && s.running
    }
}

/// Settings of the [`Presenter`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PresenterConfig {
    /// A frame is due this long before the master reaches its time, microseconds:
    /// presenting takes time, and showing a frame slightly early is less visible than
    /// late (default 2,000).
    pub lead_us: i64,
    /// A frame this late is dropped rather than shown, microseconds: showing it would
    /// put video visibly behind audio, and the next frame is nearly due anyway
    /// (default 20,000: a little over half a frame at 30 fps).
    pub max_late_us: i64,
    /// Frames held decoded ahead of presentation (default 6).
    pub queue_frames: usize,
}

impl Default for PresenterConfig {
    fn default() -> Self {
        Self { lead_us: 2_000, max_late_us: 20_000, queue_frames: 6 }
    }
}

/// What the presenter wants next.
#[derive(Debug, PartialEq)]
pub enum Present<F> {
    /// Show this frame now; `lateness_us` is how far the master is past its time
    /// (negative: early by the lead).
    Show {
        /// The frame.
        frame: F,
        /// Master time minus the frame's time, microseconds.
        lateness_us: i64,
    },
    /// Nothing due: the next frame is due when the master reaches this time.
    WaitUntil(i64),
    /// No frame queued.
    Empty,
    /// The master clock is not running yet.
    NoClock,
}

/// Counts of what the presenter did.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PresenterStats {
    /// Frames shown.
    pub presented: u64,
    /// Frames dropped: a later frame was already due, or it was too late.
    pub dropped: u64,
}

/// Orders decoded frames by presentation time and decides, against the master clock,
/// which to show and which are too late. Frames are anything with a time (`pts_us`):
/// the logic is tested without pictures.
#[derive(Debug)]
pub struct Presenter<F> {
    config: PresenterConfig,
    queue: VecDeque<(i64, F)>,
    stats: PresenterStats,
}

impl<F> Presenter<F> {
    /// An empty presenter.
    pub fn new(config: PresenterConfig) -> Self {
        Self { config, queue: VecDeque::new(), stats: PresenterStats::default() }
    }

    /// Whether the decoder should produce more frames before the next presentation.
    pub fn wants_frames(&self) -> bool {
        self.queue.len() < self.config.queue_frames.max(1)
    }

    /// Frames waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Add a decoded frame (decoders hand them out in presentation order; a frame
    /// out of order is inserted in place).
    pub fn push(&mut self, pts_us: i64, frame: F) {
        let at = self.queue.iter().rposition(|(t, _)| *t <= pts_us).map_or(0, |i| i + 1);
        self.queue.insert(at, (pts_us, frame));
    }

    /// Drop every queued frame (a seek): not counted as dropped.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// What to do now, given the master's media time.
    pub fn poll(&mut self, master_us: Option<i64>) -> Present<F> {
        let Some(master) = master_us else {
            return if self.queue.is_empty() { Present::Empty } else { Present::NoClock };
        };
        let due = master + self.config.lead_us;
        // Skip every due frame whose successor is due as well: only the newest due
        // frame is worth showing.
        while self.queue.len() >= 2 && self.queue[1].0 <= due {
            self.queue.pop_front();
            self.stats.dropped += 1;
        }
        while self.queue.front().is_some_and(|(pts, _)| master - pts > self.config.max_late_us) {
            self.queue.pop_front();
            self.stats.dropped += 1;
        }
        match self.queue.front() {
            None => Present::Empty,
            Some((pts, _)) if *pts > due => Present::WaitUntil(*pts - self.config.lead_us),
            Some(_) => {
                let Some((pts, frame)) = self.queue.pop_front() else { return Present::Empty };
                let lateness_us = master - pts;
                self.stats.presented += 1;
                Present::Show { frame, lateness_us }
            }
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> PresenterStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn master_clock_extrapolates_and_stops_at_its_limit() {
        let wall = ManualClock::new();
        let master = MasterClock::new(Arc::new(wall.clone()));
        assert_eq!(master.media_us(), None);
        master.set(1_000_000, true, 1_500_000);
        wall.advance_us(200_000);
        assert_eq!(master.media_us(), Some(1_200_000));
        wall.advance_us(1_000_000);
        assert_eq!(master.media_us(), Some(1_500_000), "an underrun freezes the clock");
        master.set(1_500_000, false, 3_000_000);
        wall.advance_us(1_000_000);
        assert_eq!(master.media_us(), Some(1_500_000), "paused");
        master.clear();
        assert_eq!(master.media_us(), None);
    }

    #[test]
    fn frames_show_on_time_and_late_ones_are_dropped() {
        let cfg = PresenterConfig { lead_us: 0, max_late_us: 20_000, queue_frames: 4 };
        let mut p = Presenter::new(cfg);
        // Pushed out of order: presentation order must win.
        for pts in [0, 66_666, 33_333, 100_000] {
            p.push(pts, pts);
        }
        assert!(!p.wants_frames());
        assert_eq!(p.poll(None), Present::NoClock);
        assert_eq!(p.poll(Some(0)), Present::Show { frame: 0, lateness_us: 0 });
        assert_eq!(p.poll(Some(10_000)), Present::WaitUntil(33_333));
        // The master jumped past two frames: the older one is dropped.
        assert_eq!(p.poll(Some(70_000)), Present::Show { frame: 66_666, lateness_us: 3_334 });
        let s = p.stats();
        assert_eq!((s.presented, s.dropped), (2, 1));
        // Too late to show even though nothing later is queued: dropped.
        assert_eq!(p.poll(Some(125_000)), Present::Empty);
        assert_eq!(p.stats().dropped, 2);
        p.push(133_333, 133_333);
        assert_eq!(p.poll(Some(140_000)), Present::Show { frame: 133_333, lateness_us: 6_667 });
    }
}
