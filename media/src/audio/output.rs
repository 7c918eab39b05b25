//! The audio output: where decoded PCM goes, and the pipeline's master clock.

use serde::{Deserialize, Serialize};

/// A PCM format: interleaved `f32`, `channels` samples per frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AudioFormat {
    /// Frames per second.
    pub sample_rate: u32,
    /// Samples per frame.
    pub channels: u16,
}

impl AudioFormat {
    /// Whole frames in `samples` interleaved samples (a trailing partial frame is not
    /// counted).
    pub fn frames_in(&self, samples: usize) -> usize {
        samples / usize::from(self.channels.max(1))
    }

    /// Frames in `us` microseconds, rounded down.
    pub fn frames_for_us(&self, us: u64) -> u64 {
        let frames = u128::from(us) * u128::from(self.sample_rate) / 1_000_000;
        u64::try_from(frames).unwrap_or(u64::MAX)
    }

    /// The duration of `frames` frames, microseconds, rounded down (0 at a zero rate).
    pub fn us_for_frames(&self, frames: u64) -> u64 {
        if self.sample_rate == 0 {
            return 0;
        }
        let us = u128::from(frames) * 1_000_000 / u128::from(self.sample_rate);
        u64::try_from(us).unwrap_or(u64::MAX)
    }
}

/// Settings shared by the audio outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AudioOutputConfig {
    /// How much PCM the output queues ahead of what is heard, milliseconds; `write`
    /// accepts no more. Default 500: enough to ride out a late decode on a loaded
    /// machine, short enough that a flush (seek, track switch) drops little.
    pub queue_ms: u32,
}

impl Default for AudioOutputConfig {
    fn default() -> Self {
        Self { queue_ms: 500 }
    }
}

impl AudioOutputConfig {
    /// The queue's capacity in frames at `format` (at least one frame).
    pub fn queue_frames(&self, format: AudioFormat) -> u64 {
        format.frames_for_us(u64::from(self.queue_ms) * 1000).max(1)
    }
}

/// A sink for interleaved `f32` PCM that plays it in real time and reports how much
/// has been heard: the master clock of A/V sync.
///
/// Accounting, in frames: `written` (accepted by [`write`](Self::write) since the
/// output was opened) = `played` + `queued` + `flushed`. `played`
/// ([`played_frames`](Self::played_frames)) only grows, and never passes what was
/// written: when the queue
/// runs dry (an underrun) the count stops until more PCM arrives; while paused it
/// stops. [`flush`](Self::flush) drops what is queued and keeps `played`, so media
/// time after a seek is `seek target + (played − played at the seek)`.
///
/// The output does not resample or remix: the caller writes PCM in
/// [`format`](Self::format).
pub trait AudioOutput: Send {
    /// The PCM format `write` takes.
    fn format(&self) -> AudioFormat;

    /// Queues whole frames from the front of `pcm` (interleaved, in
    /// [`format`](Self::format)) and returns how many frames it took: fewer than
    /// offered when the queue is full (the caller offers the rest later), none of a
    /// trailing partial frame.
    fn write(&mut self, pcm: &[f32]) -> usize;

    /// Frames played (heard) since the output was opened, across pauses and flushes.
    fn played_frames(&mut self) -> u64;

    /// Frames written and not yet played.
    fn queued_frames(&mut self) -> u64;

    /// The most frames the queue holds.
    fn capacity_frames(&self) -> u64;

    /// Starts (or resumes) playing what is queued.
    fn play(&mut self);

    /// Stops playing; the queue is kept and [`played_frames`](Self::played_frames)
    /// stops.
    fn pause(&mut self);

    /// Whether the output is playing (not paused); an underrun does not pause it.
    fn is_playing(&self) -> bool;

    /// Drops everything queued (a seek, a switch of audio track); played frames are kept.
    fn flush(&mut self);

    /// Times the queue ran dry while playing since the output was opened.
    fn underruns(&mut self) -> u64;

    /// [`played_frames`](Self::played_frames) as microseconds at the output's rate.
    fn played_us(&mut self) -> u64 {
        let frames = self.played_frames();
        self.format().us_for_frames(frames)
    }
}
