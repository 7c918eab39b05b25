//! An audio output with no device: it "plays" queued PCM at its sample rate against a
//! [`Clock`], so the pipeline runs headless (tests, CI, faster than real time on a
//! [`ManualClock`](crate::ManualClock)) with the same master clock it has on a sound card.

use std::sync::Arc;

use crate::clock::Clock;

use super::output::{AudioFormat, AudioOutput, AudioOutputConfig};

const US_PER_S: u128 = 1_000_000;

/// A clocked output that discards the samples.
///
/// Playback is accounted lazily, whenever the output is asked or written to: the
/// clock time since the last look, times the rate, is played from the queue. The
/// fraction of a frame left over is carried in integers, so that after any number of
/// looks the count equals `⌊elapsed µs × rate / 10⁶⌋` of the time spent playing,
/// without drift over hours. When the queue runs dry the count stops (an underrun)
/// and restarts at the next write; pause stops it; it opens paused.
pub struct NullOutput {
    format: AudioFormat,
    clock: Arc<dyn Clock>,
    capacity: u64,
    written: u64,
    played: u64,
    flushed: u64,
    playing: bool,
    /// Clock time up to which playback is accounted, µs.
    accounted_us: u64,
    /// `(elapsed µs × rate) mod 10⁶` not yet worth a whole frame.
    remainder: u64,
    /// The queue is empty since an underrun, a flush or opening: more empty time is
    /// not a new underrun.
    starved: bool,
    underruns: u64,
}

impl std::fmt::Debug for NullOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NullOutput")
            .field("format", &self.format)
            .field("capacity", &self.capacity)
            .field("written", &self.written)
            .field("played", &self.played)
            .field("flushed", &self.flushed)
            .field("playing", &self.playing)
            .field("underruns", &self.underruns)
            .finish_non_exhaustive()
    }
}

impl NullOutput {
    /// An output for `format`, paused, timed by `clock`.
    pub fn new(format: AudioFormat, clock: Arc<dyn Clock>, config: &AudioOutputConfig) -> Self {
        let accounted_us = clock.now_us();
        Self {
            format,
            clock,
            capacity: config.queue_frames(format),
            written: 0,
            played: 0,
            flushed: 0,
            playing: false,
            accounted_us,
            remainder: 0,
            starved: true,
            underruns: 0,
        }
    }

    /// Frames accepted by `write` since the output was opened.
    pub fn written_frames(&self) -> u64 {
        self.written
    }

    /// Frames dropped by `flush` since the output was opened.
    pub fn flushed_frames(&self) -> u64 {
        self.flushed
    }

    fn queued(&self) -> u64 {
        self.written - self.played - self.flushed
    }

    /// Plays what the clock says has been heard since the last look.
    fn advance(&mut self) {
        let now = self.clock.now_us();
        let elapsed = now.saturating_sub(self.accounted_us);
        self.accounted_us = self.accounted_us.max(now);
        if !self.playing || elapsed == 0 {
            return;
        }
        let ticks =
            u128::from(elapsed) * u128::from(self.format.sample_rate) + u128::from(self.remainder);
        let due = u64::try_from(ticks / US_PER_S).unwrap_or(u64::MAX);
        // Below 10⁶, so it fits.
        self.remainder = (ticks % US_PER_S) as u64;
        let queued = self.queued();
        if due > queued {
            self.played += queued;
            // The device stopped mid-frame; the next write starts a fresh run.
            self.remainder = 0;
            if !self.starved {
                self.starved = true;
                self.underruns += 1;
                tracing::debug!(
                    played = self.played,
                    clock_us = now,
                    "null audio output underrun (ran dry while playing)"
                );
            }
        } else {
            self.played += due;
        }
    }
}

impl AudioOutput for NullOutput {
    fn format(&self) -> AudioFormat {
        self.format
    }

    fn write(&mut self, pcm: &[f32]) -> usize {
        self.advance();
        let offered = self.format.frames_in(pcm.len()) as u64;
        let room = self.capacity.saturating_sub(self.queued());
        let taken = offered.min(room);
        if taken > 0 {
            self.written += taken;
            if self.starved {
                self.starved = false;
                self.remainder = 0;
            }
        }
        // `taken` ≤ `offered`, which came from a usize.
        taken as usize
    }

    fn played_frames(&mut self) -> u64 {
        self.advance();
        self.played
    }

    fn queued_frames(&mut self) -> u64 {
        self.advance();
        self.queued()
    }

    fn capacity_frames(&self) -> u64 {
        self.capacity
    }

    fn play(&mut self) {
        if !self.playing {
            self.accounted_us = self.accounted_us.max(self.clock.now_us());
            self.remainder = 0;
            self.playing = true;
        }
    }

    fn pause(&mut self) {
        self.advance();
        self.playing = false;
    }

    fn is_playing(&self) -> bool {
        self.playing
    }

    fn flush(&mut self) {
        self.advance();
        self.flushed += self.queued();
        self.starved = true;
        self.remainder = 0;
    }

    fn underruns(&mut self) -> u64 {
        self.advance();
        self.underruns
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const STEREO_48K: AudioFormat = AudioFormat { sample_rate: 48_000, channels: 2 };

    fn output(format: AudioFormat, queue_ms: u32) -> (NullOutput, ManualClock) {
        let clock = ManualClock::new();
        // Not at zero: the output must count from when it was opened.
        clock.set_us(123_456_789);
        let out = NullOutput::new(format, Arc::new(clock.clone()), &AudioOutputConfig { queue_ms });
        (out, clock)
    }

    fn silence(format: AudioFormat, frames: usize) -> Vec<f32> {
        vec![0.0; frames * usize::from(format.channels)]
    }

    #[test]
    fn plays_at_the_sample_rate_while_playing() {
        let (mut out, clock) = output(STEREO_48K, 2000);
        assert_eq!(out.write(&silence(STEREO_48K, 48_000)), 48_000);
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 0, "it opens paused");
        out.play();
        clock.advance_us(500_000);
        assert_eq!(out.played_frames(), 24_000);
        assert_eq!(out.queued_frames(), 24_000);
        // 1 µs is 0.048 of a frame: nothing yet, but it is not lost.
        clock.advance_us(1);
        assert_eq!(out.played_frames(), 24_000);
        clock.advance_us(499_999);
        assert_eq!(out.played_frames(), 48_000);
        assert_eq!(out.played_us(), 1_000_000);
        assert_eq!(out.underruns(), 0);
    }

    #[test]
    fn no_drift_over_an_hour_of_uneven_looks() {
        // 44.1 kHz: a frame is 22.675… µs, so every look leaves a fraction behind.
        let format = AudioFormat { sample_rate: 44_100, channels: 1 };
        let (mut out, clock) = output(format, 10_000);
        let chunk = silence(format, 8192);
        out.write(&chunk);
        out.play();
        let mut elapsed = 0u64;
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        while elapsed < 3_600_000_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let step = 1 + (seed >> 33) % 60_000;
            clock.advance_us(step);
            elapsed += step;
            let played = out.played_frames();
            assert_eq!(played, elapsed * 44_100 / 1_000_000, "after {elapsed} µs");
            while out.queued_frames() < 4096 {
                out.write(&chunk);
            }
        }
        assert_eq!(out.underruns(), 0);
        assert_eq!(out.written_frames(), out.played_frames() + out.queued_frames());
    }

    #[test]
    fn an_underrun_stops_the_count_until_the_next_write() {
        let (mut out, clock) = output(STEREO_48K, 1000);
        out.play();
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 0);
        assert_eq!(out.underruns(), 0, "nothing was ever queued: not an underrun");

        out.write(&silence(STEREO_48K, 1000));
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 1000, "never more than was written");
        assert_eq!(out.queued_frames(), 0);
        assert_eq!(out.underruns(), 1);
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 1000);
        assert_eq!(out.underruns(), 1, "one underrun, however long");

        // Playback resumes from the write, not from when the queue ran dry.
        out.write(&silence(STEREO_48K, 480));
        clock.advance_us(5_000);
        assert_eq!(out.played_frames(), 1240);
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 1480);
        assert_eq!(out.underruns(), 2);
    }

    #[test]
    fn pause_stops_the_count_and_play_resumes_it() {
        let (mut out, clock) = output(STEREO_48K, 2000);
        out.write(&silence(STEREO_48K, 48_000));
        out.play();
        clock.advance_us(100_000);
        out.pause();
        assert!(!out.is_playing());
        clock.advance_us(10_000_000);
        assert_eq!(out.played_frames(), 4800);
        assert_eq!(out.queued_frames(), 43_200);
        out.play();
        out.play();
        clock.advance_us(100_000);
        assert_eq!(out.played_frames(), 9600);
        assert_eq!(out.underruns(), 0, "a pause is not an underrun");
    }

    #[test]
    fn flush_drops_the_queue_and_keeps_the_played_count() {
        let (mut out, clock) = output(STEREO_48K, 2000);
        out.write(&silence(STEREO_48K, 48_000));
        out.play();
        clock.advance_us(250_000);
        out.flush();
        assert_eq!(out.played_frames(), 12_000);
        assert_eq!(out.queued_frames(), 0);
        assert_eq!(out.flushed_frames(), 36_000);
        clock.advance_us(1_000_000);
        assert_eq!(out.played_frames(), 12_000);
        assert_eq!(out.underruns(), 0, "an empty queue after a flush is not an underrun");
        out.write(&silence(STEREO_48K, 4800));
        clock.advance_us(50_000);
        assert_eq!(out.played_frames(), 14_400);
        assert_eq!(out.written_frames(), 52_800);
        assert_eq!(
            out.written_frames(),
            out.played_frames() + out.queued_frames() + out.flushed_frames()
        );
    }

    #[test]
    fn write_takes_whole_frames_up_to_the_capacity() {
        let (mut out, clock) = output(STEREO_48K, 100);
        assert_eq!(out.capacity_frames(), 4800);
        assert_eq!(out.write(&silence(STEREO_48K, 10_000)), 4800);
        assert_eq!(out.write(&silence(STEREO_48K, 10)), 0, "full");
        out.play();
        clock.advance_us(10_000);
        assert_eq!(out.write(&silence(STEREO_48K, 10_000)), 480, "room for what was played");
        out.flush();
        assert_eq!(out.write(&[0.0; 3]), 1, "a trailing half frame is not taken");
        assert_eq!(out.write(&[0.0]), 0);
        assert_eq!(out.queued_frames(), 1);
    }
}
