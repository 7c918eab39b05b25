//! Multi-period DASH and HLS discontinuities end to end: the origin's
//! `/vod/periods.mpd` (the content twice as two Periods, media timestamps restarting
//! in the second, whose ladder lacks the top rung) and `/vod/discontinuity.m3u8` (the
//! same with `EXT-X-DISCONTINUITY`), played by the native player over loopback and by
//! the simulator's `streamsteer` model, on the committed 4 s ladder.
//!
//! The sink places each segment by its media timestamps (`tfdt`), as a decoder or MSE
//! does: without the session's word that the second half starts a new media timeline
//! it would land on top of the first half, and the clock would stop at its end.

mod common;

use common::{Appended, RecordingSink, fixture_dir, quick_config};
use std::time::Duration;
use streamsteer::session::{PlayerState, TrackKind};
use streamsteer_net::Player;
use streamsteer_origin::content::ContentInfo;
use streamsteer_origin::manifests::content_span;
use streamsteer_origin::sim_model::{LinkModel, SimContent};
use streamsteer_origin::{Origin, OriginConfig, RequestKind};
use streamsteer_sim::engine::ConfiguredEngine;
use streamsteer_tests::simulate_on_a_fast_link;
use tokio::time::timeout;

/// Bound on each native test: 8 s of media played in real time, plus startup.
const LIMIT: Duration = Duration::from_secs(60);

/// Plays `url` from a fresh origin on the fixture; returns what was appended, the
/// origin's media requests (paths, in order) and the content.
async fn play(
    url_of: fn(&streamsteer_origin::OriginHandle) -> String,
) -> (Vec<Appended>, Vec<String>, ContentInfo) {
    let dir = fixture_dir();
    let info = ContentInfo::load(&dir).unwrap();
    let origin = Origin::start(dir, OriginConfig::default()).await.unwrap();
    let (sink, appended) = RecordingSink::new();
    let mut player = Player::load_with_sink(&url_of(&origin), quick_config(), sink).await.unwrap();
    let outcome = player.wait_until_done().await.unwrap();
    assert!(outcome.error.is_none(), "{outcome:?}");
    assert_eq!(outcome.state, PlayerState::Ended);
    assert_eq!(outcome.report.rebuffer_count, 0, "fast loopback link: no stall");
    let media = origin
        .requests()
        .into_iter()
        .filter(|l| l.kind == Some(RequestKind::Media))
        .map(|l| l.path)
        .collect();
    origin.shutdown().await;
    let appended = appended.lock().unwrap().clone();
    (appended, media, info)
}

/// Each track appended every segment of both halves in order, the second half placed
/// at the content's duration by a new media timeline that starts there and only there.
fn check_two_halves(appended: &[Appended], info: &ContentInfo) {
    let (_, d) = content_span(info);
    for (track, n) in
        [(TrackKind::Video, info.segment_count), (TrackKind::Audio, info.audio.segments.len())]
    {
        let mine: Vec<&Appended> = appended.iter().filter(|a| a.track == track).collect();
        let segments: Vec<usize> = mine.iter().filter_map(|a| a.segment).collect();
        assert_eq!(segments, (0..2 * n).collect::<Vec<_>>(), "{track:?}");
        for (i, a) in mine.iter().enumerate() {
            let t = a.timing.unwrap();
            assert_eq!(t.new_timeline, i == n, "{track:?} segment {i}: {t:?}");
            assert_eq!(t.media_timeline, u64::from(i >= n), "{track:?} segment {i}");
        }
        let second = mine[n].timing.unwrap().start_s;
        assert!(
            (second - d).abs() < 0.05,
            "{track:?}: the second half starts at {second}, not {d}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_player_plays_two_periods_without_a_stall() {
    timeout(LIMIT, async {
        let (appended, media, info) = play(|o| o.dash_periods_url()).await;
        check_two_halves(&appended, &info);
        // The second period lacks the top rung: its video comes from the others.
        let top = info.video.iter().max_by_key(|v| v.bandwidth_bps).unwrap();
        let video: Vec<&String> = media
            .iter()
            .filter(|p| info.video.iter().any(|v| p.contains(&format!("/{}/", v.id))))
            .collect();
        assert_eq!(video.len(), 2 * info.segment_count, "{video:?}");
        let in_second = &video[info.segment_count..];
        assert!(
            !in_second.iter().any(|p| p.contains(&format!("/{}/", top.id))),
            "{} requested in the second period: {in_second:?}",
            top.id
        );
    })
    .await
    .expect("the two-period session ends in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_player_plays_across_an_hls_discontinuity_without_a_stall() {
    timeout(LIMIT, async {
        let (appended, _, info) = play(|o| o.hls_discontinuity_url()).await;
        check_two_halves(&appended, &info);
    })
    .await
    .expect("the session with a discontinuity ends in time");
}

#[test]
fn simulate_streamsteer_plays_two_periods_without_a_stall() {
    let dir = fixture_dir();
    let info = ContentInfo::load(&dir).unwrap();
    let sim = SimContent::load(&dir).unwrap();
    let engine = ConfiguredEngine(sim.periods_engine_config(LinkModel::default()).unwrap());
    let outcome = simulate_on_a_fast_link(&sim.ladder, &engine);
    assert_eq!(outcome.report.rebuffer_count, 0);
    let indices: Vec<usize> = outcome.segments.iter().map(|s| s.index).collect();
    assert_eq!(indices, (0..2 * info.segment_count).collect::<Vec<_>>());
}
