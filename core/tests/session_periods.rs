//! Multi-period DASH and HLS discontinuities: the session plays every period of an
//! on-demand presentation in order, and tells the sink where media timestamps restart
//! (`MediaTiming::new_timeline`), on real manifests of `../shared/manifests`.

use std::path::PathBuf;
use streamsteer::manifest::{self, MediaType, Presentation};
use streamsteer::session::{
    Action, Event, FetchKind, MediaTiming, PlayerEvent, PlayerState, Session, SessionConfig,
    TrackKind,
};
use streamsteer::time::{Duration, Instant};
use streamsteer::uri::Url;

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("STREAMSTEER_SHARED") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn corpus(rel: &str) -> Presentation {
    let text = std::fs::read_to_string(shared_dir().join("manifests").join(rel)).unwrap();
    let url = Url::parse(&format!("https://corpus.example/{rel}")).unwrap();
    manifest::parse_any(&text, &url).unwrap()
}

/// A media append the session asked for.
#[derive(Debug, Clone)]
struct Appended {
    track: TrackKind,
    url: String,
    rendition: usize,
    timing: MediaTiming,
}

/// What a played session did.
#[derive(Debug, Default)]
struct Run {
    state: Option<PlayerState>,
    fatal: Option<String>,
    stalls: usize,
    media: Vec<Appended>,
    /// `(track, url, video segments appended before)` of each init segment appended.
    inits: Vec<(TrackKind, String, usize)>,
}

impl Run {
    fn video(&self) -> Vec<&Appended> {
        self.media.iter().filter(|a| a.track == TrackKind::Video).collect()
    }
}

/// Plays `session` to its end, answering every fetch whole after 20 ms (so the
/// buffer fills far faster than it plays; an MPD reload with `mpd(now)`), seeking to
/// `seek.1` once the playhead passes `seek.0`.
fn play_live(
    mut session: Session<'static>,
    seek: Option<(f64, f64)>,
    mpd: &dyn Fn(f64) -> String,
) -> Run {
    const LATENCY: f64 = 0.02;
    let mut run = Run::default();
    let mut now = 0.0f64;
    let mut wake: Option<f64> = None;
    let mut in_flight: Vec<(f64, streamsteer::session::FetchRequest)> = Vec::new();
    let mut urls = std::collections::BTreeMap::new();
    let mut seek = seek;
    session.handle(Instant::ZERO, Event::Tick);
    for _ in 0..200_000 {
        while let Some(a) = session.poll_action() {
            match a {
                Action::Fetch(r) => {
                    urls.insert(r.id, r.url.to_string());
                    in_flight.push((now + LATENCY, r));
                }
                Action::Cancel { id } => in_flight.retain(|f| f.1.id != id),
                Action::WakeAt(t) => wake = Some(t.as_secs_f64()),
                Action::Stall => run.stalls += 1,
                Action::Append { track, init, request, rendition, timing, .. } => {
                    let url = urls.get(&request).cloned().unwrap_or_default();
                    match timing {
                        Some(timing) if !init => {
                            run.media.push(Appended { track, url, rendition, timing })
                        }
                        _ => {
                            let before = run.video().len();
                            run.inits.push((track, url, before))
                        }
                    }
                }
                Action::Emit(PlayerEvent::Error { kind, message, fatal: true }) => {
                    run.fatal = Some(format!("{kind:?}: {message}"))
                }
                _ => {}
            }
        }
        let state = session.state();
        if matches!(state, PlayerState::Ended | PlayerState::Failed) {
            run.state = Some(state);
            return run;
        }
        if let Some((at, to)) = seek
            && session.position_s() >= at
        {
            seek = None;
            session.handle(Instant::from_secs_f64(now), Event::UserSeek { position_s: to });
            continue;
        }
        let next = in_flight.iter().map(|f| f.0).chain(wake).fold(f64::INFINITY, f64::min);
        assert!(next.is_finite(), "{state:?} at {now:.3} s, waiting for nothing");
        now = next.max(now);
        let at = Instant::from_secs_f64(now);
        if let Some(i) = in_flight.iter().position(|f| f.0 <= now) {
            let (_, r) = in_flight.remove(i);
            assert_ne!(r.kind, FetchKind::SegmentIndex, "no on-demand MPD here");
            if r.kind == FetchKind::Manifest {
                let event = Event::ManifestLoaded { id: r.id, text: mpd(now), url: r.url };
                session.handle(at, event);
                continue;
            }
            let bytes =
                r.byte_range.map_or_else(|| r.expected_bytes.unwrap_or(1000).max(1), |b| b.length);
            let d = Duration::from_secs_f64(LATENCY);
            session.handle(at, Event::FetchCompleted { id: r.id, bytes, ttfb: d, duration: d });
        } else if wake.is_some_and(|w| w <= now) {
            wake = None;
            session.handle(at, Event::Tick);
        }
    }
    panic!("no end after 200 000 steps");
}

/// [`play_live`] of an on-demand presentation (nothing to reload).
fn play(session: Session<'static>, seek: Option<(f64, f64)>) -> Run {
    play_live(session, seek, &|_| panic!("an MPD reload of a static MPD"))
}

/// Segments of the main (video) track in each period: the lowest rung's count.
fn video_segments_per_period(p: &Presentation) -> Vec<usize> {
    p.periods
        .iter()
        .filter_map(|per| {
            let t = per
                .tracks
                .iter()
                .filter(|t| t.media_type == MediaType::Video && !t.trick_play)
                .max_by_key(|t| t.renditions.len())?;
            let lowest = t.renditions.iter().min_by_key(|r| r.ranking_bandwidth())?;
            Some(lowest.segments()?.len())
        })
        .collect()
}

/// The static multi-period MPDs of the corpus (ad insertion, chapters, mixed
/// addressing): 2 to 16 periods each.
const MULTI_PERIOD: [&str; 12] = [
    "dash-mpd-rs/mediapackage.xml",
    "videojs-mpd-parser/multiperiod.mpd",
    "videojs-mpd-parser/multiperiod-segment-template.mpd",
    "videojs-mpd-parser/multiperiod-segment-list.mpd",
    "dash-mpd-rs/telenet-mid-ad-rolls.mpd",
    "dash-mpd-rs/avod-mediatailor.mpd",
    "dash-mpd-rs/aws.xml",
    "dash-mpd-rs/dash-testcases-5b-1-thomson.mpd",
    "dash-mpd-rs/ad-insertion-testcase1.mpd",
    "dash-mpd-rs/ad-insertion-testcase6-av2.mpd",
    "dash-mpd-rs/vod-aip-unif-streaming.mpd",
    "dash-mpd-rs/ad-insertion-testcase6-av5.mpd",
];

/// The URL of every video segment of period `period`, on the default pathway.
fn period_urls(p: &Presentation, period: usize) -> std::collections::BTreeSet<String> {
    p.periods[period]
        .tracks
        .iter()
        .filter(|t| t.media_type == MediaType::Video)
        .flat_map(|t| t.renditions.iter())
        .flat_map(|r| {
            r.segments()
                .unwrap_or_default()
                .iter()
                .filter_map(|s| r.url_on(&s.uri, None).ok().map(|u| u.to_string()))
        })
        .collect()
}

/// Every on-demand DASH MPD of the corpus index with more than one period.
fn corpus_multi_period_vods() -> Vec<(String, usize)> {
    let index = std::fs::read_to_string(shared_dir().join("manifests/index.tsv")).unwrap();
    index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() > 2 && cols[2].starts_with("dash")).then(|| cols[0].to_string())
        })
        .filter_map(|rel| {
            let text = std::fs::read_to_string(shared_dir().join("manifests").join(&rel)).ok()?;
            let url = Url::parse(&format!("https://corpus.example/{rel}")).ok()?;
            let p = manifest::parse_any(&text, &url).ok()?;
            (!p.is_live() && p.periods.len() > 1).then_some((rel, p.periods.len()))
        })
        .collect()
}

#[test]
fn every_period_of_a_multi_period_vod_plays_in_order() {
    let all = corpus_multi_period_vods();
    let mut names: Vec<&str> = all.iter().map(|(r, _)| r.as_str()).collect();
    names.sort_unstable();
    let mut listed = MULTI_PERIOD.to_vec();
    listed.sort_unstable();
    assert_eq!(names, listed, "the list is every multi-period VOD of the corpus");
    assert_eq!(all.iter().map(|(_, n)| *n).max(), Some(16));
    for rel in MULTI_PERIOD {
        let p = corpus(rel);
        let per = video_segments_per_period(&p);
        assert!(per.len() >= 2, "{rel}: {per:?}");
        let duration = p.duration_s;
        let run = play(Session::new(p.clone(), SessionConfig::default()).unwrap(), None);
        assert_eq!(run.state, Some(PlayerState::Ended), "{rel}: {:?}", run.fatal);
        assert_eq!(run.stalls, 0, "{rel}");
        let video = run.video();
        assert_eq!(video.len(), per.iter().sum::<usize>(), "{rel}: {per:?}");
        // Each period's segments come from that period's renditions, in order.
        let mut at = 0;
        for (k, n) in per.iter().enumerate() {
            let urls = period_urls(&p, k);
            for (i, a) in video[at..at + n].iter().enumerate() {
                assert!(urls.contains(&a.url), "{rel}: period {k} segment {i}: {}", a.url);
                // The first segment of each later period starts a new media timeline
                // (timestamps restart), and only it.
                assert_eq!(a.timing.new_timeline, k > 0 && i == 0, "{rel}: period {k} seg {i}");
                assert_eq!(a.timing.media_timeline, k as u64, "{rel}: period {k} segment {i}");
            }
            at += n;
        }
        // Presentation times follow on across the boundaries.
        for w in video.windows(2) {
            let end = w[0].timing.start_s + w[0].timing.duration_s;
            assert!((w[1].timing.start_s - end).abs() < 0.1, "{rel}: {:?} then {:?}", w[0], w[1]);
        }
        let end = video.last().map(|a| a.timing.start_s + a.timing.duration_s).unwrap();
        if let Some(d) = duration {
            assert!((end - d).abs() < 1.0, "{rel}: ends at {end:.3} s, the MPD says {d:.3} s");
        }
    }
}

/// The rendition of period `period`'s video with this bandwidth: its segment URLs and
/// its init segment's URL.
fn rendition_urls(p: &Presentation, period: usize, bandwidth: u64) -> (Vec<String>, String) {
    let r = p.periods[period]
        .tracks
        .iter()
        .filter(|t| t.media_type == MediaType::Video)
        .flat_map(|t| t.renditions.iter())
        .find(|r| r.bandwidth == Some(bandwidth))
        .unwrap();
    let segments = r.segments().unwrap();
    let url = |uri: &str| r.url_on(uri, None).unwrap().to_string();
    let init = segments[0].init.as_ref().map(|i| url(&i.uri)).unwrap();
    (segments.iter().map(|s| url(&s.uri)).collect(), init)
}

#[test]
fn a_period_with_another_ladder_plays_its_nearest_rung_after_its_own_init() {
    // Thomson's test case: the main period (the longest, the third) has 2.5 and 4 Mbit/s;
    // the second period 0.5, 0.9, 1.5 and 3 Mbit/s. With every fetch taking 20 ms the
    // rule climbs to the top rung, 4 Mbit/s, which the second period plays as its
    // nearest, 3 Mbit/s (×1.33, where 1.5 is ×2.67), after that rendition's own init.
    let rel = "dash-mpd-rs/dash-testcases-5b-1-thomson.mpd";
    let p = corpus(rel);
    assert_eq!(video_segments_per_period(&p), vec![45, 30, 49]);
    let run = play(Session::new(p.clone(), SessionConfig::default()).unwrap(), None);
    assert_eq!(run.state, Some(PlayerState::Ended), "{:?}", run.fatal);
    let video = run.video();
    let (segments, init) = rendition_urls(&p, 1, 3_000_000);
    let second: Vec<&str> = video[45..75].iter().map(|a| a.url.as_str()).collect();
    assert_eq!(second, segments.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(video[45..75].iter().all(|a| a.rendition == 1), "the top rung throughout");
    // Its init came right before its first segment (after 45 video segments).
    assert!(
        run.inits
            .iter()
            .any(|(t, u, before)| *t == TrackKind::Video && *u == init && *before == 45),
        "{:?}",
        run.inits
    );
    // Back in the third period, the 4 Mbit/s rendition and its init again.
    let (segments, init) = rendition_urls(&p, 2, 4_000_000);
    assert_eq!(video[75].url, segments[0]);
    assert!(
        run.inits
            .iter()
            .any(|(t, u, before)| *t == TrackKind::Video && *u == init && *before == 75)
    );
}

#[test]
fn a_seek_back_across_a_period_boundary_starts_the_old_timeline_again() {
    // Thomson's test case again: 10 s into the second period, back to 30 s.
    let p = corpus("dash-mpd-rs/dash-testcases-5b-1-thomson.mpd");
    let boundary = p.periods[1].start_s;
    let seek = (boundary + 10.0, 30.0);
    let run = play(Session::new(p.clone(), SessionConfig::default()).unwrap(), Some(seek));
    assert_eq!(run.state, Some(PlayerState::Ended), "{:?}", run.fatal);
    let video = run.video();
    let back = video
        .windows(2)
        .position(|w| w[1].timing.start_s < w[0].timing.start_s)
        .map(|i| i + 1)
        .expect("an append behind the one before: the seek");
    assert_eq!(video[back - 1].timing.media_timeline, 1);
    let after = &video[back];
    assert!(after.timing.start_s <= 30.0 && after.timing.media_timeline == 0, "{after:?}");
    assert!(after.timing.new_timeline, "back on timeline 0 after 1: {after:?}");
    // Forward again: a new timeline at each period start once more, and only there.
    let flagged: Vec<f64> =
        video[back..].iter().filter(|a| a.timing.new_timeline).map(|a| a.timing.start_s).collect();
    let starts = [after.timing.start_s, boundary, p.periods[2].start_s];
    assert_eq!(flagged.len(), 3, "{flagged:?}");
    for (f, s) in flagged.iter().zip(starts) {
        assert!((f - s).abs() < 1e-6, "{flagged:?} vs {starts:?}");
    }
}

/// HLS media playlists with `EXT-X-DISCONTINUITY`: a new media timeline at each (the
/// ids count from 0 whatever `EXT-X-DISCONTINUITY-SEQUENCE` says).
#[test]
fn hls_discontinuities_start_new_media_timelines() {
    for rel in ["videojs-m3u8-parser/discontinuity.m3u8", "videojs-m3u8-parser/disc-sequence.m3u8"]
    {
        let p = corpus(rel);
        let flags: Vec<bool> = p
            .main_track()
            .and_then(|t| t.renditions.first())
            .and_then(|r| r.segments())
            .unwrap()
            .iter()
            .map(|s| s.discontinuity)
            .collect();
        assert!(flags.iter().skip(1).any(|d| *d), "{rel}: no discontinuity after the first");
        let run = play(Session::new(p, SessionConfig::default()).unwrap(), None);
        assert_eq!(run.state, Some(PlayerState::Ended), "{rel}: {:?}", run.fatal);
        let video = run.video();
        assert_eq!(video.len(), flags.len(), "{rel}");
        let mut timeline = 0;
        for (i, (a, d)) in video.iter().zip(&flags).enumerate() {
            let restarts = *d && i > 0;
            timeline += u64::from(restarts);
            assert_eq!(a.timing.new_timeline, restarts, "{rel}: segment {i}");
            assert_eq!(a.timing.media_timeline, timeline, "{rel}: segment {i}");
        }
    }
}

/// `multiperiod-dynamic.mpd` as a live packager publishes it: the first `periods` of
/// its five periods, dynamic; with all five, optionally static (the event is over).
fn dynamic_version(periods: usize, ended: bool) -> String {
    let text = std::fs::read_to_string(
        shared_dir().join("manifests/videojs-mpd-parser/multiperiod-dynamic.mpd"),
    )
    .unwrap();
    let mut blocks: Vec<&str> = text.split("  <Period").collect();
    let head = blocks.remove(0);
    let last = blocks.len() - 1;
    blocks[last] = blocks[last].trim_end().trim_end_matches("</MPD>");
    let mut out = head.to_string();
    for b in &blocks[..periods] {
        out.push_str("  <Period");
        out.push_str(b);
    }
    out.push_str("\n</MPD>\n");
    if ended { out.replacen("type=\"dynamic\"", "type=\"static\"", 1) } else { out }
}

#[test]
fn a_live_mpd_moves_on_to_the_periods_it_adds() {
    // Two periods (10.8 s) when the player joins, three segments (4.8 s) behind the
    // newest; four after 2.5 s, all five after 6 s, and the event over (static) after
    // 12 s: the player plays on from period to period as they appear, each from its own
    // renditions and inits, without a stall, and to the end.
    let url = Url::parse("https://corpus.example/live/multiperiod.mpd").unwrap();
    let first = manifest::parse_any(&dynamic_version(2, false), &url).unwrap();
    assert!(first.is_live() && first.periods.len() == 2);
    let all = manifest::parse_any(&dynamic_version(5, true), &url).unwrap();
    let per = video_segments_per_period(&all);
    assert_eq!(per, vec![3, 3, 7, 3, 4]);
    let version = |now: f64| match now {
        t if t < 2.5 => dynamic_version(2, false),
        t if t < 6.0 => dynamic_version(4, false),
        t if t < 12.0 => dynamic_version(5, false),
        _ => dynamic_version(5, true),
    };
    let run = play_live(Session::new(first, SessionConfig::default()).unwrap(), None, &version);
    assert_eq!(run.state, Some(PlayerState::Ended), "{:?}", run.fatal);
    let video = run.video();
    assert_eq!(run.stalls, 0);
    // Which period each appended segment came from, by its URL.
    let urls: Vec<_> = (0..per.len()).map(|k| period_urls(&all, k)).collect();
    let periods: Vec<usize> = video
        .iter()
        .map(|a| {
            urls.iter().position(|u| u.contains(&a.url)).unwrap_or_else(|| panic!("{}", a.url))
        })
        .collect();
    println!("joined in period {}, played {periods:?}", periods[0]);
    assert!(periods.windows(2).all(|w| w[0] <= w[1]), "{periods:?}");
    // Every period after the one joined in plays whole, each new one on a new media
    // timeline, up to the last.
    for (k, count) in per.iter().enumerate().skip(periods[0] + 1) {
        let mine: Vec<&&Appended> =
            video.iter().zip(&periods).filter(|(_, p)| **p == k).map(|(a, _)| a).collect();
        assert_eq!(mine.len(), *count, "period {k}");
        assert!(mine[0].timing.new_timeline, "period {k}: {:?}", mine[0]);
        assert!(mine[1..].iter().all(|a| !a.timing.new_timeline), "period {k}");
        // At the period start (within the 12 ms by which period 3's last segment
        // overruns its period).
        let start = mine[0].timing.start_s;
        assert!((start - all.periods[k].start_s).abs() < 0.02, "period {k} at {start}");
    }
    assert_eq!(periods.last(), Some(&4));
    // Each period's own video init was appended right before its first segment.
    for k in periods[0] + 1..per.len() {
        let at = periods.iter().position(|p| *p == k).unwrap();
        let inits: std::collections::BTreeSet<String> = all.periods[k]
            .tracks
            .iter()
            .filter(|t| t.media_type == MediaType::Video)
            .flat_map(|t| t.renditions.iter())
            .filter_map(|r| {
                let init = r.segments()?.first()?.init.as_ref()?;
                Some(r.url_on(&init.uri, None).ok()?.to_string())
            })
            .collect();
        assert!(
            run.inits
                .iter()
                .any(|(t, u, before)| *t == TrackKind::Video && *before == at && inits.contains(u)),
            "period {k}: {:?} of {inits:?}",
            run.inits
        );
    }
}
