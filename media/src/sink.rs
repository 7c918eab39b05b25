//! [`DecodingSink`]: the player's media end with real decoding — the
//! [`MediaSink`] that feeds the [`Pipeline`] and reports its clock to the engine.

use crate::pipeline::{Chunk, Pipeline};
use std::collections::BTreeMap;
use std::sync::Arc;
use streamsteer::container::{DecoderConfig, InitSegment, TrackType, demux};
use streamsteer::qoe::PlaybackStats;
use streamsteer::session::{MediaTiming, TrackKind};
use streamsteer_net::{MediaSink, SinkError, TimingSink};
use tokio::time::Instant;

use crate::video::Decoders;

/// A [`MediaSink`] that decodes and presents what the player fetches.
///
/// Buffer accounting (what is buffered where, live rebasing) stays with a
/// [`TimingSink`] inside; the playhead reported to the engine is the audio master
/// clock once audio plays, so that the engine sees what is actually heard.
pub struct DecodingSink {
    timing: TimingSink,
    pipeline: Pipeline,
    /// Probes codec support in [`MediaSink::check`]; the pipeline has its own.
    decoders: Decoders,
    inits: BTreeMap<(TrackKind, usize), Arc<InitSegment>>,
}

impl std::fmt::Debug for DecodingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodingSink").field("pipeline", &self.pipeline).finish_non_exhaustive()
    }
}

impl DecodingSink {
    /// A sink over a started pipeline; `decoders` answers which codecs it can play
    /// (give it the same set the pipeline was started with).
    pub fn new(pipeline: Pipeline, decoders: Decoders) -> Self {
        Self { timing: TimingSink::default(), pipeline, decoders, inits: BTreeMap::new() }
    }

    /// The pipeline (its clock and statistics).
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Whether the pipeline can decode the init segment's track of kind `track`.
    fn supported(&self, track: TrackKind, init: &InitSegment) -> Result<(), String> {
        let Some(info) = init.first_of(TrackType::from(track)) else {
            return Err(format!("the init segment has no {track:?} track"));
        };
        match track {
            TrackKind::Video if self.decoders.supports(info) => Ok(()),
            TrackKind::Video => Err(format!(
                "no video decoder for codec {} ({}){}",
                info.codec,
                info.codecs_or_fourcc(),
                if cfg!(feature = "ffmpeg") { "" } else { " (H.264 needs the `ffmpeg` feature)" }
            )),
            TrackKind::Audio => match info.config {
                DecoderConfig::Aac(_) => Ok(()),
                _ => Err(format!(
                    "no audio decoder for codec {} ({})",
                    info.codec,
                    info.codecs_or_fourcc()
                )),
            },
            _ => Err(format!("no decoder for {track:?} tracks")),
        }
    }
}

impl MediaSink for DecodingSink {
    fn check(
        &self,
        track: TrackKind,
        init: bool,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.timing.check(track, init, rendition, data)?;
        if init {
            let parsed = InitSegment::parse(data).map_err(|source| SinkError::Parse {
                track,
                rendition,
                source,
            })?;
            self.supported(track, &parsed).map_err(|reason| SinkError::Unsupported {
                track,
                rendition,
                reason,
            })?;
        } else if let Some(init) = self.inits.get(&(track, rendition)) {
            // The timing check read the boxes; this reads every sample's place.
            demux(data, init).map_err(|source| SinkError::Parse { track, rendition, source })?;
        }
        Ok(())
    }

    fn append_init(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.timing.append_init(now, track, rendition, data)?;
        let init = InitSegment::parse(data).map_err(|source| SinkError::Parse {
            track,
            rendition,
            source,
        })?;
        self.inits.insert((track, rendition), Arc::new(init));
        Ok(())
    }

    fn append_media(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        segment: Option<usize>,
        timing: Option<MediaTiming>,
        data: &[u8],
    ) -> Result<(), SinkError> {
        self.timing.append_media(now, track, rendition, segment, timing, data)?;
        let init =
            self.inits.get(&(track, rendition)).ok_or(SinkError::NoInit { track, rendition })?;
        let info = init.first_of(TrackType::from(track)).or_else(|| init.tracks.first());
        let Some(track_id) = info.map(|t| t.track_id) else {
            return Err(SinkError::Empty { track, rendition });
        };
        let samples: Vec<_> = demux(data, init)
            .map_err(|source| SinkError::Parse { track, rendition, source })?
            .into_iter()
            .filter(|s| s.track_id == track_id)
            .collect();
        let offset_us = (self.timing.offset_s(track).unwrap_or(0.0) * 1e6).round() as i64;
        // Where the manifest ends the segment: the audio thread plays a short hole
        // before it (the segment's samples end a little early) instead of running dry
        // where the engine counts audio as buffered.
        let end_us = timing
            .map(|t| t.start_s + t.duration_s)
            .filter(|end| end.is_finite())
            .map(|end| (end * 1e6).round() as i64);
        self.pipeline.push(
            Chunk::new(init.clone(), track_id, Arc::from(data), samples, offset_us)
                .with_end_us(end_us),
        );
        Ok(())
    }

    fn play(&mut self, now: Instant) {
        self.timing.play(now);
        self.pipeline.play();
    }

    fn pause(&mut self, now: Instant) {
        self.timing.pause(now);
        self.pipeline.pause();
    }

    fn stall(&mut self, now: Instant) {
        self.timing.stall(now);
        self.pipeline.pause();
    }

    fn seek(&mut self, now: Instant, position_s: f64) {
        self.timing.seek(now, position_s);
        self.pipeline.flush();
    }

    fn position_s(&mut self, now: Instant) -> Option<f64> {
        let timing = self.timing.position_s(now);
        match self.pipeline.master().media_us() {
            // What is heard, but never ahead of what the engine knows is buffered.
            Some(us) => Some(timing.map_or(us as f64 / 1e6, |t| t.min(us as f64 / 1e6).max(0.0))),
            None => timing,
        }
    }

    fn playback_stats(&mut self) -> Option<PlaybackStats> {
        Some(self.pipeline.stats())
    }
}
