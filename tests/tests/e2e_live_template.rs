//! Live DASH addressed by `SegmentTemplate@duration` and `$Number$`: the native player
//! plays the origin's `/live/template.mpd`, whose segments exist by the origin's wall
//! clock, from an origin whose clock runs 20 s behind the machine's (a CDN and a
//! device that disagree). The MPD names the origin's `/time` endpoint as `UTCTiming`;
//! the player fetches it, corrects its clock, joins at the suggested delay behind the
//! origin's live edge, and asks only for segments that exist: the origin answers 404
//! to any other, and none is seen.

use std::collections::BTreeMap;
use std::time::Duration;
use streamsteer::manifest::UtcTimingScheme;
use streamsteer::session::{ClockSource, PlayerEvent, PlayerState, TrackKind};
use streamsteer_net::{Event, Player, PlayerConfig};
use streamsteer_origin::{Origin, OriginConfig, TraceSource};
use streamsteer_tests::e2e_content;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::timeout;

/// Real time the stream is played.
const PLAY_S: f64 = 40.0;

/// The origin's clock minus the machine's.
const ORIGIN_CLOCK_OFFSET_S: f64 = -20.0;

/// A fast link: several times the top rung.
const LINK_KBPS: f64 = 20_000.0;

/// A live media segment request: `/live/<rid>/<n>.m4s`.
fn live_segment(path: &str) -> Option<(&str, u64)> {
    let rest = path.strip_prefix("/live/")?;
    let (rid, file) = rest.split_once('/')?;
    Some((rid, file.strip_suffix(".m4s")?.parse().ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_template_live_dash_by_the_origin_clock_with_no_rebuffer() {
    timeout(Duration::from_secs(PLAY_S as u64 + 150), async {
        e2e_content();
        let mut config = OriginConfig::default();
        config.live.clock_offset_s = ORIGIN_CLOCK_OFFSET_S;
        for p in &mut config.pathways {
            p.trace = Some(TraceSource::ConstantKbps(LINK_KBPS));
            p.latency_ms = 10.0;
        }
        let origin = Origin::start(e2e_content(), config).await.unwrap();
        let url = origin.live_dash_template_url();
        let mut player = Player::load(&url, PlayerConfig::default()).await.unwrap();
        let mut events = player.events();
        let until = tokio::time::Instant::now() + Duration::from_secs_f64(PLAY_S);
        let mut seen = Vec::new();
        loop {
            let event = tokio::select! {
                e = events.recv() => e,
                () = tokio::time::sleep_until(until) => break,
            };
            match event {
                Ok(Event::Player { event }) => {
                    let over = matches!(
                        event,
                        PlayerEvent::StateChanged {
                            to: PlayerState::Ended | PlayerState::Failed,
                            ..
                        }
                    );
                    seen.push(event);
                    if over {
                        break;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(n)) => panic!("the test fell {n} events behind"),
                Err(RecvError::Closed) => break,
            }
        }
        player.stop();
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.error.is_none() && outcome.stopped, "{outcome:?}");
        assert_eq!(outcome.state, PlayerState::Playing, "{outcome:?}");
        assert_eq!(outcome.report.rebuffer_count, 0, "{:?}", outcome.report);
        assert!(!seen.iter().any(|e| matches!(e, PlayerEvent::Stalled { .. })));

        // The clock came from the origin's /time, 20 s behind the machine's.
        let synced: Vec<_> = seen
            .iter()
            .filter_map(|e| match e {
                PlayerEvent::ClockSynced { source, skew_s } => Some((*source, *skew_s)),
                _ => None,
            })
            .collect();
        let [(source, Some(skew))] = synced[..] else { panic!("{synced:?}") };
        assert_eq!(source, ClockSource::UtcTiming { scheme: UtcTimingScheme::HttpXsDate });
        assert!((skew - ORIGIN_CLOCK_OFFSET_S).abs() < 0.2, "skew {skew}");

        // Only segments that existed were asked for: every live segment request was
        // served (the origin answers 404 before a segment has ended on its clock),
        // each once, in order, video and audio; and the clock endpoint was asked once.
        let mut entries = origin.requests();
        entries.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        assert_eq!(entries.iter().filter(|e| e.path == "/time").count(), 1);
        let mut per_kind: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for e in &entries {
            if let Some((rid, n)) = live_segment(&e.path) {
                assert_eq!(e.status, 200, "{e:?}");
                let kind = if rid.starts_with('v') { "video" } else { "audio" };
                per_kind.entry(kind).or_default().push(n);
            }
        }
        assert_eq!(per_kind.len(), 2, "{per_kind:?}");
        for (kind, numbers) in &per_kind {
            assert!(numbers.windows(2).all(|w| w[1] == w[0] + 1), "{kind}: {numbers:?}");
            // Forty seconds of 2 s segments, joined a few behind the edge.
            assert!(numbers.len() >= 20, "{kind}: {numbers:?}");
        }
        // Joined at the suggested delay (3 segments, 6 s) behind the origin's live
        // edge when the clock answer came: the origin's live time then was its
        // preroll plus the time since it started.
        let timeline = origin.live_timeline();
        let seg_s = timeline.segment_duration_s;
        let preroll_s = OriginConfig::default().live.preroll_segments as f64 * seg_s;
        let asked = entries.iter().find(|e| e.path == "/time").map(|e| e.t_s).unwrap();
        let edge_s =
            preroll_s + asked - streamsteer_origin::manifests::TEMPLATE_AVAILABILITY_SLACK_S;
        let join = ((edge_s - 3.0 * seg_s) / seg_s).floor() as u64;
        let first = per_kind["video"][0];
        assert!(first + 1 >= join && first <= join, "joined at {first}, expected {join}");
        let decisions = seen
            .iter()
            .filter(|e| matches!(e, PlayerEvent::Decision { track: TrackKind::Video, .. }))
            .count();
        assert!(decisions >= 20, "{decisions} video decisions");
        origin.shutdown().await;
    })
    .await
    .expect("the live session ended in time");
}
