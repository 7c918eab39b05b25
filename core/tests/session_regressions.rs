//! Regressions found by the `session` fuzz target (`fuzz/fuzz_targets/session.rs`).
//!
//! - Buffer thresholds against the forward target: whatever the (valid) policy and the
//!   segment durations, a session that is buffering or stalled keeps fetching until it
//!   can play. A forward target that a whole segment does not fit in held the next fetch
//!   while the buffer, not draining, stayed below the startup or resume threshold, and
//!   the session waited for nothing for ever.
//! - A media playlist reported loaded from an unusable URL (empty, relative) is based on
//!   the URL requested: its segments and refreshes were requested from relative or empty
//!   URLs.
//! - Replies after the session failed (or ended) were still acted on: a playlist request
//!   retried after `Failed`, a late refresh failure reported after `Ended`; and when the
//!   video track failed the session, the audio track was still scheduled after it.
//! - A live window that slid by more than its length between two refreshes (an outage)
//!   stopped the timeline from growing: the session skipped to the window, past the end
//!   of its timeline, and ended there, with a request in flight.
//! - A refresh listing a shorter duration for a segment already played made the timeline
//!   go back (later segments started before the end of what was played), and with it
//!   the playhead at the end.
//! - A retry due while its track waited at the live edge for a refresh hid the refresh's
//!   wake: the session asked for no wake and waited for nothing.
//! - A playhead reported past the end of the presentation is taken as the end: the
//!   playhead went back to the end at the next tick. A seek (or a report) before the
//!   first segment listed (a live window starts late) lands on it: the gap counted as
//!   buffered media, and the session played through media it never fetched.

use streamsteer::Ladder;
use streamsteer::session::{
    Action, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, Session, SessionConfig,
    SyntheticOptions, TrackKind, presentation_from_ladder,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

/// Plays `session` with every request answered `latency_s` after it is issued, ticking at
/// each wake; panics if the session waits for nothing. Returns the final state and the
/// number of stalls.
fn play_out(mut session: Session<'static>, latency_s: f64) -> (PlayerState, usize) {
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut in_flight: Vec<(f64, f64, FetchRequest)> = Vec::new();
    let mut stalls = 0;
    session.handle(Instant::ZERO, Event::Tick);
    for _ in 0..100_000 {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(r) => in_flight.push((now, now + latency_s, r)),
                Action::Cancel { id } => in_flight.retain(|f| f.2.id != id),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                Action::Stall => stalls += 1,
                _ => {}
            }
        }
        let state = session.state();
        if matches!(state, PlayerState::Ended | PlayerState::Failed) {
            return (state, stalls);
        }
        let next = in_flight.iter().map(|f| f.1).chain(wake).fold(f64::INFINITY, f64::min);
        assert!(
            next.is_finite(),
            "{state:?} at {now:.3} s with {:.3} s buffered, waiting for nothing",
            session.buffer_level_s()
        );
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if let Some(i) = in_flight.iter().position(|f| f.1 <= now) {
            let (issued, _, r) = in_flight.remove(i);
            let bytes = r.expected_bytes.unwrap_or(1000);
            let duration = Duration::from_secs_f64(now - issued);
            session.handle(at, Event::FetchCompleted { id: r.id, bytes, ttfb: duration, duration });
        } else if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    panic!("no end after 100 000 steps");
}

fn session(
    seg_s: f64,
    segments: usize,
    tweak: impl FnOnce(&mut SessionConfig),
) -> Session<'static> {
    let ladder = Ladder::constant_bitrate(vec![300.0, 1200.0], seg_s, segments).unwrap();
    let p = presentation_from_ladder(&ladder, &SyntheticOptions::default());
    let mut config = SessionConfig::default();
    tweak(&mut config);
    Session::new(p.unwrap(), config).unwrap()
}

#[test]
fn startup_above_what_the_target_lets_in_still_starts() {
    // 3 s segments, a 5 s target: one segment fits (3 s), a second would not (6 s); the
    // startup threshold (4 s) lies between.
    let s = session(3.0, 10, |c| {
        c.buffer.forward_target_s = 5.0;
        c.buffer.startup_s = 4.0;
        c.buffer.resume_s = 4.0;
    });
    let (state, _) = play_out(s, 0.05);
    assert_eq!(state, PlayerState::Ended);
}

#[test]
fn resume_above_what_the_target_lets_in_still_resumes() {
    // A slow link stalls the session at 0.5 s of buffer; the target (4 s) then lets one 2 s
    // segment in (2.5 s), below the resume threshold (3 s).
    let s = session(2.0, 12, |c| {
        c.buffer.forward_target_s = 4.0;
        c.buffer.startup_s = 2.0;
        c.buffer.stall_threshold_s = 0.5;
        c.buffer.resume_s = 3.0;
    });
    let (state, stalls) = play_out(s, 2.5);
    assert_eq!(state, PlayerState::Ended);
    assert!(stalls > 0, "the link is slow enough to stall");
}

#[test]
fn a_target_shorter_than_a_segment_still_plays() {
    let s = session(4.0, 6, |c| {
        c.buffer.forward_target_s = 1.0;
        c.buffer.startup_s = 1.0;
        c.buffer.resume_s = 1.0;
    });
    let (state, _) = play_out(s, 0.05);
    assert_eq!(state, PlayerState::Ended);
    let s = session(4.0, 6, |c| {
        c.buffer.forward_target_s = 1.0;
        c.buffer.startup_s = 1.0;
        c.buffer.resume_s = 1.0;
    });
    let (state, stalls) = play_out(s, 5.0);
    assert_eq!(state, PlayerState::Ended);
    assert!(stalls > 0);
}

#[cfg(feature = "dash-lite")]
#[test]
fn tracks_of_different_segment_durations_resume_under_a_short_target() {
    // The fuzz target's case: 2 s video and 2.005 s audio segments, a 1 s target. At the
    // stall the audio track held 0.005 s, and one more segment did not fit the target.
    let mpd = include_str!("../../tests/fixtures/steering/manifest.mpd");
    let p = streamsteer::manifest::parse_dash(
        mpd,
        &Url::parse("https://oca.example.net/vod/manifest.mpd").unwrap(),
    )
    .unwrap();
    let mut config = SessionConfig::default();
    config.buffer.forward_target_s = 1.0;
    config.buffer.startup_s = 1.0;
    config.buffer.resume_s = 1.0;
    let (state, _) = play_out(Session::new(p, config).unwrap(), 0.03);
    assert_eq!(state, PlayerState::Ended);
}

#[cfg(feature = "hls")]
#[test]
fn replies_after_failing_are_ignored() {
    let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nv0.m3u8\n\
                  #EXT-X-STREAM-INF:BANDWIDTH=900000\nv1.m3u8\n";
    let p = streamsteer::manifest::parse_hls(
        master,
        &Url::parse("https://x.example/master.m3u8").unwrap(),
    )
    .unwrap();
    let mut s = Session::new(p, SessionConfig::default()).unwrap();
    s.handle(Instant::ZERO, Event::Tick);
    let ids: Vec<u64> = std::iter::from_fn(|| s.poll_action())
        .filter_map(|a| if let Action::Fetch(r) = a { Some(r.id) } else { None })
        .collect();
    assert_eq!(ids.len(), 2);
    // A playlist "completed" without its text: the session gives up.
    let d = Duration::from_millis(5);
    s.handle(Instant::ZERO, Event::FetchCompleted { id: ids[0], bytes: 10, ttfb: d, duration: d });
    while s.poll_action().is_some() {}
    assert_eq!(s.state(), PlayerState::Failed);
    let log = s.event_log().len();
    // The other playlist fails later: it was retried, after Failed.
    let t = Instant::from_secs_f64(1.0);
    s.handle(t, Event::FetchFailed { id: ids[1], status: Some(503), bytes: 0 });
    s.handle(
        t,
        Event::ManifestLoaded {
            id: ids[0],
            text: "#EXTM3U".into(),
            url: Url::parse("https://x.example/v0.m3u8").unwrap(),
        },
    );
    s.handle(t, Event::UserSeek { position_s: 0.0 });
    s.handle(t, Event::Play);
    assert_eq!(s.poll_action(), None, "a failed session does nothing");
    assert_eq!(s.event_log().len(), log);
    assert_eq!(s.state(), PlayerState::Failed);
}

#[cfg(feature = "hls")]
#[test]
fn no_request_follows_a_failure_in_the_same_pass() {
    // The pinned video rung lists fewer segments than the others: fetching its third
    // segment fails the session, in the pass that then schedules the audio track.
    let master = "#EXTM3U\n\
        #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",DEFAULT=YES,URI=\"audio.m3u8\"\n\
        #EXT-X-STREAM-INF:BANDWIDTH=400000,AUDIO=\"a\"\nv0.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=900000,AUDIO=\"a\"\nv1.m3u8\n";
    let playlist = |prefix: &str, n: usize| {
        let mut s = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n");
        for i in 0..n {
            s += &format!("#EXTINF:2.0,\n{prefix}_{i}.m4s\n");
        }
        s + "#EXT-X-ENDLIST\n"
    };
    let p = streamsteer::manifest::parse_hls(
        master,
        &Url::parse("https://x.example/master.m3u8").unwrap(),
    )
    .unwrap();
    let mut s = Session::new(p, SessionConfig::default()).unwrap();
    let mut queue: Vec<FetchRequest> = Vec::new();
    let mut t = 0.0;
    let mut failed = false;
    let pump = |s: &mut Session<'_>, queue: &mut Vec<FetchRequest>, failed: &mut bool| {
        while let Some(a) = s.poll_action() {
            match a {
                Action::Fetch(r) => {
                    assert!(!*failed, "request after Failed: {r:?}");
                    queue.push(r);
                }
                Action::Emit(PlayerEvent::StateChanged { to: PlayerState::Failed, .. }) => {
                    *failed = true
                }
                _ => {}
            }
        }
    };
    s.handle(Instant::ZERO, Event::Tick);
    pump(&mut s, &mut queue, &mut failed);
    for _ in 0..100 {
        let Some(r) = (!queue.is_empty()).then(|| queue.remove(0)) else { break };
        t += 0.01;
        let at = Instant::from_secs_f64(t);
        if r.kind == FetchKind::Manifest {
            let text = match r.url.rsplit('/').next() {
                Some("v1.m3u8") => playlist("v1", 2),
                Some("v0.m3u8") => playlist("v0", 6),
                _ => playlist("a", 6),
            };
            s.handle(at, Event::ManifestLoaded { id: r.id, text, url: r.url.clone() });
            s.handle(at, Event::UserSelectTrack { track: TrackKind::Video, rendition: Some(1) });
        } else {
            let d = Duration::from_millis(10);
            s.handle(at, Event::FetchCompleted { id: r.id, bytes: 1000, ttfb: d, duration: d });
        }
        pump(&mut s, &mut queue, &mut failed);
    }
    assert!(failed, "the short rung fails the session");
}

#[cfg(feature = "dash-lite")]
#[test]
fn a_seek_before_a_live_window_lands_on_its_first_segment() {
    // A live window of six 2 s segments starting at 240 s of media.
    let mpd = "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"dynamic\" \
        availabilityStartTime=\"2026-01-01T00:00:00Z\" minimumUpdatePeriod=\"PT2S\" \
        timeShiftBufferDepth=\"PT12S\" minBufferTime=\"PT2S\" \
        profiles=\"urn:mpeg:dash:profile:isoff-live:2011\"><Period id=\"p0\" start=\"PT0S\">\
        <AdaptationSet mimeType=\"video/mp4\"><SegmentTemplate timescale=\"1000\" \
        initialization=\"v$RepresentationID$/init.mp4\" media=\"v$RepresentationID$/seg_$Number$.m4s\" \
        startNumber=\"120\"><SegmentTimeline><S t=\"240000\" d=\"2000\" r=\"5\"/></SegmentTimeline>\
        </SegmentTemplate><Representation id=\"0\" bandwidth=\"400000\" codecs=\"avc1.64001f\"/>\
        </AdaptationSet></Period></MPD>";
    let p = streamsteer::manifest::parse_dash(
        mpd,
        &Url::parse("http://live.example/live.mpd").unwrap(),
    )
    .unwrap();
    let mut s = Session::new(p, SessionConfig::default()).unwrap();
    s.handle(Instant::ZERO, Event::Tick);
    while s.poll_action().is_some() {}
    for target in [0.0, 100.0, -5.0] {
        s.handle(Instant::ZERO, Event::UserSeek { position_s: target });
        while s.poll_action().is_some() {}
        assert_eq!(s.position_s(), 240.0, "seek to {target}");
        assert_eq!(s.buffer_level_s(), 0.0, "nothing is buffered after a seek to {target}");
        s.handle(Instant::ZERO, Event::PlaybackPosition { position_s: target });
        assert_eq!(s.position_s(), 240.0, "position report {target}");
        assert_eq!(s.buffer_level_s(), 0.0);
    }
}

/// A live HLS playlist with segments `first..=last` of `duration(n)` seconds each.
#[cfg(feature = "hls")]
fn live_playlist(first: u64, last: u64, ended: bool, duration: impl Fn(u64) -> f64) -> String {
    let mut s = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for n in first..=last {
        s += &format!("#EXTINF:{:.3},\nseg_{n}.m4s\n", duration(n));
    }
    if ended {
        s += "#EXT-X-ENDLIST\n";
    }
    s
}

/// Plays a one-rung live HLS session whose `n`-th playlist load returns `playlist(n)`,
/// answering every request 10 ms after the last and ticking at each wake. Returns the
/// final state, the media segments fetched (file names) and the playhead after each
/// event.
#[cfg(feature = "hls")]
fn drive_live(playlist: impl Fn(usize) -> String) -> (PlayerState, Vec<String>, Vec<f64>) {
    let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nv0.m3u8\n";
    let p = streamsteer::manifest::parse_hls(
        master,
        &Url::parse("https://live.example/master.m3u8").unwrap(),
    )
    .unwrap();
    let mut s = Session::new(p, SessionConfig::default()).unwrap();
    let mut loads = 0;
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut queue: Vec<FetchRequest> = Vec::new();
    let mut media: Vec<String> = Vec::new();
    let mut playhead = Vec::new();
    s.handle(Instant::ZERO, Event::Tick);
    for _ in 0..10_000 {
        while let Some(a) = s.poll_action() {
            match a {
                Action::Fetch(r) => {
                    if r.kind == FetchKind::Media {
                        media.push(r.url.rsplit('/').next().unwrap_or("").to_string());
                    }
                    queue.push(r);
                }
                Action::Cancel { id } => queue.retain(|r| r.id != id),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        playhead.push(s.position_s());
        if matches!(s.state(), PlayerState::Ended | PlayerState::Failed) {
            break;
        }
        now += 0.01;
        let at = Instant::from_secs_f64(now);
        if !queue.is_empty() {
            let r = queue.remove(0);
            if r.kind == FetchKind::Manifest {
                let text = playlist(loads);
                loads += 1;
                s.handle(at, Event::ManifestLoaded { id: r.id, text, url: r.url.clone() });
            } else {
                let d = Duration::from_millis(10);
                s.handle(at, Event::FetchCompleted { id: r.id, bytes: 1000, ttfb: d, duration: d });
            }
        } else if let Some(w) = wake.take() {
            now = now.max(w);
            s.handle(Instant::from_secs_f64(now), Event::Tick);
        } else {
            panic!("{:?}: waiting for nothing", s.state());
        }
    }
    (s.state(), media, playhead)
}

#[cfg(feature = "hls")]
#[test]
fn a_live_window_that_slid_past_the_timeline_is_followed() {
    // First load: 10..15. The next refresh: 30..35 (the window slid by 14 segments, more
    // than its length, while the refresh was out). Then 36..41, ended.
    let windows = [(10, 15, false), (30, 35, false), (36, 41, true)];
    let (state, media, _) = drive_live(|n| {
        let (first, last, ended) = windows[n.min(windows.len() - 1)];
        live_playlist(first, last, ended, |_| 2.0)
    });
    assert_eq!(state, PlayerState::Ended);
    // Everything after the gap is played, up to the last segment.
    for n in 30..=41 {
        assert!(media.contains(&format!("seg_{n}.m4s")), "seg_{n} not fetched: {media:?}");
    }
    assert!(!media.iter().any(|m| (16..30).any(|n| *m == format!("seg_{n}.m4s"))));
}

#[cfg(feature = "hls")]
#[test]
fn a_refresh_that_shortens_a_played_segment_does_not_move_the_playhead_back() {
    // The first load says segment 13 lasts 40 s; refreshes say 2 s, so the segments
    // after it would start before the end of what was played.
    let (state, media, playhead) = drive_live(|n| {
        let first = 10 + n.min(6) as u64;
        let long = |k: u64| if n == 0 && k == 13 { 40.0 } else { 2.0 };
        live_playlist(first, first + 5, n >= 6, long)
    });
    assert_eq!(state, PlayerState::Ended);
    assert!(media.contains(&"seg_21.m4s".to_string()), "{media:?}");
    assert!(playhead.windows(2).all(|w| w[1] >= w[0]), "the playhead went back: {playhead:?}");
}

#[cfg(feature = "hls")]
#[test]
fn a_retry_waiting_at_the_live_edge_does_not_hide_the_refresh() {
    let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000\nv0.m3u8\n\
                  #EXT-X-STREAM-INF:BANDWIDTH=1200000\nv1.m3u8\n";
    let p = streamsteer::manifest::parse_hls(
        master,
        &Url::parse("https://live.example/master.m3u8").unwrap(),
    )
    .unwrap();
    let mut config = SessionConfig::default();
    config.retry_base_s = 0.1;
    let mut s = Session::new(p, config).unwrap();
    let at = Instant::from_secs_f64;
    let step = |s: &mut Session<'_>, t: f64, e: Event| {
        s.handle(at(t), e);
        std::iter::from_fn(|| s.poll_action()).collect::<Vec<_>>()
    };
    let fetch = |acts: &[Action], suffix: &str| {
        acts.iter()
            .find_map(|a| match a {
                Action::Fetch(r) if r.url.ends_with(suffix) => Some(r.id),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no request for {suffix} in {acts:?}"))
    };
    let loaded = |id, rung: &str, first: u64, ended: bool| Event::ManifestLoaded {
        id,
        text: live_playlist(first, first + 5, ended, |_| 2.0),
        url: Url::parse(&format!("https://live.example/{rung}.m3u8")).unwrap(),
    };
    let failed = |id| Event::FetchFailed { id, status: Some(429), bytes: 0 };
    let acts = step(&mut s, 0.0, Event::Tick);
    let (v0, v1) = (fetch(&acts, "v0.m3u8"), fetch(&acts, "v1.m3u8"));
    step(&mut s, 0.05, loaded(v0, "v0", 115, false));
    let acts = step(&mut s, 0.05, loaded(v1, "v1", 115, false));
    let seg = fetch(&acts, ".m4s");
    // The refresh is out when the segment fails (a retry in 0.1 s).
    let acts = step(&mut s, 3.0, Event::Tick);
    let (v0, v1) = (fetch(&acts, "v0.m3u8"), fetch(&acts, "v1.m3u8"));
    step(&mut s, 3.0, failed(seg));
    // The lowest rung's window slid past the timeline (ended, too); the other rung's
    // refresh fails (the next refresh in 1 s). The track skips to the window and its
    // request fails again (a retry in 0.2 s).
    let acts = step(&mut s, 3.02, loaded(v0, "v0", 124, true));
    let seg = fetch(&acts, ".m4s");
    step(&mut s, 3.02, failed(v1));
    step(&mut s, 3.02, failed(seg));
    // At the retry's time the track still waits at the live edge: the session must still
    // ask to be woken for the refresh.
    let acts = step(&mut s, 3.22, Event::Tick);
    let waits = acts.iter().any(|a| matches!(a, Action::WakeAt(t) if *t > at(3.22)))
        || acts.iter().any(|a| matches!(a, Action::Fetch(_)));
    assert!(waits, "{:?} waiting for nothing: {acts:?}", s.state());
}
