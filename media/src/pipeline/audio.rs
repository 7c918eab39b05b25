//! The audio thread: decodes AAC, keeps the output fed, and publishes what is being
//! heard as the master clock.
//!
//! Underruns: the output counts every time its queue runs dry while playing, but
//! only some of those are starvation. When the output has played everything the
//! engine appended (the end of the stream, or the end of the buffer where the engine
//! stalls), running dry is where playback ends or waits, not an underrun. An
//! underrun is the output running dry short of that: the engine gave audio for a
//! time the output reached without it (decoding fell behind, the thread was not
//! scheduled, the content has a hole). And a segment whose samples end a little short
//! of where the manifest ends it (a last AAC frame, an audio track shorter than the
//! video) has its hole played as silence, as the engine plays through it.

use super::stats::StatsHandle;
use super::{Chunk, Msg, Shared};
use crate::audio::{AacDecoder, AudioFormat, AudioOutput, AudioOutputConfig, NullOutput};
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

/// The longest hole at the end of a segment that is played as silence, µs: the
/// timing sink's default hole tolerance (`TimingConfig::hole_s`, 0.1 s), so that what
/// the engine plays through, the output plays through. A longer hole is a real gap in
/// the audio.
const MAX_HOLE_US: i64 = 100_000;

/// How far short of the end of the appended audio the output may run dry and still
/// be at that end (rounding of ticks and frames), µs.
const END_SLACK_US: i64 = 1_000;

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
    /// The output's dry spells already looked at.
    underruns_seen: u64,
    /// The end of the audio appended since the last flush on the player's timeline,
    /// µs: the latest of the chunks' declared ends and their samples' ends. Running
    /// dry there is not an underrun.
    appended_end_us: Option<i64>,
    /// The declared end of the chunk whose samples were decoded last, once they all
    /// are: where a hole after them is played to.
    hole_end_us: Option<i64>,
    /// A hole was played as silence up to here: PCM of a later chunk that starts
    /// before it is trimmed, so that the timeline does not run back.
    padded_until_us: Option<i64>,
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
            appended_end_us: None,
            hole_end_us: None,
            padded_until_us: None,
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
                    let end = c.end_us.max(c.samples_end_us());
                    self.appended_end_us = self.appended_end_us.max(end);
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
                // A dry spell before the pause is judged where it happened.
                self.note_dry_spells();
                self.playing = false;
                if let Some(o) = &mut self.output {
                    o.pause();
                }
            }
            Msg::Flush => {
                // Judged before the marks that place it are dropped.
                self.note_dry_spells();
                self.chunks.clear();
                self.pcm.clear();
                self.pcm_pos = 0;
                self.marks.clear();
                self.appended_end_us = None;
                self.hole_end_us = None;
                self.padded_until_us = None;
                if let Some(o) = &mut self.output {
                    o.flush();
                    self.written = o.played_frames();
                    // The queue is empty from here on purpose.
                    self.underruns_seen = o.underruns();
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
                self.hole_end_us = chunk.end_us;
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
            let format = decoder.format();
            match decoder.decode(data) {
                Ok(pcm) => {
                    self.pcm.clear();
                    self.pcm.extend_from_slice(pcm);
                    self.pcm_pos = 0;
                    self.pcm_pts_us = pts_us;
                    let frames = (pcm.len() / channels) as u64;
                    self.stats.update(|s| s.audio_frames_decoded += frames);
                    self.hole_end_us = None;
                    self.trim_under_padding(format, frames);
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
                    // A new output counts its dry spells from zero.
                    self.underruns_seen = o.underruns();
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

    /// Skips the front of the PCM just decoded (`frames` frames at `format`) that
    /// falls under silence already played for a hole: the chunk after a hole started
    /// inside it. An overlap longer than a hole is not one (a timeline that moved):
    /// that PCM is kept.
    fn trim_under_padding(&mut self, format: AudioFormat, frames: u64) {
        let Some(until) = self.padded_until_us else { return };
        let overlap = until.saturating_sub(self.pcm_pts_us);
        if overlap <= 0 || overlap > MAX_HOLE_US {
            self.padded_until_us = None;
            return;
        }
        // `overlap` is positive here.
        let skip = format.frames_for_us(overlap as u64).min(frames);
        if skip < frames {
            self.padded_until_us = None;
        }
        let channels = usize::from(format.channels.max(1));
        self.pcm_pos = usize::try_from(skip).unwrap_or(usize::MAX).saturating_mul(channels);
    }

    /// The end of what was written on the player's timeline, µs.
    fn written_end_us(&self, format: AudioFormat) -> Option<i64> {
        self.marks.back().map(|m| m.pts_us.saturating_add(format.us_for_frames(m.frames) as i64))
    }

    /// Silence for the hole between the samples decoded last and their chunk's declared
    /// end, when no later chunk is there to decode yet: the engine counts that time as
    /// buffered, so the output plays it rather than run dry short of it. False when
    /// there is no such hole (none, already played, or too long to be one).
    fn pad_hole(&mut self) -> bool {
        let Some(end) = self.hole_end_us.take() else { return false };
        let Some(format) = self.output.as_ref().map(|o| o.format()) else { return false };
        let Some(from) = self.written_end_us(format) else { return false };
        let hole = end.saturating_sub(from);
        if hole <= 0 || hole > MAX_HOLE_US {
            return false;
        }
        // `hole` is positive here.
        let frames = format.frames_for_us(hole as u64);
        if frames == 0 {
            return false;
        }
        tracing::debug!(
            from_us = from,
            to_us = end,
            "audio hole at a segment end played as silence"
        );
        let channels = usize::from(format.channels.max(1));
        let samples = usize::try_from(frames).unwrap_or(0).saturating_mul(channels);
        self.pcm.clear();
        self.pcm.resize(samples, 0.0);
        self.pcm_pos = 0;
        self.pcm_pts_us = from;
        self.padded_until_us = Some(from.saturating_add(format.us_for_frames(frames) as i64));
        true
    }

    /// Looks at the output's dry spells since the last look, and counts those that are
    /// underruns: the output ran dry short of the end of the audio appended.
    fn note_dry_spells(&mut self) {
        let Some(output) = &mut self.output else { return };
        let format = output.format();
        let spells = output.underruns();
        let Some(new) = spells.checked_sub(self.underruns_seen).filter(|n| *n > 0) else {
            return;
        };
        self.underruns_seen = spells;
        // The queue ran dry, so everything written was played: the output stopped at
        // the end of the last run written.
        let at_us = self.written_end_us(format);
        let at_end = match (at_us, self.appended_end_us) {
            (Some(at), Some(end)) => at >= end.saturating_sub(END_SLACK_US),
            _ => false,
        };
        if at_end {
            tracing::debug!(
                at_us,
                "audio output ran dry at the end of the audio appended: not an underrun"
            );
            return;
        }
        tracing::debug!(at_us, appended_end_us = self.appended_end_us, "audio underrun");
        self.stats.audio_underruns(new, at_us.map(|us| us as f64 / 1e6));
    }

    /// Writes decoded PCM while the output has room.
    fn fill(&mut self) {
        loop {
            if self.pcm_pos >= self.pcm.len() && !self.decode_next() && !self.pad_hole() {
                return;
            }
            // A dry spell is judged before a write ends it, while the marks still say
            // where it happened.
            self.note_dry_spells();
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
        self.note_dry_spells();
        let Some(output) = &mut self.output else { return };
        let format = output.format();
        let played = output.played_frames();
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

#[cfg(test)]
mod tests {
    //! The worker driven by hand on a [`ManualClock`] (no thread: each `turn` is one
    //! round of its loop), over the committed fixture's AAC (4 segments, 1 s each).

    use super::*;
    use crate::clock::ManualClock;
    use std::path::PathBuf;
    use std::sync::mpsc::channel;
    use streamsteer::container::{TrackType, demux};
    use streamsteer_origin::content::ContentInfo;

    struct Rig {
        worker: AudioWorker,
        clock: ManualClock,
        stats: StatsHandle,
        master: Arc<MasterClock>,
    }

    fn rig() -> Rig {
        let clock = ManualClock::new();
        clock.set_us(5_000_000);
        let shared = Shared {
            master: Arc::new(MasterClock::new(Arc::new(clock.clone()))),
            stats: StatsHandle::default(),
            epoch: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (master, stats) = (shared.master.clone(), shared.stats.clone());
        // The channel is not used: messages are handed over directly.
        let (_tx, rx) = channel();
        let worker =
            AudioWorker::new(rx, Arc::new(clock.clone()), shared, AudioOutputConfig::default());
        Rig { worker, clock, stats, master }
    }

    impl Rig {
        /// One round of the worker's loop.
        fn turn(&mut self) {
            self.worker.fill();
            self.worker.publish();
        }

        /// Plays `us` of clock time in steps of 20 ms, the worker looking after each.
        fn play_for(&mut self, us: u64) {
            for _ in 0..us / 20_000 {
                self.clock.advance_us(20_000);
                self.turn();
            }
        }
    }

    /// The fixture's audio segments as chunks, each ending where its manifest
    /// entry says. `shift_us` moves segment `i` by `i × shift_us` on the timeline and
    /// ends it `shift_us` later than that: a hole of `shift_us` after each segment's
    /// samples, up to where the next one starts.
    fn fixture_chunks(shift_us: i64) -> Vec<Chunk> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf");
        let info = ContentInfo::load(&dir).expect("fixture");
        let init = std::fs::read(dir.join(&info.audio.init)).expect("init");
        let init = Arc::new(InitSegment::parse(&init).expect("init parses"));
        let track_id = init.first_of(TrackType::Audio).expect("audio track").track_id;
        info.audio
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let data: Arc<[u8]> = Arc::from(std::fs::read(dir.join(&s.path)).expect("seg"));
                let samples = demux(&data, &init).expect("demux");
                let offset = shift_us * i as i64;
                let end = ((s.start_s + s.duration_s) * 1e6).round() as i64 + offset + shift_us;
                Chunk::new(init.clone(), track_id, data, samples, offset).with_end_us(Some(end))
            })
            .collect()
    }

    #[test]
    fn the_end_of_the_audio_appended_is_not_an_underrun() {
        let mut rig = rig();
        for c in fixture_chunks(0) {
            rig.worker.handle(Msg::Chunk(c));
        }
        rig.worker.handle(Msg::Play);
        rig.turn();
        // Past the end (3.978 s): the output has played everything and runs dry.
        rig.play_for(6_000_000);
        let s = rig.stats.snapshot();
        assert_eq!(s.audio_underruns, 0, "{:?}", s.audio_underrun_at_s);
        assert!(s.audio_underrun_at_s.is_empty());
        let end = rig.master.media_us().expect("a clock");
        assert!((3_978_000..=4_000_000).contains(&end), "the clock stopped at {end} µs");
        assert!(!rig.master.is_running());
    }

    #[test]
    fn a_dry_output_mid_stream_is_an_underrun_with_its_position() {
        let mut rig = rig();
        for c in fixture_chunks(0) {
            rig.worker.handle(Msg::Chunk(c));
        }
        rig.worker.handle(Msg::Play);
        rig.turn();
        rig.play_for(300_000);
        // The worker does not run for 2 s (a loaded machine): the output plays its
        // 500 ms queue and runs dry, with 3 s more appended.
        rig.clock.advance_us(2_000_000);
        rig.turn();
        let s = rig.stats.snapshot();
        assert_eq!(s.audio_underruns, 1);
        // Dry where the queue ended: 0.3 s played + 0.5 s queued (to a frame).
        let [at] = s.audio_underrun_at_s[..] else { panic!("{:?}", s.audio_underrun_at_s) };
        assert!((at - 0.8).abs() < 0.001, "underrun at {at} s");
        // Playback resumes from there, and the end is still not one.
        rig.play_for(6_000_000);
        let s = rig.stats.snapshot();
        assert_eq!(s.audio_underruns, 1, "{:?}", s.audio_underrun_at_s);
        assert_eq!(s.audio_underrun_at_s.len(), 1);
    }

    #[test]
    fn a_short_hole_at_a_segment_end_is_played_as_silence() {
        // Every segment 30 ms later than the one before ends (by its manifest entry):
        // a 30 ms hole after each, whose next segment arrives only once the output is
        // inside it.
        let mut chunks = fixture_chunks(30_000).into_iter();
        let mut rig = rig();
        rig.worker.handle(Msg::Chunk(chunks.next().expect("segment 0")));
        rig.worker.handle(Msg::Play);
        rig.turn();
        for (i, next) in chunks.enumerate() {
            // Into the hole after segment i: its samples end ~1.0027 s later than
            // its start, and the hole lasts 30 ms after that.
            let start = next.samples.first().map(|s| next.pts_us(s)).expect("a sample");
            // (Without the silence, the clock stops where the samples end.)
            while rig.master.is_running()
                && rig.master.media_us().is_some_and(|now| now < start - 15_000)
            {
                rig.clock.advance_us(5_000);
                rig.turn();
                assert!(rig.clock.now_us() < 20_000_000, "segment {i} never ran out");
            }
            rig.worker.handle(Msg::Chunk(next));
            rig.turn();
        }
        rig.play_for(2_000_000);
        let s = rig.stats.snapshot();
        assert_eq!(s.audio_underruns, 0, "{:?}", s.audio_underrun_at_s);
        // The clock went through the holes, the last one included: it stops where
        // the last segment is declared to end, 3.978 s + 3 × 30 ms + 30 ms.
        let end = rig.master.media_us().expect("a clock");
        assert!((4_097_000..=4_099_000).contains(&end), "the clock stopped at {end} µs");
    }

    #[test]
    fn silence_played_for_a_hole_is_not_played_twice() {
        // The manifest says segment 0 ends 30 ms after its samples, but segment 1
        // starts right after them: the silence covers its start, which is trimmed
        // so that the timeline does not run back.
        let mut chunks = fixture_chunks(0);
        let first_end = chunks[0].samples_end_us().expect("samples");
        chunks[0].end_us = Some(first_end + 30_000);
        let mut chunks = chunks.into_iter();
        let mut rig = rig();
        rig.worker.handle(Msg::Chunk(chunks.next().expect("segment 0")));
        rig.worker.handle(Msg::Play);
        rig.turn();
        while rig.master.media_us().is_none_or(|now| now < first_end - 15_000) {
            rig.clock.advance_us(5_000);
            rig.turn();
        }
        for c in chunks {
            rig.worker.handle(Msg::Chunk(c));
        }
        let mut last = 0;
        for _ in 0..1000 {
            rig.clock.advance_us(5_000);
            rig.turn();
            let now = rig.master.media_us().expect("a clock");
            assert!(now >= last, "the clock ran back from {last} to {now} µs");
            last = now;
        }
        assert_eq!(rig.stats.snapshot().audio_underruns, 0);
        assert!((3_978_000..=4_000_000).contains(&last), "the clock stopped at {last} µs");
    }
}
