//! What the driver knows that CMCD reports: the session's state, the ladder's top
//! bitrate, each segment's duration and the next segment's path.

use crate::config::{CmcdConfig, CmcdMode};
use crate::retry::SplitMix;
use std::collections::HashMap;
use streamsteer::cmcd::{CmcdContext, StreamType, StreamingFormat, request_data};
use streamsteer::manifest::{ManifestKind, MediaType, Presentation, PresentationType};
use streamsteer::session::{FetchRequest, PlayerState, TrackKind};
use streamsteer::time::Instant;
use streamsteer::uri::Url;

/// A segment's duration and the path of the one after it.
#[derive(Debug, Clone)]
struct SegmentInfo {
    duration_s: f64,
    next_path: Option<String>,
}

/// The player's CMCD bookkeeping.
#[derive(Debug)]
pub(crate) struct CmcdState {
    config: CmcdConfig,
    session_id: String,
    presentation: Presentation,
    /// Segment info by URL path (host and query left out, so that the same segment on
    /// another pathway is found too).
    segments: HashMap<String, SegmentInfo>,
    /// Bitrate of each rung the session chose, kbit/s, from its decisions.
    rung_kbps: HashMap<(TrackKind, usize), f64>,
    starved: bool,
}

/// The state of the session a request is made in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub now: Instant,
    pub state: PlayerState,
    pub buffer_level_s: f64,
    pub throughput_kbps: Option<f64>,
}

/// `to` relative to the directory of `from` when they share it, else its absolute path.
fn relative(from: &str, to: &str) -> String {
    let dir = from.rfind('/').map_or("", |i| &from[..=i]);
    match to.strip_prefix(dir) {
        Some(rest) if !dir.is_empty() && !rest.is_empty() => rest.to_string(),
        _ => to.to_string(),
    }
}

/// The URL and headers of the player's first request (the manifest, before any
/// presentation exists): session keys and `ot=m`, `su`.
pub(crate) fn decorate_first(
    config: &CmcdConfig,
    seed: u64,
    req: &FetchRequest,
) -> (Url, Vec<(&'static str, String)>) {
    let ctx = CmcdContext {
        session_id: Some(
            config.session_id.clone().unwrap_or_else(|| derived_session_id(seed, &req.url)),
        ),
        content_id: config.content_id.clone(),
        urgent: true,
        ..CmcdContext::default()
    };
    let data = request_data(req, &ctx);
    match config.mode {
        CmcdMode::Off => (req.url.clone(), Vec::new()),
        CmcdMode::Query => (data.append_to_url(&req.url), Vec::new()),
        CmcdMode::Headers => (req.url.clone(), data.to_headers()),
    }
}

/// A UUID-shaped session id, stable for a seed and a manifest URL.
pub(crate) fn derived_session_id(seed: u64, url: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in url.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = SplitMix::new(seed ^ h);
    let (a, b) = (rng.next_u64(), rng.next_u64());
    // RFC 9562 layout: version 4, variant 10.
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

impl CmcdState {
    /// The state for a session on `presentation`, loaded from `url`. Without CMCD it
    /// keeps only the presentation's outline, not a second copy of every segment.
    pub(crate) fn new(
        config: CmcdConfig,
        seed: u64,
        url: &str,
        presentation: &Presentation,
    ) -> Self {
        let session_id = config.session_id.clone().unwrap_or_else(|| derived_session_id(seed, url));
        let presentation = if config.mode == CmcdMode::Off {
            Presentation {
                kind: presentation.kind,
                url: presentation.url.clone(),
                presentation_type: presentation.presentation_type,
                live: None,
                duration_s: presentation.duration_s,
                periods: Vec::new(),
                pathways: Vec::new(),
                steering: None,
                warnings: Vec::new(),
            }
        } else {
            presentation.clone()
        };
        let mut s = Self {
            config,
            session_id,
            presentation,
            segments: HashMap::new(),
            rung_kbps: HashMap::new(),
            starved: false,
        };
        s.index();
        s
    }

    pub(crate) fn enabled(&self) -> bool {
        self.config.mode != CmcdMode::Off
    }

    fn index(&mut self) {
        self.segments.clear();
        for period in &self.presentation.periods {
            for track in &period.tracks {
                for r in &track.renditions {
                    let Some(segs) = r.segments() else { continue };
                    let paths: Vec<Option<String>> = segs
                        .iter()
                        .map(|s| r.url_on(&s.uri, None).ok().map(|u| u.as_url().path().to_string()))
                        .collect();
                    for (i, s) in segs.iter().enumerate() {
                        let Some(path) = &paths[i] else { continue };
                        let next_path =
                            paths.get(i + 1).and_then(|n| n.as_deref()).map(|n| relative(path, n));
                        let info = SegmentInfo { duration_s: s.duration_s, next_path };
                        self.segments.insert(path.clone(), info);
                    }
                }
            }
        }
    }

    /// A media playlist the session loaded: learn its segments too.
    pub(crate) fn on_media_playlist(&mut self, playlist_url: &Url, text: &str, final_url: &Url) {
        if !self.enabled() {
            return;
        }
        let id = self
            .presentation
            .periods
            .iter()
            .flat_map(|p| &p.tracks)
            .flat_map(|t| &t.renditions)
            .find(|r| r.playlist_url.as_ref() == Some(playlist_url))
            .map(|r| r.id.clone());
        if let Some(id) = id {
            match self.presentation.apply_media_playlist(&id, text, final_url) {
                Ok(_) => self.index(),
                Err(e) => tracing::debug!(%e, "CMCD: media playlist not indexed"),
            }
        }
    }

    /// The session chose `rung` of `track` at this bitrate.
    pub(crate) fn on_decision(&mut self, track: TrackKind, rung: usize, kbps: f64) {
        self.rung_kbps.insert((track, rung), kbps);
    }

    /// The bitrate of a rung the session chose, kbit/s.
    pub(crate) fn rung_kbps(&self, track: TrackKind, rung: usize) -> Option<f64> {
        self.rung_kbps.get(&(track, rung)).copied()
    }

    /// The buffer ran dry: the next request says so (`bs`).
    pub(crate) fn on_stall(&mut self) {
        self.starved = true;
    }

    fn top_kbps(&self, track: TrackKind) -> Option<f64> {
        let media = match track {
            TrackKind::Video => self.presentation.main_track().map(|t| t.media_type),
            TrackKind::Audio => Some(MediaType::Audio),
        }?;
        self.presentation
            .periods
            .iter()
            .flat_map(|p| &p.tracks)
            .filter(|t| t.media_type == media && !t.trick_play)
            .flat_map(|t| &t.renditions)
            .filter_map(|r| r.bandwidth)
            .max()
            .map(|b| b as f64 / 1000.0)
    }

    /// The URL and headers to send `req` with.
    pub(crate) fn decorate(
        &mut self,
        req: &FetchRequest,
        snap: Snapshot,
    ) -> (Url, Vec<(&'static str, String)>) {
        let steering = req.kind == streamsteer::session::FetchKind::Steering;
        // A clock request reports nothing about playback; its RTT must stay short.
        let clock = matches!(req.kind, streamsteer::session::FetchKind::UtcTiming { .. });
        if !self.enabled() || clock || (steering && !self.config.on_steering) {
            return (req.url.clone(), Vec::new());
        }
        let seg = self.segments.get(req.url.as_url().path()).cloned();
        let ctx = CmcdContext {
            now: snap.now,
            session_id: Some(self.session_id.clone()),
            content_id: self.config.content_id.clone(),
            format: Some(match self.presentation.kind {
                ManifestKind::Hls => StreamingFormat::Hls,
                ManifestKind::Dash => StreamingFormat::Dash,
            }),
            stream_type: match self.presentation.presentation_type {
                PresentationType::Vod => Some(StreamType::Vod),
                PresentationType::Live => Some(StreamType::Live),
                PresentationType::Undetermined => None,
            },
            buffer_level_s: Some(snap.buffer_level_s),
            throughput_kbps: snap.throughput_kbps,
            bitrate_kbps: req
                .track
                .zip(req.rendition)
                .and_then(|k| self.rung_kbps.get(&k).copied())
                // HLS audio renditions carry no bandwidth: the session ranks them by
                // order, which is not a bitrate.
                .filter(|k| *k >= 1.0),
            top_bitrate_kbps: req.track.and_then(|t| self.top_kbps(t)),
            object_duration_s: seg.as_ref().map(|s| s.duration_s),
            next_object: seg.and_then(|s| s.next_path),
            next_range: None,
            urgent: matches!(
                snap.state,
                PlayerState::Loading | PlayerState::Buffering | PlayerState::Stalled
            ),
            starved: self.starved,
            playback_rate: if snap.state == PlayerState::Playing { 1.0 } else { 0.0 },
            requested_max_throughput_kbps: None,
        };
        let data = request_data(req, &ctx);
        if data.ot.is_some_and(|o| o.is_media()) {
            self.starved = false;
        }
        match self.config.mode {
            CmcdMode::Off => (req.url.clone(), Vec::new()),
            CmcdMode::Query => (data.append_to_url(&req.url), Vec::new()),
            CmcdMode::Headers => (req.url.clone(), data.to_headers()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_references() {
        assert_eq!(relative("/a/v1/seg_1.m4s", "/a/v1/seg_2.m4s"), "seg_2.m4s");
        assert_eq!(relative("/a/v1/seg_1.m4s", "/a/v2/seg_2.m4s"), "/a/v2/seg_2.m4s");
    }

    #[test]
    fn derived_session_ids_are_stable_uuids() {
        let a = derived_session_id(1, "http://x/m.m3u8");
        assert_eq!(a, derived_session_id(1, "http://x/m.m3u8"));
        assert_ne!(a, derived_session_id(2, "http://x/m.m3u8"));
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
    }
}
