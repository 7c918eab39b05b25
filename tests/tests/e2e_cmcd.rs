//! CMCD comes from the engine: the native player plays the origin's live DASH stream
//! (a sliding window, the MPD reloaded every few seconds) with CMCD on, and every
//! request the origin logged carries the keys the session knew when it asked for it.
//!
//! Live DASH is the case a driver-side CMCD could not get right: segments that only
//! appear in a refreshed MPD have a duration, a bitrate and a next object too, and
//! they must be reported as for the first window's.

use std::collections::BTreeSet;
use std::time::Duration;
use streamsteer::cmcd::{CmcdMode, CmcdValue, parse_payload};
use streamsteer::session::{PlayerEvent, TrackKind};
use streamsteer_net::{Player, PlayerConfig};
use streamsteer_origin::content::ContentInfo;
use streamsteer_origin::{Origin, OriginConfig, TraceSource};
use streamsteer_tests::e2e_content;
use tokio::time::timeout;

/// Real time the stream is played: several MPD refreshes and a window and a half of
/// segments beyond the first MPD.
const PLAY_S: u64 = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cmcd_on_live_dash_refreshes_reports_each_segment_as_the_session_sees_it() {
    timeout(Duration::from_secs(PLAY_S + 120), run()).await.expect("the test ran too long");
}

fn int(v: Option<&CmcdValue>) -> Option<u64> {
    match v {
        Some(CmcdValue::Integer(n)) => Some(*n),
        _ => None,
    }
}

fn token(v: Option<&CmcdValue>) -> Option<&str> {
    match v {
        Some(CmcdValue::Token(t)) => Some(t),
        _ => None,
    }
}

async fn run() {
    let dir = e2e_content();
    let content = ContentInfo::load(&dir).unwrap();
    let mut config = OriginConfig::default();
    for p in &mut config.pathways {
        p.trace = Some(TraceSource::ConstantKbps(8000.0));
        p.latency_ms = 20.0;
    }
    let origin = Origin::start(dir, config).await.unwrap();
    let mut pc = PlayerConfig::default();
    pc.session.cmcd.mode = CmcdMode::Query;
    pc.session.cmcd.content_id = Some("e2e-live".into());
    let mut player = Player::load(&origin.live_dash_url(), pc).await.unwrap();
    tokio::time::sleep(Duration::from_secs(PLAY_S)).await;
    player.stop();
    let outcome = player.wait_until_done().await.unwrap();
    assert!(outcome.stopped, "{outcome:?}");

    let log = origin.requests();
    let mut sids = BTreeSet::new();
    let (mut mpds, mut refreshed_media) = (0, 0);
    // When each MPD load and each media request (by track and number) arrived, and
    // whether the latter named its successor.
    let mut mpd_at = Vec::new();
    let mut requested: Vec<(&str, u64, f64, bool)> = Vec::new();
    let mut first_window_last: Option<u64> = None;
    for e in &log {
        if !e.path.ends_with(".mpd") && !e.path.starts_with("/live/") {
            // Steering requests carry no CMCD unless asked (`on_steering`).
            assert!(!e.query.contains_key("CMCD"), "{}", e.path);
            continue;
        }
        let payload = e.query.get("CMCD").unwrap_or_else(|| panic!("no CMCD on {}", e.path));
        let keys = parse_payload(payload).unwrap();
        if let Some(CmcdValue::String(sid)) = keys.get("sid") {
            sids.insert(sid.clone());
        }
        if e.path.ends_with(".mpd") {
            mpds += 1;
            mpd_at.push(e.t_s);
            assert_eq!(token(keys.get("ot")), Some("m"), "{keys:?}");
            if mpds > 1 {
                // Known once the first MPD is parsed.
                assert_eq!(token(keys.get("sf")), Some("d"));
                assert_eq!(token(keys.get("st")), Some("l"));
            }
            continue;
        }
        let Some(rest) = e.path.strip_prefix("/live/") else { continue };
        let Some((rid, file)) = rest.split_once('/') else { continue };
        let Some(number) = file.strip_suffix(".m4s").and_then(|n| n.parse::<u64>().ok()) else {
            assert!(file.ends_with("init.mp4") || file.ends_with(".mp4"), "{}", e.path);
            assert_eq!(token(keys.get("ot")), Some("i"), "{}", e.path);
            continue;
        };
        let (ot, bandwidth, segments) = match content.video.iter().find(|v| v.id == rid) {
            Some(v) => ("v", v.bandwidth_bps, &v.segments),
            None => {
                assert_eq!(rid, content.audio.id, "{}", e.path);
                ("a", content.audio.bandwidth_bps, &content.audio.segments)
            }
        };
        assert_eq!(token(keys.get("ot")), Some(ot), "{}", e.path);
        assert_eq!(int(keys.get("br")), Some((bandwidth as f64 / 1000.0).round() as u64));
        // The live stream loops the content: number n is file n mod count.
        let file = &segments[(number % segments.len() as u64) as usize];
        let d = int(keys.get("d")).unwrap_or_else(|| panic!("no d on {}", e.path));
        assert!(d.abs_diff((file.duration_s * 1000.0).round() as u64) <= 1, "{d} {}", e.path);
        assert!(int(keys.get("bl")).is_some_and(|b| b % 100 == 0), "{keys:?}");
        assert!(int(keys.get("tb")).is_some(), "{keys:?}");
        assert_eq!(token(keys.get("st")), Some("l"));
        assert_eq!(token(keys.get("sf")), Some("d"));
        if let Some(next) = keys.get("nor") {
            assert_eq!(next, &CmcdValue::String(format!("{}.m4s", number + 1)), "{}", e.path);
        }
        requested.push((ot, number, e.t_s, keys.contains_key("nor")));
        // Segments numbered past the first request's window were listed only by
        // a refreshed MPD.
        let last = *first_window_last.get_or_insert(number + 5);
        if number > last {
            refreshed_media += 1;
        }
    }
    assert_eq!(sids.len(), 1, "one session id: {sids:?}");
    assert!(mpds >= 4, "the MPD was refreshed: {mpds} loads");
    assert!(refreshed_media >= 8, "{refreshed_media} segments came from refreshed MPDs");
    // A request names its successor unless that was not listed yet: at the live
    // edge, the next segment is requested only after an MPD refresh made it known.
    let mut unnamed = 0;
    for &(ot, number, at, named) in &requested {
        let next = requested.iter().find(|r| r.0 == ot && r.1 == number + 1);
        if let (false, Some(next)) = (named, next) {
            unnamed += 1;
            assert!(
                mpd_at.iter().any(|t| *t > at && *t < next.2),
                "{ot} {number}: no nor, yet {} was requested without an MPD load between",
                number + 1
            );
        }
    }
    assert!(requested.iter().filter(|r| r.3).count() > 0, "some requests name their successor");
    eprintln!("{} media requests, {unnamed} at the live edge without nor", requested.len());
}

/// HLS audio renditions (`EXT-X-MEDIA`) declare no bitrate: the session reports none
/// rather than inventing one (no `br` key, a decision at 0 kbit/s), while video
/// segments carry their variant's `BANDWIDTH`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_audio_reports_no_bitrate_it_was_not_given() {
    timeout(Duration::from_secs(60), async {
        let dir = streamsteer_tests::repo_dir().join("tests/fixtures/cmaf");
        let origin = Origin::start(dir, OriginConfig::default()).await.unwrap();
        let mut pc = PlayerConfig::default();
        pc.session.cmcd.mode = CmcdMode::Query;
        let mut player = Player::load(&origin.hls_url(), pc).await.unwrap();
        let mut events = player.events();
        let decisions = tokio::spawn(async move {
            let mut out = Vec::new();
            while let Ok(e) = events.recv().await {
                if let streamsteer_net::Event::Player {
                    event: PlayerEvent::Decision { track, bitrate_kbps, .. },
                } = e
                {
                    out.push((track, bitrate_kbps));
                }
            }
            out
        });
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.error.is_none(), "{outcome:?}");
        drop(player);
        let decisions = decisions.await.unwrap();
        let audio: Vec<f64> =
            decisions.iter().filter(|d| d.0 == TrackKind::Audio).map(|d| d.1).collect();
        assert!(!audio.is_empty() && audio.iter().all(|b| *b == 0.0), "{audio:?}");
        // Video decisions carry the variants' BANDWIDTH, which CMCD reports as `br`.
        let declared: Vec<f64> =
            decisions.iter().filter(|d| d.0 == TrackKind::Video).map(|d| d.1.round()).collect();
        assert!(!declared.is_empty() && declared.iter().all(|b| *b > 0.0), "{decisions:?}");
        let (mut audio_seen, mut video_seen) = (0, 0);
        for e in origin.requests().iter().filter(|e| e.path.ends_with(".m4s")) {
            let keys = parse_payload(&e.query["CMCD"]).unwrap();
            match token(keys.get("ot")) {
                Some("a") => {
                    audio_seen += 1;
                    assert_eq!(keys.get("br"), None, "{}: {keys:?}", e.path);
                }
                Some("v") => {
                    video_seen += 1;
                    let br = int(keys.get("br")).unwrap_or_else(|| panic!("{}", e.path));
                    assert!(declared.contains(&(br as f64)), "{}: br={br}", e.path);
                }
                other => panic!("{}: ot {other:?}", e.path),
            }
        }
        assert!(audio_seen > 0 && video_seen > 0, "{audio_seen} audio, {video_seen} video");
        origin.shutdown().await;
    })
    .await
    .expect("the HLS session ends in time");
}
