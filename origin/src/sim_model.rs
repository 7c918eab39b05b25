//! A content folder as the simulator sees it, so that `streamsteer simulate` replays
//! the same presentation the origin serves: the video ladder with the real segment
//! sizes and the bitrates the manifests advertise, and the extra bytes a player
//! fetches beside the video (the audio rendition, init segments), which the
//! `streamsteer` model charges to the same link.

use std::path::{Path, PathBuf};

use streamsteer::Ladder;
use streamsteer::manifest::{ByteRange, parse_dash};
use streamsteer::uri::Url;
use streamsteer_sim::engine::{
    EngineConfig, LiveModel, PathwayLink, ServedBody, ServedPresentation,
};

use crate::content::{CONTENT_JSON, ContentError, ContentInfo};
use crate::error::OriginError;
use crate::manifests::{PathwayBase, Site};
use crate::on_demand;
use crate::paths;
use crate::store::ContentStore;

/// The simulator's inputs made from one content folder.
#[derive(Debug, Clone, PartialEq)]
pub struct SimContent {
    /// The folder the content lives in.
    pub dir: PathBuf,
    /// Video rungs at the bitrates the DASH MPD advertises (`@bandwidth`, the peak
    /// segment rate: what the player's ABR compares throughput with), with every
    /// segment's real size.
    pub ladder: Ladder,
    /// Mean rate of the audio rendition over the whole content, kbit/s (the model
    /// gives every audio segment this rate; real AAC segments differ by a few bytes).
    pub audio_kbps: f64,
    /// Mean size of the init segments, video and audio, bytes (the model has one
    /// size for all; real ones differ by tens of bytes).
    pub init_bytes: u64,
}

/// How the `streamsteer` model's link should look to match a pathway of the origin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkModel {
    /// Time to first byte of every request, seconds: the pathway's `latency_ms`
    /// (loopback adds well under a millisecond).
    pub rtt_s: f64,
    /// Share of the trace's rate that carries payload. The origin paces response
    /// bodies at the trace's rate, so 1.0 replays it; the model's own default (0.95)
    /// models TCP/IP overhead on a real network.
    pub payload_fraction: f64,
}

impl Default for LinkModel {
    /// The origin's default pathway: no added latency, bodies at the trace's rate.
    fn default() -> Self {
        LinkModel { rtt_s: 0.0, payload_fraction: 1.0 }
    }
}

/// True when `path` is a content folder (holding `content.json`) or a
/// `content.json` file.
pub fn is_content(path: &Path) -> bool {
    if path.is_dir() {
        path.join(CONTENT_JSON).is_file()
    } else {
        path.file_name().is_some_and(|n| n == CONTENT_JSON) && path.is_file()
    }
}

impl SimContent {
    /// Reads a content folder, or the folder of a `content.json` file, and checks its
    /// files against the description.
    pub fn load(path: &Path) -> Result<SimContent, ContentError> {
        let dir = if path.is_dir() {
            path.to_path_buf()
        } else {
            path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let info = ContentInfo::load(&dir)?;
        info.validate(&dir)?;
        Self::from_info(&dir, &info)
    }

    /// The simulator's inputs for `info`, whose files are in `dir`.
    pub fn from_info(dir: &Path, info: &ContentInfo) -> Result<SimContent, ContentError> {
        let invalid = |reason: String| ContentError::Invalid { dir: dir.to_path_buf(), reason };
        let bitrates: Vec<f64> =
            info.video.iter().map(|v| v.bandwidth_bps as f64 / 1000.0).collect();
        let sizes: Vec<Vec<f64>> = (0..info.segment_count)
            .map(|n| {
                info.video
                    .iter()
                    .map(|v| v.segments.get(n).map_or(0.0, |s| s.bytes as f64 * 8.0))
                    .collect()
            })
            .collect();
        let ladder = Ladder::new(bitrates, info.segment_duration_s, sizes)
            .map_err(|e| invalid(format!("not a simulator ladder: {e}")))?;
        let audio_bytes: u64 = info.audio.segments.iter().map(|s| s.bytes).sum();
        let audio_s: f64 = info.audio.segments.iter().map(|s| s.duration_s).sum();
        if !audio_s.is_finite() || audio_s <= 0.0 {
            return Err(invalid("the audio rendition has no duration".into()));
        }
        let audio_kbps = audio_bytes as f64 * 8.0 / audio_s / 1000.0;
        let mut init_total = 0u64;
        let inits: Vec<&str> = info
            .video
            .iter()
            .map(|v| v.init.as_str())
            .chain(std::iter::once(info.audio.init.as_str()))
            .collect();
        for init in &inits {
            let path = dir.join(init);
            init_total += std::fs::metadata(&path).map_err(|e| ContentError::io(&path, e))?.len();
        }
        let init_bytes = init_total / inits.len().max(1) as u64;
        Ok(SimContent { dir: dir.to_path_buf(), ladder, audio_kbps, init_bytes })
    }

    /// The `streamsteer` model's settings for this content on one pathway shaped
    /// like `link`.
    pub fn engine_config(&self, link: LinkModel) -> EngineConfig {
        let mut pathway = PathwayLink::new("origin");
        pathway.rtt_s = link.rtt_s;
        pathway.payload_fraction = link.payload_fraction;
        EngineConfig {
            pathways: vec![pathway],
            audio_kbps: Some(self.audio_kbps),
            init_bytes: self.init_bytes,
            // The origin's MPD and playlists list segments without their sizes.
            sizes_in_manifest: false,
            // The native player reports a running fetch every 100 ms (its
            // `progress_interval_s` default); abandonment sees what it sees.
            progress_interval_s: 0.1,
            ..EngineConfig::default()
        }
    }
}

/// The host the on-demand MPD is served from in the model (nothing is fetched: the
/// model answers from the files).
const MODEL_BASE: &str = "http://origin.example";

/// The model's one pathway, at [`MODEL_BASE`].
fn model_site() -> Site {
    Site {
        pathways: vec![PathwayBase { name: "origin".into(), base_url: MODEL_BASE.into() }],
        steering_base: MODEL_BASE.into(),
        query_before_start: false,
        proxy_server_url: None,
    }
}

impl SimContent {
    /// The `streamsteer` model's settings to play this content as the origin serves
    /// it on demand: its on-demand MPD (`SegmentBase` + `sidx`, see
    /// [`crate::on_demand`]) parsed as a player would, each rendition's segment index
    /// answered with the bytes of its file, and every segment fetched with its real
    /// size (the byte range the index gives).
    pub fn on_demand_engine_config(&self, link: LinkModel) -> Result<EngineConfig, OriginError> {
        let store = ContentStore::open(&self.dir)?;
        let site = model_site();
        let text = on_demand::mpd(&store.info, &site, &store.timescales(), &store.on_demand);
        let invalid = |what: String| OriginError::Invalid(format!("on-demand MPD: {what}"));
        let url = Url::parse(&format!("{MODEL_BASE}{}", paths::on_demand_mpd()))
            .map_err(|e| invalid(e.to_string()))?;
        let presentation = parse_dash(&text, &url).map_err(|e| invalid(e.to_string()))?;
        let mut bodies = Vec::new();
        for (rid, file) in &store.on_demand {
            let url = Url::parse(&format!("{MODEL_BASE}{}", paths::on_demand_file(rid)))
                .map_err(|e| invalid(e.to_string()))?;
            let (offset, length) = file.index;
            let data = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(offset + length).ok())
                .and_then(|(a, b)| file.data.get(a..b))
                .ok_or_else(|| invalid(format!("the index of {rid} is outside its file")))?;
            bodies.push(ServedBody {
                url,
                range: Some(ByteRange { offset, length }),
                data: data.to_vec(),
            });
        }
        // One pathway, `origin`, as the MPD's only BaseURL names it.
        let mut config = self.engine_config(link);
        // The real audio rendition and init segments are in the presentation.
        config.audio_kbps = None;
        config.init_bytes = 0;
        config.sizes_in_manifest = true;
        config.presentation = Some(ServedPresentation { presentation, bodies });
        Ok(config)
    }

    /// The `streamsteer` model's settings to play this content as the origin's
    /// two-period VOD (`/vod/periods.mpd`, see [`crate::manifests::dash_periods`]): the
    /// content twice, its media timestamps restarting in the second period, whose
    /// ladder lacks the top rung. The MPD lists no sizes: each segment is sent at its
    /// nominal size (bitrate × duration), as the session expects it.
    pub fn periods_engine_config(&self, link: LinkModel) -> Result<EngineConfig, OriginError> {
        let store = ContentStore::open(&self.dir)?;
        let text = crate::manifests::dash_periods(&store.info, &model_site(), &store.timescales());
        let invalid = |what: String| OriginError::Invalid(format!("two-period MPD: {what}"));
        let url = Url::parse(&format!("{MODEL_BASE}{}", paths::periods_mpd()))
            .map_err(|e| invalid(e.to_string()))?;
        let presentation = parse_dash(&text, &url).map_err(|e| invalid(e.to_string()))?;
        let mut config = self.engine_config(link);
        config.audio_kbps = None;
        config.init_bytes = 0;
        config.presentation = Some(ServedPresentation { presentation, bodies: Vec::new() });
        Ok(config)
    }

    /// The `streamsteer` model's settings for this content played as the origin's
    /// live DASH template stream (`/live/template.mpd`: `SegmentTemplate@duration`,
    /// `$Number$`, `UTCTiming` on the origin's clock) on a virtual wall clock, placed
    /// by `live`, on one pathway shaped like `link`.
    pub fn live_engine_config(&self, link: LinkModel, live: LiveModel) -> EngineConfig {
        EngineConfig { live: Some(live), ..self.engine_config(link) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cmaf")
    }

    #[test]
    fn the_committed_fixture_becomes_a_ladder_with_its_real_sizes() {
        let dir = fixture();
        assert!(is_content(&dir) && is_content(&dir.join(CONTENT_JSON)));
        assert!(!is_content(&dir.join("video")));
        let info = ContentInfo::load(&dir).unwrap();
        let sim = SimContent::load(&dir.join(CONTENT_JSON)).unwrap();
        assert_eq!(sim.ladder.len(), info.video.len());
        assert_eq!(sim.ladder.segment_count(), info.segment_count);
        for (r, v) in info.video.iter().enumerate() {
            assert_eq!(sim.ladder.bitrates_kbps()[r], v.bandwidth_bps as f64 / 1000.0);
            for (n, s) in v.segments.iter().enumerate() {
                assert_eq!(sim.ladder.segment_size_bits(n, r), s.bytes as f64 * 8.0);
            }
        }
        let audio_bits: u64 = info.audio.segments.iter().map(|s| s.bytes * 8).sum();
        let expected = audio_bits as f64 / 1000.0 / info.duration_s;
        assert!((sim.audio_kbps - expected).abs() / expected < 0.05, "{}", sim.audio_kbps);
        let init = std::fs::metadata(dir.join(&info.video[0].init)).unwrap().len();
        assert!(sim.init_bytes.abs_diff(init) < init, "{} vs {init}", sim.init_bytes);
        let engine = sim.engine_config(LinkModel { rtt_s: 0.04, payload_fraction: 1.0 });
        assert_eq!(engine.pathways[0].rtt_s, 0.04);
        assert_eq!(engine.audio_kbps, Some(sim.audio_kbps));
    }

    #[test]
    fn the_fixture_plays_live_on_a_virtual_wall_clock() {
        use streamsteer_sim::engine::run_engine;
        use streamsteer_sim::model::SimConfig;
        let sim = SimContent::load(&fixture()).unwrap();
        let seg_s = sim.ladder.segment_duration_s();
        // One segment out when the player starts, its clock 3 s fast (three segments
        // that do not exist yet), the origin's clock as UTCTiming.
        let live = LiveModel {
            running_for_s: seg_s * 1.5,
            player_clock_error_s: 3.0,
            suggested_presentation_delay_s: Some(seg_s),
            ..LiveModel::default()
        };
        let engine =
            sim.live_engine_config(LinkModel { rtt_s: 0.02, payload_fraction: 1.0 }, live.clone());
        let trace = streamsteer_sim::trace::Trace::parse("5 Mbit/s", "0 5\n1000 5\n").unwrap();
        let config = SimConfig::default();
        let mut rule = streamsteer::abr::build_rule("default", &config.abr, &sim.ladder).unwrap();
        let out = run_engine(&sim.ladder, &trace, rule.as_mut(), &config, &engine).unwrap();
        assert_eq!(out.metrics["too_early_requests"], 0.0);
        // Joined at the first segment (the only one out), played all to the end.
        assert_eq!(out.segments.len(), sim.ladder.segment_count());
        assert_eq!(out.report.rebuffer_count, 0, "{:?}", out.report);
        // Live: the last segment exists only `count` segment durations after the
        // stream began, so the session cannot end sooner.
        let last_exists = sim.ladder.segment_count() as f64 * seg_s - live.running_for_s;
        assert!(out.metrics["session_s"] >= last_exists, "{:?}", out.metrics);
    }
}
