//! Audio and video fill one buffer (issue 11, part 1; `buffer.one_buffer`, the default):
//! on a slow link the small audio track may not run ahead of video and take the
//! bandwidth video needs to start. The origin's log shows it: an audio segment is requested only once video
//! has requested the segment before it; and the session starts within 3 s.

mod common;

use common::quick_config;
use std::time::Duration;
use streamsteer_net::Player;
use streamsteer_origin::{Origin, OriginConfig, RequestKind, TraceSource};
use tokio::time::timeout;

/// Each pathway's link: a little over the lowest rung (400 kbit/s) plus audio.
const LINK_KBPS: f64 = 700.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_does_not_run_ahead_of_video_on_a_slow_link() {
    let dir = tokio::task::spawn_blocking(streamsteer_tests::e2e_content).await.unwrap();
    let mut c = OriginConfig::default();
    for p in &mut c.pathways {
        p.trace = Some(TraceSource::ConstantKbps(LINK_KBPS));
        p.latency_ms = 80.0;
    }
    let origin = Origin::start(dir, c).await.unwrap();
    // Twenty seconds are enough to see the pattern (audio segments 1–9 arrived while
    // video had 1–3, before).
    let outcome = timeout(Duration::from_secs(60), async {
        let config = quick_config();
        assert!(config.session.buffer.one_buffer, "one buffer is the default");
        let mut player = Player::load(&origin.hls_url(), config).await.unwrap();
        tokio::time::sleep(Duration::from_secs(20)).await;
        player.stop();
        player.wait_until_done().await.unwrap()
    })
    .await
    .expect("the session stops in time");
    assert!(outcome.error.is_none(), "{outcome:?}");
    let startup = outcome.report.startup_delay_s;
    eprintln!("startup {startup:.2} s, {} stalls", outcome.report.rebuffer_count);
    assert!(startup < 3.0, "startup took {startup:.2} s");
    // `/vod/<rid>/<n>.m4s`: audio's rendition is `a0`, video's `v<k>`.
    let mut video_max: Option<u64> = None;
    let mut audio = 0;
    for e in origin.requests().iter().filter(|e| e.kind == Some(RequestKind::Media)) {
        let mut parts = e.path.rsplit('/');
        let n: u64 = parts.next().and_then(|f| f.strip_suffix(".m4s")?.parse().ok()).unwrap();
        match parts.next() {
            Some(r) if r.starts_with('a') => {
                audio += 1;
                assert!(
                    n == 0 || video_max.is_some_and(|v| v + 1 >= n),
                    "audio {n} requested at {:.2} s with video at {video_max:?}",
                    e.t_s
                );
            }
            _ => video_max = video_max.max(Some(n)),
        }
    }
    assert!(audio >= 5, "{audio} audio segments");
    origin.shutdown().await;
}
