//! The native driver against a loopback origin serving the committed CMAF fixture.

mod common;

use common::{Fault, Origin, content};
use std::sync::atomic::Ordering;
use std::time::Duration;
use streamsteer::cmcd::{CmcdValue, parse_payload, payload_from_url};
use streamsteer::session::{FetchKind, MediaTiming, PlayerEvent, PlayerState, TrackKind};
use streamsteer_net::SinkError;
use streamsteer_net::{CmcdMode, Event, Outcome, Player, PlayerConfig, PlayerError};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant as TokioInstant;
use tokio::time::timeout;

/// Bound on any one test: the fixture is 4 s of media.
const LIMIT: Duration = Duration::from_secs(40);

/// Settings that keep the tests short: quick retries, short timeouts.
fn config() -> PlayerConfig {
    let mut c = PlayerConfig::default();
    c.session.retry_base_s = 0.1;
    c.session.retry_max_s = 0.2;
    for p in [&mut c.net.manifest, &mut c.net.init, &mut c.net.media, &mut c.net.steering] {
        p.ttfb_timeout_s = 1.0;
        p.idle_timeout_s = 1.0;
        p.total_timeout_s = 10.0;
        p.retry.base_delay_s = 0.05;
        p.retry.max_delay_s = 0.1;
    }
    c.status_interval_s = 0.5;
    c
}

fn drain(rx: &mut Receiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(e);
    }
    out
}

fn player_events(events: &[Event]) -> Vec<&PlayerEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Player { event } => Some(event),
            _ => None,
        })
        .collect()
}

fn states(events: &[Event]) -> Vec<PlayerState> {
    player_events(events)
        .into_iter()
        .filter_map(|e| match e {
            PlayerEvent::StateChanged { to, .. } => Some(*to),
            _ => None,
        })
        .collect()
}

async fn play(origin: &Origin, config: PlayerConfig) -> (Outcome, Vec<Event>) {
    let mut player = Player::load(&origin.url("master.m3u8"), config).await.unwrap();
    let mut rx = player.events();
    let outcome = player.wait_until_done().await.unwrap();
    (outcome, drain(&mut rx))
}

#[tokio::test]
async fn plays_a_vod_hls_stream_to_the_end() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        let (outcome, events) = play(&origin, config()).await;
        assert!(outcome.ended(), "{outcome:?}");
        let segments = content().video[0].segments.len();
        assert_eq!(outcome.report.segments, segments);
        assert_eq!(outcome.report.rebuffer_count, 0, "fast loopback link: no stall");
        assert!(outcome.error.is_none());
        let st = states(&events);
        assert_eq!(st.first(), Some(&PlayerState::Buffering), "{st:?}");
        assert!(st.contains(&PlayerState::Playing));
        assert_eq!(st.last(), Some(&PlayerState::Ended));
        assert!(player_events(&events).iter().any(|e| matches!(e, PlayerEvent::QoeReport { .. })));
        // Per-request timing: every request the origin served was reported once.
        let timings: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Request(t) => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(timings.len(), origin.log().len());
        let media: Vec<_> = timings.iter().filter(|t| t.kind == FetchKind::Media).collect();
        assert_eq!(media.len(), 2 * segments, "video and audio");
        for t in &media {
            assert_eq!(t.status, Some(200));
            assert!(t.bytes > 1000 && t.ttfb_s.is_some() && t.error.is_none(), "{t:?}");
        }
        let status: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Status(s) => Some(s),
                _ => None,
            })
            .collect();
        assert!(status.len() >= 2, "periodic status");
        let last = status.last().unwrap();
        assert_eq!(last.state, PlayerState::Ended);
        assert!(last.rendition.is_some() && last.bitrate_kbps.is_some(), "{last:?}");
        // One connection pool: far fewer connections than requests.
        let peers: std::collections::BTreeSet<_> = origin.log().iter().map(|l| l.peer).collect();
        assert!(peers.len() < origin.log().len() / 2, "{} connections", peers.len());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_event_stream_closes_when_playback_ends() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        let mut c = config();
        // A receiver far too small to hold the session's events: it lags, and still
        // sees the stream end rather than waiting for ever.
        c.event_capacity = 16;
        let player = Player::load(&origin.url("master.m3u8"), c).await.unwrap();
        let mut rx = player.events();
        let (mut received, mut lagged) = (0, 0);
        loop {
            match rx.recv().await {
                Ok(_) => received += 1,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => lagged += n,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
            // Lag on purpose: slower than the driver.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(received > 0 && lagged > 0, "received {received}, missed {lagged}");
        // A stream asked for after the end is closed at once.
        let mut late = player.events();
        assert!(matches!(late.recv().await, Err(tokio::sync::broadcast::error::RecvError::Closed)));
        let mut player = player;
        assert!(player.wait_until_done().await.unwrap().ended());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn speaks_http2_with_prior_knowledge() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        let mut c = config();
        c.net.http2_prior_knowledge = true;
        let (outcome, _) = play(&origin, c).await;
        assert!(outcome.ended(), "{outcome:?}");
        let log = origin.log();
        assert!(log.iter().all(|l| l.version == axum::http::Version::HTTP_2));
        let peers: std::collections::BTreeSet<_> = log.iter().map(|l| l.peer).collect();
        assert_eq!(peers.len(), 1, "one multiplexed connection");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn server_errors_are_retried() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        // The manifest: retried by the driver's policy.
        origin.fault("master.m3u8", Fault::Status(503), 2);
        // A media segment: the session fetches it again.
        origin.fault("video/v0/seg_1.m4s", Fault::Status(500), 1);
        origin.fault("video/v1/seg_1.m4s", Fault::Status(500), 1);
        let (outcome, events) = play(&origin, config()).await;
        assert!(outcome.ended(), "{outcome:?}");
        let manifest: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Request(t) if t.id == 0 => Some((t.status, t.will_retry)),
                _ => None,
            })
            .collect();
        assert_eq!(manifest, vec![(Some(503), true), (Some(503), true), (Some(200), false)]);
        let failed = player_events(&events)
            .into_iter()
            .filter(|e| matches!(e, PlayerEvent::FetchFailed { status: Some(500), .. }))
            .count();
        assert_eq!(failed, 1);
        assert_eq!(outcome.report.segments, content().video[0].segments.len());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_truncated_body_fails_the_fetch_then_recovers() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        origin.fault("video/v0/seg_2.m4s", Fault::Truncate(0.5), 1);
        origin.fault("video/v1/seg_2.m4s", Fault::Truncate(0.5), 1);
        let (outcome, events) = play(&origin, config()).await;
        assert!(outcome.ended(), "{outcome:?}");
        let truncated: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Request(t) if t.url.contains("seg_2") && t.error.is_some() => Some(t),
                _ => None,
            })
            .collect();
        assert_eq!(truncated.len(), 1, "{truncated:?}");
        assert_eq!(truncated[0].status, Some(200));
        assert!(
            player_events(&events)
                .iter()
                .any(|e| matches!(e, PlayerEvent::FetchFailed { status: Some(200), .. })),
            "the session saw the failure"
        );
        assert_eq!(outcome.report.segments, content().video[0].segments.len());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_silent_server_ends_in_a_ttfb_error_within_the_bound() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        origin.fault("master.m3u8", Fault::Hang, 2);
        let mut c = config();
        c.net.manifest.ttfb_timeout_s = 0.3;
        c.net.manifest.retry.max_attempts = 2;
        let err = Player::load(&origin.url("master.m3u8"), c).await.unwrap_err();
        match &err {
            PlayerError::ManifestFetch { source, .. } => {
                assert!(matches!(source, streamsteer_net::FetchError::TtfbTimeout(_)), "{source}");
                assert_eq!(err.kind(), Some(streamsteer::session::ErrorKind::Network));
            }
            other => panic!("{other}"),
        }
        assert_eq!(origin.state.hanging.load(Ordering::SeqCst), 2);

        // A media segment that never comes: the session gives up after its attempts.
        origin.fault("video/v0/seg_", Fault::Hang, 1000);
        origin.fault("video/v1/seg_", Fault::Hang, 1000);
        let mut c = config();
        c.net.media.ttfb_timeout_s = 0.3;
        c.net.init.ttfb_timeout_s = 0.3;
        c.session.max_attempts_per_segment = 3;
        let (outcome, events) = play(&origin, c).await;
        assert_eq!(outcome.state, PlayerState::Failed);
        let error = outcome.error.unwrap();
        assert_eq!(error.kind, streamsteer::session::ErrorKind::Network, "{error}");
        assert!(error.message.contains("failed 3 times"), "{error}");
        let ttfb_errors = events
            .iter()
            .filter(|e| matches!(e, Event::Request(t) if t.error.as_deref().is_some_and(|m| m.contains("TTFB"))))
            .count();
        assert_eq!(ttfb_errors, 3);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_cancelled_fetch_reports_nothing_more() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        origin.fault("video/v0/seg_3.m4s", Fault::Hang, 1);
        origin.fault("video/v1/seg_3.m4s", Fault::Hang, 1);
        let mut c = config();
        c.net.media.ttfb_timeout_s = 1.0;
        let mut player = Player::load(&origin.url("master.m3u8"), c).await.unwrap();
        let mut rx = player.events();
        while origin.state.hanging.load(Ordering::SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Seeking cancels the hanging request of segment 3.
        player.seek(0.0);
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.ended(), "{outcome:?}");
        // The client went away: the origin's handler was dropped.
        assert_eq!(origin.state.abandoned.load(Ordering::SeqCst), 1);
        let events = drain(&mut rx);
        let seg3: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Request(t) if t.url.contains("video/") && t.url.contains("seg_3") => Some(t),
                _ => None,
            })
            .collect();
        // Only the second request (after the seek) reported: no TTFB timeout of the first.
        assert_eq!(seg3.len(), 1, "{seg3:?}");
        assert!(seg3[0].error.is_none());
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_corrupt_segment_is_a_typed_error_and_is_fetched_again() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        origin.fault("audio/a0/seg_1.m4s", Fault::Garbage(b"not an mp4 box at all".to_vec()), 1);
        let (outcome, events) = play(&origin, config()).await;
        assert!(outcome.ended(), "{outcome:?}");
        let media: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Media(m) => Some(m),
                _ => None,
            })
            .collect();
        assert_eq!(media.len(), 1, "{media:?}");
        assert_eq!(media[0].track, TrackKind::Audio);
        assert_eq!(media[0].segment, Some(1));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn pause_play_and_seek_drive_the_state() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        let mut c = config();
        c.session.autoplay = false;
        let mut player = Player::load(&origin.url("master.m3u8"), c).await.unwrap();
        let mut rx = player.events();
        let mut seen = Vec::new();
        let mut wait_for = async |want: PlayerState, seen: &mut Vec<PlayerState>| loop {
            if let Ok(Event::Player { event: PlayerEvent::StateChanged { to, .. } }) =
                rx.recv().await
            {
                seen.push(to);
                if to == want {
                    return;
                }
            }
        };
        wait_for(PlayerState::Paused, &mut seen).await;
        player.play();
        wait_for(PlayerState::Playing, &mut seen).await;
        player.pause();
        wait_for(PlayerState::Paused, &mut seen).await;
        player.seek(2.0);
        player.play();
        wait_for(PlayerState::Playing, &mut seen).await;
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.ended(), "{outcome:?}");
        assert_eq!(
            seen,
            vec![
                PlayerState::Buffering,
                PlayerState::Paused,
                PlayerState::Playing,
                PlayerState::Paused,
                PlayerState::Buffering,
                PlayerState::Playing
            ]
        );
        // After the seek to 2 s, segments 2 and 3 were fetched again.
        let log = origin.log();
        let seg2 =
            log.iter().filter(|l| l.path.contains("video/") && l.path.ends_with("seg_2.m4s"));
        assert!(seg2.count() >= 1);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stop_ends_playback_with_a_report_so_far() {
    timeout(LIMIT, async {
        let origin = Origin::start().await;
        let mut c = config();
        c.session.autoplay = false;
        let mut player = Player::load(&origin.url("master.m3u8"), c).await.unwrap();
        let mut rx = player.events();
        player.stop();
        let outcome = player.wait_until_done().await.unwrap();
        assert!(outcome.stopped && !outcome.ended());
        assert!(drain(&mut rx).iter().any(|e| matches!(e, Event::Stopped)));
        assert!(matches!(player.wait_until_done().await, Err(PlayerError::AlreadyTaken)));
    })
    .await
    .unwrap();
}

fn cmcd_of(l: &common::Logged, mode: CmcdMode) -> std::collections::BTreeMap<String, CmcdValue> {
    match mode {
        CmcdMode::Query => {
            let url = format!("http://x{}?{}", l.path, l.query.clone().unwrap_or_default());
            parse_payload(&payload_from_url(&url).unwrap().unwrap()).unwrap()
        }
        _ => {
            let mut all = std::collections::BTreeMap::new();
            for (name, keys) in [
                ("cmcd-object", &["br", "d", "ot", "tb"][..]),
                ("cmcd-request", &["bl", "dl", "mtp", "nor", "nrr", "su"][..]),
                ("cmcd-session", &["cid", "pr", "sf", "sid", "st", "v"][..]),
                ("cmcd-status", &["bs", "rtp"][..]),
            ] {
                if let Some(v) = l.headers.get(name) {
                    let parsed = parse_payload(v.to_str().unwrap()).unwrap();
                    for k in parsed.keys() {
                        assert!(keys.contains(&k.as_str()), "{k} in {name}");
                    }
                    all.extend(parsed);
                }
            }
            all
        }
    }
}

async fn cmcd_arrives(mode: CmcdMode) {
    let origin = Origin::start().await;
    let mut c = config();
    c.session.cmcd.mode = mode;
    c.session.cmcd.content_id = Some("fixture-cmaf".into());
    let (outcome, _) = play(&origin, c).await;
    assert!(outcome.ended(), "{outcome:?}");
    let content = content();
    let mut sids = std::collections::BTreeSet::new();
    let mut video_segments = 0;
    for l in origin.log().iter() {
        let keys = cmcd_of(l, mode);
        let Some(CmcdValue::String(sid)) = keys.get("sid") else { panic!("{keys:?}") };
        sids.insert(sid.clone());
        assert_eq!(keys["cid"], CmcdValue::String("fixture-cmaf".into()));
        if l.path != "/master.m3u8" {
            // The format is known once the manifest is parsed.
            assert_eq!(keys["sf"], CmcdValue::Token("h".into()));
        }
        let ot = match &keys["ot"] {
            CmcdValue::Token(t) => t.clone(),
            other => panic!("{other:?}"),
        };
        if l.path.ends_with(".m3u8") {
            assert_eq!(ot, "m");
        } else if l.path.ends_with("init.mp4") {
            assert_eq!(ot, "i");
        } else if l.path.starts_with("/video/") {
            video_segments += 1;
            assert_eq!(ot, "v");
            let rung =
                content.video.iter().find(|v| l.path.contains(&format!("/{}/", v.id))).unwrap();
            // The session's rung bitrate is the variant's BANDWIDTH (video + audio).
            let kbps = ((rung.bandwidth_bps + content.audio.bandwidth_bps) as f64 / 1000.0).round();
            assert_eq!(keys["br"], CmcdValue::Integer(kbps as u64), "{}", l.path);
            assert!(matches!(keys["bl"], CmcdValue::Integer(n) if n % 100 == 0));
            assert_eq!(keys["d"], CmcdValue::Integer(1000), "{}", l.path);
            assert!(matches!(keys.get("tb"), Some(CmcdValue::Integer(_))));
            let index: usize = l
                .path
                .rsplit_once("seg_")
                .and_then(|(_, r)| r.strip_suffix(".m4s"))
                .and_then(|n| n.parse().ok())
                .unwrap();
            if index + 1 < rung.segments.len() {
                let want = CmcdValue::String(format!("seg_{}.m4s", index + 1));
                assert_eq!(keys.get("nor"), Some(&want), "{}", l.path);
            }
        } else {
            assert_eq!(ot, "a");
        }
    }
    assert_eq!(sids.len(), 1, "one session id");
    assert_eq!(video_segments, content.video[0].segments.len());
}

#[tokio::test]
async fn cmcd_arrives_as_a_query_argument() {
    timeout(LIMIT, cmcd_arrives(CmcdMode::Query)).await.unwrap();
}

#[tokio::test]
async fn cmcd_arrives_as_headers() {
    timeout(LIMIT, cmcd_arrives(CmcdMode::Headers)).await.unwrap();
}

/// A timing sink that also keeps a copy of every segment appended, in order.
struct Recording {
    inner: streamsteer_net::TimingSink,
    appended: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl streamsteer_net::MediaSink for Recording {
    fn check(&self, t: TrackKind, init: bool, r: usize, d: &[u8]) -> Result<(), SinkError> {
        self.inner.check(t, init, r, d)
    }
    fn append_init(
        &mut self,
        now: TokioInstant,
        t: TrackKind,
        r: usize,
        d: &[u8],
    ) -> Result<(), SinkError> {
        self.appended.lock().unwrap().push(d.to_vec());
        self.inner.append_init(now, t, r, d)
    }
    fn append_media(
        &mut self,
        now: TokioInstant,
        t: TrackKind,
        r: usize,
        segment: Option<usize>,
        timing: Option<MediaTiming>,
        d: &[u8],
    ) -> Result<(), SinkError> {
        self.appended.lock().unwrap().push(d.to_vec());
        self.inner.append_media(now, t, r, segment, timing, d)
    }
    fn play(&mut self, now: TokioInstant) {
        self.inner.play(now)
    }
    fn pause(&mut self, now: TokioInstant) {
        self.inner.pause(now)
    }
    fn stall(&mut self, now: TokioInstant) {
        self.inner.stall(now)
    }
    fn seek(&mut self, now: TokioInstant, position_s: f64) {
        self.inner.seek(now, position_s)
    }
    fn position_s(&mut self, now: TokioInstant) -> Option<f64> {
        self.inner.position_s(now)
    }
}

/// Plays the single-file rung of `prefix/` (segments are byte ranges of one resource);
/// returns the outcome, the origin's log and the bytes the sink was given.
async fn play_ranged(prefix: &str) -> (Outcome, Vec<common::Logged>, Vec<Vec<u8>>) {
    let origin = Origin::start().await;
    let url = origin.url(&format!("{prefix}/master.m3u8"));
    let appended = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Recording {
        inner: streamsteer_net::TimingSink::new(streamsteer_net::TimingSinkConfig::default()),
        appended: appended.clone(),
    };
    let mut player = Player::load_with_sink(&url, config(), sink).await.unwrap();
    let outcome = player.wait_until_done().await.unwrap();
    let appended = appended.lock().unwrap().clone();
    (outcome, origin.log(), appended)
}

/// The init segment and every media segment, each exactly once and byte for byte.
fn assert_appended_the_ranges(appended: &[Vec<u8>]) {
    let (all, ranges) = common::single_file();
    let want: Vec<&[u8]> =
        ranges.iter().map(|(off, len)| &all[*off as usize..(off + len) as usize]).collect();
    let got: Vec<&[u8]> = appended.iter().map(Vec::as_slice).collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the sink got other bytes than the listed ranges");
}

#[tokio::test]
async fn byte_range_segments_are_fetched_as_ranges() {
    timeout(LIMIT, async {
        let (outcome, log, appended) = play_ranged("ranged").await;
        assert_appended_the_ranges(&appended);
        assert!(outcome.ended(), "{outcome:?}");
        let (_, ranges) = common::single_file();
        assert_eq!(outcome.report.segments, ranges.len() - 1);
        // Every request for the one file asked for exactly one listed range, init first,
        // each media range once.
        let asked: Vec<String> = log
            .iter()
            .filter(|l| l.path.ends_with("/all.mp4"))
            .map(|l| l.headers.get("range").unwrap().to_str().unwrap().to_string())
            .collect();
        let want: Vec<String> =
            ranges.iter().map(|(off, len)| format!("bytes={off}-{}", off + len - 1)).collect();
        assert_eq!(asked, want);
        assert_eq!(outcome.report.rebuffer_count, 0);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_server_that_ignores_range_still_yields_the_right_bytes() {
    timeout(LIMIT, async {
        // The whole file comes back with 200 each time: the driver cuts the range out.
        let (outcome, log, appended) = play_ranged("unranged").await;
        assert_appended_the_ranges(&appended);
        assert!(outcome.ended(), "{outcome:?}");
        let (_, ranges) = common::single_file();
        assert_eq!(outcome.report.segments, ranges.len() - 1);
        assert!(log.iter().filter(|l| l.path.ends_with("/all.mp4")).all(|l| l.status == 200));
    })
    .await
    .unwrap();
}
