//! Audio output on the system's default sound device through cpal (feature `cpal`).
//!
//! `write` fills a bounded queue; cpal's callback, on its own real-time thread, takes
//! frames from it and counts them as played. The count is what the device has been
//! handed, so it leads what is heard by the device's own buffer (a few ms to tens of
//! ms); A/V sync treats that as a constant offset.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

use super::error::AudioError;
use super::output::{AudioFormat, AudioOutput, AudioOutputConfig};

/// State shared with the device callback.
#[derive(Debug)]
struct Shared {
    samples: VecDeque<f32>,
    played: u64,
    starved: bool,
    underruns: u64,
}

/// Plays interleaved `f32` PCM on the default output device.
pub struct CpalOutput {
    format: AudioFormat,
    capacity: u64,
    shared: Arc<Mutex<Shared>>,
    stream: cpal::Stream,
    playing: bool,
}

impl std::fmt::Debug for CpalOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpalOutput")
            .field("format", &self.format)
            .field("capacity", &self.capacity)
            .field("playing", &self.playing)
            .finish_non_exhaustive()
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // Plain counters and samples: a panic elsewhere cannot leave them inconsistent in a
    // way worse than a glitch.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CpalOutput {
    /// Opens the default output device for `format`, paused. The device must take the
    /// format as is (no resampling here; ALSA's `default` device converts).
    /// [`AudioError::NoDevice`] when the system has no output device.
    pub fn open(format: AudioFormat, config: &AudioOutputConfig) -> Result<Self, AudioError> {
        if format.sample_rate == 0 || format.channels == 0 {
            return Err(AudioError::Device(format!("cannot open a stream for {format:?}")));
        }
        let host = cpal::default_host();
        let device = host.default_output_device().ok_or(AudioError::NoDevice)?;
        let capacity = config.queue_frames(format);
        let samples = usize::try_from(capacity)
            .unwrap_or(usize::MAX / 2)
            .saturating_mul(usize::from(format.channels));
        let shared = Arc::new(Mutex::new(Shared {
            samples: VecDeque::with_capacity(samples),
            played: 0,
            starved: true,
            underruns: 0,
        }));
        let stream_config = cpal::StreamConfig {
            channels: format.channels,
            sample_rate: format.sample_rate,
            buffer_size: cpal::BufferSize::Default,
        };
        let channels = usize::from(format.channels);
        let feed = Arc::clone(&shared);
        let stream = device
            .build_output_stream::<f32, _, _>(
                stream_config,
                move |out: &mut [f32], _info: &cpal::OutputCallbackInfo| {
                    fill(&feed, out, channels);
                },
                |e: cpal::Error| tracing::warn!(error = %e, "audio output stream error"),
                None,
            )
            .map_err(device_error)?;
        // Some backends start at once: keep it silent until `play`.
        stream.pause().map_err(device_error)?;
        tracing::debug!(?format, capacity, "cpal audio output open");
        Ok(Self { format, capacity, shared, stream, playing: false })
    }
}

/// The device callback: whole frames from the queue, silence for the rest.
fn fill(shared: &Mutex<Shared>, out: &mut [f32], channels: usize) {
    // A writer holds the lock only to copy one packet in; never block the audio
    // thread on it: a contended callback plays silence and counts nothing.
    let mut s = match shared.try_lock() {
        Ok(s) => s,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => {
            out.fill(0.0);
            return;
        }
    };
    let wanted = out.len() / channels.max(1);
    let available = s.samples.len() / channels.max(1);
    let frames = wanted.min(available);
    let n = frames * channels;
    for (dst, src) in out.iter_mut().zip(s.samples.drain(..n)) {
        *dst = src;
    }
    out[n..].fill(0.0);
    s.played += frames as u64;
    if frames < wanted && !s.starved {
        s.starved = true;
        s.underruns += 1;
    }
}

fn device_error(e: cpal::Error) -> AudioError {
    match e.kind() {
        cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
            AudioError::NoDevice
        }
        _ => AudioError::Device(e.to_string()),
    }
}

impl AudioOutput for CpalOutput {
    fn format(&self) -> AudioFormat {
        self.format
    }

    fn write(&mut self, pcm: &[f32]) -> usize {
        let channels = usize::from(self.format.channels);
        let mut s = lock(&self.shared);
        let queued = (s.samples.len() / channels) as u64;
        let room = self.capacity.saturating_sub(queued);
        let taken = (self.format.frames_in(pcm.len()) as u64).min(room) as usize;
        s.samples.extend(&pcm[..taken * channels]);
        if taken > 0 {
            s.starved = false;
        }
        taken
    }

    fn played_frames(&mut self) -> u64 {
        lock(&self.shared).played
    }

    fn queued_frames(&mut self) -> u64 {
        (lock(&self.shared).samples.len() / usize::from(self.format.channels)) as u64
    }

    fn capacity_frames(&self) -> u64 {
        self.capacity
    }

    fn play(&mut self) {
        match self.stream.play() {
            Ok(()) => self.playing = true,
            Err(e) => tracing::warn!(error = %e, "audio output cannot play"),
        }
    }

    fn pause(&mut self) {
        match self.stream.pause() {
            Ok(()) => self.playing = false,
            Err(e) => tracing::warn!(error = %e, "audio output cannot pause"),
        }
    }

    fn is_playing(&self) -> bool {
        self.playing
    }

    fn flush(&mut self) {
        let channels = usize::from(self.format.channels);
        let mut s = lock(&self.shared);
        tracing::debug!(dropped = s.samples.len() / channels, "audio output flushed");
        s.samples.clear();
        s.starved = true;
    }

    fn underruns(&mut self) -> u64 {
        lock(&self.shared).underruns
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// Whether ALSA sees a sound card on this machine.
    fn has_sound_card() -> bool {
        std::fs::read_to_string("/proc/asound/cards")
            .map(|s| !s.trim().is_empty() && !s.contains("no soundcards"))
            .unwrap_or(false)
    }

    #[test]
    fn opens_the_default_device_or_says_there_is_none() {
        let format = AudioFormat { sample_rate: 48_000, channels: 2 };
        let opened = CpalOutput::open(format, &AudioOutputConfig::default());
        if !has_sound_card() {
            assert_eq!(opened.err(), Some(AudioError::NoDevice));
            return;
        }
        // A machine with a card: it plays, and counts no more than it was given.
        let mut out = match opened {
            Ok(out) => out,
            Err(AudioError::Device(why)) => {
                // A card held by another program is not this code's failure.
                eprintln!("sound card present but unusable: {why}");
                return;
            }
            Err(e) => panic!("unexpected error with a sound card present: {e}"),
        };
        let written = out.write(&vec![0.0; 9600 * 2]) as u64;
        assert_eq!(written, 9600);
        out.play();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while out.played_frames() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let played = out.played_frames();
        assert!(played > 0 && played <= written, "played {played} of {written}");
        out.pause();
        out.flush();
        assert_eq!(out.queued_frames(), 0);
    }
}
