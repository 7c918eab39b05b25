//! The video thread: decodes ahead of the clock, presents each frame when the master
//! reaches it, renders it, and dumps pictures when asked.

use super::stats::StatsHandle;
use super::{Chunk, Msg, PipelineConfig, Shared};
use crate::frame::VideoFrame;
use crate::render::{Renderer, RgbaImage, write_png};
use crate::sync::{MasterClock, Present, Presenter};
use crate::video::{Decoders, Packet, VideoDecoder};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use streamsteer::container::InitSegment;

/// Longest sleep between looks at the clock and the queue.
const IDLE: Duration = Duration::from_millis(10);

pub(super) struct VideoWorker {
    rx: Receiver<Msg>,
    decoders: Decoders,
    renderer: Option<Renderer>,
    master: Arc<MasterClock>,
    stats: StatsHandle,
    epoch: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    presenter: Presenter<VideoFrame>,
    dump_dir: Option<PathBuf>,
    dump_every: u64,
    image: RgbaImage,
    decoder: Option<(Arc<InitSegment>, Box<dyn VideoDecoder>)>,
    chunks: VecDeque<(Chunk, usize)>,
    /// After a decode error: packets are skipped until the next keyframe.
    await_keyframe: bool,
    /// Decode time of packets that produced no frame yet (reordering delay), µs.
    pending_decode_us: u64,
}

impl VideoWorker {
    pub(super) fn new(
        rx: Receiver<Msg>,
        decoders: Decoders,
        renderer: Option<Renderer>,
        shared: Shared,
        config: &PipelineConfig,
    ) -> Self {
        Self {
            rx,
            decoders,
            renderer,
            master: shared.master,
            stats: shared.stats,
            epoch: shared.epoch,
            stop: shared.stop,
            presenter: Presenter::new(config.presenter),
            dump_dir: config.dump_dir.clone(),
            dump_every: config.dump_every.max(1),
            image: RgbaImage::black(1, 1),
            decoder: None,
            chunks: VecDeque::new(),
            await_keyframe: true,
            pending_decode_us: 0,
        }
    }

    pub(super) fn run(mut self) {
        while !self.stop.load(Ordering::SeqCst) {
            while let Ok(msg) = self.rx.try_recv() {
                self.handle(msg);
            }
            let mut wait = IDLE;
            match self.presenter.poll(self.master.media_us()) {
                Present::Show { frame, lateness_us } => {
                    self.show(&frame, lateness_us);
                    continue;
                }
                Present::WaitUntil(due_us) => {
                    if let Some(now) = self.master.media_us()
                        && self.master.is_running()
                    {
                        let until = u64::try_from(due_us.saturating_sub(now)).unwrap_or(0);
                        wait = wait.min(Duration::from_micros(until));
                    }
                }
                Present::Empty | Present::NoClock => {}
            }
            self.sync_drops();
            // Decode while the presenter wants frames, between presentations.
            if self.presenter.wants_frames() && self.decode_next() {
                continue;
            }
            if self.chunks.is_empty() && self.presenter.queued() == 0 && self.master.is_running() {
                self.drain_decoder();
            }
            match self.rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Chunk(c) => {
                if c.epoch == self.epoch.load(Ordering::SeqCst) {
                    self.chunks.push_back((c, 0));
                }
            }
            Msg::Play | Msg::Pause => {}
            Msg::Flush => {
                self.chunks.clear();
                self.presenter.clear();
                if let Some((_, d)) = &mut self.decoder {
                    d.reset();
                }
                self.await_keyframe = true;
            }
        }
    }

    fn sync_drops(&mut self) {
        let s = self.presenter.stats();
        self.stats.update(|p| {
            p.frames_presented = s.presented;
            p.frames_dropped = s.dropped;
        });
    }

    fn show(&mut self, frame: &VideoFrame, lateness_us: i64) {
        tracing::trace!(pts_us = frame.pts_us, lateness_us, "present");
        let presented = self.presenter.stats().presented;
        if let Some(renderer) = &mut self.renderer {
            let t0 = Instant::now();
            match renderer.render(frame) {
                Ok(()) => self.stats.rendered(t0.elapsed().as_micros() as u64),
                Err(e) => tracing::warn!(error = %e, "frame not rendered"),
            }
        }
        // Drift is read once the picture is ready: what a viewer would see.
        if let Some(now) = self.master.media_us() {
            self.stats.drift(now - frame.pts_us);
        }
        if let Some(renderer) = &mut self.renderer
            && let Some(dir) = &self.dump_dir
            && (presented - 1).is_multiple_of(self.dump_every)
        {
            let path = dir.join(format!("frame_{presented:06}_{}ms.png", frame.pts_us / 1000));
            let written = renderer
                .read_rgba_into(&mut self.image)
                .and_then(|()| write_png(&self.image, &path));
            match written {
                Ok(()) => self.stats.update(|s| s.frames_dumped += 1),
                Err(e) => {
                    tracing::warn!(error = %e, path = %path.display(), "frame not dumped")
                }
            }
        }
        self.sync_drops();
    }

    /// Decodes the next packet; false when there is none queued.
    fn decode_next(&mut self) -> bool {
        loop {
            let Some((chunk, idx)) = self.chunks.front_mut() else { return false };
            let Some(sample) = chunk.samples.get(*idx).cloned() else {
                self.chunks.pop_front();
                continue;
            };
            let first_of_chunk = *idx == 0;
            *idx += 1;
            let (init, track_id, data) = (chunk.init.clone(), chunk.track_id, chunk.data.clone());
            let (pts_us, dts_us) = (chunk.pts_us(&sample), chunk.dts_us(&sample));
            if !self.ensure_decoder(&init, track_id) {
                continue;
            }
            if first_of_chunk && sample.is_sync() && !self.await_keyframe {
                // A segment that starts with a keyframe needs nothing from the one
                // before: take the frames held for reordering now, so that damage in
                // this segment cannot cost the previous one its last frames.
                self.drain_in_place();
            }
            if self.await_keyframe && !sample.is_sync() {
                self.stats.update(|s| s.decode_errors += 1);
                continue;
            }
            let Some(data) = sample.data(&data) else {
                self.stats.update(|s| s.decode_errors += 1);
                continue;
            };
            let packet = Packet {
                data,
                pts_us,
                dts_us,
                duration_us: super::chunk::ticks_to_us(
                    i64::from(sample.duration),
                    sample.timescale,
                ),
                keyframe: sample.is_sync(),
            };
            let t0 = Instant::now();
            let Some((_, decoder)) = &mut self.decoder else { return false };
            let sent = decoder.send(&packet);
            let mut frames = Vec::new();
            let result = sent.and_then(|()| {
                while let Some(f) = decoder.receive()? {
                    frames.push(f);
                }
                Ok(())
            });
            let took = t0.elapsed().as_micros() as u64;
            if let Err(e) = result {
                tracing::warn!(error = %e, "video packet not decoded; waiting for a keyframe");
                // Frames decoded before the bad data may still be held for reordering.
                frames.extend(take_held(decoder.as_mut()));
                decoder.reset();
                self.await_keyframe = true;
                self.stats.update(|s| s.decode_errors += 1);
            } else {
                self.await_keyframe = false;
            }
            self.pending_decode_us += took;
            if !frames.is_empty() {
                self.stats
                    .decoded(frames.len() as u64, std::mem::take(&mut self.pending_decode_us));
            }
            for f in frames {
                self.presenter.push(f.pts_us, f);
            }
            return true;
        }
    }

    /// Takes the frames the decoder holds for reordering and readies it for a new
    /// keyframe, keeping it open.
    fn drain_in_place(&mut self) {
        let Some((_, decoder)) = &mut self.decoder else { return };
        let frames = take_held(decoder.as_mut());
        decoder.reset();
        self.push_frames(frames);
    }

    fn push_frames(&mut self, frames: Vec<VideoFrame>) {
        if !frames.is_empty() {
            self.stats.decoded(frames.len() as u64, std::mem::take(&mut self.pending_decode_us));
        }
        for f in frames {
            self.presenter.push(f.pts_us, f);
        }
    }

    /// Takes the frames a decoder still holds for reordering (the end of the stream,
    /// a switch, a starved queue) and closes it: the next chunk starts with a keyframe
    /// (CMAF segments do), so a fresh decoder loses nothing.
    fn drain_decoder(&mut self) {
        if let Some((_, mut old)) = self.decoder.take() {
            let frames = take_held(old.as_mut());
            self.push_frames(frames);
        }
    }

    /// Opens a decoder for the chunk's rendition, draining the old one first so that
    /// its last (reordered) frames are still shown.
    fn ensure_decoder(&mut self, init: &Arc<InitSegment>, track_id: u32) -> bool {
        if self.decoder.as_ref().is_some_and(|(i, _)| Arc::ptr_eq(i, init)) {
            return true;
        }
        self.drain_decoder();
        let Some(track) = init.track(track_id) else { return false };
        match self.decoders.open(track) {
            Ok(d) => {
                tracing::debug!(
                    decoder = d.name(),
                    width = track.width,
                    height = track.height,
                    "video decoder opened"
                );
                self.decoder = Some((init.clone(), d));
                self.await_keyframe = true;
                self.stats.update(|s| s.decoders_opened += 1);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "no video decoder for the rendition");
                self.stats.update(|s| s.decode_errors += 1);
                false
            }
        }
    }
}

/// Ends the decoder's stream and takes every frame it still holds, in order. A
/// failure is logged: the frames received before it are still good.
fn take_held(decoder: &mut dyn VideoDecoder) -> Vec<VideoFrame> {
    let mut frames = Vec::new();
    let drained = decoder.flush().and_then(|()| {
        while let Some(f) = decoder.receive()? {
            frames.push(f);
        }
        Ok(())
    });
    if let Err(e) = drained {
        tracing::warn!(error = %e, decoder = decoder.name(), "draining the decoder failed");
    }
    frames
}
