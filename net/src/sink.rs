//! Where fetched media goes: the [`MediaSink`] trait, and [`TimingSink`], a sink that
//! parses fMP4 timing to account the buffer per track and runs a real-time playback
//! clock, for use until a decoding pipeline exists.

use std::collections::BTreeMap;
use streamsteer::container::{Fmp4Error, Fragment, InitSegment, TrackRun, TrackType};
use streamsteer::session::{MediaTiming, TrackKind};
use thiserror::Error;
use tokio::time::Instant;

/// Why a sink refused a segment.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A media segment came before any init segment of its rendition.
    #[error("{track:?} rung {rendition}: media segment before its init segment")]
    NoInit {
        /// Track.
        track: TrackKind,
        /// Rung.
        rendition: usize,
    },
    /// The bytes are not valid fMP4.
    #[error("{track:?} rung {rendition}: {source}")]
    Parse {
        /// Track.
        track: TrackKind,
        /// Rung.
        rendition: usize,
        /// The parser's error.
        #[source]
        source: Fmp4Error,
    },
    /// No decoder here handles the rendition's codec.
    #[error("{track:?} rung {rendition}: {reason}")]
    Unsupported {
        /// Track.
        track: TrackKind,
        /// Rung.
        rendition: usize,
        /// Why (the codec, the missing feature).
        reason: String,
    },
    /// The segment has no samples for the track.
    #[error("{track:?} rung {rendition}: the segment has no samples for this track")]
    Empty {
        /// Track.
        track: TrackKind,
        /// Rung.
        rendition: usize,
    },
}

/// The media end of a player: receives init and media segments per track and plays
/// them. The driver calls it from its one task, in the engine's order.
pub trait MediaSink: Send + 'static {
    /// Whether `data` is usable, before the engine counts the fetch as done: a
    /// segment refused here is reported to the engine as a failed fetch, so it is
    /// fetched again (from another pathway if one is usable). The default accepts
    /// everything.
    fn check(
        &self,
        track: TrackKind,
        init: bool,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        let _ = (track, init, rendition, data);
        Ok(())
    }

    /// An initialization segment for `rendition` of `track`.
    fn append_init(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError>;

    /// A media segment of `rendition` of `track`: segment `segment` of the plan, to go
    /// where `timing` says on the presentation timeline (when its media timestamps
    /// start a new timeline, `timing.new_timeline`, map them by a new offset).
    fn append_media(
        &mut self,
        now: Instant,
        track: TrackKind,
        rendition: usize,
        segment: Option<usize>,
        timing: Option<MediaTiming>,
        data: &[u8],
    ) -> Result<(), SinkError>;

    /// Start or resume playback.
    fn play(&mut self, now: Instant);

    /// Pause (user pause).
    fn pause(&mut self, now: Instant);

    /// The engine saw the buffer run dry: stop the clock until `play`.
    fn stall(&mut self, now: Instant);

    /// Drop everything buffered and move the playhead (a seek, or the start).
    fn seek(&mut self, now: Instant, position_s: f64);

    /// The playhead, seconds of media, if the sink keeps its own clock.
    fn position_s(&mut self, now: Instant) -> Option<f64>;

    /// Decode and presentation figures for the QoE report, if the sink decodes.
    fn playback_stats(&mut self) -> Option<streamsteer::qoe::PlaybackStats> {
        None
    }
}

/// Settings of [`TimingSink`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingSinkConfig {
    /// Holes up to this long between buffered ranges are played through (encoders
    /// leave tiny gaps between tracks' segments), seconds (default 0.1).
    pub max_hole_s: f64,
    /// Media kept behind the playhead, seconds; older ranges are forgotten, so that
    /// accounting stays flat in long sessions (default 30).
    pub back_buffer_s: f64,
    /// A first segment whose start is further than this from the playhead gets a
    /// timestamp offset mapping it onto the playhead (a stream whose media time does
    /// not start near zero, as in live), seconds (default 30).
    pub rebase_beyond_s: f64,
}

impl Default for TimingSinkConfig {
    fn default() -> Self {
        Self { max_hole_s: 0.1, back_buffer_s: 30.0, rebase_beyond_s: 30.0 }
    }
}

#[derive(Debug, Default)]
struct TrackBuffer {
    inits: BTreeMap<usize, InitSegment>,
    /// Buffered `[start, end)` ranges on the presentation timeline, sorted, merged.
    ranges: Vec<(f64, f64)>,
    /// Added to media time to get presentation time; set by the first segment.
    offset: Option<f64>,
    segments: usize,
    media_s: f64,
}

impl TrackBuffer {
    fn add(&mut self, start: f64, end: f64, hole: f64) {
        self.ranges.push((start, end));
        self.ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(self.ranges.len());
        for &(s, e) in &self.ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 + hole => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.ranges = merged;
    }

    /// End of the media playable from `pos` on (`pos` itself when `pos` is not buffered),
    /// playing through holes up to `hole` long between ranges.
    fn playable_end(&self, pos: f64, hole: f64) -> f64 {
        let Some(i) = self.ranges.iter().position(|(s, e)| *s <= pos + hole && pos < *e) else {
            return pos;
        };
        // Without the walk the clock stopped at the first small hole until the next
        // append re-anchored it: a live stream's loop boundary (audio 21 ms short of
        // video) cost up to a segment of latency each time.
        let mut end = self.ranges[i].1;
        for &(s, e) in &self.ranges[i + 1..] {
            if s > end + hole {
                break;
            }
            end = end.max(e);
        }
        end
    }
}

#[derive(Debug, Clone, Copy)]
enum Clock {
    Stopped,
    Running { since: Instant },
}

/// A sink that reads each segment's real timing (`tfdt` and `trun` sample durations,
/// via [`streamsteer::container`]) to account the media buffered per track, and plays it
/// back on a real-time clock that stops where any track's buffer runs dry.
#[derive(Debug)]
pub struct TimingSink {
    config: TimingSinkConfig,
    tracks: BTreeMap<TrackKind, TrackBuffer>,
    anchor_s: f64,
    clock: Clock,
}

impl Default for TimingSink {
    fn default() -> Self {
        Self::new(TimingSinkConfig::default())
    }
}

/// The run of the track a rendition carries: the init's first track of the wanted
/// type, else its first track (a muxed or oddly labelled stream).
fn run_of<'a>(frag: &'a Fragment, init: &InitSegment, track: TrackKind) -> Option<&'a TrackRun> {
    init.first_of(TrackType::from(track))
        .and_then(|t| frag.track(t.track_id))
        .or_else(|| frag.tracks.first())
        .filter(|r| r.sample_count > 0 || r.duration_ticks > 0)
}

impl TimingSink {
    /// A sink with these settings.
    pub fn new(config: TimingSinkConfig) -> Self {
        Self { config, tracks: BTreeMap::new(), anchor_s: 0.0, clock: Clock::Stopped }
    }

    /// Buffered ranges of a track, `(start_s, end_s)` in presentation time.
    pub fn buffered(&self, track: TrackKind) -> Vec<(f64, f64)> {
        self.tracks.get(&track).map(|t| t.ranges.clone()).unwrap_or_default()
    }

    /// What the sink adds to a track's media time to place it on the presentation
    /// timeline (set by the track's first segment; non-zero when a stream's time does
    /// not start near the playhead, as in live), seconds.
    pub fn offset_s(&self, track: TrackKind) -> Option<f64> {
        self.tracks.get(&track).and_then(|t| t.offset)
    }

    /// Media segments appended to a track since the start.
    pub fn segments_appended(&self, track: TrackKind) -> usize {
        self.tracks.get(&track).map_or(0, |t| t.segments)
    }

    /// Seconds of media appended to a track since the start.
    pub fn media_appended_s(&self, track: TrackKind) -> f64 {
        self.tracks.get(&track).map_or(0.0, |t| t.media_s)
    }

    /// Where the clock would stop if started at `pos`: the earliest end of playable
    /// media over the tracks that have any.
    fn dry_point(&self, pos: f64) -> f64 {
        let hole = self.config.max_hole_s;
        self.tracks
            .values()
            .filter(|t| !t.inits.is_empty())
            .map(|t| t.playable_end(pos, hole))
            .fold(f64::INFINITY, f64::min)
    }

    fn current(&self, now: Instant) -> f64 {
        match self.clock {
            Clock::Stopped => self.anchor_s,
            Clock::Running { since } => {
                let run = now.saturating_duration_since(since).as_secs_f64();
                let dry = self.dry_point(self.anchor_s);
                let dry = if dry.is_finite() { dry } else { self.anchor_s };
                (self.anchor_s + run).min(dry.max(self.anchor_s))
            }
        }
    }

    /// Moves the anchor to now, so that later appends do not count dry time as played.
    fn reanchor(&mut self, now: Instant) {
        self.anchor_s = self.current(now);
        if let Clock::Running { .. } = self.clock {
            self.clock = Clock::Running { since: now };
        }
    }

    fn evict(&mut self) {
        let keep_from = self.anchor_s - self.config.back_buffer_s.max(0.0);
        for t in self.tracks.values_mut() {
            t.ranges.retain(|(_, e)| *e >= keep_from);
            // Contiguous media merges into one range that would otherwise keep its
            // start forever (a live stream's would span the whole session).
            for r in &mut t.ranges {
                r.0 = r.0.max(keep_from);
            }
        }
    }
}

impl MediaSink for TimingSink {
    fn check(
        &self,
        track: TrackKind,
        init: bool,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        let parse = |source| SinkError::Parse { track, rendition, source };
        if init {
            InitSegment::parse(data).map_err(parse)?;
            return Ok(());
        }
        let init = self
            .tracks
            .get(&track)
            .and_then(|t| t.inits.get(&rendition))
            .ok_or(SinkError::NoInit { track, rendition })?;
        let frag = Fragment::parse(data, init).map_err(parse)?;
        run_of(&frag, init, track).ok_or(SinkError::Empty { track, rendition })?;
        Ok(())
    }

    fn append_init(
        &mut self,
        _now: Instant,
        track: TrackKind,
        rendition: usize,
        data: &[u8],
    ) -> Result<(), SinkError> {
        let init = InitSegment::parse(data).map_err(|source| SinkError::Parse {
            track,
            rendition,
            source,
        })?;
        self.tracks.entry(track).or_default().inits.insert(rendition, init);
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
        self.reanchor(now);
        let anchor = self.anchor_s;
        let cfg = self.config;
        let buf = self.tracks.entry(track).or_default();
        let init = buf.inits.get(&rendition).ok_or(SinkError::NoInit { track, rendition })?;
        let frag = Fragment::parse(data, init).map_err(|source| SinkError::Parse {
            track,
            rendition,
            source,
        })?;
        let run = run_of(&frag, init, track).ok_or(SinkError::Empty { track, rendition })?;
        let (start, dur) = (run.start_s(), run.duration_s());
        let offset = match timing {
            // Timestamps restart (a period, a discontinuity): the manifest says where
            // this segment goes, and what follows keeps the offset.
            Some(t) if t.new_timeline && t.start_s.is_finite() => {
                *buf.offset.insert(t.start_s - start)
            }
            _ => *buf.offset.get_or_insert_with(|| {
                if (start - anchor).abs() > cfg.rebase_beyond_s { anchor - start } else { 0.0 }
            }),
        };
        buf.add(start + offset, start + offset + dur, 1e-3);
        buf.segments += 1;
        buf.media_s += dur;
        tracing::trace!(?track, rendition, ?segment, start, offset, dur, "appended");
        self.evict();
        Ok(())
    }

    fn play(&mut self, now: Instant) {
        self.reanchor(now);
        // Start where every track has media when the playhead sits in a small hole
        // before it (audio priming, a seek target between two segments).
        let hole = self.config.max_hole_s.max(0.0);
        let starts: Vec<f64> = self
            .tracks
            .values()
            .filter_map(|t| t.ranges.iter().find(|(_, e)| *e > self.anchor_s).map(|r| r.0))
            .collect();
        if let Some(latest) = starts.iter().copied().reduce(f64::max)
            && latest > self.anchor_s
            && latest - self.anchor_s <= hole.max(0.5)
        {
            self.anchor_s = latest;
        }
        self.clock = Clock::Running { since: now };
    }

    fn pause(&mut self, now: Instant) {
        self.reanchor(now);
        self.clock = Clock::Stopped;
    }

    fn stall(&mut self, now: Instant) {
        self.pause(now);
    }

    fn seek(&mut self, _now: Instant, position_s: f64) {
        for t in self.tracks.values_mut() {
            t.ranges.clear();
        }
        if position_s.is_finite() {
            self.anchor_s = position_s.max(0.0);
        }
        self.clock = Clock::Stopped;
    }

    fn position_s(&mut self, now: Instant) -> Option<f64> {
        let has_media = self.tracks.values().any(|t| !t.ranges.is_empty());
        has_media.then(|| self.current(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    fn fixture(rel: &str) -> Vec<u8> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf").join(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn a_new_media_timeline_is_placed_where_the_manifest_says() {
        // The same four 1 s segments twice, timestamps restarting (a second period,
        // an HLS discontinuity): the second pass follows the first.
        let t0 = Instant::now();
        let mut sink = TimingSink::default();
        sink.append_init(t0, TrackKind::Video, 0, &fixture("video/v0/init.mp4")).unwrap();
        for pass in 0..2u64 {
            for i in 0..4 {
                let v = fixture(&format!("video/v0/seg_{i}.m4s"));
                let start = (pass * 4 + i as u64) as f64;
                let timing = MediaTiming::new(start, 1.0, pass, pass == 1 && i == 0);
                sink.append_media(t0, TrackKind::Video, 0, Some(i), Some(timing), &v).unwrap();
            }
        }
        assert_eq!(sink.buffered(TrackKind::Video), vec![(0.0, 8.0)]);
        assert_eq!(sink.offset_s(TrackKind::Video), Some(4.0));
        // Back to the first timeline (a seek back across the boundary).
        sink.seek(t0, 0.0);
        let v = fixture("video/v0/seg_0.m4s");
        let timing = MediaTiming::new(0.0, 1.0, 0, true);
        sink.append_media(t0, TrackKind::Video, 0, Some(0), Some(timing), &v).unwrap();
        assert_eq!(sink.buffered(TrackKind::Video), vec![(0.0, 1.0)]);
    }

    #[test]
    fn accounts_real_segment_timing_per_track() {
        let t0 = Instant::now();
        let mut sink = TimingSink::default();
        sink.append_init(t0, TrackKind::Video, 1, &fixture("video/v1/init.mp4")).unwrap();
        sink.append_init(t0, TrackKind::Audio, 0, &fixture("audio/a0/init.mp4")).unwrap();
        for i in 0..4 {
            let v = fixture(&format!("video/v1/seg_{i}.m4s"));
            sink.check(TrackKind::Video, false, 1, &v).unwrap();
            sink.append_media(t0, TrackKind::Video, 1, Some(i), None, &v).unwrap();
            let a = fixture(&format!("audio/a0/seg_{i}.m4s"));
            sink.append_media(t0, TrackKind::Audio, 0, Some(i), None, &a).unwrap();
        }
        assert_eq!(sink.buffered(TrackKind::Video), vec![(0.0, 4.0)]);
        // AAC: 3 × 48128 + 46576 ticks at 48 kHz (see the fixture's README).
        let audio = sink.buffered(TrackKind::Audio);
        assert_eq!(audio.len(), 1);
        assert!((audio[0].1 - (3.0 * 48128.0 + 46576.0) / 48000.0).abs() < 1e-9, "{audio:?}");
        assert_eq!(sink.segments_appended(TrackKind::Video), 4);
        // The clock stops where the shorter track (audio) runs dry.
        sink.play(t0);
        let later = t0 + Duration::from_secs(10);
        assert!((sink.position_s(later).unwrap() - audio[0].1).abs() < 1e-9);
    }

    #[test]
    fn clock_runs_in_real_time_and_stops_at_a_hole() {
        let t0 = Instant::now();
        let mut sink = TimingSink::default();
        sink.append_init(t0, TrackKind::Video, 0, &fixture("video/v0/init.mp4")).unwrap();
        for i in [0, 2] {
            let v = fixture(&format!("video/v0/seg_{i}.m4s"));
            sink.append_media(t0, TrackKind::Video, 0, Some(i), None, &v).unwrap();
        }
        assert_eq!(sink.buffered(TrackKind::Video), vec![(0.0, 1.0), (2.0, 3.0)]);
        sink.play(t0);
        let p = sink.position_s(t0 + Duration::from_millis(500)).unwrap();
        assert!((p - 0.5).abs() < 1e-6, "{p}");
        let p = sink.position_s(t0 + Duration::from_secs(5)).unwrap();
        assert!((p - 1.0).abs() < 1e-9, "stops at the hole: {p}");
        sink.pause(t0 + Duration::from_secs(5));
        assert_eq!(sink.position_s(t0 + Duration::from_secs(9)), Some(1.0));
    }

    #[test]
    fn holes_up_to_max_hole_are_played_through() {
        let t0 = Instant::now();
        let mut sink = TimingSink::new(TimingSinkConfig { max_hole_s: 1.5, ..Default::default() });
        sink.append_init(t0, TrackKind::Video, 0, &fixture("video/v0/init.mp4")).unwrap();
        for i in [0, 2] {
            let v = fixture(&format!("video/v0/seg_{i}.m4s"));
            sink.append_media(t0, TrackKind::Video, 0, Some(i), None, &v).unwrap();
        }
        sink.play(t0);
        let p = sink.position_s(t0 + Duration::from_millis(1500)).unwrap();
        assert!((p - 1.5).abs() < 1e-6, "into the 1 s hole: {p}");
        let p = sink.position_s(t0 + Duration::from_secs(5)).unwrap();
        assert!((p - 3.0).abs() < 1e-9, "through the hole to the end: {p}");
    }

    #[test]
    fn bad_segments_are_typed_errors() {
        let t0 = Instant::now();
        let mut sink = TimingSink::default();
        let seg = fixture("video/v0/seg_0.m4s");
        assert!(matches!(
            sink.check(TrackKind::Video, false, 0, &seg),
            Err(SinkError::NoInit { rendition: 0, .. })
        ));
        assert!(matches!(
            sink.append_init(t0, TrackKind::Video, 0, &seg[..40]),
            Err(SinkError::Parse { .. })
        ));
        sink.append_init(t0, TrackKind::Video, 0, &fixture("video/v0/init.mp4")).unwrap();
        let err = sink.append_media(t0, TrackKind::Video, 0, Some(0), None, &seg[..seg.len() / 3]);
        assert!(matches!(err, Err(SinkError::Parse { .. })), "{err:?}");
        assert!(sink.buffered(TrackKind::Video).is_empty());
    }
}
