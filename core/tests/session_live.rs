//! Live HLS and DASH on a virtual clock: a simulated origin whose media playlists slide with
//! time, and a session that joins at the live edge, refreshes its playlists, plays
//! every segment once, rejoins the window after a long pause and ends at ENDLIST.
#![cfg(all(feature = "hls", feature = "dash-lite"))]

use streamsteer::manifest::{parse_dash, parse_hls};
use streamsteer::session::{
    Action, ErrorKind, Event, FetchKind, FetchRequest, PlayerEvent, PlayerState, Session,
    SessionConfig, TrackKind,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

const SEG_S: f64 = 2.0;
const WINDOW: u64 = 6;
const RTT_S: f64 = 0.04;
const BASE: &str = "http://live.test/";
const RATES_BPS: [u64; 3] = [400_000, 1_200_000, 3_000_000];

/// The live origin: segment `n` becomes available at `(n + 1) · SEG_S` seconds after
/// `epoch` (the stream started before the player); the stream ends after `end`.
struct Origin {
    epoch_s: f64,
    end: Option<u64>,
}

impl Origin {
    fn newest(&self, now: f64) -> u64 {
        let n = ((now + self.epoch_s) / SEG_S).floor() as u64;
        let n = n.saturating_sub(1);
        self.end.map_or(n, |e| n.min(e))
    }

    fn multivariant(&self) -> String {
        let mut s = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
        for (r, bps) in RATES_BPS.iter().enumerate() {
            s += &format!("#EXT-X-STREAM-INF:BANDWIDTH={bps},CODECS=\"avc1.64001f\"\nv{r}.m3u8\n");
        }
        s
    }

    /// A dynamic MPD listing the same window as a SegmentTimeline (static once ended).
    fn mpd(&self, now: f64) -> String {
        let newest = self.newest(now);
        let first = newest.saturating_sub(WINDOW - 1);
        let ended = self.end.is_some_and(|e| newest >= e);
        let kind = if ended { "static" } else { "dynamic" };
        let mut s = format!(
            "<?xml version=\"1.0\"?>\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" type=\"{kind}\" \
             availabilityStartTime=\"2026-01-01T00:00:00Z\" minimumUpdatePeriod=\"PT2S\" \
             timeShiftBufferDepth=\"PT12S\" minBufferTime=\"PT2S\" \
             profiles=\"urn:mpeg:dash:profile:isoff-live:2011\">\n<Period id=\"p0\" start=\"PT0S\">\n\
             <AdaptationSet mimeType=\"video/mp4\" segmentAlignment=\"true\">\n\
             <SegmentTemplate timescale=\"1000\" initialization=\"v$RepresentationID$/init.mp4\" \
             media=\"v$RepresentationID$/seg_$Number$.m4s\" startNumber=\"{first}\">\n\
             <SegmentTimeline><S t=\"{}\" d=\"2000\" r=\"{}\"/></SegmentTimeline>\n</SegmentTemplate>\n",
            first * 2000,
            newest - first
        );
        for (r, bps) in RATES_BPS.iter().enumerate() {
            s += &format!(
                "<Representation id=\"{r}\" bandwidth=\"{bps}\" codecs=\"avc1.64001f\" width=\"640\" height=\"360\"/>\n"
            );
        }
        s + "</AdaptationSet>\n</Period>\n</MPD>\n"
    }

    fn media(&self, rung: usize, now: f64) -> String {
        let newest = self.newest(now);
        let first = newest.saturating_sub(WINDOW - 1);
        let mut s = format!(
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n\
             #EXT-X-MAP:URI=\"v{rung}/init.mp4\"\n"
        );
        for n in first..=newest {
            s += &format!("#EXTINF:2.000,\nv{rung}/seg_{n}.m4s\n");
        }
        if self.end.is_some_and(|e| newest >= e) {
            s += "#EXT-X-ENDLIST\n";
        }
        s
    }
}

struct Run {
    /// (time, request) of every fetch.
    fetches: Vec<(f64, FetchRequest)>,
    /// Video segments appended, by request URL's number.
    appended: Vec<u64>,
    /// (time, playhead, newest listed segment's end) sampled every second.
    samples: Vec<(f64, f64, f64)>,
    events: Vec<PlayerEvent>,
    end_state: PlayerState,
}

fn number(url: &str) -> u64 {
    url.rsplit("seg_").next().and_then(|s| s.strip_suffix(".m4s")).unwrap().parse().unwrap()
}

/// Plays over a `kbps` link, one transfer at a time, until `until_s` or the end;
/// `pause` = (from, to) seconds of user pause.
fn drive(origin: &Origin, kbps: f64, until_s: f64, pause: Option<(f64, f64)>) -> Run {
    let user = pause.map_or(vec![], |(a, b)| vec![(a, Event::Pause), (b, Event::Play)]);
    drive_user(origin, kbps, until_s, user)
}

/// Plays HLS with `user` events at their times.
fn drive_user(origin: &Origin, kbps: f64, until_s: f64, user: Vec<(f64, Event)>) -> Run {
    let text = origin.multivariant();
    let url = Url::parse(&format!("{BASE}master.m3u8")).unwrap();
    drive_presentation(origin, parse_hls(&text, &url).unwrap(), kbps, until_s, user)
}

fn drive_presentation(
    origin: &Origin,
    presentation: streamsteer::manifest::Presentation,
    kbps: f64,
    until_s: f64,
    mut user: Vec<(f64, Event)>,
) -> Run {
    let mut session = Session::new(presentation, SessionConfig::default()).unwrap();
    let mut run = Run {
        fetches: vec![],
        appended: vec![],
        samples: vec![],
        events: vec![],
        end_state: PlayerState::Loading,
    };
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut queue: Vec<FetchRequest> = Vec::new();
    let mut current: Option<(FetchRequest, f64)> = None;
    let mut next_sample = 0.0f64;
    session.handle(Instant::ZERO, Event::Tick);
    while now < until_s {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(req) => {
                    run.fetches.push((now, req.clone()));
                    queue.push(req);
                }
                Action::Cancel { id } => {
                    queue.retain(|r| r.id != id);
                    if current.as_ref().is_some_and(|(r, _)| r.id == id) {
                        current = None;
                    }
                }
                Action::Append { track: TrackKind::Video, init: false, request, .. } => {
                    let url = &run.fetches.iter().find(|(_, r)| r.id == request).unwrap().1.url;
                    run.appended.push(number(url));
                }
                Action::Emit(e) => run.events.push(e),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                _ => {}
            }
        }
        if matches!(session.state(), PlayerState::Ended | PlayerState::Failed) {
            break;
        }
        if current.is_none() && !queue.is_empty() {
            let req = queue.remove(0);
            let bytes = if req.kind == FetchKind::Manifest {
                2_000
            } else {
                req.expected_bytes.unwrap_or(1_000)
            };
            let done = now + RTT_S + bytes as f64 * 8.0 / (kbps * 1000.0);
            current = Some((req, done));
        }
        let mut next = next_sample;
        if let Some((_, done)) = &current {
            next = next.min(*done);
        }
        if let Some(w) = wake.filter(|w| *w > now) {
            next = next.min(w);
        }
        if let Some((t, _)) = user.first() {
            next = next.min(*t);
        }
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if now >= next_sample {
            session.handle(at, Event::Tick);
            // The session's media time starts at the first window's first segment.
            let first_listed = origin.newest(RTT_S).saturating_sub(WINDOW - 1);
            let live_end = (origin.newest(now) + 1 - first_listed) as f64 * SEG_S;
            run.samples.push((now, session.position_s(), live_end));
            next_sample = now + 1.0;
        }
        if current.as_ref().is_some_and(|(_, done)| *done <= now) {
            let (req, done) = current.take().unwrap();
            let issued = run.fetches.iter().find(|(_, r)| r.id == req.id).unwrap().0;
            if req.kind == FetchKind::Manifest && req.url.ends_with(".mpd") {
                let text = origin.mpd(now);
                session.handle(at, Event::ManifestLoaded { id: req.id, text, url: req.url });
            } else if req.kind == FetchKind::Manifest {
                let rung: usize = req
                    .url
                    .trim_start_matches(&format!("{BASE}v"))
                    .trim_end_matches(".m3u8")
                    .parse()
                    .unwrap();
                let text = origin.media(rung, now);
                session.handle(at, Event::ManifestLoaded { id: req.id, text, url: req.url });
            } else {
                let bytes = req.expected_bytes.unwrap_or(1_000);
                session.handle(
                    at,
                    Event::FetchCompleted {
                        id: req.id,
                        bytes,
                        ttfb: Duration::from_secs_f64(RTT_S),
                        duration: Duration::from_secs_f64(done - issued),
                    },
                );
            }
        }
        while user.first().is_some_and(|(t, _)| *t <= now) {
            let (_, e) = user.remove(0);
            session.handle(at, e);
        }
        if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    run.end_state = session.state();
    if run.end_state == PlayerState::Failed {
        eprintln!(
            "{:?}",
            run.events
                .iter()
                .filter(|e| matches!(e, PlayerEvent::Error { .. }))
                .collect::<Vec<_>>()
        );
    }
    run
}

#[test]
fn joins_the_live_edge_and_plays_every_segment_once_for_five_minutes() {
    let origin = Origin { epoch_s: 1000.0, end: None };
    let run = drive(&origin, 8_000.0, 300.0, None);
    assert_eq!(run.end_state, PlayerState::Playing);
    // Joined three segments behind the newest listed at the first load.
    let first = *run.appended.first().unwrap();
    let newest_at_start = origin.newest(0.1);
    assert_eq!(first, newest_at_start - 2, "joined at {first}, newest {newest_at_start}");
    // Every segment once, in order, none skipped.
    let want: Vec<u64> = (first..first + run.appended.len() as u64).collect();
    assert_eq!(run.appended, want);
    assert!(run.appended.len() >= 140, "only {} segments in 300 s", run.appended.len());
    // Never stalled, and stayed near the live edge (within the join delay plus a segment).
    assert!(!run.events.iter().any(|e| matches!(e, PlayerEvent::Stalled { .. })));
    for &(t, pos, live_end) in run.samples.iter().filter(|s| s.0 > 20.0) {
        let behind = live_end - pos;
        assert!((0.0..=4.0 * SEG_S).contains(&behind), "at {t}: {behind} s behind the edge");
    }
    // Playlists were refreshed about once per target duration (and no more than twice).
    let refreshes = run.fetches.iter().filter(|(_, r)| r.kind == FetchKind::Manifest).count();
    let per_rung = refreshes as f64 / RATES_BPS.len() as f64;
    assert!((100.0..=300.0).contains(&per_rung), "{per_rung} refreshes per rung in 300 s");
    // The link carries 8 Mbit/s: the rule climbs to the top rung.
    let top = run
        .fetches
        .iter()
        .filter(|(t, r)| *t > 60.0 && r.kind == FetchKind::Media)
        .filter(|(_, r)| r.rendition == Some(RATES_BPS.len() - 1))
        .count();
    assert!(top > 50, "only {top} top-rung fetches after a minute");
}

#[test]
fn a_pause_longer_than_the_window_rejoins_it() {
    let origin = Origin { epoch_s: 500.0, end: None };
    // Paused long enough to fill the forward buffer and then fall out of the window.
    let run = drive(&origin, 8_000.0, 220.0, Some((30.0, 130.0)));
    assert_eq!(run.end_state, PlayerState::Playing);
    assert!(
        run.events.iter().any(
            |e| matches!(e, PlayerEvent::Error { kind: ErrorKind::Live, fatal: false, message } if message.contains("live window"))
        ),
        "no rejoin: {:?}",
        run.events.iter().filter(|e| matches!(e, PlayerEvent::Error { .. })).collect::<Vec<_>>()
    );
    // Numbers only increase, and a gap marks the rejoin.
    assert!(run.appended.windows(2).all(|w| w[1] > w[0]));
    assert!(run.appended.windows(2).any(|w| w[1] > w[0] + 1));
    let (_, pos, live_end) = *run.samples.last().unwrap();
    assert!(live_end - pos <= 4.0 * SEG_S + 100.0, "{pos} vs edge {live_end}");
}

#[test]
fn seeking_before_the_window_rejoins_it() {
    // Ten minutes in, the session has forgotten the segments the window slid past;
    // a seek back to the start lands at the window, not at a forgotten segment.
    let origin = Origin { epoch_s: 700.0, end: None };
    let run =
        drive_user(&origin, 8_000.0, 700.0, vec![(600.0, Event::UserSeek { position_s: 0.0 })]);
    assert_eq!(run.end_state, PlayerState::Playing, "{:?}", run.events);
    assert!(!run.events.iter().any(|e| matches!(e, PlayerEvent::Error { fatal: true, .. })));
    let after: Vec<u64> = run
        .fetches
        .iter()
        .filter(|(t, r)| *t > 600.0 && r.kind == FetchKind::Media)
        .map(|(_, r)| number(&r.url))
        .collect();
    let first_listed = origin.newest(600.0).saturating_sub(WINDOW - 1);
    assert!(!after.is_empty());
    assert!(after.iter().all(|n| *n >= first_listed), "{first_listed}: {after:?}");
    assert!(after.windows(2).all(|w| w[1] >= w[0]), "{after:?}");
    let (_, pos, live_end) = *run.samples.last().unwrap();
    assert!(live_end - pos <= 4.0 * SEG_S + 30.0, "{pos} vs edge {live_end}");
}

#[test]
fn endlist_ends_the_session() {
    // The stream ends 40 s after the player joins.
    let origin = Origin { epoch_s: 200.0, end: Some(119) };
    let run = drive(&origin, 8_000.0, 300.0, None);
    assert_eq!(run.end_state, PlayerState::Ended);
    assert_eq!(*run.appended.last().unwrap(), 119);
    assert!(run.events.iter().any(|e| matches!(e, PlayerEvent::QoeReport { .. })));
}

#[test]
fn dash_dynamic_mpd_is_reloaded_and_played_to_its_end() {
    let origin = Origin { epoch_s: 300.0, end: Some(199) };
    let mpd = origin.mpd(0.0);
    let presentation = parse_dash(&mpd, &Url::parse(&format!("{BASE}live.mpd")).unwrap()).unwrap();
    let run = drive_presentation(&origin, presentation, 8_000.0, 300.0, vec![]);
    assert_eq!(run.end_state, PlayerState::Ended, "{:?}", run.events);
    let first = *run.appended.first().unwrap();
    assert_eq!(first, origin.newest(0.0) - 2);
    let want: Vec<u64> = (first..=199).collect();
    assert_eq!(run.appended, want);
    assert!(!run.events.iter().any(|e| matches!(e, PlayerEvent::Stalled { .. })));
    let reloads = run.fetches.iter().filter(|(_, r)| r.url.ends_with("live.mpd")).count();
    assert!(reloads >= 25, "{reloads} MPD reloads");
}

#[test]
fn live_reloads_do_not_grow_the_warnings() {
    let origin = Origin { epoch_s: 100.0, end: None };
    let url = Url::parse(&format!("{BASE}master.m3u8")).unwrap();
    let mut p = parse_hls(&origin.multivariant(), &url).unwrap();
    let before = p.warnings.len();
    let rid = p.renditions().next().unwrap().id.clone();
    let playlist = Url::parse(&format!("{BASE}v0.m3u8")).unwrap();
    // The same deviation (a whitespace-only line) on every reload: noted once.
    for i in 0..500 {
        let text = origin.media(0, i as f64 * SEG_S).replacen("#EXT-X-MAP", "  \n#EXT-X-MAP", 1);
        p.apply_media_playlist(&rid, &text, &playlist).unwrap();
    }
    assert_eq!(p.warnings.len(), before + 1, "{:?}", p.warnings);
    assert!(p.warnings[before].contains("whitespace-only"), "{:?}", p.warnings);
    // A different one each time (the line moves): capped.
    for i in 0..1000 {
        let comments = "# comment\n".repeat(i % 400);
        let text = origin.media(0, (500 + i) as f64 * SEG_S).replacen(
            "#EXT-X-MAP",
            &format!("{comments}  \n#EXT-X-MAP"),
            1,
        );
        p.apply_media_playlist(&rid, &text, &playlist).unwrap();
    }
    assert_eq!(p.warnings.len(), 256, "bounded");
    // The segment list itself stays the window.
    let listed = p.renditions().find(|r| r.id == rid).and_then(|r| r.segments()).unwrap().len();
    assert_eq!(listed, WINDOW as usize);
}
