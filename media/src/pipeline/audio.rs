//! The audio thread: decodes AAC, keeps the output fed, and publishes what is being
//! heard as the master clock.

use super::stats::StatsHandle;
use super::{Chunk, Msg, Shared};
use crate::audio::{AacDecoder, AudioOutput, AudioOutputConfig, NullOutput};
use crate::clock::Clock;
use crate::sync::MasterClock;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use streamsteer::container::InitSegment;

/// How often the thread wakes while playing to refresh the clock and top up the
/// output: short against a frame (33 ms) so the master stays smooth.
const TICK: Duration = Duration::from_millis(4);

/// A run of written PCM: output frames from `frame` on carry media time from `pts_us`.
#[derive(Debug, Clone, Copy)]
struct Mark {
    frame: u64,
    pts_us: i64,
    frames: u64,
}

pub(super) struct AudioWorker {
    rx: Receiver<Msg>,
    clock: Arc<dyn Clock>,
    master: Arc<MasterClock>,
    stats: StatsHandle,
    epoch: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    config: AudioOutputConfig,
    output: Option<Box<dyn AudioOutput>>,
    decoder: Option<(Arc<InitSegment>, AacDecoder)>,
    chunks: VecDeque<(Chunk, usize)>,
    /// Decoded PCM not yet accepted by the output, and its start time.
    pcm: Vec<f32>,
    pcm_pos: usize,
    pcm_pts_us: i64,
    /// Output frame index the next write gets.
    written: u64,
    marks: VecDeque<Mark>,
    playing: bool,
    underruns_seen: u64,
}

impl AudioWorker {
    pub(super) fn new(
        rx: Receiver<Msg>,
        clock: Arc<dyn Clock>,
        shared: Shared,
        config: AudioOutputConfig,
    ) -> Self {
        Self {
            rx,
            clock,
            master: shared.master,
            stats: shared.stats,
            epoch: shared.epoch,
            stop: shared.stop,
            config,
            output: None,
            decoder: None,
            chunks: VecDeque::new(),
            pcm: Vec::new(),
            pcm_pos: 0,
            pcm_pts_us: 0,
            written: 0,
            marks: VecDeque::new(),
            playing: false,
            underruns_seen: 0,
        }
    }

    pub(super) fn run(mut self) {
        while !self.stop.load(Ordering::SeqCst) {
            let wait = if self.playing || !self.chunks.is_empty() { TICK } else { TICK * 8 };
            match self.rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while let Ok(msg) = self.rx.try_recv() {
                self.handle(msg);
            }
            self.fill();
            self.publish();
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Chunk(c) => {
                if c.epoch == self.epoch.load(Ordering::SeqCst) {
                    self.chunks.push_back((c, 0));
                }
            }
            Msg::Play => {
                self.playing = true;
                if let Some(o) = &mut self.output {
                    o.play();
                }
            }
            Msg::Pause => {
                self.playing = false;
                if let Some(o) = &mut self.output {
                    o.pause();
                }
            }
            Msg::Flush => {
                self.chunks.clear();
                self.pcm.clear();
                self.pcm_pos = 0;
                self.marks.clear();
                if let Some(o) = &mut self.output {
                    o.flush();
                    self.written = o.played_frames();
                }
                if let Some((_, d)) = &mut self.decoder {
                    d.reset();
                }
                self.master.clear();
            }
        }
    }

    /// Decodes the next sample into `pcm`; false when there is none.
    fn decode_next(&mut self) -> bool {
        loop {
            let Some((chunk, idx)) = self.chunks.front_mut() else { return false };
            let Some(sample) = chunk.samples.get(*idx).cloned() else {
                self.chunks.pop_front();
                continue;
            };
            *idx += 1;
            let (init, track_id, data) = (chunk.init.clone(), chunk.track_id, chunk.data.clone());
            let pts_us = chunk.pts_us(&sample);
            if !self.ensure_decoder(&init, track_id) {
                continue;
            }
            let Some((_, decoder)) = &mut self.decoder else { return false };
            let Some(data) = sample.data(&data) else {
                self.stats.update(|s| s.decode_errors += 1);
                continue;
            };
            let channels = usize::from(decoder.channels().max(1));
            match decoder.decode(data) {
                Ok(pcm) => {
                    self.pcm.clear();
                    self.pcm.extend_from_slice(pcm);
                    self.pcm_pos = 0;
                    self.pcm_pts_us = pts_us;
                    let frames = (pcm.len() / channels) as u64;
                    self.stats.update(|s| s.audio_frames_decoded += frames);
                    return true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "audio frame skipped");
                    self.stats.update(|s| s.decode_errors += 1);
                }
            }
        }
    }

    /// Opens a decoder (and the output, the first time) for the chunk's rendition.
    fn ensure_decoder(&mut self, init: &Arc<InitSegment>, track_id: u32) -> bool {
        if self.decoder.as_ref().is_some_and(|(i, _)| Arc::ptr_eq(i, init)) {
            return true;
        }
        let Some(track) = init.track(track_id) else { return false };
        match AacDecoder::from_track(track) {
            Ok(d) => {
                let format = d.format();
                if self.output.as_ref().is_some_and(|o| o.format() != format) {
                    // A new rate or layout needs a new output: what is queued at the
                    // old one is dropped (renditions of one stream share a format).
                    self.output = None;
                    self.marks.clear();
                }
                if self.output.is_none() {
                    let mut o: Box<dyn AudioOutput> =
                        Box::new(NullOutput::new(format, self.clock.clone(), &self.config));
                    if self.playing {
                        o.play();
                    }
                    self.written = o.played_frames();
                    self.output = Some(o);
                }
                self.decoder = Some((init.clone(), d));
                self.stats.update(|s| s.decoders_opened += 1);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "no audio decoder for the rendition");
                self.stats.update(|s| s.decode_errors += 1);
                false
            }
        }
    }

    /// Writes decoded PCM while the output has room.
    fn fill(&mut self) {
        loop {
            if self.pcm_pos >= self.pcm.len() && !self.decode_next() {
                return;
            }
            let Some(output) = &mut self.output else { return };
            let format = output.format();
            let channels = usize::from(format.channels.max(1));
            let rest = &self.pcm[self.pcm_pos..];
            let accepted = output.write(rest) as u64;
            if accepted == 0 {
                return;
            }
            let skipped = (self.pcm_pos / channels) as u64;
            let pts_us = self.pcm_pts_us + format.us_for_frames(skipped) as i64;
            self.marks.push_back(Mark { frame: self.written, pts_us, frames: accepted });
            self.written += accepted;
            self.pcm_pos += accepted as usize * channels;
        }
    }

    /// Publishes the media time being heard.
    fn publish(&mut self) {
        let Some(output) = &mut self.output else { return };
        let format = output.format();
        let played = output.played_frames();
        let underruns = output.underruns();
        if underruns > self.underruns_seen {
            let new = underruns - self.underruns_seen;
            self.underruns_seen = underruns;
            self.stats.update(|s| s.audio_underruns += new);
        }
        while self.marks.len() > 1 && self.marks[0].frame + self.marks[0].frames <= played {
            self.marks.pop_front();
        }
        let Some(first) = self.marks.front().copied() else { return };
        let at = |m: Mark, frame: u64| {
            m.pts_us + format.us_for_frames(frame.saturating_sub(m.frame).min(m.frames)) as i64
        };
        let now = at(first, played);
        // The end of the run that is playing (not of everything written): a gap in
        // the timeline must not be crossed by extrapolation.
        let mut limit = at(first, first.frame + first.frames);
        for m in self.marks.iter().skip(1) {
            if (m.pts_us - limit).abs() > 1_000 {
                break;
            }
            limit = at(*m, m.frame + m.frames);
        }
        let running = self.playing && output.is_playing() && played < self.written;
        self.master.set(now, running, limit);
    }
}
