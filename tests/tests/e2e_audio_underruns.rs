//! Audio underruns of the decoding sink (issue 11): on a fast loopback link, the
//! native player plays the origin's content through the [`DecodingSink`] (decoding
//! AAC into the headless audio output, the master clock) to the end, over HLS and
//! over DASH. Nothing starves, so the report must say 0 stalls and 0 audio
//! underruns: the end of the stream, the start and the joins between segments are
//! not underruns.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use streamsteer::qoe::QoeReport;
use streamsteer_media::video::Decoders;
use streamsteer_media::{DecodingSink, Pipeline, PipelineConfig, RenderMode, SystemClock};
use streamsteer_net::Player;
use streamsteer_origin::{Origin, OriginConfig};
use tokio::time::timeout;

mod common;

#[derive(Debug, Clone, Copy)]
enum Protocol {
    Hls,
    Dash,
}

/// Plays `content` to the end over `protocol` from an unshaped origin on loopback,
/// decoding through a pipeline that draws nothing (the audio clock and the video
/// timing are what count here).
async fn play_to_the_end(content: &Path, protocol: Protocol) -> QoeReport {
    let origin =
        Origin::start(content.to_path_buf(), OriginConfig::default()).await.expect("origin");
    let url = match protocol {
        Protocol::Hls => origin.hls_url(),
        Protocol::Dash => origin.dash_url(),
    };
    let config = PipelineConfig { render: RenderMode::None, ..PipelineConfig::default() };
    let pipeline =
        Pipeline::new(config, Decoders::default(), Arc::new(SystemClock::new())).expect("pipeline");
    let sink = DecodingSink::new(pipeline, Decoders::default());
    let mut player =
        Player::load_with_sink(&url, common::quick_config(), sink).await.expect("load");
    let outcome = timeout(Duration::from_secs(120), player.wait_until_done())
        .await
        .expect("playback finishes in time")
        .expect("outcome");
    assert!(outcome.ended(), "playback did not end: {:?} {:?}", outcome.state, outcome.error);
    origin.shutdown().await;
    outcome.report
}

fn check(report: &QoeReport, what: &str) {
    let p = report.playback.as_ref().expect("the decoding sink reports playback");
    eprintln!("{what}: {} stalls\n{p:#?}", report.rebuffer_count);
    assert_eq!(report.rebuffer_count, 0, "{what}: stalled on a fast link");
    assert_eq!(p.decode_errors, 0, "{what}: {p:?}");
    // Every second of audio decoded: the whole stream went through the output.
    let audio_s = p.audio_frames_decoded as f64 / 48_000.0;
    assert!((audio_s - 40.0).abs() < 0.1, "{what}: audio decoded {audio_s} s of 40");
    assert_eq!(
        p.audio_underruns, 0,
        "{what}: audio underruns with no stall, at {:?} s",
        p.audio_underrun_at_s
    );
    assert!(p.audio_underrun_at_s.is_empty(), "{what}: {:?}", p.audio_underrun_at_s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_to_the_end_on_a_fast_link_has_no_audio_underrun() {
    let report = play_to_the_end(&streamsteer_tests::media_content(), Protocol::Hls).await;
    check(&report, "HLS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_to_the_end_on_a_fast_link_has_no_audio_underrun() {
    let report = play_to_the_end(&streamsteer_tests::media_content(), Protocol::Dash).await;
    check(&report, "DASH");
}
