//! On-demand DASH end to end: the origin's `/vod/ondemand.mpd` (one file per
//! rendition: init, `sidx`, media segments; `SegmentBase@indexRange` +
//! `Initialization@range`) played by the native player over loopback and by the
//! simulator's `streamsteer` model, on the ffmpeg-made e2e ladder.
//!
//! What is checked is what reached the player, against the ffmpeg output on disk:
//! every init and media segment appended is byte for byte the file the ladder's
//! `content.json` names for that rung and number, every request is a byte range of
//! a rendition's single file, and a fast link plays it all without a stall.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use streamsteer::session::{MediaTiming, TrackKind};
use streamsteer_net::{MediaSink, Player, PlayerConfig, SinkError, TimingSink};
use streamsteer_origin::content::ContentInfo;
use streamsteer_origin::sim_model::{LinkModel, SimContent};
use streamsteer_origin::store::ContentStore;
use streamsteer_origin::{Origin, OriginConfig};
use streamsteer_sim::engine::ConfiguredEngine;
use streamsteer_tests::{e2e_content, simulate_on_a_fast_link};
use tokio::time::{Instant, timeout};

/// Bound on the native test: 40 s of media played in real time, plus startup.
const LIMIT: Duration = Duration::from_secs(120);

/// What was appended: `(track, init, rung, segment)` → the bytes.
type Appended = Arc<Mutex<BTreeMap<(TrackKind, bool, usize, Option<usize>), Vec<u8>>>>;

/// A [`TimingSink`] that keeps a copy of everything appended.
struct KeepingSink {
    inner: TimingSink,
    appended: Appended,
}

impl MediaSink for KeepingSink {
    fn check(&self, t: TrackKind, init: bool, r: usize, d: &[u8]) -> Result<(), SinkError> {
        self.inner.check(t, init, r, d)
    }

    fn append_init(
        &mut self,
        now: Instant,
        t: TrackKind,
        r: usize,
        d: &[u8],
    ) -> Result<(), SinkError> {
        self.appended.lock().unwrap().insert((t, true, r, None), d.to_vec());
        self.inner.append_init(now, t, r, d)
    }

    fn append_media(
        &mut self,
        now: Instant,
        t: TrackKind,
        r: usize,
        s: Option<usize>,
        timing: Option<MediaTiming>,
        d: &[u8],
    ) -> Result<(), SinkError> {
        self.appended.lock().unwrap().insert((t, false, r, s), d.to_vec());
        self.inner.append_media(now, t, r, s, timing, d)
    }

    fn play(&mut self, now: Instant) {
        self.inner.play(now)
    }

    fn pause(&mut self, now: Instant) {
        self.inner.pause(now)
    }

    fn stall(&mut self, now: Instant) {
        self.inner.stall(now)
    }

    fn seek(&mut self, now: Instant, position_s: f64) {
        self.inner.seek(now, position_s)
    }

    fn position_s(&mut self, now: Instant) -> Option<f64> {
        self.inner.position_s(now)
    }
}

/// The ffmpeg output a `(track, init, rung, segment)` append must equal: rungs are
/// the ladder's video renditions in ascending bitrate (`content.json` order), and
/// the audio rendition.
fn expected(
    dir: &Path,
    info: &ContentInfo,
    key: (TrackKind, bool, usize, Option<usize>),
) -> Vec<u8> {
    let (track, init, rung, segment) = key;
    let (init_path, segments) = match track {
        TrackKind::Video => (&info.video[rung].init, &info.video[rung].segments),
        TrackKind::Audio => (&info.audio.init, &info.audio.segments),
        other => panic!("no {other:?} track in the content"),
    };
    let rel = if init { init_path.clone() } else { segments[segment.unwrap()].path.clone() };
    std::fs::read(dir.join(rel)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_player_plays_on_demand_dash_by_byte_ranges() {
    timeout(LIMIT, async {
        let dir = e2e_content();
        let info = ContentInfo::load(&dir).unwrap();
        // Two unshaped loopback pathways with content steering (the origin's default).
        let origin = Origin::start(dir.clone(), OriginConfig::default()).await.unwrap();
        let appended: Appended = Arc::default();
        let sink = KeepingSink { inner: TimingSink::default(), appended: Arc::clone(&appended) };
        let url = origin.dash_on_demand_url();
        assert!(url.ends_with("/vod/ondemand.mpd"), "{url}");
        let mut player = Player::load_with_sink(&url, PlayerConfig::default(), sink).await.unwrap();
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.error.is_none(), "{outcome:?}");
        assert_eq!(outcome.state, streamsteer::session::PlayerState::Ended);
        assert_eq!(outcome.report.rebuffer_count, 0, "fast loopback link: no stall");

        // Every video and audio segment, in some rung, byte for byte ffmpeg's file.
        let appended = appended.lock().unwrap().clone();
        for track in [TrackKind::Video, TrackKind::Audio] {
            let played: Vec<usize> = appended
                .keys()
                .filter(|k| k.0 == track && !k.1)
                .filter_map(|k| k.3)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let count = match track {
                TrackKind::Video => info.segment_count,
                TrackKind::Audio => info.audio.segments.len(),
                other => panic!("no {other:?} track in the content"),
            };
            assert_eq!(played, (0..count).collect::<Vec<_>>(), "{track:?}");
        }
        for (key, data) in &appended {
            assert!(*data == expected(&dir, &info, *key), "{key:?}: not the ffmpeg file");
        }

        // Requests: the MPD, then only ranges of the single files — no segment URLs.
        let log = origin.requests();
        let files: Vec<_> = log.iter().filter(|l| l.path.ends_with("/ondemand.mp4")).collect();
        assert!(log.iter().any(|l| l.path == "/vod/ondemand.mpd"));
        assert!(
            !log.iter().any(|l| l.path.ends_with(".m4s") || l.path.ends_with("/init.mp4")),
            "a segment was requested by its own URL"
        );
        // Each rendition's first request is its index; every other one is its init
        // or one of its media segments, as the file is laid out.
        let store = ContentStore::open(&dir).unwrap();
        let range =
            |(offset, length): (u64, u64)| format!("bytes={offset}-{}", offset + length - 1);
        let mut seen = std::collections::BTreeSet::new();
        for l in &files {
            let rid = l.path.split('/').nth(2).unwrap();
            let file = &store.on_demand[rid];
            let asked = l.range.clone().unwrap_or_else(|| panic!("{}: not a range", l.path));
            if seen.insert(rid) {
                assert_eq!(asked, range(file.index), "{rid}: the index first");
                continue;
            }
            let known = std::iter::once(range((0, file.init_len)))
                .chain(file.segments.iter().map(|s| range(*s)))
                .any(|r| r == asked);
            assert!(known, "{rid}: {asked} is not the init or a segment");
        }
        assert!(seen.contains(info.audio.id.as_str()) && seen.len() >= 2, "{seen:?}");
        origin.shutdown().await;
    })
    .await
    .expect("the on-demand session ends in time");
}

#[test]
fn simulate_streamsteer_plays_on_demand_dash() {
    let dir = e2e_content();
    let info = ContentInfo::load(&dir).unwrap();
    let sim = SimContent::load(&dir).unwrap();
    let engine = ConfiguredEngine(sim.on_demand_engine_config(LinkModel::default()).unwrap());
    let outcome = &simulate_on_a_fast_link(&sim.ladder, &engine);
    assert_eq!(outcome.report.rebuffer_count, 0);
    assert_eq!(outcome.segments.len(), info.segment_count);
    // Each segment's size is the real one, which only the sidx the model fetched
    // could have told the session (the MPD lists no sizes); a segment that starts a
    // rung carries its init segment too (Initialization@range: the init file).
    let mut previous = None;
    for s in &outcome.segments {
        let v = &info.video[s.rendition];
        let mut bytes = v.segments[s.index].bytes;
        if previous != Some(s.rendition) {
            bytes += std::fs::metadata(dir.join(&v.init)).unwrap().len();
        }
        previous = Some(s.rendition);
        assert_eq!(s.size_bits, bytes as f64 * 8.0, "segment {} of rung {}", s.index, s.rendition);
    }
}
