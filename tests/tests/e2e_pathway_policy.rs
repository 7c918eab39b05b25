//! The pathway policy end to end (issue 11, part 2), on the origin's two CDNs with the
//! steering server ranking `openconnect` (the preferred, cheap edge) first all
//! session long, and the player's default steering settings.
//!
//! - After an outage of `openconnect` the player fails over at once and is back on it
//!   within one steering TTL of its recovery (plus a segment's wait and slack): it
//!   probes the penalised pathway again when each penalty ends, and a penalty never
//!   outlasts the TTL while the steering server is polled.
//! - With both CDNs healthy (each its own 4 Mbit/s link, as in the runs against the
//!   peers), at least 95 % of the media bytes come from `openconnect` under the default
//!   (cost) policy: audio follows video's pathway, and the edge is kept while it
//!   carries the rung being played.
//! - When `openconnect` slows tenfold with no error, the fetch it starves is abandoned
//!   and the segment fetched from `cloudfront` within one segment of the slowdown,
//!   with no stall; the starved pathway is reported (`PathwayStarved`).

mod common;

use common::{Recorder, is_player, media_log, quick_config};
use std::time::Duration;
use streamsteer::session::PlayerEvent;
use streamsteer_net::{FailureKind, Outcome, Player, PlayerConfig};
use streamsteer_origin::content::ContentInfo;
use streamsteer_origin::{Fault, FaultKind, Origin, OriginConfig, OriginHandle, TraceSource};
use streamsteer_sim::trace::Period;
use tokio::time::timeout;

/// Steering TTL, seconds.
const TTL_S: u64 = 3;
/// `openconnect` refuses connections over this window (origin clock, seconds).
const OUTAGE_S: (f64, f64) = (6.0, 16.0);
/// Fetches pace at one 2 s segment per 2 s once the buffer target is reached: a
/// recovered pathway is seen at the next fetch.
const SEGMENT_S: f64 = 2.0;
/// Scheduling slack on a loaded 2-core machine, seconds.
const SLACK_S: f64 = 1.5;

/// Plays the origin's HLS stream to its end with `config`, recording the player's
/// events; the session must end without an error or a stall.
async fn play_to_the_end(origin: &OriginHandle, config: PlayerConfig) -> (Outcome, Recorder) {
    let (outcome, rec) = timeout(Duration::from_secs(120), async {
        let mut player = Player::load(&origin.hls_url(), config).await.unwrap();
        let rec = Recorder::start(player.events(), origin);
        (player.wait_until_done().await.unwrap(), rec)
    })
    .await
    .expect("the session ends in time");
    assert!(outcome.error.is_none(), "{outcome:?}");
    assert_eq!(outcome.report.rebuffer_count, 0, "{:?}", outcome.report);
    (outcome, rec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_on_the_preferred_pathway_within_a_ttl_of_its_recovery() {
    let dir = tokio::task::spawn_blocking(streamsteer_tests::e2e_content).await.unwrap();
    let content = ContentInfo::load(&dir).unwrap();
    let top = content.video.iter().map(|v| v.average_bandwidth_bps).max().unwrap_or(0);
    let kbps = 3.0 * (top + content.audio.bandwidth_bps) as f64 / 1000.0;
    let mut c = OriginConfig::default();
    c.steering.ttl_s = TTL_S;
    for p in &mut c.pathways {
        p.trace = Some(TraceSource::ConstantKbps(kbps));
        if p.name == "openconnect" {
            p.faults = vec![Fault::always(FaultKind::Outage).during(OUTAGE_S.0, Some(OUTAGE_S.1))];
        }
    }
    let origin = Origin::start(dir, c).await.unwrap();
    let mut config = quick_config();
    // Media requests all session long: one segment per segment of playback.
    config.session.buffer.forward_target_s = 6.0;
    let (_, rec) = play_to_the_end(&origin, config).await;
    // Every refused connection is a request event: its pathway, no status, a typed
    // failure and the error.
    let refused: Vec<(f64, String)> = rec
        .all()
        .iter()
        .filter_map(|s| match &s.event {
            streamsteer_net::Event::Request(r)
                if r.pathway.as_deref() == Some("openconnect")
                    && r.failure == Some(FailureKind::Connection) =>
            {
                assert_eq!(r.status, None, "{r:?}");
                Some((s.t_s, r.error.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    eprintln!("{} refused attempts on openconnect: {:?}", refused.len(), refused.first());
    assert!(!refused.is_empty(), "no failed attempt reported");
    assert!(
        refused.iter().all(|(t, _)| (OUTAGE_S.0..OUTAGE_S.1 + SLACK_S).contains(t)),
        "{refused:?}"
    );
    let oca = media_log(&origin, "openconnect");
    let cf = media_log(&origin, "cloudfront");
    let ok = |e: &&streamsteer_origin::RequestLogEntry| e.status < 400;
    // Off the edge during the outage (what reached cloudfront), back after it.
    assert!(cf.iter().filter(ok).any(|e| e.t_s > OUTAGE_S.0 && e.t_s < OUTAGE_S.1), "{cf:?}");
    let back = oca
        .iter()
        .filter(ok)
        .find(|e| e.t_s >= OUTAGE_S.1)
        .map(|e| e.t_s)
        .expect("never back on openconnect");
    let bound = OUTAGE_S.1 + TTL_S as f64 + SEGMENT_S + SLACK_S;
    eprintln!(
        "back on openconnect {:.2} s after its recovery (bound {bound:.2})",
        back - OUTAGE_S.1
    );
    assert!(back <= bound, "back at {back:.2} s, recovered at {} s", OUTAGE_S.1);
    // And it stays: after the return, no more media from cloudfront.
    let late: Vec<f64> = cf.iter().filter(|e| e.t_s > back + SLACK_S).map(|e| e.t_s).collect();
    assert!(late.is_empty(), "cloudfront after the return: {late:?}");
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_cdns_keep_the_traffic_on_the_ranked_pathway() {
    let dir = tokio::task::spawn_blocking(streamsteer_tests::e2e_content).await.unwrap();
    let mut c = OriginConfig::default();
    c.steering.ttl_s = 10;
    for p in &mut c.pathways {
        p.trace = Some(TraceSource::ConstantKbps(4000.0));
        p.latency_ms = 80.0;
    }
    let origin = Origin::start(dir, c).await.unwrap();
    let (outcome, _) = play_to_the_end(&origin, quick_config()).await;
    let bytes = |p: &str| media_log(&origin, p).iter().map(|e| e.bytes_sent).sum::<u64>();
    let (oca, cf) = (bytes("openconnect"), bytes("cloudfront"));
    let share = oca as f64 / (oca + cf).max(1) as f64;
    eprintln!(
        "openconnect {oca} B, cloudfront {cf} B: {:.1} % on the ranked pathway, {:.0} kbit/s",
        share * 100.0,
        outcome.report.avg_bitrate_kbps
    );
    assert!(share >= 0.95, "{:.1} % on openconnect", share * 100.0);
    // The report counts the bytes per pathway: the media's, and the init segments'.
    let reported = |p: &str| outcome.report.pathways.get(p).map_or(0, |u| u.bytes);
    assert!(reported("openconnect") >= oca, "{} vs {oca}", reported("openconnect"));
    assert_eq!(reported("cloudfront"), cf);
    origin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cdn_slowed_tenfold_is_left_within_a_segment_without_a_stall() {
    const SLOW_AT_S: f64 = 12.0;
    let dir = tokio::task::spawn_blocking(streamsteer_tests::e2e_content).await.unwrap();
    let mut c = OriginConfig::default();
    c.steering.ttl_s = TTL_S;
    for p in &mut c.pathways {
        p.latency_ms = 40.0;
        p.trace = Some(if p.name == "openconnect" {
            let step = |duration_ms, bandwidth_kbps| Period {
                duration_ms,
                bandwidth_kbps,
                latency_ms: 0.0,
            };
            TraceSource::Periods(vec![step(SLOW_AT_S * 1000.0, 8000.0), step(1e9, 800.0)])
        } else {
            TraceSource::ConstantKbps(8000.0)
        });
    }
    let origin = Origin::start(dir, c).await.unwrap();
    let mut config = quick_config();
    // A paced player: a segment is in flight most of the time, so the slowdown hits one.
    config.session.buffer.forward_target_s = 8.0;
    let (_, rec) = play_to_the_end(&origin, config).await;
    let starved: Vec<f64> = rec
        .all()
        .iter()
        .filter(|s| {
            is_player(s, |e| {
                matches!(e, PlayerEvent::PathwayStarved { pathway, .. } if pathway == "openconnect")
            })
        })
        .map(|s| s.t_s)
        .collect();
    let first = *starved.first().expect("no starved fetch abandoned");
    eprintln!(
        "left openconnect {:.2} s after it slowed; starved at {starved:?}",
        first - SLOW_AT_S
    );
    assert!((SLOW_AT_S..=SLOW_AT_S + SEGMENT_S + SLACK_S).contains(&first), "left at {first:.2}");
    // The segment it starved came whole from cloudfront right after.
    let cf = media_log(&origin, "cloudfront");
    assert!(
        cf.iter().any(|e| e.status < 400 && e.t_s >= first && e.t_s <= first + SLACK_S),
        "{cf:?}"
    );
    origin.shutdown().await;
}
